"""The pipeline in one place: load → model → consolidate → compute → validate, each returning
problems.

`run(path)` is what every command uses; it never raises for bad input, it returns problems.
A department file listing its 所属单位 (`units:`) is consolidated: each unit file goes through
load → model → compute → validate on its own (its 单位预算, its problems located in its own
file), the department file's own facts (its 本级) are checked by every rule about them, and the
consolidated whole is computed and checked against the department's declared totals.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from .catalog import Catalog, catalog_for
from .compute import Disclosure, Figures, compute
from .compute.figures import compute_figures
from .consolidate import Consolidation, WholeDoc, consolidate
from .layout import Layout
from .layout import resolve as resolve_layout
from .loader import RawDoc, load_file, load_text
from .model import Budget, build_model
from .problems import Problem, has_errors, sort_problems
from .validate import RULES, inspector, validate
from .validate.totals import control_totals, declared_income

_REFUSALS = {"YAML标签", "YAML键", "YAML别名"}
# a department file's declared totals and income are the whole department's, not its 本级's
WHOLE_RULES = (declared_income, control_totals)
OWN_RULES = tuple(r for r in RULES if r not in WHOLE_RULES)
PRINTED_RULES = inspector.PRINTED_RULES


@dataclass
class Checked:
    """Success: the file became a typed model and was computed. It may still have errors (a rule
    between tables that does not hold); `ok` says whether it may be rendered."""
    file: str
    doc: RawDoc
    budget: Budget
    disclosure: Disclosure
    figures: Figures
    problems: list[Problem] = field(default_factory=list)
    units: list[Result] = field(default_factory=list)  # 所属单位, each with its own 单位预算
    consolidation: Consolidation | None = None  # for a department file listing units
    layout: Layout | None = None  # the layout the disclosure is in
    readable: ClassVar[bool] = True

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)


@dataclass
class Refused:
    """Failure: the file could not be read as YAML (`doc` is None: exit status 3), or not be
    typed into a model, its layout not be found, or its units not be consolidated (errors in
    `problems`). There is nothing to render."""
    file: str
    doc: RawDoc | None
    problems: list[Problem] = field(default_factory=list)
    units: list[Result] = field(default_factory=list)
    consolidation: Consolidation | None = None
    layout: Layout | None = None
    budget: ClassVar[None] = None
    disclosure: ClassVar[None] = None
    figures: ClassVar[None] = None
    ok: ClassVar[bool] = False

    @property
    def readable(self) -> bool:
        return self.doc is not None


Result = Checked | Refused  # what `run` returns: narrow with isinstance(result, Checked)


def _model(doc: RawDoc, problems: list[Problem]) -> tuple[Budget | None, list[Problem]]:
    budget, more = build_model(doc)
    # a refused tag or key leaves an empty value behind; "不能为空" at the same spot says nothing new
    refused = {p.location for p in problems if p.rule in _REFUSALS}
    return budget, list(problems) + [p for p in more if p.location not in refused]


def _open_unit(path: Path) -> tuple[RawDoc | None, Budget | None, list[Problem]]:
    doc, problems = load_file(path)
    if doc is None:
        return None, None, problems
    budget, problems = _model(doc, problems)
    return doc, budget, problems


def _layout(doc: RawDoc, override: str | None) -> tuple[Layout | None, list[Problem]]:
    """The layout named by --layout (relative to the working folder) or by department.edition
    (relative to the department file). No name at all is the model's problem to report."""
    from .problems import Location
    department = doc.data.get("department") if isinstance(doc.data, dict) else None
    year = department.get("year") if isinstance(department, dict) else None
    year = int(year) if isinstance(year, (int, str)) and str(year).strip().isdigit() else None
    if override:
        return resolve_layout(override, Path.cwd(), Location(doc.file), what="--layout", year=year)
    name = department.get("edition") if isinstance(department, dict) else None
    if not isinstance(name, str) or not name.strip():
        return None, []
    base = Path(doc.file).parent if doc.file and not doc.file.startswith("<") else Path.cwd()
    return resolve_layout(name, base, doc.locate(("department", "edition")), year=year)


def run_doc(doc: RawDoc | None, problems: list[Problem], catalog: Catalog | None = None,
            kind: str | None = None, layout: str | None = None, file: str | None = None) -> Result:
    """`layout`: a built-in key or a layout file path overriding department.edition."""
    name = file if file is not None else (doc.file if doc else "")
    if doc is None:
        return Refused(name, None, sort_problems(problems))
    budget, found = _model(doc, problems)
    chosen, more = _layout(doc, layout)
    found += more
    if budget is None or chosen is None:
        return Refused(name, doc, sort_problems(found), layout=chosen)
    if budget.units:
        return _department(name, budget, doc, catalog, chosen, layout, found)
    # the file's year's catalog + its `catalog:` codes
    return _single(name, budget, doc, catalog_for(budget, catalog), kind, chosen, found)


def _single(name: str, budget: Budget, doc: RawDoc, catalog: Catalog, kind: str | None,
            layout: Layout, found: list[Problem]) -> Checked:
    disclosure, fig = compute(budget, catalog, layout, kind=kind)
    found = found + list(disclosure.problems) + validate(budget, fig, doc, catalog, layout=layout,
                                                         disclosure=disclosure)
    return Checked(name, doc, budget, disclosure, fig, sort_problems(found), layout=layout)


def _department(name: str, budget: Budget, doc: RawDoc, catalog: Catalog | None, layout: Layout,
                override: str | None, found: list[Problem]) -> Result:
    """A department with 所属单位: each unit (in the layout its own file names, or --layout),
    the 本级, then the consolidated whole."""
    cons, more = consolidate(budget, doc, _open_unit)
    found = found + more
    units: list[Result] = []
    for part in cons.units:
        unit: Result
        own_problems = list(part.problems)
        chosen: Layout | None = None
        if part.doc is not None and part.budget is not None:
            chosen, extra = _layout(part.doc, override)
            own_problems += extra
        if part.doc is not None and part.budget is not None and chosen is not None:
            unit = _single(part.file, part.budget, part.doc, catalog_for(part.budget, catalog), "单位预算",
                           chosen, own_problems)
        else:
            unit = Refused(part.file, part.doc, sort_problems(own_problems), layout=chosen)
        units.append(unit)
        found += unit.problems
    own = catalog_for(budget, catalog)
    found += validate(budget, compute_figures(budget, own), doc, own, OWN_RULES, layout=layout)
    if cons.budget is None:
        return Refused(name, doc, sort_problems(found), units, cons, layout)
    whole = catalog_for(cons.budget, catalog)  # every file's `catalog:` codes
    disclosure, fig = compute(cons.budget, whole, layout, kind="部门预算")
    found += list(disclosure.problems)
    found += validate(cons.budget, fig, WholeDoc.of(doc, cons.origins), whole, WHOLE_RULES)
    # what the consolidated disclosure prints: the inspector's rules on its tables and text
    found += validate(cons.budget, fig, doc, whole, PRINTED_RULES, layout=layout, disclosure=disclosure)
    return Checked(name, doc, cons.budget, disclosure, fig, sort_problems(found), units, cons, layout)


def run(path: str | Path, catalog: Catalog | None = None, layout: str | None = None) -> Result:
    """`layout`: a built-in key or a layout file path, overriding department.edition."""
    doc, problems = load_file(path)
    return run_doc(doc, problems, catalog, layout=layout, file=str(path))


def run_text(text: str, name: str = "<input>", catalog: Catalog | None = None,
             layout: str | None = None) -> Result:
    doc, problems = load_text(text, name)
    return run_doc(doc, problems, catalog, layout=layout, file=name)
