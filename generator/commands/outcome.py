"""What became of one file (a check or a render): the small picklable value a batch worker returns,
read by the report, the cache and the commands. Imports nothing of WeasyPrint's."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..problems import Problem
from .exitcodes import STATUS_EXIT, Exit


@dataclass
class Outcome:
    file: str
    status: str  # ok | skipped | error | unreadable | output | timeout | crash (exitcodes.STATUS_EXIT)
    seconds: float = 0.0
    pages: int = 0
    outputs: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what `check --verbose` adds (所属单位, 内部往来抵消)
    units: list[Outcome] = field(default_factory=list)  # the 所属单位 rendered with --units, one Outcome each
    detail: str = ""  # the traceback of an internal error (shown with --debug)

    @property
    def exit_code(self) -> int:
        return int(STATUS_EXIT.get(self.status, Exit.INTERNAL))
