"""Load stage: YAML bytes → a plain tree of raw scalar text, with a source mark for every node.

Bytes become text here (UTF-8, or an unambiguous GBK file, with located problems for anything
else); the text becomes the tree in generator/yamltree.py (a Composer and a Constructor over the
parser's events: no tag executed, no alias expanded, every scalar kept as typed); a file that is
not YAML gets a hint in Chinese saying what to fix (yamlerrors.py). Duplicate keys, anchors and aliases, explicit
tags, complex keys, oversized or over-deep files, control characters and undecodable bytes are
all reported as located problems.
"""
from __future__ import annotations

import codecs
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .problems import Location, Problem, error, warning
from .yamltree import BAD_CHAR as _BAD_CHAR
from .yamltree import MAX_DEPTH, MAX_NODES, MAX_REPORTED, MAX_TEXT, NO_DOCUMENT, Stop, build_tree
from .yamltree import char_name as _char_name
from .yamlerrors import yaml_problem

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
        return None, [yaml_problem(exc, file, text)]
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
