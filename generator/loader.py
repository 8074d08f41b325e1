"""Load stage: YAML bytes → a plain tree of raw scalar text, with a source mark for every node.

Bytes become text here (UTF-8, or an unambiguous GBK file, with located problems for anything
else); the text becomes the tree in generator/yamltree.py (a Composer and a Constructor over the
parser's events: no tag executed, no alias expanded, every scalar kept as typed); a file that is
not YAML gets a hint in Chinese saying what to fix. Duplicate keys, anchors and aliases, explicit
tags, complex keys, oversized or over-deep files, control characters and undecodable bytes are
all reported as located problems.
"""
from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .problems import Location, Problem, error, warning
from .yamltree import BAD_CHAR as _BAD_CHAR
from .yamltree import MAX_DEPTH, MAX_NODES, MAX_REPORTED, MAX_TEXT, NO_DOCUMENT, Stop, build_tree
from .yamltree import char_name as _char_name

# libyaml is much faster; marks are the same
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = 5 * 1024 * 1024  # a real department file is ~30 KB
__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "MAX_REPORTED", "MAX_TEXT", "RawDoc",
           "load_file", "load_text"]


@dataclass
class RawDoc:
    """The loaded tree (dict / list / str / None) and where each node stood in the file."""
    file: str
    data: object
    marks: dict = field(default_factory=dict)  # path → (line, column), 1-based
    key_marks: dict = field(default_factory=dict)  # path of a mapping value → mark of its key
    encoding: str = "utf-8"

    def locate(self, path: Iterable[str | int] = ()) -> Location:
        """The location of `path`, or of its nearest ancestor that exists in the file."""
        path = tuple(path)
        while path and path not in self.marks:
            path = path[:-1]
        line, col = self.marks.get(path, (1, 1))
        return Location(self.file, line, col)

    def locate_key(self, path: Iterable[str | int]) -> Location:
        path = tuple(path)
        if path in self.key_marks:
            line, col = self.key_marks[path]
            return Location(self.file, line, col)
        return self.locate(path)


# --------------------------------------------------------------------------- bytes → text

def _line_col(raw: bytes, pos: int, encoding: str = "utf-8") -> tuple[int, int]:
    """1-based line and column (in characters, as an editor counts) of byte offset `pos`."""
    line = raw.count(b"\n", 0, pos) + 1
    start = raw.rfind(b"\n", 0, pos) + 1
    col = len(raw[start:pos].decode(encoding, errors="replace")) + 1
    return line, col


def _looks_utf8(raw: bytes) -> bool:
    """True when most non-ASCII text decodes as UTF-8: a UTF-8 file with a few bad bytes, not
    a GBK file (whose Chinese practically never forms valid UTF-8 sequences)."""
    text = raw.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - raw.decode("utf-8", errors="ignore").count("\ufffd")
    good = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")  # UTF-8 Chinese: 3-byte sequences
    return good > bad


def _decode(raw: bytes, file: str) -> tuple[str | None, str, list[Problem]]:
    here = Location(file, 1, 1)
    for bom, name in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            if name == "utf-8-sig":
                raw = raw[len(bom):]
                break
            try:
                return raw.decode(name), name, []
            except UnicodeDecodeError:
                label = name.upper()
                return None, "", [error("文件编码", f"文件以 {label} 标记开头，但内容无法按 {label} 解码；"
                                        "请用 UTF-8 编码另存", here)]
    nul = raw.find(b"\x00")
    if nul >= 0:
        # UTF-16 without a byte-order mark: every other byte of ASCII text is zero
        head = raw[:65536]
        odd, even = head[1::2].count(0), head[0::2].count(0)
        # (some CJK characters, such as 一 U+4E00, have a zero byte too: look for a clear majority)
        if len(raw) % 2 == 0 and max(odd, even) >= 8 and min(odd, even) * 10 <= max(odd, even):
            return None, "", [error("文件编码", "文件像是没有 BOM 标记的 UTF-16 编码，无法可靠读取；"
                                    "请用 UTF-8 编码另存", here)]
        line, col = _line_col(raw, nul)
        return None, "", [error("文件编码", f"第{line}行第{col}列有空字符（\\0）：这不是文本文件，"
                                "或文件已损坏", Location(file, line, col))]
    try:
        return raw.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as exc:
        bad = exc
    # GBK/GB18030 files are common on Chinese Windows: accept them only when the reading is
    # unambiguous (not a damaged UTF-8 file, decodes cleanly, contains Chinese, no controls).
    text = None
    if not _looks_utf8(raw):
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            text = None
    if text and any("\u4e00" <= ch <= "\u9fff" for ch in text) and not _BAD_CHAR.search(text):
        return text, "gb18030", [warning(
            "文件编码", "文件不是 UTF-8 编码，已按 GBK/GB18030 读取；建议另存为 UTF-8", here)]
    line, col = _line_col(raw, bad.start)
    return None, "", [error("文件编码", f"第{line}行第{col}列的字节（第{bad.start + 1}字节，"
                            f"0x{raw[bad.start]:02X}）既不是有效的 UTF-8，也不是可辨认的 GBK 文字："
                            "文件可能已损坏，请用 UTF-8 编码重新保存", Location(file, line, col))]


def _text_position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


# --------------------------------------------------------------------------- YAML errors

_YAML_HINTS = (
    ("'\\t'", "YAML 不允许用制表符（Tab）缩进，请改用空格"),
    ("mapping values are not allowed", "此处不能出现“键: 值”：检查缩进，或给含冒号的文字加引号"),
    ("could not find expected ':'", "缺少冒号“:”，或缩进不一致"),
    ("did not find expected key", "缩进不一致，或列表项“- ”与键混用"),
    ("did not find expected '-' indicator", "列表项缩进不一致"),
    ("found undefined tag handle", "不允许的标签（!…）"),
    ("found unknown escape character", "双引号文字中有无效的转义“\\”，可改用单引号"),
    ("expected <block end>", "缩进不一致"),
    ("did not find expected node content", "此处缺少内容，或有多余的括号"),
    ("did not find expected <document start>", "文件结束标记“...”之后还有内容"),
    ("duplicate %YAML directive", "重复的 %YAML 指令"),
    ("invalid Unicode character escape", "双引号文字中的“\\u…”或“\\x…”转义不是有效的字符，请直接写出文字"),
)
_QUOTE_START = re.compile(r"""^\s*(?:-\s+)*(?:[^\s#'"\[{][^#]*?:\s+)?(["'])""")


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


def _yaml_problem(exc: yaml.YAMLError, file: str, text: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    cmark = getattr(exc, "context_mark", None)
    loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
    detail = str(getattr(exc, "problem", None) or exc)
    context = str(getattr(exc, "context", None) or "")
    lines = text.split("\n")
    here = lines[mark.line] if mark and mark.line < len(lines) else ""
    hint = next((h for key, h in _YAML_HINTS if key in detail), None)
    opened = f"第{cmark.line + 1}行第{cmark.column + 1}列" if cmark else "前面"
    if "did not find expected ',' or '}'" in detail:
        hint = f"{opened}的花括号“{{”没有闭合（或两项之间缺少逗号）"
    elif "did not find expected ',' or ']'" in detail:
        hint = f"{opened}的方括号“[”没有闭合（或两项之间缺少逗号）"
    elif "found unexpected end of stream" in detail:
        hint = (f"{opened}开始的引号没有闭合" if "quoted scalar" in context
                else "文件意外结束：引号或括号没有闭合")
    elif (mark is not None and "quoted scalar" not in context
          and (quote := _unclosed_quote(lines, mark.line)) is not None):
        hint = f"第{quote[0]}行第{quote[1]}列开始的引号没有闭合（引号内的文字一直延续到了这里）"
    elif mark is not None and mark.column < len(here) and here[mark.column] == "\t":
        hint = _YAML_HINTS[0][1]
    elif "cannot start any token" in detail:
        ch = here[mark.column] if mark is not None and mark.column < len(here) else ""
        hint = f"此处的“{ch}”不能用在文字开头（以 @、`、%、| 等开头的文字请加引号）" if ch \
            else "此处有无法识别的字符"
    # a full-width colon （：）or "key:value" without a space, on this line or the one above,
    # is the usual cause of "mapping values" / "expected key" errors
    if mark is not None and hint and ("键" in hint or "缩进" in hint or "冒号" in hint):
        for n in (mark.line, mark.line - 1):
            if 0 <= n < len(lines) and re.match(r"^\s*(- )?[A-Za-z_]+\s*：", lines[n]):
                hint = f"第{n + 1}行的冒号是全角“：”，键后面应为半角冒号加空格（“: ”）"
                break
            if 0 <= n < len(lines) and re.match(r"^\s*(- )?[A-Za-z_]+:[^\s]", lines[n]):
                hint = f"第{n + 1}行的冒号后面缺少空格（应写作“键: 值”）"
                break
    msg = f"YAML 语法错误：{hint}" if hint else f"YAML 语法错误：此处无法解析（{detail}）"
    return error("YAML语法", msg, loc)


def load_text(text: str, file: str = "<input>", encoding: str = "utf-8") -> tuple[RawDoc | None, list[Problem]]:
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return None, [error("文件过大", f"文件超过上限{MAX_BYTES}字节（一个部门的预算文件通常只有几十KB）",
                            Location(file))]
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = _BAD_CHAR.search(text)
    if bad:
        line, col = _text_position(text, bad.start())
        more = len(_BAD_CHAR.findall(text)) - 1
        tail = f"（另有{more}处）" if more else ""
        what = "这不是文本文件，或文件已损坏" if bad.group() == "\x00" else "请删除（多由复制粘贴带入）"
        return None, [error("文件编码", f"第{line}行第{col}列有{_char_name(bad.group())}{tail}：{what}",
                            Location(file, line, col))]
    try:
        data, marks, key_marks, docs, problems = build_tree(text, file, _Loader)
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc, file, text)]
    except Stop as stop:
        return None, list(stop.args[0])
    if data is NO_DOCUMENT or (data is None and docs <= 1 and not problems):
        return None, [error("YAML结构", "输入应为一个 YAML 文档，但这是空文件（或只有注释）",
                            Location(file, 1, 1))]
    if not isinstance(data, dict):
        what = "列表" if isinstance(data, list) else "一段文字" if isinstance(data, str) else "空值"
        problems.append(error("YAML结构", f"文件顶层应为映射（department:、expenditure: 等键），"
                              f"而这里是{what}", Location(file, 1, 1)))
        return None, problems
    doc = RawDoc(file, data, marks, key_marks, encoding)
    doc.marks.setdefault((), (1, 1))
    return doc, problems


def load_file(path: str | Path) -> tuple[RawDoc | None, list[Problem]]:
    """Read one department file. Returns (RawDoc or None, problems)."""
    name = str(path)
    from .infile import line_separators, read_input  # regular files only, size-limited
    raw, refused = read_input(path, MAX_BYTES)
    if raw is None:
        return None, refused
    text, encoding, problems = _decode(raw, name)
    if text is None:
        return None, problems
    separators = line_separators(text, name)
    if separators:
        return None, problems + separators
    doc, more = load_text(text, name, encoding)
    return doc, problems + more
