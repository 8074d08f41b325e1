"""The model stage: typed leaf facts, Decimal money, located format errors, the catalog, the tree."""
from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import example_text, line_of, replace_once, run_variant
from generator.catalog import load_catalog
from generator.compute.tree import CodeTree
from generator.money import parse_amount
from generator.model import Source


@pytest.mark.parametrize("text,value", [("2256.69", "2256.69"), ("4", "4.00"), ("0.3", "0.30"),
                                        ("", "0.00"), (None, "0.00")])
def test_amounts_parse_exactly(text, value):
    parsed = parse_amount(text)
    assert isinstance(parsed, Decimal) and str(parsed) == value


@pytest.mark.parametrize("text,fragment", [("12.345", "超过2位小数"), ("-1", "不能为负数"),
                                           ("1,234.50", "千位分隔符"), ("１２３", "全角数字"),
                                           ("1e3", "科学计数法"), (".nan", "不是有效数字"),
                                           ("5万元", "不要写单位")])
def test_bad_amounts_say_what_to_write(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_amount(text)


def test_money_in_the_model_is_decimal(xigang):
    b = xigang.budget
    assert b.expenditure[1].basic == Decimal("1505.72")
    assert isinstance(b.projects[0].plan[0], Decimal)
    assert b.three_public.reception == Decimal("0.23")


def test_unknown_key_points_at_the_key():
    text = example_text("2025")
    bad = replace_once(text, "  edition: hebei-2025", "  edition: hebei-2025\n  edtion: hebei-2025")
    result = run_variant(bad)
    (p,) = [p for p in result.problems if "edtion" in p.message]
    assert (p.location.line, p.location.column) == (line_of(bad, "edtion:"), 3)
    assert p.rule == "格式" and "未知的键" in p.message


def test_missing_field_and_bad_edition_are_both_reported():
    text = example_text("2025")
    bad = replace_once(text, "  edition: hebei-2025", "  edition: hebei-2024")
    bad = replace_once(bad, "    amount: 26.00\n", "")
    result = run_variant(bad)
    messages = [p.message for p in result.problems]
    assert any("department.edition" in m and "hebei-2024" in m for m in messages)
    assert any("projects[1]" in m and "缺少必填项“amount”" in m for m in messages)
    assert result.disclosure is None and not result.ok


def test_source_accepts_the_chinese_label():
    text = example_text("2025")
    good = replace_once(text, "{code: 2010108, name: 代表工作, project: 4.00}",
                        "{code: 2010108, name: 代表工作, project: 4.00, source: 一般公共预算}")
    result = run_variant(good)
    assert result.ok
    assert result.budget.expenditure[0].source is Source.general


def test_catalog_has_the_30_classes_and_every_example_code(xigang, nanguan):
    cat = load_catalog()
    assert len(cat.function_classes) == 30  # 201 … 234; a province's extra rows are its layout's
    assert cat.function_classes[0].label == "一、一般公共服务支出"
    assert cat.function_classes[19].label == "二十、住房保障支出"
    assert all(c.code for c in cat.function_classes)
    for result in (xigang, nanguan):
        for line in result.budget.expenditure:
            assert line.code in cat.function_names and line.code[:5] in cat.function_names
        for e in result.budget.basic_economic:
            assert e.code in cat.economic_names
    assert cat.economic_kind("30101") == "personnel" and cat.economic_kind("30302") == "personnel"
    assert cat.economic_kind("30201") == "public"


def test_tree_keeps_own_amounts_apart_from_children():
    tree = CodeTree(2, (3, 5, 7))
    tree.add("2010301", (Decimal("1.00"), Decimal("0.50")))
    tree.add("2010302", (Decimal("2.00"), Decimal("0")))
    tree.add("20801", (Decimal("3.00"), Decimal("0")))  # a 款-level amount: kept as the node's own
    node = tree.node("20103")
    assert node.own == (Decimal("0"), Decimal("0"))
    assert node.total() == (Decimal("3.00"), Decimal("0.50"))
    assert tree.node("20801").own == (Decimal("3.00"), Decimal("0"))
    assert tree.total() == (Decimal("6.00"), Decimal("0.50"))
    assert [c for _, c, _ in tree.rows()] == ["201", "20103", "2010301", "2010302", "208", "20801"]
