"""The command line: `budgetgen check | render | new | roll | schema | catalog | import` (typer),
messages in Chinese.

Exit statuses come from one table, generator/commands/exitcodes.py (0 通过, 1 数据有错误, 2 用法错误,
3 输入无法读取, 4 输出无法写入, 5 内部错误); a run over many files exits with the gravest.
An internal error is one Chinese line; `--debug` shows its traceback.
"""
from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import typer
from typer.completion import completion_init
from typer.core import TyperCommand, TyperGroup

from .. import __version__
from .exitcodes import Exit, help_text, worst
from .jobs import FORMATS, PDF_VARIANTS, Outcome, check_file, render_file
from .report import format_problem, summary

_STATE = {"debug": False}
completion_init()  # the shells typer completes for (bash, zsh, fish, PowerShell)


def _chinese_help_option(option: Any) -> Any:
    if option is not None:
        option.help = "显示本帮助后退出"
    return option


# the headings and labels of click's help text, in Chinese
_HELP_WORDS = (("Usage: ", "用法："), ("Options:", "选项："), ("Arguments:", "参数："),
               ("Commands:", "命令："), ("[required]", "[必填]"), ("[default: ", "[默认："))


def _chinese_help(formatter: Any) -> None:
    text = "".join(formatter.buffer)
    for english, chinese in _HELP_WORDS:
        text = text.replace(english, chinese)
    formatter.buffer[:] = [text]


class _Command(TyperCommand):
    def get_help_option(self, ctx: Any) -> Any:
        return _chinese_help_option(super().get_help_option(ctx))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        super().format_help(ctx, formatter)
        _chinese_help(formatter)


class _Group(TyperGroup):
    """Turns an exception that escapes a command (a bug, not the clerk's fault) into one Chinese
    line and exit status 5; `--debug` prints the traceback instead. Ctrl-C exits 130. A usage
    error (exit status 2) is explained in Chinese."""

    def get_help_option(self, ctx: Any) -> Any:
        return _chinese_help_option(super().get_help_option(ctx))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        super().format_help(ctx, formatter)
        _chinese_help(formatter)

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except Exception as exc:
            _in_chinese(exc)
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            typer.echo("已中断", err=True)
            ctx.exit(130)
        except Exception as exc:
            if _is_framework(exc):  # Exit, usage errors: the framework's own control flow
                _in_chinese(exc)
                raise
            _internal_error(exc)
            ctx.exit(int(Exit.INTERNAL))


# click's usage errors, in Chinese (the English text is kept for any message not listed here)
_USAGE_MESSAGES = (
    (r"No such option: (\S+?)(?:\s+Did you mean (\S+?)\?)?$", "没有选项 {0}{1}"),
    (r"No such command '(.+?)'\.?(?:\s+Did you mean '(.+?)'\?)?$", "没有命令 {0}{1}"),
    (r"Missing argument (.+?)\.?$", "缺少参数 {0}"),
    (r"Missing option (.+?)\.?$", "缺少选项 {0}"),
    (r"Option (.+?) requires an argument\.?$", "选项 {0} 后面缺少值"),
    (r"Option (.+?) does not take a value\.?$", "选项 {0} 不带值"),
    (r"Got unexpected extra arguments? \((.*)\)$", "多余的参数：{0}"),
    (r"Invalid value(?: for (.+?))?: (.*)$", "{0}值无效：{1}"),
)
_VALUE_MESSAGES = (  # what a type conversion says, inside "Invalid value for …"
    (r"(?:'(.*)' is not a valid integer|Input should be a valid integer).*$", "应为整数"),
    (r"(?:'(.*)' is not a valid float|Input should be a valid number).*$", "应为数字"),
)


def _chinese(message: str) -> str:
    import re
    message = message.strip()
    for pattern, text in _USAGE_MESSAGES:
        m = re.match(pattern, message, re.S)
        if not m:
            continue
        parts = [(g or "").replace("'", "") for g in m.groups()]
        if pattern.startswith("No such"):
            parts[1] = f"；是不是 {parts[1]}？" if parts[1] else ""
        if pattern.startswith("Invalid value"):
            parts[0] = f"{parts[0]} 的" if parts[0] else ""
            value = m.group(2)
            parts[1] = next((t for p, t in _VALUE_MESSAGES if re.match(p, value, re.S)), value)
        return text.format(*parts)
    return message


def _in_chinese(exc: BaseException) -> None:
    """Give a usage error a Chinese show(): the usage line, how to get help, the error."""
    if not hasattr(exc, "format_message") or type(exc).__name__ == "NoArgsIsHelpError":
        return
    ctx = getattr(exc, "ctx", None)

    def show(file: Any = None) -> None:
        lines = []
        if ctx is not None:
            lines.append(ctx.get_usage().replace("Usage: ", "用法：", 1))
            lines.append(f"运行 {ctx.command_path} -h 查看帮助。")
        lines.append(f"错误：{_chinese(exc.format_message())}")
        typer.echo("\n".join(lines), err=True)

    exc.show = show  # type: ignore[attr-defined]


def _is_framework(exc: BaseException) -> bool:
    """typer.Exit, BadParameter and friends (from click, or from the click that typer ≥ 0.22 vendors)."""
    return type(exc).__module__.split(".")[0] in ("click", "typer")


def _internal_error(exc: BaseException) -> None:
    if _STATE["debug"]:
        typer.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    else:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]
        typer.echo(f"内部错误：{detail}（这是程序缺陷，不是数据问题；加 --debug 可看详细信息，"
                   "请连同输入文件发给维护者）", err=True)


class _App(typer.Typer):
    """Every command, including those registered by other modules, gets the Chinese help."""

    def command(self, *args: Any, cls: Any = None, **kwargs: Any) -> Any:
        return super().command(*args, cls=cls or _Command, **kwargs)


app = _App(
    cls=_Group, add_completion=False, no_args_is_help=True, rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="budgetgen：由一个 YAML 文件生成部门预算公开文件（九张表、说明、PDF 与 XLSX）。\n\n"
         + help_text())


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"budgetgen {__version__}")
        raise typer.Exit()


def _install_completion(ctx: typer.Context, param: Any, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from typer.completion import install
    try:
        shell, path = install(prog_name=ctx.find_root().info_name or "budgetgen")
    except Exception as exc:  # shellingham could not tell which shell runs us
        typer.echo(f"无法为当前 shell 安装命令补全（{exc}）；可用 --show-completion 取得脚本自行安装", err=True)
        ctx.exit(int(Exit.USAGE))
    typer.echo(f"已为 {shell} 安装命令补全：{path}；重新打开终端后生效")
    ctx.exit(0)


def _show_completion(ctx: typer.Context, param: Any, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from typer.completion import show_callback
    show_callback(ctx, param, value)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                 help="显示版本号后退出"),
    debug: bool = typer.Option(False, "--debug",
                               help="内部错误时显示完整的 Python 回溯（报告问题时附上）"),
    install_completion: bool = typer.Option(False, "--install-completion", is_eager=True,
                                            callback=_install_completion, expose_value=False,
                                            help="为当前 shell（bash、zsh、fish、PowerShell）安装命令补全"),
    show_completion: bool = typer.Option(False, "--show-completion", is_eager=True,
                                         callback=_show_completion, expose_value=False,
                                         help="显示当前 shell 的命令补全脚本（可复制或自行安装）"),
) -> None:
    _STATE["debug"] = debug


LAYOUT_HELP = "版式：内置版式名（见 budgetgen layouts）或版式文件路径；覆盖部门文件中的 department.edition"


def _err(text: str) -> None:
    typer.echo(text, err=True)


def _print_outcome(o: Outcome, quiet: bool = False, verbose: bool = False) -> None:
    for p in o.problems:
        typer.echo(format_problem(p))
    if o.detail and _STATE["debug"]:
        _err(o.detail.rstrip())
    if verbose:
        for line in o.notes:
            typer.echo(line)
    if not quiet:
        tail = {"unreadable": "文件无法读取", "output": "输出无法写入",
                "crash": "内部错误"}.get(o.status) or summary(o.problems)
        typer.echo(f"{o.file}：{tail}")


def _exit_code(outcomes: list[Outcome]) -> int:
    return worst(o.exit_code for o in outcomes)


def _output_refused(exc: Exception) -> typer.Exit:
    """An output that cannot be written: the Chinese message, exit status 4."""
    _err(str(exc))
    return typer.Exit(int(Exit.OUTPUT_FAILED))


def _no_traceback(command: Any) -> Any:
    """`new`, `roll`, `schema`: an OS error on output is a Chinese message and exit status 4
    (any other unexpected error reaches _Group.invoke: one line, exit status 5)."""
    import functools

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OSError as exc:
            from ..render.output import describe_os_error
            _err(describe_os_error(exc, getattr(exc, "filename", None) or "输出文件"))
            raise typer.Exit(int(Exit.OUTPUT_FAILED)) from None
    return run


def _write_output(out: Path, data: bytes, force: bool) -> None:
    from ..render.output import OutputError, write_file
    try:
        write_file(out, data, force)
    except OutputError as exc:
        raise _output_refused(exc) from None


def _write(out: Path, data: bytes) -> None:
    """Write a file the command itself names (a report, a schema): special files refused,
    a regular file replaced; a file that cannot be written exits 4 with the reason."""
    _check_output(out, force=True)
    _write_output(out, data, force=True)


def _check_output(out: Path, force: bool) -> None:
    """Before any work: refuse a special file, link or folder (and an existing file without
    --force) as -o, exit status 4. `-` is standard output."""
    if str(out) == "-":
        return
    from ..render.output import OutputError, check_output_file
    try:
        check_output_file(out, force)
    except OutputError as exc:
        raise _output_refused(exc) from None


@app.command("check")
def check_cmd(files: list[Path] = typer.Argument(..., help="一个或多个部门 YAML 文件", metavar="FILE..."),
              verbose: bool = typer.Option(False, "-v", "--verbose",
                                           help="另列出所属单位和汇总时抵消的内部往来"),
              layout: str | None = typer.Option(None, "--layout", help=LAYOUT_HELP,
                                                metavar="KEY|PATH")) -> None:
    """只做检查：列出全部错误与警告（文件:行:列），不生成文件。"""
    outcomes = [check_file(str(f), layout) for f in files]
    for o in outcomes:
        _print_outcome(o, verbose=verbose)
    raise typer.Exit(_exit_code(outcomes))


def _parse_formats(text: str) -> tuple[str, ...]:
    formats = tuple(x.strip().lower() for x in text.split(",") if x.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise typer.BadParameter(f"格式只能是 {', '.join(FORMATS)}，收到：{text}", param_hint="'-f' / '--format'")
    return formats


def _check_jobs(value: int) -> int:
    if value < 0:
        raise typer.BadParameter(f"并行进程数应为正整数（0 表示按 CPU 核数），收到：{value}")
    return value


@app.command("render")
def render_cmd(
    files: list[Path] = typer.Argument(..., help="一个或多个部门 YAML 文件", metavar="FILE..."),
    out: Path = typer.Option(Path("output"), "-o", "--out",
                             help="输出目录（默认 output/），每个部门一个子文件夹；"
                                  "-o - 输出到屏幕（一个文件、一种格式）"),
    fmt: str = typer.Option("pdf,xlsx", "--format", "-f", help="输出格式，逗号分隔：pdf,xlsx,html"),
    jobs: int = typer.Option(0, "-j", "--jobs", callback=_check_jobs,
                             help="并行进程数（默认 0：按 CPU 核数）"),
    timeout: float = typer.Option(600, "--timeout", min=1,
                                  help="批量生成时每个文件的时间上限（秒），超时的文件停止，其余照常"),
    report: Path | None = typer.Option(None, "--report",
                                       help="另把汇总写成 JSON 文件（每个文件的状态、问题及位置、"
                                            "生成的文件、页数、用时），供脚本读取"),
    units: bool = typer.Option(False, "--units", help="部门文件列有所属单位时，另为每个所属单位生成单位预算"),
    layout: str | None = typer.Option(None, "--layout", help=LAYOUT_HELP, metavar="KEY|PATH"),
    pdf_variant: str | None = typer.Option(
        None, "--pdf-variant", metavar="pdf/a-3b|pdf/ua-1",
        help="PDF 变体：pdf/a-3b（长期存档，带 XMP 声明）或 pdf/ua-1（带标签，供读屏软件）；默认普通 PDF"),
    force: bool = typer.Option(False, "--force", help="即使输入未变化也重新生成"),
    executor: str = typer.Option("local", "--executor", metavar="local|dask://HOST:PORT",
                                 help="在哪里生成：local（本机，-j 个进程，默认）或 dask://主机:8786"
                                      "（Dask 集群，每个部门一个任务；需 pip install 'budgetgen[dask]'，"
                                      "见 docs/dask.md）"),
    send_back: bool = typer.Option(False, "--send-back",
                                   help="与 --executor dask:// 同用：工作节点把结果传回本机、由本机写入输出目录"
                                        "（工作节点看不到共享输出目录时）"),
) -> None:
    """检查并生成 PDF / XLSX / HTML；有错误的文件不生成，其余照常生成。"""
    formats = _parse_formats(fmt)
    from .dask_batch import scheduler_address
    try:
        address = scheduler_address(executor)
    except ValueError:
        raise typer.BadParameter(f"只能是 local 或 dask://主机:端口，收到：{executor}",
                                 param_hint="--executor") from None
    if send_back and address is None:
        raise typer.BadParameter("--send-back 只能与 --executor dask://… 同用", param_hint="--send-back")
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
    from ..render.output import OutputError, prepare_out_dir
    try:
        prepare_out_dir(out)
    except OutputError as exc:
        raise _output_refused(exc) from None
    manifest = None
    if len(names) == 1 and address is None:
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
        from .dask_batch import ClusterError
        from .manifest import Manifest
        manifest = Manifest(out, formats, {"units": units, "layout": layout})
        try:
            outcomes = render_batch(names, str(out), formats, jobs or os.cpu_count() or 1, units=units,
                                    layout=layout, force=force, timeout=timeout, executor=address,
                                    send_back=send_back, manifest=manifest)
        except ClusterError as exc:
            _err(f"错误：{exc}")
            raise typer.Exit(int(Exit.USAGE)) from None
        if _STATE["debug"]:
            for o in outcomes:
                if o.detail:
                    _err(f"{o.file}：\n{o.detail.rstrip()}")
    code = _exit_code(outcomes)
    if report is not None:
        from .report import batch_report
        if manifest is not None:  # the batch's report is built from its manifest lines
            from .manifest import outcomes as recorded
            outcomes = recorded(manifest.path, manifest.batch, names) or outcomes
        _write(report, json.dumps(batch_report(outcomes, str(out), code), ensure_ascii=False,
                                  indent=2).encode("utf-8") + b"\n")
    raise typer.Exit(code)


@app.command("new")
@_no_traceback
def new_cmd(
    out: Path = typer.Option(..., "-o", "--out", help="要写入的新文件，如 dept.yaml；- 表示输出到屏幕"),
    edition: str | None = typer.Option(None, "--edition",
                                       help="版式：内置版式名（见 budgetgen layouts；默认为起始文件注明的版式）"),
    year: int | None = typer.Option(None, "--year", help="预算年度（默认：明年）"),
    force: bool = typer.Option(False, "--force", help="覆盖已有的普通文件（从不替换链接、文件夹或设备）"),
) -> None:
    """写出一个带中文注释的空白部门文件，按注释填写后即可 check。"""
    from .starter import starter_text
    try:
        text = starter_text(edition, year)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--edition" if "版式" in str(exc) else "--year") from None
    _check_output(out, force)
    _write_output(out, text.encode("utf-8"), force)
    if str(out) == "-":
        return
    typer.echo(f"已写出 {out}：请按注释填写，然后运行 budgetgen check {out}")
    schema = _schema_beside(out)
    if schema is not None:
        typer.echo(f"已写出 {schema}：供编辑器补全与提示（文件第一行的 yaml-language-server 注释引用它）")


def _schema_beside(out: Path) -> Path | None:
    """The JSON Schema next to a new file, for the starter's modeline. A file of that name that
    is not budgetgen's schema is left alone."""
    from ..schema import SCHEMA_ID, schema_text
    target = out.parent / "budget.schema.json"
    text = schema_text()
    if target.exists():
        try:
            current = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        if current == text or f'"$id": "{SCHEMA_ID}' not in current:
            return None
    _write(target, text.encode("utf-8"))
    return target


@app.command("roll")
@_no_traceback
def roll_cmd(
    file: Path = typer.Argument(..., help="本年度的部门 YAML 文件"),
    to: int = typer.Option(..., "--to", help="下一预算年度，如 2026"),
    out: Path = typer.Option(..., "-o", "--out", help="写入的新文件；- 表示输出到屏幕"),
    force: bool = typer.Option(False, "--force", help="覆盖已有的普通文件（从不替换链接、文件夹或设备）"),
) -> None:
    """由本年文件生成下年草稿：本年数成为上年对比数，金额保留为起始值，需复核的文字加注释。"""
    from ..pipeline import run
    from .roll import roll_file
    _check_output(out, force)
    to_screen = str(out) == "-"
    result = run(file)
    problems, text = roll_file(file, to, result)
    for p in problems:
        (_err if to_screen else typer.echo)(format_problem(p))
    if text is None:
        (_err if to_screen else typer.echo)(f"{file}：{summary(problems)}，未生成下年草稿")
        if any(p.rule == "内部错误" for p in problems):
            raise typer.Exit(int(Exit.INTERNAL))
        raise typer.Exit(int(Exit.DATA_ERRORS if result.readable else Exit.UNREADABLE))
    _write_output(out, text.encode("utf-8"), force)
    if not to_screen:
        typer.echo(f"已写出 {out}（{to}年草稿）：请复核标有“待复核”的内容")


@app.command("schema")
@_no_traceback
def schema_cmd(out: Path | None = typer.Option(None, "-o", "--out",
                                               help="写入文件（默认或 - 输出到屏幕）；已有的普通文件会被覆盖")) -> None:
    """输出输入文件的 JSON Schema，供 VS Code 等编辑器补全与校验。"""
    from ..schema import schema_text
    text = schema_text()
    if out is None or str(out) == "-":
        sys.stdout.write(text)
    else:
        _write(out, text.encode("utf-8"))
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
