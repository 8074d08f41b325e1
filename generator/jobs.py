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
# PDF variants (WeasyPrint's pdf_variant): archival PDF/A-3b, tagged PDF/UA-1 for screen readers.
# A variant stands in `formats` in place of "pdf" (so a batch passes it on unchanged) and is
# written as the .pdf.
PDF_VARIANTS = ("pdf/a-3b", "pdf/ua-1")


@dataclass
class Outcome:
    file: str
    status: str  # ok | error | unreadable | crash
    seconds: float = 0.0
    pages: int = 0
    outputs: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # what `check --verbose` adds (所属单位, 内部往来抵消)
    units: list = field(default_factory=list)  # the 所属单位 rendered with --units, one Outcome each

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "skipped": 0, "error": 1, "unreadable": 2}.get(self.status, 3)


def check_file(path: str, layout: str | None = None) -> Outcome:
    start = time.perf_counter()
    try:
        result = run(path, layout=layout)
    except Exception as exc:  # a bug, not the clerk's fault: one line, no traceback wall
        return _crash(path, start, exc)
    status = "ok" if result.ok else ("error" if result.readable else "unreadable")
    return Outcome(path, status, time.perf_counter() - start, problems=result.problems,
                   notes=_notes(result))


def _notes(result) -> list[str]:
    if result.consolidation is None:
        return []
    from .consolidate import explain
    from .report import summary
    return explain(result.file, result.consolidation,
                   result.figures.total if result.figures is not None else None,
                   {u.file: summary(u.problems) for u in result.units})


def _crash(path: str, start: float, exc: Exception) -> Outcome:
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return Outcome(path, "crash", time.perf_counter() - start,
                   problems=[error("内部错误", f"生成时出错：{detail}（请把输入文件发给维护者）",
                                   Location(path))])


def render_file(path: str, out_dir: str, formats: tuple[str, ...] = ("pdf", "xlsx"),
                units: bool = False, layout: str | None = None,
                skip_unchanged: bool = False) -> Outcome:
    """Render one file; with `units`, a department's 所属单位 too (each its 单位预算);
    `layout` overrides department.edition (--layout); with `skip_unchanged`, a file whose
    inputs are unchanged since its outputs were written is skipped (cache.py)."""
    start = time.perf_counter()
    options = {"units": units, "layout": layout}
    try:
        if skip_unchanged:
            from .cache import skipped_outcome
            skipped = skipped_outcome(path, out_dir, formats, options)
            if skipped is not None:
                skipped.seconds = time.perf_counter() - start
                return skipped
        result = run(path, layout=layout)
        if not result.ok:
            status = "error" if result.readable else "unreadable"
            return Outcome(path, status, time.perf_counter() - start, problems=result.problems)
        from .render.output import atomic_write, output_stem  # imported here: keeps `check` light
        target = Path(out_dir)
        parts = [(path, result.disclosure)] + [(u.file, u.disclosure) for u in result.units if units]
        # render every format first, then write: a renderer failing on the second format must
        # not leave a new PDF next to last run's XLSX
        from .render.pdflog import record_problem, weasyprint_records
        rendered = []
        with weasyprint_records() as records:  # what WeasyPrint logs becomes warnings
            for file, d in parts:
                assert d is not None  # every part of an ok result is computed
                stem = output_stem(d.department_code, d.department_name, d.year)
                rendered.append((file, [(target / f"{stem}.{'pdf' if fmt in PDF_VARIANTS else fmt}",
                                         *_render(fmt, d)) for fmt in formats]))
        outcomes = []
        for file, files in rendered:
            outputs, pages = [], 0
            for dest, data, count in files:
                pages = count or pages
                atomic_write(dest, data)
                outputs.append(str(dest))
            outcomes.append(Outcome(file, "ok", 0.0, pages, outputs))
        main, *subs = outcomes
        problems = list(result.problems) + [record_problem(r, path) for r in records]
        if any(f == "pdf" or f in PDF_VARIANTS for f in formats):
            # a missing 仿宋/黑体/楷体/宋体 face: say what the PDF used instead
            from .render.fontcheck import font_warnings
            problems += font_warnings(path)
        written = [o for x in outcomes for o in x.outputs]
        from .cache import remember
        remember(path, out_dir, formats, written, main.pages, problems, options)
        return Outcome(path, "ok", time.perf_counter() - start, main.pages,
                       written, problems, _notes(result), subs)
    except Exception as exc:  # a bug, not the clerk's fault: report it without a traceback wall
        return _crash(path, start, exc)


def _render(fmt: str, disclosure) -> tuple[bytes, int]:
    """(bytes, PDF page count or 0) for one format (a PDF variant is a PDF)."""
    if fmt == "pdf" or fmt in PDF_VARIANTS:
        from .render.pdf import render_pdf_pages
        return render_pdf_pages(disclosure, fmt if fmt in PDF_VARIANTS else None)
    if fmt == "xlsx":
        from .render.xlsx import render_xlsx
        return render_xlsx(disclosure), 0
    from .render.html import render_html
    return render_html(disclosure).encode("utf-8"), 0
