"""Shared fixtures: the two example departments, run through the pipeline once per session."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from generator.pipeline import run, run_text
from generator.render.pdflog import Collect

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_2025 = ROOT / "inputs" / "524-xigang-2025.yaml"
EXAMPLE_2023 = ROOT / "inputs" / "612-nanguan-2023.yaml"


@pytest.fixture(scope="session")
def xigang():
    return run(EXAMPLE_2025)


@pytest.fixture(scope="session")
def nanguan():
    return run(EXAMPLE_2023)


def example_text(which: str) -> str:
    path = EXAMPLE_2025 if which == "2025" else EXAMPLE_2023
    return path.read_text(encoding="utf-8")


def line_of(text: str, needle: str, after: str | None = None) -> int:
    """1-based number of the first line containing `needle` (after the line containing `after`)."""
    lines = text.splitlines()
    start = 0
    if after is not None:
        start = next(i for i, l in enumerate(lines) if after in l) + 1
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"expected exactly one {old!r}"
    return text.replace(old, new)


def run_variant(text: str, name: str = "dept.yaml"):
    return run_text(text, name)


def render_cli(*args) -> tuple[int, str]:
    """`budgetgen render ARGS…` through typer's CliRunner, in this process: (exit code, output)."""
    from typer.testing import CliRunner

    from generator.commands.cli import app
    result = CliRunner().invoke(app, ["render", *map(str, args)])
    return result.exit_code, result.output


@pytest.fixture()
def dept(tmp_path) -> Path:
    """A copy of the 2025 example in the test's own folder (a test module may define its own)."""
    path = tmp_path / "dept.yaml"
    path.write_text(example_text("2025"), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- WeasyPrint logs

@pytest.fixture()
def weasyprint_warnings_expected():
    """Request this in a test that makes WeasyPrint warn on purpose."""
    yield


@pytest.fixture(autouse=True)
def _no_unexpected_weasyprint_logs(request):
    """Like WeasyPrint's own assert_no_logs: a test fails on any warning or error the
    'weasyprint' logger gives while it runs, unless it asks for weasyprint_warnings_expected."""
    logger, handler = logging.getLogger("weasyprint"), Collect()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if "weasyprint_warnings_expected" not in request.fixturenames:
        said = [f"{r.levelname}: {r.getMessage()}" for r in handler.records]
        assert not said, f"WeasyPrint warned unexpectedly: {said}"


# ----------------------------------------------------------------------------- order

def pytest_collection_modifyitems(session, config, items):
    """The tests that start a Dask cluster in this process (tests/test_dask.py) run last: a
    Dask client leaves threads behind (its offload pool, its event loop), and the two-core PDF
    path rightly refuses to fork beside other threads — the tests that check that path
    (test_parallel.py, test_compat.py) must run before any such thread exists."""
    items.sort(key=lambda item: item.path.name == "test_dask.py")  # stable: the rest keep their order
