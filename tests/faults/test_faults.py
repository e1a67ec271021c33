"""The fault-injection suite, bounded for CI: two node processes behind a proxy that drops,
delays, duplicates and reorders, with kills, clock skew, a full disk and (on PostgreSQL) a
database outage; then the invariants, and no secret in any log line.
`make faults` runs the same at full size (tests/faults/run.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.faults.harness import US, FaultPlan, run
from tests.faults.proxy import FaultRates, ProxyPair

CI_PLAN = FaultPlan(events=300, kills=3, phase_seconds=3.0, heal_timeout=150.0, seed=11)


@pytest.mark.e2e
def test_nothing_is_lost_or_applied_twice_under_faults(
    tmp_path: Path, database_urls: tuple[str | None, str | None]
) -> None:
    summary = run(CI_PLAN, tmp_path, database_urls)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    assert summary["violations"] == []
    assert summary["lost"] == 0 and summary["duplicated"] == 0
    assert summary["identical_logs"] and summary["cases_identical"] == summary["cases"]
    assert summary["events_sent"] >= CI_PLAN.events  # and those of the fault phases
    assert summary["kills"] == CI_PLAN.kills and summary["unexpected_exits"] == 0
    assert min(summary[k] for k in ("drops", "duplicates", "reorders", "delays")) > 0
    quarantined = summary["quarantined"]
    assert quarantined["with_reason"] == quarantined["total"]
    # CN-MOJ's clock runs 120 s ahead throughout, inside the 300 s window: nothing refused for
    # it; its worker's 400 s phase was refused by US-DOJ, with the reason, and then healed.
    skew_reasons = [r for r in quarantined["reasons"] if "window" in r]
    assert quarantined["refused_for_clock_skew"] > 0
    assert skew_reasons and all(r.startswith(US) for r in skew_reasons), skew_reasons
    # US-DOJ rotated its keys mid-run, its processes on the old keys for a while: CN-MOJ
    # pinned the new ones and refused nothing for a signature or a body it could not open
    rotation = summary["key_rotation"]
    assert rotation and rotation["new"] != rotation["previous"]
    assert not [r for r in quarantined["reasons"] if "signature" in r or "decrypt" in r]
    # On PostgreSQL both nodes lost their database for a phase: /livez went on, /healthz said
    # 503 naming the database, nothing crashed, and it healed; no log line showed the
    # database password or a token (SQLite: only the latter).
    if summary["store"] == "postgresql":
        down = summary["database_outage"]["health_while_down"]
        assert any(k == "livez 200, healthz 503 (database)" for k in down), down
    assert summary["logs"]["secrets_found"] == []
    assert summary["full_disk"]["method"] in ("tmpfs", "read-only blob folder")
    assert summary["attachments_missing"] == 0


# -- the proxy itself -------------------------------------------------------------------------


class Upstream(ThreadingHTTPServer):
    bodies: list[bytes]


class Recorder(BaseHTTPRequestHandler):
    server: Upstream

    def do_POST(self) -> None:
        self.server.bodies.append(self.rfile.read(int(self.headers["content-length"])))
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream(("127.0.0.1", 0), Recorder)
    server.bodies = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def proxied(upstream: Upstream, rates: FaultRates) -> Iterator[tuple[ProxyPair, str]]:
    pair = ProxyPair(rates, seed=1)
    pair.start({"peer": f"http://127.0.0.1:{upstream.server_address[1]}"})
    try:
        yield pair, pair.proxies["peer"].url + "/federation/v1/envelopes"
    finally:
        pair.stop()


BATCH = {"envelopes": [{"id": n} for n in range(6)]}


def test_proxy_duplicates_a_request(upstream: Upstream) -> None:
    for pair, url in proxied(upstream, FaultRates(duplicate=1.0)):
        assert httpx.post(url, json=BATCH).status_code == 200
        assert len(upstream.bodies) == 2 and pair.counts()["duplicates"] == 1


def test_proxy_drops_a_request_or_its_answer(upstream: Upstream) -> None:
    for pair, url in proxied(upstream, FaultRates(drop=1.0)):
        for _ in range(4):
            with pytest.raises(httpx.HTTPError):
                httpx.post(url, json=BATCH)
        counts = pair.counts()
        assert counts["drops"] == 4
        assert len(upstream.bodies) == counts["dropped_answers"]


def test_proxy_reorders_a_batch_and_replays_it_late(upstream: Upstream) -> None:
    for pair, url in proxied(upstream, FaultRates(reorder=1.0)):
        httpx.post(url, json=BATCH)
        first = json.loads(upstream.bodies[0])["envelopes"]
        assert first != BATCH["envelopes"] and sorted(e["id"] for e in first) == list(range(6))
        pair.rates.reorder = 0.0
        for _ in range(10):
            httpx.post(url, json={"envelopes": [{"id": 99}]})
        late = [json.loads(b) for b in upstream.bodies[2:]]
        assert BATCH in late  # the original batch, again, after newer ones


def test_proxy_passes_everything_untouched_once_healed(upstream: Upstream) -> None:
    for pair, url in proxied(upstream, FaultRates(drop=1.0, duplicate=1.0, reorder=1.0)):
        pair.set_active(False)
        assert httpx.post(url, json=BATCH).status_code == 200
        assert [json.loads(b) for b in upstream.bodies] == [BATCH]
