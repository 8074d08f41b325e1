"""One department file through the whole pipeline to its output files: the unit of batch work.

Runs in a worker process for `render -j N`; returns a small picklable Outcome, never raises.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .pipeline import run
from .problems import Location, error

FORMATS = ("pdf", "xlsx", "html")


@dataclass
class Outcome:
    file: str
    status: str  # ok | error | unreadable | crash
    seconds: float = 0.0
    pages: int = 0
    outputs: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "skipped": 0, "error": 1, "unreadable": 2}.get(self.status, 3)


def check_file(path: str) -> Outcome:
    start = time.perf_counter()
    try:
        result = run(path)
    except Exception as exc:  # a bug, not the clerk's fault: one line, no traceback wall
        return _crash(path, start, exc)
    status = "ok" if result.ok else ("error" if result.readable else "unreadable")
    return Outcome(path, status, time.perf_counter() - start, problems=result.problems)


def _crash(path: str, start: float, exc: Exception) -> Outcome:
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return Outcome(path, "crash", time.perf_counter() - start,
                   problems=[error("内部错误", f"生成时出错：{detail}（请把输入文件发给维护者）",
                                   Location(path))])


def render_file(path: str, out_dir: str, formats: tuple[str, ...] = ("pdf", "xlsx"),
                skip_unchanged: bool = False) -> Outcome:
    start = time.perf_counter()
    try:
        if skip_unchanged:  # inputs unchanged since the outputs were written (cache.py)
            from .cache import skipped_outcome
            skipped = skipped_outcome(path, out_dir, formats)
            if skipped is not None:
                skipped.seconds = time.perf_counter() - start
                return skipped
        result = run(path)
        if not result.ok:
            status = "error" if result.readable else "unreadable"
            return Outcome(path, status, time.perf_counter() - start, problems=result.problems)
        from .render.output import atomic_write, output_stem  # imported here: keeps `check` light
        d = result.disclosure
        stem = output_stem(d.department_code, d.department_name, d.year)
        target = Path(out_dir)
        # render every format first, then write: a renderer failing on the second format must
        # not leave a new PDF next to last run's XLSX
        from .render.pdflog import record_problem, weasyprint_records
        with weasyprint_records() as records:  # what WeasyPrint logs becomes warnings
            rendered = [(fmt, *_render(fmt, d)) for fmt in formats]
        outputs, pages = [], 0
        problems = list(result.problems) + [record_problem(r, path) for r in records]
        for fmt, data, count in rendered:
            pages = count or pages
            dest = target / f"{stem}.{fmt}"
            atomic_write(dest, data)
            outputs.append(str(dest))
        from .cache import remember
        remember(path, out_dir, formats, outputs, pages, problems)
        return Outcome(path, "ok", time.perf_counter() - start, pages, outputs, problems)
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
