"""Property tests (hypothesis): for generated departments — any 项 of the catalog, every kind of
money, 三公 in all three funds — every schedule keeps its arithmetic:

类 = Σ款 = Σ项 and 合计 = Σ类 (表二、三、五、七、八, every column); 合计 = 基本 + 项目 + 经营 + 上解 + 补助
(表三); the 收支总表 balances; 表四 = 表五 + 表七 + 表八 by fund column; 表二 by source = 表三 by
function; 人员 + 公用 = 基本 (表六); 三公 = its items, and each row = the sum of its fund columns.
"""
from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.catalog import load_catalog
from generator.compute import compute
from generator.model import Budget

CAT = load_catalog(2025)
ITEMS = sorted(c for c in CAT.function_names if len(c) == 7)
SOURCES_BY_FUND = {
    "general": ["general", "carryover_general", "special_account", "institution", "operating",
                "superior", "affiliate", "other", "carryover_other"],
    "gov_fund": ["gov_fund", "carryover_gov_fund"],
    "soe": ["soe", "carryover_soe"],
}
FISCAL_SOURCES = {"general", "carryover_general", "gov_fund", "carryover_gov_fund", "soe", "carryover_soe"}
ECONOMIC = sorted(c for c in CAT.economic_names if len(c) == 5)
SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

cents = st.integers(min_value=0, max_value=10_000_000).map(lambda n: Decimal(n).scaleb(-2))
small = st.integers(min_value=0, max_value=100_000).map(lambda n: Decimal(n).scaleb(-2))


@st.composite
def departments(draw):
    lines = []
    seen = set()
    for _ in range(draw(st.integers(min_value=1, max_value=25))):
        code = draw(st.sampled_from(ITEMS))
        source = draw(st.sampled_from(SOURCES_BY_FUND[CAT.fund_of(code)]))
        if (code, source) in seen:
            continue
        seen.add((code, source))
        line = {"code": code, "source": source, "basic": draw(cents), "project": draw(cents)}
        if source not in FISCAL_SOURCES:  # 财政拨款 pays 基本 and 项目 only (rule 资金来源-支出类型)
            line.update({k: draw(st.one_of(st.just(Decimal(0)), small))
                         for k in ("operating", "remit", "subsidy")})
        lines.append(line)
    econ = {draw(st.sampled_from(ECONOMIC)): draw(cents) for _ in range(draw(st.integers(0, 12)))}
    three = {}
    for fund in ("general", "gov_fund", "soe"):
        items = {k: draw(small) for k in ("overseas", "overseas_research", "vehicle_purchase",
                                          "vehicle_operation", "reception")}
        if fund == "general":
            three.update(items)
        elif draw(st.booleans()):
            three[fund] = items
    edition = draw(st.sampled_from(["hebei-2025", "hebei-2023"]))
    data = {"department": {"code": "1", "name": "生成的部门", "year": 2025, "edition": edition},
            "expenditure": lines,
            "basic_economic": [{"code": c, "amount": a} for c, a in econ.items()],
            "three_public": three}
    return Budget.model_validate(data)


def _tree_rows(table, money_from: int):
    """(code, money cells) of a function-tree schedule, 合计 first."""
    return [(r.cells[1], tuple(r.cells[money_from:])) for r in table.rows]


def _vsum(vectors, width: int):
    vectors = list(vectors)
    if not vectors:
        return (Decimal(0),) * width
    return tuple(sum(col, Decimal(0)) for col in zip(*vectors))


def _check_tree(table, money_from: int = 3):
    rows = _tree_rows(table, money_from)
    if rows and rows[0][0] is None:  # the empty table: one blank row
        return {}
    total = rows[0][1]
    by_code = {code: v for code, v in rows[1:]}
    classes = [c for c in by_code if len(c) == 3]
    assert _vsum((by_code[c] for c in classes), len(total)) == total, table.key
    for c in by_code:
        kids = [k for k in by_code if len(k) == len(c) + 2 and k.startswith(c)]
        if len(c) < 7:
            assert kids, (table.key, c)
            assert _vsum((by_code[k] for k in kids), len(total)) == by_code[c], (table.key, c)
    return by_code


@SETTINGS
@given(departments())
def test_every_schedule_keeps_its_arithmetic(budget):
    disclosure, fig = compute(budget, CAT)
    s1, s2, s3, s4, s5, s6, s7, s8, s9 = disclosure.schedules

    t2, t3 = _check_tree(s2), _check_tree(s3)
    t5, t7, t8 = _check_tree(s5), _check_tree(s7), _check_tree(s8)

    # 表三: 合计 = 基本 + 项目 + 经营 + 上解 + 补助, on every row
    for v in list(t3.values()) + [s3.rows[0].cells[3:]]:
        assert v[0] == sum(v[1:], Decimal(0))
    # 表二: 合计 = 本年收入小计 + 上年结转; 小计 = Σ its source columns
    for v in list(t2.values()) + [s2.rows[0].cells[3:]]:
        assert v[0] == v[1] + v[9] and v[1] == sum(v[2:9], Decimal(0))
    # 表二 by source = 表三 by function, code by code
    assert {c: v[0] for c, v in t2.items()} == {c: v[0] for c, v in t3.items()}
    # 表五/七/八: 合计 = 基本 + 项目
    for t in (t5, t7, t8):
        for v in t.values():
            assert v[0] == v[1] + v[2]

    # 表四 = 表五 + 表七 + 表八, by fund column, class by class
    classes = {r.cells[3]: r.cells[4:8] for r in s4.rows[:len(CAT.function_classes)]}
    for cls in CAT.function_classes:
        total, general, gov, soe = classes[cls.label]
        assert general == (t5.get(cls.code, (Decimal(0),))[0] if cls.code else 0)
        assert gov == (t7.get(cls.code, (Decimal(0),))[0] if cls.code else 0)
        assert soe == (t8.get(cls.code, (Decimal(0),))[0] if cls.code else 0)
        assert total == general + gov + soe
    s4_by_label = {r.cells[1]: r for r in s4.rows if r.cells[1]}
    spent = next(r for r in s4.rows if r.cells[3] == "支出总计").cells[4:8]
    assert s4_by_label["收入总计"].cells[2] == spent[0] == sum(spent[1:], Decimal(0))

    # 收支总表 balances, and its class rows add up to 本年支出合计 = 表三合计
    s1_left = {r.cells[1]: r.cells[2] for r in s1.rows if r.cells[1]}
    s1_right = {r.cells[3]: r.cells[4] for r in s1.rows if r.cells[3]}
    income_rows = [r.cells[2] for r in s1.rows[:len(CAT.function_classes)] if r.cells[1]]
    assert s1_left["本年收入合计"] == sum(income_rows, Decimal(0))
    assert s1_left["收入总计"] == s1_left["本年收入合计"] + s1_left["上年结转结余"] == s1_right["支出总计"]
    class_rows = [r.cells[4] for r in s1.rows[:len(CAT.function_classes)]]
    assert sum(class_rows, Decimal(0)) == s1_right["本年支出合计"] == s3.rows[0].cells[3] == fig.total

    # 表六: 人员 + 公用 = 合计 on every row; 合计 = Σ类
    for r in s6.rows:
        assert r.cells[3] == r.cells[4] + r.cells[5]
    assert s6.rows[0].cells[3] == sum((r.cells[3] for r in s6.rows[1:] if len(r.cells[1]) == 3), Decimal(0))
    assert fig.personnel + fig.public == fig.economic_total

    # 表九: each row's 合计 = Σ its fund columns; 合计 = 出国 + 车 + 接待 = the model's items
    for r in s9.rows:
        assert r.cells[2] == sum(r.cells[3:6], Decimal(0))
    labels = {r.cells[1].strip(): r.cells[2] for r in s9.rows}
    parts = [v for k, v in labels.items() if k.startswith(("一、", "二、", "三、"))]
    assert labels["“三公”经费小计"] == sum(parts, Decimal(0)) == fig.three_public_total
    tp = budget.three_public
    everything = [getattr(tp, k) for k in ("overseas", "overseas_research", "vehicle_purchase",
                                           "vehicle_operation", "reception")]
    for fund in (tp.gov_fund, tp.soe):
        if fund is not None:
            everything += [getattr(fund, k) for k in ("overseas", "overseas_research", "vehicle_purchase",
                                                      "vehicle_operation", "reception")]
    assert fig.three_public_total == sum(everything, Decimal(0))
