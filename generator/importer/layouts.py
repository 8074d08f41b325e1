"""What the importer needs to know about each layout, read from the layout files.

The titles of the tables, the fixed rows of 收支总表 (income by source) and of the 三公 table,
and the procurement fund columns all come from the layouts (generator/layouts/*.yaml, read by
generator/layout.py), so a new layout file is recognised without touching the importer. This
module is the one place that knows how layout definitions are stored; it turns each layout's
tables into the importer's kinds:

- summary, fiscal_summary, economic (→ basic_economic), three_public (rows down or across);
- a function table by what it holds: columns that differ by fund → income; all funds and
  columns by measure → expenditure; one fiscal fund (and its 结转) → general / gov_fund / soe;
- procurement, services (政府购买服务, with its fund columns), assets, institutions (read by
  annex.py), and the goal tables (项目支出表 and 部门整体支出绩效目标表 too).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from ..layout import FUND_GROUPS, builtin_keys, builtin_path, load_layout_file

# The schedule kinds the importer reads, in the order of the standard nine tables.
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
    services_funds: tuple[tuple[str, tuple[str, ...]], ...] = ()  # 政府购买服务: column, funds
    extra_rows: tuple[str, ...] = ()  # 收支总表 rows after the 类 that carry no amount (人行科目)
    family: str = ""  # the layout's family and years (a tie between years of one family is
    years: tuple[int, ...] = ()  # settled by the budget year)


def _expand(funds) -> tuple[str, ...]:
    out: list[str] = []
    for f in funds:
        for s in FUND_GROUPS.get(f, (f,)):
            if s not in out:
                out.append(s)
    return tuple(out)


def _columns(spec) -> list:
    out = []
    for c in spec.columns:
        out += list(c.columns) if hasattr(c, "group") else [c]
    return out


def _function_kind(spec) -> str | None:
    funds = set(_expand(spec.funds))
    if funds == set(FUND_GROUPS["all"]):
        if any(set(_expand(c.funds)) != funds for c in _columns(spec)):
            return "income"
        return "expenditure"
    for f in ("general", "gov_fund", "soe"):
        if funds <= {f, f"carryover_{f}"}:
            return f
    return None


def _kind(spec) -> str | None:
    if spec.kind == "function":
        return _function_kind(spec)
    return {"summary": "summary", "fiscal_summary": "fiscal_summary", "economic": "basic_economic",
            "three_public": "three_public"}.get(spec.kind)


def _all_tables(layout) -> list:
    """The layout's tables, including those placed inside the explanatory text."""
    out = list(layout.tables)

    def walk(items) -> None:
        for item in items:
            table = getattr(item, "table", None)
            if table is not None and not isinstance(table, bool):  # a block's table: flag
                out.append(table)
            walk(getattr(item, "content", ()) or ())
    walk(layout.sections)
    return out


def info(layout) -> LayoutInfo:
    titles: dict[str, str] = {}
    others: dict[str, str] = {}
    income: tuple = ()
    three: tuple = ()
    procurement: tuple = ()
    services: tuple = ()
    extra: list[str] = []
    for spec in _all_tables(layout):
        extra += [r for r in getattr(spec, "extra_rows", ()) if r not in extra]
        kind = _kind(spec)
        if kind is not None and kind not in titles:
            titles[kind] = spec.title
        elif spec.kind not in ("procurement", "services", "assets", "institutions"):
            others[spec.title] = spec.kind
        if spec.kind == "summary" and not income:
            income = tuple((r.label, _expand(r.funds)) for r in spec.income_rows)
        if spec.kind == "three_public" and not three:
            three = tuple((r.label, tuple(r.items)) for r in (spec.rows or spec.across))
        if spec.kind == "procurement" and not procurement:
            procurement = tuple((c.label, tuple(c.funds)) for c in spec.funds)
        if spec.kind == "services" and not services:
            services = tuple((c.label, tuple(c.funds)) for c in spec.funds)
    return LayoutInfo(layout.key, titles, income, three, procurement, others, layout.unit,
                      services, tuple(extra), layout.family, tuple(layout.years))


@lru_cache(maxsize=1)
def known_layouts() -> tuple[LayoutInfo, ...]:
    out = []
    for key in builtin_keys():
        path = builtin_path(key)
        layout, _problems = load_layout_file(path) if path else (None, [])
        if layout is not None:
            out.append(info(layout))
    return tuple(out)


def by_name(name: str) -> tuple[LayoutInfo | None, str]:
    """A layout given with --layout: a built-in key or a layout file's path; (None, why) if not."""
    from ..layout import resolve
    from ..problems import Location
    layout, problems = resolve(name, None, Location("--layout"), what="--layout")
    if layout is None:
        return None, "；".join(p.message for p in problems) or f"没有版式“{name}”"
    return info(layout), ""
