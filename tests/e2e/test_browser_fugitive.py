"""A fugitive notice in a real browser: CN opens it, the US legal reviewer records the
neutrality and human-rights review, and the case goes on to the handover."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import Started
from tests.e2e.test_browser import Desk, browser  # noqa: F401  (the module's browser fixture)

pytestmark = pytest.mark.e2e


def test_cn_notice_us_review_then_handover(
    browser: Browser,  # noqa: F811
    sqlite_nodes: tuple[Started, Started],
) -> None:
    us, cn = sqlite_nodes
    wang = Desk(browser, cn, cn.staff.officer, "en")
    doe = Desk(browser, us, us.staff.reviewer, "en")
    smith = Desk(browser, us, us.staff.officer, "en")
    try:
        for desk in (wang, doe, smith):
            desk.sign_in()
        page = wang.page
        page.goto("/cases/new?type=fugitive")
        form = page.locator("form.case-form")
        form.locator('[name="peer"]').select_option("US-DOJ")
        form.locator('[name="title"]').fill("CHEN Xiaoming — embezzlement")
        form.locator('[name="d.name"]').fill("CHEN")
        form.locator('[name="d.forename"]').fill("XIAOMING")
        # the warrant is a row of the notice's warrants, its country chosen from the list
        form.locator('[name="d.arrest_warrants.0.issuing_country"]').select_option("CN")
        form.locator('[name="d.arrest_warrants.0.charge"]').fill("Embezzlement")
        with page.expect_navigation():
            form.locator('button[type="submit"]').click()
        assert "/cases/FUG-CN-" in page.url, page.content()
        reference = page.url.rsplit("/", 1)[-1]

        doe.wait_for_state(reference, "notice")
        doe.act(reference, "begin_review", {})
        doe.wait_for_state(reference, "under_review")
        doe.act(
            reference,
            "record_review",
            {
                "reviewer": "J. Doe",
                "treaty_basis": "UNCAC Art. 44",
                "dual_criminality": True,
                "neutrality_confirmed": True,
                "human_rights_confirmed": True,
                "reasons": "Ordinary corruption offence; fair-trial assurances received.",
            },
        )
        wang.wait_for_state(reference, "accepted")
        wang.act(reference, "request_location", {"leads": "Relatives in Arcadia, CA"})
        smith.wait_for_state(reference, "location_requested")
        smith.act(
            reference,
            "report_located",
            {"place": "Arcadia, CA", "located_on": "2026-10-02", "custody": True},
        )
        smith.wait_for_state(reference, "located")
        smith.act(reference, "arrange_return", {"route": "deportation"})
        smith.wait_for_state(reference, "return_arranged")
        smith.act(
            reference,
            "hand_over",
            {
                "handed_over_on": "2026-11-01",
                "place": "Beijing Capital Airport",
                "receiving_officers": "MPS escort team",
            },
        )
        wang.wait_for_state(reference, "handed_over")
        actions = [a for _, a, _ in wang.timeline(reference)]
        assert actions == [
            "open",
            "begin_review",
            "record_review",
            "request_location",
            "report_located",
            "arrange_return",
            "hand_over",
        ]
        assert wang.timeline(reference) == doe.timeline(reference)
    finally:
        for desk in (wang, doe, smith):
            desk.close()
