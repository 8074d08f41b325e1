"""`budgetgen serve` in a real browser: Playwright (PyPI) driving Debian's Chromium
(chromium-headless-shell, installed by .ci/setup; never `playwright install`).

Opens the 2025 example, changes a leaf amount and sees the 类 subtotal and the preview change,
makes an error and sees it at its field, fixes it, saves, and compares the saved file with the
original (only that value changed, comments kept); keyboard navigation, paste of a column,
undo, an external edit; renders the PDF from the page (slow).
"""
from __future__ import annotations

import difflib
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright (PyPI: playwright) is not installed")

from generator.commands.serve.app import create_app  # noqa: E402
from tests.conftest import EXAMPLE_2025  # noqa: E402

NAME = EXAMPLE_2025.name
TOKEN = "browser-test-token"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
CANDIDATES = ("chromium-headless-shell", "chromium", "chromium-browser")
PLACES = ("/usr/lib/chromium/chromium-headless-shell", "/usr/lib/chromium/chromium")


def find_chromium() -> str | None:
    """Debian's Chromium: $BUDGETGEN_CHROMIUM, then the packaged binaries."""
    named = os.environ.get("BUDGETGEN_CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in PLACES if Path(p).is_file()), None)


CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found: install Debian's chromium-headless-shell "
                                "(or chromium) — bash .ci/setup does — or set BUDGETGEN_CHROMIUM")


class Server:
    """The editor on 127.0.0.1, a free port, in a thread."""

    def __init__(self, folder: Path, start: str | None):
        self.app = create_app(folder, start, TOKEN)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={TOKEN}"

    def __enter__(self) -> Server:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the editor did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser_context():
    with sync_api.sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=FLAGS, headless=True,
                                                   viewport={"width": 1600, "height": 1000}, accept_downloads=True)
        yield ctx
        ctx.close()


@pytest.fixture()
def editor(tmp_path, browser_context):
    shutil.copy(EXAMPLE_2025, tmp_path / NAME)
    with Server(tmp_path, NAME) as server:
        page = browser_context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url)
        page.wait_for_selector("#count-errors")
        yield page, tmp_path, server
        page.close()
        assert not errors, errors


def subtotal(page, code: str) -> str:
    return page.locator(f'#computed-expenditure tr[data-code="{code}"] td').nth(2).inner_text()


def preview_text(page) -> str:
    return page.frame_locator("#preview").locator("body").inner_text()


def changed_lines(a: str, b: str) -> list[str]:
    return [line for line in difflib.unified_diff(a.splitlines(), b.splitlines(), n=0, lineterm="")
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_change_an_amount_see_totals_and_preview_make_and_fix_an_error_save(editor):
    page, folder, _ = editor
    expect = sync_api.expect
    page.click('[data-tab="expenditure"]')
    expect(page.locator('#computed-expenditure tr[data-code="201"]')).to_be_visible()
    assert subtotal(page, "201") == "1938.72"
    assert "1938.72" in preview_text(page)
    assert "2033.00" not in preview_text(page)

    field = page.locator("#f-expenditure-1-basic")  # 2010301 行政运行 1505.72
    field.fill("1,600.00")  # as the budget system's forms show it
    expect(page.locator('#computed-expenditure tr[data-code="201"] td').nth(2)).to_have_text("2033.00")
    expect(page.frame_locator("#preview").locator("body")).to_contain_text("2033.00")
    expect(page.locator("#dirty")).to_be_visible()

    field.fill("16OO.00")  # letter O for zero: an error, at the field
    msg = page.locator("#msg-f-expenditure-1-basic")
    expect(msg).to_contain_text("不是有效的数字")
    expect(field).to_have_class(re.compile(r"\bhas-error\b"))
    page.click('[data-tab="_problems"]')
    link = page.locator('#problems a[data-field="f-expenditure-1-basic"]')
    expect(link).to_be_visible()
    link.click()  # the list links to the field
    expect(field).to_be_focused()

    field.fill("１６００.００")  # full-width digits, as an input method types them
    expect(msg).to_be_empty()
    expect(page.locator('#computed-expenditure tr[data-code="201"] td').nth(2)).to_have_text("2033.00")
    field.press("Tab")
    page.click("#save")
    expect(page.locator("#dirty")).to_be_hidden()
    saved = (folder / NAME).read_text(encoding="utf-8")
    original = EXAMPLE_2025.read_text(encoding="utf-8")
    assert changed_lines(original, saved) == ["-  - {code: 2010301, name: 行政运行, basic: 1505.72}",
                                              "+  - {code: 2010301, name: 行政运行, basic: 1600.00}"]
    assert saved.startswith("# 秦皇岛市海港区人民政府西港路街道办事处 2025年部门预算公开 —— 输入文件\n")
    assert (folder / (NAME + ".bak")).read_text(encoding="utf-8") == original


def test_keyboard_paste_and_undo_in_a_table(editor):
    page, folder, _ = editor
    expect = sync_api.expect
    page.click('[data-tab="basic_economic"]')
    first = page.locator("#f-basic_economic-0-amount")
    first.click()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#f-basic_economic-1-amount")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#f-basic_economic-2-amount")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.locator("#f-basic_economic-1-amount")).to_be_focused()
    # a column copied from Excel: three cells, one per line
    page.locator("#f-basic_economic-0-amount").focus()
    page.evaluate("""() => {
        const data = new DataTransfer();
        data.setData('text/plain', '228.17\\r\\n110.79\\r\\n57.73\\r\\n');
        document.activeElement.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
                                                                          cancelable: true}));
    }""")
    expect(page.locator("#f-basic_economic-1-amount")).to_have_value("110.79")
    expect(page.locator("#computed-basic_economic tr.em").first).to_contain_text("1824.69")  # 1822.69 + 2
    page.locator("body").click(position={"x": 5, "y": 5})
    page.click("#undo")
    page.wait_for_load_state()
    expect(page.locator("#f-basic_economic-1-amount")).to_have_value("109.79")
    expect(page.locator("#computed-basic_economic tr.em").first).to_contain_text("1822.69")
    assert (folder / NAME).read_bytes() == EXAMPLE_2025.read_bytes()  # nothing saved


def test_a_pasted_column_longer_than_the_table_adds_rows(editor):
    page, _, _ = editor
    expect = sync_api.expect
    page.click('[data-tab="projects"]')
    page.locator("#f-projects-3 > summary").click()  # 人大代表之家经费: 7 indicator rows
    page.locator("#f-projects-3-indicators-6-4").focus()
    page.evaluate("""() => {
        const data = new DataTransfer();
        data.setData('text/plain', '≥95%\\n≥3次\\n100%\\n');
        document.activeElement.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
                                                                          cancelable: true}));
    }""")
    page.wait_for_load_state()
    expect(page.locator("#f-projects-3-indicators-8-4")).to_have_value("100%")
    expect(page.locator("#f-projects-3-indicators-6-4")).to_have_value("≥95%")


def test_rows_and_the_code_picker(editor):
    page, _, _ = editor
    expect = sync_api.expect
    page.click('[data-tab="expenditure"]')
    page.click('button[data-op="add"][data-list="f-expenditure"]')
    code = page.locator("#f-expenditure-11-code")
    expect(code).to_be_visible()
    code.fill("住房公积金")
    expect(page.locator('#picker li[data-code="2210201"]')).to_be_visible()
    page.locator('#picker li[data-code="2210201"]').click()
    expect(code).to_have_value("2210201")
    expect(page.locator("#f-expenditure-11-name")).to_have_value("住房公积金")
    page.locator("#f-expenditure-11-basic").fill("1.00")
    expect(page.locator('#computed-expenditure tr[data-code="221"] td').nth(2)).to_have_text("67.21")


def test_an_external_edit_is_offered(editor):
    page, folder, _ = editor
    expect = sync_api.expect
    text = (folder / NAME).read_text(encoding="utf-8")
    (folder / NAME).write_text(text.replace("秦皇岛市海港区人民政府西港路街道办事处本级", "外部修改的机构名称"), encoding="utf-8")
    expect(page.locator("#banner")).to_be_visible(timeout=15000)
    page.click("#take-disk")
    page.wait_for_load_state()
    page.click('[data-tab="institutions"]')
    expect(page.locator("#f-institutions-0-name")).to_have_value("外部修改的机构名称")


@pytest.mark.slow
def test_render_the_pdf_from_the_page(editor):
    page, folder, _ = editor
    expect = sync_api.expect
    page.click("#render")
    expect(page.locator("#job .job")).to_contain_text("正在")  # progress while it renders
    link = page.locator('#job a.dl:has-text("PDF")')
    expect(link).to_be_visible(timeout=240000)
    expect(page.locator('#job a.dl:has-text("XLSX")')).to_be_visible()
    pdfs = list((folder / "output").glob("*/*.pdf"))
    assert len(pdfs) == 1 and pdfs[0].read_bytes().startswith(b"%PDF")
    assert len(list((folder / "output").glob("*/*.xlsx"))) == 1
    with page.expect_download() as info:
        link.click()
    assert Path(info.value.path()).read_bytes() == pdfs[0].read_bytes()
