"""`budgetgen roll`: this year's department file → next year's draft.

The draft keeps the clerk's file as it is — every comment, blank line, key order, quoting and
amount text — and changes only what a new year changes:

* department.year → the new year;
* prior_year → this year's computed 基本支出 / 项目支出 / “三公” totals, reasons left empty,
  marked 待复核 (the old prior_year block is replaced);
* assets.as_of → the end of the year before the new one, marked 待复核 (the figures are last
  year's until the clerk updates them);
* “{year}年” → “{to_year}年” inside project indicator cells (资金支付时间 2025年12月底 …);
* control_totals (last year's 批复) is commented out, line by line, with a note;
* expenditure lines whose source is a 上年结转 kind are last year's carryover, not next year's:
  they are commented out with a 待复核 note (or, when the draft without them would not pass
  `check` — a project or declared income still counts on them — kept and marked 待复核);
* codes used by the file that the new year's catalog renamed or removed are reported as warnings;
* a 待复核 comment line above the sections whose text or amounts are last year's, and the same
  items as data: a `review:` list (at, note) the checker reads — `check` warns and `render`
  refuses to publish (without --draft) until the clerk has deleted every item;
* a year two or more ahead is reached one year at a time (each step checked as below); the
  notes of an earlier roll are replaced, not piled up.

How: the edits are made on the original text at the exact character spans PyYAML reports for
each node, so nothing else in the file is touched (a ruamel.yaml round trip was tried first:
it loses the comments that precede a removed or replaced block, and re-indents). Amounts are
never parsed and re-printed; the new prior_year figures are the pipeline's Decimal totals,
written with two decimals. The draft is then run through the whole pipeline and its leaf
facts are compared with the original's: if anything but the intended changes differs, or the
draft does not pass `check`, no draft is returned.
"""
from __future__ import annotations

import json
import re

import yaml

from ..loader import _decode
from ..money import UNITS, fmt_text
from ..pipeline import Checked, Result, run, run_text
from ..catalog import load_catalog
from ..problems import Location, Problem, error, warning

_Loader = yaml.SafeLoader  # pure Python: marks count characters of the decoded text


class _Refused(Exception):
    pass


# --------------------------------------------------------------------------- nodes and spans


def _pairs(node):
    return node.value if isinstance(node, yaml.MappingNode) else []


def _get(node, key: str):
    """(key node, value node) of `key` in a mapping node, or (None, None)."""
    for k, v in _pairs(node):
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    return None, None


def _content_end(node) -> int:
    """Character index just after the last character that belongs to the node's content
    (block collections end where the next token starts, after comments: not wanted here)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        return node.end_mark.index
    ends = [node.start_mark.index]
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            ends += [_content_end(k), _content_end(v)]
    else:
        ends += [_content_end(v) for v in node.value]
    return max(ends)


def _line_start(text: str, i: int) -> int:
    return text.rfind("\n", 0, i) + 1


def _line_end(text: str, i: int) -> int:
    """Index just after the newline ending the line that contains index i-1 (or len)."""
    j = text.find("\n", max(i - 1, 0))
    return len(text) if j < 0 else j + 1


def _block(text: str, key_node, value_node) -> tuple[int, int]:
    """The whole lines of a top-level `key: value` entry, eol comment of its last line included;
    comments and blank lines after it (which belong to what follows) excluded."""
    end = max(key_node.end_mark.index, _content_end(value_node))
    return _line_start(text, key_node.start_mark.index), _line_end(text, end)


def _indent_unit(root) -> int:
    """Indentation of the clerk's nested keys (2 in the examples)."""
    for _, v in _pairs(root):
        if isinstance(v, yaml.MappingNode) and not v.flow_style and v.value:
            col = v.value[0][0].start_mark.column
            if col > 0:
                return col
    return 2


# --------------------------------------------------------------------------- the draft


def _prior_block(result: Checked, year: int, unit: int, nl: str) -> str:
    fig = result.figures
    pad = " " * unit
    factor = UNITS[result.budget.department.unit] if result.budget else UNITS["万元"]

    def typed(value):  # in the unit the file's amounts are typed in (department.unit)
        return fmt_text(value * factor)
    lines = [
        f"# 待复核：请填写增减原因。以下上年数是{year}年预算（由 budgetgen roll 按{year}年文件计算），"
        "增减额由程序计算",
        "prior_year:",
        f"{pad}year: {year}",
        f"{pad}basic: {typed(fig.basic)}",
        f"{pad}project: {typed(fig.project)}",
        f"{pad}three_public: {typed(fig.three_public_total)}",
        f"{pad}reasons:                    # 待复核：请填写增减原因",
        f"{pad}{pad}basic: \"\"",
        f"{pad}{pad}project: \"\"",
        f"{pad}{pad}three_public: \"\"",
    ]
    return nl.join(lines) + nl


def _scalar_text(text: str, node) -> str:
    return text[node.start_mark.index:node.end_mark.index]


def _replace_scalar(text: str, node, new_plain: str) -> str:
    """The replacement source text for a scalar, keeping its quoting style."""
    old = _scalar_text(text, node)
    if old[:1] in ("'", '"'):
        return old[0] + new_plain + old[0]
    return new_plain


CARRYOVER_SOURCES = ("carryover_general", "carryover_gov_fund", "carryover_soe", "carryover_other")


def _carryover_items(root, budget) -> list:
    """(index, node) of the expenditure entries whose source is a 上年结转 kind."""
    _, seq = _get(root, "expenditure")
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style:
        return []
    return [(i, node) for i, (node, line) in enumerate(zip(seq.value, budget.expenditure))
            if line.source.value in CARRYOVER_SOURCES]


# the one-line notes an earlier roll wrote (replaced by this roll's)
_OLD_NOTES = re.compile(r"^# (?:待复核：(?:请填写增减原因。以下上年数是|金额是\d{4}年预算数|以下是\d{4}年的内容|"
                        r"项目、金额与绩效目标是)|budgetgen roll：由\d{4}年文件生成).*(?:\r?\n|$)", re.M)
_OWN_AS_OF = re.compile(r"^\s*# 待复核：资产数是\d{4}年末数，请改为\d{4}年末数(?:；原注：(.*))?$")
REVIEW_HEAD = "# 待复核事项（budgetgen roll 写入，check 逐项提示）：核对、修改后删去相应的一项；全部删去前 render 不正式生成"


def draft_text(text: str, result: Checked, to_year: int, drop_carryover: bool = True,
               origin: int | None = None) -> str:
    """Next year's draft of `text` (the file `result` was computed from). Last year's 上年结转
    lines are commented out (drop_carryover) or kept and marked 待复核. `origin`: the year of
    the file the content comes from, when `text` is itself a roll's draft (several years on)."""
    budget = result.budget
    year = budget.department.year
    src = origin or year  # the year the amounts and texts were really approved for
    nl = "\r\n" if "\r\n" in text else "\n"
    text = _OLD_NOTES.sub("", text)
    review: list[tuple[str, str]] = []  # (at, note): the `review:` list the checker reads
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:  # pragma: no cover - the pipeline has read it already
        raise _Refused(f"无法按行列定位文件内容：{exc}") from exc
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise _Refused("文件顶层是流式映射（{…}）：请改为每个键一行的块格式后再生成草稿")
    unit = _indent_unit(root)
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) on the original text

    def note_above(key: str, message: str) -> None:
        k, _ = _get(root, key)
        if k is not None:
            at = _line_start(text, k.start_mark.index)
            edits.append((at, at, f"# 待复核：{message}{nl}"))
            review.append((key, message))

    # an earlier roll's review list is replaced by this one's
    k, v = _get(root, "review")
    if k is not None:
        start, end = _block(text, k, v)
        before = text.rfind(REVIEW_HEAD, 0, start)
        if before >= 0 and text[before:start].count("\n") <= 1:
            start = _line_start(text, before)
        edits.append((start, end, ""))

    # department.year
    _, dept = _get(root, "department")
    _, year_node = _get(dept, "year")
    edits.append((year_node.start_mark.index, year_node.end_mark.index,
                  _replace_scalar(text, year_node, str(to_year))))

    # prior_year: replaced by this year's computed figures
    new_prior = _prior_block(result, year, unit, nl)
    k, v = _get(root, "prior_year")
    if k is not None:
        start, end = _block(text, k, v)
        edits.append((start, end, new_prior))
    else:
        k, v = _get(root, "assets")
        if k is not None:  # right after the assets block, before the comments of what follows
            _, end = _block(text, k, v)
            edits.append((end, end, nl + new_prior))
        else:
            edits.append((len(text), len(text), ("" if text.endswith(("\n", "\r")) else nl) + nl + new_prior))
    review.append(("prior_year.reasons", f"上年数已改为{year}年预算数：本年数与上年数不同的，请填写增减原因"))

    # assets.as_of: the end of the year before the new one; the figures are still last year's
    _, assets = _get(root, "assets")
    _, as_of = _get(assets, "as_of") if assets is not None else (None, None)
    if as_of is not None and isinstance(as_of, yaml.ScalarNode):
        new_date = f"{to_year - 1}-12-31"
        edits.append((as_of.start_mark.index, as_of.end_mark.index, _replace_scalar(text, as_of, new_date)))
        line_end = _line_end(text, as_of.end_mark.index)
        body_end = line_end - (len(nl) if text[:line_end].endswith(nl) else 0)
        if not getattr(assets, "flow_style", False):
            rest = text[as_of.end_mark.index:body_end]
            message = (f"待复核：资产数是{year - 1}年末数，请改为{to_year - 1}年末数")
            own = _OWN_AS_OF.match(rest)
            if own:  # an earlier roll's note: the clerk's own comment, if any, is kept
                rest = f"  # {own.group(1)}" if own.group(1) else ""
            if rest.strip().startswith("#"):  # keep the clerk's comment after ours
                edits.append((as_of.end_mark.index, body_end, f"  # {message}；原注：{rest.strip()[1:].strip()}"))
            else:
                edits.append((as_of.end_mark.index, body_end, f"  # {message}"))
        review.append(("assets", f"资产数是{year - 1}年末数（截止时间已改为{new_date}），请改为{to_year - 1}年末数"))

    # “2025年” → “2026年” inside project indicator cells
    _, projects = _get(root, "projects")
    old, new = f"{year}年", f"{to_year}年"
    for project in (projects.value if isinstance(projects, yaml.SequenceNode) else []):
        _, indicators = _get(project, "indicators")
        for row in (indicators.value if isinstance(indicators, yaml.SequenceNode) else []):
            for cell in (row.value if isinstance(row, yaml.SequenceNode) else []):
                if isinstance(cell, yaml.ScalarNode) and old in cell.value:
                    source = _scalar_text(text, cell)
                    if old not in source:  # written with escapes ("\u5e74"): rewrite it quoted
                        source = json.dumps(cell.value, ensure_ascii=False)
                    edits.append((cell.start_mark.index, cell.end_mark.index, source.replace(old, new)))

    # control_totals: last year's 批复 — commented out, line by line, with a note
    k, v = _get(root, "control_totals")
    if k is not None:
        start, end = _block(text, k, v)
        body = text[start:end]
        lines = body.split(nl)
        if lines and lines[-1] == "":
            lines.pop()
        commented = [f"# 待复核：control_totals 是{year}年的批复控制数，已改为注释；收到{to_year}年批复后，"
                     f"可按下列格式重新填写（去掉行首的“# ”）："]
        commented += [f"# {line}" if line.strip() else "#" for line in lines]
        edits.append((start, end, nl.join(commented) + nl))
        review.append(("control_totals", f"{year}年的批复控制数已改为注释：收到{to_year}年批复后请重新填写"))

    # 上年结转 lines: last year's carryover is not next year's
    for i, node in _carryover_items(root, budget):
        review.append((f"expenditure[{i + 1}]", f"{year}年预算中的上年结转" + ("已改为注释：如" if drop_carryover else "：")
                       + f"{to_year}年仍有上年结转，请按{to_year}年的结转数填写"))
        start = _line_start(text, node.start_mark.index)
        end = _line_end(text, _content_end(node))
        body = text[start:end]
        lines = body.split(nl)
        if lines and lines[-1] == "":
            lines.pop()
        if drop_carryover:
            note = (f"# 待复核：以下是{year}年预算中的上年结转，不会自动结转到{to_year}年，已改为注释；"
                    f"如{to_year}年仍有上年结转，请按{to_year}年的结转数重新填写")
            edits.append((start, end, nl.join([note] + [f"# {line}" for line in lines]) + nl))
        else:
            indent = lines[0][:len(lines[0]) - len(lines[0].lstrip())] if lines else ""
            edits.append((start, start, f"{indent}# 待复核：下行是{year}年预算中的上年结转，{to_year}年"
                                        f"通常不再有此结转，请删除或改为{to_year}年的结转数{nl}"))

    # 待复核 notes above the sections that are last year's text or amounts
    starting = f"金额是{src}年预算数，作为{to_year}年的起始值，请按{to_year}年批复修改"
    for key in ("expenditure", "basic_economic", "three_public", "procurement"):
        note_above(key, starting)
    for key in ("duties", "performance", "special_funds"):
        note_above(key, f"以下是{src}年的内容，请按{to_year}年更新")
    note_above("projects", f"项目、金额与绩效目标是{src}年的内容（指标中的“{old}”已改为“{new}”），"
               f"请按{to_year}年批复更新")

    # a header line: at the very top, after a modeline or directive if there is one
    first_end = _line_end(text, 1) if text else 0
    first = text[:first_end]
    head_at = first_end if first.startswith(("# yaml-language-server", "%")) else 0
    edits.append((head_at, head_at, f"# budgetgen roll：由{src}年文件生成的{to_year}年草稿。标有“待复核”的内容请逐项核对、"
                  f"修改后运行 budgetgen check。{nl}"))
    # the items of an earlier review list this roll does not write again are still open
    fresh = {at for at, _ in review}
    review = [(item.at, item.note) for item in budget.review if item.at not in fresh] + review
    edits.append((head_at, head_at, _review_block(review, nl)))

    return _apply(text, edits)


def _review_block(items: list[tuple[str, str]], nl: str) -> str:
    """The `review:` list, as flow mappings (one line each, quoted as JSON strings are)."""
    lines = [REVIEW_HEAD, "review:"]
    lines += [f"  - {{at: {json.dumps(at, ensure_ascii=False)}, note: {json.dumps(note, ensure_ascii=False)}}}"
              for at, note in items]
    return nl.join(lines) + nl + nl


def _apply(text: str, edits) -> str:
    """Apply (start, end, new) edits made on the same original text. They are applied from the
    end backwards; at one position a replacement goes first and insertions then land before
    it, in the order they were made. Overlapping edits would be a bug."""
    ordered = sorted(enumerate(edits), key=lambda e: (e[1][0], e[1][1], e[0]))
    for (_, a), (_, b) in zip(ordered, ordered[1:]):
        if b[0] < a[1]:
            raise _Refused("内部错误：草稿的修改位置重叠")
    out = text
    for _, (start, end, new) in reversed(ordered):
        out = out[:start] + new + out[end:]
    return out


# --------------------------------------------------------------------------- checking the draft


def _leaves(budget, *, drop=("prior_year", "control_totals", "review"), carryover: bool = True) -> dict:
    data = budget.model_dump(mode="json")
    if not carryover:
        data["expenditure"] = [l for l in data["expenditure"] if l["source"] not in CARRYOVER_SOURCES]
    for key in drop:
        data.pop(key, None)
    data["department"].pop("year", None)
    if data.get("assets"):
        data["assets"].pop("as_of", None)
    for p in data.get("projects") or []:
        p.pop("indicators", None)
    return data


def _verify(original: Checked, draft: Result, to_year: int, dropped: bool = False) -> list[str]:
    """What differs between the draft and the intended draft (empty when all is well)."""
    wrong = []
    if not isinstance(draft, Checked):
        return ["草稿无法读取"]
    if _leaves(original.budget, carryover=not dropped) != _leaves(draft.budget):
        wrong.append("草稿中的金额或文字与原文件不一致")
    old, new = f"{original.budget.department.year}年", f"{to_year}年"
    want = [[[c.replace(old, new) for c in row] for row in p.indicators] for p in original.budget.projects]
    if want != [[list(row) for row in p.indicators] for p in draft.budget.projects]:
        wrong.append("项目绩效指标除年度外有改动")
    b, fig = draft.budget, original.figures
    if b.department.year != to_year:
        wrong.append("预算年度未改")
    p = b.prior_year
    if p is None or (p.basic, p.project, p.three_public) != (fig.basic, fig.project, fig.three_public_total):
        wrong.append("上年数与本年计算结果不一致")
    return wrong


def roll_file(path, to_year: int, result: Result | None = None) -> tuple[list[Problem], str | None]:
    """(problems, draft text). The draft is None when the file has errors (its problems are
    returned), when to_year is not after the file's year, or when the draft fails its checks.
    `result` is the file's pipeline result when the caller has it already."""
    name = str(path)
    if result is None:
        result = run(path)
    if not isinstance(result, Checked) or not result.ok:
        return result.problems, None
    if result.consolidation is not None and result.doc is not None:  # a department with 所属单位
        return [error("下年草稿", "本文件列有所属单位（units）：roll 暂不能生成多个文件组成的部门的下年草稿，"
                      "请对各所属单位文件分别运行 roll，部门文件的年度、上年数和 units 请手工修改",
                      result.doc.locate_key(("units",)))], None
    year = result.budget.department.year
    if int(to_year) <= year:
        return [error("年度", f"下一预算年度应晚于本文件的预算年度{year}年，收到{to_year}年",
                      result.doc.locate(("department", "year")), f"{year + 1}或以后", to_year)], None
    to_year = int(to_year)
    if to_year > 2100:
        return [error("年度", f"预算年度{to_year}年超出范围（2000至2100）", Location(name))], None
    from ..infile import read_input
    raw, _ = read_input(name)  # the same checks as `check`: a regular file, within the limits
    text, _, _ = _decode(raw or b"", name)
    if raw is None or text is None:  # pragma: no cover - the pipeline has read it already
        return [error("文件编码", "无法读取文件", Location(name))], None
    # a year two or more ahead: one year at a time, each step's draft checked like the first
    problems: list[Problem] = []
    current: Checked = result
    for step in range(year + 1, to_year + 1):
        found, draft, checked = _step(name, text, current, step, year)
        problems += [p for p in found if p not in problems]
        if draft is None:
            return problems, None
        if step < to_year:
            if not isinstance(checked, Checked):  # pragma: no cover - _step verified it
                return problems, None
            text, current = draft, checked
    return problems, draft


def _step(name: str, text: str, result: Checked, to_year: int,
          origin: int) -> tuple[list[Problem], str | None, Result | None]:
    """One year on: (problems, the draft or None, the draft's pipeline result)."""
    # old Mac line ends (CR only) are line breaks to YAML and to `check`: draft on "\n", then
    # give the draft the file's own line ends back
    cr_only = "\r" in text and "\n" not in text
    if cr_only:
        text = text.replace("\r", "\n")
    has_carryover = any(line.source.value in CARRYOVER_SOURCES for line in result.budget.expenditure)
    wrong: list[str] = []
    errors: list[Problem] = []
    for drop in ((True, False) if has_carryover else (False,)):
        try:
            draft = draft_text(text, result, to_year, drop_carryover=drop, origin=origin)
        except _Refused as exc:
            return [error("下年草稿", str(exc), Location(name))], None, None
        if cr_only:
            draft = draft.replace("\n", "\r")
        checked = run_text(draft, f"{name}（{to_year}年草稿）")
        wrong = _verify(result, checked, to_year, dropped=drop)
        errors = [p for p in checked.problems if p.is_error]
        if not errors and not wrong:
            return _catalog_changes(result, to_year, name), draft, checked
    detail = "；".join(wrong + [str(p) for p in errors[:5]])
    return [error("内部错误", f"生成的{to_year}年草稿未通过自检（{detail}），未写出；请把输入文件发给维护者",
                  Location(name))], None, None


def _catalog_changes(result: Checked, to_year: int, name: str) -> list[Problem]:
    """Warnings for the codes the file uses that the new year's catalog renamed or removed."""
    budget, doc = result.budget, result.doc
    old, new = load_catalog(budget.department.year), load_catalog(to_year)
    own = {str(e.code) for e in budget.catalog.function}
    used: dict = {}
    for i, line in enumerate(budget.expenditure):
        used.setdefault(line.code, ("expenditure", i, "code"))
    for j, p in enumerate(budget.projects):
        if p.function_code:
            used.setdefault(p.function_code, ("projects", j, "function_code"))
    out = []
    for code, path in sorted(used.items()):
        if code in own:
            continue
        before, after = old.function_name(code), new.function_name(code)
        where = doc.locate(path)
        if before is not None and after is None:
            out.append(warning("科目变动", f"科目{code}“{before}”在{new.year}年科目目录中已不存在：请按{to_year}年"
                               "科目表改列新科目", where, "", code))
        elif before is not None and after is not None and before != after:
            out.append(warning("科目变动", f"科目{code}在{new.year}年科目目录中更名为“{after}”（{old.year}年为"
                               f"“{before}”）：请核对，名称按新年度填写", where, after, before))
    for i, e in enumerate(budget.basic_economic):
        before, after = old.economic_name(e.code), new.economic_name(e.code)
        if before is not None and before != after:
            out.append(warning("科目变动", f"经济分类科目{e.code}“{before}”在{new.year}年目录中"
                               + ("已不存在" if after is None else f"更名为“{after}”"),
                               doc.locate(("basic_economic", i, "code"))))
    return out
