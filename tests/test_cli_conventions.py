"""What a typer user and a bureau's script expect of the command line: --version, -h, shell
completion, `python -m generator`, --debug, distinct exit statuses for every command (the table in
generator/commands/exitcodes.py), -j validated, `render --report` and output paths in the batch summary."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator import __version__
from generator.commands import jobs
from generator.commands.cli import app
from generator.commands.exitcodes import LABELS, Exit

from conftest import EXAMPLE_2023, EXAMPLE_2025, ROOT, example_text, line_of, replace_once

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def _module(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=120)


def test_version_and_short_help(tmp_path):
    assert invoke("--version").stdout == f"budgetgen {__version__}\n"
    for args in (["-h"], ["--help"], ["render", "-h"], ["check", "--help"]):
        result = invoke(*args)
        assert result.exit_code == 0 and "显示本帮助后退出" in result.stdout, args
    assert invoke("-h").stdout == invoke("--help").stdout
    # python -m generator is the same program
    done = _module("--version", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"budgetgen {__version__}\n")


def test_every_command_has_short_help_in_chinese():
    import typer.main
    for name in typer.main.get_command(app).commands:
        result = invoke(name, "-h")
        assert result.exit_code == 0 and "显示本帮助后退出" in result.stdout, name
        assert "Show this message" not in result.stdout, name
        assert result.stdout.startswith("用法：") and "选项：" in result.stdout, name
        assert not any(w in result.stdout for w in ("Usage:", "Options:", "Arguments:", "[required]")), name
    top = invoke("-h").stdout
    assert top.startswith("用法：") and "命令：" in top and "Commands:" not in top


def test_help_lists_every_exit_status_and_completion():
    text = invoke("--help").stdout
    for code, label in LABELS.items():
        assert f"{int(code)} {label}" in text, label
    assert "--install-completion" in text and "--show-completion" in text


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
def test_shell_completion_completes_commands_and_options(tmp_path):
    env = {"_BUDGETGEN_COMPLETE": "complete_bash", "COMP_WORDS": "budgetgen ren", "COMP_CWORD": "1"}
    done = _module(cwd=tmp_path, env=env)
    assert (done.returncode, done.stdout.split()) == (0, ["render"]), done.stderr
    env.update(COMP_WORDS="budgetgen render --rep", COMP_CWORD="2")
    assert _module(cwd=tmp_path, env=env).stdout.split() == ["--report"]


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
def test_install_completion_writes_the_script_for_bash(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "SHELL": "/bin/bash", "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": ""}
    done = _module("--install-completion", cwd=tmp_path, env=env)
    if done.returncode == Exit.USAGE and "无法为当前 shell" in done.stderr:
        pytest.skip(f"no shell among this process's ancestors: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    assert "已为" in done.stdout and "安装命令补全" in done.stdout
    scripts = list(home.rglob("budgetgen*"))
    assert scripts and "_BUDGETGEN_COMPLETE" in scripts[0].read_text(encoding="utf-8")
    shown = _module("--show-completion", cwd=tmp_path, env=env)
    assert shown.returncode == 0 and "_BUDGETGEN_COMPLETE" in shown.stdout, shown.stderr


# --------------------------------------------------------------------------- internal errors


def _boom(*_args, **_kw):
    raise RuntimeError("模拟的程序缺陷")


def test_internal_error_is_one_line_and_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setattr(jobs, "run", _boom)
    result = invoke("check", EXAMPLE_2025)
    assert result.exit_code == Exit.INTERNAL == 5
    assert "Traceback" not in result.output
    assert re.search(r"^.*: 错误 \[内部错误\] 生成时出错：RuntimeError: 模拟的程序缺陷", result.stdout, re.M)
    debug = invoke("--debug", "check", EXAMPLE_2025)
    assert debug.exit_code == 5
    assert "Traceback (most recent call last)" in debug.stderr and "_boom" in debug.stderr


def test_an_exception_escaping_a_command_exits_5(monkeypatch, tmp_path):
    import generator.schema
    monkeypatch.setattr(generator.schema, "schema_text", _boom)
    result = invoke("schema")
    assert result.exit_code == 5
    assert result.stderr.strip().splitlines() == [
        "内部错误：RuntimeError: 模拟的程序缺陷（这是程序缺陷，不是数据问题；加 --debug 可看详细信息，"
        "请连同输入文件发给维护者）"]
    debug = invoke("--debug", "schema")
    assert debug.exit_code == 5 and "Traceback (most recent call last)" in debug.stderr


# --------------------------------------------------------------------------- exit statuses


def _bad(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(replace_once(example_text("2025"), "basic: 1505.72}", "basic: 1505.73}"),
                    encoding="utf-8")
    return path


def _broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text("department: [\n", encoding="utf-8")
    return path


def test_exit_status_of_every_command(tmp_path):
    bad, broken = _bad(tmp_path), _broken(tmp_path)
    assert invoke("check", EXAMPLE_2023).exit_code == Exit.OK
    assert invoke("check", EXAMPLE_2023, bad).exit_code == Exit.DATA_ERRORS
    assert invoke("check", bad, broken, EXAMPLE_2023).exit_code == Exit.UNREADABLE  # the gravest
    assert invoke("check", "--no-such-option", EXAMPLE_2023).exit_code == Exit.USAGE
    assert invoke("roll", bad, "--to", "2026", "-o", tmp_path / "r.yaml").exit_code == Exit.DATA_ERRORS
    assert invoke("roll", broken, "--to", "2026", "-o", tmp_path / "r.yaml").exit_code == Exit.UNREADABLE
    assert not (tmp_path / "r.yaml").exists()
    assert invoke("render", "-f", "xlsx", "-o", tmp_path / "o", broken).exit_code == Exit.UNREADABLE
    # an output that cannot be written: its folder is a regular file
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    result = invoke("render", EXAMPLE_2023, "-f", "xlsx", "-o", blocker)
    assert result.exit_code == Exit.OUTPUT_FAILED == 4, result.output
    assert f"无法写入 {blocker}：输出位置是一个文件，不是文件夹" in result.stderr
    assert "内部错误" not in result.output
    result = invoke("new", "-o", blocker)  # an existing file without --force: not replaced
    assert result.exit_code == Exit.OUTPUT_FAILED and "已存在；如要覆盖请加 --force" in result.stderr
    for args in (["schema", "-o", blocker / "s.json"], ["new", "-o", blocker / "d.yaml"],
                 ["roll", EXAMPLE_2023, "--to", "2024", "-o", blocker / "d.yaml"]):
        result = invoke(*args)
        assert result.exit_code == Exit.OUTPUT_FAILED, (args, result.output)
        assert f"无法写入 {blocker}" in result.stderr, args
    assert blocker.read_text(encoding="utf-8") == "x"


def test_batch_exit_status_is_the_gravest(tmp_path):
    bad, broken = _bad(tmp_path), _broken(tmp_path)
    out = tmp_path / "out"
    assert invoke("render", EXAMPLE_2023, "-f", "xlsx", "-o", out).exit_code == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]  # its folder
    shutil.rmtree(folder)
    folder.write_text("x", encoding="utf-8")  # … is now a file: that one output cannot be written
    result = invoke("render", EXAMPLE_2023, bad, "-f", "xlsx", "-o", out, "-j", "1", "--force")
    assert result.exit_code == Exit.OUTPUT_FAILED, result.output
    assert re.search(rf"^{re.escape(str(EXAMPLE_2023))}\s+无法写入", result.stdout, re.M)
    assert re.search(rf"^{re.escape(str(bad))}\s+有错误", result.stdout, re.M)
    result = invoke("render", EXAMPLE_2023, bad, broken, "-f", "xlsx", "-o", tmp_path / "o", "-j", "1")
    assert result.exit_code == Exit.UNREADABLE


@pytest.mark.parametrize("value", ["-1", "-8", "x", "1.5"])
def test_jobs_must_be_a_whole_number_not_below_zero(tmp_path, value):
    result = invoke("render", EXAMPLE_2023, "-f", "xlsx", "-o", tmp_path, "-j", value)
    assert result.exit_code == Exit.USAGE, result.output
    assert not list(tmp_path.iterdir())
    if value.startswith("-"):
        assert f"并行进程数应为正整数（0 表示按 CPU 核数），收到：{value}" in result.output


# --------------------------------------------------------------------------- the report


@pytest.mark.slow
def test_render_report_for_scripts(tmp_path):
    bad, broken = _bad(tmp_path), _broken(tmp_path)
    out, report = tmp_path / "out", tmp_path / "report.json"
    result = invoke("render", EXAMPLE_2023, bad, broken, "-o", out, "-f", "pdf,xlsx", "-j", "1",
                    "--report", report)
    assert result.exit_code == Exit.UNREADABLE, result.output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert (data["exit_status"], data["exit_meaning"], data["output_dir"]) == (3, "unreadable", str(out))
    assert data["budgetgen"] == __version__
    assert data["counts"] == {"ok": 1, "error": 1, "unreadable": 1}
    good, wrong, unreadable = data["files"]
    assert [f["file"] for f in data["files"]] == [str(EXAMPLE_2023), str(bad), str(broken)]
    assert (good["status"], good["exit_status"], good["errors"]) == ("ok", 0, 0)
    assert sorted(Path(p).suffix for p in good["outputs"]) == [".pdf", ".xlsx"]
    assert all(Path(p).is_file() and Path(p).parent.parent == out for p in good["outputs"])  # out/<部门>/
    assert good["pages"] >= 10 and good["seconds"] > 0
    # the bad file's problems carry their locations, as the terminal shows them
    assert (wrong["status"], wrong["exit_status"], wrong["outputs"]) == ("error", 1, [])
    text = bad.read_text(encoding="utf-8")
    control = next(p for p in wrong["problems"] if p["rule"] == "控制数" and "基本支出" in p["message"])
    assert (control["file"], control["line"], control["severity"]) == (
        str(bad), line_of(text, "basic: 1822.69", after="control_totals:"), "error")
    assert control["column"] > 0 and control["expected"] and control["found"]
    assert wrong["errors"] == 3 == len([p for p in wrong["problems"] if p["severity"] == "error"])
    assert unreadable["status"] == "unreadable" and unreadable["problems"][0]["rule"] == "YAML语法"
    # the summary on the terminal lists the outputs too
    for path in good["outputs"]:
        assert f"  {path}\n" in result.stdout


def test_render_report_for_one_file(tmp_path):
    report = tmp_path / "r.json"
    result = invoke("render", EXAMPLE_2023, "-o", tmp_path / "o", "-f", "xlsx", "--report", report)
    assert result.exit_code == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [f["status"] for f in data["files"]] == ["ok"] and data["exit_status"] == 0


def test_new_file_works_in_an_editor_outside_the_repository(tmp_path):
    """The starter's first line points yaml-language-server at budget.schema.json beside it, which
    `new` writes; the schema validates the starter (read as an editor reads it)."""
    import jsonschema
    import yaml

    from test_schema import EditorYaml
    path = tmp_path / "dept.yaml"
    result = invoke("new", "-o", path, "--year", "2026")
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=budget.schema.json"
    schema_file = tmp_path / "budget.schema.json"
    assert schema_file.read_text(encoding="utf-8") == (ROOT / "schemas" / "budget.schema.json").read_text(
        encoding="utf-8")
    validator = jsonschema.Draft202012Validator(json.loads(schema_file.read_text(encoding="utf-8"),
                                                           parse_float=Decimal))
    assert list(validator.iter_errors(yaml.load(text, Loader=EditorYaml))) == []
    # someone else's file of that name is left alone
    schema_file.write_text("{}", encoding="utf-8")
    assert invoke("new", "-o", tmp_path / "two.yaml").exit_code == 0
    assert schema_file.read_text(encoding="utf-8") == "{}"


def test_report_lists_the_unit_budgets_with_units(tmp_path):
    dept = ROOT / "inputs" / "730-shixian-nongye-2025.yaml"
    report = tmp_path / "r.json"
    result = invoke("render", dept, "--units", "-f", "html", "-o", tmp_path / "o", "--report", report)
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(report.read_text(encoding="utf-8"))["files"]
    units = entry["units"]
    assert len(units) == 2 and all(len(u["outputs"]) == 1 for u in units)
    assert len(entry["outputs"]) == 3 and all(Path(p).is_file() for p in entry["outputs"])
    assert {u["outputs"][0] for u in units} < set(entry["outputs"])


def test_module_main_does_not_rerun_in_a_spawned_worker(tmp_path):
    """A 'spawn' worker re-imports `python -m generator`'s main module as __mp_main__."""
    code = "import runpy; runpy.run_module('generator', run_name='__mp_main__'); print('imported')"
    done = subprocess.run([sys.executable, "-c", code, "--version"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert (done.returncode, done.stdout) == (0, "imported\n"), done.stderr


@pytest.mark.parametrize("args,message", [
    (["--nope"], "错误：没有选项 --nope"),
    (["rendr", "x"], "错误：没有命令 rendr；是不是 render？"),
    (["render"], "错误：缺少参数 FILE..."),
    (["new"], "错误：缺少选项 -o / --out"),
    (["render", "x", "-j", "abc"], "错误：-j / --jobs 的值无效：应为整数"),
    (["render", "x", "-j", "-2"], "错误：-j / --jobs 的值无效：并行进程数应为正整数（0 表示按 CPU 核数），收到：-2"),
    (["render", "x", "-f", "docx"], "错误：-f / --format 的值无效：格式只能是 pdf, xlsx, html，收到：docx"),
    (["new", "-o", "a.yaml", "--year", "x"], "错误：--year 的值无效：应为整数"),
])
def test_usage_errors_are_explained_in_chinese(args, message):
    result = invoke(*args)
    assert result.exit_code == Exit.USAGE
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == message, result.stderr
    assert lines[0].startswith("用法：") and lines[1].endswith("-h 查看帮助。"), lines
    assert "Error" not in result.stderr and "Usage" not in result.stderr
