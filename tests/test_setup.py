"""The README's set-up works on a stock Debian 12 as a normal user: `.ci/setup` run with Debian's
own Python — whose standard library carries the EXTERNALLY-MANAGED marker, so its pip refuses
to install anything (PEP 668) — in a clean copy of the project, by a user who is not root
(system packages skipped with a note). The venv it makes runs the README's two commands; the
system Python is left untouched and no `pip` command is ever run. (CI runs the same set-up as
root on this image: .ci/run.)"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEBIAN_PYTHON = Path("/usr/bin/python3")
NOBODY = 65534

pytestmark = pytest.mark.slow


def _externally_managed(python: Path) -> bool:
    if not python.is_file():
        return False
    code = ("import os, sysconfig; print(os.path.isfile(os.path.join("
            "sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')))")
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return out.stdout.strip() == "True"


needs_debian_python = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not _externally_managed(DEBIAN_PYTHON),
    reason="needs a Debian 12 Python with EXTERNALLY-MANAGED at /usr/bin/python3")


def _copy_project(dest: Path) -> Path:
    skip = shutil.ignore_patterns(".git", ".venv*", "output", "__pycache__", "*.egg-info", "build",
                                  ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache")
    shutil.copytree(ROOT, dest, ignore=skip)
    (dest / "output").mkdir()
    return dest


@pytest.fixture(scope="module")
def fresh():
    """A clean copy of the project, set up by .ci/setup as a normal user with Debian's Python:
    (project folder, environment used, how to run as that user, the set-up's completed process).
    (Not under pytest's tmp_path: its folders are root's alone.)"""
    base = Path(tempfile.mkdtemp(prefix="budgetgen-debian-"))
    try:
        yield _set_up(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _set_up(base: Path):
    project = _copy_project(base / "budgetgen")
    home, shims = base / "home", base / "shims"
    home.mkdir()
    shims.mkdir()
    log = base / "pip-called.log"
    for name in ("pip", "pip3", "pip3.11"):  # a `pip` command run by the set-up would show here
        shim = shims / name
        shim.write_text(f"#!/bin/sh\necho \"$0 $*\" >> {log}\nexit 99\n", encoding="utf-8")
        shim.chmod(0o755)
    env = {"PATH": f"{shims}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "PIP_NO_COMPILE": "1"}  # (bytecode is compiled on first import; the install is quicker)
    for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY",
                "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CERT",
                "PIP_DEFAULT_TIMEOUT", "SSL_CERT_FILE"):
        if key in os.environ:
            env[key] = os.environ[key]
    prefix: list[str] = []
    if os.geteuid() == 0:  # run as a normal user: nobody
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv is needed to run the set-up as a normal user")
        for path in (base, *base.rglob("*")):
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
        base.chmod(0o755)
        prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    proc = subprocess.run([*prefix, "bash", ".ci/setup"], cwd=project, env=env, capture_output=True,
                          text=True, check=False, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not log.exists(), log.read_text(encoding="utf-8")
    return project, env, prefix, proc


@needs_debian_python
def test_debian_python_refuses_system_installs():
    """The premise: Debian 12's pip will not install into the system Python."""
    proc = subprocess.run([str(DEBIAN_PYTHON), "-m", "pip", "install", "--dry-run", "--no-index",
                           "budgetgen"], capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert proc.returncode != 0 and "externally-managed-environment" in proc.stdout + proc.stderr


@needs_debian_python
def test_setup_makes_a_venv_as_a_normal_user(fresh):
    project, env, prefix, proc = fresh
    assert "externally-managed" not in proc.stdout + proc.stderr
    if prefix:
        assert "note: not root" in proc.stderr  # the Debian packages are root's to install
    python = project / ".venv" / "bin" / "python"
    out = subprocess.run([*prefix, str(python), "-c",
                          "import sys, generator; print(sys.prefix != sys.base_prefix, sys.base_prefix,"
                          " generator.__file__)"],
                         cwd=project, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "True" and out[1] == "/usr"  # a venv of Debian's Python
    assert out[2] == str(project / "generator" / "__init__.py")  # editable: the copy's source
    system = subprocess.run([str(DEBIAN_PYTHON), "-c", "import generator"], cwd="/",
                            capture_output=True, check=False, env={"PATH": "/usr/bin:/bin"})
    assert system.returncode != 0  # nothing was installed into the system Python


@needs_debian_python
def test_the_venv_has_the_locked_versions(fresh):
    project, env, prefix, _ = fresh
    locked = {}
    for line in (project / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            locked[name.lower().replace("_", "-")] = version
    code = ("import importlib.metadata as m; "
            "print('\\n'.join(f\"{d.metadata['Name']}=={d.version}\" for d in m.distributions()))")
    installed = subprocess.run([*prefix, str(project / ".venv/bin/python"), "-c", code], env=env,
                               capture_output=True, text=True, check=True).stdout.split()
    found = {n.lower().replace("_", "-"): v for n, _, v in (x.partition("==") for x in installed)}
    for name in ("pyyaml", "weasyprint", "pydyf", "pydantic", "pytest", "ruff", "mypy"):
        assert found[name] == locked[name], name


@needs_debian_python
def test_the_readme_commands_run_in_the_venv(fresh):
    project, env, prefix, _ = fresh
    render = subprocess.run([*prefix, ".venv/bin/budgetgen", "render", "inputs/524-xigang-2025.yaml"],
                            cwd=project, env=env, capture_output=True, text=True, check=False)
    assert render.returncode == 0, render.stdout + render.stderr
    [pdf] = (project / "output").glob("*/*.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    # the test command, on a quick part of the suite (CI runs all of it: .ci/run)
    tests = subprocess.run([*prefix, ".venv/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "tests/test_imports.py"], cwd=project, env=env, capture_output=True,
                           text=True, check=False)
    assert tests.returncode == 0 and " passed" in tests.stdout, tests.stdout + tests.stderr


@needs_debian_python
def test_setup_again_reinstalls_nothing(fresh):
    project, env, prefix, _ = fresh
    stamp = project / ".venv" / ".budgetgen-setup"
    before = stamp.stat().st_mtime_ns, stamp.read_text(encoding="utf-8")
    proc = subprocess.run([*prefix, "bash", ".ci/setup"], cwd=project, env=env, capture_output=True,
                          text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (stamp.stat().st_mtime_ns, stamp.read_text(encoding="utf-8")) == before  # pip not run
