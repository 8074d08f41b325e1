"""Disclosure → PDF with WeasyPrint: the HTML of html.py, fonts subset, bytes deterministic.

The URL fetcher only reads files under templates/, the package and the system font folders
(and data: URLs); anything else — http(s), other files — is refused and logged, so nothing a
YAML file names is ever fetched. The only date is the input's `published` date (<meta
dcterms.*>; none without it), so two renders of the same input are byte-identical. Font streams are packed (pdfpack.py).
"""
from __future__ import annotations

import logging
import mimetypes
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

import generator

from ..compute.tables import Disclosure
from .html import TEMPLATES, render_html
from .pdffonts import install as _lazy_fonts
from .pdfpack import pack_font_streams

_lazy_fonts()

LOG = logging.getLogger(__name__)
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts",
             Path.home() / ".local/share/fonts")
_INTER_TAG_SPACE = re.compile(r">\s+<")  # text is escaped, so only layout whitespace matches
ALLOWED_ROOTS = (TEMPLATES.resolve(), Path(generator.__file__).resolve().parent) + FONT_DIRS


class _LeanHTML(HTML):
    """HTML with our own minimal user-agent stylesheet (templates/ua.css) instead of
    WeasyPrint's full HTML5 one. `_ua_stylesheets` is WeasyPrint's internal hook; the PDF
    tests compare every schedule row and the page count, so a change there cannot pass
    silently."""

    _ua = None

    def _ua_stylesheets(self, forms=False):
        if _LeanHTML._ua is None:
            _LeanHTML._ua = CSS(filename=str(TEMPLATES / "ua.css"))
        return [_LeanHTML._ua]


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


def render_pdf_pages(disclosure: Disclosure, pdf_variant: str | None = None,
                     fetcher: LocalFetcher | None = None) -> tuple[bytes, int]:
    """The disclosure as PDF bytes and its page count; pdf_variant='pdf/a-3b' gives the
    archival variant."""
    html = _INTER_TAG_SPACE.sub("><", render_html(disclosure))  # fewer text nodes to lay out
    document = _LeanHTML(string=html, base_url=str(TEMPLATES) + "/",
                         url_fetcher=fetcher or LocalFetcher()).render()
    options = {"pdf_variant": pdf_variant} if pdf_variant else {}
    return document.write_pdf(finisher=pack_font_streams, **options), len(document.pages)


def render_pdf(disclosure: Disclosure, pdf_variant: str | None = None,
               fetcher: LocalFetcher | None = None) -> bytes:
    """The disclosure as PDF bytes."""
    return render_pdf_pages(disclosure, pdf_variant, fetcher)[0]
