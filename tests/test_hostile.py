"""Issue 6 — broken and hostile input: a clear, located Chinese error every time; nothing executed,
fetched or lost; no traceback and no float anywhere.

Each test names the exact problem: file, line and column (where a position means something), the
rule, and a fragment of the Chinese message.
"""
from __future__ import annotations

import codecs
import dataclasses
import enum
import importlib.util
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import EXAMPLE_2023, EXAMPLE_2025, ROOT, example_text, line_of, replace_once
from generator import loader
from generator.commands import jobs
from generator.money import parse_amount
from generator.pipeline import run, run_text
from generator.problems import Location, Severity

EX = example_text("2025")
NAME = "dept.yaml"
CJK = re.compile("[\u4e00-\u9fff]")
ENGLISH_YAML = re.compile(r"\b(expected|found|while|could not|did not|mapping|scalar|token)\b")


# ----------------------------------------------------------------------------- helpers

def pos(text: str, needle: str, after: str | None = None, offset: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the first `needle` (after the line holding `after`), plus offset."""
    line = line_of(text, needle, after)
    col = text.splitlines()[line - 1].index(needle) + 1 + offset
    return line, col


def only(result, rule: str):
    found = [p for p in result.problems if p.rule == rule]
    assert len(found) == 1, f"expected one [{rule}] problem, got {[str(p) for p in result.problems]}"
    return found[0]


def expect(problem, rule: str, where: tuple[int, int] | None, fragment: str, file: str = NAME,
           severity: Severity = Severity.ERROR) -> None:
    """The problem is exactly this: rule, severity, location, and a Chinese message."""
    assert problem.rule == rule, str(problem)
    assert problem.severity is severity, str(problem)
    if where is None:
        assert problem.location.file == file, str(problem)
    else:
        assert problem.location == Location(file, *where), str(problem)
    assert fragment in problem.message, str(problem)
    assert CJK.search(problem.message), str(problem)
    assert not ENGLISH_YAML.search(problem.message), f"untranslated parser text: {problem}"
    str(problem).encode("utf-8")  # printable: no lone surrogates reach the terminal


def write(tmp_path: Path, data: bytes, name: str = NAME) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(result) -> None:
    """Nothing will be rendered from this file."""
    assert not result.ok


def floats_in(obj, path="", seen=None) -> list[str]:
    """Paths of every float inside obj (dicts, lists, dataclasses, pydantic models)."""
    seen = set() if seen is None else seen
    if isinstance(obj, float):
        return [path]
    if isinstance(obj, (str, bytes, int, Decimal, enum.Enum, type(None))) or id(obj) in seen:
        return []
    seen.add(id(obj))
    if hasattr(obj, "model_dump"):
        return floats_in(obj.model_dump(), path, seen)
    if dataclasses.is_dataclass(obj):
        items = ((f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj))
    elif isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple, set, frozenset)):
        items = enumerate(obj)
    else:
        return [f"{path}:{type(obj).__name__}"]
    return [p for k, v in items for p in floats_in(v, f"{path}.{k}", seen)]


# ----------------------------------------------------------------------------- YAML syntax

def test_unclosed_brace_points_at_the_line_and_names_where_it_opened():
    line = "  - {code: 2010108, name: 代表工作, project: 4.00}"
    text = replace_once(EX, line, line[:-1])
    opened = pos(EX, "{code: 2010108")
    r = run_text(text, NAME)
    assert not r.readable
    expect(only(r, "YAML语法"), "YAML语法", (opened[0] + 1, 5),
           f"第{opened[0]}行第{opened[1]}列的花括号“{{”没有闭合")


def test_unclosed_square_bracket():
    text = replace_once(EX, "plan: [5.00, 15.00, 20.00, 26.00]", "plan: [5.00, 15.00, 20.00, 26.00")
    opened = pos(EX, "[5.00, 15.00")
    r = run_text(text, NAME)
    p = only(r, "YAML语法")
    assert p.location.line > opened[0]
    expect(p, "YAML语法", None, f"第{opened[0]}行第{opened[1]}列的方括号“[”没有闭合")


def test_unclosed_quote_names_where_it_opened():
    text = replace_once(EX, 'code: "524"', 'code: "524')
    line, col = pos(EX, '"524"')
    r = run_text(text, NAME)
    # the quoted text legally runs on over the following lines, so the parser fails far below;
    # the message still names the quote that was left open
    p = only(r, "YAML语法")
    expect(p, "YAML语法", None, f"第{line}行第{col}列开始的引号没有闭合")
    assert p.location.line > line


def test_bad_indentation():
    text = replace_once(EX, "\n  year: 2025\n", "\n   year: 2025\n")
    line, _ = pos(EX, "  year: 2025")
    r = run_text(text, NAME)
    assert not r.readable
    expect(only(r, "YAML语法"), "YAML语法", (line, 8), "此处不能出现“键: 值”")


def test_dedent_inside_a_mapping():
    text = replace_once(EX, "\n  year: 2025\n", "\n year: 2025\n")
    line, _ = pos(EX, "  year: 2025")
    expect(only(run_text(text, NAME), "YAML语法"), "YAML语法", (line, 2), "缩进不一致")


def test_tab_used_for_indentation():
    text = replace_once(EX, "\n  year: 2025\n", "\n\tyear: 2025\n")
    line, _ = pos(EX, "  year: 2025")
    expect(only(run_text(text, NAME), "YAML语法"), "YAML语法", (line, 1), "制表符（Tab）")


def test_full_width_colon_is_named():
    text = replace_once(EX, "\n  year: 2025\n", "\n  year：2025\n")
    line, _ = pos(EX, "  year: 2025")
    p = only(run_text(text, NAME), "YAML语法")
    expect(p, "YAML语法", None, f"第{line}行的冒号是全角“：”")


def test_missing_space_after_colon_is_named():
    text = replace_once(EX, "\n  year: 2025\n", "\n  year:2025\n")
    line, _ = pos(EX, "  year: 2025")
    p = only(run_text(text, NAME), "YAML语法")
    expect(p, "YAML语法", None, f"第{line}行的冒号后面缺少空格")


def test_text_starting_with_at_sign_says_to_quote_it():
    text = replace_once(EX, "  rank: 正科级", "  rank: @正科级")
    line, col = pos(EX, "正科级")
    expect(only(run_text(text, NAME), "YAML语法"), "YAML语法", (line, col),
           "此处的“@”不能用在文字开头")


# ----------------------------------------------------------------------------- encodings

@pytest.fixture(scope="module")
def plain():
    result = run(EXAMPLE_2025)
    assert result.ok
    return result


@pytest.mark.parametrize("encode", [
    lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    lambda t: t.encode("utf-16"),  # with its BOM, in the machine's order
    lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
    lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
], ids=["utf-8-bom", "utf-16", "utf-16-le-bom", "utf-16-be-bom"])
def test_byte_order_marks_read_exactly(tmp_path, plain, encode):
    r = run(write(tmp_path, encode(EX)))
    # nothing beyond the plain file's own warnings (the hygiene ones), at the same places
    same = [(p.rule, p.location.line, p.location.column, p.message) for p in plain.problems]
    assert r.ok and [(p.rule, p.location.line, p.location.column, p.message)
                     for p in r.problems] == same
    assert r.budget == plain.budget
    assert r.figures == plain.figures
    # the marks are those of the text, not shifted by the BOM
    assert r.doc.locate(("department", "year")) == Location(str(tmp_path / NAME),
                                                            *pos(EX, "year: 2025", offset=6))


def test_gbk_copy_reads_with_a_warning_and_exact_figures(tmp_path, plain):
    path = write(tmp_path, EX.encode("gbk"))
    r = run(path)
    assert r.ok
    assert [p.rule for p in r.problems if not p.rule.startswith("文字-")] == ["文件编码"]
    expect(r.problems[0], "文件编码", (1, 1), "已按 GBK/GB18030 读取", file=str(path),
           severity=Severity.WARNING)
    assert r.doc.encoding == "gb18030"
    assert r.budget == plain.budget and r.figures == plain.figures
    assert r.budget.department.name == "秦皇岛市海港区人民政府西港路街道办事处"
    assert r.budget.expenditure[1].basic == Decimal("1505.72")
    assert r.figures == plain.figures


def test_damaged_utf8_file_is_not_misread_as_gbk(tmp_path):
    # one stray byte in an otherwise UTF-8 file: an error at that byte, not a GBK reading
    raw = EX.encode("utf-8").replace("西港路".encode(), "西港".encode() + b"\xb7" + "路".encode(), 1)
    path = write(tmp_path, raw)
    r = run(path)
    assert not r.readable
    line, col = pos(EX, "路街道办事处")
    expect(only(r, "文件编码"), "文件编码", (line, col), f"第{line}行第{col}列的字节", file=str(path))


@pytest.mark.parametrize("raw,where", [
    (b"department:\n  name: caf\xe9 au lait\n", (2, 12)),  # Latin-1
    (b"department:\n  code: \"524\"\n  name: \xff\xfe\xfd\xfc\n", (3, 9)),
    (b"department:\n  name: \xed\xa0\x80\n", (2, 9)),  # an encoded surrogate
], ids=["latin-1", "garbage", "encoded-surrogate"])
def test_bytes_neither_utf8_nor_gbk_are_located(tmp_path, raw, where):
    path = write(tmp_path, raw)
    r = run(path)
    assert not r.readable
    expect(only(r, "文件编码"), "文件编码", where, "既不是有效的 UTF-8，也不是可辨认的 GBK 文字",
           file=str(path))


def test_nul_byte_is_located(tmp_path):
    raw = EX.encode().replace(b'code: "524"', b'code: "5\x0024"', 1)
    path = write(tmp_path, raw)
    r = run(path)
    line, col = pos(EX, '524"')
    expect(only(r, "文件编码"), "文件编码", (line, col + 1), "空字符", file=str(path))
    assert not r.readable


def test_utf16_without_bom_is_a_clear_error(tmp_path):
    path = write(tmp_path, EX.encode("utf-16-le"))
    expect(only(run(path), "文件编码"), "文件编码", (1, 1), "没有 BOM 标记的 UTF-16", file=str(path))


def test_control_character_is_located():
    text = replace_once(EX, "  rank: 正科级", "  rank: 正科\x07级")
    line, col = pos(EX, "科级")
    r = run_text(text, NAME)
    assert not r.readable
    expect(only(r, "文件编码"), "文件编码", (line, col + 1), "控制字符（U+0007）")


@pytest.mark.parametrize("escape,what", [("\\a", "控制字符（U+0007）"), ("\\0", "空字符"),
                                         ("\\x1b", "U+001B"), ("\\x85\\x9f", "U+009F")])
def test_escaped_control_characters_in_quotes_are_refused(escape, what):
    text = replace_once(EX, "  rank: 正科级", f'  rank: "正科{escape}级"')
    line, col = pos(EX, "正科级")
    r = run_text(text, NAME)
    expect(only(r, "文字字符"), "文字字符", (line, col), what)
    assert not r.ok
    for p in r.problems:  # nothing unprintable is echoed back
        str(p).encode("utf-8")


def test_escaped_surrogate_is_refused_and_never_echoed():
    text = replace_once(EX, "  rank: 正科级", '  rank: "正科\\uD800级"')
    line, col = pos(EX, "正科级")
    r = run_text(text, NAME)
    assert not r.ok
    # libyaml refuses the escape itself; the pure-Python parser would read it and the loader
    # refuses the character: either way a located Chinese error, and nothing unprintable
    problem = next(p for p in r.problems if p.rule in ("YAML语法", "文字字符"))
    if problem.rule == "YAML语法":
        expect(problem, "YAML语法", (line, col + 5), "转义不是有效的字符")  # at the hex digits
    else:
        expect(problem, "文字字符", (line, col), "无效的代理字符（U+D800）")
    for p in r.problems:
        str(p).encode("utf-8")


def test_direction_override_characters_are_pointed_out():
    text = replace_once(EX, "  rank: 正科级", "  rank: 正科\u202e级")
    line, col = pos(EX, "正科级")
    r = run_text(text, NAME)
    expect(only(r, "文字字符"), "文字字符", (line, col), "文字方向控制字符", severity=Severity.WARNING)
    assert r.ok  # a warning only: the text prints as typed


@pytest.mark.parametrize("raw", [b"", codecs.BOM_UTF8, b"# only a comment\n\n", b"---\n", b"~\n"],
                         ids=["empty", "bom-only", "comment-only", "empty-document", "null"])
def test_empty_file(tmp_path, raw):
    path = write(tmp_path, raw)
    r = run(path)
    assert not r.readable
    expect(only(r, "YAML结构"), "YAML结构", (1, 1), "空文件", file=str(path))


def test_two_documents():
    text = EX + "---\ndepartment: {code: '1'}\n"
    r = run_text(text, NAME)
    assert not r.readable
    expect(only(r, "YAML结构"), "YAML结构", (EX.count("\n") + 1, 1), "又开始了另一个文档")


@pytest.mark.parametrize("text,what", [("- a\n- b\n", "列表"), ("just words\n", "一段文字")])
def test_top_level_must_be_a_mapping(text, what):
    r = run_text(text, NAME)
    assert not r.readable
    expect(only(r, "YAML结构"), "YAML结构", (1, 1), f"而这里是{what}")


# ----------------------------------------------------------------------------- duplicate keys

def test_duplicate_top_level_key_names_both_lines():
    text = EX + "three_public:\n  overseas: 1\n"
    first = line_of(EX, "three_public:")
    second = EX.count("\n") + 1
    r = run_text(text, NAME)
    expect(only(r, "重复键"), "重复键", (second, 1), f"第{first}行已有同名键“three_public”")
    assert f"第{second}行" in only(r, "重复键").message
    assert not r.ok


def test_duplicate_key_inside_department():
    text = replace_once(EX, "\n  year: 2025\n", "\n  year: 2025\n  name: 另一个名称\n")
    first = line_of(EX, "  name: 秦皇岛市海港区人民政府西港路街道办事处")
    second = line_of(EX, "  year: 2025") + 1
    r = run_text(text, NAME)
    expect(only(r, "重复键"), "重复键", (second, 3), f"第{first}行已有同名键“name”")
    assert f"第{second}行" in only(r, "重复键").message


def test_duplicate_key_inside_a_flow_mapping_in_expenditure():
    line = "  - {code: 2010301, name: 行政运行, basic: 1505.72}"
    text = replace_once(EX, line, line[:-1] + ", basic: 1}")
    n, first_col = pos(EX, "basic: 1505.72")
    second_col = len(line[:-1] + ", ") + 1
    r = run_text(text, NAME)
    expect(only(r, "重复键"), "重复键", (n, second_col), f"第{n}行第{first_col}列已有同名键“basic”")


def test_duplicate_key_deep_inside_a_project():
    text = replace_once(EX, "    amount: 26.00\n", "    amount: 26.00\n    amount: 2.60\n")
    first = line_of(EX, "    amount: 26.00")
    r = run_text(text, NAME)
    expect(only(r, "重复键"), "重复键", (first + 1, 5), f"第{first}行已有同名键“amount”")


def test_duplicate_key_in_a_nested_flow_mapping():
    old = "buildings: {quantity: 2046, value: 130.77}"
    text = replace_once(EX, old, old[:-1] + ", quantity: 1}")
    n, first_col = pos(EX, "quantity: 2046")
    expect(only(run_text(text, NAME), "重复键"), "重复键", (n, pos(EX, old)[1] + len(old) + 1),
           f"第{n}行第{first_col}列已有同名键“quantity”")


# ----------------------------------------------------------------------------- tags: nothing executed

@pytest.fixture
def no_processes(monkeypatch):
    """Any attempt to run a program fails the test (os.system, subprocess, os.exec*)."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError(f"tried to run {args!r}")

    monkeypatch.setattr(os, "system", refuse)
    monkeypatch.setattr(os, "popen", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    return calls


def test_python_object_apply_is_refused_and_never_runs(tmp_path, no_processes):
    marker = tmp_path / "pwned-apply"
    text = replace_once(EX, "  name: 秦皇岛市海港区人民政府西港路街道办事处",
                        f'  name: !!python/object/apply:os.system ["touch {marker}"]')
    line, col = pos(EX, "秦皇岛市海港区人民政府西港路街道办事处", "department:")
    r = run_text(text, NAME)
    expect(only(r, "YAML标签"), "YAML标签", (line, col), "不允许的标签“!!python/object/apply:os.system”")
    refused(r)
    assert not marker.exists() and no_processes == []


@pytest.mark.parametrize("tagged,shown", [
    ("!!python/name:os.system", "!!python/name:os.system"),
    ("!!python/object/new:subprocess.Popen [[touch, MARKER]]", "!!python/object/new:subprocess.Popen"),
    ("!!python/module:os", "!!python/module:os"),
    ("!!python/object:generator.model.Budget {}", "!!python/object:generator.model.Budget"),
    ("!!binary aGVsbG8=", "!!binary"),
    ("!!set {a, b}", "!!set"),
    ("!local 1", "!local"),
])
def test_every_non_plain_tag_is_refused(tmp_path, no_processes, tagged, shown):
    marker = tmp_path / "pwned-tag"
    text = replace_once(EX, "special_funds:", f"special_funds: {tagged.replace('MARKER', str(marker))}\n"
                        "unused_special_funds:")
    line, col = pos(EX, "special_funds:", offset=len("special_funds: "))
    r = run_text(text, NAME)
    p = next(p for p in r.problems if p.rule == "YAML标签")
    expect(p, "YAML标签", (line, col), f"不允许的标签“{shown}”")
    refused(r)
    assert not marker.exists() and no_processes == []


def test_tag_directive_cannot_smuggle_a_python_tag(tmp_path, no_processes):
    marker = tmp_path / "pwned-directive"
    text = '%TAG !p! tag:yaml.org,2002:python/object/apply:\n---\n' + replace_once(
        EX, "special_funds:", f'special_funds: !p!os.system ["touch {marker}"]\nunused:')
    r = run_text(text, NAME)
    p = next(p for p in r.problems if p.rule == "YAML标签")
    expect(p, "YAML标签", None, "!!python/object/apply:os.system")
    assert not marker.exists() and no_processes == []


def test_no_yaml_constructor_is_ever_used(monkeypatch):
    """The loader builds its tree from parser events; constructing a node would be a bug."""
    import yaml

    from generator.catalog import load_catalog
    for year in (2023, 2025):  # the shipped catalogs are our own data, read once with yaml's safe loader
        load_catalog(year)

    def refuse(*args, **kwargs):
        raise AssertionError("a YAML constructor was used")

    for cls in (yaml.constructor.BaseConstructor, yaml.constructor.SafeConstructor):
        monkeypatch.setattr(cls, "construct_document", refuse)
        monkeypatch.setattr(cls, "construct_object", refuse)
    assert run(EXAMPLE_2025).ok and run(EXAMPLE_2023).ok


# ----------------------------------------------------------------------------- aliases, size, depth

def laughs(levels: int = 9, width: int = 9) -> str:
    lines = ['a0: &a0 [' + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels + 1)]
    return "department: {code: '1', name: x, year: 2025, edition: hebei-2025}\n" + "\n".join(lines) + "\n"


def measured(fn):
    """(what fn returned, the peak of memory allocated meanwhile). How long the refusals take is
    measured in benchmarks/refusals.py, not here."""
    tracemalloc.start()
    try:
        value = fn()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return value, peak


def test_billion_laughs_is_refused_quickly_in_bounded_memory(tmp_path):
    path = write(tmp_path, laughs().encode())
    r, peak = measured(lambda: run(path))
    assert peak < 100 * 1024 * 1024  # 9 levels of 9: expanded, 387 million strings
    aliases = [p for p in r.problems if p.rule == "YAML别名"]
    assert len(aliases) == 10  # one per anchor, each saying where it is used
    expect(aliases[0], "YAML别名", (2, 5), "不支持锚点与别名：此处定义了锚点“&a0”，第3行共9处用“*a0”引用",
           file=str(path))
    refused(r)


def test_an_alias_inside_a_real_file_is_located():
    text = replace_once(EX, "duties:\n", "duties: &d\n") + "glossary: *d\n"
    r = run_text(text, NAME)
    expect(only(r, "YAML别名"), "YAML别名", pos(EX, "duties:", offset=len("duties: ")),
           f"第{EX.count(chr(10)) + 1}行共1处用“*d”引用了它")
    refused(r)


def test_alias_without_anchor_and_merge_key():
    r = run_text(EX + "glossary: *nowhere\n", NAME)
    expect(only(r, "YAML别名"), "YAML别名", (EX.count("\n") + 1, 11), "没有对应的锚点“&nowhere”")
    text = replace_once(EX, "three_public:\n", "three_public:\n  <<: {reception: 1}\n")
    expect(only(run_text(text, NAME), "YAML别名"), "YAML别名",
           (line_of(EX, "three_public:") + 1, 3), "不支持合并键“<<”")


def test_complex_key_is_refused():
    text = replace_once(EX, "three_public:\n", "three_public:\n  ? [a, b]\n  : 1\n")
    expect(only(run_text(text, NAME), "YAML键"), "YAML键", (line_of(EX, "three_public:") + 1, 5),
           "键必须是简单文字")


def test_six_megabyte_file_is_refused_quickly_without_reading_it_all(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as fh:
        fh.write(EX.encode())
        fh.write(b"# " + b"x" * (6 * 1024 * 1024) + b"\n")
    r, peak = measured(lambda: run(path))
    assert peak < 2 * 1024 * 1024  # refused by its size: the 6 MB are never read
    expect(only(r, "文件过大"), "文件过大", None, "超过上限", file=str(path))
    assert not r.readable


def test_six_megabyte_text_is_refused_quickly():
    text = EX + "# " + "数" * (2 * 1024 * 1024) + "\n"  # 6 MB in UTF-8
    r, peak = measured(lambda: run_text(text, NAME))
    assert peak < 100 * 1024 * 1024
    expect(only(r, "文件过大"), "文件过大", None, "超过上限")


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
def test_too_many_nodes_under_the_size_limit_is_refused_quickly():
    extra = "".join(f"k{i}: v\n" for i in range(loader.MAX_NODES))  # ~1 MB of tiny keys
    text = EX + extra
    r, peak = measured(lambda: run_text(text, NAME))
    assert peak < 100 * 1024 * 1024
    p = only(r, "文件过大")
    expect(p, "文件过大", None, f"超过{loader.MAX_NODES}个条目")
    assert p.location.line > EX.count("\n")
    assert not r.readable


def test_deep_nesting_is_refused_without_recursion():
    text = EX + "glossary: " + "[" * 5000 + "]" * 5000 + "\n"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)  # well above the stack of a render's frames, far below 5,000
    try:
        r = run_text(text, NAME)
    finally:
        sys.setrecursionlimit(limit)
    line = EX.count("\n") + 1
    expect(only(r, "YAML嵌套"), "YAML嵌套", (line, 11 + loader.MAX_DEPTH - 1), "嵌套超过64层")


def test_a_huge_text_value_is_refused_before_rendering():
    text = replace_once(EX, "duties:\n", "duties:\n  - " + "长" * (loader.MAX_TEXT + 1) + "\n")
    line = line_of(EX, "duties:") + 1
    r = run_text(text, NAME)
    expect(only(r, "文字过长"), "文字过长", (line, 5), f"这段文字有{loader.MAX_TEXT + 1}个字符")
    refused(r)


# ----------------------------------------------------------------------------- amounts

BASIC = "  - {code: 2010301, name: 行政运行, basic: 1505.72}"


@pytest.mark.parametrize("typed,fragment", [
    (".nan", "金额“.nan”不是有效数字"),
    (".inf", "金额“.inf”不是有效数字"),
    ("-.inf", "金额“-.inf”不是有效数字"),
    ("1e3", "金额“1e3”是科学计数法，请直接写出数字"),
    ("1,234.50", "金额“1,234.50”含千位分隔符，请去掉逗号（如 1234.50）"),
    ("１２３", "金额“１２３”含全角数字，请改用半角数字（如 123）"),
    ("12.345", "金额“12.345”超过2位小数"),
    ("-5", "金额不能为负数（-5）"),
    ('"5万元"', "金额“5万元”不要写单位"),
    ("true", "金额“true”应为数字，不是真假值"),
    ("123456789012345", "金额“123456789012345”过大"),
    ("99999999999999999999999999.99", "过大（整数部分超过12位）"),
    ('"1505.72\u200b"', "看不见的字符（U+200B）"),
    ("[1, 2]", "金额应为一个数字，不是列表"),
    ("{a: 1}", "金额应为一个数字，不是映射"),
    (".5", "请在小数点前写0（如 0.5）"),
])
def test_bad_amount_is_an_error_at_its_value(typed, fragment):
    text = replace_once(EX, BASIC, BASIC.replace("1505.72", typed))
    r = run_text(text, NAME)
    p = only(r, "格式")
    expect(p, "格式", pos(EX, "1505.72", "expenditure:"), fragment)
    assert p.message.startswith("expenditure[2].basic：")
    assert r.budget is None and not r.ok


def test_thousands_separator_in_block_style():
    text = replace_once(EX, "  vehicle_operation: 2.25", "  vehicle_operation: 1,234.50")
    expect(only(run_text(text, NAME), "格式"), "格式", pos(EX, "2.25", "three_public:"),
           "three_public.vehicle_operation：金额“1,234.50”含千位分隔符")


def test_huge_amounts_never_crash_the_computation():
    """Regression: a 26-digit amount used to escape as decimal.InvalidOperation (a traceback)."""
    for typed in ("99999999999999999999999999.99", "1" * 40, "0" * 200 + "1"):
        text = replace_once(EX, BASIC, BASIC.replace("1505.72", typed))
        r = run_text(text, NAME)  # must not raise
        assert r.problems
    assert parse_amount("999999999999.99") == Decimal("999999999999.99")


@pytest.mark.parametrize("raw", [1.5, float("nan"), object(), b"12"])
def test_money_parser_refuses_non_text_values(raw):
    with pytest.raises(ValueError, match="应为数字文字"):
        parse_amount(raw)


@pytest.mark.parametrize("path", [EXAMPLE_2025, EXAMPLE_2023], ids=["524", "612"])
def test_no_float_anywhere_in_the_model_or_the_figures(path):
    r = run(path)
    assert r.ok
    dump = r.budget.model_dump()
    assert floats_in(dump) == []
    assert floats_in(r.figures) == []
    # the only floats in the disclosure are column widths (layout, not figures)
    assert all(p.endswith(".width") for p in floats_in(r.disclosure)), floats_in(r.disclosure)
    # every number the clerk typed is a Decimal; the only ints are years
    ints, decimals = [], []

    def walk(obj, at=""):
        if isinstance(obj, bool):
            return
        if isinstance(obj, int):
            ints.append(at)
        elif isinstance(obj, Decimal):
            decimals.append(at)
        elif isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, f"{at}.{k}")
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                walk(v, f"{at}[{i}]")

    walk(dump)
    assert set(ints) <= {".department.year", ".prior_year.year"}
    assert ".expenditure[1].basic" in decimals and len(decimals) > 50


# ----------------------------------------------------------------------------- codes

LINE_2019999 = "  - {code: 2019999, name: 其他一般公共服务支出, project: 5.00}"


def test_unknown_function_code():
    text = replace_once(EX, LINE_2019999, "  - {code: 2019998, project: 5.00}")
    r = run_text(text, NAME)
    catalog = [p for p in r.problems if p.rule == "科目目录"]
    assert len(catalog) == 1
    expect(catalog[0], "科目目录", pos(EX, "2019999", "expenditure:"), "功能分类科目2019998不在支出功能分类目录中")


def test_function_code_name_disagrees_with_catalog():
    text = replace_once(EX, "{code: 2010301, name: 行政运行", "{code: 2010301, name: 行政运转")
    r = run_text(text, NAME)
    expect(only(r, "科目名称"), "科目名称", pos(EX, "行政运行", "expenditure:"),
           "科目2010301的名称应为“行政运行”，实为“行政运转”")
    assert not r.ok


def test_item_whose_kuan_is_not_in_the_catalog():
    text = replace_once(EX, LINE_2019999, "  - {code: 2019801, project: 5.00}")
    r = run_text(text, NAME)
    p = next(p for p in r.problems if p.rule == "科目目录")
    expect(p, "科目目录", pos(EX, "2019999", "expenditure:"), "所属款级科目20198不在目录中")


def test_five_digit_function_code():
    text = replace_once(EX, LINE_2019999, "  - {code: 20199, project: 5.00}")
    expect(only(run_text(text, NAME), "格式"), "格式", pos(EX, "2019999", "expenditure:"),
           "功能分类项级科目编码“20199”应为7位数字")


def test_unknown_economic_code():
    old = "{code: 30299, name: 其他商品和服务支出"
    text = replace_once(EX, old, "{code: 30298, name: 其他商品和服务支出")
    r = run_text(text, NAME)
    expect(only(r, "科目目录"), "科目目录", pos(EX, "30299"), "经济分类科目30298不在部门预算支出经济分类目录中")


# ----------------------------------------------------------------------------- markup stays text

MARKUP = [
    '<img src="file:///etc/passwd">',
    '<link rel=stylesheet href="http://127.0.0.1:1/x.css">',
    "<style>body{display:none}</style>",
    "{{ 7*7 }}",
    "{% for x in range(3) %}loop{% endfor %}",
]
FORMULAS = ["=1+2", "+SUM(A1:A9)", "-2+3", '@cmd|" /c calc"!A0', '=HYPERLINK("http://127.0.0.1:1/","x")']


def _yaml_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def hostile_text() -> str:
    """The 524 example with markup and formulas in every kind of text field that is printed."""
    text = EX
    duties_at = text.index("duties:\n") + len("duties:\n")
    text = text[:duties_at] + "".join(f"  - {_yaml_quoted(m)}\n" for m in MARKUP) + text[duties_at:]
    inst = "".join(f"  - name: {_yaml_quoted(f)}\n    nature: {_yaml_quoted(m)}\n"
                   for f, m in zip(FORMULAS, MARKUP))
    text = replace_once(text, "institutions:\n", "institutions:\n" + inst)
    text = replace_once(text, "      - 1.增强街居精神文明建设\n",
                        "      - 1.增强街居精神文明建设\n" + "".join(f"      - {_yaml_quoted(m)}\n"
                                                            for m in MARKUP + FORMULAS))
    return text


@pytest.fixture(scope="module")
def hostile():
    r = run_text(hostile_text(), NAME)
    assert r.ok, [str(p) for p in r.problems if p.is_error]
    return r.disclosure


@pytest.fixture
def offline(monkeypatch):
    """No socket may connect; every URL WeasyPrint's fetchers are asked for is recorded."""
    attempts, urls = [], []

    def no_connect(self, address, *args):
        attempts.append(address)
        raise OSError("network access is forbidden in this test")

    monkeypatch.setattr(socket.socket, "connect", no_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", no_connect)
    try:
        from weasyprint.urls import URLFetcher
        classes = [URLFetcher]
        if importlib.util.find_spec("generator.render.pdf"):
            from generator.render import pdf
            classes += [c for c in vars(pdf).values()
                        if isinstance(c, type) and issubclass(c, URLFetcher) and c is not URLFetcher]
        for cls in classes:
            original = cls.fetch

            def recording(self, url, *args, _original=original, **kwargs):
                urls.append(url)
                return _original(self, url, *args, **kwargs)

            monkeypatch.setattr(cls, "fetch", recording)
    except ImportError:
        pass
    return attempts, urls


def _allowed_url(url: str) -> bool:
    from urllib.parse import unquote, urlsplit
    if url.startswith("data:"):
        return True
    if not url.startswith("file:"):
        return False
    path = Path(unquote(urlsplit(url).path)).resolve()
    roots = [ROOT / "templates", ROOT / "generator", Path("/usr/share/fonts"),
             Path("/usr/local/share/fonts"), Path.home() / ".fonts", Path.home() / ".local/share/fonts"]
    return any(path.is_relative_to(r.resolve()) for r in roots)


def test_markup_is_escaped_in_html(hostile, offline):
    from generator.render.html import render_html
    html = render_html(hostile)
    for text in MARKUP[:3]:
        assert text not in html  # never raw markup
    assert '&lt;img src=&#34;file:///etc/passwd&#34;&gt;' in html
    assert "&lt;link rel=stylesheet" in html and "&lt;style&gt;body{display:none}&lt;/style&gt;" in html
    assert "{{ 7*7 }}" in html  # printed, not evaluated
    assert "{% for x in range(3) %}loop{% endfor %}" in html and "looploop" not in html
    assert "=HYPERLINK(&#34;http://127.0.0.1:1/&#34;,&#34;x&#34;)" in html
    assert offline == ([], [])


_SUM = re.compile(r"=SUM\([A-Z]+[0-9]+(:[A-Z]+[0-9]+)?(,[A-Z]+[0-9]+(:[A-Z]+[0-9]+)?)*\)")


def test_markup_and_formulas_are_plain_text_cells_in_xlsx(hostile, offline):
    import openpyxl

    from generator.render.xlsx import render_xlsx
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(hostile)))
    cells = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cells.setdefault(cell.value, cell)
    for text in MARKUP + FORMULAS:
        assert text in cells, f"{text!r} is not a cell of its own in the workbook"
        cell = cells[text]
        assert cell.data_type == "s" and cell.value == text, (text, cell.data_type, cell.value)
    for ws in book.worksheets:  # nothing the clerk typed became a formula
        for row in ws.iter_rows():
            for cell in row:
                # the only formulas are the workbook's own totals (=SUM of cell references)
                assert cell.data_type != "f" or _SUM.fullmatch(str(cell.value)), (ws.title, cell.coordinate,
                                                                                  cell.value)
    assert offline == ([], [])


@pytest.mark.slow
def test_markup_prints_literally_in_pdf_and_nothing_is_fetched(hostile, offline):
    from generator.render.pdf import render_pdf
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed")
    data = render_pdf(hostile)
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode("utf-8")
    flat = re.sub(r"\s+", " ", text)
    assert "{{ 7*7 }}" in flat
    assert '<img src="file:///etc/passwd">' in flat
    assert "<style>body{display:none}</style>" in flat
    assert "{% for x in range(3) %}loop{% endfor %}" in flat
    assert "root:x:0:0" not in text  # /etc/passwd was not embedded
    attempts, urls = offline
    assert attempts == []
    assert all(_allowed_url(u) for u in urls), [u for u in urls if not _allowed_url(u)]
    assert not any("passwd" in u or "127.0.0.1" in u for u in urls)


def test_pdf_fetcher_refuses_network_and_foreign_files(offline):
    from generator.render.pdf import TEMPLATES, LocalFetcher
    fetcher = LocalFetcher()
    css = fetcher.fetch((TEMPLATES / "disclosure.css").resolve().as_uri())
    assert b"@page" in css.read()  # the stylesheet itself is allowed
    assert fetcher.fetch("data:text/plain,abc").read() == b"abc"
    urls = ("http://127.0.0.1:1/x.css", "https://example.invalid/a.png", "file:///etc/passwd",
            f"file://{ROOT}/inputs/524-xigang-2025.yaml", f"file://{TEMPLATES}/../inputs/x",
            "ftp://127.0.0.1/x")
    for url in urls:
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert len(fetcher.refused) == len(urls)
    assert offline[0] == []  # not even a connection attempt


# ----------------------------------------------------------------------------- output file names

HOSTILE_NAMES = ["../../../tmp/evil", "a/b/c", r"..\..\windows\system32", "C:evil", "*?<|>\"x",
                 "CON", "..", "名称\u202egpj.exe", "长" * 300]


def _with_department(name: str, code: str = "524") -> str:
    text = replace_once(EX, "  name: 秦皇岛市海港区人民政府西港路街道办事处\n", f"  name: {_yaml_quoted(name)}\n")
    return replace_once(text, 'code: "524"', f"code: {_yaml_quoted(code)}")


@pytest.mark.parametrize("name", HOSTILE_NAMES[:-1], ids=range(len(HOSTILE_NAMES) - 1))
def test_output_stem_is_a_single_safe_file_name(tmp_path, name):
    from generator.render.output import output_stem
    for code in ("524", "../..", "CON"):
        stem = output_stem(code, name, 2025)
        assert stem and not re.search(r'[\\/:*?"<>|\x00-\x1f]', stem) and ".." not in stem
        assert stem.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"}
        assert (tmp_path / f"{stem}.pdf").resolve().parent == tmp_path.resolve()


@pytest.mark.parametrize("name", ["长" * 300, "名称\u202egpj.exe"], ids=["300-chars", "rlo"])
def test_output_stem_fits_a_file_name_and_keeps_the_year(name):
    from generator.render.output import output_stem
    stem = output_stem("524", name, 2025)
    # NAME_MAX is 255 bytes; the temporary file adds ".", ".xlsx", ".XXXXXXXX.tmp"
    assert len(f".{stem}.xlsx.XXXXXXXX.tmp".encode()) <= 255
    assert stem.startswith("524-") and stem.endswith("-2025")
    assert "\u202e" not in stem


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_rendered_files_land_inside_the_output_directory(tmp_path, name):
    src = write(tmp_path, _with_department(name, code="../..").encode())
    out = tmp_path / "out"
    outcome = jobs.render_file(str(src), str(out), ("xlsx",))
    assert outcome.status == "ok", [str(p) for p in outcome.problems]
    assert len(outcome.outputs) == 1
    written = Path(outcome.outputs[0]).resolve()
    # one folder per department, named like its files, directly inside the output folder
    assert written.parent.parent == out.resolve() and written.is_file()
    assert written.parent.name == written.stem
    assert sorted(p.name for p in out.iterdir() if p.name != ".budgetgen") == [written.parent.name]  # no staging folder
    assert sorted(p.name for p in written.parent.iterdir()) == [written.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == [NAME, "out"]


# ----------------------------------------------------------------------------- atomic output

@pytest.fixture
def example_file(tmp_path):
    return write(tmp_path, EX.encode())


def _render_with(monkeypatch, behaviour):
    monkeypatch.setattr(jobs, "_render", lambda fmt, d, *args: (behaviour(fmt, d), 0, None, {}))


def _tree(out: Path) -> dict:
    """Every file under out (hidden ones too, but for the skip-unchanged records in
    .budgetgen), relative path → bytes."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.relative_to(out).parts[0] != ".budgetgen"}


def test_failed_render_keeps_the_previous_output(tmp_path, example_file, monkeypatch):
    out = tmp_path / "out"
    _render_with(monkeypatch, lambda fmt, d: b"GOOD 1")
    first = jobs.render_file(str(example_file), str(out), ("xlsx",))
    assert first.status == "ok"
    target = Path(first.outputs[0])
    assert target.read_bytes() == b"GOOD 1"

    def half_then_fail(fmt, d):
        raise RuntimeError("renderer died half way")

    _render_with(monkeypatch, half_then_fail)
    second = jobs.render_file(str(example_file), str(out), ("xlsx",))
    assert second.status == "crash" and second.exit_code == 5
    assert "内部错误" == second.problems[0].rule and "生成时出错" in second.problems[0].message
    assert target.read_bytes() == b"GOOD 1"
    assert [p.name for p in out.iterdir() if p.name != ".budgetgen"] == [target.parent.name]


@pytest.mark.parametrize("broken", ["write", "fsync", "exchange", "rename"])
def test_interrupted_write_leaves_no_partial_or_temporary_file(tmp_path, example_file, monkeypatch, broken):
    from generator.render import output
    out = tmp_path / "out"
    _render_with(monkeypatch, lambda fmt, d: b"GOOD " + fmt.encode())
    first = jobs.render_file(str(example_file), str(out), ("xlsx", "html"))
    good = _tree(out)
    assert len(good) == 2

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if broken == "write":
        real_write = os.write
        calls = []

        def half(fd, data):  # the second file fails half way
            calls.append(fd)
            if len(calls) > 1:
                real_write(fd, bytes(data[: len(data) // 2]))
                fail()
            return real_write(fd, data)

        monkeypatch.setattr(output.os, "write", half)
    elif broken == "fsync":
        monkeypatch.setattr(output.os, "fsync", fail)
    elif broken == "exchange":
        monkeypatch.setattr(output, "_exchange", fail)
    else:  # the fallback without renameat2: the old set is moved aside, then the new one fails
        monkeypatch.setattr(output, "_exchange", lambda a, b: False)
        real_rename = os.rename

        def second_rename_fails(src, dst):
            if ".new" in str(src):
                fail()
            return real_rename(src, dst)

        monkeypatch.setattr(output.os, "rename", second_rename_fails)
    _render_with(monkeypatch, lambda fmt, d: b"PARTIAL? " * 1000)
    outcome = jobs.render_file(str(example_file), str(out), ("xlsx", "html"))
    assert outcome.status == "output" and outcome.exit_code == 4, [str(p) for p in outcome.problems]
    assert "磁盘空间已满" in outcome.problems[0].message
    assert _tree(out) == good, first.outputs  # the same two old files, nothing else


def test_a_failing_second_format_leaves_the_first_untouched(tmp_path, example_file, monkeypatch):
    out = tmp_path / "out"
    _render_with(monkeypatch, lambda fmt, d: b"OLD " + fmt.encode())
    jobs.render_file(str(example_file), str(out), ("xlsx", "html"))
    before = _tree(out)

    def second_fails(fmt, d):
        if fmt == "html":
            raise RuntimeError("html renderer failed")
        return b"NEW " + fmt.encode()

    _render_with(monkeypatch, second_fails)
    assert jobs.render_file(str(example_file), str(out), ("xlsx", "html")).status == "crash"
    assert _tree(out) == before  # still a matching pair


def test_check_reports_an_internal_error_without_a_traceback(example_file, monkeypatch):
    def broken(path):
        raise RuntimeError("a bug in a later stage")

    monkeypatch.setattr(jobs, "run", broken)
    outcome = jobs.check_file(str(example_file))
    assert outcome.status == "crash" and outcome.problems[0].rule == "内部错误"
    assert "生成时出错" in outcome.problems[0].message


def test_file_with_errors_writes_nothing(tmp_path, monkeypatch):
    calls = []
    _render_with(monkeypatch, lambda fmt, d: calls.append(fmt) or b"x")
    src = write(tmp_path, replace_once(EX, BASIC, BASIC.replace("1505.72", "1e3")).encode())
    out = tmp_path / "out"
    outcome = jobs.render_file(str(src), str(out), ("pdf", "xlsx", "html"))
    assert outcome.status == "error" and outcome.exit_code == 1 and outcome.outputs == []
    assert calls == [] and not out.exists()
    unreadable = write(tmp_path, b"department: [\n", "broken.yaml")
    outcome = jobs.render_file(str(unreadable), str(out), ("xlsx",))
    assert outcome.status == "unreadable" and outcome.exit_code == 3 and not out.exists()


# ----------------------------------------------------------------------------- the command line

@pytest.mark.slow
def test_cli_check_exit_codes_and_no_traceback(tmp_path):
    """One real process: the tag file is refused (1), the broken file unreadable (3), nothing ran."""
    marker = tmp_path / "pwned-cli"
    tagged = write(tmp_path, replace_once(EX, "special_funds:", f'special_funds: !!python/object/apply:'
                                          f'os.system ["touch {marker}"]\nunused:').encode(), "tag.yaml")
    broken = write(tmp_path, b"department: {code: 1\n\x00", "broken.yaml")
    bomb = write(tmp_path, laughs().encode(), "bomb.yaml")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    codes = {}
    for path in (EXAMPLE_2025, tagged, bomb, broken):
        proc = subprocess.run([sys.executable, "-m", "generator", "check", str(path)],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
        codes[path.name] = proc.returncode
    assert codes == {EXAMPLE_2025.name: 0, "tag.yaml": 1, "bomb.yaml": 1, "broken.yaml": 3}
    assert not marker.exists()


def test_missing_file_and_folder_are_explained_in_chinese(tmp_path):
    from generator.pipeline import run
    missing = run(tmp_path / "nope.yaml")
    assert not missing.readable
    assert missing.problems[0].message == "无法读取文件：文件不存在（请检查路径和文件名）"
    folder = run(tmp_path)
    assert folder.problems[0].message == "无法读取文件：这是一个文件夹，不是文件"
