"""The tables after the nine schedules: project goal tables, procurement, 政府购买服务, assets,
institutions.

A project's table is a form, read by its captions (项目编码, 预算数, 资金用途, 绩效目标, the
indicator header …), not by position; the 2023-style table without amounts is kept as a
commented-out block for the clerk to complete.
"""
from __future__ import annotations

import re
from decimal import Decimal

from ..compute.annex import ASSET_ROWS
from ..money import ZERO
from .book import Sheet
from .cells import Cells, code_text
from .draft import CHECKED, IGNORED, IMPORTED, LAYOUT, Draft, Entry, fmt
from .grid import Field, find_unit, norm
from .layouts import LayoutInfo
from .recognise import Found, label_key
from .tables import TableReader

INDICATOR_HEAD = ("一级指标", "二级指标", "三级指标", "绩效指标描述", "指标值", "指标值确定依据")
MONTHS = ("3月底", "6月底", "10月底", "12月底")
_TITLE = re.compile(r"^\s*\d+\s*[、.．]\s*")


class Annex:
    def __init__(self, draft: Draft, reader: TableReader, layout: LayoutInfo):
        self.d, self.reader, self.layout = draft, reader, layout
        self.cells = Cells(draft)

    def run(self, found: list[Found]) -> None:
        self.listed: list[Entry] = []  # from a 项目支出表 (one row per project)
        self.goals: list[Entry] = []  # from a goals table with one block of rows per project
        for f in found:
            getattr(self, f.kind)(f)
        self._join_projects()

    # ------------------------------------------------- 项目支出表 and the goals table
    def project_list(self, f: Found) -> None:
        """项目支出表: one row per project with its code, 功能分类科目 and amount by source."""
        fields = (Field("code", ("项目编码", "项目代码"), required=False),
                  Field("name", ("项目名称",)),
                  Field("function", ("功能分类科目编码", "科目编码", "功能科目编码"), required=False),
                  Field("fname", ("功能分类科目名称", "科目名称"), required=False),
                  Field("total", ("合计", "预算数", "金额", "项目金额")),
                  Field("fiscal", ("财政拨款", "财政资金", "财政拨款资金"), required=False),
                  Field("other", ("其他资金",), required=False))
        o = self.reader.open(f, fields, f.sheet.name)
        if o is None:
            return
        s, g, d = o.sheet, o.grid, self.d
        for r in self.reader.data_rows(o):
            name = s.text(r, g.col("name"))
            vals = self.reader.amounts(o, r, ("total", "fiscal", "other"))
            if vals is None:
                continue
            if not name or norm(name) in ("合计", "总计"):
                d.mark(s, r, CHECKED if name else IGNORED, "" if name else "没有项目名称")
                if name:
                    d.control_totals.append(Entry({"project": vals["total"]}, s.ref(r, g.col("total"))))
                continue
            other = vals.get("other", ZERO)
            amount = vals["fiscal"] if "fiscal" in vals else vals["total"] - other
            if "fiscal" in vals and amount + other != vals["total"]:
                d.error("导入-核对", s.ref(r, g.col("total")), f"{s.name}：项目“{name}”合计{fmt(vals['total'])}，"
                        f"财政拨款与其他资金之和{fmt(amount + other)}", fmt(amount + other), fmt(vals["total"]))
            data: dict = {}
            if g.has("code") and s.text(r, g.col("code")):
                data["code"] = code_text(s.cell(r, g.col("code")).value)
            data["name"] = name
            data["amount"] = amount
            if other:
                data["other_funds"] = other
            if g.has("function") and s.text(r, g.col("function")):
                data["function_code"] = code_text(s.cell(r, g.col("function")).value)
            self.listed.append(Entry(data, s.ref(r, g.col("name"))))
            d.mark(s, r, IMPORTED)

    def _goals_table(self, f: Found) -> None:
        """A goals table with a header row (项目名称 | 年度目标 | 一级指标 …) and, under it, a block
        of rows per project (the name and goal on its first row, merged down or left blank)."""
        fields = (Field("name", ("项目名称",)),
                  Field("amount", ("预算金额", "预算数", "金额"), required=False),
                  Field("goal", ("年度目标", "绩效目标", "项目绩效目标", "年度绩效目标"), required=False)) + \
            tuple(Field(f"i{n}", (h,), required=False) for n, h in enumerate(INDICATOR_HEAD))
        o = self._open_plain(f, fields)
        if o is None:
            return
        s, g, d = o.sheet, o.grid, self.d
        current: Entry | None = None
        level1 = ""
        for r in self.reader.data_rows(o):
            name = s.text(*s.anchor(r, g.col("name")))
            if name and (current is None or s.anchor(r, g.col("name"))[0] == r):
                data: dict = {"name": name}
                if g.has("amount"):
                    amount = self.cells.money(s, r, g.col("amount"), o.unit)
                    if amount is not None:
                        data["amount"] = amount
                if g.has("goal") and s.text(r, g.col("goal")):
                    data["goals"] = [x.strip() for x in s.text(r, g.col("goal")).split("\n") if x.strip()]
                current = Entry(data, s.ref(r, g.col("name")))
                self.goals.append(current)
                level1 = ""
            if current is None:
                d.mark(s, r, IGNORED, "没有项目名称")
                continue
            row = _indicator_row(s, g, r, level1)
            if row:
                level1 = row[0]
                current.data.setdefault("indicators", []).append(row)
            d.mark(s, r, IMPORTED)

    def _join_projects(self) -> None:
        """Projects from the list, each with its goals from the goals table (by name, in order);
        a goals-table project not in the list stands alone (without an amount: left for the clerk)."""
        d = self.d
        goals = list(self.goals)
        for e in self.listed:
            match = next((gl for gl in goals if gl.data["name"] == e.data["name"]), None)
            if match is not None:
                goals.remove(match)
                stated = match.data.get("amount")
                budget = e.data["amount"] + e.data.get("other_funds", ZERO)
                if stated is not None and stated != budget:
                    d.error("导入-核对", match.origin, f"项目“{e.data['name']}”在绩效目标表中预算金额{fmt(stated)}，"
                            f"项目支出表中为{fmt(budget)}", fmt(budget), fmt(stated))
                for key in ("goals", "indicators"):
                    if key in match.data:
                        e.data[key] = match.data[key]
            known = [p for p in d.projects if p.data.get("code") and p.data.get("code") == e.data.get("code")]
            if not known:
                d.projects.append(e)
        for gl in goals:
            if any(p.data["name"] == gl.data["name"] for p in d.projects):
                continue
            (d.projects if "amount" in gl.data else d.projects_without_amount).append(gl)

    # ----------------------------------------------------------------- project
    def _right(self, s: Sheet, r: int, c: int) -> tuple[int, int]:
        """The cell right of the (possibly merged) caption at (r, c)."""
        last = c
        for r1, c1, r2, c2 in s.merged:
            if r1 <= r <= r2 and c1 <= c <= c2:
                last = c2
        return s.anchor(r, last + 1)

    def project(self, f: Found) -> None:
        s, d = f.sheet, self.d
        for r in range(min(len(s.rows), 12)):
            heads = {norm(s.text(r, c)) for c in range(s.width)}
            if "项目名称" in heads and "一级指标" in heads:
                self._goals_table(f)
                return
        captions: dict[str, tuple[int, int]] = {}
        head_row = None
        for r in range(len(s.rows)):
            texts = [norm(s.text(r, c)) for c in range(s.width)]
            if all(h in texts for h in INDICATOR_HEAD[:3]):
                head_row = r
                break
            for c, t in enumerate(texts):
                if t and t not in captions and s.anchor(r, c) == (r, c):
                    captions[t] = (r, c)
        unit, _ = find_unit(s, 3)
        unit = unit or ("万元" if any("万元" in k for k in captions) else self.reader.unit or "万元")
        title = f.title if f.title_row >= 0 else s.name
        name = _TITLE.sub("", title.strip())
        name = re.sub(r"绩效目标表$", "", name).strip()
        data: dict = {}

        def text_at(caption: str) -> tuple[str, str] | None:
            if caption not in captions:
                return None
            r, c = self._right(s, *captions[caption])
            return s.text(r, c), s.ref(r, c)

        if "项目编码" in captions:
            r, c = self._right(s, *captions["项目编码"])
            if s.text(r, c):
                data["code"] = code_text(s.cell(r, c).value)
        named = text_at("项目名称")
        data["name"] = named[0] if named and named[0] else name
        amounts: dict[str, Decimal | None] = {}
        for key, caption in (("budget", "预算数"), ("amount", "其中:财政资金"), ("other", "其他资金")):
            if caption in captions:
                r, c = self._right(s, *captions[caption])
                amounts[key] = self.cells.money(s, r, c, unit)
        if "amount" in amounts or "budget" in amounts:
            other = amounts.get("other") or ZERO
            amount = amounts.get("amount")
            given = amounts.get("budget")
            if amount is None and given is not None:
                amount = given - other
            budget = amounts.get("budget")
            if budget is not None and amount is not None and budget != amount + other:
                r, c = self._right(s, *captions["预算数"])
                d.error("导入-核对", s.ref(r, c), f"项目“{data['name']}”预算数{fmt(budget)}，财政资金与其他资金之和"
                        f"{fmt(amount + other)}", f"{fmt(amount + other)}", f"{fmt(budget)}")
            data["amount"] = amount if amount is not None else ZERO
            if other:
                data["other_funds"] = other
        purpose = text_at("资金用途")
        if purpose and purpose[0]:
            data["purpose"] = purpose[0]
        plan_row = next((r for r in range(len(s.rows)) if [norm(s.text(r, c)) for c in range(s.width)
                                                            if norm(s.text(r, c)) in MONTHS] == list(MONTHS)), None)
        if plan_row is not None:
            cols = [c for c in range(s.width) if norm(s.text(plan_row, c)) in MONTHS]
            # a blank month stays blank (null), as the model allows; it is not 0.00
            plan = [None if s.cell(plan_row + 1, c).value in (None, "")
                    else self.cells.money(s, plan_row + 1, c, unit) for c in cols]
            data["plan"] = plan
            d.mark(s, plan_row + 1, IMPORTED)
        goals = text_at("绩效目标")
        if goals and goals[0]:
            data["goals"] = [g.strip() for g in goals[0].split("\n") if g.strip()]
        indicators = []
        if head_row is not None:
            head = [norm(s.text(head_row, c)) for c in range(s.width)]
            cols = [head.index(h) if h in head else -1 for h in INDICATOR_HEAD]
            for r in range(head_row + 1, len(s.rows)):
                if s.is_blank_row(r):
                    continue
                row = [s.text(*s.anchor(r, c)) if c >= 0 else "" for c in cols]
                indicators.append(row)
                d.mark(s, r, IMPORTED)
        if indicators:
            data["indicators"] = indicators
        for r in range(len(s.rows)):
            if not s.is_blank_row(r) and (s.name, r) not in d.ledger:
                d.mark(s, r, IMPORTED if r > max(f.title_row, 0) else LAYOUT)
        entry = Entry(data, s.ref(max(f.title_row, 0)))
        if "amount" in data:
            d.projects.append(entry)
        else:
            d.projects_without_amount.append(entry)

    # ------------------------------------------------------------- procurement
    def procurement(self, f: Found) -> None:
        funds = self.layout.procurement_funds
        fields = (Field("source", ("项目名称", "政府采购项目来源"), ("政府采购项目来源",)),
                  Field("budget", ("预算资金", "项目预算资金")),
                  Field("name", ("采购物品名称", "采购品目名称", "采购项目名称")),
                  Field("catalog", ("政府采购目录序号", "采购目录序号", "政府采购目录编码", "采购目录"), required=False),
                  Field("unit", ("计量单位",), required=False),
                  Field("quantity", ("数量",)),
                  Field("price", ("单价",), required=False),
                  Field("total", ("合计", "政府采购金额"))) + \
            tuple(Field(f"fund{i}", (label,), required=False) for i, (label, _) in enumerate(funds)) + \
            (Field("sme", ("预留中小微企业份额", "预留中小企业份额", "面向中小企业预留份额"), required=False),)
        o = self.reader.open(f, fields, f.sheet.name)
        if o is None:
            return
        s, g, d = o.sheet, o.grid, self.d
        fund_keys = [f"fund{i}" for i in range(len(funds))]
        groups: list[Entry] = []
        # 小计 rows (one per unit), each followed by its items: [row, its figures, Σ its items]
        subtotals: list[list] = []
        for r in self.reader.data_rows(o):
            source = s.text(r, g.col("source"))
            item = s.text(r, g.col("name"))
            vals = self.reader.amounts(o, r, ("budget", "total", "sme", *fund_keys))
            if vals is None:
                continue
            present = [k for k in fund_keys if k in vals]
            if present and sum((vals[k] for k in present), ZERO) != vals["total"]:
                d.error("导入-核对", s.ref(r, g.col("total")), f"{s.name}：政府采购金额合计{fmt(vals['total'])}，"
                        f"各资金来源之和{fmt(sum((vals[k] for k in present), ZERO))}")
            if not item:
                if norm(source) in ("合计",):
                    d.control_totals.append(Entry({"procurement": vals["total"]}, s.ref(r, g.col("total"))))
                    d.mark(s, r, CHECKED)
                elif norm(source).endswith("小计"):
                    d.mark(s, r, CHECKED)
                    subtotals.append([r, vals, {k: ZERO for k in vals}])
                else:
                    d.mark(s, r, IGNORED, "没有采购物品名称")
                continue
            qty = self.cells.quantity(s, r, g.col("quantity"))
            if qty is None:
                continue
            nonzero = [k for k in present if vals[k]]
            if len(nonzero) > 1:
                d.error("导入-采购", s.ref(r, g.col(nonzero[1])), f"{s.name}：采购物品“{item}”的金额分在几个资金来源列，"
                        "budgetgen 每个采购物品只记一个资金来源：请拆成几行")
                continue
            fund = funds[int(nonzero[0][4:])][1][0] if nonzero else "general"
            row: dict = {"name": item}
            if g.has("catalog") and s.text(r, g.col("catalog")):
                row["catalog"] = code_text(s.cell(r, g.col("catalog")).value)
            if g.has("unit") and s.text(r, g.col("unit")):
                row["unit"] = s.text(r, g.col("unit"))
            row["quantity"] = qty
            row["amount"] = vals["total"]
            if vals.get("sme"):
                row["sme"] = vals["sme"]
            if fund != "general":
                row["fund"] = fund
            if g.has("price") and qty:
                self._check_price(o, r, item, vals["total"], qty)
            if subtotals:
                sums = subtotals[-1][2]
                for k in sums:
                    if k != "budget":
                        sums[k] += vals.get(k, ZERO)
            entry = Entry(row, s.ref(r, g.col("name")))
            last = groups[-1] if groups else None
            if last is not None and last.data["source"] == source and last.data["budget"] == vals["budget"]:
                last.data["items"].append(entry)
            else:
                groups.append(Entry({"source": source, "budget": vals["budget"], "items": [entry]},
                                    s.ref(r, g.col("source"))))
            d.mark(s, r, IMPORTED)
        d.procurement += groups
        for r, vals, sums in subtotals:
            for k, v in vals.items():
                if k != "budget" and v != sums[k]:
                    d.error("导入-核对", s.ref(r, g.col(k)), f"{s.name}：“{s.text(r, g.col('source'))}”为{fmt(v)}，"
                            f"其下各采购物品之和为{fmt(sums[k])}", fmt(sums[k]), fmt(v))

    # ------------------------------------------------------------------ 部门整体
    def department_goals(self, f: Found) -> None:
        """部门整体支出绩效目标表: the 年度总体目标 beside its caption above the table, and the
        indicator rows under the indicator header (the columns a layout leaves out stay empty;
        the 一级指标 merged down is repeated on each row). The name and budget rows above are
        the department's and the schedules' figures: checked by `check`, not imported."""
        fields = tuple(Field(f"i{n}", (h,), required=n == 0) for n, h in enumerate(INDICATOR_HEAD))
        o = self._open_plain(f, fields)
        if o is None:
            return
        s, g, d = o.sheet, o.grid, self.d
        goals: list[str] = []
        origin = s.ref(f.title_row, 0)
        for r in range(f.title_row + 1, min(g.data_start, len(s.rows))):
            for c in range(len(s.rows[r])):
                label = norm(s.text(r, c))
                if label == "年度总体目标":
                    text = s.text(*self._right(s, r, c))
                    goals = [x.strip() for x in text.split("\n") if x.strip()]
                    origin = s.ref(*self._right(s, r, c))
        indicators: list[list[str]] = []
        level1 = ""
        for r in self.reader.data_rows(o):
            row = _indicator_row(s, g, r, level1)
            if not row:
                d.mark(s, r, IGNORED, "空的指标行")
                continue
            level1 = row[0]
            indicators.append(row)
            d.mark(s, r, IMPORTED)
        if goals or indicators:
            d.department_performance = Entry({"goals": goals, "indicators": indicators}, origin)

    # ------------------------------------------------------------------ 政府购买服务
    def services(self, f: Found) -> None:
        """政府购买服务: one row per service — its name, 指导性目录 code and category, content,
        and its amount, in 合计 and in the one fund column (the layout's) that holds it; the 合计
        row is checked against the services' sum."""
        funds = self.layout.services_funds
        fields = (Field("name", ("项目名称", "服务项目名称", "购买服务项目")),
                  Field("code", ("目录代码", "指导性目录代码"), required=False),
                  Field("category", ("服务类别", "指导性目录"), required=False),
                  Field("content", ("购买服务内容",), required=False),
                  Field("total", ("合计", "金额", "预算金额"))) + \
            tuple(Field(f"fund{i}", (label,), required=False) for i, (label, _) in enumerate(funds))
        o = self.reader.open(f, fields, f.sheet.name)
        if o is None:
            return
        s, g, d = o.sheet, o.grid, self.d
        fund_keys = [f"fund{i}" for i in range(len(funds))]
        totals: list[tuple[int, dict]] = []
        found = {k: ZERO for k in ("total", *fund_keys)}
        for r in self.reader.data_rows(o):
            name = s.text(r, g.col("name"))
            vals = self.reader.amounts(o, r, ("total", *fund_keys))
            if vals is None:
                continue
            if not name or norm(name) in ("合计", "总计"):
                if name:
                    totals.append((r, vals))
                d.mark(s, r, CHECKED if name else IGNORED, "" if name else "没有项目名称")
                continue
            present = [k for k in fund_keys if k in vals and vals[k]]
            if len(present) > 1:
                d.error("导入-购买服务", s.ref(r, g.col(present[1])), f"{s.name}：“{name}”的金额分在几个"
                        "资金来源列，budgetgen 每项购买服务只记一个资金来源：请拆成几行")
                continue
            if present and vals[present[0]] != vals["total"]:
                d.error("导入-核对", s.ref(r, g.col("total")), f"{s.name}：“{name}”合计{fmt(vals['total'])}，"
                        f"资金来源列为{fmt(vals[present[0]])}", fmt(vals[present[0]]), fmt(vals["total"]))
                continue
            row: dict = {"name": name}
            for key in ("code", "category", "content"):
                if g.has(key) and s.text(r, g.col(key)):
                    row[key] = code_text(s.cell(r, g.col(key)).value) if key == "code" \
                        else s.text(r, g.col(key))
            row["amount"] = vals["total"]
            source = funds[int(present[0][4:])][1][0] if present else "other" if fund_keys else ""
            if source and source != "general":
                row["source"] = source
            if not present and fund_keys and vals["total"]:
                d.warning("导入-购买服务", s.ref(r, g.col("total")), f"{s.name}：“{name}”的金额不在任何"
                          "财政拨款列，记为其他资金（source: other），请核对")
            for k in found:
                found[k] += vals.get(k, ZERO)
            d.services.append(Entry(row, s.ref(r, g.col("name"))))
            d.mark(s, r, IMPORTED)
        for r, vals in totals:
            for k, v in vals.items():
                if v != found[k]:
                    d.error("导入-核对", s.ref(r, g.col(k)), f"{s.name}：合计为{fmt(v)}，各项购买服务之和为"
                            f"{fmt(found[k])}", fmt(found[k]), fmt(v))

    def _check_price(self, o, r: int, item: str, amount: Decimal, qty: Decimal) -> None:
        """单价 as printed = amount / quantity, to the decimals it is printed with."""
        s, g = o.sheet, o.grid
        raw = s.cell(r, g.col("price")).value
        if not isinstance(raw, Decimal):
            return
        shown = raw / 10000 if o.unit == "元" else raw
        exact = amount / qty
        if abs(shown - exact) > Decimal("0.005") + Decimal("0.000001"):
            self.d.error("导入-核对", s.ref(r, g.col("price")), f"{s.name}：“{item}”单价{raw}，而金额除以数量为"
                         f"{exact.quantize(Decimal('0.0001'))}", f"{exact.quantize(Decimal('0.0001'))}", raw)

    # ------------------------------------------------------------------ assets
    def assets(self, f: Found) -> None:
        fields = (Field("label", ("项目", "资产类别", "项目名称")), Field("quantity", ("数量",)),
                  Field("value", ("价值", "金额", "账面价值", "价值(万元)")))
        o = self.reader.open(f, fields, f.sheet.name)
        if o is None:
            return
        s, g, d = o.sheet, o.grid, self.d
        as_of, as_of_at = "", s.ref(max(f.title_row, 0))
        for r in range(g.header_start):
            for c in range(s.width):
                m = re.search(r"截止(?:时间|日期)?\s*[:：]\s*(\S+)", s.text(r, c))
                if m:
                    as_of, as_of_at = m.group(1), s.ref(r, c)
        keys = {label_key(label): key for label, key in ASSET_ROWS}
        data: dict = {"as_of": as_of}
        if not as_of:
            d.error("导入-资产", s.ref(g.header_start), f"{s.name}：表上方没有“截止时间：”")
        for r in self.reader.data_rows(o):
            label = s.text(r, g.col("label"))
            value = self.cells.money(s, r, g.col("value"), o.unit)
            if value is None:
                continue
            lk = label_key(label)
            if lk in ("资产总额", "合计", "总计"):
                d.control_totals.append(Entry({"assets": value}, s.ref(r, g.col("value"))))
                d.mark(s, r, CHECKED)
                continue
            key = keys.get(lk)
            if key is None:
                d.mark(s, r, IGNORED, f"“{label}”不是固定资产表的行")
                continue
            qty = self.cells.quantity(s, r, g.col("quantity"))
            if qty is None:
                continue
            line: dict = {}
            if qty:
                line["quantity"] = qty
            if value:
                line["value"] = value
            data[key] = line
            d.mark(s, r, IMPORTED)
        d.assets = Entry(data, as_of_at)

    # ------------------------------------------------------------ institutions
    def institutions(self, f: Found) -> None:
        fields = (Field("name", ("单位名称",)), Field("nature", ("单位性质",), required=False),
                  Field("rank", ("单位规格", "机构规格"), required=False),
                  Field("funding", ("经费保障形式", "经费形式"), required=False))
        o = self.reader.open(f, fields, f.sheet.name) if _has_unit_or_none(f.sheet) else self._open_plain(f, fields)
        if o is None:
            return
        s, g, d = o.sheet, o.grid, self.d
        for r in self.reader.data_rows(o):
            row = {k: s.text(r, g.col(k)) for k in ("name", "nature", "rank", "funding") if g.has(k)}
            if not row.get("name"):
                d.mark(s, r, IGNORED, "没有单位名称")
                continue
            d.institutions.append(Entry({k: v for k, v in row.items() if v or k == "name"}, s.ref(r, g.col("name"))))
            d.mark(s, r, IMPORTED)

    def _open_plain(self, f: Found, fields):
        """A table without amounts needs no 单位 line."""
        saved = self.reader.unit
        self.reader.unit = saved or "万元"
        try:
            return self.reader.open(f, fields, f.sheet.name)
        finally:
            self.reader.unit = saved


def _indicator_row(s: Sheet, g, r: int, level1: str) -> list[str]:
    """Row r's six indicator cells (INDICATOR_HEAD order; a column the table lacks is empty),
    its 一级指标 carried down from `level1` when merged or left blank; [] for an empty row."""
    row = [s.text(*s.anchor(r, g.col(f"i{n}"))) if g.has(f"i{n}") else "" for n in range(6)]
    if not any(row):
        return []
    row[0] = row[0] or level1
    return row


def _has_unit_or_none(sheet: Sheet) -> bool:
    return find_unit(sheet, 3)[0] is not None
