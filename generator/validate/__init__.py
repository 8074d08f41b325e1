"""Validate stage: every cross-table rule, each producing located problems, all at once.

Rules are grouped by what they look at (codes, totals, projects, annex). Each rule function
takes a Context and returns a list of Problems; nothing is raised. Errors block rendering,
warnings do not.
"""
from __future__ import annotations

from ..catalog import Catalog
from ..compute import Figures
from ..loader import RawDoc
from ..model import Budget
from ..problems import Problem
from . import annex, codes, projects, services, totals
from .context import Context

RULES = codes.RULES + totals.RULES + projects.RULES + annex.RULES + services.RULES


def validate(budget: Budget, fig: Figures, doc: RawDoc, catalog: Catalog,
             rules=RULES) -> list[Problem]:
    ctx = Context(budget, fig, doc, catalog)
    problems: list[Problem] = []
    for rule in rules:
        problems += rule(ctx)
    return problems
