"""The JSON Schema of the input file, for editors (VS Code's YAML extension) and scripts.

Generated from the model (generator/model.py) so that it cannot drift from the checker; the
fragments below describe each kind of value exactly as the checker reads it: the loader keeps
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

SCHEMA_ID = "urn:budgetgen:schema:budget"
_SPACE = r"\s*"

TEXT_SCHEMA: dict[str, Any] = {"not": {"type": ["array", "object"]},
                               "errorMessage": "应为一段文字，不是列表或映射"}
NAME_SCHEMA: dict[str, Any] = {"not": {"type": ["array", "object", "null"]}, "minLength": 1,
                               "errorMessage": "不能为空，应为一段文字"}


def amount_schema(places: int, what: str, given: bool = False) -> dict[str, Any]:
    """An amount (万元, `places` = 2) or a quantity (`places` = 4), as `money.parse_amount` reads it;
    `given`: it must be written out (empty, ~ and null are refused)."""
    from .money import MAX_INTEGER_DIGITS
    step = Decimal(1).scaleb(-places)
    number = rf"0*[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{1,{places}}}0*)?"
    text = rf"^{_SPACE}{number}{_SPACE}$" if given else rf"^{_SPACE}({number})?{_SPACE}$"
    unit = "以万元（department.unit 写了元时以元）为单位，" if what == "金额" else ""
    example = "1505.72" if places == 2 else "12.5"
    message = f"{what}{unit}只写数字，不能为负数，最多{places}位小数，不写逗号和单位（如 {example}）"
    if given:
        message += "；必填，确实为零请写 0"
    return {"anyOf": [{"type": "number", "minimum": 0, "exclusiveMaximum": 10 ** MAX_INTEGER_DIGITS,
                       "multipleOf": float(step)},
                      {"type": "string", "pattern": text}] + ([] if given else [{"type": "null"}]),
            "errorMessage": message}


def code_schema(digits: int, what: str, description: str) -> dict[str, Any]:
    return {"anyOf": [{"type": "integer", "minimum": 10 ** (digits - 1), "maximum": 10 ** digits - 1},
                      {"type": "string", "pattern": rf"^{_SPACE}[0-9]{{{digits}}}{_SPACE}$"}],
            "description": description, "errorMessage": f"{what}应为{digits}位数字"}


# a value YAML reads as a date (PyYAML: `as_of: 2024-12-31` is a datetime.date, not a string):
# it is none of JSON's types, and the checker reads its text
_YAML_DATE: dict[str, Any] = {"not": {"type": ["array", "object", "string", "number", "boolean", "null"]}}


_DATE_WRITTEN = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日"
ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"


def date_schema(description: str, empty: bool = False, written: str = _DATE_WRITTEN) -> dict[str, Any]:
    """A calendar date as `written` (2024-12-31 or 2024年12月31日); `empty`: or nothing at all."""
    pattern = rf"^{_SPACE}({written}){'?' if empty else ''}{_SPACE}$"
    branches: list[dict[str, Any]] = [{"type": "string", "pattern": pattern}, _YAML_DATE]
    if empty:
        branches.append({"type": "null"})
    return {"anyOf": branches, "description": description, "errorMessage": "应写为日期，如 2024-12-31"}


def year_schema() -> dict[str, Any]:
    return {"anyOf": [{"type": "integer", "minimum": 2000, "maximum": 2100},
                      {"type": "string", "pattern": rf"^{_SPACE}(20[0-9]{{2}}|2100){_SPACE}$"}],
            "examples": [2025], "errorMessage": "应为2000至2100之间的四位数字年份，如 2025"}


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
    from .model import Budget
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
