"""Schemathesis against the OpenAPI of a running node: every operation, called with generated
valid and invalid requests as a role that may reach it, must never answer 5xx, must answer only
documented statuses, and must answer in the declared shape.

Bounded for CI (ACCORD_HOSTILE_EXAMPLES examples per mode and operation, default 8); a longer
campaign: `ACCORD_HOSTILE_EXAMPLES=500 pytest tests/hostile/test_api_schema.py`.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accord.app import create_app
from accord.cli.scenarios import MLA_OPENING
from accord.config import Settings
from accord.core.permissions import Role
from tests.accounts.test_authorization_matrix import EXPECTED
from tests.hostile.conftest import LiveNode, examples

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
PREFERENCE = (
    Role.LIAISON_OFFICER,
    Role.LEGAL_REVIEWER,
    Role.ANALYST,
    Role.DIALOGUE_COORDINATOR,
    Role.ADMINISTRATOR,
    Role.AUDITOR,
)


def operations() -> list[tuple[str, str]]:
    paths = create_app(Settings(run_workers=False)).openapi()["paths"]
    return sorted((method.upper(), path) for path, ops in paths.items() for method in ops)


def role_for(method: str, path: str) -> Role | None:
    """A role that may call the operation, so that generated requests get past the permission
    check; None for the peer-facing and public endpoints."""
    if path.startswith(("/taxii2/", "/misp/")):
        return Role.ANALYST
    allowed = EXPECTED.get((method, path))
    if allowed is None:
        return None
    return next(role for role in PREFERENCE if role in allowed)


@pytest.fixture(scope="module")
def api_schema(live_node: LiveNode) -> Any:
    return schemathesis.openapi.from_url(f"{live_node.url}/openapi.json", timeout=30)


@pytest.fixture(scope="module")
def case_reference(live_node: LiveNode) -> str:
    """A real case, so that generated requests also reach past the case lookup."""
    opened = live_node.node.post("/api/v1/cases", {**MLA_OPENING, "peer": "CN-MOJ"})
    reference: str = opened["reference"]
    return reference


def test_every_operation_is_fuzzed() -> None:
    """Each route of the API has a role here (a new route must be added to the matrix)."""
    for method, path in operations():
        if path.startswith("/api/"):
            assert role_for(method, path) is not None, (method, path)


@pytest.mark.parametrize(("method", "path"), operations())
def test_operation_answers_generated_requests_as_documented(
    live_node: LiveNode, api_schema: Any, case_reference: str, method: str, path: str
) -> None:
    operation = api_schema[path][method]
    role = role_for(method, path)
    headers = {"Authorization": f"Bearer {live_node.tokens[role]}"} if role else {}
    strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    if "{reference}" in path:
        strategies += [
            operation.as_strategy(
                generation_mode=mode, path_parameters={"reference": case_reference}
            )
            for mode in GenerationMode
        ]

    @settings(
        max_examples=examples(8) * len(strategies),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def answers_as_documented(case: Any) -> None:
        case.call_and_validate(base_url=live_node.url, headers=headers, checks=CHECKS, timeout=30)

    answers_as_documented()
