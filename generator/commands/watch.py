"""`budgetgen watch dept.yaml`: a warm preview while the clerk edits.

One process stays alive (its imports paid once): on every save of the department file (or a
unit file it names) it checks the file again, prints every problem with its line, and rewrites
the HTML preview (OUT/<stem>.html, well under a second for the 2025 example). The PDF and the
workbook follow when the clerk pauses (no save for --pause seconds) or presses Enter. Ctrl-C
stops. Saves are noticed by polling the files' size, time and content (no extra dependency,
and editors that replace the file on save are seen too).
"""
from __future__ import annotations

import hashlib
import select
import sys
import time
from pathlib import Path

import typer


def _say(text: str) -> None:
    print(text, flush=True)


def _state(paths: list[Path]) -> tuple:
    """What a save changes: each file's content hash (None when it cannot be read)."""
    out: list[str | None] = []
    for p in paths:
        try:
            out.append(hashlib.sha256(p.read_bytes()).hexdigest())
        except OSError:
            out.append(None)
    return tuple(out)


def _watched(path: Path) -> list[Path]:
    from .cache import _NAMED_YAML
    paths = [path]
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return paths
    paths += [path.parent / n for n in sorted(set(_NAMED_YAML.findall(text)))
              if (path.parent / n).is_file()]
    return paths


def _enter_pressed() -> bool:
    """True when the clerk pressed Enter (a terminal on stdin only)."""
    try:
        if not sys.stdin.isatty():
            return False
        ready, _, _ = select.select([sys.stdin], [], [], 0)
    except (OSError, ValueError):
        return False
    if ready:
        sys.stdin.readline()
        return True
    return False


class Preview:
    """The kept-alive renderer: check + HTML on each save, PDF and XLSX on request."""

    def __init__(self, path: Path, out: Path, formats: tuple[str, ...]) -> None:
        self.path, self.out, self.formats = path, out, formats
        self.ok = False
        self.unfinished = False  # open items: the PDF and workbook are drafts, marked 草稿

    def preview(self) -> bool:
        """Check the file and rewrite the HTML preview; print problems. True when consistent."""
        from ..pipeline import run
        from ..render.html import render_html
        from ..render.output import atomic_write, output_stem
        from .report import format_problem, summary
        start = time.perf_counter()
        result = run(self.path)
        stamp = time.strftime("%H:%M:%S")
        _say(f"—— {stamp} {self.path}")
        for p in result.problems:
            _say(format_problem(p))
        if not result.ok or result.disclosure is None:
            tail = summary(result.problems) if result.readable else "文件无法读取"
            _say(f"{self.path}：{tail}；预览未更新")
            self.ok = False
            return False
        from ..validate.unfinished import is_unfinished
        self.unfinished = any(is_unfinished(p) for p in result.problems)
        d = result.disclosure
        if self.unfinished:
            import dataclasses
            d = dataclasses.replace(d, draft=True)
        dest = self.out / f"{output_stem(d.department_code, d.department_name, d.year)}.html"
        atomic_write(dest, render_html(d).encode("utf-8"))
        _say(f"{self.path}：{summary(result.problems)}；已更新预览 {dest}"
             f"（{time.perf_counter() - start:.2f}秒）")
        self.ok = True
        return True

    def full(self, force: bool = False) -> None:
        """The PDF and the workbook (skipped when unchanged since they were written)."""
        from .jobs import render_file
        from .report import format_problem
        if not self.formats:
            return
        _say(f"正在生成 {', '.join(f.upper() for f in self.formats)} …")
        outcome = render_file(str(self.path), str(self.out), self.formats,
                              skip_unchanged=not force, draft=self.unfinished)
        if outcome.status == "skipped":
            from .cache import SKIPPED
            _say(f"{self.path}：{SKIPPED}")
            return
        if outcome.status != "ok":
            for p in outcome.problems:
                _say(format_problem(p))
            _say(f"{self.path}：未能生成")
            return
        for p in outcome.problems:  # the check's own problems were printed with the preview
            if p.rule.startswith("PDF"):
                _say(format_problem(p))
        for output in outcome.outputs:
            _say(f"已生成 {output}")
        _say(f"（{outcome.seconds:.2f}秒）")


def watch(path: Path, out: Path, formats: tuple[str, ...], pause: float, poll: float,
          stop_after: float | None = None) -> int:
    """The loop. `stop_after` (seconds) ends it, for tests and scripts."""
    preview = Preview(path, out, formats)
    watched = _watched(path)
    last = _state(watched)
    _say(f"正在监视 {path}（保存后立即更新预览；停顿 {pause:g} 秒或按回车生成 PDF/XLSX；Ctrl-C 退出）")
    preview.preview()
    pending = preview.ok
    changed_at = time.monotonic()
    began = time.monotonic()
    # the PDF renderer's imports now, while the clerk reads the first preview
    if "pdf" in formats:
        import importlib
        importlib.import_module("generator.render.pdf")
    try:
        while stop_after is None or time.monotonic() - began < stop_after:
            time.sleep(poll)
            now = _state(watched)
            if now != last:
                last = now
                watched = _watched(path)
                last = _state(watched)
                preview.preview()
                pending = preview.ok
                changed_at = time.monotonic()
                continue
            if _enter_pressed():
                if preview.preview():
                    preview.full(force=True)
                pending = False
                continue
            if pending and time.monotonic() - changed_at >= pause:
                preview.full()
                pending = False
    except KeyboardInterrupt:
        pass
    _say("已停止监视")
    return 0


def watch_cmd(
    file: Path = typer.Argument(..., help="要监视的部门 YAML 文件"),
    out: Path = typer.Option(Path("output"), "-o", "--out", help="输出目录（默认 output/）"),
    fmt: str = typer.Option("pdf,xlsx", "--format", "-f",
                            help="停顿时生成的格式，逗号分隔：pdf,xlsx（空则只更新 HTML 预览）"),
    pause: float = typer.Option(3.0, "--pause", help="停止保存多少秒后生成 PDF/XLSX"),
    poll: float = typer.Option(0.1, "--poll", help="检查文件是否保存的间隔（秒）"),
    stop_after: float | None = typer.Option(None, "--stop-after", hidden=True),
) -> None:
    """监视一个部门文件：每次保存后立即检查并更新 HTML 预览，停顿时生成 PDF 与 XLSX。"""
    formats = tuple(x.strip().lower() for x in fmt.split(",") if x.strip())
    bad = [f for f in formats if f not in ("pdf", "xlsx")]
    if bad:
        raise typer.BadParameter(f"格式只能是 pdf、xlsx，收到：{fmt}")
    if pause < 0 or poll <= 0:
        raise typer.BadParameter("--pause 不能为负数，--poll 必须大于 0")
    raise typer.Exit(watch(file, out, formats, pause, poll, stop_after))
