"""Validate stage: the cross-table rules, each producing located problems (stub; filled next)."""
from __future__ import annotations


def validate(budget, fig, doc, catalog):
    return []
