"""Rules written once: the unit price (rounded 四舍五入 in money.py, shown with the same decimals
by the PDF/HTML and the workbook), Chinese ordinals, the institutions sheet from the Disclosure."""
from __future__ import annotations

from decimal import Decimal

import pytest

from generator.catalog import cn_number
from generator.money import price_places, unit_price
from generator.render.html import format_cell
from generator.render.xlsx import number_format

D = Decimal


@pytest.mark.parametrize("amount,quantity,price", [
    ("1.25", "2", "0.63"),  # half up, not half to even (0.62)
    ("0.35", "2", "0.18"),  # 0.175 → 0.18
    ("2.10", "750", "0.0028"),  # 0.0028 would show as 0.00: four decimals
    ("0.01", "3", "0.0033"),
    ("0.01", "200", "0.0001"),  # 0.00005 rounds up
    ("125.47", "1", "125.47"),
    ("18.20", "6500", "0.0028"),
])
def test_unit_price_rounds_half_up_to_the_decimals_it_is_shown_with(amount, quantity, price):
    got = unit_price(D(amount), D(quantity))
    assert str(got) == price
    # the PDF/HTML cell and the workbook's number format show exactly these digits
    assert format_cell(got, "price") == price
    assert number_format("price", got) == "0." + "0" * (len(price.split(".")[1]))


def test_no_quantity_no_price():
    assert unit_price(D("1.00"), D("0")) is None


def test_price_places():
    assert [price_places(D(x)) for x in ("0", "0.005", "0.0049", "1")] == [2, 2, 4, 2]


def test_chinese_ordinals():
    assert [cn_number(n) for n in (1, 9, 10, 11, 19, 20, 21, 31)] == [
        "一", "九", "十", "十一", "十九", "二十", "二十一", "三十一"]


def test_institutions_sheet_comes_from_the_annex_tables(xigang):
    d = xigang.disclosure
    assert [t.key for t in d.annex_tables][-1] == "institutions"
    duties = next(s for s in d.sections if s.key == "duties")
    assert d.annex_tables[-1] in duties.blocks  # the same table object, computed once


def test_pipeline_result_is_success_or_failure(tmp_path):
    """`run` returns Checked (a model, computed; maybe with errors) or Refused (nothing to render)."""
    from conftest import EXAMPLE_2023, example_text, replace_once
    from generator.pipeline import Checked, Refused, run, run_text
    good = run(EXAMPLE_2023)
    assert isinstance(good, Checked) and good.ok and good.readable and good.disclosure.year == 2023
    wrong = run_text(replace_once(example_text("2025"), "basic: 1505.72}", "basic: 1505.73}"), "d.yaml")
    assert isinstance(wrong, Checked) and not wrong.ok and wrong.readable
    untyped = run_text(replace_once(example_text("2025"), "  year: 2025\n", "  year: 二〇二五\n"), "d.yaml")
    assert isinstance(untyped, Refused) and untyped.readable and not untyped.ok
    assert (untyped.budget, untyped.disclosure, untyped.figures) == (None, None, None)
    broken = run(tmp_path / "missing.yaml")
    assert isinstance(broken, Refused) and not broken.readable and broken.doc is None
    assert broken.file == str(tmp_path / "missing.yaml")
