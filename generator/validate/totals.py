"""Rules on totals: the two views of basic spending agree, 三公 against the economic lines,
declared income balances, declared control totals (批复控制数) match, and the computed
schedules keep their own arithmetic (合计 = 基本 + 项目, 类 = Σ款 = Σ项) as invariants."""
from __future__ import annotations

from ..model import SOURCE_LABELS, Source
from ..money import ZERO
from .context import Context, wan


def basic_views(ctx: Context) -> list:
    """一般公共预算基本支出 by function (expenditure lines) = by economic class (表六)."""
    b, fig = ctx.budget, ctx.fig
    if not b.basic_economic and not fig.general_basic:
        return []
    if not b.basic_economic:
        return [ctx.error("基本支出-经济分类", f"一般公共预算基本支出{wan(fig.general_basic)}，但未填写经济分类"
                          "明细（basic_economic）", ("expenditure",))]
    return ctx.mismatch("基本支出-经济分类",
                        "一般公共预算基本支出按经济分类（表六）合计与按功能分类（表三/表五）合计不一致",
                        ("basic_economic",), fig.general_basic, fig.economic_total)


def three_public_vs_economic(ctx: Context) -> list:
    """“三公”-like spending may not hide in other 经济分类 lines: 因公出国（境）费用 30212,
    公务接待费 30217, 公务用车运行维护费 30231 and 公务用车购置 31013 in the basic spending may not
    exceed the matching 三公 items."""
    out = []
    econ = ctx.fig.economic_by_code
    for code, items, label in (("30212", ("overseas", "overseas_research"), "因公出国（境）费"),
                               ("30217", ("reception",), "公务接待费"),
                               ("30231", ("vehicle_operation",), "公务用车运行维护费"),
                               ("31013", ("vehicle_purchase",), "公务用车购置费")):
        line = econ.get(code, ZERO)  # 表六 is 一般公共预算 only: compare its part of 三公
        general = (ctx.fig.three_public_by_fund or {}).get("general", ctx.fig.three_public)
        value = sum((general[item] for item in items), ZERO)
        if value < line:
            out.append(ctx.error("三公-经济分类", f"“三公”经费中{label}{wan(value)}，低于基本支出经济分类"
                                 f"{code} {ctx.catalog.economic_name(code) or label}{wan(line)}"
                                 "（“三公”经费不能列在其他经济分类中）", ("three_public", items[0]),
                                 f"不低于{wan(line)}", wan(value)))
    return out


EXTRA_ROWS = (("meeting", "30215", "会议费"), ("training", "30216", "培训费"))


def three_public_extras(ctx: Context) -> list:
    """会议费 / 培训费, rows some layouts add to the 三公 table: given where the layout prints them
    (a row printed from nothing would read 0 as a fact), not below the economic-class line of
    basic spending (30215 / 30216, as 30217 for 公务接待费), and not given for nothing."""
    layout = ctx.layout
    printed = layout.three_public_items() if hasattr(layout, "three_public_items") else None
    tp = ctx.budget.three_public
    econ = ctx.fig.economic_by_code
    out = []
    for item, code, label in EXTRA_ROWS:
        given = any(getattr(part, item) is not None for part in (tp, tp.gov_fund, tp.soe)
                    if part is not None)
        line = econ.get(code, ZERO)
        key = getattr(layout, "key", "")
        if printed is not None and item in printed and not given:
            if line:
                out.append(ctx.error("三公-附加行", f"版式 {key} 的“三公”经费表列示{label}，基本支出经济分类"
                                     f"{code} {label}为{wan(line)}，但未填写 three_public.{item}",
                                     ("three_public",), f"不低于{wan(line)}", "未填写"))
            else:
                out.append(ctx.warning("三公-附加行", f"版式 {key} 的“三公”经费表列示{label}，但未填写 "
                                       f"three_public.{item}：该行按0.00列示，如确无{label}请写 {item}: 0",
                                       ("three_public",), "填写", "未填写"))
        if given and printed is not None and item not in printed:
            out.append(ctx.warning("三公-附加行", f"填写了{label}（three_public.{item}），但版式 {key} 的"
                                   f"“三公”经费表不列示{label}：该数不会印出", ("three_public", item)))
        value = getattr(tp, item) or ZERO  # 表六 is 一般公共预算 only: compare that part
        if given and value < line:
            out.append(ctx.error("三公-经济分类", f"“三公”经费表中{label}{wan(value)}，低于基本支出经济分类"
                                 f"{code} {label}{wan(line)}", ("three_public", item),
                                 f"不低于{wan(line)}", wan(value)))
    return out


def _spending_lines(ctx: Context, source: Source) -> str:
    """Where the expenditure lines of a source are: “第12、15行” (or that there are none)."""
    where = [ctx.at("expenditure", i) for i, l in enumerate(ctx.budget.expenditure)
             if l.source is source and l.total]
    if not where:
        return "支出（expenditure）中没有该来源的支出行"
    # a department with 所属单位: lines in other files are named with their file
    by_file: dict = {}
    for w in where[:12]:
        by_file.setdefault(w.file, []).append(str(w.line))
    more = "等" if len(where) > 12 else ""
    shown = "，".join(("" if f == ctx.doc.file else f) + f"第{'、'.join(n)}行" for f, n in by_file.items())
    return f"该来源的支出行在{shown}{more}"


def declared_income(ctx: Context) -> list:
    """Declared income by source = spending by source; the message names both the income line
    and the expenditure lines of that source, since either may be the wrong one."""
    income = ctx.budget.income
    if income is None:
        return []
    out = []
    for source in Source:
        declared = getattr(income, source.value)
        computed = ctx.fig.by_source.get(source.value, ZERO)
        label = SOURCE_LABELS[source]
        if declared is None:
            if computed:
                out.append(ctx.error("收支平衡", f"{label}安排支出{wan(computed)}（{_spending_lines(ctx, source)}），"
                                     "但收入（income）中没有该来源：请在 income 中补上，或核对这些支出行的资金来源",
                                     ("income",), wan(computed), "0.00万元"))
            continue
        if declared != computed:
            out.append(ctx.error("收支平衡", f"{label}收入{wan(declared)}，按该来源安排的支出合计{wan(computed)}"
                                 f"（差{wan(declared - computed)}；{_spending_lines(ctx, source)}）：收入与支出"
                                 "必须相等，请核对是收入数还是支出行（金额或资金来源）有误",
                                 ("income", source.value), wan(computed), wan(declared)))
    return out


_CONTROLS = (("total", "支出总计", lambda f: f.total), ("basic", "基本支出", lambda f: f.basic),
             ("project", "项目支出", lambda f: f.project), ("personnel", "人员经费", lambda f: f.personnel),
             ("public", "公用经费", lambda f: f.public),
             ("three_public", "财政拨款“三公”经费", lambda f: f.three_public_total),
             ("assets", "固定资产总额", lambda f: f.assets_total),
             ("procurement", "政府采购预算", lambda f: f.procurement_total),
             ("income", "本年收入合计", lambda f: f.current_income),
             ("carryover", "上年结转结余", lambda f: f.carryover))


def control_totals(ctx: Context) -> list:
    out = []
    declared = ctx.budget.control_totals
    for key, label, value in _CONTROLS:
        want = getattr(declared, key)
        if want is None:
            continue
        computed = value(ctx.fig)
        if computed is None:
            out.append(ctx.error("控制数", f"{label}控制数{wan(want)}，但文件中没有对应数据",
                                 ("control_totals", key)))
            continue
        if want != computed:
            out.append(ctx.error("控制数", f"{label}控制数{wan(want)}，与按明细计算的{wan(computed)}不一致"
                                 f"（差{wan(computed - want)}）", ("control_totals", key),
                                 wan(computed), wan(want)))
    return out


RULES = (basic_views, three_public_vs_economic, three_public_extras, declared_income, control_totals)
