"""Screening in cases: proposals made when a removal batch or a fugitive notice arrives, confirmed
by an officer into the removal workflow's own actions, on two real nodes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from accord.accounts.service import create_user, issue_token
from accord.app import create_app
from accord.cases import service as cases
from accord.cases.definitions.fugitive import person_sought
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cli import scenarios
from accord.core.errors import Conflict, InvalidInput, NotFound
from accord.core.permissions import Role
from accord.identity import integration, service
from accord.identity.documents import check_character
from accord.identity.linkage.index import WatchlistIndex
from accord.identity.records import person_from_row
from accord.identity.screening import Screener
from tests.helpers import Node, act, log_of, pump

# (characters, pinyin, Wade-Giles, given name first, Cantonese): the same name four ways.
NAMES = [
    ("张伟", "ZHANG Wei", "Chang Wei", "Wei Zhang", "Cheung Wai"),
    ("王芳", "WANG Fang", "Wang Fang", "Fang Wang", "Wong Fong"),
    ("李娜", "LI Na", "Li Na", "Na Li", "Lee Na"),
    ("刘洋", "LIU Yang", "Liu Yang", "Yang Liu", "Lau Yeung"),
    ("陈静", "CHEN Jing", "Ch'en Ching", "Jing Chen", "Chan Ching"),
    ("杨磊", "YANG Lei", "Yang Lei", "Lei Yang", "Yeung Lui"),
    ("黄勇", "HUANG Yong", "Huang Yung", "Yong Huang", "Wong Yung"),
    ("赵军", "ZHAO Jun", "Chao Chün", "Jun Zhao", "Chiu Kwan"),
    ("周杰", "ZHOU Jie", "Chou Chieh", "Jie Zhou", "Chow Kit"),
    ("吴敏", "WU Min", "Wu Min", "Min Wu", "Ng Man"),
    ("徐涛", "XU Tao", "Hsü T'ao", "Tao Xu", "Tsui To"),
    ("孙丽", "SUN Li", "Sun Li", "Li Sun", "Suen Lai"),
    ("马超", "MA Chao", "Ma Ch'ao", "Chao Ma", "Ma Chiu"),
    ("朱明", "ZHU Ming", "Chu Ming", "Ming Zhu", "Chu Ming"),
    ("胡斌", "HU Bin", "Hu Pin", "Bin Hu", "Wu Pan"),
    ("郭强", "GUO Qiang", "Kuo Ch'iang", "Qiang Guo", "Kwok Keung"),
    ("林慧", "LIN Hui", "Lin Hui", "Hui Lin", "Lam Wai"),
    ("何平", "HE Ping", "Ho P'ing", "Ping He", "Ho Ping"),
    ("高峰", "GAO Feng", "Kao Feng", "Feng Gao", "Ko Fung"),
    ("欧阳娜", "OUYANG Na", "Ou-yang Na", "Na Ouyang", "Au Yeung Na"),
]
UNKNOWN = ["DENG Lijun", "Tanaka Hiroshi", "John SMITH", "邓丽君", "KIM Minjun"]
OFFICER = "Officer Li Ming"
STRANGER = {"id": "S1", "name": "PARK Jiwoo", "birth_date": "2001-07-07"}


def resident_id(birth_date: str, sex: str, serial: int) -> str:
    """A valid 18-character identity card number encoding the date and sex."""
    sequence = 2 * serial + (1 if sex == "M" else 0)
    first_17 = "110101" + birth_date.replace("-", "") + f"{sequence % 1000:03d}"
    return first_17 + check_character(first_17)


def records() -> list[dict[str, str]]:
    """The requested side's records: each name three times (different people, seven years
    apart), and a namesake born in the same year as the first (only the date tells them apart)."""
    rows: list[dict[str, str]] = []
    for i, (han, *_) in enumerate(NAMES):
        for k in range(3):
            birth = f"{1960 + i + 7 * k}-{i % 12 + 1:02d}-{(9 * k + i) % 28 + 1:02d}"
            sex = "MF"[(i + k) % 2]
            rows.append(
                {
                    "id": f"R{i:02d}{k}",
                    "name": han,
                    "name_native": han,
                    "birth_date": birth,
                    "sex": sex,
                    "nationality": "CN",
                    "id_number": resident_id(birth, sex, 3 * i + k),
                }
            )
        first = rows[-3]
        rows.append({**first, "id": f"T{i:02d}", "birth_date": first["birth_date"][:4] + "-12-28"})
        del rows[-1]["id_number"]
    return rows


def batch() -> tuple[list[dict[str, str]], dict[str, str]]:
    """A removal batch of 100 persons, and the outcome each should get: 50 written in another
    script or romanisation than the record that is theirs (verified), 20 known only by the
    year of birth shared by two namesakes (not verified, with candidates), 20 namesakes born on
    other dates and 10 unknown names (no candidate)."""
    by_id = {r["id"]: r for r in records()}
    persons: list[dict[str, str]] = []
    expected: dict[str, str] = {}

    def add(person: dict[str, str], outcome: str) -> None:
        person_id = f"P{len(persons) + 1:03d}"
        persons.append({"person_id": person_id, **person})
        expected[person_id] = outcome

    for n in range(50):
        i, k = n % 20, n // 20
        record = by_id[f"R{i:02d}{k}"]
        spelling = NAMES[i][1 + (i + k) % 4]
        fields = {"name": spelling, "birth_date": record["birth_date"], "sex": record["sex"]}
        add({**fields, "nationality": "CN"}, "verified")
    for i, names in enumerate(NAMES):
        year = by_id[f"R{i:02d}0"]["birth_date"][:4]
        add(
            {"name": names[2], "birth_date": year, "sex": by_id[f"R{i:02d}0"]["sex"]},
            "not_verified",
        )
    for i, names in enumerate(NAMES):
        year = by_id[f"R{i:02d}0"]["birth_date"][:4]
        other_date = f"{year}-{(i + 5) % 12 + 1:02d}-{(i + 13) % 28 + 1:02d}"
        add({"name": names[1], "birth_date": other_date, "nationality": "CN"}, "no_candidate")
    for n in range(10):
        add({"name": UNKNOWN[n % 5], "birth_date": f"{1970 + n}-03-0{n % 9 + 1}"}, "no_candidate")
    return persons, expected


def screener_of(rows: list[dict[str, str]]) -> Screener:
    index = WatchlistIndex()
    for row in rows:
        record, _ = person_from_row(row, 1)
        assert record is not None
        index.add(record)
    return Screener(index)


# -- proposals --------------------------------------------------------------------------------


def test_a_person_written_otherwise_is_proposed_verified_with_an_explanation() -> None:
    screener = screener_of(records())
    proposal = integration.propose(
        screener,
        {"id": "P1", "name": "Cheung Wai", "birth_date": "1960-01-01", "sex": "M"},
        1,
    )
    assert proposal["outcome"] == "verified"
    assert proposal["candidate_id"] == "R000"
    assert proposal["score"] >= 0.85
    assert "same name in pinyin" in proposal["explanation"]
    assert "same date of birth" in proposal["explanation"]


def test_namesakes_told_apart_by_nothing_are_not_verified() -> None:
    proposal = integration.propose(
        screener_of(records()), {"id": "P2", "name": "Chang Wei", "birth_date": "1960"}, 1
    )
    assert proposal["outcome"] == "not_verified"
    assert proposal["candidate_id"] in ("R000", "T00") and proposal["candidates"] == 2
    assert proposal["score"] < 0.85
    assert "same year (one date is partial)" in proposal["explanation"]


def test_an_unknown_person_has_no_candidate() -> None:
    proposal = integration.propose(
        screener_of(records()), {"id": "P3", "name": "Maria GARCIA", "birth_date": "1985"}, 1
    )
    assert proposal["outcome"] == "no_candidate"
    assert proposal["candidate_id"] is None and proposal["score"] is None
    assert proposal["explanation"] == "no candidate among 80 records"


def test_a_bad_field_is_named_in_the_proposal_and_the_rest_screened() -> None:
    proposal = integration.propose(
        screener_of(records()),
        {"id": "P4", "name": "ZHANG Wei", "birth_date": "1960-01-01", "id_number": "1234"},
        7,
    )
    assert proposal["outcome"] == "verified"
    assert len(proposal["problems"]) == 1 and "row 7" in proposal["problems"][0]


def test_a_notice_subject_is_read_family_name_first() -> None:
    details = {**scenarios.FUGITIVE.opening["details"], "nationalities": ["CN"]}
    (subject,) = person_sought(details)
    assert subject["name"] == "CHEN XIAOMING"
    assert subject["name_native"] == "陈小明"
    assert subject["birth_date"] == "1978-04-09" and subject["nationality"] == "CN"
    assert subject["id"] == "2024/81234"


# -- two nodes --------------------------------------------------------------------------------


def open_removal(us: Node, cn: Node, persons: list[dict[str, str]]) -> str:
    with us.runtime.transaction() as session:
        case = cases.open_case(
            session,
            node=us.identity,
            case_type="removal",
            peer=cn.name,
            area=Area.IMMIGRATION,
            priority=Priority.ROUTINE,
            handling_code=HandlingCode.H0,
            title=f"Identity verification: {len(persons)} persons",
            details={"persons": persons, "detained_at": "El Paso processing center"},
            officer="Officer Smith",
        )
        reference = case.reference
    pump(us, cn)
    return reference


def hold_records(node: Node, rows: list[dict[str, str]]) -> None:
    with node.runtime.transaction() as session:
        _, _, problems = service.add_to_watchlist(
            session, persons=list(rows), unit="central-authority"
        )
    assert problems == []


def proposals_of(node: Node, reference: str) -> list[dict[str, Any]]:
    with node.runtime.reading() as session:
        _, found = integration.proposals(session, reference=reference)
    return found


def test_a_batch_of_100_is_verified_as_screening_proposed_on_both_logs(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    rows = records()
    hold_records(cn, rows)
    persons, expected = batch()
    reference = open_removal(us, cn, persons)

    found = proposals_of(cn, reference)  # screened as the batch arrived
    assert {p["person_id"]: p["outcome"] for p in found} == expected
    assert all(p["explanation"] and p["person_status"] == "pending" for p in found)
    by_record = {r["id"]: r for r in rows}
    for person, proposal in zip(persons, found, strict=True):
        if proposal["outcome"] == "verified":  # the record that is theirs, not a namesake
            assert by_record[proposal["candidate_id"]]["birth_date"] == person["birth_date"]

    act(cn, reference, "acknowledge", {})
    pump(us, cn)
    with cn.runtime.transaction() as session:
        for person in persons:
            integration.confirm(
                session,
                node=cn.identity,
                reference=reference,
                person_id=person["person_id"],
                officer=OFFICER,
            )
    pump(us, cn)

    log = log_of(us, reference)
    assert log == log_of(cn, reference)
    decided = {e["payload"]["person_id"]: e for e in log if e["action"].endswith("_identity")}
    assert len(decided) == 100
    for proposal in found:
        event = decided[proposal["person_id"]]
        wanted = (
            "confirm_identity" if expected[proposal["person_id"]] == "verified" else "deny_identity"
        )
        assert event["action"] == wanted
        assert event["actor_officer"] == OFFICER and event["actor_node"] == cn.name
        if wanted == "confirm_identity":
            record = by_record[proposal["candidate_id"]]
            assert event["payload"]["confirmed_id_number"] == record["id_number"]
            assert event["payload"]["confirmed_name_native"] == record["name_native"]
        else:
            assert event["payload"]["reason"].startswith("identity screening: no record")
    with us.runtime.reading() as session:
        statuses = cases.get_case(session, reference=reference).facts["persons"]
    assert sum(s == "verified" for s in statuses.values()) == 50
    assert sum(s == "not_verified" for s in statuses.values()) == 50
    after = proposals_of(cn, reference)
    assert all(p["confirmed_by"] == OFFICER for p in after)
    assert {p["person_status"] for p in after} == {"verified", "not_verified"}
    # the proposals themselves stay on the requested side
    with us.runtime.reading() as session, pytest.raises(NotFound, match="not been screened"):
        integration.proposals(session, reference=reference)


def test_a_proposal_is_confirmed_once_and_only_on_the_requested_side(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    hold_records(cn, records())
    persons, _ = batch()
    reference = open_removal(us, cn, persons[:3])
    with (
        cn.runtime.transaction() as session,
        pytest.raises(Conflict, match="not allowed in state 'requested'"),
    ):
        integration.confirm(
            session, node=cn.identity, reference=reference, person_id="P001", officer=OFFICER
        )
    act(cn, reference, "acknowledge", {})
    pump(us, cn)
    with cn.runtime.transaction() as session:
        integration.confirm(
            session, node=cn.identity, reference=reference, person_id="P001", officer=OFFICER
        )
    with cn.runtime.transaction() as session, pytest.raises(Conflict, match="confirmed by"):
        integration.confirm(
            session, node=cn.identity, reference=reference, person_id="P001", officer="Other"
        )
    with cn.runtime.transaction() as session, pytest.raises(NotFound, match="P999"):
        integration.confirm(
            session, node=cn.identity, reference=reference, person_id="P999", officer=OFFICER
        )
    with us.runtime.transaction() as session, pytest.raises(InvalidInput, match="requested side"):
        integration.screen_case(session, node=us.identity, reference=reference, by="x")


def test_screening_again_keeps_confirmed_proposals_and_sees_new_records(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    hold_records(cn, [STRANGER])
    reference = open_removal(
        us,
        cn,
        [
            {"person_id": "P1", "name": "Cheung Wai"},
            {"person_id": "P2", "name": "LI Na", "birth_date": "1962-03-03"},
        ],
    )
    assert {p["outcome"] for p in proposals_of(cn, reference)} == {"no_candidate"}
    act(cn, reference, "acknowledge", {})
    pump(us, cn)
    with cn.runtime.transaction() as session:
        integration.confirm(
            session, node=cn.identity, reference=reference, person_id="P1", officer=OFFICER
        )
    hold_records(cn, records())
    with cn.runtime.transaction() as session:
        integration.screen_case(session, node=cn.identity, reference=reference, by=OFFICER)
    first, second = proposals_of(cn, reference)
    assert first["outcome"] == "no_candidate" and first["action"] == "deny_identity"
    assert second["outcome"] == "verified" and second["candidate_id"] == "R020"


def test_a_screening_failure_does_not_cost_the_case_its_arrival(
    pair: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch
) -> None:
    us, cn = pair

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(integration, "screen_case", broken)
    reference = open_removal(us, cn, [{"person_id": "P1", "name": "ZHANG Wei"}])
    assert log_of(cn, reference) == log_of(us, reference)
    with cn.runtime.reading() as session:
        job = integration.case_screening(session, reference=reference)
        assert job.status == "failed" and "index unavailable" in (job.error or "")
    monkeypatch.undo()
    hold_records(cn, [STRANGER])
    with cn.runtime.transaction() as session:
        integration.screen_case(session, node=cn.identity, reference=reference, by=OFFICER)
    assert [p["outcome"] for p in proposals_of(cn, reference)] == ["no_candidate"]


def test_a_node_without_records_proposes_nothing_and_says_why(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = open_removal(us, cn, [{"person_id": "P1", "name": "ZHANG Wei"}])
    assert log_of(cn, reference) == log_of(us, reference)
    with cn.runtime.reading() as session:
        job = integration.case_screening(session, reference=reference)
    assert job.status == "failed" and job.results == []
    assert "holds no records" in (job.error or "") and "accord identity import" in (job.error or "")


def test_an_incoming_fugitive_notice_is_screened_and_left_to_the_officer(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair  # CN issues the notice; US, requested, screens it against its records
    hold_records(
        us,
        [
            {"id": "A-17", "name": "Hsiao-ming Chen", "birth_date": "1978-04-09", "sex": "M"},
            {"id": "A-18", "name": "CHEN Xiaoming", "birth_date": "1991-10-02", "sex": "M"},
        ],
    )
    o = scenarios.FUGITIVE.opening
    with cn.runtime.transaction() as session:
        reference = cases.open_case(
            session,
            node=cn.identity,
            case_type="fugitive",
            peer=us.name,
            area=Area.FUGITIVES,
            priority=Priority.URGENT,
            handling_code=HandlingCode.H2,
            title=o["title"],
            details=o["details"],
            officer="tester",
        ).reference
    pump(us, cn)
    (proposal,) = proposals_of(us, reference)
    assert proposal["outcome"] == "verified" and proposal["candidate_id"] == "A-17"
    events = len(log_of(us, reference))
    with us.runtime.transaction() as session, pytest.raises(InvalidInput, match="fugitive"):
        integration.confirm(
            session, node=us.identity, reference=reference, person_id="2024/81234", officer="x"
        )
    assert len(log_of(us, reference)) == events == 1  # no automatic action


# -- the API ----------------------------------------------------------------------------------


@pytest.fixture
def cn_api(pair: tuple[Node, Node]) -> Iterator[tuple[TestClient, dict[str, str], str]]:
    us, cn = pair
    hold_records(cn, records())
    persons, _ = batch()
    reference = open_removal(us, cn, persons[:2] + persons[50:51])
    act(cn, reference, "acknowledge", {})
    pump(us, cn)
    settings = cn.runtime.settings.model_copy(update={"run_workers": False})
    app = create_app(settings)
    with TestClient(app) as client:
        with app.state.runtime.transaction() as session:
            user = create_user(
                session,
                username="li",
                display_name=OFFICER,
                role=Role.LIAISON_OFFICER,
                unit=cn.identity.intake_unit,
                password="correct horse battery",
            )
            token = issue_token(session, name="test", user=user)
        yield client, {"Authorization": f"Bearer {token}"}, reference


def test_proposals_are_listed_and_confirmed_through_the_api(
    pair: tuple[Node, Node], cn_api: tuple[TestClient, dict[str, str], str]
) -> None:
    us, cn = pair
    client, auth, reference = cn_api
    base = f"/api/v1/identity/cases/{reference}/proposals"
    listed = client.get(base, headers=auth)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["screened_by"] == integration.ON_RECEIPT
    assert [p["outcome"] for p in body["proposals"]] == ["verified", "verified", "not_verified"]
    confirmed = client.post(f"{base}/P051/confirm", json={"note": "checked by phone"}, headers=auth)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "pending"  # US sequences the case
    assert confirmed.json()["proposal"]["confirmed_by"] == OFFICER
    pump(us, cn)
    (event,) = [e for e in log_of(us, reference) if e["action"] == "deny_identity"]
    assert event["actor_officer"] == OFFICER
    assert event["payload"]["reason"].endswith("; checked by phone")
    again = client.post(f"{base}/P051/confirm", json={}, headers=auth)
    assert again.status_code == 409
    rescreened = client.post(base, headers=auth)
    assert rescreened.status_code == 200 and rescreened.json()["screened_by"] == OFFICER
