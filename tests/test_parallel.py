"""One document laid out on two cores (render/parallel.py) gives the sequential render's bytes —
text, pages, fonts, outline, links, named destinations and metadata alike — for every example,
with parts starting on odd and on even pages; a wrong guess of a part's start, a child that dies
and anything a recording cannot carry end in the sequential render, never in a different PDF."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pypdf
import pytest

from generator.pipeline import run
from generator.render import compat, parallel, pdf
from generator.render.compat import CannotJoin, FontUse, merged_fonts

ROOT = Path(__file__).resolve().parent.parent
OTHERS_RUNNING = parallel.others_running  # (the autouse fixture below replaces it)


def _may_use_two_cores() -> bool:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parallel, "others_running", lambda: 0)
        return parallel.usable()


needs_two_cores = pytest.mark.skipif(not _may_use_two_cores(),
                                     reason="needs two cores and the tested WeasyPrint")


@pytest.fixture(autouse=True)
def _machine_otherwise_idle(monkeypatch):
    """Whether other processes happen to be running must not decide which path a test takes."""
    monkeypatch.setattr(parallel, "others_running", lambda: 0)


def _disclosure(name: str, layout: str | None = None):
    result = run(str(ROOT / "inputs" / name), layout=layout)
    assert result.ok, result.problems
    return result.disclosure


@pytest.fixture(scope="module")
def sequential() -> dict[str, pdf.PdfResult]:
    return {}


def _seq(cache: dict, name: str, layout: str | None = None) -> tuple[object, pdf.PdfResult]:
    disclosure = _disclosure(name, layout)
    key = f"{name}|{layout}"
    if key not in cache:
        cache[key] = pdf.render_pdf_report(disclosure)
    return disclosure, cache[key]


@pytest.mark.slow
@needs_two_cores
@pytest.mark.parametrize("name, layout, lengths", [
    ("524-xigang-2025.yaml", None, (2, 10)),       # B from page 3, C from page 13 (odd)
    ("612-nanguan-2023.yaml", None, (2, 9)),       # C from page 12 (even: a left page)
    ("900-qingshan-2025.yaml", None, (2, 9)),      # 6 blocks, 9 pages: C laid out again
    ("524-xigang-2025.yaml", "beijing-2025", None),  # another layout: other blocks, other cut
])
def test_two_cores_give_the_sequential_bytes(sequential, name, layout, lengths):
    disclosure, seq = _seq(sequential, name, layout)
    par = pdf.render_pdf_report(disclosure, parallel=True)
    assert par.lengths is not None, "laid out sequentially: the parallel path was not taken"
    if lengths is not None:  # counted on the sequential render's pages (pdftotext, by hand)
        assert par.lengths == lengths
    assert par.pages == seq.pages
    assert par.data == seq.data
    if name.startswith("900"):  # the next render's guesses are the lengths found
        again = pdf.render_pdf_report(disclosure, parallel=True, hint=par.lengths)
        assert again.data == seq.data and again.lengths == par.lengths


@pytest.mark.slow
@needs_two_cores
def test_a_wrong_guess_of_the_middle_part_lays_the_last_out_again(sequential):
    disclosure, seq = _seq(sequential, "524-xigang-2025.yaml")
    for hint in ((2, 9), (2, 11), (2, 1)):  # C guessed on the wrong page, both sides
        par = pdf.render_pdf_report(disclosure, parallel=True, hint=hint)
        assert par.lengths == (2, 10)
        assert par.data == seq.data


@pytest.mark.slow
@needs_two_cores
def test_a_wrong_guess_of_the_first_part_falls_back(sequential):
    disclosure, seq = _seq(sequential, "524-xigang-2025.yaml")
    markup, sheets = pdf._split_style(pdf._INTER_TAG_SPACE.sub(
        "><", pdf.render_html(disclosure)).strip())
    assert parallel.render(markup, sheets, (3, 10), pdf.pack_font_streams) is None
    result = pdf.render_pdf_report(disclosure, parallel=True, hint=(3, 10))
    assert result.lengths is None and result.data == seq.data


@pytest.mark.slow
@needs_two_cores
def test_a_child_that_dies_means_the_sequential_render(sequential, monkeypatch):
    disclosure, seq = _seq(sequential, "524-xigang-2025.yaml")
    parent, record = os.getpid(), compat.record_pages

    def die_in_child(document):
        if os.getpid() != parent:
            os._exit(9)
        return record(document)

    monkeypatch.setattr(compat, "record_pages", die_in_child)
    result = pdf.render_pdf_report(disclosure, parallel=True)
    assert result.lengths is None and result.data == seq.data


@pytest.mark.slow
@needs_two_cores
def test_what_cannot_be_joined_means_the_sequential_render(sequential, monkeypatch):
    disclosure, seq = _seq(sequential, "524-xigang-2025.yaml")

    def refuse(*args):
        raise CannotJoin("test")

    monkeypatch.setattr(compat, "merged_fonts", refuse)
    result = pdf.render_pdf_report(disclosure, parallel=True)
    assert result.lengths is None and result.data == seq.data


@pytest.mark.slow
@needs_two_cores
def test_a_missing_glyph_is_rendered_sequentially_and_warned_once(weasyprint_warnings_expected):
    """A character no font has gets an id only its own process knows: no join; WeasyPrint's
    warning is given once (the discarded parallel attempt's records are not passed on)."""
    from generator.render.pdflog import weasyprint_records
    disclosure = _disclosure("524-xigang-2025.yaml")
    markup = pdf.render_html(disclosure)
    head, body = markup.split("<body", 1)
    text = head + "<body" + body.replace("部门预算", "部门预算\U0002A6A5", 1)  # 𪚥: no font has it
    monkey = pytest.MonkeyPatch()
    monkey.setattr(pdf, "render_html", lambda d: text)
    try:
        with weasyprint_records() as records:
            result = pdf.render_pdf_report(disclosure, parallel=True)
    finally:
        monkey.undo()
    notdef = [r for r in records if ".notdef" in r.getMessage()]
    assert result.lengths is None
    assert len(notdef) == 1, [r.getMessage() for r in records]


def test_fonts_are_merged_in_first_use_order_and_measured_once():
    class Font:
        font_size = ascent = descent = 0

        def __init__(self, name: str = "F") -> None:
            self.hash = name

    a, b = Font("A"), Font("B")
    fonts = merged_fonts([[FontUse(1, {5: "部"}, {5: 1000}, (14.0, 880, -120))],
                          [FontUse(2, {7: "1"}, {7: 553}, (12.0, 1160, -288)),
                           FontUse(1, {5: "X", 6: "门"}, {5: 1000, 6: 1000}, (16.0, 881, -121))]],
                         {1: a, 2: b})
    assert list(fonts) == [1, 2]
    assert a.to_unicode == {5: "部", 6: "门"} and a.widths == {5: 1000, 6: 1000}
    assert (a.font_size, a.ascent, a.descent) == (14.0, 880, -120)  # from its first use
    assert (b.font_size, b.ascent, b.descent) == (12.0, 1160, -288)
    with pytest.raises(CannotJoin):  # one glyph, two widths: a part's stream would differ
        merged_fonts([[FontUse(1, {5: "部"}, {5: 1000}, (14.0, 880, -120))],
                      [FontUse(1, {5: "部"}, {5: 999}, (14.0, 880, -120))]], {1: Font()})
    with pytest.raises(CannotJoin):  # a font no recording of this process has
        merged_fonts([[FontUse(3, {}, {}, (1.0, 0, 0))]], {})


@needs_two_cores
def test_not_used_when_switched_off_busy_or_internals_differ(monkeypatch):
    assert parallel.usable()
    monkeypatch.setenv(parallel.DISABLE, "0")
    assert not parallel.usable()
    monkeypatch.delenv(parallel.DISABLE)
    cpus = len(os.sched_getaffinity(0))
    monkeypatch.setattr(parallel, "others_running", lambda: cpus - 1)  # one core left free
    assert not parallel.usable()
    monkeypatch.setattr(parallel, "others_running", lambda: 0)
    monkeypatch.setattr(compat, "INTERNALS", False)
    assert not parallel.usable()


@pytest.mark.parametrize("loadavg, others", [
    ("0.52 0.58 0.59 1/187 31022\n", 0),  # only this process runs
    ("2.10 1.80 1.20 3/190 31022\n", 2),
    ("9.00 9.00 9.00 12/400 31022\n", 11),
    ("0.00 0.00 0.00 0/150 1\n", 0),  # never below zero
    ("garbage\n", 0),  # unreadable: as if idle (the fork is then still guarded by the join)
])
def test_others_running_is_read_from_the_kernel(monkeypatch, tmp_path, loadavg, others):
    import builtins
    fake = tmp_path / "loadavg"
    fake.write_text(loadavg, encoding="ascii")
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda path, *a, **k: real_open(
        fake if path == "/proc/loadavg" else path, *a, **k))
    assert OTHERS_RUNNING() == others


def test_others_running_is_zero_without_proc(monkeypatch):
    import builtins

    def refuse(path, *args, **kwargs):
        raise FileNotFoundError(path)

    monkeypatch.setattr(builtins, "open", refuse)
    assert OTHERS_RUNNING() == 0


def test_the_cut_follows_the_blocks_not_the_layout_name():
    """B is the blocks after the 目录 up to the one where half of their markup is reached."""
    head = "<html><head></head><body>"

    def cut_of(*sizes: int) -> list[int]:
        blocks = "".join(f'<section class="t">{"x" * n}</section>' for n in sizes)
        cut = parallel.split(head + '<section class="cover">c</section><nav class="toc">t</nav>'
                             + blocks + "</body></html>")
        assert cut is not None
        return [len(p) for p in (cut.a, cut.b, cut.c)]

    assert cut_of(900, 900, 100) == [2, 2, 1]  # 926 of 1,978 characters: not yet half
    assert cut_of(1500, 200, 200) == [2, 1, 2]
    assert cut_of(10, 10, 5000) == [2, 2, 1]  # C keeps at least the last block
    assert parallel.split(head + '<section class="cover">c</section><section>x</section>'
                          "</body></html>") is None  # no 目录: nothing to cut after


@pytest.mark.slow
@needs_two_cores
def test_render_remembers_the_part_lengths_and_sequential_gives_the_same(tmp_path, monkeypatch):
    """Through render_file: PDF and workbook on two cores (the workbook made by the child while
    the parent joins), then with BUDGETGEN_PARALLEL=0: the same bytes; the part lengths are
    stored for the next render's guesses."""
    from generator.commands.jobs import render_file
    src = ROOT / "inputs" / "612-nanguan-2023.yaml"
    first = render_file(str(src), str(tmp_path / "two"), ("pdf", "xlsx"))
    assert first.status == "ok", first.problems
    records = list((tmp_path / "two" / ".budgetgen").glob("*.json"))
    stored = json.loads(records[0].read_text(encoding="utf-8"))["part_lengths"]
    assert list(stored.values()) == [[2, 9]]
    monkeypatch.setenv(parallel.DISABLE, "0")
    one = render_file(str(src), str(tmp_path / "one"), ("pdf", "xlsx"))
    assert one.status == "ok"
    assert json.loads(next((tmp_path / "one" / ".budgetgen").glob("*.json")).read_text(
        encoding="utf-8"))["part_lengths"] == {}
    two_pdf, one_pdf = (Path(next(o for o in x.outputs if o.endswith(".pdf")))
                        for x in (first, one))
    assert two_pdf.read_bytes() == one_pdf.read_bytes()
    # the workbook, rendered by the other core while the PDF was joined, is the same too
    two_xlsx, one_xlsx = (Path(next(o for o in x.outputs if o.endswith(".xlsx")))
                          for x in (first, one))
    assert two_xlsx.read_bytes() == one_xlsx.read_bytes()
    outline = pypdf.PdfReader(two_pdf).outline  # the bookmarks, read back: two parts, 9 + 10
    assert [o.title if not isinstance(o, list) else len(o) for o in outline] == [
        "第一部分 部门预算公开表", 9,
        "第二部分 秦皇岛市山海关区南关街道办事处2023年部门预算信息公开情况说明", 10]
