"""YAML text → a plain tree of raw scalar text with a source mark for every node (the loader's core).

Two small stages over the parser's events, as `yaml.compose` and a constructor would do it:

- `_Composer` (a yaml.composer.Composer fed by the C parser's event stream) builds the node graph
  and refuses what must never be expanded or trusted: an alias is recorded and becomes an empty
  node (a "billion laughs" file costs one node per alias), a collection carrying a foreign tag
  is skipped unread; a collection nested deeper than MAX_DEPTH, more than MAX_NODES nodes or a
  second document stop the reading (the depth before any parser's own limit: libyaml of
  PyYAML 6.0.4 stops at 1000 levels).
- `_Constructor` turns the nodes into dict / list / str / None: every scalar stays the text the
  clerk typed (money is parsed to Decimal later, never through float), no tag is ever executed,
  duplicate keys, merge keys and complex keys are refused, and each node's (line, column) is
  recorded by its path for the problems of later stages.

All refusals are located problems, in Chinese.
"""
from __future__ import annotations

import gc
import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .problems import Location, Problem, error, warning
from .yamlerrors import kind_of

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
BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
# Invisible characters that reorder how text is displayed: legal, but a figure or a name can look
# different from what is stored ("Trojan source"), so they are pointed out.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")

Path = tuple  # a path into the tree: keys (str) and list indices (int)
Mark = tuple[int, int]  # (line, column), 1-based


def char_name(ch: str) -> str:
    if ch == "\x00":
        return "空字符（\\0）"
    if "\ud800" <= ch <= "\udfff":
        return f"无效的代理字符（U+{ord(ch):04X}）"
    return f"控制字符（U+{ord(ch):04X}）"


class Stop(Exception):
    """Reading stops: the file is refused as a whole (the problem is already recorded)."""


class _Problems:
    """Problems of one file, at most MAX_REPORTED of a kind, then one line for the rest."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[Problem] = []
        self.counts: dict[str, int] = {}

    def add(self, rule: str, message: str, mark: Any, severity: Any = error, **kw: Any) -> None:
        n = self.counts.get(rule, 0) + 1
        self.counts[rule] = n
        if n <= MAX_REPORTED:
            self.items.append(severity(rule, message, Location(self.file, mark.line + 1,
                                                                mark.column + 1), **kw))

    def tag_refused(self, node_or_event: Any) -> bool:
        """True (and a problem) for an explicit tag other than YAML's core ones: never executed."""
        tag = node_or_event.tag
        if not tag or tag in _ALLOWED_TAGS:
            return False
        shown = tag[len(_CORE):] if tag.startswith(_CORE) else tag
        shown = BAD_CHAR.sub("\ufffd", shown)[:80]
        self.add("YAML标签", f"不允许的标签“!{'!' if tag.startswith(_CORE) else ''}{shown.lstrip('!')}”："
                 "输入文件只能包含文字、数字、列表和映射，标签一律不执行", node_or_event.start_mark,
                 found=shown)
        return True

    def summarized(self) -> list[Problem]:
        out = list(self.items)
        for rule, n in self.counts.items():
            if n > MAX_REPORTED:
                last = next(p for p in reversed(out) if p.rule == rule)
                make = error if last.is_error else warning
                out.append(make(rule, f"同类问题另有{n - MAX_REPORTED}处未列出", last.location))
        return out


_ALIAS, _SCALAR = yaml.AliasEvent, yaml.ScalarEvent
_COLLECTION_STARTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)


class _Alias(ScalarNode):
    """Where an alias stood: an empty value (aliases are refused, never expanded)."""


class _Refused(ScalarNode):
    """A collection skipped unread (foreign tag, too deep): an empty value."""


class _Composer(Composer):
    """yaml.compose's Composer, reading the (C) parser's events; explicit tags are kept as written
    (never resolved), anchors and aliases recorded, limits enforced while reading."""

    def __init__(self, parser: Any, problems: _Problems):
        # the parser's own event methods (C functions with libyaml): no Python layer per event
        self.peek_event = parser.peek_event
        self.get_event = parser.get_event
        self.check_event = parser.check_event
        self.problems = problems
        self.anchors: dict[Any, Any] = {}  # name → mark of its first definition
        self.aliases: dict[str, list[Any]] = {}  # name → marks of its uses
        self.nodes = 0
        self.depth = 0
        self.docs = 0

    def compose_stream(self) -> Node | None:
        """The one document's root node (None for an empty stream)."""
        self.get_event()  # StreamStart
        root = None
        while not self.check_event(yaml.StreamEndEvent):
            start = self.get_event()  # DocumentStart
            self.docs += 1
            if self.docs > 1:
                self.problems.add("YAML结构", f"输入应为一个 YAML 文档，但第{start.start_mark.line + 1}行的“---”"
                                  "又开始了另一个文档：一个文件只写一个部门", start.start_mark)
                raise Stop
            root = self.compose_node(None, None)
            self.get_event()  # DocumentEnd
        return root

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event: Any = self.peek_event()
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.problems.add("文件过大", f"文件含有超过{MAX_NODES}个条目，远超一个部门预算文件的规模，已停止读取",
                              event.start_mark)
            raise Stop
        kind = event.__class__  # (not isinstance: the C parser's marks do not narrow to the stubs' Mark)
        if kind is _ALIAS:
            self.get_event()
            self.aliases.setdefault(event.anchor, []).append(event.start_mark)
            return _Alias("", "", event.start_mark, event.end_mark)
        if event.anchor is not None and event.anchor not in self.anchors:
            self.anchors[event.anchor] = event.start_mark
        if kind is _SCALAR:
            self.get_event()
            return ScalarNode(event.tag or "", event.value, event.start_mark, event.end_mark, event.style)
        if self.problems.tag_refused(event) or self._too_deep(event):
            return self.skip_node()
        self.depth += 1
        try:
            if kind is yaml.SequenceStartEvent:
                return self.compose_sequence_node(None)
            return self.compose_mapping_node(None)
        finally:
            self.depth -= 1

    def _too_deep(self, event: Any) -> bool:
        if self.depth < MAX_DEPTH:
            return False
        self.problems.add("YAML嵌套", f"嵌套超过{MAX_DEPTH}层，远超输入格式所需", event.start_mark)
        raise Stop

    def compose_sequence_node(self, anchor: Any) -> SequenceNode:
        start = self.get_event()
        items = []
        peek, end_kind = self.peek_event, yaml.SequenceEndEvent
        while peek().__class__ is not end_kind:
            items.append(self.compose_node(None, None))
        end = self.get_event()
        return SequenceNode(start.tag or "", items, start.start_mark, end.end_mark, start.flow_style)

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        start = self.get_event()
        pairs = []
        peek, end_kind = self.peek_event, yaml.MappingEndEvent
        while peek().__class__ is not end_kind:
            key = self.compose_key()
            pairs.append((key, self.compose_node(None, None) if key is not None else self.skip_node()))
        end = self.get_event()
        return MappingNode(start.tag or "", pairs, start.start_mark, end.end_mark, start.flow_style)

    def compose_key(self) -> Node | None:
        """A key: a plain scalar. A collection or an alias as a key is refused (None: the value
        is then read past without being kept)."""
        event = self.peek_event()
        if event.__class__ in _COLLECTION_STARTS:
            self.problems.add("YAML键", "键必须是简单文字（不能是列表、映射或“? ”复杂键）", event.start_mark)
            self.nodes += 1
            self.skip_node()
            return None
        node = self.compose_node(None, None)
        return None if node.__class__ is _Alias else node

    def skip_node(self) -> Node:
        """Read past one node and everything in it, keeping nothing."""
        event = self.get_event()
        depth = 1 if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)) else 0
        while depth:
            inner = self.get_event()
            if isinstance(inner, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
            elif isinstance(inner, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        return _Refused("", "", event.start_mark, event.end_mark)

    def report_aliases(self) -> None:
        """One problem per anchor (with where it is used), and per alias without an anchor."""
        for name, mark in self.anchors.items():
            uses = self.aliases.pop(name, [])
            shown = BAD_CHAR.sub("\ufffd", name)[:40]
            lines = sorted({m.line + 1 for m in uses})
            where = (f"，第{'、'.join(map(str, lines[:5]))}行{'等' if len(lines) > 5 else ''}"
                     f"共{len(uses)}处用“*{shown}”引用了它") if uses else ""
            self.problems.add("YAML别名", f"不支持锚点与别名：此处定义了锚点“&{shown}”{where}；请把内容直接写出",
                              mark)
        for name, uses in self.aliases.items():
            shown = BAD_CHAR.sub("\ufffd", name)[:40]
            self.problems.add("YAML别名", f"不支持别名“*{shown}”（也没有对应的锚点“&{shown}”）：请把内容直接写出",
                              uses[0])


class _Constructor:
    """Nodes → dict / list / str / None, with the mark of every node and of every key."""

    def __init__(self, text: str, problems: _Problems):
        self.text = text
        self.problems = problems
        self.marks: dict[Path, Mark] = {}
        self.key_marks: dict[Path, Mark] = {}

    def construct(self, node: Node, path: Path) -> Any:
        self.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, MappingNode):
            return self.mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.construct(item, path + (i,)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self.scalar(node)

    def scalar(self, node: ScalarNode) -> str | None:
        if isinstance(node, (_Alias, _Refused)) or self.problems.tag_refused(node):
            return None
        if node.tag == f"{_CORE}null" or (not node.style and not node.tag and node.value in _NULLS):
            return None
        return self.clean(node.value, node.start_mark)

    def clean(self, value: str, mark: Any) -> str:
        """Scalar text with characters that cannot be printed replaced (and reported)."""
        if len(value) > MAX_TEXT:
            self.problems.add("文字过长", f"这段文字有{len(value)}个字符，超过上限{MAX_TEXT}个字符：请检查是否误粘贴了"
                              "整篇文档（一段说明通常只有几百字）", mark)
            value = value[:MAX_TEXT]
        bad = BAD_CHAR.search(value)
        if bad:
            self.problems.add("文字字符", f"文字中含有{char_name(bad.group())}（多为双引号中的“\\”转义写法）：请删除",
                              mark)
            value = BAD_CHAR.sub("\ufffd", value)
        if _BIDI.search(value):
            self.problems.add("文字字符", "文字中含有看不见的文字方向控制字符（U+202A–U+202E、U+2066–U+2069），"
                              "显示出来的顺序可能与实际内容不同：请删除", mark, severity=warning)
        return value

    def mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first: dict[str, Mark] = {}
        pairs = _thousands(node, self.text) if node.flow_style else [(k, v, None) for k, v in node.value]
        for key_node, value_node, merged in pairs:
            key = self.key(key_node, first)
            if key is None:
                if isinstance(value_node, ScalarNode) and not isinstance(value_node, (_Alias, _Refused)):
                    self.scalar(value_node)  # not kept, but what is wrong in it is still said
                continue
            out[key] = merged if merged is not None else self.construct(value_node, path + (key,))
            if merged is not None:
                self.marks[path + (key,)] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
            self.key_marks[path + (key,)] = first[key]
        return out

    def key(self, node: Node | None, first: dict[str, Mark]) -> str | None:
        """The key's text, or None when it is refused (the pair is then dropped)."""
        if not isinstance(node, ScalarNode) or isinstance(node, _Refused) or self.problems.tag_refused(node):
            return None
        key = self.clean(node.value, node.start_mark)
        mark = (node.start_mark.line + 1, node.start_mark.column + 1)
        if key == "<<" and not node.style:
            self.problems.add("YAML别名", "不支持合并键“<<”：请把内容直接写出", node.start_mark)
            return None
        if key in first:
            line0, col0 = first[key]
            where = f"第{line0}行第{col0}列" if line0 == mark[0] else f"第{line0}行"
            self.problems.add("重复键", f"键“{key}”重复：{where}已有同名键“{key}”，此处（第{mark[0]}行）又写了一次；"
                              "请删去其中一个", node.start_mark, expected="每个键只出现一次",
                              found=f"第{line0}行与第{mark[0]}行")
            return None
        first[key] = mark
        return key


def _plain_number(node: Node) -> bool:
    return (isinstance(node, ScalarNode) and not isinstance(node, (_Alias, _Refused)) and not node.style
            and not node.tag and _NUMBER.fullmatch(node.value) is not None)


def _thousands(node: MappingNode, text: str) -> list[tuple[Node, Node, str | None]]:
    """{basic: 1,234.50}: in a flow mapping the comma splits the number into "1" and a key
    "234.50" without a value. Put the number back together (the third item is the merged text);
    the money parser then says "no thousands separators" at the right place."""
    out: list[tuple[Node, Node, str | None]] = []
    for key, value in node.value:
        if out and key is not None and _plain_number(key) \
                and (out[-1][2] is not None or _plain_number(out[-1][1])) \
                and isinstance(value, ScalarNode) and not value.style and value.value == "" \
                and not value.tag and not isinstance(value, (_Alias, _Refused)) \
                and text[out[-1][1].end_mark.index:key.start_mark.index] == ",":
            prev_key, prev_value, merged = out[-1]
            joined = f"{merged if merged is not None else prev_value.value},{key.value}"
            tail = ScalarNode("", joined, prev_value.start_mark, key.end_mark)
            out[-1] = (prev_key, tail, joined)
            continue
        out.append((key, value, None))
    return out


def build_tree(text: str, file: str, loader: Any, retry: bool = True) -> tuple[Any, dict[Path, Mark], dict[Path, Mark], int, list[Problem]]:
    """(tree, marks, key marks, number of documents, problems). Raises Stop when the file is
    refused as a whole, and yaml.YAMLError when it is not YAML."""
    problems = _Problems(file)
    parser = loader(text)
    composer = _Composer(parser, problems)
    collecting = gc.isenabled()
    gc.disable()  # up to MAX_NODES acyclic nodes: the cycle collector would only rescan the heap
    try:
        root = composer.compose_stream()
    except Stop:
        raise Stop(problems.summarized()) from None
    except yaml.YAMLError as exc:
        if problems.counts.get("YAML嵌套"):  # the parser's own depth limit (libyaml of PyYAML
            raise Stop(problems.summarized()) from None  # ≥ 6.0.4), met while skipping what
        mark = getattr(exc, "problem_mark", None)        # the composer refused already
        if retry and mark is not None and kind_of(str(getattr(exc, "problem", "")),
                                                  str(getattr(exc, "context", ""))) == "nesting":
            # libyaml's scanner, looking ahead, met its limit before the composer saw MAX_DEPTH
            # levels: the text up to there is read again, and the composer stops it at
            # MAX_DEPTH — the same message at the same place with any PyYAML
            try:
                build_tree(text[:mark.index], file, loader, retry=False)
            except yaml.YAMLError:
                pass  # (the cut text's own end): the message below, from the parser's error
        raise
    finally:
        parser.dispose()
        if collecting:
            gc.enable()
    composer.report_aliases()
    constructor = _Constructor(text, problems)
    data = constructor.construct(root, ()) if root is not None else _NO_DOCUMENT
    return data, constructor.marks, constructor.key_marks, composer.docs, problems.summarized()


_NO_DOCUMENT = object()
NO_DOCUMENT = _NO_DOCUMENT
