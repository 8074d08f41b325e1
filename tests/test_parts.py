"""A disclosure's HTML cut into parts at its forced page breaks (render/parts.py): the cut, the
CSS that starts a part on its real page and side, the 目录's numbers from other parts' anchors.
That the parts laid out and joined give the sequential render's bytes — odd and even starts,
every example — is tests/test_parallel.py's."""
from __future__ import annotations

from types import SimpleNamespace

from generator.render import parts

HEAD, TAIL = '<html><head><style>p{}</style></head><body class="b">', "</body></html>"


def test_the_body_is_cut_into_its_top_level_blocks():
    html = (HEAD + '<section class="cover"><h1 id="c">封面</h1></section><br>'
            '<nav class="toc"><a href="#s1">表一</a></nav>'
            '<section class="table"><h2 id="s1">收支总表</h2><table><tr><td id="x">1</td></tr></table>'
            "</section>" + TAIL)
    cut = parts.blocks(html)
    assert cut is not None
    head, tail, blocks = cut
    assert (head, tail) == (HEAD, TAIL)
    assert [b.cls for b in blocks] == ["cover", "", "toc", "table"]  # <br> closed, kept in place
    assert [b.ids for b in blocks] == [frozenset({"c"}), frozenset(), frozenset(), frozenset({"s1", "x"})]
    assert blocks[1].markup == "<br />"
    whole = parts.part_markup(head, tail, blocks)
    assert parts.blocks(whole) == cut  # cutting what was joined gives the same blocks
    assert parts.part_markup(head, tail, blocks[2:3]) == HEAD + '<nav class="toc"><a href="#s1">表一</a></nav>' + TAIL


def test_markup_that_is_not_simple_is_not_cut():
    assert parts.blocks("<html><body>text<p>x</p></body></html>") is None  # text between blocks
    assert parts.blocks("<html><body><p>x</p>tail</body></html>") is None
    assert parts.blocks("<html><body><p>x</p><p>y</body></html>") is None  # not well formed
    assert parts.blocks("<html><head></head></html>") is None  # no body


def test_a_part_starts_on_its_page_number_and_side():
    assert parts.start_css(13) == "html { break-before: right } @page :first { counter-set: page 13 }"
    assert parts.start_css(10) == "html { break-before: left } @page :first { counter-set: page 10 }"


def test_anchor_pages_count_from_the_parts_start_and_keep_the_first():
    pages = [SimpleNamespace(anchors={"a": 0, "b": 0}), SimpleNamespace(anchors={}),
             SimpleNamespace(anchors={"b": 0, "c": 0})]
    assert parts.anchor_pages(pages, 5) == {"a": 5, "b": 5, "c": 7}


def test_toc_numbers_come_from_the_anchor_pages_quoted_for_css():
    css = parts.toc_css({"s2": 14, 'q"\\': 3})
    assert css == ('.toc a[href="#q\\"\\\\"]::after { content: leader(dotted) " " "3" }'
                   '.toc a[href="#s2"]::after { content: leader(dotted) " " "14" }')
