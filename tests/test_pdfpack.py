"""Smaller PDFs (render/pdfpack.py, pagestreams.py, cffcompact.py): content-stream numbers
rounded, table-border segments stroked as the fewest lines, text positions relative, CID-keyed
CFF subsets embedded bare holding only the glyphs drawn, default widths left out — the same
pages."""
from __future__ import annotations

import io
import shutil
import subprocess
from collections import defaultdict
from typing import Any

import pytest

from generator.render.pagestreams import (merge_strokes, relative_text_positions, round_numbers,
                                          union_lines)
from generator.render.pdfpack import bare_cff

SEGMENT = b"q\nq\n/A1 gs\n0 0 0 RG\n0.8 w\n%s m\n%s l\nS\nQ\nQ\n"


def seg(a: bytes, b: bytes, state: bytes = b"/A1 gs\n0 0 0 RG\n0.8 w\n") -> bytes:
    return b"q\nq\n" + state + a + b" m\n" + b + b" l\nS\nQ\nQ\n"


def test_numbers_are_cut_to_two_places_and_nothing_else_changes():
    data = b"1 0 0 -1 361.071354 168.416 Tm\n/F1 21.333008 Tf\n[<0001>0] TJ\n-0.0004 w\n0.75 0 0 0.75 0 0 cm\n"
    assert round_numbers(data) == (b"1 0 0 -1 361.07 168.41 Tm\n/F1 21.33 Tf\n[<0001>0] TJ\n-0.00 w\n"
                                   b"0.75 0 0 0.75 0 0 cm\n")
    literal = b"BT (1.23456) Tj ET\n1.23456 w\n"  # a literal string: digits may be text
    assert round_numbers(literal) == literal
    assert round_numbers(b"/a1.0 gs\n") == b"/a1.0 gs\n"  # a name is no number


def test_border_segments_of_one_state_become_one_path():
    a, b, c = seg(b"1 2", b"3 2"), seg(b"3 2", b"3 9"), seg(b"3 9", b"1 9")
    merged = merge_strokes(b"BT\nET\n" + a + b + c + b"Q\n", {"A1"})
    assert merged == (b"BT\nET\nq\n/A1 gs\n0 0 0 RG\n0.8 w\n1 2 m\n3 2 l\n1 9 m\n3 9 l\n3 2 m\n3 9 l\n"
                      b"S\nQ\nQ\n")
    # a line cap set anywhere in the stream: the segments stay as they were, one path
    capped = merge_strokes(b"1 J\n" + a + b + c, {"A1"})
    assert capped == b"1 J\nq\n/A1 gs\n0 0 0 RG\n0.8 w\n1 2 m\n3 2 l\n3 2 m\n3 9 l\n3 9 m\n1 9 l\nS\nQ\n"
    # another width, a translucent state, something in between: separate runs, as they were
    wide = seg(b"3 2", b"3 9", b"/A1 gs\n0 0 0 RG\n1.6 w\n")
    assert merge_strokes(a + wide, {"A1"}).count(b"S\n") == 2
    assert merge_strokes(a + b, set()) == a + b
    apart = merge_strokes(a + b"0 0 1 rg\n" + b, {"A1"})
    assert apart.count(b"S\n") == 2 and b"0 0 1 rg\n" in apart


def test_border_segments_of_a_tagged_pdf_become_one_artifact():
    """In a tagged PDF each segment is an artifact of its own; a run becomes one artifact with
    one path (still outside the structure tree, as PDF/UA wants decoration)."""
    def tagged(a: bytes, b: bytes) -> bytes:
        return b"/Artifact\nBMC\n" + seg(a, b) + b"EMC\n"
    data = b"BT\nET\n" + tagged(b"1 2", b"3 2") + tagged(b"3 2", b"5 2") + tagged(b"3 2", b"3 9")
    assert merge_strokes(data, {"A1"}) == (b"BT\nET\n/Artifact\nBMC\nq\n/A1 gs\n0 0 0 RG\n0.8 w\n"
                                           b"1 2 m\n5 2 l\n3 2 m\n3 9 l\nS\nQ\nEMC\n")
    # an artifact and a plain segment are not one run; a half-wrapped one is left alone
    mixed = tagged(b"1 2", b"3 2") + seg(b"3 2", b"5 2")
    assert merge_strokes(mixed, {"A1"}).count(b"S\n") == 2
    half = b"/Artifact\nBMC\n" + seg(b"1 2", b"3 2")
    assert merge_strokes(half, {"A1"}).count(b"BMC") == 1 and b"S\nQ\n" in merge_strokes(half, {"A1"})


def line(x1, y1, x2, y2) -> bytes:
    return b"%s %s m\n%s %s l\n" % tuple(str(v).encode() for v in (x1, y1, x2, y2))


def test_collinear_segments_that_overlap_or_touch_become_one_line():
    # a table row's bottom edge as WeasyPrint strokes it: each cell's own, overlapping by 0.8
    cells = [line(60.47, 132.03, 100.66, 132.03), line(99.86, 132.03, 189.04, 132.03),
             line(189.04, 132.03, 433.58, 132.03)]
    assert union_lines(cells) == line(60.47, 132.03, 433.58, 132.03)
    # drawn right to left, a gap, another row, a column, a diagonal (kept, after the others)
    lines = [line(30, 5, 20, 5), line(10, 5, 20, 5), line(40, 5, 50, 5), line(0, 1, 9, 1),
             line(7, 0, 7, 3), line(7, 3, 7, 4.5), line(7, 2, 7, 2.5), line(0, 0, 3, 3)]
    assert union_lines(lines) == (line(0, 1, 9, 1) + line(10, 5, 30, 5) + line(40, 5, 50, 5)
                                  + line(7, 0, 7, 4.5) + line(0, 0, 3, 3))
    # the same decimal written two ways is one coordinate
    assert union_lines([line("1.50", 2, 3, 2), line(3, "2.0", 4, 2)]) == line("1.50", 2, 4, 2)


def _text_positions(data: bytes) -> list[tuple[float, float]]:
    """Where each text run starts, by the operators' definitions (Tm sets, Td moves the line
    matrix; BT resets it), computed independently of pagestreams."""
    from fractions import Fraction
    out, matrix = [], None
    for op_line in data.split(b"\n"):
        parts = op_line.split()
        if op_line == b"BT":
            matrix = (Fraction(1), Fraction(0), Fraction(0), Fraction(1), Fraction(0), Fraction(0))
        elif parts and parts[-1] == b"Tm":
            matrix = tuple(Fraction(p.decode()) for p in parts[:6])
        elif parts and parts[-1] == b"Td":
            a, b, c, d, e, f = matrix
            tx, ty = (Fraction(p.decode()) for p in parts[:2])
            matrix = (a, b, c, d, tx * a + ty * c + e, tx * b + ty * d + f)
        elif parts and parts[-1] == b"TJ":
            out.append(matrix)
    return out


def test_text_runs_start_where_they_did_after_matrices_become_moves():
    data = (b"BT\n1 0 0 -1 103.13 96.59 Tm\n/F1 21.33 Tf\n[<250d0575>] TJ\n"
            b"1 0 0 -1 279.37 127.12 Tm\n[<0012>0<0575>] TJ\n1 0 0 -1 164.73 127.12 Tm\n[<2c74>0] TJ\n"
            b"2 0 0 -2 10 10 Tm\n[<0001>] TJ\n1 0 0 -1 164.73 130 Tm\n[<0002>] TJ\n"
            b"1 0 0 1 5 5 Tm\n[<0003>] TJ\n1 0 0 1 5.5 4.25 Tm\n[<0003>] TJ\nET\n"
            b"BT\n1 0 0 -1 1 2 Tm\n[<0004>] TJ\nET\n")
    packed = relative_text_positions(data)
    assert _text_positions(packed) == _text_positions(data)
    assert packed.count(b" Tm\n") == 5 and packed.count(b" Td\n") == 3
    assert b"176.24 -30.53 Td" in packed and b"-114.64 0 Td" in packed and b"0.5 -0.75 Td" in packed
    assert b"[<00120575>] TJ" in packed and b"[<2c74>] TJ" in packed
    literal = b"BT\n1 0 0 -1 1 2 Tm\n(a) Tj\n1 0 0 -1 3 2 Tm\n(b) Tj\nET"
    assert relative_text_positions(literal) == literal


def test_bare_cff_only_for_a_cid_keyed_cff_font_with_glyph_ids_as_cids():
    assert bare_cff(b"\x00\x01\x00\x00" + bytes(100)) is None  # TrueType
    assert bare_cff(b"%PDF") is None
    assert bare_cff(b"OTTO" + bytes(8)) is None  # no CFF table
    from generator.render.cffcompact import identity_charset as _identity_charset
    assert _identity_charset(bytes([2, 0, 1, 0, 4]), 0, 6)  # format 2: CIDs 1–5 for glyphs 1–5
    assert not _identity_charset(bytes([2, 0, 2, 0, 4]), 0, 6)  # starts at CID 2
    assert _identity_charset(bytes([1, 0, 1, 1, 0, 3, 2]), 0, 6)  # format 1: 1–2, 3–5
    assert _identity_charset(bytes([0, 0, 1, 0, 2]), 0, 3)  # format 0
    assert not _identity_charset(bytes([0, 0, 2, 0, 1]), 0, 3)


@pytest.mark.slow
def test_packed_pages_look_the_same(tmp_path, monkeypatch):
    """A table drawn with and without the packer: merged borders and bare CFF draw exactly the
    same pixels. (Rounding to 1/100 px and relative text positions are left out here: each can
    move an edge across a pixel's anti-aliasing threshold — a viewer adds the move in binary
    floating point — so they are not pixel-exact.)"""
    from generator.render import pdfpack
    monkeypatch.setattr(pdfpack, "round_numbers", lambda data: data)
    monkeypatch.setattr(pdfpack, "relative_text_positions", lambda data: data)
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils is not installed")
    from pypdf import PdfReader

    from generator.render.compat import HTML
    from generator.render.pdfpack import pack_font_streams
    rows = "".join(f"<tr><td>科目{i}</td><td>{i * 7.25:.2f}</td></tr>" for i in range(12))
    html = ('<style>td{border:0.6pt solid;padding:2pt;font-family:"Noto Serif CJK SC"}'
            'table{border-collapse:collapse}</style>'
            f'<table><tr><th>名称</th><th>金额</th></tr>{rows}</table>')
    plain = HTML(string=html).write_pdf()
    packed = HTML(string=html).write_pdf(finisher=pack_font_streams)
    assert len(packed) < len(plain)
    reader = PdfReader(io.BytesIO(packed))
    subtypes = {str(d.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                    .get_object()["/FontFile3"].get_object().get("/Subtype"))
                for d in reader.pages[0]["/Resources"]["/Font"].values()}
    assert subtypes == {"/CIDFontType0C"}
    images = []
    for name, data in (("plain", plain), ("packed", packed)):
        (tmp_path / f"{name}.pdf").write_bytes(data)
        subprocess.run(["pdftoppm", "-r", "100", "-gray", str(tmp_path / f"{name}.pdf"), str(tmp_path / name)],
                       check=True)
        images.append(next(tmp_path.glob(f"{name}*.pgm")).read_bytes())
    assert images[0] == images[1]


def _fonts_by_name(data: bytes) -> dict[str, tuple[Any, dict[int, float]]]:
    """Each CID font's name without its subset tag -> (its fontTools font, its widths by CID:
    /W, and /DW or 1000 for any other CID)."""
    from pypdf import PdfReader

    from tests.test_pdf import font_file
    reader = PdfReader(io.BytesIO(data))
    out = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            cid_font = font.get_object()["/DescendantFonts"][0].get_object()
            descriptor = cid_font["/FontDescriptor"].get_object()
            program = descriptor.get("/FontFile3") or descriptor.get("/FontFile2")
            widths: dict[int, float] = defaultdict(lambda d=float(cid_font.get("/DW", 1000)): d)
            items = list(cid_font.get("/W", []))
            for first, values in zip(items[::2], items[1::2]):
                widths.update((int(first) + i, float(v)) for i, v in enumerate(values))
            name = str(cid_font["/BaseFont"]).split("+", 1)[1]
            out[name] = (font_file(program.get_object().get_data()), widths)
    return out


@pytest.mark.slow
def test_packed_fonts_hold_only_the_glyphs_drawn_each_under_its_cid():
    """With and without the packer: each CFF font program of the packed PDF holds glyph 0 and
    one glyph per CID drawn, found through its charset, with the same glyph program and the
    same width as the unpacked font gives that glyph id (WeasyPrint writes glyph ids as CIDs)."""
    from generator.render.compat import HTML
    from generator.render.pdfpack import pack_font_streams
    from tests.test_pdf import _font_programs, _glyph_name
    html = ('<p style="font-family: \'Noto Sans CJK SC\'">部门预算公开 2025 年（单位：万元）</p>'
            '<p style="font-family: \'Noto Serif CJK SC\'; font-weight: bold">收支总表 123.45</p>'
            '<p style="font-family: \'Noto Serif CJK SC\'">一般公共预算财政拨款支出</p>')
    plain = HTML(string=html).write_pdf()
    packed = HTML(string=html).write_pdf(finisher=pack_font_streams)
    drawn = {name.split("+", 1)[1]: cids for name, (_, cids) in _font_programs(packed).items()}
    assert drawn == {name.split("+", 1)[1]: cids for name, (_, cids) in _font_programs(plain).items()}
    before, after = _fonts_by_name(plain), _fonts_by_name(packed)
    assert set(after) == set(drawn) and len(after) == 3
    for name, (font, widths) in after.items():
        cff = font["CFF "].cff
        top = cff[cff.fontNames[0]]
        assert sorted(top.charset) == sorted({".notdef"} | {_glyph_name(c) for c in drawn[name]})
        old_font, old_widths = before[name]
        old_top = old_font["CFF "].cff[old_font["CFF "].cff.fontNames[0]]
        assert len(old_top.charset) > 1000  # the unpacked subset kept every glyph id
        for cid in drawn[name]:
            glyph = _glyph_name(cid)
            assert top.CharStrings[glyph].bytecode == old_top.CharStrings[old_top.charset[cid]].bytecode
            assert widths[cid] == old_widths[cid]
            gid = top.charset.index(glyph)
            old_fd = old_top.FDSelect[cid]
            assert top.FDArray[top.FDSelect[gid]].Private.rawDict == \
                old_top.FDArray[old_fd].Private.rawDict


def test_compaction_refuses_what_it_does_not_know():
    from generator.render.cffcompact import compact_cff
    assert compact_cff(b"", {1}) is None
    assert compact_cff(b"\x01\x00\x04\x01" + bytes(40), {1}) is None


@pytest.mark.slow
@pytest.mark.parametrize("tables", [
    # two tables one under the other (their borders are one run), a thicker rule, a colour
    '<table class="g"><tr><td>一</td><td>1.00</td></tr><tr><td>二</td><td>2.00</td></tr></table>'
    '<table class="g" style="margin-top:-0.6pt"><tr><td style="border-bottom-width:1.6pt">三</td>'
    '<td style="border-color:#c00">3.00</td></tr></table>',
    # a dashed and a dotted border, a translucent one: drawn segment by segment as WeasyPrint does
    '<table class="g"><tr><td style="border-style:dashed">一</td><td>1</td></tr></table>'
    '<table class="g"><tr><td style="border-style:dotted">二</td><td style="border-style:double;'
    'border-width:3pt">2</td></tr></table>'
    '<table class="g"><tr><td style="border-color:rgba(0,0,0,.5)">三</td><td>3</td></tr></table>',
    # rows and columns spanned, an empty table
    '<table class="g"><tr><td rowspan="2">一</td><td colspan="2">二</td></tr><tr><td>三</td>'
    '<td></td></tr></table><table class="g"></table>',
])
def test_fast_table_borders_write_the_same_bytes(tables, monkeypatch):
    """compat.install_fast_borders records a table's border segments and writes each run as the
    finisher would have joined them: the same PDF bytes as WeasyPrint's own segment-by-segment
    drawing followed by the finisher (pagestreams.merge_strokes)."""
    from generator.render import compat
    from generator.render.compat import HTML
    from generator.render.pdfpack import pack_font_streams
    if not compat.install_fast_borders():
        pytest.skip("the public path has no fast borders")
    import weasyprint.draw as wdraw
    html = ('<style>.g{border-collapse:collapse;width:60%}.g td{border:0.6pt solid;padding:2pt;'
            'font-family:"Noto Serif CJK SC"}</style>' + tables)
    fast = HTML(string=html).write_pdf(finisher=pack_font_streams)
    calls = []
    fast_borders = wdraw.draw_collapsed_borders
    monkeypatch.setattr(wdraw, "draw_collapsed_borders",
                        lambda stream, table: calls.append(table) or fast_borders.__wrapped__(stream, table))
    slow_path = HTML(string=html).write_pdf(finisher=pack_font_streams)
    assert calls, "the tables were not drawn through the replaced function"
    assert fast == slow_path


@pytest.mark.slow
def test_compaction_keeps_subroutines_and_private_dicts_of_a_whole_cid_font():
    """compact_cff on a whole subroutinized CID-keyed CFF (Noto Sans CJK SC as installed: global
    and local subroutines, one Private DICT per Font DICT): every kept glyph, found by its CID
    through the new charset, draws the same outline with the same Font DICT as in the original
    (fontTools executes both charstrings, subroutine calls included)."""
    from fontTools.cffLib import CFFFontSet
    from fontTools.pens.recordingPen import RecordingPen
    from fontTools.ttLib import TTCollection

    from generator.render.cffcompact import compact_cff
    found = subprocess.run(["fc-list", ":family=Noto Sans CJK SC:style=Regular", "file", "index"],
                           capture_output=True, text=True).stdout.split("\n")[0]
    if not found:
        pytest.skip("Noto Sans CJK SC is not installed (fonts-noto-cjk)")
    path, index = found.split(": :index=") if ": :index=" in found else (found.rstrip(":"), "0")
    font = TTCollection(path)[int(index)] if path.endswith(".ttc") else None
    if font is None:
        pytest.skip("expected the TrueType collection Debian installs")
    cff = font.reader["CFF "]
    original = CFFFontSet()
    original.decompile(io.BytesIO(cff), None)
    top = original[original.fontNames[0]]
    keep = {1, 17, 1000, 9481, 12345, 20000, 34567, 60000}  # Latin, digits, CJK in several FDs
    packed = compact_cff(cff, keep)
    assert packed is not None and len(packed) < len(cff)  # the subroutines stay whole
    new = CFFFontSet()
    new.decompile(io.BytesIO(packed), None)
    new_top = new[new.fontNames[0]]
    assert new_top.charset == [".notdef"] + [f"cid{g:05d}" for g in sorted(keep)]
    assert any(fd.Private.rawDict.get("Subrs") for fd in top.FDArray)  # the case under test
    outlines = 0
    for gid in sorted(keep):
        name = f"cid{gid:05d}"
        drawn = []
        for t, glyph in ((top, top.charset[gid]), (new_top, name)):
            pen = RecordingPen()
            t.CharStrings[glyph].draw(pen)
            drawn.append(pen.value)
        assert drawn[0] == drawn[1], name
        outlines += bool(drawn[0])
        fd_old = top.FDArray[top.FDSelect[gid]].Private.rawDict
        fd_new = new_top.FDArray[new_top.FDSelect[new_top.charset.index(name)]].Private.rawDict
        assert {k: v for k, v in fd_old.items() if k != "Subrs"} == \
            {k: v for k, v in fd_new.items() if k != "Subrs"}
    assert outlines == len(keep) - 1  # all but the space (CID 1) draw something


def test_to_unicode_entries_sorted_by_cid_map_the_same():
    from generator.render.pdfpack import sorted_to_unicode
    head = [b"/CIDInit /ProcSet findresource begin", b"begincmap", b"1 begincodespacerange",
            b"<0000> <ffff>", b"endcodespacerange"]
    tail = [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    import random
    pairs = [(b"%04x" % cid, b"%04x" % (0x4e00 + cid)) for cid in range(250)]
    pairs[7] = (b"0007", b"d840dc00")  # a character outside the BMP: a surrogate pair
    shuffled = pairs[:]
    random.Random(28).shuffle(shuffled)
    lines = head[:]
    for at in range(0, 250, 100):
        block = shuffled[at:at + 100]
        lines += [b"%d beginbfchar" % len(block), *(b"<%s> <%s>" % p for p in block), b"endbfchar"]
    lines += tail
    out = sorted_to_unicode(lines)
    assert out is not None and out[:5] == head and out[-4:] == tail
    body = out[5:-4]
    assert body[0] == b"100 beginbfchar" and body[102] == b"100 beginbfchar" and body[204] == b"50 beginbfchar"
    assert [line for line in body if line.startswith(b"<")] == [b"<%s> <%s>" % p for p in pairs]
    assert sorted_to_unicode(lines[:-4]) is None  # no endcmap
    assert sorted_to_unicode(head + [b"1 begincidrange", b"<00> <01> 5", b"endcidrange"] + tail) is None
    assert sorted_to_unicode(head + [b"2 beginbfchar", b"<0001> <4e00>", b"<0001> <4e01>",
                                     b"endbfchar"] + tail) is None  # one CID twice: left alone
