"""Issue 14: a department of 本级 plus 所属单位, consolidated with internal transfers eliminated.

The example inputs/730-shixian-nongye-2025.yaml (written for this purpose, figures invented) has a
行政 本级 and two 事业 units. Its internal transfers, worked out by hand from the three files:

- 检测站 (730002) pays 上缴上级支出 12.00 at 2130104 from 事业收入; the 本级 spends that
  附属单位上缴收入 as 行政运行 basic 4.00 at 2130101 and 对附属单位补助支出 8.00 at 2130106;
- the 本级's 对附属单位补助支出 8.00 is the 推广站's (730001) 上级补助收入, spent as basic
  at 2130106.

So the department is Σ files (418.08 + 224.14 + 130.57 = 772.79) minus 12.00 minus 8.00 =
752.79, and the spending financed by the transfers is shown under 事业收入, where the money
came from. Every expected figure below is written out by hand from the files, not from the code.
"""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import ROOT, line_of, replace_once

from generator.catalog import load_catalog
from generator.compute import compute
from generator.compute.tables import Table
from generator.loader import load_file
from generator.model import build_model
from generator.pipeline import run

D = Decimal
DEPT = ROOT / "inputs" / "730-shixian-nongye-2025.yaml"
UNIT_A = ROOT / "inputs" / "730-units" / "730001-tuiguangzhan-2025.yaml"
UNIT_B = ROOT / "inputs" / "730-units" / "730002-jiancezhan-2025.yaml"


@pytest.fixture(scope="module")
def dept():
    result = run(DEPT)
    assert result.ok, [str(p) for p in result.problems]
    return result


@pytest.fixture(scope="module")
def parts(dept):
    """The nine schedules of each file on its own: the 本级 (the department file without its
    units) and the two units (their 单位预算)."""
    doc, _ = load_file(DEPT)
    own, problems = build_model(doc)
    assert own is not None, problems
    own_disclosure, _ = compute(own.model_copy(update={"units": []}), load_catalog())
    return [own_disclosure] + [u.disclosure for u in dept.units]


def schedule(disclosure, key: str) -> Table:
    return next(t for t in disclosure.schedules if t.key == key)


def by_code(table: Table) -> dict:
    """code ("" for 合计) → the money cells of the row, None read as 0."""
    return {row.cells[1]: tuple(c or D(0) for c in row.cells[3:]) for row in table.rows}


def add(*vectors) -> tuple:
    return tuple(sum(xs, D(0)) for xs in zip(*vectors))


def with_parents(deltas: dict, width: int) -> dict:
    """项-level changes carried up to their 款, 类 and the 合计 row."""
    out: dict = {}
    for code, vec in deltas.items():
        for key in (code, code[:5], code[:3], ""):
            out[key] = add(out.get(key, (D(0),) * width), vec)
    return out


def summed(tables: list[Table]) -> dict:
    total: dict = {}
    for t in tables:
        for code, vec in by_code(t).items():
            total[code] = add(total.get(code, (D(0),) * len(vec)), vec)
    return total


def nonzero(rows: dict) -> dict:
    return {k: v for k, v in rows.items() if any(v)}


# --------------------------------------------------------------------------- consolidated figures


def test_department_and_units_check_clean(dept):
    assert [u.file for u in dept.units] == [str(UNIT_A), str(UNIT_B)]
    assert all(u.ok for u in dept.units)
    assert dept.disclosure.title == "示例县农业农村局2025年部门预算公开"
    assert [u.disclosure.title for u in dept.units] == ["示例县农业技术推广站2025年单位预算公开",
                                                       "示例县农产品质量安全检测站2025年单位预算公开"]
    assert schedule(dept.units[0].disclosure, "s1").title == "单位预算收支总表"
    assert schedule(dept.disclosure, "s1").title == "部门预算收支总表"


def test_headline_figures_by_hand(dept):
    f = dept.disclosure.figures
    assert f["total"] == D("752.79")  # 772.79 − 12.00 − 8.00
    assert f["basic"] == D("657.79")  # general 361.08 + 180.14 + 73.57, 事业收入 4 + 8 + 6 + 25
    assert f["project"] == D("95.00")  # 45 + 30 + 20
    assert f["personnel"] == D("539.99")  # 313.58 + 162.44 + 63.97
    assert f["public"] == D("74.80")  # 47.50 + 17.70 + 9.60
    assert f["three_public"] == D("6.30")  # 本级 4.50 + 1.20, 检测站 0.60
    assert f["procurement"] == D("15.59")  # 9.57 + 5.00 + 1.02
    assert f["assets"] == D("696.54")  # 399.80 + 47.00 + 56.40 + 193.34
    fig = dept.figures
    assert fig.by_source == {"general": D("709.79"), "institution": D("43.00")}
    assert fig.remit == fig.subsidy == D(0)


def test_expenditure_schedule_is_sum_of_files_minus_eliminations(dept, parts):
    whole = by_code(schedule(dept.disclosure, "s3"))
    # 合计, 基本支出, 项目支出, 经营支出, 上解上级支出, 对附属单位补助支出
    eliminated = with_parents({"2130104": (D(12), 0, 0, 0, D(12), 0),   # 检测站's remittance
                               "2130106": (D(8), 0, 0, 0, 0, D(8))}, 6)  # the 本级's subsidy
    expected = {code: add(vec, tuple(-x for x in eliminated.get(code, (0,) * 6)))
                for code, vec in summed([schedule(p, "s3") for p in parts]).items()}
    assert whole == nonzero(expected)
    assert whole["2130104"] == (D("228.80"), D("228.80"), 0, 0, 0, 0)  # 139.20 + 58.60 + 6 + 25
    assert whole["2130106"] == (D("38.00"), D("8.00"), D("30.00"), 0, 0, 0)
    assert whole["213"] == (D("622.20"), D("527.20"), D("95.00"), 0, 0, 0)
    assert whole[""] == (D("752.79"), D("657.79"), D("95.00"), 0, 0, 0)


def test_income_schedule_is_sum_of_files_with_transfers_resourced(dept, parts):
    whole = by_code(schedule(dept.disclosure, "s2"))
    # 合计, 小计, 财政拨款, 财政专户, 事业收入, 经营收入, 上级补助, 附属单位上缴, 其他, 上年结转
    z = D(0)
    changes = with_parents({
        # the remittance leaves: it was paid from 检测站's 事业收入
        "2130104": (D(-12), D(-12), z, z, D(-12), z, z, z, z, z),
        # the 本级's 行政运行 paid from 附属单位上缴收入 is, in the whole, 事业收入
        "2130101": (z, z, z, z, D(4), z, z, D(-4), z, z),
        # the subsidy leaves (附属单位上缴收入 → 事业收入 → eliminated); 推广站's
        # 上级补助收入 spending is 事业收入 in the whole
        "2130106": (D(-8), D(-8), z, z, D(8), z, D(-8), D(-8), z, z),
    }, 10)
    expected = {code: add(vec, changes.get(code, (z,) * 10))
                for code, vec in summed([schedule(p, "s2") for p in parts]).items()}
    assert whole == nonzero(expected)
    assert whole[""] == (D("752.79"), D("752.79"), D("709.79"), z, D("43.00"), z, z, z, z, z)
    assert whole["2130106"] == (D("38.00"), D("38.00"), D("30.00"), z, D("8.00"), z, z, z, z, z)
    assert whole["2130101"] == (D("290.40"), D("290.40"), D("286.40"), z, D("4.00"), z, z, z, z, z)


def test_summary_schedule_by_hand(dept, parts):
    rows = {r.cells[1]: r.cells[2] for r in schedule(dept.disclosure, "s1").rows if r.cells[1]}
    assert rows["一、一般公共预算拨款收入"] == D("709.79")
    assert rows["五、单位资金"] == D("43.00")  # Σ files 12.00 + 14.00 + 37.00 − 20.00
    assert rows["本年收入合计"] == rows["收入总计"] == D("752.79")
    spend = {r.cells[3]: r.cells[4] for r in schedule(dept.disclosure, "s1").rows}
    assert spend["八、社会保障和就业支出"] == D("62.35")  # 3.60 + 34.56 + 17.28 + 6.91
    assert spend["十、卫生健康支出"] == D("24.18")  # 14.20 + 7.10 + 2.88
    assert spend["十三、农林水支出"] == D("622.20")
    assert spend["二十、住房保障支出"] == D("44.06")  # 25.92 + 12.96 + 5.18
    own_units = [{r.cells[1]: r.cells[2] for r in schedule(p, "s1").rows} for p in parts]
    assert sum(u["五、单位资金"] for u in own_units) - D(20) == D("43.00")


@pytest.mark.parametrize("key", ["s5", "s6", "s7", "s8"])
def test_fiscal_schedules_are_plain_sums(dept, parts, key):
    """财政拨款 is never an internal transfer: these schedules add up file by file."""
    whole = by_code(schedule(dept.disclosure, key))
    assert nonzero(whole) == nonzero(summed([schedule(p, key) for p in parts]))


@pytest.mark.parametrize("key", ["s4", "s9"])
def test_fixed_row_schedules_are_plain_sums(dept, parts, key):
    whole = schedule(dept.disclosure, key)
    tables = [schedule(p, key) for p in parts]
    for i, row in enumerate(whole.rows):
        for j, cell in enumerate(row.cells):
            if isinstance(cell, Decimal) and j > 0:
                assert cell == sum((t.rows[i].cells[j] or D(0) for t in tables), D(0)), (key, row.cells)


def test_economic_schedule_by_hand(dept):
    rows = by_code(schedule(dept.disclosure, "s6"))
    assert rows["30101"] == (D("185.10"), D("185.10"), 0)  # 98.40 + 62.40 + 24.30
    assert rows["30231"] == (D("5.10"), 0, D("5.10"))  # 4.50 + 0.60
    assert rows[""] == (D("614.79"), D("539.99"), D("74.80"))


def test_annex_tables_consolidated(dept):
    annex = {t.key: t for t in dept.disclosure.annex_tables}
    rows = [(r.cells[0], r.cells[7]) for r in annex["procurement"].rows if r.emphasis]
    assert rows == [("合\u3000计", D("15.59")), ("示例县农业农村局本级小计", D("9.57")),
                    ("示例县农业技术推广站小计", D("5.00")), ("示例县农产品质量安全检测站小计", D("1.02"))]
    assets = {r.cells[0]: (r.cells[1], r.cells[2]) for r in annex["assets"].rows}
    assert assets["资产总额"] == (None, D("696.54"))
    assert assets["1、房屋（平方米）"] == (D(3220), D("399.80"))  # 1820 + 860 + 540
    assert assets["3、单价在20万元以上的设备"] == (D(2), D("56.40"))
    institutions = next(b for s in dept.disclosure.sections for b in s.blocks
                        if isinstance(b, Table) and b.key == "institutions")
    assert [r.cells[:2] for r in institutions.rows] == [
        ("示例县农业农村局本级", "行政"), ("示例县农业技术推广站", "事业"), ("示例县农产品质量安全检测站", "事业")]
    assert [p.title for p in dept.disclosure.projects] == [
        "1、农业农村综合管理工作经费绩效目标表", "2、基层农技推广体系建设绩效目标表", "3、农产品质量安全例行监测绩效目标表"]


def test_text_figures_come_from_the_whole(dept):
    text = "".join(b.text for s in dept.disclosure.sections for b in s.blocks if hasattr(b, "text"))
    assert ("2025年预算收入752.79万元，其中：一般公共预算收入709.79万元，基金预算收入0.00万元，国有资本经营预算收入"
            "0.00万元，财政专户核拨收入0.00万元，单位资金收入43.00万元") in text
    assert "较2024年预算增加22.79万元" in text  # 752.79 − (640 + 90)


def test_units_own_disclosures_keep_their_transfers(dept):
    a, b = (u.disclosure for u in dept.units)
    assert by_code(schedule(a, "s2"))["2130106"][6] == D("8.00")  # 上级补助收入 in its 单位预算
    assert by_code(schedule(b, "s3"))["2130104"][4] == D("12.00")  # 上解上级支出
    assert a.figures["total"] == D("224.14") and b.figures["total"] == D("130.57")


def test_eliminations_listed(dept):
    cons = dept.consolidation
    listed = [(e.kind, e.amount, e.giver.file, e.giver.line, e.taker.file, e.taker.line, e.source)
              for e in cons.eliminations]
    dept_text = DEPT.read_text(encoding="utf-8")
    b_line = line_of(UNIT_B.read_text(encoding="utf-8"), "remit: 12.00")
    a_line = line_of(UNIT_A.read_text(encoding="utf-8"), "source: superior")
    admin = line_of(dept_text, "basic: 4.00, source: affiliate")
    subsidy = line_of(dept_text, "subsidy: 8.00")
    assert listed == [
        ("remit", D(4), str(UNIT_B), b_line, str(DEPT), admin, "institution"),
        ("remit", D(8), str(UNIT_B), b_line, str(DEPT), subsidy, "institution"),
        ("subsidy", D(8), str(DEPT), subsidy, str(UNIT_A), a_line, "institution"),
    ]
    assert cons.gross_total == D("772.79")


def test_a_unit_renders_on_its_own_as_a_unit_budget():
    result = run(UNIT_B)
    assert result.ok and result.disclosure.title == "示例县农产品质量安全检测站2025年单位预算公开"
    assert result.disclosure.figures["total"] == D("130.57")


# --------------------------------------------------------------------------- errors


def _copy_example(tmp_path: Path, dept_edit=None, a_edit=None, b_edit=None) -> Path:
    """The example in tmp_path (with its units folder), each text changed by an edit function."""
    (tmp_path / "730-units").mkdir()
    for src, dest, edit in ((DEPT, tmp_path / DEPT.name, dept_edit),
                            (UNIT_A, tmp_path / "730-units" / UNIT_A.name, a_edit),
                            (UNIT_B, tmp_path / "730-units" / UNIT_B.name, b_edit)):
        text = src.read_text(encoding="utf-8")
        dest.write_text(edit(text) if edit else text, encoding="utf-8")
    return tmp_path / DEPT.name


def errors(result) -> list:
    return [(p.location.file, p.location.line, p.rule, p.message) for p in result.problems if p.is_error]


def test_unit_errors_name_the_unit_file_and_line(tmp_path):
    bad_plan = "plan: [6.00, 15.00, 24.00, 31.00]"
    path = _copy_example(tmp_path, a_edit=lambda t: replace_once(t, "plan: [6.00, 15.00, 24.00, 30.00]",
                                                                 bad_plan),
                         b_edit=lambda t: replace_once(t, "basic: 58.60}", "basic: 58.6.0}"))
    result = run(path)
    assert not result.ok
    a = tmp_path / "730-units" / UNIT_A.name
    b = tmp_path / "730-units" / UNIT_B.name
    found = errors(result)
    assert any(f == str(a) and line == line_of(a.read_text(encoding="utf-8"), bad_plan)
               and rule == "项目-支出计划" for f, line, rule, _ in found), found
    assert any(f == str(b) and line == line_of(b.read_text(encoding="utf-8"), "58.6.0") and rule == "格式"
               for f, line, rule, _ in found), found
    # nothing is blamed on the department file
    assert not [e for e in found if e[0] == str(path)], found


def test_unit_listed_twice(tmp_path):
    entry = "  - 730-units/730001-tuiguangzhan-2025.yaml\n"
    path = _copy_example(tmp_path, dept_edit=lambda t: replace_once(t, entry, entry + "  - ./" + entry[4:]))
    result = run(path)
    text = path.read_text(encoding="utf-8")
    first = line_of(text, "730001-tuiguangzhan")
    found = [e for e in errors(result) if e[2] == "所属单位"]
    assert len(found) == 1 and found[0][:2] == (str(path), first + 1), found
    assert f"第{first}行已列出同一文件" in found[0][3]


def test_nesting_is_refused_at_the_units_key(tmp_path):
    path = _copy_example(tmp_path, a_edit=lambda t: replace_once(
        t, "duties:", "units:\n  - 730002-jiancezhan-2025.yaml\n\nduties:"))
    result = run(path)
    a = tmp_path / "730-units" / UNIT_A.name
    found = [e for e in errors(result) if e[2] == "所属单位"]
    assert [(f, line) for f, line, _, _ in found] == [(str(a), line_of(a.read_text(encoding="utf-8"), "units:"))]
    assert "不能再列出下级单位" in found[0][3]
    assert not result.ok


def test_missing_unit_file(tmp_path):
    path = _copy_example(tmp_path, dept_edit=lambda t: replace_once(
        t, "730002-jiancezhan-2025.yaml", "730003-missing-2025.yaml"))
    result = run(path)
    found = errors(result)
    line = line_of(path.read_text(encoding="utf-8"), "730003-missing")
    assert found == [(str(path), line, "所属单位",
                      "所属单位文件“730-units/730003-missing-2025.yaml”无法读取：文件不存在（请检查路径和文件名）")]
    assert result.disclosure is None and result.readable


@pytest.mark.parametrize("key,old,new,label", [("year", "year: 2025", "year: 2024", "预算年度"),
                                               ("edition", "edition: hebei-2025", "edition: hebei-2023", "版式")])
def test_year_or_layout_disagreeing_names_both_files(tmp_path, key, old, new, label):
    path = _copy_example(tmp_path, b_edit=lambda t: replace_once(t, old, new))
    result = run(path)
    b = tmp_path / "730-units" / UNIT_B.name
    found = [e for e in errors(result) if e[2] == "所属单位"]
    assert len(found) == 1, errors(result)
    file, line, _, message = found[0]
    assert (file, line) == (str(b), line_of(b.read_text(encoding="utf-8"), new))
    dept_line = line_of(path.read_text(encoding="utf-8"), old)
    assert f"{path}:{dept_line}:" in message and label in message


def test_department_file_listing_itself(tmp_path):
    path = _copy_example(tmp_path, dept_edit=lambda t: replace_once(
        t, "  - 730-units/730002-jiancezhan-2025.yaml\n",
        "  - 730-units/730002-jiancezhan-2025.yaml\n  - 730-shixian-nongye-2025.yaml\n"))
    found = [e for e in errors(run(path)) if e[2] == "所属单位"]
    assert len(found) == 1 and "不能把自己列为所属单位" in found[0][3]


@pytest.mark.parametrize("entry,fragment", [
    ("https://example.com/u.yaml", "不能是网址"), ('""', "不能为空"), ("/etc/passwd", "不能用绝对路径"),
    ("../730-units/730001-tuiguangzhan-2025.yaml", "不能用绝对路径或“..”"),
    ("730-units/../../x.yaml", "“..”"), ("'C:\\\\x.yaml'", "绝对路径"), ("'..\\\\x.yaml'", "“..”")])
def test_unit_entry_must_be_a_local_path(tmp_path, entry, fragment):
    path = _copy_example(tmp_path, dept_edit=lambda t: replace_once(
        t, "  - 730-units/730002-jiancezhan-2025.yaml\n", f"  - {entry}\n"))
    found = [e for e in errors(run(path)) if e[2] == "所属单位"]
    assert len(found) == 1 and fragment in found[0][3], found


def test_unit_entry_that_is_a_fifo_is_not_opened(tmp_path):
    import os
    path = _copy_example(tmp_path)
    fifo = tmp_path / "730-units" / "pipe.yaml"
    os.mkfifo(fifo)
    path.write_text(replace_once(path.read_text(encoding="utf-8"), "730002-jiancezhan-2025.yaml", "pipe.yaml"),
                    encoding="utf-8")
    found = [e for e in errors(run(path)) if e[2] == "所属单位"]
    assert len(found) == 1 and "不是普通文件" in found[0][3]


def test_unbalanced_subsidy_is_an_error_naming_both_sides(tmp_path):
    path = _copy_example(tmp_path, a_edit=lambda t: replace_once(
        t, "basic: 8.00, source: superior", "basic: 9.00, source: superior"))
    result = run(path)
    found = [e for e in errors(result) if e[2] == "内部往来"]
    subsidy_line = line_of(path.read_text(encoding="utf-8"), "subsidy: 8.00")
    assert len(found) == 1 and found[0][:2] == (str(path), subsidy_line), errors(result)
    a = tmp_path / "730-units" / UNIT_A.name
    assert found[0][3] == (f"所属单位以上级补助收入安排的支出合计9.00万元（{a} 9.00万元），与本级的对附属单位补助支出"
                           "8.00万元不一致：部门内部的补助应两边相等，汇总时互相抵消")


def test_unbalanced_remittance_is_an_error(tmp_path):
    path = _copy_example(tmp_path, b_edit=lambda t: replace_once(t, "remit: 12.00", "remit: 11.00"))
    found = [e for e in errors(run(path)) if e[2] == "内部往来"]
    admin = line_of(path.read_text(encoding="utf-8"), "basic: 4.00, source: affiliate")
    assert len(found) == 1 and found[0][:2] == (str(path), admin)
    assert "12.00万元" in found[0][3] and "11.00万元" in found[0][3]


def test_internal_transfer_paid_from_fiscal_money_is_refused(tmp_path):
    """上级补助收入 is 非财政补助收入: the 本级 may not pay its units' subsidy from 财政拨款."""
    path = _copy_example(tmp_path, dept_edit=lambda t: replace_once(
        t, "subsidy: 8.00, source: affiliate}", "subsidy: 8.00}").replace(
        "basic: 4.00, source: affiliate}", "basic: 4.00, source: affiliate}\n"
        "  - {code: 2130199, name: 其他农业农村支出, basic: 8.00, source: affiliate}"))
    result = run(path)
    found = errors(result)
    # an error at the line, by the rule that 财政拨款 pays 基本支出 and 项目支出 only; the
    # consolidation does not repeat it (the declared totals then disagree too)
    line = line_of(path.read_text(encoding="utf-8"), "subsidy: 8.00}")
    assert (str(path), line, "资金来源-支出类型") in [(f, ln, rule) for f, ln, rule, _ in found]
    assert not [e for e in found if e[2] == "内部往来"]
    assert not result.ok and [e.kind for e in result.consolidation.eliminations] == ["remit", "remit"]


def test_department_control_totals_apply_to_the_whole(tmp_path):
    # the Σ of the files before eliminations is not the department's total
    path = _copy_example(tmp_path, dept_edit=lambda t: replace_once(t, "total: 752.79", "total: 772.79"))
    found = [e for e in errors(run(path))]
    line = line_of(path.read_text(encoding="utf-8"), "total: 772.79")
    assert [(f, ln, rule) for f, ln, rule, _ in found] == [(str(path), line, "控制数")]
    assert "752.79万元" in found[0][3]


def test_project_codes_unique_across_the_department(tmp_path):
    path = _copy_example(tmp_path, b_edit=lambda t: replace_once(
        t, "13112325P00730002001C", "13112325P00730001001B"))
    found = [e for e in errors(run(path)) if e[2] == "项目-编码"]
    b = tmp_path / "730-units" / UNIT_B.name
    assert len(found) == 1 and found[0][:2] == (str(b), line_of(b.read_text(encoding="utf-8"), "13112325P007"))
    assert UNIT_A.name in found[0][3]


def test_units_with_the_same_code_and_name(tmp_path):
    path = _copy_example(tmp_path, b_edit=lambda t: replace_once(
        replace_once(t, 'code: "730002"', 'code: "730001"'), "name: 示例县农产品质量安全检测站\n  year",
        "name: 示例县农业技术推广站\n  year"))
    found = [e for e in errors(run(path)) if e[2] == "所属单位"]
    assert len(found) == 1 and "编码和名称" in found[0][3]


def test_expenditure_optional_only_with_units(tmp_path):
    """A department file may hold no money of its own (no 本级 lines); a file without units must."""
    _copy_example(tmp_path, a_edit=lambda t: replace_once(t, "source: superior", "source: institution"))
    path = tmp_path / "only-units.yaml"
    path.write_text("department: {code: '731', name: 示例县汇总部门, year: 2025, edition: hebei-2025}\n"
                    "units:\n  - 730-units/730001-tuiguangzhan-2025.yaml\n", encoding="utf-8")
    result = run(path)
    assert result.ok, errors(result)
    assert result.figures.total == D("224.14")
    assert [i.name for i in result.budget.institutions] == ["示例县农业技术推广站"]
    alone = tmp_path / "alone.yaml"
    alone.write_text("department: {code: '731', name: 示例县汇总部门, year: 2025, edition: hebei-2025}\n",
                     encoding="utf-8")
    assert errors(run(alone)) == [(str(alone), 1, "格式",
                                   "缺少必填项“expenditure”（支出；列出所属单位 units 的部门文件可省略）")]


# --------------------------------------------------------------------------- the command line


def test_check_verbose_lists_units_and_eliminations():
    from typer.testing import CliRunner

    from generator.commands.cli import app
    plain = CliRunner().invoke(app, ["check", str(DEPT)])
    assert plain.exit_code == 0 and "抵消" not in plain.stdout
    result = CliRunner().invoke(app, ["check", "--verbose", str(DEPT)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    b_line = line_of(UNIT_B.read_text(encoding="utf-8"), "remit: 12.00")
    subsidy = line_of(DEPT.read_text(encoding="utf-8"), "subsidy: 8.00")
    # passes; the inspector's warnings on the example's 事业 units (机关运行经费, 满意度) are listed
    assert f"所属单位 {UNIT_A}（示例县农业技术推广站）：检查通过" in out
    assert (f"抵消8.00万元：{DEPT}:{subsidy}:5 科目2130106的对附属单位补助支出（以附属单位上缴收入安排，"
            f"抵消后为事业收入）↔ {UNIT_A}:") in out
    assert f"抵消4.00万元：{UNIT_B}:{b_line}:5 科目2130104的上缴上级支出（以事业收入安排）" in out
    assert "各文件支出合计772.79万元，抵消20.00万元，部门汇总支出总计752.79万元" in out
    assert re.search(rf"{re.escape(str(DEPT))}：检查通过(，有\d+个警告)?$", out.rstrip())


def test_render_units_writes_each_unit_budget(tmp_path):
    from typer.testing import CliRunner

    from generator.commands.cli import app
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["render", str(DEPT), "--units", "-f", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    # each department and unit is its own set, in its own folder (render/output.py)
    assert sorted(p.name for p in out.iterdir() if p.name != ".budgetgen") == ["730-示例县农业农村局-2025", "730001-示例县农业技术推广站-2025",
                                                     "730002-示例县农产品质量安全检测站-2025"]
    files = sorted(p for p in out.glob("*/*") if p.parent.name != ".budgetgen")
    names = [p.name for p in files]
    assert names == ["730-示例县农业农村局-2025.html", "730001-示例县农业技术推广站-2025.html",
                     "730002-示例县农产品质量安全检测站-2025.html"]
    unit = files[1].read_text(encoding="utf-8")
    assert "示例县农业技术推广站2025年单位预算公开" in unit and "第一部分 单位预算公开表" in unit
    visible = re.sub(r"<style>.*?</style>", "", unit, flags=re.DOTALL)
    assert "部门预算公开" not in visible.replace("单位预算公开", "")
    assert "示例县农业农村局2025年部门预算公开" in files[0].read_text(encoding="utf-8")
    only = tmp_path / "only"
    assert CliRunner().invoke(app, ["render", str(DEPT), "-f", "html", "-o", str(only)]).exit_code == 0
    assert [p.name for p in only.glob("*/*") if p.parent.name != ".budgetgen"] == [names[0]]


def test_batch_summary_lists_the_units(tmp_path):
    import io

    from generator.commands.batch import render_batch
    stream = io.StringIO()
    outcomes = render_batch([str(DEPT), str(UNIT_A)], str(tmp_path), ("html",), 1, units=True,
                            stream=stream, progress_stream=io.StringIO())
    assert [o.status for o in outcomes] == ["ok", "ok"]
    assert [u.file for u in outcomes[0].units] == [str(UNIT_A), str(UNIT_B)]
    text = stream.getvalue()
    for unit in (UNIT_A, UNIT_B):
        assert re.search(rf"^  └ {re.escape(str(unit))}（单位预算）\s+通过", text, re.MULTILINE), text
    assert "已生成4个文件" in text  # the department, its two units, and the unit given on its own


def test_roll_refuses_a_department_with_units_clearly(tmp_path):
    from generator.commands.roll import roll_file
    problems, draft = roll_file(DEPT, 2026)
    assert draft is None and [(p.rule, p.location.line) for p in problems] == [
        ("下年草稿", line_of(DEPT.read_text(encoding="utf-8"), "units:"))]
    problems, draft = roll_file(UNIT_A, 2026)
    assert problems == [] and draft is not None and "year: 2026" in draft


def test_schema_accepts_the_example_and_knows_units():
    import json
    from decimal import Decimal

    import jsonschema
    import yaml

    from test_schema import EditorYaml as Loader  # YAML 1.2 as an editor reads it, numbers exact
    schema = json.loads((ROOT / "schemas" / "budget.schema.json").read_text(encoding="utf-8"),
                        parse_float=Decimal)
    validator = jsonschema.Draft202012Validator(schema)
    for path in (DEPT, UNIT_A, UNIT_B):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
        assert [e.message for e in validator.iter_errors(data)] == [], path
    head = {"department": {"code": "1", "name": "x", "year": 2025, "edition": "hebei-2025"}}
    assert not list(validator.iter_errors({**head, "units": ["u.yaml"]}))  # no 本级 money needed
    assert list(validator.iter_errors(head))  # … but then units are
    assert list(validator.iter_errors({**head, "units": []}))


def test_a_unit_budget_cannot_list_units(tmp_path):
    path = _copy_example(tmp_path, dept_edit=lambda t: replace_once(
        t, "  edition: hebei-2025\n", "  edition: hebei-2025\n  kind: unit\n"))
    found = [e for e in errors(run(path)) if e[2] == "所属单位"]
    assert found == [(str(path), line_of(path.read_text(encoding="utf-8"), "kind: unit"), "所属单位",
                      "本文件写明是单位预算（department.kind: unit），不能再列出所属单位（units）")]


def test_procurement_subtotals_by_unit_in_a_single_file(tmp_path):
    from conftest import example_text, run_variant
    text = replace_once(example_text("2025"), "  - source: 社区工作经费\n",
                        "  - source: 社区工作经费\n    unit: 某社区服务站\n")
    result = run_variant(text)
    assert result.ok, [str(p) for p in result.problems if p.is_error]
    table = next(t for t in result.disclosure.annex_tables if t.key == "procurement")
    subtotals = [(r.cells[0], r.cells[7]) for r in table.rows if r.emphasis]
    assert subtotals == [("合\u3000计", D("172.82")), ("秦皇岛市海港区人民政府西港路街道办事处本级小计", D("134.62")),
                         ("某社区服务站小计", D("38.20"))]  # 18.20 + 5.00 + 15.00


def test_department_income_names_the_lines_in_every_file(tmp_path):
    path = _copy_example(tmp_path, dept_edit=lambda t: replace_once(t, "institution: 43.00", "institution: 44.00"))
    found = errors(run(path))
    text = path.read_text(encoding="utf-8")
    a = tmp_path / "730-units" / UNIT_A.name
    a_text = a.read_text(encoding="utf-8")
    assert [(f, line, rule) for f, line, rule, _ in found] == [(str(path), line_of(text, "institution: 44.00"),
                                                               "收支平衡")]
    # the 事业收入 lines of the whole: the 本级's 行政运行 (paid from the remittance), and 推广站's
    # own line and its line paid from the subsidy (检测站's line is added into the first)
    assert (f"该来源的支出行在第{line_of(text, 'basic: 4.00, source: affiliate')}行，{a}第"
            f"{line_of(a_text, 'source: institution')}、{line_of(a_text, 'source: superior')}行") in found[0][3]


def _texts(disclosure) -> list[str]:
    """Every heading and paragraph of the explanatory text, in order."""
    from generator.compute.tables import Heading, Paragraph
    out = []
    for section in disclosure.sections:
        for block in section.blocks:
            if isinstance(block, (Heading, Paragraph)):
                out.append(block.text)
    return out


def test_a_unit_says_unit_where_the_layout_says_department(dept):
    """A 单位预算's own wording (the layout's unit_wording): 单位职责, 我单位, 本单位, 单位整体,
    单位项目 in headings and prose — the layout's words only: the department's typed duties and
    names stay as typed, and the department's own disclosure keeps 部门."""
    unit = dept.units[0].disclosure
    headings = [s.heading for s in unit.sections]
    assert headings[0] == "一、单位职责及机构设置情况" and headings[1] == "二、单位预算安排的总体情况"
    assert "五、单位整体绩效目标" in headings and "七、单位项目预算安排情况及绩效目标" in headings
    text = "\n".join(_texts(unit))
    # 机关运行经费 = its 302 公用经费: 5.20 + 3.10 + 2.50 + 2.10 + 4.80 = 17.70 (730001, by hand)
    assert "单位职责：" in text and "2025年，我单位机关运行经费共计安排17.70万元" in text
    assert "反映本单位当年全部收入" in text and "我部门" not in text and "本部门" not in text
    own = "\n".join(_texts(dept.disclosure))
    assert "部门职责：" in own and "我部门机关运行经费" in own
    assert [s.heading for s in dept.disclosure.sections][0] == "一、部门职责及机构设置情况"


def test_unit_wording_leaves_placeholders_alone():
    """[部门, 单位] must not turn {部门} (the name) into {单位} (the money unit)."""
    from types import SimpleNamespace

    from generator.compute.context import Ctx
    unit = SimpleNamespace(kind="单位预算", layout=SimpleNamespace(unit_wording=[("部门", "单位")]))
    assert Ctx.worded(unit, "{部门}{年度}年部门预算，本部门{资金:fiscal}") == \
        "{部门}{年度}年单位预算，本单位{资金:fiscal}"
    dept = SimpleNamespace(kind="部门预算", layout=unit.layout)
    assert Ctx.worded(dept, "本部门") == "本部门"
