"""One table on a sheet: title, meta line (department, 预算年度, 单位), header, data rows.

The header is found by its text, not its position: it may be one row or two (or three),
merged or not, with or without 序号 and 栏次. Each column gets the path of header texts above
it (a merged group label is spread over the columns it covers; an unmerged one over the blank
cells to its right that have a label beneath), and fields are matched on the lowest text of
that path, the group texts telling apart columns that share a name (收入/项目 vs 支出/项目).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .book import Sheet

_DROP = re.compile(r"[\s\u3000“”‘’\"'「」『』*＊]")


def norm(text: str) -> str:
    """Text for comparison: NFKC, no white space, no quote marks."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text or ""))


@dataclass(frozen=True)
class Field:
    """A column the importer reads: its key, the header texts that name it, and optionally the
    group text it must sit under (when several columns share a name)."""
    key: str
    names: tuple[str, ...]
    groups: tuple[str, ...] = ()
    required: bool = True
    label: str = ""  # how a message names it; default names[0]

    @property
    def title(self) -> str:
        return self.label or self.names[0]


@dataclass
class Column:
    index: int
    path: tuple[str, ...]  # normalised header texts, top to bottom
    shown: str  # the header as printed, for messages

    @property
    def leaf(self) -> str:
        return self.path[-1] if self.path else ""


@dataclass
class Grid:
    sheet: Sheet
    title_row: int
    header_start: int
    header_end: int  # last header row (栏次 row included)
    columns: list[Column]
    fields: dict[str, int] = field(default_factory=dict)  # field key → column index
    missing: list[Field] = field(default_factory=list)
    unknown: list[Column] = field(default_factory=list)

    @property
    def data_start(self) -> int:
        return self.header_end + 1

    def has(self, key: str) -> bool:
        return key in self.fields

    def col(self, key: str) -> int:
        return self.fields[key]

    def seen_headers(self) -> str:
        return "、".join(c.shown for c in self.columns if c.shown) or "（无）"


HEADER_WORDS = {"序号", "栏次", "项目", "金额", "预算数", "科目编码", "科目名称", "合计", "小计", "资金性质",
                "本年收入", "收入", "支出"}


def _is_lanci(sheet: Sheet, r: int) -> bool:
    texts = [sheet.text(r, c) for c in range(sheet.width)]
    if any(norm(t) == "栏次" for t in texts):
        return True
    vals = [norm(t) for t in texts if t]
    if len(vals) < 2:
        return False
    # 1 2 3 … (or A B C …) as text in every filled cell, written as text not numbers
    if not all(isinstance(sheet.cell(r, c).value, str) for c in range(sheet.width) if sheet.text(r, c)):
        return False
    return all(v.isdigit() for v in vals) or all(len(v) == 1 and v.isalpha() and v.isascii() for v in vals)


def _header_like(sheet: Sheet, r: int, words: set[str]) -> bool:
    cells = [sheet.cell(r, c).value for c in range(sheet.width)]
    if any(isinstance(v, Decimal) for v in cells):
        return False
    texts = [norm(v) for v in cells if isinstance(v, str) and v.strip()]
    if not texts:
        return False
    known = sum(1 for t in texts if t in words or any(t.startswith(w) for w in words if len(w) >= 4))
    return known >= 2 and known * 2 >= len(texts)


def find_header(sheet: Sheet, start: int, words: set[str], limit: int = 12) -> tuple[int, int] | None:
    """(first, last) header row: the first header-like row after `start`, the rows below it that
    are header-like too or blank-beneath-merges, and a 栏次 row; None when there is none."""
    words = words | HEADER_WORDS
    end_scan = min(len(sheet.rows), start + limit)
    for r in range(start, end_scan):
        if not _header_like(sheet, r, words):
            continue
        # a group row above with only one known word (项目 | 资金性质 over 合计 | 一般公共预算…)
        while r - 1 >= start and _group_row(sheet, r - 1, words):
            r -= 1
        last = r
        while last + 1 < len(sheet.rows) and last - r < 3:
            nxt = last + 1
            if _is_lanci(sheet, nxt):
                return r, nxt
            if _header_like(sheet, nxt, words) or _covered_by_merge(sheet, nxt, r):
                last = nxt
                continue
            break
        return r, last
    return None


def _group_row(sheet: Sheet, r: int, words: set[str]) -> bool:
    cells = [sheet.cell(r, c).value for c in range(sheet.width)]
    if any(isinstance(v, Decimal) for v in cells):
        return False
    texts = [norm(v) for v in cells if isinstance(v, str) and v.strip()]
    return len(texts) >= 2 and any(t in words for t in texts) and not any("单位:" in t or "年度" in t
                                                                           for t in texts)


def _covered_by_merge(sheet: Sheet, r: int, top: int) -> bool:
    """A second header row can have only one or two labels of its own (the rest merged from
    above); it counts when every non-empty cell is text and some cell lies in a merge from `top`."""
    cells = [sheet.cell(r, c).value for c in range(sheet.width)]
    if any(isinstance(v, Decimal) for v in cells) or not any(cells):
        return False
    return any(r1 == top and r1 < r <= r2 for r1, _, r2, _ in sheet.merged)


def columns(sheet: Sheet, first: int, last: int) -> list[Column]:
    rows = [r for r in range(first, last + 1) if not _is_lanci(sheet, r)]
    width = sheet.width
    grid: list[list[str]] = []
    for r in rows:
        line = []
        for c in range(width):
            ar, ac = sheet.anchor(r, c)
            line.append(sheet.text(ar, ac) if first <= ar <= last else sheet.text(r, c))
        grid.append(line)
    # an unmerged group label spreads right over blanks that have a label beneath them
    for i in range(len(grid) - 1):
        for c in range(1, width):
            if not grid[i][c] and grid[i][c - 1] and any(grid[j][c] for j in range(i + 1, len(grid))) \
                    and any(grid[j][c - 1] for j in range(i + 1, len(grid))):
                grid[i][c] = grid[i][c - 1]
    out = []
    for c in range(width):
        path: list[str] = []
        shown: list[str] = []
        for line in grid:
            t = line[c]
            if t and (not path or norm(t) != path[-1]):
                path.append(norm(t))
                shown.append(re.sub(r"\s+", "", t))
        out.append(Column(c, tuple(path), "/".join(shown)))
    return out


def match_fields(grid: Grid, fields: tuple[Field, ...]) -> None:
    """Assign each field the first unclaimed column whose lowest header text is one of its names
    (and, for a field with groups, whose path holds one of them)."""
    taken: set[int] = set()
    for f in fields:
        names = {norm(n) for n in f.names}
        groups = {norm(g) for g in f.groups}
        found = None
        for col in grid.columns:
            if col.index in taken or not col.path:
                continue
            if not _names_match(col.leaf, names):
                continue
            if groups and not (groups & set(col.path[:-1])) and _group_present(grid, groups):
                continue
            found = col.index
            break
        if found is None:
            if f.required:
                grid.missing.append(f)
            continue
        taken.add(found)
        grid.fields[f.key] = found
    grid.unknown = [c for c in grid.columns if c.index not in taken and c.path]


_YEAR_PREFIX = re.compile(r"^20\d{2}年")


def _names_match(leaf: str, names: set[str]) -> bool:
    """Exact, or with a leading year (2025年预留…), or followed by a bracket (价值(金额单位:万元))."""
    bare = _YEAR_PREFIX.sub("", leaf)
    return any(x in names or any(x.startswith(n + "(") for n in names) for x in (leaf, bare))


def _group_present(grid: Grid, groups: set[str]) -> bool:
    """Whether the header names any of the groups at all (a one-row header does not)."""
    return any(groups & set(c.path[:-1]) for c in grid.columns)


# ---------------------------------------------------------------- amounts and units

_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
_PLAIN = re.compile(r"-?\d+(\.\d+)?")
DASHES = {"-", "—", "－", "——", "/"}


def parse_number(value: str | Decimal | None) -> Decimal | None:
    """A cell's number: a number cell, or text that is a plain number (thousands separators in
    their places allowed); blank or a dash is zero. None when the text is not a number."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    text = unicodedata.normalize("NFKC", value).strip()
    if text == "" or text in DASHES:
        return Decimal(0)
    if _PLAIN.fullmatch(text) or _GROUPED.fullmatch(text):
        try:
            return Decimal(text.replace(",", ""))
        except InvalidOperation:
            return None
    return None


_UNIT = re.compile(r"(?:金额)?单位\s*[:：]\s*(万元|元)")


def find_unit(sheet: Sheet, upto: int) -> tuple[str | None, tuple[int, int] | None]:
    """The 单位 stated above the table (or in its header), and the cell that says it."""
    for r in range(min(upto + 1, len(sheet.rows))):
        for c in range(sheet.width):
            t = sheet.text(r, c)
            m = _UNIT.search(t) if t else None
            if m:
                return m.group(1), (r, c)
    return None, None
