"""Load stage: YAML bytes → a plain tree of raw scalar text, with a source mark for every node.

The tree is built straight from the parser's event stream: no node is ever constructed from a
tag and no alias is ever resolved, so nothing can be executed and nothing can be expanded
(a "billion laughs" file costs one event per alias). Every scalar stays the text the clerk
typed (money is parsed to Decimal later, never through float). Duplicate keys, anchors and
aliases, explicit tags, complex keys, oversized or over-deep files, control characters and
undecodable bytes are reported as located problems, in Chinese.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .problems import Location, Problem, error, warning

try:  # libyaml is much faster; marks are the same
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python fallback
    _Loader = yaml.SafeLoader

MAX_BYTES = 5 * 1024 * 1024  # a real department file is ~30 KB
MAX_NODES = 100_000  # a real department file has ~1,500 YAML nodes
MAX_DEPTH = 64
MAX_TEXT = 10_000  # characters in one value; the longest real one is ~260 (an XLSX cell holds 32,767)
MAX_REPORTED = 20  # problems of one kind listed before "……另有N处"
_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {f"{_CORE}{t}" for t in
                 ("str", "int", "float", "bool", "map", "seq", "timestamp")} | {"!"}  # no !!null
_NULLS = {"", "~", "null", "Null", "NULL"}

# Characters YAML itself forbids (C0 controls other than tab/newline, DEL, C1 controls other than
# NEL, surrogates, U+FFFE/U+FFFF). A NUL is reported on its own: it means "not a text file".
_BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
# Invisible characters that reorder how text is displayed: legal, but a figure or a name can look
# different from what is stored ("Trojan source"), so they are pointed out.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")

Path_ = tuple  # a path into the tree: keys (str) and list indices (int)


@dataclass
class RawDoc:
    """The loaded tree (dict / list / str / None) and where each node stood in the file."""
    file: str
    data: object
    marks: dict = field(default_factory=dict)  # path → (line, column), 1-based
    key_marks: dict = field(default_factory=dict)  # path of a mapping value → mark of its key
    encoding: str = "utf-8"

    def locate(self, path=()) -> Location:
        """The location of `path`, or of its nearest ancestor that exists in the file."""
        path = tuple(path)
        while path and path not in self.marks:
            path = path[:-1]
        line, col = self.marks.get(path, (1, 1))
        return Location(self.file, line, col)

    def locate_key(self, path) -> Location:
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


def _char_name(ch: str) -> str:
    if ch == "\x00":
        return "空字符（\\0）"
    if "\ud800" <= ch <= "\udfff":
        return f"无效的代理字符（U+{ord(ch):04X}）"
    return f"控制字符（U+{ord(ch):04X}）"


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


# --------------------------------------------------------------------------- events → tree

class _Stop(Exception):
    """Reading stops: the file is refused as a whole (the problem is already recorded)."""


class _Frame:
    __slots__ = ("kind", "out", "path", "flow", "key", "first", "prev")

    def __init__(self, kind: str, path: tuple, flow: bool):
        self.kind = kind  # "map" | "seq"
        self.out = {} if kind == "map" else []
        self.path = path
        self.flow = flow
        self.key = None  # map: the pending key (str), _SKIP, or None when a key is expected
        self.first: dict = {}  # map: key → (line, col) of its first occurrence
        self.prev = None  # flow map: (key, value event) of the last plain number value


_SKIP = object()  # the pending value belongs to a refused key: read and drop it
_NO_VALUE = object()


class _Builder:
    def __init__(self, file: str, text: str):
        self.file = file
        self.text = text
        self.marks: dict = {}
        self.key_marks: dict = {}
        self.problems: list[Problem] = []
        self.stack: list[_Frame] = []
        self.root = _NO_VALUE
        self.root_mark = None
        self.skip = 0  # > 0: inside a refused subtree, events are consumed and dropped
        self.nodes = 0
        self.docs = 0
        self.anchors: dict = {}  # anchor name → mark of its definition
        self.aliases: dict = {}  # anchor name → marks of its uses
        self.counts: dict = {}
        self.thousands_warned = set()

    # -- helpers
    def loc(self, mark) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def add(self, rule: str, message: str, mark, severity=error, **kw) -> None:
        n = self.counts.get(rule, 0) + 1
        self.counts[rule] = n
        if n <= MAX_REPORTED:
            self.problems.append(severity(rule, message, self.loc(mark), **kw))

    def clean(self, value: str, mark) -> str:
        """Scalar text with characters that cannot be printed replaced (and reported)."""
        if len(value) > MAX_TEXT:
            self.add("文字过长", f"这段文字有{len(value)}个字符，超过上限{MAX_TEXT}个字符：请检查是否误粘贴了"
                     "整篇文档（一段说明通常只有几百字）", mark)
            value = value[:MAX_TEXT]
        bad = _BAD_CHAR.search(value)
        if bad:
            self.add("文字字符", f"文字中含有{_char_name(bad.group())}（多为双引号中的“\\”转义写法）：请删除",
                     mark)
            value = _BAD_CHAR.sub("\ufffd", value)
        if _BIDI.search(value):
            self.add("文字字符", "文字中含有看不见的文字方向控制字符（U+202A–U+202E、U+2066–U+2069），"
                     "显示出来的顺序可能与实际内容不同：请删除", mark, severity=warning)
        return value

    def tag_ok(self, event) -> bool:
        tag = event.tag
        if tag is None or tag in _ALLOWED_TAGS:
            return True
        shown = tag[len(_CORE):] if tag.startswith(_CORE) else tag
        shown = _BAD_CHAR.sub("\ufffd", shown)[:80]
        self.add("YAML标签", f"不允许的标签“!{'!' if tag.startswith(_CORE) else ''}{shown.lstrip('!')}”："
                 "输入文件只能包含文字、数字、列表和映射，标签一律不执行", event.start_mark,
                 found=shown)
        return False

    def count(self, event) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.add("文件过大", f"文件含有超过{MAX_NODES}个条目，远超一个部门预算文件的规模，已停止读取",
                     event.start_mark)
            raise _Stop

    # -- the slot a new node goes into: its path, or None to drop it
    def slot(self, event):
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if frame.kind == "seq":
            return frame.path + (len(frame.out),)
        if frame.key is None:  # this node is a key
            return "key"
        if frame.key is _SKIP:
            return None
        return frame.path + (frame.key,)

    def deliver(self, value, event) -> None:
        if not self.stack:
            self.root = value
            return
        frame = self.stack[-1]
        if frame.kind == "seq":
            frame.out.append(value)
            return
        key = frame.key
        frame.key = None
        if key is _SKIP:
            return
        frame.out[key] = value
        if frame.flow:
            plain_number = (isinstance(event, yaml.ScalarEvent) and not event.style
                            and _NUMBER.fullmatch(event.value))
            frame.prev = (key, event) if plain_number else None

    def take_key(self, event, frame: _Frame) -> None:
        """`event` stands where a key is expected in `frame`."""
        if not isinstance(event, yaml.ScalarEvent):
            self.add("YAML键", "键必须是简单文字（不能是列表、映射或“? ”复杂键）", event.start_mark)
            frame.key = _SKIP
            return
        if not self.tag_ok(event):
            frame.key = _SKIP
            return
        key = self.clean(event.value, event.start_mark)
        mark = (event.start_mark.line + 1, event.start_mark.column + 1)
        if key == "<<" and not event.style:
            self.add("YAML别名", "不支持合并键“<<”：请把内容直接写出", event.start_mark)
            frame.key = _SKIP
            return
        # {basic: 1,234.50}: in a flow mapping the comma splits the number into "1" and a key
        # "234.50" without a value. Put the number back together; the money parser then says
        # "no thousands separators" at the right place.
        prev = frame.prev
        if (prev is not None and not event.style and _NUMBER.fullmatch(key)
                and self.text[prev[1].end_mark.index:event.start_mark.index] == ","):
            frame.prev = None
            frame.key = ("\0merge", prev, key)
            return
        if key in frame.first:
            line0, col0 = frame.first[key]
            where = f"第{line0}行第{col0}列" if line0 == mark[0] else f"第{line0}行"
            self.add("重复键", f"键“{key}”重复：{where}已有同名键“{key}”，此处（第{mark[0]}行）又写了一次；"
                     "请删去其中一个", event.start_mark, expected="每个键只出现一次",
                     found=f"第{line0}行与第{mark[0]}行")
            frame.key = _SKIP
            return
        frame.first[key] = mark
        frame.key = key
        self.key_marks[frame.path + (key,)] = mark

    def merge_thousands(self, frame: _Frame, pending, event) -> bool:
        """Finish a "1,234.50" repair when the split-off key turns out to have no value."""
        _, (prev_key, prev_event), tail = pending
        frame.key = None
        if isinstance(event, yaml.ScalarEvent) and not event.style and event.value == "" \
                and event.tag is None:
            merged = f"{frame.out[prev_key]},{tail}"
            frame.out[prev_key] = merged
            end = yaml.ScalarEvent(None, None, (True, False), merged, prev_event.start_mark,
                                   event.end_mark)
            frame.prev = (prev_key, end)
            return True
        # "234: 5" really is a key with a value: treat it as an ordinary key after all
        frame.key = tail
        if tail in frame.first:
            frame.key = _SKIP
        else:
            mark = (prev_event.end_mark.line + 1, prev_event.end_mark.column + 2)
            frame.first[tail] = mark
            self.key_marks[frame.path + (tail,)] = mark
        return False

    # -- the event loop
    def feed(self, event) -> None:
        if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
            return
        if isinstance(event, yaml.DocumentStartEvent):
            self.docs += 1
            if self.docs > 1:
                self.add("YAML结构", f"输入应为一个 YAML 文档，但第{event.start_mark.line + 1}行的“---”"
                         "又开始了另一个文档：一个文件只写一个部门", event.start_mark)
                raise _Stop
            return
        if self.skip:
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                self.skip += 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                self.skip -= 1
            return
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = self.stack.pop()
            if frame.kind == "map" and isinstance(frame.key, tuple):  # "{a: 1,234}" at the end
                pending, frame.key = frame.key, None
                _, (prev_key, _), tail = pending
                frame.out[prev_key] = f"{frame.out[prev_key]},{tail}"
            self.deliver(frame.out, event)
            return
        self.count(event)
        frame = self.stack[-1] if self.stack else None
        if frame is not None and frame.kind == "map" and isinstance(frame.key, tuple):
            if self.merge_thousands(frame, frame.key, event):
                return
        path = self.slot(event)
        if path == "key":
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                self.take_key(event, frame)
                self.skip = 1
            elif isinstance(event, yaml.AliasEvent):
                self.alias(event)
                frame.key = _SKIP
            else:
                self.anchor(event)
                self.take_key(event, frame)
            return
        if path is not None:
            self.marks[path] = (event.start_mark.line + 1, event.start_mark.column + 1)
        if isinstance(event, yaml.AliasEvent):
            self.alias(event)
            self.deliver(None, event)
            return
        self.anchor(event)
        if isinstance(event, yaml.ScalarEvent):
            if not self.tag_ok(event):
                value = None
            elif event.tag == f"{_CORE}null" or (not event.style and event.tag is None
                                                   and event.value in _NULLS):
                value = None
            else:
                value = self.clean(event.value, event.start_mark)
            self.deliver(None if path is None else value, event)
            return
        # a collection starts
        kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
        refused = not self.tag_ok(event)
        if not refused and len(self.stack) >= MAX_DEPTH:
            self.add("YAML嵌套", f"嵌套超过{MAX_DEPTH}层，远超输入格式所需", event.start_mark)
            refused = True
        if refused or path is None:
            self.skip = 1
            self.deliver(None, event)
            return
        self.stack.append(_Frame(kind, path, bool(event.flow_style)))

    def anchor(self, event) -> None:
        name = getattr(event, "anchor", None)
        if name is not None and name not in self.anchors:
            self.anchors[name] = event.start_mark

    def alias(self, event) -> None:
        self.aliases.setdefault(event.anchor, []).append(event.start_mark)

    def finish(self) -> None:
        """One problem per anchor (with where it is used), and per alias without an anchor."""
        for name, mark in self.anchors.items():
            uses = self.aliases.pop(name, [])
            shown = _BAD_CHAR.sub("\ufffd", name)[:40]
            lines = sorted({m.line + 1 for m in uses})
            where = (f"，第{'、'.join(map(str, lines[:5]))}行{'等' if len(lines) > 5 else ''}"
                     f"共{len(uses)}处用“*{shown}”引用了它") if uses else ""
            self.add("YAML别名", f"不支持锚点与别名：此处定义了锚点“&{shown}”{where}；请把内容直接写出",
                     mark)
        for name, uses in self.aliases.items():
            shown = _BAD_CHAR.sub("\ufffd", name)[:40]
            self.add("YAML别名", f"不支持别名“*{shown}”（也没有对应的锚点“&{shown}”）：请把内容直接写出",
                     uses[0])

    def summarize(self) -> None:
        for rule, n in self.counts.items():
            if n > MAX_REPORTED:
                last = next(p for p in reversed(self.problems) if p.rule == rule)
                make = error if last.is_error else warning
                self.problems.append(make(rule, f"同类问题另有{n - MAX_REPORTED}处未列出", last.location))


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
    builder = _Builder(file, text)
    try:
        for event in yaml.parse(text, Loader=_Loader):
            builder.feed(event)
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc, file, text)]
    except _Stop:
        builder.summarize()
        return None, builder.problems
    except RecursionError:  # pragma: no cover - the builder does not recurse
        return None, [error("YAML嵌套", "嵌套层次过深", Location(file, 1, 1))]
    builder.finish()
    builder.summarize()
    data = builder.root
    if data is _NO_VALUE or (data is None and builder.docs <= 1 and not builder.problems):
        return None, [error("YAML结构", "输入应为一个 YAML 文档，但这是空文件（或只有注释）",
                            Location(file, 1, 1))]
    if not isinstance(data, dict):
        what = {list: "列表", str: "一段文字"}.get(type(data), "空值")
        builder.problems.append(error("YAML结构", f"文件顶层应为映射（department:、expenditure: 等键），"
                                      f"而这里是{what}", Location(file, 1, 1)))
        return None, builder.problems
    doc = RawDoc(file, data, builder.marks, builder.key_marks, encoding)
    doc.marks.setdefault((), (1, 1))
    return doc, builder.problems


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


def _os_reason(exc: OSError) -> str:
    """Why a file could not be opened, in Chinese."""
    if isinstance(exc, FileNotFoundError):
        return "文件不存在（请检查路径和文件名）"
    if isinstance(exc, IsADirectoryError):
        return "这是一个文件夹，不是文件"
    if isinstance(exc, PermissionError):
        return "没有读取权限"
    return f"系统错误（{exc.strerror or exc}）"
