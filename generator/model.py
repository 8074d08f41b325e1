"""Model stage: the raw tree → a typed, validated Budget (pydantic v2, Decimal money).

Only leaf facts live here; nothing in the model is a total. Type and format errors are turned
into located problems, all of them at once. The JSON Schema for editors is generated from
these classes (generator/schema.py).
"""
from __future__ import annotations

import datetime
import re
from decimal import Decimal
from enum import Enum
from typing import Annotated, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      ValidationError, ValidationInfo, WithJsonSchema)
from pydantic_core import PydanticCustomError

from .loader import RawDoc
from .money import UNITS, ZERO, from_unit, parse_amount
from .schema import ISO_DATE, NAME_SCHEMA, TEXT_SCHEMA, amount_schema, code_schema, date_schema, year_schema
from .problems import Problem, error


def _money(raw, info: ValidationInfo):
    """An amount as exact 万元; typed in 元 when the department file says `unit: 元`."""
    return from_unit(parse_amount(raw), (info.context or {}).get("unit", "万元"))


def _quantity(raw):
    return parse_amount(raw, places=4, what="数量")


def _refuse_empty(raw) -> None:
    """A required figure: an empty value, `~` or `null` is refused instead of reading as 0
    (a missing prior-year figure read as 0 makes the 比上年 text state a wrong increase)."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        raise ValueError("必须填写（不能空着或写 ~、null）；确实为零请写 0")


def _given_money(raw, info: ValidationInfo):
    _refuse_empty(raw)
    return _money(raw, info)


def _given_quantity(raw):
    _refuse_empty(raw)
    return _quantity(raw)


Money = Annotated[Decimal, BeforeValidator(_money), WithJsonSchema(amount_schema(2, "金额"))]
Quantity = Annotated[Decimal, BeforeValidator(_quantity), WithJsonSchema(amount_schema(4, "数量"))]
# amounts that must be written out (no default, empty refused)
GivenMoney = Annotated[Decimal, BeforeValidator(_given_money), WithJsonSchema(
    amount_schema(2, "金额", given=True))]
GivenQuantity = Annotated[Decimal, BeforeValidator(_given_quantity), WithJsonSchema(
    amount_schema(4, "数量", given=True))]

# Work limits: far above any real department (the largest seen has ~40 项 lines and ~30
# projects), low enough that a file which passes `check` renders in bounded time and memory.
# docs/refused-input.md lists them.
MAX_EXPENDITURE_LINES = 2000
MAX_ECONOMIC_LINES = 500
MAX_PROJECTS = 500
MAX_INDICATORS_PER_PROJECT = 200
MAX_INDICATORS = 5000
MAX_PROCUREMENT_ITEMS = 2000
MAX_INSTITUTIONS = 500
MAX_PARAGRAPHS = 200
XLSX_CELL_CHARS = 32767  # the most characters an XLSX cell holds
MAX_CODE_CHARS = 30  # department code: real ones are 3–15 digits


def _text(raw):
    if raw is None:
        return ""
    if isinstance(raw, (dict, list)):
        raise ValueError("应为一段文字，不是列表或映射")
    return str(raw)


Text = Annotated[str, BeforeValidator(_text), WithJsonSchema(TEXT_SCHEMA)]
# a text that must be given: the checker reads null as "" and refuses it (min_length=1)
Name = Annotated[str, BeforeValidator(_text), WithJsonSchema(NAME_SCHEMA)]


def _fits_a_cell(paragraphs: list[str]) -> list[str]:
    """Paragraphs are joined into one XLSX cell: refuse what a cell cannot hold (never cut)."""
    total = sum(len(p) for p in paragraphs) + max(len(paragraphs) - 1, 0)
    if total > XLSX_CELL_CHARS:
        raise PydanticCustomError("cell_too_long", f"这些段落合计{total}个字符，超过 XLSX 单元格能容纳的"
                                  f"{XLSX_CELL_CHARS}个字符（生成时会合在一个单元格里）：请精简")
    return paragraphs


Paragraphs = Annotated[list[Text], Field(max_length=MAX_PARAGRAPHS), AfterValidator(_fits_a_cell),
                       WithJsonSchema({"type": "array", "items": TEXT_SCHEMA,
                                       "maxItems": MAX_PARAGRAPHS, "description": "段落，每项一段"})]


def _year(raw):
    """A year is written as digits (2025 or "2025"); not 2_025, +2025 or 2025.0."""
    text = _text(raw).strip()
    if not re.fullmatch(r"[0-9]{4}", text):
        raise ValueError(f"年度“{text}”应为四位数字的年份，如 2025")
    return int(text)


Year = Annotated[int, BeforeValidator(_year), WithJsonSchema(year_schema())]


def _as_of(raw):
    """A real calendar date, written 2024-12-31 (or 2024年12月31日)."""
    text = _text(raw).strip()
    m = (re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
         or re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text))
    if not m:
        raise ValueError(f"截止时间“{text}”应写为日期，如 2024-12-31")
    try:
        datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(f"截止时间“{text}”不是真实存在的日期") from None
    return text


def as_of_date(text: str) -> datetime.date:
    y, mo, d = (int(x) for x in re.findall(r"\d+", text)[:3])
    return datetime.date(y, mo, d)


AsOf = Annotated[str, BeforeValidator(_as_of), WithJsonSchema(date_schema("截止时间（上年末），如 2024-12-31"))]


def _code(digits: tuple[int, ...], what: str):
    def check(raw):
        text = _text(raw).strip()
        if not re.fullmatch(r"[0-9]+", text) or len(text) not in digits:
            want = "或".join(str(d) for d in digits)
            raise ValueError(f"{what}“{text}”应为{want}位数字")
        return text
    return check


FunctionItemCode = Annotated[str, BeforeValidator(_code((7,), "功能分类项级科目编码")),
                             WithJsonSchema(code_schema(7, "功能分类项级科目编码",
                                                        "支出功能分类项级科目编码（7位）"))]
EconomicCode = Annotated[str, BeforeValidator(_code((5,), "经济分类款级科目编码")),
                         WithJsonSchema(code_schema(5, "经济分类款级科目编码",
                                                    "部门预算支出经济分类款级科目编码（5位）"))]


class Source(str, Enum):
    """资金来源 (where an expenditure line's money comes from)."""
    general = "general"
    gov_fund = "gov_fund"
    soe = "soe"
    special_account = "special_account"
    institution = "institution"
    operating = "operating"
    superior = "superior"
    affiliate = "affiliate"
    other = "other"
    carryover_general = "carryover_general"
    carryover_gov_fund = "carryover_gov_fund"
    carryover_soe = "carryover_soe"
    carryover_other = "carryover_other"


SOURCE_LABELS = {
    Source.general: "一般公共预算", Source.gov_fund: "政府性基金", Source.soe: "国有资本经营",
    Source.special_account: "财政专户管理资金", Source.institution: "事业收入",
    Source.operating: "事业单位经营收入", Source.superior: "上级补助收入",
    Source.affiliate: "附属单位上缴收入", Source.other: "其他收入",
    Source.carryover_general: "上年结转（一般公共预算）", Source.carryover_gov_fund: "上年结转（政府性基金）",
    Source.carryover_soe: "上年结转（国有资本经营）", Source.carryover_other: "非财政拨款结转结余",
}
# the labels the published tables use, accepted as source values (brackets of either width)
SOURCE_ALIASES = {
    "一般公共预算拨款": Source.general, "一般公共预算拨款收入": Source.general,
    "政府性基金预算": Source.gov_fund, "政府性基金预算拨款": Source.gov_fund,
    "政府性基金预算拨款收入": Source.gov_fund, "基金预算拨款": Source.gov_fund,
    "国有资本经营预算": Source.soe, "国有资本经营预算拨款": Source.soe,
    "国有资本经营预算拨款收入": Source.soe,
    "财政专户": Source.special_account, "财政专户管理资金收入": Source.special_account,
    "财政专户核拨": Source.special_account, "财政专户收入": Source.special_account,
    "经营收入": Source.operating, "上级补助": Source.superior, "附属单位上缴": Source.affiliate,
    # 表一 prints one 上年结转结余 row; as a source it is taken as 财政拨款（一般公共预算）结转,
    # the common case (docs/input-format.md explains when to choose another kind)
    "上年结转结余": Source.carryover_general, "上年结转": Source.carryover_general,
    "上年结转（政府性基金预算）": Source.carryover_gov_fund,
    "上年结转（国有资本经营预算）": Source.carryover_soe,
    "上年结转（非财政拨款）": Source.carryover_other, "非财政拨款结转": Source.carryover_other,
}
_SOURCE_BY_LABEL = {v: k.value for k, v in SOURCE_LABELS.items()}
_SOURCE_BY_LABEL.update({k: v.value for k, v in SOURCE_ALIASES.items()})
_BRACKETS = str.maketrans({"(": "（", ")": "）", " ": None, "\u3000": None})


def _source(raw):
    if isinstance(raw, Source):
        return raw
    text = _text(raw).strip()
    if text == "":
        return Source.general.value
    return _SOURCE_BY_LABEL.get(text.translate(_BRACKETS), text)


SourceField = Annotated[Source, BeforeValidator(_source), WithJsonSchema(
    {"enum": [s.value for s in Source] + list(SOURCE_LABELS.values()) + list(SOURCE_ALIASES) + ["", None],
     "description": "资金来源，默认 general（一般公共预算）；也可写中文名称",
     "errorMessage": "资金来源应为 " + "、".join(s.value for s in Source) + " 之一（或其中文名称）"})]


class ProcurementFund(str, Enum):
    """政府采购金额 columns."""
    general = "general"
    gov_fund = "gov_fund"
    soe = "soe"
    special_account = "special_account"
    unit = "unit"
    carryover = "carryover"
    carryover_fiscal = "carryover_fiscal"
    carryover_other = "carryover_other"


PROCUREMENT_FUND_LABELS = {
    ProcurementFund.general: "一般公共预算", ProcurementFund.gov_fund: "政府性基金",
    ProcurementFund.soe: "国有资本经营预算", ProcurementFund.special_account: "财政专户管理资金",
    ProcurementFund.unit: "单位资金", ProcurementFund.carryover: "上年结转",
    ProcurementFund.carryover_fiscal: "财政拨款结转", ProcurementFund.carryover_other: "其他结转结余",
}
_FUND_BY_LABEL = {v: k.value for k, v in PROCUREMENT_FUND_LABELS.items()}


def _fund(raw):
    if isinstance(raw, ProcurementFund):
        return raw
    text = _text(raw).strip()
    return _FUND_BY_LABEL.get(text, text) if text else ProcurementFund.general.value


FundField = Annotated[ProcurementFund, BeforeValidator(_fund), WithJsonSchema(
    {"enum": [f.value for f in ProcurementFund] + list(PROCUREMENT_FUND_LABELS.values()) + ["", None],
     "description": "资金来源列，默认 general（一般公共预算）"})]

# how a choice is shown in a message: the Chinese label, with the key to type when the Chinese
# label itself is not accepted
_CHOICE_LABELS: dict[str, str] = {
    **{s.value: label for s, label in SOURCE_LABELS.items()},
    **{f.value: label for f, label in PROCUREMENT_FUND_LABELS.items()},
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _date(raw):
    """A calendar date written YYYY-MM-DD (or empty)."""
    import datetime as _dt
    text = _text(raw).strip()
    if text:
        try:
            _dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"日期“{text}”应写为 YYYY-MM-DD，如 2025-02-10") from None
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(f"日期“{text}”应写为 YYYY-MM-DD，如 2025-02-10")
    return text


DateText = Annotated[str, BeforeValidator(_date), WithJsonSchema(
    date_schema("日期，写作 YYYY-MM-DD", empty=True, written=ISO_DATE))]


class Department(_Strict):
    code: Text = Field(max_length=MAX_CODE_CHARS, description="部门编码，如 524")
    name: Name = Field(min_length=1, description="部门全称")
    year: Year = Field(ge=2000, le=2100, description="预算年度")
    edition: Name = Field(min_length=1, description="版式：内置版式名（hebei-2025、beijing-2026、shanghai-2025 等，或系列名 hebei、beijing、shanghai：按预算年度选用；"
                          "见 budgetgen layouts）或版式文件路径（相对于本文件）")
    unit: Literal["万元", "元"] = Field("万元", description="本文件中金额的单位：万元（默认）或元")
    published: DateText = Field("", description="公开日期（YYYY-MM-DD）：PDF 与工作簿的创建日期；不写则 PDF 不记日期")
    kind: Literal["department", "unit"] = Field(
        "department", description="公开的是：department 部门预算（默认）或 unit 单位预算（所属单位单独公开）")
    staff: int | None = Field(None, ge=0, le=1000000, description="人数（编制或实有，可选）：用于检查人均基本支出是否合理")
    nature: Literal["", "行政", "参公", "事业", "企业", "其他"] = Field(
        "", description="单位类型：行政、参公（参照公务员法管理）、事业、企业、其他；机关运行经费只对行政、参公单位列示。"
                        "不写时按机构设置（institutions）第一行的单位性质")


class Institution(_Strict):
    name: Text = Field(description="单位名称")
    nature: Text = Field("", description="单位性质")
    rank: Text = Field("", description="单位规格")
    funding: Text = Field("", description="经费保障形式")


class ExpenditureLine(_Strict):
    code: FunctionItemCode = Field(description="支出功能分类项级科目编码（7位）")
    name: Text = Field("", description="科目名称（可选，与目录核对）")
    basic: Money = Field(ZERO, description="基本支出")
    project: Money = Field(ZERO, description="项目支出")
    operating: Money = Field(ZERO, description="经营支出")
    remit: Money = Field(ZERO, description="上解上级支出")
    subsidy: Money = Field(ZERO, description="对附属单位补助支出")
    source: SourceField = Field(Source.general, description="资金来源，默认 general（一般公共预算）；也可写中文名称")

    @property
    def total(self) -> Decimal:
        return self.basic + self.project + self.operating + self.remit + self.subsidy


class EconomicLine(_Strict):
    code: EconomicCode = Field(description="部门预算支出经济分类款级科目编码（5位）")
    name: Text = Field("", description="科目名称（可选，与目录核对）")
    amount: GivenMoney = Field(description="一般公共预算财政拨款基本支出")


class ThreePublicItems(_Strict):
    overseas: Money = Field(ZERO, description="因公出国（境）费（教学科研人员以外）")
    overseas_research: Money = Field(ZERO, description="其中：教学科研人员因公出国（境）费")
    vehicle_purchase: Money = Field(ZERO, description="公务用车购置费")
    vehicle_operation: Money = Field(ZERO, description="公务用车运行维护费")
    reception: Money = Field(ZERO, description="公务接待费")
    # rows some provinces' 三公 tables add (Jiangsu, Shaanxi): given only where the layout prints
    # them; never part of the 三公 total
    meeting: Money | None = Field(None, description="会议费（版式的“三公”经费表列示会议费时填写；不计入“三公”经费合计）")
    training: Money | None = Field(None, description="培训费（版式的“三公”经费表列示培训费时填写；不计入“三公”经费合计）")


class ThreePublic(ThreePublicItems):
    """财政拨款“三公”经费: the items directly are 一般公共预算财政拨款; gov_fund / soe hold the
    items paid from 政府性基金 / 国有资本经营预算财政拨款 (表九's other two columns)."""
    gov_fund: ThreePublicItems | None = Field(None, description="政府性基金预算财政拨款安排的“三公”经费")
    soe: ThreePublicItems | None = Field(None, description="国有资本经营预算财政拨款安排的“三公”经费")


Indicator = Annotated[list[Text], Field(min_length=6, max_length=6), WithJsonSchema(
    {"type": "array", "minItems": 6, "maxItems": 6, "items": {"type": "string"},
     "description": "一级指标, 二级指标, 三级指标, 绩效指标描述, 指标值, 指标值确定依据"})]


class Project(_Strict):
    code: Text = Field("", description="项目编码")
    name: Name = Field(min_length=1, description="项目名称")
    amount: GivenMoney = Field(description="预算数（财政资金，万元）")
    other_funds: Money = Field(ZERO, description="其他资金（万元）")
    function_code: FunctionItemCode | None = Field(None, description="所列支出功能分类项级科目")
    purpose: Text = Field("", description="资金用途")
    plan: list[Money | None] | None = Field(
        None, min_length=4, max_length=4,
        description="资金支出计划：3月底、6月底、10月底、12月底累计（万元）；未定的月份写 null，留空")
    goals: Paragraphs = Field(default_factory=list, description="绩效目标")
    indicators: list[Indicator] = Field(default_factory=list, max_length=MAX_INDICATORS_PER_PROJECT,
                                        description="绩效指标行")

    @property
    def budget(self) -> Decimal:
        return self.amount + self.other_funds


class Performance(_Strict):
    overall: Paragraphs = Field(default_factory=list, description="（一）总体绩效目标")
    items: Paragraphs = Field(default_factory=list, description="（二）分项绩效目标")
    measures: Paragraphs = Field(default_factory=list, description="（三）工作保障措施")


class PurchasedService(_Strict):
    """政府购买服务: one service the department buys with budget money."""
    name: Name = Field(min_length=1, description="项目名称")
    category: Text = Field("", description="政府购买服务指导性目录（服务类别）")
    code: Text = Field("", description="指导性目录代码（可选）")
    content: Text = Field("", description="购买服务内容（可选）")
    amount: Money = Field(description="金额")
    source: SourceField = Field(Source.general, description="资金来源，默认 general（一般公共预算）；也可写中文名称")


class DepartmentPerformance(_Strict):
    """部门整体支出绩效目标表: the department's goals for the year and their indicators."""
    goals: Paragraphs = Field(default_factory=list, description="年度总体目标")
    indicators: list[Indicator] = Field(default_factory=list, description="绩效指标行")


class ProcurementItem(_Strict):
    name: Name = Field(min_length=1, description="采购物品名称")
    catalog: Text = Field("", description="政府采购目录序号")
    unit: Text = Field("", description="计量单位")
    quantity: GivenQuantity = Field(description="数量")
    amount: GivenMoney = Field(description="政府采购金额（万元）")
    sme: Money = Field(ZERO, description="预留中小微企业份额（万元）")
    fund: FundField = Field(ProcurementFund.general, description="资金来源列")


class ProcurementGroup(_Strict):
    source: Name = Field(min_length=1, description="政府采购项目来源：项目名称")
    unit: Text = Field("", description="所属单位名称（表中按单位列小计；省略则为本单位，汇总时自动填写）")
    budget: GivenMoney = Field(description="该项目预算资金（万元）")
    items: list[ProcurementItem] = Field(min_length=1, max_length=MAX_PROCUREMENT_ITEMS,
                                         description="该项目下的采购品目")


class AssetLine(_Strict):
    quantity: Quantity = Field(ZERO, description="数量")
    value: Money = Field(ZERO, description="价值（万元）")


class Assets(_Strict):
    as_of: AsOf = Field(description="截止时间，如 2024-12-31")
    buildings: AssetLine = Field(AssetLine(), description="房屋（平方米、万元）")
    office_buildings: AssetLine = Field(AssetLine(), description="其中：办公用房（平方米、万元）")
    vehicles: AssetLine = Field(AssetLine(), description="车辆（台、辆；万元）")
    equipment: AssetLine = Field(AssetLine(), description="单价在20万元以上的设备（数量、万元）")
    other: AssetLine = Field(AssetLine(), description="其他固定资产（数量、万元）")
    planned_purchase: Money = Field(ZERO, description="本年度拟购置固定资产总额（万元）")


class PriorReasons(_Strict):
    total: Text = Field("", description="收支总额增减原因")
    basic: Text = Field("", description="基本支出增减原因")
    project: Text = Field("", description="项目支出增减原因")
    three_public: Text = Field("", description="“三公”经费增减原因")


def _count(raw):
    """A count of people, written as digits (40), not 40.0, +40 or 040."""
    text = _text(raw).strip()
    if not re.fullmatch(r"[0-9]{1,7}", text):
        raise ValueError(f"人数“{text}”应为不带小数的整数，如 40")
    return int(text)


Count = Annotated[int, BeforeValidator(_count), WithJsonSchema(
    {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 9999999},
               {"type": "string", "pattern": r"^\s*[0-9]{1,7}\s*$"}],
     "description": "人数（整数）", "errorMessage": "人数应为不带小数的整数，如 40"})]


class PriorItem(_Strict):
    """One 三公 item last year: its budget and why this year's differs."""
    amount: GivenMoney = Field(description="上年预算数")
    reason: Text = Field("", description="增减原因（本年与上年不同时应写）")


class ThreePublicPrior(_Strict):
    """上年“三公”经费，逐项（可只写有数的项）。"""
    overseas: PriorItem | None = Field(None, description="因公出国（境）费")
    overseas_research: PriorItem | None = Field(None, description="其中：教学科研人员因公出国（境）费")
    vehicle_purchase: PriorItem | None = Field(None, description="公务用车购置费")
    vehicle_operation: PriorItem | None = Field(None, description="公务用车运行维护费")
    reception: PriorItem | None = Field(None, description="公务接待费")
    meeting: PriorItem | None = Field(None, description="会议费（版式列示时）")
    training: PriorItem | None = Field(None, description="培训费（版式列示时）")


class PriorYear(_Strict):
    year: Year | None = Field(None, ge=2000, le=2100, description="上年年度，默认预算年度减一")
    basic: GivenMoney = Field(description="上年基本支出预算")
    project: GivenMoney = Field(description="上年项目支出预算")
    three_public: GivenMoney | None = Field(
        None, description="上年财政拨款“三公”经费预算；省略则说明中不写“三公”经费与上年的比较（从不按0比较）")
    reasons: PriorReasons = Field(PriorReasons(), description="比上年增减的原因（写入说明）")
    three_public_items: ThreePublicPrior | None = Field(
        None, description="上年“三公”经费逐项（每项写上年数与增减原因）；写了则说明逐项比较，"
                          "与上年合计同写时两者应相等")


class CompositionUnit(_Strict):
    """A unit the department's budget comprises (单位构成)."""
    name: Name = Field(min_length=1, description="单位名称")
    nature: Text = Field("", description="单位性质，如 行政单位、参照公务员法管理事业单位、事业单位")
    staff: Count | None = Field(None, description="编制数（人）")
    actual: Count | None = Field(None, description="实有人数（人）")


class Composition(_Strict):
    """单位构成: the units (and their 编制) the department's budget comprises."""
    units: list[CompositionUnit] = Field(default_factory=list, max_length=MAX_INSTITUTIONS,
                                         description="纳入本部门预算的单位")
    notes: Paragraphs = Field(default_factory=list, description="单位构成的说明段落（照印，可省略）")


class ControlTotals(_Strict):
    """批复控制数: declared figures checked against the computed ones, never used instead."""
    total: Money | None = Field(None, description="支出总计批复控制数（万元），与计算结果核对")
    basic: Money | None = Field(None, description="基本支出批复控制数（万元），与计算结果核对")
    project: Money | None = Field(None, description="项目支出批复控制数（万元），与计算结果核对")
    personnel: Money | None = Field(None, description="人员经费批复控制数（万元），与计算结果核对")
    public: Money | None = Field(None, description="公用经费批复控制数（万元），与计算结果核对")
    three_public: Money | None = Field(None, description="财政拨款“三公”经费批复控制数（万元），与计算结果核对")
    assets: Money | None = Field(None, description="资产总额批复控制数（万元），与计算结果核对")
    procurement: Money | None = Field(None, description="政府采购预算批复控制数（万元），与计算结果核对")
    income: Money | None = Field(None, description="本年收入合计批复控制数（万元），与计算结果核对")
    carryover: Money | None = Field(None, description="上年结转结余批复控制数（万元），与计算结果核对")


class Income(_Strict):
    """Declared income by source (optional; computed from the expenditure lines otherwise)."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    general: Money | None = Field(None, description="一般公共预算拨款收入（万元，可选）")
    gov_fund: Money | None = Field(None, description="政府性基金预算拨款收入（万元，可选）")
    soe: Money | None = Field(None, description="国有资本经营预算拨款收入（万元，可选）")
    special_account: Money | None = Field(None, description="财政专户管理资金收入（万元，可选）")
    institution: Money | None = Field(None, description="事业收入（万元，可选）")
    operating: Money | None = Field(None, description="事业单位经营收入（万元，可选）")
    superior: Money | None = Field(None, description="上级补助收入（万元，可选）")
    affiliate: Money | None = Field(None, description="附属单位上缴收入（万元，可选）")
    other: Money | None = Field(None, description="其他收入（万元，可选）")
    carryover_general: Money | None = Field(None, description="上年结转（一般公共预算）（万元，可选）")
    carryover_gov_fund: Money | None = Field(None, description="上年结转（政府性基金）（万元，可选）")
    carryover_soe: Money | None = Field(None, description="上年结转（国有资本经营）（万元，可选）")
    carryover_other: Money | None = Field(None, description="非财政拨款结转结余（万元，可选）")


class CatalogCode(_Strict):
    code: Text = Field(description="科目编码：功能分类款（5位）或项（7位）；经济分类款（5位）")
    name: Name = Field(min_length=1, description="科目名称（照录本年度科目表）")
    fund: Literal["general", "gov_fund", "soe"] | None = Field(
        None, description="资金性质（功能分类）：general 一般公共预算、gov_fund 政府性基金、soe 国有资本经营；"
                          "不写则同所属的款")


class CatalogSupplement(_Strict):
    """Codes the shipped catalog lacks, added by this file (checked, and reported as a warning)."""
    function: list[CatalogCode] = Field(default_factory=list, description="补充的支出功能分类科目")
    economic: list[CatalogCode] = Field(default_factory=list, description="补充的部门预算支出经济分类科目")


class ReviewItem(_Strict):
    """An open item `budgetgen roll` leaves for the clerk: what to review, where."""
    at: Text = Field(description="要复核的位置：键路径，如 prior_year.reasons、assets")
    note: Text = Field("", description="要做什么")


class Budget(_Strict):
    """One department's approved budget for one year: the leaf facts."""
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True,
                              title="budgetgen 部门预算公开输入文件",
                              json_schema_extra={"anyOf": [
                                  {"required": ["expenditure"],
                                   "properties": {"expenditure": {"minItems": 1}}},
                                  {"required": ["units"], "properties": {"units": {"minItems": 1}}}]})
    department: Department = Field(description="部门：编码、名称、预算年度与版式")
    units: list[Text] = Field(default_factory=list,
                              description="所属单位文件的路径（相对于本文件），每个单位一个文件；"
                                          "本文件自己的金额是部门本级的")
    duties: Paragraphs = Field(default_factory=list, description="部门职责")
    institutions: list[Institution] = Field(default_factory=list, max_length=MAX_INSTITUTIONS,
                                            description="机构设置")
    composition: Composition | None = Field(None, description="单位构成：纳入本部门预算的单位与编制（可选）")
    expenditure: list[ExpenditureLine] = Field(
        default_factory=list, max_length=MAX_EXPENDITURE_LINES,
        description="支出（功能分类项级）；至少一行，列出所属单位（units）的部门文件可省略")
    basic_economic: list[EconomicLine] = Field(default_factory=list, max_length=MAX_ECONOMIC_LINES,
                                               description="一般公共预算基本支出（经济分类款级）")
    three_public: ThreePublic = Field(ThreePublic(), description="财政拨款“三公”经费（万元）")
    projects: list[Project] = Field(default_factory=list, max_length=MAX_PROJECTS,
                                    description="项目及绩效目标表")
    performance: Performance = Field(Performance(), description="部门整体绩效目标")
    special_funds: Text = Field("", description="部门主管专项资金说明（2025版式）")
    procurement: list[ProcurementGroup] = Field(default_factory=list, max_length=MAX_PROCUREMENT_ITEMS,
                                                description="政府采购预算")
    assets: Assets | None = Field(None, description="国有资产信息")
    prior_year: PriorYear | None = Field(None, description="上年预算数，用于比上年增减")
    glossary: Paragraphs | None = Field(None, description="名词解释；省略则用版式默认文字")
    other_notes: Paragraphs | None = Field(None, description="其他需要说明的事项")
    control_totals: ControlTotals = Field(ControlTotals(), description="批复控制数（可选）：与计算结果核对，不参与计算")
    income: Income | None = Field(None, description="申报的收入（可选）：与按支出计算的收入核对")
    purchased_services: list[PurchasedService] = Field(
        default_factory=list, description="政府购买服务预算（可选）")
    department_performance: DepartmentPerformance | None = Field(
        None, description="部门整体支出绩效目标（可选）")
    catalog: CatalogSupplement = Field(CatalogSupplement(),
                                       description="本文件补充的科目（目录中没有的款、项）")
    review: list[ReviewItem] = Field(
        default_factory=list, description="待复核事项（budgetgen roll 写入）：逐项核对、修改后删去该行；"
                                          "还有事项时 check 给出警告，render 不正式生成（草稿可加 --draft）")


_TYPE_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "未知的键（可能拼写有误）",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "string_type": "应为文字",
    "list_type": "应为列表（- 开头的多行，或 [ ] ）",
    "dict_type": "应为映射（键: 值）",
    "model_type": "应为映射（键: 值）",
    "model_attributes_type": "应为映射（键: 值）",
    "too_short": "项数太少",
    "too_long": "项数太多",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
}


def _message(err) -> str:
    kind = err["type"]
    if kind == "cell_too_long":
        return str(err["msg"])
    if kind == "value_error":
        return str(err.get("ctx", {}).get("error", err["msg"]))
    if kind == "missing":
        return f"缺少必填项“{err['loc'][-1]}”"
    if kind == "extra_forbidden":
        guess = _close_key(tuple(err["loc"]))
        hint = f"是不是 {guess}？" if guess else "可能拼写有误；可用的键见 budgetgen schema"
        return f"未知的键“{err['loc'][-1]}”（{hint}）"
    ctx = err.get("ctx", {})
    if kind in ("enum", "literal_error"):
        keys = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        shown = "、".join(f"“{_CHOICE_LABELS.get(k, k)}”" for k in keys)
        return f"取值“{err.get('input')}”无效，应为以下之一：{shown}"
    if kind in ("too_short", "too_long"):
        n = ctx.get("min_length", ctx.get("max_length"))
        if kind == "too_long" and n is not None and n > 6:
            return (f"项数超过上限：至多{n}项，实有{ctx.get('actual_length')}项"
                    "（规模上限见 docs/refused-input.md）")
        return f"项数不对：应{'至少' if kind == 'too_short' else '至多'}{n}项，实有{ctx.get('actual_length')}项"
    if kind == "string_too_short":
        return "不能为空"
    if kind == "string_too_long":
        return f"太长：至多{ctx.get('max_length')}个字符"
    if kind in ("greater_than_equal", "greater_than"):
        limit = ctx.get("ge", ctx.get("gt"))
        return f"数值太小：应{'不小于' if kind == 'greater_than_equal' else '大于'}{limit}，实为{err.get('input')}"
    if kind in ("less_than_equal", "less_than"):
        limit = ctx.get("le", ctx.get("lt"))
        return f"数值太大：应{'不大于' if kind == 'less_than_equal' else '小于'}{limit}，实为{err.get('input')}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"应为整数，实为“{err.get('input')}”"
    return _TYPE_MESSAGES.get(kind) or "格式不正确"  # never pydantic's English text


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class whose keys are allowed at `loc` (a pydantic error path under Budget)."""
    import typing
    current: type[BaseModel] | None = Budget
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int) or part not in current.model_fields:
            continue
        annotation = current.model_fields[part].annotation
        current = None
        stack = [annotation]
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                current = t
                break
            stack.extend(typing.get_args(t))
    return current


def _close_key(loc: tuple) -> str | None:
    """The allowed key closest to a misspelt one (“basci” → basic), or None."""
    import difflib
    model = _model_at(loc[:-1])
    if model is None or not isinstance(loc[-1], str):
        return None
    found = difflib.get_close_matches(loc[-1].strip().lower(), list(model.model_fields), n=1, cutoff=0.6)
    return found[0] if found else None


_XLSX_LIMIT = Decimal(10) ** 13  # 13 integer digits + 2 decimals = 15 significant digits


def _amounts(value) -> list[Decimal]:
    """Every amount in a part of the model (all are non-negative, so their sum bounds every
    total computed from them)."""
    if isinstance(value, Decimal):
        return [value]
    if isinstance(value, BaseModel):
        return [x for name in type(value).model_fields for x in _amounts(getattr(value, name))]
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in _amounts(item)]
    return []


def _whole_file_rules(budget: Budget, doc: RawDoc) -> list[Problem]:
    """Rules across fields that must hold before anything is computed: the work limits on the
    whole file, and the asset date against the budget year (both layouts print 上年末 figures)."""
    problems = []
    rows = sum(len(p.indicators) for p in budget.projects)
    if rows > MAX_INDICATORS:
        problems.append(error("规模上限", f"绩效指标共{rows}行，超过上限{MAX_INDICATORS}行"
                              "（见 docs/refused-input.md 的规模上限）", doc.locate_key(("projects",))))
    items = sum(len(g.items) for g in budget.procurement)
    if items > MAX_PROCUREMENT_ITEMS:
        problems.append(error("规模上限", f"政府采购明细共{items}行，超过上限{MAX_PROCUREMENT_ITEMS}行",
                              doc.locate_key(("procurement",))))
    for section in ("expenditure", "basic_economic", "projects", "procurement", "assets"):
        total = sum(_amounts(getattr(budget, section)), Decimal(0))
        if total >= _XLSX_LIMIT:
            problems.append(error("规模上限", f"{section} 中的数合计达{total}，由它们算出的合计会超过 XLSX 能精确保存的"
                                  "15位有效数字（PDF 与 XLSX 会显示不同的数）：请核对单位（金额以万元为单位）",
                                  doc.locate_key((section,))))
    if budget.assets is not None:
        want = datetime.date(budget.department.year - 1, 12, 31)
        if as_of_date(budget.assets.as_of) != want:
            problems.append(error("年度", f"assets.as_of：固定资产截止时间应为上年末{want.isoformat()}"
                                  f"（{budget.department.year}年预算公开的是上年末数），实为“{budget.assets.as_of}”",
                                  doc.locate(("assets", "as_of")), want.isoformat(), budget.assets.as_of))
    return problems


def build_model(doc: RawDoc) -> tuple[Budget | None, list[Problem]]:
    """Validate the raw tree into a Budget; every type error becomes a located problem."""
    from .infile import looks_like_department
    if not looks_like_department(doc.data, set(Budget.model_fields)):
        return None, [error("格式", "文件顶层没有任何部门预算文件的键（department、expenditure 等），"
                            "这不是部门预算文件（为免泄露内容，不列出其中的键）；请检查文件名", doc.locate(()))]
    department = doc.data.get("department") if isinstance(doc.data, dict) else None
    unit = department.get("unit") if isinstance(department, dict) else None
    context = {"unit": unit if unit in UNITS else "万元"}
    problems = _missing_expenditure(doc)
    try:
        budget = Budget.model_validate(doc.data, context=context)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            if err["type"] in ("extra_forbidden", "too_long", "too_short", "cell_too_long"):
                where = doc.locate_key(loc)  # a whole list or section: at its key
            else:
                where = doc.locate(loc)
            problems.append(error("格式", f"{_path_label(loc)}：{_message(err)}", where))
        return None, problems
    if problems:
        return None, problems
    # the whole-file rules do not stop computing (their errors still stop rendering): the
    # later rules, such as a unit's year against its department's, are reported too
    return budget, _whole_file_rules(budget, doc)


def _missing_expenditure(doc: RawDoc) -> list[Problem]:
    """A file of its own needs its spending; a department file listing its units may leave
    its 本级's out."""
    data = doc.data if isinstance(doc.data, dict) else {}
    if data.get("units") or data.get("expenditure", []) != []:
        return []
    if "expenditure" in data:
        return [error("格式", "expenditure：项数不对：应至少1项，实有0项", doc.locate_key(("expenditure",)))]
    return [error("格式", "缺少必填项“expenditure”（支出；列出所属单位 units 的部门文件可省略）",
                  doc.locate(()))]


def _path_label(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        elif isinstance(part, str) and not part.startswith(("function-", "lax-", "json-")):
            out += ("." if out else "") + part
    return out or "文件"
