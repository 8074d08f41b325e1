"""The inspector's rules (财政部 预决算公开检查, 《地方预决算公开操作规程》财预〔2016〕143号):
each finds a crafted omission, located, and finds nothing on the two seed examples.

docs/inspector-rules.md lists the rules with their sources.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.pipeline import run
from conftest import ROOT, example_text, line_of, replace_once, run_variant

LAYOUTS = ROOT / "generator" / "layouts"


def _rule(result, rule):
    return [p for p in result.problems if p.rule == rule]


def _with_layout(tmp_path: Path, edit_layout, text: str | None = None, key: str = "hebei-2025"):
    """The 2025 example under an edited copy of a built-in layout (a layout file beside it)."""
    layout = edit_layout((LAYOUTS / f"{key}.yaml").read_text(encoding="utf-8"))
    (tmp_path / "lay.yaml").write_text(layout, encoding="utf-8")
    dept = replace_once(text or example_text("2025"), "edition: hebei-2025", "edition: lay.yaml")
    path = tmp_path / "dept.yaml"
    path.write_text(dept, encoding="utf-8")
    return run(path), dept


INSPECTOR_RULES = ("公开检查-必备表", "公开检查-空表说明", "公开检查-三公", "公开检查-机关运行经费",
                   "公开检查-政府采购", "公开检查-绩效目标", "公开检查-占位符", "公开检查-年度", "三公-经济分类",
                   "未完成-绩效目标")


@pytest.mark.parametrize("layout", [None, "beijing-2025"])
def test_the_seed_examples_pass_every_inspector_rule(layout):
    for path in (ROOT / "inputs" / "524-xigang-2025.yaml", ROOT / "inputs" / "612-nanguan-2023.yaml"):
        result = run(path, layout=layout)
        assert result.ok
        found = [str(p) for p in result.problems if p.rule in INSPECTOR_RULES]
        assert found == [], found


def test_required_table_missing(tmp_path):
    def drop_gov_fund(text):
        return re.sub(r"  - kind: function\n    title: 部门预算政府性基金预算财政拨款支出表\n(    .*\n)+", "", text)
    result, dept = _with_layout(tmp_path, drop_gov_fund)
    (p,) = _rule(result, "公开检查-必备表")
    assert "政府性基金预算支出表" in p.message and "财预" not in p.message
    assert p.location.line == line_of(dept, "edition: lay.yaml")


def test_empty_table_needs_its_note(tmp_path):
    no_procurement = re.sub(r"\nprocurement:\n(  .*\n|\n)*?(?=\S)", "\n", example_text("2025"), count=1)
    no_procurement = re.sub(r"  procurement: [0-9.]+.*\n", "", no_procurement)

    def drop_note(text):
        return replace_once(text, "          empty_note: 注：无政府采购预算，空表列示。\n", "")
    result, dept = _with_layout(tmp_path, drop_note, no_procurement)
    assert result.ok, [str(p) for p in result.problems if p.is_error]
    (p,) = _rule(result, "公开检查-空表说明")
    assert "部门政府采购预算" in p.message and p.location.line == line_of(dept, "edition: lay.yaml")
    # with its note, the same empty table is in order
    assert _rule(run_variant(no_procurement), "公开检查-空表说明") == []


def test_three_public_table_splits_the_vehicle_items(tmp_path):
    def merge_vehicles(text):
        text = replace_once(text, '      - {label: "    其中：公务用车购置费", items: [vehicle_purchase], level: 2}\n', "")
        return replace_once(text, '      - {label: "          公务用车运行维护费", items: [vehicle_operation], level: 2}\n', "")
    result, _ = _with_layout(tmp_path, merge_vehicles)
    (p,) = _rule(result, "公开检查-三公")
    assert "公务用车购置费、公务用车运行维护费" in p.message


def test_running_costs_for_administrative_units_only():
    text = example_text("2025")
    # a 事业 unit: the layout's 机关运行经费 sentence is not for it
    result = run_variant(replace_once(text, "  edition: hebei-2025\n", "  edition: hebei-2025\n  nature: 事业\n"))
    (p,) = _rule(result, "公开检查-机关运行经费")
    assert "事业" in p.message and p.location.line == line_of(text, "edition: hebei-2025") + 1
    # 参公 (as the department's nature) is stated like 行政: in order
    ok = run_variant(replace_once(text, "  edition: hebei-2025\n", "  edition: hebei-2025\n  nature: 参公\n"))
    assert _rule(ok, "公开检查-机关运行经费") == []


def test_running_costs_missing_for_an_administrative_unit(tmp_path):
    def drop_section(text):
        return replace_once(text, "  - key: operating\n    heading: 机关运行经费安排情况\n    content: [operating]\n", "")
    result, _ = _with_layout(tmp_path, drop_section)
    (p,) = _rule(result, "公开检查-机关运行经费")
    assert "行政" in p.message and "没有机关运行经费" in p.message


def test_procurement_items_split_into_goods_works_services():
    text = example_text("2025")
    bad = run_variant(replace_once(text, "catalog: C13050100", "catalog: 13050100"))
    (p,) = _rule(bad, "公开检查-政府采购")
    assert "清扫服务" in p.message and p.location.line == line_of(text, "C13050100")
    assert p.found == "13050100"


def test_every_project_has_its_goals():
    text = example_text("2025")
    # the first project: goals and indicators removed → unfinished (its table would print empty)
    bare = re.sub(r"(  - code: .*\n(?:    (?!goals|indicators).*\n)*)    goals:\n(      - .*\n)+"
                  r"    indicators:\n(      - .*\n)+", r"\1", text, count=1)
    assert bare != text
    result = run_variant(bare)
    (p,) = _rule(result, "未完成-绩效目标")
    assert "没有绩效目标" in p.message and not p.is_error
    # a project without its 满意度 row
    no_satisfaction = re.sub(r"      - \[满意度指标.*\n", "", text, count=1)
    result = run_variant(no_satisfaction)
    (p,) = _rule(result, "公开检查-绩效目标")
    assert "满意度指标" in p.message


def test_goals_coverage_is_set_by_the_layout(tmp_path):
    text = re.sub(r"      - \[满意度指标.*\n", "", example_text("2025"), count=1)

    def from_amount(amount):
        return lambda layout: layout + f"\ninspection:\n  goals_from: {amount}\n"
    result, _ = _with_layout(tmp_path, from_amount(100000), text)
    assert _rule(result, "公开检查-绩效目标") == []  # only projects of 10亿 need goals
    result, _ = _with_layout(tmp_path, from_amount(0), text)
    assert len(_rule(result, "公开检查-绩效目标")) == 1
    result, _ = _with_layout(tmp_path, from_amount("null"), text)
    assert _rule(result, "公开检查-绩效目标") == []


def test_placeholder_in_the_layouts_text(tmp_path):
    def xx(text):
        return replace_once(text, "现将{部门}{年度}年部门预算公开如下：", "现将{部门}{年度}年部门预算（XX）公开如下：")
    result, dept = _with_layout(tmp_path, xx)
    (p,) = _rule(result, "公开检查-占位符")
    assert "XX" in p.message and p.location.line == line_of(dept, "edition: lay.yaml")


def test_placeholder_typed_in_the_file_is_said_once_at_its_line():
    text = example_text("2025")
    result = run_variant(replace_once(text, "(十ー)承办上级党委", "(十ー)承办某某党委"))
    assert _rule(result, "公开检查-占位符") == []
    (p,) = [p for p in _rule(result, "文字-占位符") if "某某" in p.message]
    assert p.location.line == line_of(text, "(十ー)承办上级党委")


def test_only_this_year_and_last_in_the_text():
    text = example_text("2025")
    old = replace_once(text, "(十ー)承办上级党委", "(十ー)按2019年规定承办上级党委")
    (p,) = _rule(run_variant(old), "公开检查-年度")
    assert "2019年" in p.message and p.location.line == line_of(text, "(十ー)承办上级党委")
    # a document number is not a year of the text; last year is
    fine = replace_once(text, "(十ー)承办上级党委", "(十ー)按财预〔2016〕143号和2024年规定承办上级党委")
    assert _rule(run_variant(fine), "公开检查-年度") == []


def test_three_public_not_hidden_in_other_economic_lines():
    text = example_text("2025")
    hidden = replace_once(text, "{code: 30239, name: 其他交通费用, amount: 11.40}", "{code: 30212, amount: 11.40}")
    result = run_variant(hidden)
    (p,) = _rule(result, "三公-经济分类")
    assert p.is_error and "30212" in p.message and "因公出国" in p.message
    assert p.location.line == line_of(text, "overseas:", after="three_public:")


def test_layout_placeholders_are_unfinished(tmp_path):
    """A layout a 财政局 sends out may name its own fill-in words: a file still holding one is
    unfinished (warned by check, refused by render)."""
    text = replace_once(example_text("2025"), "(十ー)承办上级党委", "(十ー)承办××单位党委")
    result, dept = _with_layout(tmp_path, lambda layout: layout + "\nplaceholders: [××单位]\n", text)
    (p,) = _rule(result, "未完成-占位文字")
    assert "××单位" in p.message and p.location.line == line_of(dept, "××单位")
    from generator.validate.unfinished import refuse_unfinished
    assert refuse_unfinished([p])[0].is_error


def test_every_rule_is_listed_in_the_docs():
    """docs/inspector-rules.md lists every 未完成 and 公开检查 rule the checker can report."""
    doc = (ROOT / "docs" / "inspector-rules.md").read_text(encoding="utf-8")
    names = set()
    for module in ("inspector", "unfinished", "magnitude"):
        source = (ROOT / "generator" / "validate" / f"{module}.py").read_text(encoding="utf-8")
        names |= set(re.findall(r"\"((?:公开检查|未完成|金额)-[^\"]+)\"", source))
        names |= {f"未完成-{m}" for m in re.findall(r"f\"\{UNFINISHED\}-([^\"]+)\"", source)}
    names |= {"三公-经济分类", "科目目录-年度"}
    assert len(names) >= 14
    missing = sorted(n for n in names if f"| {n} |" not in doc)
    assert missing == [], missing
