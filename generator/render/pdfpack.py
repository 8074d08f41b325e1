"""Smaller embedded CJK fonts: a WeasyPrint finisher that packs OpenType font streams.

WeasyPrint subsets fonts but keeps glyph ids, so a subset of a 63 000-glyph CJK font keeps a
CharStrings index of 63 000 ascending offsets, about 130 KB per face even compressed. A PNG
"Sub" predictor (ISO 32000 §7.4.4.4, valid for any Flate stream) turns those offsets into a
constant step that deflate squeezes to almost nothing. The glyph programs themselves compress
better unfiltered (FandolFang's by 14 %), and PNG predictor 15 lets each row name its own filter,
so rows the Sub filter mostly zeroes (the offsets) are Sub and the others None; the smaller of
that and all-Sub is kept. The decoded font is byte-identical (plus zero padding to whole
predictor rows, after the last table, which font parsers ignore).
"""
from __future__ import annotations

import zlib

import pydyf

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


def pack_font_streams(document, pdf: pydyf.PDF) -> None:
    """WeasyPrint finisher: Flate + PNG predictors for every /FontFile3 (OpenType) stream."""
    for obj in list(pdf.objects):
        if not (isinstance(obj, pydyf.Dictionary) and obj.get("Type") == "/FontDescriptor"
                and "FontFile3" in obj):
            continue
        stream = pdf.objects[int(pydyf._to_bytes(obj["FontFile3"]).split()[0])]
        if not isinstance(stream, pydyf.Stream) or "Filter" in stream.extra:
            continue
        raw = b"\n".join(pydyf._to_bytes(item) for item in stream.stream)
        stream.stream = [min((zlib.compress(png_sub(raw), 9), zlib.compress(png_mixed(raw), 9)),
                             key=len)]
        stream.compress = False
        stream.extra["Filter"] = "/FlateDecode"
        stream.extra["DecodeParms"] = pydyf.Dictionary(
            {"Predictor": 15, "Colors": BPP, "BitsPerComponent": 8, "Columns": COLUMNS})
