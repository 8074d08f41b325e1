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
from decimal import Decimal

from ..compute.tables import Head, Table
from ..money import shown

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
    value: bool = False  # a filled-in cell of a form-like header (Head.value)

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
            out.append(Placed(r, c, head.rowspan, head.colspan, head.text, head.value))
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
    name, n = _cut(base, 31), 1
    while name.lower() in taken:
        n += 1
        suffix = f"({n})"
        name = _cut(base, 31 - len(suffix)).rstrip("'") + suffix
    taken.add(name.lower())
    return name


_OPEN, _CLOSE = "（(【[《“‘", "）)】]》”’"


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters; a cut never leaves a bracket or quote open: it goes back
    to before the unclosed opener, or to the last space, when that keeps a readable name."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    depth, first_open = 0, None
    for i, ch in enumerate(cut):
        if ch in _OPEN:
            depth, first_open = depth + 1, (i if depth == 0 else first_open)
        elif ch in _CLOSE and depth:
            depth -= 1
    if depth and first_open:
        cut = cut[:first_open]
    elif " " in cut[1:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" -_、，") or text[:limit]


# --- totals as formulas ----------------------------------------------------------------------

def _figure(value, places: int = 2) -> Decimal | None:
    """A money cell's figure as the workbook stores it (money.shown: the digits printed)."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    return shown(Decimal(value), "money", places)


def sum_sources(table: Table) -> dict[tuple[int, int], tuple[int, ...]]:
    """For each total cell (row, column) of a table's money columns, the rows whose cells it
    sums, found from the table's own structure and kept only where the figures agree exactly:

    - a coded row (类/款) sums its direct sub-codes (款/项) below it;
    - an uncoded emphasised row above coded rows (合计) sums the top-level codes;
    - an emphasised row sums the rows above it back to the previous emphasised row (本年收入
      合计), or back to and including it (收入总计 = 本年收入合计 + 上年结转).

    Figures are compared as the cells show them (money.shown), so a recalculating reader gets
    the very total printed.

    Renderers never recompute: this only says which cells a figure already is the sum of,
    so a workbook can show it as a live SUM. A cell with no such rows stays a number."""
    kinds = [c.kind for c in table.columns]
    money = [j for j, k in enumerate(kinds) if k == "money"]
    code_col = next((j for j, k in enumerate(kinds) if k == "code"), None)
    rows = table.rows
    codes = [str(r.cells[code_col]).strip() if code_col is not None and r.cells[code_col]
             else "" for r in rows]
    out: dict[tuple[int, int], tuple[int, ...]] = {}

    def parent(k: int) -> int | None:
        best = None
        for i in range(k):
            c = codes[i]
            if c and codes[k] != c and codes[k].startswith(c) and \
                    (best is None or len(c) > len(codes[best])):
                best = i
        return best

    parents = [parent(k) if codes[k] else None for k in range(len(rows))]
    # a table whose totals stand above what they add up (政府采购's 合计 and 小计, 资产总额)
    top_down = bool(rows) and rows[0].emphasis and not codes[0]
    for i, row in enumerate(rows):
        candidates: list[tuple[int, ...]] = []
        if codes[i]:
            candidates.append(tuple(k for k in range(len(rows)) if parents[k] == i))
        elif row.emphasis:
            below = tuple(k for k in range(i + 1, len(rows)) if codes[k] and parents[k] is None)
            candidates.append(below)
            # uncoded groups (政府采购: 合计 over the 本级/单位 小计 rows, each 小计 over its
            # items down to the next emphasised row)
            later = tuple(k for k in range(i + 1, len(rows)) if rows[k].emphasis)
            nxt = later[0] if later else len(rows)
            if top_down:  # (codes there are catalog numbers, no hierarchy)
                candidates.append(tuple(range(i + 1, nxt)))
                # 资产总额 over 1、房屋, 2、车辆 …, leaving out their indented 其中 rows
                candidates.append(tuple(k for k in range(i + 1, nxt) if not _part_of(rows[k])))
            if top_down and later:
                candidates.append(later)
            prev = next((k for k in range(i - 1, -1, -1) if rows[k].emphasis), -1)
            # a run of rows: at least two (a total "equal to the row above" is no sum)
            candidates += [r for r in (tuple(range(prev + 1, i)), tuple(range(max(prev, 0), i)))
                           if len(r) >= 2]
            if prev >= 0:  # 收入总计 = 本年收入合计 + 年初结转和结余 (not its 一、二、三 breakdown)
                candidates.append((prev,) + tuple(k for k in range(prev + 1, i)
                                                  if not _numbered(rows[k])))
        for j in money:
            places = table.columns[j].places
            value = _figure(row.cells[j], places)
            if not value:
                continue
            for parts in candidates:
                figures = [_figure(rows[k].cells[j], places) for k in parts]
                if any(i in out.get((k, j), ()) for k in parts):
                    continue  # a sum of a cell that sums this one: circular
                if parts and any(f for f in figures) and \
                        sum((f or Decimal(0) for f in figures), Decimal(0)) == value:
                    out[(i, j)] = parts
                    break
    return out


def _numbered(row) -> bool:
    """A row whose label begins 一、 / （一） / 1、: an item of the unnumbered row above it."""
    text = next((c for c in row.cells if isinstance(c, str) and c.strip()), "")
    return re.match(r"\s*(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d+[、.])",
                    text) is not None


def _part_of(row) -> bool:
    """A 其中 row (indented, or beginning 其中): part of the row above, not an addend."""
    text = next((c for c in row.cells if isinstance(c, str) and c.strip()), "")
    return text.startswith(("\u3000", " ")) or text.lstrip("\u3000 ").startswith("其中")


_TOTAL_HEAD = re.compile(r"合\s*计|小\s*计|总\s*计")


def row_sum_sources(table: Table) -> dict[tuple[int, int], tuple[int, ...]]:
    """For each row total (row, column) — a money column headed 合计/小计 — the columns of
    that row it adds up: the header cells beside its own under the same parent header, each
    by its own 小计 column where it has one (三公: 合计 = 出国 + 接待 + 车辆小计, 小计 = 购置 +
    运行; 支出总表: 合计 = 基本支出 + 项目支出). Kept only where the figures agree exactly."""
    kinds = [c.kind for c in table.columns]
    placed = [p for p in place_header(table.header, table.width)
              if not p.value and not re.fullmatch(r"\d+|栏\s*次", p.text.strip())]
    leaves = {p.col: p for p in sorted(placed, key=lambda p: p.row) if p.colspan == 1}
    totals = [j for j, p in leaves.items() if kinds[j] == "money" and _TOTAL_HEAD.search(p.text)]

    def parent(p: Placed) -> Placed | None:
        above = [q for q in placed if q.last_row < p.row and q.col <= p.col and p.last_col <= q.last_col]
        return max(above, key=lambda q: q.row) if above else None

    addends: dict[int, tuple[int, ...]] = {}
    for j in totals:
        me = leaves[j]
        up = parent(me)
        lo, hi = (up.col, up.last_col) if up else (0, table.width - 1)
        cols: list[int] = []
        for q in placed:
            if q is me or q.row != me.row or q.col < lo or q.last_col > hi:
                continue
            if q.colspan == 1:  # (a 其中 column is part of the one before it)
                cols += [q.col] if kinds[q.col] == "money" and \
                    not q.text.strip().startswith("其中") else []
                continue
            inner = [t for t in totals if q.col <= t <= q.last_col and parent(leaves[t]) is q]
            cols += inner[:1] or [c for c in range(q.col, q.last_col + 1) if kinds[c] == "money"
                                  and c not in totals]
        if len(cols) >= 2 or (len(cols) == 1 and up is not None):
            addends[j] = tuple(sorted(cols))
    out: dict[tuple[int, int], tuple[int, ...]] = {}
    for i, row in enumerate(table.rows):
        for j, adds in addends.items():
            value = _figure(row.cells[j], table.columns[j].places)
            figures = [_figure(row.cells[c], table.columns[c].places) for c in adds]
            if value and any(figures) and sum((f or Decimal(0) for f in figures),
                                              Decimal(0)) == value:
                out[(i, j)] = adds
    return out


def row_sum_formula(row: int, cols: tuple[int, ...]) -> str:
    """=SUM over the given 0-based columns of one 0-based sheet row."""
    return "=SUM(" + ",".join(f"{column_letter(c)}{row + 1}" for c in cols) + ")"


def column_letter(col: int) -> str:
    name = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        name = chr(65 + rem) + name
    return name


def sum_formula(col: int, sheet_rows: list[int]) -> str:
    """=SUM over the given 0-based sheet rows of one column: ranges where they run on."""
    letter = column_letter(col)
    runs: list[list[int]] = []
    for r in sorted(sheet_rows):
        if runs and r == runs[-1][1] + 1:
            runs[-1][1] = r
        else:
            runs.append([r, r])
    refs = [f"{letter}{a + 1}" if a == b else f"{letter}{a + 1}:{letter}{b + 1}" for a, b in runs]
    return f"=SUM({','.join(refs)})"
