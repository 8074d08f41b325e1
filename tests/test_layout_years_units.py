"""Year-aware layouts (family + years), beijing-2026, shanghai-2025 with a unit per table and for
the text, the 收支总表's layout rows (人行科目), optional 三公 rows (会议费, 培训费) and the
form-like project goals table (merged per project, named on the pages it continues on).

Figures are the 524 example's, worked out from its leaf facts: 2256.69万元 in all (基本支出
1822.69, 项目支出 434.00), 三公 2.48 (运行维护 2.25 + 接待 0.23), 公用经费 63.37."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest

from generator.compute.tables import Paragraph, Table
from generator.layout import builtin, builtin_families
from generator.pipeline import run, run_text
from generator.problems import Severity
from tests.conftest import EXAMPLE_2025, example_text, line_of, replace_once

BEIJING_2026 = ["收支总表", "收入总表", "支出总表", "财政拨款收支总表", "一般公共预算财政拨款支出表",
                "一般公共预算财政拨款基本支出表", "政府性基金预算财政拨款支出表",
                "国有资本经营预算财政拨款支出表", "财政拨款“三公”经费支出表", "政府采购预算明细表",
                "政府购买服务预算财政拨款明细表", "年度项目支出绩效目标表", "部门整体支出绩效目标表"]
SHANGHAI_2025 = ["财务收支预算总表", "收入预算总表", "支出预算总表", "财政拨款收支预算总表",
                 "一般公共预算支出功能分类预算表", "政府性基金预算支出功能分类预算表",
                 "国有资本经营预算支出功能分类预算表", "一般公共预算基本支出部门预算经济分类预算表",
                 "“三公”经费和机关运行经费预算表"]


def _with(edition: str, year: int = 2025) -> str:
    text = replace_once(example_text("2025"), "edition: hebei-2025", f"edition: {edition}")
    return replace_once(text, "  year: 2025\n", f"  year: {year}\n") if year != 2025 else text


def _unit(table: Table) -> str:
    return next(m for m in table.meta if m.startswith("单位"))


def _section_text(result, heading_part: str) -> str:
    (section,) = [s for s in result.disclosure.sections if heading_part in s.heading]
    return "".join(b.text for b in section.blocks if isinstance(b, Paragraph))


# --------------------------------------------------------------------------- years


def test_a_family_key_picks_the_years_layout_without_a_warning():
    for year, key in ((2025, "beijing-2025"), (2026, "beijing-2026")):
        result = run_text(_with("beijing", year), "dept.yaml")
        assert result.layout is not None and result.layout.key == key
        assert not [p for p in result.problems if p.rule == "版式"]
    assert [lay.key for lay in builtin_families()["beijing"]] == ["beijing-2025", "beijing-2026"]
    assert builtin("hebei", 2025).key == "hebei-2025" and builtin("hebei", 2023).key == "hebei-2023"


def test_no_two_builtin_layouts_of_a_family_claim_one_year():
    for family, layouts in builtin_families().items():
        years = [y for lay in layouts for y in lay.years]
        assert len(years) == len(set(years)), family
        assert all(lay.key.startswith(family) for lay in layouts)


def test_a_year_without_a_layout_warns_naming_the_one_used():
    text = _with("beijing", 2027)
    result = run_text(text, "dept.yaml")
    assert result.layout.key == "beijing-2026"  # the latest one before 2027
    (p,) = [p for p in result.problems if p.rule == "版式"]
    assert p.severity is Severity.WARNING and "beijing-2026" in p.message and "2027" in p.message
    assert p.location.line == line_of(text, "edition: beijing")
    early = run_text(_with("beijing", 2024), "dept.yaml")  # nothing earlier: the earliest
    assert early.layout.key == "beijing-2025"
    assert [p for p in early.problems if p.rule == "版式" and "beijing-2025" in p.message]


def test_an_explicit_key_for_another_year_warns_and_names_the_right_one():
    result = run(EXAMPLE_2025, layout="beijing-2026")
    assert result.ok and result.layout.key == "beijing-2026"
    (p,) = [p for p in result.problems if p.rule == "版式"]
    assert "2025" in p.message and "beijing-2025" in p.message


def test_existing_keys_still_work_without_warnings():
    for key in ("hebei-2025", "beijing-2025", "shanghai-2025"):
        result = run(EXAMPLE_2025, layout=key)
        assert result.ok and result.layout.key == key
        assert not [p for p in result.problems if p.rule == "版式"], key


def test_family_and_years_go_together(tmp_path):
    path = tmp_path / "mine.yaml"
    text = builtin_text("beijing-2025").replace("years: [2025]", "years: []")
    path.write_text(text, encoding="utf-8")
    result = run(EXAMPLE_2025, layout=str(path))
    (p,) = [p for p in result.problems if p.rule == "版式"]
    assert "family" in p.message and p.location.file == str(path)


def builtin_text(key: str) -> str:
    from generator.layout import builtin_path
    path = builtin_path(key)
    assert path is not None
    return path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- 人行科目


def test_layout_rows_of_the_summary_are_the_layouts_not_the_catalogs():
    def right_side(key):
        (summary,) = [t for t in run(EXAMPLE_2025, layout=key).disclosure.schedules
                      if t.title.endswith("收支总表") and "财政拨款" not in t.title]
        return [r.cells[3] for r in summary.rows]
    assert "三十一、人行科目" in right_side("hebei-2025")
    beijing = right_side("beijing-2025")
    assert not [c for c in beijing if "人行科目" in str(c)]
    assert "三十、抗疫特别国债安排的支出" in beijing


# --------------------------------------------------------------------------- beijing-2026


def test_beijing_2026_tables_titles_and_sections():
    result = run(EXAMPLE_2025, layout="beijing-2026")
    d = result.disclosure
    assert [t.title for t in d.schedules] == BEIJING_2026
    assert "项目支出表" not in [t.title for t in d.schedules]
    assert d.schedule_labels[-1] == "十三、"
    assert all(_unit(t) == "单位：万元" for t in d.schedules)
    (first,) = [s for s in d.sections if "部门情况说明" in s.heading]
    headings = [b.text for b in first.blocks if type(b).__name__ == "Heading"]
    assert headings[:1] == ["（一）本部门性质、职责等情况"] and "（二）机构设置情况" in headings
    assert "2025年度收入预算2256.69万元" in _section_text(result, "收入预算")
    spending = _section_text(result, "支出预算")
    assert "基本支出1822.69万元，占80.77%" in spending and "项目支出434.00万元，占19.23%" in spending
    assert "“三公”经费预算安排2.48万元" in _section_text(result, "三公")
    assert "见第二部分年度项目支出绩效目标表" in _section_text(result, "其他情况说明")
    assert d.title.endswith("2025年度部门预算")


# --------------------------------------------------------------------------- shanghai-2025


@pytest.fixture(scope="module")
def shanghai():
    result = run(EXAMPLE_2025, layout="shanghai-2025")
    assert result.ok
    return result


def test_shanghai_prints_tables_in_yuan_and_the_three_public_table_and_text_in_wan(shanghai):
    d = shanghai.disclosure
    assert [t.title for t in d.schedules] == SHANGHAI_2025
    assert [_unit(t) for t in d.schedules] == ["单位：元"] * 8 + ["单位：万元"]
    summary = d.schedules[0]
    totals = {r.cells[1]: r.cells[2] for r in summary.rows}
    assert totals["收入总计"] == Decimal("22566900.00")  # 2256.69万元 in 元
    assert totals["一、一般公共预算资金"] == Decimal("22566900.00")
    three = d.schedules[-1]
    (row,) = three.rows
    assert row.cells[0] == Decimal("2.48") and row.cells[-1] == Decimal("63.37")  # 万元
    assert [h.text for h in three.header[0]][-1] == "机关运行经费预算"
    economic = d.schedules[7]
    assert economic.rows[0].cells[3] == Decimal("18226900.00")  # 基本支出 1822.69万元
    # the text in 万元, its figures the model's
    overview = _section_text(shanghai, "部门预算情况说明")
    assert "收入预算2256.69万元" in overview and "基本支出1822.69万元，占80.77%" in overview
    assert "人员经费1759.32万元，公用经费63.37万元" in overview
    assert "“三公”经费预算安排2.48万元" in _section_text(shanghai, "三公")
    assert "机关运行经费共计安排63.37万元" in _section_text(shanghai, "三公")
    assert "政府采购预算172.82万元" in _section_text(shanghai, "其他相关")
    assert d.parts[0][0] == "text"  # 预算编制说明 first
    assert shanghai.layout.units == "表：元、万元；说明：万元"


def test_shanghai_workbook_has_the_same_digits_and_unit_lines(shanghai):
    openpyxl = pytest.importorskip("openpyxl")
    from generator.render.xlsx import render_xlsx
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(shanghai.disclosure)))
    first, last = wb[wb.sheetnames[0]], wb["9 三公经费和机关运行经费"]
    texts = [c.value for row in first.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(t.endswith("单位：元") or t == "单位：元" for t in texts)
    numbers = [c.value for row in first.iter_rows() for c in row if isinstance(c.value, (int, float))]
    assert 22566900 in numbers
    lines = [c.value for row in last.iter_rows() for c in row if isinstance(c.value, str)]
    assert "单位：万元" in lines
    amounts = [c.value for row in last.iter_rows() for c in row if isinstance(c.value, (int, float))]
    assert 2.48 in amounts and 63.37 in amounts


def test_a_table_unit_must_be_one_the_program_prints(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(builtin_text("shanghai-2025").replace("    unit: 万元\n", "    unit: 千元\n"),
                    encoding="utf-8")
    result = run(EXAMPLE_2025, layout=str(path))
    (p,) = [p for p in result.problems if p.rule == "版式"]
    assert "unit" in p.message and p.location.file == str(path)


# --------------------------------------------------------------------------- 会议费, 培训费


def _meeting_layout(tmp_path):
    text = builtin_text("beijing-2025").replace(
        "      - {label: 公务接待费, items: [reception]}\n",
        "      - {label: 公务接待费, items: [reception]}\n"
        "      - {label: 会议费, items: [meeting]}\n      - {label: 培训费, items: [training]}\n", 1)
    path = tmp_path / "with-meetings.yaml"
    path.write_text(text.replace("key: beijing-2025", "key: with-meetings"), encoding="utf-8")
    return path


def _three_public(result) -> dict:
    (table,) = [t for t in result.disclosure.schedules if "三公" in t.title]
    return dict(zip((h.text for h in table.header[0]), table.rows[0].cells))


def test_meeting_and_training_rows_print_what_the_file_gives(tmp_path):
    layout = _meeting_layout(tmp_path)
    text = replace_once(example_text("2025"), "  reception: 0.23\n",
                        "  reception: 0.23\n  meeting: 1.50\n  training: 0.75\n")
    (tmp_path / "dept.yaml").write_text(text, encoding="utf-8")
    result = run(tmp_path / "dept.yaml", layout=str(layout))
    assert result.ok, [str(p) for p in result.problems]
    row = _three_public(result)
    assert row["会议费"] == Decimal("1.50") and row["培训费"] == Decimal("0.75")
    assert row["合计"] == Decimal("2.48")  # not part of the 三公 total
    assert result.figures.three_public_total == Decimal("2.48")
    assert not [p for p in result.problems if p.rule.startswith("三公")]


def test_a_printed_row_not_given_warns_and_one_given_for_nothing_warns(tmp_path):
    layout = _meeting_layout(tmp_path)
    result = run(EXAMPLE_2025, layout=str(layout))
    assert result.ok
    found = sorted(p.message for p in result.problems if p.rule == "三公-附加行")
    assert len(found) == 2 and "会议费" in found[1] + found[0] and "培训费" in found[0] + found[1]
    text = replace_once(example_text("2025"), "  reception: 0.23\n", "  reception: 0.23\n  meeting: 1.00\n")
    hebei = run_text(text, "dept.yaml")  # hebei-2025 prints no 会议费 row
    (p,) = [p for p in hebei.problems if p.rule == "三公-附加行"]
    assert p.severity is Severity.WARNING and "不会印出" in p.message
    assert p.location.line == line_of(text, "  meeting: 1.00")


def test_meeting_below_the_economic_line_is_an_error(tmp_path):
    layout = _meeting_layout(tmp_path)
    base = replace_once(example_text("2025"), "{code: 30201,", "{code: 30215, name: 会议费, amount: 2.00}\n  - {code: 30201,")
    base = replace_once(base, "  reception: 0.23\n", "  reception: 0.23\n  training: 0\n")
    missing = base  # 30215 会议费 2.00 in 基本支出, 会议费 not given: the row would print 0
    low = replace_once(base, "  training: 0\n", "  training: 0\n  meeting: 1.00\n")
    for text, rule, line in ((missing, "三公-附加行", None), (low, "三公-经济分类", "  meeting: 1.00")):
        (tmp_path / "dept.yaml").write_text(text, encoding="utf-8")
        result = run(tmp_path / "dept.yaml", layout=str(layout))
        errors = [p for p in result.problems if p.rule == rule and p.severity is Severity.ERROR]
        assert len(errors) == 1 and "30215" in errors[0].message, [str(p) for p in result.problems]
        if line:
            assert errors[0].location.line == line_of(text, line)


# --------------------------------------------------------------------------- project goals form


def _goals(result) -> Table:
    (table,) = [t for t in result.disclosure.schedules if t.title.endswith("项目支出绩效目标表")]
    return table


def test_project_goals_rows_are_grouped_per_project(xigang):
    result = run(EXAMPLE_2025, layout="beijing-2025")
    table = _goals(result)
    projects = result.budget.projects
    assert table.merge == 3 and len(table.groups) == len(projects)
    spans = table.group_spans()
    assert len(spans) == len(projects)
    assert sum(spans.values()) == len(table.rows)
    for (start, count), p in zip(sorted(spans.items()), projects):
        assert table.rows[start].cells[0] == p.name and count == max(1, len(p.indicators))
    assert table.groups[5] == f"{projects[5].name}（{projects[5].code}）"


def test_project_goals_workbook_merges_the_project_columns():
    openpyxl = pytest.importorskip("openpyxl")
    from generator.render.xlsx import render_xlsx
    result = run(EXAMPLE_2025, layout="beijing-2025")
    table = _goals(result)
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(result.disclosure)))
    ws = wb[table.sheet]
    merged = {(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges}
    spans = sorted(table.group_spans().items())
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == table.rows[0].cells[0])
    for start, count in spans:
        if count > 1:
            for col in (1, 2, 3):
                assert (top + start, col, top + start + count - 1, col) in merged
    assert ws.cell(top, 2).value == pytest.approx(26.00)


def _long_project_text() -> str:
    """The example with 60 indicator rows on its first project: it cannot fit on one page."""
    text = example_text("2025")
    m = re.search(r"\n(      - \[产出指标, 数量指标, 开展活动数量[^\n]*\])\n", text)
    assert m is not None
    return text.replace(m.group(0), "\n" + "\n".join([m.group(1)] * 60) + "\n", 1)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_project_goals_pdf_names_the_project_on_every_page_it_is_on(tmp_path):
    """PDF pages 27, 29, 30 of the 2025 example in beijing-2025 showed rows with no project name;
    now a project that fits on a page is kept on one, and one that cannot (60 rows here) is
    named, with its code, at the top of each page it continues on."""
    from generator.render.pdf import render_pdf
    result = run_text(_long_project_text(), "dept.yaml", layout="beijing-2025")
    assert result.ok, [str(p) for p in result.problems if p.severity is Severity.ERROR]
    pdf = tmp_path / "out.pdf"
    pdf.write_bytes(render_pdf(result.disclosure))
    def text(*options: str) -> list[str]:
        return subprocess.run(["pdftotext", *options, str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout.split("\f")
    pages, flowing = text("-layout"), [re.sub(r"\s", "", p) for p in text()]  # a wrapped name: whole
    table = _goals(result)
    rows_of: dict[str, list[int]] = {}
    for g, p in enumerate(result.budget.projects):
        cells = [r.cells[5] for r in table.rows if r.group == g and r.cells[5]]
        marks = {c for c in cells if sum(c in r.cells[5] for r in table.rows if r.cells[5]) == cells.count(c)}
        rows_of[p.name] = [i for i, page in enumerate(pages) if "绩效目标表" in page
                           and any(re.search(rf"\b{re.escape(m)}\b", page) for m in marks)]
    first = result.budget.projects[0]
    assert len(rows_of[first.name]) >= 2  # 60 rows: the project continues on another page
    for name, on in rows_of.items():
        for i in on:
            assert name in flowing[i], f"page {i + 1} has rows of {name} but not its name"
    for i in rows_of[first.name][1:]:
        top = pages[i].strip().splitlines()[0]
        assert "（续表）" in top and f"项目：{first.name}（{first.code}）" in top.replace(" ", "")


def test_meeting_rows_come_back_from_a_workbook(tmp_path):
    """A workbook printed in a layout with 会议费/培训费 columns imports them as the file had them."""
    pytest.importorskip("openpyxl")
    from generator.importer import import_workbook
    from generator.render.xlsx import render_xlsx
    layout = _meeting_layout(tmp_path)
    text = replace_once(example_text("2025"), "  reception: 0.23\n",
                        "  reception: 0.23\n  meeting: 1.50\n  training: 0.75\n")
    (tmp_path / "dept.yaml").write_text(text, encoding="utf-8")
    before = run(tmp_path / "dept.yaml", layout=str(layout))
    book = tmp_path / "m.xlsx"
    book.write_bytes(render_xlsx(before.disclosure))
    res = import_workbook(book, layout=str(layout), year=2025)
    assert res.text is not None, [str(p) for p in res.problems]
    again = run_text(res.text, "imported.yaml", layout=str(layout))
    tp = again.budget.three_public
    assert (tp.meeting, tp.training, tp.reception) == (Decimal("1.50"), Decimal("0.75"), Decimal("0.23"))


def test_a_beijing_2026_workbook_is_recognised_by_its_year(tmp_path):
    pytest.importorskip("openpyxl")
    from generator.importer import import_workbook
    from generator.render.xlsx import render_xlsx
    before = run_text(_with("beijing-2026", 2026), "dept.yaml")
    book = tmp_path / "bj26.xlsx"
    book.write_bytes(render_xlsx(before.disclosure))
    res = import_workbook(book, year=2026)
    assert res.text is not None, [str(p) for p in res.problems]
    assert "edition: beijing-2026" in res.text
    undecided = import_workbook(book)  # no year: the two Beijing years read alike
    assert undecided.text is None and any("--year" in p.message for p in undecided.problems)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_shanghai_pdf_unit_line_of_each_table(shanghai, tmp_path):
    """In the PDF each table's unit line says its own unit; its figures are in that unit."""
    from generator.render.pdf import render_pdf
    pdf = tmp_path / "sh.pdf"
    pdf.write_bytes(render_pdf(shanghai.disclosure))
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    for title, unit in zip(SHANGHAI_2025, ["元"] * 8 + ["万元"]):
        (page,) = [p for p in pages if re.search(rf"^\s*{re.escape(title)}\s*$", p, re.M)]
        assert re.search(rf"单位：{unit}\s*$", page, re.M), title
    (summary,) = [p for p in pages if re.search(r"^\s*财务收支预算总表\s*$", p, re.M)]
    assert re.search(r"收入总计\s+22566900\.00", summary)
    (three,) = [p for p in pages if "“三公”经费和机关运行经费预算表" in p and "单位：万元" in p]
    assert re.search(r"2\.48\s+2\.25\s+2\.25\s+0\.23\s+63\.37", three)
    text = "".join(p for p in pages if "预算编制说明" in p or "万元" in p)
    assert "2256.69万元" in text.replace("\n", "")
