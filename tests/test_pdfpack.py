"""Smaller PDFs (render/pdfpack.py): content-stream numbers rounded, table-border segments
stroked as one path, CID-keyed CFF subsets embedded bare — the same pages."""
from __future__ import annotations

import io
import shutil
import subprocess

import pytest

from generator.render.pdfpack import bare_cff, merge_strokes, round_numbers

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
    assert merged == (b"BT\nET\nq\n/A1 gs\n0 0 0 RG\n0.8 w\n1 2 m\n3 2 l\n3 2 m\n3 9 l\n3 9 m\n1 9 l\n"
                      b"S\nQ\nQ\n")
    # another width, a translucent state, something in between: separate runs, as they were
    wide = seg(b"3 2", b"3 9", b"/A1 gs\n0 0 0 RG\n1.6 w\n")
    assert merge_strokes(a + wide, {"A1"}).count(b"S\n") == 2
    assert merge_strokes(a + b, set()) == a + b
    apart = merge_strokes(a + b"0 0 1 rg\n" + b, {"A1"})
    assert apart.count(b"S\n") == 2 and b"0 0 1 rg\n" in apart


def test_bare_cff_only_for_a_cid_keyed_cff_font_with_glyph_ids_as_cids():
    assert bare_cff(b"\x00\x01\x00\x00" + bytes(100)) is None  # TrueType
    assert bare_cff(b"%PDF") is None
    assert bare_cff(b"OTTO" + bytes(8)) is None  # no CFF table
    from generator.render.pdfpack import _identity_charset
    assert _identity_charset(bytes([2, 0, 1, 0, 4]), 0, 6)  # format 2: CIDs 1–5 for glyphs 1–5
    assert not _identity_charset(bytes([2, 0, 2, 0, 4]), 0, 6)  # starts at CID 2
    assert _identity_charset(bytes([1, 0, 1, 1, 0, 3, 2]), 0, 6)  # format 1: 1–2, 3–5
    assert _identity_charset(bytes([0, 0, 1, 0, 2]), 0, 3)  # format 0
    assert not _identity_charset(bytes([0, 0, 2, 0, 1]), 0, 3)


@pytest.mark.slow
def test_packed_pages_look_the_same(tmp_path, monkeypatch):
    """A table drawn with and without the packer: merged borders and bare CFF draw exactly the
    same pixels. (Rounding to 1/100 px is left out here: it can move an edge across a pixel's
    anti-aliasing threshold, so it is not pixel-exact.)"""
    from generator.render import pdfpack
    monkeypatch.setattr(pdfpack, "round_numbers", lambda data: data)
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
