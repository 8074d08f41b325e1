"""The speed work changes no output: the fast path (compat.py's WeasyPrint internals, expat, the
stylesheet parsed once, the collector paused) against the public path of the same WeasyPrint,
byte for byte (the version fence and the public path: tests/test_compat.py); WeasyPrint's log
records as warnings; skipping unchanged departments through the CLI (cache.py)."""
from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
from conftest import EXAMPLE_2025, ROOT, example_text, replace_once
from conftest import render_cli as _render
from typer.testing import CliRunner

from generator.commands.cli import app
from generator.pipeline import run, run_text
from generator.render import compat
from generator.render.html import render_html

runner = CliRunner()


def _html5_tree(html: str):
    import tinyhtml5
    return tinyhtml5.parse(html, namespace_html_elements=False)


def _shape(el) -> tuple:
    return (el.tag, sorted(el.attrib.items()), el.text, el.tail, [_shape(c) for c in el])


def _pdf_html(disclosure) -> str:
    import re
    return re.sub(r">\s+<", "><", render_html(disclosure)).strip()


@pytest.mark.parametrize("path", sorted((ROOT / "inputs").glob("*.yaml")), ids=lambda p: p.name)
def test_expat_builds_the_tree_the_html5_parser_builds(path):
    html = _pdf_html(run(path).disclosure)
    tree = compat._xml_tree(html)
    assert tree is not None
    assert _shape(tree) == _shape(_html5_tree(html))


def test_expat_tree_with_markup_in_the_text():
    text = replace_once(example_text("2025"), "  name: 秦皇岛市海港区人民政府西港路街道办事处\n",
                        "  name: '秦皇岛<b>&amp;</b>\"<!-- x -->街道'\n")
    result = run_text(text)
    assert result.disclosure is not None
    html = _pdf_html(result.disclosure)
    assert _shape(compat._xml_tree(html)) == _shape(_html5_tree(html))


@pytest.mark.parametrize("markup", [
    "<!DOCTYPE html><html><head></head><body><p>a<!-- c --></p></body></html>",  # comment
    "<!DOCTYPE html><html><head></head><body><p>a&nbsp;b</p></body></html>",  # HTML entity
    "<!DOCTYPE html><html><head></head><body><p>a<p>b</body></html>",  # implied end tags
    "<!DOCTYPE html><html><head></head><body><p>a</p></body></html>tail",  # text after </html>
    "<!DOCTYPE html><html><body><p>a</p></body></html>",  # implied <head>
])
def test_expat_leaves_other_markup_to_the_html5_parser(markup):
    assert compat._xml_tree(markup) is None


def test_tr_directly_in_a_table_gets_a_tbody():
    html = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><table class=\"m\">"
            "<tr><td>1</td></tr><tr><td>2<br>3</td></tr></table></body></html>")
    tree = compat._xml_tree(html)
    assert [c.tag for c in tree.find("body/table")] == ["tbody"]
    assert _shape(tree) == _shape(_html5_tree(html))


# ----------------------------------------------------------------------------- log records


@pytest.mark.slow
def test_weasyprint_log_records_become_warnings(monkeypatch, tmp_path, weasyprint_warnings_expected):
    from generator.render import pdf
    real = pdf.pack_font_streams

    def noisy(document, pdf_obj):
        logging.getLogger("weasyprint").warning("No glyph for character U+E000 in font X")
        logging.getLogger("weasyprint").warning("Ignored `colour: red` at 1:1, unknown property.")
        real(document, pdf_obj)

    monkeypatch.setattr(pdf, "pack_font_streams", noisy)
    result = runner.invoke(app, ["render", str(EXAMPLE_2025), "-o", str(tmp_path), "-f", "pdf"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "警告 [PDF" in line]
    assert len(lines) == 2, result.output
    assert "[PDF字体]" in lines[0] and "U+E000" in lines[0]
    assert lines[0].startswith(str(EXAMPLE_2025))
    assert "[PDF样式]" in lines[1] and "colour" in lines[1]
    warned = sum("警告 [" in line for line in result.output.splitlines())
    assert f"{warned}个警告" in result.output


def test_record_problem_kinds():
    from generator.render.pdf import record_problem

    def rec(msg: str) -> logging.LogRecord:
        return logging.LogRecord("weasyprint", logging.WARNING, "", 0, msg, (), None)

    assert record_problem(rec("refused to fetch http://x"), "a.yaml").rule == "PDF资源"
    assert record_problem(rec("Failed to load image at 'x'"), "a.yaml").rule == "PDF资源"
    assert record_problem(rec("Invalid or unsupported selector 'a::b'")).rule == "PDF样式"
    other = record_problem(rec("Anchor defined twice: part1"), "a.yaml")
    assert other.rule == "PDF排版" and not other.is_error and "part1" in other.message


# ----------------------------------------------------------------------------- skipping


def test_unchanged_department_is_skipped_and_force_renders(dept, tmp_path):
    out = tmp_path / "out"
    code, text = _render(dept, "-o", out, "-f", "xlsx")
    assert code == 0 and "已生成" in text
    [xlsx] = out.glob("*/*.xlsx")
    first = xlsx.stat().st_mtime_ns
    code, text = _render(dept, "-o", out, "-f", "xlsx")
    assert code == 0 and "未变化，已跳过" in text and "已生成" not in text
    assert xlsx.stat().st_mtime_ns == first
    code, text = _render(dept, "-o", out, "-f", "xlsx", "--force")
    assert code == 0 and "已生成" in text and "跳过" not in text
    assert xlsx.stat().st_mtime_ns != first


@pytest.mark.parametrize("change", ["edit input", "edit output", "delete output", "other formats",
                                    "layout file"])
def test_any_change_renders_again(dept, tmp_path, change):
    out = tmp_path / "out"
    # the department's own layout, in a folder whose name has a space and full-width （）、
    layouts = tmp_path / "版式 文件（河北）、2025"
    layouts.mkdir()
    layout = layouts / "我的 版式（2025）.yaml"
    layout.write_text((ROOT / "generator" / "layouts" / "hebei-2025.yaml").read_text(encoding="utf-8"),
                      encoding="utf-8")
    dept.write_text(dept.read_text(encoding="utf-8").replace(
        "edition: hebei-2025", f'edition: "{layouts.name}/{layout.name}"', 1), encoding="utf-8")
    assert _render(dept, "-o", out, "-f", "xlsx")[0] == 0
    assert "未变化，已跳过" in _render(dept, "-o", out, "-f", "xlsx")[1]
    [xlsx] = out.glob("*/*.xlsx")
    fmt = "xlsx"
    if change == "edit input":
        dept.write_text(dept.read_text(encoding="utf-8").replace("2256.69", "2256.69", 1)
                        + "# 改了注释\n", encoding="utf-8")
    elif change == "edit output":
        xlsx.write_bytes(xlsx.read_bytes() + b"x")
    elif change == "delete output":
        xlsx.unlink()
    elif change == "other formats":
        fmt = "xlsx,html"
    else:
        layout.write_text(layout.read_text(encoding="utf-8") + "# 改了版式\n", encoding="utf-8")
    code, text = _render(dept, "-o", out, "-f", fmt)
    assert code == 0 and "跳过" not in text and "已生成" in text


def test_department_with_errors_is_never_skipped(dept, tmp_path):
    dept.write_text(replace_once(dept.read_text(encoding="utf-8"), "year: 2025", "year: 二〇二五"),
                    encoding="utf-8")
    out = tmp_path / "out"
    assert _render(dept, "-o", out, "-f", "xlsx")[0] == 1
    code, text = _render(dept, "-o", out, "-f", "xlsx")
    assert code == 1 and "跳过" not in text


def test_batch_skips_the_unchanged_and_renders_the_changed(tmp_path):
    files = []
    for i in range(3):
        path = tmp_path / f"d{i}.yaml"
        path.write_text(example_text("2025").replace('code: "524"', f'code: "B{i}"'),
                        encoding="utf-8")
        files.append(path)
    out = tmp_path / "out"
    code, text = _render(*files, "-o", out, "-f", "xlsx", "-j", "1")
    assert code == 0 and "已生成3个文件" in text
    files[1].write_text(files[1].read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
    code, text = _render(*files, "-o", out, "-f", "xlsx", "-j", "2")
    assert code == 0
    assert "通过1个" in text and "未变化，已跳过2个" in text and "已生成1个文件" in text
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith(str(tmp_path))}
    assert "未变化，已跳过" in rows[str(files[0])] and "通过" in rows[str(files[1])]
    records = list((out / ".budgetgen").glob("*.json"))
    assert len(records) == 3
    record = json.loads(records[0].read_text(encoding="utf-8"))
    assert set(record) >= {"fingerprint", "outputs", "problems"}


# ----------------------------------------------------------------------------- watch


def _wait_for(predicate, seconds: float = 60.0) -> bool:
    import time
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_watch_previews_on_save_and_renders_on_pause(tmp_path):
    """Through the CLI in its own process: the first preview, an error shown with its line as
    soon as it is saved (the preview kept), the fix previewed, then the workbook on the pause."""
    dept = tmp_path / "d.yaml"
    good = example_text("2025")
    dept.write_text(good, encoding="utf-8")
    out, log = tmp_path / "out", tmp_path / "watch.log"
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "generator", "watch", str(dept), "-o",
                                 str(out), "-f", "xlsx", "--pause", "1", "--poll", "0.05",
                                 "--stop-after", "120"], cwd=ROOT, stdout=fh, stderr=fh)
    try:
        def said(text: str) -> bool:
            return text in log.read_text(encoding="utf-8")

        assert _wait_for(lambda: said("已生成") and said(".xlsx")), log.read_text(encoding="utf-8")
        [html] = out.glob("*.html")
        first = html.read_bytes()
        line = next(i for i, t in enumerate(good.splitlines(), 1) if t.strip() == "year: 2025")
        dept.write_text(good.replace("  year: 2025\n", "  year: 二〇二五\n", 1), encoding="utf-8")
        assert _wait_for(lambda: said("预览未更新")), log.read_text(encoding="utf-8")
        assert said(f"{dept}:{line}:"), log.read_text(encoding="utf-8")
        assert html.read_bytes() == first
        fixed = good.replace("宣传贯彻执行", "学习宣传贯彻执行", 1)
        assert fixed != good
        dept.write_text(fixed, encoding="utf-8")
        assert _wait_for(lambda: html.read_bytes() != first), log.read_text(encoding="utf-8")
        assert "学习宣传贯彻执行" in html.read_text(encoding="utf-8")
        assert _wait_for(lambda: log.read_text(encoding="utf-8").count("已生成") >= 2)
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
def test_quick_exit_keeps_exit_statuses_and_output(tmp_path):
    """`python -m generator` ends with os._exit (no interpreter teardown): the exit status and
    everything printed must be the same as the command gives in-process, through a pipe."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(replace_once(example_text("2025"), "  year: 2025\n", "  year: 二〇二五\n"),
                   encoding="utf-8")
    statuses = []
    for args in (["check", str(EXAMPLE_2025)], ["check", str(bad)],
                 ["check", str(tmp_path / "missing.yaml")],
                 ["render", str(EXAMPLE_2025), "-f", "docx"]):
        proc = subprocess.run([sys.executable, "-m", "generator", *args], cwd=ROOT,
                              capture_output=True, text=True, check=False)
        inside = runner.invoke(app, args)
        assert proc.returncode == inside.exit_code, (args, proc.stdout, proc.stderr)
        printed = (proc.stdout + proc.stderr).strip()
        assert printed and printed.splitlines()[-1] in inside.output, (args, printed)
        statuses.append(proc.returncode)
    assert statuses == [0, 1, 3, 2]  # passed (warnings only), data error, unreadable, usage
