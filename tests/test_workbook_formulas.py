"""Workbook totals are formulas (issue 27), the same in every example and layout, and
LibreOffice's recalculation of them gives the very figures written.

- Every total the workbook prints — a money cell in a row labelled 合计/小计/总计, or in a
  column headed so — is a formula, in every example of inputs/ in every built-in layout (三公
  合计/小计, 资产总额, 合计 = 基本 + 项目, the 政府采购 totals of the 900 example as of 524).
- LibreOffice (headless, Debian's libreoffice-calc-nogui) opens a copy of each workbook from
  which the cached values were removed, so it must compute every formula itself; each result
  equals the value budgetgen wrote. Skipped, saying why, where soffice is not installed.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from generator.compute.tables import Column, Head, Row, Table
from generator.pipeline import run
from generator.render.xlsx import render_xlsx
from generator.render.xlsx_layout import row_sum_sources, sum_sources

ROOT = Path(__file__).resolve().parent.parent
INPUTS = sorted((ROOT / "inputs").glob("*.yaml")) + sorted((ROOT / "inputs").glob("*/*.yaml"))
LAYOUTS = ("hebei-2025", "hebei-2023", "beijing-2025")
TOTAL = re.compile(r"合\s*计|小\s*计|总\s*计")

_BOOKS: dict[tuple[str, str], tuple[bytes, object]] = {}


def book(path: Path, layout: str) -> tuple[bytes, object]:
    key = (str(path), layout)
    if key not in _BOOKS:
        disclosure = run(path, layout=layout).disclosure
        assert disclosure is not None
        _BOOKS[key] = (render_xlsx(disclosure), disclosure)
    return _BOOKS[key]


def formula_cells(data: bytes) -> dict[tuple[str, str], str]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets for row in ws.iter_rows()
            for c in row if isinstance(c.value, str) and c.value.startswith("=")}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("path", INPUTS, ids=[p.stem[:6] for p in INPUTS])
def test_every_printed_total_is_a_formula(path, layout):
    data, disclosure = book(path, layout)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    values = [(ws.title, [[c.value for c in row] for row in ws.iter_rows()]) for ws in wb.worksheets]
    missing = []
    for table in (*disclosure.schedules, *(b for s in disclosure.sections for b in s.blocks
                                          if isinstance(b, Table))):
        sheet = next((rows for title, rows in values
                      if any(table.title in str(v) for r in rows[:2] for v in r if v)), None)
        assert sheet is not None, table.title
        labels = {j: "".join(h.text for h in _leaf_heads(table, j)) for j in range(table.width)}
        first = (2 if table.meta else 1) + len(table.header)  # title, meta line, header rows
        for i, row in enumerate(table.rows):
            label = "".join(c for c in row.cells if isinstance(c, str))
            for j, col in enumerate(table.columns):
                if col.kind != "money" or not row.cells[j]:
                    continue
                if (row.emphasis and TOTAL.search(label)) or TOTAL.search(labels[j]):
                    cell = sheet[first + i][j]
                    assert sheet[first + i][j] is not None
                    if not (isinstance(cell, str) and cell.startswith("=")):
                        missing.append(f"{table.title} {label[:12]} / {labels[j]}: {cell}")
    assert missing == []


def _leaf_heads(table: Table, col: int) -> list[Head]:
    from generator.render.xlsx_layout import place_header
    placed = [p for p in place_header(table.header, table.width)
              if p.colspan == 1 and p.col == col and not re.fullmatch(r"\d+|栏\s*次", p.text.strip())]
    return [Head(p.text) for p in placed]


def test_three_public_row_totals_by_hand():
    """合计 = 出国 + 接待 + 车辆小计, 小计 = 购置 + 运行 (figures worked out here)."""
    header = ((Head("合计", rowspan=2), Head("因公出国（境）费", rowspan=2), Head("公务接待费", rowspan=2),
               Head("公务用车购置及运行维护费", colspan=3)),
              (Head("小计"), Head("公务用车购置费"), Head("公务用车运行维护费")))
    money = Column("money", 10)
    table = Table("s9", "三公", (), header, (money,) * 6,
                  (Row((Decimal("6.20"), Decimal("0.50"), Decimal("1.00"), Decimal("4.70"),
                        Decimal("0.00"), Decimal("4.70"))),))
    assert row_sum_sources(table) == {(0, 0): (1, 2, 3), (0, 3): (4, 5)}


def test_top_down_groups_and_asset_total_by_hand():
    """政府采购: 合计 over the 小计 rows, each 小计 over its items; 资产总额 over 1、 2、 but not
    their 其中 rows."""
    cols = (Column("text", 10), Column("money", 10))
    procurement = Table("p", "采购", (), ((Head("项目"), Head("金额")),), cols, (
        Row(("合计", Decimal("7.00")), emphasis=True), Row(("甲小计", Decimal("3.00")), emphasis=True),
        Row(("a", Decimal("1.00"))), Row(("b", Decimal("2.00"))),
        Row(("乙小计", Decimal("4.00")), emphasis=True), Row(("c", Decimal("4.00")))))
    assert sum_sources(procurement) == {(0, 1): (1, 4), (1, 1): (2, 3), (4, 1): (5,)}
    assets = Table("a", "资产", (), ((Head("项目"), Head("价值")),), cols, (
        Row(("资产总额", Decimal("10.00")), emphasis=True), Row(("1、房屋", Decimal("6.00"))),
        Row(("\u3000\u3000其中：办公用房", Decimal("5.00"))), Row(("2、车辆", Decimal("4.00")))))
    assert sum_sources(assets) == {(0, 1): (1, 3)}


# ----------------------------------------------------------------------------- LibreOffice

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (Debian: libreoffice-calc-nogui) is not "
                                            "installed: .ci/setup installs it")
def test_libreoffice_recalculates_the_written_values(tmp_path):
    sources = tmp_path / "in"
    sources.mkdir()
    books = {}
    for path in INPUTS:
        for layout in LAYOUTS:
            data, _ = book(path, layout)
            name = f"{path.stem}-{layout}.xlsx"
            wb = openpyxl.load_workbook(io.BytesIO(data))  # saving drops the cached values
            wb.save(sources / name)
            books[name] = data
    out = tmp_path / "out"
    env = dict(os.environ, HOME=str(tmp_path))
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "xlsx", "--outdir", str(out),
                    *sorted(str(p) for p in sources.iterdir())],
                   check=True, capture_output=True, timeout=600, env=env)
    checked, wrong = 0, []
    for name, data in books.items():
        written = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
        computed = openpyxl.load_workbook(out / name, data_only=True)
        for (sheet, ref), formula in formula_cells(data).items():
            mine, theirs = written[sheet][ref].value, computed[sheet][ref].value
            checked += 1
            if not isinstance(theirs, (int, float)) or round(theirs - mine, 9) != 0:
                wrong.append(f"{name} {sheet}!{ref} {formula}: wrote {mine}, LibreOffice {theirs}")
    assert checked > 1000 and wrong == []
