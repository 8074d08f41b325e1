"""The classification catalogs: one per budget year, with provenance; every code the examples use
and every parent link resolves; funds; a file's own codes; `budgetgen catalog`."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from generator.catalog import CATALOG_DIR, catalog_years, load_catalog
from generator.commands.cli import app
from generator.pipeline import run

from conftest import ROOT, line_of, replace_once, run_variant

EXAMPLES = sorted((ROOT / "inputs").glob("*.yaml"))
YEARS = catalog_years()


def test_one_catalog_per_budget_year_with_provenance():
    assert YEARS == [2023, 2024, 2025, 2026]
    for path in sorted(Path(CATALOG_DIR).glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert "来源（provenance）" in text, path.name
        data = yaml.safe_load(text)
        assert data.get("document"), path.name
    base = (Path(CATALOG_DIR) / "function-2024.yaml").read_text(encoding="utf-8")
    assert "财预〔2023〕83号" in base
    for year in YEARS:
        assert load_catalog(year).year == year
        assert load_catalog(year).sources
    assert load_catalog(2031).year == 2026  # a later year uses the latest catalog
    assert load_catalog(2019).year == 2023


@pytest.mark.parametrize("year", YEARS)
def test_every_parent_link_resolves(year):
    cat = load_catalog(year)
    classes = {c.code for c in cat.function_classes if c.code}
    for code, name in cat.function_names.items():
        assert re.fullmatch(r"2[0-9]{2}([0-9]{2}([0-9]{2})?)?", code), code
        assert name and name == name.strip(), code
        assert code[:3] in classes, f"{code}: 类 {code[:3]} missing"
        if len(code) == 7:
            assert code[:5] in cat.function_names, f"{code}: 款 {code[:5]} missing"
        assert cat.fund_of(code) in ("general", "gov_fund", "soe")
    for code, name in cat.economic_names.items():
        assert re.fullmatch(r"3[0-9]{2}([0-9]{2})?", code), code
        assert code[:3] in cat.economic_classes, code
        assert "(" not in name and ")" not in name, f"{code}: half-width brackets in {name}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_code_in_every_example_resolves(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cat = load_catalog(data["department"]["year"])
    own = {str(e["code"]): e["name"] for e in (data.get("catalog") or {}).get("function", [])}
    for line in data["expenditure"]:
        code = str(line["code"])
        name = cat.function_name(code) or own.get(code)
        assert name is not None, f"{path.name}: {code} not in the {cat.year} catalog"
        assert cat.function_name(code[:5]) and cat.function_name(code[:3]), code
        if line.get("name"):
            assert line["name"].replace("(", "（").replace(")", "）") == name, code
    for p in data.get("projects") or []:
        if p.get("function_code"):
            assert cat.function_name(str(p["function_code"])) or str(p["function_code"]) in own
    for line in data.get("basic_economic") or []:
        code = str(line["code"])
        assert cat.economic_name(code), f"{path.name}: {code}"
        assert code[:3] in cat.economic_classes


def test_known_names():
    cat = load_catalog(2025)
    assert cat.function_name("21305") == "巩固脱贫攻坚成果衔接乡村振兴"  # no 拓展
    assert cat.function_name("2130504") == "农村基础设施建设"
    assert "人行科目" not in cat.function_names.values()
    assert all(c.code for c in cat.function_classes)  # 人行科目 is the Hebei layouts' row, not a 类
    assert cat.economic_name("31304") == "对机关事业单位职业年金的补助"
    assert cat.is_unconfirmed("31304", "economic")
    assert not cat.is_unconfirmed("30101", "economic")
    assert cat.function_name("22006") == "耕地保护考核奖惩基金支出"  # 2024 amendment
    assert load_catalog(2023).function_name("22006") is None


def test_funds():
    cat = load_catalog(2025)
    assert cat.fund_of("2010301") == "general"
    assert cat.fund_of("2230105") == "soe"  # from its 类 223
    assert cat.fund_of("2296011") == "gov_fund"  # from its 款 22960
    assert cat.fund_of("22960") == "gov_fund"
    assert cat.fund_of("2299901") == "general"  # 229 is mixed: its 款 decide
    assert cat.fund_of("23104") == "gov_fund" and cat.fund_of("23103") == "general"


# --------------------------------------------------------------------------- rules on funds


def test_gov_fund_code_on_general_line_is_an_error_naming_both(xigang):
    text = (ROOT / "inputs" / "900-qingshan-2025.yaml").read_text(encoding="utf-8")
    bad = replace_once(text, "project: 30.00, source: gov_fund}", "project: 30.00}")
    bad = replace_once(bad, "  general: 546.00", "  general: 576.00\n  gov_fund: 0")
    bad = replace_once(bad, "  gov_fund: 30.00\n", "")
    r = run_variant(bad, "q.yaml")
    found = [p for p in r.problems if p.rule == "科目-资金性质"]
    assert len(found) == 1
    msg = found[0].message
    assert "2296011" in msg and "政府性基金预算科目" in msg and "一般公共预算" in msg
    assert found[0].location.line == line_of(bad, "code: 2296011")


def test_general_code_on_soe_line_is_an_error():
    text = (ROOT / "inputs" / "900-qingshan-2025.yaml").read_text(encoding="utf-8")
    bad = replace_once(text, "{code: 2010302, name: 一般行政管理事务, project: 40.00}",
                       "{code: 2010302, name: 一般行政管理事务, project: 40.00, source: 国有资本经营预算}")
    r = run_variant(bad, "q.yaml")
    found = [p for p in r.problems if p.rule == "科目-资金性质"]
    assert len(found) == 1 and "一般公共预算科目" in found[0].message and "国有资本经营" in found[0].message


def test_unit_money_may_not_use_a_fund_code():
    text = (ROOT / "inputs" / "900-qingshan-2025.yaml").read_text(encoding="utf-8")
    bad = replace_once(text, "project: 8.00, source: soe}", "project: 8.00, source: 事业收入}")
    r = run_variant(bad, "q.yaml")
    assert any(p.rule == "科目-资金性质" and "2230105" in p.message for p in r.problems)


@pytest.mark.parametrize("label", ["上年结转（一般公共预算）", "上年结转(一般公共预算)", "上年结转 (一般公共预算)",
                                   "上年结转结余", "carryover_general"])
def test_carryover_labels_accepted(label):
    text = (ROOT / "inputs" / "900-qingshan-2025.yaml").read_text(encoding="utf-8")
    variant = replace_once(text, "source: 上年结转（一般公共预算）}", f"source: {label}}}")
    r = run_variant(variant, "q.yaml")
    assert r.ok, [str(p) for p in r.problems if p.is_error]
    assert r.figures.by_source["carryover_general"] == 60


# --------------------------------------------------------------------------- a file's own codes


def test_the_example_supplements_a_code_with_a_warning():
    path = ROOT / "inputs" / "900-qingshan-2025.yaml"
    r = run(path)
    assert r.ok
    w = [p for p in r.problems if p.rule == "科目补充"]
    assert len(w) == 1 and not w[0].is_error and "本文件补充了" in w[0].message and "2299999" in w[0].message
    assert "22999其他支出" in w[0].message  # its parents
    s3 = r.disclosure.schedules[2]
    assert any(row.cells[1] == "2299999" and row.cells[2] == "其他支出" for row in s3.rows)


def _without_supplement(text: str) -> str:
    return replace_once(text, '    - {code: "2299999", name: 其他支出}\n', "    []\n")


def test_code_missing_from_catalog_points_at_catalog_section():
    text = (ROOT / "inputs" / "900-qingshan-2025.yaml").read_text(encoding="utf-8")
    bad = replace_once(text, "  function:\n    - {code: \"2299999\", name: 其他支出}\n", "  function: []\n")
    r = run_variant(bad, "q.yaml")
    errs = [p for p in r.problems if p.rule == "科目目录"]
    assert errs and "2299999" in errs[0].message and "catalog:" in errs[0].message
    assert "schemas/catalog" not in errs[0].message  # never: edit the installed package


@pytest.mark.parametrize("entry,rule_text", [
    ('{code: "229999", name: 其他支出}', "应为以2开头的5位"),
    ('{code: "2139901", name: 新项}', "所属款级科目21399"),  # 21399 exists: accepted (below)
    ('{code: "2189901", name: 新项}', "所属款级科目21899"),
    ('{code: "2010301", name: 行政运转}', "名称为“行政运行”"),
    ('{code: "2299901", name: 其他支出, fund: gov_fund}', "已在"),
])
def test_supplement_checks(entry, rule_text):
    text = (ROOT / "inputs" / "900-qingshan-2025.yaml").read_text(encoding="utf-8")
    variant = replace_once(text, '    - {code: "2299999", name: 其他支出}\n',
                           f'    - {{code: "2299999", name: 其他支出}}\n    - {entry}\n')
    r = run_variant(variant, "q.yaml")
    found = [p for p in r.problems if p.rule == "科目补充" and "2299999" not in p.message]
    assert len(found) == 1, [str(p) for p in found]
    if "21399" in rule_text:
        assert not found[0].is_error and "本文件补充了" in found[0].message
    elif "已在" in rule_text:
        assert not found[0].is_error
    else:
        assert found[0].is_error and rule_text in found[0].message, found[0].message
    assert found[0].location.line == line_of(variant, entry.split(",")[0])


# --------------------------------------------------------------------------- budgetgen catalog


def test_catalog_command_code_word_and_missing():
    runner = CliRunner()
    r = runner.invoke(app, ["catalog", "2130504"])
    assert r.exit_code == 0
    assert "农村基础设施建设" in r.output and "213 农林水支出 → 21305 巩固脱贫攻坚成果衔接乡村振兴" in r.output
    r = runner.invoke(app, ["catalog", "彩票公益金"])
    assert r.exit_code == 0 and "2296011" in r.output and "政府性基金预算" in r.output
    r = runner.invoke(app, ["catalog", "2299999"])
    assert r.exit_code == 1 and "没有科目 2299999" in r.output and "catalog:" in r.output
    r = runner.invoke(app, ["catalog"])
    assert r.exit_code == 0 and "财预〔2023〕83号" in r.output
    r = runner.invoke(app, ["catalog", "2299999", "--file", str(ROOT / "inputs" / "900-qingshan-2025.yaml")])
    assert r.exit_code == 0 and "由部门文件补充" in r.output
    r = runner.invoke(app, ["catalog", "22006", "--year", "2023"])
    assert r.exit_code == 1
