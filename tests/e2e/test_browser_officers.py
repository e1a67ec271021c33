"""Made for officers, in a real browser (Chromium) on two real nodes, in English and Chinese, at
390 px and at 1280 px: an input error is a message in the officer's language beside its field
with the form kept; a removal batch is typed as rows (a script adds rows under the CSP); a
withdrawal asks to be confirmed; unknown pages are pages of the app; no page scrolls sideways.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import Started
from tests.e2e.test_browser import Desk, browser  # noqa: F401  (the browser fixture)

pytestmark = pytest.mark.e2e

TEXT = {
    "en": {
        "required": "Required: fill this in.",
        "not_a_date": "Not a real date",
        "confirm": "Tick the box to confirm",
        "not_found": "This page does not exist",
        "add_row": "Add a row",
    },
    "zh": {
        "required": "必填：请填写此项。",
        "not_a_date": "不是真实的日期",
        "confirm": "请勾选以确认",
        "not_found": "此页面不存在",
        "add_row": "添加一行",
    },
}


def _fits(page: Page, width: int) -> None:
    """Nothing on the page is wider than the window: no sideways scroll."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide in a {width} px window"


@pytest.mark.parametrize(("lang", "width"), [("en", 1280), ("zh", 390)])
def test_an_officer_meets_errors_in_their_language_and_types_a_batch_as_rows(
    browser: Browser,  # noqa: F811
    sqlite_nodes: tuple[Started, Started],
    lang: str,
    width: int,
) -> None:
    us, _cn = sqlite_nodes
    desk = Desk(browser, us, us.staff.officer, lang)
    desk.context.close()
    desk.context = browser.new_context(base_url=desk.url, viewport={"width": width, "height": 900})
    desk.page = desk.context.new_page()
    desk.page.set_default_timeout(30_000)
    text = TEXT[lang]
    try:
        desk.sign_in()
        page = desk.page
        for path in ("/", "/cases", "/cases/new?type=mla"):
            page.goto(path)
            _fits(page, width)

        # An empty title: a message beside the title, in the officer's language; no 500.
        page.goto("/cases/new?type=mla")
        form = page.locator("form.case-form")
        form.locator('[name="peer"]').select_option("CN-MOJ")
        form.locator('[name="d.offence"]').fill("Wire fraud")
        form.locator('[name="title"]').evaluate("e => e.removeAttribute('required')")
        with page.expect_navigation():
            form.locator('button[type="submit"]').click()
        assert page.locator("#new-title-error").inner_text() == text["required"]
        assert page.locator('[name="d.offence"]').input_value() == "Wire fraud"  # kept
        _fits(page, width)

        # A removal batch: rows, one more added by the script, an impossible date refused.
        page.goto("/cases/new?type=removal")
        form = page.locator("form.case-form")
        rows = form.locator("fieldset.rows tbody tr")
        assert rows.count() == 2
        add = form.locator("button[data-add-row]")
        assert add.is_visible() and add.inner_text() == text["add_row"]
        add.click()
        assert rows.count() == 3
        assert form.locator('[name="d.persons.count"]').input_value() == "3"
        form.locator('[name="peer"]').select_option("CN-MOJ")
        form.locator('[name="title"]').fill("Identity verification: 2 persons")
        for i, (pid, name, born) in enumerate(
            [("P1", "LI Wei", "1990-02-30"), ("P2", "WU Ming", "1987")]
        ):
            form.locator(f'[name="d.persons.{i}.person_id"]').fill(pid)
            form.locator(f'[name="d.persons.{i}.name"]').fill(name)
            form.locator(f'[name="d.persons.{i}.birth_date"]').fill(born)
        form.locator('[name="d.persons.2.person_id"]').fill("P3")  # added by the script
        form.locator('[name="d.persons.2.name"]').fill("ZHANG San")
        form.locator('[name="d.persons.0.sex"]').select_option("M")
        form.locator('[name="d.persons.0.nationality"]').select_option("CN")
        with page.expect_navigation():
            form.locator('button[type="submit"]').click()
        error = page.locator("#new-d-persons-error").inner_text()
        assert text["not_a_date"] in error
        assert page.locator('[name="d.persons.0.birth_date"]').input_value() == "1990-02-30"
        assert page.locator('[name="d.persons.2.name"]').input_value() == "ZHANG San"
        _fits(page, width)
        page.locator('[name="d.persons.0.birth_date"]').fill("1990-02-28")
        with page.expect_navigation():
            page.locator('form.case-form button[type="submit"]').click()
        assert "/cases/REM-" in page.url, page.content()
        reference = page.url.rsplit("/", 1)[-1]
        _fits(page, width)

        # Withdrawing asks to be confirmed; the panel is not open by default.
        box = page.locator('details.action:has(form[data-action="withdraw"])')
        if box.count():
            assert box.get_attribute("open") is None
            box.locator("summary").click()
            box.locator('[name="withdraw.reason"]').fill("Sent to the wrong peer")
            confirm = box.locator('[name="withdraw._confirm"]')
            assert confirm.get_attribute("required") is not None
            confirm.evaluate("e => e.removeAttribute('required')")  # the server checks too
            with page.expect_navigation():
                box.locator('button[type="submit"]').click()
            assert text["confirm"] in page.content()
            assert page.url.endswith(f"/cases/{reference}")  # a reload lands on the case
            again = page.locator('details.action:has(form[data-action="withdraw"])')
            again.locator('[name="withdraw._confirm"]').check()
            with page.expect_navigation():
                again.locator('button[type="submit"]').click()
            assert page.get_attribute("#case-state", "data-state") == "withdrawn"

        # An unknown address is a page of the app, with its navigation, in the language.
        response = page.goto("/no/such/page")
        assert response is not None and response.status == 404
        assert page.locator("header nav").count() == 1
        assert text["not_found"] in page.content()
        _fits(page, width)
    finally:
        desk.close()
