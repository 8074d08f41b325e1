"""Opening one recognised table: its header, its unit, its meta line, and its code-tree rows.

`TableReader.open` finds the header and matches the fields (a column it cannot identify is a
located error listing the headers it saw); `tree` reads 类/款/项 rows with their amounts and
checks each parent row against the sum of its children (reported, leaves kept).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ..money import ZERO
from .book import Sheet
from .cells import Cells, code_text, split_code
from .draft import CHECKED, IGNORED, LAYOUT, Draft, fmt
from .grid import Field, Grid, columns, find_header, find_unit, match_fields, norm
from .recognise import Found

SEQ_WORDS = {"序号", "栏次", "行次", "编号", "行号"}
TOTAL_WORDS = {"合计", "总计", "支出合计", "收入合计", "本年支出合计"}


@dataclass
class TRow:
    r: int
    code: str
    name: str
    values: dict[str, Decimal]


@dataclass
class Opened:
    found: Found
    grid: Grid
    unit: str

    @property
    def sheet(self) -> Sheet:
        return self.found.sheet

    @property
    def code_col(self) -> int:
        """The column a row's code is read from (for cell references)."""
        for key in ("code", "cls", "name"):
            if self.grid.has(key):
                return self.grid.col(key)
        return 0


def header_words(fields: tuple[Field, ...]) -> set[str]:
    out = set()
    for f in fields:
        out |= {norm(n) for n in f.names} | {norm(g) for g in f.groups}
    return out


class TableReader:
    def __init__(self, draft: Draft, unit: str | None):
        self.draft, self.cells, self.unit = draft, Cells(draft), unit

    def open(self, found: Found, fields: tuple[Field, ...], label: str,
             extra_words: frozenset[str] | set[str] = frozenset()) -> Opened | None:
        sheet, d = found.sheet, self.draft
        start = max(found.title_row + 1, 0)
        span = find_header(sheet, start, header_words(fields) | set(extra_words))
        if span is None:
            d.error("导入-列", sheet.ref(start), f"{label}：找不到表头（应有 "
                    + "、".join(f.title for f in fields if f.required) + " 等列）")
            return None
        first, last = span
        grid = Grid(sheet, found.title_row, first, last, columns(sheet, first, last))
        match_fields(grid, fields)
        for f in grid.missing:
            d.error("导入-列", sheet.ref(first), f"{label}：找不到“{f.title}”列；看到的表头："
                    f"{grid.seen_headers()}", f.title, grid.seen_headers())
        for r in range(last + 1):
            if not sheet.is_blank_row(r):
                d.mark(sheet, r, LAYOUT)
        unit, _at = find_unit(sheet, last)
        if unit is None:
            unit = self.unit
            if unit is None:
                d.error("导入-单位", sheet.ref(first), f"{label}：表上方没有“单位：万元”或“单位：元”，无法确定金额单位"
                        "（可用 --unit 万元 或 --unit 元 指定）")
                return None
        if grid.missing:
            return None
        self._unknown_columns(sheet, grid, label)
        return Opened(found, grid, unit)

    def _unknown_columns(self, sheet: Sheet, grid: Grid, label: str) -> None:
        """A column the importer does not read is reported when it holds a number."""
        for col in grid.unknown:
            if col.leaf in SEQ_WORDS:
                continue
            for r in range(grid.data_start, len(sheet.rows)):
                v = sheet.cell(r, col.index).value
                if isinstance(v, Decimal) and v:
                    self.draft.warning("导入-列", sheet.ref(grid.header_start, col.index),
                                       f"{label}：不认识“{col.shown}”列，其中的数字（如 {sheet.ref(r, col.index)}）"
                                       "未导入")
                    break

    # ----------------------------------------------------------------- rows
    def data_rows(self, o: Opened):
        """Row numbers of the data, skipping blank rows; 注 lines are marked ignored."""
        sheet = o.sheet
        for r in range(o.grid.data_start, len(sheet.rows)):
            if sheet.is_blank_row(r):
                continue
            first = next((sheet.text(r, c) for c in range(sheet.width) if sheet.text(r, c)), "")
            if isinstance(first, str) and norm(first).startswith(("注:", "注：", "说明:", "备注:")):
                self.draft.mark(sheet, r, IGNORED, "注释行")
                continue
            yield r

    def amounts(self, o: Opened, r: int, keys: tuple[str, ...]) -> dict[str, Decimal] | None:
        out, ok = {}, True
        for k in keys:
            if o.grid.has(k):
                v = self.cells.money(o.sheet, r, o.grid.col(k), o.unit)
                if v is None:
                    ok = False
                    v = ZERO
                out[k] = v
        return out if ok else None

    def row_code(self, o: Opened, r: int) -> tuple[str, str]:
        sheet, g = o.sheet, o.grid
        code = code_text(sheet.cell(r, g.col("code")).value) if g.has("code") else ""
        if not code and g.has("cls"):
            parts = [code_text(sheet.cell(r, g.col(k)).value) for k in ("cls", "kuan", "xiang") if g.has(k)]
            if parts[0]:
                code = parts[0] + "".join(p.zfill(2) for p in parts[1:] if p)
        name = sheet.text(r, g.col("name"))
        if not code and name:
            code, rest = split_code(name)
            if code:
                name = rest
        return code, name

    def tree(self, o: Opened, keys: tuple[str, ...], levels: tuple[int, ...], label: str
             ) -> tuple[TRow | None, list[TRow]]:
        """The 合计 row and the code rows of a classification table. Rows without a code are
        ignored with their reason; a code of the wrong shape is an error."""
        sheet, d = o.sheet, self.draft
        total: TRow | None = None
        rows: list[TRow] = []
        seen: dict[str, int] = {}
        for r in self.data_rows(o):
            code, name = self.row_code(o, r)
            if norm(name) in TOTAL_WORDS or norm(code) in TOTAL_WORDS:  # 合计 in either column
                vals = self.amounts(o, r, keys)
                if vals is not None:
                    total = TRow(r, "", name or code, vals)
                d.mark(sheet, r, CHECKED)
                continue
            if not code:
                d.mark(sheet, r, IGNORED, "没有科目编码")
                if any(isinstance(sheet.cell(r, o.grid.col(k)).value, Decimal) and sheet.cell(r, o.grid.col(k)).value
                       for k in keys if o.grid.has(k)):
                    d.warning("导入-科目", sheet.ref(r, o.code_col), f"{label}：第{r + 1}行有金额但没有科目编码，未导入")
                continue
            if not code.isdigit() or len(code) not in levels:
                d.error("导入-科目", sheet.ref(r, o.code_col),
                        f"{label}：科目编码“{code}”应为{'、'.join(map(str, levels))}位数字")
                d.mark(sheet, r, IGNORED, "科目编码无法识别")
                continue
            if code in seen:
                d.error("导入-科目", sheet.ref(r), f"{label}：科目{code}出现两次（另见第{seen[code] + 1}行）")
                continue
            seen[code] = r
            vals = self.amounts(o, r, keys)
            if vals is None:
                continue
            rows.append(TRow(r, code, name, vals))
        self.check_tree(o, total, rows, keys, levels, label)
        return total, rows

    def check_tree(self, o: Opened, total: TRow | None, rows: list[TRow], keys: tuple[str, ...],
                   levels: tuple[int, ...], label: str) -> None:
        """Each parent row = Σ of its children; 合计 = Σ top rows (or Σ leaves)."""
        sheet, d = o.sheet, self.draft
        by_len: dict[int, list[TRow]] = {n: [r for r in rows if len(r.code) == n] for n in levels}
        for i, n in enumerate(levels[:-1]):
            child_len = levels[i + 1]
            for parent in by_len[n]:
                kids = [k for k in by_len[child_len] if k.code.startswith(parent.code)]
                d.mark(sheet, parent.r, CHECKED)
                if not kids:
                    continue
                self._compare(o, parent, kids, keys, f"{label}：{_level_name(n)}{parent.code}“{parent.name}”",
                              f"其下各{_level_name(child_len)}之和")
        if total is not None:
            top = by_len[levels[0]] or by_len[levels[-1]]
            if top:
                self._compare(o, total, top, keys, f"{label}：合计行", "各科目之和")

    def _compare(self, o: Opened, row: TRow, parts: list[TRow], keys: tuple[str, ...], what: str,
                 against: str) -> None:
        for k in keys:
            if k not in row.values:
                continue
            want = sum((p.values.get(k, ZERO) for p in parts), ZERO)
            if row.values[k] != want:
                c = o.grid.col(k)
                head = o.grid.columns[c].shown.split("/")[-1]
                self.draft.error("导入-核对", o.sheet.ref(row.r, c),
                                 f"{what}“{head}”为{fmt(row.values[k])}，{against}为{fmt(want)}（已按明细导入）",
                                 f"{fmt(want)}", f"{fmt(row.values[k])}")

    def check_sum(self, o: Opened, row: TRow, total_key: str, part_keys: tuple[str, ...],
                  label: str) -> None:
        """Within a row: the 合计 column = Σ the part columns present."""
        if total_key not in row.values:
            return
        parts = [k for k in part_keys if k in row.values]
        if not parts:
            return
        want = sum((row.values[k] for k in parts), ZERO)
        if row.values[total_key] != want:
            c = o.grid.col(total_key)
            names = "+".join(o.grid.columns[o.grid.col(k)].shown.split("/")[-1] for k in parts)
            self.draft.error("导入-核对", o.sheet.ref(row.r, c),
                             f"{label}：{row.code or row.name}行合计{fmt(row.values[total_key])}，"
                             f"而{names}为{fmt(want)}", f"{fmt(want)}", f"{fmt(row.values[total_key])}")


def _level_name(n: int) -> str:
    return {3: "类", 5: "款", 7: "项"}.get(n, "级")


_YEAR = re.compile(r"(?:预算年度|年度)\s*[:：]\s*(\d{4})")
_YEAR_IN_TITLE = re.compile(r"(20\d{2})\s*年")
_DEPT_PREFIX = re.compile(r"^(部门名称|编制部门|编制单位|单位名称|预算单位|部门)\s*[:：]\s*")
_DEPT_CODE = re.compile(r"^\[?(\d{1,15})\]?\s*[-－_—]?\s*(\S.*)$")
_UNIT_TEXT = re.compile(r"单位\s*[:：]\s*(万元|元)")


def read_meta(sheet: Sheet, title_row: int, header_first: int) -> tuple[str, str, int | None, str]:
    """(department code, name, year, cell) from the title and the line(s) above the header."""
    code, name, year, at = "", "", None, ""
    if title_row >= 0:
        m = _YEAR_IN_TITLE.search(sheet.text(title_row, 0) or "")
        if m:
            year = int(m.group(1))
    for r in range(max(title_row + 1, 0), header_first):
        for c in range(sheet.width):
            t = sheet.text(r, c)
            if not t:
                continue
            m = _YEAR.search(t)
            if m:
                year = int(m.group(1))
            if name:
                continue
            t = _DEPT_PREFIX.sub("", t).strip()
            # "部门名称：某部门　　　单位：万元", "524某某部门  预算年度：2025  单位：万元" in one cell:
            # the name is the part before the year and the unit (a cell of only those has none)
            t = re.split(r"[\s\u3000]{2,}|\s*(?:金额)?单位\s*[:：]|\s*(?:预算)?年度\s*[:：]", t)[0].strip()
            if not t:
                continue
            m2 = _DEPT_CODE.match(t)
            code, name = (m2.group(1), m2.group(2).strip()) if m2 else ("", t)
            at = sheet.ref(r, c)
    return code, name, year, at
