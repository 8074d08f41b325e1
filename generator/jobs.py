"""One department file through the whole pipeline to its output files: the unit of batch work.

Runs in a worker process for `render -j N`; returns a small picklable Outcome, never raises.
The formats of one file are rendered first and then published together as one set
(render/output.py); an OS error writing them is status "output" (exit status 4), a file that
takes longer than its time limit is status "timeout".
"""
from __future__ import annotations

import contextlib
import signal
import time
import traceback
from dataclasses import dataclass, field

from .exitcodes import Exit
from .pipeline import run
from .problems import Location, error

FORMATS = ("pdf", "xlsx", "html")


@dataclass
class Outcome:
    file: str
    status: str  # ok | error | unreadable | output | timeout | crash
    seconds: float = 0.0
    pages: int = 0
    outputs: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return int({"ok": Exit.OK, "error": Exit.DATA_ERRORS, "unreadable": Exit.UNREADABLE,
                    "output": Exit.OUTPUT_FAILED, "timeout": Exit.DATA_ERRORS}.get(self.status, Exit.INTERNAL))


class FileTimeout(BaseException):
    """The file's time limit ran out (a BaseException: no `except Exception` swallows it)."""


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise FileTimeout in this (main) thread after `seconds` of wall time."""
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum, frame):
        raise FileTimeout()

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def timed_out(path: str, seconds: float, limit: float) -> Outcome:
    return Outcome(path, "timeout", seconds, problems=[error(
        "超时", f"生成超过了每个文件的时间上限{limit:g}秒，已停止（其余文件照常生成）；"
        "文件可能过大，见 docs/refused-input.md 的规模上限", Location(path))])


def output_name(path: str) -> str | None:
    """The output stem a file would be written under, or None when it will not be written
    (it has errors): checked, not rendered (~0.02 s for a real file)."""
    from .render.output import output_stem
    try:
        result = run(path)
    except Exception:  # the real run reports it
        return None
    d = result.disclosure
    if not result.ok or d is None:
        return None
    return output_stem(d.department_code, d.department_name, d.year)


def check_file(path: str) -> Outcome:
    start = time.perf_counter()
    try:
        result = run(path)
    except Exception as exc:  # a bug, not the clerk's fault: one line, no traceback wall
        return _crash(path, start, exc)
    status = "ok" if result.ok else ("error" if result.readable else "unreadable")
    problems = list(result.problems)
    if result.budget is not None:  # characters no font draws: said at `check` already
        from .problems import sort_problems
        from .render.glyphs import check_glyphs
        problems = sort_problems(problems + [p for p in check_glyphs(result.budget, result.doc)
                                             if not p.is_error])
    return Outcome(path, status, time.perf_counter() - start, problems=problems)


def _crash(path: str, start: float, exc: Exception) -> Outcome:
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return Outcome(path, "crash", time.perf_counter() - start,
                   problems=[error("内部错误", f"生成时出错：{detail}（请把输入文件发给维护者）",
                                   Location(path))])


def render_file(path: str, out_dir: str, formats: tuple[str, ...] = ("pdf", "xlsx"),
                timeout: float | None = None) -> Outcome:
    start = time.perf_counter()
    try:
        with time_limit(timeout):
            return _render_file(path, out_dir, formats, start)
    except FileTimeout:
        return timed_out(path, time.perf_counter() - start, timeout or 0)


def _render_file(path: str, out_dir: str, formats: tuple[str, ...], start: float) -> Outcome:
    from .render.output import OutputError  # imported here: keeps `check` light
    try:
        result = run(path)
        if not result.ok:
            status = "error" if result.readable else "unreadable"
            return Outcome(path, status, time.perf_counter() - start, problems=result.problems)
        from .render.output import commit_set, output_stem
        d = result.disclosure
        assert d is not None  # result.ok
        problems = list(result.problems)
        if "pdf" in formats:
            from .render.glyphs import check_glyphs
            font_problems = check_glyphs(result.budget, result.doc)
            problems += font_problems
            if any(p.is_error for p in font_problems):
                return Outcome(path, "output", time.perf_counter() - start, problems=problems)
        stem = output_stem(d.department_code, d.department_name, d.year)
        # render every format first, then publish them as one set: a renderer failing on the
        # second format, a full disk or a kill must not leave a new PDF next to an old XLSX
        rendered = [(fmt, *_render(fmt, d)) for fmt in formats]
        pages = next((count for _, _, count in rendered if count), 0)
        written = commit_set(out_dir, stem, {fmt: data for fmt, data, _ in rendered})
        return Outcome(path, "ok", time.perf_counter() - start, pages,
                       [str(p) for p in written], problems)
    except OutputError as exc:
        return Outcome(path, "output", time.perf_counter() - start,
                       problems=[error("输出", str(exc), Location(path))])
    except Exception as exc:  # a bug, not the clerk's fault: report it without a traceback wall
        return _crash(path, start, exc)


def _render(fmt: str, disclosure) -> tuple[bytes, int]:
    """(bytes, PDF page count or 0) for one format."""
    if fmt == "pdf":
        from .render.pdf import render_pdf_pages
        return render_pdf_pages(disclosure)
    if fmt == "xlsx":
        from .render.xlsx import render_xlsx
        return render_xlsx(disclosure), 0
    from .render.html import render_html
    return render_html(disclosure).encode("utf-8"), 0


def render_stdout(path: str, fmt: str) -> Outcome:
    """`render -o -`: one format of one file to standard output (problems go to stderr)."""
    import sys
    start = time.perf_counter()
    try:
        result = run(path)
        if not result.ok:
            status = "error" if result.readable else "unreadable"
            return Outcome(path, status, time.perf_counter() - start, problems=result.problems)
        problems = list(result.problems)
        if fmt == "pdf":
            from .render.glyphs import check_glyphs
            problems += check_glyphs(result.budget, result.doc)
            if any(p.is_error for p in problems):
                return Outcome(path, "output", time.perf_counter() - start, problems=problems)
        data, pages = _render(fmt, result.disclosure)
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        except OSError as exc:
            from .render.output import describe_os_error
            return Outcome(path, "output", time.perf_counter() - start,
                           problems=problems + [error("输出", describe_os_error(exc, "标准输出"),
                                                      Location(path))])
        return Outcome(path, "ok", time.perf_counter() - start, pages, ["-"], problems)
    except Exception as exc:
        return _crash(path, start, exc)
