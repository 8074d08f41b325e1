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

import gc
import logging
import mimetypes
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import generator

from ..compute.tables import Disclosure
from ..problems import Problem
from . import compat
from .compat import (  # WeasyPrint, imported the quick way
    CSS,
    FontConfiguration,
    URLFetcher,
    URLFetcherResponse,
)
from .html import TEMPLATES, render_html
from .pdflog import held_records, record_problem, release, weasyprint_records
from .pdfpack import pack_font_streams

compat.install_lazy_fonts()
compat.install_cjk_justify()  # justified prose lines that hold digits (GB/T 9704)
TAG_REPAIRS = compat.install_tag_repairs()  # tagged variants: one element per section/table

LOG = logging.getLogger(__name__)
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts",
             Path.home() / ".local/share/fonts")
_INTER_TAG_SPACE = re.compile(r">\s+<")  # text is escaped, so only layout whitespace matches
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
ALLOWED_ROOTS = (TEMPLATES.resolve(), Path(generator.__file__).resolve().parent) + FONT_DIRS


class FetchRefused(ValueError):
    """A resource outside the allowed folders was asked for."""


class LocalFetcher(URLFetcher):
    """Serves data: URLs and files under ALLOWED_ROOTS; refuses everything else."""

    def __init__(self, roots=ALLOWED_ROOTS):
        super().__init__(allowed_protocols=("file", "data"))
        self.roots = tuple(Path(r).resolve() for r in roots)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            if any(path.is_relative_to(root) for root in self.roots) and path.is_file():
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})
        self.refused.append(url)
        LOG.warning("refused to fetch %s (only templates, package and font files)", url[:200])
        raise FetchRefused(f"refused to fetch {url[:200]}")


# --------------------------------------------------------------------------- stylesheets

_SHEETS: dict[str, Any] = {}


def _sheet(key: str, text: str) -> Any:
    """A stylesheet parsed once per process (a batch worker renders many documents)."""
    sheet = _SHEETS.get(text)
    if sheet is None:
        sheet = _SHEETS[text] = CSS(string=text, base_url=str(TEMPLATES) + "/",
                                    url_fetcher=LocalFetcher())
    return sheet


_FONTS: list[Any] = []


def font_configuration(html: str) -> Any:
    """The FontConfiguration a document is laid out with: one per process (fonts are found
    and loaded once for a batch worker's documents: −9 % CPU a document, same bytes), but a
    fresh one for markup with an @font-face (the missing-glyph box font, glyphs.py), whose
    face must not stay behind for the next document."""
    if "@font-face" in html:
        return FontConfiguration()
    if not _FONTS:
        _FONTS.append(FontConfiguration())
    return _FONTS[0]


def _ua_sheet() -> Any:
    return _sheet("ua", (TEMPLATES / "ua.css").read_text(encoding="utf-8"))


def _split_style(html: str) -> tuple[str, list[Any]]:
    """The page's inline <style> taken out and parsed once per process (it is the same for every
    department of a layout). It becomes a user stylesheet: the only other sheet is the
    user-agent one, which both user and author sheets override, and neither uses !important.
    On compat's public path ua.css is itself a user sheet, so the page's stays inline (author)."""
    match = _STYLE.search(html)
    if match is None or "!important" in match.group(1) or not compat.INTERNALS:
        return html, []
    return html[:match.start()] + html[match.end():], [_sheet("page", match.group(1))]


# --------------------------------------------------------------------------- collector

_UNCOLLECTED = False  # a rendered document's objects are frozen, not yet collected


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic GC off while a document is laid out: its full collections rescan the
    growing box tree (15–25 % of a render, the only super-linear cost). Afterwards the
    document's objects are frozen (`gc.freeze`: out of the collector's sight, O(1)) rather than
    collected (0.2–0.3 s): a one-shot process exits without ever paying for it, and a process
    that renders again (a batch worker, `watch`) collects the previous document first."""
    global _UNCOLLECTED
    if _UNCOLLECTED:
        gc.unfreeze()
        gc.collect()
        _UNCOLLECTED = False
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        _UNCOLLECTED = True
        if enabled:
            gc.enable()


# --------------------------------------------------------------------------- rendering

@dataclass
class PdfResult:
    data: bytes
    pages: int
    records: list[logging.LogRecord] = field(default_factory=list)
    lengths: tuple[int, int] | None = None  # laid out on two cores: the first two parts' pages
    meanwhile: Any = None  # what `meanwhile` gave, when the other core ran it

    def problems(self, file: str = "") -> list[Problem]:
        return [record_problem(r, file) for r in self.records]


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
    if parallel and not pdf_variant and fetcher is None and sheets:
        from . import parallel as two_cores
        with held_records() as records:  # a fallback renders (and logs) again
            joined = two_cores.render(html, sheets, hint, pack_font_streams, meanwhile, fonts) \
                if two_cores.usable() else None
        if joined is not None:
            release(records)
            return PdfResult(joined.data, joined.pages, list(records), joined.lengths,
                             joined.meanwhile)
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
    return PdfResult(data, pages, list(records))


def render_pdf_pages(disclosure: Disclosure, pdf_variant: str | None = None,
                     fetcher: LocalFetcher | None = None) -> tuple[bytes, int]:
    """The disclosure as PDF bytes and its page count."""
    result = render_pdf_report(disclosure, pdf_variant, fetcher)
    return result.data, result.pages


def render_pdf(disclosure: Disclosure, pdf_variant: str | None = None,
               fetcher: LocalFetcher | None = None) -> bytes:
    """The disclosure as PDF bytes."""
    return render_pdf_report(disclosure, pdf_variant, fetcher).data
