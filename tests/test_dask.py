"""`render --executor dask://…` on a real distributed.LocalCluster (2 spawned single-threaded
worker processes) and the batch manifest (resuming a batch interrupted half-way, on either
executor).

The cluster is started once for the module. BUDGETGEN_FAULT_WORKER_EXIT (commands/dask_batch.py)
is set before it starts, so the spawned workers inherit it: a file named die-once.yaml ends its
worker once, mid-task (after rendering into its temporary folder, before publishing); a file
named poison.yaml ends its worker every time. The scheduler allows one such death per task
(distributed.scheduler.allowed-failures = 1): the second ends the task as `crash`.

Most batches render XLSX only (the cheapest renderer: the mechanism is the same); the
byte-for-byte comparison with a local batch renders PDF and XLSX.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.commands import batch, manifest
from generator.commands.cli import app

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "inputs"
FAULT_ENV = "BUDGETGEN_FAULT_WORKER_EXIT"
HANG_ENV = "BUDGETGEN_FAULT_WORKER_HANG"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    pytest.importorskip("distributed")
    import dask
    from distributed import LocalCluster
    markers = tmp_path_factory.mktemp("died")
    before = {name: os.environ.get(name) for name in (FAULT_ENV, HANG_ENV)}
    os.environ[FAULT_ENV] = f"die-once.yaml@{markers},poison.yaml"
    os.environ[HANG_ENV] = f"hang-once.yaml@{markers}"
    try:
        with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
                LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                             dashboard_address=None, scheduler_port=0) as local:
            yield local.scheduler_address.replace("tcp://", "dask://"), markers, local
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def variant(folder: Path, name: str, code: str) -> Path:
    """The 900 example under another file name and department code (so outputs never clash)."""
    text = (INPUTS / "900-qingshan-2025.yaml").read_text(encoding="utf-8")
    assert 'code: "900"' in text
    path = folder / name
    path.write_text(text.replace('code: "900"', f'code: "{code}"', 1), encoding="utf-8")
    return path


def outputs(folder: Path) -> dict[str, bytes]:
    """Every published output under folder: not the records and the manifest (.budgetgen), not
    a staging folder (.…new) a task still running on the cluster may be writing."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)}


def lines(out: Path) -> list[dict]:
    return manifest.read(manifest.manifest_path(out))


def test_a_dask_batch_writes_the_same_bytes_as_a_local_batch(cluster, tmp_path):
    address, *_ = cluster
    files = [str(INPUTS / "524-xigang-2025.yaml"), str(INPUTS / "612-nanguan-2023.yaml")]
    runner = CliRunner()
    local = runner.invoke(app, ["render", *files, "-o", str(tmp_path / "local"), "-j", "1"])
    assert local.exit_code == 0, local.output
    report = tmp_path / "report.json"
    remote = runner.invoke(app, ["render", *files, "-o", str(tmp_path / "dask"), "--executor", address,
                                 "--report", str(report)])
    assert remote.exit_code == 0, remote.output
    a, b = outputs(tmp_path / "local"), outputs(tmp_path / "dask")
    assert sorted(a) == sorted(b) and len(a) == 4  # two departments, PDF + XLSX each
    assert all(a[name] == b[name] for name in a)
    # progress and summary as in a local batch: one line per file, the files as typed
    assert remote.output.count("：通过（") == 2
    for f in files:
        assert f"{f}：通过" in remote.output or f in remote.output
    # the manifest: one line per file, as they arrived
    seen = lines(tmp_path / "dask")
    assert sorted(e["file"] for e in seen) == sorted(files)
    assert {e["status"] for e in seen} == {"ok"}
    assert all(len(e["outputs"]) == 2 and e["input_hash"] and e["version"] for e in seen)
    # the report is built from the manifest: same files, statuses, outputs
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [f["file"] for f in data["files"]] == files
    assert [f["outputs"] for f in data["files"]] == [next(e["outputs"] for e in seen if e["file"] == f)
                                                    for f in files]
    assert data["files"][0]["warnings"] > 0  # the example's text warnings came back from the worker
    assert data["files"][0]["problems"][0]["file"] == files[0]  # named as typed, not the worker's path


def test_a_worker_killed_mid_task_is_retried_and_the_batch_ends_ok(cluster, tmp_path):
    address, markers, _ = cluster
    inputs = tmp_path / "in"
    inputs.mkdir()
    files = [str(variant(inputs, "die-once.yaml", "901")), str(variant(inputs, "b.yaml", "902")),
             str(variant(inputs, "c.yaml", "903"))]
    out = tmp_path / "out"
    outcomes = batch.render_batch(files, str(out), ("xlsx",), executor=address.replace("dask://", "tcp://"))
    assert (markers / "die-once.yaml.died").exists()  # the worker really died once
    assert [o.status for o in outcomes] == ["ok", "ok", "ok"]
    published = outputs(out)
    assert sorted(published) == sorted(str(Path(p).relative_to(out)) for o in outcomes for p in o.outputs)
    assert len(published) == 3
    assert not [p for p in out.iterdir() if p.name.endswith((".new", ".old"))]  # no staging left


def test_a_file_that_keeps_killing_workers_ends_as_crash_the_others_ok(cluster, tmp_path, capsys):
    address, *_ = cluster
    inputs = tmp_path / "in"
    inputs.mkdir()
    files = [str(variant(inputs, "a.yaml", "911")), str(variant(inputs, "poison.yaml", "912")),
             str(variant(inputs, "c.yaml", "913"))]
    out = tmp_path / "out"
    outcomes = batch.render_batch(files, str(out), ("xlsx",), executor=address.replace("dask://", "tcp://"),
                                  manifest=manifest.Manifest(out, ("xlsx",), {"units": False, "layout": None}))
    assert [o.status for o in outcomes] == ["ok", "crash", "ok"]
    assert outcomes[1].problems[0].rule == "内部错误"
    assert outcomes[1].problems[0].location.file == files[1]
    assert "工作进程" in outcomes[1].problems[0].message
    assert not (out / "912-示例县青山镇人民政府-2025").exists()  # nothing of it published
    text = capsys.readouterr().out
    assert "共3个文件：通过2个，内部错误1个" in text
    assert {e["file"]: e["status"] for e in lines(out)} == {files[0]: "ok", files[1]: "crash", files[2]: "ok"}


def test_the_time_limit_holds_in_a_worker_thread(cluster, tmp_path):
    address, *_ = cluster
    files = [str(variant(tmp_path, "a.yaml", "921")), str(variant(tmp_path, "b.yaml", "922"))]
    outcomes = batch.render_batch(files, str(tmp_path / "out"), ("xlsx",), timeout=0.001,
                                  executor=address.replace("dask://", "tcp://"))
    assert [o.status for o in outcomes] == ["timeout", "timeout"]
    assert "时间上限" in outcomes[0].problems[0].message


class _Interrupted(manifest.Manifest):
    """A manifest whose batch is interrupted (Ctrl-C) right after its first line is written."""

    def add(self, outcome) -> None:
        super().add(outcome)
        raise KeyboardInterrupt


@pytest.mark.parametrize("where", ["local", "dask"])
def test_a_batch_interrupted_half_way_renders_only_the_rest(cluster, tmp_path, where):
    """Local: Ctrl-C right after the first result. Dask: the batch process is killed (SIGKILL)
    as soon as the manifest has its first line; tasks already running on the cluster finish."""
    address, *_ = cluster
    executor = address.replace("dask://", "tcp://") if where == "dask" else None
    files = [str(variant(tmp_path, f"{n}.yaml", f"93{n}")) for n in range(8)]
    out = tmp_path / "out"
    options = {"units": False, "layout": None}
    if where == "local":
        first = _Interrupted(out, ("xlsx",), options)
        with pytest.raises(KeyboardInterrupt):
            batch.render_batch(files, str(out), ("xlsx",), 1, manifest=first)
        first_batch = first.batch
    else:
        first_batch = _killed_after_first_line(files, out, address)
    done = [e["file"] for e in lines(out) if e["batch"] == first_batch]
    assert 1 <= len(done) < len(files) and all(e["status"] == "ok" for e in lines(out))
    # what the first run finished (its manifest lines; on the cluster another task of the killed
    # client may be publishing its set at this very moment, and is free to)
    kept = {str(Path(p).relative_to(out)): Path(p).stat().st_ino
            for e in lines(out) if e["batch"] == first_batch for p in e["outputs"]}
    assert kept

    second = manifest.Manifest(out, ("xlsx",), options)
    outcomes = batch.render_batch(files, str(out), ("xlsx",), 1, executor=executor, manifest=second)
    status = {o.file: o.status for o in outcomes}
    assert all(status[f] == "skipped" for f in done)
    # a department the cluster finished after the interrupt (its record was written) is skipped
    # too; nothing is rendered twice and every department ends with its outputs
    rendered = [f for f, s in status.items() if s == "ok"]
    assert set(rendered) | {f for f, s in status.items() if s == "skipped"} == set(files)
    assert rendered, "the rest was rendered"
    assert {e["file"]: e["status"] for e in lines(out) if e["batch"] == second.batch} == status
    for name, inode in kept.items():  # what the first run published was not written again
        assert (out / name).stat().st_ino == inode
    assert len(outputs(out)) == len(files)


def _killed_after_first_line(files: list[str], out: Path, address: str) -> str:
    """Run `render FILES --executor …` in a process, SIGKILL it once the manifest has a line;
    the id of the batch it wrote."""
    import subprocess
    import sys
    import time
    proc = subprocess.Popen([sys.executable, "-m", "generator", "render", *files, "-o", str(out), "-f", "xlsx",
                             "--executor", address], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300  # a bound on a hung test, not a timing assertion
        while not lines(out) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.wait()
    return lines(out)[0]["batch"]


def test_results_sent_back_are_published_by_the_client(cluster, tmp_path):
    address, *_ = cluster
    files = [str(variant(tmp_path, "a.yaml", "941")), str(variant(tmp_path, "b.yaml", "942"))]
    out = tmp_path / "out"
    outcomes = batch.render_batch(files, str(out), ("xlsx",), send_back=True,
                                  executor=address.replace("dask://", "tcp://"))
    assert [o.status for o in outcomes] == ["ok", "ok"]
    assert all(Path(p).is_file() for o in outcomes for p in o.outputs)
    # the client wrote the skip-unchanged records: a local re-run skips both
    again = batch.render_batch(files, str(out), ("xlsx",), 1)
    assert [o.status for o in again] == ["skipped", "skipped"]


def test_a_department_with_its_units_is_one_task_and_matches_a_local_batch(cluster, tmp_path):
    """--units: the 所属单位 are rendered in the department's task; the same files, byte for byte."""
    address, *_ = cluster
    files = [str(INPUTS / "730-shixian-nongye-2025.yaml"), str(INPUTS / "612-nanguan-2023.yaml")]
    local = batch.render_batch(files, str(tmp_path / "local"), ("xlsx",), 1, units=True)
    remote = batch.render_batch(files, str(tmp_path / "dask"), ("xlsx",), units=True,
                                executor=address.replace("dask://", "tcp://"))
    assert [o.status for o in remote] == ["ok", "ok"]
    assert remote[0].units and [len(u.outputs) for u in remote[0].units] == [len(u.outputs) for u in local[0].units]
    a, b = outputs(tmp_path / "local"), outputs(tmp_path / "dask")
    assert sorted(a) == sorted(b) and len(a) > 2
    assert all(a[name] == b[name] for name in a)


def test_workers_whose_files_ran_out_of_time_render_the_next_batch(cluster, tmp_path, monkeypatch):
    """Issue 28's hang: the time limit in a worker's task thread could raise FileTimeout after
    its file was done (or before it began), killing the worker's task thread or a thread given
    its id — a worker that stays connected and never runs another task, and a batch waiting for
    it for ever. Limits far shorter than a file, on every worker, then a batch: all rendered."""
    from generator.commands import dask_batch
    # should a worker stop answering all the same, the batch restarts it sooner than by default
    monkeypatch.setattr(dask_batch, "CHECK", 1.0)
    monkeypatch.setattr(dask_batch, "GRACE", 5.0)
    monkeypatch.setattr(dask_batch, "RESULT_TIMEOUT", 10.0)
    address, *_ = cluster
    tcp = address.replace("dask://", "tcp://")
    files = [str(variant(tmp_path, f"t{n}.yaml", f"95{n}")) for n in range(6)]
    for limit in (0.0001, 0.001, 0.005, 0.02):
        late = batch.render_batch(files, str(tmp_path / "late"), ("xlsx",), timeout=limit, force=True,
                                  executor=tcp)
        assert {o.status for o in late} <= {"timeout", "ok"}
    outcomes = batch.render_batch(files, str(tmp_path / "out"), ("xlsx",), executor=tcp)
    assert [o.status for o in outcomes] == ["ok"] * len(files)


def test_the_same_files_resubmitted_while_a_killed_clients_tasks_still_run(cluster, tmp_path):
    """A client killed (SIGKILL) as soon as its tasks run on the workers — the scheduler
    releases them, the workers finish the ones they are running and publish them — and the same
    batch at once from a new client, with keys of its own: every file ends rendered or skipped,
    each with its whole set, the same bytes as a local batch, and the batch ends."""
    import subprocess
    import sys
    import time
    from distributed import Client
    address, *_ = cluster
    tcp = address.replace("dask://", "tcp://")
    files = [str(variant(tmp_path, f"r{n}.yaml", f"96{n}")) for n in range(6)]
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "generator", "render", *files, "-o", str(out), "-f", "xlsx",
                             "--executor", address], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with Client(tcp, set_as_default=False, timeout="20s") as watcher:
            deadline = time.monotonic() + 240  # a bound on a hung test, not a timing assertion
            while proc.poll() is None and time.monotonic() < deadline and not any(
                    str(k).startswith("budgetgen-render-") for keys in watcher.processing().values() for k in keys):
                time.sleep(0.01)
    finally:
        proc.kill()
        proc.wait()
    second = manifest.Manifest(out, ("xlsx",), {"units": False, "layout": None})
    outcomes = batch.render_batch(files, str(out), ("xlsx",), executor=tcp, manifest=second)
    status = {o.file: o.status for o in outcomes}
    assert set(status.values()) <= {"ok", "skipped"} and "ok" in status.values()
    assert {e["file"]: e["status"] for e in lines(out) if e["batch"] == second.batch} == status
    local = batch.render_batch(files, str(tmp_path / "local"), ("xlsx",), 1)
    assert [o.status for o in local] == ["ok"] * len(files)
    a, b = outputs(tmp_path / "local"), outputs(out)
    assert sorted(a) == sorted(b) and len(a) == len(files)
    assert all(a[name] == b[name] for name in a)


def test_a_task_the_scheduler_cancels_is_submitted_again(cluster, tmp_path):
    """The scheduler cancels a task of the batch (here on purpose, as it does for a client it
    believes gone): the file is submitted again under a new key and the batch ends all ok."""
    import asyncio
    from distributed.diagnostics.plugin import SchedulerPlugin
    address, _, local = cluster
    scheduler = local.scheduler
    cancelled: list[str] = []
    ran: list[str] = []

    class CancelOne(SchedulerPlugin):
        name = "budgetgen-test-cancel-one"

        def transition(self, key, start, finish, *args, **kwargs):
            if finish == "processing":
                ran.append(str(key))
            if finish == "processing" and not cancelled and str(key).startswith("budgetgen-render-") \
                    and str(key).endswith("-1-1"):  # the second file's first run
                cancelled.append(str(key))
                client = next(iter(scheduler.tasks[key].who_wants)).client_key
                asyncio.get_running_loop().call_soon(scheduler.stimulus_cancel, [key], client, True,
                                                     "test", "cancelled by the test")

    scheduler.add_plugin(CancelOne())
    try:
        files = [str(variant(tmp_path, f"{n}.yaml", f"98{n}")) for n in range(3)]
        outcomes = batch.render_batch(files, str(tmp_path / "out"), ("xlsx",),
                                      executor=address.replace("dask://", "tcp://"))
    finally:
        scheduler.remove_plugin(name=CancelOne.name)
    assert cancelled
    assert any(key == cancelled[0][:-2] + "-2" for key in ran)  # submitted again, its second run
    assert [o.status for o in outcomes] == ["ok", "ok", "ok"]
    assert len(outputs(tmp_path / "out")) == 3


def test_a_task_stuck_past_its_time_limit_restarts_its_worker_and_the_batch_ends_ok(cluster, tmp_path,
                                                                                    monkeypatch):
    """A task that never returns, whatever its time limit (hang-once.yaml sleeps in one call
    the first time, like a native library that does not come back): past twice the limit plus
    GRACE the batch restarts its worker and submits the file again, and ends all ok."""
    from generator.commands import dask_batch
    monkeypatch.setattr(dask_batch, "CHECK", 0.5)
    monkeypatch.setattr(dask_batch, "GRACE", 1.0)
    address, markers, _ = cluster
    files = [str(variant(tmp_path, "hang-once.yaml", "971")), str(variant(tmp_path, "b.yaml", "972")),
             str(variant(tmp_path, "c.yaml", "973"))]
    outcomes = batch.render_batch(files, str(tmp_path / "out"), ("xlsx",), timeout=5,
                                  executor=address.replace("dask://", "tcp://"))
    assert (markers / "hang-once.yaml.hung").exists()  # it really hung once
    assert [o.status for o in outcomes] == ["ok", "ok", "ok"]
    assert len(outputs(tmp_path / "out")) == 3
