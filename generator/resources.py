"""Where the data files live: templates/ and schemas/ of the source tree (editable install,
or running from a checkout), else the copies a regular install puts under <prefix>/share/budgetgen."""
from __future__ import annotations

import sys
from pathlib import Path

_TREE = Path(__file__).resolve().parent.parent
_SHARE = Path(sys.prefix) / "share" / "budgetgen"


def resource_dir(name: str) -> Path:
    """templates or schemas: the source tree's folder when present, else the installed copy."""
    here = _TREE / name
    return here if here.is_dir() else _SHARE / name
