"""Unfinished work: what `check` warns about and `render` refuses to publish (unless --draft).

A file is unfinished while it still holds
* a fill-in word of the starter file (generator/editions/starter.yaml names them on its
  `# budgetgen-placeholders:` line) or of its layout (the layout's `placeholders:`);
* an open item `budgetgen roll` wrote into its `review:` list;
* a 比上年 figure that changed with its 增减原因 left empty;
* a section the layout prints with nothing in it (its heading would stand alone).

Every such problem is a warning whose rule starts with 未完成 (UNFINISHED); `render` turns them
into errors (`refuse_unfinished`) unless it is asked for a draft.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from ..problems import Problem, Severity
from .context import Context
from .hygiene import _label, _printed_blocks, _strings

UNFINISHED = "未完成"
STARTER = Path(__file__).resolve().parent.parent / "editions" / "starter.yaml"
_PLACEHOLDER_LINE = re.compile(r"^# budgetgen-placeholders:(.*)$", re.M)
_VALUE_LINE = re.compile(r"^# budgetgen-placeholder-values:(.*)$", re.M)


def is_unfinished(problem: Problem) -> bool:
    return problem.rule.startswith(UNFINISHED)


def refuse_unfinished(problems: list[Problem]) -> list[Problem]:
    """`render` without --draft: every open item becomes an error saying how to go on."""
    out = []
    for p in problems:
        if is_unfinished(p) and not p.is_error:
            p = Problem(Severity.ERROR, p.rule, p.message + "（未完成的文件不能正式生成：请完成后再生成；"
                        "只想看草稿请加 --draft）", p.location, p.expected, p.found)
        out.append(p)
    return out


def _words(line: re.Pattern) -> tuple[str, ...]:
    found = line.search(STARTER.read_text(encoding="utf-8"))
    words = found.group(1).split("、") if found else []
    return tuple(w.strip() for w in words if w.strip())


@lru_cache(maxsize=1)
def starter_placeholders() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The starter file's fill-in words: (words no real text contains, values no real text
    is), as its `# budgetgen-placeholders:` and `# budgetgen-placeholder-values:` lines list them."""
    return _words(_PLACEHOLDER_LINE), _words(_VALUE_LINE)


def placeholders(ctx: Context) -> list[Problem]:
    """A text value that is, or contains, a fill-in word of the starter or of the layout."""
    contained, values = starter_placeholders()
    words = list(contained) + list(getattr(ctx.layout, "placeholders", None) or [])
    found = re.compile("|".join(re.escape(w) for w in words)) if words else None
    out = []
    for path, text in _strings(ctx.doc.data):
        if path[:1] == ("review",):
            continue
        m = found.search(text) if found is not None else None
        hit = m.group(0) if m else (text.strip() if text.strip() in values else None)
        if hit is not None:
            out.append(ctx.warning(f"{UNFINISHED}-占位文字", f"{_label(path)}：“{hit}”是起始文件或版式的占位文字，"
                                   f"还没有换成本部门的内容：{text[:40]}", path, "本部门的内容", text[:40]))
    return out


def review_items(ctx: Context) -> list[Problem]:
    """Each open item of `review:` (written by `budgetgen roll`), at its own line, naming the
    place it is about."""
    out = []
    for i, item in enumerate(ctx.budget.review):
        path = tuple(int(x) - 1 if x.isdigit() else x for x in item.at.replace("[", ".").replace("]", "")
                     .split(".") if x)
        where = ctx.at(*path) if path and item.at.strip() else None
        at = f"（{item.at}，第{where.line}行）" if where is not None and where.line else f"（{item.at}）"
        out.append(ctx.warning(f"{UNFINISHED}-待复核", f"待复核事项{at}：{item.note or '请复核'}；"
                               "核对修改后删去 review 中的这一项", ("review", i), "已复核并删去", item.at))
    return out


def reasons(ctx: Context) -> list[Problem]:
    """基本支出 / 项目支出 changed from last year with no 增减原因: the text would state a change
    without saying why. (The “三公” reasons are checked item by item with the 三公 rules.)"""
    prior = ctx.budget.prior_year
    if prior is None:
        return []
    out = []
    for key, what, now, before in (("basic", "基本支出", ctx.fig.basic, prior.basic),
                                   ("project", "项目支出", ctx.fig.project, prior.project)):
        if now != before and not getattr(prior.reasons, key).strip():
            path = ("prior_year", "reasons", key)  # or the nearest part of it the file has
            out.append(ctx.warning(f"{UNFINISHED}-增减原因", f"{what}比上年有增减（上年{before}，本年{now}），"
                                   f"但 prior_year.reasons.{key} 没有写增减原因", path, "增减原因", "空"))
    return out


# A section the layout prints → the inputs it is written from (not all of them may be empty).
_EXPECTED = ((("duties", "duties_text"), (("duties",),), "部门职责"),
             (("performance",), (("performance", "overall"), ("performance", "items"),
                                 ("performance", "measures")), "部门整体绩效目标"))
_SUBSECTIONS = ((("performance", "overall"), "总体绩效目标"), (("performance", "items"), "分项绩效目标"),
                (("performance", "measures"), "工作保障措施"))


def empty_sections(ctx: Context) -> list[Problem]:
    """A section the layout prints whose inputs are all empty would print a bare heading: it is
    unfinished. One empty part of 部门整体绩效目标 is left out of the print (heading and all)
    with a warning."""
    printed = _printed_blocks(ctx)
    b = ctx.budget
    values = {("duties",): b.duties, ("performance", "overall"): b.performance.overall,
              ("performance", "items"): b.performance.items,
              ("performance", "measures"): b.performance.measures}
    out = []
    for blocks, paths, what in _EXPECTED:
        if printed is not None and not printed & set(blocks):
            continue
        if not any(x.strip() for path in paths for x in values[path]):
            out.append(ctx.warning(f"{UNFINISHED}-空白", f"版式要印出“{what}”，但 "
                                   f"{'、'.join(_label(p) for p in paths)} 都没有内容", paths[0], "至少一段文字", "空"))
        elif blocks == ("performance",):
            for path, title in _SUBSECTIONS:
                if not any(x.strip() for x in values[path]):
                    out.append(ctx.warning("文字-空白", f"{_label(path)}（{title}）没有内容：这一小节不印出"
                                           "（连同标题）；如有内容请补上", path, "至少一段文字", "空"))
    return out


RULES = (placeholders, review_items, reasons, empty_sections)
