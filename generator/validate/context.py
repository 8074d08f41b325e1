"""What every rule sees: the budget, its computed figures, the source marks and the catalog."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from decimal import Decimal

from ..catalog import Catalog
from ..compute import Figures
from ..loader import RawDoc
from ..model import Budget
from ..money import fmt_text
from ..problems import Location, Problem, error, warning


def wan(value: Decimal) -> str:
    """An exact amount for a message: in 万元, or in 元 when 万元 would hide digits (a file typed
    in 元: a difference of 1 元 must not read as 0.00万元)."""
    if value == value.quantize(Decimal("0.01")):
        return f"{fmt_text(value)}万元"
    return f"{fmt_text(value * 10000)}元"


@dataclass(frozen=True)
class Context:
    budget: Budget
    fig: Figures
    doc: RawDoc
    catalog: Catalog
    layout: object | None = None  # the Layout printed (None: unknown)
    disclosure: object | None = None  # the computed Disclosure (None: not computed here)

    def at(self, *path) -> Location:
        """Where `path` stands; a whole section or entry (a mapping or list) points at its key."""
        value: Any = self.doc.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return self.doc.locate(path)
        if isinstance(value, (dict, list)) and path and isinstance(path[-1], str):
            return self.doc.locate_key(path)
        return self.doc.locate(path)

    def error(self, rule: str, message: str, path: tuple, expected=None, found=None) -> Problem:
        return error(rule, message, self.at(*path), expected, found)

    def warning(self, rule: str, message: str, path: tuple, expected=None, found=None) -> Problem:
        return warning(rule, message, self.at(*path), expected, found)

    def mismatch(self, rule: str, what: str, path: tuple, expected: Decimal, found: Decimal,
                 severity: str = "error") -> list[Problem]:
        """A figure that should equal another: one problem saying both, or none."""
        if expected == found:
            return []
        make = self.error if severity == "error" else self.warning
        return [make(rule, f"{what}：应为{wan(expected)}，实为{wan(found)}（差{wan(found - expected)}）",
                     path, wan(expected), wan(found))]
