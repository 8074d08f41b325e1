"""Sentences as data: a layout's Jinja2 text, checked when the layout loads and run in a sandbox.

A layout's `{template: …}` paragraphs and the wording of the program-made blocks (`three_public`,
`versus_prior`, `assets` …) are Jinja2 templates over a *documented, read-only context*: plain
str / int / bool / Decimal values, lists and records (dicts) built from the model — never a model
object (compute/sentences.py builds it). CONTEXT below is that documentation in code; docs/
layouts.md lists every name with an example, and a test keeps the two equal.

Safety, in three layers:
- at load, `check` parses the template and walks its syntax tree: only output, `if`, `for` over a
  context list (nested at most MAX_LOOP_DEPTH deep), comparisons, + − × ÷ on numbers, `~`, and
  the filters/tests listed below are allowed; every name and every `.field` must be one the
  context documents. No `set`, macro, call, include/import/extends (no loader: no file is ever
  read), no `**`, no underscore names. Each refusal is a TemplateProblem with the line and
  column inside the template; layout.py turns it into file:line:col.
- at render, the template runs in Jinja2's ImmutableSandboxedEnvironment (no attribute of a
  Python object outside the context, no mutation), with StrictUndefined; arithmetic accepts
  numbers only; the loops' worst case (longest list ** depth) and the output length are bounded.
- figures print through the one money rule: a Decimal in `{{ … }}` is shown by the formatter
  compute/ passes in (the layout's text unit, decimals and zero form), never by str().
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any
from collections.abc import Callable

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import pass_context

MAX_LOOP_DEPTH = 2  # {% for %} inside {% for %}, no deeper
MAX_ITERATIONS = 250_000  # the worst case of a template's loops: longest list ** depth
MAX_OUTPUT = 200_000  # characters one template may write
MAX_SOURCE = 20_000  # characters of one template
FORMAT_KEY = " money"  # where the money formatter sits in the context (no template can name it)


# where each template of a loaded layout file stands (filled by layout.build_layout), so that a
# template failing at render time is reported at its file:line:col
WHERE: dict[str, Any] = {}


class TemplateProblem(ValueError):
    """A template refused at load or at render: the message, and where in the template
    (1-based line and column; column 0 when unknown)."""

    def __init__(self, message: str, line: int = 1, column: int = 0, key: str = ""):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.key = key  # the layout key holding the template, when the error is raised above it


# --------------------------------------------------------------------------- the context's types

@dataclass(frozen=True)
class Rec:
    """A record (a dict with fixed keys); `fields` name → (type, what it holds)."""
    name: str
    fields: dict[str, tuple[Any, str]]


@dataclass(frozen=True)
class Lst:
    """A list of `item`."""
    item: Any


V = "值"  # a scalar: str, int, bool, Decimal or None

MONEY = "金额"
TEXT = "文字"
INT = "整数"
BOOL = "是否"


def _rec(name: str, **fields: tuple[Any, str]) -> Rec:
    return Rec(name, dict(fields))


CLASS_ROW = _rec(
    "科目",
    编码=(V, "科目编码（类3位、款5位、项7位）"), 名称=(V, "科目名称"),
    金额=(MONEY, "支出合计（全部资金来源）"), 占比=(V, "占支出合计的百分比（文字，两位小数，如“62.35”）"),
    基本支出=(MONEY, "其中基本支出"), 项目支出=(MONEY, "其中项目支出"),
    财政拨款=(MONEY, "财政拨款（一般公共预算、政府性基金、国有资本经营，含结转）安排的"),
    一般公共预算=(MONEY, "一般公共预算（含结转）安排的"), 政府性基金=(MONEY, "政府性基金（含结转）安排的"),
    国有资本经营=(MONEY, "国有资本经营预算（含结转）安排的"),
)
INCOME_ROW = _rec("收入来源", 名称=(V, "来源名称（版式 income_sources 的 label）"),
                  金额=(MONEY, "金额（为零也列出）"), 占比=(V, "占收入合计的百分比（文字）"),
                  来源=(V, "资金来源键，如 general"))
ECONOMIC_ROW = _rec("经济分类款", 编码=(V, "经济分类款级编码（5位）"), 名称=(V, "科目名称"),
                    金额=(MONEY, "一般公共预算基本支出"), 类型=(V, "“人员经费”或“公用经费”"))
THREE_ROW = _rec("三公项目", 键=(V, "项目键：overseas、vehicle、vehicle_purchase、vehicle_operation、reception"),
                 名称=(V, "项目名称，如“公务接待费”"), 金额=(MONEY, "本年预算（财政拨款，三类资金合计）"),
                 上年=(MONEY, "上年预算；部门文件没写上年数时为空（none）"),
                 变化=(MONEY, "本年减上年（负数为减少）；没有上年数时为空（none）"),
                 原因=(V, "部门文件写的增减原因（可为空文字）"))
PROJECT_ROW = _rec("项目", 编码=(V, "项目编码"), 名称=(V, "项目名称"), 金额=(MONEY, "项目预算（财政资金＋其他资金）"),
                   财政资金=(MONEY, "财政资金"), 其他资金=(MONEY, "其他资金"), 科目=(V, "功能分类项级编码（可为空）"))
PROJECT_GROUP = _rec("项目组", 名称=(V, "项目名称（去掉末尾的（RY）等标记后相同的合为一组）"),
                     金额=(MONEY, "财政资金合计"))
UNIT_ROW = _rec("构成单位", 名称=(V, "单位名称"), 性质=(V, "单位性质，如“行政单位”"),
                编制=(V, "编制数（整数；没写为空）"), 实有=(V, "实有人数（整数；没写为空）"))
INSTITUTION_ROW = _rec("机构", 名称=(V, "名称"), 性质=(V, "单位性质"), 规格=(V, "单位规格"),
                       经费形式=(V, "经费保障形式"))
LOOP = _rec("loop", index=(V, "第几次（从1数）"), index0=(V, "第几次（从0数）"), first=(V, "是否第一次"),
            last=(V, "是否最后一次"), length=(V, "共几次"), revindex=(V, "还剩几次（含本次）"),
            revindex0=(V, "还剩几次（不含本次）"))

FUND_KEYS = ("general", "gov_fund", "soe", "special_account", "institution", "operating", "superior",
             "affiliate", "other", "carryover_general", "carryover_gov_fund", "carryover_soe",
             "carryover_other", "all", "fiscal", "unit", "current", "carryover", "carryover_fiscal")
FUNDS = Rec("资金", {k: (MONEY, "") for k in FUND_KEYS})
THREE_KEYS = ("overseas", "vehicle", "vehicle_purchase", "vehicle_operation", "reception", "meeting",
              "training")
THREE = Rec("三公", {k: (THREE_ROW, "") for k in THREE_KEYS})
TABLE_KINDS = ("summary", "function", "fiscal_summary", "economic", "three_public", "projects",
               "procurement", "services", "project_goals", "department_goals", "assets", "institutions")
HAS_TABLE = Rec("有表", {k: (BOOL, "") for k in TABLE_KINDS})
TABLE_TITLE = Rec("表名", {k: (TEXT, "") for k in TABLE_KINDS})
PRIOR = _rec("上年预算", 年度=(V, "上年年度"), 基本支出=(MONEY, "上年基本支出"), 项目支出=(MONEY, "上年项目支出"),
             支出合计=(MONEY, "上年基本支出＋项目支出"), 三公经费=(MONEY, "上年“三公”经费（没写为空）"),
             合计原因=(V, "收支总额增减原因（prior_year.reasons.total）"),
             基本支出原因=(V, "基本支出增减原因"), 项目支出原因=(V, "项目支出增减原因"),
             三公经费原因=(V, "“三公”经费增减原因"))
CHANGE = _rec("比上年", 支出合计=(MONEY, "支出合计减上年（没有上年数为空）"),
              基本支出=(MONEY, "基本支出减上年"), 项目支出=(MONEY, "项目支出减上年"),
              三公经费=(MONEY, "“三公”经费减上年（上年没写为空）"))
GOALS = _rec("绩效", 总体=(Lst(V), "总体绩效目标（段落列表）"), 分项=(Lst(V), "分项绩效目标"),
             保障=(Lst(V), "工作保障措施"))


@dataclass(frozen=True)
class Entry:
    type: Any
    what: str
    example: str  # a sentence using it, as docs/layouts.md shows it


CONTEXT: dict[str, Entry] = {
    # who and when
    "部门": Entry(TEXT, "部门（单位）全称", "{{ 部门 }}2025年收入预算…"),
    "编码": Entry(TEXT, "部门编码", "{{ 编码 }}{{ 部门 }}"),
    "年度": Entry(INT, "预算年度", "{{ 年度 }}年收入预算"),
    "上年": Entry(INT, "上年年度（prior_year.year，默认年度减一）", "较{{ 上年 }}年增加"),
    "单位": Entry(TEXT, "说明中金额的单位（万元或元）", "{{ 收入合计 }}{{ 单位 }}"),
    "含所属单位": Entry(BOOL, "部门包括所属单位（列了 units，或机构、单位构成多于一个）",
                        "{{ 部门 }}{% if 含所属单位 %}（含所属单位）{% endif %}"),
    # totals
    "收入合计": Entry(MONEY, "收入总计（含上年结转）", "收入预算{{ 收入合计 }}{{ 单位 }}"),
    "支出合计": Entry(MONEY, "支出总计", "支出预算{{ 支出合计 }}{{ 单位 }}"),
    "本年收入": Entry(MONEY, "本年收入（不含上年结转）", "本年收入{{ 本年收入 }}{{ 单位 }}"),
    "上年结转": Entry(MONEY, "上年结转结余", "{% if 上年结转 %}上年结转{{ 上年结转 }}{{ 单位 }}{% endif %}"),
    "基本支出": Entry(MONEY, "基本支出", "基本支出{{ 基本支出 }}{{ 单位 }}"),
    "项目支出": Entry(MONEY, "项目支出", "项目支出{{ 项目支出 }}{{ 单位 }}"),
    "人员经费": Entry(MONEY, "人员经费（经济分类的人员类款）", "人员经费{{ 人员经费 }}{{ 单位 }}"),
    "公用经费": Entry(MONEY, "公用经费（机关运行经费）", "机关运行经费{{ 公用经费 }}{{ 单位 }}"),
    "经营支出": Entry(MONEY, "经营支出", "经营支出{{ 经营支出 }}{{ 单位 }}"),
    "上缴上级支出": Entry(MONEY, "上缴上级支出", "上缴上级支出{{ 上缴上级支出 }}{{ 单位 }}"),
    "对附属单位补助支出": Entry(MONEY, "对附属单位补助支出", "{{ 对附属单位补助支出 }}{{ 单位 }}"),
    "三公经费": Entry(MONEY, "财政拨款“三公”经费合计", "“三公”经费{{ 三公经费 }}{{ 单位 }}"),
    "采购合计": Entry(MONEY, "政府采购预算合计", "{% if 采购合计 %}政府采购预算{{ 采购合计 }}{{ 单位 }}{% endif %}"),
    "中小企业份额": Entry(MONEY, "预留中小企业份额", "预留中小企业份额{{ 中小企业份额 }}{{ 单位 }}"),
    "资产总额": Entry(MONEY, "上年末固定资产合计（没写 assets 为0）", "固定资产{{ 资产总额 }}{{ 单位 }}"),
    "拟购置资产": Entry(MONEY, "本年度拟购置固定资产", "{% if 拟购置资产 %}拟购置{{ 拟购置资产 }}{{ 单位 }}{% endif %}"),
    "资产截止": Entry(TEXT, "固定资产截止时间（没写为空文字）", "截至{{ 资产截止 }}"),
    "购买服务合计": Entry(MONEY, "政府购买服务预算合计", "政府购买服务{{ 购买服务合计 }}{{ 单位 }}"),
    "资金": Entry(FUNDS, "各资金来源（或组）的支出合计：资金.general、资金.gov_fund、资金.fiscal……",
                  "{% if not 资金.gov_fund %}本单位无政府性基金预算拨款安排的支出。{% endif %}"),
    # presence
    "有上年": Entry(BOOL, "部门文件写了 prior_year", "{% if 有上年 %}较{{ 上年 }}年{{ 比上年.支出合计|增减 }}{% endif %}"),
    "有资产": Entry(BOOL, "部门文件写了 assets", "{% if not 有资产 %}无固定资产信息。{% endif %}"),
    "项目个数": Entry(INT, "项目个数", "{% if 项目个数 %}{{ 项目个数 }}个项目{% endif %}"),
    "有表": Entry(HAS_TABLE, "版式是否印某种表（报表部分或说明中）：有表.procurement、有表.assets……（键同表的 kind）",
                  "{% if 有表.procurement %}详见政府采购预算表。{% endif %}"),
    "表名": Entry(TABLE_TITLE, "版式中某种表的表名（第一张；没有为空文字），键同表的 kind",
                  "{% if 有表.procurement %}详见{{ 表名.procurement }}。{% endif %}"),
    # comparisons
    "上年预算": Entry(PRIOR, "上年预算数与增减原因（没有 prior_year 时各项为空）",
                      "{{ 上年预算.基本支出原因 }}"),
    "比上年": Entry(CHANGE, "本年减上年（没有上年数为空，用 is none 判断）",
                    "{% if 比上年.支出合计 is not none %}比上年{{ 比上年.支出合计|增减 }}{% endif %}"),
    # lists
    "收入列表": Entry(Lst(INCOME_ROW), "各收入来源，为零也列出（名称与顺序见版式 income_sources）",
                      "{% for s in 收入列表 %}{{ s.名称 }}{{ s.金额 }}{{ 单位 }}{{ '，' if not loop.last }}{% endfor %}"),
    "类列表": Entry(Lst(CLASS_ROW), "支出按功能分类的类（代码顺序）",
                    "{% for c in 类列表 %}{{ c.名称 }}{{ c.金额 }}{{ 单位 }}，占{{ c.占比 }}%；{% endfor %}"),
    "款列表": Entry(Lst(CLASS_ROW), "支出按功能分类的款", "{% for c in 款列表 %}{{ c.名称 }}{{ c.金额 }}{{ 单位 }}；{% endfor %}"),
    "项列表": Entry(Lst(CLASS_ROW), "支出按功能分类的项", "{% for c in 项列表 if c.项目支出 %}{{ c.名称 }}{% endfor %}"),
    "经济分类列表": Entry(Lst(ECONOMIC_ROW), "一般公共预算基本支出的经济分类款",
                          "{% for e in 经济分类列表 if e.类型 == '公用经费' %}{{ e.名称 }}{{ e.金额 }}{{ 单位 }}{% endfor %}"),
    "三公列表": Entry(Lst(THREE_ROW), "“三公”经费各项：因公出国（境）费、公务用车购置费、公务用车运行维护费、公务接待费",
                      "{% for i in 三公列表 %}{{ i.名称 }}{{ i.金额 }}{{ 单位 }}{% endfor %}"),
    "三公": Entry(THREE, "“三公”经费各项，按键取：三公.overseas、三公.vehicle（购置＋运行）、三公.reception……；"
                  "三公.meeting 会议费、三公.training 培训费（不计入“三公”经费）",
                  "公务接待费{{ 三公.reception.金额 }}{{ 单位 }}"),
    "项目": Entry(Lst(PROJECT_ROW), "各项目（部门文件的顺序）", "{% for p in 项目 %}{{ p.名称 }}{{ p.金额 }}{{ 单位 }}{% endfor %}"),
    "项目分组": Entry(Lst(PROJECT_GROUP), "按名称合并的项目（同 {项目列表}）",
                      "{% for p in 项目分组 %}{{ p.名称 }}{{ p.金额 }}{{ 单位 }}{% endfor %}"),
    "单位构成": Entry(Lst(UNIT_ROW), "部门文件 composition.units：纳入本部门预算的单位",
                      "{% for u in 单位构成 %}{{ u.名称 }}（{{ u.性质 }}）{% endfor %}"),
    "编制合计": Entry(INT, "单位构成的编制数合计（没写为0）", "编制{{ 编制合计 }}人"),
    "实有合计": Entry(INT, "单位构成的实有人数合计（没写为0）", "实有{{ 实有合计 }}人"),
    "职责": Entry(Lst(V), "部门职责（段落列表）", "{{ 职责|join('') }}"),
    "机构": Entry(Lst(INSTITUTION_ROW), "机构设置", "{% for i in 机构 %}{{ i.名称 }}{% endfor %}"),
    "绩效": Entry(GOALS, "部门整体绩效目标", "{{ 绩效.总体|join('') }}"),
}

# names a block's own wording may use besides CONTEXT (layout.py checks them with the block)
BLOCK_NAMES: dict[str, dict[str, Entry]] = {
    "assets": {"附表": Entry(BOOL, "assets 块：固定资产表紧随其后（table: true）",
                             "{{ 资产总额 }}{{ 单位 }}{% if 附表 %}（详见下表）{% endif %}")},
}

# --------------------------------------------------------------------------- filters and tests

FILTERS_DOC = {
    "增减": ("一个差额 → “增加X万元”“减少X万元”或“持平”；可改用词：增减('增长','下降','持平')",
             "较上年{{ 比上年.支出合计|增减 }}"),
    "占比": ("占另一个数的百分比，两位小数（分母为零时为0.00）", "占{{ 基本支出|占比(支出合计) }}%"),
    "金额": ("按金额规则印出的文字（不带单位），用于 ~ 连接", "{{ '合计' ~ (收入合计|金额) }}"),
    "汉字数字": ("1 → 一，12 → 十二", "{% for c in 类列表 %}（{{ loop.index|汉字数字 }}）{{ c.名称 }}{% endfor %}"),
    "join": ("用分隔符连接列表的文字", "{{ 职责|join('') }}"),
    "length": ("列表的项数", "{{ 类列表|length }}个类"),
    "first": ("列表的第一项", "{{ (类列表|first).名称 }}"),
    "last": ("列表的最后一项", "{{ (类列表|last).名称 }}"),
    "abs": ("绝对值", "{{ 比上年.支出合计|abs }}"),
}
TESTS = ("none", "number", "string", "odd", "even", "divisibleby", "eq", "ne", "lt", "le", "gt", "ge",
         "in", "sameas")

_ALLOWED_BINOPS = (nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod)
_ALLOWED = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Const, nodes.If, nodes.CondExpr,
            nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Pos, nodes.Compare, nodes.Operand,
            nodes.Concat, nodes.List, nodes.Tuple, nodes.Keyword) + _ALLOWED_BINOPS
_WHAT = {
    "Call": "调用函数或方法", "Assign": "{% set %}", "AssignBlock": "{% set %}", "Macro": "{% macro %}",
    "CallBlock": "{% call %}", "Include": "{% include %}（版式不能读文件）", "Import": "{% import %}（版式不能读文件）",
    "FromImport": "{% from … import %}（版式不能读文件）", "Extends": "{% extends %}（版式不能读文件）",
    "Block": "{% block %}", "With": "{% with %}", "FilterBlock": "{% filter %}", "Pow": "乘方 **",
    "Dict": "字典字面量", "ExprStmt": "{% do %}", "Scope": "作用域", "ScopedEvalContextModifier": "{% autoescape %}",
    "Slice": "切片", "Continue": "{% continue %}", "Break": "{% break %}",
}


_NEEDLE = {"Call": "(", "Assign": "set", "AssignBlock": "set", "Macro": "macro", "CallBlock": "call",
           "Include": "include", "Import": "import", "FromImport": "from", "Extends": "extends",
           "Block": "block", "With": "with", "FilterBlock": "filter", "Pow": "**", "Dict": "{",
           "ExprStmt": "do", "Slice": ":", "Continue": "continue", "Break": "break"}
_OPERATOR = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "FloorDiv": "//", "Mod": "%", "Neg": "-", "Pos": "+"}


def _describe(t: Any) -> str:
    if isinstance(t, Rec):
        return f"记录（{'、'.join(t.fields)}）" if len(t.fields) <= 12 else "记录"
    if isinstance(t, Lst):
        return "列表"
    return str(t)


class _Checker:
    """Walks a parsed template: every node kind allowed, every name and field documented."""

    def __init__(self, source: str, names: dict[str, Entry]):
        self.lines = source.split("\n")
        self.names = names
        self.depth = 0
        self.max_depth = 0
        self.used: set[str] = set()  # the context names the template reads

    def fail(self, node: Any, message: str, needle: str = "") -> TemplateProblem:
        line = getattr(node, "lineno", 1) or 1
        col = 0
        if needle and 0 < line <= len(self.lines):
            at = self.lines[line - 1].find(needle)
            col = at + 1 if at >= 0 else 0
            if col == 0:  # Jinja numbers a tag's line by where the tag ends: look back
                for back in range(line - 1, 0, -1):
                    at = self.lines[back - 1].find(needle)
                    if at >= 0:
                        line, col = back, at + 1
                        break
        return TemplateProblem(message, line, col)

    def type_of(self, node: Any, scope: dict[str, Any]) -> Any:
        """Check `node` and return the type it has (V, Rec or Lst)."""
        if isinstance(node, nodes.Name):
            if node.name.startswith("_"):
                raise self.fail(node, f"不能使用以下划线开头的名称“{node.name}”", node.name)
            if node.name in scope:
                return scope[node.name]
            if node.name in self.names:
                self.used.add(node.name)
                return self.names[node.name].type
            raise self.fail(node, f"未知的名称“{node.name}”；可用的名称见 docs/layouts.md：" + "、".join(
                list(scope) + list(self.names)), node.name)
        if isinstance(node, (nodes.Getattr, nodes.Getitem)):
            if isinstance(node, nodes.Getattr):
                key: Any = node.attr
            elif isinstance(node.arg, nodes.Const):
                key = node.arg.value
            else:
                raise self.fail(node, "方括号里只能写固定的名称或序号，如 资金['general']、类列表[0]")
            base = self.type_of(node.node, scope)  # the innermost mistake first
            if isinstance(key, str) and key.startswith("_"):
                raise self.fail(node, f"不能访问以下划线开头的属性“{key}”", key)
            if isinstance(base, Rec):
                if key not in base.fields:
                    raise self.fail(node, f"“{base.name}”没有“{key}”；可用：{'、'.join(base.fields)}", str(key))
                return base.fields[key][0]
            if isinstance(base, Lst) and isinstance(key, int) and not isinstance(key, bool):
                return base.item
            raise self.fail(node, f"{_describe(base)}没有“{key}”", str(key))
        if isinstance(node, nodes.Filter):
            base = self.type_of(node.node, scope) if node.node is not None else V
            if node.name not in FILTERS_DOC:
                raise self.fail(node, f"未知的过滤器“{node.name}”；可用：{'、'.join(FILTERS_DOC)}", node.name)
            if node.dyn_args is not None or node.dyn_kwargs is not None or node.kwargs:
                raise self.fail(node, f"过滤器“{node.name}”只接受按位置写的参数", node.name)
            for arg in node.args:
                self.type_of(arg, scope)
            if node.name in ("first", "last"):
                return base.item if isinstance(base, Lst) else V
            return V
        if isinstance(node, nodes.Test):
            if node.name not in TESTS:
                raise self.fail(node, f"未知的判断“is {node.name}”；可用：{'、'.join(TESTS)}", node.name)
            if node.dyn_args is not None or node.dyn_kwargs is not None or node.kwargs:
                raise self.fail(node, f"判断“{node.name}”只接受按位置写的参数", node.name)
            self.type_of(node.node, scope)
            for arg in node.args:
                self.type_of(arg, scope)
            return V
        if isinstance(node, nodes.Const):
            return V
        if isinstance(node, (nodes.List, nodes.Tuple)):
            for item in node.items:
                self.type_of(item, scope)
            return Lst(V)
        if isinstance(node, nodes.For):
            return self.check_for(node, scope)
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                shown = self.type_of(child, scope)
                if isinstance(shown, (Rec, Lst)):
                    raise self.fail(child, f"不能直接印出{_describe(shown)}：请写出字段（如 c.名称），或用 join 连接文字列表")
            return V
        if isinstance(node, nodes.Concat):
            for child in node.nodes:
                if self.type_of(child, scope) == MONEY:
                    raise self.fail(child, "金额用 ~ 连接前请先写 |金额（按金额规则印出），如 (收入合计|金额)", "~")
            return V
        if isinstance(node, _ALLOWED_BINOPS + (nodes.Neg, nodes.Pos)):
            for operand in node.iter_child_nodes():
                if isinstance(operand, (nodes.List, nodes.Tuple)) or (
                        isinstance(operand, nodes.Const) and not _is_number(operand.value)):
                    raise self.fail(node, "只能对数字做算术（+ − × ÷）；连接文字请用 ~", _OPERATOR.get(type(node).__name__, ""))
        if isinstance(node, _ALLOWED):
            kinds = [self.type_of(child, scope) for child in node.iter_child_nodes()]
            money = isinstance(node, _ALLOWED_BINOPS + (nodes.Neg, nodes.Pos, nodes.CondExpr))
            return MONEY if money and MONEY in kinds else V
        kind = type(node).__name__
        raise self.fail(node, f"版式文字不支持{_WHAT.get(kind, kind)}：只能用输出、if、for、比较、算术和所列的过滤器",
                        _NEEDLE.get(kind, ""))

    def check_for(self, node: nodes.For, scope: dict[str, Any]) -> Any:
        if node.recursive:
            raise self.fail(node, "不支持递归循环（recursive）", "recursive")
        if not isinstance(node.target, nodes.Name):
            raise self.fail(node, "循环变量只能是一个名称，如 {% for c in 类列表 %}", "for")
        over = self.type_of(node.iter, scope)
        if not isinstance(over, Lst):
            raise self.fail(node, f"只能对列表循环，“{_describe(over)}”不是列表", "for")
        self.depth += 1
        if self.depth > MAX_LOOP_DEPTH:
            raise self.fail(node, f"循环最多嵌套{MAX_LOOP_DEPTH}层", f"for {node.target.name} in")
        self.max_depth = max(self.max_depth, self.depth)
        inner = dict(scope, **{node.target.name: over.item, "loop": LOOP})
        if node.test is not None:
            self.type_of(node.test, dict(scope, **{node.target.name: over.item}))
        for child in node.body:
            self.type_of(child, inner)
        for child in node.else_:
            self.type_of(child, scope)
        self.depth -= 1
        return V


# --------------------------------------------------------------------------- the sandbox

def _is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, with arithmetic on numbers only (no "x" * 10**9)."""
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"-", "+"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("乘方不可用")
        if not (_is_number(left) and _is_number(right)):
            raise SecurityError(f"只能对数字做算术（{operator}）")
        left, right = Decimal(left), Decimal(right)
        if operator in ("/", "//", "%") and right == 0:
            raise SecurityError("除数为零")
        return super().call_binop(context, operator, left, right)

    def call_unop(self, context: Context, operator: str, arg: Any) -> Any:
        if not _is_number(arg):
            raise SecurityError(f"只能对数字取{operator}")
        return super().call_unop(context, operator, arg)


def _formatter(context: Context) -> Callable[[Decimal], str]:
    return context.get(FORMAT_KEY) or (lambda v: f"{v:.2f}")


@pass_context
def _show(context: Context, value: Any) -> Any:
    """What {{ … }} prints: amounts by the money rule, 是/否, never "None"."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return _formatter(context)(value)
    if value is None:
        raise SecurityError("要印出的值为空（none）：先用 {% if … is not none %} 判断")
    if isinstance(value, (dict, list, tuple)):
        raise SecurityError("不能直接印出记录或列表：请写出字段，如 c.名称，或用 join")
    return value


@pass_context
def _change(context: Context, value: Any, up: str = "增加", down: str = "减少", same: str = "持平") -> str:
    if value is None:
        raise SecurityError("增减：值为空（没有上年数）")
    if not _is_number(value):
        raise SecurityError("增减：只用于数字")
    unit = context.get("单位", "")
    fmt = _formatter(context)
    value = Decimal(value)
    if value > 0:
        return f"{up}{fmt(value)}{unit}"
    if value < 0:
        return f"{down}{fmt(-value)}{unit}"
    return same


def _share(value: Any, whole: Any) -> str:
    if not (_is_number(value) and _is_number(whole)):
        raise SecurityError("占比：只用于数字")
    if not whole:
        return "0.00"
    from .money import fmt_text
    return fmt_text(Decimal(value) * 100 / Decimal(whole))


@pass_context
def _money(context: Context, value: Any) -> str:
    if not _is_number(value):
        raise SecurityError("金额：只用于数字")
    return _formatter(context)(Decimal(value))


def _cn(value: Any) -> str:
    from .catalog import cn_number
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 100:
        raise SecurityError("汉字数字：只用于 1–99 的整数")
    return cn_number(value)


def _join(value: Any, sep: str = "") -> str:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise SecurityError("join：只用于文字的列表")
    sep = str(sep)
    if sum(map(len, value)) + len(sep) * max(len(value) - 1, 0) > MAX_OUTPUT:
        raise SecurityError(f"join：连接后的文字超过{MAX_OUTPUT}个字符")
    return sep.join(value)


def _env() -> _Sandbox:
    env = _Sandbox(undefined=StrictUndefined, autoescape=False, finalize=_show, trim_blocks=True,
                   lstrip_blocks=True, keep_trailing_newline=False, loader=None, cache_size=0)
    env.globals.clear()  # no range, lipsum, dict, cycler, joiner, namespace
    builtin = env.filters
    env.filters = {"增减": _change, "占比": _share, "金额": _money, "汉字数字": _cn, "join": _join,
                   "length": builtin["length"], "first": builtin["first"], "last": builtin["last"],
                   "abs": builtin["abs"]}
    env.tests = {k: v for k, v in env.tests.items() if k in TESTS}
    return env


ENV = _env()


@dataclass(frozen=True)
class Checked:
    source: str
    depth: int  # deepest loop nesting
    template: Any = field(compare=False, repr=False)
    names: frozenset[str] = frozenset()  # the context names it reads


@lru_cache(maxsize=512)
def check(source: str, block: str = "") -> Checked:
    """Parse and check a template (the names of CONTEXT, and of BLOCK_NAMES[block]); raise
    TemplateProblem, located inside the template, for anything not allowed."""
    if len(source) > MAX_SOURCE:
        raise TemplateProblem(f"模板太长：至多{MAX_SOURCE}个字符")
    try:
        tree = ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"模板语法错误：{_syntax_message(exc)}", exc.lineno or 1) from None
    names = dict(CONTEXT, **BLOCK_NAMES.get(block, {}))
    checker = _Checker(source, names)
    for child in tree.body:
        checker.type_of(child, {})
    return Checked(source, checker.max_depth, ENV.from_string(tree), frozenset(checker.used))


def _syntax_message(exc: TemplateSyntaxError) -> str:
    """Jinja2's (English) syntax message, said in Chinese."""
    text = str(exc.message or "")
    if "unknown tag" in text.lower() or "encountered unknown tag" in text.lower():
        tag = re.search(r"'([^']*)'", text)
        return (f"未知的标签“{tag.group(1) if tag else ''}”：只能用 if/elif/else/endif、for/else/endfor"
                "（结束标签是否多写或少写了？）")
    if "end of template" in text.lower():
        return "模板不完整：有未结束的 {% if %}、{% for %}、{{ 或 {%（缺少 endif、endfor、}} 或 %}）"
    if "expected an expression" in text.lower():
        return "这里缺少要判断或要印出的内容（如 {% if 收入合计 %}）"
    if "expected token" in text.lower() or "unexpected" in text.lower():
        return "有多余、缺少或写错的符号（检查括号、引号、%} 与 }} 是否成对）"
    return "这一处的 {{ … }} 或 {% … %} 写法不对"


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def render(checked: Checked, context: dict[str, Any], money: Callable[[Decimal], str]) -> str:
    """Run a checked template over a context; TemplateProblem for what goes wrong at run time
    (an empty value printed, a figure that is not a number, loops or output too large)."""
    longest = max([len(v) for v in context.values() if isinstance(v, list)] + [1])
    if checked.depth and longest ** checked.depth > MAX_ITERATIONS:
        raise TemplateProblem(f"循环次数过多：嵌套{checked.depth}层的循环最多要走{longest ** checked.depth}次"
                              f"（上限{MAX_ITERATIONS}次）")
    out: list[str] = []
    size = 0
    try:
        for piece in checked.template.generate(dict(context, **{FORMAT_KEY: money})):
            size += len(piece)
            if size > MAX_OUTPUT:
                raise TemplateProblem(f"模板印出的文字太长：超过{MAX_OUTPUT}个字符")
            out.append(piece)
    except TemplateProblem:
        raise
    except SecurityError as exc:
        raise TemplateProblem(str(exc), _lineno(exc)) from None
    except TemplateError as exc:
        raise TemplateProblem(f"模板运行出错：{exc}", _lineno(exc)) from None
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise TemplateProblem(f"模板运行出错：{type(exc).__name__}", _lineno(exc)) from None
    return "".join(out)


def _lineno(exc: BaseException) -> int:
    """The template line an exception was raised from (Jinja marks its compiled frames)."""
    tb = exc.__traceback__
    line = 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            dbg = tb.tb_frame.f_globals.get("__jinja_template__")
            if dbg is not None:
                line = dbg.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return line


def paragraphs(text: str) -> list[str]:
    """A template's output as paragraphs: a blank line separates two paragraphs; the lines of one
    paragraph are joined without a space (Chinese prose), each stripped of its indentation."""
    out = []
    for block in re.split(r"\n[ \t\u3000]*\n", text):
        joined = "".join(line.strip() for line in block.split("\n"))
        if joined:
            out.append(joined)
    return out
