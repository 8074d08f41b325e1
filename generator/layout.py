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

from .loader import RawDoc, load_file
from .messages import pydantic_message
from .model import CHOICE_LABELS, ProcurementFund, Source, ThreePublicItems
from .problems import Location, Problem, error

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


class EconomicTable(_Table):
    """一般公共预算财政拨款基本支出 by economic classification (类/款)."""
    kind: Literal["economic"]


class ThreePublicTable(_Table):
    """财政拨款“三公”经费: `rows` down the page, or one row `across` the page."""
    kind: Literal["three_public"]
    rows: list[ThreePublicRow] = []
    across: list[ThreePublicRow] = []

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
}


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


class BlockItem(_Strict):
    """A block of generated text (see BLOCKS)."""
    block: str
    format: Literal["full", "goals"] = "full"  # projects: the 2025 form or goals only
    numbering: str = "（{一}）"  # performance: its three headings
    level: int = Field(2, ge=2, le=3)
    table: bool = True  # assets: with the table

    @field_validator("block")
    @classmethod
    def _known(cls, v: str) -> str:
        return _check_block(v)

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
        for key, tag in (("text", "text"), ("block", "block"), ("table", "table"),
                         ("heading", "sub")):
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

Content = Annotated[Annotated[BlockName, Tag("name")] | Annotated[TextItem, Tag("text")] | Annotated[BlockItem, Tag("block")] | Annotated[TableItem, Tag("table")] | Annotated[Subsection, Tag("sub")],
                    Discriminator(_content_tag, custom_error_type="content_kind",
                                  custom_error_message="内容项应为内容块名、{block: …}、{text: …}、"
                                  "{table: …} 或 {heading: …, content: […]}")]
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


class Layout(_Strict):
    """One disclosure layout, as read from its file."""
    model_config = ConfigDict(extra="forbid", frozen=True, title="budgetgen 版式文件")
    key: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str = Field(min_length=1)
    follows: list[str] = []  # the published documents this layout reproduces
    unit: Literal["万元", "元"] = "万元"
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

    @property
    def table_count(self) -> int:
        return len(self.tables)


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
    return pydantic_message(err, CHOICE_LABELS).replace("' or '", "'或'")


def build_layout(doc: RawDoc) -> tuple[Layout | None, list[Problem]]:
    """Validate a loaded layout file; every mistake becomes a located problem (规则“版式”)."""
    try:
        return Layout.model_validate(doc.data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            path, label = _walk(tuple(err["loc"]), doc.data)
            where = doc.locate_key(path) if err["type"] == "extra_forbidden" else doc.locate(path)
            problems.append(error("版式", f"版式文件 {label}：{_message(err)}", where))
        return None, problems


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


def resolve(name: str, base: Path | None, where: Location, what: str = "department.edition"
            ) -> tuple[Layout | None, list[Problem]]:
    """A layout by built-in key or by path (relative to `base`, the department file's folder).
    An unknown name is reported at `where`; a bad file at its own lines."""
    name = name.strip()
    path = builtin_path(name) if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) else None
    if path is None:
        candidate = Path(name)
        if not candidate.is_absolute() and base is not None:
            candidate = base / candidate
        looks_like_file = candidate.suffix in LAYOUT_SUFFIXES or "/" in name or "\\" in name
        if candidate.suffix in LAYOUT_SUFFIXES and candidate.is_file():
            path = candidate
        else:
            keys = "、".join(builtin_keys())
            if candidate.suffix not in LAYOUT_SUFFIXES and looks_like_file:
                hint = f"版式文件“{name}”应以 .yaml 或 .yml 结尾"
            elif looks_like_file:
                hint = f"版式文件“{candidate}”不存在"
            else:
                hint = f"“{name}”不是内置版式（可选：{keys}）；版式文件请写路径，如 layouts/my.yaml"
            return None, [error("版式", f"{what}：{hint}", where, expected=keys, found=name)]
    return load_layout_file(path)


def layout_schema() -> dict:
    """JSON Schema of a layout file, for editors (schemas/layout.schema.json)."""
    schema = Layout.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://budgetgen.invalid/schemas/layout.schema.json"
    return schema


def builtin(key: str) -> Layout:
    """A built-in layout by key (raises ValueError with the problems when it does not load)."""
    path = builtin_path(key)
    if path is None:
        raise ValueError(f"未知的版式“{key}”：可选 {'、'.join(builtin_keys())}")
    layout, problems = load_layout_file(path)
    if layout is None:
        raise ValueError("；".join(p.message for p in problems))
    return layout
