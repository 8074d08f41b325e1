"""Rules on classification codes: known to the year's catalog, names as in the catalog, codes
on lines of the right fund, no duplicates, and the codes a file adds to the catalog itself."""
from __future__ import annotations

import re

from ..catalog import FUND_LABELS, judge_supplement, load_catalog, normalize_name
from ..model import SOURCE_LABELS
from .context import Context

_ADD_HINT = "；如确为本年度科目表中的科目，可在本文件的 catalog: 一节中补充（见 docs/input-format.md）"


def same_name(a: str, b: str) -> bool:
    """Names compare equal up to white space and half/full-width parentheses."""
    return normalize_name(a) == normalize_name(b)


def _year(ctx: Context) -> str:
    year = ctx.catalog.year or ctx.budget.department.year
    return f"{year}年"


def function_codes(ctx: Context) -> list:
    out = []
    names = ctx.catalog.function_names
    y = _year(ctx)
    for i, line in enumerate(ctx.budget.expenditure):
        path = ("expenditure", i, "code")
        code = line.code
        if code[:3] not in names:
            out.append(ctx.error("科目目录", f"功能分类科目{code}：类级科目{code[:3]}不在支出功能分类目录中（{y}目录）",
                                 path, found=code))
        elif code[:5] not in names:
            out.append(ctx.error("科目目录", f"功能分类科目{code}：所属款级科目{code[:5]}不在目录中"
                                 f"（{y}目录；项级科目须属于已有的款）{_ADD_HINT}", path, found=code))
        elif code not in names:
            out.append(ctx.error("科目目录", f"功能分类科目{code}不在支出功能分类目录中（{y}目录）{_ADD_HINT}",
                                 path, found=code))
        elif line.name and not same_name(line.name, names[code]):
            out.append(ctx.error("科目名称", f"科目{code}的名称应为“{names[code]}”，实为“{line.name}”（{y}目录）",
                                 ("expenditure", i, "name"), names[code], line.name))
    for j, p in enumerate(ctx.budget.projects):
        if p.function_code and p.function_code not in names:
            out.append(ctx.error("科目目录", f"项目“{p.name}”的功能分类科目{p.function_code}不在目录中（{y}目录）",
                                 ("projects", j, "function_code"), found=p.function_code))
    return out


# a line's source → the fund its function code must belong to (None: any fund of spending
# the unit's own money may use, but not a 政府性基金 / 国有资本经营 code)
_SOURCE_FUND = {"general": "general", "carryover_general": "general",
                "gov_fund": "gov_fund", "carryover_gov_fund": "gov_fund",
                "soe": "soe", "carryover_soe": "soe"}


def fund_mismatch(ctx: Context) -> list:
    """A 政府性基金 / 国有资本经营 code on a line of another source, or the reverse."""
    out = []
    cat = ctx.catalog
    for i, line in enumerate(ctx.budget.expenditure):
        if line.code not in cat.function_names:
            continue  # reported by function_codes
        fund = cat.fund_of(line.code)
        want = _SOURCE_FUND.get(line.source.value)
        if want == fund or (want is None and fund == "general"):
            continue
        source = SOURCE_LABELS[line.source]
        name = cat.function_name(line.code)
        if want is None:
            hint = f"{FUND_LABELS[fund]}科目只能安排{FUND_LABELS[fund]}财政拨款（或其上年结转）"
        else:
            hint = (f"资金来源为{source}的支出应列{FUND_LABELS[want]}支出功能分类科目；"
                    f"如资金确属{FUND_LABELS[fund]}，请把 source 改为对应来源")
        out.append(ctx.error("科目-资金性质", f"科目{line.code}“{name}”是{FUND_LABELS[fund]}科目，"
                             f"而该行资金来源为{source}：{hint}", ("expenditure", i, "source")
                             if _has_key(ctx, i, "source") else ("expenditure", i, "code"),
                             FUND_LABELS[fund], source))
    return out


_NON_FISCAL_KINDS = (("operating", "经营支出"), ("remit", "上解上级支出"), ("subsidy", "对附属单位补助支出"))


def fiscal_kinds(ctx: Context) -> list:
    """财政拨款 (and its carryover) pays 基本支出 and 项目支出 only: 表四、表五、表七、表八 have no
    other columns, so 经营、上解上级、对附属单位补助 on such a line would vanish from them."""
    out = []
    for i, line in enumerate(ctx.budget.expenditure):
        if line.source.value not in _SOURCE_FUND:
            continue
        for key, label in _NON_FISCAL_KINDS:
            if getattr(line, key):
                out.append(ctx.error("资金来源-支出类型", f"科目{line.code}的资金来源为{SOURCE_LABELS[line.source]}"
                                     f"（财政拨款），只能安排基本支出和项目支出，不能安排{label}：{label}请列在"
                                     "单位资金（事业收入、经营收入等）的行上", ("expenditure", i, key),
                                     "0.00万元", str(getattr(line, key))))
    return out


def _has_key(ctx: Context, i: int, key: str) -> bool:
    item = ctx.doc.data.get("expenditure", [None] * (i + 1))[i] if isinstance(ctx.doc.data, dict) else None
    return isinstance(item, dict) and key in item


def supplement(ctx: Context) -> list:
    """The codes the file adds in its `catalog:` section: shape, parent, already known."""
    extra = ctx.budget.catalog
    if not extra.function and not extra.economic:
        return []
    base = load_catalog(ctx.budget.department.year)
    _, _, verdicts = judge_supplement(base, extra.function, extra.economic)
    out = []
    y = f"{base.year}年"
    for v in verdicts:
        what = "功能分类" if v.kind == "function" else "经济分类"
        entry = (extra.function if v.kind == "function" else extra.economic)[v.index]
        path = ("catalog", v.kind, v.index, "code")
        if v.status == "added":
            parent = ctx.catalog.parents(v.code)
            chain = " → ".join(f"{e.code}{e.name}" for e in parent)
            out.append(ctx.warning("科目补充", f"本文件补充了{what}科目{v.code}“{entry.name}”（{y}目录中没有；"
                                   f"上级：{chain}）：请确认编码与名称照录本年度科目表", path))
        elif v.status == "same":
            out.append(ctx.warning("科目补充", f"{what}科目{v.code}“{v.detail}”已在{y}目录中，无需补充", path))
        elif v.status == "known":
            out.append(ctx.error("科目补充", f"{what}科目{v.code}在{y}目录中的名称为“{v.detail}”，本文件补充为"
                                 f"“{entry.name}”：同一编码不能改名", ("catalog", v.kind, v.index, "name"),
                                 v.detail, entry.name))
        elif v.status == "shape":
            want = "以2开头的5位（款）或7位（项）数字" if v.kind == "function" else "以3开头的5位（款）数字"
            out.append(ctx.error("科目补充", f"补充的{what}科目编码“{v.code}”应为{want}", path, want, v.code))
        elif v.status == "parent":
            level = "类" if len(v.detail) == 3 else "款"
            out.append(ctx.error("科目补充", f"补充的{what}科目{v.code}：所属{level}级科目{v.detail}不在{y}目录中，"
                                 f"也没有在本文件中先行补充", path, found=v.code))
        elif v.status == "fund":
            out.append(ctx.error("科目补充", f"补充的项级科目{v.code}的资金性质应同所属的款（{FUND_LABELS[v.detail]}）",
                                 ("catalog", v.kind, v.index, "fund"), v.detail, getattr(entry, "fund", "")))
    return out


def unconfirmed_names(ctx: Context) -> list:
    """Codes whose catalog names could not be confirmed from a public source: say so."""
    out = []
    cat = ctx.catalog
    seen: set = set()
    for i, line in enumerate(ctx.budget.expenditure):
        for code in (line.code[:5], line.code):
            if cat.is_unconfirmed(code) and code not in seen:
                seen.add(code)
                out.append(ctx.warning("科目名称", f"科目{code}“{cat.function_name(code)}”的名称在目录中标为未经核实，"
                                       "请与本年度科目表核对", ("expenditure", i, "code")))
    for i, e in enumerate(ctx.budget.basic_economic):
        if cat.is_unconfirmed(e.code, "economic"):
            out.append(ctx.warning("科目名称", f"经济分类科目{e.code}“{cat.economic_name(e.code)}”的名称在目录中"
                                   "标为未经核实，请与本年度科目表核对", ("basic_economic", i, "code")))
    return out


def economic_codes(ctx: Context) -> list:
    out = []
    cat = ctx.catalog
    for i, line in enumerate(ctx.budget.basic_economic):
        code = line.code
        if code[:3] not in cat.economic_classes:
            out.append(ctx.error("科目目录", f"经济分类科目{code}：类级科目{code[:3]}不在经济分类目录中",
                                 ("basic_economic", i, "code"), found=code))
        elif code not in cat.economic_names:
            out.append(ctx.error("科目目录", f"经济分类科目{code}不在部门预算支出经济分类目录中{_ADD_HINT}",
                                 ("basic_economic", i, "code"), found=code))
        elif line.name and not same_name(line.name, cat.economic_names[code]):
            want = cat.economic_names[code]
            out.append(ctx.error("科目名称", f"科目{code}的名称应为“{want}”，实为“{line.name}”",
                                 ("basic_economic", i, "name"), want, line.name))
    return out


def duplicates(ctx: Context) -> list:
    out = []
    seen: dict = {}
    for i, line in enumerate(ctx.budget.expenditure):
        key = (line.code, line.source)
        if key in seen:
            first = ctx.at("expenditure", seen[key])
            out.append(ctx.error("重复科目", f"科目{line.code}（资金来源相同）已在第{first.line}行录入："
                                 "同一科目请合并为一行", ("expenditure", i, "code")))
        else:
            seen[key] = i
    seen = {}
    for i, econ in enumerate(ctx.budget.basic_economic):
        if econ.code in seen:
            first = ctx.at("basic_economic", seen[econ.code])
            out.append(ctx.error("重复科目", f"经济分类科目{econ.code}已在第{first.line}行录入：请合并为一行",
                                 ("basic_economic", i, "code")))
        else:
            seen[econ.code] = i
    return out


def empty_lines(ctx: Context) -> list:
    return [ctx.warning("空行", f"科目{line.code}的金额全为0，将不会出现在表中", ("expenditure", i))
            for i, line in enumerate(ctx.budget.expenditure) if not line.total]


_YEAR_IN_TEXT = re.compile(r"(20\d\d)年12月底")


def years(ctx: Context) -> list:
    out = []
    year = ctx.budget.department.year
    prior = ctx.budget.prior_year
    if prior is not None and prior.year is not None and prior.year != year - 1:
        out.append(ctx.error("年度", f"上年年度应为{year - 1}，实为{prior.year}", ("prior_year", "year"),
                             year - 1, prior.year))
    assets = ctx.budget.assets
    if assets is not None:
        m = re.match(r"^(\d{4})", assets.as_of.strip())
        if not m:
            out.append(ctx.error("年度", f"资产截止时间“{assets.as_of}”应写为日期，如 {year - 1}-12-31",
                                 ("assets", "as_of")))
        elif int(m.group(1)) != year - 1:
            out.append(ctx.error("年度", f"固定资产应为上年末（{year - 1}年）数，截止时间实为{assets.as_of}",
                                 ("assets", "as_of"), f"{year - 1}-12-31", assets.as_of))
    for j, p in enumerate(ctx.budget.projects):
        for k, row in enumerate(p.indicators):
            for c, cell in enumerate(row):
                for found in _YEAR_IN_TEXT.findall(cell):
                    if int(found) != year:
                        out.append(ctx.warning("年度", f"项目“{p.name}”指标“{row[2]}”写的是{found}年，"
                                               f"预算年度为{year}年", ("projects", j, "indicators", k, c),
                                               year, found))
    if prior is None:
        out.append(ctx.warning("上年数", "未填写上年预算数（prior_year），说明中不生成“比上年增减情况”",
                               ("department",)))
    return out



def catalog_year(ctx: Context) -> list:
    """A budget year without its own catalog: say which catalog was used, why, and what that
    catalog itself rests on."""
    used, year = ctx.catalog.year, ctx.budget.department.year
    if used is None or used == year:
        return []
    why = "这是最新的目录" if used < year else "这是最早的目录"
    own = next((s for s in ctx.catalog.sources if s.startswith(f"{used}年")), ctx.catalog.title or f"{used}年目录")
    return [ctx.warning("科目目录-年度", f"没有{year}年的科目目录，按{used}年目录检查（{why}）：{own}；"
                        f"{year}年科目有变动的，可在本文件的 catalog: 一节补充", ("department", "year"),
                        f"{year}年目录", f"{used}年目录")]


RULES = (function_codes, fund_mismatch, fiscal_kinds, supplement, unconfirmed_names, economic_codes, duplicates,
         empty_lines, years, catalog_year)
