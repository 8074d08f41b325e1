"""Input that must be refused (located, in Chinese, at once) or read exactly — never a silently
wrong figure, never a hang, never an echo of a file that is not a department file.

Classes: odd files (FIFO, device, socket, folder, links), pasted line separators, CR-only line
ends, null/empty where a figure is required, figures XLSX cannot hold, dates, work limits, text
a cell cannot hold, "无…" sentences, pydantic messages, characters no font can draw, text that
cannot wrap.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLE_2025, ROOT, example_text, line_of, replace_once

from generator import model
from generator.infile import read_input
from generator.pipeline import run, run_text

EX = example_text("2025")


def errors(result) -> list[str]:
    return [str(p) for p in result.problems if p.is_error]


def located(text: str, needle: str, fragment: str, name: str = "x.yaml", after: str | None = None) -> None:
    result = run_text(text, name)
    line = line_of(text, needle, after)
    hits = [e for e in errors(result) if fragment in e]
    assert hits, errors(result)
    assert any(e.startswith(f"{name}:{line}:") for e in hits), (line, hits)
    for e in errors(result):
        assert "Input should" not in e and "Field required" not in e, e


def cli(*args, timeout=60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "generator", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=timeout)


# ----------------------------------------------------------------------------- odd files


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path):
    fifo = tmp_path / "dept.yaml"
    os.mkfifo(fifo)
    proc = cli("check", fifo, timeout=120)  # (a read of the FIFO would wait for ever)
    assert proc.returncode != 0 and "命名管道" in proc.stdout and "不是普通文件" in proc.stdout


@pytest.mark.parametrize("kind", ["device", "socket", "folder", "link-to-fifo", "link-to-device",
                                  "dangling-link", "link-loop", "link-to-folder"])
def test_only_regular_files_are_read(tmp_path, kind):
    path = tmp_path / "dept.yaml"
    if kind == "device":
        path = Path("/dev/zero")
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        s.close()
    elif kind == "folder":
        path.mkdir()
    elif kind == "link-to-fifo":
        os.mkfifo(tmp_path / "fifo")
        path.symlink_to(tmp_path / "fifo")
    elif kind == "link-to-device":
        path.symlink_to("/dev/zero")
    elif kind == "dangling-link":
        path.symlink_to(tmp_path / "gone.yaml")
    elif kind == "link-loop":
        path.symlink_to(tmp_path / "loop")
        (tmp_path / "loop").symlink_to(path)
    else:
        (tmp_path / "d").mkdir()
        path.symlink_to(tmp_path / "d")
    raw, problems = read_input(path)
    assert raw is None and len(problems) == 1
    message = problems[0].message
    assert message.startswith("无法读取文件：") and re.search("[\u4e00-\u9fff]", message)
    if kind.startswith("link"):
        assert "符号链接" in message
    assert not run(path).readable


def test_a_link_to_a_regular_file_is_followed(tmp_path):
    link = tmp_path / "dept.yaml"
    link.symlink_to(EXAMPLE_2025)
    assert run(link).ok


def test_a_link_to_a_file_that_is_not_a_department_file_is_not_echoed(tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text("sysadm: $6$saltsalt$hashhashhash\ndaemonx: '*'\nclerkz: hunter2secret\n", encoding="utf-8")
    link = tmp_path / "dept.yaml"
    link.symlink_to(secret)
    proc = cli("check", link)
    assert proc.returncode != 0
    for leaked in ("sysadm", "daemonx", "clerkz", "hunter2", "saltsalt"):
        assert leaked not in proc.stdout + proc.stderr, proc.stdout
    assert "不是部门预算文件" in proc.stdout
    if os.path.exists("/etc/shadow"):
        real = tmp_path / "real.yaml"
        real.symlink_to("/etc/shadow")
        proc = cli("check", real)
        assert proc.returncode != 0 and "root:" not in proc.stdout + proc.stderr
        assert "$" not in proc.stdout + proc.stderr


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:  # sparse: 50 GB that would take minutes to read
        fh.truncate(50 * 1024 ** 3)
    import tracemalloc
    tracemalloc.start()
    try:
        raw, problems = read_input(big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raw is None and "超过上限" in problems[0].message
    assert peak < 1024 * 1024  # refused by its size: not a byte of it held


# ----------------------------------------------------------------------------- pasted separators


@pytest.mark.parametrize("ch,label", [("\u2028", "U+2028"), ("\u2029", "U+2029"), ("\x85", "U+0085")])
@pytest.mark.parametrize("where", ["plain", "quoted", "comment"])
def test_line_separators_are_located_and_named(tmp_path, ch, label, where):
    needle = "purpose: 增强街道城市管理水平"
    if where == "plain":
        text = replace_once(EX, needle, f"purpose: 增强街道{ch}城市管理水平")
        col = len("    purpose: 增强街道") + 1
    elif where == "quoted":
        full = "purpose: 增强街道城市管理水平、提高街居建设和服务水平\n"
        text = replace_once(EX, full, f'purpose: "增强街道{ch}城市管理水平、提高街居建设和服务水平"\n')
        col = len('    purpose: "增强街道') + 1
    else:
        text = replace_once(EX, needle, f"{needle}  # 备注{ch}从网页粘贴")
        col = len(f"    {needle}  # 备注") + 1
    path = tmp_path / "dept.yaml"
    path.write_bytes(text.encode("utf-8"))
    result = run(path)
    line = line_of(EX, needle)
    found = [p for p in result.problems if p.rule == "文件字符"]
    assert len(found) == 1, [str(p) for p in result.problems]
    assert (found[0].location.line, found[0].location.column) == (line, col)
    assert label in found[0].message and "Word" in found[0].message


def test_cr_only_line_ends_pass_check_and_roll(tmp_path):
    src = tmp_path / "mac.yaml"
    src.write_bytes(EX.replace("\n", "\r").encode("utf-8"))
    assert run(src).ok
    out = tmp_path / "next.yaml"
    proc = cli("roll", src, "--to", "2026", "-o", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    draft = out.read_bytes()
    assert b"\n" not in draft and b"\r" in draft  # the file's own line ends kept
    assert run(out).ok


# ----------------------------------------------------------------------------- null and empty


REQUIRED = [  # (needle in the example, replacement line start) — figures that must be given
    ("  basic: 1701.01", "  basic:"),
    ("  project: 426.00", "  project:"),
]


@pytest.mark.parametrize("value", ["", " ~", " null", " Null", " !!null ''", ' ""'])
@pytest.mark.parametrize("needle,key", REQUIRED, ids=["basic", "project"])
def test_a_required_prior_year_figure_may_not_be_empty(needle, key, value):
    old = needle + EX.split(needle, 1)[1].split("\n", 1)[0]
    text = replace_once(EX, old, key + value)
    result = run_text(text, "x.yaml")
    assert not result.ok
    assert any(e.startswith(f"x.yaml:{line_of(text, key + value)}:") for e in errors(result)), errors(result)


@pytest.mark.parametrize("value", ["", " ~", " null"])
def test_prior_three_public_not_given_means_no_comparison_never_zero(value):
    old = "  three_public: 2.48" + EX.split("  three_public: 2.48", 1)[1].split("\n", 1)[0]
    result = run_text(replace_once(EX, old, "  three_public:" + value), "x.yaml")
    assert result.ok, errors(result)
    text = "".join(str(getattr(b, "text", "")) for s in result.disclosure.sections for b in s.blocks)
    assert "三公" in text and "与2024年相比" not in text and "与2024年持平" not in text
    full = run_text(EX, "x.yaml")
    shown = "".join(str(getattr(b, "text", "")) for s in full.disclosure.sections for b in s.blocks)
    assert "与2024年" in shown  # given: compared


def test_other_required_figures_may_not_be_empty():
    line = re.search(r"\{code: 30101[^}]*amount: [0-9.]+\}", EX).group()
    text = replace_once(EX, line, re.sub(r"amount: [0-9.]+", "amount: ~", line))
    located(text, "code: 30101", "必须填写")
    project = "    amount: 26.00\n"
    located(replace_once(EX, project, "    amount: null\n"), "amount: null", "必须填写")
    proc = "quantity: 1, amount: 0.33}"
    located(replace_once(EX, proc, "quantity: 1, amount: }"), "amount: }", "必须填写")
    located(replace_once(EX, proc, "quantity: ~, amount: 0.33}"), "quantity: ~", "必须填写")


def test_an_explicit_null_tag_is_refused_even_where_a_value_may_be_omitted():
    text = replace_once(EX, "overseas: 0", "overseas: !!null") if "overseas: 0" in EX else None
    if text is None:
        text = EX.replace("three_public:\n", "three_public:\n  overseas: !!null\n", 1)
    result = run_text(text, "x.yaml")
    assert not result.ok and any("!!null" in e for e in errors(result)), errors(result)


def test_an_omitted_optional_figure_means_zero():
    result = run(EXAMPLE_2025)
    assert result.ok  # many lines leave project/operating out: 0


# ----------------------------------------------------------------------------- XLSX-exact figures


def test_a_figure_xlsx_cannot_hold_exactly_is_refused():
    proc = "quantity: 1, amount: 0.33}"
    located(replace_once(EX, proc, "quantity: 999999999999.9997, amount: 0.33}"), "999999999999.9997",
            "15位")
    located(replace_once(EX, proc, "quantity: 12345678901.23456, amount: 0.33}"), "12345678901.23456",
            "小数")  # also more than 4 decimals
    # each figure fits, their sum would not: refused at the section
    lines = "".join("  - {code: 2010301, basic: 999999999999.99}\n" for _ in range(12))
    text = EX.replace("expenditure:\n", "expenditure:\n" + lines, 1)
    result = run_text(text, "x.yaml")
    assert any("规模上限" in e and "15位" in e for e in errors(result)), errors(result)


# ----------------------------------------------------------------------------- dates


@pytest.mark.parametrize("value,fragment", [
    ("2024-13-45", "不是真实存在的日期"), ("2024-02-30", "不是真实存在的日期"),
    ("2024-06-30", "应为上年末2024-12-31"), ("2023-12-31", "应为上年末2024-12-31"),
    ("2024年底左右", "应写为日期"), ('""', "应写为日期"), ("~", "应写为日期"),
])
def test_as_of_must_be_a_real_date_at_the_end_of_the_prior_year(value, fragment):
    located(replace_once(EX, "as_of: 2024-12-31", f"as_of: {value}"), "as_of:", fragment)


def test_as_of_in_chinese_is_accepted():
    assert run_text(replace_once(EX, "as_of: 2024-12-31", "as_of: 2024年12月31日"), "x.yaml").ok


# ----------------------------------------------------------------------------- work limits


def _many(n: int, template: str) -> str:
    return "".join(template.format(i=i) for i in range(n))


def test_work_limits_are_refused_up_front_with_the_limit_named():
    lines = _many(model.MAX_EXPENDITURE_LINES + 1, "  - {{code: 2010301, basic: 0.01}}\n")
    located(EX.replace("expenditure:\n", "expenditure:\n" + lines, 1), "expenditure:", "至多2000项")
    projects = _many(model.MAX_PROJECTS + 1, "  - {{name: 项目{i}, amount: 0.01}}\n")
    located(EX.replace("projects:\n", "projects:\n" + projects, 1), "projects:", "至多500项")
    rows = _many(model.MAX_INDICATORS_PER_PROJECT + 1, "      - [产出指标, 数量指标, 指标{i}, 说明, 1, 依据]\n")
    text = EX.replace("    indicators:\n", "    indicators:\n" + rows, 1)
    located(text, "indicators:", "至多200项")


def test_total_indicator_rows_are_limited():
    rows = "".join("      - [产出指标, 数量指标, 指标, 说明, 1, 依据]\n" for _ in range(200))
    projects = "".join(f"  - name: 项目{i}\n    amount: 0.01\n    indicators:\n{rows}" for i in range(26))
    text = EX.replace("projects:\n", "projects:\n" + projects, 1)
    result = run_text(text, "x.yaml")
    assert any("绩效指标共" in e and "5000" in e for e in errors(result)), errors(result)[:3]


def test_text_longer_than_an_xlsx_cell_is_an_error_not_a_cut():
    para = "很" * 9000
    text = EX.replace("duties:\n", "duties:\n" + "".join(f"  - {para}\n" for _ in range(4)), 1)
    located(text, "duties:", "32767")


# ----------------------------------------------------------------------------- text and tables agree


def _without_projects() -> str:
    start = EX.index("projects:\n")
    body = EX[start:]
    nxt = re.search(r"^[a-z_]+:", body[10:], re.M)
    text = EX[:start] + body[10 + nxt.start():]
    assert "projects:" not in text
    return text


def _prose(result) -> str:
    return "".join(str(getattr(b, "text", "")) for s in result.disclosure.sections for b in s.blocks)


def test_project_spending_without_projects_is_never_stated_as_none():
    result = run_text(_without_projects(), "x.yaml")
    assert any(p.rule == "项目-合计" and "未列出项目" in p.message for p in result.problems)
    # the text is derived from the figure the tables print, not from the empty list
    assert "无项目支出预算" not in _prose(result) and "项目支出预算" in _prose(result)


def test_none_sentence_only_when_the_figure_is_zero():
    text = re.sub(r"project: [0-9.]+", "project: 0", _without_projects())
    result = run_text(text, "x.yaml")
    assert result.disclosure is not None
    assert "无项目支出预算" in _prose(result)


# ----------------------------------------------------------------------------- Chinese messages


@pytest.mark.parametrize("old,new,fragment", [
    ("edition: hebei-2025", "edition: hebei-2019", "不是内置版式"),
    ("year: 2025", "year: 1999", "不小于2000"),
    ("year: 2025", "year: 2200", "不大于2100"),
    ("year: 2025", "year: 二〇二五", "应为四位数字的年份"),
])
def test_pydantic_messages_are_chinese(old, new, fragment):
    located(EX.replace(old, new, 1), new, fragment)


def test_choices_list_chinese_labels():
    src = run_text(replace_once(EX, "{code: 2010301,", "{source: 自筹, code: 2010301,")
                   if "{code: 2010301," in EX else EX.replace("- {code: ", "- {source: 自筹, code: ", 1), "x.yaml")
    message = next(e for e in errors(src) if "source" in e)
    assert "一般公共预算" in message and "'general'" not in message and "Input should" not in message
    text = replace_once(EX, "quantity: 1, amount: 0.33}", "quantity: 1, amount: 0.33, fund: 自筹}")
    result = run_text(text, "x.yaml")
    message = next(e for e in errors(result) if "fund" in e)
    assert "一般公共预算" in message and "'general'" not in message
    ok = replace_once(EX, "quantity: 1, amount: 0.33}", "quantity: 1, amount: 0.33, fund: 一般公共预算}")
    assert run_text(ok, "x.yaml").ok


# ----------------------------------------------------------------------------- fonts


def test_a_character_no_font_draws_is_a_warning_naming_field_and_character(xigang):
    from generator.render.glyphs import check_glyphs
    doc = xigang.doc
    budget = xigang.budget.model_copy(update={"special_funds": "专项𠀀资金"})
    everything = ((0x20, 0x1FFFF),)  # fonts cover all but Extension B and beyond
    problems = check_glyphs(budget, doc, everything)
    assert len(problems) == 1 and not problems[0].is_error
    assert "special_funds" in problems[0].message and "𠀀" in problems[0].message
    assert "U+20000" in problems[0].message


def test_no_chinese_font_at_all_refuses_to_render(tmp_path):
    if not shutil.which("fc-list"):
        pytest.skip("no fontconfig here")
    dejavu = next(Path("/usr/share/fonts").rglob("DejaVuSans.ttf"), None)
    if dejavu is None:
        pytest.skip("no DejaVuSans.ttf to make a font set without Chinese")
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copy(dejavu, fonts)
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?><fontconfig><dir>{fonts}</dir>'
                    f'<cachedir>{tmp_path / "cache"}</cachedir></fontconfig>', encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "FONTCONFIG_FILE": str(conf)}
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "generator", "render", str(EXAMPLE_2025), "-o", str(out),
                           "-f", "pdf"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "没有可以显示中文的字体" in proc.stdout and not out.joinpath("x").exists()
    assert not any(out.rglob("*.pdf"))


# ----------------------------------------------------------------------------- wrapping in the PDF


def _words_crossing_borders(pdf: Path) -> list[str]:
    """Words (pdftotext boxes) that a vertical table border runs through."""
    import html

    pdfplumber = pytest.importorskip("pdfplumber")
    text = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    bad = []
    with pdfplumber.open(pdf) as doc:
        for chunk, page in zip(text.split("<page ")[1:], doc.pages):
            edges = [e for e in page.edges if e["orientation"] == "v"]
            for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                                 r"(.*?)</word>", chunk):
                x0, y0, x1, y1 = map(float, m.groups()[:4])
                mid = (y0 + y1) / 2
                if any(e["top"] <= mid <= e["bottom"] and x0 + 0.5 < e["x0"] < x1 - 0.5 for e in edges):
                    bad.append(html.unescape(m.group(5)))
    return bad


@pytest.mark.slow
def test_text_that_cannot_wrap_stays_inside_its_cell(tmp_path):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    word = "Supercalifragilisticexpialidocious" * 3
    text = replace_once(EX, "purpose: 增强街道城市管理水平", f"purpose: {word}增强𠀀街道𪚥城市管理水平")
    text = text.replace("catalog: C18040102,", 'catalog: "C18040102,C18040103,C18040104,C18040105",', 1)
    text = replace_once(text, "  - code: 13030225P00455510023W", "  - code: 13030225P00455510023W" + "X" * 60)
    src = tmp_path / "dept.yaml"
    src.write_text(text, encoding="utf-8")
    from generator.commands import jobs
    outcome = jobs.render_file(str(src), str(tmp_path / "out"), ("pdf",))
    assert outcome.status == "ok", [str(p) for p in outcome.problems]
    pdf = Path(outcome.outputs[0])
    assert _words_crossing_borders(pdf) == []
    shown = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "C18040102,C18040103" in shown.replace("\n", "")
    # characters no installed font has: each box copies out as its own character, beside its
    # neighbours (where the cell's lines break, and so what pdftotext puts between, depends on
    # the font: tables are in 仿宋 since issue 28)
    flat = shown.replace("\n", "")
    assert "增强𠀀" in flat and "𪚥城市" in flat, re.findall(".{3}街.{0,6}道.{4}", flat)
