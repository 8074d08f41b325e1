"""A YAML parser error → one located Chinese problem with a hint a clerk can act on.

The parser's own words are English and differ between libyaml (PyYAML's C loader) and PyYAML's
pure-Python parser, and between releases (PyYAML 6.0.4's libyaml stops a deeply nested file
with "exceeded maximum nesting depth"). They are only read here, to tell which kind of mistake
it is (KINDS, matched against both spellings); they are never shown. An error of a kind not
listed gets a general Chinese wording (FALLBACK), so no English reaches a user whatever the
parser's version. tests/test_yaml_errors.py provokes each kind with both parsers.
"""
from __future__ import annotations

import re
from typing import Any

from .problems import Location, Problem, error

TAB = "YAML 不允许用制表符（Tab）缩进或对齐，请改用空格"
FALLBACK = ("此处无法解析，不是有效的 YAML：请检查这一行和上一行的缩进（只用空格）、"
            "“键: 值”的冒号（半角，后面加空格）以及引号和括号是否成对")
NESTING = "嵌套层数超过解析器的上限，远超输入格式所需（部门预算文件只需几层缩进）"

# (kind, pattern matched against "problem | context" in lower case, hint); first match wins.
# Patterns on the context come first: they tell a tag's, a directive's or a block scalar's
# error apart from the same words elsewhere.
KINDS: tuple[tuple[str, str, str], ...] = (
    ("nesting", r"nesting depth|max(imum)? depth", NESTING),
    ("tab", r"\\t'|tab character", TAB),
    ("tag", r"tag handle|tag uri|scanning a tag|parsing a tag|expected uri|expected '>'|the expected '>'",
     "不允许的标签（以“!”开头）：输入文件只能包含文字、数字、列表和映射；以“!”开头的文字请加引号"),
    ("directive", r"directive|version number|incompatible yaml document",
     "以“%”开头的行是 YAML 指令，这里无效：删除这一行（以“%”开头的文字请加引号）"),
    ("block scalar", r"block scalar|chomping|indentation indicator",
     "“|”或“>”之后只能换行，多行文字从下一行开始并缩进；以“|”“>”开头的文字请加引号"),
    ("anchor", r"scanning an (anchor|alias)",
     "“&”或“*”后面缺少名称：以“&”“*”开头的文字请加引号"),
    ("unicode escape", r"unicode character escape",
     "双引号文字中的“\\u…”或“\\x…”转义不是有效的字符，请直接写出文字"),
    ("escape", r"escape|hexa?decimal",
     "双引号文字中有无效的转义“\\”：可改用单引号，或把“\\”写作“\\\\”"),
    ("document indicator", r"document (indicator|separator)",
     "引号内有一行以“---”或“...”开头：多半是前面的引号没有闭合"),
    ("document start", r"document start",
     "文件结束标记“...”之后还有内容（一个文件只写一个部门）"),
    ("sequence entry", r"sequence entries are not allowed",
     "此处不能开始列表项“- ”：列表项应另起一行，且比它所属的键多缩进"),
    ("mapping key", r"mapping keys are not allowed",
     "此处不能用“?”开始一个键：以“?”开头的文字请加引号"),
    ("mapping value", r"mapping values are not allowed|unexpected ':'",
     "此处不能出现“键: 值”：检查缩进，或给含冒号的文字加引号"),
    ("colon", r"could not find expected ':'|simple key", "缺少冒号“:”，或缩进不一致"),
    ("flow sequence", r"',' or ']'", "方括号“[”没有闭合（或两项之间缺少逗号）"),
    ("flow mapping", r"',' or '}'", "花括号“{”没有闭合（或两项之间缺少逗号）"),
    ("end of stream", r"unexpected end of stream", "文件意外结束：引号或括号没有闭合"),
    ("dash indicator", r"expected '-' indicator", "列表项缩进不一致"),
    ("key", r"did not find expected key|expected <block end>", "缩进不一致，或列表项“- ”与键混用"),
    ("node content", r"node content", "此处缺少内容，或有多余的逗号、括号"),
    ("token", r"cannot start any token", "此处有无法识别的字符"),
    ("character", r"control characters|special characters|utf-8|unacceptable character",
     "此处有不能出现在文本文件中的字符（多由复制粘贴带入），请删除"),
)

_FULLWIDTH_COLON = re.compile(r"^\s*(- )?[^\s:#'\"][^:#]*?\s*：")
_NO_SPACE_COLON = re.compile(r"^\s*(- )?[A-Za-z_][A-Za-z0-9_]*:[^\s]")
_LONE_DASH = re.compile(r"^\s*(-\s+)*[^\s#'\"][^#]*?:\s+-\s*(#.*)?$")
_QUOTE_START = re.compile(r"""^\s*(?:-\s+)*(?:[^\s#'"\[{][^#]*?:\s+)?(["'])""")


def kind_of(problem: str, context: str = "") -> str:
    """The kind of a parser error from its (English) problem and context; "" when unknown."""
    text = f"{problem} | {context}".lower()
    return next((kind for kind, pattern, _ in KINDS if re.search(pattern, text)), "")


def _hint(kind: str) -> str:
    return next((hint for k, _, hint in KINDS if k == kind), FALLBACK)


def _unclosed_quote(lines: list[str], before: int) -> tuple[int, int] | None:
    """(line, column) of a quoted value that opens on a line and does not close on it, searching
    lines before `before` (0-based). A quoted text may legally run over several lines, and then
    the parser fails far below the real mistake."""
    for n in range(min(before, len(lines)) - 1, -1, -1):
        m = _QUOTE_START.match(lines[n])
        if not m:
            continue
        quote, rest = m.group(1), lines[n][m.end():]
        closed = (re.search(r'(?<!\\)(?:\\\\)*"', rest) if quote == '"'
                  else re.search(r"'(?!')", rest.replace("''", "")))
        if closed:
            return None
        if any(quote in line for line in lines[n + 1:before]):
            return None  # it closes before the error: a quoted text over several lines, not a slip
        return n + 1, m.start(1) + 1
    return None


def _previous_line(lines: list[str], line: int) -> int | None:
    """The last line before `line` (0-based) with something other than a comment on it."""
    for n in range(min(line, len(lines)) - 1, -1, -1):
        if lines[n].strip() and not lines[n].lstrip().startswith("#"):
            return n
    return None


def yaml_problem(exc: Any, file: str, text: str) -> Problem:
    """The located Chinese problem for a yaml.YAMLError raised while parsing `text`."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    cmark = getattr(exc, "context_mark", None)
    if mark is None and getattr(exc, "position", None) is not None:  # a reader error
        line = text.count("\n", 0, exc.position)
        mark = type("Mark", (), {"line": line, "column": exc.position - (text.rfind("\n", 0, exc.position) + 1)})
    loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
    problem = str(getattr(exc, "problem", None) or getattr(exc, "reason", None) or exc)
    context = str(getattr(exc, "context", None) or "")
    kind = kind_of(problem, context)
    if kind == "nesting":
        return error("YAML嵌套", NESTING, loc)
    lines = text.split("\n")
    here = lines[mark.line] if mark and mark.line < len(lines) else ""
    at = here[mark.column] if mark is not None and mark.column < len(here) else ""
    hint = _hint(kind)
    opened = f"第{cmark.line + 1}行第{cmark.column + 1}列" if cmark else "前面"
    if kind in ("flow sequence", "flow mapping"):
        hint = f"{opened}的{hint}"
    elif kind == "end of stream" and "quoted scalar" in context:
        hint = f"{opened}开始的引号没有闭合"
    elif (mark is not None and "quoted scalar" not in context and kind != "document start"
          and (quote := _unclosed_quote(lines, mark.line)) is not None):
        hint = f"第{quote[0]}行第{quote[1]}列开始的引号没有闭合（引号内的文字一直延续到了这里）"
    elif at == "\t":
        hint = TAB
    elif kind == "token":
        hint = (f"此处的“{at}”不能用在文字开头（以 @、`、%、| 等开头的文字请加引号）" if at
                else "此处有无法识别的字符")
    elif kind == "sequence entry" and _LONE_DASH.match(here):
        hint = ("“-”在 YAML 中表示列表项，不能代表零：金额为零请写 0（或留空）；"
                "“-”是从 Excel 复制来的零的写法，文字“-”请加引号")
    elif kind == "key" and mark is not None and here[:mark.column].rstrip()[-1:] in ("'", '"'):
        hint = "引号结束后还有文字：整段文字都应放在引号内（或去掉引号）"
    # a full-width colon (：), "key:value" without a space or a key with no colon at all, on this
    # line or the one above, is the usual cause of "mapping values" / "expected key" errors
    if mark is not None and kind in ("mapping value", "colon", "key", "dash indicator", ""):
        above = _previous_line(lines, mark.line)
        for n in (mark.line, above):
            if n is None or n >= len(lines):
                continue
            if _FULLWIDTH_COLON.match(lines[n]):
                hint = f"第{n + 1}行的冒号是全角“：”，键后面应为半角冒号加空格（“: ”）"
                break
            if _NO_SPACE_COLON.match(lines[n]):
                hint = f"第{n + 1}行的冒号后面缺少空格（应写作“键: 值”）"
                break
        else:
            if kind == "mapping value" and above is not None and ":" not in lines[above] \
                    and not lines[above].lstrip().startswith("- ") \
                    and len(lines[above]) - len(lines[above].lstrip()) == len(here) - len(here.lstrip()):
                hint = f"第{above + 1}行缺少冒号：应写作“键: 值”（冒号为半角，后面加空格）"
    return error("YAML语法", f"YAML 语法错误：{hint}", loc)
