"""Magnitude sense: amounts that look typed in 元 in a file read in 万元 (or the other way).

A file typed in 元 but read as 万元 is well-formed and adds up; only its size gives it away:
every amount a whole number and the department's spending far beyond any real one's scale (or
its smallest line bigger than a real department's biggest), or — when department.staff is given
— the basic spending per person out of any real range. The warning names the likely cause and
the fix (`department.unit: 元`).
"""
from __future__ import annotations

from decimal import Decimal

from ..problems import Problem
from .context import Context

# 10亿元: beyond a township's or a county bureau's whole budget, the usual users' scale
LARGE_TOTAL = Decimal(100000)
# the smallest budget line of a real department (an 办公费, a 邮电费) is far below 1000万元
LARGE_SMALLEST = Decimal(1000)
# 基本支出 per person: a few 万元 to a few tens of 万元 a year; 500万元 a head is no salary
PER_STAFF_MAX = Decimal(500)
PER_STAFF_MIN = Decimal("0.5")


# a whole department spending under 1万元 a year: its amounts were typed in 万元, not 元
SMALL_TOTAL = Decimal(1)


def typed_in_yuan(ctx: Context) -> list[Problem]:
    b = ctx.budget
    if b.department.unit == "元":
        total = ctx.fig.total
        if 0 < total < SMALL_TOTAL:
            return [ctx.warning("金额-单位", f"department.unit 写的是元，支出合计却只有{total * 10000}元："
                                "金额像是以万元录入的；如果是，请删去 unit: 元", ("department", "unit"),
                                "以元录入的金额", f"{total * 10000}元")]
        return []
    amounts = [x for line in b.expenditure for x in (line.basic, line.project, line.operating, line.remit,
                                                     line.subsidy) if x]
    amounts += [e.amount for e in b.basic_economic if e.amount]
    out = []
    total = ctx.fig.total
    whole = bool(amounts) and all(x == x.to_integral_value() for x in amounts)
    if whole and (total >= LARGE_TOTAL or min(amounts) >= LARGE_SMALLEST):
        why = (f"支出合计{total}万元（{total / 10000}亿元）" if total >= LARGE_TOTAL
               else f"最小的一行也有{min(amounts)}万元")
        out.append(ctx.warning("金额-单位", f"金额像是以元录入的：全部是整数，{why}，远超一般部门的规模。"
                               "如果金额以元为单位，请在 department 下写 unit: 元（程序会换算为万元）；"
                               "确为万元则可忽略本警告", ("department",), "以万元录入的金额", f"{total}"))
    staff = b.department.staff
    if staff and ctx.fig.basic:
        per = ctx.fig.basic / staff
        if per > PER_STAFF_MAX or per < PER_STAFF_MIN:
            cause = ("像是以元录入的：如果金额以元为单位，请在 department 下写 unit: 元" if per > PER_STAFF_MAX
                     else "像是金额少录了位数，或人数写错")
            out.append(ctx.warning("金额-单位", f"人均基本支出{per.quantize(Decimal('0.01'))}万元"
                                   f"（基本支出{ctx.fig.basic}万元 ÷ {staff}人）不在常见范围"
                                   f"（{PER_STAFF_MIN}至{PER_STAFF_MAX}万元）：{cause}", ("department", "staff"),
                                   f"{PER_STAFF_MIN}至{PER_STAFF_MAX}万元", f"{per.quantize(Decimal('0.01'))}万元"))
    return out


RULES = (typed_in_yuan,)
