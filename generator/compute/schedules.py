"""The budget tables by kind: 收支总表, function-classification tables (收入总表, 支出总表, one
fund's 支出表), 财政拨款收支总表, 基本支出 by economic class, “三公”经费.

Each builder takes the compute context and the layout's entry for the table (its title,
columns, fixed rows) and returns a plain Table; amounts are printed in the layout's unit.
"""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ..catalog import FunctionClass
from ..layout import (
    AmountColumn,
    EconomicTable,
    FiscalSummaryTable,
    FunctionTable,
    SummaryTable,
    ThreePublicTable,
)
from ..money import ZERO
from .context import Ctx, expand_funds
from .figures import FUNDS, dsum
from .tables import Column, Head, Row, Table
from .tree import CodeTree

SEQ, CODE, MONEY = Column("seq", 3.5), Column("code", 8), Column("money", 9)
SP = "\u3000"  # the published tables space out two-character headings: 项　目


def lanci(n: int) -> tuple[Head, ...]:
    """The 栏次 row: 栏次, 1, 2, … n."""
    return (Head("栏次"),) + tuple(Head(str(i)) for i in range(1, n + 1))


def function_tree(ctx: Ctx, width: int, amounts) -> CodeTree:
    """A 类/款/项 tree of the expenditure lines, `amounts(line)` giving each line's vector
    (or None to leave the line out)."""
    tree = CodeTree(width, (3, 5, 7))
    for line in ctx.budget.expenditure:
        vec = amounts(line)
        if vec is not None and any(vec):
            tree.add(line.code, vec)
    return tree


def _typed_names(ctx: Ctx) -> dict:
    return {line.code: line.name for line in ctx.budget.expenditure if line.name}


def function_rows(ctx: Ctx, tree: CodeTree) -> list[Row]:
    typed = _typed_names(ctx)
    money = ctx.money
    rows = [Row((1, "", "合计") + tuple(money(v) for v in tree.total()), emphasis=True)]
    for depth, code, totals in tree.rows():
        # the clerk's spelling where typed (validate checks it equals the catalog's up to
        # the width of parentheses), otherwise the catalog's name
        name = typed.get(code) or ctx.catalog.function_name(code) or ""
        rows.append(Row((len(rows) + 1, code, name) + tuple(money(v) for v in totals),
                        emphasis=depth == 1))
    return rows


def _class_totals(ctx: Ctx, amount) -> dict:
    out: dict = {}
    for line in ctx.budget.expenditure:
        value = amount(line)
        if value:
            out[line.code[:3]] = out.get(line.code[:3], ZERO) + value
    return out


def expenditure_rows(ctx: Ctx, spec: SummaryTable | FiscalSummaryTable) -> list[FunctionClass]:
    """The expenditure side's rows: the catalog's 类, then the rows the layout's form adds
    (such as 人行科目), numbered on: a layout's rows are its own data, not the catalog's."""
    classes = list(ctx.catalog.function_classes)
    return classes + [FunctionClass(len(classes) + i, None, name)
                      for i, name in enumerate(spec.extra_rows, 1)]


def summary_table(ctx: Ctx, spec: SummaryTable, key: str) -> Table:
    fig, m = ctx.fig, ctx.money
    by_class = _class_totals(ctx, lambda line: line.total)
    income = [(r.label, ctx.source(*r.funds)) for r in spec.income_rows]
    classes = expenditure_rows(ctx, spec)
    rows = []
    for i in range(max(len(income), len(classes))):
        left = income[i] if i < len(income) else ("", None)
        cls = classes[i] if i < len(classes) else None
        rows.append(Row((i + 1, left[0], m(left[1]), cls.label if cls else "",
                         m(by_class.get(cls.code, ZERO)) if cls else None)))
    n = len(rows)
    rows += [Row((n + 1, "本年收入合计", m(fig.current_income), "本年支出合计", m(fig.total)), True),
             Row((n + 2, "上年结转结余", m(fig.carryover), "年终结转结余", ZERO)),
             Row((n + 3, "收入总计", m(fig.total), "支出总计", m(fig.total)), True)]
    header = ((Head("序号", rowspan=2), Head("收入", colspan=2), Head("支出", colspan=2)),
              (Head(f"项{SP}目"), Head("预算数"), Head(f"项{SP}目"), Head("预算数")),
              lanci(4))
    return _table(ctx, spec, key, header, (SEQ, Column("text", 18), MONEY, Column("text", 20), MONEY),
                  rows)


def function_table(ctx: Ctx, spec: FunctionTable, key: str) -> Table:
    """Lines from the table's funds by 类/款/项, one money column per layout column."""
    flat: list[AmountColumn] = []
    top: list[Head] = [Head("序号", rowspan=2), Head("功能分类科目", colspan=2)]
    second: list[Head] = [Head("科目编码"), Head("科目名称")]
    for c in spec.columns:
        if isinstance(c, AmountColumn):
            top.append(Head(c.label, rowspan=2))
            flat.append(c)
        else:
            top.append(Head(c.group, colspan=len(c.columns)))
            second += [Head(sub.label) for sub in c.columns]
            flat += c.columns
    funds = set(expand_funds(spec.funds))
    wanted = [(set(expand_funds(c.funds)), tuple(c.measures)) for c in flat]

    def vec(line):
        if line.source.value not in funds:
            return None
        return tuple(dsum(getattr(line, m) for m in measures) if line.source.value in sources
                     else ZERO for sources, measures in wanted)

    tree = function_tree(ctx, len(flat), vec)
    header = (tuple(top), tuple(second)) + ((lanci(2 + len(flat)),) if spec.lanci else ())
    cols = (SEQ, CODE, Column("text", spec.widths.name)) + (Column("money", spec.widths.money),) * len(flat)
    if not tree.root.children and spec.empty_note:
        return _table(ctx, spec, key, header, cols, [Row((None,) * len(cols))], empty=True)
    return _table(ctx, spec, key, header, cols, function_rows(ctx, tree))


def fiscal_summary_table(ctx: Ctx, spec: FiscalSummaryTable, key: str) -> Table:
    fig, m = ctx.fig, ctx.money
    funds = ("general", "gov_fund", "soe")
    per_fund = {f: _class_totals(ctx, lambda line, f=f: line.total
                                 if line.source.value in expand_funds((f, f"carryover_{f}")) else ZERO)
                for f in funds}
    income = [("一、一般公共预算拨款", fig.source("general")), ("二、政府性基金预算拨款", fig.source("gov_fund")),
              ("三、国有资本经营预算拨款", fig.source("soe"))]
    rows = []
    for i, cls in enumerate(expenditure_rows(ctx, spec)):
        left = income[i] if i < len(income) else ("", None)
        amounts = tuple(per_fund[f].get(cls.code, ZERO) for f in funds)
        rows.append(Row((i + 1, left[0], m(left[1]), cls.label, m(dsum(amounts)))
                        + tuple(m(a) for a in amounts)))
    n = len(rows)
    spent = tuple(fig.fiscal(f) for f in funds)
    current = fig.source(*funds)
    carry = tuple(fig.source(f"carryover_{f}") for f in funds)
    shown = tuple(m(a) for a in spent)
    rows += [
        Row((n + 1, "本年收入合计", m(current), "本年支出合计", m(dsum(spent))) + shown, True),
        Row((n + 2, "年初财政拨款结转和结余", m(dsum(carry)), "年末财政拨款结转和结余", ZERO, ZERO, ZERO, ZERO)),
        Row((n + 3, "一、一般公共预算拨款", m(carry[0]), "", None, None, None, None)),
        Row((n + 4, "二、政府性基金预算拨款", m(carry[1]), "", None, None, None, None)),
        Row((n + 5, "三、国有资本经营预算拨款", m(carry[2]), "", None, None, None, None)),
        Row((n + 6, "收入总计", m(current + dsum(carry)), "支出总计", m(dsum(spent))) + shown, True),
    ]
    header = ((Head("序号", rowspan=2), Head("收入", colspan=2), Head("支出", colspan=5)),
              (Head(f"项{SP}目"), Head("金额"), Head(f"项{SP}目"), Head("合计"),
               Head("一般公共预算财政拨款"), Head("政府性基金预算财政拨款"),
               Head("国有资本经营预算财政拨款")),
              lanci(7))
    narrow = Column("money", 7)
    cols = (Column("seq", 3), Column("text", 22), narrow, Column("text", 26)) + (narrow,) * 4
    return _table(ctx, spec, key, header, cols, rows)


def economic_table(ctx: Ctx, spec: EconomicTable, key: str) -> Table:
    tree = CodeTree(3, (3, 5))
    names = {e.code: e.name for e in ctx.budget.basic_economic if e.name}
    for code, amount in ctx.fig.economic_by_code.items():
        personnel = ctx.catalog.economic_kind(code) == "personnel"
        tree.add(code, (amount, amount if personnel else ZERO, ZERO if personnel else amount))
    m = ctx.money
    rows = [Row((1, "", "合计") + tuple(m(v) for v in tree.total()), emphasis=True)]
    for depth, code, totals in tree.rows():
        name = names.get(code) or ctx.catalog.economic_name(code) or ""
        rows.append(Row((len(rows) + 1, code, name) + tuple(m(v) for v in totals), emphasis=depth == 1))
    header = ((Head("序号", rowspan=2), Head("支出部门经济分类科目", colspan=2),
               Head("一般公共预算基本支出", colspan=3)),
              (Head("科目编码"), Head("科目名称"), Head("合计"), Head("人员经费"), Head("公用经费")),
              lanci(5))
    return _table(ctx, spec, key, header, (SEQ, CODE, Column("text", 22), MONEY, MONEY, MONEY), rows)


def three_public_table(ctx: Ctx, spec: ThreePublicTable, key: str) -> Table:
    """“三公”经费 by fund: 合计 and the 一般公共预算 / 政府性基金 / 国有资本经营 columns (rows), or
    all funds together in one row (across)."""
    fig, m = ctx.fig, ctx.money
    if spec.across:
        amounts = [m(dsum(fig.three_public[i] for i in c.items)) for c in spec.across]
        heads = [Head(c.label) for c in spec.across]
        if spec.operating:
            amounts.append(m(fig.public))
            heads.append(Head(spec.operating))
        cols = tuple(MONEY for _ in heads)
        return _table(ctx, spec, key, (tuple(heads),), cols, [Row(tuple(amounts))])
    rows: list[Row] = []
    for r in spec.rows:
        by_fund = tuple(dsum((fig.three_public_by_fund or {}).get(f, {}).get(i, ZERO) for i in r.items)
                        for f in FUNDS)
        rows.append(Row((len(rows) + 1, r.label, m(dsum(by_fund))) + tuple(m(v) for v in by_fund),
                        emphasis=r.level == 0))
    if spec.operating:  # 机关运行经费: 一般公共预算基本支出's 公用经费
        rows.append(Row((len(rows) + 1, spec.operating, m(fig.public), m(fig.public), ZERO, ZERO)))
    header = ((Head("序号", rowspan=2), Head(f"项{SP}目", rowspan=2), Head("资金性质", colspan=4)),
              (Head("合计"), Head("一般公共预算财政拨款"), Head("政府性基金预算拨款"),
               Head("国有资本经营预算财政拨款")),
              lanci(5))
    return _table(ctx, spec, key, header, (SEQ, Column("text", 30), MONEY, MONEY, MONEY, MONEY), rows)


def _fit(column: Column, index: int, rows) -> Column:
    """A money column wide enough for its longest figure (amounts in 元 run to 11 digits and
    more): about 0.65 character per digit, plus the cell's padding."""
    longest = max((len(f"{r.cells[index]:.{column.places}f}") for r in rows
                   if index < len(r.cells) and isinstance(r.cells[index], Decimal)), default=0)
    need = round(0.65 * longest + 1.5, 1)
    return replace(column, width=need) if need > column.width else column


def _table(ctx: Ctx, spec, key: str, header, columns, rows, empty: bool = False,
           notes: tuple[str, ...] = ()) -> Table:
    """A Table from a layout entry: its title, meta line, sheet, orientation and notes."""
    more = tuple(ctx.fill(n) for n in spec.notes) + notes
    places = ctx.layout.decimals
    columns = tuple(_fit(replace(c, places=places), i, rows) if c.kind == "money" else c
                    for i, c in enumerate(columns))
    return Table(key, ctx.titled(ctx.fill(spec.title)), ctx.meta(spec.meta), tuple(header), tuple(columns),
                 tuple(rows), note=ctx.fill(spec.empty_note) if empty and spec.empty_note else None,
                 landscape=spec.landscape, sheet=ctx.fill(spec.sheet), notes_after=more)
