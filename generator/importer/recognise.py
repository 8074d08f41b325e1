"""Which sheet holds which table, and which layout the workbook follows — by the tables' titles.

The titles come from the layout definitions (see layouts.py). A sheet's title is looked for in
its first rows and in its name, so 表1…表9, "2.15单位收支总表" and "表三 支出总表" are all found;
matching ignores numbering, spaces, quote marks, the 部门预算/单位预算 prefix, the words
财政拨款 (except in 财政拨款收支总表) and 性 in 政府性基金, which layouts spell differently.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .book import Book, Sheet
from .grid import norm
from .layouts import KINDS, LayoutInfo

TOP_ROWS = 4
_PREFIX = re.compile(r"^(部门预算|单位预算|部门|单位)")
# names of the tables that are not among the nine schedules (generic, not layout-specific)
ANNEX_KEYS = (("project", "绩效目标表"), ("project_list", "项目支出表"), ("procurement", "政府采购预算"),
              ("services", "政府购买服务"), ("assets", "固定资产占用情况"), ("institutions", "机构设置"))
# layout table kinds (outside the nine schedules) that annex.py reads
READ_AS = {"projects": "project_list", "project_goals": "project",
           "department_goals": "department_goals"}
_EXCLUDE = ("整体",)  # 部门整体支出绩效目标表 is not a project's table: the department's


def canon(text: str) -> str:
    t = norm(text).replace("政府性基金", "政府基金")
    t = t.replace("财政拨款收支总表", "\0")
    t = t.replace("财政拨款", "").replace("\0", "财政拨款收支总表")
    return t


def core(title: str) -> str:
    return _PREFIX.sub("", canon(title))


@dataclass
class Found:
    kind: str
    sheet: Sheet
    title_row: int  # -1 when only the sheet name says it
    title: str


def _candidates(sheet: Sheet) -> list[tuple[int, str]]:
    out = []
    for r in range(min(TOP_ROWS, len(sheet.rows))):
        for c in range(sheet.width):
            t = sheet.text(r, c)
            if t:
                out.append((r, t))
                break  # the first text of a row is its title (a merged title sits in column A)
    out.append((-1, sheet.name))
    return out


def classify(book: Book, layouts: tuple[LayoutInfo, ...]) -> tuple[dict[str, Found], list[Found],
                                                                    list[Sheet], list[Found]]:
    """(schedules by kind, annex tables and tables not imported, unrecognised sheets, duplicate
    schedules). A sheet's kind is the one whose title is the longest contained in its text."""
    keys: list[tuple[str, str]] = []  # (core of a title, kind)
    for lay in layouts:
        for kind in KINDS:
            if kind in lay.titles:
                keys.append((core(lay.titles[kind]), kind))
        for title, kind in lay.others.items():
            keys.append((core(title), READ_AS.get(kind, "other:" + title)))
    keys += [(canon(key), kind) for kind, key in ANNEX_KEYS]
    keys = sorted({k for k in keys if k[0]}, key=lambda ck: (-len(ck[0]), ck[1]))
    schedules: dict[str, Found] = {}
    annex: list[Found] = []
    unknown: list[Sheet] = []
    duplicates: list[Found] = []
    for sheet in book.sheets:
        hit = _match(sheet, keys)
        if hit is None:
            if any(not sheet.is_blank_row(r) for r in range(len(sheet.rows))):
                unknown.append(sheet)
            continue
        if hit.kind in KINDS:
            if hit.kind in schedules:
                duplicates.append(hit)
            else:
                schedules[hit.kind] = hit
        else:
            annex.append(hit)
    return schedules, annex, unknown, duplicates


def _match(sheet: Sheet, keys: list[tuple[str, str]]) -> Found | None:
    for r, text in _candidates(sheet):
        t = canon(text)
        for c, kind in keys:
            if c in t:
                if kind == "project" and any(x in t for x in _EXCLUDE):
                    kind = "department_goals"
                return Found(kind, sheet, r, text)
    return None


def layout_scores(schedules: dict[str, Found], layouts: tuple[LayoutInfo, ...],
                  row_labels: dict[str, set[str]]) -> dict[str, int]:
    """How many of each layout's titles and fixed row labels the workbook shows verbatim
    (up to spaces and quote marks)."""
    scores = {}
    for lay in layouts:
        s = 0
        for kind, f in schedules.items():
            if kind in lay.titles and f.title_row >= 0 and \
                    _PREFIX.sub("", norm(lay.titles[kind])) in norm(f.title):
                s += 1
        s += sum(1 for label, _ in lay.income_rows if label_key(label) in row_labels.get("summary", set()))
        s += sum(1 for label, _ in lay.three_public_rows
                 if label_key(label) in row_labels.get("three_public", set()))
        scores[lay.key] = s
    return scores


_NUMBERING = re.compile(r"^(其中[:：]?)?([一二三四五六七八九十]+[、.．]|[0-9]+[、.．]|[(（][一二三四五六七八九十0-9]+[)）])?")


def label_key(text: str) -> str:
    """A row label without its numbering, 其中, spaces or quote marks: 一、因公出国（境）费 → 因公出国(境)费."""
    t = norm(text)
    t = _NUMBERING.sub("", t)
    return t
