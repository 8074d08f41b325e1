"""The one place budgetgen touches WeasyPrint's and pydyf's internals, fenced by a version check.

Everything here has a public path that gives the same output, only slower or hungrier:

- `import_weasyprint`: on Linux, WeasyPrint's import asks cffi for each Windows and macOS
  library name first, and cffi falls back to `ctypes.util.find_library` for every miss (22 ×
  `ldconfig -p`, 16 × gcc + ld: 0.3 s of every process). While WeasyPrint imports,
  find_library answers None, so only the Linux names WeasyPrint also tries load; should the
  import then fail, it is retried the ordinary way. (Public, stdlib only: used on any version.)
- `LeanHTML`: our own minimal user-agent stylesheet (templates/ua.css) in place of WeasyPrint's
  full HTML5 one (`HTML._ua_stylesheets`, internal), and the HTML parsed by expat instead of
  the HTML5 parser when it is well-formed XML (our templates emit it; the element tree is the
  same). Public path: `HTML(string=…)` with ua.css added as a user stylesheet.
- `install_lazy_fonts`: WeasyPrint's PDF writer builds `LazyFont` objects that do not keep
  a second copy of each font file (−70 MB). Public path: nothing (more memory).
- `install_fast_borders`: a collapsed table's border segments recorded and written as the
  finisher would join them (pagestreams.merge_strokes), not drawn one by one. Public path:
  WeasyPrint draws each segment and the finisher joins them: the same bytes.
- `object_bytes`: pydyf's serialisation of one PDF object (`pydyf._to_bytes`). Public path:
  the same rules written out here.

INTERNALS is True only on the exact WeasyPrint and pydyf releases the suite was verified with
(VERIFIED_WEASYPRINT, VERIFIED_PYDYF) and only when every internal name used here is present
(INTERNAL_NAMES); on anything else — a bug-fix release included — or with
BUDGETGEN_COMPAT=public in the environment, the public paths are used and REASON says why (in
Chinese: `render --verbose` prints it). A newer WeasyPrint can so only make budgetgen slower,
never wrong. The two-core path (parallel.py) is further guarded at run time: any exception on it
means the sequential render, and the joined PDF is checked before its bytes are written
(check_joined: every page's fonts present and embedded, page count, outline).
tests/test_compat.py renders both ways, and simulates drift (a missing attribute, a renamed
function, a patch that no longer applies) to see the fallback.
"""
from __future__ import annotations

import ctypes.util
import os
import re
import sys
import xml.etree.ElementTree as ET
from typing import Any

import pydyf  # pure Python; does not import WeasyPrint

from .pagestreams import union_lines  # standard library only

# the exact releases the suite (tests/test_compat.py, tests/test_parallel.py) was verified with;
# moving them is a decision: run the whole suite on the new release first (docs/parallel-layout.md)
VERIFIED_WEASYPRINT = "70.0"
VERIFIED_PYDYF = "0.13.0"


def import_weasyprint() -> Any:
    """Import WeasyPrint without the find_library child processes (Linux); the module."""
    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        import weasyprint
        return weasyprint
    original = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None  # type: ignore[assignment]
    try:
        import weasyprint
        return weasyprint
    except OSError:  # a library only find_library could locate: the ordinary way
        for name in [n for n in sys.modules if n == "weasyprint" or n.startswith("weasyprint.")]:
            del sys.modules[name]
        ctypes.util.find_library = original
        import weasyprint
        return weasyprint
    finally:
        ctypes.util.find_library = original


weasyprint = import_weasyprint()
HTML: Any = weasyprint.HTML
CSS: Any = weasyprint.CSS
URLFetcher: Any = weasyprint.urls.URLFetcher
URLFetcherResponse: Any = weasyprint.urls.URLFetcherResponse
FontConfiguration: Any = weasyprint.text.fonts.FontConfiguration


# every internal name used below: (module, dotted attribute)
INTERNAL_NAMES = (
    ("weasyprint", "_find_base_url"),
    ("weasyprint", "HTML._ua_stylesheets"),
    ("weasyprint", "HTML.render"),
    ("weasyprint.document", "Document.copy"),
    ("weasyprint.document", "Page.paint"),
    ("weasyprint.draw", "draw_collapsed_borders"),
    ("weasyprint.draw", "draw_line"),
    ("weasyprint.pdf", "build_fonts_dictionary"),
    ("weasyprint.pdf.stream", "Stream"),
    ("weasyprint.pdf.stream", "Font"),
    ("weasyprint.pdf.fonts", "Font.clean"),
    ("weasyprint.text.fonts", "get_hb_object_data"),
    ("pydyf", "_to_bytes"),
    ("pydyf", "PDF"),
)
PUBLIC = "只用 WeasyPrint 的公开接口单进程排版（较慢，输出正确）"


def internals_usable(weasyprint_version: str, pydyf_version: str) -> bool:
    """True only for the exact releases verified (a bug-fix release is not)."""
    return weasyprint_version == VERIFIED_WEASYPRINT and pydyf_version == VERIFIED_PYDYF


def missing_internals() -> list[str]:
    """The internal names of INTERNAL_NAMES this WeasyPrint or pydyf does not have."""
    import importlib
    missing = []
    for module_name, dotted in INTERNAL_NAMES:
        try:
            value: Any = importlib.import_module(module_name)
            for part in dotted.split("."):
                value = getattr(value, part)
        except (ImportError, AttributeError):
            missing.append(f"{module_name}.{dotted}")
    return missing


def fence(weasyprint_version: str, pydyf_version: str, mode: str = "") -> str:
    """Why the internals are not used here (Chinese, for `--verbose`), or "" when they are."""
    if mode == "public":
        return f"环境变量 BUDGETGEN_COMPAT=public：{PUBLIC}"
    if not internals_usable(weasyprint_version, pydyf_version):
        return (f"WeasyPrint {weasyprint_version}、pydyf {pydyf_version} 不是验证过的版本"
                f"（WeasyPrint {VERIFIED_WEASYPRINT}、pydyf {VERIFIED_PYDYF}）：{PUBLIC}")
    missing = missing_internals()
    if missing:
        return f"WeasyPrint 缺少 budgetgen 用到的内部接口（{'、'.join(missing)}）：{PUBLIC}"
    return ""


REASON = fence(weasyprint.__version__, pydyf.__version__, os.environ.get("BUDGETGEN_COMPAT", ""))
INTERNALS = not REASON


# --------------------------------------------------------------------------- HTML

_VOID = re.compile(r"<(meta|br|col|img|hr|input|link|wbr|area|base|embed|source|track)\b([^>]*?)/?>")


def _xml_tree(html: str) -> Any | None:
    """The element tree WeasyPrint's HTML5 parser builds for our templates' markup, parsed by
    expat (25× faster), or None when the markup is not of that simple kind. Void elements are
    closed first; a <tr> directly in a <table> gets the <tbody> the HTML5 parser would give it.
    Markup with comments, character entities beyond XML's, or text after </html> is refused."""
    if "<!--" in html or not html.rstrip().endswith("</html>"):
        return None
    try:
        root = ET.fromstring(_VOID.sub(r"<\1\2/>", html.rstrip()))
    except ET.ParseError:
        return None
    if root.tag != "html" or [c.tag for c in root] != ["head", "body"]:
        return None
    for table in root.iter("table"):
        if any(child.tag == "tr" for child in table):
            kids, body = list(table), None
            for child in kids:
                table.remove(child)
                if child.tag == "tr":
                    if body is None:
                        body = ET.SubElement(table, "tbody")
                    body.append(child)
                else:
                    body = None
                    table.append(child)
    return root


def make_html(string: str, base_url: str, url_fetcher: Any, ua_css: Any) -> tuple[Any, list]:
    """(HTML document, user stylesheets to render it with) for the given markup."""
    if not INTERNALS:
        return HTML(string=string, base_url=base_url, url_fetcher=url_fetcher), [ua_css]
    return _LeanHTML(string, base_url, url_fetcher, ua_css), []


class _LeanHTML(HTML):
    """HTML with ua.css as its user-agent stylesheet, parsed by expat when it can be."""

    def __init__(self, string: str, base_url: str, url_fetcher: Any, ua_css: Any) -> None:
        self._ua = ua_css
        root = _xml_tree(string)
        if root is None:
            super().__init__(string=string, base_url=base_url, url_fetcher=url_fetcher)
            return
        import cssselect2
        self.base_url = weasyprint._find_base_url(root, base_url)
        self.url_fetcher = url_fetcher
        self.media_type = "print"
        self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root,
                                                                        content_language=None)
        self.etree_element = self.wrapper_element.etree_element

    def _ua_stylesheets(self, forms: bool = False) -> list:
        return [self._ua]


# --------------------------------------------------------------------------- PDF objects

def install_lazy_fonts() -> bool:
    """Make WeasyPrint's PDF writer create LazyFont objects (idempotent); False on the public
    path, where WeasyPrint keeps its copy of each font file.

    WeasyPrint's Font keeps a bytes copy of the whole font file it uses (a Noto CJK collection
    is 20–27 MB; a disclosure uses four faces), although HarfBuzz subsets from the face it
    already has. LazyFont drops that first copy and reads the face again only if something asks
    for the full file (fontTools paths for variable or colour fonts, or a failed subset)."""
    if not INTERNALS:
        return False
    from weasyprint.pdf import stream
    from weasyprint.pdf.fonts import Font
    from weasyprint.text.fonts import get_hb_object_data

    if getattr(stream.Font, "_budgetgen_lazy", False):
        return True

    class LazyFont(Font):  # type: ignore[misc, valid-type]
        _budgetgen_lazy = True

        @property
        def file_content(self) -> bytes:
            data = self.__dict__.get("_content")
            if data is None:
                data = self.__dict__["_content"] = get_hb_object_data(self.hb_face)
            return data

        @file_content.setter
        def file_content(self, value: bytes) -> None:
            if "_constructed" not in self.__dict__:  # Font.__init__'s copy of the whole file
                self.__dict__["_constructed"] = True
                return
            self.__dict__["_content"] = value

    stream.Font = LazyFont  # type: ignore[attr-defined]
    return True


def object_bytes(item: Any) -> bytes:
    """One PDF object or stream item serialised as pydyf writes it."""
    if INTERNALS:
        return pydyf._to_bytes(item)  # type: ignore[attr-defined]
    if isinstance(item, bytes):
        return item
    if isinstance(item, float):
        return (str(int(item)) if item.is_integer() else f"{item:f}".rstrip("0")).encode("ascii")
    if isinstance(item, pydyf.Object):
        return item.data
    return str(item).encode("ascii")


# --------------------------------------------------------------------------- parallel layout
# One document laid out in parts, in two processes (render/parallel.py): each part's pages are
# painted where they were laid out into recordings — plain data, picklable — and one PDF is
# written from the recordings, with one font subset per face. Internal: Stream, Page.paint,
# Font's glyph tables and the module-level build_fonts_dictionary of weasyprint.pdf.

class CannotJoin(Exception):
    """The recordings cannot give the sequential render's bytes (the caller renders
    sequentially instead)."""


class FontUse:
    """What painting a part's pages did to one font: the glyphs it drew (ids → text, ids →
    widths, in first-use order) and the size-dependent fields of the font's first use."""

    __slots__ = ("key", "to_unicode", "widths", "first")

    def __init__(self, key: int, to_unicode: dict, widths: dict, first: tuple) -> None:
        self.key, self.to_unicode, self.widths, self.first = key, to_unicode, widths, first


class RecordedPage:
    """A laid-out page painted into a content stream: its operators and the page data the PDF
    writer reads (size, bleed, bookmarks, links, anchors)."""

    __slots__ = ("width", "height", "bleed", "bookmarks", "links", "anchors", "ops", "states")

    def __init__(self, page: Any, ops: list, states: list) -> None:
        self.width, self.height, self.bleed = page.width, page.height, dict(page.bleed)
        self.bookmarks = list(page.bookmarks)
        self.links = [(kind, target, tuple(rect)) for kind, target, rect, _ in page.links]
        self.anchors = dict(page.anchors)
        self.ops, self.states = ops, states


_SIZED = ("font_size", "ascent", "descent")


def record_pages(document: Any) -> tuple[list[RecordedPage], list[FontUse], dict[int, Any]]:
    """A laid-out document's pages painted as generate_pdf paints them (same stream set-up,
    zoom 1): (recorded pages, font uses in first-use order, the Font objects by key). Raises
    CannotJoin for what a recording cannot carry (forms, attachments, images, patterns,
    shadings, numbered graphics states, missing glyphs, bitmap or colour fonts)."""
    from weasyprint.pdf.stream import Stream
    scale = 0.75
    resources = pydyf.Dictionary({"ExtGState": pydyf.Dictionary(), "XObject": pydyf.Dictionary(),
                                  "Pattern": pydyf.Dictionary(), "Shading": pydyf.Dictionary()})
    fonts: dict[int, Any] = {}
    pages = []
    for page in document.pages:
        if any(page.forms.values()) or any(kind not in ("internal", "external")
                                           for kind, *_ in page.links):
            raise CannotJoin("forms or attachments")
        rect = (-page.bleed["left"], -page.bleed["top"],
                page.width + page.bleed["left"] + page.bleed["right"],
                page.height + page.bleed["top"] + page.bleed["bottom"])
        stream = Stream(fonts, rect, resources, {}, None, document.color_profiles,
                        document.output_intent, compress=True)
        stream.transform(d=-1, f=(page.height * scale))
        start, known = len(stream.stream), list(resources["ExtGState"])
        page.paint(stream, scale)
        ops = stream.stream[start:]
        if not all(isinstance(op, (bytes, str)) for op in ops):
            raise CannotJoin("a content-stream operand that is not text")
        states = []
        for key, state in resources["ExtGState"].items():
            if key in known:
                continue
            if not key.startswith(("a", "A")) or not all(
                    isinstance(v, (int, float)) for v in state.values()):
                raise CannotJoin("a graphics state other than opacity")
            states.append((key, dict(state)))
        pages.append(RecordedPage(page, ops, states))
    if any(resources[name] for name in ("XObject", "Pattern", "Shading")):
        raise CannotJoin("images, patterns or shadings")
    uses = []
    for key, font in fonts.items():
        if font.missing or font.bitmap or font.png or font.svg or font.colr or font.variations:
            raise CannotJoin("missing glyphs, bitmap, colour or variable font")
        uses.append(FontUse(key, dict(font.to_unicode), dict(font.widths),
                            tuple(getattr(font, name) for name in _SIZED)))
    return pages, uses, fonts


_LIVE = ("hb_font", "hb_face", "_constructed", "_content")  # C pointers, LazyFont's cache


def subset_snapshot(font: Any) -> dict[str, Any]:
    """A font this process painted with, subset to the glyphs it drew (as build_fonts_dictionary
    would subset it were no other part to use it), as plain data: for the joining process when
    no part of its own used the font (SubsetFont)."""
    glyphs = frozenset(font.to_unicode)
    font.clean(dict(font.to_unicode), False)  # WeasyPrint's default: hinting off
    data = {k: v for k, v in vars(font).items() if k not in _LIVE}
    data["file_content"], data["file_subset_glyphs"] = font.file_content, glyphs
    return data


class SubsetFont:
    """A font subset in another process (subset_snapshot), standing in for WeasyPrint's Font in
    build_fonts_dictionary: it has every field that reads; `clean` has nothing left to do."""

    file_content: bytes
    file_subset_glyphs: frozenset[int]

    def __init__(self, data: dict[str, Any]) -> None:
        self.__dict__.update(data)

    @property
    def type(self) -> str:
        return "otf" if self.file_content[:4] == b"OTTO" else "ttf"

    def clean(self, to_unicode: dict, hinting: bool) -> None:
        if set(to_unicode) != self.file_subset_glyphs:  # pragma: no cover — merged_fonts forbids
            raise CannotJoin("a font subset elsewhere got more glyphs")


class _LinkBox:
    """What add_links hangs a link annotation on (a box, in WeasyPrint's own pages)."""
    link_annotation: Any = None


class ForeignPage:
    """A recorded page standing in for a WeasyPrint Page in Document.copy: generate_pdf reads
    its data and `paint` replays its operators (and the opacity states they name)."""

    def __init__(self, recorded: RecordedPage) -> None:
        self._recorded = recorded
        self.width, self.height, self.bleed = recorded.width, recorded.height, recorded.bleed
        self.bookmarks, self.anchors = recorded.bookmarks, recorded.anchors
        self.links = [(kind, target, rect, _LinkBox()) for kind, target, rect in recorded.links]
        self.forms: dict = {None: []}

    def paint(self, stream: Any, scale: float = 1) -> None:
        states = stream._resources["ExtGState"]
        for key, entries in self._recorded.states:
            if key not in states:
                states[key] = pydyf.Dictionary(entries)
        stream.stream.extend(self._recorded.ops)


def merged_fonts(parts: list[list[FontUse]], objects: dict[int, Any]) -> dict[int, Any]:
    """The fonts dictionary a sequential render would have built, from the font uses of the
    parts in page order: fonts in first-use order, each glyph's text and width from its first
    use, the size-dependent fields from the font's first use. `objects` holds a Font for every
    key (from this process's recordings). CannotJoin when two parts measured one glyph apart
    (a part's content stream then differs from the sequential one's)."""
    merged: dict[int, Any] = {}
    seen_elsewhere = {use.key for uses in parts for use in uses
                      if isinstance(objects.get(use.key), SubsetFont)}
    for uses in parts:
        for use in uses:
            font = objects.get(use.key)
            if font is None:
                raise CannotJoin("a font no part of this process used")
            if use.key not in merged:
                merged[use.key] = font
                for name, value in zip(_SIZED, use.first):
                    setattr(font, name, value)
                font.to_unicode, font.widths = {}, {}
            for gid, width in use.widths.items():
                if font.widths.setdefault(gid, width) != width:
                    raise CannotJoin("one glyph measured two ways")
            for gid, text in use.to_unicode.items():
                font.to_unicode.setdefault(gid, text)
    hashes = [font.hash for font in merged.values()]
    for key in seen_elsewhere:  # subset for one part only: no other use may share its file
        if hashes.count(merged[key].hash) > 1 or set(merged[key].to_unicode) != set(
                objects[key].file_subset_glyphs):
            raise CannotJoin("a font subset elsewhere is used by two parts")
    return merged


def write_joined(first: Any, pages: list[RecordedPage], fonts: dict[int, Any],
                 finisher: Any) -> bytes:
    """One PDF of recorded pages, with `first`'s metadata and the given fonts dictionary
    (merged_fonts) in place of the one painting would have built. CannotJoin when the fonts
    dictionary was not the one given (the patch of build_fonts_dictionary did not apply) or the
    PDF fails check_joined."""
    import weasyprint.pdf as wpdf
    document = first.copy([ForeignPage(p) for p in pages])
    original = wpdf.build_fonts_dictionary
    built: list[Any] = []

    def build(pdf: Any, _unused: dict, *args: Any) -> Any:
        built.append(original(pdf, fonts, *args))
        return built[-1]

    def finish(document: Any, pdf: Any) -> None:
        if finisher is not None:
            finisher(document, pdf)
        if len(built) != 1:
            raise CannotJoin("the fonts dictionary was not built from the joined fonts")
        check_joined(pdf, pages, built[0])

    wpdf.build_fonts_dictionary = build
    try:
        return document.write_pdf(finisher=finish)
    finally:
        wpdf.build_fonts_dictionary = original


_TF = re.compile(rb"/([^\s/\[\]<>()]+)\s+[-+0-9.]+\s+Tf")


def _op_bytes(op: Any) -> bytes:
    return op if isinstance(op, bytes) else str(op).encode("latin-1", "replace")


def check_joined(pdf: Any, pages: list[RecordedPage], fonts_dictionary: Any) -> None:
    """The joined PDF (pydyf's objects, just before they are written) against what its parts
    recorded; CannotJoin on any difference: as many pages as recorded; every font a page's
    content stream selects is in the fonts dictionary with its font file embedded (a page
    without its fonts shows nothing, and no viewer says why); as many outline entries as the
    pages' bookmarks."""
    by_number = {o.number: o for o in pdf.objects if getattr(o, "number", None) is not None}

    def resolve(value: Any) -> Any:
        if isinstance(value, (bytes, str)):
            text = _op_bytes(value)
            return by_number.get(int(text.split()[0])) if text.endswith(b" 0 R") else None
        return value

    written = pdf.pages["Count"]
    if written != len(pages) or len(pdf.page_references) != len(pages):
        raise CannotJoin(f"{written} pages written, {len(pages)} recorded")
    embedded: dict[str, bool] = {}
    for name, reference in fonts_dictionary.items():
        font = resolve(reference)
        descendants = resolve(font.get("DescendantFonts")) if font is not None else None
        descendant = resolve(descendants[0]) if descendants else None
        descriptor = resolve(descendant.get("FontDescriptor")) if descendant is not None else None
        file = None
        if descriptor is not None:
            file = resolve(descriptor.get("FontFile2") or descriptor.get("FontFile3")
                           or descriptor.get("FontFile"))
        embedded[str(name)] = file is not None and any(len(_op_bytes(part)) for part in file.stream)
    for number, page in enumerate(pages, 1):
        used = {m.decode("latin-1") for m in _TF.findall(b"\n".join(map(_op_bytes, page.ops)))}
        absent = sorted(name for name in used if not embedded.get(name))
        if absent:
            raise CannotJoin(f"page {number}: fonts {absent} missing or not embedded")
    outline = resolve(pdf.catalog.get("Outlines"))
    entries, stack = 0, [resolve(outline.get("First"))] if outline is not None else []
    while stack:
        item = stack.pop()
        if item is None:
            continue
        entries += 1
        stack += [resolve(item.get("First")), resolve(item.get("Next"))]
    bookmarks = sum(len(page.bookmarks) for page in pages)
    if entries != bookmarks:
        raise CannotJoin(f"{entries} outline entries written, {bookmarks} bookmarks recorded")


# =========================================================================== tagged PDF (issue 27)
# Kept apart from the sections above (another change tightens their fence): structure-tree
# repairs for the tagged variants, pdf/ua-1 and pdf/a-3b (which render.pdf tags as well).
# WeasyPrint 70 builds the structure tree page by page (weasyprint.pdf.tags, internal): an
# element that spans a page break becomes one element per page, a table's header repeated on
# a continuation page is tagged again (read twice), the text of the page margins (running
# 续表 line, page numbers) is marked content whose structure element is in no tree, TH cells
# carry no Scope, link annotations describe themselves by their target id. `add_tags` below
# wraps WeasyPrint's and, while WeasyPrint builds the tree, records which HTML element each
# structure element came from; afterwards it
#   - marks the margin boxes' text and each repeated table header as artifacts (Pagination:
#     Header/Footer, or the repeated header rows) in the page's content stream,
#   - merges the consecutive elements one HTML element was split into (a section, a table, its
#     row group …), so a table is one Table with one THead and the cells of its continuation
#     pages point (Headers) at the header cells of its first page,
#   - gives every TH a Scope (Column in a thead, Row where the markup says scope="row"), the
#     structure tree an IDTree for the header ids, and each link annotation its text as
#     Contents.
# Public path (another WeasyPrint): nothing is repaired and `tag_repairs()` says False;
# render.pdf then reports that the variant's structure tree is WeasyPrint's own.

_TAG_STATE: Any = None


class _TagState:
    """What the wrapped tree builder learned about one document being written."""

    def __init__(self, pdf: Any, page_streams: list) -> None:
        self.pdf, self.streams = pdf, page_streams
        self.origin: dict[int, tuple[int, str]] = {}  # id(StructElem) → (id(element), tag)
        self.alive: list[Any] = []  # the elements whose ids `origin` and `heads` hold
        self.heads: dict[int, int] = {}  # id(thead element) → number of its first Table
        self.renumber: dict[int, int] = {}  # number of a continuation Table → the first one's
        self.artifacts: list[tuple[int, int, str]] = []  # (page, MCID, Pagination subtype)

    def deref(self, item: Any) -> Any:
        if isinstance(item, bytes) and item.endswith(b" R"):
            return self.pdf.objects[int(item.split()[0])]
        return item


def _build_repaired(original: Any, box: Any, parent: Any, pdf: Any, page_number: int,
                    nums: dict, annotations: list, tags: dict) -> Any:
    from weasyprint.formatting_structure import boxes
    state = _TAG_STATE
    args = (box, parent, pdf, page_number, nums, annotations, tags)
    if state is None:
        yield from original(*args)
        return
    if isinstance(box, boxes.MarginBox):  # running header, 续表 line, page number
        before = set(nums)
        tuple(original(*args))
        kind = "/Header" if box.at_keyword.startswith("@top") else "/Footer"
        for mcid in set(nums) - before:
            nums[mcid] = b"null"
            state.artifacts.append((page_number, mcid, kind))
        return
    element = getattr(box, "element", None)
    if element is None or box.element_tag in ("html", "body") or isinstance(box, boxes.PageBox):
        yield from original(*args)
        return
    if box.element_tag == "thead":
        first = state.heads.get(id(element))
        if first is not None:  # the header repeated on a continuation page: an artifact
            before = set(nums)
            tuple(original(*args))
            for mcid in set(nums) - before:
                nums[mcid] = b"null"
                state.artifacts.append((page_number, mcid, ""))
            state.renumber[parent.number] = first
            return
        state.heads[id(element)] = parent.number
        state.alive.append(element)
    link = getattr(box, "link_annotation", None)
    if link is not None:
        text = "".join(element.itertext()).strip()
        if text:
            link["Contents"] = pydyf.String(text)
        link["F"] = 4  # printed, as PDF/A asks of every annotation
    for struct in original(*args):
        if struct.get("S") == "/TH":
            scope = element.attrib.get("scope", "col")
            struct["A"]["Scope"] = "/Row" if scope == "row" else "/Column"
        state.origin[id(struct)] = (id(element), box.element_tag or "")
        state.alive += [struct, element]
        yield struct


def _as_artifacts(state: _TagState) -> None:
    """The recorded MCIDs' marked content turned into artifacts in the content streams."""
    by_page: dict[int, dict[int, str]] = {}
    for page, mcid, kind in state.artifacts:
        by_page.setdefault(page, {})[mcid] = kind
    for page, wanted in by_page.items():
        ops = state.streams[page].stream
        for i, op in enumerate(ops):
            if isinstance(op, pydyf.Dictionary) and op.get("MCID") in wanted and i \
                    and i + 1 < len(ops) and ops[i + 1] == b"BDC":
                kind = wanted[op["MCID"]]
                ops[i - 1] = "/Artifact"
                ops[i] = pydyf.Dictionary({"Type": "/Pagination", "Subtype": kind}
                                          if kind else {"Type": "/Pagination"})


def _merge_split(state: _TagState, element: Any) -> None:
    """Kids of `element` made from one HTML element (one per page) become one, recursively;
    marked-content ids of a merged page keep their page (MCR). They are consecutive, except
    in a table row split over a page (its cells' parts alternate: TH TD | TH TD)."""
    kids = element.get("K")
    if not isinstance(kids, list):
        return
    merged: list[Any] = []
    first_of: dict[tuple[int, str], Any] = {}  # (origin, S) → the kept kid
    in_row = element.get("S") == "/TR"
    for item in kids:
        kid: Any = state.deref(item)
        key = state.origin.get(id(kid)) if isinstance(kid, pydyf.Dictionary) else None
        prev: Any = state.deref(merged[-1]) if merged else None
        if key is not None and in_row:
            prev = first_of.get((key[0], str(kid.get("S"))), prev)
        if key is not None and isinstance(prev, pydyf.Dictionary) \
                and state.origin.get(id(prev)) == key \
                and kid.get("S") == prev.get("S") and kid.get("S") != "/Link":
            for sub in kid["K"]:
                if isinstance(sub, int):
                    sub = pydyf.Dictionary({"Type": "/MCR", "Pg": kid["Pg"], "MCID": sub})
                target = state.deref(sub)
                if isinstance(target, pydyf.Dictionary) and "P" in target:
                    target["P"] = prev.reference
                prev["K"].append(sub)
            if kid.get("S") == "/Table":
                first: int = state.renumber.get(prev.number, prev.number)
                state.renumber.setdefault(kid.number, first)
            continue
        if key is not None:
            first_of.setdefault((key[0], str(kid.get("S"))), kid)
        merged.append(item)
    element["K"] = pydyf.Array(merged)
    for item in merged:
        kid = state.deref(item)
        if isinstance(kid, dict) and kid.get("Type") == "/StructElem":
            _merge_split(state, kid)


def _repair_headers(state: _TagState, root: Any) -> None:
    """Cells of a continuation page point at the first page's header cells; the header ids
    go into the structure tree's IDTree."""
    ids: dict[str, bytes] = {}
    cells: list[Any] = []
    stack = [root]
    while stack:
        element = stack.pop()
        if element.get("S") == "/TH" and "ID" in element:
            ids[element["ID"].string] = element.reference
        if element.get("S") == "/TD":
            cells.append(element)
        for item in element.get("K", ()):
            kid = state.deref(item)
            if isinstance(kid, dict) and kid.get("Type") == "/StructElem":
                stack.append(kid)
    for cell in cells:
        headers = cell.get("A", {}).get("Headers")
        if not headers:
            continue
        fixed = []
        for header in headers:
            key = header.string
            if key not in ids:
                number, _, rest = key.partition("-")
                key = f"{state.renumber.get(int(number), int(number))}-{rest}"
            if key in ids:
                fixed.append(pydyf.String(key))
        cell["A"]["Headers"] = pydyf.Array(fixed)
    if ids:
        names = pydyf.Array()
        for key in sorted(ids, key=lambda k: k.encode()):
            names += [pydyf.String(key), ids[key]]
        tree = pydyf.Dictionary({"Names": names})
        state.pdf.add_object(tree)
        state.deref(root["P"])["IDTree"] = tree.reference


def install_tag_repairs() -> bool:
    """Wrap WeasyPrint's tagging as described above (idempotent); False on the public path."""
    global _TAG_STATE
    if not INTERNALS:
        return False
    import weasyprint.pdf as wpdf
    from weasyprint.pdf import tags as wtags
    if getattr(wtags, "_budgetgen_repairs", False):
        return True
    build, add = wtags._build_box_tree, wpdf.add_tags

    def build_repaired(*args: Any) -> Any:
        return _build_repaired(build, *args)

    def add_tags(pdf: Any, document: Any, pdf_version: Any, page_streams: list) -> None:
        global _TAG_STATE
        _TAG_STATE = state = _TagState(pdf, page_streams)
        try:
            add(pdf, document, pdf_version, page_streams)
        finally:
            _TAG_STATE = None
        _as_artifacts(state)
        structure_root = state.deref(pdf.catalog["StructTreeRoot"])
        for item in structure_root["K"]:
            _merge_split(state, state.deref(item))
        _repair_headers(state, state.deref(structure_root["K"][0]))

    wtags._build_box_tree = build_repaired
    wtags._budgetgen_repairs = True
    wpdf.add_tags = add_tags
    return True


def tag_repairs() -> bool:
    """True when tagged PDFs get the repairs above."""
    return install_tag_repairs()


# --------------------------------------------------------------------------- CJK justification
# WeasyPrint 70 justifies a line by widening its spaces only (weasyprint.layout.inline.
# justify_line, internal). Chinese prose has no spaces: a line of CJK characters fills the
# measure by itself, but a line with digits or Latin letters (half-width) stops short of the
# right margin. GB/T 9704 prose is justified: `justify_line` below spreads the line's slack
# over the characters instead (inter-character justification, CSS Text 3 `inter-character`),
# as letter spacing on the line's text boxes that hold CJK characters (a number or Latin word
# in a text box of its own, html._numbers, keeps its letters together), when the line holds
# a CJK character and the slack is under 4 em (a number that cannot break leaves up to 3 em;
# a line shorter still is left as it is). Public path: such lines stay ragged (WeasyPrint's
# own output, never wrong).

_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
MAX_JUSTIFY_EM = 4.0


def _text_boxes(box: Any, boxes: Any) -> Any:  # an iterator of TextBoxes
    if isinstance(box, boxes.TextBox):
        yield box
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        for child in box.children:
            if child.is_in_normal_flow():
                yield from _text_boxes(child, boxes)


def _spread(box: Any, per_char: float, x_advance: float, context: Any, boxes: Any,
            create_layout: Any) -> float:
    if isinstance(box, boxes.TextBox):
        box.position_x += x_advance
        if not _CJK.search(box.text):  # a number or Latin word: its letters keep their places
            return x_advance
        style = box.style.copy()
        spacing = style["letter_spacing"]
        style["letter_spacing"] = (0 if spacing == "normal" else spacing) + per_char
        box.style = style
        layout = create_layout(box.text, style, context, None, box.justification_spacing)
        layout.deactivate()
        box.pango_layout = layout
        extra = per_char * len(box.text)
        box.width += extra
        return x_advance + extra
    if isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        box.position_x += x_advance
        before = x_advance
        for child in box.children:
            if child.is_in_normal_flow():
                x_advance = _spread(child, per_char, x_advance, context, boxes, create_layout)
        box.width += x_advance - before
        return x_advance
    box.translate(x_advance, 0)  # an atomic inline
    return x_advance


def install_cjk_justify() -> bool:
    """Inter-character justification of CJK lines (idempotent); False on the public path."""
    if not INTERNALS:
        return False
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import inline
    from weasyprint.text.line_break import create_layout
    if getattr(inline, "_budgetgen_cjk_justify", False):
        return True
    original = inline.justify_line

    def justify_line(context: Any, line: Any, extra_width: float) -> None:
        texts = list(_text_boxes(line, boxes))
        cjk = [t for t in texts if _CJK.search(t.text)]  # boxes whose characters are spaced
        # each spaced character gets its share after it; when the line ends with one, that
        # share falls past the margin, so its glyph ends on the margin
        gaps = sum(len(t.text) for t in cjk) - (1 if texts and texts[-1] in cjk else 0)
        font_size = line.style["font_size"]
        if gaps < 1 or extra_width <= 0 or extra_width > MAX_JUSTIFY_EM * font_size:
            original(context, line, extra_width)
            return
        _spread(line, extra_width / gaps, 0, context, boxes, create_layout)

    inline.justify_line = justify_line
    inline._budgetgen_cjk_justify = True
    _JUSTIFY[:] = [original, justify_line]
    return True


_JUSTIFY: list[Any] = []  # [WeasyPrint's justify_line, ours] once installed


def set_cjk_justify(on: bool) -> bool:
    """Switch the CJK justification on or off in this process (tests compare the speed paths
    with it off: the public path has none); whether it is now on."""
    if not _JUSTIFY:
        return False
    from weasyprint.layout import inline
    inline.justify_line = _JUSTIFY[1] if on else _JUSTIFY[0]
    return on


# --------------------------------------------------------------------------- table borders
# WeasyPrint draws a collapsed table's borders one segment at a time (weasyprint.draw.
# draw_collapsed_borders → draw_line, internal): each in two saved states, its colour, its
# width, one line — 5 866 segments and ~12 % of drawing in the 2025 example — and the PDF
# finisher then joins them (pagestreams.merge_strokes). `fast_collapsed_borders` lets
# WeasyPrint work out the segments (which border wins, where each starts and ends), records
# them instead of drawing, and writes each run of solid opaque segments of one colour and
# width straight away as merge_strokes would have left it: the same bytes, without the 60 000
# stream operations in between. A table with any other border (dashed, dotted, double, …,
# translucent), or a tagged PDF (each segment then is an artifact of its own), is drawn
# segment by segment exactly as WeasyPrint draws it. Public path: WeasyPrint's drawing, then
# the finisher's merge.

def _solid_runs(calls: list[tuple]) -> list[list[tuple]] | None:
    """The recorded draw_line calls in runs of one colour and width, or None when any is not
    a solid opaque line drawn the way draw_line draws it (then all are drawn as recorded)."""
    runs: list[list[tuple]] = []
    for call in calls:
        _, x1, y1, x2, y2, width, style, color = call[:8]
        if style != "solid" or len(call) > 8 or color.alpha != 1 or not (x1 == x2 or y1 == y2):
            return None
        key = (width, color)
        if runs and (runs[-1][0][5], runs[-1][0][7]) == key:
            runs[-1].append(call)
        else:
            runs.append([call])
    return runs


def install_fast_borders() -> bool:
    """Record-then-write collapsed table borders (idempotent); False on the public path."""
    if not INTERNALS:
        return False
    import weasyprint.draw as wdraw
    if getattr(wdraw, "_budgetgen_fast_borders", False):
        return True
    original, draw_line = wdraw.draw_collapsed_borders, wdraw.draw_line
    to_bytes = pydyf._to_bytes

    def collapsed_borders(stream: Any, table: Any) -> None:
        if stream._tags is not None:
            original(stream, table)
            return
        calls: list[tuple] = []
        wdraw.draw_line = lambda *args: calls.append(args)
        try:
            original(stream, table)
        finally:
            wdraw.draw_line = draw_line
        runs = _solid_runs(calls)
        if runs is None:  # as WeasyPrint draws them, in the same order
            for call in calls:
                with stream.artifact(), stream.stacked():
                    draw_line(*call)
            return
        for i, run in enumerate(runs):
            _, _, _, _, _, width, _, color = run[0]
            lines = [b"%s %s m\n%s %s l\n" % (to_bytes(x1), to_bytes(y1), to_bytes(x2), to_bytes(y2))
                     for _, x1, y1, x2, y2, *_ in run]
            open_run = getattr(stream, "_budgetgen_run", None)
            if i == 0 and open_run is not None and open_run[0] == len(stream.stream) \
                    and open_run[1] == (width, color):
                # the previous table's last run was the last thing drawn: it goes on (as the
                # finisher would have joined the two tables' segments)
                lines = open_run[2] + lines
                stream.stream[-3] = union_lines(lines)[:-1]  # before its S and Q
            else:
                stream.push_state()
                stream.set_color(color, stroke=True)
                stream.set_line_width(width)
                stream.stream.append(union_lines(lines)[:-1])
                stream.stroke()
                stream.pop_state()
            stream._budgetgen_run = (len(stream.stream), (width, color), lines)

    collapsed_borders.__wrapped__ = original  # type: ignore[attr-defined]
    wdraw.draw_collapsed_borders = collapsed_borders
    wdraw._budgetgen_fast_borders = True
    return True
