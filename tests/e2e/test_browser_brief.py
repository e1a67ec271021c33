"""In a real browser (Chromium): the briefing pack's "Read as a page", opened from a round held
between two real nodes, is styled under the app's Content-Security-Policy (its own stylesheet,
allowed by its hash) in English and in Chinese, and the browser reports no blocked style."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, ConsoleMessage

from accord.cli import scenarios
from accord.cli.demo import play
from tests.e2e.conftest import Started
from tests.e2e.test_browser import Desk, browser  # noqa: F401  (the browser fixture)

pytestmark = pytest.mark.e2e

OUTCOMES = {"en": "Agreed outcomes", "zh": "商定成果"}
READ = {"en": "Read as a page", "zh": "网页阅读"}


def test_the_briefing_page_is_styled_under_the_policy_in_both_languages(
    browser: Browser,  # noqa: F811
    sqlite_nodes: tuple[Started, Started],
) -> None:
    us, cn = sqlite_nodes
    reference = play(scenarios.ROUND, us.node, cn.node)
    desk = Desk(browser, us, us.staff.officer, "en")
    blocked: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            blocked.append(message.text)

    try:
        desk.sign_in()
        page = desk.page
        page.on("console", watch)
        for lang in ("en", "zh"):
            page.goto(f"/lang/{lang}?next=/dialogue/rounds/{reference}")
            link = page.locator(f'a[href$="/brief?lang={lang}&format=html"]')
            assert link.count() == 1 and link.inner_text() == READ[lang], page.content()
            with page.expect_navigation():
                link.click()
            assert page.url.endswith(f"/brief?lang={lang}&format=html")
            assert OUTCOMES[lang] in page.locator("h2").first.inner_text()
            h1, h2 = page.locator("h1"), page.locator("h2").first
            style = "(e, p) => getComputedStyle(e).getPropertyValue(p)"
            # the browser's own: h1 2em bold, no border under h2; the pack's: 17pt, a blue rule
            assert h1.evaluate(style, "font-size") == "22.6667px"
            assert h2.evaluate(style, "border-bottom-style") == "solid"
            assert h2.evaluate(style, "border-bottom-color") == "rgb(31, 95, 153)"
            assert page.locator("body").evaluate(style, "max-width") != "none"
            policy = page.evaluate(
                "fetch(location.href).then(r => r.headers.get('content-security-policy'))"
            )
            assert "'sha256-" in policy and "'unsafe-inline'" not in policy
        assert blocked == []
    finally:
        desk.close()
