"""Rules on procurement and fixed assets."""
from __future__ import annotations

from ..compute.figures import dsum
from .context import Context, wan


def procurement(ctx: Context) -> list:
    out = []
    by_name: dict = {}
    for p in ctx.budget.projects:
        by_name.setdefault(p.name.strip(), []).append(p.budget)
    for g_i, g in enumerate(ctx.budget.procurement):
        spent = dsum(i.amount for i in g.items)
        if spent > g.budget:
            out.append(ctx.error("采购-预算", f"采购项目来源“{g.source}”的采购金额合计{wan(spent)}，超过其预算资金"
                                 f"{wan(g.budget)}", ("procurement", g_i, "budget"), f"≥{wan(spent)}",
                                 wan(g.budget)))
        amounts = by_name.get(g.source.strip())
        if amounts and g.budget not in amounts:
            listed = "、".join(wan(a) for a in amounts)
            out.append(ctx.error("采购-项目预算", f"采购项目来源“{g.source}”预算资金{wan(g.budget)}，与同名项目的"
                                 f"预算数{listed}不一致", ("procurement", g_i, "budget"), listed,
                                 wan(g.budget)))
        for i_i, item in enumerate(g.items):
            path = ("procurement", g_i, "items", i_i)
            if item.sme > item.amount:
                out.append(ctx.error("采购-中小企业", f"“{item.name}”预留中小微企业份额{wan(item.sme)}，超过采购金额"
                                     f"{wan(item.amount)}", path + ("sme",), f"≤{wan(item.amount)}",
                                     wan(item.sme)))
            if not item.quantity:
                out.append(ctx.error("采购-数量", f"“{item.name}”数量为0，无法计算单价", path + ("quantity",)))
    return out


def assets(ctx: Context) -> list:
    a = ctx.budget.assets
    if a is None:
        return []
    out = []
    if a.office_buildings.value > a.buildings.value:
        out.append(ctx.error("资产-其中", f"办公用房价值{wan(a.office_buildings.value)}超过房屋价值"
                             f"{wan(a.buildings.value)}（办公用房是房屋的其中数）",
                             ("assets", "office_buildings", "value")))
    if a.office_buildings.quantity > a.buildings.quantity:
        out.append(ctx.error("资产-其中", f"办公用房面积{a.office_buildings.quantity}超过房屋面积"
                             f"{a.buildings.quantity}平方米", ("assets", "office_buildings", "quantity")))
    return out


RULES = (procurement, assets)
