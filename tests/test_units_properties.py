"""Issue 14, property-based: consolidation is a sum.

- Splitting any example department's leaf facts (524, 612, 900: every fund source, 上年结转, a
  file-supplied code) across a 本级 and 1–3 所属单位 at random (whole lines or a
  line's amounts cut in two, with the economic detail, 三公, projects, procurement and assets
  following so that every file checks clean on its own) leaves the department's nine schedules
  and headline figures exactly as they were.
- Routing part of a unit's own spending through an internal transfer (the 本级 subsidises it, or
  the unit remits it and the 本级 spends it) leaves the consolidated schedules unchanged too:
  the transfer is eliminated and the spending shows under the source that financed it.
"""
from __future__ import annotations

import copy
import random
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLE_2023, EXAMPLE_2025, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.loader import load_file
from generator.pipeline import run

D = Decimal
CENT = D("0.01")
MEASURES = ("basic", "project", "operating", "remit", "subsidy")
GENERAL = ("", "general", "一般公共预算", "carryover_general", "上年结转（一般公共预算）")
SETTINGS = settings(max_examples=20, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
MONEY_KEYS = ("expenditure", "basic_economic", "three_public", "projects", "procurement", "assets")


def amount(raw) -> Decimal:
    return D(str(raw)) if raw not in (None, "") else D(0)


def text(value: Decimal) -> str:
    return format(value.quantize(CENT), "f")


def cut(value: Decimal, rnd: random.Random) -> tuple[Decimal, Decimal]:
    cents = int(value / CENT)
    first = D(rnd.randint(0, cents)) * CENT
    return first, value - first


def raw(path: Path) -> dict:
    doc, problems = load_file(path)
    assert doc is not None, problems
    return doc.data


def split(data: dict, k: int, rnd: random.Random) -> tuple[dict, list[dict]]:
    """The department's facts spread over a 本级 (files[0]) and k units."""
    files: list[dict] = [{key: [] for key in ("expenditure", "basic_economic", "projects", "procurement")}
                         for _ in range(k + 1)]
    lines = data["expenditure"]
    with_projects = {str(ln["code"]) for ln in lines if amount(ln.get("project"))}
    owner: dict = {}
    free = []  # lines without project spending may go anywhere, or be cut in two
    for ln in lines:
        code = str(ln["code"])
        if code in with_projects:
            files[owner.setdefault(code, rnd.randrange(k + 1))]["expenditure"].append(ln)
        else:
            free.append(ln)
    rnd.shuffle(free)
    for n, ln in enumerate(free):
        target = 1 + n if n < k else rnd.randrange(k + 1)  # every unit gets a line of its own
        if n >= k and rnd.random() < 0.5:
            other = rnd.choice([f for f in range(k + 1) if f != target])
            a, b = dict(ln), dict(ln)
            for m in MEASURES:
                if m in ln:
                    a[m], b[m] = (text(x) for x in cut(amount(ln[m]), rnd))
            files[target]["expenditure"].append(a)
            files[other]["expenditure"].append(b)
        else:
            files[target]["expenditure"].append(ln)
    for p in data.get("projects") or []:
        files[owner[str(p["function_code"])]]["projects"].append(p)
    _economic(data, files)
    _three_public(data, files)
    for g in data.get("procurement") or []:
        files[rnd.randrange(k + 1)]["procurement"].append(g)
    if data.get("assets"):
        _assets(data["assets"], files, rnd)
    own = {key: value for key, value in data.items() if key not in MONEY_KEYS}
    own.update({key: value for key, value in files[0].items() if value})
    return own, files[1:]


def _economic(data: dict, files: list[dict]) -> None:
    """Each file's 一般公共预算 basic spending by function = its economic detail: fill in order."""
    left = [[e, amount(e["amount"])] for e in data.get("basic_economic") or []]
    i = 0
    for f in files:
        need = sum((amount(ln.get("basic")) for ln in f["expenditure"]
                    if str(ln.get("source") or "") in GENERAL), D(0))
        while need:
            entry, have = left[i]
            take = min(need, have)
            f["basic_economic"].append({**entry, "amount": text(take)})
            need -= take
            left[i][1] = have - take
            if not left[i][1]:
                i += 1


def _three_public(data: dict, files: list[dict]) -> None:
    """Each unit's 公务接待费 and 公车运维费 cover its own economic lines 30217 and 30231; the
    rest, and every other item, stays with the 本级."""
    given = data.get("three_public") or {}
    tp = {key: amount(v) for key, v in given.items() if not isinstance(v, dict)}
    for f in files[1:]:
        mine = {}
        for code, item in (("30217", "reception"), ("30231", "vehicle_operation")):
            mine[item] = sum((amount(e["amount"]) for e in f["basic_economic"] if str(e["code"]) == code), D(0))
            tp[item] = tp.get(item, D(0)) - mine[item]
        f["three_public"] = {item: text(v) for item, v in mine.items()}
    files[0]["three_public"] = {**{item: text(v) for item, v in tp.items()},
                                **{fund: v for fund, v in given.items() if isinstance(v, dict)}}


def _assets(assets: dict, files: list[dict], rnd: random.Random) -> None:
    """Cut every asset line between the 本级 and one unit, 办公用房 never more than 房屋."""
    unit = rnd.randrange(1, len(files))
    mine: dict = {"as_of": assets["as_of"]}
    own: dict = dict(assets)
    for key in ("buildings", "vehicles", "equipment", "other"):
        line = assets.get(key) or {}
        q, v = amount(line.get("quantity")), amount(line.get("value"))
        q1, v1 = D(rnd.randint(0, int(q))), cut(v, rnd)[0]
        mine[key] = {"quantity": str(q1), "value": text(v1)}
        own[key] = {"quantity": str(q - q1), "value": text(v - v1)}
    office = assets.get("office_buildings") or {}
    for field, kind in (("quantity", int), ("value", None)):
        total, building_unit = amount(office.get(field)), amount(mine["buildings"][field])
        building_own = amount(own["buildings"][field])
        low, high = max(D(0), total - building_own), min(total, building_unit)
        pick = D(rnd.randint(int(low), int(high))) if kind is int else \
            D(rnd.randint(int(low / CENT), int(high / CENT))) * CENT
        mine.setdefault("office_buildings", {})[field] = str(pick) if kind is int else text(pick)
        own.setdefault("office_buildings", {})
        own["office_buildings"] = {**own["office_buildings"],
                                   field: str(total - pick) if kind is int else text(total - pick)}
    files[unit]["assets"] = mine
    files[0]["assets"] = own


def write(folder: Path, own: dict, units: list[dict], department: dict) -> Path:
    (folder / "units").mkdir(parents=True, exist_ok=True)
    names = []
    for n, facts in enumerate(units, 1):
        unit = {"department": {**department, "code": f"{department['code']}{n:03d}",
                               "name": f"{department['name']}所属单位{n}", "kind": "unit"}}
        unit.update({key: value for key, value in facts.items() if value})
        if own.get("catalog"):  # the codes the department's file adds, for the lines it gave away
            unit["catalog"] = own["catalog"]
        name = f"units/u{n}.yaml"
        (folder / name).write_text(yaml.safe_dump(unit, allow_unicode=True, sort_keys=False), encoding="utf-8")
        names.append(name)
    path = folder / "dept.yaml"
    path.write_text(yaml.safe_dump({**own, "units": names}, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def same_schedules(whole, original) -> None:
    assert [t.title for t in whole.disclosure.schedules] == [t.title for t in original.disclosure.schedules]
    for mine, theirs in zip(whole.disclosure.schedules, original.disclosure.schedules):
        assert mine.rows == theirs.rows, mine.title
        assert mine.meta == theirs.meta and mine.note == theirs.note
    assert whole.disclosure.figures == original.disclosure.figures


PATHS = {"524": EXAMPLE_2025, "612": EXAMPLE_2023, "900": ROOT / "inputs" / "900-qingshan-2025.yaml"}
ORIGINALS = {key: run(path) for key, path in PATHS.items()}


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
@SETTINGS
@given(which=st.sampled_from(sorted(PATHS)), k=st.integers(1, 3), seed=st.integers(0, 2**32))
def test_splitting_a_department_across_units_changes_no_schedule(tmp_path_factory, which, k, seed):
    data = raw(PATHS[which])
    own, units = split(copy.deepcopy(data), k, random.Random(seed))
    path = write(tmp_path_factory.mktemp("split"), own, units, data["department"])
    whole = run(path)
    assert whole.ok, [str(p) for p in whole.problems if p.is_error]
    assert len(whole.units) == k and all(u.ok for u in whole.units)
    same_schedules(whole, ORIGINALS[which])


# --------------------------------------------------------------------------- internal transfers

EXAMPLE = ROOT / "inputs" / "730-shixian-nongye-2025.yaml"
EXAMPLE_RESULT = run(EXAMPLE)


@pytest.mark.slow  # starts the command line in fresh processes, or long property runs
@SETTINGS
@given(seed=st.integers(0, 2**32), how=st.sampled_from(["subsidy", "remit", "both"]))
def test_routing_unit_spending_through_internal_transfers_changes_nothing(tmp_path_factory, seed, how):
    rnd = random.Random(seed)
    folder = tmp_path_factory.mktemp("transfer")
    dept = raw(EXAMPLE)
    units = {name: raw(EXAMPLE.parent / name) for name in dept["units"]}
    for step in (["subsidy", "remit"] if how == "both" else [how]):
        # a unit line paid from the unit's own non-fiscal money, with basic spending left
        choices = [(name, i) for name, u in units.items() for i, ln in enumerate(u["expenditure"])
                   if ln.get("source") == "institution" and amount(ln.get("basic"))]
        name, i = rnd.choice(choices)
        line = units[name]["expenditure"][i]
        basic = amount(line["basic"])
        x = D(rnd.randint(1, int(basic / CENT))) * CENT
        line["basic"] = text(basic - x)
        code = str(line["code"])
        if step == "subsidy":  # the 本级 pays it to the unit, from the same kind of money
            units[name]["expenditure"].append({"code": code, "basic": text(x), "source": "superior"})
            giver = rnd.choice(["2130101", "2130102", "2130106", code])
            dept["expenditure"].append({"code": giver, "subsidy": text(x), "source": "institution"})
        else:  # the unit remits it and the 本级 spends it on the same thing
            line["remit"] = text(amount(line.get("remit")) + x)
            dept["expenditure"].append({"code": code, "basic": text(x), "source": "affiliate"})
    (folder / "730-units").mkdir()
    for name, data in units.items():
        (folder / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    path = folder / EXAMPLE.name
    path.write_text(yaml.safe_dump(dept, allow_unicode=True, sort_keys=False), encoding="utf-8")
    whole = run(path)
    assert whole.ok, [str(p) for p in whole.problems if p.is_error]
    same_schedules(whole, EXAMPLE_RESULT)
    assert sum((e.amount for e in whole.consolidation.eliminations), D(0)) > D(20)
