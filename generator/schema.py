"""The JSON Schema of the input file, for editors (VS Code's YAML extension) and scripts.

Generated from the model (generator/model.py) so that it cannot drift from the checker; the
fragments (generator/schemafields.py) describe each kind of value exactly as the checker reads it: the loader keeps
every scalar as the text the clerk typed, so a value that YAML would read as a number, a date
or a boolean is checked by its text. The schema therefore accepts both readings:

- an amount is a number with at most 2 decimals (4 for a quantity), not negative, at most 12
  integer digits, or the same written as text ("1505.72"), or empty (= 0);
- a text is any scalar — a number, a date, true/false are read as their text — but not a list
  or a mapping; a name that must be given refuses null and "";
- a code is an integer or a text of exactly 5 (经济分类) or 7 (功能分类) digits;
- a year is 2000…2100, written as a number or as text.

What no schema can see, because JSON has no such distinction, is listed in the README (e.g.
`.5` or `1e3`, which YAML reads as numbers and the checker refuses as written).
"""
from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from . import __version__
from .model import Budget

SCHEMA_ID = "urn:budgetgen:schema:budget"


# --------------------------------------------------------------------------- the whole schema


def _title(description: str) -> str:
    """A short Chinese title from a field's description: the part before the first ，：；"""
    head = re.split(r"[，：；]", description.removeprefix("其中："), maxsplit=1)[0]
    if head.count("（") > head.count("）"):  # cut inside a parenthesis: drop it
        head = head[:head.rindex("（")]
    return head or description


def _number(value: Any) -> Any:
    """Pydantic writes Decimal defaults as text ("0.00"); a schema default must be a number."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]+\.[0-9]+", value):
        d = Decimal(value)
        return int(d) if d == d.to_integral_value() else float(d)
    if isinstance(value, dict):
        return {k: _number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_number(v) for v in value]
    return value


def _properties(node: dict[str, Any], where: str) -> None:
    for name, prop in node.get("properties", {}).items():
        description = prop.get("description")
        if not description:
            raise ValueError(f"{where}.{name} has no description (add one in generator/model.py)")
        prop["title"] = _title(description)
        if "default" in prop:
            prop["default"] = _number(prop["default"])
        if "enum" in prop and "errorMessage" not in prop:
            prop["errorMessage"] = "应为以下之一：" + "、".join(str(v) for v in prop["enum"] if v)


def json_schema() -> dict[str, Any]:
    schema = Budget.model_json_schema()
    for name, definition in schema.get("$defs", {}).items():
        definition.pop("title", None)  # the class name (English); the referring property has a title
        definition.pop("description", None)  # a docstring for developers
        if "enum" in definition:
            definition["errorMessage"] = "应为以下之一：" + "、".join(str(v) for v in definition["enum"])
        _properties(definition, name)
    _properties(schema, "Budget")
    schema["description"] = ("一个部门一个预算年度的末级数据：合计、小计、汇总与说明中的数字都由 budgetgen 计算，"
                             "不在此录入。格式说明见 docs/input-format.md。")
    out = {"$schema": "https://json-schema.org/draft/2020-12/schema",
           "$id": f"{SCHEMA_ID}:{__version__}"}
    out.update(schema)
    return out


def schema_text() -> str:
    """The schema as `budgetgen schema` writes it (and schemas/budget.schema.json holds it)."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
