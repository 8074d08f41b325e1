"""Before a PDF is rendered: can the installed fonts draw every character of the text?

WeasyPrint draws a character no font has as an empty box and still exits cleanly, so this
looks first, from the text: the union of the character sets of every font fontconfig knows
(`fc-list`, the same list WeasyPrint's Pango falls back through). A character no font covers
(CJK Extension B such as 𠀀 or 𪚥) is a warning naming the field and the character; the PDF's
text layer still holds the right code point. A machine with no Chinese font at all is refused
before anything is written.
"""
from __future__ import annotations

import shutil
import subprocess
import unicodedata
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from collections.abc import Iterator

from pydantic import BaseModel

from ..problems import Location, Problem, error, warning

_PROBE = "部门预算收支总表一般公共预算财政拨款"  # text every disclosure prints
MAX_LISTED = 20


_LISTING: subprocess.Popen | None = None  # fc-list started ahead (start_coverage)


def start_coverage() -> None:
    """Start asking fontconfig for the character sets now (0.2 s of `fc-list`), so the answer is
    ready when check_glyphs needs it: the render loads and checks its input meanwhile."""
    global _LISTING
    if _LISTING is not None or _coverage.cache_info().currsize:
        return
    exe = shutil.which("fc-list")
    if exe is None:
        return
    try:
        _LISTING = subprocess.Popen([exe, "--format", "%{charset}\n"], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
    except OSError:
        _LISTING = None


@lru_cache(maxsize=1)
def _coverage() -> tuple[tuple[int, int], ...] | None:
    """Merged code-point ranges covered by some installed font; None if fontconfig is absent."""
    global _LISTING
    start_coverage()
    listing, _LISTING = _LISTING, None
    if listing is None:
        return None
    try:
        out, _ = listing.communicate(timeout=60)
    except (OSError, subprocess.SubprocessError):
        listing.kill()
        listing.wait()
        return None
    ranges: list[tuple[int, int]] = []
    for token in set(out.split()):  # fonts share most ranges: 111 000 tokens, 10 000 distinct
        first, _, last = token.partition("-")
        try:
            ranges.append((int(first, 16), int(last or first, 16)))
        except ValueError:
            continue
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def covered(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    import bisect
    cp = ord(ch)
    i = bisect.bisect_right(ranges, (cp, 0x10FFFF + 1)) - 1
    return i >= 0 and ranges[i][0] <= cp <= ranges[i][1]


def _texts(value: object, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """(path, text) of every text in the model."""
    if isinstance(value, Enum) or isinstance(value, (Decimal, int, float, bool)) or value is None:
        return
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name), path + (name,))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _texts(item, path + (i,))


def _label(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _drawn(ch: str) -> bool:
    """Characters that must have a glyph (not spaces, line breaks or format characters)."""
    return not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")


def check_glyphs(budget: object, doc: object | None = None,
                 ranges: tuple[tuple[int, int], ...] | None = None) -> list[Problem]:
    """Warnings for characters no installed font can draw; an error when no font can draw
    Chinese at all. `doc` (a RawDoc) locates the fields; `ranges` overrides the font list."""
    if ranges is None:
        ranges = _coverage()
    if ranges is None:  # no fontconfig: nothing to ask (WeasyPrint needs it anyway)
        return []
    file = getattr(doc, "file", "")
    missing_cjk = [ch for ch in _PROBE if not covered(ch, ranges)]
    if missing_cjk:
        return [error("字体", "本机没有可以显示中文的字体，生成的 PDF 会是一片空框，所以不生成：请安装中文字体"
                      "（Debian/Ubuntu：apt-get install fonts-noto-cjk），或运行 bash .ci/setup",
                      Location(file))]
    problems: list[Problem] = []
    seen: set[tuple[tuple, str]] = set()
    for path, text in _texts(budget):
        for ch in dict.fromkeys(text):
            if not _drawn(ch) or covered(ch, ranges) or (path, ch) in seen:
                continue
            seen.add((path, ch))
            if len(problems) < MAX_LISTED:
                where = doc.locate(path) if doc is not None and hasattr(doc, "locate") else Location(file)
                name = unicodedata.name(ch, "")
                problems.append(warning(
                    "字体", f"{_label(path)} 中的字符“{ch}”（U+{ord(ch):04X}{'，' + name if name else ''}）"
                    "本机没有任何字体能显示，PDF 中会印成空框（复制出的文字仍是这个字）；"
                    "请安装含此字的字体（如 fonts-hanazono 或 fonts-noto-cjk-extra），或改用常用字",
                    where, found=f"U+{ord(ch):04X}"))
    if len(seen) > MAX_LISTED:
        problems.append(warning("字体", f"另有{len(seen) - MAX_LISTED}处字符无字体可显示，未列出",
                                problems[-1].location))
    return problems


# --------------------------------------------------------------------------- the text layer

MISSING_FAMILY = "budgetgen missing glyph"
_EPOCH = 0  # fixed head.created/modified: two renders stay byte-identical


def _box():
    from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]
    pen = TTGlyphPen(None)
    for x0, y0, x1, y1, outer in ((100, -80, 900, 800, True), (160, -20, 840, 740, False)):
        points = ([(x0, y0), (x0, y1), (x1, y1), (x1, y0)] if outer
                  else [(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        pen.moveTo(points[0])
        for p in points[1:]:
            pen.lineTo(p)
        pen.closePath()
    return pen.glyph()


def missing_glyph_font(chars: str) -> bytes:
    """A small TrueType font with one box glyph per character in `chars`, each its own glyph,
    so the PDF's text layer maps every box back to its own code point (with .notdef they
    would all share glyph 0 and copy out as the same character)."""
    import io

    from fontTools.fontBuilder import FontBuilder  # type: ignore[import-untyped]
    names = {ord(c): f"u{ord(c):05X}" for c in sorted(set(chars))}
    order = [".notdef", *names.values()]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap(names)
    glyph = _box()
    fb.setupGlyf({n: glyph for n in order})
    fb.setupHorizontalMetrics({n: (1000, 100) for n in order})
    fb.setupHorizontalHeader(ascent=880, descent=-120)
    fb.setupNameTable({"familyName": MISSING_FAMILY, "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    fb.setupPost()
    fb.updateHead(created=_EPOCH, modified=_EPOCH)
    out = io.BytesIO()
    fb.save(out)
    return out.getvalue()


def with_missing_glyph_font(html: str) -> str:
    """`html` with an @font-face for the characters no installed font covers (none: unchanged).
    The face is not named in any font-family: fontconfig finds it as the last fallback."""
    ranges = _coverage()
    if ranges is None:
        return html
    missing = "".join(ch for ch in set(html) if ord(ch) > 0x7F and _drawn(ch) and not covered(ch, ranges))
    if not missing or "</head>" not in html:
        return html
    import base64
    data = base64.b64encode(missing_glyph_font(missing)).decode("ascii")
    face = (f'<style>@font-face {{ font-family: "{MISSING_FAMILY}"; '
            f"src: url(data:font/ttf;base64,{data}); }}</style>")
    return html.replace("</head>", face + "</head>", 1)
