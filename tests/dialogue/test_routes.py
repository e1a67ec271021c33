"""The dialogue API: a coordinator opens a round, records outcomes, reads the briefing pack; the
guest node receives the round."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accord.accounts.service import create_user, issue_token
from accord.app import create_app
from accord.config import Settings
from accord.core.permissions import Role
from accord.dialogue import service
from tests.helpers import Node, make_node, peer_up, pump


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, Node, Node]]:
    us = make_node(tmp_path, f"sqlite:///{tmp_path / 'us.db'}", "US-DOJ", "US")
    cn = make_node(tmp_path, f"sqlite:///{tmp_path / 'cn.db'}", "CN-MOJ", "CN")
    peer_up(us, cn)
    with us.runtime.transaction() as session:
        user = create_user(
            session,
            username="dora",
            display_name="Dora Coordinator",
            role=Role.DIALOGUE_COORDINATOR,
            unit="central-authority",
            password="correct horse battery staple",
        )
        token = issue_token(session, name="test", user=user)
    app = create_app(
        Settings(
            data_dir=tmp_path / "US-DOJ",
            database_url=f"sqlite:///{tmp_path / 'us.db'}",
            run_workers=False,
        )
    )
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client, us, cn
    us.runtime.close()
    cn.runtime.close()


ROUND = {
    "peer": "CN-MOJ",
    "mechanism": "law_enforcement_cyber",
    "number": 4,
    "starts_on": "2026-11-29",
    "venue": "Washington, D.C.",
    "host_cochair": "Deputy Attorney General",
    "guest_cochair": "Vice Minister",
}


def test_a_coordinator_runs_a_round_through_the_api(api: tuple[TestClient, Node, Node]) -> None:
    client, us, cn = api
    opened = client.post("/api/v1/dialogue/rounds", json=ROUND)
    assert opened.status_code == 201, opened.text
    reference = opened.json()["reference"]
    assert opened.json()["mechanism_zh"] == "执法及网络安全对话"
    steps = [
        ("hold", {"held_on": "2026-11-29"}),
        (
            "record_outcome",
            {
                "outcome_id": "O1",
                "text_en": "Exchange points of contact.",
                "text_zh": "交换联络人。",
                "area": "cybercrime",
                "owner": "requested",
                "due": "2027-01-31",
            },
        ),
    ]
    for action, payload in steps:
        done = client.post(
            f"/api/v1/dialogue/rounds/{reference}/actions",
            json={"action": action, "payload": payload},
        )
        assert done.status_code == 200, done.text
        assert done.json()["pending"] is False  # the host sequences its round
    [outcome] = client.get(f"/api/v1/dialogue/rounds/{reference}").json()["outcomes"]
    assert outcome["owner"] == "CN-MOJ" and outcome["status"] == "agreed"
    page = client.get(f"/api/v1/dialogue/rounds/{reference}/brief?lang=zh")
    assert page.status_code == 200 and "交换联络人。" in page.text
    pump(us, cn)
    with cn.runtime.reading() as session:
        assert service.get_round(session, reference).outcomes[0].text_zh == "交换联络人。"


def test_bad_rounds_are_refused_with_the_reason(api: tuple[TestClient, Node, Node]) -> None:
    client, _, _ = api
    unknown = client.post("/api/v1/dialogue/rounds", json=ROUND | {"mechanism": "trade"})
    assert unknown.status_code == 404
    assert "no active dialogue mechanism 'trade'" in unknown.json()["message"]
    backwards = client.post("/api/v1/dialogue/rounds", json=ROUND | {"ends_on": "2026-11-01"})
    assert backwards.status_code == 422
    assert "cannot end before it starts" in backwards.json()["message"]
    added = client.post(
        "/api/v1/dialogue/mechanisms", json={"code": "trade", "en": "Trade", "zh": "贸易"}
    )
    assert added.status_code == 201
    assert (
        client.post("/api/v1/dialogue/rounds", json=ROUND | {"mechanism": "trade"}).status_code
        == 201
    )
    assert [m["code"] for m in client.get("/api/v1/dialogue/mechanisms").json()][-1] == "trade"
    wrong = client.post(
        "/api/v1/dialogue/rounds/MLA-US-2026-000001/actions", json={"action": "hold", "payload": {}}
    )
    assert wrong.status_code == 404
