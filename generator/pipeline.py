"""The pipeline in one place: load → model → compute → validate, each returning problems.

`run(path)` is what every command uses; it never raises for bad input, it returns problems.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from .catalog import Catalog, catalog_for
from .compute import Disclosure, Figures, compute
from .loader import RawDoc, load_file, load_text
from .model import Budget, build_model
from .problems import Problem, has_errors, sort_problems
from .validate import validate


_REFUSALS = {"YAML标签", "YAML键", "YAML别名"}


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
    readable: ClassVar[bool] = True

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)


@dataclass
class Refused:
    """Failure: the file could not be read as YAML (`doc` is None: exit status 3), or not be
    typed into a model (errors in `problems`). There is nothing to compute or render."""
    file: str
    doc: RawDoc | None
    problems: list[Problem] = field(default_factory=list)
    budget: ClassVar[None] = None
    disclosure: ClassVar[None] = None
    figures: ClassVar[None] = None
    ok: ClassVar[bool] = False

    @property
    def readable(self) -> bool:
        return self.doc is not None


Result = Checked | Refused  # what `run` returns: narrow with isinstance(result, Checked)


def run_doc(doc: RawDoc | None, problems: list[Problem], catalog: Catalog | None = None,
            file: str | None = None) -> Result:
    name = file if file is not None else (doc.file if doc else "")
    if doc is None:
        return Refused(name, None, sort_problems(problems))
    budget, more = build_model(doc)
    # a refused tag or key leaves an empty value behind; "不能为空" at the same spot says nothing new
    refused = {p.location for p in problems if p.rule in _REFUSALS}
    found = list(problems) + [p for p in more if p.location not in refused]
    if budget is None:
        return Refused(name, doc, sort_problems(found))
    catalog = catalog_for(budget, catalog)  # the file's year's catalog + its `catalog:` codes
    disclosure, fig = compute(budget, catalog)
    found += validate(budget, fig, doc, catalog)
    return Checked(name, doc, budget, disclosure, fig, sort_problems(found))


def run(path: str | Path, catalog: Catalog | None = None) -> Result:
    doc, problems = load_file(path)
    return run_doc(doc, problems, catalog, str(path))


def run_text(text: str, name: str = "<input>", catalog: Catalog | None = None) -> Result:
    doc, problems = load_text(text, name)
    return run_doc(doc, problems, catalog, name)
