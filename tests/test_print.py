"""Print and accessibility (issue 27), on every example in inputs/ in every built-in layout.

Each (example, layout) is rendered once as PDF/UA-1 (the tagging does not change the layout)
and each example once as PDF/A-3b. Two kinds of checks:

- the structure tree and metadata, read with pikepdf (tests/pdfcheck.py: the ISO 14289-1 and
  ISO 19005-3 clauses listed in docs/print.md), and the issue's points: one Table element per
  table of the markup (a continued table is not two), one Sect per section, repeated headers,
  running heads and page numbers as artifacts, the meta line a P;
- the text layer, read with pdfplumber / pdftotext: justified prose lines, no paragraph
  ending on a line of one character, header-cell lines kept whole and broken between words,
  no 类/款 row at the foot of a page with its first 款/项 on the next, 目录 entries broken only
  between phrases, a page number on every page after the cover, no sentence set as a 黑体
  heading.

The expectations are the typesetting rules themselves (and word lists written here), not the
renderer's own helpers.
"""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.pipeline import run
from generator.render.html import context, render_html
from generator.render.pdf import render_pdf

pikepdf = pytest.importorskip("pikepdf", reason="pikepdf (test extra) reads the structure tree")
pdfplumber = pytest.importorskip("pdfplumber")
import pdfcheck  # noqa: E402  (tests/ is on sys.path, as for seed_rows)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("pdftotext") is None,
                                 reason="pdftotext (poppler-utils) is not installed")]

ROOT = Path(__file__).resolve().parent.parent
INPUTS = sorted((ROOT / "inputs").glob("*.yaml")) + sorted((ROOT / "inputs").glob("*/*.yaml"))
LAYOUTS = ("hebei-2025", "hebei-2023", "beijing-2025")
CASES = [(p, layout) for p in INPUTS for layout in LAYOUTS]

_CACHE: dict[tuple[str, str, str], dict] = {}


def rendered(path: Path, layout: str | None, variant: str) -> dict:
    key = (str(path), layout or "", variant)
    if key not in _CACHE:
        result = run(path, layout=layout)
        assert result.disclosure is not None, [p.message for p in result.problems][:3]
        d = result.disclosure
        data = render_pdf(d, pdf_variant=variant)
        _CACHE[key] = {"disclosure": d, "pdf": data, "html": render_html(d),
                       "context": context(d)}
    return _CACHE[key]


def case_id(case) -> str:
    path, layout = case
    return f"{path.stem[:3]}{'u' + path.stem[3:6] if path.parent.name != 'inputs' else ''}-{layout}"


@pytest.fixture(scope="module", params=CASES, ids=[case_id(c) for c in CASES])
def ua(request):
    path, layout = request.param
    return rendered(path, layout, "pdf/ua-1")


@pytest.fixture(scope="module", params=INPUTS, ids=[p.stem[:6] for p in INPUTS])
def archival(request):
    return rendered(request.param, None, "pdf/a-3b")


def _open(data: bytes):
    return pikepdf.open(io.BytesIO(data))


# ----------------------------------------------------------------------------- PDF/UA-1

def test_ua_structure_tree_passes_the_clauses_checked(ua):
    pdf = _open(ua["pdf"])
    tree = pdfcheck.read_tree(pdf)
    failures = (pdfcheck.metadata(pdf, "1") + pdfcheck.marked_content(pdf, tree)
                + pdfcheck.structure(tree) + pdfcheck.annotations(pdf, tree)
                + pdfcheck.fonts(pdf))
    assert failures == []


def test_ua_page_numbers_and_running_heads_are_artifacts(ua):
    pdf = _open(ua["pdf"])
    assert pdfcheck.footers_are_artifacts(pdf, first=2) == []


def test_ua_one_element_per_table_and_section(ua):
    """A table continued over pages is one Table with one THead (its repeated header rows
    are artifacts), a cell one TH or TD, a section one Sect; the meta line is a P, not a
    table."""
    tree = pdfcheck.read_tree(_open(ua["pdf"]))
    html = ua["html"]
    assert len(tree.of_type("Table")) == len(re.findall(r"<table\b", html))
    assert len(tree.of_type("THead")) == html.count("<thead>")
    assert len(tree.of_type("TH")) == len(re.findall(r"<th\b", html))
    # a row split over a page (a form's long 年度总体目标) is one TH and one TD, not two each
    assert len(tree.of_type("TD")) == len(re.findall(r"<td\b", html))
    assert len(tree.of_type("Sect")) == len(re.findall(r"<section\b", html))
    assert 'class="meta' not in "".join(re.findall(r"<table\b[^>]*>", html))
    metas = len(re.findall(r'<p class="meta\b', html))
    assert len(tree.of_type("P")) >= metas > 0
    scopes = {str(e.get("/A", {}).get("/Scope")) for e in tree.of_type("TH")}
    assert scopes <= {"/Column", "/Row"} and "/Column" in scopes


def test_ua_continued_table_cells_point_at_the_first_header():
    """The 900 example's 收入总表 runs over two pages: its cells on the second page name the
    header cells printed on the first (the repeated ones are artifacts, not in the tree)."""
    data = rendered(ROOT / "inputs" / "900-qingshan-2025.yaml", "hebei-2025", "pdf/ua-1")
    pdf = _open(data["pdf"])
    tree = pdfcheck.read_tree(pdf)
    pages = {p.objgen: n for n, p in enumerate(pdf.pages)}
    spanning = 0
    for table in tree.of_type("Table"):
        cells = [e for e, s, _ in tree.elements if s == "TD" and _inside(e, table)]
        on = {pages.get(c.get("/Pg").objgen) for c in cells if "/Pg" in c}
        if len(on) > 1:
            spanning += 1
            heads = {str(e.ID) for e, s, _ in tree.elements
                     if s == "TH" and "/ID" in e and _inside(e, table)}
            named = {str(h) for c in cells for h in c.get("/A", {}).get("/Headers", [])}
            assert named and named <= heads
    assert spanning >= 1


def _inside(element, ancestor) -> bool:
    node = element
    for _ in range(12):
        node = node.get("/P")
        if node is None:
            return False
        if node.objgen == ancestor.objgen:
            return True
    return False


# ----------------------------------------------------------------------------- PDF/A-3b

def test_archival_variant_passes_the_clauses_checked(archival):
    pdf = _open(archival["pdf"])
    tree = pdfcheck.read_tree(pdf)
    failures = (pdfcheck.archival(pdf) + pdfcheck.annotations(pdf, tree) + pdfcheck.fonts(pdf)
                + pdfcheck.metadata(pdf, "") + pdfcheck.marked_content(pdf, tree)
                + pdfcheck.structure(tree))
    assert failures == []


# ----------------------------------------------------------------------------- text layer

BODY_PT = 16.0  # 3号 body text
PUNCT = set("，。、；：？！）》」』”’…·,.;:?!)%")


def body_lines(data: bytes) -> list[dict]:
    """Lines of 3号 text in reading order: page, x0, x1, text (no spaces), fonts."""
    out = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            chars = sorted((c for c in page.chars if abs(c["size"] - BODY_PT) < 0.6
                            and c["text"].strip()), key=lambda c: (c["top"], c["x0"]))
            lines: list[list[dict]] = []
            for c in chars:
                if lines and abs(c["top"] - lines[-1][0]["top"]) < 8:
                    lines[-1].append(c)
                else:
                    lines.append([c])
            for line in lines:
                line.sort(key=lambda c: c["x0"])
                out.append({"page": number, "x0": line[0]["x0"], "x1": line[-1]["x1"],
                            "text": "".join(c["text"] for c in line),
                            "fonts": {c["fontname"] for c in line}})
    return out


def paragraph_texts(ctx: dict) -> list[str]:
    """Each run of prose that ends a line by itself: a paragraph, or its part before a <br>."""
    texts = []
    for section in ctx["sections"]:
        for item in section["items"]:
            if item["kind"] == "paragraph":
                texts += [re.sub(r"\s", "", line) for line in item["lines"]]
    return [t for t in texts if t]


def located_paragraphs(ua: dict) -> tuple[list[list[dict]], list[str]]:
    lines = body_lines(ua["pdf"])
    found, missing, start = [], [], 0
    for text in paragraph_texts(ua["context"]):
        for k in range(start, len(lines)):
            if not text.startswith(lines[k]["text"]) or len(lines[k]["text"]) < min(4, len(text)):
                continue
            got, j = lines[k]["text"], k
            while got != text and j + 1 < len(lines) and text.startswith(got + lines[j + 1]["text"]):
                j += 1
                got += lines[j]["text"]
            if got == text:
                found.append(lines[k:j + 1])
                start = j + 1
                break
        else:
            missing.append(text[:20])
    return found, missing


def right_edges(lines: list[dict]) -> dict[int, float]:
    edges: dict[int, float] = {}
    for line in lines:
        edges[line["page"]] = max(edges.get(line["page"], 0.0), line["x1"])
    return edges


def test_paragraphs_are_found_in_the_text_layer(ua):
    found, missing = located_paragraphs(ua)
    assert found and missing == []


def test_prose_lines_are_justified_also_when_they_hold_digits(ua):
    """Every line of a paragraph but its last reaches the right margin (within 2pt), lines
    with digits and Latin letters included (WeasyPrint alone stretches spaces only)."""
    found, _ = located_paragraphs(ua)
    edges = right_edges(body_lines(ua["pdf"]))
    short = [(line["page"], line["text"][-12:], round(edges[line["page"]] - line["x1"], 1))
             for paragraph in found for line in paragraph[:-1]
             if line["x1"] < edges[line["page"]] - 2.0]
    digit_lines = [line for p in found for line in p[:-1] if re.search(r"\d", line["text"])]
    assert short == []
    assert digit_lines or not any(re.search(r"\d", t) for t in paragraph_texts(ua["context"]))


def test_no_paragraph_ends_on_a_line_of_one_character(ua):
    found, _ = located_paragraphs(ua)
    lonely = [(p[-1]["page"], p[-2]["text"][-6:] + "/" + p[-1]["text"]) for p in found
              if len(p) > 1 and sum(ch not in PUNCT for ch in p[-1]["text"]) < 2]
    assert lonely == []


def test_sentences_are_not_set_as_hei_headings(ua):
    """黑体 (the top heading level) holds headings only: no line in it ends a sentence (the
    730 example's 一、… 。 items under a （三） heading were set so)."""
    hei = [line["text"] for line in body_lines(ua["pdf"])
           if any(re.search(r"Hei|Sans", f) for f in line["fonts"])]
    assert hei and not [t for t in hei if re.search(r"[。；]$", t)]


def page_texts(data: bytes) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()
    return text.split("\f")


def test_page_number_on_every_page_after_the_cover(ua):
    pages = [p for p in page_texts(ua["pdf"]) if p.strip()]
    missing = [n for n, text in enumerate(pages, 1)
               if n > 1 and not re.search(rf"—\s*{n}\s*—", text)]
    assert missing == []


CODE = re.compile(r"^\s*(?:\d{1,3}\s+)?(\d{3}(?:\d{2}){0,2})\s")


def test_no_lei_or_kuan_row_left_at_the_foot_of_a_page(ua):
    """A page never ends with a 类 (3-digit) or 款 (5-digit) row whose first 款/项 begins the
    next page."""
    codes = [[m.group(1) for line in page.splitlines() if (m := CODE.match(line))]
             for page in page_texts(ua["pdf"])]
    orphans = [(n, here[-1], there[0]) for n, (here, there) in enumerate(zip(codes, codes[1:]), 1)
               if here and there and len(here[-1]) in (3, 5) and there[0] != here[-1]
               and there[0].startswith(here[-1])]
    assert orphans == []


# words a header line may not be broken inside (written here, independent of the renderer)
WORDS = ("财政专户", "收入", "支出", "拨款", "结转", "结余", "预留", "中小微", "企业", "份额",
         "补助", "上缴", "附属", "单位", "资金", "预算", "基金", "经营", "国有", "资本", "一般",
         "公共", "政府性", "购置", "运行", "维护", "接待", "出国", "采购", "目录", "序号", "计量",
         "编码", "科目", "功能", "分类", "上年", "事业", "其他", "上级", "下级", "管理", "核拨")


def _breaks_inside(text: str, cuts: set[int]) -> list[str]:
    bad = []
    for word in WORDS:
        for m in re.finditer(re.escape(word), text):
            if any(m.start() < c < m.end() for c in cuts):
                bad.append(word)
    return bad


def test_header_cells_break_between_words_and_print_as_laid_out(ua):
    """Each header cell's lines end between words, and each line is printed on one line of
    its table's page (the cell does not wrap it again: no “财政专/户收入”, no lone “留”).
    A form-like header's filled-in values (部门整体支出绩效目标表) are data: printed as laid out,
    but not held to the header words."""
    ctx = ua["context"]
    tables = list(ctx["schedules"]) + [item["table"] for s in ctx["sections"]
                                       for item in s["items"] if item["kind"] == "table"]
    pages = [re.sub(r"[ \t]", "", p) for p in page_texts(ua["pdf"])]
    problems = []
    for t in tables:
        title = re.sub(r"\s", "", t["title"])
        on = [p for p in pages if title in p.replace("\n", "")] or pages
        text_lines = {line for p in on for line in p.splitlines()}
        for row in t["header"]:
            for cell in row:
                lines = [re.sub(r"\s", "", x) for x in cell["lines"]]
                text = "".join(lines)
                cuts = {sum(len(x) for x in lines[:k]) for k in range(1, len(lines))}
                if not cell["value"]:  # a form's filled-in value is data, not header words
                    problems += [f"{t['title']}: {'/'.join(lines)} breaks {w}"
                                 for w in _breaks_inside(text, cuts)]
                problems += [f"{t['title']}: “{x}” not printed on one line" for x in lines
                             if x and not any(x in tl for tl in text_lines)]
    assert problems == []


TOC_WORDS = ("情况说明", "公开", "部门预算", "办事处", "人民政府", "总表", "支出表", "收入",
             "绩效目标", "政府采购", "国有资产", "名词解释", "三公")


def test_toc_entries_break_only_between_phrases(ua):
    pages = page_texts(ua["pdf"])
    toc = next(p for p in pages if re.search(r"目\s*录", p))
    entries, current = [], ""
    for line in toc.splitlines()[1:]:
        text = re.sub(r"\s", "", line)
        if not text or re.fullmatch(r"—\d+—", text):
            continue
        done = re.search(r"\.{3,}\d+$|…+\d+$", text)
        body = re.sub(r"[.…]+\d+$", "", text)
        current = current + "\n" + body if current else body
        if done:
            entries.append(current)
            current = ""
    assert entries and current == ""
    problems = []
    for entry in entries:
        parts = entry.split("\n")
        if len(parts) > 1:
            cuts = {sum(len(x) for x in parts[:k]) for k in range(1, len(parts))}
            problems += [f"{'/'.join(parts)} breaks {w}"
                         for w in _breaks_inside("".join(parts), cuts) + [
                             x for x in TOC_WORDS if any(
                                 m.start() < c < m.end() for m in re.finditer(x, "".join(parts))
                                 for c in cuts)]]
            problems += [f"{'/'.join(parts)}: a short last line" for p in parts[1:] if len(p) < 4]
    assert problems == []
