"""Consolidate stage: a department file that lists its 所属单位 → the department as a whole.

A 部门 is its 本级 (the money facts of the department file itself) plus its 所属单位, one file
each, listed under `units:` by path relative to the department file. Each unit file has the
format of a department file; it is loaded and modelled here (through the pipeline's own
load → model step, passed in), and checked to belong: the same year and layout as the department,
listed once, no `units:` of its own (one level only: 本级 plus 所属单位).

The consolidated Budget is the sum of every file's leaf facts, with the transfers inside the
department eliminated, as a 部门预算 (汇总) requires:

- a unit's 上缴上级支出 (`remit`) against the 本级's spending from 附属单位上缴收入 (`affiliate`);
- the 本级's 对附属单位补助支出 (`subsidy`) against the units' spending from 上级补助收入
  (`superior`).

The eliminated measure (the remittance, the subsidy) leaves the spending; the spending it
financed stays, shown under the source that really financed it — the giver's. So 上级补助收入
and 附属单位上缴收入 inside the department vanish from the income side, 上缴上级支出 and
对附属单位补助支出 inside it from the spending side, and every source still balances. Both sides
of an internal transfer must agree, and neither may be paid from 财政拨款 (上级补助收入 is by
definition a 非财政补助收入). The eliminations are returned so `check --verbose` can list them.

Department-wide text (duties, performance goals, glossary, other notes, prior year, declared
control totals and income) comes from the department file; the institutions table lists the
department file's own rows, then each unit's rows (or its name) unless already listed.
"""
from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath, PureWindowsPath

from .compute.figures import FISCAL
from .loader import RawDoc
from .model import (
    SOURCE_LABELS,
    AssetLine,
    Assets,
    Budget,
    CatalogSupplement,
    ExpenditureLine,
    Institution,
    Source,
    ThreePublic,
    ThreePublicItems,
)
from .money import ZERO, fmt_text
from .problems import Location, Problem, error

MEASURES = ("basic", "project", "operating", "remit", "subsidy")
MEASURE_LABELS = {"basic": "基本支出", "project": "项目支出", "operating": "经营支出",
                  "remit": "上缴上级支出", "subsidy": "对附属单位补助支出"}
FISCAL_SOURCES = frozenset(s for sources in FISCAL.values() for s in sources)
RULE = "所属单位"
TRANSFER = "内部往来"

# the pipeline's load → model step for one file: (doc or None, budget or None, problems)
OpenUnit = Callable[[Path], "tuple[RawDoc | None, Budget | None, list[Problem]]"]


@dataclass
class Part:
    """One file of the department: a 所属单位 as listed, with what loading it gave."""
    file: str
    doc: RawDoc | None
    budget: Budget | None
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Elimination:
    """One internal transfer taken out of the consolidation (or one piece of it, where a
    transfer was paid from several lines)."""
    kind: str  # remit (上缴上级支出 ↔ 附属单位上缴收入) | subsidy (对附属单位补助支出 ↔ 上级补助收入)
    amount: Decimal
    giver: Location  # the line with the 上缴上级支出 / 对附属单位补助支出
    giver_code: str
    taker: Location  # the line spending the 附属单位上缴收入 / 上级补助收入
    taker_code: str
    taker_measure: str  # basic | project | …: what the taker spent it on
    source: str  # the giver's 资金来源, under which the taker's spending is shown in the whole
    typed_source: str = ""  # the giver's source as typed, if an earlier elimination changed it

    def __str__(self) -> str:
        if self.kind == "remit":
            give, take = "上缴上级支出", "附属单位上缴收入"
        else:
            give, take = "对附属单位补助支出", "上级补助收入"
        label = _label(self.source)
        paid = (f"以{_label(self.typed_source)}安排，抵消后为{label}"
                if self.typed_source and self.typed_source != self.source else f"以{label}安排")
        return (f"抵消{fmt_text(self.amount)}万元：{self.giver} 科目{self.giver_code}的{give}"
                f"（{paid}）↔ {self.taker} 科目{self.taker_code}以{take}安排的"
                f"{MEASURE_LABELS[self.taker_measure]}，汇总后列为{label}")


@dataclass
class Consolidation:
    """The department as a whole: its units, the consolidated Budget (None when a file could
    not be modelled) and the eliminated internal transfers."""
    budget: Budget | None
    units: list[Part]
    eliminations: list[Elimination] = field(default_factory=list)
    gross_total: Decimal = ZERO  # Σ of every file's spending, before eliminations
    origins: list[Location] = field(default_factory=list)  # where each consolidated line was typed


@dataclass
class WholeDoc(RawDoc):
    """The department file's marks, except that the consolidated expenditure lines point at the
    line (in whichever file) they were first typed: what the department-wide rules see."""
    origins: list[Location] = field(default_factory=list)

    def locate(self, path=()) -> Location:
        path = tuple(path)
        if len(path) >= 2 and path[0] == "expenditure" and isinstance(path[1], int) \
                and 0 <= path[1] < len(self.origins):
            return self.origins[path[1]]
        return super().locate(path)

    def locate_key(self, path) -> Location:
        path = tuple(path)
        if len(path) >= 2 and path[0] == "expenditure":
            return self.locate(path)
        return super().locate_key(path)

    @classmethod
    def of(cls, doc: RawDoc, origins: list[Location]) -> WholeDoc:
        return cls(doc.file, doc.data, doc.marks, doc.key_marks, doc.encoding, origins)


def consolidate(budget: Budget, doc: RawDoc, open_unit: OpenUnit) -> tuple[Consolidation, list[Problem]]:
    """Load the department's units and build the consolidated Budget."""
    problems: list[Problem] = []
    if budget.department.kind == "unit":
        problems.append(error(RULE, "本文件写明是单位预算（department.kind: unit），不能再列出所属单位（units）",
                              doc.locate(("department", "kind"))))
    units = _load_units(budget, doc, open_unit, problems)
    cons = Consolidation(None, units)
    if any(u.budget is None for u in units) or not units:
        return cons, problems
    parts = [(doc, budget)] + [(u.doc, u.budget) for u in units if u.doc and u.budget]
    problems += _project_codes(parts)
    lines = [_Line.of(line, p_doc, ("expenditure", i), n)
             for n, (p_doc, p_budget) in enumerate(parts)
             for i, line in enumerate(p_budget.expenditure)]
    cons.gross_total = sum((ln.total for ln in lines), ZERO)
    lines, done, more = _eliminate(lines, "remit", doc)
    cons.eliminations += done
    problems += more
    lines, done, more = _eliminate(lines, "subsidy", doc)
    cons.eliminations += done
    problems += more
    cons.budget, cons.origins = _whole(budget, [b for _, b in parts[1:]], lines)
    return cons, problems


# --------------------------------------------------------------------------- the unit files

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _load_units(budget: Budget, doc: RawDoc, open_unit: OpenUnit,
                problems: list[Problem]) -> list[Part]:
    base = Path(doc.file).parent
    own = os.path.realpath(doc.file)
    seen: dict[str, int] = {}  # real path → index of the entry that listed it
    names: dict[tuple[str, str], tuple[str, Location]] = {
        (budget.department.code.strip(), budget.department.name.strip()):
            (doc.file, doc.locate(("department", "code")))}
    units = []
    for i, entry in enumerate(budget.units):
        where = doc.locate(("units", i))
        text = entry.strip()
        if not text:
            problems.append(error(RULE, "所属单位文件的路径不能为空", where))
            continue
        if _SCHEME.match(text):
            problems.append(error(RULE, f"所属单位“{text}”应为本机文件的路径（相对于本文件），不能是网址",
                                  where, "文件路径", text))
            continue
        if _outside(text):
            problems.append(error(RULE, f"所属单位文件“{text}”应位于部门文件所在的文件夹或其子文件夹中：不能用绝对路径"
                                  "或“..”（部门文件只能引用自己文件夹中的单位文件）", where, "相对路径", text))
            continue
        path = base / text
        real = os.path.realpath(path)
        if real == own:
            problems.append(error(RULE, f"“{text}”就是本部门文件：部门文件不能把自己列为所属单位", where))
            continue
        if real in seen:
            first = doc.locate(("units", seen[real]))
            problems.append(error(RULE, f"所属单位文件“{text}”重复列出：第{first.line}行已列出同一文件，"
                                  "每个单位只列一次", where, "每个单位只列一次", f"第{first.line}行与第{where.line}行"))
            continue
        seen[real] = i
        if path.exists() and not path.is_file() and not path.is_dir():
            problems.append(error(RULE, f"所属单位文件“{text}”不是普通文件（可能是管道或设备），不予读取", where))
            continue
        unit_doc, unit_budget, unit_problems = open_unit(path)
        if unit_doc is None and unit_problems and all(p.rule == "文件读取" for p in unit_problems):
            reason = unit_problems[0].message.removeprefix("无法读取文件：")
            problems.append(error(RULE, f"所属单位文件“{text}”无法读取：{reason}", where))
            units.append(Part(str(path), None, None))  # the whole cannot be built without it
            continue
        part = Part(str(path), unit_doc, unit_budget, unit_problems)
        if unit_doc is not None and unit_budget is not None:
            part.problems += _belongs(budget, doc, unit_budget, unit_doc, names)
        units.append(part)
    return units


def _outside(text: str) -> bool:
    """True for a path that leaves the department file's folder: absolute, a drive, or "..".
    A file submitted to a finance bureau may not make it read (and echo in errors) other files."""
    posix, windows = PurePosixPath(text), PureWindowsPath(text)
    return (posix.is_absolute() or bool(windows.drive) or windows.is_absolute()
            or ".." in posix.parts or ".." in windows.parts)


def _belongs(budget: Budget, doc: RawDoc, unit: Budget, unit_doc: RawDoc,
             names: dict[tuple[str, str], tuple[str, Location]]) -> list[Problem]:
    """A unit file agrees with its department: year, layout, no units of its own, its own name."""
    out = []
    d, u = budget.department, unit.department
    for key, label, mine, theirs in (("year", "预算年度", u.year, d.year),
                                     ("edition", "版式", u.edition, d.edition)):
        if mine != theirs:
            there = doc.locate(("department", key))
            out.append(error(RULE, f"{label}为{mine}，与部门文件 {there}（{label}{theirs}）不一致："
                             "部门与所属单位的文件应属同一年度、同一版式",
                             unit_doc.locate(("department", key)), theirs, mine))
    if unit.units:
        out.append(error(RULE, f"所属单位文件不能再列出下级单位（units）：只汇总一级，即部门本级（{doc.file}）"
                         "加所属单位", unit_doc.locate_key(("units",))))
    ident = (u.code.strip(), u.name.strip())
    if ident in names:
        at = names[ident][1]
        out.append(error(RULE, f"单位编码和名称“{u.code}{u.name}”与 {at} 相同：每个单位的编码和名称应不同"
                         "（各自的单位预算文件以此命名）", unit_doc.locate(("department", "code"))))
    else:
        names[ident] = (unit_doc.file, unit_doc.locate(("department", "code")))
    return out


def _project_codes(parts: list[tuple[RawDoc, Budget]]) -> list[Problem]:
    """A project code is unique in the whole department, not only in one file (a file's own
    duplicates are reported by the project rules)."""
    out: list[Problem] = []
    seen: dict[str, Location] = {}
    for p_doc, p_budget in parts:
        mine: dict[str, Location] = {}
        for j, p in enumerate(p_budget.projects):
            code = p.code.strip()
            if not code or code in mine:
                continue
            mine[code] = p_doc.locate(("projects", j, "code"))
            if code in seen:
                out.append(error("项目-编码", f"项目编码{code}与 {seen[code]} 的项目重复：同一部门内项目编码应唯一",
                                 mine[code]))
        for code, at in mine.items():
            seen.setdefault(code, at)
    return out


# --------------------------------------------------------------------------- eliminations


@dataclass
class _Line:
    """One expenditure line of one file while the consolidation is built."""
    line: ExpenditureLine
    where: Location
    part: int  # 0 = the 本级 (department file), 1… = the units in order
    source: str
    amounts: dict[str, Decimal]

    @classmethod
    def of(cls, line: ExpenditureLine, doc: RawDoc, path: tuple, part: int) -> _Line:
        return cls(line, doc.locate(path), part, line.source.value,
                   {m: getattr(line, m) for m in MEASURES})

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)


def _label(source: str) -> str:
    return SOURCE_LABELS.get(Source(source), source)


def _eliminate(lines: list[_Line], kind: str, doc: RawDoc) -> tuple[list[_Line], list[Elimination], list[Problem]]:
    """Take one kind of internal transfer out: the givers' measure is removed, the takers'
    spending is re-sourced to the givers' sources (in order, split where a taker was paid from
    two givers). Returns the new lines, the eliminations and any problem (then nothing changes)."""
    if kind == "remit":  # the units pay 上缴上级支出; the 本级 spends it as 附属单位上缴收入
        givers = [ln for ln in lines if ln.part > 0 and ln.amounts["remit"]]
        takers = [ln for ln in lines if ln.part == 0 and ln.source == Source.affiliate.value]
        give, take = "上缴上级支出", "附属单位上缴收入"
    else:  # the 本级 pays 对附属单位补助支出; the units spend it as 上级补助收入
        givers = [ln for ln in lines if ln.part == 0 and ln.amounts["subsidy"]]
        takers = [ln for ln in lines if ln.part > 0 and ln.source == Source.superior.value]
        give, take = "对附属单位补助支出", "上级补助收入"
    problems = []
    if any(g.source in FISCAL_SOURCES for g in givers):
        # 财政拨款 pays 基本支出 and 项目支出 only: the line is an error of its own file already
        # (资金来源-支出类型); 上级补助收入 is by definition a 非财政补助收入
        return lines, [], []
    for g in givers:
        if kind == "remit" and g.source == Source.superior.value:
            problems.append(error(TRANSFER, "上缴上级支出以上级补助收入安排：上级补助的资金不能再上缴给上级",
                                  g.where, "事业收入等单位自有资金", _label(g.source)))
    given = sum((g.amounts[kind] for g in givers), ZERO)
    taken = sum((t.total for t in takers), ZERO)
    if given != taken:
        by_file: dict[str, Decimal] = {}  # the units' side, file by file
        for ln, value in ([(g, g.amounts[kind]) for g in givers] if kind == "remit"
                          else [(t, t.total) for t in takers]):
            by_file[ln.where.file] = by_file.get(ln.where.file, ZERO) + value
        listed = "、".join(f"{f} {fmt_text(v)}万元" for f, v in by_file.items()) or "无"
        if kind == "remit":
            message = (f"本级以{take}安排的支出{fmt_text(taken)}万元，与所属单位的{give}合计{fmt_text(given)}万元"
                       f"（{listed}）不一致：部门内部的上缴应两边相等，汇总时互相抵消")
        else:
            message = (f"所属单位以{take}安排的支出合计{fmt_text(taken)}万元（{listed}），与本级的{give}"
                       f"{fmt_text(given)}万元不一致：部门内部的补助应两边相等，汇总时互相抵消")
        where = (takers if kind == "remit" else givers)
        at = where[0].where if where else doc.locate_key(("units",))
        problems.append(error(TRANSFER, message, at, f"{fmt_text(given)}万元", f"{fmt_text(taken)}万元"))
    if problems or not givers:
        return lines, [], problems
    # walk the givers and the takers' amounts side by side, like merging two sorted lists
    budget_left: list[tuple[_Line, Decimal]] = [(g, g.amounts[kind]) for g in givers]
    pieces: dict[int, list[tuple[str, str, Decimal]]] = {}  # taker id → (measure, source, amount)
    done = []
    gi = 0
    for t in takers:
        for measure in MEASURES:
            need = t.amounts[measure]
            while need:
                giver, left = budget_left[gi]
                use = min(need, left)
                pieces.setdefault(id(t), []).append((measure, giver.source, use))
                done.append(Elimination(kind, use, giver.where, giver.line.code, t.where,
                                        t.line.code, measure, giver.source, giver.line.source.value))
                need -= use
                budget_left[gi] = (giver, left - use)
                if use == left:
                    gi += 1
    for g in givers:
        g.amounts[kind] = ZERO
    out = []
    for ln in lines:
        if id(ln) not in pieces:
            out.append(ln)
            continue
        by_source: dict[str, dict[str, Decimal]] = {}
        for measure, source, amount in pieces[id(ln)]:
            vec = by_source.setdefault(source, {m: ZERO for m in MEASURES})
            vec[measure] += amount
        out += [_Line(ln.line, ln.where, ln.part, source, vec) for source, vec in by_source.items()]
    return out, _merge_pieces(done), []


def _merge_pieces(done: list[Elimination]) -> list[Elimination]:
    """One entry per giver line, taker line and measure."""
    merged: dict[tuple, Elimination] = {}
    for e in done:
        key = (e.kind, e.giver, e.taker, e.taker_measure, e.source)
        if key in merged:
            e = dataclasses.replace(e, amount=merged[key].amount + e.amount)
        merged[key] = e
    return list(merged.values())


# --------------------------------------------------------------------------- the whole


def _whole(budget: Budget, units: list[Budget], lines: list[_Line]) -> tuple[Budget, list[Location]]:
    """The consolidated Budget: sums of the leaf facts, department-wide text from the
    department file; and where each of its expenditure lines was typed."""
    parts = [budget] + units
    expenditure, origins = _expenditure(lines)
    return budget.model_copy(update={
        "institutions": _institutions(budget, units),
        "expenditure": expenditure,
        "basic_economic": _economic(parts),
        "three_public": _three_public([p.three_public for p in parts]),
        "projects": [p for b in parts for p in b.projects],
        "procurement": [g if g.unit else g.model_copy(update={"unit": _own_name(b, n)})
                        for n, b in enumerate(parts) for g in b.procurement],
        "assets": _assets(parts),
        "catalog": _catalog(parts),
    }), origins


def _items(blocks: list) -> dict[str, Decimal | None]:
    """Item by item; an optional item (会议费, 培训费) no file gives stays not given."""
    out: dict[str, Decimal | None] = {}
    for k in ThreePublicItems.model_fields:
        given = [getattr(b, k) for b in blocks if getattr(b, k) is not None]
        out[k] = sum(given, ZERO) if given or ThreePublicItems.model_fields[k].default is not None else None
    return out


def _three_public(blocks: list[ThreePublic]) -> ThreePublic:
    """三公 item by item; the 政府性基金 and 国有资本经营 parts likewise, where any file has them."""
    funds: dict[str, ThreePublicItems | None] = {}
    for fund in ("gov_fund", "soe"):
        have = [getattr(b, fund) for b in blocks if getattr(b, fund) is not None]
        funds[fund] = ThreePublicItems.model_validate(_items(have)) if have else None
    return ThreePublic.model_validate({**_items(blocks), **funds})


def _own_name(b: Budget, n: int) -> str:
    """How a file's procurement subtotal is labelled in the department's table."""
    if n == 0:
        return b.institutions[0].name if b.institutions else b.department.name + "本级"
    return b.department.name


def _institutions(budget: Budget, units: list[Budget]) -> list[Institution]:
    rows = list(budget.institutions)
    if not rows and budget.expenditure:
        rows.append(Institution(name=budget.department.name + "本级", nature="", rank="", funding=""))
    names = {r.name.strip() for r in rows}
    for u in units:
        for r in u.institutions or [Institution(name=u.department.name, nature="", rank="", funding="")]:
            if r.name.strip() not in names:
                rows.append(r)
                names.add(r.name.strip())
    return rows


def _expenditure(lines: list[_Line]) -> tuple[list[ExpenditureLine], list[Location]]:
    """Lines of the same 项 and source added together, in the order first seen."""
    merged: dict[tuple[str, str], tuple[ExpenditureLine, dict[str, Decimal]]] = {}
    where: dict[tuple[str, str], Location] = {}
    for ln in lines:
        if not any(ln.amounts.values()):  # e.g. a line whose only amount was eliminated
            continue
        key = (ln.line.code, ln.source)
        if key not in merged:
            merged[key] = (ln.line, {m: ZERO for m in MEASURES})
            where[key] = ln.where
        first, vec = merged[key]
        if not first.name and ln.line.name:
            merged[key] = (ln.line, vec)
        for m in MEASURES:
            vec[m] += ln.amounts[m]
    kept = [key for key, (_, vec) in merged.items() if any(vec.values())]
    return ([merged[k][0].model_copy(update={"source": Source(k[1]), **merged[k][1]}) for k in kept],
            [where[k] for k in kept])


def _catalog(parts: list[Budget]) -> CatalogSupplement:
    """Every file's own `catalog:` codes (each checked in its own file), each code once."""
    function: dict = {}
    economic: dict = {}
    for b in parts:
        for c in b.catalog.function:
            function.setdefault(c.code.strip(), c)
        for c in b.catalog.economic:
            economic.setdefault(c.code.strip(), c)
    return CatalogSupplement(function=list(function.values()), economic=list(economic.values()))


def _economic(parts: list[Budget]) -> list:
    merged: dict = {}
    for b in parts:
        for e in b.basic_economic:
            if e.code in merged:
                first = merged[e.code]
                merged[e.code] = (first if first.name or not e.name else e).model_copy(
                    update={"amount": first.amount + e.amount})
            else:
                merged[e.code] = e
    return list(merged.values())


def _assets(parts: list[Budget]) -> Assets | None:
    have = [b.assets for b in parts if b.assets is not None]
    if not have:
        return None
    lines = {k: AssetLine(quantity=sum((getattr(a, k).quantity for a in have), ZERO),
                          value=sum((getattr(a, k).value for a in have), ZERO))
             for k in ("buildings", "office_buildings", "vehicles", "equipment", "other")}
    return have[0].model_copy(update={**lines, "planned_purchase": sum(
        (a.planned_purchase for a in have), ZERO)})


# --------------------------------------------------------------------------- for reviewers


def explain(file: str, cons: Consolidation, net_total: Decimal | None,
            statuses: dict[str, str] | None = None) -> list[str]:
    """What `check --verbose` prints about a department with units: the files (with how each
    checked, from `statuses`), every elimination, and how the totals follow."""
    statuses = statuses or {}
    out = [f"{file}：部门本级加{len(cons.units)}个所属单位汇总"]
    out += [f"  所属单位 {u.file}" + (f"（{u.budget.department.name}）" if u.budget else "")
            + (f"：{statuses[u.file]}" if u.file in statuses else "") for u in cons.units]
    if not cons.eliminations:
        out.append("  内部往来抵消：无")
    else:
        out.append("  内部往来抵消：")
        out += [f"    {e}" for e in cons.eliminations]
    if net_total is not None:
        removed = sum((e.amount for e in cons.eliminations), ZERO)
        out.append(f"  各文件支出合计{fmt_text(cons.gross_total)}万元，抵消{fmt_text(removed)}万元，"
                   f"部门汇总支出总计{fmt_text(net_total)}万元")
    return out
