"""The seeds' real mistakes, restored as erroneous variants of the examples: `check` must report
each one, at the right line, with the rule and the expected and found figures."""
from __future__ import annotations

from decimal import Decimal

from conftest import example_text, line_of, replace_once, run_variant
from generator.problems import Severity


def problems_of(result, rule):
    return [p for p in result.problems if p.rule == rule]


def test_examples_are_consistent(xigang, nanguan):
    for result in (xigang, nanguan):
        assert result.ok
        assert [p for p in result.problems if p.severity is Severity.ERROR] == []


def test_2025_project_plan_exceeding_its_budget():
    """Seed 2025, project 7 (RY, 13.53): printed plan 39/50/76/139 — the plan of both RY projects."""
    text = example_text("2025")
    bad = replace_once(text, "plan: [null, null, null, 13.53]", "plan: [39.00, 50.00, 76.00, 139.00]")
    result = run_variant(bad)
    found = problems_of(result, "项目-支出计划")
    line = line_of(bad, "plan: [39.00")
    assert [p.location.line for p in found] == [line] * 4
    assert [p.location.column for p in found] == [12, 19, 26, 33]  # each figure on the line
    last = found[-1]
    assert last.message == "项目“社区党组织服务群众专项经费（RY）”支出计划12月底累计139.00万元，超过预算数13.53万元"
    assert last.severity is Severity.ERROR and last.expected == "≤13.53万元" and last.found == "139.00万元"
    assert str(last).startswith(f"dept.yaml:{line}:33: 错误 [项目-支出计划] ")
    assert not result.ok


def test_2025_cost_indicator_inconsistent_with_amount_is_a_warning():
    text = example_text("2025")
    bad = replace_once(text, "≤135300元", "1390000元")
    result = run_variant(bad)
    found = problems_of(result, "项目-成本指标")
    assert len(found) == 1
    assert found[0].severity is Severity.WARNING
    assert found[0].location.line == line_of(bad, "1390000元")
    assert "折合139.00万元，与预算数13.53万元不一致" in found[0].message
    assert result.ok  # warnings do not block rendering


def test_2023_basic_spending_views_disagree_as_printed():
    """Seed 2023: 行政运行 basic 333.45 printed, yet 表六's 款 add up to 463.24, not 463.22."""
    text = example_text("2023")
    bad = text.replace("basic: 333.47", "basic: 333.45")
    result = run_variant(bad)
    found = problems_of(result, "基本支出-经济分类")
    assert len(found) == 1
    p = found[0]
    assert p.location.line == line_of(bad, "basic_economic:")
    assert (p.expected, p.found) == ("463.22万元", "463.24万元")
    assert not result.ok


def _with_controls(text: str, controls: dict) -> str:
    block = "control_totals:\n" + "".join(f"  {k}: {v}\n" for k, v in controls.items())
    return text.rstrip("\n") + "\n" + block


def test_2023_printed_totals_are_reported_against_the_leaves():
    """The seed's printed totals (合计 822.41, 基本 463.21, 人员 421.74, 公用 41.47, 三公 1.22 in
    the text, 资产总额 131.19) declared as control totals: each is an error at its own line."""
    printed = {"total": "822.41", "basic": "463.21", "personnel": "421.74", "public": "41.47",
               "three_public": "1.22", "assets": "131.19", "project": "359.20"}
    bad = _with_controls(example_text("2023"), printed)
    result = run_variant(bad)
    found = {p.location.line: p for p in problems_of(result, "控制数")}
    expected = {"total": "822.44", "basic": "463.24", "personnel": "421.75", "public": "41.49",
                "three_public": "1.05", "assets": "131.20"}
    assert len(found) == len(expected)  # project 359.20 is right
    for key, computed in expected.items():
        p = found[line_of(bad, f"  {key}: {printed[key]}", after="control_totals:")]
        assert (p.expected, p.found) == (f"{computed}万元", f"{printed[key]}万元")
    assert "财政拨款“三公”经费控制数1.22万元，与按明细计算的1.05万元不一致" in \
        found[line_of(bad, "  three_public: 1.22", after="control_totals:")].message


def test_2025_printed_totals_agree_with_the_leaves(xigang):
    """The 2025 seed's totals are right: its declared control totals all pass."""
    assert xigang.budget.control_totals.total == Decimal("2256.69")
    assert problems_of(xigang, "控制数") == []


def test_every_problem_is_reported_at_once():
    text = example_text("2025")
    bad = replace_once(text, "plan: [null, null, null, 13.53]", "plan: [39.00, 50.00, 76.00, 139.00]")
    bad = replace_once(bad, "{code: 30201, name: 办公费, amount: 11.40}",
                       "{code: 30201, name: 办公费, amount: 11.41}")
    bad = replace_once(bad, "  total: 2256.69", "  total: 2256.70")
    result = run_variant(bad)
    rules = {p.rule for p in result.problems if p.is_error}
    assert rules == {"项目-支出计划", "基本支出-经济分类", "控制数"}
