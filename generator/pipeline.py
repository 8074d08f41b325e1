"""The pipeline in one place: load → model → compute → validate, each returning problems.

`run(path)` is what every command uses; it never raises for bad input, it returns problems.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .catalog import Catalog, catalog_for
from .compute import Disclosure, Figures, compute
from .loader import RawDoc, load_file, load_text
from .model import Budget, build_model
from .problems import Problem, has_errors, sort_problems
from .validate import validate


_REFUSALS = {"YAML标签", "YAML键", "YAML别名"}


@dataclass
class Result:
    file: str
    doc: RawDoc | None = None
    budget: Budget | None = None
    disclosure: Disclosure | None = None
    figures: Figures | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.disclosure is not None and not has_errors(self.problems)

    @property
    def readable(self) -> bool:
        """False when the file could not even be read as YAML (exit status 2)."""
        return self.doc is not None


def run_doc(doc: RawDoc | None, problems: list[Problem], catalog: Catalog | None = None) -> Result:
    result = Result(doc.file if doc else "", doc=doc, problems=list(problems))
    if doc is None:
        result.problems = sort_problems(result.problems)
        return result
    budget, more = build_model(doc)
    # a refused tag or key leaves an empty value behind; "不能为空" at the same spot says nothing new
    refused = {p.location for p in problems if p.rule in _REFUSALS}
    result.problems += [p for p in more if p.location not in refused]
    if budget is not None:
        catalog = catalog_for(budget, catalog)  # the file's year's catalog + its `catalog:` codes
        disclosure, fig = compute(budget, catalog)
        result.budget, result.disclosure, result.figures = budget, disclosure, fig
        result.problems += validate(budget, fig, doc, catalog)
    result.problems = sort_problems(result.problems)
    return result


def run(path: str | Path, catalog: Catalog | None = None) -> Result:
    doc, problems = load_file(path)
    result = run_doc(doc, problems, catalog)
    result.file = str(path)
    return result


def run_text(text: str, name: str = "<input>", catalog: Catalog | None = None) -> Result:
    doc, problems = load_text(text, name)
    result = run_doc(doc, problems, catalog)
    result.file = name
    return result
