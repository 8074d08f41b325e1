"""XLSX renderer: every published schedule row in its sheet, notes, project and annex sheets,
print setup, determinism, text safety. Workbooks are read back with openpyxl (data_only=True),
as a reader that does not recalculate would see them.

The expected schedule rows are the published ones (tests/seed_rows.py), with the 2023 seed's
wrong totals replaced by the corrected figures (CORRECTIONS_612 in tests/test_schedules.py).
"""
from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from conftest import EXAMPLE_2023, EXAMPLE_2025, example_text, replace_once, run_variant
from generator.compute.tables import Head
from generator.pipeline import run
from generator.render.xlsx import number_format, render_xlsx
from generator.render.xlsx_layout import column_units, meta_spans, place_header, sheet_name
from seed_rows import SEED_524, SEED_612
from test_schedules import CORRECTIONS_612

EXAMPLES = {"524": EXAMPLE_2025, "612": EXAMPLE_2023}
SCHEDULE_KEYS = ("s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9")
TITLES = {
    "524": ("部门预算收支总表", "部门预算收入总表", "部门预算支出总表", "部门预算财政拨款收支总表",
            "部门预算一般公共预算财政拨款支出表", "部门预算一般公共预算财政拨款基本支出表",
            "部门预算政府性基金预算财政拨款支出表", "部门预算国有资本经营预算财政拨款支出表",
            "部门预算财政拨款“三公”经费支出表"),
    "612": ("部门预算收支总表", "部门预算收入总表", "部门预算支出总表", "部门预算财政拨款收支总表",
            "部门预算一般公共预算财政拨款支出表", "部门预算一般公共预算财政拨款基本支出表",
            "部门预算政府基金预算财政拨款支出表", "部门预算国有资本经营预算财政拨款支出表",
            "部门预算财政拨款“三公”经费支出表"),
}
EMPTY_NOTES = {
    "524": {"s7": "注：无政府性基金预算财政拨款预算，空表列示。",
            "s8": "注：无国有资本经营预算财政拨款预算，空表列示。"},
    "612": {"s7": "注：无政府基金预算财政拨款预算，空表列示。",
            "s8": "注：无国有资本经营预算财政拨款预算，空表列示。"},
}
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def examples(xigang, nanguan):
    """key → (disclosure, workbook bytes), rendered once for the module."""
    return {key: (result.disclosure, render_xlsx(result.disclosure))
            for key, result in (("524", xigang), ("612", nanguan))}


def book(examples, key: str, data_only: bool = True):
    return openpyxl.load_workbook(io.BytesIO(examples[key][1]), data_only=data_only)


def expected_schedule(key: str, skey: str) -> list[tuple]:
    if key == "524":
        return [trim(r) for r in SEED_524[skey]]
    fix = CORRECTIONS_612.get(skey, {})
    return [trim(fix.get(c, c) for c in r) for r in SEED_612[skey]]


def norm(value) -> str:
    """Comparable text: numbers to the cent (more places only when they carry digits),
    strings without white space, blank as ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return re.sub(r"\s+", "", value)
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    cents = number.quantize(CENT)
    return str(cents) if cents == number else str(number.normalize())


def trim(cells) -> tuple:
    out = [norm(c) for c in cells]
    while out and out[-1] == "":
        out.pop()
    return tuple(out)


def data_rows(ws) -> list[tuple]:
    """Schedule data rows: those whose 序号 cell holds a number (shown as an integer)."""
    return [trim((str(int(r[0])),) + r[1:]) for r in ws.iter_rows(values_only=True)
            if isinstance(r[0], (int, float)) and not isinstance(r[0], bool)]


def sheet_rows(ws) -> set[tuple]:
    return {trim(r) for r in ws.iter_rows(values_only=True)}


def expected_cells(row, columns) -> tuple:
    """A computed Row as the sheet should show it: zero amounts blank."""
    cells = [None if isinstance(v, Decimal) and v == 0 and c.kind in ("money", "qty", "price")
             else v for v, c in zip(row.cells, columns)]
    return trim(cells)


# --- the nine schedules --------------------------------------------------------------------

@pytest.mark.parametrize("key", ["524", "612"])
@pytest.mark.parametrize("index", range(9))
def test_schedule_rows_match_published(examples, key, index):
    ws = book(examples, key).worksheets[index]
    assert ws["A1"].value == TITLES[key][index]
    expected = expected_schedule(key, SCHEDULE_KEYS[index])
    assert data_rows(ws) == expected


@pytest.mark.parametrize("key", ["524", "612"])
def test_schedule_figures_are_numbers(examples, key):
    d, wb = examples[key][0], book(examples, key)
    for table, ws in zip(d.schedules, wb.worksheets):
        for row in ws.iter_rows():
            if not isinstance(row[0].value, (int, float)):
                continue
            for cell, column in zip(row, table.columns):
                if column.kind == "money" and cell.value is not None:
                    assert isinstance(cell.value, float | int), (ws.title, cell.coordinate)
                    assert cell.number_format == "0.00"
                if column.kind == "code" and cell.value is not None:
                    assert isinstance(cell.value, str), (ws.title, cell.coordinate)


def test_spot_figures_524(examples):
    wb = book(examples, "524")
    assert ("201", "一般公共服务支出", "1938.72", "1505.72", "433.00") in \
        {r[1:6] for r in data_rows(wb.worksheets[2])}
    assert ("30199", "其他工资福利支出", "810.49", "810.49") in {r[1:] for r in data_rows(wb.worksheets[5])}
    assert ("三、公务接待费", "0.23") in {r[1:3] for r in data_rows(wb.worksheets[8])}
    assert ("本年收入合计", "2256.69", "本年支出合计", "2256.69") in \
        {r[1:] for r in data_rows(wb.worksheets[0])}


def test_612_layout_2023(examples):
    wb = book(examples, "612")
    s1 = [r[1] for r in data_rows(wb.worksheets[0])]
    assert s1[4:9] == ["五、事业收入", "六、事业单位经营收入", "七、上级补助收入",
                       "八、附属单位上缴收入", "九、其他收入"]
    s9 = data_rows(wb.worksheets[8])
    assert s9[0][1] == "“三公”经费小计" and all(r[1] != "合计" for r in s9)
    assert wb.worksheets[6]["A1"].value == "部门预算政府基金预算财政拨款支出表"


@pytest.mark.parametrize("key", ["524", "612"])
def test_empty_schedules_carry_note(examples, key):
    wb = book(examples, key)
    for skey, note in EMPTY_NOTES[key].items():
        ws = wb.worksheets[SCHEDULE_KEYS.index(skey)]
        texts = [c for r in ws.iter_rows(values_only=True) for c in r if isinstance(c, str)]
        assert note in texts
        assert data_rows(ws) == []
        note_cell = next(c for r in ws.iter_rows() for c in r if c.value == note)
        assert f"A{note_cell.row}:F{note_cell.row}" in {str(m) for m in ws.merged_cells.ranges}


def test_header_merges_follow_spans(examples):
    ws = book(examples, "524").worksheets[0]
    merged = {str(m) for m in ws.merged_cells.ranges}
    # title, 序号 (rowspan 2), 收入 and 支出 (colspan 2 each)
    assert {"A1:E1", "A3:A4", "B3:C3", "D3:E3"} <= merged
    assert [ws.cell(5, c).value for c in range(1, 6)] == ["栏次", "1", "2", "3", "4"]
    assert (ws["A2"].value, ws["C2"].value, ws["D2"].value) == (
        "524秦皇岛市海港区人民政府西港路街道办事处", "预算年度：2025", "单位：万元")
    assert {"A2:B2", "D2:E2"} <= merged
    assert [ws[c].alignment.horizontal for c in ("A2", "C2", "D2")] == ["left", "center", "right"]
    s2 = book(examples, "524").worksheets[1]
    merged = {str(m) for m in s2.merged_cells.ranges}
    assert {"A3:A4", "B3:C3", "D3:D4", "E3:L3", "M3:M4"} <= merged


def test_emphasis_rows_are_bold_and_font_is_songti(examples):
    ws = book(examples, "524").worksheets[2]
    rows = {r[0].value: r for r in ws.iter_rows() if isinstance(r[0].value, int)}
    assert rows[1][2].font.b and rows[2][2].font.b  # 合计, 201 类
    assert not rows[3][2].font.b  # 20101 款
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is not None:
                assert cell.font.name == "宋体", cell.coordinate


# --- project, procurement, assets, institutions ---------------------------------------------

@pytest.mark.parametrize("key", ["524", "612"])
def test_project_sheets_hold_every_row(examples, key):
    d, wb = examples[key][0], book(examples, key)
    sheets = wb.worksheets[9:9 + len(d.projects)]
    for p, ws in zip(d.projects, sheets):
        assert ws.title.startswith(f"项目{p.number}")
        assert ws["A1"].value == p.title
        rows = sheet_rows(ws)
        for indicator in p.indicators:
            assert trim(indicator) in rows, (ws.title, indicator)
        goals = next(r for r in ws.iter_rows(values_only=True) if r[0] == "绩效目标")
        assert goals[1] == "\n".join(p.goals)
        texts = {c for r in ws.iter_rows(values_only=True) for c in r}
        assert ("项目编码" in texts) == (p.format == "full")


def test_project_sheet_524_full_form(examples):
    ws = book(examples, "524").worksheets[9]
    rows = list(ws.iter_rows(values_only=True))
    assert trim(rows[2]) == ("项目编码", "13030225P00455510023W", "", "项目名称", "办事处专项经费")
    assert trim(rows[3]) == ("预算规模及资金用途", "预算数", "26.00", "资金用途",
                             "增强街道城市管理水平、提高街居建设和服务水平")
    assert trim(rows[4]) == ("", "其中：财政资金", "26.00")
    assert trim(rows[5]) == ("", "其他资金")  # 其他资金 0 prints blank
    assert trim(rows[6]) == ("资金支出计划（万元）", "3月底", "6月底", "10月底", "12月底")
    assert trim(rows[7]) == ("", "5.00", "15.00", "20.00", "26.00")
    assert rows[8][1] == ("1.增强街居精神文明建设\n2.增强街道城市管理水平、提高街居建设和服务水平\n"
                          "3.各项政策宣传到位及群众的业余生活得到丰富")
    assert trim(rows[9]) == ("一级指标", "二级指标", "三级指标", "绩效指标描述", "指标值", "指标值确定依据")
    assert trim(rows[10]) == ("产出指标", "数量指标", "开展活动数量", "开展活动数量", "≥10次", "年初工作计划")
    merged = {str(m) for m in ws.merged_cells.ranges}
    # 一级指标 merged down over its group: 产出 6 rows, 效益 4 rows, 满意度 1 row
    assert {"A11:A16", "A17:A20"} <= merged and rows[20][0] == "满意度指标"
    assert {"A4:A6", "D4:D6", "E4:F6", "B9:F9", "A7:A8"} <= merged


def test_project_sheet_612_goals_form(examples):
    ws = book(examples, "612").worksheets[9]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "1、车辆保险费绩效目标表"
    assert trim(rows[2]) == ("绩效目标", "6.目标内容1保障单位公务用车正常运转")
    assert trim(rows[4]) == ("产出指标", "数量指标", "支付公务用车车辆", "支付公务用车车辆", "1辆", "工作需要")
    assert ws.print_title_rows == "$4:$4"


def test_procurement_524(examples):
    d, wb = examples["524"][0], book(examples, "524")
    ws = wb["政府采购预算"]
    rows = sheet_rows(ws)
    assert trim(("社区党组织服务群众专项经费（RY）", "125.47", "清扫服务", "C13050100", "年", 1,
                 "125.47", "125.47", "125.47", "", "", "", "", "", "125.47")) in rows
    # a unit price below a cent keeps four decimals
    assert trim(("公用经费一", "17.33", "复印纸", "A05040101", "包", 750, "0.0028", "2.10", "2.10",
                 "", "", "", "", "", "2.10")) in rows
    assert trim(("合计", None, "", "", "", None, None, "172.82", "172.82", "", "", "", "", "",
                 "169.87")) in rows
    price = next(r[6] for r in ws.iter_rows() if r[2].value == "复印纸")
    assert price.value == pytest.approx(0.0028) and price.number_format == "0.0000"
    table = d.annex_tables[0]
    for row in table.rows:
        assert expected_cells(row, table.columns) in rows
    assert table.notes_after[0] in {c for r in ws.iter_rows(values_only=True) for c in r}


def test_procurement_612_empty(examples):
    ws = book(examples, "612")["政府采购预算"]
    texts = {c for r in ws.iter_rows(values_only=True) for c in r}
    assert "注：无政府采购预算，空表列示。" in texts


@pytest.mark.parametrize("key,total", [("524", "501.43"), ("612", "131.20")])
def test_assets_and_institutions(examples, key, total):
    d, wb = examples[key][0], book(examples, key)
    ws = wb["固定资产"]
    rows = sheet_rows(ws)
    assert ("资产总额", "", total) in rows
    assets = d.annex_tables[1]
    for row in assets.rows:
        assert expected_cells(row, assets.columns) in rows
    if key == "524":
        assert ("1、房屋（平方米）", "2046.00", "130.77") in rows
    inst = wb["机构设置"]
    assert wb.sheetnames[-1] == "机构设置"
    institutions = next(b for b in d.sections[0].blocks if getattr(b, "key", "") == "institutions")
    for row in institutions.rows:
        assert trim(row.cells) in sheet_rows(inst)


def test_sheet_order_524(examples):
    names = book(examples, "524").sheetnames
    assert names[:9] == ["表一 收支总表", "表二 收入总表", "表三 支出总表", "表四 财政拨款收支总表",
                         "表五 一般公共预算支出表", "表六 一般公共预算基本支出表",
                         "表七 政府性基金预算支出表", "表八 国有资本经营预算支出表", "表九 三公经费支出表"]
    assert names[9:19] == [n for n in names if n.startswith("项目")]
    assert names[19:] == ["政府采购预算", "固定资产", "机构设置"]


# --- workbook properties ---------------------------------------------------------------------

@pytest.mark.parametrize("key", ["524", "612"])
def test_deterministic(examples, key):
    first = examples[key][1]
    assert render_xlsx(run(EXAMPLES[key]).disclosure) == first
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    year = examples[key][0].year
    assert f"<dcterms:created xsi:type=\"dcterms:W3CDTF\">{year}-01-01T00:00:00Z" in core


def test_formula_like_text_stays_text():
    text = replace_once(example_text("2025"), "name: 人大代表之家经费",
                        "name: '=HYPERLINK(\"http://x\",\"人大代表之家经费\")'")
    text = replace_once(text, "{name: 清扫服务,", "{name: '@清扫服务',")
    text = text.replace("{name: 复印纸,", "{name: '+复印纸',", 1)
    result = run_variant(text, "formula.yaml")
    assert result.disclosure is not None, result.problems
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(result.disclosure)))  # formulas kept
    formulas = [c.value for ws in wb.worksheets for r in ws.iter_rows() for c in r
                if c.data_type == "f"]
    assert formulas and all(re.fullmatch(r"=SUM\([A-Z]+[0-9]+([:,][A-Z]+[0-9]+)*\)", f)
                            for f in formulas)  # only our totals are formulas
    project = wb.worksheets[12]
    assert project["E3"].value == '=HYPERLINK("http://x","人大代表之家经费")'
    assert project["E3"].data_type == "s" and project["E3"].quotePrefix
    assert all(ch not in project.title for ch in "[]:*?/\\")
    cells = {c.value: c for r in wb["政府采购预算"].iter_rows() for c in r if isinstance(c.value, str)}
    assert cells["@清扫服务"].data_type == "s" and cells["+复印纸"].data_type == "s"


@pytest.mark.parametrize("key", ["524", "612"])
def test_print_setup(examples, key):
    d, wb = examples[key][0], book(examples, key)
    tables = {t.sheet: t for t in d.schedules + d.annex_tables}
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert str(ps.paperSize) == "9", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ps.fitToWidth or 1) == 1 and ps.fitToHeight == 0
        assert ws.print_title_rows, ws.title
        table = tables.get(ws.title)
        if table is not None:
            assert ps.orientation == ("landscape" if table.landscape else "portrait"), ws.title
            first = 3 if table.meta else 2
            last = first + len(table.header) - 1
            assert ws.print_title_rows == f"${first}:${last}"
            assert ws.freeze_panes == f"A{last + 1}"
            for i, column in enumerate(table.columns, 1):
                width = next(dim.width for dim in ws.column_dimensions.values()
                             if dim.min <= i <= dim.max)
                assert width == pytest.approx(column_units(column.width), abs=1), (ws.title, i)
    s1, s2 = wb.worksheets[0], wb.worksheets[1]
    assert (s1.page_setup.orientation, s2.page_setup.orientation) == ("portrait", "landscape")
    assert s1.print_title_rows == "$3:$5" and s1.freeze_panes == "A6"


@pytest.mark.parametrize("key", ["524", "612"])
def test_sheet_names_valid(examples, key):
    names = book(examples, key).sheetnames
    assert len({n.lower() for n in names}) == len(names)
    for name in names:
        assert 0 < len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name)
        assert not name.startswith("'") and not name.endswith("'")


# --- layout helpers ----------------------------------------------------------------------------

def test_sheet_name_sanitizes_and_deduplicates():
    taken: set[str] = set()
    a = sheet_name("项目1 a[b]:c*d?e/f\\g" + "长" * 40, taken)
    assert a == "项目1"  # cut at the space, not mid-phrase
    assert not re.search(r"[\[\]:*?/\\]", sheet_name("a[b]:c*d?e/f\\g", taken))
    b = sheet_name("'Same'", taken)
    c = sheet_name("same", taken)
    assert (b, c) == ("Same", "same(2)")
    assert sheet_name("", taken) == "Sheet"
    assert sheet_name("history", taken) == "history_"
    long = "x" * 40
    assert (sheet_name(long, taken), sheet_name(long, taken)) == ("x" * 31, "x" * 28 + "(2)")


def test_sheet_name_never_cut_inside_brackets():
    name = "社区党组织服务群众专项经费（RY）及社区工作经费（WL，含网格员补贴）"
    cut = sheet_name(name, set())
    assert len(cut) <= 31 and cut.count("（") == cut.count("）"), cut
    assert cut == "社区党组织服务群众专项经费（RY）及社区工作经费"


def test_place_header_like_html():
    header = ((Head("序号", rowspan=2), Head("功能分类科目", colspan=2), Head("合计", rowspan=2)),
              (Head("科目编码"), Head("科目名称")))
    placed = [(p.row, p.col, p.last_row, p.last_col, p.text) for p in place_header(header, 4)]
    assert placed == [(0, 0, 1, 0, "序号"), (0, 1, 0, 2, "功能分类科目"), (0, 3, 1, 3, "合计"),
                      (1, 1, 1, 1, "科目编码"), (1, 2, 1, 2, "科目名称")]
    with pytest.raises(ValueError):
        place_header(header, 5)  # a column left uncovered
    with pytest.raises(ValueError):
        place_header(((Head("a", colspan=3),),), 2)


def test_meta_spans():
    units = [column_units(w) for w in (3.5, 30, 9, 9, 9, 9)]  # 表九
    spans = meta_spans(units, ("524秦皇岛市海港区人民政府西港路街道办事处", "预算年度：2025", "单位：万元"))
    assert [(a, b, align) for a, b, _, align in spans] == [(0, 1, "left"), (2, 3, "center"),
                                                           (4, 5, "right")]
    assert meta_spans(units[:2], ("a", "b", "c")) == [(0, 0, "a", "left"), (1, 1, "b\u3000c", "right")]
    assert meta_spans(units, ()) == []


def test_number_formats():
    assert number_format("money", Decimal("0.00")) is None
    assert number_format("money", Decimal("12.30")) == "0.00"
    assert number_format("qty", Decimal("0")) is None
    assert number_format("qty", Decimal("750.0000")) == "0"
    assert number_format("price", Decimal("0.0028")) == "0.0000"
    assert number_format("price", Decimal("0.33")) == "0.00"
    assert number_format("seq", 7) == "0"
