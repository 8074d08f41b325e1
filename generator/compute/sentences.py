"""The read-only context a layout's sentence templates see, built from the model.

Only plain values: str, int, bool, Decimal (exact 万元; printed by the money rule when a template
shows them), None, lists and dicts — never a model object, so a template can reach nothing but
what generator/sentences.py documents in CONTEXT (a test keeps the two equal). The amounts are
the same Figures the tables print, so text and tables cannot disagree.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..money import ZERO
from ..sentences import FUND_KEYS, TABLE_KINDS
from .annex import project_groups
from .context import Ctx, expand_funds
from .figures import dsum
from .schedules import function_tree

# 三公 rows of the text: key → (name, the model items it adds up)
THREE_ROWS = {
    "overseas": ("因公出国（境）费", ("overseas", "overseas_research")),
    "vehicle": ("公务用车购置及运行维护费", ("vehicle_purchase", "vehicle_operation")),
    "vehicle_purchase": ("公务用车购置费", ("vehicle_purchase",)),
    "vehicle_operation": ("公务用车运行维护费", ("vehicle_operation",)),
    "reception": ("公务接待费", ("reception",)),
    # not 三公 (not in 三公经费 nor in 三公列表): the rows a layout's 三公 table may add
    "meeting": ("会议费", ("meeting",)),
    "training": ("培训费", ("training",)),
}
THREE_LIST = ("overseas", "vehicle_purchase", "vehicle_operation", "reception")
_FUND_COLUMNS = (("财政拨款", ("fiscal", "carryover_fiscal")), ("一般公共预算", ("general", "carryover_general")),
                 ("政府性基金", ("gov_fund", "carryover_gov_fund")), ("国有资本经营", ("soe", "carryover_soe")))


def _share(part: Decimal, whole: Decimal) -> str:
    from ..money import fmt_text
    return fmt_text(part * 100 / whole) if whole else "0.00"


def _classes(ctx: Ctx) -> dict[int, list[dict]]:
    """类 (3), 款 (5) and 项 (7) rows: amounts by kind and by fund, in code order."""
    columns = [("all",), ("basic",), ("project",)] + [funds for _, funds in _FUND_COLUMNS]
    sources = [set(expand_funds(("all",)))] * 3 + [set(expand_funds(f)) for _, f in _FUND_COLUMNS]

    def vec(line):
        out = []
        for i, wanted in enumerate(sources):
            if line.source.value not in wanted:
                out.append(ZERO)
            elif columns[i] == ("basic",):
                out.append(line.basic)
            elif columns[i] == ("project",):
                out.append(line.project)
            else:
                out.append(line.total)
        return tuple(out)

    tree = function_tree(ctx, len(columns), vec)
    typed = {line.code: line.name for line in ctx.budget.expenditure if line.name}
    total = ctx.fig.total
    levels: dict[int, list[dict]] = {3: [], 5: [], 7: []}
    for _depth, code, amounts in tree.rows():
        row = {"编码": code, "名称": typed.get(code) or ctx.catalog.function_name(code) or "",
               "金额": amounts[0], "占比": _share(amounts[0], total), "基本支出": amounts[1],
               "项目支出": amounts[2]}
        row.update({name: amounts[3 + i] for i, (name, _) in enumerate(_FUND_COLUMNS)})
        levels.setdefault(len(code), []).append(row)
    return levels


def _three_public(ctx: Ctx) -> dict[str, dict]:
    fig, prior = ctx.fig, ctx.budget.prior_year
    items = prior.three_public_items if prior is not None else None
    rows = {}
    for key, (name, parts) in THREE_ROWS.items():
        amount = dsum(fig.three_public.get(p, ZERO) for p in parts)
        given = [getattr(items, p) for p in parts] if items is not None else []
        last = dsum(g.amount for g in given if g is not None) if any(g is not None for g in given) else None
        # the clerk's reason without its closing mark: the sentence around it puts its own
        reason = "；".join(g.reason.strip().rstrip("。；;，,. ") for g in given if g is not None and g.reason.strip())
        rows[key] = {"键": key, "名称": name, "金额": amount, "上年": last,
                     "变化": None if last is None else amount - last, "原因": reason}
    return rows


def prior_three_public(ctx: Ctx) -> Decimal | None:
    """Last year's 三公 total: as typed, else the sum of the items typed (None: not given)."""
    prior = ctx.budget.prior_year
    if prior is None:
        return None
    if prior.three_public is not None:
        return prior.three_public
    items = prior.three_public_items
    if items is None:
        return None
    return dsum(getattr(items, k).amount for k in type(items).model_fields
                if getattr(items, k) is not None and k not in ("meeting", "training"))  # not 三公


def _tables(ctx: Ctx) -> dict[str, str]:
    """Each table kind the layout prints (in the tables part or inside the text) → its title."""
    from ..layout import Subsection, TableItem
    titles: dict[str, str] = {}
    specs: list[Any] = list(ctx.layout.tables)
    todo: list[Any] = [c for s in ctx.layout.sections for c in s.content]
    while todo:
        item = todo.pop(0)
        if isinstance(item, TableItem):
            specs.append(item.table)
        elif isinstance(item, Subsection):
            todo = list(item.content) + todo
    for spec in specs:
        titles.setdefault(spec.kind, ctx.titled(ctx.fill(spec.title)))
    return titles


def _economic(ctx: Ctx) -> list[dict]:
    typed = {e.code: e.name for e in ctx.budget.basic_economic if e.name}
    cat = ctx.catalog
    return [{"编码": code, "名称": typed.get(code) or cat.economic_name(code) or code, "金额": amount,
             "类型": "人员经费" if cat.economic_kind(code) == "personnel" else "公用经费"}
            for code, amount in sorted(ctx.fig.economic_by_code.items())]


def _income(ctx: Ctx) -> list[dict]:
    out: list[dict[str, Any]] = []
    for source in ctx.layout.income_sources:
        amount = ctx.source(*source.funds)
        out.append({"名称": source.label, "金额": amount, "占比": _share(amount, ctx.fig.total),
                    "来源": "+".join(source.funds)})
    return out


def _memo(ctx: Ctx, key: str, make) -> Any:
    if key not in ctx.memo:
        ctx.memo[key] = make(ctx)
    return ctx.memo[key]


# the names whose values take work to build: built only when a template uses them
_LAZY = {
    "收入列表": _income,
    "类列表": lambda ctx: _memo(ctx, "sentences: classes", _classes).get(3, []),
    "款列表": lambda ctx: _memo(ctx, "sentences: classes", _classes).get(5, []),
    "项列表": lambda ctx: _memo(ctx, "sentences: classes", _classes).get(7, []),
    "经济分类列表": _economic,
    "项目": lambda ctx: [{"编码": p.code, "名称": p.name, "金额": p.budget, "财政资金": p.amount,
                          "其他资金": p.other_funds, "科目": p.function_code or ""} for p in ctx.budget.projects],
    "项目分组": lambda ctx: [{"名称": name, "金额": amount} for name, amount in project_groups(ctx)],
    "有表": lambda ctx: {k: k in _memo(ctx, "sentences: tables", _tables) for k in TABLE_KINDS},
    "表名": lambda ctx: {k: _memo(ctx, "sentences: tables", _tables).get(k, "") for k in TABLE_KINDS},
}


def build_context(ctx: Ctx, names: frozenset[str] | None = None) -> dict[str, Any]:
    """The names of sentences.CONTEXT a template uses (`names`; all of them when None), as plain
    values. Memoised per disclosure; the costly lists are built only when some template uses them."""
    values = _memo(ctx, "sentences", _base)
    wanted = _LAZY if names is None else [n for n in names if n in _LAZY]
    for name in wanted:
        if name not in values:
            values[name] = _LAZY[name](ctx)
    return values if names is None else {n: values[n] for n in names if n in values}


def _base(ctx: Ctx) -> dict[str, Any]:
    b, f = ctx.budget, ctx.fig
    d, prior, assets = b.department, b.prior_year, b.assets
    last_year = prior.year if prior is not None and prior.year else d.year - 1
    last_three = prior_three_public(ctx)
    composition = b.composition.units if b.composition is not None else []
    three = _three_public(ctx)
    values: dict[str, Any] = {
        "部门": d.name, "编码": d.code, "年度": d.year, "上年": last_year, "单位": ctx.unit,
        "含所属单位": bool(b.units) or len(composition) > 1 or len(b.institutions) > 1,
        "收入合计": f.total, "支出合计": f.total, "本年收入": f.current_income, "上年结转": f.carryover,
        "基本支出": f.basic, "项目支出": f.project, "人员经费": f.personnel, "公用经费": f.public,
        "经营支出": f.operating, "上缴上级支出": f.remit, "对附属单位补助支出": f.subsidy,
        "三公经费": f.three_public_total, "采购合计": f.procurement_total, "中小企业份额": f.procurement_sme,
        "资产总额": f.assets_total or ZERO, "拟购置资产": assets.planned_purchase if assets else ZERO,
        "资产截止": assets.as_of if assets else "",
        "购买服务合计": dsum(s.amount for s in b.purchased_services),
        "资金": {k: ctx.source(k) for k in FUND_KEYS},
        "有上年": prior is not None, "有资产": assets is not None, "项目个数": len(b.projects),
        "上年预算": {
            "年度": last_year, "基本支出": prior.basic if prior else None,
            "项目支出": prior.project if prior else None,
            "支出合计": prior.basic + prior.project if prior else None, "三公经费": last_three,
            "合计原因": prior.reasons.total if prior else "",
            "基本支出原因": prior.reasons.basic if prior else "",
            "项目支出原因": prior.reasons.project if prior else "",
            "三公经费原因": prior.reasons.three_public if prior else ""},
        "比上年": {
            "支出合计": f.total - (prior.basic + prior.project) if prior else None,
            "基本支出": f.basic - prior.basic if prior else None,
            "项目支出": f.project - prior.project if prior else None,
            "三公经费": None if last_three is None else f.three_public_total - last_three},
        "三公列表": [three[k] for k in THREE_LIST], "三公": three,
        "单位构成": [{"名称": u.name, "性质": u.nature, "编制": u.staff, "实有": u.actual}
                     for u in composition],
        "编制合计": sum(u.staff or 0 for u in composition),
        "实有合计": sum(u.actual or 0 for u in composition),
        "职责": list(b.duties),
        "机构": [{"名称": i.name, "性质": i.nature, "规格": i.rank, "经费形式": i.funding}
                 for i in b.institutions],
        "绩效": {"总体": list(b.performance.overall), "分项": list(b.performance.items),
                 "保障": list(b.performance.measures)},
    }
    return values
