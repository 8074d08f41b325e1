"""`budgetgen catalog [CODE|WORD]`: look codes up in a budget year's catalog.

A code prints its name, its parents (类 → 款), its fund and its children; a word prints every
code whose name contains it; nothing prints the catalog's sources and size. Read-only.
"""
from __future__ import annotations

import re
from pathlib import Path
import typer

from ..catalog import FUND_LABELS, Catalog, Entry, catalog_for, load_catalog
from .exitcodes import Exit

MAX_MATCHES = 200


def _flags(e: Entry) -> str:
    out = []
    if e.fund and e.fund != "general":
        out.append(FUND_LABELS[e.fund])
    if e.unconfirmed:
        out.append("名称未经核实")
    if e.supplemented:
        out.append("本文件补充")
    return f"（{'，'.join(out)}）" if out else ""


def _line(e: Entry, indent: str = "") -> str:
    return f"{indent}{e.code}  {e.name}{_flags(e)}"


def describe_code(cat: Catalog, code: str) -> list[str] | None:
    e = cat.entry(code)
    if e is None:
        return None
    kind = "支出功能分类" if e.kind == "function" else "部门预算支出经济分类"
    out = [f"{e.code}  {e.name}", f"  {kind}·{e.level}级科目" +
           (f"，资金性质：{FUND_LABELS[e.fund or 'general']}" if e.kind == "function" else "") +
           ("；名称未能从公开来源核实，请与本年度科目表核对" if e.unconfirmed else "") +
           ("；由部门文件补充" if e.supplemented else "")]
    parents = cat.parents(code)
    if parents:
        out.append("  上级：" + " → ".join(f"{p.code} {p.name}" for p in parents))
    children = cat.children(code)
    if children:
        out.append(f"  下级（{len(children)}个）：")
        out += [_line(c, "    ") for c in children]
    return out


def lookup(cat: Catalog, query: str) -> tuple[list[str], bool]:
    """(lines to print, found anything)."""
    query = query.strip()
    if re.fullmatch(r"[0-9]{3}([0-9]{2}([0-9]{2})?)?", query):
        lines = describe_code(cat, query)
        if lines is not None:
            return lines, True
        parent = next((e for n in (5, 3) if n < len(query) and (e := cat.entry(query[:n]))), None)
        hint = f"；上级科目 {parent.code} {parent.name} 的下级见 budgetgen catalog {parent.code}" if parent else ""
        return [f"{cat.year}年目录中没有科目 {query}{hint}。",
                "如确为本年度科目表中的科目，可在部门文件的 catalog: 一节中补充（见 docs/input-format.md）。"], False
    found = cat.search(query)
    if not found:
        return [f"{cat.year}年目录中没有名称含“{query}”的科目。"], False
    lines = [f"名称含“{query}”的科目（{len(found)}个）："]
    for e in found[:MAX_MATCHES]:
        chain = " → ".join(p.name for p in cat.parents(e.code))
        lines.append(_line(e, "  ") + (f"  〔{chain}〕" if chain else ""))
    if len(found) > MAX_MATCHES:
        lines.append(f"  ……另有{len(found) - MAX_MATCHES}个，请用更具体的词")
    return lines, True


def summary(cat: Catalog) -> list[str]:
    fn = cat.function_names
    counts = {n: sum(1 for c in fn if len(c) == n) for n in (3, 5, 7)}
    econ = sum(1 for c in cat.economic_names if len(c) == 5)
    unsure = len(cat.unconfirmed)
    return [f"{cat.year}年科目目录：支出功能分类 {counts[3]}个类、{counts[5]}个款、{counts[7]}个项；"
            f"部门预算支出经济分类 {len(cat.economic_classes)}个类、{econ}个款"
            + (f"；其中{unsure}个名称未经核实" if unsure else "") + "。",
            "来源：" + "；".join(cat.sources),
            "用法：budgetgen catalog 2130504（编码 → 名称、上级、下级）；budgetgen catalog 乡村振兴（按名称查找）"]


def register(app: typer.Typer) -> None:
    @app.command("catalog")
    def catalog_cmd(
        query: str | None = typer.Argument(None, help="科目编码（3、5或7位）或名称中的词", metavar="[CODE|WORD]"),
        year: int | None = typer.Option(None, "--year", "-y", help="预算年度（默认：最新的目录）"),
        file: Path | None = typer.Option(None, "--file", "-f",
                                            help="部门 YAML 文件：按其年度查，并包括其 catalog: 一节补充的科目"),
    ):
        """查科目：编码 → 名称、上级、资金性质；词 → 名称含该词的科目。不带参数时显示目录来源。"""
        cat = load_catalog(year)
        if file is not None:
            from ..pipeline import run
            result = run(file)
            if result.budget is None:
                typer.echo(f"{file}：无法读取，请先运行 budgetgen check {file}", err=True)
                raise typer.Exit(int(Exit.UNREADABLE if not result.readable else Exit.DATA_ERRORS))
            cat = catalog_for(result.budget, load_catalog(year or result.budget.department.year))
        if query is None:
            for line in summary(cat):
                typer.echo(line)
            return
        lines, found = lookup(cat, query)
        for line in lines:
            typer.echo(line)
        raise typer.Exit(0 if found else 1)
