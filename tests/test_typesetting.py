"""Typesetting decisions made before layout (issue 27), with figures and breaks worked out by
hand: header cells broken between words, a paragraph's last two characters kept together,
numbered sentences under a heading not taken for headings, 类/款 rows kept with their first
child. The PDFs themselves are checked in test_print.py."""
from __future__ import annotations

from decimal import Decimal

from generator.compute.tables import Column, Head, Heading, Paragraph, Row, Table
from generator.render.html import (balanced_lines, char_width, environment, glued_last_line,
                                   section_items, table_view, word_lines)


def test_header_breaks_between_words():
    # 财政专户收入 is six characters: a column of 4½ takes 财政专户 / 收入, never 财政专/户收入
    assert word_lines("财政专户收入", 4.5) == ["财政专户", "收入"]
    assert word_lines("财政拨款收入", 4.2) == ["财政拨款", "收入"]
    # 12.2 em needs three lines of 6; of those, the longest line is shortest (5 em) so:
    assert word_lines("2023年预留中小微企业份额", 6.0) == ["2023年", "预留中小微", "企业份额"]
    assert word_lines("上级补助收入", 2.2) == ["上级", "补助", "收入"]
    assert word_lines("合计", 2.0) == ["合计"]  # fits: nothing to break


def test_a_word_wider_than_its_cell_still_breaks():
    assert all(len(line) <= 2 for line in word_lines("财政专户", 2.0))


def test_paragraph_end_glued():
    assert str(glued_last_line("主要用于保障单位正常运转使用。")) == \
        '主要用于保障单位正常运转<span class="ph">使用。</span>'
    # a number counts as one character, and is a span of its own (not letter-spaced)
    assert str(glued_last_line("上年结转结余合计共计2256.69万元")) == \
        '上年结转结余合计共计<span class="n">2256.69</span><span class="ph">万元</span>'
    assert str(glued_last_line("较上年增加8.00")).endswith(
        '<span class="ph">加<span class="n">8.00</span></span>')
    assert str(glued_last_line("短句。")) == "短句。"  # nothing to keep together
    assert "&lt;b&gt;" in str(glued_last_line("名称<b>含尖括号的文字内容。"))  # still escaped


def test_numbered_sentences_under_a_heading_are_not_headings():
    blocks = (Heading("（三）工作保障措施", 2),
              Paragraph("一、加强预算绩效管理，按季度开展绩效运行监控。"),
              Paragraph("二、规范所属单位财务管理，内部上缴和补助按规定列收列支。"),
              Heading("（四）其他", 2), Paragraph("1、短标题"), Paragraph("正文。"))
    items = [i for i in section_items(blocks) if i["kind"] == "paragraph"]
    assert [i["lead"] for i in items] == ["", "", "3", ""]


def test_level_one_numbering_inside_a_section_is_not_a_heading():
    items = section_items((Paragraph("一、强化基层党组织建设"), Paragraph("正文一。"),
                           Paragraph("二、聚焦民生福祉"), Paragraph("正文二。")))
    assert [i["lead"] for i in items] == ["", "", "", ""]
    items = section_items((Paragraph("（一）机构设置"), Paragraph("正文。"),
                           Paragraph("（二）人员情况"), Paragraph("正文。")))
    assert [i["lead"] for i in items] == ["2", "", "2", ""]


def test_lei_and_kuan_rows_are_kept_with_their_first_child():
    money = Column("money", 8)
    table = Table("s", "表", (), ((Head("编码"), Head("名称"), Head("金额")),),
                  (Column("code", 6), Column("text", 12), money), (
                      Row(("", "合计", Decimal("3"))), Row(("201", "一般公共服务支出", Decimal("3"))),
                      Row(("20101", "人大事务", Decimal("1"))), Row(("2010101", "行政运行", Decimal("1"))),
                      Row(("20103", "政府办公厅", Decimal("2"))), Row(("2010301", "行政运行", Decimal("2")))))
    keep = ["keep" in r["cls"].split() for r in table_view(table)["rows"]]
    assert keep == [False, True, True, False, True, False]


def _form_table(goals: str) -> Table:
    return Table("g", "部门整体支出绩效目标表", (), (
        (Head("部门（单位）名称"), Head("某某街道办事处", colspan=3, value=True)),
        (Head("年度总体目标"), Head(goals, colspan=3, value=True)),
        (Head("一级指标"), Head("二级指标"), Head("三级指标"), Head("指标值"))),
        (Column("text", 8), Column("text", 8), Column("text", 12), Column("text", 8)),
        (Row(("", "", "", "")),))


def test_a_form_header_is_printed_once_as_rows_of_the_body():
    # A thead is repeated on every page and cannot break across one (WeasyPrint leaves out a
    # thead taller than the page whole): a header holding filled-in values is the table's
    # first body rows, its labels the TH of their row, its values TD (data, not header words)
    goals = "\n".join("第一项职责目标：修订完善街道工委工作制度，明确责任领导。" for _ in range(80))
    html = str(environment().get_template("_table.html.j2").module.data_table(
        table_view(_form_table(goals))))
    assert "<thead>" not in html and '<tbody class="form">' in html
    assert '<th scope="row">部门（单位）名称</th>' in html
    assert '<td class="l v" colspan="3">某某街道办事处</td>' in html
    # its row of column labels stays with the first row under it (printed once, not repeated)
    assert '<tr class="keep">\n        <th scope="col">一级指标</th>' in html
    assert html.count("<th ") == 6 and html.count("<td ") == 6  # 2 labels + 4; 2 values + 4 blank
    # a table without values keeps its thead, no scope
    plain = table_view(Table("s", "表", (), ((Head("编码"), Head("名称")),),
                             (Column("code", 6), Column("text", 12)), (Row(("1", "甲")),)))
    assert not plain["form"]


def test_cjk_punctuation_of_ambiguous_width_counts_one_em():
    # the CJK body font sets “ ” … × ≥ 1 em wide (as 、 and ；), · ° narrow; a line measured
    # with them ½ em wide comes out too long and the cell wraps it again
    assert [char_width(c) for c in "“”…×≥、"] == [1.0] * 6
    assert [char_width(c) for c in "·°8a"] == [0.55] * 4
    # 开展“八个一”亲 is 8 em: 情 (9 em) does not fit in 8½, though with ½-em quotes it would
    assert balanced_lines("开展“八个一”亲情关爱活动", 8.5) == ["开展“八个一”亲", "情关爱活动"]
