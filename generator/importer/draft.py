"""What an import produces before it is written: leaf facts with the cell each came from, the
problems found, and the ledger that accounts for every non-empty row of the workbook."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..problems import Location, Problem, error, warning
from .book import Sheet

IMPORTED, CHECKED, LAYOUT, IGNORED = "导入", "核对", "表头", "忽略"

# problems of these rules leave the leaves intact: the file is still written
NON_BLOCKING = {"导入-核对"}


@dataclass
class Entry:
    """One item of a YAML list (or one mapping), in key order, and where it came from."""
    data: dict
    origin: str


@dataclass
class Draft:
    path: str
    department: dict = field(default_factory=dict)
    department_origin: str = ""
    layout: str = ""
    layout_origin: str = ""
    institutions: list[Entry] = field(default_factory=list)
    catalog: dict[str, list[Entry]] = field(default_factory=lambda: {"function": [], "economic": []})
    expenditure: list[Entry] = field(default_factory=list)
    basic_economic: list[Entry] = field(default_factory=list)
    three_public: list[Entry] = field(default_factory=list)  # one Entry per item
    three_public_funds: dict[str, list[Entry]] = field(default_factory=dict)  # gov_fund / soe
    projects: list[Entry] = field(default_factory=list)
    projects_without_amount: list[Entry] = field(default_factory=list)
    procurement: list[Entry] = field(default_factory=list)
    services: list[Entry] = field(default_factory=list)  # purchased_services, one per service
    department_performance: Entry | None = None  # {goals: [...], indicators: [[6 cells]]}
    assets: Entry | None = None
    control_totals: list[Entry] = field(default_factory=list)  # {key: amount}
    income: list[Entry] = field(default_factory=list)  # {source: amount}
    problems: list[Problem] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)  # the workbook's sheet names, in order
    needs_yuan: str = ""  # the first cell whose amount is not a whole hundred 元 (then: unit 元)
    unit: str = "万元"  # the unit the department file is written in
    ledger: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)

    # ----------------------------------------------------------------- problems
    def where(self) -> Location:
        return Location(self.path)

    def error(self, rule: str, at: str, message: str, expected=None, found=None) -> None:
        text = f"{at}：{message}" if at else message
        self.problems.append(error(rule, text, self.where(), expected, found))

    def warning(self, rule: str, at: str, message: str) -> None:
        text = f"{at}：{message}" if at else message
        self.problems.append(warning(rule, text, self.where()))

    @property
    def blocked(self) -> bool:
        return any(p.is_error and p.rule not in NON_BLOCKING for p in self.problems)

    # ------------------------------------------------------------------- ledger
    def mark(self, sheet: Sheet, r: int, status: str, reason: str = "") -> None:
        key = (sheet.name, r)
        if key in self.ledger and self.ledger[key][0] == IMPORTED:
            return  # a row that gave a leaf stays "imported" even if it is also checked
        self.ledger[key] = (status, reason)

    def account(self, sheets: list[Sheet]) -> None:
        """Every non-empty row not yet accounted for is listed as ignored."""
        for s in sheets:
            for r in range(len(s.rows)):
                if not s.is_blank_row(r) and (s.name, r) not in self.ledger:
                    self.ledger[(s.name, r)] = (IGNORED, "未识别的行")

    def counts(self) -> dict[str, int]:
        out = {IMPORTED: 0, CHECKED: 0, LAYOUT: 0, IGNORED: 0}
        for status, _ in self.ledger.values():
            out[status] += 1
        return out


def amount_text(value: Decimal) -> str:
    """An amount as written in the department file: two decimals (the value never has more)."""
    return f"{value:.2f}"


def fmt(value: Decimal) -> str:
    """An amount in a message: two decimals, more when it has them (a 元 workbook's 万元)."""
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def ignored_lines(ledger: dict[tuple[str, int], tuple[str, str]], order: list[str] | None = None
                  ) -> list[str]:
    """The ignored rows, one line per sheet and reason, rows as ranges: 表七 第7、9–12行：注释行;
    sheets in workbook `order`."""
    groups: dict[tuple[str, str], list[int]] = {}
    rank = {name: i for i, name in enumerate(order or [])}
    for (sheet, r), (status, reason) in sorted(ledger.items(), key=lambda kv: (rank.get(kv[0][0], 0), kv[0][1])):
        if status == IGNORED:
            groups.setdefault((sheet, reason), []).append(r + 1)
    out = []
    for (sheet, reason), rows in groups.items():
        rows.sort()
        spans: list[str] = []
        start = prev = rows[0]
        for n in rows[1:] + [0]:
            if n != prev + 1:
                spans.append(str(start) if start == prev else f"{start}–{prev}")
                start = n
            prev = n
        out.append(f"{sheet} 第{'、'.join(spans)}行：{reason}")
    return out
