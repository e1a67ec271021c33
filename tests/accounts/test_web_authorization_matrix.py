"""Every page and form of the web UI (`src/accord/web/routes/*.py`) called anonymously and as
every role, in the unit that holds the case and in another unit: each answer must be the
expected one — the page (200), the sign-in form (303 to /login for a page, 401 for a form sent
without a session), a refusal (403), or, for another unit's case, the answer for a case that
does not exist (404).

The routes are read from the app's route table, so a new page without an expectation here
fails `test_the_matrix_covers_every_web_route`. The expected roles are written by hand from the
roles in docs/architecture.md and docs/security.md, not read from the permission table."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.accounts import service as accounts
from accord.accounts.models import User
from accord.accounts.vault import vault_for
from accord.app import create_app
from accord.attachments import service as attachments
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cases.models import Case
from accord.cases.service import open_case
from accord.config import Settings
from accord.core.permissions import Role
from accord.dialogue import service as dialogue
from accord.dialogue.schemas import RoundIn
from accord.federation.node import init_node
from accord.federation.peers import add_peer
from accord.web.pages import WebRoute
from accord.web.security import SESSION_COOKIE
from tests.accounts.test_authorization_matrix import flatten

L, R, A, D, U, M = (
    Role.LIAISON_OFFICER,
    Role.LEGAL_REVIEWER,
    Role.ANALYST,
    Role.DIALOGUE_COORDINATOR,
    Role.AUDITOR,
    Role.ADMINISTRATOR,
)
EVERYONE = set(Role)
CASEWORK = {L, R, A}
DIALOGUE_READERS = {L, R, A, D}
OWNERS, OTHERS = "counter-terrorism", "cybercrime"
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Expect:
    """What a route answers a signed-in officer: `ok` for the roles in `roles`, `refused` for
    the others. A route `of_case` answers 404 to an allowed role of another unit, as for a case
    that does not exist. A public route (`anonymous` set) does not send the anonymous to sign
    in: it answers them with that status."""

    roles: set[Role]
    ok: int = 200
    refused: int = 403
    of_case: bool = False
    anonymous: int | None = None
    """what a public route answers without a session (None: the route is not public)"""
    form: dict[str, str] = field(default_factory=dict)
    upload: bool = False
    ends_session: bool = False
    """called with a session of its own, which it ends"""


SIGN_IN = {"username": "nobody", "password": "not the password"}
NEW_PASSWORD = {
    "current_password": "not the password",
    "new_password": "a new passphrase of five words",
    "new_password_again": "a new passphrase of five words",
}

WEB: dict[tuple[str, str], Expect] = {
    # signing in, language: the same for everyone, signed in or not
    ("GET", "/login"): Expect(EVERYONE, ok=303, anonymous=200),
    # the sign-in form's CSRF token comes with the sign-in page (its pre-login cookie)
    ("POST", "/login"): Expect(EVERYONE, ok=403, anonymous=403, form=SIGN_IN),
    # a signed-in officer may be asked for a code again; a wrong one is refused
    ("GET", "/login/totp"): Expect(EVERYONE, anonymous=401),
    ("POST", "/login/totp"): Expect(EVERYONE, ok=401, anonymous=401, form={"code": "000000"}),
    ("GET", "/login/enrol"): Expect(EVERYONE, ok=303, anonymous=401),
    ("POST", "/login/enrol"): Expect(EVERYONE, ok=303, anonymous=401, form={"code": "000000"}),
    ("POST", "/logout"): Expect(EVERYONE, ok=303, anonymous=303, ends_session=True),
    ("GET", "/lang/{code}"): Expect(EVERYONE, ok=303, anonymous=303),
    # the dashboard is casework's; the other roles are sent to their own landing page
    ("GET", "/"): Expect(CASEWORK, refused=303),
    ("GET", "/account"): Expect(EVERYONE),
    # My account: every officer's own password (a wrong current one refused) and language
    ("POST", "/account/password"): Expect(EVERYONE, ok=422, form=NEW_PASSWORD),
    ("POST", "/account/language"): Expect(EVERYONE, ok=303, form={"language": "en"}),
    ("GET", "/cases"): Expect(CASEWORK),
    ("GET", "/cases/new"): Expect({L, R}),
    ("POST", "/cases/new"): Expect({L, R}, ok=422),
    ("GET", "/cases/{reference}"): Expect(CASEWORK, of_case=True),
    ("GET", "/cases/{reference}/live"): Expect(CASEWORK, of_case=True),
    ("POST", "/cases/{reference}"): Expect(CASEWORK, ok=422, of_case=True),
    ("POST", "/cases/{reference}/act"): Expect(CASEWORK, ok=422, of_case=True),
    # a reload of a refused action's address: sent to the case page, which decides
    ("GET", "/cases/{reference}/act"): Expect(EVERYONE, ok=303, anonymous=303),
    ("POST", "/cases/{reference}/attach"): Expect(CASEWORK, ok=303, of_case=True, upload=True),
    ("GET", "/cases/{reference}/files/{sha256}"): Expect(CASEWORK, of_case=True),
    # a person's screening proposal taken (an MLA has none: 422)
    # who may confirm an identity through the API (identity:screen): no legal reviewer
    ("POST", "/cases/{reference}/persons/{person_id}/accept"): Expect({L, A}, ok=422, of_case=True),
    ("GET", "/peers"): Expect({L, R, A, D, M}),
    # the users page and its forms: administrators; a change is a request (two-person rule)
    ("GET", "/users"): Expect({M}),
    ("POST", "/users"): Expect({M}, ok=422, form={"role": "liaison_officer"}),
    ("POST", "/users/{username}/change"): Expect({M}, form={"unit": "cybercrime"}),
    ("POST", "/users/{username}/active"): Expect({M}, ok=303, form={"active": "true"}),
    ("POST", "/users/{username}/unlock"): Expect({M}, ok=303),
    ("POST", "/users/requests/{request_id}/approve"): Expect({M}, ok=404),
    ("POST", "/users/requests/{request_id}/reject"): Expect({M}, ok=404),
    ("GET", "/audit"): Expect({U}),
    ("GET", "/dialogue"): Expect(DIALOGUE_READERS),
    ("GET", "/dialogue/figure"): Expect(
        DIALOGUE_READERS, form={"area": "judicial_assistance", "node": "US-DOJ", "name": "sent"}
    ),
    # a round is the node's (the dialogue's), not a unit's
    ("GET", "/dialogue/rounds/{reference}"): Expect(DIALOGUE_READERS),
    ("POST", "/dialogue/rounds/{reference}"): Expect({D}, ok=422),
    ("POST", "/dialogue/rounds/{reference}/act"): Expect({D}, ok=422),
    ("GET", "/dialogue/rounds/{reference}/act"): Expect(EVERYONE, ok=303, anonymous=303),
    ("GET", "/dialogue/rounds/{reference}/brief"): Expect(DIALOGUE_READERS),
}


def web_routes() -> list[tuple[str, str]]:
    app = create_app(Settings(run_workers=False))
    found = []
    for path, route in flatten(list(app.routes)):
        if isinstance(route, WebRoute):
            found.extend((method, path) for method in route.methods)
    return sorted(found)


def test_the_matrix_covers_every_web_route() -> None:
    assert set(web_routes()) == set(WEB)


@dataclass
class Node:
    client: TestClient
    runtime: Any
    sessions: dict[tuple[Role, str], tuple[str, str]]
    """each officer's session cookie and CSRF token, by role and unit"""
    values: dict[str, str]
    """what fills each path parameter"""
    round: str
    """the reference of a dialogue round (a case of the node, not of a unit)"""


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A node with a draft case of OWNERS holding one file, a dialogue round, and an officer of
    every role in OWNERS and in OTHERS, each signed in (both factors) to the web UI."""
    root: Path = tmp_path_factory.mktemp("web-matrix")
    settings = Settings(data_dir=root / "node", run_workers=False)
    init_node(settings, name="US-DOJ", country="US", endpoint="http://127.0.0.1:9")
    peer, _ = init_node(
        Settings(data_dir=root / "cn"), name="CN-MOJ", country="CN", endpoint="http://127.0.0.1:9"
    )
    app = create_app(settings)
    with TestClient(app) as client:
        runtime: Any = app.state.runtime
        sessions: dict[tuple[Role, str], tuple[str, str]] = {}
        vault = vault_for(settings.keys_dir)
        with runtime.transaction() as session:
            add_peer(session, card=peer.card(), own_name=runtime.node.name)
            reference = open_case(
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
                unit=OWNERS,
            ).reference
            attachments.attach(
                session,
                node=runtime.node,
                reference=reference,
                content=io.BytesIO(b"statement of account\n"),
                filename="statement.txt",
                media_type="text/plain",
                handling_code=HandlingCode.H0,
                description="",
                officer="Officer Smith",
            )
            sha256 = next(iter(attachments.holdings(session, case=_case(session, reference))))
            round_reference = dialogue.open_round(
                session,
                node=runtime.node,
                round_in=RoundIn(
                    peer="CN-MOJ",
                    mechanism="law_enforcement_cyber",
                    number=1,
                    starts_on=date(2026, 11, 29),
                    venue="Beijing",
                    host_cochair="Vice Minister",
                    guest_cochair="Deputy Attorney General",
                ),
                officer="coordinator",
            ).reference
            for unit in (OWNERS, OTHERS):
                for role in Role:
                    user = accounts.create_user(
                        session,
                        username=f"{unit}-{role.value.replace('_', '-')}",
                        display_name=role.value,
                        role=role,
                        unit=unit,
                        password=PASSWORD,
                    )
                    accounts.begin_totp(session, user=user, issuer="test", vault=vault)
                    user.totp_enabled = True  # enrolled
                    sessions[(role, unit)] = _signed_in(session, user)
        values = {
            "{reference}": reference,
            "{sha256}": sha256,
            "{username}": f"{OWNERS}-analyst",
            "{request_id}": "00000000-0000-7000-8000-000000000000",
            "{code}": "zh",
            "{person_id}": "P1",
        }
        yield Node(client, runtime, sessions, values, round_reference)


def _signed_in(session: Session, user: User) -> tuple[str, str]:
    """A web session past both factors: its cookie and its CSRF token."""
    token, web = accounts.start_session(session, user=user, remote_addr=None, hours=1)
    web.second_factor_done = True  # as after the code was checked
    return token, web.csrf_token


def _fresh(node: Node, role: Role, unit: str) -> tuple[str, str]:
    with node.runtime.transaction() as session:
        user = accounts.get_user(session, f"{unit}-{role.value.replace('_', '-')}")
        return _signed_in(session, user)


def _case(session: Session, reference: str) -> Case:
    found = session.scalar(select(Case).where(Case.reference == reference))
    assert found is not None
    return found


def _url(node: Node, method: str, path: str) -> str:
    url = path
    if path.startswith("/dialogue/rounds/"):
        url = url.replace("{reference}", node.round)
    for name, value in node.values.items():
        url = url.replace(name, value)
    return url


def _call(
    node: Node, method: str, url: str, expect: Expect, who: tuple[str, str] | None
) -> tuple[int, str]:
    node.client.cookies.clear()
    if who is not None:
        node.client.cookies.set(SESSION_COOKIE, who[0])
    form = expect.form | ({"csrf_token": who[1]} if who else {})
    if method == "GET":
        answer = node.client.get(url, params=expect.form, follow_redirects=False)
    elif expect.upload:
        upload = {"file": ("note.txt", b"a note\n", "text/plain")}
        form |= {"handling_code": "H0"}
        answer = node.client.post(url, data=form, files=upload, follow_redirects=False)
    else:
        answer = node.client.post(url, data=form, follow_redirects=False)
    return answer.status_code, answer.headers.get("location", "")


@pytest.mark.parametrize(("method", "path"), sorted(WEB))
def test_every_web_route_as_every_role_of_either_unit(node: Node, method: str, path: str) -> None:
    expect = WEB[(method, path)]
    url = _url(node, method, path)
    status, location = _call(node, method, url, expect, None)
    if expect.anonymous is None and method == "GET":
        assert (status, location.split("?")[0]) == (303, "/login"), (method, path, status)
    elif expect.anonymous is None:  # a form sent without a session: signing in, what was typed
        assert (status, location) == (401, ""), (method, path, status)
    else:
        assert status == expect.anonymous, (method, path, status)
    seen = {}
    for (role, unit), who in sorted(node.sessions.items()):
        if expect.ends_session:
            who = _fresh(node, role, unit)
        status, _ = _call(node, method, url, expect, who)
        seen[(role.value, unit)] = status
    wanted = {
        (role.value, unit): (
            expect.refused
            if role not in expect.roles
            else 404
            if expect.of_case and unit == OTHERS
            else expect.ok
        )
        for role, unit in node.sessions
    }
    assert seen == wanted, (method, path)
