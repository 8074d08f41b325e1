"""The command line: `budgetgen check | render | new | roll | schema | catalog | import` (typer),
messages in Chinese.

Exit statuses come from one table, generator/commands/exitcodes.py (0 通过, 1 数据有错误, 2 用法错误,
3 输入无法读取, 4 输出无法写入, 5 内部错误); a run over many files exits with the gravest.
An internal error is one Chinese line; `--debug` shows its traceback.
"""
from __future__ import annotations

import json
import os
import re
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


# the framework's type names and bounds, after the help text is laid out (a line break may
# stand where a space was)
_HELP_PATTERNS = (
    (r"\s*<list\[Path\]>", ""), (r"<path>", "<路径>"), (r"<int>", "<整数>"), (r"<str>", "<文字>"),
    (r"<float(?:\s+range)?>", "<数>"), (r"<int\s+range>", "<整数>"),
    (r"\[default:\s+", "[默认："), (r";\s+x>=(\S+?)\]", r"；不小于\1]"), (r";\s+x<=(\S+?)\]", r"；不大于\1]"),
    (r"\[OPTIONS\]", "[选项]"), (r"COMMAND \[ARGS\]\.\.\.", "命令 [参数]..."),
)


def _translate(text: str) -> str:
    import re
    for english, chinese in _HELP_WORDS:
        text = text.replace(english, chinese)
    for pattern, chinese in _HELP_PATTERNS:
        text = re.sub(pattern, chinese, text)
    return text


def _width(text: str) -> int:
    """Columns a text takes on a terminal: a Chinese character takes two."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


_NO_LINE_START = "，。、；：？！）》」』”’】]"  # punctuation that never begins a line
_NO_LINE_END = "（《「『“‘【["  # nor ends one


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` columns: Chinese breaks between any two characters, a run of
    Latin letters and digits only at a space."""
    lines: list[str] = []
    line = ""
    for word in re.findall(r"[A-Za-z0-9_./|\-<>:=,;@]+ ?|.", " ".join(text.split())):
        if line and _width(line + word.rstrip()) > width and word[0] not in _NO_LINE_START:
            carry = ""
            while line and line[-1] in _NO_LINE_END:  # an opening bracket goes with what it opens
                carry, line = line[-1] + carry, line[:-1]
            lines.append(line.rstrip())
            line = carry + word.lstrip()
        else:
            line += word
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def _chinese_rows(formatter: Any) -> None:
    """Translate the option and argument rows and lay them out by terminal columns (a Chinese
    character is two wide: click counts it as one, and its columns would not line up)."""
    def write_dl(rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(_translate(a), _translate(b)) for a, b in rows]
        indent = " " * formatter.current_indent
        first = min(max((_width(a) for a, _ in rows), default=0), col_max) + col_spacing
        text_width = max(formatter.width - first - formatter.current_indent, 20)
        for term, text in rows:
            formatter.write(f"{indent}{term}")
            if not text:
                formatter.write("\n")
                continue
            if _width(term) <= first - col_spacing:
                formatter.write(" " * (first - _width(term)))
            else:
                formatter.write("\n" + indent + " " * first)
            lines = _wrap(text, text_width)
            formatter.write(lines[0] + "\n")
            for line in lines[1:]:
                formatter.write(f"{indent}{' ' * first}{line}\n")
    formatter.write_dl = write_dl


def _chinese_help(formatter: Any) -> None:
    import re
    text = "".join(formatter.buffer)
    for english, chinese in _HELP_WORDS:
        text = text.replace(english, chinese)
    for pattern, chinese in _HELP_PATTERNS:
        text = re.sub(pattern, chinese, text)
    formatter.buffer[:] = [text]


class _ChineseHelp:
    """`--help` in Chinese, for a command and for the group alike (mixed in before typer's class)."""

    def get_help_option(self, ctx: Any) -> Any:
        return _chinese_help_option(super().get_help_option(ctx))  # type: ignore[misc]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _chinese_rows(formatter)
        super().format_help(ctx, formatter)  # type: ignore[misc]
        _chinese_help(formatter)


class _Command(_ChineseHelp, TyperCommand):
    pass


class _Group(_ChineseHelp, TyperGroup):
    """Turns an exception that escapes a command (a bug, not the clerk's fault) into one Chinese
    line and exit status 5; `--debug` prints the traceback instead. Ctrl-C exits 130. A usage
    error (exit status 2) is explained in Chinese."""

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
        except BrokenPipeError:  # `budgetgen catalog … | head`: the reader has all it wants
            _quiet_stdout()
            ctx.exit(0)
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


def _quiet_stdout() -> None:
    """Standard output's reader is gone: what is still buffered goes nowhere, quietly (a pipe
    closed by `head` is not an error of ours or the clerk's)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # pragma: no cover - no real stdout
        pass


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
        except BrokenPipeError:  # `… -o - | head`: the reader has all it wants
            _quiet_stdout()
            raise typer.Exit(0) from None
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
                                  help="每个文件的时间上限（秒），超时的文件停止，其余照常"),
    report: Path | None = typer.Option(None, "--report",
                                       help="另把汇总写成 JSON 文件（每个文件的状态、问题及位置、"
                                            "生成的文件、页数、用时），供脚本读取"),
    units: bool = typer.Option(False, "--units", help="部门文件列有所属单位时，另为每个所属单位生成单位预算"),
    layout: str | None = typer.Option(None, "--layout", help=LAYOUT_HELP, metavar="KEY|PATH"),
    pdf_variant: str | None = typer.Option(
        None, "--pdf-variant", metavar="pdf/a-3b|pdf/ua-1",
        help="PDF 变体：pdf/a-3b（长期存档，带 XMP 声明）或 pdf/ua-1（带标签，供读屏软件）；默认普通 PDF"),
    force: bool = typer.Option(False, "--force", help="即使输入未变化也重新生成"),
    draft: bool = typer.Option(False, "--draft",
                               help="生成草稿：有未完成事项（占位文字、待复核、缺增减原因、空白部分）也生成，"
                                    "每页印“草稿”；不加时这样的文件不生成"),
    verbose: bool = typer.Option(False, "-v", "--verbose",
                                 help="另列出所属单位、内部往来抵消，以及 PDF 的排版方式（单进程或两核）及原因"),
    executor: str = typer.Option("local", "--executor", metavar="local|dask://HOST:PORT",
                                 help="在哪里生成：local（本机，-j 个进程，默认）或 dask://主机:8786"
                                      "（Dask 集群，每个部门一个任务；需 pip install 'budgetgen[dask]'，"
                                      "见 docs/dask.md）"),
    send_back: bool = typer.Option(False, "--send-back",
                                   help="与 --executor dask:// 同用：工作节点把结果传回本机、由本机写入输出目录"
                                        "（工作节点看不到共享输出目录时）"),
) -> None:
    """检查并生成 PDF / XLSX / HTML；有错误或未完成事项的文件不生成（草稿加 --draft），其余照常生成。"""
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
        if "pdf" not in formats:  # never silently dropped
            raise typer.BadParameter(f"--pdf-variant 只用于 PDF，但 -f 没有 pdf（收到：{fmt}）",
                                     param_hint="--pdf-variant")
        formats = tuple(pdf_variant.lower() if f == "pdf" else f for f in formats)
    names = [str(f) for f in files]
    if str(out) == "-":
        if len(names) != 1 or len(formats) != 1:
            raise typer.BadParameter("-o - 只能用于一个输入文件、一种格式（如 -f pdf）", param_hint="-o")
        # options that have nothing to act on when the one output goes to the screen
        for given, option, why in ((report is not None, "--report", "汇总报告"),
                                   (units, "--units", "所属单位的单位预算")):
            if given:
                raise typer.BadParameter(f"-o - 只向屏幕输出一个文件，不能同时用 {option}（{why}无处写入）；"
                                         f"请改用 -o 输出目录", param_hint="-o")
        from .jobs import render_stdout
        outcome = render_stdout(names[0], formats[0], layout, draft, timeout)
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
                                skip_unchanged=not force, draft=draft, timeout=timeout)]
        if outcomes[0].status == "skipped":  # the warnings of the render it skipped, again
            from .cache import SKIPPED
            for p in outcomes[0].problems:
                typer.echo(format_problem(p))
            typer.echo(f"{names[0]}：{SKIPPED}（输出与输入一致；加 --force 可重新生成）")
        else:
            _print_outcome(outcomes[0], verbose=verbose)
            for path in outcomes[0].outputs:
                typer.echo(f"已生成 {path}")
    else:
        from .batch import render_batch
        from .dask_batch import ClusterError
        from .jobs import options
        from .manifest import Manifest
        manifest = Manifest(out, formats, options(units, layout, draft))
        try:
            outcomes = render_batch(names, str(out), formats, jobs or os.cpu_count() or 1, units=units,
                                    layout=layout, force=force, timeout=timeout, draft=draft,
                                    executor=address, send_back=send_back, manifest=manifest)
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
    year: int | None = typer.Option(None, "--year", help="预算年度（默认：明年；没有该年的科目目录时会提示）"),
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
    from ..catalog import catalog_year
    import datetime
    chosen = int(year) if year is not None else datetime.date.today().year + 1  # as starter_text
    if catalog_year(chosen) != chosen:
        typer.echo(f"注意：预算年度为{chosen}年{'（默认：明年）' if year is None else ''}，本程序还没有{chosen}年的科目目录，"
                   f"检查时按{catalog_year(chosen)}年目录；年度不对请用 --year 指定")
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
    to: int = typer.Option(..., "--to", help="新的预算年度，如 2026（可跨几年，逐年滚动）"),
    out: Path = typer.Option(..., "-o", "--out", help="写入的新文件；- 表示输出到屏幕"),
    force: bool = typer.Option(False, "--force", help="覆盖已有的普通文件（从不替换链接、文件夹或设备）"),
) -> None:
    """由本年文件生成下年草稿：本年数成为上年对比数，金额保留为起始值，要复核的写入 review 清单；可跨几年。"""
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
        typer.echo(f"已写出 {out}（{to}年草稿）：文件开头的 review 列出待复核事项，逐项核对、修改后删去；"
                   "全部删去前 render 只生成草稿（--draft）")


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

from .serve import register as _register_serve  # noqa: E402  (its web dependencies load on use)

_register_serve(app)


def main() -> None:
    stdout = sys.stdout
    try:
        app(prog_name="budgetgen")
    except SystemExit as exc:
        from .quickexit import quick_exit
        code = exc.code
        # click answers a broken pipe of its own output (help text) by replacing sys.stdout
        # with a quiet one and exiting 1: the reader (`| head`) stopped reading, not an error
        if sys.stdout is not stdout and code == 1:
            _quiet_stdout()
            code = 0
        try:
            sys.stdout.flush()
        except BrokenPipeError:  # the reader (`| head`) stopped reading: end quietly
            _quiet_stdout()
        except (OSError, ValueError):
            pass
        quick_exit(code)


if __name__ == "__main__":
    main()
