"""The parts of `render --executor` that need no cluster: the executor's address, the task's
refusal of a worker running other code, the time limit in a thread that is not the main one."""
from __future__ import annotations

import functools
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.commands import dask_batch, jobs
from generator.commands.cli import app

EXAMPLE = Path(__file__).resolve().parent.parent / "inputs" / "524-xigang-2025.yaml"


def test_executor_addresses():
    assert dask_batch.scheduler_address("local") is None
    assert dask_batch.scheduler_address("LOCAL") is None
    assert dask_batch.scheduler_address("dask://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert dask_batch.scheduler_address("tls://host:8786") == "tls://host:8786"
    for bad in ("dask://", "http://host:8786", "host:8786", ""):
        with pytest.raises(ValueError):
            dask_batch.scheduler_address(bad)


def test_the_cli_refuses_an_unknown_executor_and_send_back_without_dask(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["render", str(EXAMPLE), "-o", str(tmp_path), "--executor", "ssh://x"])
    assert result.exit_code == 2 and "dask://" in result.output
    result = runner.invoke(app, ["render", str(EXAMPLE), "-o", str(tmp_path), "--send-back"])
    assert result.exit_code == 2 and "--send-back" in result.output


def test_a_worker_with_other_code_renders_nothing(tmp_path):
    outcome, sets = dask_batch.render_task(str(EXAMPLE), str(tmp_path), ("xlsx",), False, None, None,
                                           False, "another environment", "524.yaml")
    assert outcome.status == "crash" and sets is None
    assert "版本或代码不同" in outcome.problems[0].message
    assert not list(tmp_path.iterdir())


def test_the_time_limit_holds_in_another_thread(tmp_path):
    """A Dask worker runs its task in a thread: SIGALRM cannot reach it, the limit still holds."""
    found = []
    thread = threading.Thread(target=lambda: found.append(
        jobs.render_file(str(EXAMPLE), str(tmp_path), ("xlsx",), timeout=0.001)))
    thread.start()
    thread.join()
    assert found[0].status == "timeout"
    with jobs.time_limit(5):  # a limit not reached: nothing is raised after the block either
        pass
    done = []
    worker = threading.Thread(target=lambda: done.append(_inside_limit()))
    worker.start()
    worker.join()
    assert done == ["ok"]


def _inside_limit() -> str:
    total = jobs.limited(0.2, lambda: sum(range(1000)))
    assert total == 499500
    threading.Event().wait(0.5)  # past the limit, outside the call: no late FileTimeout
    return "ok"


def _busy(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def test_the_time_limit_in_a_thread_never_outlives_its_call():
    """Issue 28: the timer that raises FileTimeout in a worker thread must never raise it
    after the guarded call returned (nor before it began) — one that did would go on hitting
    the Dask worker's task loop (the worker stays connected but never runs another task) or a
    new thread given the same id. Limits shorter than starting the timer thread, limits that
    run out on the way out, limits never reached: afterwards no FileTimeout, no timer left,
    and this thread can still start threads."""
    results: list = []

    def many() -> None:
        strays = outcomes = 0
        for n in range(300):
            limit = (0.0001, 0.001, 0.002, 0.02)[n % 4]
            try:
                jobs.limited(limit, functools.partial(_busy, 2000 * (n % 7)))
                outcomes += 1
            except jobs.FileTimeout:
                outcomes += 1
            try:
                _busy(20000)  # Python work after the call: where a stray FileTimeout would land
                helper = threading.Thread(target=_busy, args=(10,))
                helper.start()
                helper.join(30)  # a bound on a hang, not a timing
                assert not helper.is_alive()
            except jobs.FileTimeout:
                strays += 1
        results.append((outcomes, strays))

    thread = threading.Thread(target=many)
    thread.start()
    thread.join(300)  # a bound on a hang, not a timing
    assert not thread.is_alive(), "a thread was stuck (a timer raised into the wrong place)"
    assert results == [(300, 0)]
    assert not [t for t in threading.enumerate() if t.name == "budgetgen-time-limit"]


def test_without_distributed_the_batch_says_what_to_install(tmp_path, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed → ImportError
    result = CliRunner().invoke(app, ["render", str(EXAMPLE), "-o", str(tmp_path), "-f", "xlsx",
                                      "--executor", "dask://127.0.0.1:1"])
    assert result.exit_code == 2
    assert "pip install 'budgetgen[dask]'" in result.output
    assert not [p for p in tmp_path.iterdir() if p.name != ".budgetgen"]  # nothing rendered
