"""Smaller page content streams, the same pages: what `pdfpack` does to each page's operators.

- `round_numbers`: operands cut to 1/100 px (WeasyPrint's user unit is the CSS px, 0.75 pt:
  0.01 px is 1/400 mm, far below any printer's or screen's dot).
- `merge_strokes`: WeasyPrint strokes every table-border segment on its own (5 866 in the 2025
  example), each in its own saved state, and a cell's edge overlaps its neighbour's. Runs of
  segments stroked one after another in the same opaque state become one path, and collinear
  horizontal or vertical segments that overlap or touch become one line: with butt caps (the
  PDF default, which WeasyPrint keeps for solid borders) a stroked segment covers exactly the
  rectangle of its length by the line width, so the union of overlapping ones is the stroke of
  their union, and an opaque colour painted twice looks as painted once.
- `relative_text_positions`: every text run starts with a whole text matrix
  (`1 0 0 -1 x y Tm`); within one text object a run whose matrix differs from the previous
  one's only by a translation says so with `tx ty Td` (ISO 32000-1 §9.4.2: Td moves the line
  matrix, as Tm would have set it), and zero adjustments between a TJ array's strings go.

Each is exact arithmetic on the operands' decimal text, and each leaves a stream alone where
it holds a literal string or an inline image (whose bytes could look like operators).
"""
from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal

_DECIMAL = re.compile(rb"(?<![\w.])(-?\d+\.\d\d)\d+")


def _opaque_text(data: bytes) -> bool:
    """Whether the stream holds something other than operators and hex strings."""
    return b"(" in data or b"BI" in data


def round_numbers(data: bytes) -> bytes:
    """A page content stream with its operands cut to two decimals (cut, not rounded, so the
    substitution runs without a Python call per number)."""
    if _opaque_text(data):
        return data
    return _DECIMAL.sub(rb"\1", data)


# One border segment as WeasyPrint strokes it: its own saved state, stroke alpha, colour, width,
# one line; in a tagged PDF each is also an artifact of its own (a marked-content sequence).
_SEGMENT = re.compile(rb"(/Artifact\nBMC\n)?q\nq\n(/[A-Za-z0-9.]+) gs\n([-\d. ]+ RG\n[\d.]+ w\n)"
                      rb"([-\d.]+ [-\d.]+ m\n[-\d.]+ [-\d.]+ l\n)S\nQ\nQ\n(EMC\n)?")
_LINE = re.compile(rb"([-\d.]+) ([-\d.]+) m\n([-\d.]+) ([-\d.]+) l\n")


def _value(token: bytes) -> float | Decimal:
    """A coordinate's value to compare: a float for the decimals WeasyPrint writes (at most
    15 significant digits: distinct decimals are distinct floats, in the same order), else the
    exact Decimal."""
    if len(token) <= 16:
        return float(token)
    return Decimal(token.decode("ascii"))


def union_lines(lines: list[bytes]) -> bytes:
    """Subpaths `x1 y1 m x2 y2 l` as the fewest lines covering the same points: horizontal
    ones on one y and vertical ones on one x joined where they overlap or touch (in the order
    of their coordinates), others as they were, after them."""
    horizontal: dict[float | Decimal, list[tuple[float | Decimal, bytes, float | Decimal, bytes]]] = \
        defaultdict(list)
    vertical: dict[float | Decimal, list[tuple[float | Decimal, bytes, float | Decimal, bytes]]] = \
        defaultdict(list)
    names: dict[float | Decimal, bytes] = {}
    other: list[bytes] = []
    for line in lines:
        tokens = _LINE.fullmatch(line)
        if tokens is None:
            other.append(line)
            continue
        t = tokens.groups()
        x1, y1, x2, y2 = (_value(v) for v in t)
        if y1 == y2:
            names.setdefault(y1, t[1])
            horizontal[y1].append((x1, t[0], x2, t[2]) if x1 <= x2 else (x2, t[2], x1, t[0]))
        elif x1 == x2:
            names.setdefault(x1, t[0])
            vertical[x1].append((y1, t[1], y2, t[3]) if y1 <= y2 else (y2, t[3], y1, t[1]))
        else:
            other.append(line)
    out: list[bytes] = []
    for spans, flip in ((horizontal, False), (vertical, True)):
        for at in sorted(spans):
            joined: list[list] = []
            for lo, lo_name, hi, hi_name in sorted(spans[at], key=lambda s: (s[0], s[2])):
                if joined and lo <= joined[-1][2]:
                    if hi > joined[-1][2]:
                        joined[-1][2:] = [hi, hi_name]
                else:
                    joined.append([lo, lo_name, hi, hi_name])
            for _, lo_name, _, hi_name in joined:
                if flip:
                    out.append(b"%s %s m\n%s %s l\n" % (names[at], lo_name, names[at], hi_name))
                else:
                    out.append(b"%s %s m\n%s %s l\n" % (lo_name, names[at], hi_name, names[at]))
    return b"".join(out + other)


def merge_strokes(data: bytes, opaque: set[str]) -> bytes:
    """Runs of border segments stroked one after another in the same state (an opaque stroke
    alpha, colour and width) become one path of the fewest lines (`union_lines`) stroked once:
    the same pixels. Where the stream sets a line cap anywhere, the segments of a run are kept
    as they were (a projecting or round cap would draw past a joint). In a tagged PDF the run
    is one artifact instead of one per segment. Anything else is left as it is."""
    join = b" J\n" not in data
    out: list[bytes] = []
    at = 0
    run_state: tuple[bytes, bytes, bool] | None = None
    run: list[bytes] = []
    run_end = -1

    def flush() -> None:
        if run_state is not None:
            out.append(union_lines(run) if join else b"".join(run))
            out.append(b"S\nQ\nEMC\n" if run_state[2] else b"S\nQ\n")

    for match in _SEGMENT.finditer(data):
        begin, name, state, line, end = match.groups()
        if name.decode("ascii")[1:] not in opaque or (begin is None) != (end is None):
            continue
        key = (name, state, begin is not None)
        if run_state == key and match.start() == run_end:
            run.append(line)
        else:
            flush()
            out.append(data[at:match.start()])
            out.append((b"/Artifact\nBMC\nq\n" if key[2] else b"q\n") + name + b" gs\n" + state)
            run_state, run = key, [line]
        at = run_end = match.end()
    flush()
    out.append(data[at:])
    return b"".join(out)


_TM = re.compile(rb"1 0 0 (-?1) ([-\d.]+) ([-\d.]+) Tm")
_MOVES_LINE = (b"Td", b"TD", b"T*", b"'", b'"', b"Tm")


def _number(value: Decimal) -> bytes:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return b"0" if text in ("-0", "") else text.encode("ascii")


def relative_text_positions(data: bytes) -> bytes:
    """Text matrices given as moves from the previous line start where that is exact (see the
    module's docstring); zero adjustments dropped from TJ arrays."""
    if _opaque_text(data):
        return data
    out: list[bytes] = []
    last: tuple[bytes, Decimal, Decimal] | None = None  # the line matrix: d, e, f
    for line in data.split(b"\n"):
        if line == b"BT":
            last = None
        elif line.endswith(b" TJ") and line.startswith(b"["):
            line = line.replace(b">0<", b"").replace(b">0]", b">]")
        else:
            tm = _TM.fullmatch(line)
            if tm is not None:
                d, e, f = tm.group(1), Decimal(tm.group(2).decode()), Decimal(tm.group(3).decode())
                if last is not None and last[0] == d:
                    ty = (f - last[2]) / Decimal(d.decode())
                    line = _number(e - last[1]) + b" " + _number(ty) + b" Td"
                last = (d, e, f)
            elif line.endswith(_MOVES_LINE):
                last = None
        out.append(line)
    return b"\n".join(out)
