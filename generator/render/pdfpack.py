"""Smaller embedded CJK fonts: a WeasyPrint finisher that packs OpenType font streams.

WeasyPrint subsets fonts but keeps glyph ids, so a subset of a 63 000-glyph CJK font keeps a
CharStrings index of 63 000 ascending offsets, about 130 KB per face even compressed. A PNG
"Sub" predictor (ISO 32000 §7.4.4.4, valid for any Flate stream) turns those offsets into a
constant step that deflate squeezes to almost nothing. The glyph programs themselves compress
better unfiltered (FandolFang's by 14 %), and PNG predictor 15 lets each row name its own
filter: rows the Sub filter mostly zeroes (the offsets) are Sub, the others None. The decoded
font is byte-identical (plus zero padding to whole predictor rows, after the last table, which
font parsers ignore). Objects are serialised as pydyf does (compat.object_bytes).

WeasyPrint also embeds one subset per font *description*: 仿宋 text at weight bold (GB/T 9704
level-3 headings) draws FandolFang-Regular's own outlines, yet gets a second subset repeating
them. Subsets of one font program (same CFF name, tables and private dicts, no glyph id with
two different programs) are merged into one stream their descriptors share.

Where it is exact, a CID-keyed CFF subset is embedded bare (/FontFile3 /CIDFontType0C) rather
than in its OpenType wrapper, whose tables a PDF viewer does not use (`bare_cff`). Page content
streams lose precision nobody sees — numbers rounded to 1/100 px (`round_numbers`) — and the
thousands of table-border segments WeasyPrint strokes one by one, each in its own saved state,
are stroked as one path per run of equal state (`merge_strokes`): the same pixels.
"""
from __future__ import annotations

import io
import re
from typing import Any

import deflate  # type: ignore[import-untyped]
import pydyf
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fontTools.ttLib.tables.DefaultTable import DefaultTable  # type: ignore[import-untyped]

from .cffcompact import CHARSET, CHARSTRINGS, ROS, compact_cff, identity_charset, top_dict
from .compat import object_bytes
from .pagestreams import merge_strokes, relative_text_positions, round_numbers

def flate(data: bytes) -> bytes:
    """A /FlateDecode stream's bytes: libdeflate at its strongest level (12), whose zlib-format
    output any inflater reads, 1–8 % smaller than zlib's level 9 on fonts and page contents."""
    return bytes(deflate.zlib_compress(data, 12))


BPP = 3  # CFF index offsets are 3 bytes wide for fonts under 16 MB
COLUMNS = 1024  # pixels per predictor row: rows of 3 KB
ROW = BPP * COLUMNS


def png_sub(data: bytes) -> bytes:
    """Rows of PNG filter 1 (Sub: each byte minus the byte BPP before it, mod 256), data padded
    with zeros to whole rows. The subtraction runs on the whole buffer as one integer."""
    data = data + bytes(-len(data) % ROW)
    n = len(data)
    a = int.from_bytes(data, "big")
    b = a >> (8 * BPP)
    ones = (1 << (8 * n)) - 1
    high = int.from_bytes(b"\x80" * n, "big")
    diff = (((a | high) - (b & (ones ^ high))) ^ ((a ^ (ones ^ b)) & high)) & ones
    d = diff.to_bytes(n, "big")
    rows = []
    for start in range(0, n, ROW):  # the first pixel of a row has no left neighbour: raw
        rows.append(b"\x01" + data[start:start + BPP] + d[start + BPP:start + ROW])
    return b"".join(rows)


def png_mixed(data: bytes) -> bytes:
    """Rows of PNG filter 1 (Sub) where it turns at least half the row's bytes into zeros (the
    offset arrays), of filter 0 (None) elsewhere; data padded with zeros to whole rows."""
    data = data + bytes(-len(data) % ROW)
    sub = png_sub(data)
    rows = []
    for i, start in enumerate(range(0, len(data), ROW)):
        row = sub[i * (ROW + 1):(i + 1) * (ROW + 1)]
        rows.append(row if row.count(0) * 2 > ROW else b"\x00" + data[start:start + ROW])
    return b"".join(rows)


def _cff_key(font: TTFont) -> tuple[Any, ...]:
    """What subsets of one CFF font program have in common (not their glyph count)."""
    cff = font["CFF "].cff
    top = cff.topDictIndex[0]
    fds = top.FDArray if hasattr(top, "FDArray") else [top]
    return (tuple(cff.fontNames), tuple(sorted(font.keys())),
            repr([sorted(fd.Private.rawDict.items()) for fd in fds]))


def _charstring(index: Any, gid: int) -> bytes:
    index.file.seek(index.offsetBase + index.offsets[gid])
    return bytes(index.file.read(index.offsets[gid + 1] - index.offsets[gid]))


METRICS = (("hmtx", "hhea", "numberOfHMetrics"), ("vmtx", "vhea", "numberOfVMetrics"))


def _copy_metric(patched: dict[str, bytearray], base: TTFont, other: TTFont, tag: str,
                 head: str, count: str, gid: int) -> bool:
    """Glyph gid's advance and side bearing copied from other's raw metrics table into
    patched[tag], a copy of base's (decompiling 7 000 metrics would cost more than the whole
    merge); False if either table has no full entry for gid."""
    if gid >= getattr(base[head], count) or gid >= getattr(other[head], count):
        return False
    data = patched.setdefault(tag, bytearray(base.reader[tag]))
    data[4 * gid:4 * gid + 4] = other.reader[tag][4 * gid:4 * gid + 4]
    return True


def merge_subsets(fonts: list[TTFont]) -> bytes | None:
    """One OpenType font holding every glyph of several glyph-id-keeping subsets of one CFF
    font, or None when two subsets hold different programs for one glyph id. A subset ends
    at its last glyph used, so the longest one is the base the others' glyphs are copied into."""
    fonts = sorted(fonts, key=lambda font: -len(font.getGlyphOrder()))
    base, tops = fonts[0], [f["CFF "].cff.topDictIndex[0] for f in fonts]
    indexes = [top.CharStrings.charStringsIndex for top in tops]
    order = base.getGlyphOrder()
    empty = b"\x0e"  # endchar: a glyph the subset dropped
    patched: dict[str, bytearray] = {}
    for other, top, index in zip(fonts[1:], tops[1:], indexes[1:]):
        if other.getGlyphOrder() != order[:len(other.getGlyphOrder())]:
            return None
        for gid in range(len(other.getGlyphOrder())):
            program = _charstring(index, gid)
            if program == empty:
                continue
            mine = _charstring(indexes[0], gid)
            if mine == program:
                continue
            if mine != empty:
                return None
            charstring = top.CharStrings.charStringsIndex[gid]  # carries its bytecode
            indexes[0].items[gid] = charstring
            if hasattr(top, "FDSelect"):
                tops[0].FDSelect.gidArray[gid] = top.FDSelect.gidArray[gid]
            name = order[gid]
            for tag, head, count in METRICS:
                if tag in other and not _copy_metric(patched, base, other, tag, head, count,
                                                     gid):
                    return None
            if "VORG" in other and name in other["VORG"].VOriginRecords:
                base["VORG"].VOriginRecords[name] = other["VORG"].VOriginRecords[name]
    for tag, data in patched.items():
        table = DefaultTable(tag)
        table.data = bytes(data)
        base[tag] = table
    out = io.BytesIO()
    base.save(out)
    return out.getvalue()


def _share_font_programs(pdf: pydyf.PDF, descriptors: list[pydyf.Dictionary]) -> None:
    """Descriptors of subsets of one CFF font point at one merged stream (see the docstring);
    the streams they leave are emptied. Fonts with a /CIDSet (PDF 1.4 and older) stay apart."""
    groups: dict[tuple[Any, ...], list[tuple[pydyf.Dictionary, pydyf.Stream, TTFont]]] = {}
    for descriptor in descriptors:
        stream = pdf.objects[int(object_bytes(descriptor["FontFile3"]).split()[0])]
        if "CIDSet" in descriptor or not isinstance(stream, pydyf.Stream) \
                or "Filter" in stream.extra:
            continue
        raw = b"\n".join(object_bytes(item) for item in stream.stream)
        if raw[:4] != b"OTTO":  # CFF-flavoured OpenType, as WeasyPrint writes FontFile3
            continue
        font = TTFont(io.BytesIO(raw), recalcBBoxes=False, recalcTimestamp=False)
        groups.setdefault(_cff_key(font), []).append((descriptor, stream, font))
    for members in groups.values():
        if len(members) < 2:
            continue
        merged = merge_subsets([font for _, _, font in members])
        if merged is None:
            continue
        first = members[0][1]
        first.stream = [merged]
        for descriptor, stream, _ in members[1:]:
            descriptor["FontFile3"] = first.reference
            stream.stream = []
            stream.compress = False


def bare_cff(raw: bytes) -> bytes | None:
    """The CFF table of a CFF-flavoured OpenType font when it can be embedded bare, as
    /FontFile3 /CIDFontType0C (ISO 32000 §9.9): a CID-keyed CFF whose charset maps every glyph
    id to the same CID (WeasyPrint's subsets keep glyph ids and write them as CIDs, Identity),
    so a viewer finds the same glyph through either container. None otherwise. The OpenType
    wrapper's tables (cmap, hmtx, vmtx, name, OS/2 …) are not needed in a PDF: the widths are
    in /W, the text's Unicode in /ToUnicode. Read without decompiling the font (fontTools would
    build 63 000 glyph names for a Noto CJK subset)."""
    if raw[:4] != b"OTTO":
        return None
    tables = int.from_bytes(raw[4:6], "big")
    for i in range(tables):
        entry = raw[12 + 16 * i:28 + 16 * i]
        if entry[:4] == b"CFF ":
            offset, length = int.from_bytes(entry[8:12], "big"), int.from_bytes(entry[12:16], "big")
            break
    else:
        return None
    data = raw[offset:offset + length]
    try:
        top = top_dict(data)
        if ROS not in top or CHARSET not in top or CHARSTRINGS not in top:
            return None
        glyphs = int.from_bytes(data[top[CHARSTRINGS][0]:top[CHARSTRINGS][0] + 2], "big")
        if not identity_charset(data, top[CHARSET][0], glyphs):
            return None
    except (IndexError, ValueError):
        return None
    return bytes(data)


def _opaque_stroke_states(pdf: pydyf.PDF) -> set[str]:
    """Names of the ExtGStates that only set an opaque stroke (WeasyPrint's {'CA': 1})."""
    names = set()
    for obj in pdf.objects:
        states = obj.get("ExtGState") if isinstance(obj, pydyf.Dictionary) else None
        if not isinstance(states, dict):
            continue
        for name, state in states.items():
            if isinstance(state, dict) and set(state) == {"CA"} and state["CA"] == 1:
                names.add(str(name))
    return names


def _pack_page_contents(pdf: pydyf.PDF) -> None:
    """Page content streams: border segments merged, numbers rounded, text positions relative
    (pagestreams.py)."""
    opaque = _opaque_stroke_states(pdf)
    for obj in pdf.objects:
        if not isinstance(obj, pydyf.Dictionary) or obj.get("Type") != "/Page" or "Contents" not in obj:
            continue
        stream = pdf.objects[int(object_bytes(obj["Contents"]).split()[0])]
        if not isinstance(stream, pydyf.Stream) or "Filter" in stream.extra:
            continue
        try:
            data = b"\n".join(stream.stream)  # WeasyPrint appends bytes
        except TypeError:
            data = b"\n".join(object_bytes(item) for item in stream.stream)
        data = relative_text_positions(round_numbers(merge_strokes(data, opaque)))
        if stream.compress:  # compressed here, with `flate`, rather than by pydyf
            data = flate(data)
            stream.compress = False
            stream.extra["Filter"] = "/FlateDecode"
        stream.stream = [data]


def _number(reference: Any) -> int:
    return int(object_bytes(reference).split()[0])


def _widths(array: Any) -> dict[int, Any]:
    """A CIDFont's /W as {CID: width}; ValueError for a form WeasyPrint does not write."""
    widths: dict[int, Any] = {}
    items = list(array)
    if len(items) % 2:
        raise ValueError("/W")
    for first, values in zip(items[::2], items[1::2]):
        if not isinstance(first, int) or not isinstance(values, list):
            raise ValueError("/W")
        widths.update((first + i, value) for i, value in enumerate(values))
    return widths


DEFAULT_WIDTH = 1000  # a CIDFont's /DW when it has none (ISO 32000-1 §9.7.4.3)


def widths_array(widths: dict[int, Any]) -> pydyf.Array:
    """A CIDFont's /W for `widths` ({CID: width}) without the widths equal to the default one,
    which a viewer takes for any CID /W leaves out: runs of consecutive CIDs, `c [w1 w2 …]`."""
    array = pydyf.Array()
    for cid in sorted(widths):
        if widths[cid] == DEFAULT_WIDTH:
            continue
        if cid - 1 not in widths or widths[cid - 1] == DEFAULT_WIDTH:
            array.extend([cid, pydyf.Array()])
        array[-1].append(widths[cid])
    return array


def _pack_widths(pdf: pydyf.PDF) -> dict[int, set[int] | None]:
    """Each CIDFont's /W without its default widths (`widths_array`; not where the font sets
    /DW), and for each font program stream the CIDs the CIDFonts using it draw: WeasyPrint
    gives every glyph it draws a width in /W (None: some font's /W could not be read)."""
    drawn: dict[int, set[int] | None] = {}
    for obj in pdf.objects:
        if not (isinstance(obj, pydyf.Dictionary) and obj.get("Type") == "/Font"
                and obj.get("Subtype") in ("/CIDFontType0", "/CIDFontType2")):
            continue
        descriptor = pdf.objects[_number(obj["FontDescriptor"])]
        key = next((k for k in ("FontFile3", "FontFile2") if k in descriptor), None)
        if key is None:
            continue
        program = _number(descriptor[key])
        try:
            widths = _widths(obj.get("W", []))
        except ValueError:
            drawn[program] = None
            continue
        known = drawn.setdefault(program, set())
        if known is not None:
            known.update(widths)
        if "DW" not in obj:
            obj["W"] = widths_array(widths)
    return drawn


_BFCHAR = re.compile(rb"<([0-9a-f]{4})> <([0-9a-f]+)>")


def sorted_to_unicode(lines: list[bytes]) -> list[bytes] | None:
    """A ToUnicode CMap as WeasyPrint writes it (blocks of up to 100 `<cid> <utf-16>` entries,
    in the order the glyphs were first drawn) with its entries sorted by CID: the same CMap
    (bfchar entries do not depend on their order; each CID has one), whose neighbouring lines
    now share their first digits and compress better. None when the lines are not of that
    form."""
    try:
        start = lines.index(b"endcodespacerange") + 1
        end = lines.index(b"endcmap")
    except ValueError:
        return None
    entries: list[tuple[bytes, bytes]] = []
    for line in lines[start:end]:
        pair = _BFCHAR.fullmatch(line)
        if pair is not None:
            entries.append((pair.group(1), pair.group(2)))
        elif not (line == b"endbfchar" or line.endswith(b" beginbfchar")):
            return None
    if len({cid for cid, _ in entries}) != len(entries):
        return None
    entries.sort()
    body: list[bytes] = []
    for at in range(0, len(entries), 100):
        block = entries[at:at + 100]
        body.append(b"%d beginbfchar" % len(block))
        body.extend(b"<%s> <%s>" % pair for pair in block)
        body.append(b"endbfchar")
    return lines[:start] + body + lines[end:]


def _pack_to_unicode(pdf: pydyf.PDF) -> None:
    """Each Type0 font's /ToUnicode with its entries sorted (`sorted_to_unicode`)."""
    for obj in pdf.objects:
        if not (isinstance(obj, pydyf.Dictionary) and obj.get("Type") == "/Font"
                and "ToUnicode" in obj):
            continue
        stream = pdf.objects[_number(obj["ToUnicode"])]
        if not isinstance(stream, pydyf.Stream) or "Filter" in stream.extra \
                or not all(isinstance(line, bytes) for line in stream.stream):
            continue
        lines = sorted_to_unicode(list(stream.stream))
        if lines is None:
            continue
        if stream.compress:
            stream.stream = [flate(b"\n".join(lines))]
            stream.compress = False
            stream.extra["Filter"] = "/FlateDecode"
        else:
            stream.stream = lines


def pack_font_streams(document: Any, pdf: pydyf.PDF) -> None:
    """WeasyPrint finisher: subsets of one font merged, embedded as bare CFF holding only the
    glyphs drawn where that is exact (`bare_cff`, `cffcompact.compact_cff`), then Flate + PNG
    predictors for every /FontFile3 stream; page contents packed (pagestreams.py)."""
    descriptors = [obj for obj in pdf.objects if isinstance(obj, pydyf.Dictionary)
                   and obj.get("Type") == "/FontDescriptor" and "FontFile3" in obj]
    _share_font_programs(pdf, descriptors)
    _pack_page_contents(pdf)
    _pack_to_unicode(pdf)
    drawn = _pack_widths(pdf)
    for obj in descriptors:
        stream = pdf.objects[_number(obj["FontFile3"])]
        if not isinstance(stream, pydyf.Stream) or "Filter" in stream.extra:
            continue
        raw = b"\n".join(object_bytes(item) for item in stream.stream)
        cff = bare_cff(raw) if "CIDSet" not in obj else None
        if cff is not None:
            glyphs = drawn.get(_number(obj["FontFile3"]))
            raw = (compact_cff(cff, glyphs) if glyphs is not None else None) or cff
            stream.extra["Subtype"] = "/CIDFontType0C"
        stream.stream = [flate(png_mixed(raw))]
        stream.compress = False
        stream.extra["Filter"] = "/FlateDecode"
        stream.extra["DecodeParms"] = pydyf.Dictionary(
            {"Predictor": 15, "Colors": BPP, "BitsPerComponent": 8, "Columns": COLUMNS})
