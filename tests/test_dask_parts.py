"""The parts of `render --executor` that need no cluster: the executor's address, the task's
refusal of a worker running other code, the time limit in a thread that is not the main one."""
from __future__ import annotations

import contextlib
import functools
import logging
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


class _FakeFuture:
    def __init__(self, key: str):
        self.key = key

    def add_done_callback(self, fn) -> None:
        pass

    def done(self) -> bool:
        return False

    def release(self) -> None:
        pass


class _FakeClient:
    """Just what the batch asks a distributed.Client, answered by a scheduler that never
    finishes a task: `states` (key → the scheduler's state of it) and `processing`
    (worker → the keys it runs)."""

    status = "running"

    def __init__(self, states, processing):
        self.submitted: list[_FakeFuture] = []
        self.cancelled: list[str] = []
        self.restarted: list[str] = []
        self.scheduler = type("Scheduler", (), {})()
        self.scheduler.get_task_status = lambda keys: {k: states(k) for k in keys}
        self.scheduler.processing = lambda: processing(self)

    def submit(self, fn, *args, key, **kwargs):
        self.submitted.append(_FakeFuture(key))
        return self.submitted[-1]

    def sync(self, fn, callback_timeout=None, **kwargs):
        assert callback_timeout  # every question to the scheduler is bounded
        return fn(**kwargs)

    def cancel(self, futures, force=False):
        self.cancelled += [f.key for f in futures]

    def restart_workers(self, workers, timeout=None, raise_for_error=True):
        assert timeout
        self.restarted += workers


class _Progress:
    def __init__(self):
        self.seen = []

    def advance(self, outcome):
        self.seen.append(outcome)


def _batch(client, files, timeout=None):
    return dask_batch._Batch(client, "tcp://scheduler:8786", files, "out", ("xlsx",), _Progress(),
                             False, None, timeout, False, False)


@pytest.fixture
def quick(monkeypatch):
    """Look at the cluster at every turn of the loop."""
    monkeypatch.setattr(dask_batch, "TICK", 0.001)
    monkeypatch.setattr(dask_batch, "CHECK", 0.0)


def test_a_task_the_scheduler_forgot_is_submitted_again_then_ends_as_crash(quick):
    """Issue 28: a future whose key the scheduler does not know (forgotten, released) never
    finishes; the batch must not wait for it for ever. Not known at two looks in a row: the
    file is submitted again under a new key; lost again: `crash`, the file named, in Chinese."""
    client = _FakeClient(lambda key: None, lambda c: {"tcp://w1": []})
    batch = _batch(client, ["部门/a.yaml"])
    assert batch.drive([0]) == []
    keys = [f.key for f in client.submitted]
    assert len(keys) == dask_batch.RUNS == 2 and len(set(keys)) == 2
    outcome = batch.results[0]
    assert outcome.status == "crash" and outcome.file == "部门/a.yaml"
    assert outcome.problems[0].location.file == "部门/a.yaml"
    assert "丢失" in outcome.problems[0].message and "调度器不再记得" in outcome.problems[0].message
    assert batch.progress.seen == [outcome]


def test_a_task_on_its_way_is_not_lost(quick):
    """The other side: a task the scheduler holds (queued, processing) is left alone."""
    looks = []

    def processing(client):
        looks.append(1)
        if len(looks) > 5:  # then the scheduler forgets it: the loop ends
            client.scheduler.get_task_status = lambda keys: dict.fromkeys(keys)
        return {"tcp://w1": []}
    client = _FakeClient(lambda key: "queued", processing)
    batch = _batch(client, ["a.yaml"])
    batch.drive([0])
    assert len(looks) > 5 and len(client.submitted) == 2  # not resubmitted while it was queued


def test_a_task_that_overruns_its_time_limit_restarts_its_worker_then_ends_as_timeout(quick, monkeypatch):
    """A task that does not stop at --timeout (stuck in native code, or a worker whose task
    thread is gone) would hold the batch for ever: past twice the limit plus GRACE its worker
    is restarted and the file submitted again; a second time it ends as `timeout`."""
    monkeypatch.setattr(dask_batch, "GRACE", 0.0)
    client = _FakeClient(lambda key: "processing",
                         lambda c: {"tcp://w1": [c.submitted[-1].key], "tcp://w2": []})
    batch = _batch(client, ["a.yaml"], timeout=0.01)
    batch.drive([0])
    assert len(client.submitted) == 2
    assert client.cancelled == [f.key for f in client.submitted]
    assert client.restarted == ["tcp://w1", "tcp://w1"]
    outcome = batch.results[0]
    assert outcome.status == "timeout" and outcome.problems[0].location.file == "a.yaml"
    assert "工作进程已重启" in outcome.problems[0].message and "已放弃这个文件" in outcome.problems[0].message


def test_a_cluster_without_workers_ends_the_files_left(quick, monkeypatch):
    monkeypatch.setattr(dask_batch, "NO_WORKERS", 0.0)
    client = _FakeClient(lambda key: "no-worker", lambda c: {})
    batch = _batch(client, ["a.yaml", "b.yaml"])
    batch.drive([0, 1])
    assert [batch.results[i].status for i in (0, 1)] == ["crash", "crash"]
    assert "没有工作节点" in batch.results[1].problems[0].message
    assert batch.results[1].problems[0].location.file == "b.yaml"


def test_a_lost_connection_to_the_scheduler_ends_the_files_left(quick):
    client = _FakeClient(lambda key: "processing", lambda c: {"tcp://w1": []})
    batch = _batch(client, ["a.yaml"])
    client.status = "closed"  # distributed gave up reconnecting
    batch.drive([0])
    assert batch.results[0].status == "crash"
    assert "连接已断开" in batch.results[0].problems[0].message


def _chatty() -> None:
    """Python code that spends much of its time in logging's locked sections (setLevel clears
    every logger's level cache under logging's module lock), until its time limit ends it."""
    for n in range(300):  # loggers enough that clearing their caches takes a while
        logging.getLogger(f"budgetgen-test-chatty.{n}")
    log = logging.getLogger("budgetgen-test-chatty")
    while True:
        log.setLevel(logging.DEBUG)
        _busy(300)


def test_the_time_limit_never_leaves_a_lock_held_in_the_main_thread():
    """The same for SIGALRM in the main thread (a local batch's worker process): logging's
    lock taken when the alarm rings, FileTimeout waits until it is released."""
    for n in range(60):
        with contextlib.suppress(jobs.FileTimeout):
            jobs.limited((0.001, 0.003, 0.01)[n % 3], _chatty)
    other = threading.Thread(target=lambda: logging.getLogger("budgetgen-test-other").setLevel(logging.INFO))
    other.start()
    other.join(30)  # a bound on a hang, not a timing
    assert not other.is_alive(), "logging's lock was left held"


def test_the_time_limit_never_leaves_a_lock_held():
    """A FileTimeout raised inside logging's `_acquireLock(); try:` window leaves logging's
    module lock held for ever: in a Dask worker its event loop then blocks at its next log
    line and the worker answers nobody (issue 28). The timer does not raise inside the standard
    library's locking code; after many limits running out there, another thread still logs."""
    done, checked = threading.Event(), threading.Event()

    def many() -> None:
        for n in range(60):
            with contextlib.suppress(jobs.FileTimeout):
                jobs.limited((0.001, 0.003, 0.01)[n % 3], _chatty)
        done.set()
        checked.wait(60)  # alive meanwhile: the other thread cannot be given its id (and its lock)
    worker = threading.Thread(target=many)
    worker.start()
    assert done.wait(300)  # a bound on a hang, not a timing
    other = threading.Thread(target=lambda: logging.getLogger("budgetgen-test-other").setLevel(logging.INFO))
    other.start()
    other.join(30)  # a bound on a hang, not a timing
    checked.set()
    worker.join()
    assert not other.is_alive(), "logging's lock was left held"
