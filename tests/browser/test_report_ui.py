"""The evaluation report as a reader opens it: the file from disk (file://) in headless Debian chromium driven by
Playwright (no browser download). No console or page errors, every section heading visible, a real screenshot."""

import pytest

from sinternal_assets.evaluation.report import SECTIONS, render_html, write_report
from tests.unit.test_report import make_tables

pytestmark = pytest.mark.integration


def test_report_opens_from_disk_without_errors(tmp_path, browser):
    # a hostile checkpoint name too: escaped, it must show as text and break nothing
    html = render_html(make_tables(("base", "<b>x</b>")), "sinternal evaluation", "2025-01-02 09:00 UTC")
    path = write_report(html, tmp_path / "reports", "run-2.html")

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    console, errors, requests = [], [], []
    page.on("console", lambda message: console.append((message.type, message.text)))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")

    for section_id, heading in SECTIONS:
        title = page.locator(f"section#{section_id} > h2")
        assert title.is_visible(), section_id
        assert title.inner_text() == heading
    assert page.locator("section#asr svg").first.is_visible()  # the inline figures render
    assert page.locator("section#summary").get_by_text("<b>x</b>").first.is_visible()  # shown as text
    assert page.locator("b", has_text="x").count() == 0  # never as markup
    assert page.locator("section#utility").get_by_text("No data").is_visible()

    screenshot = tmp_path / "report.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.is_file() and screenshot.stat().st_size > 50_000
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert requests == [path.as_uri()], f"the report fetched more than itself: {requests}"  # self-contained
    assert not errors, f"page errors: {errors}"
    assert not [m for m in console if m[0] == "error"], f"console errors: {console}"
