"""What every table and text builder sees: the budget, its figures, the catalog and the layout.

`Ctx.money` turns an exact amount (万元) into the figure printed in the unit of the table being
built (a layout may set one per table) or of the text, rounded
四舍五入 by money.py; `Ctx.fill` fills a layout's text template from the model. Builders get
their options from the layout's table or block entry, never from the layout's name.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import overload

from ..catalog import Catalog
from ..layout import FIELD, FUND_GROUPS, Layout
from ..model import Budget
from ..money import UNITS, ZERO, fmt_text, to_unit
from .figures import Figures, dsum


def expand_funds(names) -> tuple[str, ...]:
    """Fund names and groups (all, fiscal, unit …) → the 资金来源 they cover, in order."""
    out: list[str] = []
    for name in names:
        for source in FUND_GROUPS.get(name, (name,)):
            if source not in out:
                out.append(source)
    return tuple(out)


@dataclass
class Ctx:
    budget: Budget
    catalog: Catalog
    layout: Layout
    fig: Figures
    kind: str = "部门预算"  # or 单位预算: a unit's own disclosure
    rounded: int = 0  # how many printed amounts differ from their exact value
    memo: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)  # located problems found while computing (templates)
    table_unit: str | None = None  # while a table is built: its unit (see `in_unit`)

    # -- money
    @property
    def unit(self) -> str:
        """The unit amounts print in here: the table's being built, else the text's."""
        return self.table_unit or self.layout.text_unit or self.layout.unit

    @contextmanager
    def in_unit(self, unit: str | None) -> Iterator[None]:
        """Build a table in `unit` (None: the layout's table unit); the text unit after."""
        saved, self.table_unit = self.table_unit, unit or self.layout.unit
        try:
            yield
        finally:
            self.table_unit = saved

    @overload
    def money(self, value: Decimal) -> Decimal: ...

    @overload
    def money(self, value: None) -> None: ...

    def money(self, value: Decimal | None) -> Decimal | None:
        """An exact amount (万元) as printed: in the unit of the table being built (or the
        text's), converted exactly and rounded 四舍五入 by money.to_unit."""
        if value is None:
            return None
        shown = to_unit(value, self.unit, self.layout.decimals)
        if shown != value * UNITS[self.unit]:
            self.rounded += 1
        return shown

    def text_money(self, value: Decimal) -> str:
        """An amount for the prose (in `unit`: the text's, or the table's being built), rounded by
        the one money rule: the tables' digits unless the layout's text_amounts says otherwise
        (its decimals; how a zero prints, e.g. “0”; trailing zeros dropped)."""
        style = self.layout.text_amounts
        places = self.layout.decimals if style.decimals is None else style.decimals
        figure = to_unit(value, self.unit, places)
        if figure == 0 and style.zero is not None:
            return style.zero
        text = fmt_text(figure, places)
        if style.trim and "." in text:
            text = text.rstrip("0").rstrip(".")
        return text

    def titled(self, text: str) -> str:
        """A title for this kind of disclosure: a 单位预算 says 单位预算 where the layout says
        部门预算 (单位预算收支总表, 第一部分 单位预算公开表 …)."""
        return text if self.kind == "部门预算" else text.replace("部门预算", self.kind)

    def worded(self, text: str) -> str:
        """A text of the layout's as this kind of disclosure says it: in a 单位预算, each of the
        layout's unit_wording pairs replaced in order (本部门 → 本单位 …) — outside its
        {placeholders}, whose names stay as they are ([部门, 单位] leaves {部门} alone)."""
        if self.kind == "部门预算" or not self.layout.unit_wording:
            return text
        pieces, at = [], 0
        for m in [*FIELD.finditer(text), None]:
            literal = text[at:m.start() if m else len(text)]
            for word, instead in self.layout.unit_wording:
                literal = literal.replace(word, instead)
            pieces += [literal, m.group(0) if m else ""]
            at = m.end() if m else len(text)
        return "".join(pieces)

    def source(self, *names: str) -> Decimal:
        return self.fig.source(*expand_funds(names))

    # -- text
    def meta(self, lines: list[str] | None) -> tuple[str, ...]:
        return tuple(self.fill(t) for t in (self.layout.meta if lines is None else lines))

    def values(self) -> dict[str, str]:
        memo = f"values {self.unit}"  # a table in 元 and the text in 万元 each have their own
        if memo in self.memo:
            return self.memo[memo]
        b, f, M = self.budget, self.fig, self.text_money
        d = b.department
        assets = b.assets
        prior = b.prior_year
        values = {
            "部门": d.name, "编码": d.code, "年度": str(d.year),
            "上年": str(prior.year if prior and prior.year else d.year - 1), "单位": self.unit,
            "收入合计": M(f.total), "支出合计": M(f.total), "基本支出": M(f.basic),
            "项目支出": M(f.project), "人员经费": M(f.personnel), "公用经费": M(f.public),
            "三公经费": M(f.three_public_total), "采购合计": M(f.procurement_total),
            "中小企业份额": M(f.procurement_sme), "资产总额": M(f.assets_total or ZERO),
            "拟购置资产": M(assets.planned_purchase if assets else ZERO),
            "资产截止": assets.as_of if assets else "",
            "购买服务合计": M(dsum(s.amount for s in b.purchased_services)),
            "项目个数": str(len(b.projects)), "经营支出": M(f.operating), "上缴上级支出": M(f.remit),
            "对附属单位补助支出": M(f.subsidy), "上年结转": M(f.carryover),
        }
        self.memo[memo] = values
        return values

    def share(self, name: str) -> str:
        figure = {"基本支出": self.fig.basic, "项目支出": self.fig.project,
                  "人员经费": self.fig.personnel, "公用经费": self.fig.public,
                  "经营支出": self.fig.operating, "三公经费": self.fig.three_public_total}[name]
        if not self.fig.total:
            return "0.00"
        return fmt_text(figure * 100 / self.fig.total)

    def fill(self, template: str, extra: dict[str, str] | None = None) -> str:
        """A layout template with its {placeholders} filled from the model (no evaluation:
        each field is looked up by name); in a 单位预算, worded as the layout's unit_wording
        says first."""
        template = self.worded(template)
        if "{" not in template:
            return template
        values = dict(self.values(), **(extra or {}))

        def one(m: re.Match) -> str:
            name, arg = m.group(1), m.group(2)
            if name == "资金":
                return self.text_money(self.source(*(p.strip() for p in (arg or "").split("+"))))
            if name == "占比":
                return self.share(arg or "")
            return values.get(name, "")
        return FIELD.sub(one, template)
