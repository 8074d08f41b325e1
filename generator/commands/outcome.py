"""What became of one file (a check or a render): the small picklable value a batch worker returns,
read by the report, the cache and the commands. Imports nothing of WeasyPrint's."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..problems import Location, Problem, error
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


def crashed(path: str, seconds: float, detail: str, died: bool = True,
             exc: BaseException | None = None):
    """The Outcome of a file whose rendering process died or raised (`crash`, exit 5)."""
    import traceback

    what = (f"生成进程意外退出（{detail}）；可能是内存不足或程序错误" if died
            else f"生成时出错（{detail}）")
    return Outcome(path, "crash", seconds, problems=[error(
        "内部错误", f"{what}，请把输入文件发给维护者", Location(path))],
        detail="".join(traceback.format_exception(exc)) if exc is not None else "")
