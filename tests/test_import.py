"""`budgetgen import`: workbooks of the standard schedules back into a department file.

Round trip (render → import → render gives the same nine schedules, row for row) for both
examples; a workbook in another shape written here (one header row, no 序号/栏次, sheets named
表1…表9, amounts in 元, .xlsx and .xls) imports to the same schedules; each kind of bad workbook
gives its located error; every non-empty row is imported, checked or listed as ignored.
"""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from conftest import EXAMPLE_2023, EXAMPLE_2025
from typer.testing import CliRunner

from generator.commands.cli import app
from generator.importer import import_workbook
from generator.pipeline import run, run_text
from generator.render.xlsx import render_xlsx
from generator.render.xlsx_layout import place_header

runner = CliRunner()
EXAMPLES = {"2025": EXAMPLE_2025, "2023": EXAMPLE_2023,
            "all-sources": EXAMPLE_2025.with_name("900-qingshan-2025.yaml")}


@pytest.fixture(scope="module")
def originals():
    return {k: run(p) for k, p in EXAMPLES.items()}


@pytest.fixture(scope="module")
def rendered(originals, tmp_path_factory):
    out = {}
    for k, res in originals.items():
        path = tmp_path_factory.mktemp(f"book{k}") / f"dept-{k}.xlsx"
        path.write_bytes(render_xlsx(res.disclosure))
        out[k] = path
    return out


def schedules_of(result):
    return [(t.key, t.title, t.meta, t.rows) for t in result.disclosure.schedules]


def imported(path, **kw):
    res = import_workbook(path, **kw)
    assert res.text is not None, "\n".join(map(str, res.problems))
    again = run_text(res.text, "imported.yaml")
    errors = [p for p in again.problems if p.is_error]
    assert not errors, "\n".join(map(str, errors)) + "\n" + res.text
    return res, again


# ------------------------------------------------------------------- round trip


def lines(budget):
    return sorted((line.code, line.source.value, line.basic, line.project, line.operating, line.remit,
                   line.subsidy) for line in budget.expenditure)


@pytest.mark.parametrize("which", ["2025", "2023", "all-sources"])
def test_round_trip_gives_the_same_schedules_row_for_row(which, originals, rendered):
    res, again = imported(rendered[which])
    assert not [p for p in res.problems if p.is_error]
    before, after = schedules_of(originals[which]), schedules_of(again)
    assert len(before) == len(after) == 9
    for a, b in zip(before, after):
        assert a == b, a[0]
    # and the department, layout and leaf facts themselves
    assert again.budget.department == originals[which].budget.department
    assert again.budget.basic_economic == originals[which].budget.basic_economic
    assert again.budget.three_public == originals[which].budget.three_public
    # the leaves themselves, each with its source (收入总表 and the fund tables tell them apart)
    assert lines(again.budget) == lines(originals[which].budget)


def test_round_trip_keeps_annex_tables(originals, rendered):
    _, again = imported(rendered["2025"])
    b, o = again.budget, originals["2025"].budget
    assert b.procurement == o.procurement
    assert b.institutions == o.institutions
    assert b.assets == o.assets.model_copy(update={"planned_purchase": Decimal(0)})
    assert [(p.code, p.name, p.amount, p.plan, p.goals, p.indicators) for p in b.projects] == \
        [(p.code, p.name, p.amount, p.plan, p.goals, p.indicators) for p in o.projects]
    # the workbook's totals became control totals that check compares again
    ct = b.control_totals
    assert (ct.total, ct.basic, ct.project, ct.personnel, ct.public, ct.three_public, ct.assets,
            ct.procurement) == (Decimal("2256.69"), Decimal("1822.69"), Decimal("434.00"),
                                Decimal("1759.32"), Decimal("63.37"), Decimal("2.48"),
                                Decimal("501.43"), Decimal("172.82"))


def test_2023_goal_tables_without_amounts_are_left_for_the_clerk(rendered):
    res, again = imported(rendered["2023"])
    assert list(again.budget.projects) == []
    assert "# 下列项目的绩效目标表不含预算数" in res.text
    assert "#   - name: 车辆保险费" in res.text


def test_each_line_names_its_sheet_and_cell(rendered):
    res, _ = imported(rendered["2025"])
    line = next(l for l in res.text.splitlines() if "code: 2010301" in l)
    # 表三: title, meta, two header rows, 栏次, 合计, 201, 20101, 2010108, 20103, 2010301 → row 11
    assert line.endswith("# '表三 支出总表'!B11 '表二 收入总表'!B11"), line
    econ = next(l for l in res.text.splitlines() if "code: 30101" in l)
    assert econ.endswith("# '表六 一般公共预算基本支出表'!B8")


def test_every_non_empty_row_is_accounted_for(rendered):
    # data_only: openpyxl cannot keep a formula's cached value when it saves, so the totals
    # (=SUM formulas in our workbooks) are loaded as their values, as Excel would save them
    book = openpyxl.load_workbook(rendered["2025"], data_only=True)
    extra = book.create_sheet("备忘")
    extra["A1"] = "这张表不是预算表"
    book["表三 支出总表"]["A40"] = "备注：本表由系统导出"
    path = rendered["2025"].with_name("extra.xlsx")
    book.save(path)
    res = import_workbook(path)
    non_empty = {(ws.title, r) for ws in book.worksheets for r, row in enumerate(ws.iter_rows(values_only=True))
                 if any(v not in (None, "") for v in row)}
    assert set(res.draft.ledger) == non_empty
    ignored = {(s, r): why for s, r, why in res.ignored}
    assert ignored[("备忘", 0)] == "工作表“备忘”不是可识别的表"
    assert ignored[("表三 支出总表", 39)] == "注释行"
    assert "#   备忘 第1行：工作表“备忘”不是可识别的表" in res.text


# --------------------------------------------------------- a workbook in another shape


def _leaf_headers(table) -> list[str]:
    rows = [r for r in table.header if r[0].text != "栏次"]
    labels = [""] * table.width
    for p in place_header(tuple(rows), table.width):
        if p.last_row == len(rows) - 1:  # the lowest label over a column
            for c in range(p.col, p.last_col + 1):
                labels[c] = p.text.replace("\u3000", "")
    return labels


def other_shape(disclosure, path: Path) -> None:
    """表1…表9, title with the year, 编制部门 and 单位：元 above, one header row, no 序号/栏次,
    codes as numbers, amounts in 元; 收支总表 headed 收入项目/支出项目."""
    rows_by_sheet = []
    for n, t in enumerate(disclosure.schedules, 1):
        head = _leaf_headers(t)[1:]
        if t.key == "s1":
            head = ["收入项目", "预算数", "支出项目", "预算数"]
        rows = [[f"{disclosure.year}年{t.title}"],
                [f"编制部门：{disclosure.department_code}-{disclosure.department_name}", None, "单位：元"],
                head]
        for row in t.rows:
            cells = []
            for value, col in zip(row.cells[1:], t.columns[1:]):
                if isinstance(value, Decimal):
                    yuan = value * 10000
                    cells.append(int(yuan) if yuan == yuan.to_integral() else float(yuan))
                elif col.kind == "code" and isinstance(value, str) and value.isdigit():
                    cells.append(int(value))
                else:
                    cells.append(value or None)
            rows.append(cells)
        if t.note:
            rows.append([t.note])
        rows_by_sheet.append((f"表{n}", rows))
    if path.suffix == ".xls":
        import xlwt
        wb = xlwt.Workbook(encoding="utf-8")
        for name, rows in rows_by_sheet:
            ws = wb.add_sheet(name)
            for r, row in enumerate(rows):
                for c, v in enumerate(row):
                    if v is not None:
                        ws.write(r, c, v)
        wb.save(str(path))
    else:
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for name, rows in rows_by_sheet:
            ws = wb.create_sheet(name)
            for row in rows:
                ws.append(row)
        wb.save(path)


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
@pytest.mark.parametrize("which", ["2025", "2023", "all-sources"])
def test_another_shape_imports_to_the_same_schedules(which, suffix, originals, tmp_path):
    path = tmp_path / f"表{which}{suffix}"
    other_shape(originals[which].disclosure, path)
    res, again = imported(path)
    assert f"edition: {originals[which].budget.department.edition}" in res.text
    assert lines(again.budget) == lines(originals[which].budget)
    assert schedules_of(again) == schedules_of(originals[which])
    line = next(l for l in res.text.splitlines() if "code: 2010301" in l)
    assert re.search(r"# 表3!A\d+ 表2!A\d+$", line), line


def test_xls_with_merged_two_row_headers(originals, tmp_path):
    """An .xls as the budget system writes it: merged title, merged two-row header, 栏次, 万元."""
    import xlwt
    d = originals["2023"].disclosure
    wb = xlwt.Workbook(encoding="utf-8")
    for n, t in enumerate(d.schedules, 1):
        ws = wb.add_sheet(f"Sheet{n}")
        ws.write_merge(0, 0, 0, t.width - 1, t.title)
        ws.write(1, 0, t.meta[0])
        ws.write(1, t.width - 1, "  ".join(t.meta[1:]))
        for p in place_header(t.header, t.width):
            if p.rowspan > 1 or p.colspan > 1:
                ws.write_merge(2 + p.row, 2 + p.last_row, p.col, p.last_col, p.text)
            else:
                ws.write(2 + p.row, p.col, p.text)
        r = 2 + len(t.header)
        for row in t.rows:
            for c, v in enumerate(row.cells):
                if isinstance(v, Decimal):
                    ws.write(r, c, float(v))
                elif v not in (None, ""):
                    ws.write(r, c, v)
            r += 1
        if t.note:
            ws.write_merge(r, r, 0, t.width - 1, t.note)
    path = tmp_path / "book.xls"
    wb.save(str(path))
    res, again = imported(path)
    assert schedules_of(again) == schedules_of(originals["2023"])
    assert "# Sheet3!B9 Sheet2!B9" in next(l for l in res.text.splitlines() if "code: 2010301" in l)


def test_project_list_and_goals_table(originals, tmp_path):
    """Layouts that print a 项目支出表 (one row per project) and one goals table for all projects
    (a block of rows per project, the name on its first row) instead of a form per project."""
    path = tmp_path / "b.xlsx"
    o = originals["2025"]
    other_shape(o.disclosure, path)
    book = openpyxl.load_workbook(path)
    ws = book.create_sheet("表10")
    ws.append(["项目支出表"])
    ws.append(["编制部门：524-秦皇岛市海港区人民政府西港路街道办事处", None, "单位：元"])
    ws.append(["项目编码", "项目名称", "功能分类科目编码", "合计", "财政拨款", "其他资金"])
    ws.append([None, "合计", None, 4340000, 4340000, None])
    for p in o.budget.projects:
        ws.append([p.code, p.name, int(p.function_code), int(p.amount * 10000), int(p.amount * 10000), None])
    ws = book.create_sheet("表11")
    ws.append(["项目支出绩效目标表"])
    ws.append(["单位：元"])
    ws.append(["项目名称", "预算金额", "年度目标", "一级指标", "二级指标", "三级指标", "指标值"])
    for p in o.budget.projects:
        first = ws.max_row + 1
        for i, row in enumerate(p.indicators):
            head = [p.name, int(p.amount * 10000), "\n".join(p.goals)] if i == 0 else [None] * 3
            ws.append(head + [row[0], row[1], row[2], row[4]])
        ws.merge_cells(start_row=first, start_column=1, end_row=ws.max_row, end_column=1)
    book.save(path)
    res, again = imported(path)
    want = [(p.code, p.name, p.amount, p.function_code, p.goals,
             [[r[0], r[1], r[2], "", r[4], ""] for r in p.indicators]) for p in o.budget.projects]
    assert [(p.code, p.name, p.amount, p.function_code, p.goals, [list(r) for r in p.indicators])
            for p in again.budget.projects] == want
    assert not [x for x in res.ignored if x[0] in ("表10", "表11")]


def test_three_public_items_as_columns(originals, tmp_path):
    """Many provinces print the 三公 table as one row with the items as columns."""
    path = tmp_path / "b.xlsx"
    other_shape(originals["2025"].disclosure, path)
    book = openpyxl.load_workbook(path)
    ws = book["表9"]
    ws.delete_rows(3, ws.max_row)
    ws.append(["合计", "因公出国（境）费", "公务用车购置及运维费", "公务用车购置费", "公务用车运行维护费", "公务接待费"])
    ws.append([24800, None, 22500, 0, 22500, 2300])
    book.save(path)
    res, again = imported(path)
    assert schedules_of(again) == schedules_of(originals["2025"])
    assert "  vehicle_operation: 2.25  # 表9!E4" in res.text
    assert "  reception: 0.23  # 表9!F4" in res.text


def test_unmerged_two_row_header_and_numbered_titles(originals, rendered, tmp_path):
    """A system export: nothing merged (group labels only over their first column), sheets named
    Sheet1…, titles numbered "2.3单位支出总表" without 部门预算, the department before the year."""
    def edit(b):
        for i, ws in enumerate(b.worksheets, 1):
            for m in list(ws.merged_cells.ranges):
                ws.unmerge_cells(str(m))
            if i <= 9:
                ws["A1"] = f"2.{i}单位" + ws["A1"].value.replace("部门预算", "")
            ws.title = f"Sheet{i}"
    _, again = imported(_edit(rendered["2025"], tmp_path / "b.xlsx", edit))
    assert schedules_of(again) == schedules_of(originals["2025"])
    assert again.budget.procurement == originals["2025"].budget.procurement


# ----------------------------------------------------------------- bad workbooks


def _edit(src: Path, dst: Path, edit) -> Path:
    book = openpyxl.load_workbook(src, data_only=True)  # totals as values (see above)
    edit(book)
    book.save(dst)
    return dst


def _messages(res) -> list[str]:
    return [p.message for p in res.problems if p.is_error]


def _row_of(ws, code: str) -> int:
    return next(r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 2).value) == code)


def test_a_column_it_does_not_read_is_reported_when_it_holds_numbers(rendered, tmp_path):
    def edit(b):
        ws = b["表三 支出总表"]
        ws["J3"] = "备注"
        ws.cell(_row_of(ws, "2010301"), 10).value = 5
    res = import_workbook(_edit(rendered["2025"], tmp_path / "b.xlsx", edit))
    assert [p.message for p in res.problems] == [
        "'表三 支出总表'!J3：表三 支出总表：不认识“备注”列，其中的数字（如 '表三 支出总表'!J11）未导入"]
    assert res.text is not None


def test_missing_schedule(rendered, tmp_path):
    path = _edit(rendered["2025"], tmp_path / "b.xlsx", lambda b: b.remove(b["表三 支出总表"]))
    res = import_workbook(path)
    assert res.text is None
    assert any(m.startswith("工作簿中找不到“支出总表”") and "表一 收支总表" in m for m in _messages(res))


def test_column_it_cannot_identify_lists_the_headers_it_saw(rendered, tmp_path):
    def edit(b):
        b["表三 支出总表"]["E3"] = "基本经费"
    res = import_workbook(_edit(rendered["2025"], tmp_path / "b.xlsx", edit))
    assert res.text is None
    msg = next(m for m in _messages(res) if "找不到“基本支出”列" in m)
    assert msg.startswith("'表三 支出总表'!A3：")
    assert "看到的表头：序号、功能分类科目/科目编码、功能分类科目/科目名称、合计、基本经费、项目支出" in msg


def test_text_in_an_amount_cell(rendered, tmp_path):
    def edit(b):
        ws = b["表三 支出总表"]
        ws.cell(_row_of(ws, "2010301"), 5).value = "1,2O5.00"
    res = import_workbook(_edit(rendered["2025"], tmp_path / "b.xlsx", edit))
    assert res.text is None
    assert "'表三 支出总表'!E11：金额“1,2O5.00”不是数字" in _messages(res)
    assert str(res.problems[0]).startswith(str(tmp_path / "b.xlsx"))


def test_numbers_written_as_text_are_read(rendered, tmp_path):
    def edit(b):
        ws = b["表三 支出总表"]
        r = _row_of(ws, "2010301")
        ws.cell(r, 4).value = "1,505.72"
        ws.cell(r, 5).value = " 1505.72 "
        ws.cell(r, 2).value = 2010301  # a code written as a number
    _, again = imported(_edit(rendered["2025"], tmp_path / "b.xlsx", edit))
    assert any(l.basic == Decimal("1505.72") and l.code == "2010301" for l in again.budget.expenditure)


def test_class_row_not_the_sum_of_its_items_is_reported_and_leaves_kept(rendered, originals, tmp_path):
    def edit(b):
        ws = b["表三 支出总表"]
        ws.cell(_row_of(ws, "201"), 4).value = 1938.71
    res = import_workbook(_edit(rendered["2025"], tmp_path / "b.xlsx", edit))
    assert "'表三 支出总表'!D7：表三 支出总表：类201“一般公共服务支出”“合计”为1938.71，其下各款之和为1938.72（已按明细导入）" \
        in _messages(res)
    assert res.text is not None  # the leaves are kept
    again = run_text(res.text, "x.yaml")
    assert schedules_of(again) == schedules_of(originals["2025"])


def test_formula_without_a_cached_value(rendered, tmp_path):
    def edit(b):
        ws = b["表三 支出总表"]
        ws.cell(_row_of(ws, "20103"), 4).value = "=SUM(D11:D12)"
    res = import_workbook(_edit(rendered["2025"], tmp_path / "b.xlsx", edit))
    assert res.text is None
    msg = next(m for m in _messages(res) if "公式" in m)
    assert msg.startswith("'表三 支出总表'!D10：金额是公式“=SUM(D11:D12)”，但工作簿没有保存它的计算结果")


def test_no_unit_line_needs_unit_option(originals, tmp_path):
    path = tmp_path / "b.xlsx"
    other_shape(originals["2025"].disclosure, path)
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        ws["C2"] = None
    book.save(path)
    res = import_workbook(path)
    assert res.text is None
    assert any("无法确定金额单位" in m and m.startswith("表1!A3：") for m in _messages(res))
    _, again = imported(path, unit="元")
    assert schedules_of(again) == schedules_of(originals["2025"])


def test_not_a_workbook(tmp_path):
    path = tmp_path / "dept.xlsx"
    path.write_text("not a workbook", encoding="utf-8")
    res = import_workbook(path)
    assert not res.readable
    assert "不是 .xlsx 工作簿" in res.problems[0].message


def test_xml_entity_bomb_is_refused(rendered, tmp_path):
    import zipfile
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol2;</t></si></sst>')
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(rendered["2025"]) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, bomb.encode() if item.filename == "xl/sharedStrings.xml" else data)
    res = import_workbook(path)
    assert not res.readable
    assert "含有 DOCTYPE/ENTITY 声明" in res.problems[0].message


# ------------------------------------------------------------------------- CLI


def test_cli_import_writes_a_file_that_passes_check(rendered, tmp_path):
    out = tmp_path / "dept.yaml"
    result = runner.invoke(app, ["import", str(rendered["2025"]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"已写出 {out}" in result.output
    assert "忽略 表七 政府性基金预算支出表 第7行：注释行" in result.output
    # a workbook has no 部门职责 or 绩效目标 text: the imported file passes but is unfinished
    assert f"{out}：没有错误，但有2项未完成" in result.output
    assert runner.invoke(app, ["check", str(out)]).exit_code == 0
    again = runner.invoke(app, ["import", str(rendered["2025"]), "-o", str(out)])
    assert again.exit_code == 4 and "已存在" in again.output  # the output, not the data


def test_cli_import_bad_workbook_exit_status(rendered, tmp_path):
    path = _edit(rendered["2025"], tmp_path / "b.xlsx", lambda b: b.remove(b["表三 支出总表"]))
    result = runner.invoke(app, ["import", str(path), "-o", str(tmp_path / "d.yaml")])
    assert result.exit_code == 1
    assert "未写出部门文件" in result.output
    assert not (tmp_path / "d.yaml").exists()


@pytest.mark.parametrize("rows, want", [
    ([["部门预算收支总表"], ["部门名称：524-某某街道办事处　　　　预算年度：2025　　单位：万元"], ["序号"]],
     ("524", "某某街道办事处", 2025)),
    ([["2024年部门预算收支总表"], ["编制单位：某局", None, "金额单位：元"], ["序号"]], ("", "某局", 2024)),
    ([["部门预算收支总表"], ["524秦皇岛市海港区人民政府西港路街道办事处", "预算年度：2025", "单位：万元"], ["序号"]],
     ("524", "秦皇岛市海港区人民政府西港路街道办事处", 2025)),
])
def test_department_and_year_from_the_line_above_the_table(rows, want):
    from generator.importer.book import Cell, Sheet
    from generator.importer.tables import read_meta
    sheet = Sheet("表1", [[Cell(v) for v in row] for row in rows])
    assert read_meta(sheet, 0, 2)[:3] == want


# ------------------------------------------------------------ layouts as data (files)


def test_beijing_layout_round_trip(originals, tmp_path):
    """The layout is recognised from the titles in the layout files: a workbook in the Beijing
    layout (14 tables, 三公 across, 项目支出表 and one goals table) comes back table for table."""
    before = run(EXAMPLES["2025"], layout="beijing-2025")
    path = tmp_path / "bj.xlsx"
    path.write_bytes(render_xlsx(before.disclosure))
    res = import_workbook(path, year=2025)  # the Beijing tables print no year
    assert res.text is not None, [str(p) for p in res.problems]
    assert "edition: beijing-2025  # 由表题和固定行识别" in res.text
    again = run_text(res.text, "imported.yaml")
    assert not [p for p in again.problems if p.is_error], [str(p) for p in again.problems]
    assert len(again.disclosure.schedules) == 14
    assert schedules_of(again) == schedules_of(before)
    assert lines(again.budget) == lines(originals["2025"].budget)
    assert [(p.code, p.name, p.amount, p.function_code) for p in again.budget.projects] == \
        [(p.code, p.name, p.amount, p.function_code) for p in originals["2025"].budget.projects]


DEPT_IN_YUAN = """\
department: {code: "9", name: 测试街道办事处, year: 2025, edition: hebei-2025, unit: 元}
expenditure:
  - {code: 2010301, basic: 1250.00}
  - {code: 2010302, project: 3333.33}
basic_economic:
  - {code: 30201, amount: 1250.00}
"""


def test_yuan_workbook_with_amounts_below_hundreds_is_written_in_yuan(tmp_path):
    layout = tmp_path / "yuan.yaml"
    runner.invoke(app, ["layouts", "--export", "hebei-2025", "-o", str(layout)])
    text = layout.read_text(encoding="utf-8").replace("unit: 万元", "unit: 元", 1)
    layout.write_text(text.replace("key: hebei-2025", "key: my-yuan", 1), encoding="utf-8")
    before = run_text(DEPT_IN_YUAN, "dept.yaml", layout=str(layout))
    assert before.ok, [str(p) for p in before.problems]
    path = tmp_path / "yuan.xlsx"
    path.write_bytes(render_xlsx(before.disclosure))
    res, again = imported(path)
    assert "  unit: 元  # '表二 收入总表'!D6 等金额不是整百元" in res.text
    assert 'code: "9"' in res.text
    assert "{code: 2010302, name: 一般行政管理事务, project: 3333.33}" in res.text
    assert again.budget.department.unit == "元"
    assert again.figures.total == Decimal("0.458333")  # exact 万元
    assert schedules_of(again) == schedules_of(run_text(DEPT_IN_YUAN, "dept.yaml"))


def test_amount_with_more_than_cents(originals, tmp_path):
    path = tmp_path / "b.xlsx"
    other_shape(originals["2025"].disclosure, path)
    book = openpyxl.load_workbook(path)
    ws = book["表3"]
    r = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == 2010301)
    ws.cell(r, 4).value = 15057200.555
    book.save(path)
    res = import_workbook(path)
    assert res.text is None
    assert f"表3!D{r}：金额15057200.555元超过两位小数" in _messages(res)


def test_cli_import_with_a_layout_file(rendered, tmp_path):
    layout = tmp_path / "layouts" / "ours.yaml"
    layout.parent.mkdir()
    assert runner.invoke(app, ["layouts", "--export", "hebei-2025", "-o", str(layout)]).exit_code == 0
    out = tmp_path / "depts" / "dept.yaml"
    out.parent.mkdir()
    result = runner.invoke(app, ["import", str(rendered["2025"]), "-o", str(out), "--layout", str(layout)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "  edition: ../layouts/ours.yaml  # --layout" in text
    assert run(out).ok


def test_unit_budget_workbook(tmp_path):
    """A 所属单位's own workbook (单位预算… titles, from `render --units`) imports to that unit's leaves."""
    dept = EXAMPLE_2025.with_name("730-shixian-nongye-2025.yaml")
    result = runner.invoke(app, ["render", str(dept), "--units", "-f", "xlsx", "-o", str(tmp_path), "-j", "1"])
    assert result.exit_code == 0, result.output
    book = next(tmp_path.glob("730001-*/730001-*.xlsx"))
    _, again = imported(book)
    assert "单位预算" in openpyxl.load_workbook(book).worksheets[0]["A1"].value
    unit = run(EXAMPLE_2025.parent / "730-units" / "730001-tuiguangzhan-2025.yaml")
    assert again.budget.department.code == "730001"
    assert lines(again.budget) == lines(unit.budget)


def _through_a_beijing_workbook(text: str, tmp_path: Path):
    """(the department checked, its Beijing-layout workbook, the import, the import checked)."""
    before = run_text(text, "dept.yaml", layout="beijing-2025")
    assert before.ok, [str(p) for p in before.problems if p.is_error]
    path = tmp_path / "bj.xlsx"
    path.write_bytes(render_xlsx(before.disclosure))
    res = import_workbook(path, year=2025)  # the Beijing tables print no year
    assert res.text is not None, [str(p) for p in res.problems]
    again = run_text(res.text, "imported.yaml")
    assert not [p for p in again.problems if p.is_error], [str(p) for p in again.problems]
    return before, path, res, again


def test_purchased_services_come_back_from_a_beijing_workbook(tmp_path):
    """表十二 政府购买服务: each service's name, 目录代码, 服务类别, 内容, amount and fund come back
    (the fund from the one fund column that holds the amount); the 合计 row is checked."""
    from conftest import example_text
    text = example_text("2025") + """
purchased_services:
  - {name: 社区物业管理服务, category: 城市维护服务, code: B0101, content: 辖区公共区域保洁, amount: 12.50}
  - {name: 法律顾问服务, category: 法律服务, amount: 3.00}
"""
    before, path, res, again = _through_a_beijing_workbook(text, tmp_path)
    assert "purchased_services:" in res.text
    assert not [line for line in res.text.splitlines() if "表十二" in line and "暂不导入" in line]
    assert [(s.name, s.code, s.category, s.content, s.amount, s.source.value)
            for s in again.budget.purchased_services] == [
        ("社区物业管理服务", "B0101", "城市维护服务", "辖区公共区域保洁", Decimal("12.50"), "general"),
        ("法律顾问服务", "", "法律服务", "", Decimal("3.00"), "general")]
    # a 合计 that is not the services' sum (12.50 + 3.00 = 15.50) is an error at its cell
    wb = openpyxl.load_workbook(path)
    ws = next(w for w in wb.worksheets if "政府购买服务" in w.title)
    total_row = next(row for row in ws.iter_rows() if row[1].value == "合\u3000计")
    assert total_row[5].value == 15.5  # column F: 合计 of 金额
    total_row[5].value = 16.5
    wb.save(path)
    bad = import_workbook(path, year=2025)
    assert any("合计为16.50" in p.message and "15.50" in p.message for p in bad.problems), \
        [str(p) for p in bad.problems]


def test_department_goals_come_back_from_a_beijing_workbook(tmp_path):
    """表十四 部门整体支出绩效目标表: the 年度总体目标 (one goal a line) and the indicator rows
    come back; the columns the layout does not print (绩效指标描述, 指标值确定依据) stay empty,
    so the table printed again is the same, row for row."""
    from conftest import example_text
    text = example_text("2025") + """
department_performance:
  goals: [保障街道机关正常运转，提升基层治理和为民服务水平。, 按时办结群众诉求。]
  indicators:
    - [产出指标, 数量指标, 服务社区数量, 服务社区数量, ≥10个, 年度工作计划]
    - [产出指标, 质量指标, 诉求办结率, 诉求办结率, 100%, 年度工作计划]
    - [效益指标, 社会效益指标, 居民满意度, 居民满意度, ≥90%, 年度工作计划]
"""
    before, _, res, again = _through_a_beijing_workbook(text, tmp_path)
    assert not [line for line in res.text.splitlines() if "表十四" in line and "暂不导入" in line]
    perf = again.budget.department_performance
    assert perf.goals == ["保障街道机关正常运转，提升基层治理和为民服务水平。", "按时办结群众诉求。"]
    assert perf.indicators == [["产出指标", "数量指标", "服务社区数量", "", "≥10个", ""],
                               ["产出指标", "质量指标", "诉求办结率", "", "100%", ""],
                               ["效益指标", "社会效益指标", "居民满意度", "", "≥90%", ""]]

    def goals_table(result):
        return next(t for t in result.disclosure.schedules if t.sheet.endswith("部门整体支出绩效目标表"))
    assert goals_table(again).rows == goals_table(before).rows
    assert goals_table(again).header == goals_table(before).header


@pytest.mark.parametrize("line, code, name", [
    ("524秦皇岛市海港区人民政府西港路街道办事处  预算年度：2025  单位：万元", "524",
     "秦皇岛市海港区人民政府西港路街道办事处"),
    ("编制单位：秦皇岛市海港区人民政府西港路街道办事处　　单位：万元", "", "秦皇岛市海港区人民政府西港路街道办事处"),
    ("部门名称：524秦皇岛市海港区人民政府西港路街道办事处\u3000预算年度：2025\u3000单位：万元", "524",
     "秦皇岛市海港区人民政府西港路街道办事处"),
    ("单位名称：秦皇岛市海港区人民政府西港路街道办事处 预算年度：2025年 单位：万元", "",
     "秦皇岛市海港区人民政府西港路街道办事处"),
])
def test_one_cell_department_line_imports(rendered, tmp_path, line, code, name):
    """A real export's department line: name, year and unit in one cell, with or without a
    prefix, spaces half- or full-width — on every sheet, the meta cells beside it empty."""
    def one_cell(book):
        for ws in book.worksheets:
            if "西港路街道办事处" in str(ws.cell(2, 1).value):
                for merged in [m for m in ws.merged_cells.ranges if m.min_row == 2]:
                    ws.unmerge_cells(str(merged))
                for c in range(1, ws.max_column + 1):  # the year and unit cells (not 截止时间)
                    if re.search(r"预算年度|单位：|西港路", str(ws.cell(2, c).value or "")):
                        ws.cell(2, c).value = None
                ws.cell(2, 1).value = line
    path = _edit(rendered["2025"], tmp_path / "one.xlsx", one_cell)
    # a line without the year: the year from --year (the titles of our workbook have none)
    res, again = imported(path, **({} if "2025" in line else {"year": 2025}))
    assert again.budget.department.name == name
    assert again.budget.department.code == code
    assert again.budget.department.year == 2025
    assert again.figures.total == run(EXAMPLES["2025"]).figures.total
