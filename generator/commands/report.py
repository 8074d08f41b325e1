"""How problems are shown to the user: one line each, `file:line:col: 错误 [规则] 说明`; and the
JSON summary of a render (`render --report`) for scripts."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..problems import Problem, Severity

if TYPE_CHECKING:
    from .jobs import Outcome


def format_problem(p: Problem) -> str:
    return str(p)


def summary(problems: list[Problem]) -> str:
    errors = sum(p.severity is Severity.ERROR for p in problems)
    warnings = len(problems) - errors
    if errors:
        return f"发现{errors}个错误、{warnings}个警告"
    unfinished = sum(p.rule.startswith("未完成") for p in problems)
    if unfinished:  # not "检查通过": render will not publish it
        return (f"没有错误，但有{unfinished}项未完成（共{warnings}个警告）：完成前 render 不会正式生成"
                "（草稿可加 --draft）")
    if warnings:
        return f"检查通过，有{warnings}个警告"
    return "检查通过"


def problem_record(p: Problem) -> dict[str, Any]:
    """One problem as plain JSON: where (file, line, column), which rule, what was expected and found."""
    return {"severity": p.severity.name.lower(), "rule": p.rule, "message": p.message,
            "file": p.location.file, "line": p.location.line, "column": p.location.column,
            "expected": p.expected, "found": p.found}


def batch_report(outcomes: Sequence[Outcome], out_dir: str, exit_code: int) -> dict[str, Any]:
    """The summary `render --report FILE` writes for a bureau's scripts (format in the README)."""
    from .exitcodes import Exit
    files = [{"file": o.file, "status": o.status, "exit_status": o.exit_code,
              "errors": sum(p.is_error for p in o.problems),
              "warnings": sum(not p.is_error for p in o.problems),
              "problems": [problem_record(p) for p in o.problems],
              "outputs": list(o.outputs), "pages": o.pages, "seconds": round(o.seconds, 3),
              "units": [{"file": u.file, "outputs": list(u.outputs), "pages": u.pages} for u in o.units]}
             for o in outcomes]
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return {"budgetgen": __version__, "output_dir": out_dir, "exit_status": exit_code,
            "exit_meaning": Exit(exit_code).name.lower(), "counts": counts, "files": files}
