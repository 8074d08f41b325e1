"""`budgetgen import BOOK.xlsx -o dept.yaml`: the command around generator/importer.

Prints every problem (located as 工作表!单元格), what became of the workbook's rows (imported,
checked, ignored — each ignored row with its reason), writes the department file atomically,
and runs `check` on it so the clerk sees at once whether the workbook's own arithmetic holds.
"""
from __future__ import annotations

import os
from pathlib import Path

import typer

from .exitcodes import Exit
from .report import format_problem, summary


def import_command(
    book: Path = typer.Argument(..., help="部门预算工作簿（.xlsx 或 .xls）", metavar="BOOK"),
    out: Path = typer.Option(..., "-o", "--out", help="要写入的部门 YAML 文件"),
    layout: str | None = typer.Option(None, "--layout",
                                      help="版式：内置版式名（见 budgetgen layouts）或版式文件路径；默认由表题识别"),
    unit: str | None = typer.Option(None, "--unit", help="表上方没写单位时的金额单位：万元 或 元"),
    year: int | None = typer.Option(None, "--year", help="预算年度（默认取自工作簿）"),
    force: bool = typer.Option(False, "--force", help="覆盖已有文件"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="逐行列出忽略的行（默认只列前 20 行）"),
) -> None:
    """由部门预算工作簿（九张标准表等）导入末级数据，写出部门 YAML 文件；每行注释注明所在单元格。"""
    from ..importer import import_workbook
    from ..importer.draft import CHECKED, IGNORED, IMPORTED, LAYOUT, ignored_lines
    from ..pipeline import run_text
    from ..render.output import atomic_write

    if unit is not None and unit not in ("万元", "元"):
        raise typer.BadParameter(f"单位只能是“万元”或“元”，收到：{unit}", param_hint="--unit")
    if out.exists() and not force:
        typer.echo(f"{out} 已存在；如要覆盖请加 --force", err=True)
        raise typer.Exit(int(Exit.OUTPUT_FAILED))
    edition = None
    layout_outside = False
    if layout and Path(layout).suffix in (".yaml", ".yml") and Path(layout).is_file():
        # department.edition is read relative to the department file, and only from its folder
        from ..inputs import outside
        edition = os.path.relpath(Path(layout).resolve(), out.resolve().parent)
        layout_outside = outside(edition)
    result = import_workbook(book, layout=layout, unit=unit, year=year, edition=edition)
    for p in result.problems:
        typer.echo(format_problem(p))
    if not result.readable:
        typer.echo(f"{book}：文件无法读取")
        raise typer.Exit(int(Exit.UNREADABLE))
    if result.draft is not None and result.draft.ledger:
        n = result.draft.counts()
        typer.echo(f"{book}：导入{n[IMPORTED]}行，用于核对{n[CHECKED]}行，表题与表头{n[LAYOUT]}行，"
                   f"忽略{n[IGNORED]}行")
        ignored = ignored_lines(result.draft.ledger, result.draft.sheets)
        for line in (ignored if verbose else ignored[:20]):
            typer.echo(f"  忽略 {line}")
        if len(ignored) > 20 and not verbose:
            typer.echo(f"  ……另有{len(ignored) - 20}处（加 --verbose 全部列出）")
    if result.text is None:
        typer.echo(f"{book}：{summary(result.problems)}，未写出部门文件")
        raise typer.Exit(int(Exit.DATA_ERRORS))
    try:
        atomic_write(out, result.text.encode("utf-8"))
    except OSError as exc:
        typer.echo(f"无法写入 {out}：{exc.strerror or exc}", err=True)
        raise typer.Exit(int(Exit.OUTPUT_FAILED)) from None
    typer.echo(f"已写出 {out}")
    if layout_outside:
        typer.echo(f"注意：版式文件 {layout} 不在 {out} 所在的文件夹中；department.edition 只能引用该文件夹中的"
                   f"版式文件，检查和生成时请加 --layout {layout}，或把版式文件移到该文件夹并改写 edition")
    checked = run_text(result.text, str(out), layout=layout if layout_outside else None)
    for p in checked.problems:
        typer.echo(format_problem(p))
    typer.echo(f"{out}：{summary(checked.problems)}")
    failed = any(p.is_error for p in result.problems) or not checked.ok
    raise typer.Exit(int(Exit.DATA_ERRORS) if failed else int(Exit.OK))


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
