"""The command line: `budgetgen check | render | new | roll | schema | catalog | import` (typer),
messages in Chinese.

Exit statuses: generator/exitcodes.py (0 ok, 1 data errors, 2 usage, 3 unreadable input,
4 output cannot be written, 5 internal error).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import click
import typer

from .exitcodes import Exit, help_text
from .jobs import FORMATS, PDF_VARIANTS, Outcome, check_file, render_file
from .report import format_problem, summary

app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode=None,
    help="budgetgen：由一个 YAML 文件生成部门预算公开文件（九张表、说明、PDF 与 XLSX）。\n\n"
         + help_text())


LAYOUT_HELP = "版式：内置版式名（见 budgetgen layouts）或版式文件路径；覆盖部门文件中的 department.edition"


def _err(text: str) -> None:
    typer.echo(text, err=True)


def _print_outcome(o: Outcome, quiet: bool = False, verbose: bool = False) -> None:
    for p in o.problems:
        typer.echo(format_problem(p))
    if verbose:
        for line in o.notes:
            typer.echo(line)
    if not quiet:
        tail = summary(o.problems) if o.status != "unreadable" else "文件无法读取"
        typer.echo(f"{o.file}：{tail}")


def _exit_code(outcomes: list[Outcome]) -> int:
    """The most serious status of the files: internal > output > unreadable > data errors."""
    codes = {o.exit_code for o in outcomes}
    for code in (Exit.INTERNAL, Exit.OUTPUT_FAILED, Exit.UNREADABLE, Exit.DATA_ERRORS):
        if int(code) in codes:
            return int(code)
    return int(Exit.OK)


def _output_refused(exc: Exception) -> "typer.Exit":
    """An output that cannot be written: the Chinese message, exit status 4."""
    _err(str(exc))
    return typer.Exit(int(Exit.OUTPUT_FAILED))


def _no_traceback(command):
    """`new`, `roll`, `schema`: an unexpected error is one Chinese line and exit status 5,
    never a traceback (OS errors on output are handled before this, with exit status 4)."""
    import functools

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.ClickException, KeyboardInterrupt):
            raise
        except OSError as exc:
            from .render.output import describe_os_error
            _err(describe_os_error(exc, getattr(exc, "filename", None) or "输出文件"))
            raise typer.Exit(int(Exit.OUTPUT_FAILED)) from None
        except Exception as exc:
            _err(f"内部错误：{type(exc).__name__}: {exc}（请把输入文件和命令发给维护者）")
            raise typer.Exit(int(Exit.INTERNAL)) from None
    return run


def _write_output(out: Path, data: bytes, force: bool) -> None:
    from .render.output import OutputError, write_file
    try:
        write_file(out, data, force)
    except OutputError as exc:
        raise _output_refused(exc) from None


def _check_output(out: Path, force: bool) -> None:
    """Before any work: refuse a special file, link or folder (and an existing file without
    --force) as -o. `-` is standard output."""
    if str(out) == "-":
        return
    from .render.output import OutputError, check_output_file
    try:
        check_output_file(out, force)
    except OutputError as exc:
        if Path(out).is_file() and not Path(out).is_symlink() and not force:
            _err(str(exc))
            raise typer.Exit(1) from None
        raise _output_refused(exc) from None


@app.command("check")
def check_cmd(files: List[Path] = typer.Argument(..., help="一个或多个部门 YAML 文件", metavar="FILE..."),
              verbose: bool = typer.Option(False, "-v", "--verbose",
                                           help="另列出所属单位和汇总时抵消的内部往来"),
              layout: Optional[str] = typer.Option(None, "--layout", help=LAYOUT_HELP,
                                                   metavar="KEY|PATH")):
    """只做检查：列出全部错误与警告（文件:行:列），不生成文件。"""
    outcomes = [check_file(str(f), layout) for f in files]
    for o in outcomes:
        _print_outcome(o, verbose=verbose)
    raise typer.Exit(_exit_code(outcomes))


def _parse_formats(text: str) -> tuple[str, ...]:
    formats = tuple(x.strip().lower() for x in text.split(",") if x.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise typer.BadParameter(f"格式只能是 {', '.join(FORMATS)}，收到：{text}")
    return formats


@app.command("render")
def render_cmd(
    files: List[Path] = typer.Argument(..., help="一个或多个部门 YAML 文件", metavar="FILE..."),
    out: Path = typer.Option(Path("output"), "-o", "--out",
                             help="输出目录（默认 output/），每个部门一个子文件夹；"
                                  "-o - 输出到屏幕（一个文件、一种格式）"),
    fmt: str = typer.Option("pdf,xlsx", "--format", "-f", help="输出格式，逗号分隔：pdf,xlsx,html"),
    jobs: int = typer.Option(0, "-j", "--jobs", help="并行进程数（默认：CPU 核数）"),
    timeout: float = typer.Option(600, "--timeout", min=1,
                                  help="批量生成时每个文件的时间上限（秒），超时的文件停止，其余照常"),
    units: bool = typer.Option(False, "--units", help="部门文件列有所属单位时，另为每个所属单位生成单位预算"),
    layout: Optional[str] = typer.Option(None, "--layout", help=LAYOUT_HELP, metavar="KEY|PATH"),
    pdf_variant: Optional[str] = typer.Option(
        None, "--pdf-variant", metavar="pdf/a-3b|pdf/ua-1",
        help="PDF 变体：pdf/a-3b（长期存档，带 XMP 声明）或 pdf/ua-1（带标签，供读屏软件）；默认普通 PDF"),
    force: bool = typer.Option(False, "--force", help="即使输入未变化也重新生成"),
):
    """检查并生成 PDF / XLSX / HTML；有错误的文件不生成，其余照常生成。"""
    formats = _parse_formats(fmt)
    if pdf_variant is not None:
        if pdf_variant.lower() not in PDF_VARIANTS:
            raise typer.BadParameter(f"只能是 {' 或 '.join(PDF_VARIANTS)}，收到：{pdf_variant}",
                                     param_hint="--pdf-variant")
        formats = tuple(pdf_variant.lower() if f == "pdf" else f for f in formats)
    names = [str(f) for f in files]
    if str(out) == "-":
        if len(names) != 1 or len(formats) != 1:
            raise typer.BadParameter("-o - 只能用于一个输入文件、一种格式（如 -f pdf）", param_hint="-o")
        from .jobs import render_stdout
        outcome = render_stdout(names[0], formats[0], layout)
        for p in outcome.problems:
            _err(format_problem(p))
        raise typer.Exit(_exit_code([outcome]))
    from .render.output import OutputError, prepare_out_dir
    try:
        prepare_out_dir(out)
    except OutputError as exc:
        raise _output_refused(exc) from None
    if len(names) == 1:
        outcomes = [render_file(names[0], str(out), formats, units, layout=layout,
                                skip_unchanged=not force)]
        if outcomes[0].status == "skipped":  # the warnings of the render it skipped, again
            from .cache import SKIPPED
            for p in outcomes[0].problems:
                typer.echo(format_problem(p))
            typer.echo(f"{names[0]}：{SKIPPED}（输出与输入一致；加 --force 可重新生成）")
        else:
            _print_outcome(outcomes[0])
            for path in outcomes[0].outputs:
                typer.echo(f"已生成 {path}")
    else:
        from .batch import render_batch
        outcomes = render_batch(names, str(out), formats, jobs or os.cpu_count() or 1, units=units,
                                layout=layout, force=force, timeout=timeout)
    raise typer.Exit(_exit_code(outcomes))


@app.command("new")
@_no_traceback
def new_cmd(
    out: Path = typer.Option(..., "-o", "--out", help="要写入的新文件，如 dept.yaml；- 表示输出到屏幕"),
    edition: str = typer.Option("hebei-2025", "--edition", help="版式：内置版式名（见 budgetgen layouts）"),
    year: Optional[int] = typer.Option(None, "--year", help="预算年度（默认：明年）"),
    force: bool = typer.Option(False, "--force", help="覆盖已有的普通文件（从不替换链接、文件夹或设备）"),
):
    """写出一个带中文注释的空白部门文件，按注释填写后即可 check。"""
    from .starter import starter_text
    _check_output(out, force)
    try:
        text = starter_text(edition, year)
    except ValueError as exc:
        _err(str(exc))
        raise typer.Exit(1)
    _write_output(out, text.encode("utf-8"), force)
    if str(out) != "-":
        typer.echo(f"已写出 {out}：请按注释填写，然后运行 budgetgen check {out}")


@app.command("roll")
@_no_traceback
def roll_cmd(
    file: Path = typer.Argument(..., help="本年度的部门 YAML 文件"),
    to: int = typer.Option(..., "--to", help="下一预算年度，如 2026"),
    out: Path = typer.Option(..., "-o", "--out", help="写入的新文件；- 表示输出到屏幕"),
    force: bool = typer.Option(False, "--force", help="覆盖已有的普通文件（从不替换链接、文件夹或设备）"),
):
    """由本年文件生成下年草稿：本年数成为上年对比数，金额保留为起始值，需复核的文字加注释。"""
    from .roll import roll_file
    _check_output(out, force)
    to_screen = str(out) == "-"
    problems, text = roll_file(file, to)
    for p in problems:
        (_err if to_screen else typer.echo)(format_problem(p))
    if text is None:
        (_err if to_screen else typer.echo)(f"{file}：{summary(problems)}，未生成下年草稿")
        from .pipeline import run
        raise typer.Exit(int(Exit.DATA_ERRORS) if run(file).readable else int(Exit.UNREADABLE))
    _write_output(out, text.encode("utf-8"), force)
    if not to_screen:
        typer.echo(f"已写出 {out}（{to}年草稿）：请复核标有“待复核”的内容")


@app.command("schema")
@_no_traceback
def schema_cmd(out: Optional[Path] = typer.Option(None, "-o", "--out",
                                                  help="写入文件（默认或 - 输出到屏幕）；已有的普通文件会被覆盖")):
    """输出输入文件的 JSON Schema，供 VS Code 等编辑器补全与校验。"""
    import json

    from .model import json_schema
    if out is not None:
        _check_output(out, force=True)
    text = json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
    if out is None or str(out) == "-":
        sys.stdout.write(text)
    else:
        _write_output(out, text.encode("utf-8"), force=True)
        typer.echo(f"已写出 {out}")


from .layouts_cmd import register as _register_layouts  # noqa: E402

_register_layouts(app)

from .catalog_cmd import register as _register_catalog  # noqa: E402  (budgetgen catalog)
from .import_cmd import register as _register_import  # noqa: E402  (budgetgen import)

_register_catalog(app)
_register_import(app)

from .watch import watch_cmd  # noqa: E402  (typer and the standard library only)

app.command("watch")(watch_cmd)


def main() -> None:
    try:
        app(prog_name="budgetgen")
    except SystemExit as exc:
        from .quickexit import quick_exit
        quick_exit(exc.code)


if __name__ == "__main__":
    main()
