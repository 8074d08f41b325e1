"""Reading a workbook into plain cells: .xlsx/.xlsm with openpyxl, .xls with xlrd.

Every cell becomes a `Cell` holding text, a Decimal (numbers never stay floats: a double's
shortest repr is its decimal text) or None, plus whether it is a formula whose cached value is
missing (a workbook saved by a program that does not calculate). Merged ranges are kept so a
header's group label can be spread over the columns it covers.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..problems import Location, Problem, error

MAX_BYTES = 50 * 1024 * 1024
MAX_UNPACKED = 400 * 1024 * 1024  # an .xlsx is a zip: refuse one that would unpack to more


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


class Refused(Exception):
    """A workbook that is refused before it is parsed (the message says why, in Chinese)."""


def _guard_xlsx(path: Path) -> None:
    import zipfile
    with zipfile.ZipFile(path) as z:
        unpacked = sum(i.file_size for i in z.infolist())
        if unpacked > MAX_UNPACKED:
            raise Refused(f"工作簿解压后有 {unpacked // 1024 // 1024} MB，不像一份部门预算（可能是压缩炸弹），拒绝读取")
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                with z.open(name) as fh:
                    head = fh.read(4096)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise Refused(f"工作簿中的 {name} 含有 DOCTYPE/ENTITY 声明（Excel 从不写这种内容，"
                                  "可能是“十亿笑声”之类的攻击文件），拒绝读取")


def _read_xlsx(path: Path) -> Book:
    import openpyxl  # type: ignore[import-untyped]
    _guard_xlsx(path)
    values = openpyxl.load_workbook(path, data_only=True)
    formulas = openpyxl.load_workbook(path, data_only=False)
    sheets = []
    for ws in values.worksheets:
        fs = formulas[ws.title]
        rows: list[list[Cell]] = []
        for row_v, row_f in zip(ws.iter_rows(), fs.iter_rows()):
            cells = []
            for cv, cf in zip(row_v, row_f):
                raw = cf.value
                formula = raw if cf.data_type == "f" and cv.value is None else ""
                cells.append(Cell(_plain(cv.value), str(formula) if formula else ""))
            rows.append(cells)
        merged = [(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1)
                  for m in ws.merged_cells.ranges]
        sheets.append(Sheet(ws.title, rows, merged))
    return Book(str(path), sheets)


def _read_xls(path: Path) -> Book:
    import xlrd  # type: ignore[import-untyped]
    wb = xlrd.open_workbook(str(path), formatting_info=True)
    sheets = []
    for sh in wb.sheets():
        rows = []
        for r in range(sh.nrows):
            cells = []
            for c in range(sh.ncols):
                x = sh.cell(r, c)
                if x.ctype == xlrd.XL_CELL_NUMBER:
                    cells.append(Cell(_number(x.value)))
                elif x.ctype == xlrd.XL_CELL_DATE:
                    cells.append(Cell(_plain(xlrd.xldate.xldate_as_datetime(x.value, wb.datemode))))
                elif x.ctype == xlrd.XL_CELL_BOOLEAN:
                    cells.append(Cell(_plain(bool(x.value))))
                elif x.ctype == xlrd.XL_CELL_TEXT:
                    cells.append(Cell(_plain(x.value)))
                else:
                    cells.append(EMPTY)
            rows.append(cells)
        merged = [(r1, c1, r2 - 1, c2 - 1) for r1, r2, c1, c2 in sh.merged_cells]
        sheets.append(Sheet(sh.name, rows, merged))
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
    except Exception as exc:  # noqa: BLE001 — a damaged file: say so instead of a traceback
        return None, [error("导入-文件", f"工作簿已损坏或不是 Excel 文件，无法读取（{type(exc).__name__}：{exc}）",
                            where)]
    if suffix not in (".xlsx", ".xlsm", ".xls"):
        return None, [error("导入-文件", f"只能导入 Excel 工作簿（.xlsx 或 .xls），收到“{p.name}”", where)]
    return None, [error("导入-文件", f"“{p.name}”的内容不是 {suffix} 工作簿（文件头不符），可能已损坏或扩展名有误",
                        where)]
