"""Re-render only what changed: a department whose inputs are unchanged since its outputs were
written is skipped ("未变化，已跳过"); `render --force` renders it anyway.

The inputs are everything its outputs depend on: the files the pipeline actually reads
(`inputs.sources`: the department file, the layout file the resolver picks — from
department.edition or --layout —, every unit file and its layout file), the built-in layouts,
the catalog (schemas/catalog), the templates, budgetgen's version and code, the WeasyPrint and
XlsxWriter versions, and the options (formats, --units, --layout). Their SHA-256 — the
fingerprint — is stored after a good render in OUT/.budgetgen/<hash of the department file's
path>.json with the SHA-256 of every output and the render's warnings. Installed fonts are not
part of the fingerprint: after installing or removing fonts, render with --force.

A record is believed only as far as it can be checked. It must have the record's shape (a
budgetgen marker, a fingerprint, outputs as `stem/stem.ext` → SHA-256); its outputs must be
exactly the set the formats make for each stem (one stem, or with --units one per 所属单位),
every one a regular file inside its real folder in OUT, with the content recorded. Anything
else — an edited, deleted or unlisted output, a name leaving OUT (`../../etc/hostname`), a link,
an unreadable or malformed record — means the record is ignored and the file rendered.

This module imports only the standard library (and the YAML loader, for `inputs.sources`), so
a batch that finds nothing changed neither imports WeasyPrint nor starts a worker.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

RECORD_DIR = ".budgetgen"
RECORD_MARK = "budgetgen skip record"
RECORD_VERSION = 2
SKIPPED = "未变化，已跳过"
MAX_RECORD_BYTES = 1024 * 1024
MAX_PART_PAGES = 10_000  # a part length beyond this in a record is not a guess worth taking
_PACKAGE = Path(__file__).resolve().parent.parent  # the whole generator package
_OUTPUT_NAME = re.compile(r"(?P<stem>[^/\\\x00]+)/(?P=stem)\.(?P<ext>pdf|xlsx|html)")
_HEX = re.compile(r"[0-9a-f]{64}")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path, limit: int | None = None, follow: bool = True) -> bytes | None:
    """A regular file's bytes (links followed to a regular file unless not `follow`); None for
    anything else — a FIFO or device is never opened for reading, so a check cannot hang."""
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (limit is not None and st.st_size > limit):
            return None
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read() if limit is None else fh.read(limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)


def _file_digest(path: Path) -> str | None:
    """SHA-256 of a published output: a regular file, not a link (streamed)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        h = hashlib.sha256()
        with os.fdopen(os.dup(fd), "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    except OSError:
        return None
    finally:
        os.close(fd)


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
    from ..inputs import sources
    path = Path(path)
    if _read(path) is None:
        return None
    options = options or {}
    h = hashlib.sha256(_environment().encode())
    h.update(json.dumps({"formats": list(formats), "options": options},
                        sort_keys=True, ensure_ascii=False).encode())
    layout = options.get("layout")
    for source in sources(path, layout if isinstance(layout, str) else None):
        content = _read(source)
        h.update(f"{os.path.abspath(source)}\n"
                 f"{_digest(content) if content is not None else '-'}\n".encode())
    return h.hexdigest()


def record_path(path: str | Path, out_dir: str | Path) -> Path:
    key = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:24]
    return Path(out_dir) / RECORD_DIR / f"{key}.json"


def expected_extensions(formats: tuple[str, ...]) -> set[str]:
    """The file extensions a render in `formats` publishes (a PDF variant is a .pdf)."""
    return {"pdf" if f.startswith("pdf") else f for f in formats}


def _read_record(path: str | Path, out_dir: str | Path) -> dict[str, Any] | None:
    data = _read(record_path(path, out_dir), MAX_RECORD_BYTES, follow=False)
    if data is None or len(data) > MAX_RECORD_BYTES:
        return None
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return record if _well_formed(record) else None


_PROBLEM_FIELDS = {"severity": str, "rule": str, "message": str, "file": str, "line": int,
                   "column": int}


def _well_formed(record: object) -> bool:
    """The shape `remember` writes: anything else is not believed at all."""
    if not isinstance(record, dict) or record.get("budgetgen") != RECORD_MARK \
            or record.get("version") != RECORD_VERSION:
        return False
    fp, pages, problems = record.get("fingerprint"), record.get("pages"), record.get("problems")
    if not isinstance(fp, str) or not _HEX.fullmatch(fp) or not isinstance(record.get("file"), str):
        return False
    if type(pages) is not int or pages < 0 or not isinstance(record.get("outputs"), dict):
        return False
    if not isinstance(problems, list) or not isinstance(record.get("part_lengths"), dict):
        return False
    for d in problems:
        # a good render has warnings only: an error in a record is not one budgetgen wrote
        if not isinstance(d, dict) or d.get("severity") != "警告" or any(
                type(d.get(k)) is not t for k, t in _PROBLEM_FIELDS.items()):
            return False
    return True


def checked_outputs(record: dict[str, Any], out_dir: str | Path, formats: tuple[str, ...],
                    units: bool = False) -> list[str] | None:
    """The record's output names when they are exactly what a render in `formats` publishes
    and every file is on disk as recorded; None otherwise (the record is not believed)."""
    outputs = record.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        return None
    by_stem: dict[str, set[str]] = {}
    for name, digest in outputs.items():
        m = _OUTPUT_NAME.fullmatch(name) if isinstance(name, str) else None
        if m is None or m["stem"] in (".", "..") or m["stem"].startswith(".") \
                or not isinstance(digest, str) or not _HEX.fullmatch(digest):
            return None
        by_stem.setdefault(m["stem"], set()).add(m["ext"])
    wanted = expected_extensions(formats)
    if any(exts != wanted for exts in by_stem.values()) or (not units and len(by_stem) != 1):
        return None
    out = Path(out_dir)
    for stem in by_stem:
        try:
            if not stat.S_ISDIR(os.lstat(out / stem).st_mode):  # a link is not our folder
                return None
        except OSError:
            return None
    for name, digest in outputs.items():
        if _file_digest(out / name) != digest:
            return None
    return list(outputs)


def unchanged(path: str | Path, out_dir: str | Path, formats: tuple[str, ...],
              options: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The stored record when `path` need not be rendered again, else None."""
    record = _read_record(path, out_dir)
    if record is None:
        return None
    if record.get("fingerprint") != fingerprint(path, formats, options):
        return None
    names = checked_outputs(record, out_dir, formats, bool((options or {}).get("units")))
    if names is None:
        return None
    return record


def _records_folder(out: Path) -> Path | None:
    """OUT/.budgetgen, made if missing; None when the name is taken by anything but a real
    folder (a file, a link): records are then simply not kept."""
    folder = out / RECORD_DIR
    try:
        os.mkdir(folder, 0o755)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        return folder if stat.S_ISDIR(os.lstat(folder).st_mode) else None
    except OSError:
        return None


def remember(path: str | Path, out_dir: str | Path, formats: tuple[str, ...],
             outputs: list[str], pages: int = 0, problems: list | None = None,
             options: dict[str, Any] | None = None,
             lengths: dict[str, tuple[int, int]] | None = None) -> None:
    """Store the fingerprint of a good render beside its outputs (best effort: a record that
    cannot be written only means the next run renders again), with the part lengths of each
    PDF laid out on two cores (the next render's guesses, `part_lengths`). Written atomically;
    a name in .budgetgen that is not a regular file is left alone."""
    digest = fingerprint(path, formats, options)
    if digest is None:
        return
    out = Path(out_dir)
    recorded: dict[str, str] = {}
    for o in outputs:
        p = Path(o)
        content = _file_digest(p)
        if content is None:
            return
        recorded[f"{p.parent.name}/{p.name}"] = content
    record = {"budgetgen": RECORD_MARK, "version": RECORD_VERSION, "file": str(path),
              "fingerprint": digest, "pages": pages, "outputs": recorded,
              "problems": [problem_dict(p) for p in problems or []],
              "part_lengths": {stem: list(n) for stem, n in (lengths or {}).items()}}
    folder = _records_folder(out)
    if folder is None:
        return
    target = record_path(path, out)
    try:
        if not stat.S_ISREG(os.lstat(target).st_mode):
            return
    except FileNotFoundError:
        pass
    except OSError:
        return
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".record.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8"))
        os.replace(tmp, target)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def part_lengths(path: str | Path, out_dir: str | Path) -> dict[str, tuple[int, int]]:
    """Output stem → the page counts of the first two parts of its PDF at the last render
    into out_dir (render/parallel.py guesses the parts' start pages from them); {} if none.
    A stale or edited record only costs a guess."""
    try:
        record = _read_record(path, out_dir) or {}
        found = record.get("part_lengths") or {}
        return {str(stem): (int(n[0]), int(n[1])) for stem, n in found.items()
                if isinstance(n, list) and len(n) == 2 and 0 < min(int(n[0]), int(n[1]))
                and max(int(n[0]), int(n[1])) <= MAX_PART_PAGES}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def problem_dict(p: Any) -> dict[str, Any]:
    """A Problem as JSON (skip records, manifest lines); `stored_problems` reads it back."""
    return {"severity": p.severity.value, "rule": p.rule, "message": p.message,
            "file": p.location.file, "line": p.location.line, "column": p.location.column,
            "expected": p.expected, "found": p.found}


def stored_problems(record: dict[str, Any]) -> list:
    """The problems a record (or manifest line) lists, as Problems again; an entry that is not
    a whole problem is left out."""
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
    pages = record.get("pages")
    return Outcome(path, "skipped", 0.0, pages if isinstance(pages, int) and pages > 0 else 0,
                   [str(out / name) for name in record["outputs"]], stored_problems(record))
