"""Corrections and retractions in process, on SQLite and PostgreSQL: what each refuses (by
name), a correction of a correction, the erased old values, and the screening index of the
requested side following them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from accord.cases import service
from accord.cases.models import CaseEventPart
from accord.cli.scenarios import FUGITIVE, REMOVAL
from accord.core.errors import InvalidInput
from accord.identity.integration import screening_id
from accord.identity.models import ScreeningJob
from accord.identity.service import add_to_watchlist
from tests.helpers import Node, act, asker, log_of, open_from, pump


def correct(node: Node, reference: str, **fields: str) -> service.Acted:
    return act(
        node,
        reference,
        "correct",
        {
            "rule": "GDPR art. 16",
            "reason": "the passport shows another spelling",
            "corrections": [{"seq": 1, "path": "/details/persons/0", "set": fields}],
        },
    )


def details(node: Node, reference: str) -> dict[str, Any]:
    with node.runtime.reading() as session:
        case = service.get_case(session, reference=reference)
        return service.describe(session, case=case, node_name=node.name).details


def screened_names(node: Node, reference: str) -> list[str]:
    with node.runtime.reading() as session:
        job = session.get(ScreeningJob, screening_id(reference))
        return [] if job is None else [str(p["name"]) for p in job.persons]


def verified(a: Node, b: Node, reference: str) -> bool:
    with a.runtime.reading() as session:
        return service.verify(
            session, node=a.identity, reference=reference, ask=asker(a, b)
        ).identical


@pytest.fixture
def batch(pair: tuple[Node, Node]) -> tuple[Node, Node, str]:
    us, cn = pair
    with cn.runtime.transaction() as session:
        add_to_watchlist(
            session,
            persons=[{"id": "R1", "name": "LIN Hui", "birth_date": "1990-02-03"}],
            unit="central-authority",
        )
    reference = open_from(us, cn.name, REMOVAL.opening)
    pump(us, cn)
    return us, cn, reference


def test_a_correction_replaces_the_value_on_both_nodes_and_erases_the_old_one(
    batch: tuple[Node, Node, str],
) -> None:
    us, cn, reference = batch
    assert "LIN Hui" in screened_names(cn, reference)
    correct(us, reference, name="LING Hui", birth_date="1990-03-02")
    pump(us, cn)
    for node in (us, cn):
        person = details(node, reference)["persons"][0]
        assert (person["name"], person["birth_date"]) == ("LING Hui", "1990-03-02")
        assert "LIN Hui" not in str(log_of(node, reference))
    assert screened_names(cn, reference) == ["LING Hui", "HUANG Jun", "WU Ming"]
    assert [e["action"] for e in log_of(us, reference)][-2:] == ["correct", "erasure_receipt"]
    assert log_of(us, reference) == log_of(cn, reference)
    assert verified(us, cn, reference) and verified(cn, us, reference)


def test_a_corrected_value_can_be_corrected_again_and_the_first_correction_goes(
    batch: tuple[Node, Node, str],
) -> None:
    us, cn, reference = batch
    correct(us, reference, name="LING Hui")
    correct(us, reference, name="LIANG Hui")
    pump(us, cn)
    for node in (us, cn):
        assert details(node, reference)["persons"][0]["name"] == "LIANG Hui"
        assert "LING Hui" not in str(log_of(node, reference))
    assert verified(us, cn, reference)


def test_the_requested_side_submits_its_correction_through_the_sequencer(
    batch: tuple[Node, Node, str],
) -> None:
    us, cn, reference = batch
    act(cn, reference, "acknowledge", {})
    pump(us, cn)
    act(cn, reference, "confirm_identity", {"person_id": "P1", "confirmed_id_number": "ID4471"})
    pump(us, cn)
    seq = log_of(us, reference)[-1]["seq"]
    acted = act(
        cn, reference, "correct", {"rule": "PIPL art. 46", "corrections": [
            {"seq": seq, "path": "", "set": {"confirmed_id_number": "Y2"}}
        ]},
    )  # fmt: skip
    assert acted.pending is not None
    pump(us, cn)
    assert [e["action"] for e in log_of(us, reference)][-2:] == ["correct", "erasure_receipt"]
    for node in (us, cn):
        assert "ID4471" not in str(log_of(node, reference))
    assert verified(us, cn, reference) and verified(cn, us, reference)


@pytest.mark.parametrize(
    ("correction", "refusal"),
    [
        ({"seq": 99, "path": "/details/persons/0", "set": {"name": "X"}}, "has no event 99"),
        ({"seq": 1, "path": "/details/persons/7", "set": {"name": "X"}}, "holds nothing at"),
        ({"seq": 1, "path": "/details/persons/0", "set": {"sex": "M"}}, "'sex' is not personal"),
        ({"seq": 1, "path": "/details/persons/0", "set": {"shoe": "X"}}, "no field 'shoe'"),
        ({"seq": 1, "path": "/details/persons/0/name", "set": {"name": "X"}}, "is not an item"),
        (
            {"seq": 1, "path": "/details/persons/0", "set": {"birth_date": "yesterday"}},
            "new value at /details/persons/0/birth_date is refused",
        ),
    ],
)
def test_a_correction_of_what_is_not_there_or_not_personal_is_refused_naming_it(
    batch: tuple[Node, Node, str], correction: dict[str, Any], refusal: str
) -> None:
    us, _, reference = batch
    with pytest.raises(InvalidInput, match=refusal):
        act(us, reference, "correct", {"rule": "r", "corrections": [correction]})


def test_one_side_cannot_correct_what_the_other_recorded(batch: tuple[Node, Node, str]) -> None:
    _, cn, reference = batch
    with pytest.raises(InvalidInput, match="recorded by the requesting side"):
        correct(cn, reference, name="LING Hui")


def test_an_erased_value_cannot_be_corrected_back(batch: tuple[Node, Node, str]) -> None:
    us, _, reference = batch
    act(us, reference, "erase", {"rule": "court order", "targets": [{"seq": 1}]})
    with pytest.raises(InvalidInput, match="was erased by event 2"):
        correct(us, reference, name="LIN Hui")


def test_a_retraction_removes_the_person_from_the_case_and_the_screening(
    batch: tuple[Node, Node, str],
) -> None:
    us, cn, reference = batch
    act(us, reference, "retract", {"reason": "sent in error", "items": [
        {"seq": 1, "path": "/details/persons/0"}
    ]})  # fmt: skip
    pump(us, cn)
    for node in (us, cn):
        assert [p["person_id"] for p in details(node, reference)["persons"]] == ["P2", "P3"]
        with node.runtime.reading() as session:
            case = service.get_case(session, reference=reference)
            erased = session.scalars(
                select(CaseEventPart.path).where(
                    CaseEventPart.case_id == case.id, CaseEventPart.salt.is_(None)
                )
            ).all()
        assert erased and all(p.startswith("/details/persons/0/") for p in erased)
    assert screened_names(cn, reference) == ["HUANG Jun", "WU Ming"]
    with pytest.raises(InvalidInput, match="was erased"):
        act(us, reference, "retract", {"reason": "again", "items": [
            {"seq": 1, "path": "/details/persons/0"}
        ]})  # fmt: skip


def test_a_newer_notice_is_erased_and_corrected_where_the_case_took_its_details(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = open_from(cn, us.name, FUGITIVE.opening)
    pump(us, cn)
    notice = {**FUGITIVE.opening["details"], "forename": "Xiaoming", "place_of_birth": "Wuhan"}
    act(cn, reference, "update_notice", {"notice": notice, "reason": "republished"})
    pump(us, cn)
    update = log_of(cn, reference)[-1]["seq"]
    assert details(us, reference)["place_of_birth"] == "Wuhan"
    act(cn, reference, "correct", {"rule": "issuer's correction", "corrections": [
        {"seq": update, "path": "/notice", "set": {"place_of_birth": "Hankou"}}
    ]})  # fmt: skip
    pump(us, cn)
    for node in (us, cn):
        assert details(node, reference)["place_of_birth"] == "Hankou"
    act(cn, reference, "erase", {"rule": "court order 12", "targets": [{"seq": update}]})
    pump(us, cn)
    for node in (us, cn):
        shown = details(node, reference)
        assert shown["forename"] == "" and shown["place_of_birth"] == "Hankou"
        with node.runtime.reading() as session:
            facts = service.get_case(session, reference=reference).facts
        assert "Xiaoming" not in str(facts) and "Wuhan" not in str(facts)
    assert verified(cn, us, reference)
