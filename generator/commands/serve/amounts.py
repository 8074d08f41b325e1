"""An amount as a clerk types it into the page, written into the file as the file's parser
reads it.

Full-width digits (１５０５．７２), thousands separators (1,505.72 or 1，505.72), spaces, and
the "-" spreadsheets print for zero are what the budget system's forms and Excel produce; the
page turns them into the plain number the file format wants, and only when money.parse_amount
(the very parser that reads the file) accepts the result. Anything else is written as typed,
so the check reports it at the field with the parser's own message.
"""
from __future__ import annotations

import re
import unicodedata

from ...money import parse_amount

_GROUPED = re.compile(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")
_ZERO_MARKS = {"-", "—", "–", "－"}


def normalize(text: str, places: int = 2) -> str:
    """The text to write for an amount typed as `text` (`places`: 2 for money, 4 for a quantity)."""
    typed = text.strip()
    if typed in _ZERO_MARKS:
        return "0"
    plain = unicodedata.normalize("NFKC", typed).replace("，", ",").replace(" ", "")
    if _GROUPED.fullmatch(plain):
        plain = plain.replace(",", "")
    try:
        parse_amount(plain, places=places, what="金额" if places == 2 else "数量")
    except ValueError:
        return typed
    return plain
