"""In a real browser (Chromium) on two real nodes: a wrong birth date in row 3 of a removal batch
(a row the script added, an empty row above it) comes back beside that cell, in English on one
node and in Chinese on the other, marked for assistive technology, with every row as typed; a
birth date written as lists write it ("28 Feb 1990") is typed whole and accepted."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import Started
from tests.e2e.test_browser import Desk, browser  # noqa: F401  (the browser fixture)

pytestmark = pytest.mark.e2e

TEXT = {
    "en": {"not_a_date": "Not a real date", "row_3": "row 3, Date of birth: "},
    "zh": {"not_a_date": "不是真实的日期", "row_3": "第 3 行，出生日期："},
}


def test_a_wrong_date_in_row_3_stands_beside_its_cell_in_both_languages(
    browser: Browser,  # noqa: F811
    sqlite_nodes: tuple[Started, Started],
) -> None:
    us, cn = sqlite_nodes
    for started, peer, lang in ((us, cn.node.name, "en"), (cn, us.node.name, "zh")):
        desk = Desk(browser, started, started.staff.officer, lang)
        text = TEXT[lang]
        try:
            desk.sign_in()
            page = desk.page
            page.goto("/cases/new?type=removal")
            form = page.locator("form.case-form")
            form.locator("button[data-add-row]").click()  # a third row, by the script
            form.locator('[name="peer"]').select_option(peer)
            form.locator('[name="title"]').fill("Identity verification: 2 persons")
            form.locator('[name="d.persons.0.person_id"]').fill("P1")
            form.locator('[name="d.persons.0.name"]').fill("LI Wei")
            # typed key by key, as a list writes it: the box takes it whole (no 10-letter cap)
            form.locator('[name="d.persons.0.birth_date"]').press_sequentially("28 Feb 1990")
            # row 2 stays empty
            form.locator('[name="d.persons.2.person_id"]').fill("P3")
            form.locator('[name="d.persons.2.name"]').fill("ZHANG San")
            form.locator('[name="d.persons.2.birth_date"]').fill("1990-13-45")
            form.locator('[name="d.persons.2.sex"]').select_option("M")
            with page.expect_navigation():
                form.locator('button[type="submit"]').click()

            cell = page.locator("#new-d-persons-2-birth_date")
            beside = page.locator("#new-d-persons-2-birth_date-error")
            assert beside.is_visible()
            assert beside.inner_text().startswith(text["not_a_date"])
            assert cell.get_attribute("aria-invalid") == "true"
            assert cell.get_attribute("aria-describedby") == "new-d-persons-2-birth_date-error"
            # in the same table cell, right under the input
            assert beside.evaluate("e => e.closest('td') === document.getElementById("
                                   "'new-d-persons-2-birth_date').closest('td')")  # fmt: skip
            box, under = cell.bounding_box(), beside.bounding_box()
            assert box and under and 0 <= under["y"] - (box["y"] + box["height"]) < 40
            # only that cell is marked; the table's summary names the row as shown
            border = "e => getComputedStyle(e).borderTopColor"
            assert cell.evaluate(border) != page.locator("#new-d-persons-0-birth_date").evaluate(
                border
            )
            assert page.locator("#new-d-persons-0-birth_date-error").count() == 0
            summary = page.locator("#new-d-persons-error").inner_text()
            assert summary.startswith(text["row_3"])

            # every row as typed, the empty one too
            typed = {
                "d.persons.0.person_id": "P1",
                "d.persons.0.name": "LI Wei",
                "d.persons.0.birth_date": "28 Feb 1990",
                "d.persons.1.person_id": "",
                "d.persons.2.person_id": "P3",
                "d.persons.2.name": "ZHANG San",
                "d.persons.2.birth_date": "1990-13-45",
                "d.persons.2.sex": "M",
            }
            for name, value in typed.items():
                assert page.locator(f'[name="{name}"]').input_value() == value, name

            # corrected in its cell, the batch is opened with the two persons
            cell.fill("1990-12-05")
            with page.expect_navigation():
                page.locator('form.case-form button[type="submit"]').click()
            assert "/cases/REM-" in page.url, page.content()
        finally:
            desk.close()
