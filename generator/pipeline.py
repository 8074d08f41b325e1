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
from .loader import RawDoc, load_file, load_text
from .model import Budget, build_model
from .problems import Problem, has_errors, sort_problems
from .validate import RULES, validate
from .validate.totals import control_totals, declared_income

_REFUSALS = {"YAML标签", "YAML键", "YAML别名"}
# a department file's declared totals and income are the whole department's, not its 本级's
WHOLE_RULES = (declared_income, control_totals)
OWN_RULES = tuple(r for r in RULES if r not in WHOLE_RULES)


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
    readable: ClassVar[bool] = True

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)


@dataclass
class Refused:
    """Failure: the file could not be read as YAML (`doc` is None: exit status 3), or not be
    typed into a model, or its units not be consolidated (errors in `problems`). There is
    nothing to render."""
    file: str
    doc: RawDoc | None
    problems: list[Problem] = field(default_factory=list)
    units: list[Result] = field(default_factory=list)
    consolidation: Consolidation | None = None
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


def run_doc(doc: RawDoc | None, problems: list[Problem], catalog: Catalog | None = None,
            kind: str | None = None, file: str | None = None) -> Result:
    name = file if file is not None else (doc.file if doc else "")
    if doc is None:
        return Refused(name, None, sort_problems(problems))
    budget, found = _model(doc, problems)
    if budget is None:
        return Refused(name, doc, sort_problems(found))
    if budget.units:
        return _department(name, budget, doc, catalog, found)
    # the file's year's catalog + its `catalog:` codes
    return _single(name, budget, doc, catalog_for(budget, catalog), kind, found)


def _single(name: str, budget: Budget, doc: RawDoc, catalog: Catalog, kind: str | None,
            found: list[Problem]) -> Checked:
    disclosure, fig = compute(budget, catalog, kind)
    found = found + validate(budget, fig, doc, catalog)
    return Checked(name, doc, budget, disclosure, fig, sort_problems(found))


def _department(name: str, budget: Budget, doc: RawDoc, catalog: Catalog | None,
                found: list[Problem]) -> Result:
    """A department with 所属单位: each unit, the 本级, then the consolidated whole."""
    cons, more = consolidate(budget, doc, _open_unit)
    found = found + more
    units: list[Result] = []
    for part in cons.units:
        unit: Result
        if part.doc is not None and part.budget is not None:
            unit = _single(part.file, part.budget, part.doc, catalog_for(part.budget, catalog), "单位预算",
                           list(part.problems))
        else:
            unit = Refused(part.file, part.doc, sort_problems(part.problems))
        units.append(unit)
        found += unit.problems
    own = catalog_for(budget, catalog)
    found += validate(budget, compute_figures(budget, own), doc, own, OWN_RULES)
    if cons.budget is None:
        return Refused(name, doc, sort_problems(found), units, cons)
    whole = catalog_for(cons.budget, catalog)  # every file's `catalog:` codes
    disclosure, fig = compute(cons.budget, whole, "部门预算")
    found += validate(cons.budget, fig, WholeDoc.of(doc, cons.origins), whole, WHOLE_RULES)
    return Checked(name, doc, cons.budget, disclosure, fig, sort_problems(found), units, cons)


def run(path: str | Path, catalog: Catalog | None = None) -> Result:
    doc, problems = load_file(path)
    return run_doc(doc, problems, catalog, file=str(path))


def run_text(text: str, name: str = "<input>", catalog: Catalog | None = None) -> Result:
    doc, problems = load_text(text, name)
    return run_doc(doc, problems, catalog, file=name)
