"""Workbook geometry, free of XlsxWriter: where header cells go, how wide columns are, how tall
rows must be for wrapped CJK text, how the meta line splits, and what a sheet may be called.

Everything here is pure arithmetic on the Table values, so it is tested and reasoned about
without opening a workbook.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from ..compute.tables import Head

# Body text is 宋体 10pt. In SimSun an ASCII digit is half an em and a CJK character a full em,
# so one CJK character takes two Excel width units (the unit is the width of '0').
UNITS_PER_CHAR = 2.0
CELL_PADDING = 1.0  # units Excel keeps free inside a cell
LINE_HEIGHT = 13.5  # points per line of 10pt text
ROW_PADDING = 4.5  # points above and below the text block
MIN_ROW_HEIGHT = 18.0


@dataclass(frozen=True)
class Placed:
    """A header cell at its grid position (rows counted from the first header row)."""
    row: int
    col: int
    rowspan: int
    colspan: int
    text: str

    @property
    def last_row(self) -> int:
        return self.row + self.rowspan - 1

    @property
    def last_col(self) -> int:
        return self.col + self.colspan - 1


def place_header(header: tuple[tuple[Head, ...], ...], width: int) -> list[Placed]:
    """Lay header rows out as HTML does: each cell takes the next column not covered by a
    rowspan from above. Raises ValueError when the spans do not tile `width` columns."""
    covered: set[tuple[int, int]] = set()
    out = []
    for r, row in enumerate(header):
        c = 0
        for head in row:
            while (r, c) in covered:
                c += 1
            if head.rowspan < 1 or head.colspan < 1 or c + head.colspan > width \
                    or r + head.rowspan > len(header):
                raise ValueError(f"header cell {head.text!r} does not fit a {width}-column grid")
            out.append(Placed(r, c, head.rowspan, head.colspan, head.text))
            covered.update((r + i, c + j) for i in range(head.rowspan) for j in range(head.colspan))
            c += head.colspan
    missing = [(r, c) for r in range(len(header)) for c in range(width) if (r, c) not in covered]
    if missing:
        raise ValueError(f"header leaves cells {missing} uncovered")
    return out


def column_units(chars: float) -> float:
    """Excel column width for a column `chars` CJK characters wide."""
    return round(chars * UNITS_PER_CHAR + CELL_PADDING, 2)


def text_units(text: str) -> int:
    """Display width of one line in Excel units: wide (CJK, full-width) characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def line_count(text: str, units: float) -> int:
    """Lines `text` needs when wrapped in a cell `units` wide (explicit newlines kept)."""
    usable = max(units - CELL_PADDING, 1.0)
    return sum(max(1, math.ceil(text_units(part) / usable)) for part in text.split("\n"))


def row_height(lines: int, scale: float = 1.0) -> float:
    """Row height in points for `lines` lines of body text (scale for a larger font)."""
    return max(MIN_ROW_HEIGHT * scale, round((lines * LINE_HEIGHT + ROW_PADDING) * scale, 2))


def span_heights(placed: list[Placed], units: list[float], rows: int) -> list[float]:
    """Heights of `rows` grid rows so every placed (possibly spanning) text fits."""
    heights = [MIN_ROW_HEIGHT] * rows
    for p in sorted(placed, key=lambda p: p.rowspan):
        need = row_height(line_count(p.text, sum(units[p.col:p.last_col + 1])))
        have = sum(heights[p.row:p.last_row + 1])
        if need > have:  # grow the spanned rows evenly
            extra = (need - have) / p.rowspan
            for r in range(p.row, p.last_row + 1):
                heights[r] = round(heights[r] + extra, 2)
    return heights


def meta_spans(units: list[float], texts: tuple[str, ...]) -> list[tuple[int, int, str, str]]:
    """Lay out the line above a table as (first column, last column, text, alignment):
    department left, 预算年度 centre, 单位 right (two items: left and right).

    The left range is the shortest run of columns that holds the department on one line (and
    at least 30 % of the table), the right one the shortest that holds its text (at least
    20 %); the centre gets the rest. A table with fewer columns than items joins the last
    texts into its last range."""
    n, k = len(units), min(len(texts), len(units))
    if k == 0:
        return []
    if k == 1:
        return [(0, n - 1, "\u3000".join(texts), "left")]
    texts = tuple(texts[:k - 1]) + ("\u3000".join(texts[k - 1:]),)
    total = sum(units)
    need = max(text_units(texts[0]) + CELL_PADDING, 0.3 * total)
    i = 1
    while i < n - (k - 1) and sum(units[:i]) < need:
        i += 1
    if k == 2:
        return [(0, i - 1, texts[0], "left"), (i, n - 1, texts[1], "right")]
    need = max(text_units(texts[2]) + CELL_PADDING, 0.2 * total)
    j = n - 1
    while j > i + 1 and sum(units[j:]) < need:
        j -= 1
    return [(0, i - 1, texts[0], "left"), (i, j - 1, texts[1], "center"),
            (j, n - 1, texts[2], "right")]


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def sheet_name(wanted: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name: none of []:*?/\\, no leading or trailing apostrophe,
    at most 31 characters, not 'History', unique ignoring case. Adds the name to `taken`
    (which holds lower-cased names)."""
    base = _SHEET_FORBIDDEN.sub("_", wanted).strip().strip("'").strip() or "Sheet"
    if base.lower() == "history":  # reserved by Excel
        base += "_"
    name, n = base[:31], 1
    while name.lower() in taken:
        n += 1
        suffix = f"({n})"
        name = base[:31 - len(suffix)].rstrip("'") + suffix
    taken.add(name.lower())
    return name
