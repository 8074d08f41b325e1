"""The tables outside the nine schedules: institutions, project goal tables, procurement, assets."""
from __future__ import annotations

import re
from decimal import Decimal

from ..editions import Edition
from ..model import Budget
from ..money import ZERO, shown
from .figures import Figures, dsum
from .tables import Column, Head, ProjectTable, Row, Table

SP = "\u3000"


def institutions_table(budget: Budget) -> Table:
    header = ((Head("单位名称"), Head("单位性质"), Head("单位规格"), Head("经费保障形式")),)
    rows = tuple(Row((i.name, i.nature, i.rank, i.funding)) for i in budget.institutions)
    return Table("institutions", "部门机构设置情况", (), header,
                 (Column("text", 24), Column("text", 8), Column("text", 8), Column("text", 10)),
                 rows, sheet="机构设置")


def project_tables(budget: Budget, edition: Edition) -> tuple[ProjectTable, ...]:
    out = []
    for n, p in enumerate(budget.projects, 1):
        indicators, previous = [], None
        for row in p.indicators:
            cells = tuple(c.strip() for c in row)
            indicators.append(("" if cells[0] == previous else cells[0],) + cells[1:])
            previous = cells[0]
        out.append(ProjectTable(n, p.name, edition.project_table, p.code, p.budget, p.amount,
                                p.other_funds, p.purpose, tuple(p.plan or ()), tuple(p.goals),
                                tuple(indicators)))
    return tuple(out)


def _unit_price(amount: Decimal, quantity: Decimal) -> Decimal | None:
    if not quantity:
        return None
    return shown(amount / quantity, "price")  # 四舍五入: 2 decimals, 4 when that would be 0.00


def procurement_table(budget: Budget, edition: Edition, fig: Figures) -> Table:
    d = budget.department
    funds = edition.procurement_funds
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

    def fund_split(items):
        return tuple(dsum(i.amount for i in items if i.fund.value in kinds) for _, kinds in funds)

    items = [i for g in budget.procurement for i in g.items]
    rows = []
    if items:
        totals = (fig.procurement_total,) + fund_split(items) + (fig.procurement_sme,)
        own = budget.institutions[0].name if budget.institutions else d.name + "本级"
        rows.append(Row((f"合{SP}计", None, "", "", "", None, None) + totals, emphasis=True))
        by_unit: dict = {}  # a department with 所属单位: one 小计 per unit, in order
        for g in budget.procurement:
            by_unit.setdefault(g.unit or own, []).append(g)
        for unit, groups in by_unit.items():
            mine = [i for g in groups for i in g.items]
            subtotal = (dsum(i.amount for i in mine),) + fund_split(mine) + (dsum(i.sme for i in mine),)
            rows.append(Row((f"{unit}小计", None, "", "", "", None, None) + subtotal, emphasis=True))
            for g in groups:
                for i in g.items:
                    rows.append(Row((g.source, g.budget, i.name, i.catalog, i.unit, i.quantity,
                                     _unit_price(i.amount, i.quantity), i.amount) + fund_split([i])
                                    + (i.sme,)))
    else:
        rows.append(Row((None,) * len(columns)))
    notes = ["注：同一采购目录序号的物品，其单价会因配置规格不同而变动，均符合资产配置标准。涉密采购事项按照相关规定执行。"]
    return Table("procurement", "部门政府采购预算", (f"{d.code}{d.name}", "单位：万元"), header, columns,
                 tuple(rows), note=None if items else "注：无政府采购预算，空表列示。",
                 landscape=True, sheet="政府采购预算", notes_after=tuple(notes))


ASSET_ROWS = (("1、房屋（平方米）", "buildings"), (f"{SP}{SP}其中：办公用房（平方米）", "office_buildings"),
              ("2、车辆（台、辆）", "vehicles"), ("3、单价在20万元以上的设备", "equipment"),
              ("4、其他固定资产", "other"))


def assets_table(budget: Budget, fig: Figures) -> Table | None:
    a = budget.assets
    if a is None:
        return None
    d = budget.department
    rows = [Row(("资产总额", None, fig.assets_total), emphasis=True)]
    rows += [Row((label, getattr(a, key).quantity, getattr(a, key).value)) for label, key in ASSET_ROWS]
    header = ((Head(f"项{SP}{SP}目"), Head("数量"), Head("价值（金额单位：万元）")),)
    return Table("assets", "部门固定资产占用情况表", (f"{d.code}{d.name}", f"截止时间：{a.as_of}"),
                 header, (Column("text", 26), Column("qty", 10), Column("money", 16)), tuple(rows),
                 sheet="固定资产")


_TAG = re.compile(r"（[A-Z]{1,4}）$")


def project_groups(budget: Budget) -> list[tuple[str, Decimal]]:
    """Projects grouped by name without a trailing tag such as （RY）, in first-seen order."""
    groups: dict = {}
    for p in budget.projects:
        key = _TAG.sub("", p.name.strip())
        groups[key] = groups.get(key, ZERO) + p.amount
    return list(groups.items())
