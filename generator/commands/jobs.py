"""One department file through the whole pipeline to its output files: the unit of batch work.

Runs in a worker process for `render -j N`; returns a small picklable Outcome, never raises.
The formats of one file are rendered first and then published together as one set
(render/output.py); an OS error writing them is status "output" (exit status 4), a file that
takes longer than its time limit is status "timeout".
"""
from __future__ import annotations

import contextlib
import functools
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TypeVar

from ..compute.tables import Disclosure
from .outcome import Outcome
from ..pipeline import Checked, Result, run
from ..problems import Location, Problem, error

FORMATS = ("pdf", "xlsx", "html")
# PDF variants (WeasyPrint's pdf_variant): archival PDF/A-3b, tagged PDF/UA-1 for screen readers.
# A variant stands in `formats` in place of "pdf" (so a batch passes it on unchanged) and is
# written as the .pdf.
PDF_VARIANTS = ("pdf/a-3b", "pdf/ua-1")


class FileTimeout(BaseException):
    """The file's time limit ran out (a BaseException: no `except Exception` swallows it)."""


_T = TypeVar("_T")


def limited(seconds: float | None, fn: Callable[[], _T]) -> _T:
    """fn(), or FileTimeout once `seconds` of wall time have passed: a SIGALRM in the main
    thread (time_limit); in another thread (a Dask worker runs its task in one) an asynchronous
    exception that can only ever be raised while fn runs (_limited_in_thread)."""
    if not seconds:
        return fn()
    if threading.current_thread() is threading.main_thread():
        running: list[FrameType] = []

        def body() -> _T:
            running.append(sys._getframe())
            return fn()
        with time_limit(seconds, lambda frame: bool(running) and _raisable(frame, running[0])):
            return body()
    return _limited_in_thread(seconds, fn)


def _raisable(frame: FrameType | None, body: FrameType) -> bool:
    """Whether FileTimeout may be raised in `frame`: it is `body` or called from it, and
    neither it nor a caller up to `body` is code an exception must not interrupt (_unsafe)."""
    while frame is not None:
        if frame is body:
            return True
        if frame.f_code.co_filename.startswith(_unsafe()):
            return False
        frame = frame.f_back
    return False


@contextlib.contextmanager
def time_limit(seconds: float | None,
               may_raise: Callable[[FrameType | None], bool] | None = None) -> Iterator[None]:
    """Raise FileTimeout in the main thread after `seconds` of wall time (SIGALRM); when
    `may_raise` says not in the frame the alarm interrupted, a millisecond later. Other
    threads: `limited`, which also covers the main thread."""
    if seconds and threading.current_thread() is not threading.main_thread():
        raise RuntimeError("time_limit works in the main thread only; use jobs.limited")
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        if may_raise is not None and not may_raise(frame):  # e.g. inside logging's lock
            signal.setitimer(signal.ITIMER_REAL, _ASYNC_RETRY, 0.5)
            return
        raise FileTimeout()

    previous = signal.signal(signal.SIGALRM, expired)
    # repeating: an exception raised while Python runs a finalizer (__del__, a GC callback) is
    # printed and dropped, so one alarm alone could be lost
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_ASYNC_REPEAT = 0.05  # seconds between two FileTimeouts raised in a thread that swallowed one
_ASYNC_RETRY = 0.001  # seconds before looking again when the thread was where none may be raised


@functools.cache
def _unsafe() -> tuple[str, ...]:
    """Where FileTimeout is not raised (the timer thread, or the alarm, looks again a moment later):
    the standard library's code that takes a lock and then enters its `try` — logging's module
    lock (left held, it stops every other thread that logs: in a Dask worker the event loop, so
    the worker answers nobody), threading, queue, weakref, import, contextlib's exits, futures,
    multiprocessing, asyncio. A raise there cannot be undone; fn's own code and WeasyPrint's
    are fair game."""
    import _weakrefset
    import asyncio
    import concurrent.futures
    import logging
    import multiprocessing
    import os
    import queue
    import weakref
    files = [threading.__file__, queue.__file__, weakref.__file__, _weakrefset.__file__,
             contextlib.__file__]
    folders = [os.path.dirname(m.__file__ or "") + os.sep
               for m in (logging, concurrent.futures, multiprocessing, asyncio)]
    return ("<frozen importlib", *files, *folders)


def _limited_in_thread(seconds: float, fn: Callable[[], _T]) -> _T:
    """fn() in this (non-main) thread, bounded by `seconds`: signals reach the main thread
    only, so a timer thread raises FileTimeout here through the C API's
    PyThreadState_SetAsyncExc (seen between bytecodes), again every 1/20 s until fn is left
    (one raised where it is swallowed — a finalizer, a callback — is raised again).

    The timer raises only while fn's frame is on this thread's stack. An asynchronous exception
    that escaped the guarded code, or a timer left running, would go on hitting whatever this
    thread runs next — in a Dask worker its task loop, which dies of it and leaves the worker
    connected but never running another task (issue 28: a batch waiting for ever) — or, once
    the thread is gone, a new thread given the same id. So: the timer never raises before fn
    starts or after it ends; leaving, this thread stops the timer in a loop that catches the
    one FileTimeout that may still have been on its way, and clears any left pending."""
    import ctypes
    target = threading.get_ident()
    left = threading.Event()
    running: list[FrameType] = []

    def body() -> _T:
        running.append(sys._getframe())
        return fn()

    def inside() -> bool:
        """fn runs, and not inside code an exception must not interrupt (_raisable)."""
        return _raisable(sys._current_frames().get(target), running[0])

    def fire() -> None:
        if left.wait(seconds):
            return
        while not left.is_set():
            if running and inside():
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target),
                                                           ctypes.py_object(FileTimeout))
                left.wait(_ASYNC_REPEAT)
            else:  # not yet, or not here: look again very soon
                left.wait(_ASYNC_RETRY)

    timer = threading.Thread(target=fire, name="budgetgen-time-limit", daemon=True)
    expired = False
    value: list[_T] = []
    try:
        timer.start()
        value.append(body())
    except FileTimeout:
        expired = True
    finally:
        while True:
            try:
                left.set()
                timer.join()
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), None)
                break
            except FileTimeout:  # raised on its way out of fn: the timer is stopped all the same
                expired = True
    if expired or not value:
        raise FileTimeout()
    return value[0]


def timed_out(path: str, seconds: float, limit: float) -> Outcome:
    return Outcome(path, "timeout", seconds, problems=[error(
        "超时", f"生成超过了每个文件的时间上限{limit:g}秒，已停止（其余文件照常生成）；"
        "文件可能过大，见 docs/refused-input.md 的规模上限", Location(path))])


def options(units: bool, layout: str | None, draft: bool = False) -> dict:
    """The options an output set depends on, for the record of unchanged inputs (cache.py)."""
    return {"units": units, "layout": layout} | ({"draft": True} if draft else {})


def publishable(result: Result, draft: bool) -> list[Problem]:
    """The problems that decide whether `render` writes: unfinished work is an error unless a
    draft is asked for."""
    if draft:
        return list(result.problems)
    from ..validate.unfinished import refuse_unfinished
    return refuse_unfinished(list(result.problems))


def unfinished(result: Result) -> bool:
    """Whether the file (or one of its 所属单位) still has open items (未完成)."""
    from ..validate.unfinished import is_unfinished
    return any(is_unfinished(p) for p in result.problems)


def output_names(path: str, units: bool = False, layout: str | None = None) -> list[tuple[str, str]]:
    """(output stem, source file) of everything a file would write (with `units`, its
    所属单位 too); none when it will not be written (it has errors): checked, not rendered."""
    from ..render.output import output_stem
    try:
        result = run(path, layout=layout)
    except Exception:  # the real run reports it
        return []
    if not result.ok:
        return []
    parts = [(path, result.disclosure)] + [(u.file, u.disclosure) for u in result.units if units]
    return [(output_stem(d.department_code, d.department_name, d.year), file)
            for file, d in parts if d is not None]


def check_file(path: str, layout: str | None = None) -> Outcome:
    start = time.perf_counter()
    try:
        result = run(path, layout=layout)
    except Exception as exc:  # a bug, not the clerk's fault: one line, no traceback wall
        return _crash(path, start, exc)
    status = "ok" if result.ok else ("error" if result.readable else "unreadable")
    problems = list(result.problems)
    if result.budget is not None:  # characters no font draws: said at `check` already
        from ..problems import sort_problems
        from ..render.glyphs import check_glyphs
        problems = sort_problems(problems + [p for p in check_glyphs(result.budget, result.doc)
                                             if not p.is_error])
    return Outcome(path, status, time.perf_counter() - start, problems=problems,
                   notes=_notes(result))


def _notes(result: Result) -> list[str]:
    if result.consolidation is None:
        return []
    from ..consolidate import explain
    from .report import summary
    return explain(result.file, result.consolidation,
                   result.figures.total if result.figures is not None else None,
                   {u.file: summary(u.problems) for u in result.units})


def _crash(path: str, start: float, exc: Exception) -> Outcome:
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return Outcome(path, "crash", time.perf_counter() - start,
                   problems=[error("内部错误", f"生成时出错：{detail}（请把输入文件发给维护者）",
                                   Location(path))],
                   detail="".join(traceback.format_exception(exc)))


def render_file(path: str, out_dir: str, formats: tuple[str, ...] = ("pdf", "xlsx"),
                units: bool = False, layout: str | None = None,
                timeout: float | None = None, skip_unchanged: bool = False,
                two_cores: bool = True, draft: bool = False) -> Outcome:
    """Render one file; with `units`, a department's 所属单位 too (each its 单位预算, each
    published as its own set); `layout` overrides department.edition (--layout); with
    `skip_unchanged`, a file whose inputs are unchanged since its outputs were written is
    skipped (cache.py); `timeout` bounds the wall time of the whole file; `two_cores`: a PDF
    may be laid out on two cores (render/parallel.py; a batch worker says False); `draft`: a
    file with unfinished work is rendered too, every page marked 草稿 (a finished file is
    rendered as it is, unmarked)."""
    start = time.perf_counter()

    def work() -> Outcome:
        if skip_unchanged:
            from .cache import skipped_outcome
            skipped = skipped_outcome(path, out_dir, formats, options(units, layout, draft))
            if skipped is not None:
                skipped.seconds = time.perf_counter() - start
                return skipped
        return _render_file(path, out_dir, formats, start, units, layout, two_cores, draft)
    try:
        return limited(timeout, work)
    except FileTimeout:
        return timed_out(path, time.perf_counter() - start, timeout or 0)


def _not_rendered(path: str, result: Result, start: float) -> Outcome:
    """The Outcome of a file that is not rendered: errors in its data, or not readable."""
    status = "error" if result.readable else "unreadable"
    return Outcome(path, status, time.perf_counter() - start, problems=result.problems)


def _render_file(path: str, out_dir: str, formats: tuple[str, ...], start: float,
                 units: bool = False, layout: str | None = None,
                 two_cores: bool = False, draft: bool = False) -> Outcome:
    from ..render.output import OutputError  # imported here: keeps `check` light
    try:
        if any(f == "pdf" or f in PDF_VARIANTS for f in formats):
            from ..render.glyphs import start_coverage
            start_coverage()  # fontconfig answers while the input is read and checked
        checked = _publishable_result(path, layout, start, draft)
        if isinstance(checked, Outcome):
            return checked
        result, problems, marked = checked
        from ..render.output import commit_set, output_stem
        parts = [(path, result.budget, result.doc, _drafted(result.disclosure, marked))] + \
            [(u.file, u.budget, u.doc, _drafted(u.disclosure, marked)) for u in result.units if units]
        if any(f == "pdf" or f in PDF_VARIANTS for f in formats):
            from ..render import pdf  # noqa: F401  imported while fc-list answers (start_coverage)
            from ..render.glyphs import check_glyphs
            font_problems = [p for _, b, doc, _ in parts if b is not None for p in check_glyphs(b, doc)]
            problems += [p for p in font_problems if p not in problems]
            if any(p.is_error for p in font_problems):
                return Outcome(path, "output", time.perf_counter() - start, problems=problems)
        # render every format of every part first, then publish each part's formats as one set:
        # a renderer failing on the second format, a full disk or a kill must not leave a new
        # PDF next to an old XLSX
        from .cache import part_lengths
        from ..render.pdflog import record_problem, weasyprint_records
        rendered = []
        hints = part_lengths(path, out_dir) if two_cores else {}
        lengths: dict[str, tuple[int, int]] = {}
        notes: list[str] = []  # how each PDF was laid out (`render --verbose`)
        with weasyprint_records() as records:  # what WeasyPrint logs becomes warnings
            for file, _, _, d in parts:
                assert d is not None  # every part of an ok result is computed
                stem = output_stem(d.department_code, d.department_name, d.year)
                files: list[tuple[str, bytes, int]] = []
                early: dict[str, bytes] = {}
                for fmt in formats:
                    if fmt in early:  # rendered on the other core while the PDF was joined
                        files.append((fmt, early[fmt], 0))
                        continue
                    others = [f for f in formats if f in ("xlsx", "html")] if fmt == "pdf" else []
                    data, pages, split, early = _render(fmt, d, two_cores, hints.get(stem), others,
                                                        notes)
                    files.append(("pdf" if fmt in PDF_VARIANTS else fmt, data, pages))
                    if split:
                        lengths[stem] = split
                rendered.append((file, stem, files))
        problems += [record_problem(r, path) for r in records]
        outcomes = []
        for file, stem, files in rendered:
            committed = commit_set(out_dir, stem, {fmt: data for fmt, data, _ in files})
            pages = next((count for _, _, count in files if count), 0)
            outcomes.append(Outcome(file, "ok", 0.0, pages, [str(p) for p in committed]))
        main, *subs = outcomes
        if any(f == "pdf" or f in PDF_VARIANTS for f in formats):
            # a missing 仿宋/黑体/楷体/宋体 face: say what the PDF used instead
            from ..render.fontcheck import font_warnings
            problems += font_warnings(path)
        written = [o for x in outcomes for o in x.outputs]
        from .cache import remember
        remember(path, out_dir, formats, written, main.pages, problems,
                 options(units, layout, draft), lengths)
        return Outcome(path, "ok", time.perf_counter() - start, main.pages,
                       written, problems, _notes(result) + notes, subs)
    except OutputError as exc:
        return Outcome(path, "output", time.perf_counter() - start,
                       problems=[error("输出", str(exc), Location(path))])
    except Exception as exc:  # a bug, not the clerk's fault: report it without a traceback wall
        return _crash(path, start, exc)


def _drafted(disclosure: Disclosure | None, draft: bool) -> Disclosure | None:
    """The disclosure marked as a draft (草稿 on every page) when `draft`."""
    if disclosure is None or not draft:
        return disclosure
    import dataclasses
    return dataclasses.replace(disclosure, draft=True)


def _render(fmt: str, disclosure: Disclosure, two_cores: bool = False,
            hint: tuple[int, int] | None = None, others: tuple[str, ...] | list[str] = (),
            notes: list[str] | None = None
            ) -> tuple[bytes, int, tuple[int, int] | None, dict[str, bytes]]:
    """(bytes, PDF page count or 0, the part lengths of a PDF laid out on two cores, the bytes
    of `others` when the other core rendered them meanwhile) for one format (a PDF variant is
    a PDF). `others` are formats that are not PDFs. How a PDF was laid out (and why not on two
    cores) is added to `notes` (`render --verbose`)."""
    if fmt == "pdf" or fmt in PDF_VARIANTS:
        from ..render.pdf import render_pdf_report
        meanwhile = (lambda: {f: _render(f, disclosure)[0] for f in others}) if others else None
        result = render_pdf_report(disclosure, fmt if fmt in PDF_VARIANTS else None,
                                   parallel=two_cores, hint=hint, meanwhile=meanwhile)
        if notes is not None and result.how:
            from ..render.output import output_stem
            stem = output_stem(disclosure.department_code, disclosure.department_name, disclosure.year)
            notes.append(f"{stem}：{result.how}")
        return result.data, result.pages, result.lengths, result.meanwhile or {}
    if fmt == "xlsx":
        from ..render.xlsx import render_xlsx
        return render_xlsx(disclosure), 0, None, {}
    from ..render.html import render_html
    return render_html(disclosure).encode("utf-8"), 0, None, {}


def render_stdout(path: str, fmt: str, layout: str | None = None, draft: bool = False,
                  timeout: float | None = None) -> Outcome:
    """`render -o -`: one format of one file to standard output (problems go to stderr)."""
    start = time.perf_counter()
    try:
        return limited(timeout, lambda: _render_stdout(path, fmt, layout, start, draft))
    except FileTimeout:
        return timed_out(path, time.perf_counter() - start, timeout or 0)


def _publishable_result(path: str, layout: str | None, start: float,
                        draft: bool) -> Outcome | tuple[Checked, list, bool]:
    """The checked file, its problems and whether it is marked 草稿 — or the Outcome of a file
    that is not rendered (errors, or unfinished without --draft). A finished file is never
    marked 草稿."""
    result = run(path, layout=layout)
    if not isinstance(result, Checked) or not result.ok:
        return _not_rendered(path, result, start)
    problems = publishable(result, draft)
    if any(p.is_error for p in problems):  # unfinished: not published
        return Outcome(path, "error", time.perf_counter() - start, problems=problems)
    return result, problems, draft and unfinished(result)


def _render_stdout(path: str, fmt: str, layout: str | None, start: float, draft: bool) -> Outcome:
    import sys
    try:
        checked = _publishable_result(path, layout, start, draft)
        if isinstance(checked, Outcome):
            return checked
        result, problems, draft = checked
        if fmt == "pdf" or fmt in PDF_VARIANTS:
            from ..render.glyphs import check_glyphs
            problems += check_glyphs(result.budget, result.doc)
            if any(p.is_error for p in problems):
                return Outcome(path, "output", time.perf_counter() - start, problems=problems)
        from ..render.pdflog import record_problem, weasyprint_records
        with weasyprint_records() as records:  # what WeasyPrint logs becomes warnings
            shown = _drafted(result.disclosure, draft)
            assert shown is not None  # an ok result is computed
            data, pages, _, _ = _render(fmt, shown, two_cores=True)
        problems += [record_problem(r, path) for r in records]
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # `render -o - | head`: the reader stopped reading, quietly
            import os
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            return Outcome(path, "ok", time.perf_counter() - start, pages, ["-"], problems)
        except OSError as exc:
            from ..render.output import describe_os_error
            return Outcome(path, "output", time.perf_counter() - start,
                           problems=problems + [error("输出", describe_os_error(exc, "标准输出"),
                                                      Location(path))])
        return Outcome(path, "ok", time.perf_counter() - start, pages, ["-"], problems)
    except Exception as exc:
        return _crash(path, start, exc)
