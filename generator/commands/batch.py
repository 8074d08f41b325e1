"""Batch rendering: many department files, worker processes, a progress bar and one summary.

`render_batch` is what `budgetgen render a.yaml b.yaml … -j N` runs. Each file is one
`jobs.render_file` call; it returns a small picklable Outcome and never raises, so one bad file
never stops the others. A worker that dies outright (killed, out of memory, a crash in a native
library) breaks the pool: the files it left unfinished are then retried one by one, each in a
fresh process, so only the file that really kills its worker is reported as 内部错误.

Start-up is kept cheap: this module imports only the standard library at import time, and the
worker function imports the pipeline on first use. On Linux the pool forks after importing the
pipeline and the needed renderers once in the parent, so no worker re-imports pydantic or
WeasyPrint (measured, 4 copies of the 524 example → PDF + XLSX on 2 cores: -j 1 14.3–14.9 s;
-j 2 fork 7.3–7.4 s, forkserver 7.9–14.1 s, spawn 12.2–14.6 s). All workers are started before
the progress bar's refresh thread, so nothing is forked while another thread runs. Elsewhere
the platform default ('spawn') is used; everything a worker needs is importable at module level.

Faults: two files that would write the same output (same department code and year) are both
refused before anything is written. Every file has a time limit (`timeout`, enforced in the
worker with SIGALRM), so one file cannot stall the rest. Workers ask the kernel to kill them
when the batch process dies (PR_SET_PDEATHSIG), so a SIGTERM or SIGKILL of the batch leaves no
worker behind; a worker whose parent is already gone when it starts exits at once. When no
worker can be started at all (fork or spawn failing: EAGAIN under RLIMIT_NPROC, ENOMEM), the
files are rendered one by one in the batch process; a retry that cannot get its fresh process
is rendered here too.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
import unicodedata
from typing import Any
from pathlib import Path
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from .outcome import crashed as _crashed  # light: the problems and exit statuses only

STATUS_LABELS = {"ok": "通过", "skipped": "未变化，已跳过", "error": "有错误", "unreadable": "无法读取",
                 "output": "无法写入", "timeout": "超时", "crash": "内部错误"}
DEFAULT_TIMEOUT = 600.0  # seconds per file; the largest file within the limits takes ~2 minutes
_PR_SET_PDEATHSIG = 1


def _options(units: bool, layout: str | None, draft: bool = False) -> dict:
    from .jobs import options  # imported here: module import stays cheap for 'spawn'
    return options(units, layout, draft)


CPU_GRACE = 30.0  # seconds of CPU beyond the time limit before the kernel stops a worker
_in_worker = False


def _work(path: str, out_dir: str, formats: tuple[str, ...], layout: str | None = None,
          timeout: float | None = None, draft: bool = False):
    """Runs in a worker: one file through the pipeline to its outputs (never raises)."""
    from .jobs import render_file  # imported here: module import stays cheap for 'spawn'
    if _in_worker:
        _cpu_backstop(timeout)
    return render_file(path, out_dir, formats, layout=layout, timeout=timeout,
                       two_cores=not _in_worker, draft=draft)


def _args(path: str, out_dir: str, formats: tuple[str, ...], layout: str | None) -> tuple:
    """_work's arguments; the layout only when --layout was given."""
    return (path, out_dir, formats) + ((layout,) if layout else ())


def _kwargs(timeout: float | None, draft: bool = False) -> dict:
    """_work's keyword arguments: the time limit when there is one, draft when asked."""
    return ({"timeout": timeout} if timeout else {}) | ({"draft": True} if draft else {})


def _cpu_backstop(timeout: float | None) -> None:
    """In a worker: the time limit is a SIGALRM, which Python handles only between bytecodes.
    A loop inside native code would not see it, so the worker's CPU time is capped too
    (RLIMIT_CPU, soft limit only): past it the kernel ends the worker, the batch reports that
    file and goes on with the others."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return
    if not timeout:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    want = int(usage.ru_utime + usage.ru_stime + timeout + CPU_GRACE) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY and want > hard:
        return
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (want, hard))
    except (ValueError, OSError):  # pragma: no cover
        pass


def _die_with_parent(parent: int) -> None:
    """Worker initializer: the kernel SIGKILLs this worker when the batch process ends."""
    import signal
    global _in_worker
    _in_worker = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    import gc
    weasy: Any = sys.modules.get("generator.render.weasy")  # imported before a fork (_executor)
    if weasy is not None and gc.get_freeze_count() > 0:
        weasy.BASE_FROZEN = True  # its collections leave the frozen modules alone


def _work_units(path: str, out_dir: str, formats: tuple[str, ...], layout: str | None = None,
                timeout: float | None = None, draft: bool = False):
    """`_work` for `render --units`: a department's 所属单位 are rendered too."""
    from .jobs import render_file
    if _in_worker:
        _cpu_backstop(timeout)
    return render_file(path, out_dir, formats, units=True, layout=layout, timeout=timeout,
                       two_cores=not _in_worker, draft=draft)


def default_start_method() -> str | None:
    """'fork' on Linux (no re-import in the workers); the platform default elsewhere."""
    if sys.platform.startswith("linux"):
        return "fork"
    return None


# --------------------------------------------------------------------------- progress


class _Progress:
    """A rich progress bar on a terminal (files that fail are named above it as they finish);
    otherwise — a log, a pipe, CI — one plain line per finished file and nothing else."""

    def __init__(self, total: int, stream=None, on_result=None):
        self.total = total
        self.done = 0
        self.on_result = on_result  # called with every outcome as it arrives (the manifest)
        self.stream = stream or sys.stderr
        self.bar: Any = None
        self.task: Any = None
        isatty = getattr(self.stream, "isatty", None)
        if isatty is not None and isatty():
            try:
                from rich.console import Console
                from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn,
                                           TextColumn, TimeElapsedColumn)
            except ImportError:  # pragma: no cover - rich is a dependency of typer
                return
            self.bar = Progress(SpinnerColumn(), TextColumn("生成中"), BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(),
                                TextColumn("{task.description}"),
                                console=Console(file=self.stream), transient=True)

    def __enter__(self):
        if self.bar is not None:
            self.bar.start()
            self.task = self.bar.add_task("", total=self.total)
        return self

    def advance(self, outcome) -> None:
        self.done += 1
        if self.on_result is not None:
            self.on_result(outcome)
        line = (f"[{self.done}/{self.total}] {outcome.file}：{STATUS_LABELS.get(outcome.status, outcome.status)}"
                f"（{outcome.seconds:.2f}秒）")
        if self.bar is not None:
            if outcome.status != "ok":  # on a terminal only the failures scroll above the bar
                self.bar.console.print(line, markup=False, highlight=False)
            self.bar.update(self.task, advance=1, description=os.path.basename(outcome.file))
        else:
            print(line, file=self.stream, flush=True)

    @contextlib.contextmanager
    def paused(self):
        if self.bar is None:
            yield
            return
        self.bar.stop()
        try:
            yield
        finally:
            self.bar.start()

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


# --------------------------------------------------------------------------- running


class _Quiet:
    """A progress that shows nothing (a retried file is counted by the caller)."""

    def advance(self, outcome) -> None:
        pass


def _run_serial(files, out_dir, formats, progress, units=False, layout=None, timeout=None,
                draft=False) -> dict:
    results = {}
    for i, path in enumerate(files):
        start = time.perf_counter()
        try:
            outcome = (_work_units if units else _work)(*_args(path, out_dir, formats, layout),
                                                        **_kwargs(timeout, draft))
        except Exception as exc:  # render_file never raises; a bug here must not stop the batch
            outcome = _crashed(path, time.perf_counter() - start, f"{type(exc).__name__}: {exc}",
                               died=False, exc=exc)
        results[i] = outcome
        progress.advance(outcome)
    return results


_RENDERERS = {"pdf": "generator.render.pdf", "xlsx": "generator.render.xlsx",
              "html": "generator.render.html"}


def _preload(formats) -> list[str]:
    """Modules every worker needs. With 'fork' they are imported once here, before the workers
    start, so no worker pays for importing pydantic, WeasyPrint or XlsxWriter again."""
    names = ["generator.commands.jobs"] + [_RENDERERS[f] for f in formats if f in _RENDERERS]
    return names


def _executor(workers: int, method: str | None, formats=()) -> ProcessPoolExecutor:
    context = multiprocessing.get_context(method) if method else None
    names = _preload(formats)
    if method == "fork":
        import gc
        import importlib
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # a broken renderer is reported per file by render_file
                pass
        gc.freeze()  # the imported modules: never rescanned (nor their pages copied) by workers
    elif method == "forkserver" and context is not None:
        context.set_forkserver_preload(names)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=_die_with_parent, initargs=(os.getpid(),))


def _run_pool(files, out_dir, formats, workers, method, progress, units=False, layout=None,
              timeout=None, draft=False) -> dict:
    results: dict = {}
    started = time.perf_counter()
    work = _work_units if units else _work
    broken: list[int] = []
    pool: ProcessPoolExecutor | None = None
    try:
        pool = _executor(workers, method, formats)
        # Submit everything before the progress bar starts its thread: with 'fork' the pool
        # starts all its workers at the first submit, while this process is single-threaded.
        futures: dict[Future, int] = {pool.submit(work, *_args(path, out_dir, formats, layout),
                                                  **_kwargs(timeout, draft)): i
                                      for i, path in enumerate(files)}
    except OSError:  # no worker could be started (EAGAIN under RLIMIT_NPROC, ENOMEM): one core
        for child in multiprocessing.active_children():  # the workers that did start, idle
            child.terminate()
            child.join()
        if pool is not None:
            with contextlib.suppress(Exception):
                pool.shutdown(wait=False, cancel_futures=True)
        with progress:
            return _run_serial(files, out_dir, formats, progress, units, layout, timeout, draft)
    try:
        with progress:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = futures[fut]
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool:
                        broken.append(i)
                        continue
                    except Exception as exc:  # e.g. an Outcome that failed to unpickle
                        outcome = _crashed(files[i], time.perf_counter() - started,
                                           f"{type(exc).__name__}: {exc}", died=False)
                    results[i] = outcome
                    progress.advance(outcome)
            pool.shutdown(wait=True)
            # A dead worker: retry its unfinished files one at a time, each in a fresh process,
            # so that only the file which really kills its worker is reported. The bar's thread
            # is stopped meanwhile: nothing is forked while another thread runs.
            for i in sorted(broken):
                start = time.perf_counter()
                with progress.paused(), _executor(1, method, formats) as single:
                    try:
                        outcome = single.submit(work, *_args(files[i], out_dir, formats, layout),
                                                **_kwargs(timeout, draft)).result()
                    except BrokenProcessPool:
                        outcome = _crashed(files[i], time.perf_counter() - start, "进程被终止")
                    except OSError:  # no fresh process to be had: this process renders it
                        outcome = _run_serial([files[i]], out_dir, formats, _Quiet(), units,
                                              layout, timeout, draft)[0]
                    except Exception as exc:
                        outcome = _crashed(files[i], time.perf_counter() - start,
                                           f"{type(exc).__name__}: {exc}", died=False)
                results[i] = outcome
                progress.advance(outcome)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


def same_output(files: list[str], units: bool = False, layout: str | None = None,
                known: dict | None = None) -> dict:
    """{index: Outcome} for files that would write the same output as another input file of
    the batch (same code and year; compared as a case-insensitive file system would); with
    `units`, the 所属单位's outputs count too. The same file reached twice is not a clash.
    `known` gives the (stem, source) pairs of files already known (unchanged, skipped)."""
    from .jobs import output_names
    from .outcome import Outcome
    from ..problems import Location, error
    from ..render.output import same_name_key
    groups: dict[str, dict[int, str]] = {}  # name → {input index: the source file writing it}
    for i, path in enumerate(files):
        names = known[i] if known and i in known else output_names(path, units, layout)
        for stem, source in names:
            groups.setdefault(same_name_key(stem), {}).setdefault(i, source)
    refused: dict = {}
    for key, members in groups.items():
        sources = {os.path.realpath(src) for src in members.values()}
        if len(sources) < 2:
            continue
        for i, source in members.items():
            others = "、".join(sorted({src for j, src in members.items()
                                      if os.path.realpath(src) != os.path.realpath(source)}))
            problem = error("输出重名", f"{source} 与 {others} 会生成同一个输出（部门编码与年度相同：{key}）："
                            "都不生成，以免一个覆盖另一个；请删去重复的文件，或改正部门编码、年度",
                            Location(files[i]))
            if i in refused:
                refused[i].problems.append(problem)
            else:
                refused[i] = Outcome(files[i], "error", problems=[problem])
    return refused


def render_batch(files, out_dir, formats=("pdf", "xlsx"), jobs: int = 1, *,
                 start_method: str | None = "auto", stream=None, progress_stream=None,
                 units: bool = False, layout: str | None = None, force: bool = False,
                 timeout: float | None = DEFAULT_TIMEOUT, draft: bool = False,
                 executor: str | None = None, send_back: bool = False, manifest=None) -> list:
    """Render every file (`draft`: unfinished files too, marked 草稿); print each file's
    problems and a summary table; return the Outcomes in the order of `files`. jobs == 1 runs
    in this process; `executor`, a Dask scheduler's address, runs them on that cluster instead
    (dask_batch.py; `send_back`: results are written here). The caller sets the exit status.
    Files unchanged since their outputs were written are skipped (cache.py) unless `force`;
    files that would write the same output as another are refused, skipped ones included.
    Every outcome is appended to `manifest` (manifest.Manifest) as it arrives."""
    files = [str(f) for f in files]
    formats = tuple(formats)
    if start_method == "auto":
        start_method = default_start_method()
    skipped = {} if force else _skipped(files, out_dir, formats, _options(units, layout, draft))
    known = {i: [(_stem_of(o, out_dir), files[i]) for o in outcome.outputs]
             for i, outcome in skipped.items()}
    refused = same_output(files, units, layout, known)
    for i in refused:
        skipped.pop(i, None)
    todo = [i for i in range(len(files)) if i not in refused and i not in skipped]
    rest = [files[i] for i in todo]
    workers = max(1, min(int(jobs or 1), len(rest)))
    if manifest is not None:
        for i in sorted({**refused, **skipped}):
            manifest.add(refused.get(i) or skipped[i])
    progress = _Progress(len(rest), progress_stream, manifest.add if manifest is not None else None)
    if not rest:
        ran = {}
    elif executor:
        from .dask_batch import run_dask
        ran = run_dask(executor, rest, out_dir, formats, progress, units, layout, timeout, send_back,
                       draft)
    elif workers == 1:
        with progress:
            ran = _run_serial(rest, out_dir, formats, progress, units, layout, timeout, draft)
    else:
        ran = _run_pool(rest, out_dir, formats, workers, start_method, progress, units, layout, timeout,
                        draft)
    results = dict(refused)
    results.update(skipped)
    results.update({todo[k]: outcome for k, outcome in ran.items()})
    outcomes = [results[i] for i in range(len(files))]
    print_report(outcomes, out_dir, stream)
    return outcomes


def _stem_of(output: str, out_dir: str) -> str:
    """The output name of a written file: its department folder (out/<stem>/<stem>.pdf)."""
    path = Path(output)
    return path.parent.name if path.parent != Path(out_dir) else path.stem


def _skipped(files, out_dir, formats, options) -> dict:
    from .cache import skipped_outcome
    found = {}
    for i, path in enumerate(files):
        start = time.perf_counter()
        outcome = skipped_outcome(path, out_dir, formats, options)
        if outcome is not None:
            outcome.seconds = time.perf_counter() - start
            found[i] = outcome
    return found


# --------------------------------------------------------------------------- report


def _cells(text: str) -> int:
    """Display width in a terminal: CJK characters take two cells."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(0, width - _cells(text))
    return space + text if right else text + space


def summary_table(outcomes) -> str:
    """Plain aligned text: 文件, 状态, 页数, 用时(秒) — readable in a terminal, a log or an e-mail."""
    head = ("文件", "状态", "页数", "用时(秒)")
    rows = []
    for o in outcomes:
        rows.append((o.file, STATUS_LABELS.get(o.status, o.status), str(o.pages) if o.pages else "-",
                     f"{o.seconds:.2f}"))
        rows += [(f"  └ {u.file}（单位预算）", STATUS_LABELS.get(u.status, u.status),
                  str(u.pages) if u.pages else "-", "") for u in getattr(o, "units", ())]
    widths = [max(_cells(r[c]) for r in rows + [head]) for c in range(4)]
    right = (False, False, True, True)

    def line(cells) -> str:
        return "  ".join(_pad(c, w, r) for c, w, r in zip(cells, widths, right)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(head), rule] + [line(r) for r in rows])


def print_report(outcomes, out_dir, stream=None) -> None:
    from .report import format_problem, summary
    out = stream or sys.stdout

    def say(text: str = "") -> None:
        print(text, file=out)

    for o in outcomes:
        if not o.problems:
            continue
        for p in o.problems:
            say(format_problem(p))
        tail = {"unreadable": "文件无法读取", "output": "输出无法写入",
                "crash": "生成时出现内部错误"}.get(o.status) or summary(o.problems)
        say(f"{o.file}：{tail}")
        say()
    say(summary_table(outcomes))
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    parts = [f"{STATUS_LABELS[s]}{counts[s]}个" for s in STATUS_LABELS if counts.get(s)]
    written = [path for o in outcomes if o.status != "skipped" for path in o.outputs]
    if written:
        say()
        say("已生成：")
        for path in written:
            say(f"  {path}")
    say(f"共{len(outcomes)}个文件：{'，'.join(parts)}；已生成{len(written)}个文件，在 {out_dir}")
    out.flush()
