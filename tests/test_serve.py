"""`budgetgen serve` without a browser: every page and answer is HTML or JSON a test can read.

The guard (token, Origin, host, sizes, the start folder), editing through the page (totals and
problems follow, the saved file differs only in the edited value, a backup is kept, an external
edit is never overwritten silently), undo, rows, the code picker, new and import.
"""
from __future__ import annotations

import difflib
import json
import shutil
import warnings

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
with warnings.catch_warnings():  # Starlette 1.x suggests httpx2 for its test client; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

from generator.commands.serve.app import create_app  # noqa: E402
from tests.conftest import EXAMPLE_2023, EXAMPLE_2025  # noqa: E402

NAME = EXAMPLE_2025.name
TOKEN = "test-token-1234567890"
ORIGIN = "http://testserver"
HEADERS = {"X-Budgetgen-Token": TOKEN, "Origin": ORIGIN}


@pytest.fixture()
def folder(tmp_path):
    shutil.copy(EXAMPLE_2025, tmp_path / NAME)
    return tmp_path


@pytest.fixture()
def client(folder):
    app = create_app(folder, NAME, TOKEN, hosts=("testserver",))
    with TestClient(app) as c:
        c.get(f"/?token={TOKEN}")  # sets the cookie, as the browser's first visit does
        yield c


def edit(client, fid, value, **kw):
    return client.post("/api/edit", json={"file": NAME, "changes": [{"id": fid, "value": value}], **kw},
                       headers=HEADERS)


def changed_lines(a: str, b: str) -> list[str]:
    return [line for line in difflib.unified_diff(a.splitlines(), b.splitlines(), n=0, lineterm="")
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


# --------------------------------------------------------------------------- the guard

def test_without_the_token_nothing_is_served(folder):
    app = create_app(folder, NAME, TOKEN, hosts=("testserver",))
    with TestClient(app) as c:
        for url in ("/", f"/edit?file={NAME}", f"/preview?file={NAME}", "/static/editor.js",
                    f"/api/state?file={NAME}"):
            r = c.get(url)
            assert r.status_code == 403, url
            assert "令牌" in r.text
        assert c.get("/?token=wrong-token").status_code == 403
        r = c.post("/api/edit", json={"file": NAME, "changes": [{"id": "f-department-code", "value": "1"}]},
                   headers={"Origin": ORIGIN})
        assert r.status_code == 403
    assert (folder / NAME).read_bytes() == EXAMPLE_2025.read_bytes()


def test_the_first_visit_sets_a_strict_cookie(folder):
    app = create_app(folder, NAME, TOKEN, hosts=("testserver",))
    with TestClient(app) as c:
        r = c.get(f"/?token={TOKEN}", follow_redirects=False)
        assert r.status_code == 303
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert c.get(f"/edit?file={NAME}").status_code == 200  # the cookie is enough to read


@pytest.mark.parametrize("headers, why", [
    ({"Origin": ORIGIN}, "no token header (a cookie alone does not allow a change)"),
    ({"X-Budgetgen-Token": TOKEN}, "no Origin"),
    ({"X-Budgetgen-Token": TOKEN, "Origin": "http://evil.example"}, "another site"),
    ({"X-Budgetgen-Token": TOKEN, "Origin": "http://testserver:8080"}, "another port"),
    ({"X-Budgetgen-Token": TOKEN, "Origin": "null"}, "a sandboxed page"),
    ({"X-Budgetgen-Token": "wrong", "Origin": ORIGIN}, "a wrong token"),
])
def test_a_change_from_anywhere_but_the_page_is_refused(client, folder, headers, why):
    for url, body in [("/api/edit", {"file": NAME, "changes": [{"id": "f-expenditure-1-basic", "value": "1"}]}),
                      ("/api/save", {"file": NAME}), ("/api/undo", {"file": NAME}),
                      ("/api/render", {"file": NAME}), ("/api/new", {"name": "x.yaml"})]:
        r = client.post(url, json=body, headers=headers)
        assert r.status_code == 403, (why, url)
    assert (folder / NAME).read_bytes() == EXAMPLE_2025.read_bytes()
    assert not (folder / "x.yaml").exists()
    assert client.get(f"/api/state?file={NAME}").json()["rev"] == 0


def test_another_host_name_is_refused(folder):
    """A page whose DNS name was rebound to 127.0.0.1 reaches the server under its own name."""
    app = create_app(folder, NAME, TOKEN, hosts=("127.0.0.1", "localhost"))
    with TestClient(app, base_url="http://evil.example") as c:
        assert c.get(f"/?token={TOKEN}").status_code == 421


def test_only_yaml_files_inside_the_start_folder_are_opened(client, folder, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.yaml").write_text("department: {code: '1'}\n", encoding="utf-8")
    (folder / "notes.txt").write_text("private", encoding="utf-8")
    (folder / "link.yaml").symlink_to(outside / "secret.yaml")
    for name, status in [("../" + outside.name + "/secret.yaml", 403), (str(outside / "secret.yaml"), 403),
                         ("notes.txt", 403), ("link.yaml", 403), ("missing.yaml", 404), ("", 404)]:
        r = client.get("/edit", params={"file": name})
        assert r.status_code == status, name
        assert "private" not in r.text and "secret" not in r.text.split("无法打开")[-1][:0]
    assert client.get("/static/../../pyproject.toml").status_code in (403, 404)
    assert client.get("/static/editor.css").status_code == 200
    assert client.get("/download", params={"file": NAME, "fmt": "pdf"}).status_code == 404


def test_request_bodies_are_bounded(client, folder):
    big = "1" * (2 * 1024 * 1024)
    body = json.dumps({"file": NAME, "changes": [{"id": "f-department-name", "value": big}]})
    r = client.post("/api/edit", content=body.encode(), headers={**HEADERS, "Content-Type": "application/json"})
    assert r.status_code == 413
    r = client.post("/api/edit", headers={**HEADERS, "Content-Length": str(10 ** 10)}, content=b"{}")
    assert r.status_code == 413
    assert (folder / NAME).read_bytes() == EXAMPLE_2025.read_bytes()


@pytest.mark.parametrize("fid", ["f-expenditure-1-basic: 1\nevil", "f-nothing", "f-department-code-0",
                                 "f-expenditure-x-basic", "f-department-evil", "department-code", "f-"])
def test_only_fields_the_schema_names_can_be_written(client, folder, fid):
    r = edit(client, fid, "1")
    assert r.status_code == 400
    assert client.get(f"/api/state?file={NAME}").json()["rev"] == 0


def test_what_the_clerk_types_is_shown_as_text_never_run_as_a_template(client):
    r = edit(client, "f-department-name", "{{ 7*7 }}<script>alert(1)</script>{% raw %}")
    assert r.status_code == 200
    page = client.get(f"/edit?file={NAME}").text
    assert "<script>alert(1)</script>" not in page
    assert "{{ 7*7 }}&lt;script&gt;" in page and "49" not in page.split("f-department-name")[1][:300]


# --------------------------------------------------------------------------- editing

def test_the_page_holds_every_section_of_the_2025_example(client):
    page = client.get(f"/edit?file={NAME}").text
    for key in ("department", "duties", "institutions", "expenditure", "basic_economic", "three_public",
                "projects", "performance", "special_funds", "procurement", "assets", "prior_year",
                "control_totals", "purchased_services", "units"):
        assert f'data-section="{key}"' in page, key
    # a leaf of each kind, with the value the file holds
    for fid, value in [("f-expenditure-1-basic", "1505.72"), ("f-basic_economic-0-amount", "227.17"),
                       ("f-three_public-vehicle_operation", "2.25"), ("f-projects-9-amount", "56.00"),
                       ("f-projects-0-indicators-10-4", "≥90%"), ("f-projects-6-plan-3", "13.53"),
                       ("f-procurement-4-items-2-amount", "15.00"), ("f-assets-vehicles-quantity", "3"),
                       ("f-prior_year-reasons-basic", "主要为人员经费变化，原因为人员增加及工资调整。"),
                       ("f-expenditure-1-code", "2010301")]:
        assert f'id="{fid}"' in page, fid
        assert value in page.split(f'id="{fid}"')[1][:400], fid


def test_a_changed_amount_moves_its_class_subtotal_and_the_preview(client):
    before = client.get(f"/api/state?file={NAME}").json()
    assert "1938.72" in before["computed"]["expenditure"]  # 201 一般公共服务支出
    r = edit(client, "f-expenditure-1-basic", "1,600.00")  # 行政运行 1505.72 → 1600.00, typed with a comma
    assert r.status_code == 200
    j = r.json()
    assert j["values"]["f-expenditure-1-basic"] == "1600.00"
    row = j["computed"]["expenditure"].split('data-code="201"')[1].split("</tr>")[0]
    assert "2033.00" in row  # 1938.72 + 94.28
    assert "1916.97" in j["computed"]["expenditure"]  # 基本支出 1822.69 + 94.28
    preview = client.get(f"/preview?file={NAME}").text
    assert "2033.00" in preview
    assert "script-src 'none'" in client.get(f"/preview?file={NAME}").headers["content-security-policy"]
    # the declared control totals no longer hold: said at the control total's field
    assert j["errors"] >= 1
    assert "f-control_totals-total" in j["fields"] or "f-control_totals" in str(j["fields"])


def test_a_problem_is_shown_at_its_field_and_in_the_linked_list(client):
    j = edit(client, "f-projects-0-amount", "26.0.0").json()
    assert j["fields"]["f-projects-0-amount"][0]["severity"] == "error"
    assert 'href="#f-projects-0-amount"' in j["problems_html"]
    page = client.get(f"/edit?file={NAME}").text
    assert 'id="f-projects-0-amount" class="fld has-error' in page
    j = edit(client, "f-projects-0-amount", "26.00").json()
    assert "f-projects-0-amount" not in j["fields"]
    assert j["errors"] == 0


def test_saving_changes_only_the_edited_value_and_keeps_a_backup(client, folder):
    original = EXAMPLE_2025.read_text(encoding="utf-8")
    edit(client, "f-prior_year-basic", "１７００.００")  # full-width digits, as an input method types them
    r = client.post("/api/save", json={"file": NAME}, headers=HEADERS)
    assert r.status_code == 200 and r.json()["saved"]
    saved = (folder / NAME).read_text(encoding="utf-8")
    assert changed_lines(original, saved) == ["-  basic: 1701.01      # 1822.69-121.68",
                                              "+  basic: 1700.00      # 1822.69-121.68"]
    assert (folder / (NAME + ".bak")).read_text(encoding="utf-8") == original


def test_an_external_edit_is_offered_never_overwritten_silently(client, folder):
    edit(client, "f-department-name", "页面上的名称")
    outside = (folder / NAME).read_text(encoding="utf-8").replace("code: \"524\"", "code: \"999\"")
    (folder / NAME).write_text(outside, encoding="utf-8")
    assert client.get(f"/api/state?file={NAME}&light=1").json()["external"] is True
    r = client.post("/api/save", json={"file": NAME}, headers=HEADERS)
    assert r.status_code == 409
    assert (folder / NAME).read_text(encoding="utf-8") == outside
    # the clerk chooses: take the other version (the page's text stays in the undo history) …
    r = client.post("/api/reload", json={"file": NAME}, headers=HEADERS)
    assert r.status_code == 200 and r.json()["external"] is False
    assert 'value="999"' in client.get(f"/edit?file={NAME}").text
    # … or overwrite it knowingly
    client.post("/api/undo", json={"file": NAME}, headers=HEADERS)
    (folder / NAME).write_text(outside + "# again\n", encoding="utf-8")
    r = client.post("/api/save", json={"file": NAME, "overwrite": True}, headers=HEADERS)
    assert r.status_code == 200
    assert "页面上的名称" in (folder / NAME).read_text(encoding="utf-8")


def test_undo_takes_back_the_last_change_and_typing_in_one_field_is_one_step(client):
    for partial in ("1", "16", "160", "1600"):
        edit(client, "f-expenditure-1-basic", partial, typing=True)
    edit(client, "f-expenditure-0-project", "5.00", typing=True)
    r = client.post("/api/undo", json={"file": NAME}, headers=HEADERS)
    assert r.status_code == 200
    page = client.get(f"/edit?file={NAME}").text
    assert 'id="f-expenditure-0-project" class="fld  num" data-kind="amount" value="4.00"' in page
    assert 'value="1600"' in page
    client.post("/api/undo", json={"file": NAME}, headers=HEADERS)
    assert 'value="1505.72"' in client.get(f"/edit?file={NAME}").text
    assert client.post("/api/undo", json={"file": NAME}, headers=HEADERS).status_code == 409


def test_a_pasted_column_is_one_change(client):
    changes = [{"id": f"f-basic_economic-{i}-amount", "value": v} for i, v in enumerate(["227.17", "109.79", "57.73"])]
    changes[0]["value"] = "228.17"
    r = client.post("/api/edit", json={"file": NAME, "changes": changes}, headers=HEADERS)
    assert r.status_code == 200
    client.post("/api/undo", json={"file": NAME}, headers=HEADERS)
    assert 'value="227.17"' in client.get(f"/edit?file={NAME}").text


def test_a_paste_longer_than_its_table_adds_the_rows_it_needs_in_one_step(client):
    rows = [["产出指标", "数量指标", "新指标", "描述", "≥1次", "计划"], ["效益指标", "社会效益指标", "另一个", "描述二", "100%", "计划"]]
    changes = [{"id": f"f-projects-0-indicators-{10 + i}-{j}", "value": v}
               for i, row in enumerate(rows) for j, v in enumerate(row)]  # row 10 exists, 11 does not
    r = client.post("/api/edit", json={"file": NAME, "changes": changes}, headers=HEADERS)
    assert r.status_code == 422  # without "grow" a missing row is refused
    r = client.post("/api/edit", json={"file": NAME, "changes": changes, "grow": True}, headers=HEADERS)
    assert r.status_code == 200, r.text
    page = client.get(f"/edit?file={NAME}").text
    assert 'id="f-projects-0-indicators-11-2"' in page and 'value="另一个"' in page
    assert 'id="f-projects-0-indicators-12-0"' not in page
    client.post("/api/undo", json={"file": NAME}, headers=HEADERS)  # the whole paste is one step
    assert 'id="f-projects-0-indicators-11-0"' not in client.get(f"/edit?file={NAME}").text
    r = client.post("/api/edit", json={"file": NAME, "grow": True, "changes": [
        {"id": "f-expenditure-5000-basic", "value": "1"}]}, headers=HEADERS)
    assert r.status_code == 422 and "最多" in r.json()["message"]


def test_rows_are_added_moved_and_removed_from_the_page(client):
    r = client.post("/api/rows", json={"file": NAME, "op": "add", "list": "f-projects-0-indicators"}, headers=HEADERS)
    assert r.status_code == 200
    assert 'id="f-projects-0-indicators-11-0"' in client.get(f"/edit?file={NAME}").text
    r = client.post("/api/rows", json={"file": NAME, "op": "down", "list": "f-expenditure", "index": 0},
                    headers=HEADERS)
    page = client.get(f"/edit?file={NAME}").text
    assert page.index('value="2010301"') < page.index('value="2010108"')
    r = client.post("/api/rows", json={"file": NAME, "op": "remove", "list": "f-projects-0-indicators", "index": 11},
                    headers=HEADERS)
    assert r.status_code == 200
    r = client.post("/api/rows", json={"file": NAME, "op": "add", "list": "f-purchased_services"}, headers=HEADERS)
    assert r.status_code == 200
    assert r.json()["fields"]["f-purchased_services-0-name"][0]["severity"] == "error"  # 项目名称 must be given


def test_the_code_picker_searches_this_years_catalog_and_refuses_other_years_codes(client):
    html = client.get("/api/codes", params={"file": NAME, "q": "行政运行"}).text
    assert 'data-code="2010301"' in html
    html = client.get("/api/codes", params={"file": NAME, "q": "20805"}).text
    assert 'data-code="2080501"' in html and "行政单位离退休" in html
    r = edit(client, "f-expenditure-1-code", "2010388")  # no such code
    assert r.status_code == 422 and "2025" in r.json()["message"]
    assert edit(client, "f-expenditure-1-code", "2010302").status_code == 200


def test_a_code_added_in_a_later_year_is_refused_in_an_earlier_years_file(tmp_path):
    shutil.copy(EXAMPLE_2023, tmp_path / EXAMPLE_2023.name)
    app = create_app(tmp_path, EXAMPLE_2023.name, TOKEN, hosts=("testserver",))
    with TestClient(app) as c:
        c.get(f"/?token={TOKEN}")
        assert 'data-code="2170404"' not in c.get("/api/codes", params={"file": EXAMPLE_2023.name,
                                                                         "q": "2170404"}).text
        r = c.post("/api/edit", json={"file": EXAMPLE_2023.name,
                                      "changes": [{"id": "f-expenditure-0-code", "value": "2170404"}]},
                   headers=HEADERS)  # 中央金融机构注资特别国债支出: a 2025 code
        assert r.status_code == 422 and "2023" in r.json()["message"]


def test_new_and_import_from_the_page(client, folder, xigang):
    from generator.render.xlsx import render_xlsx
    r = client.post("/api/new", json={"name": "新部门", "edition": "hebei-2025", "year": "2026"}, headers=HEADERS)
    assert r.status_code == 200
    assert (folder / "新部门.yaml").is_file()
    assert client.get(r.json()["url"]).status_code == 200
    assert client.post("/api/new", json={"name": "../x"}, headers=HEADERS).status_code == 403
    book = render_xlsx(xigang.disclosure)
    r = client.post("/api/import?name=imported.yaml&book=524.xlsx", content=book,
                    headers={**HEADERS, "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    assert "秦皇岛市海港区人民政府西港路街道办事处" in (folder / "imported.yaml").read_text(encoding="utf-8")


def test_a_folder_lists_its_department_files(folder):
    (folder / "sub").mkdir()
    shutil.copy(EXAMPLE_2025, folder / "sub" / "b.yaml")
    app = create_app(folder, None, TOKEN, hosts=("testserver",))
    with TestClient(app) as c:
        page = c.get(f"/?token={TOKEN}").text
        assert NAME in page and "sub/b.yaml" in page


def test_the_command_listens_on_127_0_0_1_with_a_token_and_stops_on_ctrl_c(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import urllib.error
    import urllib.request
    shutil.copy(EXAMPLE_2025, tmp_path / NAME)
    env = {**os.environ, "DISPLAY": "", "WAYLAND_DISPLAY": ""}
    proc = subprocess.Popen([sys.executable, "-m", "generator", "serve", str(tmp_path / NAME), "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("budgetgen 编辑器：http://127.0.0.1:"), line
        url = line.split("：", 1)[1].strip()
        base, token = url.split("/?token=")
        assert len(token) >= 32
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor())
        with opener.open(url) as r:  # the token opens the page (after the redirect)
            assert r.status == 200 and NAME in r.read().decode("utf-8")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.build_opener(urllib.request.ProxyHandler({})).open(base + "/")
        assert refused.value.code == 403
        change = json.dumps({"file": NAME, "changes": [{"id": "f-department-name", "value": "未保存的名称"}]})
        opener.open(urllib.request.Request(base + "/api/edit", data=change.encode(), method="POST", headers={
            "X-Budgetgen-Token": token, "Origin": base, "Content-Type": "application/json"}))
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert "编辑器已停止" in out
    assert (tmp_path / NAME).read_bytes() == EXAMPLE_2025.read_bytes()
    # the change not saved is kept beside the file, not lost
    assert "未保存的名称" in (tmp_path / (NAME + ".unsaved")).read_text(encoding="utf-8")
    assert "另存为" in err


@pytest.mark.parametrize("args, said", [(["missing.yaml"], "不存在"), (["pyproject.toml"], "不是 .yaml")])
def test_the_command_refuses_what_it_cannot_open(args, said):
    from typer.testing import CliRunner

    from generator.commands.cli import app
    result = CliRunner().invoke(app, ["serve", *args, "--no-browser"])
    assert result.exit_code == 2
    assert said in result.output


def test_the_form_is_generated_from_the_schema_a_new_field_needs_no_new_page(client, monkeypatch):
    import copy

    from generator.commands.serve import form
    schema = copy.deepcopy(form.schema())
    schema["$defs"]["Department"]["properties"]["contact"] = {
        "description": "联系人（一个新字段）", "title": "联系人", "errorMessage": "应为一段文字，不是列表或映射",
        "not": {"type": ["array", "object"]}}
    schema["$defs"]["Project"]["properties"]["deadline_amount"] = dict(
        schema["$defs"]["Project"]["properties"]["amount"], title="新的金额")
    monkeypatch.setattr(form, "schema", lambda: schema)
    page = client.get(f"/edit?file={NAME}").text
    assert 'id="f-department-contact"' in page and "联系人" in page
    assert 'id="f-projects-9-deadline_amount" class="fld  num" data-kind="amount"' in page
    # and every field the real schema names is on the page of the 2025 example
    monkeypatch.undo()
    page = client.get(f"/edit?file={NAME}").text

    def fields(s, path):
        s = form.resolve(s)
        for key, sub in s.get("properties", {}).items():
            sub = form.resolve(sub)
            if "properties" in sub:
                yield from fields(sub, path + (key,))
            elif sub.get("type") != "array":
                yield path + (key,)
    missing = [p for p in fields(form.schema(), ()) if f'id="{"f-" + "-".join(p)}"' not in page]
    assert missing == []
