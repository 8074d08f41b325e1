"""Writing the imported department file: the input format's own style (flow mappings for table
lines, as in inputs/), every imported line followed by a comment naming its sheet and cell, and
at the end the list of workbook rows that were ignored, each with its reason."""
from __future__ import annotations

import json
import re
from decimal import Decimal

from .draft import Draft, Entry, amount_text, ignored_lines

_PLAIN = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`0-9.+~][^,\[\]{}#&*!|>'\"%@`:]*")
_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}
MONEY_KEYS = {"basic", "project", "operating", "remit", "subsidy", "amount", "other_funds", "budget",
              "value", "sme", "planned_purchase"}


def scalar(value: object, key: str = "", factor: int = 1) -> str:
    if isinstance(value, Decimal):
        if key == "quantity":
            return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
        return amount_text(value * factor)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.strip() == text and text.lower() not in _WORDS \
            and " #" not in text and "\n" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def flow(data: dict, factor: int = 1) -> str:
    parts = []
    for k, v in data.items():
        if k == "code" and isinstance(v, str) and v.isdigit() and not v.startswith("0"):
            parts.append(f"{k}: {v}")
        else:
            parts.append(f"{k}: {scalar(v, k, factor)}")
    return "{" + ", ".join(parts) + "}"


def _comment(origin: str) -> str:
    return f"  # {origin}" if origin else ""


def _list(lines: list[str], name: str, entries: list[Entry], heading: str, factor: int) -> None:
    if not entries:
        return
    lines += ["", f"# {heading}", f"{name}:"]
    for e in entries:
        lines.append(f"  - {flow(e.data, factor)}{_comment(e.origin)}")


def _project(lines: list[str], e: Entry, factor: int, prefix: str = "") -> None:
    data = e.data
    first = True
    for k, v in data.items():
        lead = f"{prefix}  - " if first else f"{prefix}    "
        first = False
        if k == "plan":
            lines.append(f"{lead}{k}: [{', '.join('null' if x is None else amount_text(x * factor) for x in v)}]")
        elif k == "goals":
            lines.append(f"{lead}{k}:")
            lines += [f"{prefix}      - {scalar(g)}" for g in v]
        elif k == "indicators":
            lines.append(f"{lead}{k}:")
            lines += [f"{prefix}      - [{', '.join(scalar(c) for c in row)}]" for row in v]
        elif k == "function_code" and isinstance(v, str) and v.isdigit() and not v.startswith("0"):
            lines.append(f"{lead}{k}: {v}")
        else:
            lines.append(f"{lead}{k}: {scalar(v, k, factor)}" + (_comment(e.origin) if k in ("code", "name") and
                                                          lead.endswith("- ") else ""))


def write_yaml(d: Draft) -> str:
    book = d.path.replace("\\", "/").rsplit("/", 1)[-1]
    lines = [f"# 由 budgetgen import 从工作簿“{book}”导入。",
             "# 只含末级数据；每行末尾的注释指出数字在工作簿中的位置（工作表!单元格）。",
             "# 工作簿的合计、小计和类/款行已在导入时逐一核对，主要合计写入 control_totals，check 时再核对一次。",
             "", "department:"]
    dept = d.department
    factor = 10000 if d.unit == "元" else 1
    if factor != 1:
        lines[1:1] = ["# 工作簿中有不是整百元的金额，本文件的金额以元为单位（department.unit: 元）。"]
    lines.append(f"  code: {json.dumps(str(dept.get('code', '')), ensure_ascii=False)}{_comment(d.department_origin)}")
    lines.append(f"  name: {scalar(dept.get('name', ''))}")
    lines.append(f"  year: {dept.get('year', '')}")
    lines.append(f"  edition: {d.layout}{_comment(d.layout_origin)}")
    if factor != 1:
        lines.append(f"  unit: 元  # {d.needs_yuan} 等金额不是整百元")
    _list(lines, "institutions", d.institutions, "机构设置", factor)
    if d.catalog["function"] or d.catalog["economic"]:
        lines += ["", "# 本文件补充的科目：工作簿中有、本年度分类目录中没有（check 会提醒核对）", "catalog:"]
        for kind in ("function", "economic"):
            if d.catalog[kind]:
                lines.append(f"  {kind}:")
                for e in d.catalog[kind]:
                    lines.append(f"    - {{code: {json.dumps(e.data['code'])}, name: {scalar(e.data['name'])}}}"
                                 f"{_comment(e.origin)}")
    _list(lines, "expenditure", d.expenditure, "支出（项级；来源为一般公共预算的省略 source）", factor)
    _list(lines, "basic_economic", d.basic_economic, "一般公共预算财政拨款基本支出（经济分类款级）", factor)
    if d.three_public:
        lines += ["", "# 财政拨款“三公”经费", "three_public:"]
        for e in d.three_public:
            (k, v), = e.data.items()
            lines.append(f"  {k}: {amount_text(v * factor)}{_comment(e.origin)}")
        for fund, entries in d.three_public_funds.items():
            lines.append(f"  {fund}:")
            for e in entries:
                (k, v), = e.data.items()
                if v:
                    lines.append(f"    {k}: {amount_text(v * factor)}{_comment(e.origin)}")
    if d.projects:
        lines += ["", "# 项目及绩效目标表（function_code 工作簿中没有，可补填）", "projects:"]
        for e in d.projects:
            _project(lines, e, factor)
    if d.projects_without_amount:
        lines += ["", "# 下列项目的绩效目标表不含预算数：填写 amount（万元）后去掉行首的 # 即可。"]
        block: list[str] = ["projects:"] if not d.projects else []
        for e in d.projects_without_amount:
            data = {k: v for k, v in e.data.items() if k in ("code", "name")}
            data["amount"] = "待填写"
            data.update(e.data)
            _project(block, Entry(data, e.origin), factor)
        lines += ["# " + x for x in block]
    if d.procurement:
        lines += ["", "# 政府采购预算（按项目来源分组）", "procurement:"]
        for g in d.procurement:
            lines.append(f"  - source: {scalar(g.data['source'])}{_comment(g.origin)}")
            lines.append(f"    budget: {amount_text(g.data['budget'] * factor)}")
            lines.append("    items:")
            for item in g.data["items"]:
                lines.append(f"      - {flow(item.data, factor)}{_comment(item.origin)}")
    if d.department_performance is not None:
        data = d.department_performance.data
        lines += ["", "# 部门整体支出绩效目标（工作簿未列的指标栏留空）", "department_performance:"]
        lines.append(f"  goals:{_comment(d.department_performance.origin)}" if data["goals"]
                     else "  goals: []")
        lines += [f"    - {scalar(g)}" for g in data["goals"]]
        lines.append("  indicators:" if data["indicators"] else "  indicators: []")
        lines += [f"    - [{', '.join(scalar(c) for c in row)}]" for row in data["indicators"]]
    if d.services:
        lines += ["", "# 政府购买服务", "purchased_services:"]
        for e in d.services:
            lines.append(f"  - {flow(e.data, factor)}{_comment(e.origin)}")
    if d.assets is not None:
        lines += ["", "# 固定资产（上年末）", "assets:"]
        for k, v in d.assets.data.items():
            if isinstance(v, dict):
                if v:
                    lines.append(f"  {k}: {flow(v, factor)}")
            else:
                lines.append(f"  {k}: {scalar(v, k, factor)}{_comment(d.assets.origin) if k == 'as_of' else ''}")

    if d.income:
        lines += ["", "# 收入（收支总表所列，check 时与按来源安排的支出核对）", "income:"]
        for e in d.income:
            (k, v), = e.data.items()
            if v:
                lines.append(f"  {k}: {amount_text(v * factor)}{_comment(e.origin)}")
    seen: set[str] = set()
    totals = []
    for e in d.control_totals:
        (k, v), = e.data.items()
        if k not in seen:
            seen.add(k)
            totals.append(f"  {k}: {amount_text(v * factor)}{_comment(e.origin)}")
    if totals:
        lines += ["", "# 工作簿所列的合计（批复控制数），只用于核对", "control_totals:"] + totals
    ignored = ignored_lines(d.ledger, d.sheets)
    if ignored:
        lines += ["", "# 工作簿中未导入也未用于核对的行："]
        lines += [f"#   {line}" for line in ignored]
    return "\n".join(lines) + "\n"
