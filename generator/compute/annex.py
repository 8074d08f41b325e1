"""The other table kinds: institutions, project goal tables, the project list, procurement,
政府购买服务, the project and department-wide performance tables, assets.

Each builder takes the compute context and the layout's entry for the table; amounts are
printed in the layout's unit.
"""
from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

from ..layout import (
    INDICATOR_COLUMNS,
    AssetsTable,
    DepartmentGoalsTable,
    InstitutionsTable,
    ProcurementTable,
    ProjectGoalsTable,
    ProjectListTable,
    ServicesTable,
)
from ..money import UNITS, ZERO, unit_price
from .context import Ctx, expand_funds
from .figures import dsum
from .schedules import _table
from .tables import Column, Head, ProjectTable, Row, Table

SP = "\u3000"
DEFAULT_INSTITUTIONS = InstitutionsTable(kind="institutions", title="部门机构设置情况", meta=[])


def institutions_table(ctx: Ctx, spec: InstitutionsTable = DEFAULT_INSTITUTIONS,
                       key: str = "institutions") -> Table:
    header = ((Head("单位名称"), Head("单位性质"), Head("单位规格"), Head("经费保障形式")),)
    rows = [Row((i.name, i.nature, i.rank, i.funding)) for i in ctx.budget.institutions]
    return _table(ctx, spec.model_copy(update={"sheet": spec.sheet or "机构设置"}), key, header,
                  (Column("text", 24), Column("text", 8), Column("text", 8), Column("text", 10)), rows)


def _indicators(rows) -> tuple[tuple[str, ...], ...]:
    """Indicator rows with 一级指标 blank where it repeats the row above."""
    out, previous = [], None
    for row in rows:
        cells = tuple(c.strip() for c in row)
        out.append(("" if cells[0] == previous else cells[0],) + cells[1:])
        previous = cells[0]
    return tuple(out)


def project_tables(ctx: Ctx, form: str) -> tuple[ProjectTable, ...]:
    """One 绩效目标表 per project, in the form the layout asks for (full | goals)."""
    m = ctx.money
    out = []
    for n, p in enumerate(ctx.budget.projects, 1):
        out.append(ProjectTable(n, p.name, form, p.code, m(p.budget), m(p.amount),
                                m(p.other_funds), p.purpose, tuple(m(v) for v in p.plan or ()),
                                tuple(p.goals), _indicators(p.indicators), unit=ctx.unit,
                                places=ctx.layout.decimals))
    return tuple(out)


def project_list_table(ctx: Ctx, spec: ProjectListTable, key: str) -> Table:
    """项目支出表: each project with its amount by source."""
    m = ctx.money
    b = ctx.budget
    header = ((Head("序号"), Head("项目编码"), Head("项目名称"), Head("功能分类科目编码"),
               Head("功能分类科目名称"), Head("合计"), Head("财政拨款"), Head("其他资金")),)
    cols = (Column("seq", 3.5), Column("code", 15), Column("text", 20), Column("code", 8),
            Column("text", 13), Column("money", 8), Column("money", 8), Column("money", 8))
    if not b.projects:
        return _table(ctx, spec, key, header, cols, [Row((None,) * len(cols))], empty=True)
    total = (dsum(p.budget for p in b.projects), dsum(p.amount for p in b.projects),
             dsum(p.other_funds for p in b.projects))
    rows = [Row((None, "", f"合{SP}计", "", "") + tuple(m(v) for v in total), emphasis=True)]
    for n, p in enumerate(b.projects, 1):
        code = p.function_code or ""
        name = ctx.catalog.function_name(code) or "" if code else ""
        rows.append(Row((n, p.code, p.name, code, name, m(p.budget), m(p.amount), m(p.other_funds))))
    return _table(ctx, spec, key, header, cols, rows)


def procurement_table(ctx: Ctx, spec: ProcurementTable, key: str) -> Table:
    b, m = ctx.budget, ctx.money
    d = b.department
    funds = [(c.label, tuple(c.funds)) for c in spec.funds]
    header = (
        (Head("政府采购项目来源", colspan=2), Head("采购物品名称", rowspan=2),
         Head("政府采购目录序号", rowspan=2), Head("计量单位", rowspan=2), Head("数量", rowspan=2),
         Head("单价", rowspan=2), Head("政府采购金额（当年部门预算安排资金）", colspan=1 + len(funds)),
         Head(f"{d.year}年预留中小微企业份额", rowspan=2)),
        (Head("项目名称"), Head("预算资金"), Head("合计")) + tuple(Head(label) for label, _ in funds),
    )
    columns = (Column("text", 15), Column("money", 7.5), Column("text", 12), Column("code", 9.5),
               Column("text", 4), Column("qty", 5.5), Column("price", 7), Column("money", 7.5)) + \
        (Column("money", 7),) * len(funds) + (Column("money", 7.5),)

    def fund_split(items) -> tuple:
        return tuple(m(dsum(i.amount for i in items if i.fund.value in kinds)) for _, kinds in funds)

    items = [i for g in b.procurement for i in g.items]
    factor = UNITS[ctx.unit]
    rows = []
    if items:
        totals = (m(ctx.fig.procurement_total),) + fund_split(items) + (m(ctx.fig.procurement_sme),)
        own = b.institutions[0].name if b.institutions else d.name + "本级"
        rows.append(Row((f"合{SP}计", None, "", "", "", None, None) + totals, emphasis=True))
        by_unit: dict = {}  # a department with 所属单位: one 小计 per unit, in order
        for g in b.procurement:
            by_unit.setdefault(g.unit or own, []).append(g)
        for unit, groups in by_unit.items():
            mine = [i for g in groups for i in g.items]
            subtotal = (m(dsum(i.amount for i in mine)),) + fund_split(mine) + \
                (m(dsum(i.sme for i in mine)),)
            rows.append(Row((f"{unit}小计", None, "", "", "", None, None) + subtotal, emphasis=True))
            for g in groups:
                for i in g.items:
                    rows.append(Row((g.source, m(g.budget), i.name, i.catalog, i.unit, i.quantity,
                                     unit_price(i.amount * factor, i.quantity), m(i.amount))
                                    + fund_split([i]) + (m(i.sme),)))
    else:
        rows.append(Row((None,) * len(columns)))
    return _table(ctx, spec, key, header, columns, rows, empty=not items)


def services_table(ctx: Ctx, spec: ServicesTable, key: str) -> Table:
    """政府购买服务预算财政拨款明细表: each service, its category and amount by fund."""
    m = ctx.money
    services = ctx.budget.purchased_services
    funds = [(c.label, set(expand_funds(c.funds))) for c in spec.funds]
    header = ((Head("序号", rowspan=2), Head("项目名称", rowspan=2), Head("政府购买服务指导性目录", colspan=2),
               Head("购买服务内容", rowspan=2), Head("金额", colspan=1 + len(funds))),
              (Head("目录代码"), Head("服务类别"), Head("合计")) + tuple(Head(label) for label, _ in funds))
    cols = (Column("seq", 3.5), Column("text", 18), Column("code", 8), Column("text", 14),
            Column("text", 18)) + (Column("money", 9),) * (1 + len(funds))
    if not services:
        return _table(ctx, spec, key, header, cols, [Row((None,) * len(cols))], empty=True)

    def split(items) -> tuple:
        return (m(dsum(s.amount for s in items)),) + tuple(
            m(dsum(s.amount for s in items if s.source.value in sources)) for _, sources in funds)

    rows = [Row((None, f"合{SP}计", "", "", "") + split(services), emphasis=True)]
    rows += [Row((n, s.name, s.code, s.category, s.content) + split([s]))
             for n, s in enumerate(services, 1)]
    return _table(ctx, spec, key, header, cols, rows)


def _indicator_cells(row: tuple[str, ...], wanted: list[str]) -> tuple[str, ...]:
    return tuple(row[INDICATOR_COLUMNS.index(c)] for c in wanted)


def project_goals_table(ctx: Ctx, spec: ProjectGoalsTable, key: str) -> Table:
    """项目支出绩效目标表 as one form: each project's name, amount and goal one merged cell over
    its indicator rows; a page the project continues on names it (项目：名称（编码）)."""
    m = ctx.money
    wanted = spec.indicators
    header = ((Head("项目名称"), Head("预算金额"), Head("年度目标")) + tuple(Head(c) for c in wanted),)
    cols = (Column("text", 14), Column("money", 8), Column("text", 20)) + \
        tuple(Column("text", 12 if c in ("绩效指标描述", "指标值确定依据") else 9) for c in wanted)
    rows = []
    labels = []
    for g, p in enumerate(ctx.budget.projects):
        goal = "\n".join(p.goals)
        indicators = _indicators(p.indicators) or (("",) * len(INDICATOR_COLUMNS),)
        labels.append(f"{p.name}（{p.code}）" if p.code else p.name)
        for n, ind in enumerate(indicators):
            lead = (p.name, m(p.budget), goal) if n == 0 else ("", None, "")
            rows.append(Row(lead + _indicator_cells(ind, wanted), group=g))
    if not rows:
        return _table(ctx, spec, key, header, cols, [Row((None,) * len(cols))], empty=True)
    return dataclasses.replace(_table(ctx, spec, key, header, cols, rows), merge=3,
                               groups=tuple(labels))


def department_goals_table(ctx: Ctx, spec: DepartmentGoalsTable, key: str) -> Table:
    """部门整体支出绩效目标表: the department, its budget for the year, its overall goal, then
    the indicator rows."""
    b, fig, M = ctx.budget, ctx.fig, ctx.text_money
    perf = b.department_performance
    wanted = spec.indicators
    n = len(wanted)
    fiscal = ctx.source("fiscal", "carryover_fiscal")
    budget = (f"资金总额：{M(fig.total)}{ctx.unit}；其中财政拨款：{M(fiscal)}{ctx.unit}；"
              f"其他资金：{M(fig.total - fiscal)}{ctx.unit}")
    # 年度总体目标: the table's own goals, else the department's 总体绩效目标 (performance.overall)
    goals = "\n".join((perf.goals if perf and perf.goals else None) or b.performance.overall)
    width = n - 1 if n > 1 else 1
    header = ((Head("部门（单位）名称"),)
              + ((Head(b.department.name, colspan=width, value=True),) if n > 1 else ()),
              (Head("年度部门整体支出预算"),)
              + ((Head(budget, colspan=width, value=True),) if n > 1 else ()),
              (Head("年度总体目标"),) + ((Head(goals, colspan=width, value=True),) if n > 1 else ()),
              tuple(Head(c) for c in wanted))
    cols = tuple(Column("text", 16 if c in ("绩效指标描述", "指标值确定依据", "三级指标") else 11)
                 for c in wanted)
    rows = [Row(_indicator_cells(r, wanted)) for r in _indicators(perf.indicators if perf else [])]
    if not rows:
        return _table(ctx, spec, key, header, cols, [Row((None,) * len(cols))], empty=True)
    return _table(ctx, spec, key, header, cols, rows)


ASSET_ROWS = (("1、房屋（平方米）", "buildings"), (f"{SP}{SP}其中：办公用房（平方米）", "office_buildings"),
              ("2、车辆（台、辆）", "vehicles"), ("3、单价在20万元以上的设备", "equipment"),
              ("4、其他固定资产", "other"))


def assets_table(ctx: Ctx, spec: AssetsTable, key: str = "assets") -> Table | None:
    a = ctx.budget.assets
    if a is None:
        return None
    m = ctx.money
    rows = [Row(("资产总额", None, m(ctx.fig.assets_total)), emphasis=True)]
    rows += [Row((label, getattr(a, k).quantity, m(getattr(a, k).value))) for label, k in ASSET_ROWS]
    header = ((Head(f"项{SP}{SP}目"), Head("数量"), Head(f"价值（金额单位：{ctx.unit}）")),)
    return _table(ctx, spec, key, header,
                  (Column("text", 26), Column("qty", 10), Column("money", 16)), rows)


_TAG = re.compile(r"（[A-Z]{1,4}）$")


def project_groups(ctx: Ctx) -> list[tuple[str, Decimal]]:
    """Projects grouped by name without a trailing tag such as （RY）, in first-seen order."""
    groups: dict = {}
    for p in ctx.budget.projects:
        key = _TAG.sub("", p.name.strip())
        groups[key] = groups.get(key, ZERO) + p.amount
    return list(groups.items())
