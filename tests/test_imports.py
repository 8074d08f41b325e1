"""The package's import graph, read from the source with ast (nothing is imported): no cycle, and
no import from a lower stage of the pipeline to a higher one
(load → model → compute → validate → render → commands).

Every import counts — at module level, inside a function, under `if TYPE_CHECKING:` — so a
function-level import cannot hide a cycle."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "generator"

# Each module's stage, by its dotted name or the package it lies in (longest prefix wins).
# "shared" holds what every stage uses: located problems, the one rounding rule, the package
# resources and its version.
STAGES = ("shared", "load", "model", "compute", "validate", "render", "commands")
STAGE_OF = {
    "generator": "shared",  # the package itself: its docstring and __version__ only
    "generator.problems": "shared",
    "generator.money": "shared",
    "generator.resources": "shared",
    "generator.infile": "load",
    "generator.yamltree": "load",
    "generator.yamlerrors": "load",
    "generator.loader": "load",
    "generator.inputs": "load",  # which files a department is read from (the loader's path rules)
    "generator.messages": "model",
    "generator.schemafields": "model",
    "generator.model": "model",
    "generator.schema": "model",
    "generator.catalog": "model",
    "generator.layout": "model",
    "generator.sentences": "model",  # a layout's sentence templates, checked as the layout loads
    "generator.consolidate": "compute",  # a 部门 = 本级 + 所属单位, summed with compute's figures
    "generator.compute": "compute",
    "generator.validate": "validate",
    "generator.pipeline": "validate",  # load → model → compute → validate, the stages it runs
    "generator.importer": "validate",  # workbook → leaf facts, read with the code rules of validate
    "generator.render": "render",
    "generator.commands": "commands",
    "generator.__main__": "commands",
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def stage(module: str) -> str:
    """The stage of a module: its own entry, else its package's (not the root package's: a new
    module of the package root must be given its stage)."""
    name = module
    while name not in STAGE_OF or (name == "generator" and module != "generator"):
        if "." not in name or name == "generator":
            raise AssertionError(f"{module} has no stage: add it to STAGE_OF")
        name = name.rsplit(".", 1)[0]
    return STAGE_OF[name]


def imports(module: str) -> dict[str, int]:
    """The package's modules `module` imports (anywhere in it) → the first line that does."""
    path = MODULES[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from p import m` of a module m imports m (p, its package, is there already);
            # of a name defined in p, it imports p
            names = [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target
                     for a in node.names]
        for name in names:
            while name and name not in MODULES:  # `import a.b.c` of a name: the module
                name = name.rsplit(".", 1)[0] if "." in name else ""
            if name and name != module:
                found.setdefault(name, node.lineno)
    return found


GRAPH = {m: imports(m) for m in MODULES}


def _cycles() -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return out


def test_the_graph_is_read():
    # the reader sees relative, absolute and function-level imports (else the checks pass vacuously)
    assert "generator.render.pdf" in GRAPH["generator.commands.jobs"]  # inside a function
    assert "generator.model" in GRAPH["generator.layout"]  # from .model import …
    assert "generator.problems" in GRAPH["generator.loader"]
    assert len(MODULES) > 60


def test_no_import_cycle():
    assert _cycles() == []


def test_a_cycle_would_be_found(monkeypatch):
    monkeypatch.setitem(GRAPH, "generator.problems", {**GRAPH["generator.problems"],
                                                       "generator.commands.cli": 1})
    assert _cycles()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_runs_back_up(module):
    mine = STAGES.index(stage(module))
    upward = {name: line for name, line in GRAPH[module].items() if STAGES.index(stage(name)) > mine}
    assert not upward, f"{module} ({stage(module)}) imports a later stage: " + ", ".join(
        f"{name} ({stage(name)}) at line {line}" for name, line in upward.items())
