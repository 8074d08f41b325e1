"""Classification catalogs, one per budget year: 支出功能分类 (类/款/项, each code with its fund)
and 部门预算支出经济分类 (类/款).

Shipped as data in schemas/catalog/: `function-YYYY.yaml` per budget year (a year may take
another year's file as its `base` and list its `amend`ments: add / rename / remove) and
`economic.yaml` (optionally `economic-YYYY.yaml`). Every file says where its names come from;
names that could not be confirmed from a public source carry `unconfirmed: true`. A department
file may supplement the catalog in its `catalog:` section (see `Catalog.supplemented`). Loaded
once per process per year and passed along as a value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .resources import resource_dir

CATALOG_DIR = resource_dir("schemas") / "catalog"
CN_NUMERALS = "一二三四五六七八九十"
FUNDS = ("general", "gov_fund", "soe")
FUND_LABELS = {"general": "一般公共预算", "gov_fund": "政府性基金预算", "soe": "国有资本经营预算"}
LEVELS = {3: "类", 5: "款", 7: "项"}


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一, 31 → 三十一."""
    if n <= 10:
        return CN_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    head = ("" if tens == 1 else CN_NUMERALS[tens - 1]) + "十"
    return head + (CN_NUMERALS[ones - 1] if ones else "")


@dataclass(frozen=True)
class FunctionClass:
    """A row of the 收支总表's expenditure side: a 类 of the catalog, or (code None) a row a
    layout's form adds after them (its `extra_rows`, such as 人行科目)."""
    seq: int
    code: str | None
    name: str

    @property
    def label(self) -> str:  # 一、一般公共服务支出
        return f"{cn_number(self.seq)}、{self.name}"


@dataclass(frozen=True)
class EconomicClass:
    code: str
    name: str
    kind: str  # personnel | public


@dataclass(frozen=True)
class Entry:
    """One code of a catalog, as `budgetgen catalog` shows it."""
    code: str
    name: str
    level: str  # 类 / 款 / 项
    kind: str  # function | economic
    fund: str | None = None
    unconfirmed: bool = False
    supplemented: bool = False


@dataclass(frozen=True)
class Catalog:
    function_classes: tuple[FunctionClass, ...]  # the 类, in row order
    function_names: dict  # code (3/5/7 digits) → name
    economic_classes: dict  # code (3) → EconomicClass
    economic_names: dict  # code (3/5) → name
    year: int | None = None
    title: str = ""
    sources: tuple[str, ...] = ()  # the documents the names come from, as the files say
    function_funds: dict = field(default_factory=dict)  # code → fund where set on that code
    unconfirmed: frozenset = frozenset()  # codes whose names are not confirmed ("f:" / "e:" + code)
    supplement: frozenset = frozenset()  # codes added by the department file ("f:" / "e:" + code)

    def function_name(self, code: str) -> str | None:
        return self.function_names.get(code)

    def economic_name(self, code: str) -> str | None:
        return self.economic_names.get(code)

    def economic_kind(self, code: str) -> str | None:
        cls = self.economic_classes.get(code[:3])
        return cls.kind if cls else None

    def fund_of(self, code: str) -> str:
        """The fund (general | gov_fund | soe) a function code belongs to: set on the code itself
        or inherited from its 款, then its 类; general when none says otherwise."""
        for n in (len(code), 5, 3):
            fund = self.function_funds.get(code[:n])
            if fund:
                return fund
        return "general"

    def is_unconfirmed(self, code: str, kind: str = "function") -> bool:
        return f"{kind[0]}:{code}" in self.unconfirmed

    def is_supplemented(self, code: str, kind: str = "function") -> bool:
        return f"{kind[0]}:{code}" in self.supplement

    def entry(self, code: str) -> Entry | None:
        """The function code (3/5/7 digits) or economic code (3/5 digits starting with 3) `code`."""
        if code.startswith("3") and code in self.economic_names:
            kind, name, fund = "economic", self.economic_names[code], None
        elif code in self.function_names:
            kind, name, fund = "function", self.function_names[code], self.fund_of(code)
        else:
            return None
        return Entry(code, name, LEVELS.get(len(code), ""), kind, fund,
                     self.is_unconfirmed(code, kind), self.is_supplemented(code, kind))

    def parents(self, code: str) -> list[Entry]:
        """The 类 (and 款) above a code, top first; a missing parent is left out."""
        out = []
        for n in (3, 5):
            if len(code) > n:
                e = self.entry(code[:n])
                if e is not None:
                    out.append(e)
        return out

    def children(self, code: str) -> list[Entry]:
        names = self.economic_names if code.startswith("3") else self.function_names
        want = {3: 5, 5: 7}.get(len(code))
        found = (self.entry(c) for c in sorted(names) if len(c) == want and c.startswith(code))
        return [e for e in found if e is not None]

    def search(self, word: str) -> list[Entry]:
        """Every code whose name contains `word` (white space and bracket width ignored),
        function codes first, in code order."""
        key = normalize_name(word)
        out = []
        for names in (self.function_names, self.economic_names):
            for code in sorted(names):
                if key and key in normalize_name(names[code]):
                    e = self.entry(code)
                    if e is not None and e.name == names[code]:
                        out.append(e)
        return out

    def supplemented(self, function: dict[str, tuple[str, str | None]],
                     economic: dict[str, str]) -> Catalog:
        """This catalog plus a department file's own codes: function code → (name, fund or None),
        economic code → name. The caller has checked their shape and parents."""
        if not function and not economic:
            return self
        fnames = dict(self.function_names)
        funds = dict(self.function_funds)
        for code, (name, fund) in function.items():
            fnames[code] = name
            if fund:
                funds[code] = fund
        enames = dict(self.economic_names)
        enames.update(economic)
        added = frozenset([f"f:{c}" for c in function] + [f"e:{c}" for c in economic])
        return replace(self, function_names=fnames, function_funds=funds, economic_names=enames,
                       supplement=self.supplement | added)


_PARENS = str.maketrans({"(": "（", ")": "）", " ": None, "\u3000": None})


def normalize_name(name: str) -> str:
    """Names compare equal up to white space and half/full-width parentheses."""
    return name.translate(_PARENS)


# --------------------------------------------------------------------------- reading the files


def _read(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}：目录文件应为映射")
    return data


def _item(value: Any) -> tuple[str, str | None, bool]:
    """(name, fund, unconfirmed) of an `items` value: a name, or {name, fund, unconfirmed}."""
    if isinstance(value, dict):
        return str(value["name"]), value.get("fund"), bool(value.get("unconfirmed", False))
    return str(value), None, False


@dataclass
class _Table:
    """A catalog file's content after its base and amendments are applied."""
    classes: list = field(default_factory=list)
    names: dict = field(default_factory=dict)
    funds: dict = field(default_factory=dict)
    unconfirmed: set = field(default_factory=set)
    sources: list = field(default_factory=list)
    title: str = ""


def _apply(table: _Table, items: dict) -> None:
    for code, value in (items or {}).items():
        code = str(code)
        name, fund, unsure = _item(value)
        table.names[code] = name
        if fund:
            table.funds[code] = fund
        else:
            table.funds.pop(code, None)
        if unsure:
            table.unconfirmed.add(code)
        else:
            table.unconfirmed.discard(code)


def _load_table(directory: Path, stem: str, year: int, depth: int = 0) -> _Table:
    if depth > 10:
        raise ValueError(f"{stem}-{year}.yaml：base 循环引用")
    data = _read(directory / f"{stem}-{year}.yaml")
    base = data.get("base")
    table = _load_table(directory, stem, int(base), depth + 1) if base else _Table()
    if data.get("classes"):
        table.classes = list(data["classes"])
        for c in table.classes:
            table.names[str(c["code"])] = str(c["name"])
            if c.get("fund"):
                table.funds[str(c["code"])] = c["fund"]
    _apply(table, data.get("items") or {})
    amend = data.get("amend") or {}
    _apply(table, amend.get("add") or {})
    for code, value in (amend.get("rename") or {}).items():
        _apply(table, {code: value})
    for code in amend.get("remove") or ():
        code = str(code)
        for known in [k for k in table.names if k.startswith(code)]:
            table.names.pop(known, None)
            table.funds.pop(known, None)
            table.unconfirmed.discard(known)
    table.title = str(data.get("title") or table.title)
    table.sources.append(f"{data.get('title', stem)}（{data.get('document', '文号未注明')}）")
    return table


def catalog_years(directory: str | Path = CATALOG_DIR) -> list[int]:
    """The budget years with a function catalog file, ascending."""
    years = []
    for p in Path(directory).glob("function-*.yaml"):
        m = re.fullmatch(r"function-(\d{4})\.yaml", p.name)
        if m:
            years.append(int(m.group(1)))
    return sorted(years)


def catalog_year(year: int | None, directory: str | Path = CATALOG_DIR) -> int:
    """The catalog year used for a budget year: that year's, else the latest earlier one,
    else the earliest there is."""
    years = catalog_years(directory)
    if not years:
        raise FileNotFoundError(f"{directory} 中没有 function-年度.yaml 目录文件")
    if year is None:
        return years[-1]
    earlier = [y for y in years if y <= year]
    return earlier[-1] if earlier else years[0]


@lru_cache(maxsize=8)
def _load(year: int, directory: str) -> Catalog:
    d = Path(directory)
    fn = _load_table(d, "function", year)
    eyears = [int(m.group(1)) for p in d.glob("economic-*.yaml")
              if (m := re.fullmatch(r"economic-(\d{4})\.yaml", p.name)) and int(m.group(1)) <= year]
    if eyears:
        ec = _load_table(d, "economic", max(eyears))
        edata_classes = ec.classes
    else:
        raw = _read(d / "economic.yaml")
        ec = _Table(classes=list(raw.get("classes") or []))
        _apply(ec, raw.get("items") or {})
        ec.sources.append(f"{raw.get('title', '部门预算支出经济分类科目')}（{raw.get('document', '文号未注明')}）")
        edata_classes = ec.classes
    classes = tuple(FunctionClass(i + 1, str(c["code"]), str(c["name"])) for i, c in enumerate(fn.classes))
    eclasses = {str(c["code"]): EconomicClass(str(c["code"]), str(c["name"]), str(c["kind"]))
                for c in edata_classes}
    enames = {k: v.name for k, v in eclasses.items()}
    enames.update(ec.names)
    unsure = frozenset([f"f:{c}" for c in fn.unconfirmed] + [f"e:{c}" for c in ec.unconfirmed])
    return Catalog(classes, dict(fn.names), eclasses, enames, year=year, title=fn.title,
                   sources=tuple(fn.sources + ec.sources), function_funds=dict(fn.funds),
                   unconfirmed=unsure)


def load_catalog(year: int | None = None, directory: str | Path = CATALOG_DIR) -> Catalog:
    """The catalog for a budget year (the latest when year is None)."""
    if isinstance(year, (str, Path)):  # load_catalog(directory) — the old signature
        year, directory = None, year
    return _load(catalog_year(year, directory), str(directory))


# --------------------------------------------------------------------------- a file's own codes


@dataclass(frozen=True)
class Verdict:
    """What became of one code a department file adds in its `catalog:` section."""
    kind: str  # function | economic
    index: int
    code: str
    status: str  # added | known | same | shape | parent | fund
    detail: str = ""


def judge_supplement(base: Catalog, function: list, economic: list) -> tuple[dict, dict, list[Verdict]]:
    """Check a file's `catalog:` entries (objects with code, name, fund) against `base`: code shape,
    parent present (in the catalog or added before it in the file), not already in the catalog.
    Returns the accepted function codes (code → (name, fund)), economic codes (code → name) and a
    verdict per entry."""
    fn: dict = {}
    ec: dict = {}
    verdicts = []
    for i, e in enumerate(function):
        code, name = str(e.code).strip(), str(e.name).strip()
        fund: str | None = getattr(e, "fund", None)  # "general" | "gov_fund" | "soe" | None
        if not re.fullmatch(r"2[0-9]{4}([0-9]{2})?", code):
            verdicts.append(Verdict("function", i, code, "shape"))
            continue
        if code in base.function_names:
            same = normalize_name(base.function_names[code]) == normalize_name(name)
            verdicts.append(Verdict("function", i, code, "same" if same else "known",
                                    base.function_names[code]))
            continue
        parent = code[:5] if len(code) == 7 else code[:3]
        if parent not in base.function_names and parent not in fn:
            verdicts.append(Verdict("function", i, code, "parent", parent))
            continue
        inherited = fn[parent][1] if parent in fn and fn[parent][1] else base.fund_of(parent)
        if fund and fund != inherited and len(code) == 7:
            verdicts.append(Verdict("function", i, code, "fund", inherited))
            continue
        fn[code] = (name, fund)
        verdicts.append(Verdict("function", i, code, "added"))
    for i, e in enumerate(economic):
        code, name = str(e.code).strip(), str(e.name).strip()
        if not re.fullmatch(r"3[0-9]{4}", code):
            verdicts.append(Verdict("economic", i, code, "shape"))
            continue
        if code in base.economic_names:
            same = normalize_name(base.economic_names[code]) == normalize_name(name)
            verdicts.append(Verdict("economic", i, code, "same" if same else "known",
                                    base.economic_names[code]))
            continue
        if code[:3] not in base.economic_classes:
            verdicts.append(Verdict("economic", i, code, "parent", code[:3]))
            continue
        ec[code] = name
        verdicts.append(Verdict("economic", i, code, "added"))
    return fn, ec, verdicts


def catalog_for(budget: Any, base: Catalog | None = None) -> Catalog:
    """The catalog a department file is checked against: its year's, plus its own valid codes."""
    base = base or load_catalog(budget.department.year)
    extra = getattr(budget, "catalog", None)
    if extra is None:
        return base
    fn, ec, _ = judge_supplement(base, extra.function, extra.economic)
    return base.supplemented(fn, ec)
