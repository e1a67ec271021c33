"""Officers at work, in a real browser (Chromium, driven by Playwright) on two real nodes.

A US officer signs in with a second factor and opens a legal assistance request; the US legal
reviewer approves it; a CN officer sees it arrive, asks for more information; the US officer
answers and attaches a document, which arrives verified; the CN reviewer accepts; the CN officer
executes and returns evidence. Both sides' timelines then match event for event. The whole flow
runs with the UI in English and in Chinese.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from accord.cli.demo import Officer
from tests.e2e.conftest import Started

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WAIT = 45.0


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        message = "chromium is not installed: `make browser` (as root) or apt-get install chromium"
        if IN_CI:
            pytest.fail(f"the browser tests must run in CI; {message}")
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


class Desk:
    """One officer at their own browser (a separate context: separate cookies)."""

    def __init__(self, browser: Browser, started: Started, officer: Officer, lang: str) -> None:
        self.url = started.node.url
        self.officer = officer
        self.lang = lang
        self.context = browser.new_context(
            base_url=self.url, viewport={"width": 1400, "height": 1000}
        )
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(30_000)

    def sign_in(self) -> None:
        """With the keyboard only: the form focuses the username, Tab moves, Enter sends."""
        page = self.page
        page.goto("/login")
        with page.expect_navigation():
            page.click(f'header a[hreflang="{"zh-Hans" if self.lang == "zh" else "en"}"]')
        page.wait_for_load_state()
        assert page.get_attribute("html", "lang") == ("zh-Hans" if self.lang == "zh" else "en")
        assert page.evaluate("document.activeElement.id") == "username"
        page.keyboard.type(self.officer.username)
        page.keyboard.press("Tab")
        page.keyboard.type(self.officer.password)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "/login/enrol" in page.url, page.content()
        assert page.locator("figure.qr svg").count() == 1
        secret = page.get_attribute("#totp-secret", "data-secret")
        assert secret
        page.fill("#code", pyotp.TOTP(secret).now())
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url.rstrip("/") == self.url, page.url

    def open_mla(self, title: str) -> str:
        page = self.page
        page.goto("/cases/new?type=mla")
        form = page.locator("form.case-form")
        form.locator('[name="peer"]').select_option("CN-MOJ")
        form.locator('[name="title"]').fill(title)
        form.locator('[name="d.assistance"][value="bank_records"]').check()
        form.locator('[name="d.offence"]').fill("Wire fraud and money laundering")
        form.locator('[name="d.legal_basis"]').fill("US-PRC MLAA (2000)")
        with page.expect_navigation():
            form.locator('button[type="submit"]').click()
        assert "/cases/MLA-US-" in page.url, page.content()
        return page.url.rsplit("/", 1)[-1]

    def act(self, reference: str, action: str, fields: dict[str, Any]) -> None:
        page = self.page
        page.goto(f"/cases/{reference}")
        box = page.locator(f'details.action:has(form[data-action="{action}"])')
        assert box.count() == 1, f"{self.officer.username} has no form for {action}"
        if box.get_attribute("open") is None:
            box.locator("summary").click()
        form = box.locator("form")
        for name, value in fields.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                for i, row in enumerate(value):  # repeatable rows, one input per column
                    for column, cell in row.items():
                        found = form.locator(f'[name="{action}.{name}.{i}.{column}"]')
                        if found.evaluate("e => e.tagName") == "SELECT":
                            found.select_option(str(cell))
                        else:
                            found.fill(str(cell))
                continue
            control = form.locator(f'[name="{action}.{name}"]')
            if control.first.evaluate("e => e.tagName") == "SELECT":
                control.select_option(str(value))
            elif value is True:
                control.check()
            elif isinstance(value, list):
                for item in value:
                    form.locator(f'[name="{action}.{name}"][value="{item}"]').check()
            else:
                control.fill(str(value))
        with page.expect_navigation():
            form.locator('button[type="submit"]').click()
        alert = page.locator(f'form[data-action="{action}"] .alert')
        assert alert.count() == 0, alert.inner_text()

    def attach(self, reference: str, filename: str, content: bytes) -> str:
        """Attach a file from the case page; return the SHA-256 the page shows for it."""
        page = self.page
        page.goto(f"/cases/{reference}")
        form = page.locator("form.attach")
        form.locator("#attach-file").set_input_files(
            {"name": filename, "mimeType": "application/pdf", "buffer": content}
        )
        form.locator("#attach-description").fill("Account opening form")
        with page.expect_navigation():
            form.locator('button[type="submit"]').click()
        item = page.locator("ul.attachments li", has_text=filename).first
        return str(item.get_attribute("data-sha256"))

    def wait_for_file(self, reference: str, sha: str) -> None:
        """Wait until the file has arrived, verified, and download it: the bytes must match."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            self.page.goto(f"/cases/{reference}")
            link = self.page.locator(f'ul.attachments li[data-sha256="{sha}"] a')
            if link.count():
                response = self.page.request.get(str(link.first.get_attribute("href")))
                assert response.ok and hashlib.sha256(response.body()).hexdigest() == sha
                return
            time.sleep(0.3)
        raise AssertionError(f"{self.url}: file {sha} did not arrive")

    def wait_for_state(self, reference: str, state: str) -> None:
        deadline = time.monotonic() + WAIT
        seen = None
        while time.monotonic() < deadline:
            response = self.page.goto(f"/cases/{reference}")
            if response is not None and response.ok:
                seen = self.page.get_attribute("#case-state", "data-state")
                if seen == state:
                    return
            time.sleep(0.3)
        raise AssertionError(f"{self.url}: {reference} stayed {seen}, expected {state}")

    def timeline(self, reference: str) -> list[tuple[str, str, str]]:
        self.page.goto(f"/cases/{reference}")
        events = self.page.locator("li.event")
        return [
            (
                str(events.nth(i).get_attribute("data-seq")),
                str(events.nth(i).get_attribute("data-action")),
                str(events.nth(i).get_attribute("data-hash")),
            )
            for i in range(events.count())
        ]

    def close(self) -> None:
        self.context.close()


def review(name: str) -> dict[str, Any]:
    return {
        "reviewer": name,
        "treaty_basis": "US-PRC MLAA (2000), Art. 1",
        "dual_criminality": True,
        "neutrality_confirmed": True,
        "reasons": "Ordinary fraud; no political character; proportionate.",
    }


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_officers_move_an_mla_request_between_two_nodes(
    browser: Browser, sqlite_nodes: tuple[Started, Started], lang: str
) -> None:
    us, cn = sqlite_nodes
    desks = {
        "smith": Desk(browser, us, us.staff.officer, lang),
        "doe": Desk(browser, us, us.staff.reviewer, lang),
        "wang": Desk(browser, cn, cn.staff.officer, lang),
        "li": Desk(browser, cn, cn.staff.reviewer, lang),
    }
    try:
        for desk in desks.values():
            desk.sign_in()
        smith, doe, wang, li = (desks[n] for n in ("smith", "doe", "wang", "li"))

        reference = smith.open_mla("Bank records, Operation Lotus")
        smith.act(reference, "send_to_review", {"note": "Draft complete"})
        doe.act(reference, "approve_and_submit", review("J. Doe"))
        smith.wait_for_state(reference, "submitted")

        # The CN officer sees it arrive: in the case list and in their queue.
        wang.wait_for_state(reference, "submitted")
        wang.page.goto("/cases")
        assert wang.page.locator(f'tr[data-reference="{reference}"]').count() == 1
        wang.page.goto("/")
        assert wang.page.locator(f'#queue tr[data-reference="{reference}"]').count() == 1

        wang.act(reference, "acknowledge", {"note": "Received"})
        wang.wait_for_state(reference, "received")
        wang.act(reference, "begin_review", {})
        wang.wait_for_state(reference, "under_review")
        wang.act(reference, "request_more_info", {"questions": "Which accounts, which period?"})
        smith.wait_for_state(reference, "more_info")
        smith.act(reference, "provide_info", {"answers": "Accounts 6222 0000 1111, 2025 H1."})
        document = b"%PDF-1.4 account opening form " + os.urandom(4096)
        sha = smith.attach(reference, "account-opening.pdf", document)
        assert sha == hashlib.sha256(document).hexdigest()
        wang.wait_for_file(reference, sha)
        li.wait_for_state(reference, "under_review")
        li.act(reference, "accept", review("李律师"))
        wang.wait_for_state(reference, "accepted")
        wang.act(reference, "begin_execution", {})
        wang.wait_for_state(reference, "in_execution")
        evidence = [{"description": "Statements of account 6222 0000 1111", "handling_code": "H1"}]
        wang.act(
            reference,
            "return_evidence",
            {"items": evidence, "outstanding": "The witness statement."},
        )
        wang.wait_for_state(reference, "partially_executed")
        wang.act(reference, "complete_execution", {"summary": "All records provided."})
        wang.wait_for_state(reference, "executed")
        smith.wait_for_state(reference, "executed")

        ours, theirs = smith.timeline(reference), wang.timeline(reference)
        assert len(ours) == 12  # with the attachment
        assert ours == theirs
        assert [a for _, a, _ in ours][-3:] == [
            "begin_execution", "return_evidence", "complete_execution",
        ]  # fmt: skip

        page = smith.page  # on the case page, in the chosen language, evidence listed
        assert page.locator("ul.attachments li", has_text="Statements").count() == 1
        label = "要求补充材料" if lang == "zh" else "Request more information"
        assert page.locator('li.event[data-action="request_more_info"] .what').inner_text() == label
        assert page.get_attribute("html", "lang") == ("zh-Hans" if lang == "zh" else "en")
    finally:
        for desk in desks.values():
            desk.close()
