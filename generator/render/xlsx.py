"""Disclosure → XLSX workbook bytes: one print-ready sheet per published table.

Sheets, in order: the nine schedules, one per project goal table (绩效目标表), procurement,
assets, institutions. Each sheet carries the title, the line above the table (department,
预算年度, 单位), the header with the published merges, the rows, and the 注 lines under it.

Choices:
- Figures are final (the renderer never recomputes). A total is written as a live formula
  (=SUM over the rows it adds up: a 类 over its 款, 合计 over the 类, 本年收入合计 over the
  income rows) carrying the model's figure as its cached value, so an auditor can trace it
  in Excel and every reader, including ones that do not recalculate (openpyxl with
  data_only=True), sees the figure. Which rows a total adds up is read from the table's own
  structure and kept only where the figures agree exactly (xlsx_layout.sum_sources); any
  other figure is a plain number.
- Numbers are stored as numbers. XLSX stores every number as an IEEE double, so the one
  Decimal → float conversion lives in `_write_decimal`. Our amounts have at most four
  decimals, and a double's shortest repr gives the same decimal text back, so a reader gets
  exactly the figure we computed. (A formula whose cached value is the Decimal's text would
  be read back as a string, and the cell would stop being a number.)
- Codes and 栏次 are text on purpose; Excel's "number stored as text" marker is switched
  off for the sheet (ignore_errors). Cells keep an indent of one from their borders.
- Text is written with write_string only, so a name beginning with =, +, - or @ stays text;
  such cells also get Excel's quote prefix so editing them keeps them text.
- The output is deterministic: in-memory packaging gives fixed zip timestamps, and the
  document's created date is the input's `published` date (else 1 January of the budget year).
"""
from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

import xlsxwriter  # type: ignore[import-untyped]

from ..compute.tables import Column, Disclosure, ProjectTable, Table
from ..money import price_places, shown
from .xlsx_layout import (
    Placed,
    column_units,
    line_count,
    meta_spans,
    place_header,
    row_height,
    sheet_name,
    span_heights,
    sum_formula,
    sum_sources,
)

FONT = {"font_name": "宋体", "font_size": 10, "font_scheme": "none", "font_charset": 134}
TITLE_SIZE = 16
FORMULA_LIKE = ("=", "+", "-", "@")


def render_xlsx(disclosure: Disclosure) -> bytes:
    """The whole disclosure as XLSX bytes (identical bytes for identical input)."""
    d = disclosure
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False, "default_format_properties": dict(FONT),
    })
    wb.set_properties({"title": d.title, "subject": f"{d.kind}公开", "author": d.department_name,
                       "company": d.department_name, "comments": "budgetgen",
                       "created": _created(d)})
    styles, taken = _Styles(wb), set[str]()
    styles.draft = d.draft
    for table in d.schedules:
        _table_sheet(wb, styles, table, sheet_name(table.sheet or table.title, taken))
    for project in d.projects:
        # a short name: the project's full title is in the sheet's first row
        _project_sheet(wb, styles, project, d.department_name,
                       sheet_name(f"项目{project.number}", taken))
    for table in d.annex_tables:
        _table_sheet(wb, styles, table, sheet_name(table.sheet or table.title, taken))
    if d.draft:  # render --draft: every printed page and every sheet's title say 草稿
        for ws in wb.worksheets():
            ws.set_header("&C&16草稿")
    wb.close()
    return buf.getvalue()


def _created(d: Disclosure) -> datetime:
    """The workbook's date: the input's published date; without one 1 January of the budget
    year (a workbook always carries a creation date, and it must not be the clock's)."""
    return datetime.fromisoformat(d.published) if d.published else datetime(d.year, 1, 1)


class _Styles:
    """Cell formats, created once per distinct set of properties (all in 宋体)."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self.cache: dict[tuple, object] = {}
        self.draft = False  # render --draft: titles marked 草稿

    def get(self, **props):
        key = tuple(sorted(props.items()))
        if key not in self.cache:
            self.cache[key] = self.wb.add_format({**FONT, "valign": "vcenter", **props})
        return self.cache[key]

    def title(self, size: int = TITLE_SIZE):
        return self.get(bold=True, font_size=size, align="center", text_wrap=True)

    def plain(self, align: str):
        return self.get(align=align, text_wrap=True)

    def header(self):
        return self.get(bold=True, align="center", text_wrap=True, border=1)

    def text(self, kind: str, bold: bool = False, quote: bool = False):
        if kind == "seq":
            return self.get(bold=bold, align="center", border=1, quote_prefix=quote)
        return self.get(bold=bold, align="left", indent=1, text_wrap=kind == "text", border=1,
                        quote_prefix=quote)

    def number(self, num_format: str, kind: str, bold: bool = False):
        if kind == "seq":
            return self.get(bold=bold, align="center", num_format=num_format, border=1)
        return self.get(bold=bold, align="right", indent=1, num_format=num_format, border=1)


def number_format(kind: str, value: Decimal | int, places: int = 2) -> str | None:
    """The Excel number format for a figure in a column of `kind`; None prints blank."""
    if kind == "seq":
        return "0"
    if value == 0 and kind in ("money", "qty", "price"):
        return None  # zero prints blank, as the published tables do
    if kind == "qty":
        return "0" if value == int(value) else "0.####"
    if kind == "price":
        return "0." + "0" * price_places(Decimal(value))
    if kind == "money" and places != 2:
        return "0." + "0" * places if places else "0"
    return "0.00"


def _write_decimal(ws, row: int, col: int, value: Decimal | int, fmt) -> None:
    # The one Decimal → float conversion: XLSX stores numbers as IEEE doubles (see docstring).
    ws.write_number(row, col, float(value), fmt)


def _write_cell(ws, st: _Styles, row: int, col: int, value, kind: str, bold: bool = False,
                places: int = 2) -> None:
    if value is None or value == "":
        ws.write_blank(row, col, None, st.text(kind, bold))
    elif isinstance(value, str):
        ws.write_string(row, col, value, st.text(kind, bold, value.startswith(FORMULA_LIKE)))
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        value = shown(Decimal(value), kind, places)  # the digits the PDF shows (one rounding rule)
        fmt = number_format(kind, value, places)
        if fmt is None:
            ws.write_blank(row, col, None, st.text(kind, bold))
        else:
            _write_decimal(ws, row, col, value, st.number(fmt, kind, bold))
    else:
        raise TypeError(f"cannot write {type(value).__name__} into a workbook cell")


def _put_text(ws, first_row: int, first_col: int, last_row: int, last_col: int, text: str, fmt):
    """Text over a range, merged when it spans more than one cell; always a string cell."""
    if (first_row, first_col) != (last_row, last_col):
        ws.merge_range(first_row, first_col, last_row, last_col, "", fmt)
    ws.write_string(first_row, first_col, text, fmt)


def _page_setup(ws, landscape: bool, repeat: tuple[int, int] | None) -> None:
    ws.ignore_errors({"number_stored_as_text": "A1:XFD1048576"})  # codes, 栏次 are text
    ws.set_paper(9)  # A4
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)  # one page wide, as many tall as needed
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.center_horizontally()
    ws.set_footer("&C第 &P 页")
    if repeat:
        ws.repeat_rows(*repeat)


def _title_and_meta(ws, st: _Styles, title: str, meta: tuple[str, ...], units: list[float],
                    size: int = TITLE_SIZE) -> int:
    """Write the title row and the meta row; return the next free row."""
    last = len(units) - 1
    if st.draft:
        title = f"【草稿】{title}"
    _put_text(ws, 0, 0, 0, last, title, st.title(size))
    ws.set_row(0, row_height(line_count(title, sum(units) * 10 / size), scale=size / 10))
    if not meta:
        return 1
    lines = 1
    for a, b, text, align in meta_spans(units, meta):
        _put_text(ws, 1, a, 1, b, text, st.plain(align))
        lines = max(lines, line_count(text, sum(units[a:b + 1])))
    ws.set_row(1, row_height(lines))
    return 2


def _table_sheet(wb, st: _Styles, table: Table, name: str) -> None:
    ws = wb.add_worksheet(name)
    units = [column_units(c.width) for c in table.columns]
    for c, u in enumerate(units):
        ws.set_column(c, c, u)
    top = _title_and_meta(ws, st, table.title, table.meta, units)
    placed = place_header(table.header, table.width)
    for p in placed:
        _put_text(ws, top + p.row, p.col, top + p.last_row, p.last_col, p.text,
                  st.text("text") if p.value else st.header())
    for i, h in enumerate(span_heights(placed, units, len(table.header))):
        ws.set_row(top + i, h)
    r = first = top + len(table.header)
    ws.freeze_panes(r, 0)
    sums = sum_sources(table)
    heights: list[float] = []
    for i, row in enumerate(table.rows):
        if len(row.cells) != table.width:
            raise ValueError(f"{table.key}: a row has {len(row.cells)} cells, "
                             f"the table {table.width} columns")
        lines = 1
        merged = table.merge if row.group is not None else 0  # sized over the group's rows
        for c, (value, col) in enumerate(zip(row.cells, table.columns)):
            parts = sums.get((i, c))
            figure = shown(Decimal(value), col.kind, col.places) if parts else None
            fmt = number_format(col.kind, figure, col.places) if figure is not None else None
            if parts and figure is not None and fmt:
                # a total: =SUM(...) with the model's figure (as shown) as its cached value
                ws.write_formula(r, c, sum_formula(c, [first + k for k in parts]),
                                 st.number(fmt, col.kind, row.emphasis), float(figure))
                continue
            _write_cell(ws, st, r, c, value, col.kind, row.emphasis, col.places)
            if isinstance(value, str) and c >= merged:
                lines = max(lines, line_count(value, units[c]))
        heights.append(row_height(lines))
        ws.set_row(r, heights[-1])
        r += 1
    _merge_groups(ws, st, table, first, units, heights)
    for note in (table.note, *table.notes_after):
        if note:
            _put_text(ws, r, 0, r, table.width - 1, note, st.plain("left"))
            ws.set_row(r, row_height(line_count(note, sum(units))))
            r += 1
    _page_setup(ws, table.landscape, (top, top + len(table.header) - 1))


def _merge_groups(ws, st: _Styles, table: Table, first: int, units: list[float],
                  heights: list[float]) -> None:
    """A form-like table (Table.merge): each group's leading cells merged over its rows, the
    value of its first row in the merged cell, as the PDF prints it; the group's last row
    grows when its rows together are too low for the merged text."""
    for start, count in table.group_spans().items() if table.merge else ():
        row = table.rows[start]
        need = max((row_height(line_count(v, units[c])) for c, v in enumerate(row.cells[:table.merge])
                    if isinstance(v, str)), default=0.0)
        have = sum(heights[start:start + count])
        if need > have:
            ws.set_row(first + start + count - 1, heights[start + count - 1] + need - have)
        if count < 2:
            continue
        for c, col in enumerate(table.columns[:table.merge]):
            value = row.cells[c]
            figure = shown(value, col.kind, col.places) if isinstance(value, Decimal) else None
            pattern = number_format(col.kind, figure, col.places) if figure is not None else None
            fmt = st.number(pattern, col.kind, row.emphasis) if pattern else st.text(col.kind)
            ws.merge_range(first + start, c, first + start + count - 1, c, "", fmt)
            _write_cell(ws, st, first + start, c, value, col.kind, row.emphasis, col.places)


# The project goal table (绩效目标表) on a six-column grid, the indicator table's columns:
# 一级指标 | 二级指标 | 三级指标 | 绩效指标描述 | 指标值 | 指标值确定依据
PROJECT_COLUMNS = (Column("text", 9), Column("text", 10), Column("text", 15), Column("text", 18),
                   Column("text", 11), Column("text", 12))
INDICATOR_HEAD = ("一级指标", "二级指标", "三级指标", "绩效指标描述", "指标值", "指标值确定依据")


def project_form(p: ProjectTable) -> tuple[list[tuple[Placed, object, str]], int]:
    """The cells of a project's form as (position, value, role), rows counted from 0, and the
    row of the indicator table's header. role is 'label' (a printed caption), or the column
    kind the value is written as: 'text' or 'money'."""
    cells: list[tuple[Placed, object, str]] = []

    def put(row, col, value, role="text", rowspan=1, colspan=1):
        text = value if isinstance(value, str) else ""
        cells.append((Placed(row, col, rowspan, colspan, text), value, role))

    r = 0
    if p.format == "full":
        put(r, 0, "项目编码", "label")
        put(r, 1, p.code, colspan=2)
        put(r, 3, "项目名称", "label")
        put(r, 4, p.name, colspan=2)
        r += 1
        put(r, 0, "预算规模及资金用途", "label", rowspan=3)
        for i, (label, amount) in enumerate((("预算数", p.amount), ("其中：财政资金", p.fiscal),
                                             ("其他资金", p.other))):
            put(r + i, 1, label, "label")
            put(r + i, 2, amount, "money")
        put(r, 3, "资金用途", "label", rowspan=3)
        put(r, 4, p.purpose, rowspan=3, colspan=2)
        r += 3
        if p.plan:
            put(r, 0, f"资金支出计划（{p.unit}）", "label", rowspan=2)
            for i, (label, amount) in enumerate(zip(("3月底", "6月底", "10月底", "12月底"), p.plan)):
                put(r, 1 + i, label, "label", colspan=2 if i == 3 else 1)
                put(r + 1, 1 + i, amount, "money", colspan=2 if i == 3 else 1)
            r += 2
    put(r, 0, "绩效目标", "label")
    put(r, 1, "\n".join(p.goals), colspan=5)
    r += 1
    for c, text in enumerate(INDICATOR_HEAD):
        put(r, c, text, "label")
    head, start = r, r + 1
    for i, row in enumerate(p.indicators):
        for c, text in enumerate(row[1:], 1):
            put(start + i, c, text)
    # 一级指标: one merged cell down over its group (the rows after its first leave it blank)
    firsts = [i for i, row in enumerate(p.indicators) if row[0] or i == 0]
    for g, i in enumerate(firsts):
        end = firsts[g + 1] if g + 1 < len(firsts) else len(p.indicators)
        put(start + i, 0, p.indicators[i][0], rowspan=end - i)
    return cells, head


def _project_sheet(wb, st: _Styles, p: ProjectTable, department: str, name: str) -> None:
    ws = wb.add_worksheet(name)
    units = [column_units(c.width) for c in PROJECT_COLUMNS]
    for c, u in enumerate(units):
        ws.set_column(c, c, u)
    meta = (department, f"单位：{p.unit}") if p.format == "full" else (department,)
    top = _title_and_meta(ws, st, p.title, meta, units, size=14)
    cells, head = project_form(p)
    for pos, value, role in cells:
        first, last = (top + pos.row, pos.col), (top + pos.last_row, pos.last_col)
        if role == "label":
            _put_text(ws, *first, *last, pos.text, st.header())
            continue
        if first != last:
            ws.merge_range(*first, *last, "", st.text(role))
        _write_cell(ws, st, *first, value, role, places=p.places)
    rows = max(pos.last_row for pos, _, _ in cells) + 1
    for i, h in enumerate(span_heights([pos for pos, _, _ in cells], units, rows)):
        ws.set_row(top + i, h)
    _page_setup(ws, False, (top + head, top + head))
