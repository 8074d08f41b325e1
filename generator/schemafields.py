"""The JSON Schema fragment of each kind of value, as the checker reads it (model.py declares its
fields with them; schema.py assembles the whole schema from the model). See schema.py for
what each fragment accepts and why.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from .money import MAX_INTEGER_DIGITS

_SPACE = r"\s*"

TEXT_SCHEMA: dict[str, Any] = {"not": {"type": ["array", "object"]},
                               "errorMessage": "应为一段文字，不是列表或映射"}
NAME_SCHEMA: dict[str, Any] = {"not": {"type": ["array", "object", "null"]}, "minLength": 1,
                               "errorMessage": "不能为空，应为一段文字"}


def amount_schema(places: int, what: str, given: bool = False) -> dict[str, Any]:
    """An amount (万元, `places` = 2) or a quantity (`places` = 4), as `money.parse_amount` reads it;
    `given`: it must be written out (empty, ~ and null are refused)."""
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
