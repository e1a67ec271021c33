"""The identity API: load the watchlist, match one person, a batch job with progress."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accord.accounts.service import create_user, issue_token
from accord.app import create_app
from accord.config import Settings
from accord.core.permissions import Role
from accord.federation.node import init_node
from accord.identity import service

WATCHLIST = [
    {"id": "W1", "name": "ZHANG Wei", "name_native": "张伟", "birth_date": "1980-05-01"},
    {"id": "W2", "name": "ZHANG Wei", "name_native": "张伟", "birth_date": "1975-02-11"},
    {"id": "W3", "name": "OUYANG Nana", "name_native": "歐陽娜娜", "birth_date": "1990-03-12"},
]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = Settings(data_dir=tmp_path / "node", run_workers=False)
    init_node(settings, name="CN-MPS", country="CN", endpoint="http://127.0.0.1:9")
    app = create_app(settings)
    with TestClient(app) as client:
        with app.state.runtime.transaction() as session:
            tokens = {
                role: issue_token(
                    session,
                    name="test",
                    user=create_user(
                        session,
                        username=role.value,
                        display_name=role.value,
                        role=role,
                        unit="central-authority",
                        password="correct horse battery",
                    ),
                )
                for role in (Role.ANALYST, Role.AUDITOR)
            }
        headers = {"Authorization": f"Bearer {tokens[Role.ANALYST]}"}
        loaded = client.post(
            "/api/v1/identity/watchlist", json={"persons": WATCHLIST}, headers=headers
        )
        assert loaded.status_code == 200, loaded.text
        assert loaded.json()["watchlist_records"] == 3
        yield client, {"analyst": tokens[Role.ANALYST], "auditor": tokens[Role.AUDITOR]}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_match_one_person_across_scripts(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    answer = client.post(
        "/api/v1/identity/match",
        json={"id": "Q1", "name": "Cheung Wai", "birth_date": "1980-05-01"},
        headers=auth(tokens["analyst"]),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["candidates"][0]["candidate_id"] == "W1"
    assert body["candidates"][0]["decision"] == "match"
    assert "same name in pinyin" in body["candidates"][0]["explanation"]
    assert body["watchlist_records"] == 3


def test_a_bad_field_is_reported_and_the_person_still_screened(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = api
    answer = client.post(
        "/api/v1/identity/match",
        json={"id": "Q2", "name": "Au Yeung Na Na", "birth_date": "1990-3-12", "id_number": "123"},
        headers=auth(tokens["analyst"]),
    )
    body = answer.json()
    assert [p["field"] for p in body["problems"]] == ["id_number"]
    assert body["candidates"][0]["candidate_id"] == "W3"


def test_replacing_a_watchlist_entry_changes_what_matches(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = api
    person = {"id": "Q", "name": "Wei Zhang", "birth_date": "1975-02-11"}
    first = client.post("/api/v1/identity/match", json=person, headers=auth(tokens["analyst"]))
    assert first.json()["candidates"][0]["candidate_id"] == "W2"
    moved = {**WATCHLIST[1], "birth_date": "1999-09-09"}
    reload = client.post(
        "/api/v1/identity/watchlist", json={"persons": [moved]}, headers=auth(tokens["analyst"])
    )
    assert reload.json()["updated"] == 1
    again = client.post("/api/v1/identity/match", json=person, headers=auth(tokens["analyst"]))
    assert all(c["decision"] != "match" for c in again.json()["candidates"])


def test_batch_job_reports_progress_and_results(
    api: tuple[TestClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "PROGRESS_EVERY", 1)
    client, tokens = api
    persons = [
        {"id": "Q1", "name": "Chang Wei", "birth_date": "1980-05-01"},
        {"id": "Q2", "name": "歐陽娜娜", "birth_date": "1990-03"},
        {"id": "Q3", "name": ""},
    ]
    started = client.post(
        "/api/v1/identity/screenings",
        json={"persons": persons[:2]},
        headers=auth(tokens["analyst"]),
    )
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "queued" and started.json()["total"] == 2
    job = client.get(
        f"/api/v1/identity/screenings/{started.json()['id']}", headers=auth(tokens["analyst"])
    ).json()
    # The test client runs background tasks before it returns.
    assert job["status"] == "done" and job["done"] == 2 and job["matches"] == 2
    found = {(r["query_id"], r["candidate_id"]) for r in job["results"] if r["decision"] == "match"}
    assert found == {("Q1", "W1"), ("Q2", "W3")}
    refused = client.post(
        "/api/v1/identity/screenings", json={"persons": persons}, headers=auth(tokens["analyst"])
    )
    assert refused.status_code == 422  # a person without a name


def test_an_unknown_job_is_not_found(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    answer = client.get(
        "/api/v1/identity/screenings/00000000-0000-7000-8000-000000000000",
        headers=auth(tokens["analyst"]),
    )
    assert answer.status_code == 404


def test_screening_needs_the_identity_permission(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    person = {"id": "Q", "name": "Wei Zhang"}
    assert client.post("/api/v1/identity/match", json=person).status_code == 401
    denied = client.post("/api/v1/identity/match", json=person, headers=auth(tokens["auditor"]))
    assert denied.status_code == 403


def test_aliases_and_list_values_go_in_through_the_api_and_come_back(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    # issue 18: a person with aliases, a list-style date, a country name and an annotated
    # passport, stored, read back, and matched on an alias.
    client, tokens = api
    person = {
        "id": "SDN-2",
        "name": "LI, Xiaoming (a.k.a. LEE, Siu Ming)",
        "name_native": "李小明",
        "aliases": ["CHAN, Tai Man"],
        "weak_aliases": ["Ah Ming"],
        "birth_date": "circa 1970",
        "nationality": ["China", "Hong Kong"],
        "passport_number": "CHN-K98765432",
    }
    loaded = client.post(
        "/api/v1/identity/watchlist", json={"persons": [person]}, headers=auth(tokens["analyst"])
    )
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["problems"] == []
    stored = client.get("/api/v1/identity/watchlist/SDN-2", headers=auth(tokens["analyst"]))
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert body["name"] == "LI, Xiaoming"
    assert body["aliases"] == ["LEE, Siu Ming", "CHAN, Tai Man"]
    assert body["weak_aliases"] == ["Ah Ming"]
    assert body["birth_date"] == "circa 1970"
    assert body["nationality"] == ["CN", "HK"]
    assert body["passport_number"] == "K98765432 (CN)"
    answer = client.post(
        "/api/v1/identity/match",
        json={"id": "Q", "name": "Tai Man Chan", "birth_date": "1971-02-03",
              "passport_number": "K98765432"},
        headers=auth(tokens["analyst"]),
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    best = answer.json()["candidates"][0]
    assert (best["candidate_id"], best["decision"]) == ("SDN-2", "match")
    # the pair that agreed: the alias, with the person's name in both scripts
    assert "CHAN, Tai Man (alias of LI, Xiaoming / 李小明)" in best["explanation"]
