"""Glyph-id-keeping CFF subsets made dense: only the glyphs drawn, each still found by its CID
(and the few readers of a CFF's bytes this and pdfpack.bare_cff need: INDEX, DICT, charset).

WeasyPrint's font subsets keep every glyph id (HarfBuzz's retain-gids), so that the glyph ids
it writes into the page content as CIDs stay valid: a subset of Noto Sans CJK drawing 246 glyphs
still holds 63 283 CharStrings (most of them an empty `endchar`), their 3-byte offsets and a
63 283-entry FDSelect — 5–7 KB per face even compressed. In a CID-keyed CFF the charset maps
each glyph id to its CID (Adobe TN #5176 §13; ISO 32000-1 §9.7.4.2: a viewer finds the glyph for
a CID of a /CIDFontType0C font through the charset), so the drawn glyphs can be renumbered
0, 1, 2 … with a charset naming their old glyph ids as CIDs: the page content, /W and /ToUnicode
stay as they are, and every CID draws the same program.

`compact_cff(cff, keep)` rebuilds the font from its bytes (fontTools would first build 63 000
glyph names): header, Name, Top DICT (offsets re-encoded as 5-byte integers), String and Global
Subr INDEXes as they were, then the Font DICT array (each Private offset re-encoded), each
Private DICT with its local Subrs copied byte for byte, and the new charset (format 2),
FDSelect (format 3) and CharStrings INDEX. Anything it does not expect — not CID-keyed, a
charset that is not the identity, an FDSelect format other than 0 or 3 — gives None, and the
font is embedded as it was.
"""
from __future__ import annotations

from bisect import bisect_right

CHARSET, CHARSTRINGS, PRIVATE, SUBRS = 15, 17, 18, 19
ROS, FDARRAY, FDSELECT = 1230, 1236, 1237


def _index(data: bytes, at: int) -> tuple[list[bytes], int]:
    """A CFF INDEX at `at`: its items and the offset after it."""
    count = int.from_bytes(data[at:at + 2], "big")
    if count == 0:
        return [], at + 2
    size = data[at + 2]
    offsets = [int.from_bytes(data[at + 3 + i * size:at + 3 + (i + 1) * size], "big")
               for i in range(count + 1)]
    base = at + 2 + (count + 1) * size  # offsets count from the byte before the data
    if offsets[0] != 1 or any(b < a for a, b in zip(offsets, offsets[1:])) \
            or base + offsets[-1] > len(data):
        raise ValueError("bad INDEX")
    return [data[base + a:base + b] for a, b in zip(offsets, offsets[1:])], base + offsets[-1]


def _index_some(data: bytes, at: int, wanted: list[int]) -> tuple[int, list[bytes]]:
    """The number of items of the CFF INDEX at `at` and the items numbered `wanted` (those
    below the count), without reading the other offsets."""
    count = int.from_bytes(data[at:at + 2], "big")
    if count == 0:
        return 0, []
    size = data[at + 2]
    base = at + 2 + (count + 1) * size

    def offset(i: int) -> int:
        return int.from_bytes(data[at + 3 + i * size:at + 3 + (i + 1) * size], "big")
    if offset(0) != 1 or base + offset(count) > len(data):
        raise ValueError("bad INDEX")
    items = []
    for i in wanted:
        if i < count:
            a, b = offset(i), offset(i + 1)
            if b < a:
                raise ValueError("bad INDEX")
            items.append(data[base + a:base + b])
    return count, items


def index_bytes(items: list[bytes]) -> bytes:
    """A CFF INDEX holding `items`, with the smallest offset size."""
    if not items:
        return b"\x00\x00"
    offsets = [1]
    for item in items:
        offsets.append(offsets[-1] + len(item))
    size = next(n for n in (1, 2, 3, 4) if offsets[-1] < 1 << (8 * n))
    return (len(items).to_bytes(2, "big") + bytes([size])
            + b"".join(o.to_bytes(size, "big") for o in offsets) + b"".join(items))


def parse_dict(d: bytes) -> list[tuple[int, bytes, list[int]]]:
    """A CFF DICT as (operator — two-byte ones as 1200 + n —, its operands' bytes, their integer
    values; a real operand counts as 0, its value is never an offset)."""
    out: list[tuple[int, bytes, list[int]]] = []
    start, i = 0, 0
    values: list[int] = []
    while i < len(d):
        b = d[i]
        if b <= 21:
            operands = d[start:i]
            op = 1200 + d[i + 1] if b == 12 else b
            i += 2 if b == 12 else 1
            out.append((op, operands, values))
            start, values = i, []
        elif b == 28:
            values.append(int.from_bytes(d[i + 1:i + 3], "big", signed=True))
            i += 3
        elif b == 29:
            values.append(int.from_bytes(d[i + 1:i + 5], "big", signed=True))
            i += 5
        elif b == 30:
            i += 1
            while i < len(d) and (d[i] & 0x0F) != 0x0F and (d[i] >> 4) != 0x0F:
                i += 1
            values.append(0)
            i += 1
        elif 32 <= b <= 246:
            values.append(b - 139)
            i += 1
        elif 247 <= b <= 250:
            values.append((b - 247) * 256 + d[i + 1] + 108)
            i += 2
        elif 251 <= b <= 254:
            values.append(-(b - 251) * 256 - d[i + 1] - 108)
            i += 2
        else:
            raise ValueError("reserved DICT byte")
    if start != len(d):
        raise ValueError("operands without an operator")
    return out


def _int5(value: int) -> bytes:
    return b"\x1d" + value.to_bytes(4, "big", signed=True)


def _op(op: int) -> bytes:
    return bytes([12, op - 1200]) if op >= 1200 else bytes([op])


def dict_bytes(entries: list[tuple[int, bytes, list[int]]], offsets: dict[int, list[int]]) -> bytes:
    """A DICT with the operators in `offsets` given new operands (5-byte integers, so that its
    size does not depend on where things land), the others copied as they were."""
    return b"".join((b"".join(_int5(v) for v in offsets[op]) if op in offsets else operands)
                    + _op(op) for op, operands, _ in entries)


def top_dict(cff: bytes) -> dict[int, list[int]]:
    """The CFF's Top DICT: operator → its operands' integer values."""
    _, at = _index(cff, cff[2])  # Name INDEX, after the header
    tops, _ = _index(cff, at)
    return {op: values for op, _, values in parse_dict(tops[0])}


def identity_charset(data: bytes, at: int, glyphs: int) -> bool:
    """Whether the charset at `at` gives glyph id g the CID g, for every glyph (formats 0–2)."""
    try:
        _identity_charset_end(data, at, glyphs)
    except (ValueError, IndexError):
        return False
    return True


def _identity_charset_end(data: bytes, at: int, glyphs: int) -> int:
    """Where the charset at `at` ends, if it gives every glyph id g the CID g; else ValueError."""
    fmt, pos, expect = data[at], at + 1, 1
    if fmt == 0:
        end = pos + 2 * (glyphs - 1)
        if data[pos:end] != b"".join(g.to_bytes(2, "big") for g in range(1, glyphs)):
            raise ValueError("charset is not the identity")
        return end
    if fmt not in (1, 2):
        raise ValueError("charset format")
    width = 1 if fmt == 1 else 2
    while expect < glyphs:
        first = int.from_bytes(data[pos:pos + 2], "big")
        if first != expect:
            raise ValueError("charset is not the identity")
        expect += int.from_bytes(data[pos + 2:pos + 2 + width], "big") + 1
        pos += 2 + width
    if expect != glyphs:
        raise ValueError("charset is not the identity")
    return pos


def _fd_of(data: bytes, at: int, glyphs: int) -> tuple[list[int], list[int]]:
    """The FDSelect at `at` as ranges: (first glyph ids, their Font DICT numbers)."""
    fmt = data[at]
    if fmt == 0:
        return list(range(glyphs)), list(data[at + 1:at + 1 + glyphs])
    if fmt != 3:
        raise ValueError("FDSelect format")
    count = int.from_bytes(data[at + 1:at + 3], "big")
    firsts = [int.from_bytes(data[at + 3 + 3 * i:at + 5 + 3 * i], "big") for i in range(count)]
    fds = [data[at + 5 + 3 * i] for i in range(count)]
    if not firsts or firsts[0] != 0 or firsts != sorted(firsts):
        raise ValueError("FDSelect ranges")
    return firsts, fds


def compact_cff(cff: bytes, keep: set[int]) -> bytes | None:
    """The CID-keyed CFF `cff` (its charset the identity) holding only glyph 0 and the glyph ids
    in `keep`, each under its old glyph id as CID; None where that cannot be done exactly."""
    try:
        return _compact(cff, keep)
    except (ValueError, IndexError, StopIteration):
        return None


def _compact(cff: bytes, keep: set[int]) -> bytes | None:
    _, at = _index(cff, cff[2])  # Name INDEX, after the header
    name_end = at
    tops, at = _index(cff, at)
    strings_start = at
    _, at = _index(cff, at)  # String INDEX
    _, at = _index(cff, at)  # Global Subr INDEX
    shared = cff[strings_start:at]
    if len(tops) != 1:
        return None
    top = parse_dict(tops[0])
    ops = {op: values for op, _, values in top}
    if ROS not in ops or PRIVATE in ops or not all(
            op in ops and len(ops[op]) == 1 for op in (CHARSET, CHARSTRINGS, FDARRAY, FDSELECT)):
        return None
    glyphs, _ = _index_some(cff, ops[CHARSTRINGS][0], [])
    _identity_charset_end(cff, ops[CHARSET][0], glyphs)
    firsts, fds = _fd_of(cff, ops[FDSELECT][0], glyphs)
    font_dicts, _ = _index(cff, ops[FDARRAY][0])
    gids = [0] + sorted(g for g in keep if 0 < g < glyphs)
    if len(gids) == glyphs:
        return None  # nothing to drop

    # the Private DICTs (with their local Subrs), copied whole; their offsets re-encoded
    parsed = [parse_dict(d) for d in font_dicts]
    private_ops = [{op: values for op, _, values in entries}.get(PRIVATE) for entries in parsed]
    privates: list[bytes] = []
    sizes: list[int] = []
    for private in private_ops:
        if private is None or len(private) != 2:
            return None
        size, offset = private
        sizes.append(size)
        end = offset + size
        subrs = {op: values for op, _, values in parse_dict(cff[offset:end])}.get(SUBRS)
        if subrs is not None:
            _, end = _index(cff, offset + subrs[0])
        privates.append(cff[offset:max(end, offset + size)])

    # the new charset (format 2: runs of consecutive CIDs), FDSelect (format 3) and CharStrings
    runs: list[list[int]] = []
    for g in gids[1:]:
        if runs and g == runs[-1][0] + runs[-1][1] + 1:
            runs[-1][1] += 1
        else:
            runs.append([g, 0])
    charset = b"\x02" + b"".join(first.to_bytes(2, "big") + left.to_bytes(2, "big")
                                 for first, left in runs)
    ranges: list[tuple[int, int]] = []
    for new, g in enumerate(gids):
        fd = fds[bisect_right(firsts, g) - 1]
        if fd >= len(font_dicts):
            return None
        if not ranges or ranges[-1][1] != fd:
            ranges.append((new, fd))
    fdselect = (b"\x03" + len(ranges).to_bytes(2, "big")
                + b"".join(first.to_bytes(2, "big") + bytes([fd]) for first, fd in ranges)
                + len(gids).to_bytes(2, "big"))
    charstrings = index_bytes(_index_some(cff, ops[CHARSTRINGS][0], gids)[1])

    # lay out: sizes do not depend on offsets (5-byte integers), so one pass places everything
    top_len = len(index_bytes([dict_bytes(top, {op: [0] for op in
                                                (CHARSET, CHARSTRINGS, FDARRAY, FDSELECT)})]))
    fdarray_at = name_end + top_len + len(shared)
    fd_len = len(index_bytes([dict_bytes(e, {PRIVATE: [0, 0]}) for e in parsed]))
    place = fdarray_at + fd_len
    private_at = []
    for block in privates:
        private_at.append(place)
        place += len(block)
    charset_at = place
    fdselect_at = charset_at + len(charset)
    charstrings_at = fdselect_at + len(fdselect)
    new_top = index_bytes([dict_bytes(top, {CHARSET: [charset_at], CHARSTRINGS: [charstrings_at],
                                            FDARRAY: [fdarray_at], FDSELECT: [fdselect_at]})])
    fdarray = index_bytes([dict_bytes(entries, {PRIVATE: [size, at]})  # its new offset
                           for entries, size, at in zip(parsed, sizes, private_at)])
    out = b"".join([cff[:name_end], new_top, shared, fdarray, *privates, charset, fdselect,
                    charstrings])
    if len(new_top) != top_len or len(fdarray) != fd_len \
            or len(out) != charstrings_at + len(charstrings):
        return None
    return out
