"""The editor schema (`budgetgen schema`, schemas/budget.schema.json) agrees with the checker.

A corpus of mutations of the 2025 example — each documented tolerance and each documented
refusal of the input format — goes through both: the checker's load and model stages (the
schema describes the shape of the file; cross-table sums are the checker's alone) and python
jsonschema on the file as two real clients read it:

- PyYAML (YAML 1.1: `2024-12-31` is a date, `yes` a boolean), numbers read exactly
  (floats as Decimal, as python-jsonschema's documentation advises for `multipleOf`);
- an editor (yaml-language-server reads YAML 1.2: no dates, only true/false are booleans).

Both verdicts must be equal for every mutation. What a schema cannot see — the text of a number
(`.5`, `+5`, `1e3`), which YAML reads as a number and the checker refuses as written — is pinned
separately, so that the README's list of such cases stays true.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
import yaml

from generator.loader import load_text
from generator.model import build_model
from generator.problems import has_errors
from generator.schema import json_schema, schema_text

from conftest import ROOT, example_text, replace_once


def _exact_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text) if re.fullmatch(r"[-+]?[0-9]*\.?[0-9]*([eE][-+]?[0-9]+)?", text) else \
            yaml.SafeLoader.construct_yaml_float(loader, node)
    except ArithmeticError:
        return yaml.SafeLoader.construct_yaml_float(loader, node)


class PyYamlExact(yaml.SafeLoader):
    """PyYAML as is (YAML 1.1), with numbers read exactly."""


PyYamlExact.add_constructor("tag:yaml.org,2002:float", _exact_float)


class EditorYaml(PyYamlExact):
    """Roughly how yaml-language-server reads a file (YAML 1.2 core schema)."""


EditorYaml.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
EditorYaml.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"),
                                 list("tf"))
EditorYaml.add_implicit_resolver(  # 1.2 core: 1e3 and 5. are numbers too
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)$|^[-+]?[0-9]+\.$"),
    list("-+0123456789."))
for _first in "yYnNoOTF":
    EditorYaml.yaml_implicit_resolvers[_first] = [
        (tag, rx) for tag, rx in EditorYaml.yaml_implicit_resolvers.get(_first, [])
        if tag != "tag:yaml.org,2002:bool" or rx.pattern == r"^(?:true|false)$"]

LOADERS = {"pyyaml": PyYamlExact, "editor": EditorYaml}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_text(), parse_float=Decimal)
    jsonschema.Draft202012Validator.check_schema(json.loads(schema_text()))
    return jsonschema.Draft202012Validator(schema)


def checker_accepts(text: str) -> bool:
    doc, problems = load_text(text, "dept.yaml")
    if doc is None:
        return False
    _, more = build_model(doc)
    return not has_errors(problems + more)


def schema_errors(validator, text: str, loader) -> list[str]:
    data = yaml.load(text, Loader=loader)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]


BASE = "2025"
_text = example_text(BASE)
_EXPENDITURE = _text[_text.index("expenditure:\n"):_text.index("\n\n", _text.index("expenditure:\n")) + 1]
# (what, old text, new text): the documented tolerances — both accept
TOLERATED = [
    ("the example as written (as_of is a date to PyYAML)", "as_of: 2024-12-31", "as_of: 2024-12-31"),
    ("a date written as text", "as_of: 2024-12-31", 'as_of: "2024-12-31"'),
    ("department code as a number", 'code: "524"', "code: 524"),
    ("department code with letters", 'code: "524"', "code: A-524"),
    ("an amount written as text", "basic: 1505.72}", 'basic: "1505.72"}'),
    ("an amount with a trailing zero", "basic: 1505.72}", "basic: 1505.720}"),
    ("an integer amount", "basic: 1505.72}", "basic: 1505}"),
    ("an amount left empty", "basic: 1505.72}", "basic: }"),
    ("an amount as empty text", "basic: 1505.72}", 'basic: ""}'),
    ("a function code as text", "{code: 2010301,", '{code: "2010301",'),
    ("an economic code as text", "{code: 30101,", '{code: "30101",'),
    ("the year as text", "  year: 2025\n", '  year: "2025"\n'),
    ("a source by its Chinese name", "basic: 1505.72}", "basic: 1505.72, source: 一般公共预算}"),
    ("a source by its key", "basic: 1505.72}", "basic: 1505.72, source: general}"),
    ("a quantity with 4 decimals", "quantity: 2046,", "quantity: 2046.1234,"),
    ("a text that YAML reads as a number", "    name: 办事处专项经费\n", "    name: 2025\n"),
    ("a text that YAML reads as a boolean", "    purpose: 增强街道城市管理水平、提高街居建设和服务水平\n",
     "    purpose: yes\n"),
    ("a paragraph that YAML reads as a date", "      - 1.增强街居精神文明建设\n", "      - 2024-01-01\n"),
    ("glossary left empty (layout default)", "control_totals:\n", "glossary:\ncontrol_totals:\n"),
    ("an optional control total left empty", "  total: 2256.69\n", "  total:\n"),
    ("the prior year given", "prior_year:\n", "prior_year:\n  year: 2024\n"),
    # a layout is named by key or by a file path: which exist is known only when the file is
    # rendered (pipeline: 版式), so the schema and the model stage take any name
    ("a layout file as the edition", "edition: hebei-2025", "edition: layouts/my-city.yaml"),
    ("单位构成 with 编制 and 实有", "control_totals:\n",
     "composition:\n  units:\n    - {name: 本级, nature: 行政单位, staff: 40, actual: \"38\"}\n"
     "  notes: [本部门只有本级。]\ncontrol_totals:\n"),
    ("上年“三公”经费逐项 with a reason", "  reasons:\n",
     "  three_public_items:\n    reception: {amount: 1.00, reason: 压减接待}\n"
     "    vehicle_operation: {amount: 1.48}\n  reasons:\n"),
    ("a layout family as the edition", "edition: hebei-2025", "edition: hebei"),
    ("会议费 and 培训费 given", "  reception: 0.23\n", "  reception: 0.23\n  meeting: 1.50\n  training: 0\n"),
    ("会议费 left empty", "  reception: 0.23\n", "  reception: 0.23\n  meeting:\n"),
]
# the documented refusals — both refuse
REFUSED = [
    ("编制 with decimals", "control_totals:\n", "composition:\n  units:\n    - {name: 本级, staff: 40.5}\ncontrol_totals:\n"),
    ("编制 negative", "control_totals:\n", "composition:\n  units:\n    - {name: 本级, staff: -1}\ncontrol_totals:\n"),
    ("编制 in words", "control_totals:\n", "composition:\n  units:\n    - {name: 本级, staff: 四十}\ncontrol_totals:\n"),
    ("a 单位构成 unit without a name", "control_totals:\n", "composition:\n  units:\n    - {staff: 4}\ncontrol_totals:\n"),
    ("a prior 三公 item without its amount", "  reasons:\n",
     "  three_public_items:\n    reception: {reason: 压减接待}\n  reasons:\n"),
    ("a prior 三公 item with an unknown key", "  reasons:\n",
     "  three_public_items:\n    meals: {amount: 1}\n  reasons:\n"),
    ("会议费 with 3 decimals", "  reception: 0.23\n", "  reception: 0.23\n  meeting: 1.505\n"),
    ("会议费 negative", "  reception: 0.23\n", "  reception: 0.23\n  meeting: -1\n"),
    ("会议费 as words", "  reception: 0.23\n", "  reception: 0.23\n  training: 一万\n"),
    ("a misspelt 三公 row", "  reception: 0.23\n", "  reception: 0.23\n  meetings: 1\n"),
    ("an amount with 3 decimals", "basic: 1505.72}", "basic: 1505.725}"),
    ("an amount with 3 decimals as text", "basic: 1505.72}", 'basic: "1505.725"}'),
    ("a negative amount", "basic: 1505.72}", "basic: -1505.72}"),
    ("a thousands separator", "basic: 1505.72}", 'basic: "1,505.72"}'),
    ("a unit", "basic: 1505.72}", "basic: 1505.72万元}"),
    ("full-width digits", "basic: 1505.72}", "basic: １５０５.７２}"),
    ("an amount of 13 integer digits", "basic: 1505.72}", "basic: 1234567890123}"),
    ("an amount as a list", "basic: 1505.72}", "basic: [1505.72]}"),
    ("an amount as yes/no", "basic: 1505.72}", "basic: true}"),
    ("a 6-digit function code", "{code: 2010301,", "{code: 201030,"),
    ("an 8-digit function code", "{code: 2010301,", "{code: 20103010,"),
    ("a 6-digit function code as text", "{code: 2010301,", '{code: "201030",'),
    ("a 4-digit economic code", "{code: 30101,", "{code: 3010,"),
    ("a code with letters", "{code: 30101,", "{code: 301a1,"),
    ("an empty department name", "  name: 秦皇岛市海港区人民政府西港路街道办事处\n", '  name: ""\n'),
    ("a department name left blank", "  name: 秦皇岛市海港区人民政府西港路街道办事处\n", "  name:\n"),
    ("an empty project name", "    name: 办事处专项经费\n", '    name: ""\n'),
    ("a name that is a list", "    name: 办事处专项经费\n", "    name: [办事处专项经费]\n"),
    ("a year before 2000", "  year: 2025\n", "  year: 1999\n"),
    ("a year after 2100", "  year: 2025\n", "  year: 2101\n"),
    ("a year in words", "  year: 2025\n", "  year: 二〇二五\n"),
    ("a year with decimals", "  year: 2025\n", "  year: 2025.5\n"),
    ("a year left blank", "  year: 2025\n", "  year:\n"),
    ("an empty edition", "edition: hebei-2025", 'edition: ""'),
    ("a misspelt key", "expenditure:\n", "expenditre:\n"),
    ("an unknown source", "basic: 1505.72}", "basic: 1505.72, source: bank}"),
    ("a plan of 3 figures", "plan: [5.00, 15.00, 20.00, 26.00]", "plan: [5.00, 15.00, 26.00]"),
    ("an indicator row of 5 cells", "开展活动数量, 开展活动数量, ≥10次, 年初工作计划]",
     "开展活动数量, ≥10次, 年初工作计划]"),
    ("an unknown procurement fund", "amount: 0.33}", "amount: 0.33, fund: bank}"),
    ("three_public left empty", "three_public:\n  overseas: 0\n  overseas_research: 0\n"
     "  vehicle_purchase: 0\n  vehicle_operation: 2.25\n  reception: 0.23\n", "three_public:\n"),
    ("no expenditure lines", _EXPENDITURE, "expenditure: []\n"),
    ("a quantity with 5 decimals", "quantity: 2046,", "quantity: 2046.12345,"),
    ("assets without as_of", "  as_of: 2024-12-31\n", ""),
]


@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize("what,old,new", TOLERATED, ids=[t[0] for t in TOLERATED])
def test_tolerated_by_both(validator, loader, what, old, new):
    text = replace_once(example_text(BASE), old, new)
    assert checker_accepts(text), what
    assert schema_errors(validator, text, LOADERS[loader]) == [], what


@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize("what,old,new", REFUSED, ids=[t[0] for t in REFUSED])
def test_refused_by_both(validator, loader, what, old, new):
    text = replace_once(example_text(BASE), old, new)
    assert not checker_accepts(text), what
    assert schema_errors(validator, text, LOADERS[loader]) != [], what


# What the schema cannot see: YAML reads these as numbers, the checker reads the text and refuses
# it with a message saying what to write instead. Listed in the README; pinned here.
NUMBER_TEXT = [(".5", "editor"), (".5", "pyyaml"), ("5.", "editor"), ("+5", "editor"),
               ("+5", "pyyaml"), ("1e3", "editor"), ("0x1F", "pyyaml"), ("1_000", "pyyaml")]


@pytest.mark.parametrize("written,loader", NUMBER_TEXT)
def test_number_text_only_the_checker_sees(validator, written, loader):
    text = replace_once(example_text(BASE), "basic: 1505.72}", f"basic: {written}}}")
    assert not checker_accepts(text)
    assert schema_errors(validator, text, LOADERS[loader]) == []


def test_every_example_is_valid_to_every_client(validator):
    examples = sorted((ROOT / "inputs").glob("*.yaml"))
    assert len(examples) >= 2
    for path in examples:
        text = path.read_text(encoding="utf-8")
        assert checker_accepts(text), path.name
        for name, loader in LOADERS.items():
            assert schema_errors(validator, text, loader) == [], (path.name, name)


def test_plain_floats_need_exact_numbers_for_multiple_of():
    """Why the README tells python-jsonschema users to read numbers as Decimal: with binary floats
    `multipleOf: 0.01` misjudges ordinary amounts (66.21 / 0.01 is not a whole float)."""
    plain = jsonschema.Draft202012Validator({"multipleOf": 0.01})
    assert not plain.is_valid(66.21)
    exact = jsonschema.Draft202012Validator({"multipleOf": Decimal("0.01")})
    assert exact.is_valid(Decimal("66.21")) and not exact.is_valid(Decimal("66.215"))


def _properties(node: Any, path: str = "") -> list[tuple[str, dict]]:
    """Every property a user sees (not the bare constraints of an anyOf branch)."""
    found = []
    if isinstance(node, dict):
        for name, prop in node.get("properties", {}).items():
            found.append((f"{path}.{name}", prop))
        for key, value in node.items():
            if key == "anyOf" and isinstance(value, list) and any("required" in v for v in value):
                continue  # e.g. "expenditure or units": constraints on properties described above
            found += _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for item in node:
            found += _properties(item, path)
    return found


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_every_property_has_a_chinese_title_and_description():
    schema = json_schema()
    props = _properties(schema)
    assert len(props) > 80
    bad = [path for path, prop in props
           if not (_cjk(prop.get("title", "")) and _cjk(prop.get("description", "")))]
    assert bad == []
    # no English left for a user to see: titles, descriptions, error messages
    texts = [v for path, prop in props for k, v in prop.items()
             if k in ("title", "description", "errorMessage")]
    texts += [d.get(k, "") for d in schema["$defs"].values() for k in ("title", "description")]
    english = re.compile(r"\b(the|and|of|is|are|from|for|with|declared|checked|optional|default|"
                         r"columns?|amount|text|number)\b", re.I)
    assert [t for t in texts if english.search(t)] == []


def test_every_default_is_valid_for_its_own_property(validator):
    schema = json.loads(schema_text(), parse_float=Decimal)
    checked = 0
    for path, prop in _properties(schema):
        if "default" in prop:
            sub = dict(prop, **{"$defs": schema["$defs"]})
            errors = list(jsonschema.Draft202012Validator(sub).iter_errors(prop["default"]))
            assert errors == [], (path, prop["default"])
            checked += 1
        if "examples" in prop:
            sub = dict(prop, **{"$defs": schema["$defs"]})
            for example in prop["examples"]:
                assert jsonschema.Draft202012Validator(sub).is_valid(example), (path, example)
    assert checked > 40


def test_error_messages_use_the_checkers_wording():
    line = json_schema()["$defs"]["ExpenditureLine"]["properties"]
    assert line["basic"]["errorMessage"] == ("金额以万元（department.unit 写了元时以元）为单位，只写数字，"
                                             "不能为负数，最多2位小数，不写逗号和单位（如 1505.72）")
    assert line["code"]["errorMessage"] == "功能分类项级科目编码应为7位数字"
    # the checker says the same in its own words, at the line
    text = replace_once(example_text(BASE), "{code: 2010301,", "{code: 201030,")
    doc, _ = load_text(text, "dept.yaml")
    _, problems = build_model(doc)
    assert [p.message for p in problems] == ["expenditure[2].code：功能分类项级科目编码“201030”应为7位数字"]


def test_committed_schema_is_current_and_portable():
    committed = (ROOT / "schemas" / "budget.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), \
        "schemas/budget.schema.json 已过期：请运行 python3 -m generator schema -o schemas/budget.schema.json"
    schema = json.loads(committed)
    assert schema["$id"].startswith("urn:budgetgen:")  # names the schema; nothing to fetch
    refs = re.findall(r'"\$ref": "([^"]+)"', committed)
    assert refs and all(r.startswith("#/$defs/") for r in refs)  # no reference outside the file
