"""Rules on the prior-year figures the text compares with (prior_year).

- 三公逐项: last year's 三公 typed item by item must add up to the total typed beside them
  (an error: the text would state two different figures), and every item whose amount changed
  from last year should carry the clerk's reason (a warning at check: the published comparison
  says why, item by item).
"""
from __future__ import annotations

from ..money import ZERO
from ..problems import Problem
from .context import Context, wan

# the 三公 items of the model, with the names the text prints
ITEM_NAMES = {"overseas": "因公出国（境）费", "overseas_research": "教学科研人员因公出国（境）费",
              "vehicle_purchase": "公务用车购置费", "vehicle_operation": "公务用车运行维护费",
              "reception": "公务接待费", "meeting": "会议费", "training": "培训费"}


def three_public_items(ctx: Context) -> list[Problem]:
    prior = ctx.budget.prior_year
    if prior is None or prior.three_public_items is None:
        return []
    items = prior.three_public_items
    out: list[Problem] = []
    given = {k: getattr(items, k) for k in type(items).model_fields if getattr(items, k) is not None}
    if prior.three_public is not None:  # 会议费、培训费 are not 三公
        total = sum((g.amount for k, g in given.items() if k not in ("meeting", "training")), ZERO)
        out += ctx.mismatch("三公逐项", "上年“三公”经费逐项之和应等于上年合计（prior_year.three_public）",
                            ("prior_year", "three_public_items"), prior.three_public, total)
    for key, item in given.items():
        now = ctx.fig.three_public.get(key, ZERO)
        if now != item.amount and not item.reason.strip():
            name = ITEM_NAMES.get(key, key)
            change = "增加" if now > item.amount else "减少"
            out.append(ctx.warning(
                "三公增减原因", f"{name}本年{wan(now)}，上年{wan(item.amount)}，{change}{wan(abs(now - item.amount))}，"
                "但没有写增减原因：请在 reason 中写明", ("prior_year", "three_public_items", key),
                "增减原因", "（空）"))
    return out


RULES = (three_public_items,)
