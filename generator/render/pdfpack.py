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
"""
from __future__ import annotations

import io
import zlib
from typing import Any

import pydyf
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fontTools.ttLib.tables.DefaultTable import DefaultTable  # type: ignore[import-untyped]

from .compat import object_bytes

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


def pack_font_streams(document: Any, pdf: pydyf.PDF) -> None:
    """WeasyPrint finisher: subsets of one font merged, then Flate + PNG predictors for every
    /FontFile3 (OpenType) stream."""
    descriptors = [obj for obj in pdf.objects if isinstance(obj, pydyf.Dictionary)
                   and obj.get("Type") == "/FontDescriptor" and "FontFile3" in obj]
    _share_font_programs(pdf, descriptors)
    for obj in descriptors:
        stream = pdf.objects[int(object_bytes(obj["FontFile3"]).split()[0])]
        if not isinstance(stream, pydyf.Stream) or "Filter" in stream.extra:
            continue
        raw = b"\n".join(object_bytes(item) for item in stream.stream)
        stream.stream = [zlib.compress(png_mixed(raw), 9)]
        stream.compress = False
        stream.extra["Filter"] = "/FlateDecode"
        stream.extra["DecodeParms"] = pydyf.Dictionary(
            {"Predictor": 15, "Colors": BPP, "BitsPerComponent": 8, "Columns": COLUMNS})
