"""Layout editions: what differs between the Hebei 2023 and 2025 disclosure templates.

Titles, fixed row lists, the explanatory sections and their headings, glossary defaults and
the project-table format. Pure data; the compute stage reads it, renderers never need it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .catalog import cn_number

_HERE = Path(__file__).resolve().parent / "editions"

# income rows of schedule 1: (label, sources summed)
_UNIT_FUNDS = ("institution", "operating", "superior", "affiliate", "other")


@dataclass(frozen=True)
class Edition:
    key: str
    schedule_titles: tuple[str, ...]  # 表一 … 表九
    income_rows: tuple[tuple[str, tuple[str, ...]], ...]
    fund_empty_name: str  # 政府性基金 / 政府基金 (schedule 7 title and note)
    three_public_rows: tuple[tuple[str, tuple[str, ...], int], ...]  # label, items, level
    procurement_funds: tuple[tuple[str, tuple[str, ...]], ...]  # column label, funds
    sections: tuple[tuple[str, str], ...]  # (key, heading) of the explanatory text
    project_table: str  # "full" (2025) | "goals" (2023)
    glossary_file: str
    income_text: str  # how 收入说明 lists the sources

    @property
    def glossary(self) -> tuple[str, ...]:
        return _glossary(self.glossary_file)


@lru_cache(maxsize=None)
def _glossary(name: str) -> tuple[str, ...]:
    text = (_HERE / name).read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _titles(fund: str) -> tuple[str, ...]:
    return ("部门预算收支总表", "部门预算收入总表", "部门预算支出总表", "部门预算财政拨款收支总表",
            "部门预算一般公共预算财政拨款支出表", "部门预算一般公共预算财政拨款基本支出表",
            f"部门预算{fund}预算财政拨款支出表", "部门预算国有资本经营预算财政拨款支出表",
            "部门预算财政拨款“三公”经费支出表")


_COMMON_INCOME = (("一、一般公共预算拨款收入", ("general",)),
                  ("二、政府性基金预算拨款收入", ("gov_fund",)),
                  ("三、国有资本经营预算拨款收入", ("soe",)),
                  ("四、财政专户管理资金收入", ("special_account",)))

_OVERSEAS = ("overseas", "overseas_research")
_VEHICLE = ("vehicle_purchase", "vehicle_operation")
_ALL3 = _OVERSEAS + _VEHICLE + ("reception",)
_VEHICLE_AND_RECEPTION = (
    ("二、公务用车购置及运维费", _VEHICLE, 1),
    ("    其中：公务用车购置费", ("vehicle_purchase",), 2),
    ("          公务用车运行维护费", ("vehicle_operation",), 2),
    ("三、公务接待费", ("reception",), 1),
)
_CURRENT_FUNDS = (("一般公共预算拨款", ("general",)), ("基金预算拨款", ("gov_fund",)),
                  ("国有资本经营预算拨款", ("soe",)), ("财政专户核拨", ("special_account",)),
                  ("单位资金", ("unit",)))
_OPENING = (("duties", "部门职责及机构设置情况"), ("overview", "部门预算安排的总体情况"),
            ("operating", "机关运行经费安排情况"),
            ("three_public", "财政拨款“三公”经费预算情况及增减变化原因"))
_CLOSING = (("procurement", "政府采购预算情况"), ("assets", "国有资产信息"), ("glossary", "名词解释"),
            ("other", "其他需要说明的事项"))


def _numbered(*sections: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """(key, title) → (key, "一、title"), numbered in order."""
    return tuple((key, f"{cn_number(i)}、{title}") for i, (key, title) in enumerate(sections, 1))


HEBEI_2025 = Edition(
    key="hebei-2025",
    schedule_titles=_titles("政府性基金"),
    income_rows=_COMMON_INCOME + (("五、单位资金", _UNIT_FUNDS),),
    fund_empty_name="政府性基金",
    three_public_rows=(
        ("合计", _ALL3, 0),
        ("“三公”经费小计", _ALL3, 0),
        ("一、因公出国（境）费", _OVERSEAS, 1),
        ("    其中：教学科研人员因公出国（境）费", ("overseas_research",), 2),
        ("          其他因公出国（境）费", ("overseas",), 2),
    ) + _VEHICLE_AND_RECEPTION,
    procurement_funds=_CURRENT_FUNDS + (
        ("上年结转结余", ("carryover", "carryover_fiscal", "carryover_other")),),
    sections=_numbered(*_OPENING, ("performance", "部门整体绩效目标"),
                       ("special_funds", "部门主管专项资金预算安排情况及绩效目标"),
                       ("projects", "部门项目预算安排情况及绩效目标"), *_CLOSING),
    project_table="full",
    glossary_file="glossary-hebei-2025.txt",
    income_text="2025",
)

HEBEI_2023 = Edition(
    key="hebei-2023",
    schedule_titles=_titles("政府基金"),
    income_rows=_COMMON_INCOME + (("五、事业收入", ("institution",)),
                                  ("六、事业单位经营收入", ("operating",)),
                                  ("七、上级补助收入", ("superior",)),
                                  ("八、附属单位上缴收入", ("affiliate",)),
                                  ("九、其他收入", ("other",))),
    fund_empty_name="政府基金",
    three_public_rows=(
        ("“三公”经费小计", _ALL3, 0),
        ("一、因公出国（境）费", _OVERSEAS, 1),
    ) + _VEHICLE_AND_RECEPTION,
    procurement_funds=_CURRENT_FUNDS + (("财政拨款结转", ("carryover_fiscal", "carryover")),
                                        ("非财政拨款结转结余", ("carryover_other",))),
    sections=_numbered(*_OPENING, ("performance", "预算绩效信息"), *_CLOSING),
    project_table="goals",
    glossary_file="glossary-hebei-2023.txt",
    income_text="2023",
)

EDITIONS = {e.key: e for e in (HEBEI_2025, HEBEI_2023)}
