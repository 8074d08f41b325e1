"""上年结转 and the income side: declared income vs spending by source (both named), income control
totals, 财政拨款 kinds, and `roll` with last year's carryover and changed codes."""
from __future__ import annotations

from dataclasses import replace

import generator.commands.roll as roll
from generator.catalog import load_catalog
from generator.pipeline import run_text

from conftest import ROOT, line_of, replace_once

PATH = ROOT / "inputs" / "900-qingshan-2025.yaml"
TEXT = PATH.read_text(encoding="utf-8")


def test_income_mismatch_names_income_and_spending_lines():
    bad = replace_once(TEXT, "  carryover_general: 60.00\n", "  carryover_general: 50.00\n")
    r = run_text(bad, "q.yaml")
    found = [p for p in r.problems if p.rule == "收支平衡"]
    assert len(found) == 1
    p = found[0]
    assert p.location.line == line_of(bad, "carryover_general: 50.00")
    spending_line = line_of(bad, "code: 2130505")
    assert f"第{spending_line}行" in p.message
    assert "收入50.00万元" in p.message and "支出合计60.00万元" in p.message


def test_income_missing_source_names_spending_lines():
    bad = replace_once(TEXT, "  soe: 8.00\n", "")
    r = run_text(bad, "q.yaml")
    p = next(p for p in r.problems if p.rule == "收支平衡")
    assert f"第{line_of(bad, 'code: 2230105')}行" in p.message


def test_income_control_totals():
    bad = replace_once(TEXT, "  income: 664.00\n  carryover: 85.00\n", "  income: 749.00\n  carryover: 60.00\n")
    r = run_text(bad, "q.yaml")
    found = sorted(p.message for p in r.problems if p.rule == "控制数")
    assert len(found) == 2
    assert "本年收入合计控制数749.00万元，与按明细计算的664.00万元不一致" in found[1] + found[0]
    assert any("上年结转结余控制数60.00万元" in m and "85.00万元" in m for m in found)


def test_fiscal_money_pays_basic_and_project_only():
    bad = replace_once(TEXT, "{code: 2010302, name: 一般行政管理事务, project: 40.00}",
                       "{code: 2010302, name: 一般行政管理事务, project: 40.00, subsidy: 5.00}")
    r = run_text(bad, "q.yaml")
    p = next(p for p in r.problems if p.rule == "资金来源-支出类型")
    assert p.is_error and "对附属单位补助支出" in p.message and p.location.line == line_of(bad, "subsidy: 5.00")


def test_roll_marks_carryover_that_projects_still_count_on():
    problems, draft = roll.roll_file(PATH, 2026)
    assert draft is not None, [str(p) for p in problems]
    lines = draft.splitlines()
    for code in ("2130505", "2120501"):
        at = next(i for i, l in enumerate(lines) if f"code: {code}" in l)
        assert "待复核" in lines[at - 1] and "上年结转" in lines[at - 1]
    assert run_text(draft, "d.yaml").ok


def test_roll_drops_carryover_lines_nothing_else_counts_on(tmp_path):
    # the 2025 example plus a 非财政拨款结转 basic line that no project or income counts on
    text = (ROOT / "inputs" / "524-xigang-2025.yaml").read_text(encoding="utf-8")
    text = replace_once(text, "  - {code: 2010301, name: 行政运行, basic: 1505.72}\n",
                        "  - {code: 2010301, name: 行政运行, basic: 1505.72}\n"
                        "  - {code: 2010301, name: 行政运行, basic: 3.00, source: 非财政拨款结转结余}\n")
    text = text.split("\ncontrol_totals:")[0] + "\n" if "\ncontrol_totals:" in text else text
    src = tmp_path / "dept.yaml"
    src.write_text(text, encoding="utf-8")
    assert run_text(text, "x.yaml").ok
    problems, draft = roll.roll_file(src, 2026)
    assert draft is not None, [str(p) for p in problems]
    assert "#   - {code: 2010301, name: 行政运行, basic: 3.00, source: 非财政拨款结转结余}" in draft
    assert "不会自动结转到2026年" in draft
    checked = run_text(draft, "d.yaml")
    assert checked.ok and checked.figures.carryover == 0


def test_roll_warns_about_renamed_and_removed_codes(monkeypatch):
    real = load_catalog

    def changed(year=None, *a, **k):
        cat = real(year, *a, **k)
        if year == 2026:
            names = dict(cat.function_names)
            names["2010302"] = "一般行政管理事务（更名）"
            del names["2210201"]
            cat = replace(cat, function_names=names)
        return cat

    monkeypatch.setattr(roll, "load_catalog", changed)
    problems, draft = roll.roll_file(PATH, 2026)
    assert draft is not None
    msgs = [p.message for p in problems if p.rule == "科目变动"]
    assert any("2010302" in m and "更名为“一般行政管理事务（更名）”" in m for m in msgs)
    assert any("2210201" in m and "已不存在" in m for m in msgs)
    assert all(not p.is_error for p in problems)
