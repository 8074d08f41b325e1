"""Disclosure → HTML, laid out by the Jinja2 templates in templates/ (printed by pdf.py).

Every string the clerk typed reaches the templates as data, never as template source, and the
environment autoescapes, so text such as `<img src=…>` or `{{ 7*7 }}` prints literally.
Cells are formatted here by their column's kind (`format_cell`); the templates only lay out.
"""
from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from ..compute.tables import Disclosure, Heading, Paragraph, ProjectTable, Table
from ..catalog import cn_number
from ..money import price_places, shown
from ..resources import resource_dir

TEMPLATES = resource_dir("templates")
CENT = Decimal("0.01")
ALIGN = {"seq": "c", "code": "l", "text": "l", "money": "r", "qty": "r", "price": "r"}
_NUMBERED = re.compile(r"^\s*[0-9０-９]+[、.．]")


def format_cell(value, kind: str, places: int = 2) -> str:
    """A cell's printed text: money `places` decimals, qty integer-looking, price 2 decimals (4
    when it would round to 0.00), seq an integer; zero money, qty and price print blank.
    Rounding is money.py's 四舍五入 (a no-op for figures compute already rounded)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if kind in ("seq", "code", "text"):
        return str(int(value)) if isinstance(value, Decimal) and value == value.to_integral() \
            else str(value)
    value = Decimal(value)
    if value == 0:
        return ""
    if kind == "qty":
        if value == value.to_integral():
            return str(value.quantize(Decimal(1)))
        return format(value.normalize(), "f")
    if kind == "price":
        return f"{shown(value, 'price'):.{price_places(value)}f}"
    return f"{shown(value, 'money', places):.{places}f}"


# Page geometry (disclosure.css): text width of each page kind in mm, table font sizes in pt.
PAGE_MM = {"prose": 156.0, "table": 178.0, "wide": 265.0}
PT_PER_MM = 72 / 25.4
CELL_PAD_PT = 4.6  # 2pt padding each side and the 0.6pt rule
EMPTY_COLUMN = 0.7  # a money column with no figure gives up 30 % of its width


# ambiguous-width punctuation and symbols the CJK body font sets narrow (the rest of them,
# “”‘’…×≥‰ …, it sets 1 em wide, as the CJK fonts do)
_NARROW_AMBIGUOUS = frozenset("·°")


def char_width(ch: str) -> float:
    """Advance of a character in em: CJK and full-width 1, the CJK font's punctuation of
    ambiguous width (“八个一”) 1, others (digits, Latin) about ½."""
    width = unicodedata.east_asian_width(ch)
    if width in "WF" or (width == "A" and unicodedata.category(ch)[0] in "PS"
                         and ch not in _NARROW_AMBIGUOUS):
        return 1.0
    return 0.55


def _fractions(table: Table, cells: list[list[str]], width_mm: float,
               font_pt: float) -> list[float]:
    """Each column's share of the table width: the layout's relative widths, with money
    columns that print no figure at all narrowed, but never so far that their own header
    needs more than three lines, and every column at least two header characters wide."""
    from .xlsx_layout import place_header
    total = sum(c.width for c in table.columns) or 1
    base = [c.width / total for c in table.columns]
    own: dict[int, float] = {}
    heads: dict[int, str] = {}
    for p in place_header(table.header, table.width):
        if p.colspan == 1:
            own[p.col] = max(own.get(p.col, 0.0), sum(char_width(ch) for ch in p.text))
            heads[p.col] = heads.get(p.col, "") + p.text
    width_pt = width_mm * PT_PER_MM
    out = []
    for j, c in enumerate(table.columns):
        f = base[j]
        ems = float(math.ceil(own.get(j, 0.0) / 3))  # its header on three lines, between words
        while ems < own.get(j, 0.0) and len(word_lines(heads.get(j, ""), ems + 0.35)) > 3:
            ems += 0.5
        need = ((ems + 0.5) * font_pt + CELL_PAD_PT) / width_pt
        if c.kind in ("money", "qty", "price") and not any(row[j] for row in cells):
            f = max(f * EMPTY_COLUMN, min(f, need))
        # and every column holds two characters of its own header on a line (序号, 栏次), its
        # header's longest word (财政专户: widened rather than broken inside a word) and, up to
        # 4½ characters wide, its header on three lines
        word = max((sum(char_width(ch) for ch in u) for u in header_units(heads.get(j, ""))),
                   default=0.0)
        two = ((max(min(own.get(j, 0.0), 2.0), min(word, 4.0)) + 0.3) * font_pt + CELL_PAD_PT) \
            / width_pt
        three = min(need, (4.5 * font_pt + CELL_PAD_PT) / width_pt)
        out.append(max(f, two, three))
    scale = sum(out) or 1
    return [f / scale for f in out]


_NO_LINE_START = set("，。、；：）》」』”’！？%…·】〕］｝)],.;:")  # 避头
_NO_LINE_END = set("（《「『“‘【〔［｛([")  # 避尾


def balanced_lines(text: str, capacity: float) -> list[str]:
    """`text` broken into lines of at most `capacity` em, filled in order, except that the
    last line never holds a single character ("财政拨款收/入" becomes "财政拨款/收入",
    "对附属单位补助支/出" "对附属单位补助/支出"). Runs of digits and Latin letters are not
    split. Explicit newlines are kept."""
    out: list[str] = []
    for part in text.split("\n"):
        units = re.findall(r"[0-9A-Za-z.]+[年月日号]?|.", part)
        total = sum(char_width(ch) for ch in part)
        if total <= capacity or len(units) < 2:
            out.append(part)
            continue
        lines: list[list[str]] = [[]]
        width = 0.0
        for u in units:
            w = sum(char_width(ch) for ch in u)
            if lines[-1] and width + w > capacity:
                carry = []
                if u in _NO_LINE_START and len(lines[-1]) > 1:  # "，" may not begin a line
                    carry = [lines[-1].pop()]
                while len(lines[-1]) > 1 and lines[-1][-1] in _NO_LINE_END:  # nor "【" end one
                    carry.insert(0, lines[-1].pop())
                lines.append(carry)
                width = sum(char_width(ch) for x in carry for ch in x)
            lines[-1].append(u)
            width += w
        if len(lines) > 1 and len("".join(lines[-1])) == 1 and len(lines[-2]) >= 3 \
                and lines[-1][0] not in _NO_LINE_START:
            lines[-1].insert(0, lines[-2].pop())
        out += ["".join(line) for line in lines]
    return out


# Words of the schedules' header cells, so a header breaks between words ("财政专户/收入",
# not "财政专/户收入"): matched longest first; a character in no word stands alone.
HEADER_WORDS = frozenset("""
一般 公共 预算 财政 拨款 收入 支出 财政专户 专户 管理 资金 核拨 上年 结转 结余 事业 经营 上级 下级 补助
附属 单位 上缴 其他 政府性 基金 国有 资本 政府 采购 目录 序号 计量 中小微 企业 份额 预留 非财政
功能 分类 科目 编码 因公 出国 （境） 公务 用车 购置 运行 维护费 维护 其中： 接待费 接待 合计 小计
基本 项目 名称 金额 数量 单价 类型 类别 规模 性质 人员 经费 保障 形式 部门 本级 对个人 家庭 商品
服务 工资 福利 机关 资产 总额 原值 净值 车辆 房屋 土地 面积 用途 指标 绩效 目标 内容 说明 备注
""".split())
_WORD_MAX = max(len(w) for w in HEADER_WORDS)


def header_units(text: str) -> list[str]:
    """`text` cut into words (HEADER_WORDS, a number with its 年), other characters single."""
    units: list[str] = []
    i = 0
    while i < len(text):
        number = re.match(r"[0-9A-Za-z.]+[年月日号]?", text[i:])
        if number:
            units.append(number.group())
            i += number.end()
            continue
        for size in range(min(_WORD_MAX, len(text) - i), 1, -1):
            if text[i:i + size] in HEADER_WORDS:
                units.append(text[i:i + size])
                i += size
                break
        else:
            units.append(text[i])
            i += 1
    return units


def word_lines(text: str, capacity: float) -> list[str]:
    """A header cell's text broken between words into the fewest lines of at most `capacity`
    em, the longest line as short as it can be; a single word wider than the cell is broken
    as balanced_lines breaks it. Explicit newlines are kept."""
    out: list[str] = []
    for part in text.split("\n"):
        units = header_units(part)
        widths = [sum(char_width(ch) for ch in u) for u in units]
        if sum(widths) <= capacity:
            out.append(part)
            continue
        if max(widths) > capacity:  # a word wider than the cell: break inside words
            out += balanced_lines(part, capacity)
            continue
        n = len(units)
        # best[i] = (lines, longest line) for units[i:]; cut[i] = where its first line ends
        # (ties: the longer first line, "财政拨款/收入" rather than "财政/拨款收入")
        best: list[tuple[int, float, float]] = [(0, 0.0, 0.0)] * (n + 1)
        cut = [n] * (n + 1)
        for i in range(n - 1, -1, -1):
            best[i], width = (n + 1, float("inf"), 0.0), 0.0
            for j in range(i + 1, n + 1):
                width += widths[j - 1]
                if width > capacity:
                    break
                if units[j - 1] in _NO_LINE_END or (j < n and units[j] in _NO_LINE_START):
                    continue  # 避头尾
                lines, longest, _ = best[j]
                option = (lines + 1, max(longest, width), -width)
                if option < best[i]:
                    best[i], cut[i] = option, j
        if best[0][0] > n:
            out += balanced_lines(part, capacity)
            continue
        i = 0
        while i < n:
            out.append("".join(units[i:cut[i]]))
            i = cut[i]
    return out


def _header_view(table: Table, fractions: list[float], width_mm: float,
                 font_pt: float) -> list[list[dict]]:
    """Header cells with their text broken into lines for the column width: a label between
    words (word_lines), a form's filled-in value (Head.value: data, not a header word) as a
    text cell's balanced lines. A label in a row holding a value is that row's header
    (scope "row"), any other label a column's."""
    from .xlsx_layout import place_header
    placed = place_header(table.header, table.width)
    rows: list[list[dict]] = [[] for _ in table.header]
    form_rows = {p.row for p in placed if p.value}
    for p in placed:
        span_pt = sum(fractions[p.col:p.last_col + 1]) * width_mm * PT_PER_MM
        capacity = (span_pt - CELL_PAD_PT) / font_pt - 0.15  # a little slack for rounding
        lines = balanced_lines(p.text, capacity - 0.15) if p.value else word_lines(p.text, capacity)
        rows[p.row].append({"text": p.text, "colspan": p.colspan, "rowspan": p.rowspan,
                            "value": p.value, "lines": lines,
                            "scope": "row" if p.row in form_rows else "col"})
    return rows


def table_view(table: Table, page: str = "table") -> dict:
    """A Table as the template wants it: column widths in %, cells as (text, align class),
    header cells as balanced lines for the page kind it is printed on (PAGE_MM)."""
    kinds = [c.kind for c in table.columns]
    texts = [[format_cell(v, c.kind, c.places) for v, c in zip(row.cells, table.columns)]
             for row in table.rows]
    compact = len(table.columns) >= 8
    page = "wide" if table.landscape else page
    font_pt = 9.0 if compact or page == "wide" else (10.0 if page == "table" else 10.5)
    fractions = _fractions(table, texts, PAGE_MM[page], font_pt)
    width_pt = PAGE_MM[page] * PT_PER_MM
    capacity = [(f * width_pt - CELL_PAD_PT) / font_pt - 0.3 for f in fractions]
    rows = []
    spans = table.group_spans() if table.merge else {}
    keys = [_code_key(cells, kinds) for cells in texts]
    for i, (row, cells_text) in enumerate(zip(table.rows, texts)):
        # text cells as lines: a wrapped name never leaves one character on its last line
        cells = [(balanced_lines(t, capacity[j]) if kinds[j] == "text" else [t],
                  ALIGN.get(kinds[j], "l"), 1) for j, t in enumerate(cells_text)]
        proj = None
        if table.merge and row.group is not None:
            # a form: the group's first row carries its merged cells; the others leave them
            # out and name the group for the top of a page they begin (string "proj")
            if i in spans:
                cells[:table.merge] = [(lines, align, spans[i]) for lines, align, _ in cells[:table.merge]]
                proj = ""
            else:
                cells = cells[table.merge:]
                proj = f"\u3000项目：{table.groups[row.group]}" if row.group < len(table.groups) else ""
        empty = all(not t for t in cells_text)
        # a 类 or 款 row (its code begins the next row's) stays on the page of its first child
        keep = i + 1 < len(keys) and bool(keys[i]) and keys[i + 1].startswith(keys[i]) \
            and keys[i + 1] != keys[i]
        cls = " ".join(c for c, on in (("em", row.emphasis), ("blank", empty and not row.emphasis),
                                       ("keep", keep)) if on)
        rows.append({"emphasis": row.emphasis, "cells": cells, "empty": empty, "cls": cls, "proj": proj,
                     "group_start": i in spans and i > 0})
    meta = list(table.meta)
    unit = next((m for m in reversed(meta) if m.startswith("单位")), "")
    header = _header_view(table, fractions, PAGE_MM[page], font_pt)
    return {"key": table.key, "title": table.title, "meta": meta, "header": header,
            # a form-like header (filled-in values) is printed once as the table's first rows,
            # not as a thead: a thead is repeated on every page and cannot break across one, and
            # WeasyPrint leaves out a thead taller than the page (the 年度总体目标 text) whole
            "form": any(h["value"] for hrow in header for h in hrow),
            "widths": [f"{f * 100:.3f}%" for f in fractions], "rows": rows, "note": table.note,
            "notes_after": table.notes_after, "landscape": table.landscape,
            "compact": compact, "cont": f"{table.title}（续表）", "unit": unit,
            "grouped": bool(spans)}


def _code_key(cells: list[str], kinds: list[str]) -> str:
    """A row's classification code: its code cells joined ('201', '20103', '2010301')."""
    return "".join(t.strip() for t, k in zip(cells, kinds) if k == "code")


_GLUE_UNIT = re.compile(r"[0-9A-Za-z.%]+|.")
_PUNCT = set("，。、；：？！）》」』”’…·,.;:?!)%")


def glued_last_line(line: str) -> Markup:
    """A prose line (a paragraph, or its part after a forced break) as HTML whose last two
    characters (a number counts as one) and the punctuation after them cannot be parted, so
    the paragraph never ends on a line of one character ("用。", GB/T 9704 habit)."""
    units = _GLUE_UNIT.findall(line)
    k, solid = len(units), 0
    while k > 0 and solid < 2:
        k -= 1
        if units[k] not in _PUNCT:
            solid += 1
    if k <= 0 or len(line) < 8:
        return _numbers(line)
    head, tail = "".join(units[:k]), "".join(units[k:])
    return Markup(f'{_numbers(head)}<span class="ph">{_numbers(tail)}</span>')


_NUMBER_RUN = re.compile(r"[0-9A-Za-z][0-9A-Za-z.%]+")


def _numbers(text: str) -> Markup:
    """`text` escaped, each run of digits or Latin letters in a <span class="n">: a text box of
    its own, which the justification of CJK lines (compat.py) does not letter-space — only
    the gaps between Chinese characters widen, never “1 8 2 2 . 6 9”."""
    out, last = [], 0
    for m in _NUMBER_RUN.finditer(text):
        out += [str(escape(text[last:m.start()])), f'<span class="n">{escape(m.group())}</span>']
        last = m.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


# Where a title may break: after an administrative unit in a name, before a year, after a
# list number or a part label. Each phrase between two such points is kept on one line.
_NAME_BREAK = re.compile(r"(?<=[省市区县旗州盟镇乡])(?=.{3,})|(?<=人民政府)|(?<=委员会)")
_TITLE_BREAK = re.compile(r"(?=(?:19|20)\d\d年)|(?<=、)|(?<=部分)\s*|(?=绩效目标表$)")
MAX_PHRASE = 18  # a longer phrase may break inside (it would not fit a line otherwise)


def title_phrases(text: str, names: tuple[str, ...] = ()) -> list[str]:
    """A title cut into phrases a line may not break inside: the given names (cut after their
    市/区/人民政府 …), a year with what follows it, a number with its 、, 第X部分."""
    pieces = [text]
    for name in (n for n in names if n):
        nxt: list[str] = []
        for piece in pieces:
            before, found, after = piece.partition(name)
            if not found:
                nxt.append(piece)
                continue
            nxt += [before] + [x for x in _NAME_BREAK.split(name) if x] + [after]
        pieces = [p for p in nxt if p]
    out: list[str] = []
    for piece in pieces:
        out += [x.strip() for x in _TITLE_BREAK.split(piece) if x and x.strip()] \
            if piece not in names else [piece]
    return out


def phrase_markup(text: str, names: tuple[str, ...] = ()) -> Markup:
    """A title as HTML: each short phrase in a no-break span, a space kept where the text
    had one (e.g. after 第二部分)."""
    parts: list[str] = []
    rest = text
    for phrase in title_phrases(text, names):
        idx = rest.find(phrase)
        gap = rest[:idx] if idx > 0 else ""
        rest = rest[idx + len(phrase):] if idx >= 0 else rest
        body = escape(phrase)
        # spaces as character references: the PDF renderer drops whitespace between tags
        space = "".join("&#32;" if ch == " " else str(escape(ch)) for ch in gap)
        parts.append(space + (f'<span class="ph">{body}</span>' if len(phrase) <= MAX_PHRASE
                              else str(body)))
    return Markup("".join(parts))


def indicator_rows(project: ProjectTable) -> list[list[tuple[str, int]]]:
    """Indicator rows with the 一级指标 cell merged (rowspan) over its group: each row is a list
    of (text, rowspan); a row inside a group has no first cell."""
    rows: list[list[list]] = []
    lead: list | None = None
    for indicator in project.indicators:
        cells = [c or "" for c in indicator]
        if cells[0] or lead is None:
            lead = [cells[0], 1]
            rows.append([lead] + [[c, 1] for c in cells[1:]])
        else:
            lead[1] += 1
            rows.append([[c, 1] for c in cells[1:]])
    return [[(str(c[0]), int(c[1])) for c in row] for row in rows]


# the indicator table's columns (% of the table page's width), as _project.html.j2 lays them
INDICATOR_WIDTHS = (13, 15, 20, 23, 13, 16)
PROJECT_FONT_PT = 9.0


def _cell_lines(text: str, percent: float, font_pt: float = PROJECT_FONT_PT) -> list[str]:
    capacity = (percent / 100 * PAGE_MM["table"] * PT_PER_MM - CELL_PAD_PT) / font_pt - 0.3
    return balanced_lines(text, capacity)


def _indicator_cells(rows: list[list[tuple[str, int]]]) -> list[list[tuple[list[str], int]]]:
    """Indicator cells as (lines, rowspan): text broken so no line is a lone character."""
    out = []
    for row in rows:
        first = 6 - len(row)  # a row inside a 一级指标 group has no first cell
        out.append([(_cell_lines(text, INDICATOR_WIDTHS[first + k]), span)
                    for k, (text, span) in enumerate(row)])
    return out


def project_view(project: ProjectTable) -> dict:
    return {"widths": INDICATOR_WIDTHS,"number": project.number, "title": project.title, "format": project.format,
            "code": project.code, "name": project.name,
            "name_lines": _cell_lines(project.name, 32, 9.0),
            "amount": format_cell(project.amount, "money", project.places) or f"{0:.{project.places}f}",
            "fiscal": format_cell(project.fiscal, "money", project.places),
            "other": format_cell(project.other, "money", project.places),
            "purpose": project.purpose,
            "plan": [format_cell(v, "money", project.places) for v in project.plan],
            "goals": list(project.goals),
            "indicators": _indicator_cells(indicator_rows(project)),
            "unit": project.unit}


_LEAD = (("1", re.compile(r"^[一二三四五六七八九十]+、")), ("2", re.compile(r"^[（(][一二三四五六七八九十]+[）)]")),
         ("3", re.compile(r"^[0-9０-９]+[、.．](?![0-9])")))
MAX_LEAD = 36  # characters: a longer numbered line is a paragraph, not a heading


def numbering(text: str) -> str:
    """'1', '2' or '3' for a paragraph numbered 一、 / （一） / 1、, else ''."""
    return next((level for level, rx in _LEAD if rx.match(text.strip())), "")


_SENTENCE_END = re.compile(r"[。！？；!?;]$")


def lead_level(text: str) -> str:
    """The numbering level of a paragraph that could act as a heading (numbered, one short
    line without a colon, not a sentence ending in 。/；/！/？), else ''."""
    text = text.strip()
    if len(text) > MAX_LEAD or "\n" in text or re.search(r"[：:]", text) \
            or _SENTENCE_END.search(text):
        return ""
    return numbering(text)


def _mark_leads(items: list[dict]) -> None:
    """Numbered paragraphs that act as headings, decided per run between two headings: a
    numbering level is a heading level there only when every paragraph numbered so is one
    short line (a list of long numbered items stays a list, even if one item is short).
    The template styles them as GB/T 9704's levels (黑体, 楷体, 仿宋 bold) and keeps each
    with the paragraph after it. A level is a heading level only below the heading in force
    (the section title is 一、, so 一、 inside a section, or 一、 under a （三） heading, is a
    list item: issue 27, the 730 example's sentences set as 黑体 headings under （三）); a 1.
    lead is set as body text, only kept with what follows, so it may follow a 1. heading."""
    run: list[dict] = []
    floor = 1  # the numbering level of the heading in force: the section title's
    for item in items + [{"kind": "end"}]:
        if item["kind"] == "paragraph":
            run.append(item)
            continue
        levels: dict[str, bool] = {}
        for p in run:
            text = "\n".join(p["lines"])
            level = numbering(text)
            if level:
                # 1. leads look like body text (only kept with what follows): any floor
                levels[level] = levels.get(level, True) and lead_level(text) == level \
                    and (int(level) > floor or level == "3")
        for p in run:
            level = numbering("\n".join(p["lines"]))
            p["lead"] = level if level and levels.get(level) else ""
        run = []
        if item["kind"] == "heading":
            floor = int(numbering(item["text"]) or item["level"])


def _heading_class(block: Heading) -> str:
    if block.level == 2:
        return "h-kai"
    return "h-item" if _NUMBERED.match(block.text) else "h-caption"


def section_items(blocks, page: str = "prose") -> list[dict]:
    """A section's blocks as template items. A caption heading naming the next table becomes
    that table's caption; a run of project tables (with a 楷体 heading just before it) becomes
    one "projects" item, laid out on table pages; so no heading is parted from its table."""
    items: list[dict] = []
    blocks = list(blocks)
    i = 0
    while i < len(blocks):
        b = blocks[i]
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if isinstance(b, Heading) and b.level == 3 and isinstance(nxt, Table) and nxt.title == b.text:
            items.append({"kind": "table", "caption": b.text,
                          "table": table_view(nxt, _PAGE_OF[page])})
            i += 2
            continue
        if isinstance(b, Heading):
            items.append({"kind": "heading", "text": b.text, "level": b.level,
                          "cls": _heading_class(b)})
        elif isinstance(b, Paragraph):
            items.append({"kind": "paragraph", "lines": b.text.split("\n"), "indent": b.indent,
                          "lead": ""})
            items[-1]["glued"] = [glued_last_line(line) for line in items[-1]["lines"]]
        elif isinstance(b, Table):
            items.append({"kind": "table", "caption": None, "table": table_view(b, _PAGE_OF[page])})
        elif isinstance(b, ProjectTable):
            if not items or items[-1]["kind"] != "projects":
                heading = items.pop() if items and items[-1]["kind"] == "heading" \
                    and items[-1]["level"] == 2 else None
                items.append({"kind": "projects", "heading": heading, "projects": []})
            # tables flow: two short ones share a page, each is kept whole where it fits
            items[-1]["projects"].append({"project": project_view(b)})
        i += 1
    _mark_leads(items)
    return items


_PAGE_OF = {"prose": "prose", "tables": "table", "wide": "wide"}  # section class → PAGE_MM


def _page_class(blocks) -> str:
    """'wide' for a section holding a landscape table, 'tables' for one of project tables only."""
    if any(isinstance(b, Table) and b.landscape for b in blocks):
        return "wide"
    if blocks and all(isinstance(b, ProjectTable) for b in blocks):
        return "tables"
    return ""


def context(d: Disclosure) -> dict:
    titles = dict(d.parts)
    labels = d.schedule_labels or tuple(f"{cn_number(i)}、" for i in range(1, len(d.schedules) + 1))
    return {
        "d": d,
        "lang": "zh-CN",
        "date": d.published,  # the document's date only when the input gives one
        "part1": titles.get("tables", ""),
        "part2": titles.get("text", ""),
        "order": [kind for kind, _ in d.parts] or ["tables", "text"],
        "intro": glued_last_line(d.intro) if d.intro and "\n" not in d.intro else d.intro,
        "schedules": [dict(table_view(t), number=label)
                      for label, t in zip(labels, d.schedules)],
        "sections": [{"key": s.key, "heading": s.heading,
                      "items": section_items(s.blocks, _page_class(s.blocks) or "prose"),
                      "page": _page_class(s.blocks)} for s in d.sections],
        "names": (d.department_name,),
    }


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Templates from templates/ only; autoescape on; undefined names fail loudly."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["phrases"] = phrase_markup
    return env


def render_html(disclosure: Disclosure) -> str:
    """The whole disclosure as one self-contained HTML document (CSS inlined)."""
    html = environment().get_template("disclosure.html.j2").render(context(disclosure))
    from .glyphs import with_missing_glyph_font  # characters no font draws keep their code points
    return with_missing_glyph_font(html)
