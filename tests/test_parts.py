"""A disclosure laid out in parts (cut at its forced page breaks, each part from its real start
page, the 目录's numbers from the other parts' anchors) gives the sequential render's pages:
same text and same pixels at 100 dpi, page by page; with a fixture where a part starts on an
odd page and one where it starts on an even page. (Issue 17's parallel layout builds on this;
tests/test_parallel.py checks the joined PDF against the sequential one byte for byte.)"""
from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from generator.render import parts
from generator.render.parts import Block
from generator.render.pdflog import Collect

pytestmark = pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("pdftotext")),
                                reason="poppler-utils missing")


def _pages_text(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    return out.split("\f")[:-1]


def _pages_png(pdf: Path, prefix: Path) -> list[Image.Image]:
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(pdf), str(prefix)], check=True)
    return [Image.open(p).convert("RGB") for p in sorted(prefix.parent.glob(prefix.name + "-*.png"))]


def _render_in_parts(head: str, tail: str, groups: list[list[Block]], sheets: list) -> list:
    """Each group laid out alone from its real start page, the first (cover + 目录) last with
    the page numbers of the others' anchors. Returns (start page, document) per group."""
    laid: list = [None] * len(groups)
    first = parts.lay_out(parts.part_markup(head, tail, groups[0]), sheets)  # for its length
    start = len(first.pages) + 1
    anchors: dict[str, int] = {}
    for i, group in enumerate(groups[1:], 1):
        doc = parts.lay_out(parts.part_markup(head, tail, group), sheets, parts.start_css(start))
        laid[i] = (start, doc)
        anchors.update(parts.anchor_pages(doc.pages, start))
        start += len(doc.pages)
    doc = parts.lay_out(parts.part_markup(head, tail, groups[0]), sheets,
                        parts.toc_css(anchors))
    assert len(doc.pages) == len(first.pages)
    laid[0] = (1, doc)
    return laid


def _check(tmp_path: Path, head: str, tail: str, groups: list[list[Block]], sheets: list,
           expect_even_start: bool) -> None:
    whole = parts.part_markup(head, tail, [b for g in groups for b in g])
    seq = parts.lay_out(whole, sheets)
    (tmp_path / "seq.pdf").write_bytes(seq.write_pdf())
    seq_text = _pages_text(tmp_path / "seq.pdf")
    seq_png = _pages_png(tmp_path / "seq.pdf", tmp_path / "seq")
    assert len(seq_text) == len(seq.pages) == len(seq_png)
    handler = Collect()
    logging.getLogger("weasyprint").addHandler(handler)
    try:
        laid = _render_in_parts(head, tail, groups, sheets)
        for k, (_, doc) in enumerate(laid):
            (tmp_path / f"part{k}.pdf").write_bytes(doc.write_pdf())
    finally:
        logging.getLogger("weasyprint").removeHandler(handler)
    # the only thing WeasyPrint says: the 目录's links point into other parts (the join's job;
    # the first, length-only layout of the 目录 has no page numbers for them)
    elsewhere = {i for g in groups[1:] for b in g for i in b.ids}
    for record in handler.records:
        found = (re.fullmatch(r"No anchor #(\S+) for internal URI reference", record.getMessage())
                 or re.fullmatch(r"Content discarded: target points to undefined anchor "
                                 r"\('url', \('internal', '(\S+)'\)\)", record.getMessage()))
        assert found and found.group(1) in elsewhere, record.getMessage()
    starts = [s for s, _ in laid]
    assert any(s % 2 == 0 for s in starts[1:]) == expect_even_start, starts
    assert any(s % 2 == 1 for s in starts[1:])
    assert sum(len(d.pages) for _, d in laid) == len(seq.pages)
    for k, (start, _doc) in enumerate(laid):
        path = tmp_path / f"part{k}.pdf"
        text = _pages_text(path)
        png = _pages_png(path, tmp_path / f"part{k}")
        for i, (t, img) in enumerate(zip(text, png, strict=True)):
            n = start + i
            assert t == seq_text[n - 1], f"page {n}: text differs"
            assert ImageChops.difference(img, seq_png[n - 1]).getbbox() is None, \
                f"page {n}: pixels differ"
    # the anchors (outline and link targets) land on the same pages as in the sequential render
    seq_anchors = parts.anchor_pages(seq.pages, 1)
    part_anchors: dict[str, int] = {}
    for start, doc in laid:
        part_anchors.update(parts.anchor_pages(doc.pages, start))
    assert part_anchors == seq_anchors


def _groups(blocks: list[Block]) -> list[list[Block]]:
    """Cover + 目录 | the blocks up to the last one | the last block (the text, in 2025)."""
    toc = next(i for i, b in enumerate(blocks) if b.cls == "toc")
    return [blocks[:toc + 1], blocks[toc + 1:-1], blocks[-1:]]


def test_parts_give_the_sequential_pages_odd_start(xigang, tmp_path, weasyprint_warnings_expected):
    markup, sheets = parts.document_markup(xigang.disclosure)
    cut = parts.blocks(markup)
    assert cut is not None
    head, tail, blocks = cut
    _check(tmp_path, head, tail, _groups(blocks), sheets, expect_even_start=False)


def test_parts_give_the_sequential_pages_even_start(xigang, tmp_path, weasyprint_warnings_expected):
    """One more one-page block before the last part moves that part to an even (left) page."""
    markup, sheets = parts.document_markup(xigang.disclosure)
    cut = parts.blocks(markup)
    assert cut is not None
    head, tail, blocks = cut
    groups = _groups(blocks)
    cover = next(b for b in blocks if b.cls == "cover")
    groups[1] = groups[1] + [cover]
    _check(tmp_path, head, tail, groups, sheets, expect_even_start=True)


def test_markup_that_is_not_simple_is_not_cut():
    assert parts.blocks("<html><body>text<p>x</p></body></html>") is None
    assert parts.blocks("<html><body><p>x</p><p>y</body></html>") is None
    assert parts.blocks("<html><head></head></html>") is None
