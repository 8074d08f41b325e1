"""`budgetgen new`: a commented starter dept.yaml that passes `check` as written.

The text lives in generator/editions/starter.yaml, a plain file with three placeholders —
{year}, {prior_year}, {edition} — filled by str.replace (no template engine: nothing in the
text is ever evaluated). Its example figures agree with each other, so the file passes
`budgetgen check` before and after the clerk replaces the placeholder words.
"""
from __future__ import annotations

import datetime
from pathlib import Path

from .layout import builtin_keys

TEMPLATE = Path(__file__).resolve().parent / "editions" / "starter.yaml"


def starter_text(edition: str, year: int | None = None) -> str:
    """The starter file for `edition` (a built-in layout key) and budget `year` (default: next
    year). Raises ValueError with a Chinese message for an unknown edition or a bad year."""
    keys = builtin_keys()
    if edition not in keys:
        raise ValueError(f"未知的版式“{edition}”：可选 {'、'.join(sorted(keys, reverse=True))}")
    if year is None:
        year = datetime.date.today().year + 1
    if not 2000 <= int(year) <= 2100:
        raise ValueError(f"预算年度“{year}”无效：应为2000至2100之间的年份，如 {datetime.date.today().year + 1}")
    year = int(year)
    text = TEMPLATE.read_text(encoding="utf-8")
    for key, value in (("{prior_year}", str(year - 1)), ("{edition}", edition), ("{year}", str(year))):
        text = text.replace(key, value)
    return text
