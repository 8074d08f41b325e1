"""`budgetgen import`: a workbook of the standard schedules → a department file of leaf facts.

read_book (book.py) → classify sheets by title and choose the layout (recognise.py, layouts.py)
→ read each table by its header text (grid.py, tables.py) → leaves and checks (schedules.py,
annex.py) → YAML with a `# 工作表!单元格` comment per line (yamlout.py). Problems are located
values like everywhere else; every non-empty row ends up imported, checked or ignored with a
reason (the ledger in draft.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import Catalog, load_catalog
from ..problems import Problem
from .annex import Annex
from .book import read_book
from .draft import IGNORED, Draft
from .layouts import KIND_LABELS, KINDS, LayoutInfo, by_name, known_layouts
from .recognise import classify, label_key, layout_scores
from .schedules import Schedules
from .tables import TableReader, read_meta
from .yamlout import write_yaml

__all__ = ["ImportResult", "import_workbook"]

REQUIRED = ("income", "expenditure", "general", "basic_economic", "three_public")


@dataclass
class ImportResult:
    path: str
    text: str | None = None  # the department file, None when the workbook could not be imported
    problems: list[Problem] = field(default_factory=list)
    draft: Draft | None = None
    readable: bool = True

    @property
    def ignored(self) -> list[tuple[str, int, str]]:
        if self.draft is None:
            return []
        return [(s, r, reason) for (s, r), (status, reason) in self.draft.ledger.items() if status == IGNORED]


def _choose_layout(d: Draft, found, layouts: tuple[LayoutInfo, ...], wanted: str | None,
                   year: int | None = None) -> LayoutInfo | None:
    by_key = {lay.key: lay for lay in layouts}
    if wanted:
        chosen, why = by_name(wanted)
        if chosen is None:
            d.error("导入-版式", "", why)
            return None
        d.layout_origin = "--layout"
        return chosen
    labels: dict[str, set[str]] = {}
    for kind in ("summary", "three_public"):
        if kind in found:
            s = found[kind].sheet
            labels[kind] = {label_key(s.text(r, c)) for r in range(len(s.rows)) for c in range(s.width)
                            if s.text(r, c)}
    scores = layout_scores(found, layouts, labels)
    best = max(scores.values(), default=0)
    winners = [k for k, v in scores.items() if v == best]
    family = {by_key[k].family for k in winners}
    if len(winners) > 1 and len(family) == 1 and "" not in family and year is not None:
        # one family's years print the same tables the import reads: the budget year decides
        same = [k for k in winners if year in by_key[k].years]
        winners = same or winners
    if len(winners) != 1:
        d.error("导入-版式", "", f"无法从表题和固定行判断版式（{'、'.join(winners)} 同样吻合）：请用 --layout 指定"
                + ("（或用 --year 指定预算年度）" if len(family) == 1 and "" not in family and year is None else ""))
        return None
    d.layout_origin = "由表题和固定行识别"
    return by_key[winners[0]]


def import_workbook(path: str | Path, layout: str | None = None, unit: str | None = None,
                    year: int | None = None, catalog: Catalog | None = None,
                    edition: str | None = None) -> ImportResult:
    """`layout`: a built-in key or a layout file (default: recognised from the titles);
    `edition`: what to write as department.edition (default: `layout` or the recognised key)."""
    book, problems = read_book(path)
    if book is None:
        return ImportResult(str(path), problems=problems, readable=False)
    d = Draft(str(path), sheets=[s.name for s in book.sheets])
    layouts = known_layouts()
    found, annex, unknown, duplicates = classify(book, layouts)
    for s in unknown:
        for r in range(len(s.rows)):
            if not s.is_blank_row(r):
                d.mark(s, r, IGNORED, f"工作表“{s.name}”不是可识别的表")
    for f in [a for a in annex if a.kind.startswith("other:")]:
        for r in range(len(f.sheet.rows)):
            if not f.sheet.is_blank_row(r):
                d.mark(f.sheet, r, IGNORED, f"“{f.kind[6:]}”暂不导入")
    annex = [a for a in annex if not a.kind.startswith("other:")]
    for f in duplicates:
        for r in range(len(f.sheet.rows)):
            if not f.sheet.is_blank_row(r):
                d.mark(f.sheet, r, IGNORED, f"与工作表“{found[f.kind].sheet.name}”是同一张表，只导入第一张")
    names = "、".join(s.name for s in book.sheets) or "（无）"
    for kind in REQUIRED:
        if kind not in found:
            d.error("导入-表", "", f"工作簿中找不到“{KIND_LABELS[kind]}”（按表题查找）；工作簿中的工作表：{names}")
    for kind in KINDS:
        if kind not in found and kind not in REQUIRED:
            d.warning("导入-表", "", f"工作簿中没有“{KIND_LABELS[kind]}”，其中的数字无法核对")
    lay = _choose_layout(d, found, layouts, layout, year)
    result = ImportResult(str(path), draft=d)
    if lay is None or d.blocked:
        d.account(book.sheets)
        result.problems = d.problems
        return result
    d.layout = edition or layout or lay.key
    reader = TableReader(d, unit)
    sched = Schedules(d, reader, catalog, lay, found)
    sched.open_all()
    _department(d, sched, year)
    if d.blocked:
        d.account(book.sheets)
        result.problems = d.problems
        return result
    sched.catalog = catalog or load_catalog(d.department.get("year") or None)
    sched.run()
    Annex(d, reader, lay).run(annex)
    if d.needs_yuan:  # an amount that is not a whole hundred 元: the file is typed in 元
        d.unit = "元"
    d.account(book.sheets)
    result.problems = d.problems
    if not d.blocked:
        result.text = write_yaml(d)
    return result


def _department(d: Draft, sched: Schedules, year: int | None) -> None:
    """Department code, name and year from the lines above the tables (or --year)."""
    code = name = ""
    found_year = None
    for kind in KINDS:
        o = sched.opened.get(kind)
        if o is None:
            continue
        c, n, y, at = read_meta(o.sheet, o.found.title_row, o.grid.header_start)
        if n and not name:
            code, name, d.department_origin = c, n, at
        found_year = found_year or y
        if name and found_year:
            break
    if year is not None:
        if found_year and found_year != year:
            d.warning("导入-年度", "", f"工作簿的预算年度为{found_year}，按 --year 改为{year}")
        found_year = year
    if not name:
        d.error("导入-部门", "", "表上方找不到部门名称（如“524某某部门”或“部门名称：某某部门”）")
    if not found_year:
        d.error("导入-年度", "", "找不到预算年度（表上方的“预算年度：2025”或表题中的“2025年”）：可用 --year 指定")
    if name and not code:
        d.warning("导入-部门", d.department_origin, "部门名称前没有部门编码，department.code 留空，请补填")
    d.department = {"code": code, "name": name, "year": found_year or 0}
