"""The fence around WeasyPrint's and pydyf's internals (generator/render/compat.py): a release of
either can make budgetgen slower, never wrong.

- The internals (and with them the two-core path) are used only on the exact releases verified
  and only when every internal name is there; anything else is the public single-process path,
  and the reason is what `render --verbose` says.
- Drift is simulated — an attribute gone, a function renamed, a patch that no longer applies, a
  joined PDF missing its fonts, any exception on the two-core path — and each ends in the
  sequential render's very bytes.
- The public path gives the same bytes as the fast path (each in a fresh process).
"""
from __future__ import annotations

import os
import subprocess
import sys

import pydyf
import pytest
import weasyprint
import weasyprint.document
import weasyprint.pdf
import weasyprint.pdf.stream
from conftest import EXAMPLE_2025, ROOT

from generator.pipeline import run
from generator.render import compat, parallel, pdf

# ----------------------------------------------------------------------------- the fence


@pytest.mark.parametrize("weasy, pydyf_, usable", [
    ("70.0", "0.13.0", True),
    ("70.1", "0.13.0", False),  # a bug-fix release: not verified
    ("70.0", "0.13.1", False),
    ("71.0", "0.13.0", False), ("69.9", "0.13.0", False), ("70.0", "0.14.0", False),
    ("170.0", "0.13.0", False), ("70.0.1", "0.13.0", False), ("7", "0.13.0", False),
])
def test_internals_only_on_the_exact_releases_verified(weasy, pydyf_, usable):
    assert compat.internals_usable(weasy, pydyf_) is usable
    reason = compat.fence(weasy, pydyf_)
    assert (reason == "") is usable
    if not usable:
        assert weasy in reason and pydyf_ in reason and compat.VERIFIED_WEASYPRINT in reason
        assert "公开接口" in reason


def test_this_weasyprint_is_the_verified_one():
    """When this fails, the PDF stack was upgraded (the lock file, constraints.txt, pins the
    verified releases): run the whole suite on the new release, then move VERIFIED_*."""
    assert (weasyprint.__version__, pydyf.__version__) == (compat.VERIFIED_WEASYPRINT,
                                                           compat.VERIFIED_PYDYF)
    assert compat.INTERNALS and compat.REASON == "" and compat.missing_internals() == []


def test_public_on_request():
    reason = compat.fence(compat.VERIFIED_WEASYPRINT, compat.VERIFIED_PYDYF, "public")
    assert "BUDGETGEN_COMPAT=public" in reason


def test_a_missing_attribute_closes_the_fence(monkeypatch):
    monkeypatch.delattr(weasyprint.pdf.stream, "Stream")
    assert compat.missing_internals() == ["weasyprint.pdf.stream.Stream"]
    reason = compat.fence(compat.VERIFIED_WEASYPRINT, compat.VERIFIED_PYDYF)
    assert "weasyprint.pdf.stream.Stream" in reason and "公开接口" in reason


def test_a_renamed_function_closes_the_fence(monkeypatch):
    real = weasyprint.pdf.build_fonts_dictionary
    monkeypatch.delattr(weasyprint.pdf, "build_fonts_dictionary")
    monkeypatch.setattr(weasyprint.pdf, "build_fonts", real, raising=False)
    monkeypatch.delattr(weasyprint.HTML, "_ua_stylesheets")
    assert compat.missing_internals() == ["weasyprint.HTML._ua_stylesheets",
                                          "weasyprint.pdf.build_fonts_dictionary"]
    assert "build_fonts_dictionary" in compat.fence(compat.VERIFIED_WEASYPRINT, compat.VERIFIED_PYDYF)


def test_a_fenced_weasyprint_never_tries_two_cores(monkeypatch):
    monkeypatch.setattr(parallel, "others_running", lambda: 0)
    monkeypatch.setattr(compat, "INTERNALS", False)
    assert not parallel.usable()


def test_object_bytes_public_rules_agree_with_pydyf(monkeypatch):
    items = [b"abc", 3.0, 2.5, 0.125, 7, "/Name", pydyf.Dictionary({"A": 1}),
             pydyf.Array([1, 2.5]), pydyf.String("x")]
    monkeypatch.setattr(compat, "INTERNALS", False)
    public = [compat.object_bytes(i) for i in items]
    assert public == [pydyf._to_bytes(i) for i in items]


# ----------------------------------------------------------------------------- renders

slow = pytest.mark.slow


def _may_use_two_cores() -> bool:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parallel, "others_running", lambda: 0)
        return parallel.usable()


needs_two_cores = pytest.mark.skipif(not _may_use_two_cores(),
                                     reason="needs two cores and the verified WeasyPrint")


@pytest.fixture(scope="module")
def xigang():
    result = run(str(EXAMPLE_2025))
    assert result.ok, result.problems
    return result.disclosure


@pytest.fixture(scope="module")
def sequential(xigang) -> pdf.PdfResult:
    return pdf.render_pdf_report(xigang)


@pytest.fixture()
def idle(monkeypatch):
    """Whether other processes happen to be running must not decide which path a test takes."""
    monkeypatch.setattr(parallel, "others_running", lambda: 0)


def _render_in_child(compat_mode: str) -> bytes:
    env = dict(os.environ, BUDGETGEN_COMPAT=compat_mode)
    code = ("import sys; from generator.pipeline import run; "
            "from generator.render import compat, pdf; "
            f"assert compat.INTERNALS is {compat_mode != 'public'}; "
            "compat.set_cjk_justify(False); "  # a typesetting internal the public path lacks
            "sys.stdout.buffer.write(pdf.render_pdf(run(sys.argv[1]).disclosure))")
    proc = subprocess.run([sys.executable, "-c", code, str(EXAMPLE_2025)], cwd=ROOT, env=env,
                          capture_output=True, check=True)
    return proc.stdout


@slow
def test_public_path_gives_the_same_bytes():
    """The fallback on another WeasyPrint (HTML5 parser, WeasyPrint's own user-agent stylesheet
    plus ours, the stylesheet inline, no LazyFont, pydyf's serialisation rewritten) and the
    fast path, each in a fresh process, produce the same PDF. (The CJK justification, compat.py,
    is off in both: the public path leaves those lines ragged, docs/print.md.)"""
    fast = _render_in_child("")
    public = _render_in_child("public")
    assert fast[:5] == b"%PDF-" and len(fast) > 100_000
    assert fast == public


@slow
def test_fenced_render_takes_the_public_path_and_says_why(xigang, sequential, idle, monkeypatch):
    reason = compat.fence("70.1", compat.VERIFIED_PYDYF)
    monkeypatch.setattr(compat, "INTERNALS", False)
    monkeypatch.setattr(compat, "REASON", reason)
    result = pdf.render_pdf_report(xigang, parallel=True)
    assert result.lengths is None and reason in result.how and "单进程" in result.how
    assert result.data == sequential.data


@slow
@needs_two_cores
def test_the_verified_release_takes_two_cores(xigang, sequential, idle):
    result = pdf.render_pdf_report(xigang, parallel=True)
    assert result.lengths is not None and result.how == "PDF 两核排版"
    assert result.data == sequential.data


@slow
@needs_two_cores
def test_a_patch_that_no_longer_applies_falls_back(xigang, sequential, idle, monkeypatch):
    """WeasyPrint calling build_fonts_dictionary by another way (a moved module, an import
    into generate_pdf's own namespace) bypasses write_joined's patch: the joined PDF would have
    the fonts of no part — no text at all. The fallback gives the sequential bytes."""
    real_build, real_generate = weasyprint.pdf.build_fonts_dictionary, weasyprint.document.generate_pdf

    def generate(*args, **kwargs):
        ours = weasyprint.pdf.build_fonts_dictionary
        weasyprint.pdf.build_fonts_dictionary = real_build
        try:
            return real_generate(*args, **kwargs)
        finally:
            weasyprint.pdf.build_fonts_dictionary = ours

    monkeypatch.setattr(weasyprint.document, "generate_pdf", generate)
    result = pdf.render_pdf_report(xigang, parallel=True)
    assert result.lengths is None and "无法合并" in result.how
    assert result.data == sequential.data


@slow
@needs_two_cores
def test_a_joined_pdf_without_its_fonts_is_caught_by_the_check(xigang, sequential, idle, monkeypatch):
    """The fonts dictionary built, but from the wrong fonts (a merge that lost them): only the
    post-check of the joined PDF can see it. Without the check the PDF would differ."""
    real_merged = compat.merged_fonts
    monkeypatch.setattr(compat, "merged_fonts", lambda parts, objects: dict(
        list(real_merged(parts, objects).items())[:1]))  # every font but the first lost
    result = pdf.render_pdf_report(xigang, parallel=True)
    assert result.lengths is None and result.data == sequential.data
    monkeypatch.setattr(compat, "check_joined", lambda *args: None)
    unchecked = pdf.render_pdf_report(xigang, parallel=True)
    assert unchecked.lengths is not None and unchecked.data != sequential.data  # the check mattered


@slow
@needs_two_cores
@pytest.mark.parametrize("where, exc", [
    ("record_pages", AttributeError("'Page' object has no attribute 'paint'")),
    ("write_joined", TypeError("build_fonts_dictionary() takes 4 positional arguments")),
    ("merged_fonts", KeyError("widths")),
])
def test_any_exception_on_the_two_core_path_falls_back(xigang, sequential, idle, monkeypatch, where, exc):
    parent, real = os.getpid(), getattr(compat, where)

    def broken(*args, **kwargs):
        if os.getpid() == parent:  # in this process (the child's own failures end the join)
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(compat, where, broken)
    result = pdf.render_pdf_report(xigang, parallel=True)
    assert result.lengths is None and type(exc).__name__ in result.how
    assert result.data == sequential.data


# ----------------------------------------------------------------------------- the post-check

@pytest.fixture(scope="module")
def laid_out(xigang):
    """A sequential render's pydyf PDF (as a finisher sees it), its pages recorded as the
    two-core path records them, and its fonts dictionary."""
    from generator.render import weasy
    markup, sheets = pdf._split_style(pdf._INTER_TAG_SPACE.sub("><", pdf.render_html(xigang)).strip())
    seen = {}
    with weasy.collector_paused():
        document, ua = compat.make_html(markup, str(pdf.TEMPLATES) + "/", pdf.LocalFetcher(),
                                        pdf._ua_sheet())
        rendered = document.render(stylesheets=ua + sheets)
        rendered.write_pdf(finisher=lambda doc, p: seen.setdefault("pdf", p))
        pages, _, _ = compat.record_pages(rendered)
    written = seen["pdf"]
    resources = next(o for o in written.objects if isinstance(o, pydyf.Dictionary) and "ExtGState" in o
                     and "Font" in o)
    fonts = written.objects[int(compat._op_bytes(resources["Font"]).split()[0])]
    return written, pages, fonts


@slow
def test_the_check_passes_a_good_pdf_and_finds_each_fault(laid_out):
    written, pages, fonts = laid_out
    compat.check_joined(written, pages, fonts)  # the sequential render itself passes
    with pytest.raises(compat.CannotJoin, match="pages written"):
        compat.check_joined(written, pages[:-1], fonts)
    first_font = next(iter(fonts))
    with pytest.raises(compat.CannotJoin, match="missing or not embedded"):
        compat.check_joined(written, pages, pydyf.Dictionary(
            {k: v for k, v in fonts.items() if k != first_font}))
    marked = next(i for i, p in enumerate(pages) if p.bookmarks)
    fewer = list(pages)
    fewer[marked] = type(pages[marked]).__new__(type(pages[marked]))
    for name in type(pages[marked]).__slots__:
        setattr(fewer[marked], name, getattr(pages[marked], name))
    fewer[marked].bookmarks = fewer[marked].bookmarks[1:]
    with pytest.raises(compat.CannotJoin, match="outline"):
        compat.check_joined(written, fewer, fonts)


@slow
def test_render_verbose_says_how_the_pdf_was_laid_out_and_why(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from generator.commands.cli import app
    reason = compat.fence("70.1", compat.VERIFIED_PYDYF)
    monkeypatch.setattr(compat, "INTERNALS", False)
    monkeypatch.setattr(compat, "REASON", reason)
    result = CliRunner().invoke(app, ["render", str(EXAMPLE_2025), "-o", str(tmp_path), "-f", "pdf", "-v"])
    assert result.exit_code == 0, result.output
    assert f"524-秦皇岛市海港区人民政府西港路街道办事处-2025：PDF 单进程排版：{reason}" in result.output
    quiet = CliRunner().invoke(app, ["render", str(EXAMPLE_2025), "-o", str(tmp_path), "-f", "pdf", "--force"])
    assert quiet.exit_code == 0 and "排版" not in quiet.output  # said only with --verbose


@slow
def test_an_exception_deciding_whether_to_use_two_cores_falls_back(xigang, sequential, monkeypatch):
    def broken():
        raise OSError("sched_getaffinity")

    monkeypatch.setattr(parallel, "usable", broken)
    result = pdf.render_pdf_report(xigang, parallel=True)
    assert result.lengths is None and "OSError" in result.how and result.data == sequential.data
