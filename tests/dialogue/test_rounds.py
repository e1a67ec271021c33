"""Rounds and their agreed outcomes: one joint list, sequenced by the host, identical on both
nodes; the guest's steps go through the host; the rules of the declaration hold."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from accord.cases.enums import OutcomeStatus
from accord.cli import scenarios
from accord.core.errors import Conflict, InvalidInput, NotFound, WorkflowViolation
from accord.dialogue import service
from accord.dialogue.schemas import MechanismIn, RoundIn
from tests.cases.test_case_types import play
from tests.helpers import Node, act, log_of, pump

TODAY = date(2026, 11, 29)


def _round(
    host: Node, guest: Node, number: int = 1, mechanism: str = "law_enforcement_cyber"
) -> str:
    with host.runtime.transaction() as session:
        case = service.open_round(
            session,
            node=host.identity,
            round_in=RoundIn(
                peer=guest.name,
                mechanism=mechanism,
                number=number,
                starts_on=TODAY,
                venue="Beijing",
                host_cochair="Vice Minister",
                guest_cochair="Deputy Attorney General",
            ),
            officer="coordinator",
        )
        reference = case.reference
    pump(host, guest)
    return reference


def _view(node: Node, reference: str):  # type: ignore[no-untyped-def]
    with node.runtime.reading() as session:
        return service.get_round(session, reference)


def _outcome(outcome_id: str, owner: str, due: date, **extra: object) -> dict[str, object]:
    return {
        "outcome_id": outcome_id,
        "text_en": f"Outcome {outcome_id}",
        "text_zh": f"成果 {outcome_id}",
        "area": "fugitives",
        "owner": owner,
        "due": due.isoformat(),
        **extra,
    }


def test_an_outcome_agreed_on_one_node_appears_identically_on_the_other(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = _round(cn, us)  # CN hosts: CN sequences the round
    act(cn, reference, "hold", {"held_on": TODAY.isoformat(), "summary_en": "Held."})
    pump(us, cn)
    # the guest records an outcome: it is submitted to the host, sequenced, replicated back
    acted = act(
        us, reference, "record_outcome", _outcome("O1", "requesting", TODAY + timedelta(days=30))
    )
    assert acted.pending is not None
    assert _view(us, reference).outcomes == []  # not ours to append
    pump(us, cn)
    act(cn, reference, "record_outcome", _outcome("O2", "requested", TODAY - timedelta(days=1)))
    pump(us, cn)
    act(
        us,
        reference,
        "update_outcome",
        {
            "outcome_id": "O1",
            "status": "in_progress",
            "note": "on it",
            "cases": ["FUG-CN-2026-000001"],
        },
    )
    pump(us, cn)

    on_us, on_cn = _view(us, reference), _view(cn, reference)
    assert on_us == on_cn
    assert log_of(us, reference) == log_of(cn, reference)
    assert [(o.outcome_id, o.owner, o.status) for o in on_cn.outcomes] == [
        ("O1", cn.name, "in_progress"),  # requesting = the host
        ("O2", us.name, "agreed"),
    ]
    assert on_cn.outcomes[0].cases == ["FUG-CN-2026-000001"]
    assert [h["status"] for h in on_cn.outcomes[0].history] == ["agreed", "in_progress"]
    assert on_cn.outcomes[1].overdue and not on_cn.outcomes[0].overdue
    assert on_cn.host == cn.name and on_cn.guest == us.name and on_cn.state == "held"


def test_outcome_rules(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = _round(us, cn)
    with pytest.raises(WorkflowViolation, match="not allowed in state 'planned'"):
        act(us, reference, "record_outcome", _outcome("O1", "requested", TODAY))
    with pytest.raises(WorkflowViolation, match="belongs to the requesting side"):
        act(cn, reference, "hold", {"held_on": TODAY.isoformat()})
    act(us, reference, "hold", {"held_on": TODAY.isoformat()})
    act(us, reference, "record_outcome", _outcome("O1", "requested", TODAY))
    with pytest.raises(WorkflowViolation, match="outcome O1 already exists"):
        act(us, reference, "record_outcome", _outcome("O1", "requested", TODAY))
    with pytest.raises(WorkflowViolation, match=r"no outcome O9 in this round \(outcomes: O1\)"):
        act(us, reference, "update_outcome", {"outcome_id": "O9", "status": "done"})
    with pytest.raises(WorkflowViolation, match="not case references: MLA-1"):
        act(
            us,
            reference,
            "update_outcome",
            {"outcome_id": "O1", "status": "done", "cases": ["MLA-1"]},
        )
    with pytest.raises(WorkflowViolation, match=r"1 outcome\(s\) still open \(O1\)"):
        act(us, reference, "conclude", {})
    with pytest.raises(InvalidInput, match="status"):
        act(us, reference, "update_outcome", {"outcome_id": "O1", "status": "finished"})
    act(us, reference, "update_outcome", {"outcome_id": "O1", "status": "carried_over"})
    act(us, reference, "conclude", {"note": "Next round in Beijing."})
    pump(us, cn)
    assert _view(cn, reference).state == "concluded"
    assert OutcomeStatus(_view(cn, reference).outcomes[0].status).settled


def test_a_new_outcome_gets_an_id_when_none_is_given(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = _round(us, cn)
    act(us, reference, "hold", {"held_on": TODAY.isoformat()})
    pump(us, cn)
    payload = _outcome("", "requested", TODAY)
    del payload["outcome_id"]
    act(cn, reference, "record_outcome", payload)
    pump(us, cn)
    [outcome] = _view(us, reference).outcomes
    assert len(outcome.outcome_id) == 12
    assert _view(cn, reference).outcomes[0].outcome_id == outcome.outcome_id


def test_mechanisms_default_configurable_and_checked(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    with us.runtime.transaction() as session:
        codes = [m.code for m in service.list_mechanisms(session)]
        assert codes == [
            "diplomatic_security",
            "comprehensive_economic",
            "social_people",
            "law_enforcement_cyber",
        ]
        service.add_mechanism(
            session,
            mechanism=MechanismIn(
                code="counter_narcotics", en="Counter-narcotics working group", zh="禁毒合作工作组"
            ),
        )
        service.retire_mechanism(session, code="social_people")
    _round(us, cn, mechanism="counter_narcotics")
    with pytest.raises(NotFound, match="no active dialogue mechanism 'social_people'"):
        _round(us, cn, mechanism="social_people")
    with pytest.raises(Conflict, match="round 1 of counter_narcotics already exists"):
        _round(us, cn, mechanism="counter_narcotics")
    with us.runtime.reading() as session:
        [only] = service.list_rounds(session)
    assert only.mechanism_zh == "禁毒合作工作组" and only.number == 1


def test_rounds_stay_out_of_the_scorecard(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    play(us, cn, scenarios.ROUND)
    with us.runtime.reading() as session:
        records = service.case_records(session)
        [round_] = service.list_rounds(session)
    assert records == []
    assert [o.outcome_id for o in round_.outcomes] == ["O1", "O2", "O3"]
    assert round_.agenda[1].title_zh == "追逃追赃"
