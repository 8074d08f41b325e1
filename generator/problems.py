"""Problems are values: every stage returns (result, problems) instead of raising.

A Problem says where (file, line, column), which rule, and what was expected and found,
in Chinese, the users' language.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    ERROR = "错误"
    WARNING = "警告"


@dataclass(frozen=True, order=True)
class Location:
    file: str
    line: int = 0  # 1-based; 0 = the whole file
    column: int = 0  # 1-based

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True)
class Problem:
    severity: Severity
    rule: str
    message: str
    location: Location
    expected: str | None = field(default=None, compare=False)
    found: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.location}: {self.severity.value} [{self.rule}] {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def error(rule: str, message: str, location: Location, expected=None, found=None) -> Problem:
    return Problem(Severity.ERROR, rule, message, location,
                   None if expected is None else str(expected), None if found is None else str(found))


def warning(rule: str, message: str, location: Location, expected=None, found=None) -> Problem:
    return Problem(Severity.WARNING, rule, message, location,
                   None if expected is None else str(expected), None if found is None else str(found))


def has_errors(problems) -> bool:
    return any(p.is_error for p in problems)


def sort_problems(problems):
    """Stable, reader-friendly order: by file position, errors before warnings at a position."""
    return sorted(problems, key=lambda p: (p.location.file, p.location.line, p.location.column,
                                           p.severity is not Severity.ERROR, p.rule))
