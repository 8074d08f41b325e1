"""Nothing unfinished passes: the clerk's year without traps.

The untouched starter and an untouched `roll` draft are warned by `check` and refused by
`render` (located), `--draft` renders them marked 草稿; a changed figure without its 增减原因,
an empty section, amounts typed in 元, a year past the newest catalog; `roll` two years on;
and the messages: key typos, comma hints, broken pipes, help text.
"""
from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from conftest import EXAMPLE_2025, ROOT, example_text, line_of, replace_once, run_variant
from generator.commands.cli import app
from generator.commands.roll import roll_file
from generator.commands.starter import starter_text
from generator.pipeline import run, run_text

runner = CliRunner()


def _rule(result, rule):
    return [p for p in result.problems if p.rule == rule]


def _unfinished(problems):
    return [p for p in problems if p.rule.startswith("未完成")]


# ----------------------------------------------------------------------------- the starter

def test_untouched_starter_is_warned_by_check_located():
    text = starter_text("hebei-2025", 2026)
    result = run_text(text, "dept.yaml")
    assert result.ok  # well-formed …
    open_items = _unfinished(result.problems)
    assert open_items and all(not p.is_error for p in open_items)  # … but unfinished
    where = {p.location.line for p in open_items}
    assert line_of(text, '  code: "部门编码"') in where
    assert line_of(text, "  name: 部门全称") in where
    assert line_of(text, "    name: 项目名称") in where
    assert not any("budgetgen-placeholder" in line for line in text.splitlines())  # not copied


def test_untouched_starter_is_refused_by_render_and_drafted_with_draft(tmp_path):
    dept = tmp_path / "dept.yaml"
    dept.write_text(starter_text("hebei-2025", 2026), encoding="utf-8")
    check = runner.invoke(app, ["check", str(dept)])
    assert check.exit_code == 0 and "未完成" in check.output and "检查通过" not in check.output
    out = tmp_path / "out"
    refused = runner.invoke(app, ["render", str(dept), "-o", str(out), "-f", "xlsx"])
    assert refused.exit_code == 1
    assert f"{dept}:{line_of(dept.read_text(encoding='utf-8'), '  name: 部门全称')}:" in refused.output
    assert "错误 [未完成-占位文字]" in refused.output and "--draft" in refused.output
    assert not any(out.rglob("*.xlsx"))
    drafted = runner.invoke(app, ["render", str(dept), "-o", str(out), "-f", "xlsx", "--draft"])
    assert drafted.exit_code == 0, drafted.output
    (book,) = out.rglob("*.xlsx")
    wb = openpyxl.load_workbook(book)
    for ws in wb.worksheets:  # every sheet: the printed header and the title row
        assert "草稿" in ws.oddHeader.center.text
        assert str(ws["A1"].value).startswith("【草稿】")


def test_a_finished_file_renders_without_draft_marks(xigang):
    from generator.render.xlsx import render_xlsx
    import io
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(xigang.disclosure)))
    assert not any("草稿" in str(ws["A1"].value) for ws in wb.worksheets)
    assert not any(ws.oddHeader.center.text for ws in wb.worksheets)


@pytest.mark.slow
def test_draft_pdf_says_draft_on_every_page(tmp_path):
    dept = tmp_path / "dept.yaml"
    dept.write_text(starter_text("hebei-2025", 2026), encoding="utf-8")
    result = runner.invoke(app, ["render", str(dept), "-o", str(tmp_path / "out"), "-f", "pdf", "--draft"])
    assert result.exit_code == 0, result.output
    (pdf,) = (tmp_path / "out").rglob("*.pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) > 5 and all("草稿" in p for p in pages)


# ----------------------------------------------------------------------------- roll

def _roll(tmp_path: Path, to: int) -> tuple[Path, str]:
    problems, text = roll_file(EXAMPLE_2025, to)
    assert text is not None, [str(p) for p in problems]
    path = tmp_path / f"dept-{to}.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def test_untouched_roll_draft_is_warned_and_refused(tmp_path):
    path, text = _roll(tmp_path, 2026)
    result = run(path)
    assert result.ok
    review = _rule(result, "未完成-待复核")
    assert len(review) >= 8  # prior_year reasons, assets, amounts, texts, projects, control totals
    lines = text.splitlines()
    for p in review:  # each at its own line of the review list, naming the place
        assert lines[p.location.line - 1].lstrip().startswith("- {at:")
    assets = next(p for p in review if "资产数" in p.message)
    assert f"第{line_of(text, 'assets:')}行" in assets.message
    refused = runner.invoke(app, ["render", str(path), "-o", str(tmp_path / "out"), "-f", "xlsx"])
    assert refused.exit_code == 1 and "错误 [未完成-待复核]" in refused.output
    # the clerk reviewed everything and deleted the list: the draft renders
    cleared = re.sub(r"# 待复核事项.*\nreview:\n(  - .*\n)+", "", text)
    assert "review:" not in cleared
    result = run_text(cleared, "cleared.yaml")
    assert _unfinished(result.problems) == []


def test_roll_two_years_ahead(tmp_path):
    path, text = _roll(tmp_path, 2027)
    result = run(path)
    b = result.budget
    assert result.ok and b.department.year == 2027
    assert b.prior_year.year == 2026 and b.assets.as_of == "2026-12-31"
    assert b.prior_year.basic == run(EXAMPLE_2025).figures.basic
    cells = [c for p in b.projects for row in p.indicators for c in row]
    assert any("2027年" in c for c in cells) and not any("2026年12月底" in c for c in cells)
    assert text.count("# budgetgen roll：") == 1  # the first step's notes are replaced
    assert "由2025年文件生成的2027年草稿" in text
    # the same as rolling twice by hand
    once = tmp_path / "once.yaml"
    once.write_text(roll_file(EXAMPLE_2025, 2026)[1] or "", encoding="utf-8")
    twice = roll_file(once, 2027)[1] or ""
    by_hand = run_text(twice, "t.yaml").budget.model_dump(exclude={"review"})
    assert by_hand == b.model_dump(exclude={"review"})


def test_roll_backwards_exits_1(tmp_path):
    result = runner.invoke(app, ["roll", str(EXAMPLE_2025), "--to", "2024", "-o", str(tmp_path / "x.yaml")])
    assert result.exit_code == 1 and "应晚于" in result.output
    result = runner.invoke(app, ["roll", str(EXAMPLE_2025), "--to", "2027", "-o", str(tmp_path / "y.yaml")])
    assert result.exit_code == 0, result.output


# ----------------------------------------------------------------------------- 增减原因, empty parts

def test_changed_figure_without_reason_is_unfinished():
    text = example_text("2025")
    line = "    basic: 主要为人员经费变化，原因为人员增加及工资调整。\n"
    result = run_variant(replace_once(text, line, '    basic: ""\n'))
    (p,) = _rule(result, "未完成-增减原因")
    assert "基本支出" in p.message and p.location.line == line_of(text, line.strip())
    assert _rule(run_variant(text), "未完成-增减原因") == []


def test_empty_performance_part_prints_no_heading():
    text = example_text("2025")
    partly = re.sub(r"  items:\n(    - .*\n)+", "  items: []\n", text, count=1)
    result = run_variant(partly)
    section = next(s for s in result.disclosure.sections if s.key == "performance")
    headings = [b.text for b in section.blocks if type(b).__name__ == "Heading"]
    assert not any("分项绩效目标" in h for h in headings)
    assert [h[:3] for h in headings] == ["（一）", "（二）"] and "工作保障措施" in headings[1]
    (p,) = _rule(result, "文字-空白")
    assert p.location.line == line_of(partly, "items: []")


def test_beijing_department_goals_table_prints_the_overall_goals(xigang):
    result = run(EXAMPLE_2025, layout="beijing-2025")
    table = next(t for t in result.disclosure.schedules if t.title == "部门整体支出绩效目标表")
    goals_row = next(row for row in table.header if row[0].text == "年度总体目标")
    assert xigang.budget.performance.overall[0] in goals_row[1].text


# ----------------------------------------------------------------------------- magnitude, catalogs

_YUAN = """department: {code: "901", name: 示例镇, year: 2025, edition: hebei-2025%s}
expenditure:
  - {code: 2010301, basic: 1100000}
basic_economic:
  - {code: 30101, amount: 1000000}
  - {code: 30201, amount: 100000}
"""


def test_amounts_typed_in_yuan_are_warned():
    result = run_text(_YUAN % "", "yuan.yaml")
    (p,) = _rule(result, "金额-单位")
    assert "以元录入" in p.message and "unit: 元" in p.message and p.location.line == 1
    assert _rule(run_text(_YUAN % ", unit: 元", "yuan.yaml"), "金额-单位") == []
    # the other way: unit: 元 written over amounts typed in 万元 (a department spending 110元)
    wan = _YUAN.replace("1100000", "110").replace("1000000", "100").replace("100000", "10")
    (p,) = _rule(run_text(wan % ", unit: 元", "wan.yaml"), "金额-单位")
    assert "删去 unit: 元" in p.message


def test_per_staff_figure_out_of_range_is_warned():
    text = example_text("2025")
    many = run_variant(replace_once(text, "  edition: hebei-2025\n", "  edition: hebei-2025\n  staff: 60\n"))
    assert _rule(many, "金额-单位") == []  # about 30万元 a head
    one = run_variant(replace_once(text, "  edition: hebei-2025\n", "  edition: hebei-2025\n  staff: 2\n"))
    (p,) = _rule(one, "金额-单位")
    assert "人均基本支出" in p.message and "unit: 元" in p.message
    assert _rule(run_variant(text), "金额-单位") == []


def test_year_past_the_newest_catalog_says_which_catalog():
    text = replace_once(example_text("2025"), "  year: 2025\n", "  year: 2031\n")
    text = text.replace("as_of: 2024-12-31", "as_of: 2030-12-31")
    result = run_variant(text)
    (p,) = _rule(result, "科目目录-年度")
    assert "没有2031年的科目目录" in p.message and "按2026年目录" in p.message
    assert _rule(run(EXAMPLE_2025), "科目目录-年度") == []


def test_new_says_when_its_default_year_has_no_catalog(tmp_path):
    result = runner.invoke(app, ["new", "-o", str(tmp_path / "d.yaml"), "--year", "2031"])
    assert result.exit_code == 0 and "没有2031年的科目目录" in result.output
    result = runner.invoke(app, ["new", "-o", str(tmp_path / "e.yaml"), "--year", "2025"])
    assert "科目目录" not in result.output


# ----------------------------------------------------------------------------- messages

def test_misspelt_key_gets_a_suggestion():
    text = replace_once(example_text("2025"), "{code: 2010301, name: 行政运行, basic:", "{code: 2010301, name: 行政运行, basci:")
    (p,) = [p for p in run_variant(text).problems if p.is_error]
    assert "未知的键“basci”（是不是 basic？）" in p.message


def test_comma_hint_never_changes_the_magnitude():
    from generator.money import parse_amount
    with pytest.raises(ValueError) as bad:
        parse_amount("26，00")
    assert "2600" not in str(bad.value) and "26.00" not in str(bad.value)
    with pytest.raises(ValueError) as thousands:
        parse_amount("1,234.50")
    assert "1234.50" in str(thousands.value)
    assert parse_amount("26.00") == Decimal("26.00")


@pytest.mark.parametrize("args", [["catalog", "支出"], ["schema"], ["new", "-o", "-"], ["--help"],
                                  ["render", "--help"], ["layouts", "--export", "hebei-2025"],
                                  ["roll", str(EXAMPLE_2025), "--to", "2026", "-o", "-"],
                                  ["render", str(EXAMPLE_2025), "-f", "html", "-o", "-"]])
def test_broken_pipe_ends_quietly(args):
    """`budgetgen … | head`: the reader stops early; the command ends with exit 0 and no message."""
    proc = subprocess.Popen([sys.executable, "-m", "generator", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # `| true`: the reader stops before the command writes
    err = [line for line in proc.stderr.read().decode("utf-8").splitlines() if "警告" not in line]
    assert proc.wait() == 0 and err == []


@pytest.mark.parametrize("command", ["", "check", "render", "new", "roll", "catalog", "import", "watch",
                                     "layouts", "schema"])
def test_help_has_no_english_type_names(command):
    result = runner.invoke(app, ([command] if command else []) + ["--help"], terminal_width=80)
    assert result.exit_code == 0
    for english in ("[default", "<list[", "x>=", "<int>", "<str>", "<path>", "<float", "[OPTIONS]",
                    "COMMAND", "Usage", "Options"):
        assert english not in result.output, (english, result.output)


def test_help_columns_line_up_in_terminal_columns():
    """A Chinese character takes two columns: the descriptions of the options start at one
    column, counted as a terminal counts."""
    import unicodedata

    def width(text):
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    result = runner.invoke(app, ["render", "--help"], terminal_width=100)
    starts = set()
    for line in result.output.splitlines():
        m = re.match(r"(  -\S.*?\s{2,})\S", line)
        if m and width(m.group(1)) <= 40:
            starts.add(width(m.group(1)))
    assert len(starts) == 1, starts  # (and there are such rows)


def test_draft_leaves_a_finished_file_unmarked(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", str(EXAMPLE_2025), "-o", str(out), "-f", "xlsx", "--draft"])
    assert result.exit_code == 0, result.output
    (book,) = out.rglob("*.xlsx")
    wb = openpyxl.load_workbook(book)
    assert not any("草稿" in str(ws["A1"].value) for ws in wb.worksheets)
