"""Compute stage: a validated Budget → the Disclosure (nine schedules, text, annex tables).

Pure function of (budget, catalog); no I/O. Renderers take its result and never recompute.
"""
from __future__ import annotations

import dataclasses

from ..catalog import Catalog
from ..editions import EDITIONS
from ..model import Budget
from .annex import project_tables
from .figures import Figures, compute_figures
from .schedules import build_schedules
from .tables import Disclosure
from .text import build_sections

__all__ = ["compute", "Figures", "Disclosure"]


KINDS = ("部门预算", "单位预算")


def compute(budget: Budget, catalog: Catalog, kind: str | None = None) -> tuple[Disclosure, Figures]:
    """`kind`: 部门预算 or 单位预算 (default: as the file's department.kind says)."""
    if kind is None:
        kind = "单位预算" if budget.department.kind == "unit" else "部门预算"
    edition = EDITIONS[budget.department.edition]
    if kind != "部门预算":  # a unit's own disclosure: 单位预算收支总表 …
        edition = dataclasses.replace(edition, schedule_titles=tuple(
            t.replace("部门预算", kind, 1) for t in edition.schedule_titles))
    fig = compute_figures(budget, catalog)
    schedules = build_schedules(budget, catalog, edition, fig)
    projects = project_tables(budget, edition)
    sections, annex = build_sections(budget, catalog, edition, fig, projects)
    d = budget.department
    disclosure = Disclosure(
        department_code=d.code, department_name=d.name, year=d.year, edition=edition.key,
        title=f"{d.name}{d.year}年{kind}公开", kind=kind, schedules=schedules, sections=sections,
        annex_tables=annex, projects=projects,
        figures={"total": fig.total, "basic": fig.basic, "project": fig.project,
                 "personnel": fig.personnel, "public": fig.public,
                 "three_public": fig.three_public_total, "procurement": fig.procurement_total,
                 "assets": fig.assets_total},
    )
    return disclosure, fig
