"""Edits of the clerk's YAML text in place, by position: everything outside the changed value
stays byte for byte (comments, order, blank lines, flow or block style, quoting).

The text is composed (yaml.compose: nodes with their start and end positions, nothing
constructed or executed) and one span is replaced: a scalar's text, a new `key: value` after a
mapping's last entry, a sequence item added, removed or swapped with its neighbour. Every edit
is read back with the project's loader (generator/loader.py) and refused (EditError) unless the
new text reads as exactly the intended value — a new value can never break the file.
"""
from __future__ import annotations

import json
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ...loader import load_text

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Path = tuple  # keys (str) and list indices (int)
_NULLS = {"", "~", "null", "Null", "NULL"}
# a plain scalar that reads back as itself in flow context, and in block context only
_PLAIN_FLOW = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`][^\n,\[\]{}#]*")
_PLAIN_BLOCK = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`][^\n#]*")


class EditError(ValueError):
    """The edit cannot be made (the message is Chinese and shown to the clerk)."""


def compose(text: str) -> Node:
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise EditError(f"文件不是有效的 YAML，无法在页面上修改：{exc}") from None
    if not isinstance(root, MappingNode):
        raise EditError("文件顶层不是映射，无法在页面上修改")
    return root


def _child(node: Node, key: str | int) -> Node | None:
    if isinstance(node, MappingNode) and isinstance(key, str):
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.value == key:
                return v
        return None
    if isinstance(node, SequenceNode) and isinstance(key, int):
        return node.value[key] if 0 <= key < len(node.value) else None
    return None


def find(root: Node, path: Path) -> Node | None:
    node: Node | None = root
    for key in path:
        if node is None:
            return None
        node = _child(node, key)
    return node


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and not node.style and node.value in _NULLS


# --------------------------------------------------------------------------- writing values

def scalar(value: str | None, style: str | None = None, block: bool = False) -> str:
    """`value` as YAML text that the loader reads back as exactly `value` (None: null);
    `block`: it stands in block context (commas and brackets may then be written plain)."""
    if value is None:
        return "~"
    if style == "'" and "\n" not in value:
        return "'" + value.replace("'", "''") + "'"
    plain = _PLAIN_BLOCK if block else _PLAIN_FLOW
    if style != '"' and plain.fullmatch(value) and value == value.strip() and value not in _NULLS \
            and ": " not in value and " #" not in value and not value.endswith(":"):
        return value
    return json.dumps(value, ensure_ascii=False)


def flow(value: Any) -> str:
    """A small value (text, list, mapping) in YAML flow style."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(None if value is None else str(value))


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    n = text.find("\n", index)
    return len(text) if n < 0 else n


def _content_end(node: Node) -> int:
    """Where the node's own text ends (a block collection's end mark lies after the comments
    and blank lines that follow it: use its last descendant's end)."""
    if isinstance(node, ScalarNode) or getattr(node, "flow_style", False):
        return node.end_mark.index
    if isinstance(node, MappingNode):
        if not node.value:
            return node.start_mark.index
        k, v = node.value[-1]
        return max(k.end_mark.index, _content_end(v))
    assert isinstance(node, SequenceNode)
    return _content_end(node.value[-1]) if node.value else node.start_mark.index


def _dash(text: str, item: Node) -> int:
    """The index of the `- ` that opens a block sequence item."""
    i = text.rfind("-", 0, item.start_mark.index + 1)
    if i < 0:
        raise EditError("找不到列表项的“-”")
    return i


def _column(text: str, index: int) -> int:
    return index - _line_start(text, index)


# --------------------------------------------------------------------------- the edits

def set_scalar(text: str, path: Path, value: str | None) -> str:
    """Replace the value at `path` (a scalar, or a missing key: then added). Raises EditError."""
    root = compose(text)
    node = find(root, path)
    if node is None:
        return _insert(text, root, path, value)
    if not isinstance(node, ScalarNode):
        raise EditError("此处是列表或映射，不能直接写入一个值")
    style = node.style if node.style in ("'", '"') else None
    start, end = node.start_mark.index, node.end_mark.index
    block = not _in_flow(root, path)
    new = scalar(value, style, block)
    if _is_null(node) and start == end:  # `key:` with nothing after it
        new = " " + new if start and text[start - 1] == ":" else new
    candidate = text[:start] + new + text[end:]
    if candidate == text:  # the value as it is written already
        return text
    try:
        return _verified(candidate, path, value)
    except EditError:
        if new.startswith(('"', " \"")):
            raise
        quoted = (" " if new.startswith(" ") else "") + scalar(value, '"')
        return _verified(text[:start] + quoted + text[end:], path, value)


def _in_flow(root: Node, path: Path) -> bool:
    """True when the node at `path` stands inside a flow collection ([…] or {…})."""
    node: Node | None = root
    for key in path[:-1] if path else ():
        node = _child(node, key) if node is not None else None
        if node is not None and getattr(node, "flow_style", False):
            return True
    return False


def _insert(text: str, root: Node, path: Path, value: Any) -> str:
    """Add the missing part of `path` under its nearest existing mapping."""
    n = len(path) - 1
    while n > 0 and find(root, path[:n]) is None:
        n -= 1
    parent = find(root, path[:n])
    rest = path[n:]
    if any(isinstance(k, int) for k in rest):
        raise EditError("列表中没有这一行")
    nested: Any = value
    for key in reversed(rest[1:]):
        nested = {key: nested}
    key = rest[0]
    if parent is not None and _is_null(parent) and n:
        # `key:` with an empty value becomes `key: {…}`
        return _verified(_replace_node(text, parent, flow(nested) if isinstance(nested, dict)
                                       else scalar(nested)), path, value)
    if not isinstance(parent, MappingNode):
        raise EditError("此处不是映射，无法添加")
    return _verified(_add_pair(text, parent, str(key), nested), path, value)


def _replace_node(text: str, node: Node, new: str) -> str:
    start, end = node.start_mark.index, node.end_mark.index
    if start == end and start and text[start - 1] == ":":
        new = " " + new
    return text[:start] + new + text[end:]


def _add_pair(text: str, mapping: MappingNode, key: str, value: Any) -> str:
    rendered = flow(value) if isinstance(value, (dict, list)) else scalar(value)
    if mapping.flow_style:
        close = mapping.end_mark.index - 1
        sep = ", " if mapping.value else ""
        return text[:close].rstrip() + f"{sep}{key}: {rendered}" + text[close:] if mapping.value \
            else text[:close] + f"{key}: {rendered}" + text[close:]
    if not mapping.value:
        raise EditError("空映射无法添加")
    indent = mapping.value[0][0].start_mark.column
    at = _line_end(text, _content_end(mapping))
    if isinstance(value, list) and value and isinstance(value[0], dict):
        rendered = "\n" + "".join(f"{' ' * (indent + 2)}- {flow(v)}\n" for v in value).rstrip("\n")
    line = f"{' ' * indent}{key}:{'' if rendered.startswith(chr(10)) else ' '}{rendered}"
    if at >= len(text):
        return text + ("" if text.endswith("\n") or not text else "\n") + line + "\n"
    return text[:at] + "\n" + line + text[at:]


def _verified(new: str, path: Path, value: Any) -> str:
    doc, problems = load_text(new)
    data: Any = doc.data if doc is not None else None
    for key in path:
        if isinstance(data, dict) and isinstance(key, str) and key in data:
            data = data[key]
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            raise EditError("修改后无法读回这个值，未修改")
    if data != value and not (value == "" and data is None):
        raise EditError(f"修改后读回的值与输入不同（{data!r}），未修改")
    return new


def _sequence(text: str, path: Path) -> tuple[Node, SequenceNode | None]:
    root = compose(text)
    node = find(root, path)
    if node is not None and not isinstance(node, SequenceNode) and not _is_null(node):
        raise EditError("此处不是列表")
    return root, node if isinstance(node, SequenceNode) else None


def _item_text(item: Any, block_mapping: bool, dash_col: int) -> str:
    if block_mapping and isinstance(item, dict) and item:
        pad = " " * (dash_col + 2)
        lines = [f"{k}: {flow(v) if isinstance(v, (dict, list)) else scalar(v)}" for k, v in item.items()]
        return "- " + ("\n" + pad).join(lines)
    return "- " + flow(item)


def add_item(text: str, path: Path, item: Any, at: int | None = None) -> str:
    """Append `item` to the list at `path` (created when missing), or insert it before index
    `at`. Returns the new text; raises EditError."""
    root, seq = _sequence(text, path)
    if seq is None:
        node = find(root, path)
        if node is not None:  # `key:` with nothing: becomes `key: [item]`
            return _verified_len(_replace_node(text, node, flow([item])), path, 1)
        parent = find(root, path[:-1])
        if not isinstance(parent, MappingNode):
            if parent is None or _is_null(parent):
                return _verified_len(set_structure(text, path[:-1], {path[-1]: [item]}), path, 1)
            raise EditError("无法在此处添加列表")
        return _verified_len(_add_pair(text, parent, str(path[-1]), [item]), path, 1)
    count = len(seq.value)
    if seq.flow_style or not seq.value:
        if seq.value:
            if at is None or at >= count:
                end = seq.value[-1].end_mark.index
                new = text[:end] + ", " + flow(item) + text[end:]
            else:
                start = seq.value[at].start_mark.index
                new = text[:start] + flow(item) + ", " + text[start:]
        else:
            new = _replace_node(text, seq, flow([item]))
        return _verified_len(new, path, count + 1)
    dash_col = _column(text, _dash(text, seq.value[0]))
    block_mapping = isinstance(seq.value[0], MappingNode) and not seq.value[0].flow_style
    rendered = " " * dash_col + _item_text(item, block_mapping, dash_col)
    if at is None or at >= count:
        end = _line_end(text, _content_end(seq.value[-1]))
        new = text[:end] + "\n" + rendered + text[end:]
    else:
        start = _line_start(text, _dash(text, seq.value[at]))
        new = text[:start] + rendered + "\n" + text[start:]
    return _verified_len(new, path, count + 1)


def set_structure(text: str, path: Path, value: dict) -> str:
    """Put a whole mapping at `path` (missing or empty there)."""
    root = compose(text)
    node = find(root, path)
    if node is not None and not _is_null(node):
        raise EditError("此处已有内容")
    if node is not None:
        return _replace_node(text, node, flow(value))
    parent = find(root, path[:-1])
    if not isinstance(parent, MappingNode):
        raise EditError("无法在此处添加")
    return _add_pair(text, parent, str(path[-1]), value)


def _item_span(text: str, seq: SequenceNode, i: int) -> tuple[int, int]:
    """The text of item i: a block item from the start of its `- ` line to the end of its last
    line (comments between items stay where they are); a flow item its own text."""
    item = seq.value[i]
    if seq.flow_style:
        return item.start_mark.index, item.end_mark.index
    return _line_start(text, _dash(text, item)), _line_end(text, _content_end(item))


def remove_item(text: str, path: Path, index: int) -> str:
    _, seq = _sequence(text, path)
    if seq is None or not 0 <= index < len(seq.value):
        raise EditError("列表中没有这一行")
    count = len(seq.value)
    start, end = _item_span(text, seq, index)
    if seq.flow_style:
        if count == 1:
            new = text[:start] + text[end:]
        elif index < count - 1:
            new = text[:start] + text[seq.value[index + 1].start_mark.index:]
        else:
            new = text[:seq.value[index - 1].end_mark.index] + text[end:]
    elif count == 1:
        # the last row of a block list: the list becomes []
        key_end = text.rfind(":", 0, seq.start_mark.index)
        new = text[:key_end + 1] + " []" + text[end:]
    else:
        new = text[:start] + text[end + 1:]  # with its newline
    return _verified_len(new, path, count - 1)


def move_item(text: str, path: Path, index: int, delta: int) -> str:
    """Swap item `index` with its neighbour (delta -1: up, +1: down)."""
    _, seq = _sequence(text, path)
    other = index + delta
    if seq is None or not (0 <= index < len(seq.value) and 0 <= other < len(seq.value)):
        raise EditError("无法移动这一行")
    a, b = sorted((index, other))
    (s1, e1), (s2, e2) = _item_span(text, seq, a), _item_span(text, seq, b)
    new = text[:s1] + text[s2:e2] + text[e1:s2] + text[s1:e1] + text[e2:]
    return _verified_len(new, path, len(seq.value))


def _verified_len(new: str, path: Path, count: int) -> str:
    doc, _ = load_text(new)
    data: Any = doc.data if doc is not None else None
    for key in path:
        data = data.get(key) if isinstance(data, dict) else (
            data[key] if isinstance(data, list) and isinstance(key, int) and key < len(data) else None)
    if not isinstance(data, list) or len(data) != count:
        raise EditError("修改后列表的行数不对，未修改")
    return new
