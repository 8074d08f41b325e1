"""The batch manifest: one JSON line per department, appended as its result arrives.

`render FILES…` (a batch, on either executor) appends to OUT/.budgetgen/manifest.jsonl one line
per file as soon as its outcome is known — rendered, skipped as unchanged, refused, failed:

    {"batch": "…", "file": "inputs/524.yaml", "input_hash": "…", "layout": null,
     "version": "0.1.0", "status": "ok", "outputs": ["output/524-…/524-….pdf", …],
     "pages": 24, "seconds": 2.31, "problems": […], "units": […], "time": "2026-…Z"}

`input_hash` is the skip-unchanged fingerprint of the file (commands/cache.py: the file, the
files it names, the layout, budgetgen's version and code, the options). A batch killed part-way
has a line for every department finished before the kill; re-running it skips every department
whose record says its inputs and version are unchanged and its outputs intact (the same
records `render` always uses), so a batch killed at 60 % resumes at 60 %. `--report` is built
from the manifest's lines of the run (`outcomes`), so a report can also be rebuilt after a kill.

A line is written with one write() on a file opened for appending and flushed at once; a line
cut short by a kill is ignored when read. Only the standard library is imported.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from .cache import RECORD_DIR, fingerprint, problem_dict, stored_problems
from .outcome import Outcome

MANIFEST = "manifest.jsonl"


def manifest_path(out_dir: str | Path) -> Path:
    return Path(out_dir) / RECORD_DIR / MANIFEST


def entry(outcome: Outcome, input_hash: str | None, layout: str | None, batch: str) -> dict[str, Any]:
    """One manifest line for an outcome (everything `--report` and the summary need)."""
    from .. import __version__
    return {"batch": batch, "file": outcome.file, "input_hash": input_hash, "layout": layout,
            "version": __version__, "status": outcome.status, "outputs": list(outcome.outputs),
            "pages": outcome.pages, "seconds": round(outcome.seconds, 3),
            "problems": [problem_dict(p) for p in outcome.problems],
            "units": [{"file": u.file, "status": u.status, "outputs": list(u.outputs), "pages": u.pages}
                      for u in outcome.units],
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


class Manifest:
    """The manifest of one batch run: `add` appends a line per outcome (best effort: a manifest
    that cannot be written never stops a batch; the skip records still let it resume)."""

    def __init__(self, out_dir: str | Path, formats: tuple[str, ...], options: dict[str, Any]):
        self.path = manifest_path(out_dir)
        self.formats = formats
        self.options = options
        self.batch = uuid.uuid4().hex[:16]
        self.failed = False

    def add(self, outcome: Outcome) -> None:
        try:
            digest = fingerprint(outcome.file, self.formats, self.options)
        except Exception:  # an odd file name or a vanished file: the line says null
            digest = None
        line = json.dumps(entry(outcome, digest, self.options.get("layout"), self.batch),
                          ensure_ascii=False, separators=(",", ":")) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
        except OSError:
            self.failed = True


def read(path: str | Path) -> list[dict[str, Any]]:
    """Every complete line of a manifest, oldest first ([] when there is none)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    lines = []
    for raw in text.splitlines():
        try:
            value = json.loads(raw)
        except ValueError:  # cut short by a kill
            continue
        if isinstance(value, dict) and isinstance(value.get("file"), str):
            lines.append(value)
    return lines


def outcomes(path: str | Path, batch: str, files: list[str]) -> list[Outcome] | None:
    """The Outcomes of `files` as batch `batch` recorded them, in the order of `files`; None
    when a file has no line (the manifest could not be written)."""
    latest = {e["file"]: e for e in read(path) if e.get("batch") == batch}
    if any(f not in latest for f in files):
        return None
    return [outcome_of(latest[f]) for f in files]


def outcome_of(e: dict[str, Any]) -> Outcome:
    """An Outcome again from a manifest line."""
    problems = stored_problems(e)
    units = [Outcome(str(u.get("file")), str(u.get("status", "ok")), 0.0, int(u.get("pages") or 0),
                     [str(o) for o in u.get("outputs") or []]) for u in e.get("units") or []]
    return Outcome(e["file"], str(e.get("status")), float(e.get("seconds") or 0.0),
                   int(e.get("pages") or 0), [str(o) for o in e.get("outputs") or []], problems,
                   units=units)
