"""Warnings (never errors) about text a clerk most likely forgot to edit.

A department file is usually last year's file or a template, edited. What slips through is
text nobody re-read: a placeholder ("目标内容1", "XXX"), a paragraph pasted into two
sections, a 成本指标 written as a floor (≥) instead of a ceiling, a sentence that mixes
half-width and full-width punctuation (or a Japanese ー for 一), an institution without its
性质/规格. (A section the layout prints left empty is unfinished work: unfinished.py.) Each warning points at the text.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from ..problems import Problem
from .context import Context

_PLACEHOLDERS = re.compile(
    r"目标内容\s*[0-9０-９]*|指标内容\s*[0-9０-９]*|[XＸ×x]{3,}|[XＸ×]{2,}|某某|待复核|待填写|请填写|此处填写|（填写[^）]*）"
    r"|TODO|待补充|……")
_SENTENCE_END = re.compile(r"[。！？；\n]")
_CJK = r"[\u4e00-\u9fff]"
# half-width punctuation used as Chinese punctuation: next to a Chinese character
_HALF = re.compile(rf"(?<={_CJK})[,;:?!()]|[,;:?!()](?={_CJK})")
_FULL = re.compile(r"[，；：？！（）]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_FLOOR = re.compile(r"≥|>=|＞＝|不低于|不少于|大于")
MIN_REPEAT = 20  # characters: shorter paragraphs ("1、社区管理") repeat legitimately


def _strings(node: object, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Every text value of the raw tree with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, path + (i,))
    elif isinstance(node, str):
        yield path, node


def _label(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def placeholders(ctx: Context) -> list[Problem]:
    out = []
    for path, text in _strings(ctx.doc.data):
        if path[:1] == ("review",):  # roll's open items: the 未完成 rules report them
            continue
        m = _PLACEHOLDERS.search(text)
        if m:
            out.append(ctx.warning("文字-占位符", f"“{m.group(0)}”像是模板里未改写的占位文字：{text[:40]}",
                                   path, "实际内容", m.group(0)))
    return out


# Sections of prose the clerk types (paragraph lists): where a pasted paragraph shows up twice.
_PROSE = (("duties",), ("performance", "overall"), ("performance", "items"),
          ("performance", "measures"), ("special_funds",), ("glossary",), ("other_notes",))


def _paragraphs(data: object, section: tuple) -> Iterator[tuple[tuple, str]]:
    node = data
    for part in section:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, str):
        yield section, node.strip()
    elif isinstance(node, list):
        for i, x in enumerate(node):
            if isinstance(x, str):
                yield section + (i,), x.strip()


def repeated_paragraphs(ctx: Context) -> list[Problem]:
    """A paragraph repeated verbatim in another section: one warning per pair of sections,
    at the first repeated paragraph, saying how many repeat."""
    first: dict[str, tuple] = {}
    pairs: dict[tuple[tuple, tuple], list[tuple]] = {}
    for section in _PROSE:
        for path, text in _paragraphs(ctx.doc.data, section):
            if len(text) < MIN_REPEAT:
                continue
            if text in first and first[text][:len(section)] != section:
                other = first[text]
                pairs.setdefault((other[:-1] if isinstance(other[-1], int) else other, section),
                                 []).append((path, other))
            first.setdefault(text, path)
    out = []
    for (earlier, section), hits in pairs.items():
        path, other = hits[0]
        more = f"，共{len(hits)}段" if len(hits) > 1 else ""
        out.append(ctx.warning(
            "文字-重复", f"{_label(section)}中的段落与{_label(earlier)}（第{ctx.at(*other).line}行）"
            f"逐字相同{more}：是否忘了改写？", path))
    return out


def cost_floors(ctx: Context) -> list[Problem]:
    """A 成本指标 is a ceiling (≤ the budget); written with ≥ it is most likely a slip."""
    out = []
    for j, p in enumerate(ctx.budget.projects):
        for k, row in enumerate(p.indicators):
            if row[1].strip() == "成本指标" and _FLOOR.search(row[4]):
                out.append(ctx.warning("文字-成本指标", f"项目“{p.name}”成本指标“{row[4]}”写成了下限；"
                                       "成本指标应为上限（≤）", ("projects", j, "indicators", k, 4),
                                       "≤…", row[4]))
    return out


def punctuation(ctx: Context) -> list[Problem]:
    """A sentence mixing half-width and full-width punctuation, or with Japanese kana (ー for
    一). Paragraphs of one list with the same slip give one warning, at the first, with the
    count (a list numbered "(二)…" in every line is one slip, not ten)."""
    out = []
    mixed: dict[tuple, list[tuple[tuple, str, str]]] = {}
    for path, text in _strings(ctx.doc.data):
        kana = _KANA.search(text)
        if kana:
            out.append(ctx.warning("文字-标点", f"文字中有日文字符“{kana.group(0)}”（可能应为“一”等汉字）："
                                   f"{text[:40]}", path))
        for sentence in _SENTENCE_END.split(text):
            half = _HALF.search(sentence)
            if half and _FULL.search(sentence):
                group = (path[:-1] if path and isinstance(path[-1], int) else path, half.group(0))
                mixed.setdefault(group, []).append((path, half.group(0), sentence.strip()))
                break
    for hits in mixed.values():
        path, char, sentence = hits[0]
        more = f"（本列表共{len(hits)}段，第{ctx.at(*path).line}–{ctx.at(*hits[-1][0]).line}行）" \
            if len(hits) > 1 else ""
        out.append(ctx.warning("文字-标点", f"同一句中混用半角“{char}”与全角标点{more}：{sentence[:40]}",
                               path, "全角标点", char))
    return out


def _printed_blocks(ctx: Context) -> set[str] | None:
    """The content blocks (duties, performance …) the file's layout prints, or None when the
    layout is not known (then every section is checked)."""
    if ctx.layout is None or not hasattr(ctx.layout, "model_dump"):
        return None
    found: set[str] = set()

    def walk(node: object, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in ("content", "block"):
            found.add(node)

    walk(ctx.layout.model_dump(warnings=False))
    return found


def institutions(ctx: Context) -> list[Problem]:
    out = []
    for i, inst in enumerate(ctx.budget.institutions):
        missing = [label for label, value in (("单位性质", inst.nature), ("单位规格", inst.rank))
                   if not value.strip()]
        if missing:
            out.append(ctx.warning("文字-机构", f"机构“{inst.name}”未填{'、'.join(missing)}",
                                   ("institutions", i), "、".join(missing), "空"))
    return out


RULES = (placeholders, repeated_paragraphs, cost_floors, punctuation, institutions)
