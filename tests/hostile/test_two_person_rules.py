"""One administrator alone, trying to reach case content through accounts: making an officer
and signing in as it, giving someone a casework role, moving an officer into a unit, silencing
the auditor, approving their own request. Each test is the attack the two-person rule stops,
through the web pages, the API and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accord.accounts import approvals
from accord.accounts import service as accounts
from accord.accounts.models import AccountRequest, User
from accord.app import create_app
from accord.audit.models import AuditEntry
from accord.cli.scenarios import MLA_OPENING
from accord.config import Settings
from accord.core.errors import Conflict
from accord.core.permissions import Role
from accord.federation.node import init_node
from tests.web.conftest import PASSWORD, Web, csrf_of
from tests.web.conftest import web as web  # the fixture, used by name below

MOLE = {
    "username": "mole",
    "display_name": "Officer Mole",
    "role": "liaison_officer",
    "unit": "central-authority",  # the unit that holds the draft
    "language": "en",
    "password": PASSWORD,
}


def _second_admin(web: Web) -> None:
    """Another administrator, beside `root` (and init's `admin`)."""
    with web.us.runtime.transaction() as session:
        accounts.create_user(
            session,
            username="ada",
            display_name="Ada Second",
            role=Role.ADMINISTRATOR,
            unit="administration",
            password=PASSWORD,
        )


def _bearer(web: Web, username: str) -> dict[str, str]:
    with web.us.runtime.transaction() as session:
        token = accounts.issue_token(session, name="t", user=accounts.get_user(session, username))
    return {"Authorization": f"Bearer {token}"}


def _password_only(client: TestClient, username: str, password: str) -> int:
    page = client.get("/login")
    answer = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
    )
    return answer.status_code


def _user(web: Web, username: str) -> User | None:
    with web.us.runtime.reading() as session:
        return session.scalar(select(User).where(User.username == username))


def _audited(web: Web, action: str) -> list[AuditEntry]:
    with web.us.runtime.reading() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _request_id(html: str, username: str) -> str:
    marker = f'data-request-user="{username}" data-status="pending"'
    assert marker in html, html
    before = html[: html.index(marker)]
    return before[before.rindex('data-request="') + len('data-request="') :].split('"')[0]


def test_an_administrator_cannot_make_an_officer_and_read_the_draft_through_it(web: Web) -> None:
    """The issue's attack, on the web pages: root makes a liaison officer in the unit that
    holds a draft, and signs in as it. The account does not exist until another administrator
    approves; root's own approval is refused and audited."""
    _second_admin(web)
    admin = web.client()
    web.sign_in(admin, "root")
    page = admin.get("/users")
    assert 'data-in-force="true"' in page.text
    asked = admin.post("/users", data=MOLE | {"csrf_token": csrf_of(page.text)})
    assert asked.status_code == 200 and "another administrator approves it" in asked.text
    assert _user(web, "mole") is None
    mole = web.client()
    assert _password_only(mole, "mole", MOLE["password"]) == 401  # no such account
    assert mole.get(f"/cases/{web.reference}").url.path == "/login"
    request_id = _request_id(asked.text, "mole")
    assert f"/users/requests/{request_id}/approve" not in asked.text  # not offered to root
    forced = admin.post(
        f"/users/requests/{request_id}/approve", data={"csrf_token": csrf_of(page.text)}
    )
    assert forced.status_code == 403 and "another administrator must approve" in forced.text
    assert _user(web, "mole") is None
    refused = _audited(web, "user.request.approve")
    assert [(e.actor, e.outcome, e.detail["reason"]) for e in refused] == [
        ("root", "refused", "own request")
    ]
    # A second administrator approves: only now does the account exist and sign in.
    second = web.client()
    web.sign_in(second, "ada")
    listed = second.get("/users")
    assert f"/users/requests/{request_id}/approve" in listed.text
    done = second.post(
        f"/users/requests/{request_id}/approve", data={"csrf_token": csrf_of(listed.text)}
    )
    assert done.status_code == 200 and 'data-user="mole"' in done.text
    web.sign_in(mole, "mole")
    assert MLA_OPENING["title"] in mole.get(f"/cases/{web.reference}").text
    entries = _audited(web, "user.request.approved")
    assert [(e.actor, e.detail["requested_by"], e.subject) for e in entries] == [
        ("ada", "root", "mole")
    ]


def test_an_administrator_cannot_approve_their_own_request_through_the_api(web: Web) -> None:
    _second_admin(web)
    root, ada = _bearer(web, "root"), _bearer(web, "ada")
    client = web.client()
    asked = client.post("/api/v1/users", json=MOLE, headers=root)
    assert asked.status_code == 202, asked.text
    body = asked.json()
    assert body["status"] == "pending" and body["requested_by"] == "root"
    assert "password" not in str(body) and "argon2" not in str(body)
    assert "mole" not in {u["username"] for u in client.get("/api/v1/users", headers=root).json()}
    mine = client.post(f"/api/v1/users/requests/{body['id']}/approve", headers=root)
    assert mine.status_code == 403 and "another administrator" in mine.json()["message"]
    assert _user(web, "mole") is None
    again = client.post("/api/v1/users", json=MOLE, headers=root)
    assert again.status_code == 409  # one request per new username at a time
    approved = client.post(f"/api/v1/users/requests/{body['id']}/approve", headers=ada)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == "ada"
    assert _user(web, "mole") is not None
    twice = client.post(f"/api/v1/users/requests/{body['id']}/approve", headers=ada)
    assert twice.status_code == 409
    with web.us.runtime.reading() as session:
        kept = session.get(AccountRequest, UUID(body["id"]))
        assert kept is not None and kept.password_hash is None  # not kept once decided


def test_one_administrator_cannot_grant_a_casework_role(web: Web) -> None:
    """Root makes the auditor a liaison officer (API), then moves her (web): neither takes
    effect until another administrator approves; the auditor still reads no case."""
    _second_admin(web)
    root, audrey = _bearer(web, "root"), _bearer(web, "audrey")
    client = web.client()
    asked = client.put("/api/v1/users/audrey/role", json={"role": "liaison_officer"}, headers=root)
    assert asked.status_code == 202 and asked.json()["detail"] == {
        "role": "liaison_officer",
        "from": "auditor",
    }
    assert client.get("/api/v1/cases", headers=audrey).status_code == 403
    mine = client.post(f"/api/v1/users/requests/{asked.json()['id']}/approve", headers=root)
    assert mine.status_code == 403
    user = _user(web, "audrey")
    assert user is not None and user.role == "auditor"
    # The same through the web page: the coordinator made a liaison officer of another unit,
    # two requests, neither done, neither approvable by root.
    admin = web.client()
    web.sign_in(admin, "root")
    page = admin.get("/users")
    moved = admin.post(
        "/users/dora/change",
        data={"role": "liaison_officer", "unit": "cybercrime", "csrf_token": csrf_of(page.text)},
    )
    assert moved.status_code == 200 and "another administrator approves it" in moved.text
    assert moved.text.count('data-request-user="dora" data-status="pending"') == 2
    assert "central-authority → cybercrime" in moved.text
    request_id = _request_id(moved.text, "dora")
    forced = admin.post(
        f"/users/requests/{request_id}/approve", data={"csrf_token": csrf_of(page.text)}
    )
    assert forced.status_code == 403
    user = _user(web, "dora")
    assert user is not None and (user.role, user.unit) == (
        "dialogue_coordinator",
        "central-authority",
    )
    # Rejected: nothing changes, and the request can no longer be approved.
    rejected = client.post(
        f"/api/v1/users/requests/{asked.json()['id']}/reject", headers=_bearer(web, "ada")
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    late = client.post(
        f"/api/v1/users/requests/{asked.json()['id']}/approve", headers=_bearer(web, "ada")
    )
    assert late.status_code == 409
    user = _user(web, "audrey")
    assert user is not None and user.role == "auditor"
    assert client.get("/api/v1/cases", headers=audrey).status_code == 403


def test_an_expired_request_does_nothing(web: Web) -> None:
    _second_admin(web)
    lifetime = Settings(account_request_hours=1 / 3600).account_request_lifetime  # a second
    with web.us.runtime.transaction() as session:
        root = accounts.principal_of(accounts.get_user(session, "root"))
        asked = approvals.request_role(
            session, by=root, username="audrey", role=Role.LIAISON_OFFICER, lifetime=lifetime
        )
        request_id = asked.id
    time.sleep(1.2)
    client = web.client()
    late = client.post(f"/api/v1/users/requests/{request_id}/approve", headers=_bearer(web, "ada"))
    assert late.status_code == 409 and "expired" in late.json()["message"]
    user = _user(web, "audrey")
    assert user is not None and user.role == "auditor"
    expired = _audited(web, "user.request.expired")
    assert [(e.actor, e.subject) for e in expired] == [("node", "audrey")]
    listed = client.get("/api/v1/users/requests", headers=_bearer(web, "audrey"))
    assert listed.status_code == 200 and listed.json()[0]["status"] == "expired"


def test_one_administrator_cannot_silence_the_auditor(web: Web) -> None:
    """Nothing turns the audit log off; disabling the auditor's account (nobody left to read
    it) is a request too. Other officers are disabled at once."""
    _second_admin(web)
    admin = web.client()
    web.sign_in(admin, "root")
    page = admin.get("/users")
    asked = admin.post(
        "/users/audrey/active",
        data={"active": "false", "confirm": "true", "csrf_token": csrf_of(page.text)},
    )
    assert asked.status_code == 200 and "another administrator approves it" in asked.text
    user = _user(web, "audrey")
    assert user is not None and user.active
    admin.post(
        "/users/dora/active",
        data={"active": "false", "confirm": "true", "csrf_token": csrf_of(page.text)},
    )
    user = _user(web, "dora")
    assert user is not None and not user.active


def test_the_auditors_page_shows_requests_pending_and_decided(web: Web) -> None:
    _second_admin(web)
    root, ada = _bearer(web, "root"), _bearer(web, "ada")
    client = web.client()
    first = client.post("/api/v1/users", json=MOLE, headers=root).json()
    client.put("/api/v1/users/smith/unit", json={"unit": "cybercrime"}, headers=root)
    client.post(f"/api/v1/users/requests/{first['id']}/reject", headers=ada)
    auditor = web.client()
    web.sign_in(auditor, "audrey")
    page = auditor.get("/audit")
    assert page.status_code == 200
    assert 'data-request-user="mole" data-status="rejected"' in page.text
    assert 'data-request-user="smith" data-status="pending"' in page.text
    assert "central-authority → cybercrime" in page.text
    assert "/approve" not in page.text  # the auditor sees, and decides nothing
    assert "user.request.rejected" in auditor.get("/audit?action=user.request").text
    zh = web.client()
    web.sign_in(zh, "audrey", lang="zh")
    assert "等待另一名管理员批准" in zh.get("/audit").text


def test_a_node_with_one_administrator_works_alone_until_a_second_exists(tmp_path: Path) -> None:
    """Bootstrap: after `accord init` the one administrator's changes take effect at once
    (recorded as such); from the second administrator on, two must agree — and disabling the
    other administrator does not lift the rule."""
    settings = Settings(data_dir=tmp_path / "node", run_workers=False)
    init_node(settings, name="US-DOJ", country="US", endpoint="http://127.0.0.1:9")
    app = create_app(settings)
    with TestClient(app) as client:
        runtime: Any = app.state.runtime
        with runtime.transaction() as session:
            token = accounts.issue_token(
                session, name="t", user=accounts.get_user(session, "admin")
            )
        admin = {"Authorization": f"Bearer {token}"}
        alone = client.post("/api/v1/users", json=MOLE, headers=admin)
        assert alone.status_code == 201 and alone.json()["status"] == "alone"
        second = MOLE | {"username": "ada", "role": "administrator", "unit": "administration"}
        assert client.post("/api/v1/users", json=second, headers=admin).status_code == 201
        third = MOLE | {"username": "fox"}
        assert client.post("/api/v1/users", json=third, headers=admin).status_code == 202
        with runtime.transaction() as session:
            accounts.set_active(session, username="ada", active=False, by="admin")
        still = client.post("/api/v1/users", json=MOLE | {"username": "wolf"}, headers=admin)
        assert still.status_code == 202
        with runtime.reading() as session:
            assert session.scalar(select(User).where(User.username == "fox")) is None
            statuses = [(e.action, e.actor) for e in session.scalars(select(AuditEntry))]
        assert ("user.request.alone", "admin") in statuses


def test_the_command_line_names_the_administrator_and_checks_the_rule(web: Web) -> None:
    _second_admin(web)
    asked = _accord(
        web,
        *("user", "add", "mole", "--role", "liaison_officer", "--unit", "central-authority"),
        *("--password-env", "NEW_PW", "--as", "root", "--as-password-env", "ADMIN_PW"),
        NEW_PW=MOLE["password"],
        ADMIN_PW=PASSWORD,
    )
    assert asked.returncode == 0, asked.stderr
    assert "another administrator approves it" in asked.stdout and _user(web, "mole") is None
    with web.us.runtime.reading() as session:
        (request_id,) = [r.id for r in approvals.list_requests(session)]
    listed = _accord(web, "user", "requests")
    assert str(request_id) in listed.stdout and "mole" in listed.stdout
    own = _accord(
        web,
        "user",
        "approve",
        str(request_id),
        "--as",
        "root",
        "--as-password-env",
        "PW",
        PW=PASSWORD,
    )
    assert own.returncode == 5 and "another administrator" in own.stderr
    operator = _accord(web, "user", "approve", str(request_id))
    assert operator.returncode == 5 and "--as NAME" in operator.stderr
    wrong = _accord(
        web,
        "user",
        "approve",
        str(request_id),
        "--as",
        "ada",
        "--as-password-env",
        "PW",
        PW="not the password at all",
    )
    assert wrong.returncode == 5 and _user(web, "mole") is None
    done = _accord(
        web,
        "user",
        "approve",
        str(request_id),
        "--as",
        "ada",
        "--as-password-env",
        "PW",
        PW=PASSWORD,
    )
    assert done.returncode == 0, done.stderr
    assert _user(web, "mole") is not None
    alone = _accord(web, "user", "role", "smith", "analyst")
    assert alone.returncode == 5 and "--as NAME" in alone.stderr


@pytest.mark.parametrize("change", ["role", "unit"])
def test_a_request_for_an_account_changed_since_is_refused(web: Web, change: str) -> None:
    _second_admin(web)
    with web.us.runtime.transaction() as session:
        root = accounts.principal_of(accounts.get_user(session, "root"))
        ada = accounts.principal_of(accounts.get_user(session, "ada"))
        lifetime = timedelta(hours=1)
        if change == "role":
            asked = approvals.request_role(
                session, by=root, username="smith", role=Role.ANALYST, lifetime=lifetime
            )
        else:
            asked = approvals.request_unit(
                session, by=root, username="smith", unit="cybercrime", lifetime=lifetime
            )
        request_id = asked.id
    with web.us.runtime.transaction() as session:
        smith = accounts.get_user(session, "smith")
        smith.role, smith.unit = Role.LEGAL_REVIEWER.value, "counter-terrorism"
    with web.us.runtime.transaction() as session, pytest.raises(Conflict) as refused:
        approvals.approve(session, request_id=request_id, by=ada)
    assert "reject the request and make a new one" in refused.value.message


def _accord(web: Web, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    settings = web.us.runtime.settings
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")} | env
    return subprocess.run(
        [
            *(sys.executable, "-m", "accord", "--data", str(settings.data_dir)),
            *("--database-url", settings.resolved_database_url, *args),
        ],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        env=clean,
        timeout=120,
        check=False,
    )
