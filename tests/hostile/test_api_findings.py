"""Regression tests for what schemathesis found on the API: each request here answered 500
before its fix, or answered in a shape its OpenAPI declaration did not admit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from accord.core.permissions import Role
from tests.helpers import role_tokens
from tests.hostile.test_limits_and_headers import make_app


@pytest.fixture(scope="module")
def call(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[Role, str]]]:
    app, config = make_app(tmp_path_factory.mktemp("findings"))
    with TestClient(app) as client:
        with app.state.runtime.transaction() as session:
            tokens = role_tokens(
                session, Role, prefix="f", unit=config.intake_unit, password="correct horse battery"
            )
        yield client, tokens


def get(
    call: tuple[TestClient, dict[Role, str]], role: Role, path: str
) -> tuple[int, dict[str, object]]:
    client, tokens = call
    response = client.get(path, headers={"Authorization": f"Bearer {tokens[role]}"})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.AUDITOR, "/api/v1/audit?offset=58103550893075742720"),
        (Role.LIAISON_OFFICER, "/api/v1/cases?offset=58103550893075742720"),
        (Role.ADMINISTRATOR, "/api/v1/federation/quarantine?limit=-5"),
        (Role.ADMINISTRATOR, "/api/v1/federation/quarantine?limit=100000000000000000000"),
    ],
)
def test_out_of_range_paging_is_invalid_input_not_a_crash(
    call: tuple[TestClient, dict[Role, str]], role: Role, path: str
) -> None:
    status, body = get(call, role, path)
    assert status == 422 and body["error"] == "invalid_input"


@pytest.mark.parametrize(
    "query",
    ["start=9835-07-29T00:09:53%2B03:31", "end=0001-01-02T00:00:00Z", "start=0001-01-01T00:00:00Z"],
)
def test_scorecard_period_out_of_range_is_invalid_input_not_a_crash(
    call: tuple[TestClient, dict[Role, str]], query: str
) -> None:
    status, body = get(call, Role.DIALOGUE_COORDINATOR, f"/api/v1/dialogue/scorecard?{query}")
    message = str(body["message"])
    assert status == 422 and ("period" in message or "90 days" in message), message


def test_unparsable_json_body_is_refused_in_the_declared_shape(
    call: tuple[TestClient, dict[Role, str]],
) -> None:
    client, tokens = call
    response = client.post(
        "/api/v1/cases",
        content=b"{not json",
        headers={
            "Authorization": f"Bearer {tokens[Role.LIAISON_OFFICER]}",
            "content-type": "application/json",
        },
    )
    assert response.status_code in (400, 422)
    assert set(response.json()) >= {"error", "message"}
