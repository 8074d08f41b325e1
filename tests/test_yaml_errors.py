"""Every YAML mistake the parser stops at gives a located Chinese message with a hint — with
libyaml (PyYAML's C loader) and with PyYAML's pure-Python parser, whose English wording differs
(and changes between releases: PyYAML 6.0.4's libyaml stops deep nesting itself). No English
word of the parser's ever reaches the user (generator/yamlerrors.py)."""
from __future__ import annotations

import re

import pytest
import yaml

from generator import loader, yamlerrors
from generator.money import parse_amount

PARSERS = [pytest.param(yaml.SafeLoader, id="pure")]
if hasattr(yaml, "CSafeLoader"):
    PARSERS.insert(0, pytest.param(yaml.CSafeLoader, id="libyaml"))

# name, text, (line, column), a fragment of the hint. The places were read off the texts by
# hand: where the parser notices the mistake (both parsers agree on every one of these).
CASES = [
    ("lone dash for zero", "a:\n  amount: -\n  b: 1\n", (2, 11), "金额为零请写 0"),
    ("lone dash at the end", "a:\n  basic: -   # Excel\n", (2, 10), "“-”在 YAML 中表示列表项"),
    ("dash after a key", "a: - x\n", (1, 4), "此处不能开始列表项“- ”"),
    ("list item under keys", "a:\n  b: 1\n  - c\n", (3, 3), "缩进不一致，或列表项“- ”与键混用"),
    ("list item outdented", "a:\n  b: 1\n - c\n", (3, 2), "缩进不一致"),
    ("tab indentation", "a:\n\tb: 1\n", (2, 1), "制表符（Tab）"),
    ("tab in a block text", "a: |\n\tx\n", (2, 1), "制表符（Tab）"),
    ("colon in a value", "a: b: c\n", (1, 5), "给含冒号的文字加引号"),
    ("no space after colon", "a:\n  b:1\n  c: 2\n", (3, 4), "第2行的冒号后面缺少空格"),
    ("full-width colon", "a:\n  b：1\n  c: 2\n", (3, 4), "第2行的冒号是全角“：”"),
    ("missing colon", "a:\n  b 1\n  c: 2\n", (3, 4), "第2行缺少冒号"),
    ("indented too far", "a:\n  b: 1\n    c: 2\n", (3, 6), "检查缩进"),
    ("indented too little", "a:\n    b: 1\n  c: 2\n", (3, 3), "缩进不一致"),
    ("unclosed double quote", 'a: "abc\nb: 1\n', (3, 1), "第1行第4列开始的引号没有闭合"),
    ("unclosed single quote", "a: x\nb: 'z\n", (3, 1), "第2行第4列开始的引号没有闭合"),
    ("unclosed bracket", "a: [1, 2\nb: 1\n", (2, 2), "第1行第4列的方括号“[”没有闭合"),
    ("unclosed brace", "a: {x: 1\nb: 1\n", (2, 2), "第1行第4列的花括号“{”没有闭合"),
    ("text after a quote", "a: 'x'y\n", (1, 7), "引号结束后还有文字"),
    ("text after a double quote", 'a: "x" y\n', (1, 8), "引号结束后还有文字"),
    ("bad escape", 'a: "\\q"\n', None, "无效的转义"),
    ("bad hex escape", 'a: "\\xZZ"\n', (1, 7), "无效的转义"),
    ("at sign", "a: @x\n", (1, 4), "此处的“@”不能用在文字开头"),
    ("backtick", "a: `x\n", (1, 4), "此处的“`”不能用在文字开头"),
    ("block text indicator", "a: |x\n  y\n", (1, 5), "“|”或“>”之后只能换行"),
    ("block indent zero", "a: |0\n  y\n", (1, 5), "“|”或“>”之后只能换行"),
    ("tag handle", "a: !x!y 1\n", (1, 4), "不允许的标签"),
    ("verbatim tag", "a: !<x 1\n", (1, 7), "不允许的标签"),
    ("content after end", "a: 1\n...\nb: 2\n", (3, 1), "文件结束标记“...”之后还有内容"),
    ("twice %YAML", "%YAML 1.1\n%YAML 1.1\n---\na: 1\n", (2, 1), "YAML 指令"),
    ("bad %YAML", "%YAML x\n---\na: 1\n", (1, 7), "YAML 指令"),
    ("empty anchor", "a: &\n", (1, 5), "“&”或“*”后面缺少名称"),
    ("empty alias", "a: *\n", (1, 5), "“&”或“*”后面缺少名称"),
    ("question mark", "a: ? b\n", (1, 4), "此处不能用“?”开始一个键"),
    ("document marker in a quote", 'a: "x\n---\ny"\n', (2, 1), "引号内有一行以“---”"),
    ("leading comma", "a: [,1]\n", (1, 5), "此处缺少内容，或有多余的逗号、括号"),
    ("flow at end of file", "a: [\n", (2, 1), "此处缺少内容"),
]

ENGLISH = re.compile(r"[A-Za-z]{2,}")
ALLOWED = {"YAML", "Tab", "Excel"}


def english(message: str) -> list[str]:
    return [w for w in ENGLISH.findall(message) if w not in ALLOWED]


@pytest.fixture(params=PARSERS)
def parser(request, monkeypatch):
    monkeypatch.setattr(loader, "_Loader", request.param)
    return request.param


@pytest.mark.parametrize("name,text,where,fragment", CASES, ids=[c[0] for c in CASES])
def test_each_mistake_is_located_and_chinese(parser, name, text, where, fragment):
    doc, problems = loader.load_text(text, "dept.yaml")
    assert doc is None and len(problems) == 1, problems
    p = problems[0]
    assert p.rule == "YAML语法" and p.is_error
    assert p.message.startswith("YAML 语法错误：")
    assert fragment in p.message, p.message
    assert not english(p.message), p.message
    if where is not None:
        assert (p.location.file, p.location.line, p.location.column) == ("dept.yaml", *where)


@pytest.mark.parametrize("levels", [70, 1200, 5000])
@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_deep_flow_nesting_is_refused_where_it_passes_the_limit(parser, levels, opening):
    # libyaml of PyYAML 6.0.4 stops at 1000 levels with its own (English) error; older ones and
    # the pure parser read on: either way the refusal is ours, at the 64th level
    closing = "]" if opening == "[" else "}"
    text = "a: " + opening * levels + "1" + closing * levels + "\n"
    doc, problems = loader.load_text(text, "dept.yaml")
    assert [p.rule for p in problems] == ["YAML嵌套"]  # (the tree, with the deep part left out, may be kept)
    p = problems[0]
    assert p.message == f"嵌套超过{loader.MAX_DEPTH}层，远超输入格式所需"
    column = 4 + len(opening) * (loader.MAX_DEPTH - 1)  # the opening of level MAX_DEPTH
    assert (p.location.line, p.location.column) == (1, column)


@pytest.mark.parametrize("levels", [70, 1200])
def test_deep_block_nesting_is_refused_where_it_passes_the_limit(parser, levels):
    text = "".join("  " * i + "k:\n" for i in range(levels))
    doc, problems = loader.load_text(text, "dept.yaml")
    assert [p.rule for p in problems] == ["YAML嵌套"]  # (the tree, with the deep part left out, may be kept)
    # the mapping of level MAX_DEPTH starts on line MAX_DEPTH + 1 (its first key), indented
    assert (problems[0].location.line, problems[0].location.column) == (
        loader.MAX_DEPTH + 1, 2 * loader.MAX_DEPTH + 1)


def test_the_parsers_own_depth_message_is_chinese_too():
    exc = yaml.MarkedYAMLError("while increasing flow level", None, "exceeded maximum nesting depth",
                               yaml.Mark("f", 1002, 0, 1002, None, None))
    p = yamlerrors.yaml_problem(exc, "dept.yaml", "a: " + "[" * 2000)
    assert p.rule == "YAML嵌套" and "嵌套层数超过" in p.message and not english(p.message)
    assert (p.location.line, p.location.column) == (1, 1003)


@pytest.mark.parametrize("problem,context", [
    ("found something no release has said yet", "while doing something new"),
    ("", ""),
    ("expected <frobnicator>, but found '<zap>'", None),
])
def test_an_unknown_parser_message_gets_the_chinese_fallback(problem, context):
    exc = yaml.MarkedYAMLError(context, None, problem, yaml.Mark("f", 12, 1, 5, None, None))
    p = yamlerrors.yaml_problem(exc, "dept.yaml", "a: 1\nb: zz\n")
    assert p.message == "YAML 语法错误：" + yamlerrors.FALLBACK
    assert (p.location.line, p.location.column) == (2, 6)
    assert not english(p.message)


def test_every_kind_has_chinese_words_only():
    for kind, _, hint in yamlerrors.KINDS:
        assert not english(hint), (kind, hint)
    assert not english(yamlerrors.FALLBACK)


@pytest.mark.parametrize("known", [
    "found character that cannot start any token", "found a tab character that violates indentation",
    "found a tab character that violate indentation", "block sequence entries are not allowed in this context",
    "sequence entries are not allowed here", "mapping values are not allowed in this context",
    "mapping values are not allowed here", "could not find expected ':'", "did not find expected key",
    "expected <block end>, but found '-'", "did not find expected '-' indicator",
    "did not find expected node content", "expected the node content, but found ','",
    "exceeded maximum nesting depth", "found unexpected ':'", "found undefined tag handle",
    "found incompatible YAML document", "found unexpected end of stream",
    "control characters are not allowed", "invalid leading UTF-8 octet",
])
def test_the_known_parser_messages_of_either_parser_have_a_kind(known):
    # the wordings of libyaml 0.2.x and PyYAML 3.x–6.x (scanner, parser, reader)
    assert yamlerrors.kind_of(known) != ""


@pytest.mark.parametrize("typed", ["-", "－", "—"])
def test_a_dash_in_a_flow_row_reads_as_a_dash_and_is_refused_with_the_zero_hint(typed):
    # `{basic: -}` is valid YAML (a text "-"): the amount check gives the same hint
    with pytest.raises(ValueError, match="金额为零请写 0"):
        parse_amount(typed)
