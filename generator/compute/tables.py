"""Plain data that renderers lay out: tables with multi-row headers, paragraphs, headings.

Renderers take these values and never recompute: every figure here is already final.
Cells are None (blank), str (text) or Decimal (formatted by the column's kind).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Head:
    """One header cell; spans as in the published table. `value`: a filled-in cell of a
    form-like header (部门整体支出绩效目标表's 名称, 预算, 总体目标), printed as body text —
    regular weight, left-aligned — rather than as a column caption."""
    text: str
    colspan: int = 1
    rowspan: int = 1
    value: bool = False


@dataclass(frozen=True)
class Column:
    kind: str  # seq | code | text | money | qty | price
    width: float  # relative width, in 五号 characters (also the xlsx column width basis)
    places: int = 2  # decimals a money column prints (the layout's `decimals`)


@dataclass(frozen=True)
class Row:
    cells: tuple
    emphasis: bool = False  # a total or 类 row (bold)
    group: int | None = None  # rows of one group (a project) share their first `Table.merge` cells


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    meta: tuple[str, ...]  # the line above the table: department, 预算年度, 单位
    header: tuple[tuple[Head, ...], ...]
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    note: str | None = None  # e.g. 注：无…，空表列示。
    landscape: bool = False
    sheet: str = ""  # workbook sheet name (≤ 31 characters)
    notes_after: tuple[str, ...] = ()  # further 注 lines
    # a form-like table: the first `merge` cells of a group's rows are one merged cell each
    # (the values on the group's first row, the others blank); `groups[g]` names group g on a
    # page it continues on (项目：名称（编码）)
    merge: int = 0
    groups: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return len(self.columns)

    def group_spans(self) -> dict[int, int]:
        """Row index of each group's first row → the number of rows the group has."""
        spans: dict[int, int] = {}
        first: dict[int, int] = {}
        for i, row in enumerate(self.rows):
            if row.group is None:
                continue
            if row.group not in first:
                first[row.group] = i
                spans[i] = 0
            spans[first[row.group]] += 1
        return spans


@dataclass(frozen=True)
class Heading:
    text: str
    level: int  # 1 section (黑体), 2 subsection (楷体), 3 caption


@dataclass(frozen=True)
class Paragraph:
    text: str
    indent: bool = True


@dataclass(frozen=True)
class ProjectTable:
    """A project's performance-goal table (绩效目标表), in the layout's format."""
    number: int
    name: str
    format: str  # full | goals
    code: str
    amount: Decimal
    fiscal: Decimal
    other: Decimal
    purpose: str
    plan: tuple  # 4 Decimals or ()
    goals: tuple[str, ...]
    indicators: tuple[tuple[str, ...], ...]  # 6 cells; 一级指标 blank where it repeats
    unit: str = "万元"  # the unit its amounts are printed in
    places: int = 2  # decimals its amounts print with

    @property
    def title(self) -> str:
        return f"{self.number}、{self.name}绩效目标表"


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    blocks: tuple = ()  # Heading | Paragraph | Table | ProjectTable


@dataclass(frozen=True)
class Disclosure:
    """Everything the renderers need, computed: the tables and the explanatory text, in the
    layout's order, with the labels it prints."""
    department_code: str
    department_name: str
    year: int
    edition: str  # the layout's key
    title: str  # 秦皇岛市…2025年部门预算公开
    schedules: tuple[Table, ...]
    sections: tuple[Section, ...]
    annex_tables: tuple[Table, ...] = ()  # procurement, assets, institutions: also a sheet each
    projects: tuple[ProjectTable, ...] = ()
    figures: dict = field(default_factory=dict)  # headline figures by name (for tests, text)
    published: str = ""  # YYYY-MM-DD the document is dated (department.published), or ""
    kind: str = "部门预算"  # or 单位预算: what the title and the part headings say
    schedule_labels: tuple[str, ...] = ()  # each table's number in the 目录: 一、 / 表1 …
    parts: tuple[tuple[str, str], ...] = (("tables", "第一部分 部门预算公开表"),
                                          ("text", "第二部分 部门预算信息公开情况说明"))
    # ("tables" | "text", part title), in print order
    intro: str = ""  # the paragraph opening the text part
    unit: str = "万元"
    problems: tuple = ()  # located problems found while computing (a layout template failing)
    draft: bool = False  # a draft (render --draft): every page and sheet says 草稿
