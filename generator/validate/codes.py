"""Rules on classification codes: known to the catalog, names as in the catalog, no duplicates."""
from __future__ import annotations

import re

from .context import Context

_PARENS = str.maketrans({"(": "（", ")": "）", " ": None, "\u3000": None})


def same_name(a: str, b: str) -> bool:
    """Names compare equal up to white space and half/full-width parentheses."""
    return a.translate(_PARENS) == b.translate(_PARENS)


def function_codes(ctx: Context) -> list:
    out = []
    names = ctx.catalog.function_names
    for i, line in enumerate(ctx.budget.expenditure):
        path = ("expenditure", i, "code")
        code = line.code
        if code[:3] not in names:
            out.append(ctx.error("科目目录", f"功能分类科目{code}：类级科目{code[:3]}不在支出功能分类目录中",
                                 path, found=code))
        elif code[:5] not in names:
            out.append(ctx.error("科目目录", f"功能分类科目{code}：所属款级科目{code[:5]}不在目录中"
                                 "（项级科目须属于已有的款）", path, found=code))
        elif code not in names:
            out.append(ctx.error("科目目录", f"功能分类科目{code}不在支出功能分类目录中；如为新增科目，请在"
                                 " schemas/catalog/function.yaml 中补充", path, found=code))
        elif line.name and not same_name(line.name, names[code]):
            out.append(ctx.error("科目名称", f"科目{code}的名称应为“{names[code]}”，实为“{line.name}”",
                                 ("expenditure", i, "name"), names[code], line.name))
    for j, p in enumerate(ctx.budget.projects):
        if p.function_code and p.function_code not in names:
            out.append(ctx.error("科目目录", f"项目“{p.name}”的功能分类科目{p.function_code}不在目录中",
                                 ("projects", j, "function_code"), found=p.function_code))
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
            out.append(ctx.error("科目目录", f"经济分类科目{code}不在部门预算支出经济分类目录中；如为新增科目，"
                                 "请在 schemas/catalog/economic.yaml 中补充", ("basic_economic", i, "code"),
                                 found=code))
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
    for i, line in enumerate(ctx.budget.basic_economic):
        if line.code in seen:
            first = ctx.at("basic_economic", seen[line.code])
            out.append(ctx.error("重复科目", f"经济分类科目{line.code}已在第{first.line}行录入：请合并为一行",
                                 ("basic_economic", i, "code")))
        else:
            seen[line.code] = i
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


RULES = (function_codes, economic_codes, duplicates, empty_lines, years)
