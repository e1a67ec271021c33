"""The case-type contract: each type carries its own rules, and an open case shows a next step
only for the side that can move it (notes and withdrawal are always there and move nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from accord.accounts.service import Principal
from accord.cases import service
from accord.cases.casetype import CaseType, CaseTypes
from accord.cases.enums import Area, Side
from accord.cases.workflow import Action, State, Who, Workflow
from accord.cli import scenarios
from accord.composition import assemble
from accord.core.errors import DeclarationError, InvalidInput
from accord.core.permissions import Role
from accord.runtime import Registry
from accord.web.routes.cases import _next_steps
from tests.helpers import act, make_node, open_from, peer_up, pump

TYPES = assemble().case_types
OPENINGS = {sc.opening["case_type"]: sc.opening for sc in scenarios.ALL}

# For every open state of each officers' case type: the actions each side has to take to move
# the case on. The side with none waits for the other.
NEXT_STEPS: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "mla": {
        "draft": (["send_to_review"], []),
        "legal_review": (["return_to_draft", "approve_and_submit"], []),
        "submitted": ([], ["acknowledge"]),
        "received": ([], ["begin_review", "refuse"]),
        "under_review": ([], ["request_more_info", "accept", "refuse"]),
        "more_info": (["provide_info"], []),
        "accepted": ([], ["begin_execution"]),
        "in_execution": ([], ["return_evidence", "complete_execution"]),
        "partially_executed": ([], ["return_evidence", "complete_execution"]),
        "executed": (["close"], []),
    },
    "intel": {
        "shared": ([], ["acknowledge"]),
        "acknowledged": ([], ["request_clarification", "give_feedback"]),
        "clarification": (["clarify"], []),
    },
    "cyber": {
        "requested": ([], ["acknowledge"]),
        "acknowledged": ([], ["report_measure", "report_sightings", "report_result"]),
        "result_reported": (["close"], ["report_sightings"]),
    },
    "fugitive": {
        "notice": ([], ["begin_review", "refuse"]),
        "under_review": ([], ["record_review", "record_missing_person_review", "refuse"]),
        "accepted": (["request_location"], []),
        "location_requested": ([], ["report_located", "report_found", "report_not_found"]),
        "located": ([], ["arrange_return", "prosecute_in_place"]),
        "not_found": (["request_location", "close"], []),
        "return_arranged": ([], ["hand_over"]),
        "prosecution_in_place": ([], ["report_judgment"]),
        "handed_over": (["close"], []),
        "judged": (["close"], []),
        "found": (["close"], []),
    },
    "asset": {
        "tracing": ([], ["report_assets", "report_none_found", "refuse"]),
        "identified": (["request_freeze"], []),
        "no_assets": (["close"], []),
        "freeze_requested": ([], ["confirm_freeze", "refuse"]),
        "frozen": (["transmit_forfeiture_order"], []),
        "forfeiture_ordered": ([], ["return_assets"]),
        "returned": (["close"], ["return_assets"]),
    },
    "removal": {
        "requested": ([], ["acknowledge"]),
        "in_progress": (
            ["record_removal", "record_not_removed", "close"],
            ["confirm_identity", "deny_identity", "issue_travel_document"],
        ),
    },
}


@pytest.mark.parametrize("case_type", sorted(NEXT_STEPS))
def test_each_open_state_shows_next_steps_only_for_the_side_that_can_move_it(
    case_type: str,
) -> None:
    declared = TYPES.get(case_type)
    open_states = [s.name for s in declared.workflow.states if not s.final]
    assert sorted(NEXT_STEPS[case_type]) == sorted(open_states)
    for state, (requesting, requested) in NEXT_STEPS[case_type].items():
        shown = (
            [a.name for a in declared.next_steps(state, Side.REQUESTING)],
            [a.name for a in declared.next_steps(state, Side.REQUESTED)],
        )
        assert shown == (requesting, requested), (case_type, state)


def test_notes_and_withdrawal_are_bookkeeping_in_every_type() -> None:
    for declared in TYPES:
        for action in declared.workflow.actions:
            if action.name in ("note", "withdraw"):
                assert action.bookkeeping, (declared.name, action.name)


OFFICER = Principal(
    username="smith",
    display_name="Officer Smith",
    role=Role.LIAISON_OFFICER,
    unit="central-authority",
)


@pytest.mark.parametrize("case_type", ["intel", "cyber", "fugitive", "asset", "removal"])
def test_a_case_shared_at_opening_is_in_the_queue_of_the_requested_side_only(
    tmp_path: Path, case_type: str
) -> None:
    """The regression: `note` has fewer than four source states in intel and cyber, and the
    queue once counted it as a next step, so the requesting side saw every open case there."""
    us = make_node(tmp_path, f"sqlite:///{tmp_path / 'us.db'}", "US-DOJ", "US")
    cn = make_node(tmp_path, f"sqlite:///{tmp_path / 'cn.db'}", "CN-MOJ", "CN")
    peer_up(us, cn)
    reference = open_from(us, cn.name, OPENINGS[case_type], officer="Officer Smith")
    pump(us, cn)
    queues = {}
    for node in (us, cn):
        with node.runtime.reading() as session:
            case = service.get_case(session, reference=reference)
            steps = _next_steps(node.runtime.case_types, case, node.identity.name, OFFICER)
            queues[node.identity.name] = [a.name for a in steps]
    declared = TYPES.get(case_type)
    requesting, requested = NEXT_STEPS[case_type][declared.workflow.initial]
    # a liaison officer's queue leaves out what only a legal reviewer may take
    assert queues == {
        "US-DOJ": [a for a in requesting if not declared.needs_review(a)],
        "CN-MOJ": [a for a in requested if not declared.needs_review(a)],
    }
    assert queues["US-DOJ"] == [] and queues["CN-MOJ"] != []
    for node in (us, cn):
        node.runtime.close()


def test_a_review_action_needs_a_reviewer_only_in_the_type_that_declares_it() -> None:
    assert TYPES.get("mla").needs_review("accept")
    assert TYPES.get("mla").needs_review("approve_and_submit")
    assert TYPES.get("fugitive").needs_review("record_review")
    assert not TYPES.get("mla").needs_review("acknowledge")
    assert not TYPES.get("intel").needs_review("give_feedback")
    # the same action name in another type is that type's own business
    assert not TYPES.get("cyber").needs_review("acknowledge")


class _Empty(BaseModel):
    pass


def _tiny(case_type: str, prefix: str, *, draft: bool = False) -> Workflow:
    states = [State("open", "Open", "开放"), State("done", "Done", "完成", final=True)]
    actions = [Action("finish", "Finish", "完成", frozenset({"open"}), "done", Who.EITHER, _Empty)]
    if draft:
        states.insert(0, State("draft", "Draft", "草稿", shared=False))
        actions.append(
            Action("send", "Send", "发送", frozenset({"draft"}), "open", Who.REQUESTING, _Empty)
        )
    return Workflow(
        case_type=case_type,
        en=case_type,
        zh=case_type,
        initial="draft" if draft else "open",
        states=tuple(states),
        actions=tuple(actions),
        opening=_Empty,
        reference_prefix=prefix,
    )


def test_a_type_that_starts_as_a_draft_must_name_its_share_action() -> None:
    with pytest.raises(DeclarationError, match="names no share action"):
        CaseType(_tiny("memo", "MEM", draft=True), default_area=Area.DIALOGUE)
    with pytest.raises(DeclarationError, match="must take a local draft to a shared state"):
        CaseType(
            _tiny("memo", "MEM", draft=True), default_area=Area.DIALOGUE, share_action="finish"
        )
    assert (
        CaseType(
            _tiny("memo", "MEM", draft=True), default_area=Area.DIALOGUE, share_action="send"
        ).share_action
        == "send"
    )


def test_case_types_are_unique_by_name_and_reference_prefix() -> None:
    memo = CaseType(_tiny("memo", "MEM"), default_area=Area.DIALOGUE)
    with pytest.raises(DeclarationError, match="declared twice"):
        CaseTypes((memo, memo))
    with pytest.raises(DeclarationError, match="share a reference prefix"):
        CaseTypes((memo, CaseType(_tiny("note", "MEM"), default_area=Area.DIALOGUE)))
    types = CaseTypes((memo,))
    assert types.of_reference("MEM-US-2026-000001") is memo
    with pytest.raises(InvalidInput, match="unknown case type 'mla'"):
        types.get("mla")


class _Memo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=200)


def test_a_seventh_case_type_is_one_declaration_and_works_between_two_nodes(
    tmp_path: Path,
) -> None:
    """What docs/architecture.md promises a newcomer: declare the type, name it in the
    registry, and it opens, travels, is acted on and verifies like the six."""
    memo_flow = Workflow(
        case_type="memo",
        en="Memorandum",
        zh="备忘录",
        reference_prefix="MEM",
        initial="sent",
        opening=_Memo,
        states=(
            State("sent", "Sent", "已发送"),
            State("read", "Read", "已阅", final=True),
        ),
        actions=(
            Action(
                "mark_read",
                "Mark read",
                "标为已阅",
                frozenset({"sent"}),
                "read",
                Who.REQUESTED,
                _Empty,
            ),
        ),
    )
    memo = CaseType(memo_flow, default_area=Area.TRANSNATIONAL_CRIME)
    base = assemble()
    registry = Registry(
        case_types=CaseTypes((*base.case_types.types, memo), on_shared=base.case_types.on_shared),
        kinds=base.kinds,
    )
    us = make_node(tmp_path, f"sqlite:///{tmp_path / 'us.db'}", "US-DOJ", "US", registry)
    cn = make_node(tmp_path, f"sqlite:///{tmp_path / 'cn.db'}", "CN-MOJ", "CN", registry)
    peer_up(us, cn)
    opening = {
        "case_type": "memo",
        "area": "transnational_crime",
        "priority": "routine",
        "handling_code": "H0",
        "title": "A memorandum",
        "details": {"subject": "备忘录 of the working group"},
    }
    reference = open_from(us, cn.name, opening)
    assert reference.startswith("MEM-US-")
    pump(us, cn)
    with cn.runtime.reading() as session:
        case = service.get_case(session, reference=reference)
        steps = _next_steps(cn.runtime.case_types, case, cn.identity.name, OFFICER)
    assert [a.name for a in steps] == ["mark_read"]
    act(cn, reference, "mark_read", {})
    pump(us, cn)
    for node in (us, cn):
        with node.runtime.reading() as session:
            assert service.get_case(session, reference=reference).state == "read"
    with us.runtime.transaction() as session:
        assert service.refold(session, case=service.get_case(session, reference=reference)).final
    for node in (us, cn):
        node.runtime.close()
