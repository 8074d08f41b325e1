"""The pipeline in one place: load → model → compute → validate, each returning problems.

`run(path)` is what every command uses; it never raises for bad input, it returns problems.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .catalog import Catalog, catalog_for
from .compute import Disclosure, Figures, compute
from .layout import Layout, resolve as resolve_layout
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
    layout: Layout | None = None

    @property
    def ok(self) -> bool:
        return self.disclosure is not None and not has_errors(self.problems)

    @property
    def readable(self) -> bool:
        """False when the file could not even be read as YAML (exit status 2)."""
        return self.doc is not None


def _layout(doc: RawDoc, override: str | None) -> tuple[Layout | None, list[Problem]]:
    """The layout named by --layout (relative to the working folder) or by department.edition
    (relative to the department file). No name at all is the model's problem to report."""
    from .problems import Location
    if override:
        return resolve_layout(override, Path.cwd(), Location(doc.file), what="--layout")
    department = doc.data.get("department") if isinstance(doc.data, dict) else None
    name = department.get("edition") if isinstance(department, dict) else None
    if not isinstance(name, str) or not name.strip():
        return None, []
    base = Path(doc.file).parent if doc.file and not doc.file.startswith("<") else Path.cwd()
    return resolve_layout(name, base, doc.locate(("department", "edition")))


def run_doc(doc: RawDoc | None, problems: list[Problem], catalog: Catalog | None = None,
            layout: str | None = None) -> Result:
    result = Result(doc.file if doc else "", doc=doc, problems=list(problems))
    if doc is None:
        result.problems = sort_problems(result.problems)
        return result
    budget, more = build_model(doc)
    # a refused tag or key leaves an empty value behind; "不能为空" at the same spot says nothing new
    refused = {p.location for p in problems if p.rule in _REFUSALS}
    result.problems += [p for p in more if p.location not in refused]
    chosen, more = _layout(doc, layout)
    result.problems += more
    result.layout = chosen
    if budget is not None and chosen is not None:
        catalog = catalog_for(budget, catalog)  # the file's year's catalog + its `catalog:` codes
        disclosure, fig = compute(budget, catalog, chosen)
        result.budget, result.disclosure, result.figures = budget, disclosure, fig
        result.problems += validate(budget, fig, doc, catalog)
    result.problems = sort_problems(result.problems)
    return result


def run(path: str | Path, catalog: Catalog | None = None, layout: str | None = None) -> Result:
    """`layout`: a built-in key or a layout file path, overriding department.edition."""
    doc, problems = load_file(path)
    result = run_doc(doc, problems, catalog, layout)
    result.file = str(path)
    return result


def run_text(text: str, name: str = "<input>", catalog: Catalog | None = None,
             layout: str | None = None) -> Result:
    doc, problems = load_text(text, name)
    result = run_doc(doc, problems, catalog, layout)
    result.file = name
    return result
