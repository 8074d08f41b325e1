"""The editor's form, generated from the input file's JSON Schema (generator/schema.py) and the
file's raw tree: a new field in the model appears on the page without a new page.

`sections(data)` gives one view per top-level key of the schema, in the schema's order, each a
tree of plain dicts the template lays out:

- scalar: one input (amount, code picker, choice, text or paragraph), with its path and value;
- group: an object's fields;
- table: a list of flat objects (or of fixed-width rows, such as indicator rows), one row each;
- cards: a list of objects holding lists (projects, procurement groups), one card each;
- list: a list of texts (paragraphs, unit files);
- fixed: a list of a fixed number of values (a project's 资金支出计划).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ...model import _CHOICE_LABELS
from .session import field_id


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    from ...schema import json_schema
    return json_schema()


def resolve(s: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref and drop the `null` branch of an optional object or list."""
    defs = schema().get("$defs", {})
    for _ in range(20):
        if "$ref" in s:
            name = s["$ref"].rsplit("/", 1)[-1]
            s = {**defs[name], **{k: v for k, v in s.items() if k != "$ref"}}
            continue
        branches = [b for b in s.get("anyOf", []) if b.get("type") != "null"]
        if len(branches) == 1 and len(s.get("anyOf", [])) > 1:
            b = branches[0]
            if "$ref" in b or b.get("type") in ("object", "array") or "anyOf" in b:
                merged = {k: v for k, v in s.items() if k != "anyOf"}
                merged.update({k: v for k, v in b.items() if k not in ("description", "title")})
                s = merged
                continue
        return s
    return s


def _is_object(s: dict[str, Any]) -> bool:
    return "properties" in s


def _is_array(s: dict[str, Any]) -> bool:
    return s.get("type") == "array"


def _is_scalar(s: dict[str, Any]) -> bool:
    return not _is_object(s) and not _is_array(s)


def _message(s: dict[str, Any]) -> str:
    if "errorMessage" in s:
        return str(s["errorMessage"])
    for b in s.get("anyOf", []):
        if isinstance(b, dict) and "errorMessage" in b:
            return str(b["errorMessage"])
    return ""


def input_kind(s: dict[str, Any]) -> str:
    """amount | quantity | fcode | ecode | choice | text"""
    message = _message(s)
    if message.startswith("金额"):
        return "amount"
    if message.startswith("数量"):
        return "quantity"
    if "功能分类项级科目编码" in message:
        return "fcode"
    if "经济分类款级科目编码" in message:
        return "ecode"
    if "enum" in s:
        return "choice"
    return "text"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return ""
    return str(value)


def short(label: str) -> str:
    """A label without its closing remark in brackets: 支出功能分类项级科目编码（7位） → …编码."""
    return re.sub(r"（[^（）]*）$", "", label) or label


def _label(s: dict[str, Any], key: str | int) -> str:
    return str(s.get("title") or s.get("description") or key)


def _scalar(s: dict[str, Any], path: tuple, value: Any, label: str, key: str | int = "") -> dict[str, Any]:
    kind = input_kind(s)
    text = _text(value)
    node: dict[str, Any] = {"kind": "scalar", "path": path, "id": field_id(path), "label": label,
                            "key": key, "help": str(s.get("description", "")), "value": text,
                            "input": kind, "hint": _message(s)}
    if kind == "choice":
        keys = [v for v in s["enum"] if isinstance(v, str) and v and (v.isascii() or v in ("万元", "元"))]
        described = str(s.get("description", ""))
        options = [(k, _described(k, described) or _CHOICE_LABELS.get(k, k)) for k in keys]
        if text and text not in keys:
            options.insert(0, (text, text))
        node["options"] = options
        node["default"] = str(s.get("default") or "")
        node["default_label"] = dict(options).get(node["default"], node["default"])
    if kind == "text" and (len(text) > 40 or "\n" in text):
        node["input"] = "textarea"
    node["rows"] = rows(text)
    return node


def rows(text: str) -> int:
    """Lines a text box shows: enough for its text (about 40 Chinese characters a line), at most 8."""
    return max(1, min(8, sum(len(line) // 40 + 1 for line in text.split("\n"))))


def _described(key: str, description: str) -> str:
    """A choice's Chinese name where the field's description gives one ("department 部门预算")."""
    m = re.search(rf"\b{re.escape(key)}\s*([\u4e00-\u9fff][^，。；、（）()\s]*)", description)
    return m.group(1) if m else ""


def _columns(item: dict[str, Any]) -> list[tuple[str | int, dict[str, Any], str]]:
    """(key, schema, label) of each column of a table whose rows are `item`."""
    if _is_object(item):
        return [(k, resolve(v), _label(v, k)) for k, v in item["properties"].items()]
    labels = [x.strip() for x in str(item.get("description", "")).split(",")]
    n = int(item.get("maxItems", len(labels)))
    inner = resolve(item.get("items", {}))
    return [(i, inner, labels[i] if i < len(labels) else str(i + 1)) for i in range(n)]


def _flat(s: dict[str, Any]) -> bool:
    """Rows of a table: an object of scalars, or a fixed-width list of scalars."""
    if _is_object(s):
        return all(_is_scalar(resolve(v)) for v in s["properties"].values())
    return _is_array(s) and s.get("minItems") == s.get("maxItems") and _is_scalar(resolve(s.get("items", {})))


def _new_item(s: dict[str, Any]) -> Any:
    """What "添加一行" writes: the required fields, empty (the check then says what to fill)."""
    if _is_object(s):
        required = s.get("required") or list(s["properties"])[:1]
        item = {}
        for k in required:
            sub = resolve(s["properties"][k])
            item[k] = _new_item(sub) if not _is_scalar(sub) else ("0" if input_kind(sub) in ("amount", "quantity") else "")
        return item
    if _is_array(s):
        n = int(s.get("minItems", 0))
        inner = resolve(s.get("items", {}))
        return [_new_item(inner) if not _is_scalar(inner) else "" for _ in range(n)]
    return ""


def build(s: dict[str, Any], path: tuple, value: Any, label: str, key: str | int = "") -> dict[str, Any]:
    s = resolve(s)
    if _is_object(s):
        data = value if isinstance(value, dict) else {}
        children = [build(v, path + (k,), data.get(k), _label(v, k), k) for k, v in s["properties"].items()]
        return {"kind": "group", "path": path, "id": field_id(path), "label": label, "key": key,
                "help": str(s.get("description", "")), "children": children, "present": value is not None}
    if _is_array(s):
        rows = value if isinstance(value, list) else []
        item = resolve(s.get("items", {}))
        base = {"path": path, "id": field_id(path), "label": label, "key": key,
                "help": str(s.get("description", "")), "new": _new_item(item),
                "fixed_size": s.get("minItems") is not None and s.get("minItems") == s.get("maxItems")}
        if _is_scalar(item):
            cells = [_scalar(item, path + (i,), v, "", i) for i, v in enumerate(rows)]
            if base["fixed_size"]:
                n = int(s["maxItems"])
                names = re.findall(r"[0-9]+月底|[^：:、，（]+", str(s.get("description", "")).split("：")[-1])
                while len(cells) < n:
                    cells.append(_scalar(item, path + (len(cells),), None, "", len(cells)))
                for i, c in enumerate(cells):
                    c["label"] = names[i] if i < len(names) else str(i + 1)
                return {**base, "kind": "fixed", "cells": cells}
            for c in cells:
                if c["input"] == "text":
                    c["input"] = "textarea"
            return {**base, "kind": "list", "cells": cells}
        if _flat(item):
            columns = _columns(item)
            table_rows = []
            for i, row in enumerate(rows):
                cells = []
                for k, cs, cl in columns:
                    v = row.get(k) if isinstance(row, dict) and isinstance(k, str) else (
                        row[k] if isinstance(row, list) and isinstance(k, int) and k < len(row) else None)
                    cell = _scalar(cs, path + (i, k), v, cl, k)
                    if cell["input"] == "textarea":
                        cell["input"] = "text"
                    cells.append(cell)
                table_rows.append({"index": i, "cells": cells, "id": field_id(path + (i,))})
            return {**base, "kind": "table", "columns": [(k, cl, input_kind(cs)) for k, cs, cl in columns],
                    "rows": table_rows}
        cards = []
        for i, row in enumerate(rows):
            name = row.get("name") if isinstance(row, dict) else None
            name = name or (row.get("source") if isinstance(row, dict) else None)
            card = build(item, path + (i,), row, f"{i + 1}. {_text(name) or '（未命名）'}", i)
            amount = _text(row.get("amount") or row.get("budget")) if isinstance(row, dict) else ""
            cards.append({"index": i, "group": card, "id": field_id(path + (i,)),
                          "amount": f"{amount} 万元" if amount else ""})
        return {**base, "kind": "cards", "items": cards}
    return _scalar(s, path, value, label, key)


def sections(data: Any) -> list[dict[str, Any]]:
    """One view per top-level key of the schema, in its order."""
    top = schema()
    data = data if isinstance(data, dict) else {}
    out = []
    for key, s in top["properties"].items():
        view = build(s, (key,), data.get(key), _label(s, key), key)
        out.append({"key": key, "label": _label(s, key), "view": view, "present": key in data})
    return out


def path_label(path: tuple) -> str:
    """Where a field is, in the page's words: 项目及绩效目标表 › 第8项 › 绩效指标行 › 第4行 › 指标值."""
    s: dict[str, Any] = schema()
    parts: list[str] = []
    for key in path:
        s = resolve(s)
        if isinstance(key, int):
            item = resolve(s.get("items", {}))
            if _is_array(s) and not _is_array(item) and not _is_object(item) and s.get("minItems") == s.get("maxItems"):
                labels = re.findall(r"[0-9]+月底", str(s.get("description", "")))
                parts.append(labels[key] if key < len(labels) else f"第{key + 1}项")
            elif _is_array(s) and _is_array(item) or _is_object(item) and _flat(item):
                parts.append(f"第{key + 1}行")
            else:
                parts.append(f"第{key + 1}项")
            if _is_array(s) and not _is_object(item) and _is_array(item):
                s = item
                continue
            s = item
        else:
            prop = s.get("properties", {}).get(key)
            if prop is None:
                parts.append(str(key))
                break
            parts.append(short(_label(prop, key)))
            s = prop
    if len(path) >= 2 and isinstance(path[-1], int) and isinstance(path[-2], int):
        # a cell of a fixed-width row (an indicator row): its column's name
        row = resolve(schema_at(path[:-1]))
        labels = [x.strip() for x in str(row.get("description", "")).split(",")]
        if path[-1] < len(labels) and labels[path[-1]]:
            parts[-1] = labels[path[-1]]
    return " › ".join(parts)


def in_schema(path: tuple) -> bool:
    """True when every key of `path` is a field the schema names (and every index stands for a
    list): only such keys are ever written into the file."""
    s: dict[str, Any] = schema()
    for key in path:
        s = resolve(s)
        if isinstance(key, int):
            if not _is_array(s) or key < 0:
                return False
            s = s.get("items", {})
        elif key in s.get("properties", {}):
            s = s["properties"][key]
        else:
            return False
    return True


def schema_at(path: tuple) -> dict[str, Any]:
    s: dict[str, Any] = schema()
    for key in path:
        s = resolve(s)
        s = s.get("items", {}) if isinstance(key, int) else s.get("properties", {}).get(key, {})
    return s


def new_item(path: tuple) -> Any:
    """The new row for the list at `path` (indices in the path are passed over)."""
    s = schema()
    for key in path:
        s = resolve(s)
        if isinstance(key, int):
            s = s.get("items", {})
        else:
            s = s.get("properties", {}).get(key, {})
    s = resolve(s)
    if not _is_array(s):
        raise KeyError(path)
    return _new_item(resolve(s.get("items", {})))
