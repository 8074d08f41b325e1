"""Validate stage: every cross-table rule, each producing located problems, all at once.

Rules are grouped by what they look at (codes, totals, projects, annex, and hygiene: text a
clerk most likely forgot to edit, warnings only; unfinished work, which `render` refuses to
publish; the inspector's checks of a published disclosure; amounts whose magnitude looks
typed in the wrong unit). Each rule function
takes a Context and returns a list of Problems; nothing is raised. Errors block rendering,
warnings do not.
"""
from __future__ import annotations

from ..catalog import Catalog
from ..compute import Figures
from ..loader import RawDoc
from ..model import Budget
from ..problems import Problem
from . import annex, codes, hygiene, inspector, magnitude, prior, projects, services, totals, unfinished
from .context import Context

RULES = (codes.RULES + totals.RULES + projects.RULES + annex.RULES + services.RULES
         + prior.RULES + hygiene.RULES + unfinished.RULES + inspector.RULES + magnitude.RULES)


def validate(budget: Budget, fig: Figures, doc: RawDoc, catalog: Catalog,
             rules=RULES, layout: object | None = None, disclosure: object | None = None) -> list[Problem]:
    """`layout`: the layout the file is printed in, for rules on what it prints (hygiene);
    `disclosure`: what is printed, for the inspector's rules on the printed text."""
    ctx = Context(budget, fig, doc, catalog, layout, disclosure)
    problems: list[Problem] = []
    for rule in rules:
        problems += rule(ctx)
    return problems
