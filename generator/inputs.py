"""Which files a department's outputs are made of, resolved by the rules the pipeline reads them by.

One place for the path rules: a layout named by `department.edition` and a unit file named
under `units:` must lie in the department file's folder (or below it): no absolute path, no
drive, no "..". Only a layout named on the command line (`--layout`) may be anywhere. The
pipeline (layout.resolve, consolidate) reads files by these rules, and the skip-unchanged
fingerprint (commands/cache.py) and `watch` use `sources()` — the department file, the layout
file the resolver picks, every unit file and each unit's layout file — so what is fingerprinted
and watched is what is read, whatever characters the paths hold.

Standard library and the YAML loader only: a skip check stays cheap.
"""
from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath

LAYOUT_DIR = Path(__file__).resolve().parent / "layouts"
LAYOUT_SUFFIXES = (".yaml", ".yml")
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def outside(text: str) -> bool:
    """True for a path that leaves the department file's folder: absolute, a drive, or "..".
    A file submitted to a finance bureau may not make it read (and echo in errors) other files."""
    posix, windows = PurePosixPath(text), PureWindowsPath(text)
    return (posix.is_absolute() or bool(windows.drive) or windows.is_absolute()
            or ".." in posix.parts or ".." in windows.parts)


def builtin_path(key: str) -> Path | None:
    """The built-in layout file of `key`, or None."""
    if not _KEY.fullmatch(key):
        return None
    for suffix in LAYOUT_SUFFIXES:
        path = LAYOUT_DIR / f"{key}{suffix}"
        if path.is_file():
            return path
    return None


def layout_file(name: str, base: Path | None, trusted: bool = False) -> Path | None:
    """The file a layout name resolves to: a built-in key, or a path relative to `base` that
    exists and ends in .yaml/.yml. A path out of `base` is refused (None) unless `trusted`
    (named on the command line)."""
    name = name.strip()
    path = builtin_path(name)
    if path is not None:
        return path
    if not trusted and (outside(name) or SCHEME.match(name)):
        return None
    candidate = Path(name)
    if not candidate.is_absolute() and base is not None:
        candidate = base / candidate
    if candidate.suffix in LAYOUT_SUFFIXES and candidate.is_file():
        return candidate
    return None


def _edition(data: object) -> str | None:
    department = data.get("department") if isinstance(data, dict) else None
    name = department.get("edition") if isinstance(department, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def sources(path: str | Path, layout: str | None = None) -> list[Path]:
    """Every file the outputs of department file `path` are made of, in a fixed order: the file
    itself, its layout file (`layout`: the --layout name, relative to the working folder), then
    each unit file it lists and that unit's layout file. Files that cannot be read are listed
    all the same (their absence is part of the state)."""
    from .loader import load_file
    path = Path(path)
    found: list[Path] = [path]

    def add(p: Path | None) -> None:
        if p is not None and p not in found:
            found.append(p)

    def layout_of(data: object, folder: Path) -> Path | None:
        if layout:
            return layout_file(layout, Path.cwd(), trusted=True)
        name = _edition(data)
        return layout_file(name, folder) if name else None

    doc, _ = load_file(path)
    if doc is None:
        return found
    add(layout_of(doc.data, path.parent))
    units = doc.data.get("units") if isinstance(doc.data, dict) else None
    for entry in units if isinstance(units, list) else []:
        if not isinstance(entry, str) or not entry.strip() or outside(entry.strip()) \
                or SCHEME.match(entry.strip()):
            continue
        unit = path.parent / entry.strip()
        add(unit)
        if unit.is_file():
            unit_doc, _ = load_file(unit)
            if unit_doc is not None:
                add(layout_of(unit_doc.data, unit.parent))
    return found
