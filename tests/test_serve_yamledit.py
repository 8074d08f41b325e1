"""In-place edits of the clerk's YAML text (generator/commands/serve/yamledit.py): a changed value
changes that value's text and nothing else; rows are added, removed and moved without touching
the comments or the other rows."""
from __future__ import annotations

import difflib

import pytest

from generator.commands.serve import yamledit
from generator.commands.serve.amounts import normalize
from generator.loader import load_text
from tests.conftest import EXAMPLE_2023, EXAMPLE_2025

TEXT = EXAMPLE_2025.read_text(encoding="utf-8")


def _leaves(data, path=()):
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _leaves(v, path + (i,))
    else:
        yield path, data


def _changed_lines(a: str, b: str) -> list[str]:
    return [line for line in difflib.unified_diff(a.splitlines(), b.splitlines(), n=0, lineterm="")
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def _get(text: str, path):
    doc, _ = load_text(text)
    data = doc.data
    for k in path:
        data = data[k]
    return data


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
@pytest.mark.parametrize("example", [EXAMPLE_2025, EXAMPLE_2023], ids=["2025", "2023"])
def test_writing_every_value_back_unchanged_keeps_the_file_byte_for_byte(example):
    text = example.read_text(encoding="utf-8")
    doc, _ = load_text(text)
    leaves = [(p, v) for p, v in _leaves(doc.data) if v is not None]
    assert len(leaves) > 300
    for path, value in leaves:
        assert yamledit.set_scalar(text, path, value) == text, path


def test_a_new_value_changes_only_its_own_line_and_keeps_the_comment_on_it():
    for path, new in [(("expenditure", 1, "basic"), "1600.00"),
                      (("projects", 6, "plan", 0), "3.00"),
                      (("prior_year", "basic"), "1700.00"),
                      (("projects", 0, "indicators", 2, 4), "≥95%"),
                      (("department", "code"), "525")]:
        out = yamledit.set_scalar(TEXT, path, new)
        changed = _changed_lines(TEXT, out)
        assert len(changed) == 2, (path, changed)
        assert _get(out, path) == new
    out = yamledit.set_scalar(TEXT, ("prior_year", "basic"), "1700.00")
    assert "  basic: 1700.00      # 1822.69-121.68" in out


@pytest.mark.parametrize("value", ["a: b", "# not a comment", "[1, 2]", "{x}", "- item", "x, y", "null", "~",
                                   "", "'quoted'", '"double"', "line one\nline two", "  spaced  ", "@at",
                                   "全角：冒号，逗号", "100%", "≥10次"])
def test_any_text_reads_back_as_typed(value):
    out = yamledit.set_scalar(TEXT, ("projects", 0, "indicators", 0, 2), value)  # inside a flow list
    assert _get(out, ("projects", 0, "indicators", 0, 2)) == value
    out = yamledit.set_scalar(TEXT, ("projects", 0, "purpose"), value)  # a block mapping value
    assert _get(out, ("projects", 0, "purpose")) in (value, None if value == "" else value)
    assert len(_changed_lines(TEXT, out)) >= 2


def test_a_missing_key_is_added_to_its_mapping():
    out = yamledit.set_scalar(TEXT, ("expenditure", 0, "basic"), "1.00")  # flow mapping
    assert "  - {code: 2010108, name: 代表工作, project: 4.00, basic: 1.00}" in out
    out = yamledit.set_scalar(TEXT, ("prior_year", "reasons", "three_public"), "持平")  # block mapping
    assert _get(out, ("prior_year", "reasons", "three_public")) == "持平"
    assert _get(out, ("prior_year", "reasons", "project")).startswith("主要为新增")
    out = yamledit.set_scalar(TEXT, ("three_public", "gov_fund", "reception"), "0.50")  # a new mapping
    assert _get(out, ("three_public", "gov_fund")) == {"reception": "0.50"}
    out = yamledit.set_scalar(TEXT, ("department", "published"), "2025-02-10")
    assert _get(out, ("department",))["published"] == "2025-02-10"
    assert len(_changed_lines(TEXT, out)) == 1


def test_rows_are_added_removed_and_moved_in_place():
    out = yamledit.add_item(TEXT, ("expenditure",), {"code": "", "basic": "0"})
    assert _get(out, ("expenditure",))[-1] == {"code": "", "basic": "0"}
    assert _changed_lines(TEXT, out) == ['+  - {code: "", basic: 0}']
    out = yamledit.add_item(TEXT, ("projects", 0, "indicators"), [""] * 6)
    assert len(_get(out, ("projects", 0, "indicators"))) == 12
    out = yamledit.remove_item(TEXT, ("projects", 0, "indicators"), 1)
    assert [c[:1] for c in _changed_lines(TEXT, out)] == ["-"]
    out = yamledit.move_item(TEXT, ("expenditure",), 0, 1)
    codes = [r["code"] for r in _get(out, ("expenditure",))]
    assert codes[:2] == ["2010301", "2010108"]
    # projects are block mappings preceded by "# 1", "# 2" comments: the comments stay in place
    out = yamledit.move_item(TEXT, ("projects",), 0, 1)
    assert [p["name"] for p in _get(out, ("projects",))][:2] == ["基层武装工作经费", "办事处专项经费"]
    assert out.count("  # 1\n") == 1 and sorted(out.splitlines()) == sorted(TEXT.splitlines())
    out = yamledit.add_item(TEXT, ("purchased_services",), {"name": "", "amount": "0"})
    assert _get(out, ("purchased_services",)) == [{"name": "", "amount": "0"}]
    assert out.startswith(TEXT)
    out = yamledit.add_item(TEXT, ("duties",), "新的一段", at=0)
    assert _get(out, ("duties", 0)) == "新的一段"
    out = yamledit.move_item(TEXT, ("projects", 6, "plan"), 0, 1)  # a flow list
    assert _get(out, ("projects", 6, "plan")) == [None, None, None, "13.53"]


def test_an_impossible_edit_is_refused_and_changes_nothing():
    with pytest.raises(yamledit.EditError):
        yamledit.set_scalar(TEXT, ("expenditure",), "1")  # a list, not a value
    with pytest.raises(yamledit.EditError):
        yamledit.remove_item(TEXT, ("expenditure",), 99)
    with pytest.raises(yamledit.EditError):
        yamledit.set_scalar(TEXT, ("expenditure", 99, "basic"), "1")


@pytest.mark.parametrize("typed, written", [("1,505.72", "1505.72"), ("１５０５．７２", "1505.72"),
                                            ("１，５０５.７２", "1505.72"), (" 26 ", "26"), ("-", "0"),
                                            ("12a", "12a"), ("1,50", "1,50"), ("1.234", "1.234")])
def test_amounts_typed_as_in_the_budget_system_become_plain_numbers(typed, written):
    assert normalize(typed) == written
