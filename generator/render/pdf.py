"""Disclosure → PDF with WeasyPrint: the HTML of html.py, fonts subset, bytes deterministic.

The URL fetcher only reads files under templates/, the package and the system font folders
(and data: URLs); anything else — http(s), other files — is refused and logged, so nothing a
YAML file names is ever fetched. The only date is the input's `published` date (<meta
dcterms.*>; none without it), so two renders of the same input are byte-identical. Font streams
are packed (pdfpack.py).

What WeasyPrint logs while it renders (a missing glyph, a refused fetch, CSS it ignored) is
returned with the PDF (`render_pdf_report`; `jobs` makes warnings of it, pdflog.py).

Speed (benchmarks/results.md): WeasyPrint is imported without find_library's child processes,
the HTML is parsed by expat, and our user-agent stylesheet replaces the HTML5 one (compat.py,
version-fenced); the stylesheet is parsed once per process; Python's cyclic garbage collector
is paused while a document is laid out and its objects are collected only when another
document follows (`collector_paused`).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..compute.tables import Disclosure
from ..problems import Problem
from . import compat
from . import parallel as two_cores
from .compat import CSS, FontConfiguration  # noqa: F401  — WeasyPrint, imported the quick way
from .html import TEMPLATES, render_html
from .pdflog import held_records, record_problem, release, weasyprint_records
from .pdfpack import pack_font_streams
from .weasy import (  # noqa: F401  — the set-up every layout shares, here under its old names
    _INTER_TAG_SPACE,
    _SHEETS,
    ALLOWED_ROOTS,
    FONT_DIRS,
    FetchRefused,
    LocalFetcher,
    _sheet,
    _split_style,
    _ua_sheet,
    collector_paused,
    font_configuration,
)

compat.install_cjk_justify()  # justified prose lines that hold digits (GB/T 9704)
compat.install_fast_borders()  # table borders written as runs, not segment by segment
TAG_REPAIRS = compat.install_tag_repairs()  # tagged variants: one element per section/table
LOG = logging.getLogger(__name__)

# --------------------------------------------------------------------------- rendering

@dataclass
class PdfResult:
    data: bytes
    pages: int
    records: list[logging.LogRecord] = field(default_factory=list)
    lengths: tuple[int, int] | None = None  # laid out on two cores: the first two parts' pages
    meanwhile: Any = None  # what `meanwhile` gave, when the other core ran it
    how: str = ""  # how it was laid out, and why not on two cores (Chinese: `render --verbose`)

    def problems(self, file: str = "") -> list[Problem]:
        return [record_problem(r, file) for r in self.records]


ONE_CORE = "PDF 单进程排版"


def _two_cores(html: str, sheets: list[Any], hint: tuple[int, int] | None,
               meanwhile: Callable[[], Any] | None, fonts: Any) -> tuple[PdfResult | None, str]:
    """The PDF laid out on two cores (render/parallel.py), or None and why not. Every exception
    on that path — a WeasyPrint that changed under the fence, a joined PDF that fails its
    check — means the sequential render, which is always the reference."""
    if not compat.INTERNALS:
        return None, f"{ONE_CORE}：{compat.REASON}"
    if not sheets:
        return None, f"{ONE_CORE}（页面的样式表不能单独解析）"
    with held_records() as records:  # a fallback renders (and logs) again
        try:
            if not two_cores.usable():
                return None, f"{ONE_CORE}（两核排版只在有两个空闲核、单线程时使用）"
            joined = two_cores.render(html, sheets, hint, pack_font_streams, meanwhile, fonts)
        except Exception as exc:  # noqa: BLE001  — never a crash, never a wrong PDF
            return None, f"{ONE_CORE}：两核排版出错（{type(exc).__name__}），已改用单进程排版"
    if joined is None:
        return None, f"{ONE_CORE}：两核排版的结果无法合并，已改用单进程排版"
    release(records)
    return PdfResult(joined.data, joined.pages, list(records), joined.lengths, joined.meanwhile,
                     "PDF 两核排版"), ""


def render_pdf_report(disclosure: Disclosure, pdf_variant: str | None = None,
                      fetcher: LocalFetcher | None = None, parallel: bool = False,
                      hint: tuple[int, int] | None = None,
                      meanwhile: Callable[[], Any] | None = None) -> PdfResult:
    """The disclosure as PDF bytes, its page count and what WeasyPrint logged meanwhile;
    pdf_variant='pdf/a-3b' gives the archival variant. With `parallel`, laid out on two cores
    when it can be (render/parallel.py; `hint`: the part lengths of the last render), and
    `meanwhile` run on the other core once it is free (its result in PdfResult.meanwhile)."""
    html = _INTER_TAG_SPACE.sub("><", render_html(disclosure)).strip()  # fewer text nodes
    fonts = font_configuration(html)
    html, sheets = _split_style(html)
    how = ONE_CORE
    if parallel and not pdf_variant and fetcher is None:
        joined, how = _two_cores(html, sheets, hint, meanwhile, fonts)
        if joined is not None:
            return joined
    fetcher = fetcher or LocalFetcher()
    # both variants are tagged (pdf/a-3b too: the same structure tree for archive readers)
    options: dict = {"pdf_variant": pdf_variant, "pdf_tags": True} if pdf_variant else {}
    if pdf_variant and not TAG_REPAIRS:
        LOG.warning("%s：此 WeasyPrint 版本下结构树未经修正（表头、页码未标为工件）", pdf_variant)
    with weasyprint_records() as records, collector_paused():
        document, ua = compat.make_html(html, str(TEMPLATES) + "/", fetcher, _ua_sheet())
        rendered = document.render(stylesheets=ua + sheets, font_config=fonts, **options)
        data = rendered.write_pdf(finisher=pack_font_streams, **options)
        pages = len(rendered.pages)
        del rendered, document
    return PdfResult(data, pages, list(records), how=how)


def render_pdf_pages(disclosure: Disclosure, pdf_variant: str | None = None,
                     fetcher: LocalFetcher | None = None) -> tuple[bytes, int]:
    """The disclosure as PDF bytes and its page count."""
    result = render_pdf_report(disclosure, pdf_variant, fetcher)
    return result.data, result.pages


def render_pdf(disclosure: Disclosure, pdf_variant: str | None = None,
               fetcher: LocalFetcher | None = None) -> bytes:
    """The disclosure as PDF bytes."""
    return render_pdf_report(disclosure, pdf_variant, fetcher).data
