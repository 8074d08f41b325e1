"""`budgetgen new`: a commented starter dept.yaml that passes `check` as written.

The text lives in generator/editions/starter.yaml, a plain file with three placeholders —
{year}, {prior_year}, {edition} — filled by str.replace (no template engine: nothing in the
text is ever evaluated). Its example figures agree with each other, so the file passes
`budgetgen check` before and after the clerk replaces the placeholder words.
"""
from __future__ import annotations

import datetime
import re
from pathlib import Path

from ..layout import builtin_families, builtin_keys

TEMPLATE = Path(__file__).resolve().parent.parent / "editions" / "starter.yaml"


_DEFAULT_LINE = re.compile(r"^# budgetgen-default-edition: *(\S+).*\n", re.M)
# the starter's fill-in words (read by validate/unfinished.py), not written into a new file
_PLACEHOLDER_LINES = re.compile(r"^# budgetgen-placeholder(s|-values):.*\n(#   （.*\n)?", re.M)


def default_edition() -> str:
    """The layout `new` uses without --edition: named in the starter file (data, not code)."""
    found = _DEFAULT_LINE.search(TEMPLATE.read_text(encoding="utf-8"))
    return found.group(1) if found else sorted(builtin_keys())[0]


def starter_text(edition: str | None = None, year: int | None = None) -> str:
    """The starter file for `edition` (a built-in layout key; default: the one the starter file
    names) and budget `year` (default: next year). Raises ValueError with a Chinese message for
    an unknown edition or a bad year."""
    edition = edition or default_edition()
    keys = builtin_keys()
    if edition not in keys and edition not in builtin_families():  # a key, or a family (beijing)
        raise ValueError(f"未知的版式“{edition}”：可选 {'、'.join(sorted(keys, reverse=True))}")
    if year is None:
        year = datetime.date.today().year + 1
    if not 2000 <= int(year) <= 2100:
        raise ValueError(f"预算年度“{year}”无效：应为2000至2100之间的年份，如 {datetime.date.today().year + 1}")
    year = int(year)
    text = _DEFAULT_LINE.sub("", TEMPLATE.read_text(encoding="utf-8"))
    text = _PLACEHOLDER_LINES.sub("", text)
    for key, value in (("{prior_year}", str(year - 1)), ("{edition}", edition), ("{year}", str(year))):
        text = text.replace(key, value)
    return text
