#!/usr/bin/env python3
"""`budgetgen import` on hostile workbooks under 50 MB: each must finish in under 10 s and
500 MB (peak resident memory of the importing process), accepted or refused. The bound is
checked on CPU time (user + sys): on the shared machine wall time also counts the other
sessions' load, and is printed beside it.

    python3 benchmarks/import_bound.py [--keep DIR] [--only NAME]

Builds each workbook (the 524 example's own workbook as the base, parts rewritten as text),
runs `python -m generator import` on it in a fresh process, and prints the wall time, the
peak RSS (wait4), the exit status and the first line the importer printed. The largest
accepted workbooks sit just under the reader's limits (generator/importer/xlsxread.py), so a
pass here bounds every workbook. Exit status 1 when any case is over a bound.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MAX_SECONDS = 10.0
MAX_MB = 500.0
MAX_FILE = 50 * 1024 * 1024
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


from generator.importer.xlsxread import col_letters as col  # noqa: E402  (after sys.path)


def base_book(folder: Path) -> Path:
    from generator.pipeline import run
    from generator.render.xlsx import render_xlsx
    path = folder / "base.xlsx"
    path.write_bytes(render_xlsx(run(ROOT / "inputs" / "524-xigang-2025.yaml").disclosure))
    return path


Parts = dict[str, Callable[[], Iterator[bytes]] | bytes]


def build(base: Path, dst: Path, change: Callable[[str, bytes], object] | None = None,
          extra: Parts | None = None, extra_sheets: dict[str, Callable[[], Iterator[bytes]]] | None = None
          ) -> Path:
    """The base workbook with parts changed, parts added and extra sheets (name → XML stream)."""
    extra = dict(extra or {})
    sheets = extra_sheets or {}
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        names = zin.namelist()
        count = sum(1 for n in names if n.startswith("xl/worksheets/sheet"))
        for item in zin.infolist():
            data = zin.read(item.filename)
            if sheets and item.filename == "xl/workbook.xml":
                text = data.decode()
                add = "".join(f'<sheet name="{n}" sheetId="{100 + i}" r:id="rIdX{i}"/>'
                              for i, n in enumerate(sheets))
                data = text.replace("</sheets>", add + "</sheets>").encode()
            elif sheets and item.filename == "xl/_rels/workbook.xml.rels":
                text = data.decode()
                add = "".join(f'<Relationship Id="rIdX{i}" Type="http://schemas.openxmlformats.org/'
                              f'officeDocument/2006/relationships/worksheet" '
                              f'Target="worksheets/sheet{count + 1 + i}.xml"/>' for i in range(len(sheets)))
                data = text.replace("</Relationships>", add + "</Relationships>").encode()
            elif change is not None:
                new = change(item.filename, data)
                if callable(new):  # a part streamed in place of this one
                    extra[item.filename] = new
                    continue
                if new is not None:
                    data = new
            zout.writestr(item.filename, data)
        for i, stream in enumerate(sheets.values()):
            extra[f"xl/worksheets/sheet{count + 1 + i}.xml"] = stream
        for name, content in extra.items():
            with zout.open(name, "w", force_zip64=True) as fh:
                if isinstance(content, bytes):
                    fh.write(content)
                else:
                    for block in content():
                        fh.write(block)
    return dst


def numbers_sheet(rows: int, cols: int, text: bool = False) -> Callable[[], Iterator[bytes]]:
    def stream() -> Iterator[bytes]:
        yield f'<worksheet {NS}><sheetData>'.encode()
        for r in range(1, rows + 1):
            cells = "".join(f'<c r="{col(c)}{r}" t="inlineStr"><is><t>项目{r}-{c}</t></is></c>' if text and c == 0
                            else f'<c r="{col(c)}{r}"><v>{r * 7 + c}.25</v></c>' for c in range(cols))
            yield f'<row r="{r}">{cells}</row>'.encode()
        yield b"</sheetData></worksheet>"
    return stream


def empty_rows(n: int) -> Callable[[], Iterator[bytes]]:
    def stream() -> Iterator[bytes]:
        yield f'<worksheet {NS}><sheetData>'.encode()
        step = 10_000
        for start in range(1, n + 1, step):
            yield "".join(f'<row r="{r}"/>' for r in range(start, min(start + step, n + 1))).encode()
        yield b"</sheetData></worksheet>"
    return stream


def styled_cells(n: int) -> Callable[[], Iterator[bytes]]:
    def stream() -> Iterator[bytes]:
        yield f'<worksheet {NS}><sheetData><row r="1">'.encode()
        step = 10_000
        for start in range(0, n, step):
            yield "".join('<c s="1"/>' for _ in range(start, min(start + step, n))).encode()
        yield b"</row></sheetData></worksheet>"
    return stream


def shared_strings(n: int, length: int = 20) -> Callable[[], Iterator[bytes]]:
    def stream() -> Iterator[bytes]:
        yield f'<sst {NS} count="{n}" uniqueCount="{n}">'.encode()
        step = 10_000
        for start in range(0, n, step):
            yield "".join(f"<si><t>{i:0{length}d}</t></si>" for i in range(start, min(start + step, n))).encode()
        yield b"</sst>"
    return stream


def replace_part(name: str, content: Callable[[], Iterator[bytes]]) -> Callable[[str, bytes], object]:
    def change(item: str, data: bytes) -> object:
        return content if item == name else None
    return change


def cases(base: Path, folder: Path) -> dict[str, Callable[[], Path]]:
    def sheet1(edit: Callable[[str], str]) -> Callable[[str, bytes], object]:
        def change(item: str, data: bytes) -> object:
            return edit(data.decode()).encode() if item == "xl/worksheets/sheet1.xml" else None
        return change

    def merge(text: str) -> str:
        return text.replace("</mergeCells>", '<mergeCell ref="A30:XFD1048576"/></mergeCells>')

    def far(text: str) -> str:
        return text.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')

    def many_styles() -> Iterator[bytes]:
        yield f'<styleSheet {NS}><cellXfs count="65536">'.encode()
        yield b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' * 65536
        yield b"</cellXfs></styleSheet>"

    def dup_styles(item: str, data: bytes) -> object:
        return many_styles if item == "xl/styles.xml" else None

    out = {
        "example (the base)": lambda: base,
        "largest accepted: 2 extra sheets of 3 900 × 36 numbers (280 800 cells)": lambda: build(
            base, folder / "cells.xlsx", extra_sheets={f"附{i}": numbers_sheet(3_900, 36) for i in range(2)}),
        "refused: 6 extra sheets of 3 000 × 50 (900 000 cells)": lambda: build(
            base, folder / "cells2.xlsx", extra_sheets={f"附{i}": numbers_sheet(3_000, 50) for i in range(6)}),
        "表三 with 21 000 more rows of codes and amounts (168 000 cells)": lambda: build(
            base, folder / "known.xlsx", change=_longer_table),
        "one value at XFD1048576": lambda: build(base, folder / "far.xlsx", change=sheet1(far)),
        "a merge A30:XFD1048576": lambda: build(base, folder / "merge.xlsx", change=sheet1(merge)),
        "7 M empty rows": lambda: build(base, folder / "rows.xlsx", extra_sheets={"空": empty_rows(7_000_000)}),
        "7 M styled empty cells": lambda: build(base, folder / "styled.xlsx", extra_sheets={"格": styled_cells(7_000_000)}),
        "500 000 shared strings (the limit)": lambda: build(
            base, folder / "strings.xlsx", change=replace_part("xl/sharedStrings.xml", shared_strings(499_000))),
        "a 250 MB part of spaces (few elements)": lambda: build(
            base, folder / "spaces.xlsx", extra_sheets={"空白": lambda: _spaces(250)}),
        "240 MB of long Chinese shared strings (80 M characters)": lambda: build(
            base, folder / "text.xlsx", change=replace_part("xl/sharedStrings.xml", _long_strings)),
        "250 MB of shared strings (a bomb)": lambda: build(
            base, folder / "bomb.xlsx", change=replace_part("xl/sharedStrings.xml", shared_strings(10_000_000, 9))),
        "300 000 empty zip entries": lambda: _entries(folder / "entries.xlsx", 300_000),
        "65 536 cell styles": lambda: build(base, folder / "styles.xlsx", change=dup_styles),
        "255 sheets": lambda: build(base, folder / "sheets.xlsx",
                                    extra_sheets={f"S{i}": numbers_sheet(20, 20) for i in range(240)}),
        ".xls of 60 000 rows × 8": lambda: _xls(folder / "big.xls", 60_000, 8),
        ".xls of 3 900 rows × 50 (accepted size)": lambda: _xls(folder / "wide.xls", 3_900, 50),
        ".xls of 1 100 000 cells": lambda: _xls(folder / "huge.xls", 22_000, 50),
    }
    return out


def _longer_table(item: str, data: bytes) -> object:
    """The 支出总表 (sheet 3) with 21 000 more data rows: 8 columns: a number, a code, a name, amounts."""
    if item != "xl/worksheets/sheet3.xml":
        return None
    text = data.decode()
    last = max(int(n) for n in re.findall(r'<row r="(\d+)"', text))
    rows = []
    for i in range(21_000):
        r = last + 1 + i
        cells = (f'<c r="A{r}"><v>{i + 100}</v></c>'
                 f'<c r="B{r}" t="inlineStr"><is><t>{2010301 + i % 90}</t></is></c>'
                 f'<c r="C{r}" t="inlineStr"><is><t>项目{i}</t></is></c>'
                 + "".join(f'<c r="{col(c)}{r}"><v>{(i * 13 + c) % 997}.5</v></c>' for c in range(3, 8)))
        rows.append(f'<row r="{r}">{cells}</row>')
    return text.replace("</sheetData>", "".join(rows) + "</sheetData>").encode()


def _entries(path: Path, n: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i in range(n):
            z.writestr(f"x/{i}", b"")
    return path


def _long_strings() -> Iterator[bytes]:
    yield f'<sst {NS} count="8000" uniqueCount="8000">'.encode()
    one = ("<si><t>" + "预算" * 5_000 + "</t></si>").encode()
    for _ in range(8_000):
        yield one
    yield b"</sst>"


def _spaces(mb: int) -> Iterator[bytes]:
    yield f'<worksheet {NS}><sheetData>'.encode()
    block = b" " * (1 << 20)
    for _ in range(mb):
        yield block
    yield b"</sheetData></worksheet>"


def _xls(path: Path, rows: int, cols: int) -> Path:
    import xlwt  # type: ignore[import-untyped]
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("表一 收支总表")
    for r in range(rows):
        row = ws.row(r)
        for c in range(cols):
            row.set_cell_number(c, r * 7 + c + 0.25)
        if r % 1000 == 0:
            ws.flush_row_data()
    wb.save(str(path))
    return path


def _hwm(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM, MB): its own since exec, unlike
    ru_maxrss, which counts what the forked copy of this process held."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure(path: Path, out: Path) -> tuple[float, float, float, int, str]:
    """Wall time, CPU time (user + sys: what the machine's other load does not inflate), peak
    RSS in MB, exit status, the first line printed."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([sys.executable, "-m", "generator", "import", str(path), "-o", str(out),
                                 "--force"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env=dict(os.environ, PYTHONIOENCODING="utf-8"))
        peak = 0.0
        while proc.poll() is None:  # VmHWM only grows: the last reading before exit is the peak
            peak = max(peak, _hwm(proc.pid))
            time.sleep(0.01)
        wall = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = usage.ru_utime + usage.ru_stime - before
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
    usage_peak = peak
    first = next((line for line in output.splitlines() if line.strip()), "")
    first = re.sub(r"^\S+?: ", "", first)
    return wall, cpu, usage_peak, proc.returncode, first[:100]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="build the workbooks in this folder and keep them")
    ap.add_argument("--only", help="run only the cases whose name contains this")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="import-bound-"))
    folder.mkdir(parents=True, exist_ok=True)
    base = base_book(folder)
    over = 0
    print(f"{'case':<70} {'MB file':>8} {'wall s':>7} {'CPU s':>6} {'MB RSS':>7} exit  first line")
    for name, make in cases(base, folder).items():
        if args.only and args.only not in name:
            continue
        path = make()
        size = path.stat().st_size
        wall, cpu, rss, code, first = measure(path, folder / "out.yaml")
        bad = cpu >= MAX_SECONDS or rss >= MAX_MB or size >= MAX_FILE
        over += bad
        print(f"{name:<70} {size / 1024 / 1024:8.1f} {wall:7.2f} {cpu:6.2f} {rss:7.0f} {code:4d}  "
              f"{'OVER ' if bad else ''}{first}", flush=True)
        if path != base and not args.keep:
            path.unlink()
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
