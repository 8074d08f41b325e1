"""Rules on 政府购买服务 (purchased_services): what is bought cannot exceed what is budgeted."""
from __future__ import annotations

from ..compute.figures import dsum
from ..model import SOURCE_LABELS, Source
from .context import Context, wan


def purchased_services(ctx: Context) -> list:
    """The services bought from one 资金来源 add up to no more than the spending from it."""
    out = []
    services = ctx.budget.purchased_services
    for source in dict.fromkeys(s.source for s in services):
        idx = [i for i, s in enumerate(services) if s.source == source]
        bought = dsum(services[i].amount for i in idx)
        budget = ctx.fig.by_source.get(source.value, dsum(()))
        if bought > budget:
            label = SOURCE_LABELS[Source(source)]
            out.append(ctx.error(
                "购买服务-预算", f"资金来源为{label}的政府购买服务合计{wan(bought)}，超过该来源的支出预算"
                f"{wan(budget)}", ("purchased_services", idx[0], "amount"), f"≤{wan(budget)}",
                wan(bought)))
    return out


RULES = (purchased_services,)
