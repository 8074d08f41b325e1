"""Reading an .xlsx in bounded time and memory: the archive is scanned part by part with a
streaming XML parser (expat), and only the cells that exist with a value are kept.

A workbook is a zip of XML parts, and everything in it can be made absurd: a part that unpacks
to gigabytes (a zip bomb), a cell at XFD1048576, a merge over A1:XFD1048576, millions of empty
rows or styles, millions of shared strings, a DOCTYPE with entities. Nothing is trusted:

* every part is read as a stream, with a limit on its unpacked size, on the number of XML
  elements it may hold and on the length of any text (Excel's own 32 767 characters a cell);
* a DOCTYPE or entity declaration anywhere refuses the workbook (Excel never writes one);
* a sheet's extent is that of its cells that hold a value (a cell with only a style, far away,
  costs nothing); a value beyond MAX_ROWS × MAX_COLS, an extent over MAX_AREA cells (or all
  sheets' over MAX_BOOK_AREA), too many cells, a merged range beyond the limits or too many
  merged ranges refuse the workbook with a Chinese message naming the sheet and the cell or
  range; merged ranges are clipped to the extent;
* a sheet's state (hidden, very hidden) is kept, so the importer can refuse or name it;
* a formula that refers to another workbook (`[1]表一!A1`, directly, through a shared formula
  or a defined name) marks its cell, so the importer can warn that the value is a cached copy.

`read_xlsx` returns plain data (`RawSheet`); book.py turns it into Sheets.
"""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from xml.parsers import expat

MAX_UNPACKED = 400 * 1024 * 1024  # the whole archive
MAX_PART = 256 * 1024 * 1024  # one part (a sheet, the shared strings)
MAX_SMALL_PART = 16 * 1024 * 1024  # workbook.xml, rels, styles.xml
MAX_PARTS = 10_000
MAX_SHEETS = 255
MAX_ROWS = 50_000  # a department's longest table (a project list) has a few thousand rows
MAX_COLS = 256  # column IV: the old Excel limit; a budget table has a few dozen
MAX_AREA = 200_000  # rows × columns of one sheet's values (5 000 rows of 40 columns)
MAX_BOOK_AREA = 600_000  # the same, summed over the workbook
MAX_CELLS = 300_000  # cells with a value, in the whole workbook (a department's: ~15 000)
MAX_MERGES = 50_000  # merged ranges on one sheet
# XML elements (empty rows and styled cells included), counted by the pre-scan before a part is
# parsed: what bounds the parse's time (about 2 µs an element). A department's workbook has
# some tens of thousands.
MAX_ELEMENTS = 1_200_000  # in one part
MAX_BOOK_ELEMENTS = 1_500_000  # in the whole workbook
MAX_STRINGS = 500_000  # shared strings
MAX_STYLES = 65_536  # cell formats: Excel's own limit is 64 000
MAX_TEXT = 32_767  # characters in one cell (Excel's limit)
MAX_BOOK_TEXT = 20_000_000  # characters kept in all (shared strings and text cells): memory
MAX_NAMES = 10_000  # defined names

_CHUNK = 1 << 20
_CELL_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_EXTERNAL = re.compile(r"\[[0-9]+\]")  # [1]Sheet!A1: the first external workbook
_NAME = re.compile(r"(?<![\w.!$'])[^\W\d][\w.]*(?![\w(!])")  # a name in a formula (not a function, not a sheet)


class Refused(Exception):
    """The workbook is refused; `str()` is the Chinese message for the clerk."""


@dataclass
class RawSheet:
    name: str
    state: str  # "visible" | "hidden" | "veryHidden"
    cells: dict[tuple[int, int], tuple[object, str]] = field(default_factory=dict)  # (r, c) → (value, formula)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2 (0-based, incl.)
    external: dict[tuple[int, int], str] = field(default_factory=dict)  # (r, c) → formula naming another workbook
    rows: int = 0  # extent of the cells with a value
    cols: int = 0


@dataclass
class RawBook:
    sheets: list[RawSheet]
    links: list[str] = field(default_factory=list)  # the external workbooks it links to


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def col_letters(col: int) -> str:
    out, n = "", col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _local(name: str) -> str:
    return name.rpartition(":")[2] if ":" in name else name


def _attr(attrs: dict[str, str], local: str) -> str | None:
    for k, v in attrs.items():
        if _local(k) == local:
            return v
    return None


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


class _Part:
    """One XML part: pre-scanned (its size, a count of its elements at C speed, no DOCTYPE),
    then parsed as a stream; the handlers get local names (prefixes dropped)."""

    def __init__(self, z: zipfile.ZipFile, name: str, limit: int, what: str,
                 budget: list[int] | None = None):
        self.z, self.name, self.limit, self.what = z, name, limit, what
        self.budget = budget if budget is not None else [0]  # elements of the parts so far

    def _refuse_doctype(self, *_: Any) -> None:
        raise Refused(f"工作簿中的 {self.name} 含有 DOCTYPE/ENTITY 声明（Excel 从不写这种内容，"
                      "可能是“十亿笑声”之类的攻击文件），拒绝读取")

    def _info(self) -> zipfile.ZipInfo:
        try:
            info = self.z.getinfo(self.name)
        except KeyError:
            raise Refused(f"工作簿缺少 {self.name}（{self.what}），可能已损坏") from None
        if info.file_size > self.limit:
            raise Refused(f"工作簿中的 {self.name}（{self.what}）解压后有 {info.file_size // 1024 // 1024} MB，"
                          f"超过上限 {self.limit // 1024 // 1024} MB，不像一份部门预算（可能是压缩炸弹），拒绝读取")
        return info

    def prescan(self, info: zipfile.ZipInfo) -> None:
        """Count the part's elements (every '<' that does not open an end tag) before any of it
        is parsed; refuse a part, or a workbook, with more than the parse may take."""
        elements, tail = 0, b""
        with self.z.open(info) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                elements += chunk.count(b"<") - chunk.count(b"</")  # a "</" cut in two: one more
                seam = tail + chunk[:16]
                if b"<!DOCTYPE" in chunk or b"<!ENTITY" in chunk or b"<!DOCTYPE" in seam \
                        or b"<!ENTITY" in seam:
                    self._refuse_doctype()
                if elements > MAX_ELEMENTS:
                    raise Refused(f"工作簿中的 {self.name}（{self.what}）有超过 {MAX_ELEMENTS} 个 XML 元素"
                                  "（行、单元格等），不像一份部门预算，拒绝读取")
                tail = chunk[-16:]
        self.budget[0] += elements
        if self.budget[0] > MAX_BOOK_ELEMENTS:
            raise Refused(f"工作簿的 XML 元素（行、单元格等）合计超过 {MAX_BOOK_ELEMENTS} 个"
                          f"（到 {self.name}，{self.what}为止），不像一份部门预算，拒绝读取")

    def parse(self, start: Callable[[str, dict[str, str]], None],
              end: Callable[[str], None] | None = None,
              text: Callable[[str], None] | None = None) -> None:
        info = self._info()
        self.prescan(info)
        p = expat.ParserCreate()
        p.buffer_text = True
        p.buffer_size = 65536
        p.StartDoctypeDeclHandler = self._refuse_doctype
        p.EntityDeclHandler = self._refuse_doctype
        # element names as written: prefixed ("x:c") only by some programs, then stripped
        prefixed = [False]

        def first(name: str, attrs: dict[str, str]) -> None:
            if ":" in name:
                prefixed[0] = True
                p.StartElementHandler = lambda n, a: start(_local(n), a)
                if end is not None:
                    p.EndElementHandler = lambda n: end(_local(n))
                start(_local(name), attrs)
            else:
                p.StartElementHandler = start
                start(name, attrs)

        p.StartElementHandler = first
        if end is not None:
            p.EndElementHandler = end
        if text is not None:
            p.CharacterDataHandler = text
        with self.z.open(info) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                p.Parse(chunk, not chunk)
                if not chunk:
                    break


class _Text:
    """Character data of one element, cut off (refused) beyond MAX_TEXT characters."""

    def __init__(self, where: Callable[[], str]):
        self.parts: list[str] = []
        self.size = 0
        self.where = where

    def add(self, data: str) -> None:
        self.size += len(data)
        if self.size > MAX_TEXT * 2:  # escapes (_x000D_) may make the raw text longer
            raise Refused(f"{self.where()}的文字超过 {MAX_TEXT} 个字符（Excel 一个单元格的上限），拒绝读取")
        self.parts.append(data)

    def take(self) -> str:
        out = "".join(self.parts)
        self.parts, self.size = [], 0
        if len(out) > MAX_TEXT and len(_unescape(out)) > MAX_TEXT:
            raise Refused(f"{self.where()}的文字超过 {MAX_TEXT} 个字符（Excel 一个单元格的上限），拒绝读取")
        return out


# --------------------------------------------------------------------------- the small parts


def _rels(z: zipfile.ZipFile, part: str, elements: list[int]) -> dict[str, tuple[str, str]]:
    """Relationship id → (type's last word, target part name) of `part`."""
    folder = PurePosixPath(part).parent
    rels_name = str(folder / "_rels" / (PurePosixPath(part).name + ".rels"))
    out: dict[str, tuple[str, str]] = {}
    if rels_name not in z.namelist():
        return out

    def start(name: str, attrs: dict[str, str]) -> None:
        if name != "Relationship":
            return
        target = attrs.get("Target", "")
        kind = attrs.get("Type", "").rsplit("/", 1)[-1]
        if attrs.get("TargetMode") == "External":
            out[attrs.get("Id", "")] = (kind, target)
            return
        path = target.lstrip("/") if target.startswith("/") else str(folder / target)
        parts: list[str] = []
        for piece in path.split("/"):
            if piece == "..":
                if parts:
                    parts.pop()
            elif piece not in ("", "."):
                parts.append(piece)
        out[attrs.get("Id", "")] = (kind, "/".join(parts))

    _Part(z, rels_name, MAX_SMALL_PART, "关系表", elements).parse(start)
    return out


@dataclass
class _Workbook:
    sheets: list[tuple[str, str, str]]  # name, state, part
    date1904: bool
    external_names: set[str]
    links: list[str]


def _workbook(z: zipfile.ZipFile, elements: list[int]) -> _Workbook:
    part = "xl/workbook.xml"
    for name in z.namelist():  # the main part by its relationship from the package root
        if name == "_rels/.rels":
            for kind, target in _rels(z, "", elements).values():
                if kind == "officeDocument":
                    part = target
    rels = _rels(z, part, elements)
    sheets: list[tuple[str, str, str]] = []
    names: dict[str, str] = {}
    state: dict[str, Any] = {"date1904": False, "name": None}
    text = _Text(lambda: "工作簿的名称定义")

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "sheet":
            if len(sheets) >= MAX_SHEETS:
                raise Refused(f"工作簿有超过 {MAX_SHEETS} 张工作表，不像一份部门预算，拒绝读取")
            rid = _attr(attrs, "id") or ""
            kind, target = rels.get(rid, ("", ""))
            if kind == "worksheet":
                sheets.append((attrs.get("name", ""), attrs.get("state", "visible"), target))
        elif name == "workbookPr":
            state["date1904"] = attrs.get("date1904") in ("1", "true")
        elif name == "definedName":
            if len(names) >= MAX_NAMES:
                raise Refused(f"工作簿有超过 {MAX_NAMES} 个名称定义，不像一份部门预算，拒绝读取")
            state["name"] = attrs.get("name", "")
            text.take()

    def end(name: str) -> None:
        if name == "definedName" and state["name"] is not None:
            names[state["name"]] = text.take()
            state["name"] = None

    def chars(data: str) -> None:
        if state["name"] is not None:
            text.add(data)

    _Part(z, part, MAX_SMALL_PART, "工作簿目录", elements).parse(start, end, chars)
    links = [target for kind, target in rels.values() if kind == "externalLink"]
    external = {n for n, v in names.items() if _EXTERNAL.search(v) or "\\" in v or "/" in v}
    link_targets = []
    for link in links:
        for kind, target in _rels(z, link, elements).values():
            if kind in ("externalLinkPath", "xlExternalLinkPath/xlPathMissing") or "Path" in kind:
                link_targets.append(target)
    return _Workbook(sheets, bool(state["date1904"]), external, link_targets)


def _strings(z: zipfile.ZipFile, names: list[str], elements: list[int]) -> tuple[list[str], int]:
    """The shared strings, and how many characters they hold."""
    part = next((n for n in names if n.lower().endswith("sharedstrings.xml")), None)
    out: list[str] = []
    if part is None:
        return out, 0
    depth = {"si": False, "t": False, "rPh": 0}
    total = [0]
    text = _Text(lambda: f"共享字符串第 {len(out) + 1} 项")

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "si":
            if len(out) >= MAX_STRINGS:
                raise Refused(f"工作簿有超过 {MAX_STRINGS} 个共享字符串，不像一份部门预算，拒绝读取")
            depth["si"] = True
        elif name == "rPh":  # phonetic guide: not the cell's text
            depth["rPh"] += 1
        elif name == "t":
            depth["t"] = depth["si"] and not depth["rPh"]

    def end(name: str) -> None:
        if name == "si":
            out.append(_unescape(text.take()))
            total[0] += len(out[-1])
            if total[0] > MAX_BOOK_TEXT:
                raise Refused(f"工作簿的共享字符串合计超过 {MAX_BOOK_TEXT} 个字符，不像一份部门预算，拒绝读取")
            depth["si"] = False
        elif name == "rPh":
            depth["rPh"] -= 1
        elif name == "t":
            depth["t"] = False

    def chars(data: str) -> None:
        if depth["t"]:
            text.add(data)

    _Part(z, part, MAX_PART, "共享字符串", elements).parse(start, end, chars)
    return out, total[0]


def _date_styles(z: zipfile.ZipFile, names: list[str], elements: list[int]) -> set[str]:
    """Indexes of the cell formats that show a date or time."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format  # type: ignore[import-untyped]
    part = next((n for n in names if n.lower().endswith("styles.xml") and n.startswith("xl/")), None)
    if part is None:
        return set()
    custom: dict[int, str] = {}
    xfs: list[int] = []
    where = {"cellXfs": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "numFmt":
            try:
                custom[int(attrs.get("numFmtId", "-1"))] = attrs.get("formatCode", "")
            except ValueError:
                pass
        elif name == "cellXfs":
            where["cellXfs"] = True
        elif name == "xf" and where["cellXfs"]:
            if len(xfs) >= MAX_STYLES:
                raise Refused(f"工作簿的样式表（{part}）有超过 {MAX_STYLES} 种单元格格式（Excel 的上限），"
                              "不像一份部门预算，拒绝读取")
            try:
                xfs.append(int(attrs.get("numFmtId", "0")))
            except ValueError:
                xfs.append(0)

    def end(name: str) -> None:
        if name == "cellXfs":
            where["cellXfs"] = False

    _Part(z, part, MAX_SMALL_PART, "样式表", elements).parse(start, end)
    out = set()
    for i, fmt in enumerate(xfs):
        code = custom.get(fmt, BUILTIN_FORMATS.get(fmt, ""))
        if code and is_date_format(code):
            out.add(str(i))
    return out


# --------------------------------------------------------------------------- a sheet


def _range(ref: str) -> tuple[int, int, int, int] | None:
    ends = ref.upper().split(":")
    if not 1 <= len(ends) <= 2:
        return None
    found = [_CELL_REF.fullmatch(e.strip()) for e in ends]
    if any(m is None for m in found):
        return None
    (c1, r1), (c2, r2) = [(col_index(m[1]), int(m[2]) - 1) for m in found if m] * (3 - len(found))
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def _ref(r: int, c: int) -> str:
    return f"{col_letters(c)}{r + 1}"


class _SheetReader:
    """The handlers of one worksheet part: only cells with a value (or a formula) are kept."""

    def __init__(self, raw: RawSheet, strings: list[str], dates: set[str], date1904: bool,
                 external_names: set[str], budget: list[int]):
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900  # type: ignore[import-untyped]
        self.raw, self.strings, self.dates, self.budget = raw, strings, dates, budget
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        self.label = f"工作表“{raw.name}”"
        self.row, self.col = -1, -1
        self.kind, self.style, self.formula = "n", "0", ""
        self.shared_id: str | None = None
        self.value: str | None = None
        self.inline = False
        self.into: str | None = None  # "v" | "f" | "t": the element whose text is collected
        self.text: list[str] = []
        self.size = 0
        self.shared: dict[str, str] = {}  # shared formula id → its text
        self.names = {n.casefold() for n in external_names}  # defined names (any case) into another workbook

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "c":
            ref = attrs.get("r")
            m = _CELL_REF.fullmatch(ref) if ref else None
            if m is not None:
                self.col, self.row = col_index(m[1]), int(m[2]) - 1
            else:
                self.col += 1
            self.kind = attrs.get("t", "n")
            self.style = attrs.get("s", "0")
            self.value, self.formula, self.inline = None, "", False
        elif name == "v" or name == "f" or (name == "t" and self.inline):
            self.into = name
            self.text, self.size = [], 0
            if name == "f":
                self.shared_id = attrs.get("si") if attrs.get("t") == "shared" else None
        elif name == "row":
            r = attrs.get("r")
            self.row = int(r) - 1 if r and r.isdigit() else self.row + 1
            self.col = -1
        elif name == "is":
            self.inline = True
        elif name == "mergeCell":
            self.merge(attrs.get("ref", ""))

    def chars(self, data: str) -> None:
        if self.into is not None:
            self.size += len(data)
            if self.size > MAX_TEXT * 2:
                raise Refused(f"{self.label}的单元格 {_ref(self.row, self.col)} 的文字超过 {MAX_TEXT} 个字符"
                              "（Excel 一个单元格的上限），拒绝读取")
            self.text.append(data)

    def end(self, name: str) -> None:
        if name == "c":
            self.finish()
        elif name == self.into:
            text = "".join(self.text)
            self.into = None
            if name == "v":
                self.value = text
            elif name == "f":
                if self.shared_id is not None:
                    if text:
                        self.shared[self.shared_id] = text
                    else:
                        text = self.shared.get(self.shared_id, "")
                self.formula = text
            else:
                self.value = (self.value or "") + _unescape(text)
            if len(text) > MAX_TEXT and len(_unescape(text)) > MAX_TEXT:
                raise Refused(f"{self.label}的单元格 {_ref(self.row, self.col)} 的文字超过 {MAX_TEXT} 个字符"
                              "（Excel 一个单元格的上限），拒绝读取")

    def merge(self, ref: str) -> None:
        raw = self.raw
        if len(raw.merged) >= MAX_MERGES:
            raise Refused(f"{self.label}有超过 {MAX_MERGES} 个合并单元格区域，不像一份部门预算，拒绝读取")
        found = _range(ref)
        if found is None:
            return
        r1, c1, r2, c2 = found
        if r2 >= MAX_ROWS or c2 >= MAX_COLS:
            raise Refused(f"{self.label}的合并单元格 {ref} 超出了一张预算表的合理范围"
                          f"（最多 {MAX_ROWS} 行、{MAX_COLS} 列，即 {_ref(MAX_ROWS - 1, MAX_COLS - 1)}）："
                          "请取消这个合并或删除多余的行列后再导入")
        raw.merged.append(found)

    def finish(self) -> None:
        v, formula = self.value, self.formula
        if v is None and not formula:
            return  # a cell with only a style: nothing to read
        typed = self.typed(v) if v is not None else None
        if typed is None and not formula:
            return
        r, c, raw = self.row, self.col, self.raw
        if r >= MAX_ROWS or c >= MAX_COLS or r < 0:
            raise Refused(f"{self.label}的单元格 {_ref(r, c)} 有内容，超出了一张预算表的合理范围"
                          f"（最多 {MAX_ROWS} 行、{MAX_COLS} 列，即 {_ref(MAX_ROWS - 1, MAX_COLS - 1)}）："
                          "请删除多余的单元格后再导入")
        budget = self.budget
        budget[0] += 1
        if budget[0] > MAX_CELLS:
            raise Refused(f"工作簿有超过 {MAX_CELLS} 个有内容的单元格（到{self.label}的 {_ref(r, c)} 为止），"
                          "不像一份部门预算，拒绝读取")
        if type(typed) is str and self.kind != "s":  # a shared string is counted once, above
            self.budget[2] += len(typed)
            if self.budget[2] > MAX_BOOK_TEXT:
                raise Refused(f"工作簿的文字合计超过 {MAX_BOOK_TEXT} 个字符（到{self.label}的 {_ref(r, c)} 为止），"
                              "不像一份部门预算，拒绝读取")
        raw.cells[(r, c)] = (typed, "=" + formula if formula and typed is None else "")
        if formula and (_EXTERNAL.search(formula) or (self.names and any(
                t.casefold() in self.names for t in _NAME.findall(formula)))):
            raw.external[(r, c)] = "=" + formula
        if r >= raw.rows or c >= raw.cols:
            raw.rows, raw.cols = max(raw.rows, r + 1), max(raw.cols, c + 1)
            area = raw.rows * raw.cols
            if area > MAX_AREA or budget[1] + area > MAX_BOOK_AREA:
                what = (f"{self.label}的内容范围 A1:{_ref(raw.rows - 1, raw.cols - 1)}（到单元格 {_ref(r, c)}）"
                        f"有 {area} 个单元格，超过了一张预算表的合理大小（{MAX_AREA} 个）")
                if area <= MAX_AREA:
                    what = (f"各工作表的内容范围合计超过 {MAX_BOOK_AREA} 个单元格（到{self.label}的单元格 "
                            f"{_ref(r, c)} 为止），不像一份部门预算")
                raise Refused(f"{what}：请删除多余的行列或工作表后再导入")

    def typed(self, v: str) -> object:
        kind = self.kind
        if kind == "n":
            text = v.strip()
            if not text:
                return None
            try:
                number: float | int = float(text) if ("." in text or "e" in text or "E" in text) else int(text)
            except ValueError:
                return v
            if self.style in self.dates:
                from openpyxl.utils.datetime import from_excel  # type: ignore[import-untyped]
                try:
                    return from_excel(number, self.epoch)
                except (ValueError, OverflowError, TypeError):
                    return number
            return number
        if kind == "s":
            try:
                return self.strings[int(v)]
            except (ValueError, IndexError):
                return None
        if kind in ("str", "inlineStr", "e"):
            return v
        if kind == "b":
            return v.strip() in ("1", "true")
        if kind == "d":
            try:
                return dt.datetime.fromisoformat(v.strip())
            except ValueError:
                return v
        return v


def _sheet(z: zipfile.ZipFile, raw: RawSheet, part: str, strings: list[str], dates: set[str],
           date1904: bool, external_names: set[str], budget: list[int], elements: list[int]) -> None:
    reader = _SheetReader(raw, strings, dates, date1904, external_names, budget)
    _Part(z, part, MAX_PART, reader.label, elements).parse(reader.start, reader.end, reader.chars)
    # a merge counts only over the cells that exist: clipped to the extent of the values
    raw.merged = [(r1, c1, min(r2, raw.rows - 1), min(c2, raw.cols - 1))
                  for r1, c1, r2, c2 in raw.merged if r1 < raw.rows and c1 < raw.cols]


# --------------------------------------------------------------------------- the workbook


def _count_entries(path: str) -> int | None:
    """The number of entries the archive's end record declares (zip64 too), read before
    zipfile builds an object for every one of them; None when there is no end record."""
    import struct
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 65_557))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    entries, = struct.unpack_from("<H", tail, at + 10)
    if entries == 0xFFFF:
        z64 = tail.rfind(b"PK\x06\x06", 0, at)
        if z64 >= 0 and z64 + 56 <= len(tail):
            entries, = struct.unpack_from("<Q", tail, z64 + 32)
    return entries


def read_xlsx(path: str) -> RawBook:
    """The workbook's sheets as plain cells; raises Refused (a Chinese message) for anything
    absurd, zipfile.BadZipFile or expat.ExpatError for a damaged file."""
    declared = _count_entries(path)
    if declared is not None and declared > MAX_PARTS:
        raise Refused(f"工作簿里有 {declared} 个部件，不像一份部门预算，拒绝读取")
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        if len(infos) > MAX_PARTS:
            raise Refused(f"工作簿里有 {len(infos)} 个部件，不像一份部门预算，拒绝读取")
        unpacked = sum(i.file_size for i in infos)
        if unpacked > MAX_UNPACKED:
            raise Refused(f"工作簿解压后有 {unpacked // 1024 // 1024} MB，不像一份部门预算（可能是压缩炸弹），拒绝读取")
        names = [i.filename for i in infos]
        elements = [0]  # XML elements of the parts pre-scanned so far
        book = _workbook(z, elements)
        strings, text_total = _strings(z, names, elements)
        dates = _date_styles(z, names, elements)
        budget = [0, 0, text_total]  # cells with a value, areas of the sheets, characters kept
        sheets = []
        for name, state, part in book.sheets:
            raw = RawSheet(name, state if state in ("hidden", "veryHidden") else "visible")
            _sheet(z, raw, part, strings, dates, book.date1904, book.external_names, budget, elements)
            budget[1] += raw.rows * raw.cols
            sheets.append(raw)
        return RawBook(sheets, book.links)
