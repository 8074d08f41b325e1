"""Re-render only what changed: a department whose inputs are unchanged since its outputs were
written is skipped ("未变化，已跳过"); `render --force` renders it anyway.

The inputs are everything its outputs depend on: the department file, any YAML file it names
(unit files, a layout file), a --layout file, the built-in layouts (generator/layouts,
generator/editions), the catalog (schemas/catalog), the templates,
budgetgen's version and code, the WeasyPrint and XlsxWriter versions, and the options
(formats). Their SHA-256 — the fingerprint — is stored after a good render in
OUT/.budgetgen/<hash of the department file's path>.json with the SHA-256 of every output and
the render's warnings. A later run skips the file only when the fingerprint is the same and
every output is still there with the same content; anything else (an edited output, a deleted
one, an unreadable record) renders again. Installed fonts are not part of the fingerprint: after
installing or removing fonts, render with --force.

This module imports only the standard library, so a batch that finds nothing changed neither
imports WeasyPrint nor starts a worker.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

RECORD_DIR = ".budgetgen"
SKIPPED = "未变化，已跳过"
_PACKAGE = Path(__file__).resolve().parent.parent  # the whole generator package
_NAMED_YAML = re.compile(r"""[^\s'"\[\]{},:#：，、；（）《》“”]+\.ya?ml\b""")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


@lru_cache(maxsize=1)
def _environment() -> str:
    """The fingerprint of what every department shares: code, layouts, catalog, templates and
    the versions of the renderers (once per process)."""
    from importlib import metadata

    from .. import __version__
    from ..resources import resource_dir
    h = hashlib.sha256(f"budgetgen {__version__}\n".encode())
    for name in ("weasyprint", "pydyf", "xlsxwriter", "jinja2"):
        try:
            h.update(f"{name} {metadata.version(name)}\n".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name} -\n".encode())
    roots = [_PACKAGE, resource_dir("templates"), resource_dir("schemas")]
    for root in roots:
        files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (
            ".py", ".yaml", ".yml", ".txt", ".j2", ".css", ".json") and "__pycache__" not in p.parts)
        for path in files:
            h.update(f"{path.relative_to(root)}\n".encode())
            h.update(_digest(_read(path) or b"").encode())
    return h.hexdigest()


def fingerprint(path: str | Path, formats: tuple[str, ...], options: dict[str, Any] | None = None
                ) -> str | None:
    """SHA-256 of everything the outputs of `path` depend on; None when it cannot be read."""
    path = Path(path)
    data = _read(path)
    if data is None:
        return None
    h = hashlib.sha256(_environment().encode())
    h.update(json.dumps({"formats": list(formats), "options": options or {}},
                        sort_keys=True, ensure_ascii=False).encode())
    h.update(_digest(data).encode())
    for key, value in sorted((options or {}).items()):  # --layout PATH: the file's content
        if isinstance(value, str) and value.endswith((".yaml", ".yml")) and Path(value).is_file():
            h.update(f"{key}\n{_digest(_read(Path(value)) or b'')}\n".encode())
    text = data.decode("utf-8", "replace")
    for name in sorted(set(_NAMED_YAML.findall(text))):  # unit files the department names
        named = (path.parent / name)
        content = _read(named) if named.is_file() else None
        h.update(f"{name}\n{_digest(content) if content is not None else '-'}\n".encode())
    return h.hexdigest()


def record_path(path: str | Path, out_dir: str | Path) -> Path:
    key = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:24]
    return Path(out_dir) / RECORD_DIR / f"{key}.json"


def unchanged(path: str | Path, out_dir: str | Path, formats: tuple[str, ...],
              options: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The stored record when `path` need not be rendered again, else None."""
    record_file = record_path(path, out_dir)
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("fingerprint") != fingerprint(path, formats,
                                                                               options):
        return None
    outputs = record.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        return None
    for name, digest in outputs.items():
        data = _read(Path(out_dir) / name)
        if data is None or _digest(data) != digest:
            return None
    return record


def remember(path: str | Path, out_dir: str | Path, formats: tuple[str, ...],
             outputs: list[str], pages: int = 0, problems: list | None = None,
             options: dict[str, Any] | None = None,
             lengths: dict[str, tuple[int, int]] | None = None) -> None:
    """Store the fingerprint of a good render beside its outputs (best effort: a record that
    cannot be written, or is cut short, only means the next run renders again), with the part
    lengths of each PDF laid out on two cores (the next render's guesses, `part_lengths`)."""
    digest = fingerprint(path, formats, options)
    if digest is None:
        return
    out = Path(out_dir)
    record = {"file": str(path), "fingerprint": digest, "pages": pages,
              "outputs": {os.path.relpath(o, out): _digest(Path(o).read_bytes()) for o in outputs},
              "problems": [_problem_dict(p) for p in problems or []],
              "part_lengths": {stem: list(n) for stem, n in (lengths or {}).items()}}
    target = record_path(path, out)
    try:
        target.parent.mkdir(exist_ok=True)
        target.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError:
        try:
            target.unlink()
        except OSError:
            pass


def part_lengths(path: str | Path, out_dir: str | Path) -> dict[str, tuple[int, int]]:
    """Output stem → the page counts of the first two parts of its PDF at the last render
    into out_dir (render/parallel.py guesses the parts' start pages from them); {} if none.
    A stale or edited record only costs a guess."""
    try:
        record = json.loads(record_path(path, out_dir).read_text(encoding="utf-8"))
        found = record.get("part_lengths") or {}
        return {str(stem): (int(n[0]), int(n[1])) for stem, n in found.items()
                if isinstance(n, list) and len(n) == 2 and min(int(n[0]), int(n[1])) > 0}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _problem_dict(p: Any) -> dict[str, Any]:
    return {"severity": p.severity.value, "rule": p.rule, "message": p.message,
            "file": p.location.file, "line": p.location.line, "column": p.location.column,
            "expected": p.expected, "found": p.found}


def stored_problems(record: dict[str, Any]) -> list:
    """The warnings of the render a record describes, as Problems again."""
    from ..problems import Location, Problem, Severity
    out = []
    for d in record.get("problems") or []:
        try:
            out.append(Problem(Severity(d["severity"]), d["rule"], d["message"],
                               Location(d["file"], int(d["line"]), int(d["column"])),
                               d.get("expected"), d.get("found")))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def skipped_outcome(path: str, out_dir: str, formats: tuple[str, ...],
                    options: dict[str, Any] | None = None) -> Any | None:
    """An Outcome with status 'skipped' when `path` is unchanged since its outputs were written."""
    record = unchanged(path, out_dir, formats, options)
    if record is None:
        return None
    from .outcome import Outcome
    out = Path(out_dir)
    return Outcome(path, "skipped", 0.0, int(record.get("pages") or 0),
                   [str(out / name) for name in record["outputs"]], stored_problems(record))
