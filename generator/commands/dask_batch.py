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

The task checks that its worker runs the same budgetgen (version, code, layouts, templates,
renderer versions: the environment part of cache.py's fingerprint) as the client; a worker that
does not is reported per file (`crash`) instead of writing different bytes.

Inputs are read by the workers at the client's absolute paths: the input folder is shared too.
distributed is imported only when a Dask executor is used (`pip install 'budgetgen[dask]'`).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SCHEMES = ("dask://", "tcp://", "tls://")
_FAULT_EXIT_ENV = "BUDGETGEN_FAULT_WORKER_EXIT"  # tests: "NAME" or "NAME@DIR" (see _fault_exit)
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
    DIR says it happened)."""
    for spec in filter(None, os.environ.get(_FAULT_EXIT_ENV, "").split(",")):
        name, _, marker_dir = spec.partition("@")
        if os.path.basename(path) != name:
            continue
        if marker_dir:
            try:
                fd = os.open(Path(marker_dir) / f"{name}.died", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return
            os.close(fd)
        os._exit(70)


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


def run_dask(address: str, files: list[str], out_dir: str, formats: tuple[str, ...], progress: Any,
             units: bool = False, layout: str | None = None, timeout: float | None = None,
             send_back: bool = False, draft: bool = False) -> dict[int, Any]:
    """Render `files` on the cluster at `address`; {index: Outcome}, progress advanced per
    result as it arrives (in the order they finish)."""
    from .outcome import crashed as _crashed
    from .jobs import Outcome, options as output_options
    from ..render.output import OutputError
    client = connect(address)
    futures: dict[Any, int] = {}
    try:
        from distributed import KilledWorker, as_completed
        environment = _environment()
        absolute_out = os.path.abspath(out_dir)
        token = os.urandom(6).hex()

        # a --layout file is read by the worker at its absolute path (a key stays a key)
        layout_here = os.path.abspath(layout) if layout and os.path.isfile(layout) else layout

        def submit(i: int, attempt: str = "") -> Any:
            fut = client.submit(render_task, os.path.abspath(files[i]), absolute_out, formats, units,
                                layout_here, timeout, send_back, environment, files[i], draft, layout,
                                key=f"budgetgen-render-{token}{attempt}-{i}", pure=False, retries=0)
            futures[fut] = i
            return fut

        def finish(fut: Any, last: bool) -> Any:
            """The Outcome of a finished task, published when sent back; None for a task that
            killed its workers and is retried alone."""
            i = futures.pop(fut)
            path = files[i]
            try:
                outcome, sets = fut.result()
            except KilledWorker as exc:
                if not last:
                    return None
                outcome, sets = _crashed(path, time.perf_counter() - started,
                                         f"反复使工作进程退出，已停止重试：{exc}"), None
            except Exception as exc:  # e.g. a result that failed to unpickle
                outcome, sets = _crashed(path, time.perf_counter() - started,
                                         f"{type(exc).__name__}: {exc}", died=False), None
            fut.release()
            _as_typed(outcome, path, out_dir)
            if sets:
                try:
                    publish(sets, path, out_dir, formats, outcome, output_options(units, layout, draft))
                except OutputError as exc:
                    from ..problems import Location, error
                    outcome = Outcome(path, "output", outcome.seconds,
                                      problems=[error("输出", str(exc), Location(path))])
            return outcome

        results: dict[int, Any] = {}
        again: list[int] = []
        started = time.perf_counter()
        with progress:
            for fut in as_completed([submit(i) for i in range(len(files))], loop=client.loop):
                i = futures[fut]
                outcome = finish(fut, last=False)
                if outcome is None:
                    again.append(i)
                    continue
                results[i] = outcome
                progress.advance(outcome)
            # A task that was on a worker when it died is blamed even if another task killed it
            # (a worker may hold a queued task besides the running one). Each such task runs
            # once more alone, so only a file that really kills its workers ends as `crash`.
            for i in sorted(again):
                outcome = finish(submit(i, "-alone"), last=True)  # result() waits for it
                results[i] = outcome
                progress.advance(outcome)
        return results
    except BaseException:
        client.cancel(list(futures), force=True)
        raise
    finally:
        client.close()


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
