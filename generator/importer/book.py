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
from .xlsxread import (
    MAX_AREA,
    MAX_BOOK_AREA,
    MAX_CELLS,
    MAX_COLS,
    MAX_ROWS,
    MAX_SHEETS,
    Refused,
    col_letters,
    read_xlsx,
)

MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Cell:
    value: str | Decimal | None
    formula: str = ""  # the formula text when the workbook holds no cached value for it


EMPTY = Cell(None)


@dataclass
class Sheet:
    name: str
    rows: list[list[Cell]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2 (incl.)
    state: str = "visible"  # "hidden" | "veryHidden": never imported silently
    external: dict[tuple[int, int], str] = field(default_factory=dict)  # (r, c) → formula naming another workbook
    _anchors: dict[tuple[int, int], tuple[int, int]] | None = field(default=None, repr=False)
    _width: tuple[int, int] | None = field(default=None, repr=False)  # (rows, width) when computed

    @property
    def width(self) -> int:
        """The longest row's length (computed once: the readers ask for it row by row)."""
        if self._width is None or self._width[0] != len(self.rows):
            self._width = (len(self.rows), max((len(r) for r in self.rows), default=0))
        return self._width[1]

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
        return f"{name}!{col_letters(c)}{r + 1}"

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
    for (r, c), cell in cells.items():  # in the order of the file: row by row, as a rule
        row = rows[r]
        if len(row) == c:
            row.append(cell)
        elif len(row) < c:
            row.extend([EMPTY] * (c - len(row)))
            row.append(cell)
        else:
            row[c] = cell
    return rows


def _cell(value: object, formula: str) -> Cell:
    if formula:
        return Cell(_plain(value), formula)
    if type(value) is float:
        return Cell(Decimal(repr(value)))
    if type(value) is int:
        return Cell(Decimal(value))
    return Cell(_plain(value))


def _read_xlsx(path: Path) -> Book:
    raw = read_xlsx(str(path))
    sheets = []
    for rs in raw.sheets:
        cells = {at: _cell(value, formula) for at, (value, formula) in rs.cells.items()}
        rs.cells = {}
        sheets.append(Sheet(rs.name, _dense(cells, rs.rows), rs.merged, rs.state, dict(rs.external)))
    return Book(str(path), sheets, raw.links)


_XLS_STATES = {1: "hidden", 2: "veryHidden"}
# BIFF records that are one cell each, and the two that hold many (MULRK, MULBLANK)
_XLS_CELL_RECORDS = {0x0203, 0x027E, 0x00FD, 0x0204, 0x0205, 0x0006, 0x0201, 0x00D6}
MAX_XLS_CELLS = 1_000_000  # cell records, blanks included: what bounds xlrd's time (~2.5 µs each)
MAX_XLS_RECORDS = 3_000_000


def _prescan_xls(path: Path) -> None:
    """Count the cell records of an .xls before xlrd parses a sheet: xlrd reads every record
    of a sheet, blank ones included, so this count bounds its time. xlrd's compound-document
    reader is used only to find the Workbook stream; when it cannot be, xlrd's own errors
    speak for the file."""
    import struct
    try:
        from xlrd.compdoc import CompDoc  # type: ignore[import-untyped]
        doc = CompDoc(path.read_bytes(), logfile=_Discard())
        stream = doc.get_named_stream("Workbook") or doc.get_named_stream("Book")
    except Exception:  # noqa: BLE001 — not ours to judge: xlrd reports a damaged file
        return
    if not stream:
        return
    cells = records = pos = 0
    size = len(stream)
    unpack = struct.Struct("<HH").unpack_from
    while pos + 4 <= size:
        kind, length = unpack(stream, pos)
        if kind in _XLS_CELL_RECORDS:
            cells += 1
        elif kind == 0x00BD:  # MULRK: 6 bytes a cell
            cells += max(0, (length - 6) // 6)
        elif kind == 0x00BE:  # MULBLANK: 2 bytes a cell
            cells += max(0, (length - 6) // 2)
        records += 1
        if cells > MAX_XLS_CELLS or records > MAX_XLS_RECORDS:
            raise Refused(f"工作簿有超过 {MAX_XLS_CELLS} 个单元格记录（含空白单元格），不像一份部门预算，拒绝读取")
        pos += 4 + length


class _Discard:
    def write(self, text: str) -> int:
        return len(text)


def _read_xls(path: Path) -> Book:
    import xlrd  # type: ignore[import-untyped]
    _prescan_xls(path)
    wb = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True, ragged_rows=True,
                            logfile=_Discard())
    if wb.nsheets > MAX_SHEETS:
        raise Refused(f"工作簿有超过 {MAX_SHEETS} 张工作表，不像一份部门预算，拒绝读取")
    sheets = []
    count = area = 0
    limit = f"（最多 {MAX_ROWS} 行、{MAX_COLS} 列）"
    number, date, boolean, text = (xlrd.XL_CELL_NUMBER, xlrd.XL_CELL_DATE, xlrd.XL_CELL_BOOLEAN,
                                   xlrd.XL_CELL_TEXT)
    for index in range(wb.nsheets):
        sh = wb.sheet_by_index(index)
        cells: dict[tuple[int, int], Cell] = {}
        nrows = ncols = 0
        for r in range(sh.nrows):
            for c, (kind, value) in enumerate(zip(sh.row_types(r), sh.row_values(r))):
                if kind == number:
                    cell = Cell(_number(value))
                elif kind == date:
                    cell = Cell(_plain(xlrd.xldate.xldate_as_datetime(value, wb.datemode)))
                elif kind == boolean:
                    cell = Cell(_plain(bool(value)))
                elif kind == text:
                    cell = Cell(_plain(value))
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
                nrows, ncols = max(nrows, r + 1), max(ncols, c + 1)
        if nrows * ncols > MAX_AREA:
            raise Refused(f"工作表“{sh.name}”的内容范围 A1:{col_letters(ncols - 1)}{nrows} 有 {nrows * ncols} 个单元格，"
                          f"超过了一张预算表的合理大小（{MAX_AREA} 个）：请删除多余的行列后再导入")
        area += nrows * ncols
        if area > MAX_BOOK_AREA:
            raise Refused(f"各工作表的内容范围合计超过 {MAX_BOOK_AREA} 个单元格（到工作表“{sh.name}”为止），"
                          "不像一份部门预算：请删除多余的行列或工作表后再导入")
        merged = []
        for r1, r2, c1, c2 in sh.merged_cells:
            if r2 - 1 >= MAX_ROWS or c2 - 1 >= MAX_COLS:
                raise Refused(f"工作表“{sh.name}”的合并单元格 {col_letters(c1)}{r1 + 1}:{col_letters(c2 - 1)}{r2} "
                              f"超出了一张预算表的合理范围{limit}：请取消这个合并或删除多余的行列后再导入")
            if r1 < nrows and c1 < ncols:
                merged.append((r1, c1, min(r2, nrows) - 1, min(c2, ncols) - 1))
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
