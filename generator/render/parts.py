"""A disclosure's HTML cut into parts at its forced page breaks, for laying the parts out apart
(issue 17, "one document on two cores": render/parallel.py, docs/parallel-layout.md).

Every top-level block of the body (cover, 目录, part divider, each schedule, the text) starts on
a new page, so a part is a run of top-level blocks, and a part laid out on its own gives the
sequential render's pages when it starts on the same page number and side. Both are set with
public CSS (`start_css`): `html { break-before: left|right }` picks the side of the first page
and `@page :first { counter-set: page N }` its number. The 目录's page numbers point into other
parts; `toc_css` prints them from the pages the anchors landed on (`anchor_pages`).

Nothing here branches on a layout: the cut points are the body's top-level blocks, whatever
order a layout puts them in.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from . import compat, weasy
from .compat import _VOID
from .html import TEMPLATES, render_html

_BODY = re.compile(r"(<body[^>]*>)(.*)(</body>)", re.DOTALL)


@dataclass(frozen=True)
class Block:
    """One top-level block of the body: its markup, its class and the ids inside it."""
    markup: str
    cls: str
    ids: frozenset[str]


def blocks(html: str) -> tuple[str, str, list[Block]] | None:
    """(markup before the body's content, after it, the top-level blocks), or None when the
    markup is not the simple well-formed kind our templates emit."""
    match = _BODY.search(html)
    if match is None:
        return None
    try:
        body = ET.fromstring("<body>" + _VOID.sub(r"<\1\2/>", match.group(2)) + "</body>")
    except ET.ParseError:
        return None
    if (body.text or "").strip() or any((c.tail or "").strip() for c in body):
        return None
    out = [Block(ET.tostring(c, encoding="unicode", method="xml"), c.get("class", ""),
                 frozenset(e.get("id", "") for e in c.iter() if e.get("id")))
           for c in body]
    return html[:match.end(1)], html[match.start(3):], out


def part_markup(head: str, tail: str, part: Sequence[Block]) -> str:
    """The whole document's markup with only the given blocks in its body."""
    return head + "".join(b.markup for b in part) + tail


def start_css(start_page: int) -> str:
    """CSS that starts a part on page `start_page`: its number and its side (odd: right)."""
    side = "right" if start_page % 2 else "left"
    return f"html {{ break-before: {side} }} @page :first {{ counter-set: page {start_page} }}"


def anchor_pages(pages: Iterable[Any], start_page: int) -> dict[str, int]:
    """Anchor name → page number, for a part's laid-out pages (WeasyPrint's Page.anchors)."""
    found: dict[str, int] = {}
    for number, page in enumerate(pages, start_page):
        for name in page.anchors:
            found.setdefault(name, number)
    return found


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def toc_css(pages_of: dict[str, int]) -> str:
    """CSS printing the 目录's page numbers from known anchor pages instead of target-counter
    (which only sees anchors in the same part)."""
    return "".join(f'.toc a[href={_css_string("#" + name)}]::after {{ content: leader(dotted) '
                   f'" " "{number}" }}' for name, number in sorted(pages_of.items()))


def document_markup(disclosure: Any) -> tuple[str, list[Any]]:
    """The markup and user stylesheets a render lays out (as pdf.render_pdf_report does)."""
    html = weasy._INTER_TAG_SPACE.sub("><", render_html(disclosure)).strip()
    return weasy._split_style(html)


def lay_out(markup: str, sheets: list[Any], extra_css: str = "") -> Any:
    """A laid-out WeasyPrint document of the markup, with `extra_css` as a user stylesheet."""
    extra = [weasy.CSS(string=extra_css)] if extra_css else []
    with weasy.collector_paused():
        document, ua = compat.make_html(markup, str(TEMPLATES) + "/", weasy.LocalFetcher(),
                                        weasy._ua_sheet())
        return document.render(stylesheets=ua + sheets + extra)
