"""Issue 6, property-based: any mutation of the two example inputs gives either a clean result or
located Chinese problems — never an uncaught exception, never a traceback from the CLI, never a
float in the model.

Mutations work on the real YAML text, at the character offsets the parser reports for every key and
value: delete a key (with its value), change a value's type to a list or mapping, nudge a figure by
±0.01, replace a value by random text, insert odd Unicode (direction marks, zero-width joiners,
emoji, BOMs, control characters, lone surrogates, escaped surrogates) or YAML punctuation.
"""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import example_text
from generator.commands.cli import app
from generator.loader import load_text
from generator.money import parse_amount
from generator.pipeline import run_text
from test_hostile import floats_in

EXAMPLES = {"524": example_text("2025"), "612": example_text("2023")}
CJK = re.compile("[\u4e00-\u9fff]")
NAME = "mutant.yaml"
BOUNDED = settings(max_examples=60, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ODD = ["\u200f", "\u200e", "\u200d", "\u200b", "\u202e", "\u2066", "\u2028", "\ufeff", "😀", "👨\u200d👩\u200d👧",
       "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\t", "\r", "\x00", "\ud800", "\udfff", "\u3000", "\uffff",
       "\\ud800", "\\x00", "\\", "：", "，", "１", "－"]
PUNCTUATION = [":", ": ", "-", "- ", "{", "}", "[", "]", ",", "#", "'", '"', "&a ", "*a", "!!python/name:os.system ",
               "? ", "|", ">", "%", "@", "`", "\n", "\n  ", "---\n", "<<: "]
TYPED = ["[1, 2]", "{a: 1}", "[]", "{}", "~", "''", '""', ".nan", "-.inf", "1e3", "true", "0x1F", "1_000",
         "-0.01", "１２３", "12.345", "5万元", "1,234.50", "99999999999999999999999999.99", "2010301",
         "!!binary aGk=", '"\\uD800"', '"\\a"', "*x", "&x y"]


def _spans(text: str):
    """(key start, value end, flow) for every mapping entry and (start, end, scalar event, flow)
    for every value scalar, as character offsets into text."""
    entries, values, stack = [], [], []

    def done(start, end, event=None):
        if not stack:
            return
        top = stack[-1]
        if top["map"] and top["key"] is None:
            top["key"] = start
            return
        if top["map"]:
            entries.append((top["key"], end, top["flow"]))
            top["key"] = None
        if event is not None:
            values.append((start, end, event, top["flow"]))

    for ev in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        if isinstance(ev, yaml.ScalarEvent):
            done(ev.start_mark.index, ev.end_mark.index, ev)
        elif isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            stack.append({"map": isinstance(ev, yaml.MappingStartEvent), "flow": bool(ev.flow_style),
                          "key": None, "start": ev.start_mark.index})
        elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = stack.pop()
            done(frame["start"], ev.end_mark.index)
    return entries, values


SPANS = {k: _spans(t) for k, t in EXAMPLES.items()}
NUMBER = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


@st.composite
def mutants(draw):
    which = draw(st.sampled_from(sorted(EXAMPLES)))
    text = EXAMPLES[which]
    entries, values = SPANS[which]
    edits = []  # (start, end, replacement, what)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["delete", "retype", "nudge", "random", "odd", "punct", "odd-in-value"]))
        if kind == "delete":
            start, end, flow = draw(st.sampled_from(entries))
            if flow and text[end:end + 2] == ", ":
                end += 2
            edits.append((start, end, "", "delete key"))
        elif kind == "retype":
            start, end, _, _ = draw(st.sampled_from(values))
            edits.append((start, end, draw(st.sampled_from(TYPED)), "retype"))
        elif kind == "nudge":
            numbers = [v for v in values if not v[2].style and NUMBER.fullmatch(v[2].value)]
            start, end, event, _ = draw(st.sampled_from(numbers))
            value = Decimal(event.value) + draw(st.sampled_from([Decimal("0.01"), Decimal("-0.01")]))
            edits.append((start, end, f"{max(value, Decimal('0.01')):.2f}", "nudge ±0.01"))
        elif kind == "random":
            start, end, _, _ = draw(st.sampled_from(values))
            edits.append((start, end, draw(st.text(max_size=12)), "random text"))
        elif kind == "odd-in-value":
            start, end, _, _ = draw(st.sampled_from(values))
            at = draw(st.integers(start, end))
            edits.append((at, at, draw(st.sampled_from(ODD)), "odd unicode in a value"))
        else:
            at = draw(st.integers(0, len(text)))
            pool = ODD if kind == "odd" else PUNCTUATION
            edits.append((at, at, draw(st.sampled_from(pool)), f"{kind} anywhere"))
    # apply from the end, skipping edits that overlap one already applied
    applied, limit = [], len(text) + 1
    for start, end, new, what in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        if end > limit or (end == limit and start < end):
            continue
        text = text[:start] + new + text[end:]
        applied.append(f"{what} at {start}: {new!r}")
        limit = start
    return which, applied, text


def assert_clean(result, text: str) -> None:
    """ok, or problems that each say where (line ≥ 1, column ≥ 1) and what, in Chinese."""
    lines = text.count("\n") + text.count("\r") + text.count("\u2028") + text.count("\x85") + 2
    if not result.ok:
        assert any(p.is_error for p in result.problems), "not ok, but no error says why"
    for p in result.problems:
        assert p.location.file == NAME
        assert 1 <= p.location.line <= lines and p.location.column >= 1, str(p)
        assert CJK.search(p.message), str(p)
        str(p).encode("utf-8")  # printable on a UTF-8 terminal: no lone surrogates
    if result.budget is not None:
        assert floats_in(result.budget.model_dump()) == []


@BOUNDED
@given(mutants())
def test_mutated_examples_give_ok_or_located_problems(case):
    _, _, text = case
    assert_clean(run_text(text, NAME), text)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("mutants")


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
@BOUNDED
@given(case=mutants())
def test_cli_check_exits_0_1_or_3_without_traceback(workdir, case):
    _, _, text = case
    path = workdir / NAME
    path.write_bytes(text.encode("utf-8", "surrogatepass"))  # a lone surrogate stays a bad byte
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 3), result.output  # 3: unreadable (exitcodes.py)
    assert "Traceback" not in result.output


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.text(max_size=40), st.sampled_from(TYPED + ODD)))
def test_load_text_never_raises_on_any_text(text):
    doc, problems = load_text(text, NAME)
    assert doc is not None or any(p.is_error for p in problems)
    for p in problems:
        assert p.location.line >= 1 and CJK.search(p.message), str(p)
        str(p).encode("utf-8")


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.text(max_size=30), st.sampled_from(TYPED + ODD),
                 st.from_regex(r"-?[0-9０-９]{0,16}([.．][0-9]{0,5})?", fullmatch=True)))
def test_parse_amount_gives_a_decimal_or_a_chinese_value_error(text):
    try:
        value = parse_amount(text)
    except ValueError as exc:
        assert CJK.search(str(exc))
        return
    assert isinstance(value, Decimal) and value.is_finite() and value >= 0
    assert value == value.quantize(Decimal("0.01"))


@settings(max_examples=200, deadline=None, database=None)
@given(st.decimals(min_value=0, max_value=Decimal("999999999999.99"), places=2))
def test_plain_amounts_round_trip_exactly(value):
    assert parse_amount(f"{value:f}") == value
