"""The Chinese messages shared by the model (model.py) and the layout files (layout.py): a
pydantic validation error → one Chinese sentence. Whatever pydantic says in English stays out;
an error kind not listed here gets a general Chinese wording."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

TYPE_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "未知的键（可能拼写有误）",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "string_type": "应为文字",
    "list_type": "应为列表（- 开头的多行，或 [ ] ）",
    "dict_type": "应为映射（键: 值）",
    "model_type": "应为映射（键: 值）",
    "model_attributes_type": "应为映射（键: 值）",
    "too_short": "项数太少",
    "too_long": "项数太多",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
}


def pydantic_message(err: Any, choice_labels: Mapping[str, str] | None = None) -> str:
    """One pydantic error (an item of ValidationError.errors()) as a Chinese sentence, never
    pydantic's English text. `choice_labels`: how a choice's key is shown (its Chinese label)."""
    labels = choice_labels or {}
    kind = err["type"]
    if kind == "cell_too_long":
        return str(err["msg"])
    if kind == "value_error":
        return str(err.get("ctx", {}).get("error", err["msg"]))
    if kind == "missing":
        return f"缺少必填项“{err['loc'][-1]}”"
    if kind == "extra_forbidden":
        return f"未知的键“{err['loc'][-1]}”（可能拼写有误；可用的键见 budgetgen schema）"
    ctx = err.get("ctx", {})
    if kind in ("enum", "literal_error"):
        keys = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        shown = "、".join(f"“{labels.get(k, k)}”" for k in keys)
        return f"取值“{err.get('input')}”无效，应为以下之一：{shown}"
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length", ctx.get("max_length"))
        if kind == "too_long" and n is not None and n > 6:
            return (f"项数超过上限：至多{n}项，实有{ctx.get('actual_length')}项"
                    "（规模上限见 docs/refused-input.md）")
        return f"项数不对：应{'至少' if kind == 'too_short' else '至多'}{n}项，实有{ctx.get('actual_length')}项"
    if kind == "string_too_short":
        return "不能为空"
    if kind == "string_too_long":
        return f"太长：至多{ctx.get('max_length')}个字符"
    if kind in ("greater_than_equal", "greater_than"):
        limit = ctx.get("ge", ctx.get("gt"))
        return f"数值太小：应{'不小于' if kind == 'greater_than_equal' else '大于'}{limit}，实为{err.get('input')}"
    if kind in ("less_than_equal", "less_than"):
        limit = ctx.get("le", ctx.get("lt"))
        return f"数值太大：应{'不大于' if kind == 'less_than_equal' else '小于'}{limit}，实为{err.get('input')}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"应为整数，实为“{err.get('input')}”"
    return TYPE_MESSAGES.get(kind) or "格式不正确"  # never pydantic's English text
