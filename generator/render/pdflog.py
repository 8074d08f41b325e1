"""WeasyPrint's log records as Problems: what it says while it renders (a missing glyph, a
refused or failed fetch, CSS it ignored) is shown by `render` as a warning, instead of vanishing
in WeasyPrint's NullHandler. Standard library only: `jobs` collects around every renderer.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

from ..problems import Location, Problem, warning

LOGGERS = ("weasyprint", "generator.render.pdf")  # WeasyPrint's and our URL fetcher's


class Collect(logging.Handler):
    """Keeps the warning and error records it is given (also used by the tests)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def weasyprint_records() -> Iterator[list[logging.LogRecord]]:
    """The warnings and errors WeasyPrint and our fetcher log meanwhile."""
    handler = Collect()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        if lg.level == logging.NOTSET or lg.level > logging.WARNING:
            lg.setLevel(logging.WARNING)
    try:
        yield handler.records
    finally:
        for lg, level in zip(loggers, levels):
            lg.removeHandler(handler)
            lg.setLevel(level)


@contextmanager
def held_records() -> Iterator[list[logging.LogRecord]]:
    """The warnings and errors logged meanwhile, kept from every other handler (a render
    that may be thrown away: a parallel layout that falls back to the sequential one, which
    logs them again); `release` passes them on when the render is kept."""
    handler = Collect()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    saved = [(lg.handlers, lg.propagate, lg.level) for lg in loggers]
    for lg in loggers:
        lg.handlers, lg.propagate = [handler], False
        if lg.level == logging.NOTSET or lg.level > logging.WARNING:
            lg.setLevel(logging.WARNING)
    try:
        yield handler.records
    finally:
        for lg, (handlers, propagate, level) in zip(loggers, saved):
            lg.handlers, lg.propagate = handlers, propagate
            lg.setLevel(level)


def release(records: list[logging.LogRecord]) -> None:
    """Records held by held_records, given to their loggers' handlers now."""
    for record in records:
        logging.getLogger(record.name).handle(record)


_KINDS = ((re.compile(r"refused to fetch|Failed to load|URL", re.IGNORECASE), "PDF资源",
           "PDF 排版时拒绝或未能读取一个外部资源"),
          (re.compile(r"glyph|font", re.IGNORECASE), "PDF字体",
           "PDF 排版时有字符没有可用字体（可能显示为空白或方框）"),
          (re.compile(r"CSS|declaration|selector|property|rule", re.IGNORECASE), "PDF样式",
           "PDF 排版时忽略了一条样式"))


def record_problem(record: logging.LogRecord, file: str = "") -> Problem:
    """A WeasyPrint log record as a located warning, in Chinese with the original text."""
    text = record.getMessage()
    rule, what = next(((r, w) for pattern, r, w in _KINDS if pattern.search(text)),
                      ("PDF排版", "PDF 排版时出现提示"))
    return warning(rule, f"{what}：{text[:300]}", Location(file))
