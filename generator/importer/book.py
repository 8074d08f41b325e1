"""Reading a workbook into plain cells: .xlsx/.xlsm with a bounded streaming reader
(xlsxread.py), .xls with xlrd (rows kept ragged, the same limits).

Every cell becomes a `Cell` holding text, a Decimal (numbers never stay floats: a double's
shortest repr is its decimal text) or None, plus whether it is a formula whose cached value is
missing (a workbook saved by a program that does not calculate). Merged ranges are kept so a
header's group label can be spread over the columns it covers. Only cells with a value are
read; a sheet whose values reach beyond MAX_ROWS × MAX_COLS, or a workbook with more than
MAX_CELLS of them, is refused with a message naming the sheet and the cell or range. Each
sheet keeps its state (hidden, very hidden) and the cells whose formula refers to another
workbook, for the importer to refuse or name.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..problems import Location, Problem, error
from .xlsxread import MAX_CELLS, MAX_COLS, MAX_ROWS, MAX_SHEETS, Refused

MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Cell:
    value: str | Decimal | None
    formula: str = ""  # the formula text when the workbook holds no cached value for it


EMPTY = Cell(None)


def column_letter(col: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    out, n = "", col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


@dataclass
class Sheet:
    name: str
    rows: list[list[Cell]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2 (incl.)
    state: str = "visible"  # "hidden" | "veryHidden": never imported silently
    external: dict[tuple[int, int], str] = field(default_factory=dict)  # (r, c) → formula naming another workbook
    _anchors: dict[tuple[int, int], tuple[int, int]] | None = field(default=None, repr=False)

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def cell(self, r: int, c: int) -> Cell:
        if 0 <= r < len(self.rows) and 0 <= c < len(self.rows[r]):
            return self.rows[r][c]
        return EMPTY

    def text(self, r: int, c: int) -> str:
        v = self.cell(r, c).value
        if v is None:
            return ""
        return v.strip() if isinstance(v, str) else format(v, "f")

    def ref(self, r: int, c: int = 0) -> str:
        """表三!B12 (Excel's own form; quoted when the name needs it)."""
        name = self.name
        if any(ch in name for ch in " -'!()（）,;") or name[:1].isdigit():
            name = "'" + name.replace("'", "''") + "'"
        return f"{name}!{column_letter(c)}{r + 1}"

    def anchor(self, r: int, c: int) -> tuple[int, int]:
        """The top-left cell of the merged range holding (r, c), or (r, c)."""
        if self._anchors is None:
            self._anchors = {}
            for r1, c1, r2, c2 in self.merged:
                if (r2 - r1 + 1) * (c2 - c1 + 1) > 100_000:
                    continue  # a whole-column merge: not a table's
                for rr in range(r1, r2 + 1):
                    for cc in range(c1, c2 + 1):
                        self._anchors.setdefault((rr, cc), (r1, c1))
        return self._anchors.get((r, c), (r, c))

    def is_blank_row(self, r: int) -> bool:
        return all(c.value is None or (isinstance(c.value, str) and not c.value.strip())
                   for c in self.rows[r])


@dataclass
class Book:
    path: str
    sheets: list[Sheet]
    links: list[str] = field(default_factory=list)  # the other workbooks it links to


def _number(value: float) -> Decimal:
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(value))


def _plain(value: object) -> str | Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def _dense(cells: dict[tuple[int, int], Cell], nrows: int) -> list[list[Cell]]:
    """Rows of cells from the cells that exist (rows as long as their last value)."""
    rows: list[list[Cell]] = [[] for _ in range(nrows)]
    for (r, c), cell in sorted(cells.items()):
        row = rows[r]
        if len(row) < c:
            row.extend([EMPTY] * (c - len(row)))
        row.append(cell)
    return rows


def _read_xlsx(path: Path) -> Book:
    from .xlsxread import read_xlsx
    raw = read_xlsx(str(path))
    sheets = []
    for rs in raw.sheets:
        cells = {at: Cell(_plain(value), formula) for at, (value, formula) in rs.cells.items()}
        sheets.append(Sheet(rs.name, _dense(cells, rs.rows), rs.merged, rs.state, dict(rs.external)))
    return Book(str(path), sheets, raw.links)


_XLS_STATES = {1: "hidden", 2: "veryHidden"}


def _read_xls(path: Path) -> Book:
    import xlrd  # type: ignore[import-untyped]
    from .xlsxread import col_letters
    wb = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True, ragged_rows=True)
    if wb.nsheets > MAX_SHEETS:
        raise Refused(f"工作簿有超过 {MAX_SHEETS} 张工作表，不像一份部门预算，拒绝读取")
    sheets = []
    count = 0
    limit = f"（最多 {MAX_ROWS} 行、{MAX_COLS} 列）"
    for index in range(wb.nsheets):
        sh = wb.sheet_by_index(index)
        cells: dict[tuple[int, int], Cell] = {}
        nrows = 0
        for r in range(sh.nrows):
            for c in range(sh.row_len(r)):
                x = sh.cell(r, c)
                if x.ctype == xlrd.XL_CELL_NUMBER:
                    cell = Cell(_number(x.value))
                elif x.ctype == xlrd.XL_CELL_DATE:
                    cell = Cell(_plain(xlrd.xldate.xldate_as_datetime(x.value, wb.datemode)))
                elif x.ctype == xlrd.XL_CELL_BOOLEAN:
                    cell = Cell(_plain(bool(x.value)))
                elif x.ctype == xlrd.XL_CELL_TEXT:
                    cell = Cell(_plain(x.value))
                else:
                    continue
                if cell.value is None:
                    continue
                if r >= MAX_ROWS or c >= MAX_COLS:
                    raise Refused(f"工作表“{sh.name}”的单元格 {col_letters(c)}{r + 1} 有内容，超出了一张预算表的"
                                  f"合理范围{limit}：请删除多余的单元格后再导入")
                count += 1
                if count > MAX_CELLS:
                    raise Refused(f"工作簿有超过 {MAX_CELLS} 个有内容的单元格，不像一份部门预算，拒绝读取")
                cells[(r, c)] = cell
                nrows = max(nrows, r + 1)
        merged = []
        for r1, r2, c1, c2 in sh.merged_cells:
            if r2 - 1 >= MAX_ROWS or c2 - 1 >= MAX_COLS:
                raise Refused(f"工作表“{sh.name}”的合并单元格 {col_letters(c1)}{r1 + 1}:{col_letters(c2 - 1)}{r2} "
                              f"超出了一张预算表的合理范围{limit}：请取消这个合并或删除多余的行列后再导入")
            if r1 < nrows:
                merged.append((r1, c1, r2 - 1, c2 - 1))
        sheets.append(Sheet(sh.name, _dense(cells, nrows), merged,
                            _XLS_STATES.get(getattr(sh, "visibility", 0), "visible")))
        wb.unload_sheet(index)
    return Book(str(path), sheets)


def read_book(path: str | Path) -> tuple[Book | None, list[Problem]]:
    """The workbook's sheets, or None and a located problem saying why it cannot be read."""
    p = Path(path)
    where = Location(str(path))
    if not p.exists():
        return None, [error("导入-文件", f"找不到文件 {path}", where)]
    if p.is_dir():
        return None, [error("导入-文件", f"{path} 是文件夹，不是工作簿", where)]
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        return None, [error("导入-文件", f"无法读取 {path}：{exc.strerror or exc}", where)]
    if size > MAX_BYTES:
        return None, [error("导入-文件", f"工作簿超过 {MAX_BYTES // 1024 // 1024} MB，不像一份部门预算", where)]
    suffix = p.suffix.lower()
    try:
        if head.startswith(b"PK\x03\x04") and suffix in (".xlsx", ".xlsm", ""):
            return _read_xlsx(p), []
        if head.startswith(b"\xd0\xcf\x11\xe0") and suffix in (".xls", ""):
            return _read_xls(p), []
    except Refused as exc:
        return None, [error("导入-文件", str(exc), where)]
    except MemoryError:
        return None, [error("导入-文件", "工作簿太大，读取时内存不足，不像一份部门预算，拒绝读取", where)]
    except Exception as exc:  # noqa: BLE001 — a damaged file: say so instead of a traceback
        return None, [error("导入-文件", f"工作簿已损坏或不是 Excel 文件，无法读取（{type(exc).__name__}：{exc}）",
                            where)]
    if suffix not in (".xlsx", ".xlsm", ".xls"):
        return None, [error("导入-文件", f"只能导入 Excel 工作簿（.xlsx 或 .xls），收到“{p.name}”", where)]
    return None, [error("导入-文件", f"“{p.name}”的内容不是 {suffix} 工作簿（文件头不符），可能已损坏或扩展名有误",
                        where)]
