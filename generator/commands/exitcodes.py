"""Exit statuses of every budgetgen command, one table for the CLI, the batch and the docs.

2 is left to the CLI framework (click/typer use it for a usage error: unknown option, missing
argument), so a script can tell "I called it wrong" from "the file is unreadable".
"""
from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class Exit(IntEnum):
    OK = 0  # 通过（可有警告）
    DATA_ERRORS = 1  # 数据有错误
    USAGE = 2  # 命令用法错误（由命令行框架给出）
    UNREADABLE = 3  # 输入文件无法读取
    OUTPUT_FAILED = 4  # 输出无法写入（磁盘已满、只读、不是目录……）
    INTERNAL = 5  # 内部错误（程序缺陷，请报告）


LABELS = {
    Exit.OK: "通过（可有警告）",
    Exit.DATA_ERRORS: "数据有错误（render 时还包括未完成事项）",
    Exit.USAGE: "命令用法错误",
    Exit.UNREADABLE: "输入文件无法读取",
    Exit.OUTPUT_FAILED: "输出无法写入",
    Exit.INTERNAL: "内部错误",
}


# the status of one file's outcome (jobs.Outcome.status) → the exit status it asks for
STATUS_EXIT = {
    "ok": Exit.OK,
    "skipped": Exit.OK,  # unchanged since its last render: nothing to do
    "error": Exit.DATA_ERRORS,
    "unreadable": Exit.UNREADABLE,
    "output": Exit.OUTPUT_FAILED,
    "timeout": Exit.DATA_ERRORS,  # over the per-file time limit: the file is too large
    "crash": Exit.INTERNAL,
}


def worst(codes: Iterable[int]) -> int:
    """The exit status of a run over many files: the gravest one (the numbers are ordered so)."""
    return max(codes, default=int(Exit.OK))


def help_text() -> str:
    """The exit-status paragraph for --help and the README."""
    return "退出状态：" + "；".join(f"{int(code)} {label}" for code, label in LABELS.items()) + "。"
