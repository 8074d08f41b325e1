"""What the importer needs to know about each layout, read from the layout definitions.

The titles of the standard schedules, the fixed rows of 收支总表 (income by source) and of the
三公 table, and the procurement fund columns all come from the layouts themselves, so a new
layout is recognised without touching the importer. This module is the one place that knows
how the layout definitions are stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..editions import EDITIONS

# The schedule kinds, in the order of the standard nine tables.
KINDS = ("summary", "income", "expenditure", "fiscal_summary", "general", "basic_economic",
         "gov_fund", "soe", "three_public")
KIND_LABELS = {"summary": "收支总表", "income": "收入总表", "expenditure": "支出总表",
               "fiscal_summary": "财政拨款收支总表", "general": "一般公共预算财政拨款支出表",
               "basic_economic": "一般公共预算财政拨款基本支出表",
               "gov_fund": "政府性基金预算财政拨款支出表",
               "soe": "国有资本经营预算财政拨款支出表", "three_public": "财政拨款“三公”经费支出表"}


@dataclass(frozen=True)
class LayoutInfo:
    key: str
    titles: dict[str, str]  # kind → the title the layout prints
    income_rows: tuple[tuple[str, tuple[str, ...]], ...]  # 收支总表: label, sources
    three_public_rows: tuple[tuple[str, tuple[str, ...]], ...]  # 三公 table: label, items
    procurement_funds: tuple[tuple[str, tuple[str, ...]], ...]  # column label, funds
    others: dict[str, str] = field(default_factory=dict)  # title → kind, for tables not imported
    unit: str = "万元"


def known_layouts() -> tuple[LayoutInfo, ...]:
    out = []
    for key, e in EDITIONS.items():
        out.append(LayoutInfo(
            key=key,
            titles=dict(zip(KINDS, e.schedule_titles)),
            income_rows=tuple(e.income_rows),
            three_public_rows=tuple((label, items) for label, items, _level in e.three_public_rows),
            procurement_funds=tuple(e.procurement_funds)))
    return tuple(out)


def by_name(name: str) -> tuple[LayoutInfo | None, str]:
    """A layout given with --layout; (None, why) when there is none of that name."""
    for lay in known_layouts():
        if lay.key == name:
            return lay, ""
    return None, f"没有版式“{name}”；可用的版式：{'、'.join(lay.key for lay in known_layouts())}"
