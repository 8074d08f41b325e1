"""Table kind (as a layout names it) → the function that builds it; one table of a layout built
with its rounding note. Used by compute() for the schedules and by text.py for tables placed
inside the explanatory text."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

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
from .schedules import (
    economic_table,
    fiscal_summary_table,
    function_table,
    summary_table,
    three_public_table,
)
from .tables import Table

# table kind (as a layout names it) → builder(ctx, spec, key)
TABLE_BUILDERS: dict[str, Callable[..., Table | None]] = {
    "summary": summary_table, "function": function_table, "fiscal_summary": fiscal_summary_table,
    "economic": economic_table, "three_public": three_public_table, "projects": project_list_table,
    "procurement": procurement_table, "services": services_table,
    "project_goals": project_goals_table, "department_goals": department_goals_table,
    "assets": assets_table, "institutions": institutions_table,
}


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
