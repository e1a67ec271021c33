"""Every case type between two nodes on real databases, and the rules beyond states: guards,
per-person clocks, amounts, deadlines agreed with the peer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from accord.cases import service
from accord.cases.definitions.fugitive import notice_from_interpol
from accord.cases.definitions.intel import cas_number_valid
from accord.cli import scenarios
from accord.cli.scenarios import Scenario
from accord.core.errors import InvalidInput, WorkflowViolation
from accord.federation.models import Peer
from tests.helpers import Node, act, log_of, open_from, pump


def open_scenario(us: Node, cn: Node, scenario: Scenario) -> tuple[str, Node, Node]:
    opener, other = (us, cn) if scenario.opener == "US" else (cn, us)
    reference = open_from(opener, other.name, scenario.opening)
    pump(us, cn)
    return reference, opener, other


def play(us: Node, cn: Node, scenario: Scenario, upto: int | None = None) -> tuple[str, Node, Node]:
    reference, opener, other = open_scenario(us, cn, scenario)
    for step in scenario.steps[:upto]:
        act(opener if step.side == "requesting" else other, reference, step.action, step.payload)
        pump(us, cn)
    return reference, opener, other


def case_of(node: Node, reference: str) -> Any:
    with node.runtime.reading() as session:
        return service.get_case(session, reference=reference)


@pytest.mark.parametrize("scenario", scenarios.ALL, ids=lambda s: s.opening["case_type"])
def test_each_case_type_ends_with_identical_logs(
    pair: tuple[Node, Node], scenario: Scenario
) -> None:
    us, cn = pair
    reference, opener, other = play(us, cn, scenario)
    assert log_of(opener, reference) == log_of(other, reference)
    assert case_of(opener, reference).state == case_of(other, reference).state
    assert case_of(other, reference).state == scenario.final_state
    assert case_of(opener, reference).facts == case_of(other, reference).facts


def test_removal_persons_are_settled_one_by_one(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference, _, _ = play(us, cn, scenarios.REMOVAL)
    assert case_of(cn, reference).facts["persons"] == {
        "P1": "removed",
        "P2": "not_removed",
        "P3": "not_verified",
    }


def test_removal_batch_cannot_close_while_a_person_is_pending(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference, _, _ = play(us, cn, scenarios.REMOVAL, upto=2)  # acknowledged, P1 confirmed
    with pytest.raises(WorkflowViolation, match=r"3 persons are not settled yet \(P1, P2, P3\)"):
        act(us, reference, "close", {"satisfied": True})


def test_removal_rules_per_person(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference, _, _ = play(us, cn, scenarios.REMOVAL, upto=1)
    with pytest.raises(WorkflowViolation, match="person 'P1' is pending, not verified"):
        act(
            cn,
            reference,
            "issue_travel_document",
            {"person_id": "P1", "document_number": "T1", "valid_until": "2027-01-01"},
        )
    with pytest.raises(WorkflowViolation, match="no person 'P9' in this batch"):
        act(cn, reference, "confirm_identity", {"person_id": "P9"})


def test_travel_document_clock_runs_per_person_for_thirty_days(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference, _, _ = play(us, cn, scenarios.REMOVAL, upto=3)  # P1 and P2 confirmed
    deadlines = case_of(us, reference).deadlines
    assert set(deadlines) == {"travel_document:P1", "travel_document:P2"}
    with us.runtime.reading() as session:
        (clock, _) = service.open_deadlines(service.get_case(session, reference=reference))
    assert clock.due_at - clock.started_at == timedelta(days=30)
    assert clock.owner.value == "requested"
    for step in scenarios.REMOVAL.steps[3:5]:  # P3 denied, P1 documented
        act(cn if step.side == "requested" else us, reference, step.action, step.payload)
    pump(us, cn)
    assert set(case_of(us, reference).deadlines) == {"travel_document:P2"}


def test_asset_returns_are_summed_per_currency_exactly(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference, opener, other = play(us, cn, scenarios.ASSET, upto=5)
    act(
        other,
        reference,
        "return_assets",
        {
            "amounts": [{"currency": "USD", "amount": "0.25"}, {"currency": "EUR", "amount": "10"}],
            "transfer_reference": "second",
            "recipient": "treasury",
        },
    )
    pump(us, cn)
    assert case_of(opener, reference).facts["returned"] == {"USD": "2500000.75", "EUR": "10"}


def test_asset_freeze_names_only_identified_assets(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference, opener, _ = play(us, cn, scenarios.ASSET, upto=1)
    with pytest.raises(WorkflowViolation, match=r"assets \['A7'\] were not identified"):
        act(
            opener,
            reference,
            "request_freeze",
            {"asset_ids": ["A1", "A7"], "order_reference": "x", "legal_basis": "y"},
        )


def test_fugitive_review_requires_human_rights_safeguards(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference, _, other = play(us, cn, scenarios.FUGITIVE, upto=1)
    review = {**scenarios.FUGITIVE.steps[1].payload, "human_rights_confirmed": False}
    with pytest.raises(InvalidInput, match="human-rights safeguards not confirmed"):
        act(other, reference, "record_review", review)


def test_fugitive_review_deadline_runs_from_the_notice(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference, _, _ = open_scenario(us, cn, scenarios.FUGITIVE)
    with us.runtime.reading() as session:
        (review,) = service.open_deadlines(service.get_case(session, reference=reference))
    assert review.name == "review" and review.due_at - review.started_at == timedelta(days=7)


def test_interpol_notice_json_opens_a_fugitive_case() -> None:
    details = notice_from_interpol(scenarios.INTERPOL_NOTICE)
    assert details["date_of_birth"] == "1978-04-09" and details["sex"] == "M"
    assert details["arrest_warrants"][0]["issuing_country"] == "CN"
    with pytest.raises(InvalidInput, match="arrest_warrants"):
        notice_from_interpol({"name": "X"})


@pytest.mark.parametrize(
    ("cas", "valid"),
    [
        ("23056-29-3", True),
        ("7732-18-5", True),
        ("50-00-0", True),
        ("7732-18-6", False),
        ("7732185", False),
        ("1-1-1", False),
    ],
)
def test_cas_numbers_are_checked(cas: str, valid: bool) -> None:
    assert cas_number_valid(cas) is valid


def test_deadlines_agreed_with_the_peer_are_fixed_in_the_opening_event(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    agreement = {"deadlines": {"mla": {"decide": {"routine": 20 * 86400}}}}
    with us.runtime.transaction() as session:
        session.execute(update(Peer).where(Peer.name == cn.name).values(agreement=agreement))
    reference, _, _ = play(us, cn, scenarios.MLA, upto=2)  # submitted: decide runs
    for node in (us, cn):
        deadlines = {d.name: d for d in _deadlines(node, reference)}
        decide = deadlines["decide"]
        assert decide.due_at - decide.started_at == timedelta(days=20)
        acknowledge = deadlines["acknowledge"]
        assert acknowledge.due_at - acknowledge.started_at == timedelta(days=5)
    opening = log_of(cn, reference)[0]["payload"]
    assert opening["deadline_seconds"]["decide"] == 20 * 86400


def _deadlines(node: Node, reference: str) -> list[Any]:
    with node.runtime.reading() as session:
        return service.open_deadlines(service.get_case(session, reference=reference))


def test_a_removal_batch_of_100_persons_is_settled_person_by_person(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    persons = [
        {"person_id": f"P{i:03d}", "name": f"PERSON {i}", "birth_date": "1990", "sex": "M"}
        for i in range(100)
    ]
    opening = {**scenarios.REMOVAL.opening, "details": {"persons": persons}}
    batch = Scenario("US", opening, scenarios.REMOVAL.steps[:1], "in_progress")
    reference, _, _ = play(us, cn, batch)  # acknowledged
    verified = [p["person_id"] for i, p in enumerate(persons) if i % 10]
    for i, person in enumerate(persons):  # each person on their own, as the officers would
        if i % 10 == 0:
            act(
                cn,
                reference,
                "deny_identity",
                {"person_id": person["person_id"], "reason": "no record"},
            )
        else:
            act(cn, reference, "confirm_identity", {"person_id": person["person_id"]})
    pump(us, cn)
    for n, pid in enumerate(verified):
        act(
            cn,
            reference,
            "issue_travel_document",
            {"person_id": pid, "document_number": f"T{n:05d}", "valid_until": "2027-06-30"},
        )
    pump(us, cn)
    for pid in verified:
        act(
            us,
            reference,
            "record_removal",
            {"person_id": pid, "removed_on": "2026-12-01", "transport": "flight"},
        )
    act(us, reference, "close", {"satisfied": True})
    pump(us, cn)
    statuses = case_of(cn, reference).facts["persons"]
    assert sum(s == "removed" for s in statuses.values()) == 90
    assert sum(s == "not_verified" for s in statuses.values()) == 10
    assert case_of(us, reference).state == case_of(cn, reference).state == "closed"
    assert log_of(us, reference) == log_of(cn, reference)
    assert len(log_of(us, reference)) == 1 + 1 + 10 + 90 * 3 + 1
