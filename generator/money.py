"""Money: amounts in 万元 as decimal.Decimal, parsed from the YAML text, never through float.

One parser for every amount the clerk types, with messages that say what to write instead.
"""
from __future__ import annotations

import re
from decimal import Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
_PLAIN = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_FULLWIDTH = str.maketrans("０１２３４５６７８９．－", "0123456789.-")


def parse_amount(raw, *, places: int = 2, allow_negative: bool = False, what: str = "金额") -> Decimal:
    """Parse the text of a YAML scalar into a Decimal with at most `places` decimals.

    Raises ValueError with a Chinese message (the caller attaches the location)."""
    if raw is None:
        return ZERO
    if isinstance(raw, bool):
        raise ValueError(f"{what}应为数字，不是真假值")
    if isinstance(raw, Decimal):
        text = format(raw, "f")
    elif isinstance(raw, int):
        text = str(raw)
    elif isinstance(raw, str):
        text = raw.strip()
    else:  # float never reaches here from our loader; refuse it anyway
        raise ValueError(f"{what}应为数字文字，不接受{type(raw).__name__}")
    if text == "":
        return ZERO
    negative = text.startswith("-")
    body = text[1:] if negative else text
    if not _PLAIN.match(body):
        if body.translate(_FULLWIDTH) != body and _PLAIN.match(body.translate(_FULLWIDTH)):
            raise ValueError(f"{what}“{text}”含全角数字，请改用半角数字（如 {body.translate(_FULLWIDTH)}）")
        if "," in body or "，" in body:
            raise ValueError(f"{what}“{text}”含千位分隔符，请去掉逗号")
        if "万" in body or "元" in body:
            raise ValueError(f"{what}“{text}”不要写单位：金额一律以万元为单位，只写数字")
        if body.lower() in (".nan", ".inf", "nan", "inf", "+.inf", ".Inf".lower()):
            raise ValueError(f"{what}“{text}”不是有效数字")
        if re.match(r"^\d+(\.\d+)?[eE][-+]?\d+$", body):
            raise ValueError(f"{what}“{text}”是科学计数法，请直接写出数字")
        raise ValueError(f"{what}“{text}”不是有效的数字")
    if negative and not allow_negative:
        raise ValueError(f"{what}不能为负数（{text}）")
    if "." in body and len(body.split(".")[1]) > places:
        raise ValueError(f"{what}“{text}”超过{places}位小数：以万元为单位最多{places}位小数，"
                         "请核对，不会自动四舍五入")
    value = Decimal(text)
    return value.quantize(Decimal(1).scaleb(-places)) if places else value


def fmt(value: Decimal | None, blank_zero: bool = True) -> str:
    """2-decimal text for a table cell; zero prints blank, as the published schedules do."""
    if value is None or (blank_zero and value == 0):
        return ""
    return f"{value.quantize(CENT):.2f}"


def fmt_text(value: Decimal) -> str:
    """2-decimal text for the explanatory prose (zero prints 0.00)."""
    return f"{value.quantize(CENT):.2f}"
