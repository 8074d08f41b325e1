"""One open department file in the editor: its text (the only state), the undo history, the
check of every change through the same pipeline as `check`, and what the page shows of it.

The text is the clerk's file with the page's edits applied in place (yamledit.py); the form,
the problems at their fields, the computed totals and the preview are all derived from it,
so a page can always be rebuilt from the text alone. Saving writes the text atomically after
a backup, and only when the file on disk is still the one that was opened (or the clerk has
chosen to overwrite the other version).
"""
from __future__ import annotations

import hashlib
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

from ...pipeline import Checked, Result, run_text
from ...problems import Problem
from . import yamledit

MAX_HISTORY = 100
MAX_NEW_ROWS = 1000  # rows one paste may add to a table


def _grow(text: str, path: tuple, new_row: Callable[[tuple], Any], room: int) -> tuple[str, int]:
    """The text with rows added to each list along `path` that is shorter than the index the
    path names (a paste below the last row). Returns (text, rows added)."""
    from yaml.nodes import SequenceNode
    added = 0
    for k, key in enumerate(path):
        if not isinstance(key, int):
            continue
        node = yamledit.find(yamledit.compose(text), path[:k])
        have = len(node.value) if isinstance(node, SequenceNode) else 0
        if key + 1 - have > room - added:
            raise yamledit.EditError(f"一次粘贴最多添加{MAX_NEW_ROWS}行")
        for _ in range(have, key + 1):
            text = yamledit.add_item(text, path[:k], new_row(path[:k]))
            added += 1
    return text, added


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_PATH_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\[\]]*：")


@dataclass
class Located:
    """A problem as the page shows it: the field it belongs to (a path into the file) or none."""
    problem: Problem
    path: tuple | None
    field_id: str | None
    index: int

    @property
    def message(self) -> str:
        """The message without the key path it starts with (the page shows where it is)."""
        return _PATH_PREFIX.sub("", self.problem.message) if self.path else self.problem.message

    @property
    def where(self) -> str:
        loc = self.problem.location
        name = Path(loc.file).name if loc.file else ""
        return f"{name} 第{loc.line}行第{loc.column}列" if loc.line else name


def field_id(path: tuple) -> str:
    """The HTML id of the input for `path` (stable, plain ASCII)."""
    return "f-" + "-".join(str(p) for p in path)


def path_of(fid: str) -> tuple:
    parts = fid.removeprefix("f-").split("-") if fid.startswith("f-") else []
    return tuple(int(p) if p.isdigit() else p for p in parts)


@dataclass
class State:
    """The result of checking the current text."""
    rev: int
    result: Result
    located: list[Located]
    seconds: float

    @property
    def checked(self) -> Checked | None:
        return self.result if isinstance(self.result, Checked) else None

    def at(self, path: tuple) -> list[Located]:
        return [x for x in self.located if x.path == path]

    @property
    def errors(self) -> int:
        return sum(1 for x in self.located if x.problem.is_error)

    @property
    def warnings(self) -> int:
        return len(self.located) - self.errors


def locate_problems(result: Result, file: str) -> list[Located]:
    """Each problem with the field its location points at: the node starting at that line and
    column (a key's mark names its value), else the nearest node before it on the same line."""
    doc = result.doc
    by_mark: dict[tuple[int, int], tuple] = {}
    if doc is not None:
        for path, mark in doc.key_marks.items():
            by_mark.setdefault(tuple(mark), path)
        for path, mark in doc.marks.items():
            old = by_mark.get(tuple(mark))
            if old is None or len(path) > len(old):
                by_mark[tuple(mark)] = path
    lines: dict[int, list[tuple[int, tuple]]] = {}
    for (line, col), path in by_mark.items():
        lines.setdefault(line, []).append((col, path))
    out = []
    for i, p in enumerate(result.problems):
        loc = p.location
        path = None
        if doc is not None and loc.file == file and loc.line:
            path = by_mark.get((loc.line, loc.column))
            if path is None:
                before = [x for x in lines.get(loc.line, []) if x[0] <= loc.column]
                if before:
                    path = max(before, key=lambda x: x[0])[1]
        if path == ():
            path = None
        out.append(Located(p, path, field_id(path) if path else None, i))
    return out


@dataclass
class RenderJob:
    """The PDF/XLSX render started from the page (one at a time)."""
    status: str = "idle"  # idle | running | done | failed
    message: str = ""
    started: float = 0.0
    outputs: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class Session:
    """The open file. Every method takes the lock: requests come from several threads."""

    def __init__(self, path: Path):
        self.path = path
        raw = path.read_bytes()
        self.text = raw.decode("utf-8-sig")
        self.disk_hash = digest(raw)  # the version on disk the page's text is based on
        self.saved_text = self.text
        self.history: list[str] = []
        self.rev = 0
        self.lock = threading.RLock()
        self.job = RenderJob()
        self._state: State | None = None
        self._units: tuple = ()
        self.last_preview: str | None = None  # the last HTML preview that could be computed
        self.preview_rev = -1  # the revision it shows
        self.last_paths: list[tuple] = []  # the fields of the last edit (typing in one field: one undo step)

    # ------------------------------------------------------------------ checking

    def state(self) -> State:
        with self.lock:
            units = self._units_signature()
            if self._state is None or self._state.rev != self.rev or units != self._units:
                start = time.perf_counter()
                result = run_text(self.text, str(self.path))
                self._state = State(self.rev, result, locate_problems(result, str(self.path)),
                                    time.perf_counter() - start)
                self._units = self._units_signature()
                if units != self._units or self.preview_rev == self.rev:
                    self.preview_rev = -1  # a unit file changed: the same text, new figures
            return self._state

    def _units_signature(self) -> tuple:
        """The 所属单位 files this file lists, with their size and time: a department is checked
        again when one of them is saved (from another page or another editor)."""
        doc = self._state.result.doc if self._state is not None else None
        units = doc.data.get("units") if doc is not None and isinstance(doc.data, dict) else None
        out = []
        for name in units if isinstance(units, list) else []:
            try:
                st = (self.path.parent / str(name)).stat()
                out.append((str(name), st.st_size, st.st_mtime_ns))
            except OSError:
                out.append((str(name), -1, -1))
        return tuple(out)

    def preview(self) -> str | None:
        """The HTML render of the current text whenever it could be computed (a rule between
        tables that does not hold still shows its figures: the page says it has errors), else
        the last one that could."""
        from ...render.html import render_html
        with self.lock:
            st = self.state()
            if st.checked is not None and self.preview_rev != st.rev:
                self.last_preview = render_html(st.checked.disclosure)
                self.preview_rev = st.rev
            return self.last_preview

    # ------------------------------------------------------------------ edits

    def _apply(self, new: str) -> None:
        self.last_paths = []
        if new != self.text:
            self.history.append(self.text)
            del self.history[:-MAX_HISTORY]
            self.text = new
            self.rev += 1

    def set_values(self, changes: list[tuple[tuple, str]], coalesce: bool = False,
                   new_row: Callable[[tuple], Any] | None = None) -> None:
        """Set several fields at once (a paste): all or none, one step for undo. Raises
        yamledit.EditError. `coalesce`: a further keystroke in the field changed last — one
        step for undo. `new_row(list path)`: a paste longer than its table adds the rows it
        needs (at most MAX_NEW_ROWS)."""
        with self.lock:
            text = self.text
            added = 0
            for path, value in changes:
                if new_row is not None:
                    text, n = _grow(text, path, new_row, MAX_NEW_ROWS - added)
                    added += n
                text = yamledit.set_scalar(text, path, value)
            paths = [p for p, _ in changes]
            if coalesce and self.history and paths == self.last_paths and text != self.text:
                self.text = text
                self.rev += 1
            else:
                self._apply(text)
            self.last_paths = paths

    def add_item(self, path: tuple, item: Any, at: int | None = None) -> None:
        with self.lock:
            self._apply(yamledit.add_item(self.text, path, item, at))

    def remove_item(self, path: tuple, index: int) -> None:
        with self.lock:
            self._apply(yamledit.remove_item(self.text, path, index))

    def move_item(self, path: tuple, index: int, delta: int) -> None:
        with self.lock:
            self._apply(yamledit.move_item(self.text, path, index, delta))

    def undo(self) -> bool:
        with self.lock:
            if not self.history:
                return False
            self.text = self.history.pop()
            self.rev += 1
            return True

    # ------------------------------------------------------------------ the file on disk

    def disk(self) -> tuple[str | None, str | None]:
        """(hash, text) of the file on disk now (None, None when it is gone)."""
        try:
            raw = self.path.read_bytes()
        except OSError:
            return None, None
        return digest(raw), raw.decode("utf-8-sig", errors="replace")

    def external_change(self) -> bool:
        """True when the file on disk is no longer the version the page's text is based on."""
        return self.disk()[0] != self.disk_hash

    @property
    def dirty(self) -> bool:
        return self.text != self.saved_text

    def save(self, overwrite: bool = False) -> Path | None:
        """Write the text (backup of the previous file as NAME.bak first). Refuses (returns
        None) when the file changed on disk since it was opened, unless `overwrite`."""
        from ...render.output import atomic_write
        with self.lock:
            now, _ = self.disk()
            if now is not None and now != self.disk_hash and not overwrite:
                return None
            backup = self.path.with_name(self.path.name + ".bak")
            if now is not None:
                tmp = backup.with_name(backup.name + ".tmp")
                shutil.copy2(self.path, tmp)
                tmp.replace(backup)
            data = self.text.encode("utf-8")
            atomic_write(self.path, data)
            self.disk_hash = digest(data)
            self.saved_text = self.text
            return backup

    def reload(self) -> None:
        """Take the version on disk (an external edit), keeping the page's text in the undo
        history."""
        with self.lock:
            h, text = self.disk()
            if h is None or text is None:
                return
            self._apply(text)
            self.disk_hash = h
            self.saved_text = text
