"""Notices as INTERPOL's public API publishes them: every sample file of ../shared/samples/notices
read (red, yellow, search page, images listing), every field kept and shown, errors that name the
notice's field, and the same notice imported twice — over the REST API, the CLI and the peer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from accord.accounts.service import create_user, issue_token
from accord.app import create_app
from accord.cases import notices, service
from accord.cases.definitions.fugitive import FUGITIVE, notice_from_interpol
from accord.cases.definitions.notices import BOM, Shape, read_notice_file
from accord.cases.enums import HandlingCode, Priority, Side
from accord.cases.models import Case
from accord.cli.root import app as cli
from accord.config import Settings
from accord.core.dialects import JsonText, dialect_of
from accord.core.errors import InvalidInput, WorkflowViolation
from accord.core.permissions import Role
from tests.helpers import Node, act, log_of, make_node, peer_up, published_samples, pump
from tests.web.conftest import Web, web  # noqa: F401 (the web UI's fixture, signed in below)

SAMPLES = published_samples("notices")
RED = SAMPLES / "red-2022-23535.json"
YELLOW = SAMPLES / "yellow-2021-5590.json"
PAGE = SAMPLES / "red-search-page.json"
IMAGES = SAMPLES / "red-2019-48213-images.json"


RED_REVIEW = {
    "reviewer": "R",
    "treaty_basis": "extradition treaty",
    "dual_criminality": True,
    "neutrality_confirmed": True,
    "human_rights_confirmed": True,
    "reasons": "ordinary fraud; no risk on return",
}


def sample(path: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(path.read_bytes())
    return value


def test_every_sample_file_is_recognised_and_named() -> None:
    assert sorted(p.name for p in SAMPLES.glob("*.json")) == sorted(
        p.name for p in (RED, YELLOW, PAGE, IMAGES)
    )
    assert read_notice_file(RED.read_bytes()).shape is Shape.RED
    assert read_notice_file(YELLOW.read_bytes()).shape is Shape.YELLOW
    page = read_notice_file(PAGE.read_bytes())
    assert page.shape is Shape.SEARCH_PAGE
    assert [n.notice_id for n in page.notices] == ["2019/48213", "2020/11002"]
    with pytest.raises(InvalidInput) as refused:
        read_notice_file(IMAGES.read_bytes())
    assert refused.value.message == (
        "this is the images listing of notice 2019/48213, not a notice; fetch "
        "https://ws-public.interpol.int/notices/v1/red/2019-48213"
    )


def test_every_field_of_a_red_notice_is_kept() -> None:
    raw = RED.read_bytes()
    (notice,) = read_notice_file(raw).notices
    assert notice.details is not None
    details = FUGITIVE.validate_opening(notice.details)
    assert details["notice_kind"] == "red" and details["notice_id"] == "2022/23535"
    assert (details["name"], details["forename"]) == ("GARCÍA LÓPEZ", "MARÍA FERNANDA")
    assert details["country_of_birth"] == "CO" and details["nationalities"] == ["CO", "VE"]
    assert details["hairs"] == ["BRO"] and details["eyes_colors"] == []  # null in the notice
    assert details["height"] is None and details["weight"] is None  # 0: not known
    assert details["languages_spoken"] == ["SPA"] and details["sex"] == "F"
    assert details["distinguishing_marks"] == "Tattoo of a rose on the right wrist"
    first, second = details["arrest_warrants"]
    assert first["issuing_country"] == "CO" and "\r\nARTICULO 376" in first["charge"]
    assert first["charge_translation"].startswith("Aggravated conspiracy")
    assert second == {
        "issuing_country": "PA",
        "charge": "Blanqueo de capitales",
        "charge_translation": "",
    }
    source = details["source"]
    assert source["sha256"] == hashlib.sha256(raw).hexdigest() and source["size"] == len(raw)
    assert source["links"] == {
        "self": "https://ws-public.interpol.int/notices/v1/red/2022-23535",
        "images": "https://ws-public.interpol.int/notices/v1/red/2022-23535/images",
        "thumbnail": "https://ws-public.interpol.int/notices/v1/red/2022-23535/images/62412750",
    }
    assert source["unmapped"] == [] and source["summary"] is False


def test_a_yellow_notice_is_a_missing_person_not_a_broken_red_notice() -> None:
    (notice,) = read_notice_file(YELLOW.read_bytes()).notices
    assert notice.details is not None
    details = FUGITIVE.validate_opening(notice.details)
    assert details["notice_kind"] == "yellow" and details["arrest_warrants"] == []
    assert details["height"] == 1.58 and details["weight"] == 45
    assert details["eyes_colors"] == ["BLA"] and details["hairs"] == ["BLA"]
    assert details["disappeared_on"] == "2021-03-14"
    assert (details["disappearance_place"], details["disappearance_country"]) == (
        "Guangzhou",
        "CN",
    )
    assert details["countries_likely_to_be_visited"] == ["HK", "VN"]
    assert (details["father_name"], details["father_forename"]) == ("LIU", "JIANGUO")
    assert (details["mother_name"], details["mother_forename"]) == ("WANG", "FANG")
    assert details["date_of_birth"] == "2006-11-02" and details["country_of_birth"] == "CN"


def test_a_search_page_entry_is_a_summary_with_its_dates_read() -> None:
    entries = read_notice_file(PAGE.read_bytes()).notices
    assert [n.position for n in entries] == ["_embedded.notices[0]", "_embedded.notices[1]"]
    first = entries[0].details
    assert first is not None and first["date_of_birth"] == "1970-05-12"  # 1970/05/12
    assert first["source"]["summary"] is True and first["arrest_warrants"] == []
    assert first["source"]["links"]["self"].endswith("/red/2019-48213")


# -- errors name the notice's own field ---------------------------------------------------------


def test_a_null_issuing_country_is_named_by_its_field() -> None:
    notice = sample(RED)
    notice["arrest_warrants"][1]["issuing_country_id"] = None
    with pytest.raises(InvalidInput) as refused:
        notice_from_interpol(notice)
    assert refused.value.message == (
        "arrest_warrants[1].issuing_country_id is empty: the issuing country is required"
    )
    assert refused.value.problems.items[0].path == ("arrest_warrants", "1", "issuing_country_id")


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ("1970/05/12", "1970-05-12"),
        ("1970/05", "1970-05"),
        ("1970", "1970"),
        ("1970-05-12", "1970-05-12"),
        ("28/02/1981", "1981-02-28"),  # only one reading is a date
        ("05/05/1981", "1981-05-05"),  # both readings are the same day
    ],
)
def test_dates_in_the_forms_notices_use(value: str, read: str) -> None:
    notice = {**sample(RED), "date_of_birth": value}
    assert notice_from_interpol(notice)["date_of_birth"] == read


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "12/05/1970",
            "date_of_birth '12/05/1970' is ambiguous (12 May or December 5 1970?): the notices "
            "API writes dates as YYYY/MM/DD; write 1970/05/12 or 1970/12/05",
        ),
        ("1970/02/30", "date_of_birth '1970/02/30' is not a day of the calendar"),
        ("1970/13", "date_of_birth '1970/13' has no month 13"),
        ("May 1970", "date_of_birth 'May 1970' is not a date as notices write them"),
        (1970, "date_of_birth must be text such as 1970/05/12, not a number"),
    ],
)
def test_a_date_that_cannot_be_read_says_why(value: object, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        notice_from_interpol({**sample(RED), "date_of_birth": value})
    assert refused.value.message.startswith(message)


def test_every_problem_of_a_notice_is_named_at_once() -> None:
    notice = {
        **sample(RED),
        "name": "",
        "sex_id": "X",
        "height": 175,
        "nationalities": ["CO", "Colombia"],
    }
    notice["arrest_warrants"] = [{"issuing_country_id": "CO", "charge": None}]
    with pytest.raises(InvalidInput) as refused:
        notice_from_interpol(notice)
    message = refused.value.message
    assert "name is empty: the family name is required" in message
    assert "nationalities[1] 'Colombia' is not an ISO 3166 alpha-2 country code" in message
    assert "sex_id 'X' is not M, F or U" in message
    assert "height 175 is not a height in metres" in message
    assert "arrest_warrants[0].charge is empty: the charge is required" in message


def test_a_red_notice_without_a_warrant_says_what_a_yellow_notice_is() -> None:
    with pytest.raises(InvalidInput, match=r"arrest_warrants is empty: a red notice carries"):
        notice_from_interpol({**sample(RED), "arrest_warrants": []})


def test_an_error_in_a_search_page_names_the_entry() -> None:
    page = sample(PAGE)
    page["_embedded"]["notices"][1]["nationalities"] = ["China"]
    second = read_notice_file(json.dumps(page).encode()).notices[1]
    assert second.error is not None and second.error.message.startswith(
        "_embedded.notices[1].nationalities[0] 'China' is not an ISO 3166 alpha-2 country code"
    )


def test_a_byte_order_mark_is_accepted_and_the_bytes_kept() -> None:
    raw = BOM + RED.read_bytes()
    read = read_notice_file(raw)
    assert read.shape is Shape.RED and read.original == raw
    assert read.sha256 == hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "the file is empty"),
        (b'{"name": "X",}', "the file is not JSON: Expecting property name"),
        ("{}".encode("utf-16"), "the file is UTF-16 text: save it as UTF-8"),
        (b'{"name": "\xff"}', "the file is not UTF-8 text"),
        (b"[1, 2]", "this is not a file of INTERPOL's public notices API: it is a JSON array"),
        (
            b'{"type": "bundle", "objects": []}',
            "this is not a file of INTERPOL's public notices API: it is a JSON object with the "
            "fields objects, type",
        ),
        (
            b'{"entity_id": "2020/1", "name": "X", '
            b'"_links": {"self": {"href": "https://ws-public.interpol.int/notices/v1/un/2020-1"}}}',
            "this is a un notice",
        ),
    ],
)
def test_a_file_that_is_no_notice_says_what_it_looks_like(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_notice_file(raw)
    assert refused.value.message.startswith(message)


# -- the workflow of a yellow notice ----------------------------------------------------------


def test_a_yellow_notice_is_reviewed_for_the_persons_safety_and_closed_once_found() -> None:
    yellow = {"notice_kind": "yellow", "notice_id": "2021/5590"}
    red = {"notice_kind": "red", "notice_id": "2022/23535"}
    review = {
        "reviewer": "R",
        "legal_basis": "Article 3 of INTERPOL's Constitution; domestic law on missing persons",
        "neutrality_confirmed": True,
        "protective_purpose_confirmed": True,
        "reasons": "a minor, missing since March",
    }
    step = {"state": "under_review", "side": Side.REQUESTED, "facts": yellow}
    with pytest.raises(WorkflowViolation, match="record_missing_person_review"):
        FUGITIVE.decide(**step, action="record_review", payload=RED_REVIEW)
    declared, _ = FUGITIVE.decide(**step, action="record_missing_person_review", payload=review)
    assert declared.target == "accepted"
    with pytest.raises(InvalidInput, match="protective purpose not confirmed"):
        FUGITIVE.decide(
            **step,
            action="record_missing_person_review",
            payload={**review, "protective_purpose_confirmed": False},
        )
    with pytest.raises(WorkflowViolation, match="record_review"):
        FUGITIVE.decide(
            state="under_review",
            side=Side.REQUESTED,
            facts=red,
            action="record_missing_person_review",
            payload=review,
        )
    found = {"found_on": "2026-03-01", "whereabouts_disclosed": False}
    located = {"state": "location_requested", "side": Side.REQUESTED}
    assert FUGITIVE.decide(**located, facts=yellow, action="report_found", payload=found)[
        0
    ].target == ("found")
    with pytest.raises(WorkflowViolation, match="report_found"):
        FUGITIVE.decide(
            **located,
            facts=yellow,
            action="report_located",
            payload={"place": "Hanoi", "located_on": "2026-03-01", "custody": False},
        )
    with pytest.raises(WorkflowViolation, match="report_located"):
        FUGITIVE.decide(**located, facts=red, action="report_found", payload=found)
    closing = FUGITIVE.decide(
        state="found",
        side=Side.REQUESTING,
        facts=yellow,
        action="close",
        payload={"satisfied": True},
    )
    assert closing[0].target == "closed"


# -- over the API, between two nodes ------------------------------------------------------------


@dataclass
class Api:
    client: TestClient
    us: Node
    cn: Node
    token: str

    def post(self, body: dict[str, Any]) -> httpx.Response:
        return self.client.post(
            "/api/v1/cases/notices",
            json={"peer": self.cn.name, **body},
            headers={"Authorization": f"Bearer {self.token}"},
        )

    def file(self, raw: bytes) -> httpx.Response:
        return self.post({"notice": raw.decode("utf-8")})

    def cases(self, node: Node | None = None) -> int:
        with (node or self.us).runtime.reading() as session:
            return int(session.scalar(select(func.count()).select_from(Case)) or 0)


@pytest.fixture
def api(tmp_path: Path, database_url: Any) -> Iterator[Api]:
    url = database_url("us")
    us = make_node(tmp_path, url, "US-DOJ", "US")
    cn = make_node(tmp_path, database_url("cn"), "CN-MOJ", "CN")
    peer_up(us, cn)
    with us.runtime.transaction() as session:
        user = create_user(
            session,
            username="smith",
            display_name="Officer Smith",
            role=Role.LIAISON_OFFICER,
            unit="central-authority",
            password="correct horse battery staple",
        )
        token = issue_token(session, name="test", user=user)
    settings = Settings(data_dir=tmp_path / "US-DOJ", database_url=url, run_workers=False)
    with TestClient(create_app(settings)) as client:
        yield Api(client, us, cn, token)
    us.runtime.close()
    cn.runtime.close()


def test_a_red_notice_file_opens_a_case_that_keeps_and_shows_every_field(api: Api) -> None:
    raw = BOM + RED.read_bytes()
    answer = api.file(raw)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["notice"]["outcome"] == "opened" and body["file_shape"] == "red notice"
    assert body["file_sha256"] == hashlib.sha256(raw).hexdigest()
    details = body["details"]
    assert details["country_of_birth"] == "CO" and details["hairs"] == ["BRO"]
    assert details["source"]["links"]["images"].endswith("/red/2022-23535/images")
    shown = api.client.get(
        f"/api/v1/cases/{body['reference']}", headers={"Authorization": f"Bearer {api.token}"}
    ).json()
    assert shown["details"] == details
    (kept,) = [e for e in log_of(api.us, body["reference"]) if e["action"] == "attach"]
    assert kept["payload"]["sha256"] == body["file_sha256"]
    assert kept["payload"]["size"] == len(raw) and kept["payload"]["media_type"] == (
        "application/json"
    )
    download = api.client.get(
        f"/api/v1/cases/{body['reference']}/attachments/{body['file_sha256']}",
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert download.status_code == 200 and download.content == raw  # byte for byte, BOM too


def test_the_same_notice_twice_links_to_its_case_and_a_newer_one_updates_it(api: Api) -> None:
    raw = RED.read_bytes()
    first = api.file(raw).json()
    reference = first["reference"]
    again = api.file(raw)
    assert again.status_code == 200, again.text
    assert again.json()["notice"]["outcome"] == "linked"
    assert again.json()["reference"] == reference and api.cases() == 1

    newer = sample(RED)
    newer["distinguishing_marks"] = "Tattoo of a rose on the right wrist; scar on the chin"
    updated = api.post({"notice": newer})
    assert updated.status_code == 200, updated.text
    result = updated.json()["notice"]
    assert result["outcome"] == "updated" and result["reference"] == reference
    assert updated.json()["details"]["distinguishing_marks"].endswith("scar on the chin")
    assert api.cases() == 1
    update = [e for e in log_of(api.us, reference) if e["action"] == "update_notice"]
    assert [e["seq"] for e in update] == [result["event_seq"]]
    assert (
        update[0]["payload"]["previous_content_sha256"]
        == (first["details"]["source"]["content_sha256"])
    )

    pump(api.us, api.cn)  # the peer holds the case, the update and both files
    with api.cn.runtime.reading() as session:
        held = service.describe(
            session, case=service.get_case(session, reference=reference), node_name=api.cn.name
        )
    assert held.details["distinguishing_marks"].endswith("scar on the chin")
    assert [e["action"] for e in log_of(api.cn, reference)] == [
        e["action"] for e in log_of(api.us, reference)
    ]
    # the requested side imports the same notice toward the requesting side: no second case
    with api.cn.runtime.transaction() as session:
        imported = notices.import_notices(
            session,
            node=api.cn.identity,
            peer=api.us.name,
            raw=json.dumps(newer).encode(),
            priority=Priority.URGENT,
            handling_code=HandlingCode.H2,
            officer="li",
        )
    (outcome,) = imported.outcomes
    assert outcome.outcome == "linked" and outcome.case is not None
    assert outcome.case.reference == reference and api.cases(api.cn) == 1

    # a newer notice imported on the requested side goes to the sequencer like any action
    newest = {**newer, "weight": 61}
    with api.cn.runtime.transaction() as session:
        (outcome,) = notices.import_notices(
            session,
            node=api.cn.identity,
            peer=api.us.name,
            raw=json.dumps(newest).encode(),
            priority=Priority.URGENT,
            handling_code=HandlingCode.H2,
            officer="li",
        ).outcomes
    assert outcome.outcome == "updated" and outcome.event is None
    assert outcome.explanation.endswith("(sent to the peer, which keeps its log)")
    pump(api.us, api.cn)
    for node in (api.us, api.cn):
        with node.runtime.reading() as session:
            case = service.get_case(session, reference=reference)
            shown = service.describe(session, case=case, node_name=node.name)
        assert shown.details["weight"] == 61, node.name
    sides = [(e["action"], e["side"]) for e in log_of(api.us, reference)][-2:]
    assert sides == [("update_notice", "requested"), ("attach", "requested")]


def test_a_search_page_opens_a_case_per_notice_and_the_whole_notice_then_updates_one(
    api: Api,
) -> None:
    answer = api.file(PAGE.read_bytes())
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["file_shape"] == "search page"
    assert [(n["notice_id"], n["outcome"]) for n in body["notices"]] == [
        ("2019/48213", "opened"),
        ("2020/11002", "opened"),
    ]
    again = api.file(PAGE.read_bytes()).json()
    assert [n["outcome"] for n in again["notices"]] == ["linked", "linked"]
    assert api.cases() == 2

    whole = sample(RED)  # the whole notice of the first entry, fetched from its self link
    whole["entity_id"] = "2019/48213"
    whole["_links"] = sample(PAGE)["_embedded"]["notices"][0]["_links"]
    updated = api.post({"notice": whole}).json()
    assert updated["notice"]["outcome"] == "updated"
    assert updated["reference"] == body["notices"][0]["reference"]
    assert updated["details"]["arrest_warrants"][0]["issuing_country"] == "CO"
    summary_again = api.file(PAGE.read_bytes()).json()["notices"][0]
    assert summary_again["outcome"] == "linked"
    assert "does not replace the whole notice" in summary_again["explanation"]


def test_a_yellow_notice_opens_a_missing_person_case(api: Api) -> None:
    answer = api.file(YELLOW.read_bytes())
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["details"]["notice_kind"] == "yellow"
    assert body["title"] == "LIU XIAOLI — missing in Guangzhou since 2021-03-14"
    pump(api.us, api.cn)
    act(api.cn, body["reference"], "begin_review", {})
    pump(api.us, api.cn)
    with pytest.raises(WorkflowViolation, match="yellow notice"):
        act(api.cn, body["reference"], "record_review", RED_REVIEW)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (IMAGES, "this is the images listing of notice 2019/48213, not a notice; fetch https://"),
        (None, "arrest_warrants[0].issuing_country_id is empty: the issuing country is required"),
    ],
)
def test_a_refused_file_answers_422_naming_what_is_wrong(
    api: Api, path: Path | None, message: str
) -> None:
    if path is None:
        notice = sample(RED)
        notice["arrest_warrants"][0]["issuing_country_id"] = None
        answer = api.post({"notice": notice})
    else:
        answer = api.file(path.read_bytes())
    assert answer.status_code == 422, answer.text
    assert answer.json()["message"].startswith(message)
    assert api.cases() == 0


def test_a_search_page_answers_each_notice_and_imports_the_good_ones(api: Api) -> None:
    page = sample(PAGE)
    page["_embedded"]["notices"][0]["date_of_birth"] = "12/05/1970"
    answer = api.post({"notice": page})
    assert answer.status_code == 201, answer.text
    first, second = answer.json()["notices"]
    assert first["outcome"] == "refused" and first["reference"] is None
    assert first["explanation"].startswith("_embedded.notices[0].date_of_birth '12/05/1970' is")
    assert second["outcome"] == "opened" and api.cases() == 1


# -- the CLI ----------------------------------------------------------------------------------


def test_the_cli_imports_every_notice_of_a_page_and_links_the_second_time(
    api: Api, tmp_path: Path
) -> None:
    settings = api.us.runtime.settings
    node = ["--data", str(settings.data_dir), "--database-url", str(settings.database_url)]
    command = ["case", "import-notice", str(PAGE), "--peer", api.cn.name]
    first = CliRunner().invoke(cli, [*node, *command])
    assert first.exit_code == 0, first.output
    assert "search page, SHA-256 " + hashlib.sha256(PAGE.read_bytes()).hexdigest() in first.output
    assert first.output.count(" opened (notice)") == 2
    again = CliRunner().invoke(cli, [*node, *command])
    assert again.exit_code == 0, again.output
    assert again.output.count(" linked (notice)") == 2 and api.cases() == 2
    page = sample(PAGE)
    page["_embedded"]["notices"][1]["date_of_birth"] = "02/03/1981"
    bad = tmp_path / "page.json"
    bad.write_text(json.dumps(page))
    partly = CliRunner().invoke(cli, [*node, "case", "import-notice", str(bad), "--peer", "CN-MOJ"])
    assert partly.exit_code == 2, partly.output
    assert "_embedded.notices[1]: refused: _embedded.notices[1].date_of_birth" in partly.output
    assert "1 of 2 notices refused" in partly.output
    images = ["case", "import-notice", str(IMAGES), "--peer", api.cn.name]
    refused = CliRunner().invoke(cli, [*node, *images])
    assert isinstance(refused.exception, InvalidInput)  # `accord` exits 2 with its message
    assert refused.exception.message.startswith(
        "this is the images listing of notice 2019/48213, not a notice; fetch https://"
    )


# -- the case page --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "labels"),
    [
        ("smith", ["Country of birth", "Hair", "Issuing country", "Charge (translation)"]),
        ("wang", ["出生国", "头发", "签发国", "指控罪名（译文）"]),
    ],
)
def test_the_case_page_shows_the_notice_whole_in_both_languages(
    web: Web,  # noqa: F811 (the fixture imported above)
    username: str,
    labels: list[str],
) -> None:
    raw = RED.read_bytes()
    with web.us.runtime.transaction() as session:
        (outcome,) = notices.import_notices(
            session,
            node=web.us.identity,
            peer=web.cn.name,
            raw=raw,
            priority=Priority.URGENT,
            handling_code=HandlingCode.H2,
            officer="smith",
            unit="central-authority",
        ).outcomes
        assert outcome.case is not None
        reference = outcome.case.reference
    client = web.client()
    web.sign_in(client, username)
    page = client.get(f"/cases/{reference}")
    assert page.status_code == 200, page.text
    panel = page.text[page.text.index('id="notice-h"') : page.text.index('id="state-h"')]
    for label in labels:
        assert label in panel
    assert "Tattoo of a rose on the right wrist" in panel and "ARTICULO 340" in panel
    assert "https://ws-public.interpol.int/notices/v1/red/2022-23535/images" in panel
    assert hashlib.sha256(raw).hexdigest() in panel


def test_the_duplicate_check_is_a_lookup_in_the_notice_index(api: Api) -> None:
    """Migration 0015's expression index, read by the very expression the check writes."""
    with api.us.runtime.transaction() as session:
        query = select(Case.id).where(JsonText(Case.facts, "notice_id") == "2022/23535")
        if dialect_of(session) == "postgresql":
            session.execute(text("SET LOCAL enable_seqscan = off"))
            explained = session.execute(text(f"EXPLAIN {_sql(session, query)}"))
            plan = " ".join(row[0] for row in explained)
        else:
            rows = session.execute(text(f"EXPLAIN QUERY PLAN {_sql(session, query)}"))
            plan = " ".join(str(row[-1]) for row in rows)
    assert "ix_cases_notice_id" in plan, plan


def _sql(session: Session, query: Any) -> str:
    dialect = session.get_bind().dialect
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def test_a_case_opened_before_migration_0015_is_found_by_its_notice(api: Api) -> None:
    """The revision folds the notice's id into the facts of fugitive cases opened before it
    (its own downgrade and upgrade, run on the node's database)."""
    import importlib.util

    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    from accord.core.migrate import MIGRATIONS

    reference = api.file(RED.read_bytes()).json()["reference"]
    with api.us.runtime.transaction() as session:
        case = service.get_case(session, reference=reference)
        case.facts = {k: v for k, v in case.facts.items() if not k.startswith("notice_")}
    spec = importlib.util.spec_from_file_location(
        "revision_0015", MIGRATIONS / "versions" / "0015_notices_whole.py"
    )
    assert spec is not None and spec.loader is not None
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    with (
        api.us.runtime.engine.begin() as connection,
        Operations.context(MigrationContext.configure(connection)),
    ):
        revision.downgrade()
        revision.upgrade()
    with api.us.runtime.reading() as session:
        facts = service.get_case(session, reference=reference).facts
    assert (facts["notice_id"], facts["notice_kind"]) == ("2022/23535", "red")
    again = api.file(RED.read_bytes())
    assert again.json()["reference"] == reference and api.cases() == 1


# -- hostile files --------------------------------------------------------------------------------

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_fields = sorted(
    {
        "entity_id",
        "name",
        "forename",
        "date_of_birth",
        "sex_id",
        "height",
        "weight",
        "nationalities",
        "eyes_colors_id",
        "hairs_id",
        "languages_spoken_ids",
        "country_of_birth_id",
        "arrest_warrants",
        "_links",
        "_embedded",
        "date_of_event",
        "place",
        "country",
        "countries_likely_to_be_visited",
    }
)
_mutated = st.builds(
    lambda base, changes: {**base, **changes},
    st.sampled_from([sample(RED), sample(YELLOW), sample(PAGE), sample(IMAGES)]),
    st.dictionaries(st.sampled_from(_fields), _values, max_size=4),
)


@settings(max_examples=300, deadline=2000, database=None)
@given(
    data=st.one_of(_mutated, _values).map(lambda v: json.dumps(v).encode()) | st.binary(max_size=64)
)
def test_any_file_is_read_or_refused_with_a_reason(data: bytes) -> None:
    """Every notice read passes the opening's validation (so opens a case), or is refused."""
    try:
        read = read_notice_file(data)
    except InvalidInput as exc:
        assert exc.message
        return
    for notice in read.notices:
        if notice.details is not None:
            FUGITIVE.validate_opening(notice.details)
        else:
            assert notice.error is not None and notice.error.message
