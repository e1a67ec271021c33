"""`accord demo`'s history and process handling, on real nodes.

- A stretch of the planned history played through both nodes' services: every case's two logs
  verify as identical over HTTP, and the scorecard of the period has figures an official reads
  (a backlog, response times above zero, refusals) — not the zeros of a demo without history.
- The demo as a process started in the background (SIGINT ignored, as a shell does it): SIGTERM
  stops both node servers; the briefing pack is inside --workdir; the sign-in lines name each
  role and the authenticator enrolment.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from accord.cli import history
from accord.cli.demo import DEMO_STAFF, case_on, pin, prepare_node, start_node
from accord.core.clock import utcnow
from accord.dialogue.scorecard import money

OFFICERS = {country: (people[0][1], people[1][1]) for country, people in DEMO_STAFF.items()}


def test_plan_is_seeded_and_has_every_type() -> None:
    end = utcnow()
    first, again = history.plan_year(7, end), history.plan_year(7, end)
    assert [(p.opening["title"], p.opened_at) for p in first] == [
        (p.opening["title"], p.opened_at) for p in again
    ]
    assert {p.opening["case_type"] for p in first} == {
        "mla",
        "fugitive",
        "asset",
        "removal",
        "intel",
        "cyber",
    }
    assert 150 <= len(first) <= 320
    actions = [s.action for p in first for _, s in p.steps]
    assert "refuse" in actions and "withdraw" in actions
    for plan in first:
        moments = [plan.opened_at, *(m for m, _ in plan.steps)]
        assert moments == sorted(moments), plan.opening["title"]
        assert moments[-1] < end
        assert plan.opened_at > end - timedelta(days=366)


def test_the_registry_holds_the_tours_confirmed_persons_not_the_denied_one() -> None:
    """The tour's removal batch meets records on CN, so its table shows proposals: LIN Hui and
    HUANG Jun (whom the script confirms) are held, WU Ming (whom it denies) is not added."""
    cn = history.records_for(history.plan_year(7, utcnow()), 7)["CN"]
    held = {(r["name"], r["birth_date"]) for r in cn}
    assert ("HUANG Jun", "1987-06-14") in held  # the batch says 1987, the registry a day
    assert ("WU Ming", "1995-06-14") not in held
    (lin,) = [r for r in cn if r["name"] == "LIN Hui" and r["birth_date"] == "1990-02-03"]
    assert lin["passport_number"] == "E12345678" and lin["name_native"] == "林慧"


def test_history_verifies_and_fills_the_scorecard(
    tmp_path: Path, database_url: Callable[[str], str]
) -> None:
    us_settings, us_card, us_staff = prepare_node(tmp_path, "US-DOJ", "US", database_url("us"))
    cn_settings, cn_card, cn_staff = prepare_node(tmp_path, "CN-MOJ", "CN", database_url("cn"))
    pin(us_settings, cn_card, us_card.name)
    pin(cn_settings, us_card, cn_card.name)
    year = history.play_year(us_settings, cn_settings, seed=3, officers=OFFICERS, days=60)
    assert year.cases >= 20
    nodes = [start_node(us_settings, us_card, us_staff, tmp_path)]
    try:
        nodes.append(start_node(cn_settings, cn_card, cn_staff, tmp_path))
        us, cn = nodes
        for references in year.references.values():
            for reference in references:
                if case_on(cn, reference) is None or case_on(us, reference) is None:
                    assert not (case_on(us, reference) or case_on(cn, reference))["shared"]
                    continue  # a draft, not sent yet
                for node in nodes:
                    check = node.get(f"/api/v1/cases/{reference}/verify")
                    assert check["identical"], (reference, check["explanation"])
                assert us.get(f"/api/v1/cases/{reference}/log") == cn.get(
                    f"/api/v1/cases/{reference}/log"
                )
        card = us.get("/api/v1/dialogue/scorecard")
        sides = card["areas"]["all"]
        theirs = cn.get("/api/v1/dialogue/scorecard")["areas"]["all"]
        for side in ("US-DOJ", "CN-MOJ"):  # the same logs, the same counts on both nodes
            mine, other = sides[side]["current"]["received"], theirs[side]["current"]["received"]
            assert (mine["value"], sorted(mine["cases"])) == (
                other["value"],
                sorted(other["cases"]),
            )
        for side in ("US-DOJ", "CN-MOJ"):
            now = sides[side]["current"]
            assert now["received"]["value"] > 0, side
            assert sum(b["value"] for b in now["backlog"].values()) > 0, side
            assert now["first_response_median_days"]["value"] > 0.01, side
        # the year is dated across its days, not all now
        log = us.get(f"/api/v1/cases/{year.references['mla'][0]}/log")
        days = {event["occurred_at"][:10] for event in log}
        assert len(days) > 1, log
    finally:
        for node in nodes:
            node.stop()


def _open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_demo_in_the_background_stops_on_a_signal(tmp_path: Path, stop: signal.Signals) -> None:
    workdir = tmp_path / "demo"
    out = (tmp_path / "out.txt").open("wb")

    def background() -> None:  # what `accord demo --serve &` gets from a shell
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "accord",
            "demo",
            "--no-history",
            "--serve",
            "--workdir",
            str(workdir),
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=background,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )
    text = ""
    try:
        deadline = time.monotonic() + 300
        while "stops both nodes" not in text:
            assert process.poll() is None, (tmp_path / "out.txt").read_text()
            assert time.monotonic() < deadline, text
            time.sleep(0.5)
            text = (tmp_path / "out.txt").read_text()
        ports = [int(p) for p in re.findall(r"http://127\.0\.0\.1:(\d+)/login", text)]
        assert len(ports) == 2 and all(_open(p) for p in ports), text
        for role in (
            "Liaison officer",
            "Legal reviewer",
            "Dialogue coordinator",
            "Administrator",
            "Auditor",
        ):
            assert text.count(role) == 2, role
        assert "authenticator" in text
        assert (
            sorted(p.name for p in (workdir / "brief").iterdir())
            == sorted(p.name for p in (workdir / "brief").glob("RND-*"))
            and len(list((workdir / "brief").iterdir())) == 3
        )
        assert not (tmp_path / "build").exists()
        # a password printed is the one that signs in
        smith = re.search(r"smith\s+password (\S+)", text)
        assert smith, text
        with httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}") as web:
            form = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/login").text)
            assert form, "no CSRF token on the sign-in page"
            login = web.post(
                "/login",
                data={"username": "smith", "password": smith.group(1), "csrf_token": form[1]},
            )
        assert login.status_code == 303 and "/login/enrol" in login.headers["location"], login
        process.send_signal(stop)
        assert process.wait(60) == 0
        text = (tmp_path / "out.txt").read_text()
        assert f"stopped ({stop.name})" in text
        assert re.search(r"\d+ cases identical on US-DOJ and CN-MOJ", text.splitlines()[-1])
        assert not any(_open(p) for p in ports), text
    finally:
        if process.poll() is None:
            process.kill()
        out.close()


def test_amounts_read_as_money_in_both_languages() -> None:
    assert money("2500000.50", "USD") == "USD 2,500,000.50"
    assert money("2500000.5", "USD", "zh") == "2,500,000.50 美元"
    assert money("1234", "CNY", "zh") == "1,234.00 人民币"
    assert money("0.1234", "EUR") == "EUR 0.1234"
