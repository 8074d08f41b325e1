"""Layouts as data: a province's disclosure layout is a YAML file, read and checked here.

A layout file (built-in ones live in generator/layouts/) names the tables in order — each a
*kind* that compute/ knows how to build, with its number, title, columns and fixed rows — the
explanatory sections with their headings and text templates, the unit, the glossary and the
numbering styles. This module only reads and validates the file, with located Chinese errors
(the same marked-tree loader as department files); compute/ builds what it says. Nothing in
the code depends on which layout it is.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from . import sentences
from .loader import RawDoc, load_file
from .model import ProcurementFund, Source, ThreePublicItems
from .problems import Location, Problem, error, warning

LAYOUT_DIR = Path(__file__).resolve().parent / "layouts"
LAYOUT_SUFFIXES = (".yaml", ".yml")

# What a fund list may name: a 资金来源 of the department file, or a group of them.
SOURCES = tuple(s.value for s in Source)
FUND_GROUPS = {
    "all": SOURCES,
    "fiscal": ("general", "gov_fund", "soe"),
    "unit": ("institution", "operating", "superior", "affiliate", "other"),
    "current": tuple(s for s in SOURCES if not s.startswith("carryover")),
    "carryover": ("carryover_general", "carryover_gov_fund", "carryover_soe", "carryover_other"),
    "carryover_fiscal": ("carryover_general", "carryover_gov_fund", "carryover_soe"),
}
MEASURES = ("basic", "project", "operating", "remit", "subsidy")
PROCUREMENT_FUNDS = tuple(f.value for f in ProcurementFund)
THREE_PUBLIC_ITEMS = tuple(ThreePublicItems.model_fields)
Unit = Literal["万元", "元"]
INDICATOR_COLUMNS = ("一级指标", "二级指标", "三级指标", "绩效指标描述", "指标值", "指标值确定依据")

# Placeholders a text template may use. {资金:a+b} sums 资金来源 (or groups), {占比:名称} is a
# figure's share of 支出合计 in per cent, {项目列表} lists the projects (see `project_list`).
PLACEHOLDERS = {
    "部门", "编码", "年度", "上年", "单位", "收入合计", "支出合计", "基本支出", "项目支出",
    "人员经费", "公用经费", "三公经费", "采购合计", "中小企业份额", "资产总额", "拟购置资产",
    "资产截止", "购买服务合计", "项目个数", "项目列表", "经营支出", "上缴上级支出",
    "对附属单位补助支出", "上年结转",
}
SHARE_OF = {"基本支出", "项目支出", "人员经费", "公用经费", "经营支出", "三公经费"}
FIELD = re.compile(r"\{([^{}:]*)(?::([^{}]*))?\}")
_NUMBER_STYLE = re.compile(r"\{(一|1)\}")


def template_fields(text: str) -> list[tuple[str, str | None]]:
    """The {name} and {name:argument} fields of a template, in order."""
    return [(m.group(1), m.group(2)) for m in FIELD.finditer(text)]


def check_template(text: str, allowed: set[str] | None = None) -> str:
    """Raise ValueError (Chinese) for an unknown placeholder or a stray brace."""
    allowed = PLACEHOLDERS if allowed is None else allowed
    if sentences.is_template(text):
        raise ValueError("这里只做查找替换，只能用 {占位符}；带 {{ }} 或 {% %} 的句子模板请写成内容项 "
                         "{template: …}（见 docs/layouts.md“句子模板”）")
    for name, arg in template_fields(text):
        if name == "资金":
            for part in (arg or "").split("+"):
                if part.strip() not in SOURCES and part.strip() not in FUND_GROUPS:
                    raise ValueError(f"“{{资金:{arg}}}”中的“{part}”不是资金来源；可用："
                                     f"{'、'.join(SOURCES + tuple(FUND_GROUPS))}")
        elif name == "占比":
            if arg not in SHARE_OF:
                raise ValueError(f"“{{占比:{arg}}}”无效：可计算占比的有 {'、'.join(sorted(SHARE_OF))}")
        elif name not in allowed or arg is not None:
            raise ValueError(f"未知的占位符“{{{name}{':' + arg if arg is not None else ''}}}”；"
                             f"可用：{'、'.join(sorted(allowed))}、{{资金:…}}、{{占比:…}}")
    rest = FIELD.sub("", text)
    if "{" in rest or "}" in rest:
        raise ValueError("花括号不成对：占位符应写作 {名称}")
    return text


def number_label(style: str, n: int) -> str:
    """'{一}、' → 一、, '（{一}）' → （一）, '{1}.' → 1., '表{1}' → 表1."""
    from .catalog import cn_number
    return _NUMBER_STYLE.sub(lambda m: cn_number(n) if m.group(1) == "一" else str(n), style)


def _check_style(text: str) -> str:
    if text and not _NUMBER_STYLE.search(text):
        raise ValueError(f"编号样式“{text}”中应有 {{一}}（汉字数字）或 {{1}}（阿拉伯数字）")
    return text


def _funds(values: list[str], allowed=SOURCES + tuple(FUND_GROUPS)) -> list[str]:
    for v in values:
        if v not in allowed:
            raise ValueError(f"“{v}”不是资金来源；可用：{'、'.join(allowed)}")
    return values


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Template = Annotated[str, Field(min_length=1)]


# --------------------------------------------------------------------------- tables

class FundRow(_Strict):
    """A labelled row or column that sums 资金来源."""
    label: str
    funds: list[str]

    @field_validator("funds")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        return _funds(v)


class ProcurementColumn(_Strict):
    label: str
    funds: list[str]

    @field_validator("funds")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        return _funds(v, PROCUREMENT_FUNDS)


class AmountColumn(_Strict):
    """A money column of a function-classification table: lines from `funds`, `measures` summed."""
    label: str
    funds: list[str] = ["all"]
    measures: list[str] = list(MEASURES)

    @field_validator("funds")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        return _funds(v)

    @field_validator("measures")
    @classmethod
    def _measures(cls, v: list[str]) -> list[str]:
        for m in v:
            if m not in MEASURES:
                raise ValueError(f"“{m}”不是支出类型；可用：{'、'.join(MEASURES)}")
        return v


class ColumnGroup(_Strict):
    """Columns under one spanning header cell (e.g. 本年收入)."""
    group: str
    columns: list[AmountColumn] = Field(min_length=1)


class ThreePublicRow(_Strict):
    label: str
    items: list[str]
    level: int = Field(1, ge=0, le=2)

    @field_validator("items")
    @classmethod
    def _items(cls, v: list[str]) -> list[str]:
        for i in v:
            if i not in THREE_PUBLIC_ITEMS:
                raise ValueError(f"“{i}”不是“三公”经费项目；可用：{'、'.join(THREE_PUBLIC_ITEMS)}")
        return v


class Widths(_Strict):
    name: float = Field(22, gt=0)
    money: float = Field(9, gt=0)


class _Table(_Strict):
    title: str = Field(min_length=1)
    number: str | None = None  # the label in the 目录; default from numbering.tables
    sheet: str = ""  # workbook sheet name; default the title
    meta: list[Template] | None = None  # the line above the table; default the layout's
    landscape: bool = False
    empty_note: str | None = None  # printed when the table has no rows
    notes: list[str] = []  # 注 lines under the table
    unit: Unit | None = None  # this table's amounts and {单位}; default the layout's `unit`

    @field_validator("meta")
    @classmethod
    def _meta(cls, v):
        for t in v or ():
            check_template(t)
        return v


class SummaryTable(_Table):
    """收支总表: income rows on the left, expenditure by function class on the right."""
    kind: Literal["summary"]
    income_rows: list[FundRow] = Field(min_length=1)
    # rows the province's form prints after the 类 on the expenditure side (Hebei: 人行科目);
    # they are this layout's rows, not 类 of the catalog, and carry no amount
    extra_rows: list[Annotated[str, Field(min_length=1)]] = []


class FunctionTable(_Table):
    """A 类/款/项 function-classification tree, its lines from `funds`, amounts in `columns`."""
    kind: Literal["function"]
    funds: list[str] = ["all"]
    columns: list[Annotated[Annotated[AmountColumn, Tag("column")] | Annotated[ColumnGroup, Tag("group")],
                            Discriminator(lambda v: "group" if isinstance(v, dict) and "group" in v
                                          or isinstance(v, ColumnGroup) else "column")]] = \
        Field(min_length=1)
    widths: Widths = Widths(name=22, money=9)
    lanci: bool = True  # the 栏次 row under the header

    @field_validator("funds")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        return _funds(v)


class FiscalSummaryTable(_Table):
    """财政拨款收支总表."""
    kind: Literal["fiscal_summary"]
    extra_rows: list[Annotated[str, Field(min_length=1)]] = []  # as in the 收支总表


class EconomicTable(_Table):
    """一般公共预算财政拨款基本支出 by economic classification (类/款)."""
    kind: Literal["economic"]


class ThreePublicTable(_Table):
    """财政拨款“三公”经费: `rows` down the page, or one row `across` the page."""
    kind: Literal["three_public"]
    rows: list[ThreePublicRow] = []
    across: list[ThreePublicRow] = []
    # a 机关运行经费 row (or column, across) after the 三公 items, labelled so (Shanghai's
    # “三公”经费和机关运行经费预算表); its amount is the 公用经费 of 一般公共预算基本支出
    operating: str | None = None

    @model_validator(mode="after")
    def _one(self):
        if bool(self.rows) == bool(self.across):
            raise ValueError("“三公”经费表应写 rows（逐行列示）或 across（一行横列）中的一个")
        return self


class ProjectListTable(_Table):
    """项目支出表: each project with its amount by source."""
    kind: Literal["projects"]


class ProcurementTable(_Table):
    """政府采购预算明细."""
    kind: Literal["procurement"]
    funds: list[ProcurementColumn] = Field(min_length=1)


class ServicesTable(_Table):
    """政府购买服务预算财政拨款明细表."""
    kind: Literal["services"]
    funds: list[FundRow] = Field(min_length=1)


class ProjectGoalsTable(_Table):
    """项目支出绩效目标表 as one table: each project's goal and indicators."""
    kind: Literal["project_goals"]
    indicators: list[str] = list(INDICATOR_COLUMNS)

    @field_validator("indicators")
    @classmethod
    def _columns(cls, v: list[str]) -> list[str]:
        return _indicator_columns(v)


class DepartmentGoalsTable(_Table):
    """部门整体支出绩效目标表."""
    kind: Literal["department_goals"]
    indicators: list[str] = list(INDICATOR_COLUMNS)

    @field_validator("indicators")
    @classmethod
    def _columns(cls, v: list[str]) -> list[str]:
        return _indicator_columns(v)


class AssetsTable(_Table):
    """部门固定资产占用情况表."""
    kind: Literal["assets"]


class InstitutionsTable(_Table):
    """部门机构设置情况."""
    kind: Literal["institutions"]


def _indicator_columns(v: list[str]) -> list[str]:
    for c in v:
        if c not in INDICATOR_COLUMNS:
            raise ValueError(f"“{c}”不是指标列；可用：{'、'.join(INDICATOR_COLUMNS)}")
    if not v:
        raise ValueError("至少列一个指标列")
    return v


TABLE_KINDS = {"summary": "收支总表", "function": "按功能分类科目的表（收入总表、支出总表、各类资金支出表）",
               "fiscal_summary": "财政拨款收支总表", "economic": "一般公共预算财政拨款基本支出表",
               "three_public": "“三公”经费支出表", "projects": "项目支出表",
               "procurement": "政府采购预算明细表", "services": "政府购买服务预算财政拨款明细表",
               "project_goals": "项目支出绩效目标表", "department_goals": "部门整体支出绩效目标表",
               "assets": "固定资产占用情况表", "institutions": "机构设置情况表"}

TableSpec = Annotated[SummaryTable | FunctionTable | FiscalSummaryTable | EconomicTable | ThreePublicTable | ProjectListTable | ProcurementTable | ServicesTable | ProjectGoalsTable | DepartmentGoalsTable | AssetsTable | InstitutionsTable,
                      Field(discriminator="kind")]


# --------------------------------------------------------------------------- text

BLOCKS = {
    "duties": "部门职责与机构设置（职责段落、机构设置表）",
    "duties_text": "部门职责段落（不含机构表）",
    "institutions": "机构设置表",
    "versus_prior": "比上年增减情况（需 prior_year）",
    "operating": "机关运行经费",
    "three_public": "“三公”经费预算及增减",
    "performance": "部门整体绩效目标（三个小标题）",
    "projects": "各项目绩效目标表",
    "special_funds": "部门主管专项资金",
    "assets": "国有资产说明与固定资产表",
    "glossary": "名词解释",
    "other": "其他需要说明的事项",
    "composition": "单位构成（部门文件 composition）",
}
# blocks whose wording a layout may replace with `template:` (a sentence template over the
# context of generator/sentences.py); the others print the clerk's own paragraphs or a table
TEMPLATE_BLOCKS = ("versus_prior", "operating", "three_public", "assets", "projects",
                   "special_funds", "composition")


def check_sentence(text: str, block: str = "") -> str:
    """A Jinja2 sentence template, checked (sentences.TemplateProblem when refused)."""
    sentences.check(text, block)
    return text


def _check_block(v: str) -> str:
    if v not in BLOCKS:
        raise ValueError(f"未知的内容块“{v}”；可用：{'、'.join(BLOCKS)}")
    return v


class ProjectList(_Strict):
    """How {项目列表} lists the projects (grouped by name without a trailing tag such as （RY））."""
    item: Template = "{名称}{金额}{单位}"
    separator: str = "，"
    prefix: str = ""  # before the list (omitted with the list when there are no projects)

    @field_validator("item")
    @classmethod
    def _item(cls, v: str) -> str:
        return check_template(v, {"名称", "金额", "单位"})


class TextItem(_Strict):
    """A paragraph from a template: the figures come from the model."""
    text: Template
    indent: bool = True
    project_list: ProjectList = ProjectList()

    @field_validator("text")
    @classmethod
    def _template(cls, v: str) -> str:
        return check_template(v)


class TemplateItem(_Strict):
    """Paragraphs from a Jinja2 sentence template (conditions, lists; see generator/sentences.py):
    a blank line of its output separates paragraphs; no output, no paragraph."""
    template: Annotated[str, Field(min_length=1)]
    indent: bool = True

    @field_validator("template")
    @classmethod
    def _checked(cls, v: str) -> str:
        return check_sentence(v)


class BlockItem(_Strict):
    """A block of generated text (see BLOCKS)."""
    block: str
    format: Literal["full", "goals"] = "full"  # projects: the 2025 form or goals only
    numbering: str = "（{一}）"  # performance: its three headings
    level: int = Field(2, ge=2, le=3)
    table: bool = True  # assets: with the table
    template: str | None = None  # the block's wording (TEMPLATE_BLOCKS), instead of the default
    headings: list[Template] | None = Field(None, min_length=3, max_length=3)  # performance

    @field_validator("block")
    @classmethod
    def _known(cls, v: str) -> str:
        return _check_block(v)

    @model_validator(mode="after")
    def _wording(self):
        if self.template is not None:
            if self.block not in TEMPLATE_BLOCKS:
                raise sentences.TemplateProblem(
                    f"内容块“{self.block}”的文字不能用 template 改写；可改写的有：{'、'.join(TEMPLATE_BLOCKS)}",
                    key="block")
            try:
                sentences.check(self.template, self.block)
            except sentences.TemplateProblem as exc:
                exc.key = "template"
                raise
        if self.headings is not None:
            if self.block != "performance":
                raise ValueError("headings 只用于 performance 块（三个小标题）")
            for heading in self.headings:
                check_template(heading)
        return self

    @field_validator("numbering")
    @classmethod
    def _style(cls, v: str) -> str:
        return _check_style(v)


class TableItem(_Strict):
    """A table inside the text (printed with its title as caption; also a workbook sheet)."""
    table: TableSpec
    caption: bool = True


def _content_tag(v: Any) -> str:
    if isinstance(v, str):
        return "name"
    if isinstance(v, dict):
        for key, tag in (("text", "text"), ("block", "block"), ("template", "template"),
                         ("table", "table"), ("heading", "sub")):
            if key in v:
                return tag
        return "unknown"
    return type(v).__name__


class Subsection(_Strict):
    """A numbered heading with its own content (（一）…, 1、…)."""
    heading: Template
    content: list[Content] = Field(min_length=1)
    numbering: str | None = None  # default: numbering.subsections
    level: int = Field(2, ge=2, le=3)
    keep_empty: bool = False  # print the heading even when its content is empty

    @field_validator("heading")
    @classmethod
    def _template(cls, v: str) -> str:
        return check_template(v)

    @field_validator("numbering")
    @classmethod
    def _style(cls, v):
        return v if v is None else _check_style(v)


BlockName = Annotated[str, AfterValidator(_check_block)]

Content = Annotated[Annotated[BlockName, Tag("name")] | Annotated[TextItem, Tag("text")] | Annotated[TemplateItem, Tag("template")] | Annotated[BlockItem, Tag("block")] | Annotated[TableItem, Tag("table")] | Annotated[Subsection, Tag("sub")],
                    Discriminator(_content_tag, custom_error_type="content_kind",
                                  custom_error_message="内容项应为内容块名、{block: …}、{text: …}、"
                                  "{template: …}、{table: …} 或 {heading: …, content: […]}")]
Subsection.model_rebuild()


class Section(_Strict):
    heading: Template
    key: str = ""  # an anchor name (default: its position)
    content: list[Content] = []

    @field_validator("heading")
    @classmethod
    def _template(cls, v: str) -> str:
        return check_template(v)


class Numbering(_Strict):
    tables: str = "{一}、"  # a table's label in the 目录
    sections: str = "{一}、"
    subsections: str = "（{一}）"

    @field_validator("tables", "sections", "subsections")
    @classmethod
    def _style(cls, v: str) -> str:
        return _check_style(v)


class Parts(_Strict):
    tables: Template = "部门预算公开表"
    text: Template = "部门预算信息公开情况说明"

    @field_validator("tables", "text")
    @classmethod
    def _template(cls, v: str) -> str:
        return check_template(v)


class TextAmounts(_Strict):
    """How the 情况说明 prints amounts (the tables are not affected)."""
    decimals: int | None = Field(None, ge=0, le=4)  # default: the layout's `decimals`
    zero: str | None = None  # how a zero prints, e.g. "0" for “0万元”; default like any amount
    trim: bool = False  # drop trailing zeros of the decimals: 2752.80 → 2752.8, 0.00 → 0


DEFAULT_INCOME_SOURCES = (
    ("一般公共预算拨款收入", ["general"]), ("政府性基金预算拨款收入", ["gov_fund"]),
    ("国有资本经营预算拨款收入", ["soe"]), ("财政专户管理资金收入", ["special_account"]),
    ("事业收入", ["institution"]), ("事业单位经营收入", ["operating"]), ("上级补助收入", ["superior"]),
    ("附属单位上缴收入", ["affiliate"]), ("其他收入", ["other"]), ("上年结转结余", ["carryover"]))


# the tables 《地方预决算公开操作规程》（财预〔2016〕143号）asks of a 部门预算 disclosure: (name, a
# regular expression its title matches)
REQUIRED_TABLES = [
    ("部门收支总表", r"^(部门预算)?收支总表$"),
    ("部门收入总表", r"收入总表$"),
    ("部门支出总表", r"^(部门预算)?支出总表$"),
    ("财政拨款收支总表", r"财政拨款收支总表$"),
    ("一般公共预算支出表", r"一般公共预算(财政拨款)?支出表$"),
    ("一般公共预算基本支出表", r"一般公共预算(财政拨款)?基本支出表$"),
    ("一般公共预算“三公”经费支出表", r"[“\"]三公[”\"]经费(支出)?(预算)?表$"),
    ("政府性基金预算支出表", r"政府性?基金预算(财政拨款)?支出表$"),
]


class Inspection(_Strict):
    """What the 预决算公开检查 asks of a disclosure in this layout (docs/inspector-rules.md)."""
    required_tables: list[tuple[Annotated[str, Field(min_length=1)], Annotated[str, Field(min_length=1)]]] = \
        REQUIRED_TABLES  # (name, title pattern)
    # projects whose 预算数 is at least this many 万元 need a 绩效目标 (goals, indicators and a 满意度
    # row); null: the layout asks for none
    goals_from: Decimal | None = Field(Decimal(0), ge=0)

    @field_validator("required_tables")
    @classmethod
    def _patterns(cls, v: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for name, pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"required_tables 中“{name}”的表题模式无效：{exc}") from None
        return v


class Layout(_Strict):
    """One disclosure layout, as read from its file."""
    model_config = ConfigDict(extra="forbid", frozen=True, title="budgetgen 版式文件")
    key: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str = Field(min_length=1)
    follows: list[str] = []  # the published documents this layout reproduces
    # the family a key such as `beijing` names, and the budget years this file is for: the
    # family's file whose `years` hold the department file's year is the one used
    family: str = Field("", pattern=r"^([A-Za-z0-9][A-Za-z0-9_.-]*)?$")
    years: list[Annotated[int, Field(ge=2000, le=2100)]] = []
    unit: Unit = "万元"  # the tables' unit (a table may set its own)
    text_unit: Unit | None = None  # the 情况说明's amounts; default `unit`
    decimals: int = Field(2, ge=0, le=4)
    rounding_note: str | None = None
    order: Literal["tables_first", "text_first"] = "tables_first"
    title: Template = "{部门}{年度}年部门预算公开"
    parts: Parts = Parts()
    intro: str = ""
    numbering: Numbering = Numbering()
    meta: list[Template] = ["{编码}{部门}", "预算年度：{年度}", "单位：{单位}"]
    tables: list[TableSpec] = Field(min_length=1)
    sections: list[Section] = Field(min_length=1)
    glossary: list[str] = []
    other_notes: list[str] = ["我部门无其他需要说明的事项。"]
    special_funds: str = "{部门}无专项资金项目预算"
    # what a 单位预算 (a 所属单位's own disclosure) says instead: each pair replaces, in this
    # order, the layout's word by the unit's in the layout's own texts (titles, headings,
    # prose, notes), never in what the department file typed (names, duties, goals)
    unit_wording: list[tuple[Annotated[str, Field(min_length=1)], str]] = [("部门预算", "单位预算")]
    text_amounts: TextAmounts = TextAmounts()
    # the income sources the text's 收入列表 lists, in order, zeros included
    income_sources: list[FundRow] = Field(
        [FundRow(label=label, funds=funds) for label, funds in DEFAULT_INCOME_SOURCES], min_length=1)
    # fill-in words of this layout's own starter texts: a department file holding one is
    # unfinished (check warns, render refuses without --draft)
    placeholders: list[Annotated[str, Field(min_length=1)]] = []
    inspection: Inspection = Inspection()

    @field_validator("title", "intro", "special_funds")
    @classmethod
    def _template(cls, v: str) -> str:
        return check_template(v)

    @field_validator("meta")
    @classmethod
    def _meta(cls, v: list[str]) -> list[str]:
        for t in v:
            check_template(t)
        return v

    @field_validator("sections")
    @classmethod
    def _unique_keys(cls, v: list[Section]) -> list[Section]:
        keys = [s.key for s in v if s.key]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"节的 key 重复：{'、'.join(twice)}（每节的 key 应不同）")
        return v

    @model_validator(mode="after")
    def _family(self):
        if bool(self.family) != bool(self.years):
            raise ValueError("family 与 years 应同时写：family 是版式系列名（如 beijing），"
                             "years 是本文件适用的预算年度（如 [2026]）")
        return self

    @property
    def table_count(self) -> int:
        return len(self.tables)

    @property
    def units(self) -> str:
        """The units the document prints, as a short phrase: 万元, or 表：元；说明：万元."""
        tables = list(dict.fromkeys(t.unit or self.unit for t in self.tables))
        text = self.text_unit or self.unit
        if tables == [text]:
            return text
        return f"表：{'、'.join(tables)}；说明：{text}"

    def three_public_items(self) -> set[str]:
        """Every 三公 item a table of this layout prints (top level or inside the text)."""
        specs: list[Any] = list(self.tables)
        todo: list[Any] = [c for s in self.sections for c in s.content]
        while todo:
            item = todo.pop()
            if isinstance(item, TableItem):
                specs.append(item.table)
            elif isinstance(item, Subsection):
                todo += item.content
        return {i for t in specs if isinstance(t, ThreePublicTable) for r in t.rows + t.across
                for i in r.items}


# --------------------------------------------------------------------------- loading

def builtin_keys() -> list[str]:
    return sorted(p.stem for p in LAYOUT_DIR.iterdir() if p.suffix in LAYOUT_SUFFIXES
                  and not p.name.startswith("_"))


def builtin_path(key: str) -> Path | None:
    for suffix in LAYOUT_SUFFIXES:
        path = LAYOUT_DIR / f"{key}{suffix}"
        if path.is_file():
            return path
    return None


def _walk(loc: tuple, data: Any) -> tuple[tuple, str]:
    """The part of a pydantic error path that exists in the file (skipping the union tags
    pydantic inserts, such as "summary"), and a readable label such as tables[3].title."""
    path: list = []
    label, node = "", data
    for n, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            path.append(part)
            label += ("." if label else "") + str(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(part)
            label += f"[{part + 1}]"
            node = node[part]
        elif n == len(loc) - 1 and isinstance(part, str) and isinstance(node, dict) \
                and not part.startswith(("function-", "lax-", "json-")):
            label += ("." if label else "") + part  # a missing key
    return tuple(path), label or "版式文件"


def _message(err: Any) -> str:
    from .model import _message as model_message
    kind = err["type"]
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"表的种类“{ctx.get('tag')}”未知；可用：{'、'.join(TABLE_KINDS)}"
    if kind == "union_tag_not_found":
        return f"缺少“kind”：表的种类，可用：{'、'.join(TABLE_KINDS)}"
    if kind == "content_kind":
        return err["msg"]
    if kind == "string_pattern_mismatch":
        return "只能用字母、数字、“-”、“_”、“.”"
    if kind == "extra_forbidden":
        return f"未知的键“{err['loc'][-1]}”（可能拼写有误；可用的键见 docs/layouts.md）"
    return model_message(err).replace("' or '", "'或'")


def build_layout(doc: RawDoc) -> tuple[Layout | None, list[Problem]]:
    """Validate a loaded layout file; every mistake becomes a located problem (规则“版式”)."""
    try:
        layout = Layout.model_validate(doc.data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            path, label = _walk(tuple(err["loc"]), doc.data)
            where = doc.locate_key(path) if err["type"] == "extra_forbidden" else doc.locate(path)
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, sentences.TemplateProblem):
                if cause.key:  # raised by the item's model validator: its loc ends at the union tag
                    if path and path[-1] == "block" and tuple(err["loc"])[-1] == "block":
                        path, label = path[:-1], label.removesuffix(".block")
                    path, label = path + (cause.key,), f"{label}.{cause.key}"
                where = template_location(doc, path, cause)
            problems.append(error("版式", f"版式文件 {label}：{_message(err)}", where))
        return None, problems
    _record_templates(doc, doc.data, ())
    return layout, []


def _record_templates(doc: RawDoc, node: Any, path: tuple) -> None:
    """Remember where each sentence template stands, for problems found when it runs."""
    if isinstance(node, dict):
        for key, value in node.items():
            _record_templates(doc, value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _record_templates(doc, value, path + (i,))
    elif isinstance(node, str) and sentences.is_template(node):
        sentences.WHERE[node] = doc.locate(path)


def template_location(doc: RawDoc, path: tuple, problem: sentences.TemplateProblem) -> Location:
    """Where a line and column inside a template stand in the layout file: the template's own
    mark, moved down its lines (a block scalar `|` starts on the next line) and along the line."""
    start = doc.locate(path)
    if not start.line or (problem.line <= 1 and not problem.column):
        return start
    try:
        lines = Path(doc.file).read_text(encoding=doc.encoding).split("\n")
        first = lines[start.line - 1][start.column - 1:]
    except (OSError, UnicodeError, IndexError):
        return start
    column = max(problem.column, 1)
    if first[:1] in ("|", ">"):
        line = start.line + problem.line
        if line > len(lines):
            return start
        indent = len(lines[line - 1]) - len(lines[line - 1].lstrip(" "))
        return Location(doc.file, line, indent + column)
    quote = 1 if first[:1] in ("'", '"') else 0
    if problem.line <= 1:
        return Location(doc.file, start.line, start.column + quote + column - 1)
    return Location(doc.file, start.line + problem.line - 1, column)


@lru_cache(maxsize=32)
def _load_cached(path: str, mtime: float) -> tuple[Layout | None, tuple[Problem, ...]]:
    doc, problems = load_file(path)
    if doc is None:
        return None, tuple(problems)
    layout, more = build_layout(doc)
    return layout, tuple(problems + more)


def load_layout_file(path: str | Path) -> tuple[Layout | None, list[Problem]]:
    p = Path(path)
    try:
        mtime = p.stat().st_mtime
    except OSError:
        mtime = 0.0
    layout, problems = _load_cached(str(p), mtime)
    return layout, list(problems)


def builtin_families() -> dict[str, list[Layout]]:
    """Built-in layouts by family (a key such as `beijing`), each family's files by first year."""
    out: dict[str, list[Layout]] = {}
    for key in builtin_keys():
        path = builtin_path(key)
        layout = load_layout_file(path)[0] if path else None
        if layout is not None and layout.family:
            out.setdefault(layout.family, []).append(layout)
    for layouts in out.values():
        layouts.sort(key=lambda lay: min(lay.years))
    return out


def for_year(layouts: list[Layout], year: int | None) -> Layout:
    """The layout of a family for a budget year: the one whose years hold it; else the latest
    one for an earlier year; else the earliest."""
    if year is not None:
        for layout in layouts:
            if year in layout.years:
                return layout
        earlier = [lay for lay in layouts if max(lay.years) < year]
        if earlier:
            return max(earlier, key=lambda lay: max(lay.years))
    return layouts[-1] if year is None else layouts[0]


def _years(layout: Layout) -> str:
    return "、".join(f"{y}" for y in sorted(layout.years)) + "年度"


def year_problems(layout: Layout, year: int | None, asked: str, where: Location,
                  what: str) -> list[Problem]:
    """A warning when the file's budget year is not one the layout is for, naming the layout
    used and (when the family has one) the layout for that year."""
    if year is None or not layout.years or year in layout.years:
        return []
    better = ""
    siblings = builtin_families().get(layout.family, [])
    right = [lay for lay in siblings if year in lay.years]
    if right:
        better = f"；{year}年度请用 {right[0].key}（或写 {layout.family}，按年度自动选择）"
    elif layout.family and asked == layout.family:
        better = f"；版式系列“{layout.family}”没有{year}年度的版式"
    return [warning("版式", f"{what}：部门文件为{year}年度，所用版式 {layout.key}（{layout.name}）"
                    f"适用于{_years(layout)}{better}", where, expected=f"{year}年度的版式",
                    found=layout.key)]


def resolve(name: str, base: Path | None, where: Location, what: str = "department.edition",
            year: int | None = None) -> tuple[Layout | None, list[Problem]]:
    """A layout by built-in key, by family (`beijing`: the family's file for `year`) or by path
    (relative to `base`, the department file's folder). An unknown name is reported at `where`;
    a bad file at its own lines; a layout not made for `year` is a warning at `where`."""
    name = name.strip()
    plain = re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) is not None
    path = builtin_path(name) if plain else None
    if path is None and plain:
        family = builtin_families().get(name)
        if family:
            chosen = for_year(family, year)
            return chosen, year_problems(chosen, year, name, where, what)
    if path is None:
        candidate = Path(name)
        if not candidate.is_absolute() and base is not None:
            candidate = base / candidate
        looks_like_file = candidate.suffix in LAYOUT_SUFFIXES or "/" in name or "\\" in name
        if candidate.suffix in LAYOUT_SUFFIXES and candidate.is_file():
            path = candidate
        else:
            keys = "、".join(builtin_keys() + sorted(builtin_families()))
            if candidate.suffix not in LAYOUT_SUFFIXES and looks_like_file:
                hint = f"版式文件“{name}”应以 .yaml 或 .yml 结尾"
            elif looks_like_file:
                hint = f"版式文件“{candidate}”不存在"
            else:
                hint = f"“{name}”不是内置版式（可选：{keys}）；版式文件请写路径，如 layouts/my.yaml"
            return None, [error("版式", f"{what}：{hint}", where, expected=keys, found=name)]
    layout, problems = load_layout_file(path)
    if layout is not None:
        problems += year_problems(layout, year, name, where, what)
    return layout, problems


def layout_schema() -> dict:
    """JSON Schema of a layout file, for editors (schemas/layout.schema.json)."""
    schema = Layout.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://budgetgen.invalid/schemas/layout.schema.json"
    return schema


def builtin(key: str, year: int | None = None) -> Layout:
    """A built-in layout by key, or by family for `year` (raises ValueError with the problems
    when it does not load)."""
    path = builtin_path(key)
    family = builtin_families().get(key) if path is None else None
    if family:
        return for_year(family, year)
    if path is None:
        raise ValueError(f"未知的版式“{key}”：可选 {'、'.join(builtin_keys())}")
    layout, problems = load_layout_file(path)
    if layout is None:
        raise ValueError("；".join(p.message for p in problems))
    return layout
