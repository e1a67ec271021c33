"""Idempotency keys on case actions: a request sent again with its key (its answer lost to a
killed process, a double submit, a browser's retry) is acted on once and answered the same,
through the REST API, the CLI and the web UI, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from accord.accounts.models import User
from accord.accounts.service import create_user, issue_token
from accord.app import create_app
from accord.audit.models import AuditEntry
from accord.cases import service
from accord.cases.models import Case
from accord.cli.root import app as cli
from accord.cli.scenarios import MLA_OPENING
from accord.config import Settings
from accord.core.clock import utcnow
from accord.core.errors import Conflict, InvalidInput
from accord.core.permissions import Role
from accord.federation.workers import Workers
from accord.idempotency import service as idempotency
from accord.idempotency.models import IdempotencyKey
from accord.web.once import IDEMPOTENCY_FIELD
from tests.helpers import Node, log_of, make_node, open_mla, peer_up
from tests.web.conftest import PASSWORD, Web, csrf_of

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"
DAY = timedelta(hours=24)
NOTE = {"action": "note", "payload": {"text": "Called the desk officer in Beijing"}}


@dataclass
class Api:
    client: TestClient
    us: Node
    cn: Node
    reference: str
    tokens: dict[str, str]
    settings: Settings

    def post(
        self, path: str, body: dict[str, Any], *, key: str | None = None, officer: str = "smith"
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[officer]}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.post(path, json=body, headers=headers)

    def act(
        self, body: dict[str, Any] = NOTE, *, key: str | None = KEY, officer: str = "smith"
    ) -> httpx.Response:
        return self.post(f"/api/v1/cases/{self.reference}/actions", body, key=key, officer=officer)

    def notes(self, reference: str | None = None) -> list[dict[str, Any]]:
        return [e for e in log_of(self.us, reference or self.reference) if e["action"] == "note"]


@pytest.fixture
def api(tmp_path: Path, database_url: Any) -> Iterator[Api]:
    url = database_url("us")
    us = make_node(tmp_path, url, "US-DOJ", "US")
    cn = make_node(tmp_path, database_url("cn"), "CN-MOJ", "CN")
    peer_up(us, cn)
    tokens = {}
    with us.runtime.transaction() as session:
        for username in ("smith", "jones"):
            user = create_user(
                session,
                username=username,
                display_name=f"Officer {username.title()}",
                role=Role.LIAISON_OFFICER,
                unit="central-authority",
                password=PASSWORD,
            )
            tokens[username] = issue_token(session, name="test", user=user)
    reference = open_mla(us, cn.name)
    settings = Settings(data_dir=tmp_path / "US-DOJ", database_url=url, run_workers=False)
    with TestClient(create_app(settings)) as client:
        yield Api(client, us, cn, reference, tokens, settings)
    us.runtime.close()
    cn.runtime.close()


def _kept(node: Node) -> list[IdempotencyKey]:
    with node.runtime.transaction() as session:
        return list(session.scalars(select(IdempotencyKey)))


def _age_keys(node: Node, by: timedelta) -> None:
    with node.runtime.transaction() as session:
        session.execute(update(IdempotencyKey).values(created_at=utcnow() - by))


# -- the REST API -------------------------------------------------------------------------------


def test_a_retried_action_with_its_key_is_applied_once_and_answered_the_same(api: Api) -> None:
    first = api.act()
    again = api.act()
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert again.status_code == first.status_code
    assert again.content == first.content  # the same body, byte for byte
    assert again.headers["idempotent-replayed"] == "true"
    assert len(api.notes()) == 1
    with api.us.runtime.reading() as session:
        replays = list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == "idempotency.replay"))
        )
    assert [r.detail["idempotency_key"] for r in replays] == [KEY]
    assert replays[0].actor == "smith"


def test_a_key_sent_as_a_structured_field_string_is_the_same_key(api: Api) -> None:
    assert api.act(key=f'"{KEY}"').status_code == 201
    assert api.act(key=KEY).headers["idempotent-replayed"] == "true"
    assert len(api.notes()) == 1


def test_every_keyed_route_that_opens_a_case_replays_its_answer(api: Api) -> None:
    opening = {**MLA_OPENING, "peer": api.cn.name}
    first = api.post("/api/v1/cases", opening, key=KEY)
    again = api.post("/api/v1/cases", opening, key=KEY)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json()["reference"] == first.json()["reference"]
    with api.us.runtime.reading() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 2  # and open_mla's


def test_the_same_key_with_another_request_is_refused_and_acts_on_nothing(api: Api) -> None:
    assert api.act().status_code == 201
    other_body = api.act({"action": "note", "payload": {"text": "Something else"}})
    assert other_body.status_code == 422, other_body.text
    assert "was used for another request" in other_body.json()["message"]
    assert "with another body" in other_body.json()["message"]
    other_case = open_mla(api.us, api.cn.name)
    elsewhere = api.post(f"/api/v1/cases/{other_case}/actions", NOTE, key=KEY)
    assert elsewhere.status_code == 422
    assert f"/api/v1/cases/{api.reference}/actions" in elsewhere.json()["message"]
    assert len(api.notes()) == 1 and api.notes(other_case) == []


def test_keys_are_each_officers_own(api: Api) -> None:
    smiths = api.act(officer="smith")
    jones = api.act({"action": "note", "payload": {"text": "Jones's own"}}, officer="jones")
    assert smiths.status_code == jones.status_code == 201
    assert "idempotent-replayed" not in jones.headers
    assert [n["actor_officer"] for n in api.notes()] == ["Officer Smith", "Officer Jones"]
    again = api.act(officer="smith")
    assert again.headers["idempotent-replayed"] == "true" and again.content == smiths.content


def test_a_refused_action_keeps_nothing_so_its_key_stays_free(api: Api) -> None:
    refused = api.act({"action": "acknowledge", "payload": {}})  # the requested side's
    assert refused.status_code == 409, refused.text
    assert _kept(api.us) == []
    assert api.act().status_code == 201
    assert len(api.notes()) == 1


def test_a_key_expires_after_its_lifetime_and_the_worker_prunes_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings().idempotency_lifetime == DAY
    monkeypatch.setenv("ACCORD_IDEMPOTENCY_KEY_HOURS", "0.5")
    assert Settings().idempotency_lifetime == timedelta(minutes=30)
    assert api.act().status_code == 201
    _age_keys(api.us, DAY + timedelta(minutes=1))
    anew = api.act()
    assert anew.status_code == 201 and "idempotent-replayed" not in anew.headers
    assert len(api.notes()) == 2
    assert idempotency.prune(api.us.runtime.factory, lifetime=DAY) == 0  # the new one is young
    _age_keys(api.us, DAY + timedelta(minutes=1))
    assert idempotency.prune(api.us.runtime.factory, lifetime=DAY) == 1
    assert _kept(api.us) == []


def test_the_workers_forget_expired_keys_in_their_rounds(api: Api) -> None:
    assert api.act().status_code == 201
    _age_keys(api.us, DAY + timedelta(minutes=1))
    workers = Workers(api.us.runtime.factory, api.us.identity, api.settings)
    workers.start(delivery=False)
    try:
        deadline = time.monotonic() + 10
        while _kept(api.us) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        workers.shutdown()
    assert _kept(api.us) == []
    assert api.act().status_code == 201  # acted anew: the key was forgotten
    _age_keys(api.us, DAY + timedelta(minutes=1))
    assert idempotency.prune_expired(api.us.runtime.factory, api.settings) == 0  # next round
    assert len(_kept(api.us)) == 1 and len(api.notes()) == 2


def test_an_action_and_its_kept_answer_commit_together(api: Api) -> None:
    """A process killed before the commit leaves neither the action nor the key; after the
    commit, both: the retry is then answered from the key."""
    keyed = idempotency.keyed_request(
        KEY, scope="operator:cli", method="CLI", target="accord case act", body=NOTE
    )

    def note(session: Session) -> idempotency.Answer:
        acted = service.act(
            session,
            node=api.us.identity,
            reference=api.reference,
            action="note",
            payload=NOTE["payload"],
            officer="cli",
        )
        assert acted.event is not None
        return idempotency.Answer(0, {"seq": acted.event.seq})

    class Killed(Exception):
        pass

    with pytest.raises(Killed), api.us.runtime.transaction() as session:
        idempotency.once(session, request=keyed, lifetime=DAY, perform=lambda: note(session))
        raise Killed
    assert api.notes() == [] and _kept(api.us) == []
    answers = []
    for _ in range(2):
        with api.us.runtime.transaction() as session:
            answers.append(
                idempotency.once(
                    session, request=keyed, lifetime=DAY, perform=lambda: note(session)
                )
            )
    first, again = answers
    assert not first.replayed and again.replayed and again.answer == first.answer
    assert len(api.notes()) == 1


def test_a_duplicate_sent_while_the_first_is_in_flight(api: Api, store: str) -> None:
    """PostgreSQL refuses it (409, as the draft asks); SQLite has one writer, so there the
    duplicate waits for the first and is answered with its answer."""
    with api.us.runtime.reading() as session:
        smith = session.scalar(select(User.id).where(User.username == "smith"))
    keyed = idempotency.keyed_request(
        KEY,
        scope=f"user:{smith}",
        method="POST",
        target=f"/api/v1/cases/{api.reference}/actions",
        body=NOTE,
    )
    entered, release = threading.Event(), threading.Event()

    def slow() -> idempotency.Answer:
        entered.set()
        release.wait(10)
        return idempotency.Answer(201, {"first": True})

    def first() -> None:
        with api.us.runtime.transaction() as session:
            idempotency.once(session, request=keyed, lifetime=DAY, perform=slow)

    in_flight = threading.Thread(target=first)
    in_flight.start()
    assert entered.wait(10)
    try:
        if store == "postgresql":
            refused = pytest.raises(Conflict, match="still being processed")
            with refused, api.us.runtime.transaction() as session:
                idempotency.once(
                    session,
                    request=keyed,
                    lifetime=DAY,
                    perform=lambda: idempotency.Answer(201, {"first": False}),
                )
            through_api = api.act()
            assert through_api.status_code == 409 and through_api.json()["error"] == "conflict"
        else:
            answers: list[idempotency.Answered] = []

            def duplicate() -> None:
                with api.us.runtime.transaction() as session:
                    answers.append(
                        idempotency.once(
                            session,
                            request=keyed,
                            lifetime=DAY,
                            perform=lambda: idempotency.Answer(201, {"first": False}),
                        )
                    )

            waiting = threading.Thread(target=duplicate)
            waiting.start()
            time.sleep(0.3)
            assert waiting.is_alive() and answers == []
            release.set()
            waiting.join(10)
            assert answers[0].replayed and answers[0].answer.body == {"first": True}
    finally:
        release.set()
        in_flight.join(10)


@pytest.mark.parametrize(
    "value",
    ["", "x" * 256, "clé", "tab\there", '"unclosed\\"', '"a"b"'],
    ids=["empty", "too-long", "not-ascii", "control", "dangling-escape", "bare-quote"],
)
def test_a_key_that_is_not_printable_ascii_of_bounded_length_is_invalid(value: str) -> None:
    with pytest.raises(InvalidInput, match="Idempotency-Key"):
        idempotency.parse_key(value)


def test_a_quoted_key_is_read_as_a_structured_field_string() -> None:
    assert idempotency.parse_key('"a\\"b\\\\c"') == 'a"b\\c'
    assert idempotency.parse_key("plain-key") == "plain-key"


def test_an_over_long_header_is_refused_before_anything_is_done(api: Api) -> None:
    refused = api.act(key="k" * 256)
    assert refused.status_code == 422 and refused.json()["error"] == "invalid_input"
    assert api.notes() == []


KEYED_ROUTES = [
    ("post", "/api/v1/cases"),
    ("post", "/api/v1/cases/notices"),
    ("post", "/api/v1/cases/{reference}/actions"),
    ("post", "/api/v1/cases/{reference}/attachments"),
    ("post", "/api/v1/identity/cases/{reference}/proposals/{person_id}/confirm"),
    ("post", "/api/v1/dialogue/rounds"),
    ("post", "/api/v1/dialogue/rounds/{reference}/actions"),
]


def test_the_header_is_declared_on_every_route_that_acts_on_or_opens_a_case() -> None:
    paths = create_app(Settings(run_workers=False)).openapi()["paths"]
    for method, path in KEYED_ROUTES:
        declared = {p["name"]: p for p in paths[path][method]["parameters"] if p["in"] == "header"}
        header = declared["Idempotency-Key"]
        assert header["required"] is False
        assert "422" in header["description"] and "409" in header["description"]
        schema = next(s for s in header["schema"]["anyOf"] if s.get("type") == "string")
        assert schema["maxLength"] == idempotency.MAX_KEY_LENGTH


# -- the CLI ------------------------------------------------------------------------------------


def test_the_cli_acts_once_per_key_and_operator(api: Api) -> None:
    node = ["--data", str(api.settings.data_dir), "--database-url", str(api.settings.database_url)]
    note = ["case", "act", api.reference, "note", "--data", '{"text": "By the operator"}']
    first = CliRunner().invoke(cli, [*node, *note, "--idempotency-key", KEY])
    again = CliRunner().invoke(cli, [*node, *note, "--idempotency-key", KEY])
    assert first.exit_code == again.exit_code == 0, first.output + again.output
    assert "applied as event" in first.output and "answered before" not in first.output
    assert again.output.splitlines()[0] == first.output.splitlines()[0]
    assert "answered before with idempotency key" in again.output
    assert len(api.notes()) == 1
    other = CliRunner().invoke(cli, [*node, *note, "--officer", "ops2", "--idempotency-key", KEY])
    assert other.exit_code == 0 and "answered before" not in other.output
    assert len(api.notes()) == 2
    edited = ["case", "act", api.reference, "note", "--data", '{"text": "Edited"}']
    changed = CliRunner().invoke(cli, [*node, *edited, "--idempotency-key", KEY])
    assert isinstance(changed.exception, InvalidInput)
    assert "was used for another request" in changed.exception.message
    assert len(api.notes()) == 2


def test_the_cli_opens_a_case_once_per_key(api: Api) -> None:
    node = ["--data", str(api.settings.data_dir), "--database-url", str(api.settings.database_url)]
    opening = [
        "case",
        "new",
        "mla",
        "--peer",
        api.cn.name,
        "--title",
        "Records of a money mule network",
        "--details",
        '{"offence": "Money laundering", "assistance": ["bank_records"]}',
        "--idempotency-key",
        KEY,
    ]
    first = CliRunner().invoke(cli, [*node, *opening])
    again = CliRunner().invoke(cli, [*node, *opening])
    assert first.exit_code == again.exit_code == 0, first.output + again.output
    reference = first.output.split()[0]
    assert reference.startswith("MLA-US-") and again.output.split()[0] == reference
    with api.us.runtime.reading() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 2  # and open_mla's


# -- the web UI ---------------------------------------------------------------------------------


@pytest.fixture
def web(api: Api) -> Iterator[Web]:
    with api.us.runtime.transaction() as session:
        create_user(
            session,
            username="lee",
            display_name="Officer Lee",
            role=Role.LIAISON_OFFICER,
            unit="central-authority",
            password=PASSWORD,
        )
    yield Web(us=api.us, cn=api.cn, app=api.client.app, reference=api.reference, secrets={})


def _form_key(html: str, marker: str) -> str:
    form = html[html.index(marker) :]
    found = re.search(rf'name="{IDEMPOTENCY_FIELD}" value="([0-9a-f]{{32}})"', form)
    assert found, "the form carries no idempotency key"
    return found.group(1)


def test_a_web_action_form_sent_twice_is_acted_on_once(web: Web, api: Api) -> None:
    client = web.client()
    web.sign_in(client, "lee")
    page = client.get(f"/cases/{web.reference}").text
    key = _form_key(page, 'data-action="note"')
    form = {
        "csrf_token": csrf_of(page),
        "action": "note",
        "note.text": "Sent twice by a double click",
        IDEMPOTENCY_FIELD: key,
    }
    first = client.post(f"/cases/{web.reference}/act", data=form, follow_redirects=False)
    again = client.post(f"/cases/{web.reference}/act", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303, first.text
    assert again.headers["location"] == first.headers["location"]
    assert len(api.notes()) == 1
    rendered_again = client.get(f"/cases/{web.reference}").text
    assert _form_key(rendered_again, 'data-action="note"') != key  # a new key per rendering
    changed = client.post(
        f"/cases/{web.reference}/act",
        data={**form, "note.text": "Edited after going back"},
        follow_redirects=False,
    )
    assert changed.status_code == 422 and "was used for another request" in changed.text
    assert len(api.notes()) == 1


def test_the_new_case_form_sent_twice_opens_one_case(web: Web, api: Api) -> None:
    client = web.client()
    web.sign_in(client, "lee")
    page = client.get("/cases/new?type=mla").text
    form = {
        "csrf_token": csrf_of(page),
        IDEMPOTENCY_FIELD: _form_key(page, 'class="stack case-form"'),
        "peer": web.cn.name,
        "area": "judicial_assistance",
        "priority": "routine",
        "handling_code": "H1",
        "title": "Records of a money mule network",
        "d.offence": "Money laundering",
        "d.assistance": ["bank_records"],
    }
    first = client.post("/cases/new?type=mla", data=form, follow_redirects=False)
    again = client.post("/cases/new?type=mla", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303, first.text
    assert again.headers["location"] == first.headers["location"]
    assert first.headers["location"].startswith("/cases/MLA-US-")
    with api.us.runtime.reading() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 2  # and open_mla's
