"""A document a finance bureau posts without edits: typography, page flow, workbook, archive.

What a test can see of issue 16: the 仿宋 face embedded by name and the fallback warning;
title lines (pdftotext) broken only between phrases; no table cell whose last line is one
character (pdfplumber's character boxes); 续表 on a page a table continues on; workbook
totals as =SUM formulas carrying the model's figures (openpyxl reads both); the PDF/A and
PDF/UA variants' metadata and `qpdf --check`; the document date; the hygiene warnings.
"""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from decimal import Decimal

import openpyxl
import pytest
from conftest import (
    EXAMPLE_2023,
    EXAMPLE_2025,
    example_text,
    line_of,
    replace_once,
    run_variant,
)

from generator.compute.tables import Column, Head, Row, Table
from generator.pipeline import run
from generator.render.fontcheck import family_lists, font_warnings
from generator.render.html import balanced_lines, lead_level, title_phrases
from generator.render.pdf import render_pdf_pages
from generator.render.xlsx import render_xlsx
from generator.render.xlsx_layout import sum_formula, sum_sources

EXAMPLES = {"524": EXAMPLE_2025, "612": EXAMPLE_2023}


@pytest.fixture(scope="module")
def pdfs():
    out = {}
    for key, path in EXAMPLES.items():
        result = run(path)
        data, pages = render_pdf_pages(result.disclosure)
        out[key] = {"disclosure": result.disclosure, "pdf": data, "pages": pages}
    return out


def pdftotext(data: bytes, first: int | None = None, last: int | None = None) -> str:
    args = ["pdftotext"] + (["-f", str(first), "-l", str(last)] if first else []) + ["-", "-"]
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout.decode()


# ----------------------------------------------------------------------------- fonts

def test_body_text_is_set_in_fandolfang(pdfs):
    from pypdf import PdfReader
    for item in pdfs.values():
        names = {str(f.get_object()["/BaseFont"]) for page in PdfReader(io.BytesIO(item["pdf"])).pages
                 for f in page["/Resources"].get("/Font", {}).values()}
        assert any(n.endswith("+FandolFang") for n in names), names


def test_font_warning_names_the_style_and_the_fallback():
    css = 'html { font-family: FangSong, "仿宋", FandolFang, "Noto Serif CJK SC", serif; }\n' \
          '.h { font: 14pt SimHei, "黑体", "Noto Sans CJK SC", sans-serif; }'
    assert family_lists(css)[1] == ("SimHei", "黑体", "Noto Sans CJK SC", "sans-serif")
    only_noto = frozenset({"noto serif cjk sc", "noto sans cjk sc"})
    (w,) = font_warnings("dept.yaml", css, only_noto)
    assert w.rule == "字体" and not w.is_error
    assert "仿宋" in w.message and "FandolFang" in w.message and w.found == "Noto Serif CJK SC"
    assert font_warnings("dept.yaml", css, only_noto | {"fandolfang"}) == []
    (w,) = font_warnings("dept.yaml", css, frozenset({"fandolfang"}))  # no 黑体 at all
    assert "黑体" in w.message and w.found == "系统默认字体"


def test_render_warns_when_a_face_is_missing(tmp_path, monkeypatch):
    from generator.commands import jobs
    from generator.render import fontcheck
    monkeypatch.setattr(fontcheck, "installed_families",
                        lambda: frozenset({"noto serif cjk sc", "noto sans cjk sc", "lxgw wenkai"}))
    outcome = jobs.render_file(str(EXAMPLE_2023), str(tmp_path), ("html",))
    assert [p for p in outcome.problems if p.rule == "字体"] == []  # HTML only: no PDF fonts
    monkeypatch.setattr(jobs, "_render", lambda fmt, d, *args: (b"%PDF-1.7", 1, None, {}))
    outcome = jobs.render_file(str(EXAMPLE_2023), str(tmp_path), ("pdf",))
    (w,) = [p for p in outcome.problems if p.rule == "字体"]
    assert "仿宋" in w.message and "Noto Serif CJK SC" in w.message


# ----------------------------------------------------------------------------- titles

def test_title_phrases():
    name = "秦皇岛市海港区人民政府西港路街道办事处"
    assert title_phrases(f"{name}2025年部门预算公开", (name,)) == \
        ["秦皇岛市", "海港区", "人民政府", "西港路街道办事处", "2025年部门预算公开"]
    assert title_phrases("3、社区党组织服务群众专项经费（RY）绩效目标表") == \
        ["3、", "社区党组织服务群众专项经费（RY）", "绩效目标表"]


@pytest.mark.parametrize("key,name,year", [("524", "秦皇岛市海港区人民政府西港路街道办事处", 2025),
                                           ("612", "秦皇岛市山海关区南关街道办事处", 2023)])
def test_titles_break_between_phrases(pdfs, key, name, year):
    data = pdfs[key]["pdf"]
    cover = [line.strip() for line in pdftotext(data, 1, 1).splitlines() if line.strip()]
    assert f"{year}年部门预算公开" in cover  # the year's phrase on a line of its own
    title_lines = cover[:cover.index(f"{year}年部门预算公开")]
    assert "".join(title_lines) == name
    text = pdftotext(data)
    part2 = f"{year}年部门预算信息公开情况说明"
    assert part2 in [line.strip() for line in text.splitlines()], "part 2 title split inside"
    for d_project in pdfs[key]["disclosure"].projects:
        # 绩效目标表 never split: a line ends with the whole word
        assert not re.search(r"绩\s*\n\s*效目标表|绩效\s*\n\s*目标表|绩效目\s*\n\s*标表", text)
        assert d_project.title[-5:] == "绩效目标表"


# ----------------------------------------------------------------------------- table cells

def test_balanced_lines_never_strand_a_character():
    assert balanced_lines("财政拨款收入", 5) == ["财政拨款", "收入"]
    assert balanced_lines("对附属单位补助支出", 8) == ["对附属单位补助", "支出"]
    assert balanced_lines("2025年12月底", 5) == ["2025年", "12月底"]
    assert balanced_lines("合计", 5) == ["合计"]
    for text in ("一般公共预算财政拨款", "政府性基金预算财政拨款", "附属单位上缴收入", "上级补助收入"):
        for capacity in (3, 4, 5, 6, 7, 8):
            lines = balanced_lines(text, capacity)
            assert "".join(lines) == text
            assert len(lines) == 1 or len(lines[-1]) >= 2, (text, capacity, lines)
    assert balanced_lines("完成民兵应急科目演练，的数量", 6)[1][0] != "，"  # no line starts with ，


def _stranded_cells(pdf_bytes: bytes) -> list[tuple[int, str]]:
    """Cells (header and data) of every ruled table whose text wraps and whose last line is a
    single character, from pdfplumber's character boxes."""
    import pdfplumber
    out = []
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            for table in page.find_tables():
                for row in table.rows:
                    for cell in row.cells:
                        if not cell:
                            continue
                        lines: dict[int, list] = {}
                        for ch in page.crop(cell).chars:
                            if ch["text"].strip():
                                lines.setdefault(round(ch["top"]), []).append(ch)
                        if len(lines) > 1:
                            last = lines[max(lines)]
                            if len(last) == 1:
                                text = "/".join("".join(c["text"] for c in sorted(lines[k], key=lambda c: c["x0"]))
                                                for k in sorted(lines))
                                out.append((number, text))
    return out


def test_no_table_cell_ends_with_a_lone_character(pdfs):
    for key, item in pdfs.items():
        assert _stranded_cells(item["pdf"]) == [], key


def test_numbered_heading_lines():
    assert lead_level("12、综合业务、事务管理") == "3"
    assert lead_level("二、聚焦“民生福祉”，倾心提高群众生活幸福感") == "1"
    assert lead_level("1、绩效目标：组织开展群众性文化、体育活动") == ""  # a sentence, not a heading
    assert lead_level("（一）宣传贯彻执行党的路线方针政策和党中央、上级党组织的决议，讨论和决定本街道工作中的重大问题") == ""


def test_project_tables_share_pages(pdfs):
    d = pdfs["524"]["disclosure"]
    text = pdftotext(pdfs["524"]["pdf"]).split("\f")
    pages = {i for t in d.projects for i, page in enumerate(text)
             if re.sub(r"\s", "", t.title) in re.sub(r"\s", "", page)}
    assert len(pages) <= (len(d.projects) + 1) // 2 + 1, pages  # ten tables on six pages at most


def test_a_continued_table_says_so(pdfs):
    """表三 with its rows three times over runs onto a second page: that page says
    "表名（续表）" and the unit above the repeated header; the first page does not."""
    import dataclasses
    d = pdfs["524"]["disclosure"]
    s3 = d.schedules[2]
    long = dataclasses.replace(s3, rows=s3.rows * 3)
    d = dataclasses.replace(d, schedules=d.schedules[:2] + (long,) + d.schedules[3:])
    data, _ = render_pdf_pages(d)
    pages = pdftotext(data).split("\f")
    first = next(i for i, p in enumerate(pages)
                 if [line.strip() for line in p.splitlines() if line.strip()][:1] == [s3.title])
    following = pages[first + 1]
    head = [line.strip() for line in following.splitlines() if line.strip()][:3]
    assert any(f"{s3.title}（续表）" in line for line in head), head
    assert any("单位：万元" in line for line in head)
    assert "科目编码" in following  # the header repeats
    marked = [i for i, p in enumerate(pages) if "（续表）" in p]
    assert marked == list(range(first + 1, first + 1 + len(marked)))  # only its own next pages
    assert all(f"{s3.title}（续表）" in pages[i] for i in marked)


# ----------------------------------------------------------------------------- workbook

@pytest.fixture(scope="module")
def books():
    out = {}
    for key, path in EXAMPLES.items():
        d = run(path).disclosure
        data = render_xlsx(d)
        out[key] = (d, openpyxl.load_workbook(io.BytesIO(data)),
                    openpyxl.load_workbook(io.BytesIO(data), data_only=True), data)
    return out


def _first_data_row(table: Table) -> int:
    return (3 if table.meta else 2) + len(table.header)  # 1-based sheet row of rows[0]


@pytest.mark.parametrize("key", ["524", "612"])
def test_totals_are_formulas_carrying_the_model_figures(books, key):
    d, wb, values, _ = books[key]
    checked = 0
    for table in d.schedules:
        ws, wv = wb[table.sheet], values[table.sheet]
        top = _first_data_row(table)
        for i, row in enumerate(table.rows):
            for j, value in enumerate(row.cells):
                cell = ws.cell(top + i, j + 1)
                if cell.data_type != "f":
                    continue
                # the cached value is the model's figure, to the cent
                assert Decimal(str(wv.cell(top + i, j + 1).value)) == value, (table.key, cell.coordinate)
                # and the formula really adds up what it names (recomputed from the model's rows)
                refs = re.findall(r"([A-Z]+)(\d+)(?::[A-Z]+(\d+))?", cell.value[5:-1])
                total = Decimal(0)
                for _, a, b in refs:
                    for r in range(int(a), int(b or a) + 1):
                        total += table.rows[r - top].cells[j] or Decimal(0)
                assert total == value, (table.key, cell.coordinate, cell.value)
                checked += 1
    assert checked >= 100
    # the headline totals are among them: 表三 合计 2256.69 (2025) / 822.44 (2023)
    s3 = d.schedules[2]
    cell = wb[s3.sheet].cell(_first_data_row(s3), 4)
    assert cell.value.startswith("=SUM(")
    assert values[s3.sheet].cell(_first_data_row(s3), 4).value == float(d.figures["total"])


def test_sum_sources_only_where_the_figures_agree():
    cols = (Column("seq", 3), Column("code", 8), Column("text", 10), Column("money", 8))
    rows = (Row((1, "", "合计", Decimal("30.00")), True),
            Row((2, "201", "一般公共服务", Decimal("20.00")), True),
            Row((3, "20101", "人大事务", Decimal("12.50"))),
            Row((4, "20102", "政协事务", Decimal("7.50"))),
            Row((5, "208", "社会保障", Decimal("10.01")), True),  # a 类 that does not add up
            Row((6, "20805", "行政事业单位养老", Decimal("10.00"))))
    t = Table("t", "t", (), ((Head("序号"), Head("编码"), Head("名称"), Head("金额")),), cols, rows)
    sources = sum_sources(t)
    assert sources[(1, 3)] == (2, 3)
    assert (4, 3) not in sources and (0, 3) not in sources  # 30.00 ≠ 20.00 + 10.01
    assert sum_formula(3, [5, 6, 7, 10]) == "=SUM(D6:D8,D11)"


def test_workbook_sheet_names_and_no_green_triangles(books):
    d, wb, _, data = books["524"]
    assert [n for n in wb.sheetnames if n.startswith("项目")] == [f"项目{p.number}" for p in d.projects]
    for p in d.projects:  # the full title is in the sheet
        assert wb[f"项目{p.number}"]["A1"].value == p.title
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        for name in sheets:
            xml = z.read(name).decode()
            assert '<ignoredError sqref="A1:XFD1048576" numberStoredAsText="1"/>' in xml, name


def test_workbook_cells_are_indented_and_chinese_fonts(books):
    _, wb, _, _ = books["524"]
    ws = wb.worksheets[2]
    cell = next(c for r in ws.iter_rows(min_row=6) for c in r if isinstance(c.value, str) and len(c.value) > 3)
    assert cell.alignment.indent == 1
    fonts = {c.font.name for r in ws.iter_rows() for c in r if c.value is not None}
    assert fonts == {"宋体"}


# ----------------------------------------------------------------------------- PDF variants, date

def _qpdf_check(path) -> str:
    return subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False).stdout


@pytest.mark.skipif(not shutil.which("qpdf"), reason="qpdf is installed by .ci/setup")
def test_pdf_variants_from_the_cli(tmp_path):
    from pypdf import PdfReader
    results = {}
    for variant in ("pdf/a-3b", "pdf/ua-1"):
        out = tmp_path / variant.replace("/", "_")
        proc = subprocess.run([sys.executable, "-m", "generator", "render", str(EXAMPLE_2023), "-o",
                               str(out), "-f", "pdf", "--pdf-variant", variant],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (pdf,) = out.glob("*/*.pdf")  # one folder per department
        assert "No syntax or stream encoding errors found" in _qpdf_check(pdf)
        results[variant] = PdfReader(pdf)
    xmp = results["pdf/a-3b"].trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(=\"|>)3", xmp) and re.search(r"pdfaid:conformance(=\"|>)B", xmp)
    assert "/OutputIntents" in results["pdf/a-3b"].trailer["/Root"]
    ua = results["pdf/ua-1"].trailer["/Root"]
    assert ua["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in ua
    assert "pdfuaid:part" in ua["/Metadata"].get_object().get_data().decode()
    bad = subprocess.run([sys.executable, "-m", "generator", "render", str(EXAMPLE_2023), "-o",
                          str(tmp_path / "x"), "--pdf-variant", "pdf/x-4"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "pdf/a-3b" in bad.stderr


def test_document_date_comes_from_published():
    from pypdf import PdfReader
    text = replace_once(example_text("2023"), "  year: 2023\n", "  year: 2023\n  published: 2023-02-14\n")
    result = run_variant(text)
    assert result.ok, [str(p) for p in result.problems if p.is_error]
    meta = PdfReader(io.BytesIO(render_pdf_pages(result.disclosure)[0])).metadata
    assert meta["/CreationDate"].startswith("D:20230214")
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(result.disclosure)))
    assert wb.properties.created.date().isoformat() == "2023-02-14"
    bad = run_variant(replace_once(example_text("2023"), "  year: 2023\n",
                                   "  year: 2023\n  published: 2023-02-30\n"))
    (p,) = [p for p in bad.problems if p.is_error]
    assert "2023-02-30" in p.message
    assert p.location.line == line_of(example_text("2023"), "year: 2023") + 1


# ----------------------------------------------------------------------------- hygiene

def _warnings(result, rule):
    return [p for p in result.problems if p.rule == rule]


def test_hygiene_warnings_on_the_examples(xigang, nanguan):
    assert all(not p.is_error for p in xigang.problems + nanguan.problems if p.rule.startswith("文字"))
    text23, text25 = example_text("2023"), example_text("2025")
    placeholders = _warnings(nanguan, "文字-占位符")
    assert len(placeholders) == 8 and "目标内容1" in placeholders[0].message  # one per project
    assert placeholders[0].location.line == line_of(text23, "6.目标内容1保障单位公务用车正常运转")
    (rep,) = _warnings(nanguan, "文字-重复")
    assert "performance.items" in rep.message and "performance.overall" in rep.message
    (cost,) = _warnings(xigang, "文字-成本指标")
    assert "≥1254700元" in cost.message and cost.location.line == line_of(text25, "≥1254700元")
    kana = [p for p in _warnings(xigang, "文字-标点") if "ー" in p.message]
    assert kana and kana[0].location.line == line_of(text25, "(十ー)")


def test_hygiene_institution_and_empty_section():
    text = example_text("2025")
    text = replace_once(text, "    nature: 行政\n", "")
    partly = re.sub(r"  measures:\n(    - .*\n)+", "  measures: []\n", text, count=1)
    result = run_variant(partly)
    (inst,) = _warnings(result, "文字-机构")
    assert "单位性质" in inst.message
    # the section still has text: only its empty part is said (and left out of the print)
    (part,) = _warnings(result, "文字-空白")
    assert "工作保障措施" in part.message and part.location.line == line_of(partly, "measures: []")
    assert _warnings(result, "未完成-空白") == []
    empty = re.sub(r"  (overall|items):\n(    - .*\n)+", r"  \1: []\n", partly)
    result = run_variant(empty)
    (warn,) = _warnings(result, "未完成-空白")  # a bare heading: unfinished, render refuses it
    assert "部门整体绩效目标" in warn.message and warn.location.line == line_of(empty, "overall: []")
    assert result.ok and not warn.is_error


def test_blank_plan_months_print_blank(xigang):
    d = xigang.disclosure
    p7 = next(p for p in d.projects if p.number == 7)
    assert p7.plan == (None, None, None, Decimal("13.53"))
    bad = run_variant(replace_once(example_text("2025"), "plan: [null, null, null, 13.53]",
                                   "plan: [null, null, 5.00, null]"))
    (err,) = [p for p in bad.problems if p.rule == "项目-支出计划"]
    assert "12月底累计不能留空" in err.message
