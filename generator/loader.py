"""Load stage: YAML bytes → a plain tree of raw scalar text, with a source mark for every node.

Nothing is constructed from tags, so nothing can be executed; every scalar stays the text the
clerk typed (money is parsed to Decimal later, never through float). Duplicate keys, aliases,
explicit tags, oversized files and undecodable bytes are reported as located problems.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .problems import Location, Problem, error, warning

try:  # libyaml is much faster; marks are the same
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python fallback
    _Loader = yaml.SafeLoader

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
_ALLOWED_TAGS = {f"tag:yaml.org,2002:{t}" for t in
                 ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")}

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


def _decode(raw: bytes, file: str) -> tuple[str | None, str, list[Problem]]:
    here = Location(file, 1, 1)
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError:
            return None, "", [error("文件编码", "文件以 UTF-16 标记开头，但内容无法按 UTF-16 解码", here)]
    try:
        return raw.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as exc:
        bad = exc
    # GBK/GB18030 files are common on Chinese Windows: accept them only when the reading is
    # unambiguous (decodes cleanly, contains Chinese, no control characters).
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text and any("\u4e00" <= ch <= "\u9fff" for ch in text) and not any(
            ord(ch) < 32 and ch not in "\t\r\n" for ch in text):
        return text, "gb18030", [warning(
            "文件编码", "文件不是 UTF-8 编码，已按 GBK/GB18030 读取；建议另存为 UTF-8", here)]
    line = raw[:bad.start].count(b"\n") + 1
    col = bad.start - (raw.rfind(b"\n", 0, bad.start) + 1) + 1
    return None, "", [error("文件编码", f"文件不是有效的 UTF-8 文本（第{bad.start + 1}字节无法解码），"
                            "请用 UTF-8 编码保存", Location(file, line, col))]


_YAML_HINTS = (
    ("'\\t'", "YAML 不允许用制表符（Tab）缩进，请改用空格"),
    ("mapping values are not allowed", "此处不能出现“键: 值”：检查缩进，或给含冒号的文字加引号"),
    ("could not find expected ':'", "缺少冒号“:”，或缩进不一致"),
    ("did not find expected key", "缩进不一致，或列表项“- ”与键混用"),
    ("did not find expected '-' indicator", "列表项缩进不一致"),
    ("found undefined tag handle", "不允许的标签（!…）"),
    ("found unexpected end of stream", "文件意外结束：引号或括号没有闭合"),
    ("found unknown escape character", "双引号文字中有无效的转义“\\”，可改用单引号"),
    ("expected <block end>", "缩进不一致"),
)


def _yaml_problem(exc: yaml.YAMLError, file: str, text: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
    detail = getattr(exc, "problem", None) or str(exc)
    hint = next((h for key, h in _YAML_HINTS if key in str(detail)), None)
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        hint = _YAML_HINTS[0][1]
    elif hint is None and "cannot start any token" in str(detail):
        hint = "此处有无法识别的字符（以 @、`、% 开头的文字请加引号）"
    msg = f"YAML 语法错误：{hint}" if hint else f"YAML 语法错误（{detail}）"
    return error("YAML语法", msg, loc)


class _Walker:
    def __init__(self, file: str):
        self.file = file
        self.marks: dict = {}
        self.key_marks: dict = {}
        self.problems: list[Problem] = []
        self.seen: set[int] = set()

    def loc(self, node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def walk(self, node, path: tuple, depth: int = 0, where=None):
        if id(node) in self.seen:  # an alias: the same node reached twice
            self.problems.append(error("YAML别名", "不支持锚点与别名（&、*）：请把内容直接写出",
                                       where or self.loc(node)))
            return None
        self.seen.add(id(node))
        if depth > MAX_DEPTH:
            self.problems.append(error("YAML嵌套", f"嵌套超过{MAX_DEPTH}层", self.loc(node)))
            return None
        self.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if node.tag not in _ALLOWED_TAGS:
            self.problems.append(error("YAML标签", f"不允许的标签 {node.tag}：输入文件只能包含文字、数字、"
                                       "列表和映射", self.loc(node), found=node.tag))
            return None
        if isinstance(node, yaml.ScalarNode):
            if node.tag.endswith(":null"):
                return None
            return node.value
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, path + (i,), depth + 1, self.loc(node))
                    for i, item in enumerate(node.value)]
        out: dict = {}
        first: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _ALLOWED_TAGS:
                self.problems.append(error("YAML键", "键必须是简单文字", self.loc(key_node)))
                continue
            key = key_node.value
            if key == "<<":
                self.problems.append(error("YAML别名", "不支持合并键“<<”", self.loc(key_node)))
                continue
            if key in first:
                line0 = first[key].start_mark.line + 1
                self.problems.append(error(
                    "重复键", f"键“{key}”重复：第{line0}行已有同名键，后写的值会覆盖前面的值",
                    self.loc(key_node), expected="每个键只出现一次", found=f"第{line0}行与第"
                    f"{key_node.start_mark.line + 1}行"))
                continue
            first[key] = key_node
            self.key_marks[path + (key,)] = (key_node.start_mark.line + 1,
                                             key_node.start_mark.column + 1)
            out[key] = self.walk(value_node, path + (key,), depth + 1, self.loc(key_node))
        return out


def load_text(text: str, file: str = "<input>", encoding: str = "utf-8") -> tuple[RawDoc | None, list[Problem]]:
    if "\x00" in text:
        return None, [error("文件编码", "文件含有空字符（\\0），不是文本文件", Location(file, 1, 1))]
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc, file, text)]
    except RecursionError:
        return None, [error("YAML嵌套", "嵌套层次过深", Location(file, 1, 1))]
    if len(nodes) != 1 or nodes[0] is None:
        what = "空文件" if not nodes or nodes[0] is None else f"含有{len(nodes)}个 YAML 文档（---）"
        return None, [error("YAML结构", f"输入应为一个 YAML 文档，但这是{what}", Location(file, 1, 1))]
    walker = _Walker(file)
    data = walker.walk(nodes[0], ())
    if not isinstance(data, dict):
        walker.problems.append(error("YAML结构", "文件顶层应为映射（department:、expenditure: 等键）",
                                     Location(file, 1, 1)))
        return None, walker.problems
    return RawDoc(file, data, walker.marks, walker.key_marks, encoding), walker.problems


def load_file(path: str | Path) -> tuple[RawDoc | None, list[Problem]]:
    """Read one department file. Returns (RawDoc or None, problems)."""
    name = str(path)
    try:
        p = Path(path)
        size = p.stat().st_size
        if size > MAX_BYTES:
            return None, [error("文件过大", f"文件有{size}字节，超过上限{MAX_BYTES}字节",
                                Location(name))]
        raw = p.read_bytes()
    except OSError as exc:
        return None, [error("文件读取", f"无法读取文件：{exc.strerror or exc}", Location(name))]
    text, encoding, problems = _decode(raw, name)
    if text is None:
        return None, problems
    doc, more = load_text(text, name, encoding)
    return doc, problems + more
