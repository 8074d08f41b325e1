"""`budgetgen layouts`: list the built-in layouts, export one as the start of a new layout, or
check a layout file (located Chinese errors, like `check` for department files)."""
from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Annotated

import typer

from .exitcodes import Exit
from ..layout import builtin_keys, builtin_path, load_layout_file
from .report import format_problem


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def layouts_cmd(
    export: Annotated[str | None, typer.Option(
        "--export", metavar="KEY", help="导出一个内置版式（带注释的 YAML），作为新版式的起点")] = None,
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="导出到此文件（默认输出到屏幕）")] = None,
    check: Annotated[Path | None, typer.Option(
        "--check", metavar="FILE", help="检查一个版式文件，列出全部错误（文件:行:列）")] = None,
    schema: Annotated[bool, typer.Option(
        "--schema", help="输出版式文件的 JSON Schema（供编辑器补全与校验）")] = False,
    force: Annotated[bool, typer.Option("--force", help="覆盖已有文件")] = False,
) -> None:
    """列出内置版式（名称、标题、表数、金额单位）；--export 导出一个作为新版式的起点。"""
    if schema:
        import json

        from ..layout import layout_schema
        text = json.dumps(layout_schema(), ensure_ascii=False, indent=2) + "\n"
        if out is None:
            typer.echo(text, nl=False)
        else:
            _write(out, text.encode("utf-8"))
            typer.echo(f"已写出 {out}")
        return
    if check is not None:
        layout, problems = load_layout_file(check)
        for p in problems:
            typer.echo(format_problem(p))
        if layout is None:
            typer.echo(f"{check}：版式文件有误，共{len(problems)}处")
            raise typer.Exit(int(Exit.DATA_ERRORS))
        typer.echo(f"{check}：版式“{layout.key}”（{layout.name}）可用，{layout.table_count}张表，"
                   f"金额单位{layout.units}")
        return
    if export is not None:
        path = builtin_path(export)
        if path is None:
            typer.echo(f"未知的版式“{export}”：可选 {'、'.join(builtin_keys())}", err=True)
            raise typer.Exit(int(Exit.USAGE))
        data = path.read_bytes()
        if out is None:
            typer.echo(data.decode("utf-8"), nl=False)
            return
        if out.exists() and not force:
            typer.echo(f"{out} 已存在；如要覆盖请加 --force", err=True)
            raise typer.Exit(int(Exit.OUTPUT_FAILED))
        _write(out, data)
        typer.echo(f"已写出 {out}：修改 key、name 和需要改的表与说明，然后在部门文件中写 "
                   f"edition: {out.name}（相对于部门文件的路径）")
        return
    rows = [("版式", "标题", "表数", "单位")]
    for key in builtin_keys():
        layout, problems = load_layout_file(builtin_path(key))  # type: ignore[arg-type]
        if layout is None:
            rows.append((key, f"（无法读取：{problems[0].message if problems else ''}）", "", ""))
            continue
        rows.append((key, layout.name, str(layout.table_count), layout.units))
    widths = [max(_width(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        typer.echo("  ".join(_pad(c, w) for c, w in zip(r, widths)).rstrip())


def _write(out: Path, data: bytes) -> None:
    from ..render.output import atomic_write
    try:
        atomic_write(out, data)
    except OSError as exc:
        typer.echo(f"无法写入 {out}：{exc.strerror or exc}", err=True)
        raise typer.Exit(int(Exit.OUTPUT_FAILED)) from None


def register(app: typer.Typer) -> None:
    app.command("layouts")(layouts_cmd)
