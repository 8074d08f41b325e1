"""Compute stage: a validated Budget and a Layout → the Disclosure (tables, text, annex tables).

Pure function of (budget, catalog, layout); no I/O. The layout chooses and arranges the table
kinds and text blocks; the builders here know nothing of which layout it is. Renderers take
the result and never recompute.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ..catalog import Catalog
from ..layout import Layout, builtin, number_label
from ..model import Budget
from .annex import (
    assets_table,
    department_goals_table,
    institutions_table,
    procurement_table,
    project_goals_table,
    project_list_table,
    services_table,
)
from .context import Ctx
from .figures import Figures, compute_figures
from .schedules import (
    economic_table,
    fiscal_summary_table,
    function_table,
    summary_table,
    three_public_table,
)
from .tables import Disclosure, Table
from .text import build_sections, section_projects

__all__ = ["TABLE_BUILDERS", "Disclosure", "Figures", "compute"]

# table kind (as a layout names it) → builder(ctx, spec, key)
TABLE_BUILDERS: dict[str, Callable[..., Table | None]] = {
    "summary": summary_table, "function": function_table, "fiscal_summary": fiscal_summary_table,
    "economic": economic_table, "three_public": three_public_table, "projects": project_list_table,
    "procurement": procurement_table, "services": services_table,
    "project_goals": project_goals_table, "department_goals": department_goals_table,
    "assets": assets_table, "institutions": institutions_table,
}


KINDS = ("部门预算", "单位预算")


def build_table(ctx: Ctx, spec, key: str) -> Table | None:
    """One table of the layout; the layout's rounding note goes under it when a printed amount
    differs from its exact value."""
    before = ctx.rounded
    with ctx.in_unit(spec.unit):
        table = TABLE_BUILDERS[spec.kind](ctx, spec, key)
        note = ctx.layout.rounding_note
        if table is not None and note and ctx.rounded > before:
            table = dataclasses.replace(table, notes_after=table.notes_after + (ctx.fill(note),))
    return table


def compute(budget: Budget, catalog: Catalog, layout: Layout | str | None = None,
            kind: str | None = None) -> tuple[Disclosure, Figures]:
    """The disclosure in `layout`; without one, in the built-in layout department.edition names
    (the pipeline resolves paths and --layout, and reports unknown names).

    `kind`: 部门预算 or 单位预算 (default: as the file's department.kind says). A 单位预算 says
    单位预算 where the layout's titles say 部门预算 (单位预算收支总表 …)."""
    if isinstance(layout, str):  # compute(budget, catalog, "单位预算"): the kind, positionally
        layout, kind = None, layout
    if kind is None:
        kind = "单位预算" if budget.department.kind == "unit" else "部门预算"
    if layout is None:
        layout = builtin(budget.department.edition, budget.department.year)
    fig = compute_figures(budget, catalog)
    ctx = Ctx(budget, catalog, layout, fig, kind=kind)
    schedules: list[Table] = []
    labels: list[str] = []
    for i, spec in enumerate(layout.tables, 1):
        table = build_table(ctx, spec, f"s{i}")
        if table is not None:
            schedules.append(table)
            labels.append(spec.number if spec.number is not None
                          else number_label(layout.numbering.tables, len(schedules)))
    sections, annex = build_sections(ctx)
    d = budget.department
    parts = (("tables", ctx.titled(ctx.fill(layout.parts.tables))),
             ("text", ctx.titled(ctx.fill(layout.parts.text))))
    if layout.order == "text_first":
        parts = parts[::-1]
    disclosure = Disclosure(
        department_code=d.code, department_name=d.name, year=d.year, edition=layout.key,
        title=ctx.titled(ctx.fill(layout.title)), kind=kind, schedules=tuple(schedules),
        sections=sections, annex_tables=annex, projects=section_projects(sections),
        published=d.published,
        figures={"total": fig.total, "basic": fig.basic, "project": fig.project,
                 "personnel": fig.personnel, "public": fig.public,
                 "three_public": fig.three_public_total, "procurement": fig.procurement_total,
                 "assets": fig.assets_total},
        schedule_labels=tuple(labels), parts=parts, intro=ctx.titled(ctx.fill(layout.intro)), unit=layout.unit,
        problems=tuple(ctx.problems),
    )
    return disclosure, fig
