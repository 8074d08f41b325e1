"""The nine standard schedules (表一 … 表九) as plain Table values, in the edition's layout."""
from __future__ import annotations

from ..catalog import Catalog
from ..editions import Edition
from ..model import Budget
from ..money import ZERO
from .figures import CARRYOVER, FISCAL, UNIT_FUNDS, Figures, dsum
from .tables import Column, Head, Row, Table
from .tree import CodeTree

SEQ, CODE, NAME, MONEY, LABEL = (Column("seq", 3.5), Column("code", 8), Column("text", 17),
                                 Column("money", 9), Column("text", 15))
SP = "\u3000"  # the published tables space out two-character headings: 项　目


def _meta(budget: Budget) -> tuple[str, ...]:
    d = budget.department
    return (f"{d.code}{d.name}", f"预算年度：{d.year}", "单位：万元")


def _lanci(n: int) -> tuple[Head, ...]:
    return (Head("栏次"),) + tuple(Head(str(i)) for i in range(1, n + 1))


def function_tree(budget: Budget, width: int, amounts) -> CodeTree:
    """A 类/款/项 tree of the expenditure lines, `amounts(line)` giving each line's vector
    (or None to leave the line out)."""
    tree = CodeTree(width, (3, 5, 7))
    for line in budget.expenditure:
        vec = amounts(line)
        if vec is not None and any(vec):
            tree.add(line.code, vec)
    return tree


def _function_rows(tree: CodeTree, catalog: Catalog, typed_names: dict) -> list[Row]:
    rows = [Row((1, "", "合计") + tree.total(), emphasis=True)]
    for depth, code, totals in tree.rows():
        # the clerk's spelling where typed (validate checks it equals the catalog's up to
        # the width of parentheses), otherwise the catalog's name
        name = typed_names.get(code) or catalog.function_name(code) or ""
        rows.append(Row((len(rows) + 1, code, name) + totals, emphasis=depth == 1))
    return rows


def _typed_names(budget: Budget) -> dict:
    return {l.code: l.name for l in budget.expenditure if l.name}


def schedule_1(budget: Budget, catalog: Catalog, edition: Edition, fig: Figures, title: str) -> Table:
    by_class = _class_totals(budget, lambda l: l.total)
    income = [(label, fig.source(*sources)) for label, sources in edition.income_rows]
    classes = catalog.function_classes
    rows = []
    for i in range(max(len(income), len(classes))):
        left = income[i] if i < len(income) else ("", None)
        cls = classes[i] if i < len(classes) else None
        rows.append(Row((i + 1, left[0], left[1], cls.label if cls else "",
                         by_class.get(cls.code, ZERO) if cls else None)))
    n = len(rows)
    rows += [Row((n + 1, "本年收入合计", fig.current_income, "本年支出合计", fig.total), True),
             Row((n + 2, "上年结转结余", fig.carryover, "年终结转结余", ZERO)),
             Row((n + 3, "收入总计", fig.total, "支出总计", fig.total), True)]
    header = ((Head("序号", rowspan=2), Head("收入", colspan=2), Head("支出", colspan=2)),
              (Head(f"项{SP}目"), Head("预算数"), Head(f"项{SP}目"), Head("预算数")),
              _lanci(4))
    return Table("s1", title, _meta(budget), header, (SEQ, Column("text", 18), MONEY,
                                                      Column("text", 20), MONEY), tuple(rows),
                 sheet="表一 收支总表")


def _class_totals(budget: Budget, amount) -> dict:
    out: dict = {}
    for line in budget.expenditure:
        value = amount(line)
        if value:
            out[line.code[:3]] = out.get(line.code[:3], ZERO) + value
    return out


def schedule_2(budget: Budget, catalog: Catalog, title: str) -> Table:
    def vec(line):
        s, t = line.source.value, line.total
        fiscal = t if s in ("general", "gov_fund", "soe") else ZERO
        cols = [fiscal] + [t if s == k else ZERO for k in ("special_account",) + UNIT_FUNDS]
        current = dsum(cols)
        carry = t if s in CARRYOVER else ZERO
        return (current + carry, current, *cols, carry)
    tree = function_tree(budget, 10, vec)
    header = ((Head("序号", rowspan=2), Head("功能分类科目", colspan=2), Head("合计", rowspan=2),
               Head("本年收入", colspan=8), Head("上年结转", rowspan=2)),
              (Head("科目编码"), Head("科目名称"), Head("小计"), Head("财政拨款收入"),
               Head("财政专户收入"), Head("事业收入"), Head("经营收入"), Head("上级补助收入"),
               Head("附属单位上缴收入"), Head("其他收入")),
              _lanci(12))
    cols = (SEQ, CODE, Column("text", 22)) + (Column("money", 7),) * 10
    return Table("s2", title, _meta(budget), header, cols,
                 tuple(_function_rows(tree, catalog, _typed_names(budget))), landscape=True,
                 sheet="表二 收入总表")


def schedule_3(budget: Budget, catalog: Catalog, title: str) -> Table:
    tree = function_tree(budget, 6, lambda l: (l.total, l.basic, l.project, l.operating, l.remit,
                                                l.subsidy))
    header = ((Head("序号", rowspan=2), Head("功能分类科目", colspan=2), Head("合计", rowspan=2),
               Head("基本支出", rowspan=2), Head("项目支出", rowspan=2), Head("经营支出", rowspan=2),
               Head("上解上级支出", rowspan=2), Head("对附属单位补助支出", rowspan=2)),
              (Head("科目编码"), Head("科目名称")), _lanci(8))
    return Table("s3", title, _meta(budget), header, (SEQ, CODE, NAME) + (MONEY,) * 6,
                 tuple(_function_rows(tree, catalog, _typed_names(budget))), landscape=True,
                 sheet="表三 支出总表")


def schedule_4(budget: Budget, catalog: Catalog, fig: Figures, title: str) -> Table:
    funds = ("general", "gov_fund", "soe")
    per_fund = {f: _class_totals(budget, lambda l, f=f: l.total if l.source.value in FISCAL[f]
                                  else ZERO) for f in funds}
    income = [("一、一般公共预算拨款", fig.source("general")), ("二、政府性基金预算拨款", fig.source("gov_fund")),
              ("三、国有资本经营预算拨款", fig.source("soe"))]
    rows = []
    for i, cls in enumerate(catalog.function_classes):
        left = income[i] if i < len(income) else ("", None)
        amounts = tuple(per_fund[f].get(cls.code, ZERO) for f in funds)
        rows.append(Row((i + 1, left[0], left[1], cls.label, dsum(amounts)) + amounts))
    n = len(rows)
    spent = tuple(fig.fiscal(f) for f in funds)
    current = fig.source(*funds)
    carry = tuple(fig.source(f"carryover_{f}") for f in funds)
    rows += [
        Row((n + 1, "本年收入合计", current, "本年支出合计", dsum(spent)) + spent, True),
        Row((n + 2, "年初财政拨款结转和结余", dsum(carry), "年末财政拨款结转和结余", ZERO, ZERO, ZERO, ZERO)),
        Row((n + 3, "一、一般公共预算拨款", carry[0], "", None, None, None, None)),
        Row((n + 4, "二、政府性基金预算拨款", carry[1], "", None, None, None, None)),
        Row((n + 5, "三、国有资本经营预算拨款", carry[2], "", None, None, None, None)),
        Row((n + 6, "收入总计", current + dsum(carry), "支出总计", dsum(spent)) + spent, True),
    ]
    header = ((Head("序号", rowspan=2), Head("收入", colspan=2), Head("支出", colspan=5)),
              (Head(f"项{SP}目"), Head("金额"), Head(f"项{SP}目"), Head("合计"),
               Head("一般公共预算财政拨款"), Head("政府性基金预算财政拨款"),
               Head("国有资本经营预算财政拨款")),
              _lanci(7))
    narrow = Column("money", 7)
    cols = (Column("seq", 3), Column("text", 22), narrow, Column("text", 26)) + (narrow,) * 4
    # portrait: its 37 rows do not fit the height of a landscape page
    return Table("s4", title, _meta(budget), header, cols, tuple(rows),
                 sheet="表四 财政拨款收支总表")


def _fund_schedule(key: str, budget: Budget, catalog: Catalog, fund: str, title: str,
                   empty_name: str, sheet: str) -> Table:
    tree = function_tree(budget, 3, lambda l: (l.total, l.basic, l.project)
                         if l.source.value in FISCAL[fund] else None)
    header = ((Head("序号", rowspan=2), Head("功能分类科目", colspan=2), Head("合计", rowspan=2),
               Head("基本支出", rowspan=2), Head("项目支出", rowspan=2)),
              (Head("科目编码"), Head("科目名称")), _lanci(5))
    cols = (SEQ, CODE, Column("text", 22), MONEY, MONEY, MONEY)
    if not tree.root.children:
        return Table(key, title, _meta(budget), header, cols, (Row((None,) * 6),),
                     note=f"注：无{empty_name}预算财政拨款预算，空表列示。", sheet=sheet)
    return Table(key, title, _meta(budget), header, cols,
                 tuple(_function_rows(tree, catalog, _typed_names(budget))), sheet=sheet)


def schedule_6(budget: Budget, catalog: Catalog, fig: Figures, title: str) -> Table:
    tree = CodeTree(3, (3, 5))
    names = {e.code: e.name for e in budget.basic_economic if e.name}
    for code, amount in fig.economic_by_code.items():
        personnel = catalog.economic_kind(code) == "personnel"
        tree.add(code, (amount, amount if personnel else ZERO, ZERO if personnel else amount))
    rows = [Row((1, "", "合计") + tree.total(), emphasis=True)]
    for depth, code, totals in tree.rows():
        name = names.get(code) or catalog.economic_name(code) or ""
        rows.append(Row((len(rows) + 1, code, name) + totals, emphasis=depth == 1))
    header = ((Head("序号", rowspan=2), Head("支出部门经济分类科目", colspan=2),
               Head("一般公共预算基本支出", colspan=3)),
              (Head("科目编码"), Head("科目名称"), Head("合计"), Head("人员经费"), Head("公用经费")),
              _lanci(5))
    return Table("s6", title, _meta(budget), header, (SEQ, CODE, Column("text", 22), MONEY,
                                                      MONEY, MONEY), tuple(rows),
                 sheet="表六 一般公共预算基本支出表")


def schedule_9(budget: Budget, edition: Edition, fig: Figures, title: str) -> Table:
    rows = []
    for label, items, _level in edition.three_public_rows:
        by_fund = tuple(dsum((fig.three_public_by_fund or {}).get(f, {}).get(i, ZERO) for i in items)
                        for f in ("general", "gov_fund", "soe"))
        rows.append(Row((len(rows) + 1, label, dsum(by_fund)) + by_fund, emphasis=_level == 0))
    header = ((Head("序号", rowspan=2), Head(f"项{SP}目", rowspan=2), Head("资金性质", colspan=4)),
              (Head("合计"), Head("一般公共预算财政拨款"), Head("政府性基金预算拨款"),
               Head("国有资本经营预算财政拨款")),
              _lanci(5))
    return Table("s9", title, _meta(budget), header, (SEQ, Column("text", 30), MONEY, MONEY,
                                                      MONEY, MONEY), tuple(rows),
                 sheet="表九 三公经费支出表")


def build_schedules(budget: Budget, catalog: Catalog, edition: Edition, fig: Figures) -> tuple[Table, ...]:
    t = edition.schedule_titles
    return (
        schedule_1(budget, catalog, edition, fig, t[0]),
        schedule_2(budget, catalog, t[1]),
        schedule_3(budget, catalog, t[2]),
        schedule_4(budget, catalog, fig, t[3]),
        _fund_schedule("s5", budget, catalog, "general", t[4], "一般公共", "表五 一般公共预算支出表"),
        schedule_6(budget, catalog, fig, t[5]),
        _fund_schedule("s7", budget, catalog, "gov_fund", t[6], edition.fund_empty_name,
                       "表七 政府性基金预算支出表"),
        _fund_schedule("s8", budget, catalog, "soe", t[7], "国有资本经营", "表八 国有资本经营预算支出表"),
        schedule_9(budget, edition, fig, t[8]),
    )
