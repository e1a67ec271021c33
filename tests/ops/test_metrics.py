"""/metrics: guarded (loopback or the metrics token), per route template not per raw path, the
outbox per peer from the database, and prometheus-client's multiprocess mode adding up the
measurements of several processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from accord.app import create_app
from accord.cli.scenarios import MLA_STEPS
from accord.federation import outbox
from accord.federation.models import OutboxItem
from tests.helpers import Node, act, open_mla

TOKEN = "metrics-token-for-the-test"


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the exposition, or None."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, value = line.rsplit(" ", 1)
        found = dict(re.findall(r'(\w+)="([^"]*)"', head))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return None


def test_metrics_need_the_token_and_count_routes_and_the_outbox_per_peer(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    settings = us.runtime.settings.model_copy(update={"metrics_token": TOKEN, "run_workers": False})
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer not-it"})
        assert wrong.status_code == 401
        reference = open_mla(us, cn.name)
        for step in MLA_STEPS[:2]:
            act(us, reference, step.action, step.payload)
        client.get(f"/api/v1/cases/{reference}")
        client.get("/api/v1/cases/MLA-US-2026-999999")
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert scraped.status_code == 200
        text = scraped.text
        with us.runtime.reading() as session:
            waiting = outbox.counts(session)["pending"]
        assert waiting >= 1 and sample(text, "accord_outbox_pending", peer=cn.name) == waiting
        assert (sample(text, "accord_outbox_oldest_pending_seconds", peer=cn.name) or -1) >= 0
        # Two raw paths, one route template: no label per case reference.
        count = sample(
            text,
            "accord_http_request_duration_seconds_count",
            route="/api/v1/cases/{reference}",
            status="401",
        )
        assert count is not None and count >= 2
        assert reference not in text
        # Delivered two seconds after it was written (as delivery records it): the latency.
        with us.runtime.transaction() as session:
            for item in session.scalars(select(OutboxItem).where(OutboxItem.status == "pending")):
                item.status, item.delivered_at = "delivered", item.created_at + timedelta(seconds=2)
        after = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
        assert sample(after, "accord_outbox_pending", peer=cn.name) is None
        assert sample(after, "accord_delivered_recent", peer=cn.name) == waiting
        mean = sample(after, "accord_delivery_latency_seconds", peer=cn.name, stat="mean")
        assert mean == 2.0


def test_without_a_token_metrics_answer_loopback_only(pair: tuple[Node, Node]) -> None:
    us, _ = pair
    settings = us.runtime.settings.model_copy(update={"run_workers": False})
    with TestClient(create_app(settings)) as remote:  # TestClient's client is "testclient"
        refused = remote.get("/metrics")
        assert refused.status_code == 403 and "ACCORD_METRICS_TOKEN" in refused.json()["message"]
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as local:
        assert local.get("/metrics").status_code == 200


WRITER = """
from accord.ops import metrics
metrics.process_started()
metrics.observe_request("GET", "/api/v1/cases", 200, 0.01)
metrics.process_stopped()
"""

READER = """
import sys
from accord.composition import assemble
from accord.config import Settings
from accord.runtime import Runtime
from accord.ops import metrics
runtime = Runtime.open(Settings(database_url=sys.argv[1]), assemble())
sys.stdout.write(metrics.exposition(runtime.read_factory).decode())
"""


def test_multiprocess_mode_adds_up_every_process(tmp_path: Path, pair: tuple[Node, Node]) -> None:
    us, _ = pair
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    for _ in range(3):  # three processes, one request each
        subprocess.run([sys.executable, "-c", WRITER], env=env, check=True, timeout=60)
    assert len(list(shared.glob("*.db"))) >= 3
    done = subprocess.run(
        [sys.executable, "-c", READER, us.runtime.settings.resolved_database_url],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    count = sample(done.stdout, "accord_http_request_duration_seconds_count", route="/api/v1/cases")
    assert count == 3, done.stdout
