"""When no process can be started — os.fork() failing with EAGAIN, as under RLIMIT_NPROC (which
root ignores, so the failure is made by replacing os.fork) — every path renders on one core:
a PDF laid out on two cores is laid out sequentially, a batch's pool runs its files in the
batch process, and the clerk gets the same outputs."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from conftest import EXAMPLE_2025, example_text

from generator.commands import batch, jobs
from generator.pipeline import run
from generator.render import parallel, pdf


def _no_fork(*args, **kwargs):
    raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))


def _files(tmp_path: Path, n: int) -> list[str]:
    files = []
    for i in range(n):
        path = tmp_path / f"d{i}.yaml"
        path.write_text(example_text("2025").replace('code: "524"', f'code: "F{i}"'),
                        encoding="utf-8")
        files.append(str(path))
    return files


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_batch_whose_workers_cannot_start_renders_on_one_core(tmp_path, monkeypatch, method,
                                                                capsys):
    files = _files(tmp_path, 3)
    monkeypatch.setattr(os, "fork", _no_fork)
    monkeypatch.setattr(os, "posix_spawn", _no_fork, raising=False)
    monkeypatch.setattr("multiprocessing.util.spawnv_passfds", _no_fork)
    out = tmp_path / "out"
    outcomes = batch.render_batch(files, str(out), ("xlsx",), jobs=2, start_method=method,
                                  timeout=None)
    assert [o.status for o in outcomes] == ["ok"] * 3, [o.problems for o in outcomes]
    assert len(list(out.glob("*/*.xlsx"))) == 3
    assert "已生成3个文件" in capsys.readouterr().out


@pytest.mark.slow
def test_a_pdf_whose_child_cannot_be_forked_is_laid_out_on_one_core(monkeypatch):
    result = run(str(EXAMPLE_2025))
    assert result.ok
    sequential = pdf.render_pdf_report(result.disclosure)
    monkeypatch.setattr(parallel, "others_running", lambda: 0)
    monkeypatch.setattr(os, "fork", _no_fork)
    two = pdf.render_pdf_report(result.disclosure, parallel=True)
    assert two.lengths is None  # not split
    assert two.data == sequential.data and two.pages == sequential.pages


@pytest.mark.slow
def test_render_with_fork_failing_writes_the_pdf(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "others_running", lambda: 0)
    monkeypatch.setattr(os, "fork", _no_fork)
    outcome = jobs.render_file(str(EXAMPLE_2025), str(tmp_path), ("pdf", "xlsx"), two_cores=True)
    assert outcome.status == "ok", [str(p) for p in outcome.problems]
    assert outcome.pages > 10 and all(Path(o).is_file() for o in outcome.outputs)
