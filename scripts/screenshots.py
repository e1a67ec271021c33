"""Screenshots of the main web pages in English and Chinese, for the README.

Starts the two demo nodes (US-DOJ, CN-MOJ) on loopback with the demo's year of history (as
`accord demo` fills them), plays the demo cases and one legal assistance request that is waiting
for more information, signs in as the US liaison officer and as an administrator in Chromium,
and writes PNGs into docs/screenshots/: the pages, the scorecard (Dialogue), a removal batch
just received on CN-MOJ and a fugitive notice just received on US-DOJ with their screening
proposals (removal-, fugitive-<lang>.png), and the round's briefing pack, page by page
(brief-<lang>-<n>.png).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pyotp
import pypdfium2  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, sync_playwright

from accord.accounts.passwords import generate_password
from accord.accounts.service import create_user
from accord.cli import scenarios
from accord.cli.demo import (
    RunningNode,
    case_on,
    link_outcome,
    pin,
    play,
    play_history,
    prepare_node,
    start_node,
    wait_for,
    write_briefs,
)
from accord.config import Settings
from accord.core.db import make_engine, session_factory, unit_of_work
from accord.core.permissions import Role

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def add_admin(settings: Settings) -> tuple[str, str]:
    password = generate_password(username="ada", display_name="Node administrator")
    engine = make_engine(settings.resolved_database_url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            create_user(
                session,
                username="ada",
                display_name="Node administrator",
                role=Role.ADMINISTRATOR,
                unit=settings.intake_unit,
                password=password,
            )
    finally:
        engine.dispose()
    return "ada", password


def sign_in(browser: Browser, url: str, username: str, password: str) -> Page:
    page = browser.new_context(
        base_url=url, viewport={"width": 1360, "height": 900}, device_scale_factor=1
    ).new_page()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.press("#password", "Enter")
    secret = page.get_attribute("#totp-secret", "data-secret")
    assert secret, "expected the first sign-in to enrol a second factor"
    page.fill("#code", pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.press("#code", "Enter")
    return page


def shoot(
    page: Page, path: str, out: Path, name: str, lang: str, *, open_diagram: bool = False
) -> None:
    page.goto(f"/lang/{lang}?next={path}")
    if open_diagram:
        page.locator("details.diagram").evaluate("details => { details.open = true; }")
    target = out / f"{name}-{lang}.png"
    page.screenshot(path=str(target), full_page=True)
    print(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed: apt-get install chromium fonts-noto-cjk")
    root = Path(tempfile.mkdtemp(prefix="accord-screens-"))
    nodes: list[RunningNode] = []
    try:
        us_settings, us_card, us_staff = prepare_node(root, "US-DOJ", "US")
        cn_settings, cn_card, cn_staff = prepare_node(root, "CN-MOJ", "CN")
        admin = add_admin(us_settings)
        pin(us_settings, cn_card, us_card.name)
        pin(cn_settings, us_card, cn_card.name)
        play_history(us_settings, cn_settings, 2026)
        us = start_node(us_settings, us_card, us_staff, root)
        nodes.append(us)
        cn = start_node(cn_settings, cn_card, cn_staff, root)
        nodes.append(cn)
        played = [play(scenario, us, cn) for scenario in scenarios.ALL]
        types = [sc.opening["case_type"] for sc in scenarios.ALL]
        round_reference = played[types.index("round")]
        link_outcome(us, cn, round_reference, played[types.index("mla")])
        for pdf in write_briefs(us, round_reference, root / "brief"):
            if pdf.suffix == ".pdf":
                lang = pdf.stem.rsplit("-", 1)[1]
                document = pypdfium2.PdfDocument(pdf)
                for i in range(len(document)):
                    target = out / f"brief-{lang}-{i + 1}.png"
                    document[i].render(scale=1.25).to_pil().save(target)
                    print(target)
                document.close()
        asked = [s.action for s in scenarios.MLA_STEPS].index("request_more_info") + 1
        waiting = replace(
            scenarios.MLA,
            opening={**scenarios.MLA_OPENING, "title": "Bank records, Operation Jade Harbour"},
            steps=scenarios.MLA_STEPS[:asked],
            final_state="more_info",
        )
        reference = play(waiting, us, cn)
        # a removal batch and a fugitive notice just received, so that their screening
        # proposals (against the records the history loaded) wait for an officer's decision
        batch = us.post("/api/v1/cases", {**scenarios.REMOVAL.opening, "peer": cn.name})[
            "reference"
        ]
        notice = cn.post("/api/v1/cases", {**scenarios.FUGITIVE.opening, "peer": us.name})[
            "reference"
        ]
        wait_for(lambda: case_on(cn, batch), f"{cn.name} to receive {batch}")
        wait_for(lambda: case_on(us, notice), f"{us.name} to receive {notice}")
        time.sleep(5)  # screening on receipt runs in the nodes' workers
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
            officer = sign_in(browser, us.url, us_staff.officer.username, us_staff.officer.password)
            administrator = sign_in(browser, us.url, *admin)
            requested = sign_in(
                browser, cn.url, cn_staff.officer.username, cn_staff.officer.password
            )
            for lang in ("en", "zh"):
                shoot(officer, "/", out, "dashboard", lang)
                shoot(officer, "/cases", out, "cases", lang)
                shoot(officer, "/dialogue?days=365", out, "dialogue", lang)
                shoot(officer, f"/cases/{reference}", out, "case", lang, open_diagram=True)
                shoot(administrator, "/users", out, "users", lang)
                shoot(requested, f"/cases/{batch}", out, "removal", lang)
                shoot(officer, f"/cases/{notice}", out, "fugitive", lang)
            browser.close()
    finally:
        for node in nodes:
            node.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
