"""Sentences as data: layout sentence templates (generator/sentences.py) — the tutorial layout of
docs/layouts.md reproduces its document's text, hostile layouts are refused with located errors,
every documented name works, and each sentence the program prints is conditioned on its facts."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from generator import sentences
from generator.compute.tables import Heading, Paragraph
from generator.compute.text import WORDING
from generator.layout import load_layout_file
from generator.pipeline import run
from generator.problems import Severity, has_errors

from conftest import ROOT, example_text, replace_once, run_variant

DOCS = (ROOT / "docs" / "layouts.md").read_text(encoding="utf-8")


def docs_block(name: str) -> str:
    """The fenced block after `<!-- tutorial: name -->` in docs/layouts.md."""
    m = re.search(rf"<!-- tutorial: {re.escape(name)} -->\n```[a-z]*\n(.*?)```", DOCS, re.S)
    assert m, f"docs/layouts.md has no block {name}"
    return m.group(1)


def text_lines(result) -> list[str]:
    out = []
    for s in result.disclosure.sections:
        out.append(s.heading)
        for b in s.blocks:
            if isinstance(b, Heading):
                out.append(b.text)
            elif isinstance(b, Paragraph):
                out.append(b.text)
    return out


def paragraphs(result) -> list[str]:
    return [b.text for s in result.disclosure.sections for b in s.blocks if isinstance(b, Paragraph)]


@pytest.fixture()
def tutorial(tmp_path):
    (tmp_path / "chongqing-tongliang-2025.yaml").write_text(docs_block("chongqing-tongliang-2025.yaml"),
                                                            encoding="utf-8")
    dept = tmp_path / "pingtan-2025.yaml"
    dept.write_text(docs_block("pingtan-2025.yaml"), encoding="utf-8")
    return dept


# ----------------------------------------------------------------------------- the tutorial

def test_the_tutorial_layout_reproduces_the_documented_text(tutorial):
    result = run(tutorial)
    assert not has_errors(result.problems), [str(p) for p in result.problems]
    assert text_lines(result) == docs_block("output").strip().split("\n")


def test_the_tutorial_text_states_the_figures_worked_out_by_hand(tutorial):
    text = paragraphs(run(tutorial))
    # income: every source listed, zeros as “0万元”; 3033.04 − (2100.00 + 699.15) = 233.89
    assert text[3] == ("2025年年初预算数3033.04万元，其中：一般公共预算拨款3033.04万元，政府性基金预算拨款0万元，"
                       "国有资本经营预算收入0万元，事业收入0万元，事业单位经营收入0万元，其他收入0万元。"
                       "收入较2024年增加233.89万元，主要是人员工资、津补贴、社保、公积金基数调整。")
    # per 类: 201 = 1600 + 233.04; shares of 3033.04: 1833.04 → 60.4357…%, 300 → 9.8910…%,
    # 100 → 3.2970…%, 600 → 19.7821…%, 200 → 6.5940…%
    assert "一般公共服务支出1833.04万元，占60.44%；社会保障和就业支出300万元，占9.89%；卫生健康支出100万元，" \
           "占3.30%；农林水支出600万元，占19.78%；住房保障支出200万元，占6.59%。" in text[4]
    assert text[5] == "本单位无政府性基金预算拨款安排的支出。"
    # 三公: 12 + 3 = 15 against 0 + 0 + 14 + 3 = 17 last year
    assert text[6].startswith("2025年“三公”经费预算数为15万元，较2024年减少2万元。其中：")
    assert "公务用车运行维护费12万元，较2024年减少2万元，主要原因是公务用车减少1辆，运行维护费相应减少；" in text[6]
    assert "公务接待费3万元，较2024年持平。" in text[6]


def test_the_tutorial_government_fund_sentence_follows_the_facts(tutorial):
    text = tutorial.read_text(encoding="utf-8").replace(
        "  - {code: 2210201, name: 住房公积金, basic: 200.00}\n",
        "  - {code: 2210201, name: 住房公积金, basic: 200.00}\n"
        "  - {code: 2120803, name: 城市建设支出, project: 45.50, source: gov_fund}\n")
    text = text.replace("  - {code: \"500151250000000002\"", "  - {code: \"500151250000000003\", name: 城市建设,"
                        " amount: 45.50, function_code: 2120803}\n  - {code: \"500151250000000002\"")
    tutorial.write_text(text, encoding="utf-8")
    result = run(tutorial)
    assert not has_errors(result.problems), [str(p) for p in result.problems]
    text = paragraphs(result)
    assert "政府性基金预算拨款45.5万元" in text[3]
    assert text[3].startswith("2025年年初预算数3078.54万元")
    assert text[5] == "2025年政府性基金预算拨款安排的支出45.5万元。"


def test_a_changed_three_public_item_without_a_reason_is_warned(tutorial):
    text = tutorial.read_text(encoding="utf-8").replace(
        "reception: {amount: 3.00}", "reception: {amount: 4.00}")
    tutorial.write_text(text, encoding="utf-8")
    result = run(tutorial)
    found = [p for p in result.problems if p.rule == "三公增减原因"]
    assert len(found) == 1 and found[0].severity is Severity.WARNING
    assert "公务接待费本年3.00万元，上年4.00万元，减少1.00万元" in found[0].message
    lines = text.split("\n")
    assert found[0].location.line == next(i for i, l in enumerate(lines, 1) if "reception: {amount: 4.00}" in l)
    assert "公务接待费3万元，较2024年减少1万元。" in paragraphs(result)[6]  # no reason: none invented


def test_prior_three_public_items_must_add_up_to_the_total_typed_beside_them(tutorial):
    text = tutorial.read_text(encoding="utf-8").replace("  project: 699.15", "  project: 699.15\n  three_public: 18.00")
    tutorial.write_text(text, encoding="utf-8")
    found = [p for p in run(tutorial).problems if p.rule == "三公逐项"]
    assert len(found) == 1 and found[0].severity is Severity.ERROR
    assert "应为18.00万元，实为17.00万元" in found[0].message


# ----------------------------------------------------------------------------- hostile layouts

BASE_LAYOUT = """key: hostile
name: 测试
tables:
  - {kind: economic, title: 基本支出表}
sections:
  - heading: 说明
    content:
      - template: |
          第一行没有问题{{ 部门 }}。
          {TEMPLATE}
"""


def load_with(tmp_path: Path, template: str):
    path = tmp_path / "hostile.yaml"
    path.write_text(BASE_LAYOUT.replace("{TEMPLATE}", template), encoding="utf-8")
    layout, problems = load_layout_file(path)
    return layout, problems


@pytest.mark.parametrize("template,needle,message", [
    ("{% include '/etc/passwd' %}", "include", "不能读文件"),
    ("{% import 'x.html' as x %}", "import", "不能读文件"),
    ("{% from 'x.html' import y %}", "from", "不能读文件"),
    ("{% extends '/etc/passwd' %}", "extends", "不能读文件"),
    ("{{ 部门.__class__.__mro__ }}", "__class__", "下划线"),
    ("{{ 资金.__class__ }}", "__class__", "下划线"),
    ("{{ ''.__class__ }}", "__class__", "下划线"),
    ("{{ 类列表[0]['__class__'] }}", "__class__", "下划线"),
    ("{{ 部门.upper() }}", "(", "调用函数"),
    ("{{ range(100000000)|length }}", "(", "调用函数"),
    ("{{ lipsum(100000) }}", "(", "调用函数"),
    ("{{ cycler(1) }}", "(", "调用函数"),
    ("{{ 部门|attr('__class__') }}", "attr", "未知的过滤器"),
    ("{{ 职责|map('upper')|list }}", "map", "未知的过滤器"),
    ("{{ 'x' * 1000000000 }}", "*", "只能对数字做算术"),
    ("{{ 10 ** 100000000 }}", "**", "乘方"),
    ("{% set x = 部门 %}", "set", "set"),
    ("{% macro m() %}{% endmacro %}", "macro", "macro"),
    ("{% for a in 项列表 %}{% for b in 项列表 %}{% for c in 项列表 %}{% endfor %}{% endfor %}{% endfor %}",
     "for c", "循环最多嵌套2层"),
    ("{% for a in 项列表 recursive %}{{ loop(a) }}{% endfor %}", "recursive", "递归"),
    ("{{ 部门名称 }}", "部门名称", "未知的名称“部门名称”"),
    ("{% for c in 类列表 %}{{ c.金钱 }}{% endfor %}", "金钱", "“科目”没有“金钱”"),
    ("{{ 三公.meals.金额 }}", "meals", "“三公”没有“meals”"),
    ("{{ c.名称 }}", "c.名称", "未知的名称“c”"),
    ("{% for c in 部门 %}{% endfor %}", "for", "只能对列表循环"),
    ("{{ '合计' ~ 收入合计 }}", "~", "|金额"),
    ("{{ 类列表 }}", "", "不能直接印出列表"),
    ("{{ 资金 }}", "", "不能直接印出记录"),
    ("{% if 收入合计 %}没有结束", "", "模板不完整"),
    ("{% while true %}{% endwhile %}", "", "未知的标签“while”"),
])
def test_a_hostile_or_mistaken_template_is_refused_at_its_line_and_column(tmp_path, template, needle, message):
    layout, problems = load_with(tmp_path, template)
    assert layout is None
    assert len(problems) == 1, [str(p) for p in problems]
    p = problems[0]
    assert p.rule == "版式" and message in p.message, p.message
    assert p.location.file.endswith("hostile.yaml")
    assert p.location.line == 10  # the template's second line, in the file
    if needle:
        line = BASE_LAYOUT.replace("{TEMPLATE}", template).split("\n")[9]
        assert p.location.column == line.index(needle) + 1, (p.location, line)
    assert re.search(r"[\u4e00-\u9fff]", p.message) and "Traceback" not in p.message


def test_a_quoted_one_line_template_is_located_along_its_line(tmp_path):
    path = tmp_path / "l.yaml"
    path.write_text(BASE_LAYOUT.replace("      - template: |\n          第一行没有问题{{ 部门 }}。\n          {TEMPLATE}\n",
                                        '      - template: "{{ 部门 }}{{ 单价 }}"\n'), encoding="utf-8")
    _, problems = load_layout_file(path)
    line = path.read_text(encoding="utf-8").split("\n")[7]
    assert [(p.location.line, p.location.column) for p in problems] == [(8, line.index("单价") + 1)]
    assert "未知的名称“单价”" in problems[0].message


def test_a_block_template_is_checked_with_the_block_and_located(tmp_path):
    path = tmp_path / "l.yaml"
    path.write_text(BASE_LAYOUT.replace("      - template: |\n          第一行没有问题{{ 部门 }}。\n          {TEMPLATE}\n",
                                        "      - {block: duties, template: \"{{ 部门 }}\"}\n"
                                        "      - {block: assets, template: \"{{ 附表 }}{{ 附件 }}\"}\n"
                                        "      - {block: three_public, template: \"{{ 附表 }}\"}\n"), encoding="utf-8")
    _, problems = load_layout_file(path)
    messages = [(p.location.line, p.message) for p in problems]
    assert len(messages) == 3
    assert messages[0][0] == 8 and "内容块“duties”的文字不能用 template 改写" in messages[0][1]
    assert messages[1][0] == 9 and "未知的名称“附件”" in messages[1][1]  # 附表 is the assets block's own
    assert messages[2][0] == 10 and "未知的名称“附表”" in messages[2][1]


def test_loops_and_output_are_bounded_when_the_template_runs():
    many = [{"名称": str(i), "金额": Decimal(i)} for i in range(600)]
    nested = sentences.check("{% for a in 项列表 %}{% for b in 项列表 %}{% endfor %}{% endfor %}")
    with pytest.raises(sentences.TemplateProblem, match="循环次数过多"):
        sentences.render(nested, {"项列表": many}, str)
    wide = sentences.check("{% for a in 项列表 %}{% for b in 项列表 %}" + "很长的一句话" * 20
                           + "{% endfor %}{% endfor %}")
    with pytest.raises(sentences.TemplateProblem, match="文字太长"):
        sentences.render(wide, {"项列表": many[:400]}, str)


def test_a_join_cannot_multiply_text_beyond_the_output_bound():
    nested = sentences.check("{{ 职责|join(职责|join(职责|join(''))) }}")
    duties = ["很长的一段职责" * 100] * 200
    with pytest.raises(sentences.TemplateProblem, match="join"):
        sentences.render(nested, {"职责": duties}, str)


def test_the_sandbox_refuses_what_the_checker_would_even_if_a_template_slipped_past_it():
    for source in ("{{ x.__class__.__mro__ }}", "{{ x.__init__.__globals__ }}"):
        raw = sentences.Checked(source, 0, sentences.ENV.from_string(source))
        with pytest.raises(sentences.TemplateProblem):
            sentences.render(raw, {"x": "文字"}, str)
    raw = sentences.Checked("{{ 'a' * 9 }}", 0, sentences.ENV.from_string("{{ 'a' * 9 }}"))
    with pytest.raises(sentences.TemplateProblem, match="只能对数字做算术"):
        sentences.render(raw, {}, str)
    assert sentences.ENV.loader is None and not sentences.ENV.globals


def test_printing_an_empty_value_is_a_located_problem_not_an_empty_string(tmp_path):
    layout = tmp_path / "l.yaml"
    layout.write_text(BASE_LAYOUT.replace("{TEMPLATE}", "较上年{{ 比上年.支出合计|增减 }}"), encoding="utf-8")
    dept = example_text("2025")
    dept = dept[:dept.index("prior_year:")] + dept[dept.index("# glossary"):]  # no prior year
    dept = replace_once(dept, "edition: hebei-2025", f"edition: {layout}")
    result = run_variant(dept)
    found = [p for p in result.problems if p.rule == "版式"]
    assert len(found) == 1 and "增减：值为空（没有上年数）" in found[0].message
    assert found[0].location.file == str(layout) and found[0].location.line == 8
    assert has_errors(result.problems)


# ----------------------------------------------------------------------------- the reference

def test_every_documented_name_example_filter_and_wording_is_in_the_docs_and_checks():
    for name, entry in sentences.CONTEXT.items():
        row = f"| `{name}` |"
        assert row in DOCS, f"docs/layouts.md does not document {name}"
        assert name in entry.example
        sentences.check(entry.example)  # every example is a valid template
        assert entry.example.replace("|", "\\|") in DOCS
    for block, names in sentences.BLOCK_NAMES.items():
        for name, entry in names.items():
            assert f"| `{name}` |" in DOCS
            sentences.check(entry.example, block)
    for name, (_, example) in sentences.FILTERS_DOC.items():
        assert f"| `{name}` |" in DOCS
        sentences.check(example)
    for block, wording in WORDING.items():
        assert f"`{block}`：\n\n```\n{wording}\n```" in DOCS, f"the default wording of {block} is not in the docs"
    names = DOCS[DOCS.index("#### 名称"):DOCS.index("#### 记录的字段")]
    documented = set(re.findall(r"^\| `([^`]+)` \|", names, re.M))
    assert documented == set(sentences.CONTEXT) | {n for b in sentences.BLOCK_NAMES.values() for n in b}


def test_the_table_kinds_of_the_context_are_the_layouts():
    from generator.layout import TABLE_KINDS
    assert sentences.TABLE_KINDS == tuple(TABLE_KINDS)


def test_the_context_holds_plain_values_only_and_every_documented_name(xigang):
    from generator.compute.context import Ctx
    from generator.compute.figures import compute_figures
    from generator.compute.sentences import build_context
    from generator.catalog import load_catalog as catalog_for_year
    from generator.layout import builtin
    budget = xigang.budget
    catalog = catalog_for_year(budget.department.year)
    ctx = Ctx(budget, catalog, builtin("hebei-2025"), compute_figures(budget, catalog))
    context = build_context(ctx)
    assert set(context) == set(sentences.CONTEXT)

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, (str, int, bool, Decimal))
    assert plain(context)

    def fields_match(value, kind):
        if isinstance(kind, sentences.Lst):
            return all(fields_match(v, kind.item) for v in value)
        if isinstance(kind, sentences.Rec):
            return set(value) == set(kind.fields) and all(
                fields_match(value[k], t) for k, (t, _) in kind.fields.items())
        return True
    for name, entry in sentences.CONTEXT.items():
        assert fields_match(context[name], entry.type), name
    assert context["有表"]["procurement"] and not context["有表"]["services"]
    assert context["表名"]["three_public"] == "部门预算财政拨款“三公”经费支出表"  # hebei-2025's title
    assert context["表名"]["services"] == ""
    assert context["三公"]["meeting"]["名称"] == "会议费" and context["三公"]["meeting"] not in context["三公列表"]


# ----------------------------------------------------------------------------- only true sentences

def joined(result) -> str:
    return "\n".join(paragraphs(result))


def test_no_projects_prints_no_zero_project_sentence_under_beijing():
    text = example_text("2025")
    start, end = text.index("\nprojects:"), text.index("\nperformance:")
    text = text[:start] + "\n" + text[end:]
    text = re.sub(r"project: [0-9.]+", "project: 0", text)
    text = replace_once(text, "edition: hebei-2025", "edition: beijing-2025")
    result = run_variant(text)
    body = joined(result)
    assert "0个项目" not in body and "涉及项目支出0.00万元" not in body
    assert "无项目支出，未设置项目绩效目标" in body
    with_projects = joined(run_variant(replace_once(example_text("2025"), "edition: hebei-2025",
                                                    "edition: beijing-2025")))
    assert re.search(r"\d+个项目全部设置了绩效目标，涉及项目支出\d+\.\d\d万元", with_projects)


def test_a_file_without_units_never_says_it_includes_them(xigang):
    body = joined(xigang)
    assert "（含所属单位）" not in body  # 524 is one unit: its 本级
    assert "秦皇岛市海港区人民政府西港路街道办事处上年末固定资产金额为501.43万元" in body
    text = replace_once(example_text("2025"), "  name: 秦皇岛市海港区人民政府西港路街道办事处\n",
                        "  name: 秦皇岛市海港区人民政府西港路街道办事处（本级）\n")
    assert "（本级）（含所属单位）" not in joined(run_variant(text))
    consolidated = run(ROOT / "inputs" / "730-shixian-nongye-2025.yaml")
    assert "示例县农业农村局（含所属单位）上年末固定资产金额为" in joined(consolidated)


def test_no_planned_purchase_never_says_it_is_in_the_procurement_budget(xigang):
    body = joined(xigang)
    assert "已按要求列入政府采购预算" not in body and "本年度未安排购置固定资产。" in body
    text = replace_once(example_text("2025"), "  planned_purchase: 0", "  planned_purchase: 12.50") \
        if "  planned_purchase: 0" in example_text("2025") else example_text("2025").replace(
            "assets:\n", "assets:\n  planned_purchase: 12.50\n", 1)
    body = joined(run_variant(text))
    assert "本年度拟购置固定资产总额为12.50万元，已按要求列入政府采购预算" in body


def test_no_assets_says_so():
    text = example_text("2025")
    start = text.index("\nassets:")
    end = text.index("\nprior_year:")
    result = run_variant(text[:start] + "\n" + text[end:])
    assert "秦皇岛市海港区人民政府西港路街道办事处无固定资产信息。" in joined(result)


# ----------------------------------------------------------------------------- other layout choices

def test_text_amounts_change_the_text_not_the_tables(tmp_path, xigang):
    layout = (ROOT / "generator" / "layouts" / "hebei-2025.yaml").read_text(encoding="utf-8")
    layout = layout.replace("key: hebei-2025", "key: hebei-zero", 1) + "\ntext_amounts: {zero: \"0\"}\n"
    path = tmp_path / "zero.yaml"
    path.write_text(layout, encoding="utf-8")
    result = run_variant(replace_once(example_text("2025"), "edition: hebei-2025", f"edition: {path}"))
    assert "基金预算收入0万元" in joined(result) and "基金预算收入0.00万元" in joined(xigang)
    assert [t.rows for t in result.disclosure.schedules] == [t.rows for t in xigang.disclosure.schedules]


def test_a_block_wording_and_performance_headings_are_replaced_from_the_layout(tmp_path):
    layout = (ROOT / "generator" / "layouts" / "hebei-2025.yaml").read_text(encoding="utf-8")
    assert layout.count("[three_public]") == 1
    layout = layout.replace("[three_public]", "[{block: three_public, template: \"“三公”共{{ 三公经费 }}{{ 单位 }}"
                            "{% if 三公.overseas.金额 == 0 %}，不安排出国经费{% endif %}。\"}]")
    path = tmp_path / "w.yaml"
    path.write_text(layout, encoding="utf-8")
    result = run_variant(replace_once(example_text("2025"), "edition: hebei-2025", f"edition: {path}"))
    assert not has_errors(result.problems), [str(p) for p in result.problems]
    assert "“三公”共2.48万元，不安排出国经费。" in joined(result)


def test_the_composition_block_lists_units_and_staff():
    text = example_text("2025").replace("\nexpenditure:", "\ncomposition:\n  units:\n"
                                        "    - {name: 街道办事处本级, nature: 行政单位, staff: 40}\n"
                                        "    - {name: 街道综合服务中心, nature: 事业单位, staff: 12}\n"
                                        "\nexpenditure:", 1)
    layout_text = (ROOT / "generator" / "layouts" / "hebei-2025.yaml").read_text(encoding="utf-8")
    assert "[duties]" in layout_text or "duties" in layout_text
    from generator.compute import compute
    from generator.catalog import load_catalog as catalog_for_year
    from generator.layout import builtin
    result = run_variant(text)
    base = builtin("hebei-2025")
    first = base.sections[0].model_copy(update={"content": ["composition"]})
    layout = base.model_copy(update={"sections": [first, *base.sections[1:]]})
    disclosure, _ = compute(result.budget, catalog_for_year(2025), layout)
    body = [b.text for b in disclosure.sections[0].blocks if isinstance(b, Paragraph)]
    assert body == ["秦皇岛市海港区人民政府西港路街道办事处部门预算由以下2个单位的预算组成：街道办事处本级（行政单位，"
                    "编制40人）、街道综合服务中心（事业单位，编制12人）。"]


def test_performance_headings_and_unit_wording_apply_to_templates(tmp_path):
    layout = (ROOT / "generator" / "layouts" / "hebei-2025.yaml").read_text(encoding="utf-8")
    assert layout.count("[three_public]") == 1
    layout = layout.replace("[three_public]", "[{block: three_public, template: \"我部门“三公”经费{{ 三公经费 }}{{ 单位 }}。\"}]")
    layout = re.sub(r"- \{block: performance([^}]*)\}", r"- {block: performance\1, headings: [年度目标, 分项目标, 保障措施]}",
                    layout, count=1) if "{block: performance" in layout else layout.replace(
        "[performance]", "[{block: performance, headings: [年度目标, 分项目标, 保障措施]}]", 1)
    path = tmp_path / "w.yaml"
    path.write_text(layout, encoding="utf-8")
    text = replace_once(example_text("2025"), "edition: hebei-2025", f"edition: {path}")
    result = run_variant(text)
    headings = [b.text for s in result.disclosure.sections for b in s.blocks if isinstance(b, Heading)]
    assert any(h.endswith("年度目标") for h in headings) and any(h.endswith("保障措施") for h in headings)
    assert not any(h.endswith("总体绩效目标") for h in headings)
    assert "我部门“三公”经费2.48万元。" in joined(result)
    unit = run_variant(replace_once(text, "  year: 2025\n", "  year: 2025\n  kind: unit\n"))
    assert "我单位“三公”经费2.48万元。" in joined(unit)  # the layout's unit_wording, outside {{ }}


def test_jinja_in_a_find_and_replace_text_points_to_template(tmp_path):
    path = tmp_path / "l.yaml"
    path.write_text(BASE_LAYOUT.replace("      - template: |\n          第一行没有问题{{ 部门 }}。\n          {TEMPLATE}\n",
                                        '      - text: "{% if 项目个数 %}有项目{% endif %}"\n'), encoding="utf-8")
    _, problems = load_layout_file(path)
    assert len(problems) == 1 and problems[0].location.line == 8
    assert "请写成内容项 {template: …}" in problems[0].message
