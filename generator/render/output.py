"""Writing outputs safely: sanitized file names inside the chosen directory, atomic replace.

A render writes to a temporary file in the target directory and renames it into place, so an
error or a kill mid-render never leaves a truncated file nor replaces the previous good one.
"""
from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path

_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
# invisible characters (zero-width, BOM, direction marks and overrides): "名称\u202egpj.exe" would
# display as a different file name than it is
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}
# NAME_MAX is 255 bytes on Linux/macOS; atomic_write adds ".", ".<ext>" and ".XXXXXXXX.tmp"
MAX_STEM_BYTES = 180


def _clean(part: object) -> str:
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", str(part)))
    text = _FORBIDDEN.sub("_", text)
    return re.sub(r"\.{2,}", "_", text).strip(" .")


def _fit(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes, cut on a character boundary, no trailing dot or space."""
    return text.encode("utf-8")[:max(limit, 0)].decode("utf-8", "ignore").rstrip(" .")


def safe_stem(*parts: object, limit: int = MAX_STEM_BYTES) -> str:
    """A file-name stem from parts, safe on Windows and POSIX: no separators, no '..', no
    invisible characters, at most `limit` UTF-8 bytes. When it must be shortened, the middle
    parts (the department name) are cut and the first and last (code, year) are kept whole."""
    cleaned = [c for c in (_clean(p) for p in parts) if c]
    text = "-".join(cleaned)
    if len(text.encode("utf-8")) > limit and len(cleaned) >= 3:
        head, tail = cleaned[0], cleaned[-1]
        room = limit - len(head.encode("utf-8")) - len(tail.encode("utf-8")) - 2
        middle = _fit("-".join(cleaned[1:-1]), room)
        text = "-".join(x for x in (head, middle, tail) if x)
    text = _fit(text, limit)
    if not text or text.upper().split(".")[0].rstrip() in _RESERVED:
        text = f"_{text}"
    return text


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
