"""The nine standard schedules → leaf facts and checks.

Leaves: 项 rows of 支出总表 (measures), split by source with 收入总表 and the three fund tables;
款 rows of the basic-spending table; the 三公 items. Every 类/款 row and 合计 is checked against
its leaves here; the headline totals become `control_totals`, which `check` compares again.
"""
from __future__ import annotations

from decimal import Decimal

from ..catalog import Catalog
from ..money import ZERO
from ..validate.codes import same_name
from .draft import CHECKED, IGNORED, IMPORTED, Draft, Entry, fmt
from .grid import Field, columns, find_header, norm
from .layouts import LayoutInfo
from .recognise import Found, label_key
from .tables import Opened, TableReader, TRow

CODE = Field("code", ("科目编码", "功能分类科目编码", "编码", "科目代码", "功能科目编码"), required=False)
NAME = Field("name", ("科目名称", "功能分类科目名称", "功能分类科目", "科目"))
# codes split over three columns under 科目编码: 类 | 款 | 项 (201 | 03 | 01)
SPLIT = (Field("cls", ("类",), required=False), Field("kuan", ("款",), required=False),
         Field("xiang", ("项",), required=False))
ECODE = Field("code", ("科目编码", "经济分类科目编码", "部门经济分类科目编码", "编码", "科目代码"),
              required=False)
ENAME = Field("name", ("科目名称", "经济分类科目名称", "支出部门经济分类科目", "部门经济分类科目", "科目"))
TOTAL = Field("total", ("合计", "总计"))
BASIC = Field("basic", ("基本支出",))
PROJECT = Field("project", ("项目支出",))

SOURCE_FIELDS = (
    Field("fiscal", ("财政拨款收入", "财政拨款", "财政拨款(补助)收入"), required=False),
    Field("general", ("一般公共预算拨款收入", "一般公共预算", "一般公共预算拨款", "一般公共预算财政拨款"),
          required=False),
    Field("gov_fund", ("政府性基金预算拨款收入", "政府性基金预算拨款", "政府性基金预算", "政府性基金",
                       "政府性基金预算财政拨款"), required=False),
    Field("soe", ("国有资本经营预算拨款收入", "国有资本经营预算拨款", "国有资本经营预算",
                  "国有资本经营预算财政拨款"), required=False),
    Field("special_account", ("财政专户收入", "财政专户管理资金收入", "财政专户管理资金", "财政专户核拨"),
          required=False),
    Field("institution", ("事业收入",), required=False),
    Field("operating", ("经营收入", "事业单位经营收入"), required=False),
    Field("superior", ("上级补助收入",), required=False),
    Field("affiliate", ("附属单位上缴收入",), required=False),
    Field("other", ("其他收入",), required=False),
    Field("unit", ("单位资金", "单位资金收入"), required=False),
    Field("carryover", ("上年结转", "上年结转结余", "上年结转和结余", "上年结转资金"), required=False),
)
INCOME_FIELDS = (CODE, *SPLIT, NAME, TOTAL, Field("subtotal", ("小计", "本年收入小计", "本年收入合计"),
                                          required=False)) + SOURCE_FIELDS
MEASURES = ("basic", "project", "operating", "remit", "subsidy")
EXPENDITURE_FIELDS = (CODE, *SPLIT, NAME, TOTAL, BASIC, PROJECT,
                      Field("operating", ("经营支出", "事业单位经营支出"), required=False),
                      Field("remit", ("上解上级支出", "上缴上级支出"), required=False),
                      Field("subsidy", ("对附属单位补助支出", "对下级单位补助支出"), required=False))
FUND_FIELDS = (CODE, *SPLIT, NAME, TOTAL, BASIC, PROJECT)
ECONOMIC_FIELDS = (ECODE, *SPLIT[:2], ENAME, TOTAL, Field("personnel", ("人员经费",)), Field("public", ("公用经费",)))
THREE_FIELDS = (Field("label", ("项目", "项目名称", "科目名称", "科目")), TOTAL,
                Field("general", ("一般公共预算财政拨款", "一般公共预算", "一般公共预算拨款"), required=False),
                Field("gov_fund", ("政府性基金预算拨款", "政府性基金预算财政拨款", "政府性基金预算",
                                   "政府性基金"), required=False),
                Field("soe", ("国有资本经营预算财政拨款", "国有资本经营预算拨款", "国有资本经营预算"),
                      required=False))
SUMMARY_FIELDS = (Field("in_label", ("项目", "收入项目", "收入"), ("收入",)),
                  Field("in_amount", ("预算数", "金额", "本年预算数", "收入预算数"), ("收入",)),
                  Field("out_label", ("项目", "支出项目", "支出"), ("支出",)),
                  Field("out_amount", ("预算数", "金额", "本年预算数", "支出预算数"), ("支出",)))
FISCAL_FIELDS = (Field("in_label", ("项目", "收入项目", "收入"), ("收入",)),
                 Field("in_amount", ("金额", "预算数", "本年预算数"), ("收入",)),
                 Field("out_label", ("项目", "支出项目", "支出"), ("支出",)),
                 Field("out_total", ("合计", "小计"), ("支出",)),
                 Field("general", ("一般公共预算财政拨款", "一般公共预算", "一般公共预算拨款")),
                 Field("gov_fund", ("政府性基金预算财政拨款", "政府性基金预算拨款", "政府性基金预算", "政府性基金"),
                       required=False),
                 Field("soe", ("国有资本经营预算财政拨款", "国有资本经营预算拨款", "国有资本经营预算"),
                       required=False))

FIELDS = {"summary": SUMMARY_FIELDS, "income": INCOME_FIELDS, "expenditure": EXPENDITURE_FIELDS,
          "fiscal_summary": FISCAL_FIELDS, "general": FUND_FIELDS, "basic_economic": ECONOMIC_FIELDS,
          "gov_fund": FUND_FIELDS, "soe": FUND_FIELDS, "three_public": THREE_FIELDS}
UNIT_SOURCES = ("special_account", "institution", "operating", "superior", "affiliate", "other")
FUNDS = ("general", "gov_fund", "soe")


def nw_corner(rows: list[tuple[str, Decimal]], cols: list[tuple[str, Decimal]]) -> dict[str, dict[str, Decimal]]:
    """Split row totals over column totals (equal grand totals): any split keeps both sets of
    margins, which is all the schedules show."""
    out: dict[str, dict[str, Decimal]] = {name: {} for name, _ in rows}
    rname = [n for n, _ in rows]
    rleft = [v for _, v in rows]
    cname = [n for n, _ in cols]
    cleft = [v for _, v in cols]
    i = j = 0
    while i < len(rleft) and j < len(cleft):
        x = min(rleft[i], cleft[j])
        if x:
            out[rname[i]][cname[j]] = out[rname[i]].get(cname[j], ZERO) + x
        rleft[i] -= x
        cleft[j] -= x
        if rleft[i] == 0:
            i += 1
        else:
            j += 1
    return out


class Schedules:
    def __init__(self, draft: Draft, reader: TableReader, catalog: Catalog | None, layout: LayoutInfo,
                 found: dict[str, Found]):
        self.d, self.reader, self.layout, self.found = draft, reader, layout, found
        self.catalog: Catalog = catalog  # type: ignore[assignment]  # set before run() when None
        self.opened: dict[str, Opened] = {}
        self.trees: dict[str, tuple[TRow | None, list[TRow]]] = {}

    def label(self, kind: str) -> str:
        return self.found[kind].sheet.name

    def open_all(self) -> None:
        for kind, f in self.found.items():
            if kind == "three_public" and self._three_public_columns_probe(f):
                continue  # opened by three_public() with the layout's row labels as columns
            extra = {norm(lbl) for lbl, _ in self.layout.income_rows} if kind == "summary" else set()
            o = self.reader.open(f, FIELDS[kind], f.sheet.name, extra)
            if o is not None:
                self.opened[kind] = o

    # ------------------------------------------------------------------ trees
    def read_trees(self) -> None:
        specs = {"income": (("total", "subtotal") + tuple(f.key for f in SOURCE_FIELDS), (3, 5, 7)),
                 "expenditure": (("total",) + MEASURES, (3, 5, 7)),
                 "general": (("total", "basic", "project"), (3, 5, 7)),
                 "gov_fund": (("total", "basic", "project"), (3, 5, 7)),
                 "soe": (("total", "basic", "project"), (3, 5, 7)),
                 "basic_economic": (("total", "personnel", "public"), (3, 5))}
        for kind, (keys, levels) in specs.items():
            o = self.opened.get(kind)
            if o is None:
                continue
            total, rows = self.reader.tree(o, keys, levels, o.sheet.name)
            self.trees[kind] = (total, rows)
            parts = {"income": ("subtotal", "carryover") if o.grid.has("subtotal") else
                     tuple(f.key for f in SOURCE_FIELDS), "expenditure": MEASURES,
                     "basic_economic": ("personnel", "public")}.get(kind, ("basic", "project"))
            for row in ([total] if total else []) + rows:
                self.reader.check_sum(o, row, "total", parts, o.sheet.name)
                if kind == "income" and o.grid.has("subtotal"):
                    cur = tuple(f.key for f in SOURCE_FIELDS if f.key != "carryover")
                    self.reader.check_sum(o, row, "subtotal", cur, o.sheet.name)

    def leaves(self, kind: str) -> dict[str, TRow]:
        if kind not in self.trees:
            return {}
        levels = 5 if kind == "basic_economic" else 7
        return {r.code: r for r in self.trees[kind][1] if len(r.code) == levels}

    def _leaf_level_check(self, kind: str) -> None:
        """A 款 row with no 项 beneath it cannot be imported: the input is kept at 项 level."""
        if kind not in self.trees:
            return
        o = self.opened[kind]
        rows = self.trees[kind][1]
        for r in rows:
            if len(r.code) == 5 and not any(len(k.code) == 7 and k.code.startswith(r.code) for k in rows) \
                    and any(r.values.values()):
                self.d.error("导入-科目", o.sheet.ref(r.r), f"{o.sheet.name}：款级科目{r.code}“{r.name}”下没有项级"
                             "科目；budgetgen 的支出按项级（7位）科目录入")

    # ------------------------------------------------------------ expenditure
    def expenditure(self) -> None:
        d = self.d
        if "expenditure" not in self.opened:
            return
        for kind in ("expenditure", "income", "general", "gov_fund", "soe"):
            self._leaf_level_check(kind)
        exp = self.leaves("expenditure")
        inc = self.leaves("income")
        funds = {f: self.leaves(f) for f in FUNDS}
        o3 = self.opened["expenditure"]
        for kind, rows in [("income", inc)] + [(f, funds[f]) for f in FUNDS]:
            for code, row in rows.items():
                if code not in exp:
                    o = self.opened[kind]
                    d.error("导入-核对", o.sheet.ref(row.r), f"{o.sheet.name}：科目{code}不在{o3.sheet.name}中")
        for code, row in exp.items():
            measures = {k: row.values.get(k, ZERO) for k in MEASURES}
            total = sum(measures.values(), ZERO)
            fund_rows = {f: funds[f].get(code) for f in FUNDS}
            fund_vec = {f: (r.values.get("basic", ZERO), r.values.get("project", ZERO)) if r else (ZERO, ZERO)
                        for f, r in fund_rows.items()}
            fund_total = {f: v[0] + v[1] for f, v in fund_vec.items()}
            sources = self._sources(code, row, inc.get(code), fund_total, total)
            if sources is None:
                continue
            lines = self._split(code, row, measures, fund_vec, sources)
            if lines is None:
                continue
            name = row.name
            cat = self.catalog.function_name(code)
            write_name = name if name and cat and same_name(name, cat) else ""
            if cat is None:
                write_name = self._supplement("function", code, name, o3, row.r)
            if name and cat and not same_name(name, cat):
                d.warning("导入-科目", o3.sheet.ref(row.r, o3.grid.col("name")),
                          f"科目{code}在工作簿中名为“{name}”，分类目录中为“{cat}”：已按目录名称导入")
            refs = [o3.sheet.ref(row.r, o3.code_col)]
            if code in inc:
                oi = self.opened["income"]
                refs.append(oi.sheet.ref(inc[code].r, oi.code_col))
            for source, vec in lines:
                data: dict = {"code": code}
                if write_name:
                    data["name"] = write_name
                for k in MEASURES:
                    if vec.get(k):
                        data[k] = vec[k]
                if source != "general":
                    data["source"] = source
                d.expenditure.append(Entry(data, " ".join(refs)))
            d.mark(o3.sheet, row.r, IMPORTED)
            if code in inc:
                d.mark(self.opened["income"].sheet, inc[code].r, IMPORTED)
            for f in FUNDS:
                fr = fund_rows[f]
                if fr is not None:
                    d.mark(self.opened[f].sheet, fr.r, IMPORTED)

    def _supplement(self, kind: str, code: str, name: str, o: Opened, r: int) -> str:
        """A code the year's catalog lacks: added to the file's `catalog:` section with the
        workbook's name (check then warns that the file adds it). Its 款 too, when missing."""
        names = self.catalog.function_names if kind == "function" else self.catalog.economic_names
        if not name:
            return ""
        rows = {t.code: t for t in self.trees.get("expenditure" if kind == "function" else "basic_economic",
                                                   (None, []))[1]}
        for c in ([code[:5]] if len(code) == 7 else []) + [code]:
            if c in names or any(e.data["code"] == c for e in self.d.catalog[kind]):
                continue
            row = rows.get(c)
            label = name if c == code else (row.name if row else "")
            if not label:
                continue
            self.d.catalog[kind].append(Entry({"code": c, "name": label}, o.sheet.ref(row.r if row else r,
                                                                                     o.code_col)))
            self.d.warning("导入-科目", o.sheet.ref(row.r if row else r, o.code_col),
                           f"科目{c}“{label}”不在{self.catalog.year or ''}年的分类目录中：已写入部门文件的 "
                           "catalog: 一节（请与本年度科目表核对）")
        return name

    def _sources(self, code: str, row: TRow, inc: TRow | None, fund_total: dict[str, Decimal],
                 total: Decimal) -> dict[str, Decimal] | None:
        """The line's amount by source: 收入总表's columns, its 财政拨款 split by the fund tables."""
        d = self.d
        o3 = self.opened["expenditure"]
        fiscal_sum = sum(fund_total.values(), ZERO)
        if inc is None:
            if "income" in self.opened:
                d.error("导入-核对", o3.sheet.ref(row.r), f"科目{code}在{o3.sheet.name}中有，在"
                        f"{self.opened['income'].sheet.name}中没有")
                return None
            if fiscal_sum != total:
                d.error("导入-核对", o3.sheet.ref(row.r), f"科目{code}合计{fmt(total)}，财政拨款各表合计{fmt(fiscal_sum)}："
                        "缺少收入总表，无法确定其余资金来源")
                return None
            return {f: v for f, v in fund_total.items() if v}
        v = inc.values
        oi = self.opened["income"]
        out: dict[str, Decimal] = {k: v.get(k, ZERO) for k in UNIT_SOURCES}
        if v.get("unit"):
            # one 单位资金 column cannot be split by source: booked as 事业收入, the table shows the sum
            out["institution"] += v["unit"]
            d.warning("导入-来源", oi.sheet.ref(inc.r, oi.grid.col("unit")), f"科目{code}的单位资金"
                      f"{fmt(v['unit'])}未分来源，已记为事业收入（institution）：请按实际来源核对")
        carry = v.get("carryover", ZERO)
        if any(k in v for k in FUNDS) and not oi.grid.has("fiscal"):
            current = {f: v.get(f, ZERO) for f in FUNDS}
        else:
            fiscal = v.get("fiscal", ZERO) + sum((v.get(f, ZERO) for f in FUNDS), ZERO)
            split = self._split_fiscal(code, fiscal, fund_total, inc, oi)
            if split is None:
                return None
            current = split
        carry_fiscal = {f: fund_total[f] - current[f] for f in FUNDS}
        for f in FUNDS:
            if carry_fiscal[f] < 0:
                d.error("导入-核对", oi.sheet.ref(inc.r), f"科目{code}：{oi.sheet.name}中本年财政拨款"
                        f"（{f}）{fmt(current[f])}，多于{self.label(f) if f in self.found else f}中的{fmt(fund_total[f])}")
                return None
        carry_other = carry - sum(carry_fiscal.values(), ZERO)
        if carry_other < 0:
            d.error("导入-核对", oi.sheet.ref(inc.r), f"科目{code}：财政拨款各表比{oi.sheet.name}的本年财政拨款多"
                    f"{fmt(sum(carry_fiscal.values(), ZERO))}，而上年结转只有{fmt(carry)}")
            return None
        out.update(current)
        for f in FUNDS:
            out[f"carryover_{f}"] = carry_fiscal[f]
        out["carryover_other"] = carry_other
        if sum(out.values(), ZERO) != total:
            d.error("导入-核对", oi.sheet.ref(inc.r), f"科目{code}：{oi.sheet.name}各来源之和"
                    f"{fmt(sum(out.values(), ZERO))}，{o3.sheet.name}合计{fmt(total)}", f"{fmt(total)}")
            return None
        return {k: x for k, x in out.items() if x}

    def _split_fiscal(self, code: str, fiscal: Decimal, fund_total: dict[str, Decimal], inc: TRow,
                      oi: Opened) -> dict[str, Decimal] | None:
        """Current-year 财政拨款 of one line split by fund, the rest of each fund table being 结转."""
        left = fiscal
        out = {}
        nonzero = [f for f in FUNDS if fund_total[f]]
        for f in FUNDS:
            out[f] = min(left, fund_total[f])
            left -= out[f]
        if left:
            self.d.error("导入-核对", oi.sheet.ref(inc.r), f"科目{code}：本年财政拨款收入{fmt(fiscal)}，多于一般公共预算、"
                         f"政府性基金、国有资本经营预算各表之和{fmt(sum(fund_total.values(), ZERO))}")
            return None
        if len(nonzero) > 1 and fiscal != sum(fund_total.values(), ZERO):
            self.d.warning("导入-来源", oi.sheet.ref(inc.r), f"科目{code}的上年结转分属几种财政拨款，无法从表中区分，"
                           "已先记入一般公共预算结转：请核对")
        return out

    def _split(self, code: str, row: TRow, measures: dict[str, Decimal],
               fund_vec: dict[str, tuple[Decimal, Decimal]], sources: dict[str, Decimal]
               ) -> list[tuple[str, dict[str, Decimal]]] | None:
        d, o3 = self.d, self.opened["expenditure"]
        lines: list[tuple[str, dict[str, Decimal]]] = []
        rest = dict(measures)
        for f in FUNDS:
            b, p = fund_vec[f]
            if not (b or p):
                continue
            rest["basic"] -= b
            rest["project"] -= p
            split = nw_corner([(f, sources.get(f, ZERO)), (f"carryover_{f}", sources.get(f"carryover_{f}", ZERO))],
                              [("basic", b), ("project", p)])
            lines += [(s, split[s]) for s in (f, f"carryover_{f}") if split[s]]
        if any(v < 0 for v in rest.values()):
            d.error("导入-核对", o3.sheet.ref(row.r), f"科目{code}：财政拨款各表的基本/项目支出多于{o3.sheet.name}")
            return None
        others = [(s, sources[s]) for s in UNIT_SOURCES + ("carryover_other",) if sources.get(s)]
        split = nw_corner(others, list(rest.items()))
        lines += [(s, split[s]) for s, _ in others if split[s]]
        return lines

    # ------------------------------------------------------- basic economic
    def basic_economic(self) -> None:
        if "basic_economic" not in self.trees:
            return
        o = self.opened["basic_economic"]
        total, rows = self.trees["basic_economic"]
        for r in rows:
            if len(r.code) == 3:
                if not any(len(k.code) == 5 and k.code.startswith(r.code) for k in rows) and r.values.get("total"):
                    self.d.error("导入-科目", o.sheet.ref(r.r), f"{o.sheet.name}：类级科目{r.code}下没有款级科目")
                continue
            amount = r.values.get("total", ZERO)
            kind = self.catalog.economic_kind(r.code)
            personnel, public = r.values.get("personnel", ZERO), r.values.get("public", ZERO)
            if kind and (personnel, public) != ((amount, ZERO) if kind == "personnel" else (ZERO, amount)):
                self.d.error("导入-核对", o.sheet.ref(r.r), f"{o.sheet.name}：科目{r.code}按分类目录属于"
                             f"{'人员经费' if kind == 'personnel' else '公用经费'}，工作簿中人员经费{fmt(personnel)}、"
                             f"公用经费{fmt(public)}")
            if not amount:
                self.d.mark(o.sheet, r.r, IGNORED, "金额为零")
                continue
            data: dict = {"code": r.code}
            cat = self.catalog.economic_name(r.code)
            if (r.name and cat and same_name(r.name, cat)) or \
                    (cat is None and self._supplement("economic", r.code, r.name, o, r.r)):
                data["name"] = r.name
            data["amount"] = amount
            self.d.basic_economic.append(Entry(data, o.sheet.ref(r.r, o.code_col)))
            self.d.mark(o.sheet, r.r, IMPORTED)
        if total is not None:
            for key in ("personnel", "public"):
                if key in total.values:
                    self.d.control_totals.append(Entry({key: total.values[key]}, o.sheet.ref(total.r,
                                                                                              o.grid.col(key))))

    # --------------------------------------------------------------- totals
    def expenditure_totals(self) -> None:
        if "expenditure" not in self.trees:
            return
        o = self.opened["expenditure"]
        total = self.trees["expenditure"][0]
        if total is None:
            return
        for key, field in (("total", "total"), ("basic", "basic"), ("project", "project")):
            if field in total.values:
                self.d.control_totals.append(Entry({key: total.values[field]}, o.sheet.ref(total.r, o.grid.col(field))))

    # -------------------------------------------------------------- 三公
    def _three_public_columns_probe(self, f: Found) -> bool:
        words = {label_key(lbl) for lbl, _ in self.layout.three_public_rows}
        span = find_header(f.sheet, max(f.title_row + 1, 0), words)
        if span is None:
            return False
        cols = [c for c in columns(f.sheet, *span) if c.path]
        if any(c.leaf in ("项目", "项目名称") for c in cols):
            return False
        return sum(1 for c in cols if label_key(c.leaf) in words) >= 2

    def _three_public_columns(self, f: Found) -> Opened | None:
        """A 三公 table with the items as columns (合计 | 因公出国（境）费 | 公务用车… ) instead of
        rows, as many provinces print it: open it with one field per row label of the layout."""
        if not self._three_public_columns_probe(f):
            return None
        fields = tuple(Field(f"r{i}", (label_key(lbl), norm(lbl)), required=False)
                       for i, (lbl, _) in enumerate(self.layout.three_public_rows))
        return self.reader.open(f, fields, f.sheet.name)

    def three_public(self) -> None:
        f = self.found.get("three_public")
        if f is None:
            return
        o = self.opened.get("three_public")
        if o is None:
            o = self._three_public_columns(f)
            if o is None:
                return
            self.opened["three_public"] = o
        d, sheet, g = self.d, o.sheet, o.grid
        layout_rows = self.layout.three_public_rows
        rows = {label_key(lbl): items for lbl, items in layout_rows}
        # (items, amount, cell reference, row) for each fund column
        found: dict[str, list[tuple[tuple[str, ...], Decimal, str, int]]] = {}
        if g.has("label"):
            funds = [k for k in ("general", "gov_fund", "soe") if g.has(k)] or ["total"]
            for r in self.reader.data_rows(o):
                label = sheet.text(r, g.col("label"))
                items = rows.get(label_key(label))
                if items is None:
                    d.mark(sheet, r, IGNORED, f"“{label}”不是本版式“三公”经费表的行")
                    amounts = self.reader.amounts(o, r, ("total", "general"))
                    if amounts and any(amounts.values()):
                        d.warning("导入-版式", sheet.ref(r, g.col("label")), f"“{label.strip()}”不是版式 "
                                  f"{self.layout.key} “三公”经费表的行，其金额未导入（版式是否选对？）")
                    continue
                vals = self.reader.amounts(o, r, ("total", "general", "gov_fund", "soe"))
                if vals is None:
                    continue
                if funds != ["total"] and "total" in vals:
                    want = sum((vals[k] for k in funds), ZERO)
                    if vals["total"] != want:
                        d.error("导入-核对", sheet.ref(r, g.col("total")), f"“{label.strip()}”合计{fmt(vals['total'])}，"
                                f"各资金性质之和{fmt(want)}", fmt(want), fmt(vals["total"]))
                for k in funds:
                    found.setdefault("general" if k == "total" else k, []).append(
                        (tuple(items), vals[k], sheet.ref(r, g.col(k)), r))
        else:
            keys = tuple(k for k in (f"r{i}" for i in range(len(layout_rows))) if g.has(k))
            for n, r in enumerate(self.reader.data_rows(o)):
                if n:
                    d.mark(sheet, r, IGNORED, "“三公”经费表按列排列时只读第一行数字（一般公共预算财政拨款）")
                    continue
                vals = self.reader.amounts(o, r, keys)
                if vals is None:
                    return
                for k in keys:
                    found.setdefault("general", []).append(
                        (tuple(layout_rows[int(k[1:])][1]), vals[k], sheet.ref(r, g.col(k)), r))
        for fund, entries in found.items():
            resolved = self._three_public_items(o, entries)
            if fund == "general":
                d.three_public = resolved
                widest = max((len(x[0]) for x in entries), default=0)
                top = [x for x in entries if len(x[0]) == widest]
                total = top[0][1] if top else ZERO
                where = top[0][2] if top else sheet.name
                for other in ("gov_fund", "soe"):
                    for x in found.get(other, []):
                        if len(x[0]) == widest:
                            total += x[1]
                            break
                d.control_totals.append(Entry({"three_public": total}, where))
            elif any(next(iter(e.data.values())) for e in resolved):
                d.three_public_funds[fund] = resolved

    def _three_public_items(self, o: Opened, found: list[tuple[tuple[str, ...], Decimal, str, int]]
                            ) -> list[Entry]:
        """Each item from the row (or column) of its own, else from the smallest one holding it;
        every row that is a sum is checked."""
        d, sheet = self.d, o.sheet
        single: dict[str, tuple[Decimal, str]] = {}
        imported: set[int] = set()
        for items, v, ref, r in found:
            if len(items) == 1 and items[0] not in single:
                single[items[0]] = (v, ref)
                imported.add(r)
        for items, v, ref, r in sorted(found, key=lambda x: len(x[0])):
            unknown = [i for i in items if i not in single]
            if not unknown:
                continue
            known = sum((single[i][0] for i in items if i in single), ZERO)
            single[unknown[0]] = (v - known, ref)
            imported.add(r)
            for i in unknown[1:]:
                single[i] = (ZERO, ref)
        for items, v, ref, r in found:
            d.mark(sheet, r, IMPORTED if r in imported else CHECKED)
            want = sum((single[i][0] for i in items), ZERO)
            if v != want:
                d.error("导入-核对", ref, f"“三公”经费表此处为{fmt(v)}，其各项之和为{fmt(want)}", fmt(want), fmt(v))
        all_items: list[str] = []
        for _, items in self.layout.three_public_rows:
            all_items += [i for i in items if i not in all_items]
        out = []
        for i in all_items:
            v, ref = single.get(i, (ZERO, sheet.name))
            if v < 0:
                d.error("导入-核对", ref, "“三公”经费各项之和大于其所在的合计")
                v = ZERO
            out.append(Entry({i: v}, ref))
        return out

    # ---------------------------------------------------- 收支总表, 财政拨款收支总表
    def summaries(self) -> None:
        exp = [e.data for e in self.d.expenditure]
        by_source: dict[str, Decimal] = {}
        by_class: dict[str, Decimal] = {}
        for e in exp:
            amount = sum((e.get(k, ZERO) for k in MEASURES), ZERO)
            src = e.get("source", "general")
            by_source[src] = by_source.get(src, ZERO) + amount
            by_class[e["code"][:3]] = by_class.get(e["code"][:3], ZERO) + amount
        total = sum(by_source.values(), ZERO)
        carry = sum((v for k, v in by_source.items() if k.startswith("carryover")), ZERO)
        classes = {label_key(c.name): c.code for c in self.catalog.function_classes}
        classes.update({label_key(r): None for r in self.layout.extra_rows if label_key(r) not in classes})
        self._summary(by_source, by_class, total, carry, classes)
        self._fiscal(exp, classes)

    def _check(self, o: Opened, r: int, c: int, what: str, found: Decimal, want: Decimal) -> None:
        self.d.mark(o.sheet, r, CHECKED)
        if found != want:
            self.d.error("导入-核对", o.sheet.ref(r, c), f"{o.sheet.name}：{what}为{fmt(found)}，按明细应为{fmt(want)}",
                         f"{fmt(want)}", f"{fmt(found)}")

    def _summary(self, by_source, by_class, total, carry, classes) -> None:
        o = self.opened.get("summary")
        if o is None:
            return
        d, sheet, g = self.d, o.sheet, o.grid
        income = {label_key(lbl): srcs for lbl, srcs in self.layout.income_rows}
        declared: dict[str, tuple[Decimal, int]] = {}
        for r in self.reader.data_rows(o):
            left, right = sheet.text(r, g.col("in_label")), sheet.text(r, g.col("out_label"))
            vals = self.reader.amounts(o, r, ("in_amount", "out_amount"))
            if vals is None:
                continue
            used = False
            lk, rk = label_key(left), label_key(right)
            if left:
                if lk in income:
                    srcs = income[lk]
                    want = sum((by_source.get(s, ZERO) for s in srcs), ZERO)
                    self._check(o, r, g.col("in_amount"), f"“{left}”", vals["in_amount"], want)
                    if len(srcs) == 1:
                        declared[srcs[0]] = (vals["in_amount"], r)
                    used = True
                elif lk in ("本年收入合计", "本年收入"):
                    self._check(o, r, g.col("in_amount"), f"“{left}”", vals["in_amount"], total - carry)
                    d.control_totals.append(Entry({"income": vals["in_amount"]}, sheet.ref(r, g.col("in_amount"))))
                    used = True
                elif lk.startswith(("上年结转", "年初结转")):
                    self._check(o, r, g.col("in_amount"), f"“{left}”", vals["in_amount"], carry)
                    if vals["in_amount"]:
                        d.control_totals.append(Entry({"carryover": vals["in_amount"]},
                                                      sheet.ref(r, g.col("in_amount"))))
                    used = True
                elif lk in ("收入总计", "收入合计"):
                    self._check(o, r, g.col("in_amount"), f"“{left}”", vals["in_amount"], total)
                    used = True
                elif vals["in_amount"]:
                    d.warning("导入-版式", sheet.ref(r, g.col("in_label")), f"“{left}”不是版式 {self.layout.key} "
                              f"收支总表的收入行，其金额{fmt(vals['in_amount'])}未核对（版式是否选对？）")
            if right:
                if classes.get(rk):
                    self._check(o, r, g.col("out_amount"), f"“{right}”", vals["out_amount"],
                                by_class.get(classes[rk], ZERO))
                    used = True
                elif rk in classes:  # a row of the layout with no code (人行科目)
                    self._check(o, r, g.col("out_amount"), f"“{right}”", vals["out_amount"], ZERO)
                    used = True
                elif rk in ("本年支出合计", "支出总计", "支出合计"):
                    self._check(o, r, g.col("out_amount"), f"“{right}”", vals["out_amount"], total)
                    if rk == "支出总计":
                        d.control_totals.append(Entry({"total": vals["out_amount"]}, sheet.ref(r, g.col("out_amount"))))
                    used = True
                elif rk.startswith(("年终结转", "年末结转")):
                    self._check(o, r, g.col("out_amount"), f"“{right}”", vals["out_amount"], ZERO)
                    used = True
            if not used:
                d.mark(sheet, r, IGNORED, "收支总表中无法识别的行")
        # declared income (check compares it with spending by source) when every source is expressible
        spent = {s for s, v in by_source.items() if v}
        if declared and spent <= set(declared):
            for s, (v, r) in declared.items():
                d.income.append(Entry({s: v}, sheet.ref(r, g.col("in_amount"))))

    def _fiscal(self, exp: list[dict], classes) -> None:
        o = self.opened.get("fiscal_summary")
        if o is None:
            return
        sheet, g = o.sheet, o.grid
        per: dict[str, dict[str, Decimal]] = {f: {} for f in FUNDS}
        cur = {f: ZERO for f in FUNDS}
        car = {f: ZERO for f in FUNDS}
        for e in exp:
            src = e.get("source", "general")
            amount = sum((e.get(k, ZERO) for k in MEASURES), ZERO)
            for f in FUNDS:
                if src in (f, f"carryover_{f}"):
                    per[f][e["code"][:3]] = per[f].get(e["code"][:3], ZERO) + amount
                    if src == f:
                        cur[f] += amount
                    else:
                        car[f] += amount
        fund_labels = {"一般公共预算拨款": "general", "一般公共预算财政拨款": "general",
                       "政府性基金预算拨款": "gov_fund", "政府性基金预算财政拨款": "gov_fund",
                       "国有资本经营预算拨款": "soe", "国有资本经营预算财政拨款": "soe"}
        in_carry = False
        spent = {f: sum(per[f].values(), ZERO) for f in FUNDS}
        for r in self.reader.data_rows(o):
            left, right = sheet.text(r, g.col("in_label")), sheet.text(r, g.col("out_label"))
            vals = self.reader.amounts(o, r, ("in_amount", "out_total", "general", "gov_fund", "soe"))
            if vals is None:
                continue
            lk, rk = label_key(left), label_key(right)
            used = False
            if left:
                fund = fund_labels.get(lk.replace("收入", ""))
                if fund:
                    f = fund
                    self._check(o, r, g.col("in_amount"), f"“{left}”", vals["in_amount"], car[f] if in_carry else cur[f])
                    used = True
                elif lk.startswith(("年初财政拨款结转", "上年结转")):
                    in_carry = True
                    self._check(o, r, g.col("in_amount"), f"“{left}”", vals["in_amount"], sum(car.values(), ZERO))
                    used = True
                elif lk in ("本年收入合计",):
                    self._check(o, r, g.col("in_amount"), f"“{left}”", vals["in_amount"], sum(cur.values(), ZERO))
                    used = True
                elif lk in ("收入总计",):
                    self._check(o, r, g.col("in_amount"), f"“{left}”", vals["in_amount"],
                                sum(cur.values(), ZERO) + sum(car.values(), ZERO))
                    used = True
                elif vals["in_amount"]:
                    self.d.warning("导入-版式", sheet.ref(r, g.col("in_label")), f"财政拨款收支总表的“{left}”无法识别，"
                                   f"其金额{fmt(vals['in_amount'])}未核对")
            if right:
                want: dict[str, Decimal] | None = None
                if rk in classes:
                    want = {f: per[f].get(classes[rk] or "", ZERO) for f in FUNDS}
                elif rk in ("本年支出合计", "支出总计"):
                    want = dict(spent)
                elif rk.startswith(("年末财政拨款结转", "年终结转")):
                    want = {f: ZERO for f in FUNDS}
                if want is not None:
                    for f in FUNDS:
                        if f in vals:
                            self._check(o, r, g.col(f), f"“{right}”", vals[f], want[f])
                    self._check(o, r, g.col("out_total"), f"“{right}”", vals["out_total"], sum(want.values(), ZERO))
                    used = True
            if not used:
                self.d.mark(sheet, r, IGNORED, "财政拨款收支总表中无法识别的行")

    def run(self) -> None:
        """After open_all() (the year, hence the catalog, is read from the opened tables)."""
        self.read_trees()
        self.expenditure()
        self.expenditure_totals()
        self.basic_economic()
        self.three_public()
        self.summaries()
