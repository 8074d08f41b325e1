"""The clerk's and the bureau's workflow through the command line: check, render (one file and a
batch), new, roll, schema; every command documented and helped in Chinese."""
from __future__ import annotations

import json
import multiprocessing
import os
import re
from pathlib import Path

import jsonschema
import pytest
import typer.main
import yaml
from typer.testing import CliRunner

from conftest import EXAMPLE_2023, EXAMPLE_2025, ROOT, example_text, line_of, replace_once
from generator.commands import batch
from generator.commands.cli import app
from generator.compute.tables import Paragraph
from generator.commands.exitcodes import Exit
from generator.commands.jobs import Outcome
from generator.pipeline import run
from generator.render.output import output_stem

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def command_names() -> list[str]:
    return sorted(typer.main.get_command(app).commands)


def fast_format() -> str:
    """The quickest renderer."""
    return "xlsx"


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# --------------------------------------------------------------------------- check


def test_check_both_examples_passes():
    result = invoke("check", EXAMPLE_2025, EXAMPLE_2023)
    assert result.exit_code == 0, result.output
    assert f"{EXAMPLE_2025}：检查通过" in result.stdout
    assert f"{EXAMPLE_2023}：检查通过" in result.stdout


def test_check_one_cent_off_is_an_error_located_in_the_file(tmp_path):
    text = example_text("2025")
    bad = replace_once(text, "name: 行政运行, basic: 1505.72}", "name: 行政运行, basic: 1505.73}")
    path = tmp_path / "dept.yaml"
    path.write_text(bad, encoding="utf-8")
    result = invoke("check", path)
    assert result.exit_code == 1, result.output
    out = result.stdout
    found = re.findall(rf"^{re.escape(str(path))}:(\d+):(\d+): 错误 \[基本支出-经济分类\] (.*)$", out, re.M)
    assert len(found) == 1, out
    line, _, message = found[0]
    # The rule compares two totals (by function and by economic class); either side may hold the
    # wrong figure: it points at the economic-class list, the one the message names.
    assert int(line) == line_of(bad, "basic_economic:"), out
    assert "1822.70万元" in message and "1822.69万元" in message and "0.01万元" in message
    # the declared 批复控制数 name their own lines exactly
    total = line_of(bad, "total: 2256.69", after="control_totals:")
    basic = line_of(bad, "basic: 1822.69", after="control_totals:")
    assert re.search(rf"^{re.escape(str(path))}:{total}:\d+: 错误 \[控制数\] 支出总计", out, re.M), out
    assert re.search(rf"^{re.escape(str(path))}:{basic}:\d+: 错误 \[控制数\] 基本支出", out, re.M), out
    assert f"{path}：发现3个错误" in out


def test_check_unreadable_file_exits_3(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("department:\n  code: [524\n  name: 某部门\n", encoding="utf-8")
    result = invoke("check", path)
    assert result.exit_code == Exit.UNREADABLE == 3, result.output
    assert re.search(rf"^{re.escape(str(path))}:\d+:\d+: 错误 \[YAML语法\]", result.stdout, re.M)
    assert "文件无法读取" in result.stdout


def test_check_missing_file_exits_3(tmp_path):
    result = invoke("check", tmp_path / "nope.yaml")
    assert result.exit_code == 3
    assert "无法读取文件" in result.stdout


# --------------------------------------------------------------------------- render, batch


def _three_files(tmp_path: Path) -> tuple[list[Path], Path]:
    bad = tmp_path / "bad.yaml"
    bad.write_text(replace_once(example_text("2025"), "basic: 1505.72}", "basic: 1505.73}"),
                   encoding="utf-8")
    return [EXAMPLE_2025, bad, EXAMPLE_2023], bad


def _stem(path: Path) -> str:
    d = run(path).disclosure
    return output_stem(d.department_code, d.department_name, d.year)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_batch_render_one_bad_file_does_not_stop_the_others(tmp_path, jobs):
    fmt = fast_format()
    files, bad = _three_files(tmp_path)
    out = tmp_path / "out"
    result = invoke("render", *files, "-o", out, "--format", fmt, "-j", jobs)
    assert result.exit_code == 1, result.output
    for good in (EXAMPLE_2025, EXAMPLE_2023):
        target = out / _stem(good) / f"{_stem(good)}.{fmt}"  # one folder per department
        assert target.is_file() and target.stat().st_size > 1000, result.output
    assert sorted(p.name for p in out.iterdir() if p.name != ".budgetgen") == sorted(_stem(g) for g in (EXAMPLE_2025, EXAMPLE_2023))
    text = result.stdout
    # the bad file's problems, located, then the summary table listing all three files
    assert re.search(rf"^{re.escape(str(bad))}:\d+:\d+: 错误 \[基本支出-经济分类\]", text, re.M), text
    table = text[text.index("文件"):]
    header = table.splitlines()[0]
    assert all(col in header for col in ("文件", "状态", "页数", "用时(秒)"))
    rows = {str(f): next(line for line in table.splitlines() if line.startswith(str(f))) for f in files}
    assert "通过" in rows[str(EXAMPLE_2025)] and "通过" in rows[str(EXAMPLE_2023)]
    assert "有错误" in rows[str(bad)]
    assert "共3个文件：通过2个，有错误1个" in text
    # progress: one line per file on stderr when it is not a terminal
    assert len(re.findall(r"^\[\d/3\] ", result.stderr, re.M)) == 3


def test_batch_unreadable_file_gives_exit_3_and_is_listed(tmp_path):
    fmt = fast_format()
    broken = tmp_path / "broken.yaml"
    broken.write_text("department: [\n", encoding="utf-8")
    result = invoke("render", EXAMPLE_2023, broken, "-o", tmp_path / "out", "-f", fmt, "-j", "2")
    assert result.exit_code == 3, result.output
    assert re.search(rf"^{re.escape(str(broken))}\s+无法读取", result.stdout, re.M), result.stdout


def _stub_work(path, out_dir, formats, timeout=None):
    """A worker that renders nothing; 'die.yaml' kills its process, 'bug.yaml' raises."""
    name = os.path.basename(path)
    if name == "die.yaml":
        os._exit(3)
    if name == "bug.yaml":
        raise RuntimeError("boom")
    return Outcome(path, "ok", 0.01, pages=7, outputs=[os.path.join(out_dir, name + ".x")])


def test_batch_a_dying_worker_only_fails_its_own_file(monkeypatch, capsys):
    if multiprocessing.get_start_method(allow_none=True) not in (None, "fork") or \
            batch.default_start_method() != "fork":
        pytest.skip("the stub worker reaches the pool only through fork")
    monkeypatch.setattr(batch, "_work", _stub_work)
    files = [f"/x/{n}.yaml" for n in ("a", "b", "die", "c", "bug", "d")]
    outcomes = batch.render_batch(files, "/tmp/none", ("pdf",), 2)
    assert [o.status for o in outcomes] == ["ok", "ok", "crash", "ok", "crash", "ok"]
    assert "进程意外退出" in outcomes[2].problems[0].message
    assert "RuntimeError: boom" in outcomes[4].problems[0].message
    out = capsys.readouterr().out
    assert "内部错误" in out and "共6个文件：通过4个，内部错误2个" in out


def test_batch_in_process_survives_an_exception(monkeypatch, capsys):
    monkeypatch.setattr(batch, "_work", _stub_work)
    outcomes = batch.render_batch(["/x/a.yaml", "/x/bug.yaml", "/x/c.yaml"], "/tmp/none", ("pdf",), 1)
    assert [o.status for o in outcomes] == ["ok", "crash", "ok"]
    assert "RuntimeError: boom" in outcomes[1].problems[0].message
    assert "Traceback" in outcomes[1].detail and "boom" in outcomes[1].detail  # for --debug
    out = capsys.readouterr().out
    assert re.search(r"^/x/a\.yaml\s+通过\s+7\s+0\.01$", out, re.M), out  # the pages column
    assert re.search(r"^/x/bug\.yaml\s+内部错误\s+-\s+\d+\.\d\d$", out, re.M), out
    # the summary lists every output written
    assert "已生成：\n  /tmp/none/a.yaml.x\n  /tmp/none/c.yaml.x\n" in out


def test_summary_table_aligns_chinese_text():
    rows = [Outcome("甲.yaml", "ok", 1.5, 12), Outcome("a-much-longer-name.yaml", "error", 0.25)]
    lines = batch.summary_table(rows).splitlines()
    widths = {batch._cells(line.rstrip()) for line in lines[2:]}
    assert len(widths) == 1, lines  # the last column is right-aligned: rows end together
    assert lines[0].split() == ["文件", "状态", "页数", "用时(秒)"]


def test_render_single_file(tmp_path):
    fmt = fast_format()
    result = invoke("render", EXAMPLE_2023, "-o", tmp_path, "-f", fmt)
    assert result.exit_code == 0, result.output
    assert (tmp_path / _stem(EXAMPLE_2023) / f"{_stem(EXAMPLE_2023)}.{fmt}").is_file()
    assert "已生成" in result.stdout


def test_render_rejects_unknown_format(tmp_path):
    result = invoke("render", EXAMPLE_2023, "-o", tmp_path, "-f", "docx")
    assert result.exit_code == 2
    assert "格式只能是" in result.output


# --------------------------------------------------------------------------- new


PLACEHOLDERS = {"部门全称": "秦皇岛市某某区某某街道办事处", "部门编码": "901", "单位名称": "某某街道办事处本级",
                "项目名称": "社区工作经费", "资金用途": "保障社区日常运转"}


@pytest.mark.parametrize("edition", ["hebei-2025", "hebei-2023"])
def test_new_then_fill_then_check(tmp_path, edition):
    path = tmp_path / "dept.yaml"
    result = invoke("new", "-o", path, "--edition", edition, "--year", "2026")
    assert result.exit_code == 0, result.output
    assert f"budgetgen check {path}" in result.stdout
    text = path.read_text(encoding="utf-8")
    assert f"edition: {edition}" in text and "year: 2026" in text and "as_of: 2025-12-31" in text
    assert invoke("check", path).exit_code == 0  # as written
    for old, new in PLACEHOLDERS.items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    result = invoke("check", path)
    assert result.exit_code == 0, result.output
    d = run(path).disclosure
    assert d.department_name == PLACEHOLDERS["部门全称"] and d.year == 2026
    assert d.figures["total"] == 110 and d.figures["personnel"] == 90 and d.figures["public"] == 10


def test_new_covers_every_section_of_the_input_format():
    from generator.commands.starter import starter_text
    doc = (ROOT / "docs" / "input-format.md").read_text(encoding="utf-8")
    block = doc[doc.index("```yaml"):]
    block = block[:block.index("```", 3)]
    sections = re.findall(r"^([a-z_]+):", block, re.M)
    assert len(sections) >= 15
    text = starter_text("hebei-2025", 2026)
    missing = [s for s in sections if not re.search(rf"^(# )?{s}:", text, re.M)]
    assert missing == [], f"starter.yaml 缺少这些节：{missing}"


def test_new_refuses_unknown_edition_and_existing_file(tmp_path):
    result = invoke("new", "-o", tmp_path / "a.yaml", "--edition", "hebei-2019")
    assert result.exit_code == Exit.USAGE  # a usage error
    assert "未知的版式“hebei-2019”" in result.output
    assert not (tmp_path / "a.yaml").exists()
    result = invoke("new", "-o", tmp_path / "a.yaml", "--year", "1999")
    assert result.exit_code == Exit.USAGE and "预算年度“1999”无效" in result.output
    path = tmp_path / "b.yaml"
    path.write_text("x", encoding="utf-8")
    result = invoke("new", "-o", path)
    assert result.exit_code == Exit.OUTPUT_FAILED and "已存在" in result.output
    assert path.read_text(encoding="utf-8") == "x"
    assert invoke("new", "-o", path, "--force").exit_code == 0


def test_starter_placeholders_are_filled_by_plain_replacement():
    from generator.commands.starter import starter_text
    text = starter_text("hebei-2023", 2031)
    assert "{year}" not in text and "{prior_year}" not in text and "{edition}" not in text
    assert "资金支付时间, 2031年12月底" in text and "year: 2030" in text
    with pytest.raises(ValueError, match="未知的版式"):
        starter_text("guangdong-2025", 2026)


# --------------------------------------------------------------------------- roll


def _comment_lines(text: str, skip_blocks=("prior_year:", "control_totals:")) -> list[str]:
    """Lines of the file that carry a comment, outside the blocks roll replaces."""
    out, skipping = [], False
    for line in text.splitlines():
        if re.match(r"^[a-z_]+:", line):
            skipping = line.startswith(skip_blocks)
        if skipping and not line.startswith("#"):
            continue
        if "#" in line:
            out.append(line)
    return out


def test_roll_2025_to_2026(tmp_path):
    draft = tmp_path / "dept-2026.yaml"
    result = invoke("roll", EXAMPLE_2025, "--to", "2026", "-o", draft)
    assert result.exit_code == 0, result.output
    assert "待复核" in result.stdout
    assert invoke("check", draft).exit_code == 0
    text = draft.read_text(encoding="utf-8")
    original = example_text("2025")

    checked = run(draft)
    assert checked.ok, [str(p) for p in checked.problems]
    b = checked.budget
    assert b.department.year == 2026
    p = b.prior_year
    assert (p.year, str(p.basic), str(p.project), str(p.three_public)) == (2025, "1822.69", "434.00", "2.48")
    assert "prior_year:\n  year: 2025\n  basic: 1822.69\n  project: 434.00\n  three_public: 2.48\n" in text
    assert "待复核：请填写增减原因" in text
    assert b.control_totals.total is None and "# control_totals:" in text
    assert b.assets.as_of == "2025-12-31"
    assert "2025年12月底" not in text.split("projects:")[1].split("performance:")[0]
    assert text.count("2026年12月底") == original.count("2025年12月底") == 9
    # amounts keep their text exactly, comments survive
    for line in ("  - {code: 2010301, name: 行政运行, basic: 1505.72}",
                 "    plan: [null, null, null, 13.53]   # 种子印为 39.00/50.00/76.00/139.00（两个RY项目合计的计划），超过预算数13.53；种子只支持12月底=预算数13.53，3/6/10月底不得而知，留空",
                 "  - {code: 30199, name: 其他工资福利支出, amount: 810.49}"):
        assert line in text.splitlines()
    lines = set(text.splitlines())
    lost = [c for c in _comment_lines(original) if c not in lines]
    assert lost == [], lost
    for key in ("duties", "projects", "performance", "special_funds"):
        before = text.splitlines()[line_of(text, f"{key}:") - 2]
        assert before.startswith("# 待复核："), (key, before)

    # next year's figures: 行政运行 +10.00 (and 30199 +10.00, so both views of 基本支出 agree)
    raised = replace_once(text, "name: 行政运行, basic: 1505.72}", "name: 行政运行, basic: 1515.72}")
    raised = replace_once(raised, "name: 其他工资福利支出, amount: 810.49}", "name: 其他工资福利支出, amount: 820.49}")
    draft.write_text(raised, encoding="utf-8")
    assert invoke("check", draft).exit_code == 0
    sections = run(draft).disclosure.sections
    paragraph = next(block.text for s in sections for block in s.blocks
                     if isinstance(block, Paragraph) and block.text.startswith("2026年预算收支安排"))
    assert "2026年预算收支安排2266.69万元" in paragraph
    assert "较2025年预算增加10.00万元" in paragraph
    assert "基本支出增加10.00万元" in paragraph
    assert "项目支出持平" in paragraph


def test_roll_2023_example_keeps_trailing_comments(tmp_path):
    draft = tmp_path / "d.yaml"
    assert invoke("roll", EXAMPLE_2023, "--to", "2024", "-o", draft).exit_code == 0
    text = draft.read_text(encoding="utf-8")
    assert "# control_totals: 省略（种子所印合计有误）。" in text
    assert "# 种子印资产总额 131.19" in text
    p = run(draft).budget.prior_year
    assert (str(p.basic), str(p.project), str(p.three_public)) == ("463.24", "359.20", "1.05")
    assert invoke("check", draft).exit_code == 0


def test_roll_without_prior_year_crlf_and_quoted_year(tmp_path):
    from generator.commands.starter import starter_text
    text = starter_text("hebei-2025", 2026)
    start = text.index("# 上年预算数")
    end = text.index("# 以下各节可省略")
    text = text[:start] + text[end:]  # no prior_year
    text = text.replace("year: 2026 ", 'year: "2026"').replace("\n", "\r\n")
    for old, new in PLACEHOLDERS.items():
        text = text.replace(old, new)
    src = tmp_path / "a.yaml"
    src.write_bytes(text.encode("utf-8"))
    assert invoke("check", src).exit_code == 0
    out = tmp_path / "b.yaml"
    result = invoke("roll", src, "--to", "2027", "-o", out)
    assert result.exit_code == 0, result.output
    raw = out.read_bytes().decode("utf-8")
    assert "\n" not in raw.replace("\r\n", "")  # line endings kept
    assert 'year: "2027"' in raw
    b = run(out).budget
    assert b.department.year == 2027 and b.prior_year.year == 2026
    assert (str(b.prior_year.basic), str(b.prior_year.project)) == ("100.00", "10.00")
    assert raw.index("prior_year:") > raw.index("assets:")


def test_roll_refuses(tmp_path):
    out = tmp_path / "d.yaml"
    result = invoke("roll", EXAMPLE_2025, "--to", "2025", "-o", out)
    assert result.exit_code == 1
    assert "下一预算年度应晚于本文件的预算年度2025年" in result.stdout
    assert not out.exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text(replace_once(example_text("2025"), "basic: 1505.72}", "basic: 1505.73}"), encoding="utf-8")
    result = invoke("roll", bad, "--to", "2026", "-o", out)
    assert result.exit_code == 1
    assert "基本支出-经济分类" in result.stdout and "未生成下年草稿" in result.stdout
    assert not out.exists()


# --------------------------------------------------------------------------- schema


def test_schema_command_writes_the_committed_schema(tmp_path):
    out = tmp_path / "budget.schema.json"
    result = invoke("schema", "-o", out)
    assert result.exit_code == 0, result.output
    committed = ROOT / "schemas" / "budget.schema.json"
    assert out.read_bytes() == committed.read_bytes(), \
        "schemas/budget.schema.json 已过期：请运行 python3 -m generator schema -o schemas/budget.schema.json"
    assert invoke("schema").stdout == out.read_text(encoding="utf-8")
    schema = json.loads(out.read_text(encoding="utf-8"))
    bad = yaml.safe_load("department: {code: '1', name: x, year: 2025, edition: hebei-2025}\nexpenditre: []\n")
    assert "expenditre" in str(next(jsonschema.Draft202012Validator(schema).iter_errors(bad)).message)


# --------------------------------------------------------------------------- docs and help


def test_every_command_is_documented_in_readme():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in command_names() if not re.search(rf"^budgetgen {c}\b", text, re.M)]
    assert missing == [], f"README.md 中没有这些命令的示例行（budgetgen <命令> …）：{missing}"


@pytest.mark.parametrize("command", [None] + command_names())
def test_help_is_chinese(command):
    args = ["--help"] if command is None else [command, "--help"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert has_cjk(result.stdout)
    cmd = typer.main.get_command(app)
    if command is not None:
        doc = cmd.commands[command].help.strip().splitlines()[0]
        assert doc in result.stdout
        for param in cmd.commands[command].params:
            if getattr(param, "help", None):
                assert has_cjk(param.help), (command, param.name)
