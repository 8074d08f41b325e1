"""Headline figures computed from the leaf facts: totals by source, kind, class and item.

Everything the schedules and the explanatory text print comes from here or from the code
trees built in schedules.py, so text and tables cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..catalog import Catalog
from ..model import Budget
from ..money import ZERO

FISCAL = {"general": ("general", "carryover_general"), "gov_fund": ("gov_fund", "carryover_gov_fund"),
          "soe": ("soe", "carryover_soe")}
FUNDS = tuple(FISCAL)  # the three 财政拨款 funds, in the order the schedules print them
CARRYOVER = ("carryover_general", "carryover_gov_fund", "carryover_soe", "carryover_other")
UNIT_FUNDS = ("institution", "operating", "superior", "affiliate", "other")
THREE_PUBLIC_ITEMS = ("overseas", "overseas_research", "vehicle_purchase", "vehicle_operation",
                      "reception")
# rows a layout's 三公 table may add (会议费, 培训费): printed, never part of the 三公 total
THREE_PUBLIC_EXTRAS = ("meeting", "training")


def dsum(values) -> Decimal:
    return sum(values, ZERO)


@dataclass(frozen=True)
class Figures:
    total: Decimal
    basic: Decimal
    project: Decimal
    operating: Decimal
    remit: Decimal
    subsidy: Decimal
    by_source: dict  # source value → Decimal (all kinds of spending)
    general_basic: Decimal  # 一般公共预算 (incl. its carryover) basic spending by function
    economic_total: Decimal
    personnel: Decimal
    public: Decimal
    economic_by_code: dict  # 款 code → amount
    three_public: dict  # item → amount, all three funds together
    three_public_total: Decimal
    projects_total: Decimal  # Σ project budgets (财政资金 + 其他资金): compared with 项目支出
    procurement_total: Decimal
    procurement_sme: Decimal
    assets_total: Decimal | None
    three_public_by_fund: dict | None = None  # fund → item → amount (表九's three columns)
    by_fund_and_kind: dict | None = None  # (fund, basic|project) → 财政拨款 spending, carryover incl.

    def three_public_fund(self, fund: str) -> Decimal:
        """A fund's 三公 total (会议费 and 培训费 are not 三公)."""
        part = (self.three_public_by_fund or {}).get(fund, {})
        return dsum(part.get(k, ZERO) for k in THREE_PUBLIC_ITEMS)

    def source(self, *names: str) -> Decimal:
        return dsum(self.by_source.get(n, ZERO) for n in names)

    @property
    def current_income(self) -> Decimal:
        return self.total - self.source(*CARRYOVER)

    @property
    def carryover(self) -> Decimal:
        return self.source(*CARRYOVER)

    def fiscal(self, fund: str) -> Decimal:
        return self.source(*FISCAL[fund])


def compute_figures(budget: Budget, catalog: Catalog) -> Figures:
    lines = budget.expenditure
    by_source: dict = {}
    for line in lines:
        by_source[line.source.value] = by_source.get(line.source.value, ZERO) + line.total
    econ: dict = {}
    for e in budget.basic_economic:
        econ[e.code] = econ.get(e.code, ZERO) + e.amount
    personnel = dsum(v for k, v in econ.items() if catalog.economic_kind(k) == "personnel")
    tp3 = budget.three_public
    tp_items = THREE_PUBLIC_ITEMS + THREE_PUBLIC_EXTRAS
    by_fund = {"general": {k: getattr(tp3, k) or ZERO for k in tp_items}}
    for fund in ("gov_fund", "soe"):
        part = getattr(tp3, fund)
        by_fund[fund] = {k: (getattr(part, k) or ZERO) if part is not None else ZERO for k in tp_items}
    tp = {k: dsum(by_fund[f][k] for f in FUNDS) for k in tp_items}
    kinds = {(f, kind): dsum(getattr(l, kind) for l in lines if l.source.value in FISCAL[f])
             for f in FUNDS for kind in ("basic", "project")}
    assets = budget.assets
    assets_total = None if assets is None else dsum(
        getattr(assets, k).value for k in ("buildings", "vehicles", "equipment", "other"))
    items = [i for g in budget.procurement for i in g.items]
    return Figures(
        total=dsum(l.total for l in lines),
        basic=dsum(l.basic for l in lines),
        project=dsum(l.project for l in lines),
        operating=dsum(l.operating for l in lines),
        remit=dsum(l.remit for l in lines),
        subsidy=dsum(l.subsidy for l in lines),
        by_source=by_source,
        general_basic=dsum(l.basic for l in lines if l.source.value in FISCAL["general"]),
        economic_total=dsum(econ.values()),
        personnel=personnel,
        public=dsum(econ.values()) - personnel,
        economic_by_code=econ,
        three_public=tp,
        three_public_total=dsum(tp[k] for k in THREE_PUBLIC_ITEMS),
        projects_total=dsum(p.budget for p in budget.projects),
        procurement_total=dsum(i.amount for i in items),
        procurement_sme=dsum(i.sme for i in items),
        assets_total=assets_total,
        three_public_by_fund=by_fund,
        by_fund_and_kind=kinds,
    )
