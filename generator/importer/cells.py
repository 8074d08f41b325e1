"""Reading typed values out of cells with located errors: amounts (元/万元), quantities, codes."""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from .book import Sheet
from .draft import Draft
from .grid import parse_number

CENT = Decimal("0.01")
NOISE = Decimal("0.000001")  # a double's error on a figure a spreadsheet computed
TEN_THOUSAND = Decimal(10000)


class Cells:
    def __init__(self, draft: Draft):
        self.draft = draft

    def _raw(self, sheet: Sheet, r: int, c: int, what: str) -> Decimal | None:
        cell = sheet.cell(r, c)
        at = sheet.ref(r, c)
        if cell.formula:
            self.draft.error("导入-公式", at, f"{what}是公式“{cell.formula}”，但工作簿没有保存它的计算结果"
                             "（由不计算公式的程序生成）：请用 Excel 或 WPS 打开并保存后再导入")
            return None
        v = parse_number(cell.value)
        if v is None:
            self.draft.error("导入-金额", at, f"{what}“{cell.value}”不是数字", "数字", cell.value)
            return None
        if v < 0:
            self.draft.error("导入-金额", at, f"{what}{v}为负数；部门预算的金额不能为负", "不小于0", v)
            return None
        return v

    def money(self, sheet: Sheet, r: int, c: int, unit: str) -> Decimal | None:
        """A cell's amount in 万元, exact, or None after reporting why not. A 万元 workbook's
        amounts have at most two decimals; a 元 workbook's are whole 分, and when one is not a
        whole hundred 元 the file is written in 元 (see Draft.needs_yuan)."""
        v = self._raw(sheet, r, c, "金额")
        if v is None:
            return None
        q = v.quantize(CENT)
        if abs(v - q) > NOISE:
            shown = format(v.normalize(), "f")
            self.draft.error("导入-金额", sheet.ref(r, c), f"金额{shown}{unit}超过两位小数", "最多两位小数", shown)
            return None
        if unit != "元":
            return q
        wan = q / TEN_THOUSAND
        if wan != wan.quantize(CENT) and not self.draft.needs_yuan:
            self.draft.needs_yuan = sheet.ref(r, c)
        return wan

    def quantity(self, sheet: Sheet, r: int, c: int) -> Decimal | None:
        v = self._raw(sheet, r, c, "数量")
        if v is None:
            return None
        q = v.quantize(Decimal("0.0001"))
        if abs(v - q) > NOISE:
            self.draft.error("导入-金额", sheet.ref(r, c), f"数量{v}超过四位小数")
            return None
        return q.normalize() if q == q.to_integral() else q


_CODE_SPLIT = re.compile(r"^\s*\[?\s*(\d[\d ]*\d|\d)\s*\]?\s*[-－.、．]?\s*(.*)$", re.DOTALL)


def code_text(value: str | Decimal | None) -> str:
    """A code as digits, whether the cell holds a number (2010301, 2010301.0) or text."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if value == value.to_integral():
            return str(int(value))
        return format(value, "f")
    text = unicodedata.normalize("NFKC", value).strip().strip("'")
    return text.replace(" ", "")


def split_code(text: str) -> tuple[str, str]:
    """"2010301 行政运行" → ("2010301", "行政运行"); text without a leading code → ("", text)."""
    m = _CODE_SPLIT.match(text)
    if m and m.group(2) and not m.group(2)[0].isdigit():
        return m.group(1).replace(" ", ""), m.group(2).strip()
    return "", text.strip()
