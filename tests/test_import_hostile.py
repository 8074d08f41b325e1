"""`budgetgen import` on workbooks made to mislead or to exhaust it, as a clerk (or whoever sent
the workbook) would make them in Excel: a hidden twin sheet with every amount doubled, a value
at XFD1048576, a merge over A1:XFD1048576, a value copied from another workbook by a link,
a bloated style table, too many sheets, an oversized shared-string table, a DOCTYPE hidden
behind a long comment. Each is refused with a Chinese message naming the sheet and the cell or
range, or named in a warning — never imported silently. The 50 MB / 10 s / 500 MB bound is
measured in benchmarks/import_bound.py, not here."""
from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import EXAMPLE_2025
from typer.testing import CliRunner

from generator.commands.cli import app
from generator.importer import import_workbook
from generator.importer import xlsxread
from generator.pipeline import run, run_text
from generator.render.xlsx import render_xlsx

runner = CliRunner()
SHEET = "表一 收支总表"


@pytest.fixture(scope="module")
def original():
    return run(EXAMPLE_2025)


@pytest.fixture(scope="module")
def book(original, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("book") / "dept.xlsx"
    path.write_bytes(render_xlsx(original.disclosure))
    return path


def schedules_of(result):
    return [(t.key, t.title, t.meta, t.rows) for t in result.disclosure.schedules]


def edited(src: Path, dst: Path, edit) -> Path:
    wb = openpyxl.load_workbook(src, data_only=True)
    edit(wb)
    wb.save(dst)
    return dst


def rewritten(src: Path, dst: Path, change) -> Path:
    """The workbook with some of its XML parts rewritten as text: change(name, text) → text."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith(".xml"):
                data = change(item.filename, data.decode("utf-8")).encode("utf-8")
            zout.writestr(item.filename, data)
    return dst


def sheet_part(src: Path, title: str) -> str:
    wb = openpyxl.load_workbook(src, read_only=True)
    return f"xl/worksheets/sheet{wb.sheetnames.index(title) + 1}.xml"


def errors(res) -> list[str]:
    return [p.message for p in res.problems if p.is_error]


def warnings(res) -> list[str]:
    return [p.message for p in res.problems if not p.is_error]


def test_the_workbook_itself_still_imports(book, original):
    res = import_workbook(book)
    assert res.text is not None, errors(res)
    assert schedules_of(run_text(res.text, "x.yaml")) == schedules_of(original)


# ----------------------------------------------------------------------------- hidden sheets


def _twin(state: str, double: bool = True):
    def edit(wb):
        twin = wb.copy_worksheet(wb[SHEET])
        twin.title = "Sheet副本"
        if double:
            for row in twin.iter_rows():
                for cell in row:
                    if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                        cell.value = cell.value * 2
        twin.sheet_state = state
        wb.move_sheet(twin, -(len(wb.sheetnames) - 1))  # before the visible one
    return edit


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_twin_sheet_stops_the_import_naming_both(book, tmp_path, state):
    path = edited(book, tmp_path / "twin.xlsx", _twin(state))
    out = tmp_path / "dept.yaml"
    result = runner.invoke(app, ["import", str(path), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "Sheet副本" in result.output and SHEET in result.output and "隐藏" in result.output
    assert not out.exists()
    if state == "veryHidden":
        assert "深度隐藏" in result.output


def test_a_hidden_sheet_with_the_only_copy_of_a_table_is_refused(book, tmp_path):
    def edit(wb):
        wb["表八 国有资本经营预算支出表"].sheet_state = "hidden"
    res = import_workbook(edited(book, tmp_path / "h.xlsx", edit))
    assert res.text is None
    assert any("表八 国有资本经营预算支出表" in m and "隐藏" in m for m in errors(res)), errors(res)


def test_a_hidden_sheet_of_notes_is_named_and_the_rest_imported(book, tmp_path, original):
    def edit(wb):
        notes = wb.create_sheet("草稿")
        notes["A1"] = "内部测算，勿外传"
        notes["B2"] = 12345
        notes.sheet_state = "hidden"
    res = import_workbook(edited(book, tmp_path / "n.xlsx", edit))
    assert res.text is not None, errors(res)
    assert any("草稿" in m and "隐藏" in m and "未读取" in m for m in warnings(res))
    assert "12345" not in res.text and "勿外传" not in res.text
    assert schedules_of(run_text(res.text, "x.yaml")) == schedules_of(original)


def test_two_visible_sheets_with_the_same_table_are_an_error_naming_both(book, tmp_path):
    path = edited(book, tmp_path / "two.xlsx", _twin("visible"))
    res = import_workbook(path)
    assert res.text is None
    assert any("Sheet副本" in m and SHEET in m for m in errors(res)), errors(res)


def test_xls_hidden_twin(tmp_path):
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook(encoding="utf-8")
    for name, factor, hidden in (("副本", 2, True), ("表一", 1, False)):
        ws = wb.add_sheet(name)
        ws.write(0, 0, "收支总表")
        ws.write(1, 0, "单位：万元")
        ws.write(2, 0, "项目")
        ws.write(2, 1, "预算数")
        ws.write(3, 0, "一般公共预算拨款收入")
        ws.write(3, 1, 100 * factor)
        if hidden:
            ws.visibility = 1
    path = tmp_path / "twin.xls"
    wb.save(str(path))
    res = import_workbook(path)
    assert res.text is None
    assert any("副本" in m and "表一" in m and "隐藏" in m for m in errors(res)), errors(res)


# ----------------------------------------------------------------------------- unbounded sheets


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_a_value_far_away_is_refused_naming_the_sheet_and_cell(book, tmp_path, suffix):
    if suffix == ".xlsx":
        def edit(wb):
            wb[SHEET]["XFD1048576"] = "x"
        path, cell = edited(book, tmp_path / "far.xlsx", edit), "XFD1048576"
    else:
        xlwt = pytest.importorskip("xlwt")
        wb = xlwt.Workbook(encoding="utf-8")
        ws = wb.add_sheet(SHEET)
        ws.write(0, 0, "收支总表")
        ws.write(65535, 255, "x")
        path, cell = tmp_path / "far.xls", "IV65536"
        wb.save(str(path))
    res = import_workbook(path)
    assert not res.readable
    [message] = errors(res)
    assert SHEET in message and cell in message and "超出了一张预算表的合理范围" in message, message


def test_a_styled_but_empty_cell_far_away_costs_nothing(book, tmp_path, original):
    def edit(wb):
        wb[SHEET]["XFD1048576"].number_format = "0.00"
        wb[SHEET]["XFD1048576"].font = openpyxl.styles.Font(bold=True)
    res = import_workbook(edited(book, tmp_path / "styled.xlsx", edit))
    assert res.text is not None, errors(res)
    assert schedules_of(run_text(res.text, "x.yaml")) == schedules_of(original)


def test_a_merge_over_the_whole_sheet_is_refused_naming_the_range(book, tmp_path):
    part = sheet_part(book, SHEET)

    def change(name, text):
        if name != part:
            return text
        if "</mergeCells>" in text:
            return text.replace("</mergeCells>", '<mergeCell ref="A30:XFD1048576"/></mergeCells>')
        return text.replace("</sheetData>", '</sheetData><mergeCells count="1">'
                            '<mergeCell ref="A30:XFD1048576"/></mergeCells>')
    res = import_workbook(rewritten(book, tmp_path / "merge.xlsx", change))
    assert not res.readable
    [message] = errors(res)
    assert SHEET in message and "A30:XFD1048576" in message and "合并" in message, message


def test_too_many_sheets(tmp_path):
    wb = openpyxl.Workbook()
    for i in range(300):
        wb.create_sheet(f"S{i}")
    path = tmp_path / "many.xlsx"
    wb.save(path)
    res = import_workbook(path)
    assert not res.readable and "工作表" in errors(res)[0] and str(xlsxread.MAX_SHEETS) in errors(res)[0]


def test_a_bloated_style_table_is_refused(book, tmp_path):
    def change(name, text):
        if name != "xl/styles.xml":
            return text
        many = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' * 70_000
        return re.sub(r'<cellXfs count="\d+">', f'<cellXfs count="{70_000}">{many}', text, count=1)
    res = import_workbook(rewritten(book, tmp_path / "styles.xlsx", change))
    assert not res.readable and "样式表" in errors(res)[0], errors(res)


def test_an_absurdly_long_shared_string_is_refused(book, tmp_path):
    def change(name, text):
        if name != "xl/sharedStrings.xml":
            return text
        return text.replace("</sst>", "<si><t>" + "长" * 40_000 + "</t></si></sst>", 1)
    res = import_workbook(rewritten(book, tmp_path / "long.xlsx", change))
    assert not res.readable and "32767" in errors(res)[0], errors(res)


def test_a_shared_string_bomb_is_refused_before_it_is_read(book, tmp_path):
    """260 MB of shared strings packed into a few hundred KB: refused by its size alone."""
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename == "xl/sharedStrings.xml":
                with zout.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
                    fh.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
                    block = b"<si><t>a</t></si>" * 65536
                    for _ in range(260 * 1024 * 1024 // len(block)):
                        fh.write(block)
                    fh.write(b"</sst>")
            else:
                zout.writestr(item.filename, zin.read(item.filename))
    assert path.stat().st_size < 5 * 1024 * 1024
    res = import_workbook(path)
    assert not res.readable
    assert "sharedStrings.xml" in errors(res)[0] and "压缩炸弹" in errors(res)[0], errors(res)


def test_a_doctype_behind_a_long_comment_is_refused(book, tmp_path):
    def change(name, text):
        if name != "xl/sharedStrings.xml":
            return text
        head, _, rest = text.partition("?>")
        return (head + "?><!--" + "x" * 10_000 + '--><!DOCTYPE sst [<!ENTITY a "aaaa">]>' + rest)
    res = import_workbook(rewritten(book, tmp_path / "doctype.xlsx", change))
    assert not res.readable and "DOCTYPE" in errors(res)[0], errors(res)


def test_limits_on_cells_and_strings_are_enforced(book, tmp_path, monkeypatch):
    monkeypatch.setattr(xlsxread, "MAX_CELLS", 50)
    res = import_workbook(book)
    assert not res.readable and "有内容的单元格" in errors(res)[0]
    monkeypatch.setattr(xlsxread, "MAX_CELLS", 1_000_000)
    monkeypatch.setattr(xlsxread, "MAX_STRINGS", 10)
    res = import_workbook(book)
    assert not res.readable and "共享字符串" in errors(res)[0]
    monkeypatch.setattr(xlsxread, "MAX_STRINGS", 500_000)
    monkeypatch.setattr(xlsxread, "MAX_BOOK_TEXT", 100)
    res = import_workbook(book)
    assert not res.readable and "100 个字符" in errors(res)[0], errors(res)


# ----------------------------------------------------------------------------- external links


def _link(book: Path, dst: Path, formula: str, defined: str = "") -> tuple[Path, str]:
    """The first amount of 表一 given a formula into another workbook (its cached value kept)."""
    part = sheet_part(book, SHEET)
    found: dict[str, str] = {}

    def change(name, text):
        if name == "xl/workbook.xml" and defined:
            return text.replace("</workbook>", f'<definedNames><definedName name="外部数">{defined}'
                                "</definedName></definedNames></workbook>") \
                if "<definedNames>" not in text else text.replace(
                    "<definedNames>", f'<definedNames><definedName name="外部数">{defined}</definedName>')
        if name != part:
            return text
        m = re.search(r'<c r="([A-Z]+[0-9]+)"( s="[0-9]+")?( t="n")?><v>[1-9][0-9.]*</v>', text)
        assert m
        found["cell"] = m.group(1)
        return text[:m.start()] + m.group(0).replace("<v>", f"<f>{formula}</f><v>", 1) + text[m.end():]
    path = rewritten(book, dst, change)
    return path, found["cell"]


@pytest.mark.parametrize("formula,defined", [("[1]收支!B6", ""), ("'[2]2024年'!$C$9*1", ""),
                                             ("外部数+0", "[1]Sheet1!$A$1")])
def test_a_value_from_another_workbook_is_warned_with_its_cell(book, tmp_path, original, formula,
                                                               defined):
    path, cell = _link(book, tmp_path / "link.xlsx", formula, defined)
    res = import_workbook(path)
    assert res.text is not None, errors(res)
    linked = [m for m in warnings(res) if "另一个工作簿" in m]
    assert linked and cell in linked[0] and SHEET in linked[0], warnings(res)
    assert schedules_of(run_text(res.text, "x.yaml")) == schedules_of(original)


@pytest.mark.parametrize("formula,defined", [("SUM(B7:B9)", ""), ("外部数+0", "'表一 收支总表'!$B$6"),
                                             ("SUM('表二 收入总表'!B7:B9)", "")])
def test_a_formula_within_the_workbook_is_not_a_link(book, tmp_path, formula, defined):
    path, _ = _link(book, tmp_path / "inner.xlsx", formula, defined)
    res = import_workbook(path)
    assert not [m for m in warnings(res) if "另一个工作簿" in m]


def test_a_copy_of_the_bounded_reader_reads_what_openpyxl_reads(book, tmp_path):
    """Cell for cell, the streaming reader gives the values openpyxl gives (dates included)."""
    from generator.importer.book import read_book

    def edit(wb):
        ws = wb.create_sheet("杂项")
        import datetime as dt
        ws["A1"], ws["B1"], ws["C1"] = dt.date(2025, 1, 31), True, 1.5
        ws["A2"], ws["B2"] = "文字 换行", 1e-7
    path = edited(book, tmp_path / "mixed.xlsx", edit)
    mine, _ = read_book(path)
    assert mine is not None
    theirs = openpyxl.load_workbook(path, data_only=True)
    from generator.importer.book import _plain
    for sheet in mine.sheets:
        ws = theirs[sheet.name]
        for row in ws.iter_rows():
            for cell in row:
                assert sheet.cell(cell.row - 1, cell.column - 1).value == _plain(cell.value), cell.coordinate
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_element_limits_are_counted_before_parsing(book, tmp_path, monkeypatch):
    """Empty rows and styled cells cost parse time though they hold nothing: counted by the
    pre-scan, per part and for the whole workbook."""
    monkeypatch.setattr(xlsxread, "MAX_ELEMENTS", 500)
    res = import_workbook(book)
    assert not res.readable and "XML 元素" in errors(res)[0] and "xl/" in errors(res)[0]
    monkeypatch.setattr(xlsxread, "MAX_ELEMENTS", 1_200_000)
    monkeypatch.setattr(xlsxread, "MAX_BOOK_ELEMENTS", 3_000)
    res = import_workbook(book)
    assert not res.readable and "合计超过" in errors(res)[0]


def test_an_xls_with_too_many_cell_records_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    xlwt = pytest.importorskip("xlwt")
    from generator.importer import book as book_module
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("表一")
    for r in range(200):
        for c in range(10):
            ws.write(r, c, r * c + 0.5)
    path = tmp_path / "many.xls"
    wb.save(str(path))
    monkeypatch.setattr(book_module, "MAX_XLS_CELLS", 1_000)
    parsed = []
    monkeypatch.setattr("xlrd.open_workbook", lambda *a, **k: parsed.append(a))
    res = import_workbook(path)
    assert not res.readable and "单元格记录" in errors(res)[0] and parsed == []


def test_an_xls_area_too_large_names_the_sheet_and_range(tmp_path, monkeypatch):
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("表一")
    ws.write(0, 0, "收支总表")
    ws.write(2999, 99, 1)  # CV3000: 300 000 cells of extent for two values
    path = tmp_path / "wide.xls"
    wb.save(str(path))
    res = import_workbook(path)
    assert not res.readable
    assert "表一" in errors(res)[0] and "A1:CV3000" in errors(res)[0], errors(res)


def test_an_archive_of_countless_entries_is_refused_before_it_is_listed(tmp_path):
    path = tmp_path / "entries.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i in range(xlsxread.MAX_PARTS + 5):
            z.writestr(f"x/{i}", b"")
    res = import_workbook(path)
    assert not res.readable and "部件" in errors(res)[0], errors(res)
