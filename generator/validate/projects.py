"""Rules on projects: Σ projects = 项目支出 (also per function code), spending plans, cost indicators."""
from __future__ import annotations

import re
from decimal import Decimal

from ..money import ZERO
from .context import Context, wan

MONTHS = ("3月底", "6月底", "10月底", "12月底")


def projects_total(ctx: Context) -> list:
    b, fig = ctx.budget, ctx.fig
    if not b.projects:
        if fig.project:
            return [ctx.warning("项目-合计", f"项目支出{wan(fig.project)}，但未列出项目（projects）及其绩效目标表",
                                ("expenditure",))]
        return []
    return ctx.mismatch("项目-合计", "各项目预算数（财政资金 + 其他资金）之和与支出表项目支出合计不一致", ("projects",),
                        fig.project, fig.projects_total)


def projects_by_function(ctx: Context) -> list:
    b = ctx.budget
    named: dict = {}
    for p in b.projects:
        if p.function_code:
            named[p.function_code] = named.get(p.function_code, ZERO) + p.budget  # 财政资金 + 其他资金
    if not named:
        return []
    lines: dict = {}
    for line in b.expenditure:
        lines[line.code] = lines.get(line.code, ZERO) + line.project
    every = all(p.function_code for p in b.projects)
    out = []
    codes = sorted(set(named) | (set(k for k, v in lines.items() if v) if every else set()))
    for code in codes:
        have, want = named.get(code, ZERO), lines.get(code, ZERO)
        if have == want or (not every and have <= want):
            continue
        j = next((j for j, p in enumerate(b.projects) if p.function_code == code), None)
        path = ("projects", j, "function_code") if j is not None else ("expenditure",)
        out.append(ctx.error("项目-功能科目", f"列在科目{code}下的项目合计{wan(have)}，而支出表该科目项目支出为"
                             f"{wan(want)}", path, wan(want), wan(have)))
    return out


def spending_plans(ctx: Context) -> list:
    out = []
    for j, p in enumerate(ctx.budget.projects):
        if not p.plan:
            continue
        budget = p.budget
        previous = ZERO
        for k, value in enumerate(p.plan):
            path = ("projects", j, "plan", k)
            if value is None:  # a month the plan leaves blank
                continue
            if value > budget:
                out.append(ctx.error("项目-支出计划", f"项目“{p.name}”支出计划{MONTHS[k]}累计{wan(value)}，"
                                     f"超过预算数{wan(budget)}", path, f"≤{wan(budget)}", wan(value)))
            elif value < previous:
                out.append(ctx.error("项目-支出计划", f"项目“{p.name}”支出计划是累计数，{MONTHS[k]}{wan(value)}"
                                     f"少于{MONTHS[k - 1]}{wan(previous)}", path, f"≥{wan(previous)}",
                                     wan(value)))
            previous = max(previous, value)
        last = p.plan[-1]
        if last is None:
            out.append(ctx.error("项目-支出计划", f"项目“{p.name}”支出计划12月底累计不能留空，应等于预算数"
                                 f"{wan(budget)}", ("projects", j, "plan", 3), wan(budget), "空"))
        elif last != budget and last <= budget:
            out.append(ctx.error("项目-支出计划", f"项目“{p.name}”支出计划12月底累计{wan(last)}，"
                                 f"应等于预算数{wan(budget)}", ("projects", j, "plan", 3), wan(budget),
                                 wan(last)))
    return out


_COST = re.compile(r"^\s*(?:[≤≥<>=＝]|不超过|小于等于)?\s*([0-9]+(?:\.[0-9]+)?)\s*(万元|元)\s*$")


def cost_amount(text: str) -> Decimal | None:
    """The amount in 万元 a cost indicator value states, or None (是/否, prose)."""
    m = _COST.match(text)
    if not m:
        return None
    value = Decimal(m.group(1))
    return value if m.group(2) == "万元" else value / Decimal(10000)


def cost_indicators(ctx: Context) -> list:
    out = []
    for j, p in enumerate(ctx.budget.projects):
        for k, row in enumerate(p.indicators):
            if row[1].strip() != "成本指标":
                continue
            stated = cost_amount(row[4])
            if stated is None or stated == p.budget:
                continue
            out.append(ctx.warning("项目-成本指标", f"项目“{p.name}”成本指标“{row[4]}”折合{wan(stated)}，"
                                   f"与预算数{wan(p.budget)}不一致", ("projects", j, "indicators", k, 4),
                                   wan(p.budget), row[4]))
    return out


def duplicate_codes(ctx: Context) -> list:
    out: list = []
    seen: dict = {}
    for j, p in enumerate(ctx.budget.projects):
        if not p.code:
            continue
        if p.code in seen:
            out.append(ctx.error("项目-编码", f"项目编码{p.code}重复（第{ctx.at('projects', seen[p.code]).line}"
                                 "行已有）", ("projects", j, "code")))
        seen.setdefault(p.code, j)
    return out


RULES = (projects_total, projects_by_function, spending_plans, cost_indicators, duplicate_codes)
