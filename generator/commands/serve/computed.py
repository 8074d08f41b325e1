"""What the disclosure prints that the clerk does not type, shown beside the fields it comes
from: the 类/款 subtotals and 合计 of the expenditure, the 人员/公用 split of the basic
spending, the 三公 合计, the procurement and asset totals.

Nothing is recomputed here: the figures are the compute stage's own (the disclosure's tables,
by the kind of table the layout names, and its headline figures), formatted by the HTML
renderer's `format_cell`, so the page shows the digits the PDF prints.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...compute.tables import Table
from ...pipeline import Checked
from ...render.html import format_cell

# section of the file → (kind of table in the layout, the longest code of a row shown: the leaf
# lines are the fields themselves, 0 shows every row)
_TABLES = {"expenditure": ("function", 5), "basic_economic": ("economic", 3), "three_public": ("three_public", 0)}
# section → headline figures (name in Disclosure.figures / Figures, label)
_FIGURES: dict[str, list[tuple[str, str]]] = {
    "expenditure": [("total", "支出合计"), ("basic", "基本支出"), ("project", "项目支出")],
    "basic_economic": [("personnel", "人员经费"), ("public", "公用经费")],
    "three_public": [("three_public", "“三公”经费合计")],
    "projects": [("projects_total", "项目预算合计（财政资金＋其他资金）"), ("project", "支出表中的项目支出")],
    "procurement": [("procurement", "政府采购预算合计"), ("procurement_sme", "其中：预留中小微企业份额")],
    "assets": [("assets", "固定资产价值合计")],
    # beside the declared control totals: the figures they are checked against
    "control_totals": [("total", "按明细计算：支出总计"), ("basic", "基本支出"), ("project", "项目支出"),
                       ("personnel", "人员经费"), ("public", "公用经费"), ("three_public", "“三公”经费"),
                       ("assets", "资产总额"), ("procurement", "政府采购")],
}


def _labels(table: Table) -> list[str]:
    """One caption per column: the lowest header cell over it (the 栏次 row left out)."""
    width = table.width
    grid: list[list[str | None]] = []
    taken: dict[tuple[int, int], bool] = {}
    for r, row in enumerate(table.header):
        grid.append([None] * width)
        c = 0
        for head in row:
            while c < width and taken.get((r, c)):
                c += 1
            for dr in range(head.rowspan):
                for dc in range(head.colspan):
                    taken[(r + dr, c + dc)] = True
                    if r + dr < len(table.header) + 1 and c + dc < width:
                        while len(grid) <= r + dr:
                            grid.append([None] * width)
                        grid[r + dr][c + dc] = head.text
            c += head.colspan
    out = []
    for c in range(width):
        texts = [t for r in range(min(len(grid), len(table.header)))
                 if (t := grid[r][c]) and t != "栏次" and not t.isdigit()]
        out.append(texts[-1] if texts else "")
    return out


def _panel(table: Table, longest: int) -> dict[str, Any]:
    labels = _labels(table)
    money = [i for i, col in enumerate(table.columns) if col.kind == "money"]
    # columns with no figure at all (经营支出 of a department without one) are left out
    money = money[:1] + [i for i in money[1:] if any(row.cells[i] for row in table.rows)]
    text = [i for i, col in enumerate(table.columns) if col.kind in ("code", "text")]
    shown = []
    for row in table.rows:
        code = next((str(row.cells[i]) for i in text if row.cells[i] not in (None, "")), "")
        if longest and len(code) > longest and code.isdigit():
            continue
        cells = [format_cell(row.cells[i], table.columns[i].kind, table.columns[i].places) for i in text + money]
        shown.append({"cells": cells, "emphasis": row.emphasis, "code": code})
    return {"title": table.title, "headers": [labels[i] for i in text + money], "rows": shown,
            "money_from": len(text)}


# section of the file → the kind of table (in the layout) the preview scrolls to
_SHOWN_IN = {"expenditure": "function", "basic_economic": "economic", "three_public": "three_public",
             "purchased_services": "services", "department_performance": "department_goals", "income": "summary"}


def anchors(result: Checked) -> dict[str, str]:
    """section key → the id of the table printing it in the HTML preview (the others are found
    by the preview's own sec-/tbl- ids)."""
    tables = _tables(result)
    return {section: f"tbl-{tables[kind].key}" for section, kind in _SHOWN_IN.items() if kind in tables}


def _tables(result: Checked) -> dict[str, Table]:
    """The disclosure's tables by the kind the layout gives them (the first of a kind, and for
    "function" the spending table: every fund, plain amount columns — a 收入总表 groups them)."""
    kinds: dict[str, Table] = {}
    layout = result.layout
    if layout is None:
        return kinds
    by_key = {t.key: t for t in result.disclosure.schedules}
    by_key.update({t.key: t for t in result.disclosure.annex_tables})
    for i, spec in enumerate(layout.tables, 1):
        table = by_key.get(f"s{i}")
        if table is None:
            continue
        if spec.kind == "function":
            plain = getattr(spec, "funds", []) == ["all"] and all(
                type(c).__name__ == "AmountColumn" for c in getattr(spec, "columns", []))
            if not plain or ("function" in kinds and kinds["function"].width >= table.width):
                continue
            kinds["function"] = table
        else:
            kinds.setdefault(spec.kind, table)
    return kinds


def panels(result: Checked) -> dict[str, dict[str, Any]]:
    """section key → {"figures": [(label, text)], "table": panel or None}."""
    kinds = _tables(result)
    fig = result.figures
    values: dict[str, Decimal | None] = dict(result.disclosure.figures)
    values["projects_total"] = fig.projects_total
    values["procurement_sme"] = fig.procurement_sme
    out: dict[str, dict[str, Any]] = {}
    for section in set(_TABLES) | set(_FIGURES):
        figures = [(label, format_cell(values.get(name), "money") or "0.00")
                   for name, label in _FIGURES.get(section, []) if values.get(name) is not None]
        shown: dict[str, Any] | None = None
        if section in _TABLES and _TABLES[section][0] in kinds:
            shown = _panel(kinds[_TABLES[section][0]], _TABLES[section][1])
        out[section] = {"figures": figures, "table": shown}
    head = [(label, format_cell(values.get(name), "money") or "0.00") for name, label in
            (("total", "支出合计"), ("basic", "基本支出"), ("project", "项目支出"),
             ("three_public", "“三公”经费"))]
    out["_head"] = {"figures": head, "table": None}
    # beside the declared income: the income computed from the expenditure lines, by source
    from ...model import SOURCE_LABELS
    income = [(label, format_cell(fig.by_source[src.value], "money"))
              for src, label in SOURCE_LABELS.items() if fig.by_source.get(src.value)]
    if income:
        income[0] = (f"按支出计算：{income[0][0]}", income[0][1])
    out["income"] = {"figures": income, "table": None}
    return out
