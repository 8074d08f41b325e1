"""Batch rendering on Dask distributed: `render FILES… --executor dask://HOST:8786`.

One task per department file (with --units, its 所属单位 are part of the same task). Workers
are meant to be started single-threaded (`dask worker --nthreads 1`; a Nanny spawns them, it
does not fork); a process-wide lock here keeps a worker started with more threads to one render
at a time anyway, since WeasyPrint is not thread-safe.

A task renders its department into a private temporary folder on the worker (jobs.render_file:
the formats rendered first, then published there as one set), then either
- moves the set into the shared output folder with the atomic set replace of render/output.py
  (`commit_set`; the default — the output folder is a shared folder, NFS/SMB, at the same path
  on every machine), and writes the skip-unchanged record beside it (cache.py); or
- (`--send-back`) returns the bytes, and this process (the client) publishes them the same way.
Either way a task that is retried, or runs twice, replaces the whole set: never a mixed one.

A worker that dies mid-task (killed, out of memory, a crash in native code) is restarted by its
Nanny and the scheduler runs the task again; a task that has killed more workers than the
scheduler's `distributed.scheduler.allowed-failures` (default 3) ends as `crash` naming its file,
and the other files go on. `--timeout` bounds each file as in a local batch (in the worker's task
thread: jobs.time_limit). Progress, the summary table, the manifest and `--report` are those of a
local batch (batch.py, manifest.py).

No wait on the cluster is unbounded (issue 28; constants and rules above `connect`): a task the
scheduler cancels or forgets is submitted again under a new key, a task that does not stop at its
time limit gets its worker restarted and is submitted again, and a cluster that cannot finish
(no workers, the scheduler gone) ends the files left as `crash` saying why — the batch ends. Keys
are unique to each run, so a re-run never meets the keys of a killed client's tasks that the
scheduler is still releasing; a department rendered by both publishes the same bytes, atomically.

The task checks that its worker runs the same budgetgen (version, code, layouts, templates,
renderer versions: the environment part of cache.py's fingerprint) as the client; a worker that
does not is reported per file (`crash`) instead of writing different bytes.

Inputs are read by the workers at the client's absolute paths: the input folder is shared too.
distributed is imported only when a Dask executor is used (`pip install 'budgetgen[dask]'`).
"""
from __future__ import annotations

import contextlib
import os
import queue
import shutil
import tempfile
import threading
import time
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any

from .outcome import crashed as _crashed

SCHEMES = ("dask://", "tcp://", "tls://")
_FAULT_EXIT_ENV = "BUDGETGEN_FAULT_WORKER_EXIT"  # tests: "NAME" or "NAME@DIR" (see _fault_exit)
_FAULT_HANG_ENV = "BUDGETGEN_FAULT_WORKER_HANG"  # tests: the same, the task hangs (see _fault_exit)
_one_at_a_time = threading.Lock()


class ClusterError(Exception):
    """The cluster cannot be used (distributed missing, scheduler unreachable): a Chinese message."""


def scheduler_address(executor: str) -> str | None:
    """None for the local pool ('local'); the scheduler's address for 'dask://HOST:PORT'
    (also 'tcp://' and 'tls://' as Dask writes them). Raises ValueError otherwise."""
    text = executor.strip()
    if text.lower() == "local":
        return None
    for scheme in SCHEMES:
        if text.lower().startswith(scheme) and len(text) > len(scheme):
            rest = text[len(scheme):]
            return ("tcp://" if scheme == "dask://" else scheme) + rest
    raise ValueError(text)


# --------------------------------------------------------------------------- on the worker


def _environment() -> str:
    from . import cache
    return cache._environment()


def _fault_exit(path: str) -> None:
    """Tests: BUDGETGEN_FAULT_WORKER_EXIT is a comma-separated list of NAME or NAME@DIR. A task
    whose file is named NAME ends its worker process (os._exit) after rendering into its
    temporary folder, before publishing; with NAME@DIR only the first time (a marker file in
    DIR says it happened). BUDGETGEN_FAULT_WORKER_HANG, the same, makes the task hang instead,
    in one long sleep that no time limit interrupts (like a native library that never returns)."""
    for env, marker, act in ((_FAULT_EXIT_ENV, "died", lambda: os._exit(70)),
                             (_FAULT_HANG_ENV, "hung", lambda: time.sleep(24 * 3600))):
        for spec in filter(None, os.environ.get(env, "").split(",")):
            name, _, marker_dir = spec.partition("@")
            if os.path.basename(path) != name:
                continue
            if marker_dir:
                try:
                    fd = os.open(Path(marker_dir) / f"{name}.{marker}", os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                                 0o644)
                except FileExistsError:
                    continue
                os.close(fd)
            act()


def _name_problems(outcome: Any, path: str, typed: str) -> None:
    """Problems located in the file at its absolute path name it as the user typed it."""
    import dataclasses
    outcome.problems = [dataclasses.replace(p, location=dataclasses.replace(p.location, file=typed))
                        if p.location.file == path else p for p in outcome.problems]


def _relocated(outcome: Any, tmp: str, out_dir: str) -> None:
    """Outputs named in the temporary folder → the same names in the output folder."""
    def move(paths: list[str]) -> list[str]:
        return [str(Path(out_dir) / os.path.relpath(p, tmp)) for p in paths]
    outcome.outputs = move(outcome.outputs)
    for unit in outcome.units:
        unit.outputs = move(unit.outputs)


def _sets(outputs: list[str]) -> dict[str, dict[str, bytes]]:
    """{stem: {extension: bytes}} of the files a render wrote (out/<stem>/<stem>.<ext>)."""
    sets: dict[str, dict[str, bytes]] = {}
    for p in outputs:
        path = Path(p)
        sets.setdefault(path.parent.name, {})[path.suffix.lstrip(".")] = path.read_bytes()
    return sets


def publish(sets: dict[str, dict[str, bytes]], path: str, out_dir: str, formats: tuple[str, ...],
            outcome: Any, options: dict[str, Any]) -> None:
    """Publish rendered sets into out_dir (the atomic set replace) and write the file's
    skip-unchanged record; raises OutputError when a set cannot be written."""
    from .cache import remember
    from ..render.output import commit_set
    for stem, files in sets.items():
        commit_set(out_dir, stem, files)
    remember(path, out_dir, formats, outcome.outputs, outcome.pages, outcome.problems, options)


def render_task(path: str, out_dir: str, formats: tuple[str, ...], units: bool,
                layout: str | None, timeout: float | None, send_back: bool,
                environment: str, typed: str, draft: bool = False,
                record_layout: str | None = None) -> tuple[Any, dict[str, dict[str, bytes]] | None]:
    """One department on a Dask worker: (Outcome, the sets when `send_back`). Never raises.
    `path` and `out_dir` are absolute; `typed` is the file as the user typed it, which the
    problems (and so the skip-unchanged record) name, as in a local batch; `record_layout` the
    --layout as the user gave it (the record's options: a layout file's path is absolute here)."""
    from .outcome import crashed as _crashed
    from .jobs import Outcome, options as output_options, render_file
    start = time.perf_counter()
    options = output_options(units, record_layout, draft)
    with _one_at_a_time:
        try:
            if _environment() != environment:
                from .. import __version__
                return _crashed(path, time.perf_counter() - start,
                                f"工作节点上的 budgetgen {__version__} 与本机的版本或代码不同；"
                                "请在每个工作节点安装与本机相同的 budgetgen", died=False), None
            tmp = tempfile.mkdtemp(prefix="budgetgen-task-")
            try:
                outcome: Outcome = render_file(path, tmp, formats, units=units, layout=layout,
                                               timeout=timeout, two_cores=False, draft=draft)
                _name_problems(outcome, path, typed)
                if outcome.status != "ok":
                    return outcome, None
                sets = _sets(outcome.outputs + [p for u in outcome.units for p in u.outputs])
                _fault_exit(path)
                _relocated(outcome, tmp, out_dir)
                if send_back:
                    return outcome, sets
                from ..render.output import OutputError
                try:
                    publish(sets, path, out_dir, formats, outcome, options)
                except OutputError as exc:
                    from ..problems import Location, error
                    return Outcome(path, "output", time.perf_counter() - start,
                                   problems=[error("输出", str(exc), Location(path))]), None
                outcome.seconds = time.perf_counter() - start
                return outcome, None
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        except Exception as exc:  # a bug: reported for this file, the batch goes on
            return _crashed(path, time.perf_counter() - start, f"{type(exc).__name__}: {exc}",
                            died=False, exc=exc), None


# --------------------------------------------------------------------------- on the client

# Every wait on the cluster is bounded (issue 28). A batch waits for finished tasks at most
# TICK seconds at a time; every CHECK seconds it looks at the cluster (the scheduler's state of
# each task still out, and what each worker is running) and acts on what it finds:
# - a task the scheduler cancelled, or does not know (or no longer means to run) at two looks
#   in a row, is lost: it is submitted again under a new key; lost twice, its file ends as
#   `crash` (named, in Chinese) and the others go on;
# - a task running on one worker for longer than twice --timeout plus GRACE did not stop at its
#   time limit (stuck in native code, or a worker that no longer runs its tasks): its worker is
#   restarted and the file submitted again once; a second time it ends as `timeout`;
# - a result that cannot be fetched in RESULT_TIMEOUT seconds (the worker holding it does not
#   answer): that worker is restarted and the file submitted again, as for a lost task;
# - a scheduler with no worker for NO_WORKERS seconds, or a connection to the scheduler that
#   cannot be re-established (distributed gives up after the connect timeout): the files left
#   end as `crash`, saying so, and the batch finishes (re-run it to resume).
TICK = 1.0
CHECK = 10.0
GRACE = 60.0
NO_WORKERS = 600.0
ASK_TIMEOUT = 30.0  # one question to the scheduler, a worker restarted: seconds
RESULT_TIMEOUT = 60.0  # a result (about 1 MB with --send-back) not fetched in this time: its worker is stuck
LOST_LOOKS = 2  # a task the scheduler does not know at this many looks in a row is lost
RUNS = 2  # a file is submitted at most this many times for a lost or overdue task
_LIVE = frozenset({"waiting", "queued", "no-worker", "processing"})  # a task on its way


def connect(address: str) -> Any:
    """A distributed.Client for the scheduler, or ClusterError in Chinese."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("使用 --executor dask:// 需要安装 Dask：pip install 'budgetgen[dask]'"
                           "（每个工作节点也要安装同一版本的 budgetgen 与字体）") from None
    try:
        return Client(address, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"无法连接 Dask 调度器 {address}：{exc}；请确认 `dask scheduler` 已启动、"
                           "地址与端口正确、防火墙放行") from None


def _failed(path: str, status: str, rule: str, message: str, seconds: float) -> Any:
    from .outcome import Outcome
    from ..problems import Location, error
    return Outcome(path, status, seconds, problems=[error(rule, message, Location(path))])


class _Batch:
    """The files of one batch on the cluster: submitted, watched, resubmitted when lost."""

    def __init__(self, client: Any, address: str, files: list[str], out_dir: str,
                 formats: tuple[str, ...], progress: Any, units: bool, layout: str | None,
                 timeout: float | None, send_back: bool, draft: bool):
        self.client, self.address, self.files, self.out_dir = client, address, files, out_dir
        self.formats, self.progress, self.units, self.layout = formats, progress, units, layout
        self.timeout, self.send_back, self.draft = timeout, send_back, draft
        self.environment = _environment()
        self.absolute_out = os.path.abspath(out_dir)
        # a --layout file is read by the worker at its absolute path (a key stays a key)
        self.layout_here = os.path.abspath(layout) if layout and os.path.isfile(layout) else layout
        # keys unique to this run: never those of an earlier, killed client whose tasks the
        # scheduler may still be releasing
        self.token = os.urandom(6).hex()
        self.started = time.perf_counter()
        self.finished: queue.Queue[Any] = queue.Queue()
        self.current: dict[int, Any] = {}  # file index → its future now
        self.runs: dict[int, int] = {}  # file index → submissions for lost or overdue tasks
        self.running: dict[str, tuple[str, float]] = {}  # key → (worker, first seen running there)
        self.unknown: dict[str, int] = {}  # key → looks in a row the scheduler did not know it
        self.results: dict[int, Any] = {}
        self.workerless_since: float | None = None
        self.alone = False  # the files now out are each run alone (after KilledWorker)

    # ----------------------------------------------------------------------- submitting

    def submit(self, i: int, alone: bool = False) -> None:
        self.runs[i] = self.runs.get(i, 0) + 1
        key = f"budgetgen-render-{self.token}-{i}-{self.runs[i]}" + ("-alone" if alone else "")
        fut = self.client.submit(render_task, os.path.abspath(self.files[i]), self.absolute_out,
                                 self.formats, self.units, self.layout_here, self.timeout,
                                 self.send_back, self.environment, self.files[i], self.draft,
                                 self.layout, key=key, pure=False, retries=0)
        self.current[i] = fut
        fut.add_done_callback(self.finished.put)  # called in distributed's callback thread

    def again_or_end(self, i: int, outcome: Any, alone: bool) -> None:
        """Submit file i once more, or (submitted RUNS times already) end it with `outcome`."""
        fut = self.current.pop(i)
        self._forget(fut)
        if self.runs.get(i, 0) < RUNS:
            self.submit(i, alone)
        else:
            self.end(i, outcome)

    def end(self, i: int, outcome: Any) -> None:
        self.current.pop(i, None)
        self.results[i] = outcome
        self.progress.advance(outcome)

    def _forget(self, fut: Any) -> None:
        self.running.pop(fut.key, None)
        self.unknown.pop(fut.key, None)
        with contextlib.suppress(Exception):
            fut.release()

    # ----------------------------------------------------------------------- waiting

    def drive(self, indices: list[int], alone: bool = False) -> list[int]:
        """Submit `indices` and wait — never for ever — until each has an Outcome; the files
        whose task killed its workers (KilledWorker) when not `alone`, to be run alone."""
        killed: list[int] = []
        self.alone = alone
        for i in indices:
            self.submit(i, alone)
        last_look = time.monotonic()
        while self.current:
            try:
                fut = self.finished.get(timeout=TICK)
            except queue.Empty:
                fut = None
            if fut is not None:
                which = next((j for j, f in self.current.items() if f is fut), None)
                if which is None:  # a task given up (lost, overdue) that finished after all
                    self._forget(fut)
                    continue
                if self.take(which, fut, alone) == "killed":
                    killed.append(which)
            if time.monotonic() - last_look >= CHECK:
                self.look()
                last_look = time.monotonic()
        return killed

    def take(self, i: int, fut: Any, alone: bool) -> str:
        """A finished future of file i: its Outcome (published when sent back), a resubmission
        when the task was lost, or "killed" (its workers died; run it alone later)."""
        from distributed import KilledWorker
        from .jobs import FileTimeout, timed_out
        path = self.files[i]
        seconds = time.perf_counter() - self.started
        try:
            outcome, sets = fut.result(timeout=RESULT_TIMEOUT)
        except KilledWorker as exc:
            if not alone:
                self.current.pop(i)
                self._forget(fut)
                return "killed"
            self._forget(fut)
            self.end(i, _crashed(path, seconds, f"反复使工作进程退出，已停止重试：{exc}"))
            return "crash"
        except (CancelledError, TimeoutError) as exc:  # cancelled or forgotten; result not fetched
            what = "调度器取消了这个任务"
            if isinstance(exc, TimeoutError):
                # the worker holding the result does not answer (its event loop is blocked): it
                # is restarted, the file submitted again
                what = f"{RESULT_TIMEOUT:g}秒内取不回结果，保存结果的工作进程已重启"
                holders = self.ask("who_has", keys=[fut.key])
                if isinstance(holders, dict) and holders.get(fut.key):
                    self.restart(list(holders[fut.key]))
            self.again_or_end(i, _failed(path, "crash", "内部错误", _lost_message(what), seconds), alone)
            return "again"
        except Exception as exc:  # e.g. a result that failed to unpickle
            self._forget(fut)
            self.end(i, _crashed(path, seconds, f"{type(exc).__name__}: {exc}", died=False))
            return "crash"
        except FileTimeout:  # raised in the worker's thread past its call: still that file's time
            self._forget(fut)
            self.end(i, timed_out(path, seconds, self.timeout or 0))
            return "timeout"
        self._forget(fut)
        _as_typed(outcome, path, self.out_dir)
        if sets:
            from .jobs import options as output_options
            from ..render.output import OutputError
            try:
                publish(sets, path, self.out_dir, self.formats, outcome,
                        output_options(self.units, self.layout, self.draft))
            except OutputError as exc:
                outcome = _failed(path, "output", "输出", str(exc), outcome.seconds)
        self.end(i, outcome)
        return outcome.status

    # ----------------------------------------------------------------------- looking

    def ask(self, op: str, **kwargs: Any) -> Any:
        """One question to the scheduler, bounded; None when it cannot be answered (then the
        checks that need it wait for the next look: slower, never wrong)."""
        try:
            return self.client.sync(getattr(self.client.scheduler, op), callback_timeout=ASK_TIMEOUT,
                                    **kwargs)
        except Exception:
            return None

    def look(self) -> None:
        """Check the tasks still out against the cluster (see the comment above TICK)."""
        if self.client.status in ("closing", "closed"):
            self.abandon(f"与 Dask 调度器 {self.address} 的连接已断开、重连未成功")
            return
        pending = {f.key: i for i, f in self.current.items() if not f.done()}
        if not pending:
            return
        states = self.ask("get_task_status", keys=list(pending))
        if isinstance(states, dict):
            for key, i in pending.items():
                if key in states and states[key] in _LIVE:
                    self.unknown.pop(key, None)
                    continue
                self.unknown[key] = self.unknown.get(key, 0) + 1
                if self.unknown[key] >= LOST_LOOKS:
                    what = f"调度器不再记得这个任务（状态：{states.get(key) or '无'}）"
                    self.again_or_end(i, _failed(self.files[i], "crash", "内部错误", _lost_message(what),
                                                 time.perf_counter() - self.started), self.alone)
        pending = {f.key: i for i, f in self.current.items() if not f.done()}  # after resubmitting
        processing = self.ask("processing")
        if not isinstance(processing, dict):
            return
        now = time.monotonic()
        if not processing:
            self.workerless_since = self.workerless_since or now
            if now - self.workerless_since >= NO_WORKERS:
                self.abandon(f"Dask 集群里已有{NO_WORKERS:g}秒没有工作节点")
            return
        self.workerless_since = None
        where = {key: worker for worker, keys in processing.items() for key in keys}
        for key in list(self.running):
            if where.get(key) != self.running[key][0]:
                del self.running[key]
        for key, worker in where.items():
            if key in pending:
                self.running.setdefault(key, (worker, now))
        if not self.timeout:
            return
        limit = 2 * self.timeout + GRACE
        for key, (worker, since) in list(self.running.items()):
            late = pending.get(key)
            if late is None or now - since < limit:
                continue
            i = late
            fut = self.current[i]
            if fut.key != key:  # resubmitted meanwhile
                continue
            with contextlib.suppress(Exception):
                self.client.cancel([fut], force=True)
            # the task's thread cannot be stopped from outside: the worker process is restarted
            # (by its Nanny); the scheduler gives the worker's other tasks to the others
            self.restart([worker])
            message = (f"在工作节点 {worker} 上超过时间上限（{self.timeout:g}秒）仍未停止，工作进程已重启"
                       f"{'；重试一次后仍然如此，已放弃这个文件' if self.runs.get(i, 0) >= RUNS else ''}"
                       "（其余文件照常生成）")
            self.again_or_end(i, _failed(self.files[i], "timeout", "超时", message,
                                         time.perf_counter() - self.started), self.alone)

    def restart(self, workers: list[str]) -> None:
        """Restart worker processes (their Nannies start them again), bounded; a worker that
        cannot be restarted is left (its tasks are then bounded by the checks above)."""
        with contextlib.suppress(Exception):
            self.client.restart_workers(workers, timeout=ASK_TIMEOUT, raise_for_error=False)

    def abandon(self, why: str) -> None:
        """The cluster cannot finish the files still out: each ends as `crash`, saying why."""
        for i in sorted(self.current):
            fut = self.current[i]
            with contextlib.suppress(Exception):
                self.client.cancel([fut], force=True)
            self._forget(fut)
            self.end(i, _failed(self.files[i], "crash", "内部错误",
                                f"{why}，这个文件没有生成完；请确认集群正常后重新运行同一命令"
                                "（已完成的文件会被跳过）", time.perf_counter() - self.started))


def _lost_message(what: str) -> str:
    return (f"任务在 Dask 集群上丢失（{what}），已重新提交{RUNS - 1}次仍未完成；其余文件照常生成，"
            "可重新运行同一命令续跑（已完成的文件会被跳过）")


def run_dask(address: str, files: list[str], out_dir: str, formats: tuple[str, ...], progress: Any,
             units: bool = False, layout: str | None = None, timeout: float | None = None,
             send_back: bool = False, draft: bool = False) -> dict[int, Any]:
    """Render `files` on the cluster at `address`; {index: Outcome}, progress advanced per
    result as it arrives (in the order they finish)."""
    client = connect(address)
    batch: _Batch | None = None
    try:
        batch = _Batch(client, address, files, out_dir, formats, progress, units, layout, timeout,
                       send_back, draft)
        with progress:
            killed = batch.drive(list(range(len(files))))
            # A task that was on a worker when it died is blamed even if another task killed it
            # (a worker may hold a queued task besides the running one). Each such task runs
            # once more alone, so only a file that really kills its workers ends as `crash`.
            for i in sorted(killed):
                batch.drive([i], alone=True)
        return batch.results
    except BaseException:
        if batch is not None:
            with contextlib.suppress(Exception):
                client.cancel(list(batch.current.values()), force=True)
        raise
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=ASK_TIMEOUT)


def _as_typed(outcome: Any, path: str, out_dir: str) -> None:
    """The worker saw absolute paths: the summary, the problems and the outputs name the file
    and the output folder as the user typed them, as a local batch does."""
    outcome.file = path
    _name_problems(outcome, os.path.abspath(path), path)
    absolute_out = os.path.abspath(out_dir)

    def shown(p: str) -> str:
        return str(Path(out_dir) / os.path.relpath(p, absolute_out)) if Path(p).is_relative_to(absolute_out) else p
    outcome.outputs = [shown(p) for p in outcome.outputs]
    for unit in outcome.units:
        unit.outputs = [shown(p) for p in unit.outputs]
