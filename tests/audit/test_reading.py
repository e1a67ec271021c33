"""Reading the audit log: one query for the API and the web page, filtered and paged, and every
read of it recorded in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accord.app import create_app
from accord.audit import service as audit
from accord.composition import assemble
from accord.config import Settings
from accord.core.permissions import Role
from accord.federation.node import init_node
from accord.runtime import Runtime
from tests.helpers import role_tokens


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    settings = Settings(data_dir=tmp_path / "n")
    init_node(settings, name="US-DOJ", country="US", endpoint="http://127.0.0.1:9")
    runtime = Runtime.open(settings, assemble())
    with runtime.transaction() as s:
        yield s
    runtime.close()


def test_the_log_is_read_newest_first_filtered_and_paged(session: Session) -> None:
    for n in range(6):
        audit.record(
            session, actor="alice" if n % 2 else "bob", action=f"case.step{n}", outcome="ok"
        )
    audit.record(session, actor="alice", action="login", outcome="ok")
    ids = [e.id for e in audit.read_log(session, reader="audrey", remote_addr=None, limit=7)]
    assert ids == sorted(ids, reverse=True)
    by_alice = audit.read_log(session, reader="audrey", remote_addr=None, actor="alice")
    assert {e.actor for e in by_alice} == {"alice"} and len(by_alice) == 4
    steps = audit.read_log(
        session, reader="audrey", remote_addr=None, actor="alice", action="case."
    )
    assert [e.action for e in steps] == ["case.step5", "case.step3", "case.step1"]
    older = audit.read_log(
        session, reader="audrey", remote_addr=None, action="case.", before=steps[0].id
    )
    assert [e.action for e in older] == [f"case.step{n}" for n in (4, 3, 2, 1, 0)]
    second_page = audit.read_log(
        session, reader="audrey", remote_addr=None, action="case.", offset=2, limit=2
    )
    assert [e.action for e in second_page] == ["case.step3", "case.step2"]


def test_each_read_is_recorded_after_the_query_and_keeps_the_chain(session: Session) -> None:
    audit.record(session, actor="alice", action="login", outcome="ok")
    first = audit.read_log(session, reader="audrey", remote_addr="10.0.0.7")
    assert [e.action for e in first] == ["login"]  # the read does not list itself
    second = audit.read_log(session, reader="audrey", remote_addr="10.0.0.7")
    assert [(e.actor, e.action, e.remote_addr) for e in second] == [
        ("audrey", "audit.read", "10.0.0.7"),
        ("alice", "login", None),
    ]
    assert audit.count_entries(session) == 3
    assert audit.verify(session) == []


def test_an_auditor_reading_the_log_through_the_api_is_audited(tmp_path: Path) -> None:
    config = Settings(data_dir=tmp_path / "node", run_workers=False)
    init_node(config, name="US-DOJ", country="US", endpoint="http://127.0.0.1:9")
    app = create_app(config)
    with TestClient(app) as client:
        with app.state.runtime.transaction() as s:
            tokens = role_tokens(s, [Role.AUDITOR], prefix="a", unit=config.intake_unit)
        headers = {"Authorization": f"Bearer {tokens[Role.AUDITOR]}"}
        first = client.get("/api/v1/audit", headers=headers)
        assert first.status_code == 200
        assert all(e["action"] != "audit.read" for e in first.json())
        newest = client.get("/api/v1/audit?limit=1", headers=headers).json()
    assert [(e["actor"], e["action"], e["outcome"]) for e in newest] == [
        ("a-auditor", "audit.read", "ok")
    ]
