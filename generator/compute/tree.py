"""Rollups as a code tree: each node keeps its own amounts apart from its children's total.

Like fava's Tree: a 项 line's amounts are the node's own; a 款 or 类 node's figure is its own
(normally zero) plus the sum of its children. Amounts are fixed-length vectors of Decimal,
one per schedule column.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..money import ZERO


def vadd(a: tuple, b: tuple) -> tuple:
    return tuple(x + y for x, y in zip(a, b))


@dataclass
class Node:
    code: str
    own: tuple
    children: dict = field(default_factory=dict)

    def total(self) -> tuple:
        out = self.own
        for child in self.children.values():
            out = vadd(out, child.total())
        return out

    def walk(self, depth: int = 0):
        """Yield (depth, node) depth-first, children in code order."""
        yield depth, self
        for code in sorted(self.children):
            yield from self.children[code].walk(depth + 1)


class CodeTree:
    """A forest keyed by code prefixes: split(code) gives the chain 类 → 款 → 项."""

    def __init__(self, width: int, levels: tuple[int, ...]):
        self.width = width
        self.levels = levels  # prefix lengths, e.g. (3, 5, 7) or (3, 5)
        self.root = Node("", self.zero())

    def zero(self) -> tuple:
        return (ZERO,) * self.width

    def add(self, code: str, amounts: tuple) -> None:
        node = self.root
        for n in self.levels:
            prefix = code[:n]
            node = node.children.setdefault(prefix, Node(prefix, self.zero()))
            if n >= len(code):
                break
        node.own = vadd(node.own, tuple(Decimal(a) for a in amounts))

    def total(self) -> tuple:
        return self.root.total()

    def rows(self):
        """(depth, code, totals) for every node below the root, depth 1 = 类."""
        for depth, node in self.root.walk():
            if depth:
                yield depth, node.code, node.total()

    def node(self, code: str) -> Node | None:
        current = self.root
        for n in self.levels:
            child = current.children.get(code[:n])
            if child is None or n >= len(code):
                return child
            current = child
        return current
