"""Layouts as data: the built-in layouts, Beijing's 14 tables, a layout exported and edited to 元,
department files typed in 元, located errors in a malformed layout, and no layout name in code.

Expected figures are the published ones (README, control totals of the 2025 example), worked out
from the seed, not from the code under test.
"""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import EXAMPLE_2025, ROOT, example_text, line_of, replace_once
from generator.commands.cli import app
from generator.compute.tables import Heading, Paragraph, Table
from generator.layout import builtin_keys, load_layout_file
from generator.pipeline import run, run_text
from generator.render.html import render_html
from generator.render.xlsx import render_xlsx

BEIJING_TITLES = [
    "收支总表", "收入总表", "支出总表", "项目支出表", "政府采购预算明细表", "财政拨款收支总表",
    "一般公共预算财政拨款支出表", "一般公共预算财政拨款基本支出表", "政府性基金预算财政拨款支出表",
    "国有资本经营预算财政拨款支出表", "财政拨款“三公”经费支出表", "政府购买服务预算财政拨款明细表",
    "项目支出绩效目标表", "部门整体支出绩效目标表"]
D = Decimal


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def beijing():
    result = run(EXAMPLE_2025, layout="beijing-2025")
    assert result.ok, [str(p) for p in result.problems]
    return result


def row(table: Table, label: str) -> tuple:
    return next(r.cells for r in table.rows if label in [c for c in r.cells if isinstance(c, str)])


# --------------------------------------------------------------------------- built-in layouts

def test_builtin_layouts_load_and_list():
    assert {"hebei-2023", "hebei-2025", "beijing-2025"} <= set(builtin_keys())
    for key in builtin_keys():
        layout, problems = load_layout_file(ROOT / "generator" / "layouts" / f"{key}.yaml")
        assert problems == [] and layout is not None and layout.key == key
    result = invoke("layouts")
    assert result.exit_code == 0, result.output
    line = next(l for l in result.stdout.splitlines() if l.startswith("beijing-2025"))
    assert re.search(r"\s14\s+万元$", line), line
    assert re.search(r"^hebei-2025\s.*\s9\s+万元$", result.stdout, re.M)


def test_beijing_layout_names_the_documents_it_follows():
    text = (ROOT / "generator" / "layouts" / "beijing-2025.yaml").read_text(encoding="utf-8")
    assert "通州区人大常委会" in text and "2025年度部门预算" in text
    layout, _ = load_layout_file(ROOT / "generator" / "layouts" / "beijing-2025.yaml")
    assert layout.follows and layout.order == "text_first"


# --------------------------------------------------------------------------- Beijing's 14 tables

def test_beijing_prints_all_fourteen_tables_in_order(beijing):
    d = beijing.disclosure
    assert [t.title for t in d.schedules] == BEIJING_TITLES
    assert d.schedule_labels[:2] == ("一、", "二、") and d.schedule_labels[-1] == "十四、"
    assert [kind for kind, _ in d.parts] == ["text", "tables"]
    assert dict(d.parts)["text"] == "第一部分 2025年度部门预算情况说明"
    assert dict(d.parts)["tables"] == "第二部分 2025年度部门预算报表"


def test_beijing_tables_carry_the_same_figures(beijing, xigang):
    s = beijing.disclosure.schedules
    hebei = xigang.disclosure.schedules
    # 表三 支出总表: 合计 2256.69 = 基本 1822.69 + 项目 434.00, in either layout
    assert s[2].rows[0].cells[3:6] == (D("2256.69"), D("1822.69"), D("434.00"))
    assert hebei[2].rows[0].cells[3:6] == s[2].rows[0].cells[3:6]
    assert row(s[0], "收入总计")[2] == D("2256.69") and row(s[0], "支出总计")[4] == D("2256.69")
    assert row(s[0], "一、一般公共预算财政拨款收入")[2] == D("2256.69")
    assert s[1].rows[0].cells[3] == D("2256.69")  # 收入总表 合计
    projects = s[3]
    assert row(projects, "合\u3000计")[5:8] == (D("434.00"), D("434.00"), D("0.00"))
    assert len(projects.rows) == 11  # 合计 and ten projects
    assert row(projects, "办事处专项经费")[5] == D("26.00")
    assert row(s[4], "合\u3000计")[7] == D("172.82")  # 政府采购
    assert row(s[5], "收入总计")[2] == D("2256.69")  # 财政拨款收支总表
    assert s[6].rows[0].cells[3:6] == (D("2256.69"), D("1822.69"), D("434.00"))
    assert s[7].rows[0].cells[3:6] == (D("1822.69"), D("1759.32"), D("63.37"))
    assert s[8].note and s[9].note  # 政府性基金, 国有资本经营: empty, 空表列示
    assert s[10].rows[0].cells == (D("2.48"), D("0.00"), D("2.25"), D("0.00"), D("2.25"), D("0.23"))
    assert s[11].note == "注：本部门无政府购买服务预算，空表列示。"
    goals = s[12]
    assert goals.rows[0].cells[:2] == ("办事处专项经费", D("26.00"))
    assert [c.text for c in goals.header[0]][3:] == ["一级指标", "二级指标", "三级指标", "指标值"]
    assert s[13].title == "部门整体支出绩效目标表" and s[13].note


def test_beijing_text_comes_first_and_uses_the_model(beijing):
    d = beijing.disclosure
    headings = [s.heading for s in d.sections]
    assert headings == ["一、部门情况说明", "二、收入预算情况说明", "三、支出预算情况说明",
                        "四、财政拨款“三公”经费预算情况说明", "五、其他情况说明", "六、名词解释"]
    spending = " ".join(b.text for b in d.sections[2].blocks if isinstance(b, Paragraph))
    # 1822.69 / 2256.69 = 80.77 %, 434.00 / 2256.69 = 19.23 %
    assert "支出预算2256.69万元，其中：基本支出1822.69万元，占80.77%" in spending
    assert "项目支出434.00万元，占19.23%" in spending
    sub = [b.text for b in d.sections[4].blocks if isinstance(b, Heading) and b.level == 2]
    assert sub[:3] == ["（一）机关运行经费预算", "（二）政府采购预算", "（三）国有资产占用情况"]
    html = render_html(d)
    text = re.sub(r"<[^>]+>", "", html).replace("&#32;", " ")  # 目录 entries are phrase spans
    assert text.index("第一部分 2025年度部门预算情况说明") < text.index("第二部分 2025年度部门预算报表")
    assert "十四、部门整体支出绩效目标表" in text
    assert "按照《中华人民共和国预算法》" not in html  # Beijing has no such opening


def test_beijing_workbook_has_a_sheet_per_table(beijing):
    openpyxl = pytest.importorskip("openpyxl")
    import io
    # data_only: totals are =SUM formulas; their cached values are the model's figures
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(beijing.disclosure)), data_only=True)
    names = wb.sheetnames
    assert names[0] == "表一 收支总表" and names[13].startswith("表十四")
    ws = wb["表三 支出总表"]
    values = [c.value for r in ws.iter_rows() for c in r]
    assert 2256.69 in values


def test_department_goals_header_is_a_form_of_captions_and_values(beijing):
    """部门整体支出绩效目标表 opens like a form: the captions (部门（单位）名称, 年度部门整体支出
    预算, 年度总体目标) are header cells, the department's name, budget and goal beside them are
    values — regular weight and left-aligned in the PDF's HTML (data cells) and in the workbook."""
    openpyxl = pytest.importorskip("openpyxl")
    import io
    table = next(t for t in beijing.disclosure.schedules if t.sheet.endswith("部门整体支出绩效目标表"))
    values = [h.text for row in table.header for h in row if h.value]
    assert values[0] == "秦皇岛市海港区人民政府西港路街道办事处"
    assert values[1] == "资金总额：2256.69万元；其中财政拨款：2256.69万元；其他资金：0.00万元"
    html = render_html(beijing.disclosure)
    # a caption is its row's header, a value data (TD), as a screen reader reads a form
    assert re.search(r'<td class="l v" colspan="\d+">秦皇岛市海港区人民政府西港路街道办事处</td>', html)
    assert re.search(r'<th scope="row">部门（单位）名称</th>', html)
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(beijing.disclosure)))
    ws = wb[table.sheet]
    cells = {c.value: c for r in ws.iter_rows() for c in r if isinstance(c.value, str)}
    name, caption = cells["秦皇岛市海港区人民政府西港路街道办事处"], cells["部门（单位）名称"]
    assert not name.font.b and name.alignment.horizontal == "left"
    assert caption.font.b and caption.alignment.horizontal == "center"


def test_new_sections_fill_the_beijing_tables():
    text = example_text("2025") + """
purchased_services:
  - {name: 社区物业管理服务, category: 城市维护服务, code: B0101, content: 辖区公共区域保洁, amount: 12.50}
  - {name: 法律顾问服务, category: 法律服务, amount: 3.00, source: general}
department_performance:
  goals: [保障街道机关正常运转，提升基层治理和为民服务水平。]
  indicators:
    - [产出指标, 数量指标, 服务社区数量, 服务社区数量, ≥10个, 年度工作计划]
    - [效益指标, 社会效益指标, 居民满意度, 居民满意度, ≥90%, 年度工作计划]
"""
    result = run_text(text, "dept.yaml", layout="beijing-2025")
    assert result.ok, [str(p) for p in result.problems]
    s = result.disclosure.schedules
    services = s[11]
    assert services.note is None
    assert row(services, "合\u3000计")[5:8] == (D("15.50"), D("15.50"), D("0.00"))
    assert row(services, "社区物业管理服务")[2:5] == ("B0101", "城市维护服务", "辖区公共区域保洁")
    dept = s[13]
    assert [r.cells for r in dept.rows] == [("产出指标", "数量指标", "服务社区数量", "≥10个"),
                                           ("效益指标", "社会效益指标", "居民满意度", "≥90%")]
    assert any("资金总额：2256.69万元" in h.text for hr in dept.header for h in hr)
    other = " ".join(b.text for b in result.disclosure.sections[4].blocks if isinstance(b, Paragraph))
    assert "安排政府购买服务预算15.50万元" in other
    # the Hebei layouts do not print the new sections; the same file still renders there
    hebei = run_text(text, "dept.yaml")
    assert hebei.ok and len(hebei.disclosure.schedules) == 9


# --------------------------------------------------------------------------- export, edit, 元

def _yuan_layout(tmp_path: Path) -> Path:
    path = tmp_path / "my-layout.yaml"
    result = invoke("layouts", "--export", "hebei-2025", "-o", path)
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    text = replace_once(text, "key: hebei-2025", "key: my-yuan")
    text = replace_once(text, "unit: 万元", "unit: 元")
    text = replace_once(text, "title: 部门预算支出总表", "title: 部门预算支出总表（以元为单位）")
    text = replace_once(text, "order: tables_first", "order: tables_first\nrounding_note: 注：金额按四舍五入列示。")
    path.write_text(text, encoding="utf-8")
    return path


def xigang_width(index: int) -> float:
    return run(EXAMPLE_2025).disclosure.schedules[1].columns[index].width


def test_exported_layout_edited_to_yuan_renders_in_yuan(tmp_path):
    layout = _yuan_layout(tmp_path)
    dept = tmp_path / "dept.yaml"
    dept.write_text(replace_once(example_text("2025"), "edition: hebei-2025", f"edition: {layout.name}"),
                    encoding="utf-8")
    result = run(dept)  # department.edition names the file, relative to the department file
    assert result.ok, [str(p) for p in result.problems]
    d = result.disclosure
    s3 = d.schedules[2]
    assert s3.title == "部门预算支出总表（以元为单位）" and s3.meta[-1] == "单位：元"
    assert s3.rows[0].cells[3:6] == (D("22566900.00"), D("18226900.00"), D("4340000.00"))
    assert d.schedules[0].title == "部门预算收支总表"
    assert not s3.notes_after  # exact: nothing was rounded, so no rounding note
    # 11-character figures get a wider column than the 万元 layout's 7 characters
    assert d.schedules[1].columns[3].width > 7 and xigang_width(3) == 7
    text = " ".join(b.text for s in d.sections for b in s.blocks if isinstance(b, Paragraph))
    assert "2025年支出预算22566900.00元，其中基本支出18226900.00元" in text
    assert "万元" not in " ".join(t for t in text.split("。") if "支出预算" in t)
    html = render_html(d)
    assert "22566900.00" in html and "2256.69" not in html.split("第二部分")[0].split("部门预算收支总表")[-1]
    # the projects print their own unit
    assert d.projects[0].unit == "元" and d.projects[0].amount == D("260000.00")
    # the same layout file by --layout, from another folder: a path relative to the working folder
    again = run(EXAMPLE_2025, layout=str(layout))
    assert again.ok and again.disclosure.schedules[2].rows[0].cells[3] == D("22566900.00")
    # the command line takes it too
    out = tmp_path / "out"
    result = invoke("render", EXAMPLE_2025, "--layout", layout, "-o", out, "--format", "html")
    assert result.exit_code == 0, result.output
    assert "22566900.00" in next(out.glob("*/*.html")).read_text(encoding="utf-8")  # a folder per department


DEPT_IN_YUAN = """\
department: {code: "9", name: 测试街道办事处, year: 2025, edition: hebei-2025, unit: 元}
expenditure:
  - {code: 2010301, basic: 1250.00}
  - {code: 2010302, project: 1250.00}
basic_economic:
  - {code: 30201, amount: 1250.00}
projects:
  - {name: 专项经费, amount: 1250.00, function_code: 2010302}
control_totals: {total: 2500.00, basic: 1250.00}
"""


def test_department_typed_in_yuan_is_exact_and_rounded_for_display_only():
    result = run_text(DEPT_IN_YUAN, "dept.yaml")
    assert result.ok, [str(p) for p in result.problems]
    fig = result.figures
    assert fig.total == D("0.25") and fig.basic == D("0.125")  # exact 万元
    s3 = result.disclosure.schedules[2]
    # 1250元 = 0.125万元 prints 0.13 (四舍五入, not banker's 0.12); the total is computed
    # before rounding: 0.25, not 0.13 + 0.13
    assert s3.rows[0].cells[3:6] == (D("0.25"), D("0.13"), D("0.13"))
    text = " ".join(b.text for s in result.disclosure.sections for b in s.blocks
                    if isinstance(b, Paragraph))
    assert "基本支出0.13万元" in text
    # checks run on exact values: a control total 1 元 off is an error
    bad = run_text(DEPT_IN_YUAN.replace("total: 2500.00", "total: 2501.00"), "dept.yaml")
    (p,) = [p for p in bad.problems if p.rule == "控制数"]
    assert not bad.ok and "2501.00元" in p.message and "差-1.00元" in p.message, p.message


def test_rounding_note_printed_only_where_rounding_happened(tmp_path):
    layout = tmp_path / "l.yaml"
    text = (ROOT / "generator" / "layouts" / "hebei-2025.yaml").read_text(encoding="utf-8")
    layout.write_text(replace_once(text, "order: tables_first",
                                   "order: tables_first\nrounding_note: 注：本表金额四舍五入，合计与分项之和可能有尾差。"),
                      encoding="utf-8")
    result = run_text(DEPT_IN_YUAN, "dept.yaml", layout=str(layout))
    assert result.ok
    s = result.disclosure.schedules
    assert s[2].notes_after == ("注：本表金额四舍五入，合计与分项之和可能有尾差。",)
    assert s[8].notes_after == ()  # 三公: all zero, nothing rounded


# --------------------------------------------------------------------------- malformed layouts

BAD_LAYOUT = """\
key: bad
name: 有错的版式
unit: 美元
tables:
  - kind: summry
    title: 收支总表
  - kind: function
    title: 支出总表
    columns:
      - {label: 合计, funds: [alll]}
    colums: []
sections:
  - heading: "说明{部门名}"
    content: [dutties]
"""


def test_malformed_layout_gives_located_chinese_errors(tmp_path):
    layout = tmp_path / "bad.yaml"
    layout.write_text(BAD_LAYOUT, encoding="utf-8")
    dept = tmp_path / "dept.yaml"
    dept.write_text(replace_once(example_text("2025"), "edition: hebei-2025", "edition: bad.yaml"),
                    encoding="utf-8")
    result = run(dept)
    assert not result.ok and result.disclosure is None
    found = {(p.location.line, p.location.column): p.message for p in result.problems}
    assert all(p.location.file == str(layout) and p.rule == "版式" for p in result.problems)

    def at(needle: str) -> int:
        return line_of(BAD_LAYOUT, needle)
    assert "美元" in found[(at("unit: 美元"), 7)]
    assert "summry" in found[(at("kind: summry"), 5)] and "未知" in found[(at("kind: summry"), 5)]
    (alll,) = [m for (ln, _), m in found.items() if ln == at("alll")]
    assert "“alll”不是资金来源" in alll and "tables[2].columns[1].funds" in alll
    assert "未知的键“colums”" in found[(at("colums"), 5)]
    (field,) = [m for (ln, _), m in found.items() if ln == at("部门名")]
    assert "未知的占位符“{部门名}”" in field
    (block,) = [m for (ln, _), m in found.items() if ln == at("dutties")]
    assert "未知的内容块“dutties”" in block
    assert all(re.search(r"[\u4e00-\u9fff]", m) for m in found.values())
    result = invoke("layouts", "--check", layout)
    assert result.exit_code == 1 and f"{layout}:{at('unit: 美元')}:7: 错误 [版式]" in result.stdout


def test_layout_yaml_syntax_error_and_unknown_name_are_located(tmp_path):
    layout = tmp_path / "broken.yaml"
    layout.write_text("key: x\ntables:\n\t- kind: summary\n", encoding="utf-8")
    result = run(EXAMPLE_2025, layout=str(layout))
    assert not result.ok
    (p,) = result.problems
    assert p.location.file == str(layout) and p.location.line == 3 and "制表符" in p.message
    text = replace_once(example_text("2025"), "edition: hebei-2025", "edition: guangdong-2025")
    result = run_text(text, "dept.yaml")
    (p,) = [p for p in result.problems if p.rule == "版式"]
    assert p.location.line == line_of(text, "edition: guangdong-2025")
    assert "guangdong-2025" in p.message and "beijing-2025" in p.message
    missing = replace_once(example_text("2025"), "edition: hebei-2025", "edition: nowhere/x.yaml")
    (p,) = [p for p in run_text(missing, "dept.yaml").problems if p.rule == "版式"]
    assert "不存在" in p.message


# --------------------------------------------------------------------------- no layout in code

KEY_LITERAL = re.compile(r"""(==|!=|\bin\b)\s*[\(\[{]?\s*["'](hebei|beijing)""", re.I)


def test_no_code_knows_a_layout_by_name():
    names = re.compile("|".join(map(re.escape, builtin_keys() + ["hebei", "beijing", "河北", "北京"])),
                       re.I)
    for folder in ("generator/compute", "generator/render", "generator/validate", "templates"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".j2", ".css"):
                text = path.read_text(encoding="utf-8")
                assert not names.search(text), f"{path.relative_to(ROOT)} names a layout"
    for path in (ROOT / "generator").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not KEY_LITERAL.search(text), f"{path.relative_to(ROOT)} branches on a layout key"


def test_layout_decimals_set_the_printed_places(tmp_path):
    """A 元 layout printing whole 元: 1250 元 exactly, 2256.69万元 as 22566900; the workbook's
    number format agrees with the PDF."""
    openpyxl = pytest.importorskip("openpyxl")
    import io
    layout = _yuan_layout(tmp_path)
    layout.write_text(replace_once(layout.read_text(encoding="utf-8"), "decimals: 2", "decimals: 0"),
                      encoding="utf-8")
    result = run(EXAMPLE_2025, layout=str(layout))
    assert result.ok
    d = result.disclosure
    assert d.schedules[2].rows[0].cells[3] == D("22566900")
    html = render_html(d)
    assert ">22566900<" in html and "22566900.00" not in html
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(d)), data_only=True)  # totals' cached values
    ws = wb[d.schedules[2].sheet]
    cell = next(c for r in ws.iter_rows() for c in r if c.value == 22566900)
    assert cell.number_format == "0"
    text = " ".join(b.text for s in d.sections for b in s.blocks if isinstance(b, Paragraph))
    assert "支出预算22566900元" in text


def test_roll_keeps_the_unit_a_file_is_typed_in(tmp_path):
    src = tmp_path / "dept.yaml"
    src.write_text(DEPT_IN_YUAN, encoding="utf-8")
    out = tmp_path / "next.yaml"
    result = invoke("roll", src, "--to", "2026", "-o", out)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "basic: 1250.00" in text and "project: 1250.00" in text  # 元, as the file is typed
    assert run(out).ok


def test_new_starter_for_every_builtin_layout_checks_clean(tmp_path):
    for key in builtin_keys():
        path = tmp_path / f"{key}.yaml"
        assert invoke("new", "-o", path, "--edition", key, "--year", "2026").exit_code == 0
        result = run(path)
        assert result.ok and result.disclosure.edition == key, [str(p) for p in result.problems]


def test_purchased_services_cannot_exceed_their_source():
    text = example_text("2025") + """
purchased_services:
  - {name: 社区物业管理服务, category: 城市维护服务, amount: 12.50}
  - {name: 基金项目服务, category: 其他, amount: 1.00, source: gov_fund}
"""
    result = run_text(text, "dept.yaml")
    (p,) = [p for p in result.problems if p.rule == "购买服务-预算"]
    assert "政府性基金" in p.message and "1.00万元" in p.message and "0.00万元" in p.message
    assert p.location.line == line_of(text, "基金项目服务")


def test_layout_schema_validates_the_builtins_and_matches_committed(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    import json
    import yaml
    out = tmp_path / "layout.schema.json"
    assert invoke("layouts", "--schema", "-o", out).exit_code == 0
    assert out.read_bytes() == (ROOT / "schemas" / "layout.schema.json").read_bytes(), \
        "schemas/layout.schema.json 已过期：请运行 budgetgen layouts --schema -o schemas/layout.schema.json"
    validator = jsonschema.Draft202012Validator(json.loads(out.read_text(encoding="utf-8")))
    for key in builtin_keys():
        data = yaml.safe_load((ROOT / "generator" / "layouts" / f"{key}.yaml").read_text(encoding="utf-8"))
        assert list(validator.iter_errors(data)) == [], key
    assert list(validator.iter_errors(yaml.safe_load(BAD_LAYOUT)))


def test_hebei_2023_glossary_and_headings_fit_the_department(nanguan):
    """#16: the default glossary does not call a street office 省级; the two parts under 五 are
    （一）/（二）, not a second 第一部分/第二部分 inside 第二部分."""
    sections = {s.key: s for s in nanguan.disclosure.sections}
    glossary = " ".join(b.text for b in sections["glossary"].blocks)
    assert "省级" not in glossary and "本级财政当年拨付" in glossary and "各部门用财政拨款" in glossary
    heads = [b.text for b in sections["performance"].blocks if isinstance(b, Heading)]
    assert heads[0] == "（一）部门整体绩效目标" and "（二）预算项目绩效目标" in heads
    assert heads[1:4] == ["1、总体绩效目标", "2、分项绩效目标", "3、工作保障措施"]
    assert not any("第一部分" in h or "第二部分" in h for h in heads)


def test_units_follow_the_layout_and_say_danwei_yusuan():
    """--layout applies to the 所属单位 too; a unit's titles say 单位预算 where the layout says 部门预算."""
    result = run(ROOT / "inputs" / "730-shixian-nongye-2025.yaml", layout="beijing-2025")
    assert result.ok, [str(p) for p in result.problems]
    assert result.disclosure.title == "示例县农业农村局2025年度部门预算"
    unit = result.units[0].disclosure
    assert unit.title == "示例县农业技术推广站2025年度单位预算" and len(unit.schedules) == 14
    assert dict(unit.parts)["tables"] == "第二部分 2025年度单位预算报表"
    hebei = run(ROOT / "inputs" / "730-shixian-nongye-2025.yaml").units[0].disclosure
    assert hebei.schedules[0].title == "单位预算收支总表" and "第一部分 单位预算公开表" in dict(hebei.parts).values()


def test_new_without_edition_takes_the_layout_the_starter_file_names():
    """The default layout of `budgetgen new` is data (a line of the starter file), not code."""
    import re

    from generator.commands.starter import TEMPLATE, default_edition, starter_text
    named = re.search(r"^# budgetgen-default-edition: *(\S+)", TEMPLATE.read_text(encoding="utf-8"), re.M)
    assert named is not None and default_edition() == named.group(1) == "hebei-2025"
    text = starter_text(None, 2026)
    assert "budgetgen-default-edition" not in text
    assert re.search(r"^  edition: hebei-2025\b", text, re.M)
