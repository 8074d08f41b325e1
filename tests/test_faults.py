"""Faults on the output side, made real: a full tmpfs, `ulimit -f`, SIGKILL at every commit step,
a killed batch, special files named by -o, duplicate output names, a file that takes too long.

What must hold each time: the department's previous complete set of outputs stays (never a new
XLSX beside an old PDF), nothing half-written is visible, hidden staging folders go away, the
clerk gets a Chinese message naming the path and an exit status of its own (4), no traceback.
Tests that need root (mount) or Linux say why when they skip.
"""
from __future__ import annotations

import errno
import ctypes
import os
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import EXAMPLE_2023, EXAMPLE_2025, ROOT, example_text, replace_once

from generator.commands import batch, jobs
from generator.render import output
from generator.render.output import OutputError, commit_set, output_stem, safe_stem

EX = example_text("2025")
STEM = output_stem("524", "秦皇岛市海港区人民政府西港路街道办事处", 2025)
LINUX = sys.platform.startswith("linux")


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUDGETGEN_FAULT")}
    env.update(PYTHONIOENCODING="utf-8", **extra)
    return env


def cli(*args, env=None, timeout=120, preexec_fn=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, env=env or _env(), timeout=timeout,
                          preexec_fn=preexec_fn, **kw)


def tree(out: Path) -> dict[str, bytes]:
    """Every file under `out`, hidden ones included: relative path → bytes."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def hidden(out: Path) -> list[str]:
    """Hidden leftovers (staging folders, temporary files); .budgetgen holds the records of
    the skip-unchanged cache (cache.py), which are not leftovers but may hold no temporaries."""
    records = out / ".budgetgen"
    stray = [f".budgetgen/{p.name}" for p in records.iterdir()
             if not p.name.endswith(".json")] if records.is_dir() else []
    return sorted([p.name for p in out.iterdir() if p.name.startswith(".") and p.name != ".budgetgen"]
                  + stray)


def variant(tmp_path: Path, marker: str, name: str = "dept.yaml") -> Path:
    """The 2025 example with a different project purpose (printed in the PDF, the HTML and the
    workbook): the same outputs' names, other content in every file."""
    path = tmp_path / name
    text = EX.replace("purpose: 增强街道城市管理水平", f"purpose: 版本{marker}增强街道城市管理水平", 1)
    assert text != EX
    path.write_text(text, encoding="utf-8")
    return path


def the_set(out: Path, formats=("xlsx", "html")) -> dict[str, bytes]:
    folder = out / STEM
    return {fmt: (folder / f"{STEM}.{fmt}").read_bytes() for fmt in formats
            if (folder / f"{STEM}.{fmt}").exists()}


# ----------------------------------------------------------------------------- full disk (tmpfs)


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 2 MB tmpfs, or a skip saying why it cannot be mounted here."""
    if not LINUX or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs Linux and root to mount a tmpfs (not available here)")
    point = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
    point.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(point)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"SKIP reason: mount -t tmpfs failed: {proc.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def _fill(point: Path, leave: int) -> None:
    """Fill the file system until about `leave` bytes are free."""
    st = os.statvfs(point)
    free = st.f_bavail * st.f_frsize
    with open(point / "filler", "wb") as fh:
        try:
            fh.write(b"\0" * max(free - leave, 0))
        except OSError:
            pass


def test_full_disk_keeps_the_previous_set_and_leaves_nothing_behind(small_tmpfs, monkeypatch):
    out = small_tmpfs / "out"
    commit_set(out, STEM, {"pdf": b"OLD PDF " * 1000, "xlsx": b"OLD XLSX " * 1000})
    before = tree(out)
    _fill(small_tmpfs, 100_000)
    # the PDF fits, the XLSX does not: the new PDF must not be published beside the old XLSX
    with pytest.raises(OutputError) as caught:
        commit_set(out, STEM, {"pdf": b"N" * 50_000, "xlsx": b"X" * 400_000})
    assert "磁盘空间已满" in str(caught.value) and str(out / STEM) in str(caught.value)
    assert tree(out) == before
    assert hidden(out) == []


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
def test_full_disk_from_the_command_line_is_exit_4_in_chinese(small_tmpfs, tmp_path):
    out = small_tmpfs / "out"
    src = variant(tmp_path, "一")
    first = cli("render", src, "-o", out, "-f", "xlsx,html")
    assert first.returncode == 0, first.stdout + first.stderr
    before = tree(out)
    _fill(small_tmpfs, 20_000)
    second = cli("render", variant(tmp_path, "二"), "-o", out, "-f", "xlsx,html")
    text = second.stdout + second.stderr
    assert second.returncode == 4, text
    assert "磁盘空间已满" in text and "Traceback" not in text and "OSError" not in text
    assert tree(out) == before and hidden(out) == []


# ----------------------------------------------------------------------------- ulimit -f


def _fsize_limit(limit: int):
    def set_limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return set_limit


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
def test_file_size_limit_keeps_the_previous_set(tmp_path):
    out = tmp_path / "out"
    assert cli("render", variant(tmp_path, "一"), "-o", out, "-f", "xlsx,html").returncode == 0
    before = tree(out)
    # the HTML (~200 KB) is over the limit, the XLSX (~30 KB) is not
    proc = cli("render", variant(tmp_path, "二"), "-o", out, "-f", "xlsx,html",
               preexec_fn=_fsize_limit(100_000))
    text = proc.stdout + proc.stderr
    assert proc.returncode == 4, text
    assert "超过了系统允许的大小" in text and "Traceback" not in text
    assert tree(out) == before and hidden(out) == []


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
def test_file_size_limit_on_new_roll_schema(tmp_path):
    for args in (("new", "-o", tmp_path / "a.yaml"), ("schema", "-o", tmp_path / "s.json"),
                 ("roll", EXAMPLE_2025, "--to", "2026", "-o", tmp_path / "r.yaml")):
        proc = cli(*args, preexec_fn=_fsize_limit(1000))
        text = proc.stdout + proc.stderr
        assert proc.returncode == 4, (args, text)
        assert "超过了系统允许的大小" in text and "Traceback" not in text, text
        assert sorted(p.name for p in tmp_path.iterdir()) == [], list(tmp_path.iterdir())


# ----------------------------------------------------------------------------- SIGKILL at each step


def _kill_each_step(tmp_path: Path, extra_env: dict, may_be_absent: bool = False) -> list[int]:
    out = tmp_path / "out"
    old_src, new_src = variant(tmp_path, "旧", "old.yaml"), variant(tmp_path, "新", "new.yaml")
    assert cli("render", old_src, "-o", out, "-f", "xlsx,html").returncode == 0
    old = the_set(out)
    killed_at = []
    for k in range(1, 30):
        proc = cli("render", new_src, "-o", out, "-f", "xlsx,html",
                   env=_env(BUDGETGEN_FAULT_KILL_AT=str(k), **extra_env))
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        killed_at.append(k)
        now = the_set(out)
        if may_be_absent and not now:  # killed between the fallback's two renames
            commit_set(out, "612-other-2023", {"xlsx": b"x"})  # the next render into out/
            assert the_set(out) == old and hidden(out) == [], k  # … puts the old set back
            continue
        # right after the kill: a complete set, old or new, never mixed, never partial
        assert set(now) == {"xlsx", "html"}, (k, proc.stderr)
        new = now if now != old else None
        if new is not None:
            assert all(now[f] != old[f] for f in now), f"mixed set after a kill at step {k}"
        # the next render (of another department into the same folder) cleans up after it
        commit_set(out, "612-other-2023", {"xlsx": b"x"})
        assert hidden(out) == [], (k, hidden(out))
        assert the_set(out) == now
        # back to the old set for the next step
        commit_set(out, STEM, old)
        assert the_set(out) == old
    else:
        pytest.fail("the render was still being killed after 29 steps")
    final = the_set(out)
    assert final != old and set(final) == {"xlsx", "html"} and hidden(out) == []
    return killed_at


@pytest.mark.slow
def test_sigkill_at_every_commit_step_never_mixes_the_set(tmp_path):
    steps = _kill_each_step(tmp_path, {})
    assert len(steps) >= 5, steps  # staging, each file, fsync, the switch, clean-up


@pytest.mark.slow
def test_sigkill_at_every_step_without_an_atomic_exchange(tmp_path, monkeypatch):
    """The fallback for systems without renameat2: the old set is moved aside, then the new one
    in; a kill in between leaves no folder for an instant, and the next render puts it back."""
    steps = _kill_each_step(tmp_path, {"BUDGETGEN_FAULT_NO_EXCHANGE": "1"}, may_be_absent=True)
    assert len(steps) >= 6, steps


def test_a_live_writer_s_staging_folder_is_not_removed(tmp_path):
    """Only the folders of dead writers are cleaned up: a staging folder whose writer still
    holds its lock stays."""
    fcntl = pytest.importorskip("fcntl")
    out = tmp_path / "out"
    out.mkdir()
    live = out / f".{STEM}.abcd1234.new"
    live.mkdir()
    (live / ".budgetgen-staging").write_text(f"budgetgen staging folder\n{STEM}\n", encoding="utf-8")
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        commit_set(out, "other-2025", {"xlsx": b"x"})
        assert live.is_dir()
    finally:
        os.close(fd)
    commit_set(out, "other-2025", {"xlsx": b"y"})
    assert not live.exists()


# ----------------------------------------------------------------------------- the published folder


def test_a_folder_with_other_files_is_never_replaced(tmp_path):
    out = tmp_path / "out"
    (out / STEM).mkdir(parents=True)
    (out / STEM / "我的笔记.docx").write_bytes(b"clerk's own file")
    with pytest.raises(OutputError) as caught:
        commit_set(out, STEM, {"xlsx": b"new"})
    assert "我的笔记.docx" in str(caught.value)
    assert (out / STEM / "我的笔记.docx").read_bytes() == b"clerk's own file" and hidden(out) == []


@pytest.mark.parametrize("kind", ["file", "symlink", "fifo"])
def test_a_special_file_where_the_folder_goes_is_never_replaced(tmp_path, kind):
    out = tmp_path / "out"
    out.mkdir()
    target = out / STEM
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if kind == "file":
        target.write_bytes(b"keep")
    elif kind == "symlink":
        target.symlink_to(elsewhere)
    else:
        os.mkfifo(target)
    with pytest.raises(OutputError):
        commit_set(out, STEM, {"xlsx": b"new"})
    assert os.path.lexists(target) and list(elsewhere.iterdir()) == [] and hidden(out) == []


# ----------------------------------------------------------------------------- -o naming special files


def _specials(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link.yaml"
    (tmp_path / "real.yaml").write_text("keep", encoding="utf-8")
    link.symlink_to(tmp_path / "real.yaml")
    folder = tmp_path / "folder"
    folder.mkdir()
    sock = tmp_path / "sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(sock))
    s.close()
    return {"fifo": fifo, "symlink": link, "folder": folder, "device": Path("/dev/null"), "socket": sock}


def invoke(*args):
    from typer.testing import CliRunner

    from generator.commands.cli import app
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
@pytest.mark.parametrize("command", ["new", "roll", "schema"])
def test_o_naming_a_special_file_is_refused_even_with_force(tmp_path, command):
    specials = _specials(tmp_path)
    for kind, path in specials.items():
        for force in ((), ("--force",)):
            if command == "schema" and force:
                continue
            args = {"new": ("new", "-o", path, *force),
                    "roll": ("roll", EXAMPLE_2025, "--to", "2026", "-o", path, *force),
                    "schema": ("schema", "-o", path)}[command]
            if kind == "fifo":  # a FIFO opened for writing would hang: a process with a timeout
                proc = cli(*args, timeout=60)
                code, text = proc.returncode, proc.stdout + proc.stderr
            else:
                res = invoke(*args)
                code, text = res.exit_code, res.stdout + res.stderr
                assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
            assert code == 4, (kind, force, text)
            assert "不写入" in text and "Traceback" not in text, text
    assert (tmp_path / "real.yaml").read_text(encoding="utf-8") == "keep"
    assert stat.S_ISFIFO(os.lstat(specials["fifo"]).st_mode)
    assert list(specials["folder"].iterdir()) == []


@pytest.mark.slow
def test_force_overwrites_a_regular_file_and_dash_is_standard_output(tmp_path):
    path = tmp_path / "dept.yaml"
    path.write_text("old", encoding="utf-8")
    refused = cli("new", "-o", path)
    assert refused.returncode == 4 and "已存在" in refused.stderr  # the output cannot be written
    assert cli("new", "-o", path, "--force").returncode == 0
    assert "department:" in path.read_text(encoding="utf-8")
    shown = cli("new", "-o", "-")
    assert shown.returncode == 0 and shown.stdout.startswith(path.read_text(encoding="utf-8")[:40])
    rolled = cli("roll", EXAMPLE_2025, "--to", "2026", "-o", "-")
    assert rolled.returncode == 0 and "year: 2026" in rolled.stdout
    schema = cli("schema", "-o", "-")
    assert schema.returncode == 0 and schema.stdout.lstrip().startswith("{")
    xlsx = subprocess.run([sys.executable, "-m", "generator", "render", EXAMPLE_2023, "-o", "-", "-f", "xlsx"],
                          capture_output=True, cwd=ROOT, env=_env(), timeout=120)
    assert xlsx.returncode == 0 and xlsx.stdout[:2] == b"PK"
    # nothing else was written (`new` puts the editor's budget.schema.json beside the file it writes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["budget.schema.json", "dept.yaml"]


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
def test_render_o_must_be_a_folder(tmp_path):
    specials = _specials(tmp_path)
    for kind in ("fifo", "device", "socket"):
        proc = cli("render", EXAMPLE_2023, "-o", specials[kind], "-f", "xlsx", timeout=60)
        assert proc.returncode == 4 and "不是文件夹" in proc.stderr, (kind, proc.stderr)
    regular = tmp_path / "real.yaml"
    proc = cli("render", EXAMPLE_2023, "-o", regular, "-f", "xlsx")
    assert proc.returncode == 4 and "不是文件夹" in proc.stderr
    assert regular.read_text(encoding="utf-8") == "keep"


@pytest.mark.parametrize("where,fragment", [
    ("/etc/hostname/sub", "不是文件夹"),
    ("/proc/budgetgen-out", "无法写入"),
])
@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
def test_os_errors_on_output_are_chinese_with_exit_4(tmp_path, where, fragment):
    if not Path("/etc/hostname").is_file() and "hostname" in where:
        pytest.skip("no /etc/hostname here")
    for args in (("render", EXAMPLE_2023, "-o", where, "-f", "xlsx"), ("new", "-o", f"{where}/d.yaml"),
                 ("schema", "-o", f"{where}/s.json"), ("roll", EXAMPLE_2025, "--to", "2026", "-o", f"{where}/r.yaml")):
        proc = cli(*args)
        text = proc.stdout + proc.stderr
        assert proc.returncode == 4, (args, text)
        assert fragment in text and "Traceback" not in text and "内部错误" not in text, text


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
def test_read_only_file_system_is_exit_4(tmp_path):
    if not LINUX or os.geteuid() != 0:
        pytest.skip("needs root to mount a read-only tmpfs")
    point = tmp_path / "ro"
    point.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(point)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        for args in (("render", EXAMPLE_2023, "-o", point / "out", "-f", "xlsx"), ("new", "-o", point / "d.yaml")):
            res = cli(*args)
            assert res.returncode == 4 and "只读" in res.stdout + res.stderr, res.stdout + res.stderr
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def test_describe_os_error_covers_the_usual_causes():
    for code, fragment in ((errno.ENOSPC, "磁盘空间已满"), (errno.EFBIG, "超过了系统允许的大小"),
                           (errno.EROFS, "只读"), (errno.EACCES, "没有写入权限"),
                           (errno.ENOTDIR, "不是文件夹"), (errno.EDQUOT, "配额")):
        text = output.describe_os_error(OSError(code, os.strerror(code)), "/x/y")
        assert fragment in text and "/x/y" in text


# ----------------------------------------------------------------------------- duplicate outputs


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
def test_two_inputs_for_the_same_output_are_both_refused_before_anything_is_written(tmp_path):
    a = variant(tmp_path, "甲", "a.yaml")
    b = variant(tmp_path, "乙", "b.yaml")
    out = tmp_path / "out"
    proc = cli("render", a, b, EXAMPLE_2023, "-o", out, "-f", "xlsx", "-j", "2")
    assert proc.returncode == 1, proc.stdout
    assert proc.stdout.count("[输出重名]") == 2 and f"{a} 与 {b}" in proc.stdout and f"{b} 与 {a}" in proc.stdout
    assert sorted(p.name for p in out.iterdir() if p.name != ".budgetgen") == [output_stem("612", "秦皇岛市山海关区南关街道办事处", 2023)]


def test_the_same_file_twice_is_not_a_clash(tmp_path):
    assert batch.same_output([str(EXAMPLE_2023), str(EXAMPLE_2023)]) == {}
    link = tmp_path / "link.yaml"
    link.symlink_to(EXAMPLE_2023)
    assert batch.same_output([str(EXAMPLE_2023), str(link)]) == {}


def test_same_output_also_when_names_differ_only_in_case(tmp_path):
    """Windows and macOS file systems do not tell 'ABC' from 'abc': the same file there."""
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text(replace_once(EX, 'code: "524"', 'code: "A524"'), encoding="utf-8")
    b.write_text(replace_once(EX, 'code: "524"', 'code: "a524"'), encoding="utf-8")
    refused = batch.same_output([str(a), str(b), str(EXAMPLE_2023)])
    assert sorted(refused) == [0, 1]


def test_output_names_keep_code_and_year_however_long():
    for code, name in (("9" * 300, "部门"), ("524", "长" * 300), ("1" * 300, "名" * 300), ("524", "")):
        stem = safe_stem(code, name, 2025)
        assert stem.endswith("-2025") and len(stem.encode()) <= output.MAX_STEM_BYTES, stem
        assert stem.startswith(code[:20])
    # two long codes that differ only at the end still give two names
    assert safe_stem("9" * 299 + "1", "x", 2025) != safe_stem("9" * 299 + "2", "x", 2025)


INVISIBLE = ["\u200b", "\u200d", "\u2060", "\ufeff", "\u202e", "\u2066", "\u2028", "\u2029",
             "\ufe0f", "\U000e0041", "\U000e0100", "\u3164", "\u115f", "\uffa0", "\u00ad", "\u180e"]


@pytest.mark.parametrize("ch", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_file_names_drop_invisible_and_format_characters(ch):
    stem = safe_stem("524", f"西港{ch}路{ch}", 2025)
    assert stem == "524-西港路-2025", ascii(stem)


def test_file_names_drop_combining_marks_without_a_base():
    assert safe_stem("524", "\u0301\u0308西港路", 2025) == "524-西港路-2025"
    assert safe_stem("524", "Cafe\u0301", 2025) == "524-Café-2025"  # a mark on a letter stays


# ----------------------------------------------------------------------------- killed batch


def _children(pid: int) -> set[int]:
    """Processes whose parent is `pid` (from /proc/*/stat)."""
    kids: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.add(int(entry))
    return kids


def _is_worker(pid: int) -> bool:
    """A forked worker has the batch's command line (not ldconfig or another helper)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"generator" in fh.read()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_batch_leaves_no_worker_behind(tmp_path, sig):
    if not LINUX or not Path("/proc/self/stat").is_file():
        pytest.skip("needs Linux /proc to see the workers")
    files = []
    for i in range(6):
        p = tmp_path / f"d{i}.yaml"
        p.write_text(replace_once(EX, 'code: "524"', f'code: "9{i}"'), encoding="utf-8")
        files.append(p)
    proc = subprocess.Popen([sys.executable, "-m", "generator", "render", *map(str, files), "-o",
                             str(tmp_path / "out"), "-f", "pdf", "-j", "2"], cwd=ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # this process adopts the batch's orphans (PR_SET_CHILD_SUBREAPER), so it can see how each
    # worker ended: killed by a signal (the kernel's PR_SET_PDEATHSIG), not left running
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    try:
        workers: set[int] = set()
        for _ in range(2400):  # (a hang guard: at most a couple of minutes)
            workers = {k for k in _children(proc.pid) if _alive(k) and _is_worker(k)}
            if len(workers) >= 2:
                break
            time.sleep(0.05)
        assert len(workers) >= 2, "the batch started no workers"
        os.kill(proc.pid, sig)  # six files for two workers: both are rendering
        proc.wait(timeout=120)
        ended = {}
        for w in workers:
            for _ in range(2400):
                pid, status = os.waitpid(w, os.WNOHANG)
                if pid:
                    ended[w] = status
                    break
                time.sleep(0.05)
        assert set(ended) == workers, "workers outlived the batch"
        signalled = [os.WTERMSIG(s) for s in ended.values() if os.WIFSIGNALED(s)]
        assert signalled and set(signalled) <= {signal.SIGKILL, signal.SIGTERM}, ended
    finally:
        libc.prctl(36, 0, 0, 0, 0)
        if proc.poll() is None:
            proc.kill()


# ----------------------------------------------------------------------------- per-file time limit


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
def test_a_slow_file_times_out_and_the_others_finish(tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text(replace_once(EX, "basic: 1505.72}", "basic: 1505.73}"), encoding="utf-8")
    out = tmp_path / "out"
    # the PDF of the example takes a few seconds; 0.3 s is not enough
    outcomes = batch.render_batch([str(EXAMPLE_2025), str(broken)], str(out), ("pdf",), 1, timeout=0.3)
    assert [o.status for o in outcomes] == ["timeout", "error"]
    assert outcomes[0].problems[0].rule == "超时" and "0.3秒" in outcomes[0].problems[0].message
    assert "超时1个" in capsys.readouterr().out
    assert not out.exists() or (list(out.iterdir()) == [])


@pytest.mark.slow
def test_a_slow_file_times_out_in_a_worker_too(tmp_path):
    if batch.default_start_method() != "fork":
        pytest.skip("workers are forked only on Linux")
    out = tmp_path / "out"
    outcomes = batch.render_batch([str(EXAMPLE_2025), str(EXAMPLE_2023)], str(out), ("pdf",), 2,
                                  timeout=0.3, stream=open(os.devnull, "w"))
    assert [o.status for o in outcomes] == ["timeout", "timeout"]
    assert not out.exists() or hidden(out) == []
    assert jobs.Outcome("x", "timeout").exit_code != 0


def test_new_roll_schema_never_print_a_traceback(monkeypatch, tmp_path):
    import generator.commands.roll
    import generator.schema

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(generator.commands.roll, "roll_file", broken)
    monkeypatch.setattr(generator.schema, "schema_text", broken)
    for args in (("roll", EXAMPLE_2025, "--to", "2026", "-o", tmp_path / "r.yaml"),
                 ("schema", "-o", tmp_path / "s.json")):
        res = invoke(*args)
        assert res.exit_code == 5 and "内部错误" in res.stderr, (args, res.stderr)
        assert not isinstance(res.exception, RuntimeError) and "Traceback" not in res.output


def _native_hang(path, out_dir, formats, **kwargs):
    """Like a loop inside native code: SIGALRM never reaches Python."""
    if path.endswith("hang.yaml"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        while True:
            pass
    return jobs.Outcome(path, "ok", 0.01)


@pytest.mark.slow
def test_a_worker_stuck_where_the_alarm_cannot_reach_is_stopped(monkeypatch):
    if batch.default_start_method() != "fork":
        pytest.skip("the stub reaches the workers only through fork")
    monkeypatch.setattr(jobs, "render_file", _native_hang)  # what batch._work calls
    monkeypatch.setattr(batch, "CPU_GRACE", 0.5)
    outcomes = batch.render_batch(["/x/a.yaml", "/x/hang.yaml", "/x/b.yaml"], "/tmp/none", ("pdf",), 2,
                                  timeout=0.5, stream=open(os.devnull, "w"))
    assert [o.status for o in outcomes] == ["ok", "crash", "ok"]
    assert "进程" in outcomes[1].problems[0].message
