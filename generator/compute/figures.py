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
CARRYOVER = ("carryover_general", "carryover_gov_fund", "carryover_soe", "carryover_other")
UNIT_FUNDS = ("institution", "operating", "superior", "affiliate", "other")
THREE_PUBLIC_ITEMS = ("overseas", "overseas_research", "vehicle_purchase", "vehicle_operation",
                      "reception")


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
    three_public: dict  # item → amount
    three_public_total: Decimal
    projects_total: Decimal
    procurement_total: Decimal
    procurement_sme: Decimal
    assets_total: Decimal | None

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
    tp = {k: getattr(budget.three_public, k) for k in THREE_PUBLIC_ITEMS}
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
        three_public_total=dsum(tp.values()),
        projects_total=dsum(p.amount for p in budget.projects),
        procurement_total=dsum(i.amount for i in items),
        procurement_sme=dsum(i.sme for i in items),
        assets_total=assets_total,
    )
