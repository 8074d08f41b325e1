#!/usr/bin/env python3
"""The editor's screenshots in docs/ (docs/screenshot-editor*.png), taken as the end-to-end tests
drive the page: Playwright and Debian's Chromium, the 2025 example in a scratch folder.

    python3 benchmarks/editor_screenshots.py [OUT_DIR]   (default: docs/)

1. screenshot-editor.png           支出: a 项 amount changed, the 类/款 subtotals and the preview follow
2. screenshot-editor-error.png     an amount typed wrong: the message at its field, the tab's count
3. screenshot-editor-project.png   a project: 绩效目标, the indicator rows, the preview at its table
4. screenshot-editor-problems.png  the list of every problem, each linked to its field
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    from playwright.sync_api import expect, sync_playwright

    from test_serve_browser import CHROMIUM, FLAGS, TOKEN, Server
    if CHROMIUM is None:
        print("no Chromium found", file=sys.stderr)
        return 1
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs"
    name = "524-xigang-2025.yaml"
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as profile:
        shutil.copy(ROOT / "inputs" / name, Path(tmp) / name)
        with Server(Path(tmp), name) as server, sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=FLAGS, headless=True,
                                                       viewport={"width": 1440, "height": 900})
            page = ctx.new_page()
            page.goto(server.url.replace(f"?token={TOKEN}", f"?token={TOKEN}"))
            page.wait_for_selector("#count-errors")
            page.click('[data-tab="expenditure"]')
            page.fill("#f-expenditure-1-basic", "1,600.00")
            expect(page.locator('#computed-expenditure tr[data-code="201"] td').nth(2)).to_have_text("2033.00")
            page.wait_for_timeout(600)
            page.locator("#f-expenditure-1-basic").focus()
            page.screenshot(path=str(out / "screenshot-editor.png"))

            page.fill("#f-expenditure-1-basic", "16OO.00")
            expect(page.locator("#msg-f-expenditure-1-basic")).to_contain_text("不是有效的数字")
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / "screenshot-editor-error.png"))
            page.fill("#f-expenditure-1-basic", "1505.72")
            expect(page.locator("#msg-f-expenditure-1-basic")).to_be_empty()

            page.click('[data-tab="projects"]')
            page.locator("#f-projects-2 > summary").click()
            page.wait_for_timeout(800)
            page.locator("#f-projects-2-amount").scroll_into_view_if_needed()
            page.screenshot(path=str(out / "screenshot-editor-project.png"))

            page.click('[data-tab="_problems"]')
            page.wait_for_timeout(300)
            page.screenshot(path=str(out / "screenshot-editor-problems.png"))
            ctx.close()
    for f in sorted(out.glob("screenshot-editor*.png")):
        print(f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
