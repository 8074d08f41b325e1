"""Money: amounts in 万元 as decimal.Decimal, parsed from the YAML text, never through float.

One parser for every amount the clerk types, with messages that say what to write instead, and
one rounding policy for every derived figure (unit prices, 元 ↔ 万元, percentages): `rounded`,
四舍五入 (ROUND_HALF_UP). Decimal's own default is banker's rounding (0.025 → 0.02); nothing
else in the program may call quantize on a figure it shows. `shown` is the value a cell shows,
so the PDF, HTML and XLSX print the same digits.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MAX_INTEGER_DIGITS = 12  # 万元: up to 999 999 999 999.99 万元; keeps every sum exact and finite
# An XLSX cell holds an IEEE double: 15 significant digits are exact, more are not. A figure with
# more would print one way in the PDF and another in the workbook, so it is refused.
XLSX_DIGITS = 15
_PLAIN = re.compile(r"[0-9]+(\.[0-9]+)?")
_FULLWIDTH = str.maketrans("０１２３４５６７８９．－", "0123456789.-")
_BOOLEAN_WORDS = {"true", "false", "yes", "no", "on", "off", "y", "n"}
_NOT_NUMBERS = {".nan", "nan", ".inf", "inf", "infinity"}


def _invisible(text: str) -> str | None:
    """The first character that cannot be seen (zero-width space, BOM, direction marks …)."""
    for ch in text:
        if unicodedata.category(ch) in ("Cf", "Cc", "Co", "Cs", "Cn"):
            return ch
    return None


def parse_amount(raw, *, places: int = 2, allow_negative: bool = False, what: str = "金额") -> Decimal:
    """Parse the text of a YAML scalar into a Decimal with at most `places` decimals.

    Raises ValueError with a Chinese message (the caller attaches the location); never lets any
    other exception out, and never goes through float."""
    if raw is None:
        return ZERO
    if isinstance(raw, bool):
        raise ValueError(f"{what}应为数字，不是真假值")
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise ValueError(f"{what}“{raw}”不是有效数字")
        text = format(raw, "f")
    elif isinstance(raw, int):
        text = str(raw)
    elif isinstance(raw, str):
        text = raw.strip()
    elif isinstance(raw, (list, tuple, dict)):
        raise ValueError(f"{what}应为一个数字，不是{'映射' if isinstance(raw, dict) else '列表'}")
    else:  # float never reaches here from our loader; refuse it anyway
        raise ValueError(f"{what}应为数字文字，不接受{type(raw).__name__}类型的值")
    if text == "":
        return ZERO
    hidden = _invisible(text)
    if hidden is not None:
        shown = "".join(ch for ch in text if _invisible(ch) is None)
        raise ValueError(f"{what}“{shown}”中夹有看不见的字符（U+{ord(hidden):04X}），"
                         "多由复制粘贴带入：请删除后重新输入数字")
    negative = text.startswith("-")
    body = text[1:] if negative else text
    if not _PLAIN.fullmatch(body):
        raise ValueError(_why_not(text, body, what))
    if negative and not allow_negative:
        raise ValueError(f"{what}不能为负数（{text}）")
    whole, _, frac = body.partition(".")
    if len(frac.rstrip("0")) > places:  # 1505.720 is 1505.72 exactly (and a JSON number cannot tell them apart)
        raise ValueError(f"{what}“{text}”超过{places}位小数：以万元为单位最多{places}位小数，"
                         "请核对，不会自动四舍五入" if what == "金额" else
                         f"{what}“{text}”超过{places}位小数")
    if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"{what}“{text}”过大（整数部分超过{MAX_INTEGER_DIGITS}位）：请核对，金额以万元为单位")
    if len((whole + frac).lstrip("0")) > XLSX_DIGITS:
        raise ValueError(f"{what}“{text}”有{len((whole + frac).lstrip('0'))}位有效数字，超过 XLSX 能精确保存的"
                         f"{XLSX_DIGITS}位（PDF 与 XLSX 会显示不同的数）：请核对")
    try:
        value = Decimal(text)
        return value.quantize(Decimal(1).scaleb(-places)) if places else value
    except (InvalidOperation, ArithmeticError):  # pragma: no cover - excluded by the checks above
        raise ValueError(f"{what}“{text}”不是有效的数字") from None


def _why_not(text: str, body: str, what: str) -> str:
    """The Chinese message for text that is not a plain number: say what to write instead."""
    half = body.translate(_FULLWIDTH)
    if half != body and _PLAIN.fullmatch(half.lstrip("-")):
        return f"{what}“{text}”含全角数字，请改用半角数字（如 {text.translate(_FULLWIDTH)}）"
    if "," in body or "，" in body:
        # only commas every three digits are thousands separators; “26，00” may be 26.00 or
        # 2600: no guess that could change the figure's magnitude
        if re.fullmatch(r"-?[0-9]{1,3}([,，][0-9]{3})+(\.[0-9]+)?", half):
            return f"{what}“{text}”含千位分隔符，请去掉逗号（如 {re.sub('[,，]', '', text)}）"
        return (f"{what}“{text}”中的逗号不是每三位一个的千位分隔符，无法判断本意：请写成不带逗号的数字，"
                "小数点用半角“.”")
    if "万" in body or "元" in body:
        return f"{what}“{text}”不要写单位：金额一律以万元为单位，只写数字"
    lower = body.lower().lstrip("+")
    if lower in _NOT_NUMBERS:
        return f"{what}“{text}”不是有效数字"
    if lower in _BOOLEAN_WORDS:
        return f"{what}“{text}”应为数字，不是真假值"
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?[eE][-+]?[0-9]+", body.lstrip("+")):
        return f"{what}“{text}”是科学计数法，请直接写出数字"
    if re.fullmatch(r"\.[0-9]+", body):
        return f"{what}“{text}”请在小数点前写0（如 0{body}）"
    if re.fullmatch(r"[0-9]+\.", body):
        return f"{what}“{text}”小数点后缺少数字"
    if body.startswith("+"):
        return f"{what}“{text}”不要写正号“+”"
    if "%" in body or "％" in body:
        return f"{what}“{text}”不要写百分号，只写以万元为单位的数字"
    return f"{what}“{text}”不是有效的数字"


# Units an amount is typed or printed in, as multiples of the model's unit (万元).
UNITS = {"万元": Decimal(1), "元": Decimal(10000)}


def rounded(value: Decimal, places: int = 2) -> Decimal:
    """The one rounding rule: 四舍五入 to `places` decimals (0.025 → 0.03, -0.025 → -0.03)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


PRICE_PLACES = 4  # a unit price that rounds to 0.00 is shown with 4 decimals


def shown(value: Decimal, kind: str = "money", places: int = 2) -> Decimal:
    """The figure a cell of `kind` shows: money `places` decimals (the layout's, 2 by default);
    a price 2 decimals, or 4 when it would round to 0.00; quantities and other kinds as they are."""
    value = Decimal(value)
    if kind == "money":
        return rounded(value, places)
    if kind == "price":
        cents = rounded(value)
        return cents if cents or not value else rounded(value, PRICE_PLACES)
    return value


def to_unit(value: Decimal, unit: str = "万元", places: int = 2) -> Decimal:
    """An exact amount in 万元 as printed in `unit`: converted exactly, then rounded 四舍五入 to
    `places` decimals. For display only: every check runs on the exact value."""
    return rounded(value * UNITS[unit], places)


def from_unit(value: Decimal, unit: str) -> Decimal:
    """An amount typed in `unit` as exact 万元 (元 → 万元 divides by 10000, exactly)."""
    factor = UNITS[unit]
    return value if factor == 1 else value / factor


def fmt(value: Decimal | None, blank_zero: bool = True) -> str:
    """2-decimal text for a table cell; zero prints blank, as the published schedules do."""
    if value is None or (blank_zero and value == 0):
        return ""
    return f"{rounded(value):.2f}"


def fmt_text(value: Decimal, places: int = 2) -> str:
    """Text for the explanatory prose, rounded 四舍五入 (zero prints 0.00)."""
    return f"{rounded(value, places):.{places}f}"


def price_places(value: Decimal) -> int:
    """Decimals a unit price is shown with (see `shown`): 2, or 4 when 2 would show it as 0.00."""
    return max(2, -int(shown(value, "price").as_tuple().exponent))


def unit_price(amount: Decimal, quantity: Decimal) -> Decimal | None:
    """金额 ÷ 数量 as its cell shows it (None without a quantity)."""
    if not quantity:
        return None
    return shown(amount / quantity, "price")
