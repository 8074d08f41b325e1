"""Writing outputs safely: sanitized file names inside the chosen directory, atomic replace.

A render writes to a temporary file in the target directory and renames it into place, so an
error or a kill mid-render never leaves a truncated file nor replaces the previous good one.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}


def safe_stem(*parts: object, limit: int = 120) -> str:
    """A file-name stem from parts, safe on Windows and POSIX: no separators, no '..'."""
    text = "-".join(str(p) for p in parts if str(p))
    text = _FORBIDDEN.sub("_", text).strip(" .")
    text = re.sub(r"\.{2,}", "_", text)
    if not text or text.upper().split(".")[0] in _RESERVED:
        text = f"_{text}"
    return text[:limit]


def output_stem(code: str, name: str, year: int) -> str:
    return safe_stem(code, name, year)


def atomic_write(path: Path, data: bytes) -> None:
    """Write bytes to path via a temporary file in the same directory and os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
