"""A regular install into a prefix that is not the interpreter's (`pip install --target`) finds its
templates, schemas and catalog: the wheel ships them as package data (generator/resources.py).

The wheel is built from a copy of the source tree (nothing is written into the checkout), installed
into a temporary folder, and run from a third folder with PYTHONPATH pointing at the install only.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import EXAMPLE_2023, ROOT

pytestmark = pytest.mark.slow  # builds the wheel, installs it and renders the example

SHIPPED = ("pyproject.toml", "README.md", "generator", "templates", "schemas")


def _run(args: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    src.mkdir()
    for name in SHIPPED:
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(item, src / name)
    dist = base / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                  "--no-index", "-w", str(dist), str(src)], cwd=base)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("budgetgen-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = [f"generator/{p.relative_to(ROOT).as_posix()}" for folder in ("templates", "schemas")
               for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert len(shipped) >= 8
    missing = [data for data in shipped + ["generator/editions/starter.yaml"] if data not in names]
    assert missing == [], "not in the wheel (see [tool.setuptools.package-data] in pyproject.toml)"
    target = base / "site"
    done = _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                 "--target", str(target), str(wheel)], cwd=base)
    assert done.returncode == 0, done.stderr
    return target


def _env(target: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(target)
    env.pop("PYTHONHOME", None)
    return env


def test_installed_package_renders_from_another_folder(installed, tmp_path):
    env = _env(installed)
    where = _run([sys.executable, "-c", "import generator; print(generator.__file__)"], tmp_path, env)
    assert Path(where.stdout.strip()).resolve() == (installed / "generator" / "__init__.py").resolve()
    shutil.copy2(EXAMPLE_2023, tmp_path / "dept.yaml")
    result = _run([sys.executable, "-m", "generator", "render", "dept.yaml", "-o", "out",
                   "-f", "pdf,xlsx,html"], tmp_path, env)
    assert result.returncode == 0, result.stdout + result.stderr
    made = sorted(p.suffix for p in (tmp_path / "out").glob("[!.]*/*"))  # out/<部门>/<部门>.pdf …
    assert made == [".html", ".pdf", ".xlsx"], result.stdout
    pdf = next((tmp_path / "out").glob("*/*.pdf")).read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 20_000
    html = next((tmp_path / "out").glob("*/*.html")).read_text(encoding="utf-8")
    assert "部门预算收支总表" in html


def test_installed_package_writes_its_schema_and_version(installed, tmp_path):
    env = _env(installed)
    result = _run([sys.executable, "-m", "generator", "schema"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(
        (ROOT / "schemas" / "budget.schema.json").read_text(encoding="utf-8"))
    version = _run([sys.executable, "-m", "generator", "--version"], tmp_path, env)
    assert version.returncode == 0 and version.stdout.strip() == "budgetgen 0.1.0", version
    script = installed / "bin" / "budgetgen"  # the console script pip wrote
    assert script.is_file()
    version = _run([str(script), "--version"], tmp_path, env)
    assert version.returncode == 0 and version.stdout.strip() == "budgetgen 0.1.0", version
