"""What every WeasyPrint layout of a disclosure shares, whichever path lays it out (pdf.py in one
process, parallel.py in two, parts.py for the parts): the URL fetcher that reads only our own
files, the stylesheets parsed once per process, the FontConfiguration, the markup as laid out
(inline <style> taken out) and the pause of the cyclic garbage collector around a layout.
"""
from __future__ import annotations

import gc
import logging
import mimetypes
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import generator

from . import compat
from .compat import CSS, FontConfiguration, URLFetcher, URLFetcherResponse
from .html import TEMPLATES

compat.install_lazy_fonts()

LOG = logging.getLogger("generator.render.pdf")  # the name pdflog.LOGGERS collects
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

_UNCOLLECTED = False  # a rendered document's objects are not yet collected
_DOCUMENT_FROZEN = False  # … and were frozen with the rest (see below)
BASE_FROZEN = False  # set in a batch worker forked after the parent froze its imports


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic GC off while a document is laid out: its full collections rescan the
    growing box tree (15–25 % of a render, the only super-linear cost). Afterwards the
    document's objects are frozen (`gc.freeze`: out of the collector's sight, O(1)) rather than
    collected (0.2–0.3 s): a one-shot process exits without ever paying for it, and a process
    that renders again (`watch`) collects the previous document first. A batch worker forked
    after its parent froze the imported modules (BASE_FROZEN, set by commands/batch.py) keeps
    that base frozen: the document's objects are left to the collection at the next render,
    with the collector off meanwhile (the worker only renders), so that collection scans only
    them, not the modules again."""
    global _UNCOLLECTED, _DOCUMENT_FROZEN
    if _UNCOLLECTED:
        if _DOCUMENT_FROZEN:
            gc.unfreeze()
        gc.collect()
        _UNCOLLECTED = _DOCUMENT_FROZEN = False
    enabled = gc.isenabled()
    base = BASE_FROZEN and gc.get_freeze_count() > 0
    gc.disable()
    try:
        yield
    finally:
        _UNCOLLECTED = True
        if base:
            _DOCUMENT_FROZEN = False  # left for the next render's collection, collector off
        else:
            gc.freeze()
            _DOCUMENT_FROZEN = True
            if enabled:
                gc.enable()
