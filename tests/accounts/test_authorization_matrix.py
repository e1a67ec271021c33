"""Every API route called as every role and anonymously: the answer must be the expected one.

The expected roles per route are written here by hand from the roles in docs/architecture.md,
not read from the permission table they check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from accord.app import create_app
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cases.service import act, open_case
from accord.config import Settings
from accord.core.permissions import Role
from accord.federation.node import init_node
from accord.federation.peers import add_peer
from tests.helpers import role_tokens

L, R, A, D, U, M = (
    Role.LIAISON_OFFICER,
    Role.LEGAL_REVIEWER,
    Role.ANALYST,
    Role.DIALOGUE_COORDINATOR,
    Role.AUDITOR,
    Role.ADMINISTRATOR,
)
CASEWORK = {L, R, A}

EXPECTED: dict[tuple[str, str], set[Role]] = {
    ("POST", "/api/v1/cases"): {L, R},
    ("POST", "/api/v1/cases/notices"): {L, R},
    ("GET", "/api/v1/cases"): CASEWORK,
    ("GET", "/api/v1/cases/{reference}"): CASEWORK,
    ("POST", "/api/v1/cases/{reference}/actions"): CASEWORK,
    ("POST", "/api/v1/cases/{reference}/shares"): {L, R},
    ("GET", "/api/v1/cases/{reference}/diagram.svg"): CASEWORK,
    ("GET", "/api/v1/cases/{reference}/log"): CASEWORK,
    ("GET", "/api/v1/cases/{reference}/verify"): CASEWORK,
    ("POST", "/api/v1/cases/{reference}/attachments"): CASEWORK,
    ("GET", "/api/v1/cases/{reference}/attachments"): CASEWORK,
    ("GET", "/api/v1/cases/{reference}/attachments/{sha256}"): CASEWORK,
    ("GET", "/api/v1/cases/{reference}/export"): CASEWORK,
    ("GET", "/api/v1/node"): {L, R, A, D, M},
    ("GET", "/api/v1/peers"): {L, R, A, D, M},
    ("POST", "/api/v1/peers"): {M},
    ("GET", "/api/v1/federation/quarantine"): {M},
    ("GET", "/api/v1/federation/outbox"): {M},
    ("POST", "/api/v1/identity/watchlist"): {L, A},
    ("POST", "/api/v1/identity/match"): {L, A},
    ("POST", "/api/v1/identity/screenings"): {L, A},
    ("GET", "/api/v1/identity/screenings/{job_id}"): {L, A},
    ("GET", "/api/v1/identity/watchlist/{record_id}"): {L, A},
    ("DELETE", "/api/v1/identity/watchlist/{record_id}"): {L, A},
    ("GET", "/api/v1/identity/cases/{reference}/proposals"): {L, A},
    ("POST", "/api/v1/identity/cases/{reference}/proposals"): {L, A},
    ("POST", "/api/v1/identity/cases/{reference}/proposals/{person_id}/confirm"): {L, A},
    ("GET", "/api/v1/dialogue/mechanisms"): {L, R, A, D},
    ("POST", "/api/v1/dialogue/mechanisms"): {D},
    ("GET", "/api/v1/dialogue/rounds"): {L, R, A, D},
    ("POST", "/api/v1/dialogue/rounds"): {D},
    ("GET", "/api/v1/dialogue/rounds/{reference}"): {L, R, A, D},
    ("POST", "/api/v1/dialogue/rounds/{reference}/actions"): {D},
    ("GET", "/api/v1/dialogue/rounds/{reference}/brief"): {L, R, A, D},
    ("GET", "/api/v1/dialogue/scorecard"): {L, R, A, D},
    ("GET", "/api/v1/dialogue/stuck"): {L, R, A, D},
    ("GET", "/api/v1/audit"): {U},
    ("GET", "/api/v1/audit/verify"): {U},
    ("GET", "/api/v1/users"): {M},
    ("POST", "/api/v1/users"): {M},
    ("PUT", "/api/v1/users/{username}/role"): {M},
    ("PUT", "/api/v1/users/{username}/unit"): {M},
    # the auditor sees the changes to accounts; only administrators decide them
    ("GET", "/api/v1/users/requests"): {U, M},
    ("POST", "/api/v1/users/requests/{request_id}/approve"): {M},
    ("POST", "/api/v1/users/requests/{request_id}/reject"): {M},
    # every officer lists and revokes their own tokens; an administrator anyone's
    ("GET", "/api/v1/tokens"): set(Role),
    ("DELETE", "/api/v1/tokens/{token_id}"): set(Role),
}


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, dict[Role, str]]]:
    root: Path = tmp_path_factory.mktemp("matrix")
    settings = Settings(data_dir=root / "node", run_workers=False)
    init_node(settings, name="US-DOJ", country="US", endpoint="http://127.0.0.1:9")
    app = create_app(settings)
    with TestClient(app) as test_client:
        with app.state.runtime.transaction() as session:
            tokens = role_tokens(
                session,
                Role,
                prefix="u",
                unit="central-authority",
                password="correct horse battery",
            )
        yield test_client, tokens


def flatten(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:  # FastAPI includes routers lazily
            yield from flatten(included.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute):
            yield prefix + route.path, route


def api_routes() -> list[tuple[str, str]]:
    app = create_app(Settings(run_workers=False))
    found = []
    for path, route in flatten(list(app.routes)):
        if path.startswith("/api/"):
            found.extend((method, path) for method in route.methods)
    return sorted(found)


def test_the_matrix_covers_every_api_route() -> None:
    assert set(api_routes()) == set(EXPECTED)


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_every_route_as_every_role(
    client: tuple[TestClient, dict[Role, str]], method: str, path: str
) -> None:
    test_client, tokens = client
    url = (
        path.replace("{reference}", "MLA-US-2026-000999")
        .replace("{sha256}", "a" * 64)
        .replace("{job_id}", "00000000-0000-7000-8000-000000000000")
        .replace("{person_id}", "P1")
        .replace("{record_id}", "W0")
        .replace("{token_id}", "00000000-0000-7000-8000-000000000000")
        .replace("{request_id}", "00000000-0000-7000-8000-000000000000")
        .replace("{username}", "u-analyst")
    )
    anonymous = test_client.request(method, url)
    assert anonymous.status_code == 401, (method, path)
    for role, token in tokens.items():
        answer = test_client.request(method, url, headers={"Authorization": f"Bearer {token}"})
        if role in EXPECTED[(method, path)]:
            assert answer.status_code not in (401, 403), (role, method, path, answer.text)
        else:
            assert answer.status_code == 403, (role, method, path, answer.text)
            assert "may not" in answer.json()["message"]


def test_only_a_legal_reviewer_takes_review_actions(
    client: tuple[TestClient, dict[Role, str]], tmp_path: Path
) -> None:
    """The MLA type declares approve_and_submit a legal-review action: an officer or an
    analyst of the case's unit is refused it; a legal reviewer may take it."""
    test_client, tokens = client
    app: Any = test_client.app
    runtime = app.state.runtime
    peer, _ = init_node(
        Settings(data_dir=tmp_path / "cn"),
        name="CN-MOJ",
        country="CN",
        endpoint="http://127.0.0.1:9",
    )
    with runtime.transaction() as session:
        add_peer(session, card=peer.card(), own_name=runtime.node.name)
        case = open_case(
            session,
            node=runtime.node,
            case_type="mla",
            peer="CN-MOJ",
            area=Area.JUDICIAL_ASSISTANCE,
            priority=Priority.ROUTINE,
            handling_code=HandlingCode.H0,
            title="Bank records",
            details={"assistance": ["bank_records"], "offence": "Wire fraud"},
            officer="Officer Smith",
            unit="central-authority",
        )
        reference = case.reference
        act(
            session,
            node=runtime.node,
            reference=reference,
            action="send_to_review",
            payload={},
            officer="Officer Smith",
        )
    for role in (L, A):
        answer = test_client.post(
            f"/api/v1/cases/{reference}/actions",
            json={"action": "approve_and_submit", "payload": {}},
            headers={"Authorization": f"Bearer {tokens[role]}"},
        )
        assert answer.status_code == 403 and "case:review" in answer.json()["message"]
    answer = test_client.post(
        f"/api/v1/cases/{reference}/actions",
        json={"action": "approve_and_submit", "payload": {}},
        headers={"Authorization": f"Bearer {tokens[R]}"},
    )
    assert answer.status_code == 422, answer.text  # past the permission: the payload is empty


OWNERS, OTHERS = "counter-terrorism", "cybercrime"
SCREENERS = {L, A}


@pytest.fixture(scope="module")
def units(
    client: tuple[TestClient, dict[Role, str]],
) -> dict[tuple[Role, str], dict[str, str]]:
    """Every role in two units of the node: the headers of each officer's token."""
    test_client, _ = client
    app: Any = test_client.app
    headers = {}
    with app.state.runtime.transaction() as session:
        for unit in (OWNERS, OTHERS):
            for role, token in role_tokens(session, Role, prefix=unit, unit=unit).items():
                headers[(role, unit)] = {"Authorization": f"Bearer {token}"}
    return headers


def test_identity_data_answers_only_to_screeners_of_its_unit(
    client: tuple[TestClient, dict[Role, str]], units: dict[tuple[Role, str], dict[str, str]]
) -> None:
    """A watchlist entry and a screening job made by an analyst of one unit: every role of
    either unit reads, replaces and deletes them. Roles that may not screen are refused (403),
    screeners of the other unit find nothing (404), screeners of the owning unit reach them."""
    test_client, _ = client
    owner = units[(A, OWNERS)]
    person = {"id": "M1", "name": "ZHANG Wei", "birth_date": "1980-05-01"}
    loaded = test_client.post(
        "/api/v1/identity/watchlist", json={"persons": [person]}, headers=owner
    )
    assert loaded.status_code == 200, loaded.text
    started = test_client.post(
        "/api/v1/identity/screenings", json={"persons": [person]}, headers=owner
    )
    job = started.json()["id"]
    reads = ("/api/v1/identity/watchlist/M1", f"/api/v1/identity/screenings/{job}")
    for (role, unit), headers in sorted(units.items()):
        for url in reads:
            answer = test_client.get(url, headers=headers)
            expected = 403 if role not in SCREENERS else 200 if unit == OWNERS else 404
            assert answer.status_code == expected, (role, unit, url, answer.text)
        if role in SCREENERS and unit == OTHERS:
            decoy = {"id": "M1", "name": "OUYANG Nana"}
            test_client.post(
                "/api/v1/identity/watchlist", json={"persons": [decoy]}, headers=headers
            )
            gone = test_client.delete("/api/v1/identity/watchlist/M1", headers=headers)
            assert gone.status_code == 204  # their own entry, not the owners'
        elif role not in SCREENERS:
            refused = test_client.delete("/api/v1/identity/watchlist/M1", headers=headers)
            assert refused.status_code == 403, (role, unit)
    still = test_client.get("/api/v1/identity/watchlist/M1", headers=owner)
    assert still.status_code == 200 and still.json()["name"] == "ZHANG Wei"
    assert test_client.delete("/api/v1/identity/watchlist/M1", headers=owner).status_code == 204
