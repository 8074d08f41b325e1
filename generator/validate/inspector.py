"""The inspector's checks: what the 财政部 预决算公开检查 and 《地方预决算公开操作规程》
（财预〔2016〕143号）look for in a published 部门预算, each a named rule (docs/inspector-rules.md
lists them with their sources).

The rules on the printed disclosure (tables present, 空表说明, the 三公 items, placeholders and
years in the text, 机关运行经费) read the computed Disclosure; a rule finds nothing to say when
it is not given one (a department's 本级 on its own). The 三公 items hidden in other 经济分类
lines are checked in totals.py (三公-经济分类).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

from ..compute.tables import Disclosure, Heading, Paragraph, Table
from ..problems import Problem
from .context import Context, wan
from .hygiene import _strings

# 占位符 an inspector finds in a published text
_PLACEHOLDER = re.compile(r"[XＸ×]{2,}|某某|待填写|待补充|……|\.{6,}|…{2,}")
# a year in the text: not inside a document number（财预〔2016〕143号、秦财行【2024】584号）
_YEAR = re.compile(r"(?<![〔【\[（(\d])((?:19|20)\d{2})(?=年)")
_BRACKETED = re.compile(r"〔[^〕]*〕|【[^】]*】|\[[^\]]*\]")
_ADMIN = ("行政", "参公", "参照公务员")


def _disclosure(ctx: Context) -> Disclosure | None:
    return ctx.disclosure if isinstance(ctx.disclosure, Disclosure) else None


def _tables(d: Disclosure) -> Iterator[Table]:
    seen = set()
    for t in list(d.schedules) + list(d.annex_tables) + [b for s in d.sections for b in s.blocks
                                                         if isinstance(b, Table)]:
        if id(t) not in seen:
            seen.add(id(t))
            yield t


def _texts(d: Disclosure) -> Iterator[tuple[str, str]]:
    """(where, text) of every text the disclosure prints."""
    yield "标题", d.title
    yield "说明", d.intro
    for s in d.sections:
        yield s.heading, s.heading
        for b in s.blocks:
            if isinstance(b, (Heading, Paragraph)):
                yield s.heading, b.text
    for t in _tables(d):
        yield t.title, t.title
        for row in t.rows:
            for cell in row.cells:
                if isinstance(cell, str):
                    yield t.title, cell
        if t.note:
            yield t.title, t.note
    for p in d.projects:
        for text in (p.name, p.purpose, *p.goals, *(c for row in p.indicators for c in row)):
            yield p.title, text


def _edition(ctx: Context) -> tuple:
    return ("department", "edition")


def required_tables(ctx: Context) -> list[Problem]:
    """Every table the 操作规程 asks for is printed (the layout's inspection.required_tables)."""
    d = _disclosure(ctx)
    inspection = getattr(ctx.layout, "inspection", None)
    if d is None or inspection is None:
        return []
    titles = [re.sub(r"^(部门|单位)预算", "", t.title) for t in _tables(d)]
    out = []
    for name, pattern in inspection.required_tables:
        if not any(re.search(pattern, t) for t in titles):
            out.append(ctx.warning("公开检查-必备表", f"版式没有印出“{name}”（《地方预决算公开操作规程》要求公开）："
                                   "请换用包含该表的版式，或在版式中加上", _edition(ctx), name, "无"))
    return out


def _has_figures(t: Table) -> bool:
    """Any figure printed, zeros included (a table of 0.00 states zero; a blank one states nothing)."""
    money = [i for i, c in enumerate(t.columns) if c.kind in ("money", "qty", "price")]
    return any(isinstance(row.cells[i], Decimal) for row in t.rows for i in money if i < len(row.cells))


def empty_table_notes(ctx: Context) -> list[Problem]:
    """A table printed blank carries its 空表说明 (注：无…，空表列示); a table with figures does not."""
    d = _disclosure(ctx)
    if d is None:
        return []
    out = []
    for t in _tables(d):
        if not any(c.kind in ("money", "qty", "price") for c in t.columns):
            continue  # 机构设置、绩效目标表: text tables
        filled = _has_figures(t)
        if not filled and not t.note:
            out.append(ctx.warning("公开检查-空表说明", f"“{t.title}”没有数字，却没有空表说明（如“注：无…，空表列示。”）："
                                   "请在版式中为该表写 empty_note", _edition(ctx), "空表说明", "无"))
        if filled and t.note and "空表" in t.note:
            out.append(ctx.error("公开检查-空表说明", f"“{t.title}”有数字，却印着空表说明“{t.note}”",
                                 _edition(ctx), "无空表说明", t.note))
    return out


# each 三公 item the table must show on a row (or column) of its own: (name, items of that row)
_THREE_PUBLIC = (("因公出国（境）费", {"overseas", "overseas_research"}), ("公务用车购置费", {"vehicle_purchase"}),
                 ("公务用车运行维护费", {"vehicle_operation"}), ("公务接待费", {"reception"}))


def _specs(node: object, kind: str) -> Iterator[dict]:
    """Every table spec of `kind` in a layout (as plain data), in its tables or its sections."""
    if isinstance(node, dict):
        if node.get("kind") == kind:
            yield node
        for v in node.values():
            yield from _specs(v, kind)
    elif isinstance(node, list):
        for v in node:
            yield from _specs(v, kind)


def three_public_items(ctx: Context) -> list[Problem]:
    """The 三公 table shows every item on a row (or column) of its own, 公务用车 split into 购置
    and 运行维护 — read from the layout's table spec, whatever its labels say."""
    if ctx.layout is None or not hasattr(ctx.layout, "model_dump"):
        return []
    out = []
    for spec in _specs(ctx.layout.model_dump(warnings=False), "three_public"):
        shown = [set(r["items"]) for r in list(spec.get("rows") or []) + list(spec.get("across") or [])]
        missing = [name for name, items in _THREE_PUBLIC if not any(row and row <= items for row in shown)]
        if missing:
            out.append(ctx.warning("公开检查-三公", f"版式的“{spec.get('title')}”没有单列{'、'.join(missing)}（“三公”经费"
                                   "应分项列示，公务用车分列购置费与运行维护费）", _edition(ctx), "各项分列",
                                   "缺" + "、".join(missing)))
    return out


def unit_nature(budget) -> str:
    """行政/参公/事业…: department.nature, else the first institution's 单位性质."""
    if budget.department.nature:
        return str(budget.department.nature)
    first = budget.institutions[0].nature.strip() if budget.institutions else ""
    return first


def running_costs(ctx: Context) -> list[Problem]:
    """机关运行经费 is stated for 行政 and 参公 units, and only for them."""
    d = _disclosure(ctx)
    if d is None:
        return []
    nature = unit_nature(ctx.budget)
    stated = any("机关运行经费" in text and re.search(r"\d", text)
                 for where, text in _texts(d) if "名词解释" not in where)
    path = ("department", "nature") if ctx.budget.department.nature else ("institutions", 0, "nature")
    if not nature:
        return []
    admin = any(w in nature for w in _ADMIN)
    if admin and not stated:
        return [ctx.warning("公开检查-机关运行经费", f"单位性质为“{nature}”（行政、参公单位应公开机关运行经费），"
                            "说明中却没有机关运行经费的数额：请换用有“机关运行经费”一节的版式", path, "机关运行经费", "无")]
    if not admin and stated:
        return [ctx.warning("公开检查-机关运行经费", f"单位性质为“{nature}”：机关运行经费只对行政、参公单位列示，"
                            "事业单位应说明不涉及机关运行经费（单位类型写在 department.nature）", path,
                            "不列机关运行经费", "列示")]
    return []


_KINDS = {"A": "货物", "B": "工程", "C": "服务"}


def procurement_kinds(ctx: Context) -> list[Problem]:
    """政府采购 total = 货物 + 工程 + 服务: every item's kind is known from its 政府采购品目分类目录
    code (A 货物, B 工程, C 服务), so the split adds up to the total."""
    out = []
    split = {k: Decimal(0) for k in _KINDS.values()}
    unknown = Decimal(0)
    for i, group in enumerate(ctx.budget.procurement):
        for j, item in enumerate(group.items):
            kind = _KINDS.get(item.catalog.strip()[:1].upper())
            if kind is None:
                unknown += item.amount
                out.append(ctx.warning("公开检查-政府采购", f"采购品目“{item.name}”的目录序号“{item.catalog}”不以 A（货物）、"
                                       "B（工程）、C（服务）开头：无法分出货物、工程、服务，政府采购预算总额 ≠ 三者之和",
                                       ("procurement", i, "items", j, "catalog"), "A…、B…或C…", item.catalog))
            else:
                split[kind] += item.amount
    total = sum((item.amount for g in ctx.budget.procurement for item in g.items), Decimal(0))
    if unknown == 0 and sum(split.values(), Decimal(0)) != total:  # pragma: no cover - by construction
        out.append(ctx.error("公开检查-政府采购", f"政府采购预算{wan(total)} ≠ 货物、工程、服务之和", ("procurement",)))
    return out


def project_goals(ctx: Context) -> list[Problem]:
    """Every project (of at least the layout's inspection.goals_from) has its 绩效目标: goals,
    indicators and a 满意度 row. A project with neither goals nor indicators is unfinished: its
    绩效目标表 would print empty."""
    inspection = getattr(ctx.layout, "inspection", None)
    floor = inspection.goals_from if inspection is not None else Decimal(0)
    if floor is None:
        return []
    out = []
    for j, p in enumerate(ctx.budget.projects):
        if p.budget < floor:
            continue
        goals = any(g.strip() for g in p.goals)
        if not goals and not p.indicators:
            out.append(ctx.warning("未完成-绩效目标", f"项目“{p.name}”没有绩效目标，也没有绩效指标：绩效目标表会印成空表",
                                   ("projects", j), "绩效目标与指标", "无"))
            continue
        missing = []
        if not goals:
            missing.append("绩效目标（goals）")
        if not p.indicators:
            missing.append("绩效指标（indicators）")
        elif not any("满意度" in (row[0] + row[1]) for row in p.indicators):
            missing.append("满意度指标")
        if missing:
            out.append(ctx.warning("公开检查-绩效目标", f"项目“{p.name}”缺少{'、'.join(missing)}（项目支出应全部设置绩效目标）",
                                   ("projects", j), "、".join(missing), "无"))
    return out


def placeholders_in_text(ctx: Context) -> list[Problem]:
    """No placeholder (XX, ××, 某某, 待填写, ……) anywhere in the printed text; text typed in the
    file is located in the file (hygiene says so too), the layout's text at department.edition."""
    d = _disclosure(ctx)
    if d is None:
        return []
    texts = [(where, text) for where, text in _texts(d) if text]
    if not _PLACEHOLDER.search("\n".join(text for _, text in texts)):
        return []  # the usual case: one search over all of it
    typed: set[str] | None = None
    out, seen = [], set()
    for where, text in texts:
        m = _PLACEHOLDER.search(text or "")
        if not m:
            continue
        if typed is None:
            typed = {t for _, t in _strings(ctx.doc.data)}
        if text in typed or text in seen:
            continue
        seen.add(text)
        out.append(ctx.warning("公开检查-占位符", f"{where}中有占位文字“{m.group(0)}”：{text[:40]}",
                               _edition(ctx), "实际内容", m.group(0)))
    return out


def years_in_text(ctx: Context) -> list[Problem]:
    """Only the budget year and the year before appear in the text (a year left over from an
    older file is the commonest slip); document numbers 〔2016〕 are not years of the text."""
    d = _disclosure(ctx)
    if d is None:
        return []
    y = ctx.budget.department.year
    allowed = {y, y - 1}
    strings: list[tuple[tuple, str]] | None = None  # read only when a stray year is found
    out, seen = [], set()
    for where, text in _texts(d):
        if not text or "年" not in text:
            continue
        for m in _YEAR.finditer(_BRACKETED.sub("", text)):
            year = int(m.group(1))
            if year in allowed or (text, year) in seen:
                continue
            seen.add((text, year))
            if strings is None:
                strings = list(_strings(ctx.doc.data))
            # the typed text it comes from (the paragraph itself, or a name quoted in it)
            path = next((p for p, t in strings if t == text), None) or next(
                (p for p, t in strings if f"{year}年" in t and t in text), _edition(ctx))
            out.append(ctx.warning("公开检查-年度", f"{where}中出现{year}年：{y}年预算公开的文字只应有{y}年和{y - 1}年"
                                   f"（是否沿用了旧文件？）：{text[:40]}", path, f"{y}年或{y - 1}年", f"{year}年"))
    return out


RULES = (required_tables, empty_table_notes, three_public_items, running_costs, procurement_kinds,
         project_goals, placeholders_in_text, years_in_text)
# the rules on the printed disclosure (a department with 所属单位: on the consolidated one)
PRINTED_RULES = (required_tables, empty_table_notes, three_public_items, running_costs,
                 placeholders_in_text, years_in_text)
