"""Size and rate limits on every input, and the security headers on every response."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from accord.accounts.service import create_user, issue_token
from accord.app import create_app
from accord.attachments.service import MAX_ATTACHMENT_BYTES
from accord.config import Settings
from accord.core.limits import BodySizeLimit
from accord.core.permissions import Role
from accord.core.ratelimit import RateLimit
from accord.federation.node import init_node
from accord.web import STATIC
from tests.accounts.test_authorization_matrix import flatten

BODY_METHODS = {"POST", "PUT", "PATCH"}
# The federation inbox reads its own body, with its own limit, so that a refusal is audited.
SELF_LIMITED = {
    "/federation/v1/envelopes",
    "/federation/v1/query",
    # TAXII refuses in its own media type (tests/cyber/test_taxii_conformance.py, the 413);
    # its catch-all for unknown paths and methods never reads a body.
    "/taxii2/cyber/collections/{collection_id}/objects/",
    "/taxii2/{path:path}",
}
UPLOADS = {"/api/v1/cases/{reference}/attachments", "/cases/{reference}/attach"}


def make_app(root: Path, **settings: Any) -> tuple[FastAPI, Settings]:
    config = Settings(data_dir=root / "node", run_workers=False, **settings)
    init_node(config, name="US-DOJ", country="US", endpoint="http://127.0.0.1:9")
    return create_app(config), config


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, Settings]]:
    app, config = make_app(tmp_path_factory.mktemp("limits"))
    with TestClient(app) as client:
        with app.state.runtime.transaction() as session:
            user = create_user(
                session,
                username="smith",
                display_name="Smith",
                role=Role.LIAISON_OFFICER,
                unit=config.intake_unit,
                password="correct horse battery",
            )
            token = issue_token(session, name="limits", user=user)
        yield client, token, config


def routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, path) for path, route in flatten(list(app.routes)) for method in route.methods
    )


def size_limit(app: FastAPI) -> BodySizeLimit:
    (middleware,) = [m for m in app.user_middleware if m.cls is BodySizeLimit]
    return BodySizeLimit(lambda *_: None, **middleware.kwargs)  # type: ignore[arg-type,return-value]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "X-1", path)


# -- size limits ---------------------------------------------------------------------------------


def test_every_route_that_takes_a_body_has_a_size_limit(
    served: tuple[TestClient, str, Settings],
) -> None:
    client, token, config = served
    app: FastAPI = client.app  # type: ignore[assignment]
    limiter = size_limit(app)
    body_routes = [(m, p) for m, p in routes(app) if m in BODY_METHODS]
    assert len(body_routes) > 20
    for method, path in body_routes:
        if path in SELF_LIMITED:
            assert path.startswith(limiter.exempt)
            continue
        assert not path.startswith(limiter.exempt), path
        expected = (
            MAX_ATTACHMENT_BYTES + 1024 * 1024 if path in UPLOADS else config.max_request_bytes
        )
        limit = next((v for k, v in limiter.larger.items() if path.endswith(k)), limiter.limit)
        assert limit == expected, path
        if path in UPLOADS:
            continue  # a 100 MiB body is not sent here; its limit is checked above
        response = client.request(
            method,
            concrete(path),
            content=b"x" * (limit + 1),
            headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
        )
        assert response.status_code == 413, (method, path, response.status_code)
        assert f"larger than {limit} bytes" in response.json()["message"]


def test_web_upload_gets_the_attachment_limit_not_the_form_limit(
    served: tuple[TestClient, str, Settings],
) -> None:
    """Found by the route walk: the web form for attaching a file was held to 4 MiB."""
    client, _, config = served
    response = client.post(
        "/cases/X-1/attach",
        content=b"x" * (config.max_request_bytes + 1),
        headers={"content-type": "multipart/form-data; boundary=b"},
        follow_redirects=False,
    )
    assert response.status_code != 413


def test_inbox_refuses_oversized_requests_itself(served: tuple[TestClient, str, Settings]) -> None:
    client, _, config = served
    response = client.post(
        "/federation/v1/envelopes", content=b" " * (config.max_request_bytes + 1)
    )
    assert response.status_code == 413
    assert "send fewer envelopes" in response.json()["message"]


# -- rate limits ---------------------------------------------------------------------------------


@pytest.fixture
def throttled(tmp_path: Path) -> Iterator[TestClient]:
    app, _ = make_app(tmp_path, rate_limit_per_second=0.01, rate_limit_burst=3)
    with TestClient(app) as client:
        yield client


def test_a_caller_past_its_burst_is_told_to_wait(throttled: TestClient) -> None:
    headers = {"Authorization": "Bearer accord_not-a-real-token"}
    answers = [throttled.get("/api/v1/cases", headers=headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    refused = answers[-1]
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"] == "too_many_requests"
    assert "from this address" in refused.json()["message"]  # the token did not verify
    # another unverified token is no way out; health checks are never limited
    assert (
        throttled.get("/api/v1/cases", headers={"Authorization": "Bearer other"}).status_code == 429
    )
    assert all(throttled.get("/healthz").status_code == 200 for _ in range(5))


def test_the_federation_inbox_is_limited_per_address(throttled: TestClient) -> None:
    answers = [throttled.post("/federation/v1/envelopes", content=b"{}") for _ in range(4)]
    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert "from this address" in answers[-1].json()["message"]


def test_a_taxii_client_past_its_burst_gets_a_taxii_error_message(throttled: TestClient) -> None:
    # TAXII 2.1 §3.6.1: every error under /taxii2/ is an error message in the TAXII media type,
    # the rate limit's 429 too (a TAXII client reads `title`/`http_status`, not our API's shape)
    accept = {"Accept": "application/taxii+json;version=2.1"}
    answers = [throttled.get("/taxii2/", headers=accept) for _ in range(4)]
    assert answers[-1].status_code == 429
    refused = answers[-1]
    assert refused.headers["content-type"].startswith("application/taxii+json")
    assert int(refused.headers["retry-after"]) >= 1
    body = refused.json()
    assert body["http_status"] == "429"
    assert body["title"] == "Too many requests"
    assert "wait" in body["description"]
    # the API keeps its own shape
    api = throttled.get("/api/v1/cases")
    assert api.status_code == 429 and api.json()["error"] == "too_many_requests"


def test_a_bucket_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimit(
        lambda *_: None,  # type: ignore[arg-type,return-value]
        rate=2.0,
        burst=2,
        session_cookie="s",
        clock=lambda: now[0],
    )
    assert [limiter.take("k") for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("k") == pytest.approx(0.5)
    now[0] = 0.5
    assert limiter.take("k") == 0.0


def test_forgotten_callers_do_not_grow_without_bound() -> None:
    limiter = RateLimit(
        lambda *_: None,  # type: ignore[arg-type,return-value]
        rate=1.0,
        burst=5,
        session_cookie="s",
        max_callers=10,
        clock=lambda: 0.0,
    )
    for n in range(100):
        limiter.take(f"caller-{n}")
    assert len(limiter.buckets) <= 10


# -- security headers ----------------------------------------------------------------------------


def assert_secured(response: Any, what: str) -> None:
    headers = response.headers
    assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), what
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("x-frame-options") == "DENY", what


def test_every_get_route_answers_with_the_security_headers(
    served: tuple[TestClient, str, Settings],
) -> None:
    client, token, _ = served
    app: FastAPI = client.app  # type: ignore[assignment]
    gets = [p for m, p in routes(app) if m == "GET"]
    assert any(p.startswith("/api/") for p in gets) and any(p.startswith("/taxii2") for p in gets)
    for path in gets:
        for headers in ({}, {"Authorization": f"Bearer {token}"}):
            response = client.get(concrete(path), headers=headers, follow_redirects=False)
            # /readyz tells the truth: this app runs no workers, so the node is not ready.
            unready = path == "/readyz" and response.status_code == 503
            assert response.status_code < 500 or unready, (path, response.status_code)
            assert_secured(response, f"GET {path} -> {response.status_code}")


def test_static_files_docs_errors_and_refusals_carry_the_headers(
    served: tuple[TestClient, str, Settings],
) -> None:
    client, _, config = served
    static = next(p for p in Path(STATIC).rglob("*") if p.is_file()).relative_to(STATIC)
    answers = {
        "static file": client.get(f"/static/{static.as_posix()}"),
        "missing static file": client.get("/static/nope.js"),
        "unknown path": client.get("/no/such/page"),
        "wrong method": client.delete("/healthz"),
        "openapi": client.get("/openapi.json"),
        "docs": client.get("/docs"),
        "too large": client.post("/api/v1/cases", content=b"x" * (config.max_request_bytes + 1)),
        "inbox refusal": client.post("/federation/v1/envelopes", content=b"nope"),
        "taxii refusal": client.get("/taxii2/"),
    }
    assert answers["static file"].status_code == 200
    assert "cache-control" not in answers["static file"].headers  # static files may be cached
    assert answers["unknown path"].json()["error"] == "not_found"
    for what, response in answers.items():
        assert_secured(response, what)
