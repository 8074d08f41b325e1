"""How problems are shown to the user: one line each, `file:line:col: 错误 [规则] 说明`."""
from __future__ import annotations

from .problems import Problem, Severity


def format_problem(p: Problem) -> str:
    return str(p)


def summary(problems: list[Problem]) -> str:
    errors = sum(p.severity is Severity.ERROR for p in problems)
    warnings = len(problems) - errors
    if errors:
        return f"发现{errors}个错误、{warnings}个警告"
    if warnings:
        return f"检查通过，有{warnings}个警告"
    return "检查通过"
