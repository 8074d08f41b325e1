"""Disclosure → HTML, laid out by the Jinja2 templates in templates/ (printed by pdf.py).

Every string the clerk typed reaches the templates as data, never as template source, and the
environment autoescapes, so text such as `<img src=…>` or `{{ 7*7 }}` prints literally.
Cells are formatted here by their column's kind (`format_cell`); the templates only lay out.
"""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..money import shown
from ..resources import resource_dir

from ..compute.tables import Disclosure, Heading, Paragraph, ProjectTable, Table

TEMPLATES = resource_dir("templates")
CENT = Decimal("0.01")
ALIGN = {"seq": "c", "code": "l", "text": "l", "money": "r", "qty": "r", "price": "r"}
_NUMBERED = re.compile(r"^\s*[0-9０-９]+[、.．]")
CN_NUM = "一二三四五六七八九十"


def format_cell(value, kind: str, places: int = 2) -> str:
    """A cell's printed text: money `places` decimals, qty integer-looking, price 2 decimals (4
    when it would round to 0.00), seq an integer; zero money, qty and price print blank.
    Rounding is money.py's 四舍五入 (a no-op for figures compute already rounded)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if kind in ("seq", "code", "text"):
        return str(int(value)) if isinstance(value, Decimal) and value == value.to_integral() \
            else str(value)
    value = Decimal(value)
    if value == 0:
        return ""
    if kind == "qty":
        if value == value.to_integral():
            return str(value.quantize(Decimal(1)))
        return format(value.normalize(), "f")
    if kind == "price":
        price = shown(value, "price")
        return f"{price:.{max(2, -price.as_tuple().exponent)}f}"
    return f"{shown(value, 'money', places):.{places}f}"


def _widths(table: Table) -> list[str]:
    total = sum(c.width for c in table.columns) or 1
    return [f"{c.width * 100 / total:.3f}%" for c in table.columns]


def table_view(table: Table) -> dict:
    """A Table as the template wants it: column widths in %, cells as (text, align class)."""
    rows = []
    for row in table.rows:
        cells = [(format_cell(v, c.kind, c.places), ALIGN.get(c.kind, "l"))
                 for v, c in zip(row.cells, table.columns)]
        rows.append({"emphasis": row.emphasis, "cells": cells,
                     "empty": all(not text for text, _ in cells)})
    meta = list(table.meta)
    return {"key": table.key, "title": table.title, "meta": meta, "header": table.header,
            "widths": _widths(table), "rows": rows, "note": table.note,
            "notes_after": table.notes_after, "landscape": table.landscape,
            "compact": len(table.columns) >= 8}


def indicator_rows(project: ProjectTable) -> list[list[tuple[str, int]]]:
    """Indicator rows with the 一级指标 cell merged (rowspan) over its group: each row is a list
    of (text, rowspan); a row inside a group has no first cell."""
    rows: list[list] = []
    lead = None
    for cells in project.indicators:
        cells = [c or "" for c in cells]
        if cells[0] or lead is None:
            lead = [cells[0], 1]
            rows.append([lead] + [[c, 1] for c in cells[1:]])
        else:
            lead[1] += 1
            rows.append([[c, 1] for c in cells[1:]])
    return [[tuple(c) for c in row] for row in rows]


def project_view(project: ProjectTable) -> dict:
    return {"number": project.number, "title": project.title, "format": project.format,
            "code": project.code, "name": project.name,
            "amount": format_cell(project.amount, "money", project.places) or f"{0:.{project.places}f}",
            "fiscal": format_cell(project.fiscal, "money", project.places),
            "other": format_cell(project.other, "money", project.places),
            "purpose": project.purpose,
            "plan": [format_cell(v, "money", project.places) for v in project.plan],
            "goals": list(project.goals), "indicators": indicator_rows(project),
            "unit": project.unit}


def _heading_class(block: Heading) -> str:
    if block.level == 2:
        return "h-kai"
    return "h-item" if _NUMBERED.match(block.text) else "h-caption"


def section_items(blocks) -> list[dict]:
    """A section's blocks as template items. A caption heading naming the next table becomes
    that table's caption; a run of project tables (with a 楷体 heading just before it) becomes
    one "projects" item, laid out on table pages; so no heading is parted from its table."""
    items: list[dict] = []
    blocks = list(blocks)
    i = 0
    while i < len(blocks):
        b = blocks[i]
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if isinstance(b, Heading) and b.level == 3 and isinstance(nxt, Table) and nxt.title == b.text:
            items.append({"kind": "table", "caption": b.text, "table": table_view(nxt)})
            i += 2
            continue
        if isinstance(b, Heading):
            items.append({"kind": "heading", "text": b.text, "level": b.level,
                          "cls": _heading_class(b)})
        elif isinstance(b, Paragraph):
            items.append({"kind": "paragraph", "lines": b.text.split("\n"), "indent": b.indent})
        elif isinstance(b, Table):
            items.append({"kind": "table", "caption": None, "table": table_view(b)})
        elif isinstance(b, ProjectTable):
            if not items or items[-1]["kind"] != "projects":
                heading = items.pop() if items and items[-1]["kind"] == "heading" \
                    and items[-1]["level"] == 2 else None
                items.append({"kind": "projects", "heading": heading, "projects": []})
            group = items[-1]["projects"]
            # a full-format table fills most of a page: each after the first starts a page
            group.append({"project": project_view(b),
                          "newpage": b.format == "full" and bool(group)})
        i += 1
    return items


def _page_class(blocks) -> str:
    """'wide' for a section holding a landscape table, 'tables' for one of project tables only."""
    if any(isinstance(b, Table) and b.landscape for b in blocks):
        return "wide"
    if blocks and all(isinstance(b, ProjectTable) for b in blocks):
        return "tables"
    return ""


def _chinese_number(n: int) -> str:
    if n <= 10:
        return CN_NUM[n - 1]
    if n < 20:
        return "十" + CN_NUM[n - 11]
    return CN_NUM[n // 10 - 1] + "十" + (CN_NUM[n % 10 - 1] if n % 10 else "")


def context(d: Disclosure) -> dict:
    titles = dict(d.parts)
    labels = d.schedule_labels or tuple(f"{_chinese_number(i)}、" for i in range(1, len(d.schedules) + 1))
    return {
        "d": d,
        "lang": "zh-CN",
        "date": f"{d.year:04d}-01-01",
        "part1": titles.get("tables", ""),
        "part2": titles.get("text", ""),
        "order": [kind for kind, _ in d.parts] or ["tables", "text"],
        "intro": d.intro,
        "schedules": [dict(table_view(t), number=label)
                      for label, t in zip(labels, d.schedules)],
        "sections": [{"key": s.key, "heading": s.heading, "items": section_items(s.blocks),
                      "page": _page_class(s.blocks)} for s in d.sections],
    }


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Templates from templates/ only; autoescape on; undefined names fail loudly."""
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True)


def render_html(disclosure: Disclosure) -> str:
    """The whole disclosure as one self-contained HTML document (CSS inlined)."""
    html = environment().get_template("disclosure.html.j2").render(context(disclosure))
    from .glyphs import with_missing_glyph_font  # characters no font draws keep their code points
    return with_missing_glyph_font(html)
