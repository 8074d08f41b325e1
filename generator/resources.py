"""Where the data files live: templates/ and schemas/ (with the classification catalog).

The repository keeps them as top-level folders; a wheel ships them inside the package as
package data (generator/templates, generator/schemas: see [tool.setuptools.package-dir] in
pyproject.toml), so an install into any prefix — a venv, `--user`, `--prefix`, `--target`,
Debian's system pip under /usr/local — finds them next to the code, through importlib.resources.
A checkout (or an editable install) has no copy inside the package and uses the top-level folder.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_TREE = Path(__file__).resolve().parent.parent
NAMES = ("templates", "schemas")


def resource_dir(name: str) -> Path:
    """The folder `name` (templates | schemas): the copy shipped in the package when there is
    one, else the source tree's top-level folder."""
    if name not in NAMES:
        raise ValueError(f"unknown resource folder {name!r}")
    shipped = files(__package__ or "generator") / name
    if isinstance(shipped, Path) and shipped.is_dir():
        return shipped
    return _TREE / name
