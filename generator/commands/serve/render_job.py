"""The PDF and XLSX rendered from the page, in a background thread, one job per file.

The job renders the page's current text (saved or not) through the same pipeline and the same
renderers as `budgetgen render`, and publishes the formats as one set with the existing atomic
set writer (render/output.py commit_set): until the new set is complete the last good one stays
in place and downloadable.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from ...pipeline import Checked, run_text
from ...problems import Location, error
from .session import RenderJob, Session

_RENDER_LOCK = threading.Lock()  # one render at a time: WeasyPrint is heavy on a small machine


def start(session: Session, out: Path, formats: tuple[str, ...]) -> None:
    with session.lock:
        if session.job.status == "running":
            return
        previous = list(session.job.outputs)
        session.job = RenderJob("running", "正在检查…", time.monotonic(), previous)
        text = session.text
    threading.Thread(target=_run, args=(session, session.job, text, out, formats), daemon=True).start()


def _run(session: Session, job: RenderJob, text: str, out: Path, formats: tuple[str, ...]) -> None:
    from ...render.output import OutputError, commit_set, output_stem
    from ..jobs import _render
    try:
        with _RENDER_LOCK:
            result = run_text(text, str(session.path))
            if not isinstance(result, Checked) or not result.ok:
                job.problems = [p for p in result.problems if p.is_error]
                job.status, job.message = "failed", f"文件有{len(job.problems)}处错误，未生成（改正后再试）"
                return
            files: dict[str, bytes] = {}
            d = result.disclosure
            for fmt in formats:
                job.message = f"正在生成 {fmt.upper()}…"
                if fmt == "pdf":
                    from ...render.glyphs import check_glyphs
                    from ...render.pdflog import record_problem, weasyprint_records
                    glyphs = check_glyphs(result.budget, result.doc)
                    if any(p.is_error for p in glyphs):
                        job.problems = glyphs
                        job.status, job.message = "failed", "没有能显示这些文字的字体，未生成"
                        return
                    with weasyprint_records() as records:
                        data, _, _, _ = _render(fmt, d)
                    job.problems = glyphs + [record_problem(r, str(session.path)) for r in records]
                else:
                    data, _, _, _ = _render(fmt, d)
                files[fmt] = data
            job.message = "正在写出…"
            stem = output_stem(d.department_code, d.department_name, d.year)
            written = commit_set(out, stem, files)
            job.outputs = [str(p) for p in written]
            seconds = time.monotonic() - job.started
            job.status, job.message = "done", f"已生成 {'、'.join(p.name for p in written)}（{seconds:.1f}秒）"
    except OutputError as exc:
        job.problems = [error("输出", str(exc), Location(str(session.path)))]
        job.status, job.message = "failed", f"未能写出：{exc}"
    except Exception as exc:  # a bug: say so on the page instead of dying silently
        job.status, job.message = "failed", f"生成时出现内部错误：{type(exc).__name__}: {exc}"
