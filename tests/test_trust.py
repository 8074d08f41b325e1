"""Trust, as a clerk meets it: budgetgen touches only what is its own in the output folder,
believes a skip record only as far as it can check it, reads only the layout files it may, and
puts options that cannot go together to the user instead of dropping one.

Every render here is XLSX/HTML (no PDF): the classes are about files, not layout.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from conftest import EXAMPLE_2025, ROOT, example_text
from conftest import render_cli as render
from typer.testing import CliRunner

from generator.commands.cli import app
from generator.render.output import commit_set, output_stem

STEM = output_stem("524", "秦皇岛市海港区人民政府西港路街道办事处", 2025)
runner = CliRunner()


def snapshot(root: Path) -> dict[str, object]:
    """Everything under `root` without following links: path → bytes, link target or 'dir'."""
    out: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            key = str(p.relative_to(root))
            if p.is_symlink():
                out[key] = ("link", os.readlink(p))
            elif p.is_dir():
                out[key] = "dir"
            else:
                out[key] = p.read_bytes()
    return out


# ----------------------------------------------------------------------------- the output folder


def _marker(stem: str) -> str:
    return f"budgetgen staging folder\n{stem}\n"


def _clerks_things(out: Path, elsewhere: Path) -> None:
    """What a clerk (or another program) may keep in the output folder, named like ours."""
    notes = out / ".notes.old"
    notes.mkdir(parents=True)
    (notes / "会议记录.txt").write_text("别删我", encoding="utf-8")
    (out / ".new").mkdir()
    (out / ".new" / "x.txt").write_text("x", encoding="utf-8")
    (out / ".old").mkdir()
    # our name pattern, but no marker inside
    lookalike = out / f".{STEM}.abcd1234.new"
    lookalike.mkdir()
    (lookalike / f"{STEM}.xlsx").write_bytes(b"clerk's copy")
    # our name pattern and a marker, but the marker names another stem
    wrong = out / f".{STEM}.zzzz9999.old"
    wrong.mkdir()
    (wrong / ".budgetgen-staging").write_text(_marker("other-2025"), encoding="utf-8")
    # the marker is a link to a real marker elsewhere: not proof
    linked = out / f".{STEM}.linkmark.new"
    linked.mkdir()
    (elsewhere / "m").write_text(_marker(STEM), encoding="utf-8")
    (linked / ".budgetgen-staging").symlink_to(elsewhere / "m")
    # a regular file and a link with staging names
    (out / f".{STEM}.file0000.new").write_bytes(b"a file, not a folder")
    (elsewhere / "keep").mkdir()
    (elsewhere / "keep" / ".budgetgen-staging").write_text(_marker(STEM), encoding="utf-8")
    (elsewhere / "keep" / "data.txt").write_text("elsewhere", encoding="utf-8")
    (out / f".{STEM}.link0000.old").symlink_to(elsewhere / "keep")
    # a random part of the wrong length, and a staging-like name with a separator in the stem
    (out / f".{STEM}.abc.new").mkdir()
    (out / ".a.b.c.new").mkdir()
    (out / "备份.old").mkdir()


def test_nothing_that_is_not_budgetgen_s_is_removed_or_changed(dept, tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    _clerks_things(out, elsewhere)
    before, before_elsewhere = snapshot(out), snapshot(elsewhere)
    for _ in range(2):
        code, text = render(dept, "-o", out, "-f", "xlsx", "--force")
        assert code == 0, text
        after = snapshot(out)
        mine = {k for k in after if k.startswith((STEM, ".budgetgen"))}
        assert {k: v for k, v in after.items() if k not in mine} == before
        assert snapshot(elsewhere) == before_elsewhere
    assert (out / STEM / f"{STEM}.xlsx").is_file()


def test_a_folder_named_dot_new_does_not_stop_rendering(dept, tmp_path):
    out = tmp_path / "out"
    (out / ".new").mkdir(parents=True)
    (out / ".old").write_text("file", encoding="utf-8")
    code, text = render(dept, "-o", out, "-f", "xlsx")
    assert code == 0 and "Traceback" not in text, text
    assert (out / ".new").is_dir() and (out / ".old").read_text(encoding="utf-8") == "file"


def test_a_dead_writer_s_marked_staging_folder_is_removed(tmp_path):
    """What is provably ours — our name, our marker, no live writer — is cleaned up, for any
    department; the `.old` of a fallback killed halfway puts the previous set back."""
    out = tmp_path / "out"
    dead = out / f".{STEM}.dead0000.new"
    (dead / "set").mkdir(parents=True)
    (dead / ".budgetgen-staging").write_text(_marker(STEM), encoding="utf-8")
    (dead / "set" / f"{STEM}.xlsx").write_bytes(b"half")
    aside = out / ".612-x-2023.aside000.old"
    (aside / "set").mkdir(parents=True)
    (aside / ".budgetgen-staging").write_text(_marker("612-x-2023"), encoding="utf-8")
    (aside / "set" / "612-x-2023.xlsx").write_bytes(b"previous")
    commit_set(out, "other-2025", {"xlsx": b"x"})
    assert not dead.exists() and not aside.exists()
    assert (out / "612-x-2023" / "612-x-2023.xlsx").read_bytes() == b"previous"
    assert sorted(p.name for p in out.iterdir()) == ["612-x-2023", "other-2025"]


# ----------------------------------------------------------------------------- skip records


def _record(out: Path) -> Path:
    [record] = (out / ".budgetgen").glob("*.json")
    return record


def _edit(record: Path, change) -> None:
    data = json.loads(record.read_text(encoding="utf-8"))
    change(data)
    record.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_a_forged_record_naming_a_file_outside_is_not_believed(dept, tmp_path):
    out = tmp_path / "out"
    secret = tmp_path / "etc" / "hostname"
    secret.parent.mkdir()
    secret.write_text("secret-host\n", encoding="utf-8")
    assert render(dept, "-o", out, "-f", "xlsx")[0] == 0
    digest = hashlib.sha256(secret.read_bytes()).hexdigest()
    _edit(_record(out), lambda r: r["outputs"].update({"../etc/hostname": digest}))
    report = tmp_path / "r.json"
    code, text = render(dept, "-o", out, "-f", "xlsx", "--report", report)
    assert code == 0 and "跳过" not in text and "已生成" in text, text
    shown = report.read_text(encoding="utf-8")
    assert "hostname" not in shown and "hostname" not in text
    # the record written by that render is ours again: the next run skips
    assert "未变化，已跳过" in render(dept, "-o", out, "-f", "xlsx")[1]
    assert "hostname" not in _record(out).read_text(encoding="utf-8")


LIES = {
    "an output that leaves the folder": lambda r, s: r["outputs"].update(
        {f"{s}/../../etc/hostname": "0" * 64}),
    "an absolute name": lambda r, s: r["outputs"].update({"/etc/hostname": "0" * 64}),
    "a name that is not stem/stem.ext": lambda r, s: r["outputs"].update(
        {f"{s}/notes.xlsx": r["outputs"][f"{s}/{s}.xlsx"]}),
    "the output of another stem without --units": lambda r, s: r["outputs"].update(
        {"other-2025/other-2025.xlsx": r["outputs"][f"{s}/{s}.xlsx"]}),
    "an output no longer listed": lambda r, s: r["outputs"].pop(f"{s}/{s}.html"),
    "no outputs at all": lambda r, s: r.update(outputs={}),
    "outputs as a list": lambda r, s: r.update(outputs=list(r["outputs"])),
    "a digest that is not one": lambda r, s: r["outputs"].update({f"{s}/{s}.xlsx": "abc"}),
    "pages as text": lambda r, s: r.update(pages="12"),
    "problems that are not problems": lambda r, s: r.update(problems=[{"message": 1}]),
    "an error in a good render's record": lambda r, s: r.update(problems=[
        {"severity": "错误", "rule": "x", "message": "伪造", "file": "d.yaml", "line": 1, "column": 1,
         "expected": None, "found": None}]),
    "a huge page count as text": lambda r, s: r.update(pages=[1]),
    "no marker": lambda r, s: r.pop("budgetgen"),
    "an older version": lambda r, s: r.update(version=1),
}


@pytest.mark.parametrize("lie", list(LIES))
def test_a_record_that_lies_renders_again(dept, tmp_path, lie):
    out = tmp_path / "out"
    assert render(dept, "-o", out, "-f", "xlsx,html")[0] == 0
    assert "未变化，已跳过" in render(dept, "-o", out, "-f", "xlsx,html")[1]
    _edit(_record(out), lambda r: LIES[lie](r, STEM))
    html = out / STEM / f"{STEM}.html"
    html.unlink()  # a deleted output the lying record might have hidden
    code, text = render(dept, "-o", out, "-f", "xlsx,html")
    assert code == 0 and "跳过" not in text and "已生成" in text, (lie, text)
    assert html.is_file()


@pytest.mark.parametrize("kind", ["not JSON", "a list", "a link to a good record", "huge"])
def test_a_record_that_is_not_a_record_renders_again(dept, tmp_path, kind):
    out = tmp_path / "out"
    assert render(dept, "-o", out, "-f", "xlsx")[0] == 0
    record = _record(out)
    good = record.read_text(encoding="utf-8")
    record.unlink()
    if kind == "not JSON":
        record.write_text("{", encoding="utf-8")
    elif kind == "a list":
        record.write_text("[]", encoding="utf-8")
    elif kind == "a link to a good record":
        (tmp_path / "kept.json").write_text(good, encoding="utf-8")
        record.symlink_to(tmp_path / "kept.json")
    else:
        record.write_text(good[:-1] + ', "x": "' + "x" * 2_000_000 + '"}', encoding="utf-8")
    code, text = render(dept, "-o", out, "-f", "xlsx")
    assert code == 0 and "跳过" not in text and "已生成" in text, text
    if kind == "a link to a good record":  # a link in .budgetgen is not replaced
        assert record.is_symlink()


def test_an_output_replaced_by_a_link_renders_again(dept, tmp_path):
    out = tmp_path / "out"
    assert render(dept, "-o", out, "-f", "xlsx")[0] == 0
    xlsx = out / STEM / f"{STEM}.xlsx"
    kept = tmp_path / "kept.xlsx"
    kept.write_bytes(xlsx.read_bytes())
    xlsx.unlink()
    xlsx.symlink_to(kept)
    code, text = render(dept, "-o", out, "-f", "xlsx")
    assert "跳过" not in text, text


def test_records_are_not_kept_where_dot_budgetgen_is_not_a_real_folder(dept, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / ".budgetgen").symlink_to(elsewhere)
    assert render(dept, "-o", out, "-f", "xlsx")[0] == 0
    assert list(elsewhere.iterdir()) == []
    code, text = render(dept, "-o", out, "-f", "xlsx")
    assert code == 0 and "跳过" not in text  # no record, so rendered again


# ----------------------------------------------------------------------------- what is read


def _own_layout(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    layout = folder / name
    layout.write_text((ROOT / "generator" / "layouts" / "hebei-2025.yaml").read_text(encoding="utf-8"),
                      encoding="utf-8")
    return layout


def _use_layout(dept: Path, name: str) -> None:
    dept.write_text(dept.read_text(encoding="utf-8").replace(
        "edition: hebei-2025", f"edition: '{name}'", 1), encoding="utf-8")


@pytest.mark.parametrize("folder,name", [("版式 文件", "我的 版式.yaml"),
                                         ("（河北）、2025", "版式（修订）、二.yml"),
                                         (".", "plain.yaml")])
def test_an_edited_layout_is_rendered_again_and_watched(dept, tmp_path, folder, name):
    from generator.commands.watch import _watched
    layout = _own_layout(tmp_path / folder, name)
    _use_layout(dept, f"{folder}/{name}" if folder != "." else name)
    out = tmp_path / "out"
    assert render(dept, "-o", out, "-f", "html")[0] == 0
    assert "未变化，已跳过" in render(dept, "-o", out, "-f", "html")[1]
    assert layout.resolve() in [p.resolve() for p in _watched(dept)]
    text = layout.read_text(encoding="utf-8")
    assert "title: " in text
    layout.write_text(text.replace("title: ", "title: 修订 ", 1), encoding="utf-8")
    code, output = render(dept, "-o", out, "-f", "html")
    assert code == 0 and "跳过" not in output, output


def test_a_comment_naming_a_yaml_file_is_not_an_input(dept, tmp_path):
    """Only what the resolver reads counts: a file named in a comment neither makes the render
    read it nor makes an unchanged department render again."""
    other = tmp_path / "other.yaml"
    other.write_text("a: 1\n", encoding="utf-8")
    dept.write_text(dept.read_text(encoding="utf-8") + "# 参见 other.yaml\n", encoding="utf-8")
    out = tmp_path / "out"
    assert render(dept, "-o", out, "-f", "xlsx")[0] == 0
    other.write_text("a: 2\n", encoding="utf-8")
    assert "未变化，已跳过" in render(dept, "-o", out, "-f", "xlsx")[1]


PRIVATE = "database_password: hunter2-secret\napi_token: tok-PRIVATE-42\nserver: intranet.example\n"


@pytest.mark.parametrize("how", ["../private/config.yml", "absolute", "sub/../../private/config.yml"])
def test_edition_cannot_reach_outside_the_department_s_folder(tmp_path, how):
    folder = tmp_path / "dept"
    folder.mkdir()
    private = tmp_path / "private" / "config.yml"
    private.parent.mkdir()
    private.write_text(PRIVATE, encoding="utf-8")
    dept = folder / "dept.yaml"
    dept.write_text(example_text("2025"), encoding="utf-8")
    _use_layout(dept, str(private) if how == "absolute" else how)
    result = runner.invoke(app, ["check", str(dept)])
    assert result.exit_code == 1, result.output
    assert "应位于部门文件所在的文件夹" in result.output
    for secret in ("hunter2", "api_token", "database_password", "intranet", "PRIVATE"):
        assert secret not in result.output


def test_a_file_that_is_not_a_layout_is_refused_whole(tmp_path, dept):
    """Named on the command line it may be anywhere, but a YAML file with none of a layout's
    keys is refused as a whole: not one of its keys or values is shown."""
    private = tmp_path / "config.yml"
    private.write_text(PRIVATE + "server: twice\n", encoding="utf-8")  # a duplicate key, too
    result = runner.invoke(app, ["check", str(dept), "--layout", str(private)])
    assert result.exit_code == 1, result.output
    assert "这不是版式文件" in result.output
    for secret in ("hunter2", "api_token", "database_password", "intranet", "PRIVATE", "server"):
        assert secret not in result.output
    # inside the department's folder, by department.edition, the same
    (dept.parent / "notes.yaml").write_text(PRIVATE, encoding="utf-8")
    _use_layout(dept, "notes.yaml")
    result = runner.invoke(app, ["check", str(dept)])
    assert result.exit_code == 1 and "这不是版式文件" in result.output
    assert "hunter2" not in result.output and "api_token" not in result.output


def test_a_layout_with_a_mistake_is_still_explained(tmp_path, dept):
    """A real layout with one wrong key keeps its located message (only non-layouts are
    refused whole)."""
    layout = _own_layout(tmp_path, "mine.yaml")
    layout.write_text(layout.read_text(encoding="utf-8") + "colour: red\n", encoding="utf-8")
    _use_layout(dept, "mine.yaml")
    result = runner.invoke(app, ["check", str(dept)])
    assert result.exit_code == 1 and "colour" in result.output, result.output


def test_a_unit_s_edition_is_held_to_the_unit_s_folder(tmp_path):
    src = ROOT / "inputs"
    folder = tmp_path / "dept"
    (folder / "730-units").mkdir(parents=True)
    main = folder / "730-shixian-nongye-2025.yaml"
    main.write_text((src / main.name).read_text(encoding="utf-8"), encoding="utf-8")
    for unit in (src / "730-units").iterdir():
        (folder / "730-units" / unit.name).write_text(unit.read_text(encoding="utf-8"),
                                                       encoding="utf-8")
    first = sorted((folder / "730-units").iterdir())[0]
    (tmp_path / "secret.yaml").write_text(PRIVATE, encoding="utf-8")
    first.write_text(first.read_text(encoding="utf-8").replace(
        "edition: hebei-2025", "edition: ../../secret.yaml", 1), encoding="utf-8")
    result = runner.invoke(app, ["check", str(main)])
    assert result.exit_code == 1 and "应位于部门文件所在的文件夹" in result.output, result.output
    assert "hunter2" not in result.output


# ----------------------------------------------------------------------------- options


@pytest.mark.parametrize("extra", [["-o", "-", "-f", "xlsx", "--report", "r.json"],
                                   ["-o", "-", "-f", "xlsx", "--units"],
                                   ["-f", "xlsx", "--pdf-variant", "pdf/a-3b"]])
def test_options_that_cannot_go_together_are_a_usage_error(tmp_path, extra):
    os.chdir(tmp_path)
    result = runner.invoke(app, ["render", str(EXAMPLE_2025), *extra])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "output").exists()
    assert not result.stdout_bytes.startswith(b"PK")  # nothing rendered to the screen


def test_watch_sees_a_save_of_the_layout_file(tmp_path):
    """`watch` in its own process: saving only the layout file (in a folder whose name has a
    space and full-width brackets) updates the preview."""
    import subprocess
    import sys
    import time
    dept = tmp_path / "d.yaml"
    dept.write_text(example_text("2025"), encoding="utf-8")
    layout = _own_layout(tmp_path / "版式 （河北）、修订", "我的 版式.yaml")
    _use_layout(dept, f"{layout.parent.name}/{layout.name}")
    out, log = tmp_path / "out", tmp_path / "watch.log"
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "generator", "watch", str(dept), "-o", str(out),
                                 "-f", "", "--poll", "0.05", "--stop-after", "120"],
                                cwd=ROOT, stdout=fh, stderr=fh)
    try:
        def wait(predicate) -> bool:
            end = time.monotonic() + 60
            while time.monotonic() < end:
                if predicate():
                    return True
                time.sleep(0.1)
            return False

        assert wait(lambda: list(out.glob("*.html"))), log.read_text(encoding="utf-8")
        [html] = out.glob("*.html")
        first = html.read_bytes()
        text = layout.read_text(encoding="utf-8")
        layout.write_text(text.replace("title: ", "title: 修订版", 1), encoding="utf-8")
        assert wait(lambda: html.read_bytes() != first), log.read_text(encoding="utf-8")
        assert "修订版" in html.read_text(encoding="utf-8")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
