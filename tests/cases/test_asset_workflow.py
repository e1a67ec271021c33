"""The asset declaration, exhaustively: every action from every state, for each side, against a
table written by hand from the design text (not derived from the declaration it checks)."""

from __future__ import annotations

from typing import Any

import pytest

from accord.cases.definitions.asset import ASSET
from accord.cases.enums import Priority, Side
from accord.cases.workflow import fold
from accord.core.errors import InvalidInput, WorkflowViolation
from tests.cases.tables import check_cell

R, D = Side.REQUESTING, Side.REQUESTED
BEFORE_RETURN = [
    "tracing",
    "identified",
    "no_assets",
    "freeze_requested",
    "frozen",
    "forfeiture_ordered",
]
OPEN = [*BEFORE_RETURN, "returned"]
FINAL = ["refused", "closed", "withdrawn"]

# (state, action) -> (sides allowed, target state; None = state unchanged)
EXPECTED: dict[tuple[str, str], tuple[set[Side], str | None]] = {
    # the requested side reports what tracing found
    ("tracing", "report_assets"): ({D}, "identified"),
    ("tracing", "report_none_found"): ({D}, "no_assets"),
    # the requesting side asks for the freeze; the requested side freezes
    ("identified", "request_freeze"): ({R}, "freeze_requested"),
    ("freeze_requested", "confirm_freeze"): ({D}, "frozen"),
    # refusal by the requested side while tracing or when a freeze is requested
    ("tracing", "refuse"): ({D}, "refused"),
    ("freeze_requested", "refuse"): ({D}, "refused"),
    # the requesting side transmits the (final) forfeiture order; the requested side returns
    ("frozen", "transmit_forfeiture_order"): ({R}, "forfeiture_ordered"),
    ("forfeiture_ordered", "return_assets"): ({D}, "returned"),
    # design silent on several returns; amounts add up per currency, so accepted here
    ("returned", "return_assets"): ({D}, "returned"),
    # the requesting side closes after the return, or when none were found
    ("returned", "close"): ({R}, "closed"),
    ("no_assets", "close"): ({R}, "closed"),
    **{(s, "withdraw"): ({R}, "withdrawn") for s in BEFORE_RETURN},
    **{(s, "note"): ({R, D}, None) for s in OPEN},
}

FACTS = {"assets": ["A1", "A2"]}
USD = {"currency": "USD", "amount": "2500000.50"}
VALID: dict[str, dict[str, Any]] = {
    "report_assets": {
        "assets": [
            {
                "asset_id": "A1",
                "kind": "bank_account",
                "description": "current account",
                "institution": "Bank",
                "account": "123",
                "value": USD,
            }
        ]
    },
    "report_none_found": {},
    "request_freeze": {"asset_ids": ["A1"], "order_reference": "O-1", "legal_basis": "art. 54"},
    "confirm_freeze": {"asset_ids": ["A1"], "amounts": [USD], "order_reference": "F-1"},
    "refuse": {"grounds": ["insufficient_information"], "explanation": "no link shown"},
    "transmit_forfeiture_order": {"court": "Court", "order_reference": "C-1", "final": True},
    "return_assets": {"amounts": [USD], "transfer_reference": "T-1", "recipient": "treasury"},
    "close": {"satisfied": True},
    "withdraw": {"reason": "settled privately"},
    "note": {"text": "hello"},
}

STATES = [s.name for s in ASSET.states]
ACTIONS = [a.name for a in ASSET.actions]


def test_table_covers_every_declared_action() -> None:
    assert set(VALID) == set(ACTIONS)
    assert {a for _, a in EXPECTED} == set(ACTIONS)


def test_states_are_those_of_the_design() -> None:
    assert set(STATES) == {*OPEN, *FINAL}
    assert ASSET.initial == "tracing"


@pytest.mark.parametrize("side", [R, D], ids=["requesting", "requested"])
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", STATES)
def test_every_action_from_every_state_for_each_side(state: str, action: str, side: Side) -> None:
    check_cell(ASSET, EXPECTED, VALID[action], state=state, action=action, side=side, facts=FACTS)


def test_final_states_are_refused_closed_and_withdrawn() -> None:
    assert {s.name for s in ASSET.states if s.final} == set(FINAL)


def test_the_request_is_shared_from_the_start() -> None:
    assert all(s.shared for s in ASSET.states)


def test_no_withdrawal_once_assets_are_returned() -> None:
    with pytest.raises(WorkflowViolation, match="not allowed in state 'returned'"):
        ASSET.decide(state="returned", action="withdraw", side=R, payload={"reason": "x"})


def test_identified_assets_cannot_simply_be_closed() -> None:
    """Closing comes after the return (or when nothing was found); before, the requester
    withdraws."""
    with pytest.raises(WorkflowViolation, match="not allowed in state 'identified'"):
        ASSET.decide(state="identified", action="close", side=R, payload={"satisfied": True})


# -- guards ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "action", "side"),
    [("identified", "request_freeze", R), ("freeze_requested", "confirm_freeze", D)],
)
def test_a_freeze_names_only_identified_assets(state: str, action: str, side: Side) -> None:
    payload = {**VALID[action], "asset_ids": ["A1", "A7"]}
    with pytest.raises(WorkflowViolation, match=r"assets \['A7'\] were not identified"):
        ASSET.decide(state=state, action=action, side=side, payload=payload, facts=FACTS)
    with pytest.raises(WorkflowViolation, match=r"assets \['A1'\] were not identified"):
        ASSET.decide(state=state, action=action, side=side, payload=VALID[action], facts={})


def test_identified_assets_become_the_facts_a_freeze_is_checked_against() -> None:
    report = {
        "assets": [
            {"asset_id": "A1", "kind": "vehicle", "description": "car"},
            {"asset_id": "A2", "kind": "real_estate", "description": "flat"},
        ]
    }
    case = fold(
        ASSET,
        Priority.ROUTINE,
        [
            ("open", "2026-01-01T00:00:00Z", {"details": {}}),
            ("report_assets", "2026-01-02T00:00:00Z", report),
        ],
    )
    assert case.state == "identified" and case.facts["assets"] == ["A1", "A2"]
    ASSET.decide(
        state=case.state,
        action="request_freeze",
        side=R,
        payload={**VALID["request_freeze"], "asset_ids": ["A1", "A2"]},
        facts=case.facts,
    )


def test_only_a_final_forfeiture_order_is_transmitted() -> None:
    payload = {**VALID["transmit_forfeiture_order"], "final": False}
    with pytest.raises(WorkflowViolation, match="only a final forfeiture order"):
        ASSET.decide(state="frozen", action="transmit_forfeiture_order", side=R, payload=payload)


def test_returns_add_up_per_currency_exactly() -> None:
    def returned(*amounts: tuple[str, str]) -> dict[str, Any]:
        return {
            "amounts": [{"currency": c, "amount": a} for c, a in amounts],
            "transfer_reference": "T",
            "recipient": "victims",
        }

    case = fold(
        ASSET,
        Priority.ROUTINE,
        [
            ("open", "2026-01-01T00:00:00Z", {"details": {}}),
            ("return_assets", "2026-02-01T00:00:00Z", returned(("USD", "0.1"), ("EUR", "10"))),
            ("return_assets", "2026-03-01T00:00:00Z", returned(("USD", "0.2"))),
        ],
    )
    assert case.facts["returned"] == {"USD": "0.3", "EUR": "10"}


# -- payload validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"currency": "USD", "amount": "12,5"}, r"amounts\.0\.amount"),
        ({"currency": "usd", "amount": "12.5"}, r"amounts\.0\.currency"),
        ({"currency": "USD", "amount": "-3"}, r"amounts\.0\.amount"),
        ({"currency": "USD", "amount": "1.23456"}, r"amounts\.0\.amount"),
        ({"currency": "USD"}, r"amounts\.0\.amount: Field required"),
    ],
)
def test_returned_amounts_are_exact_decimals_per_iso_currency(
    item: dict[str, str], field: str
) -> None:
    payload = {**VALID["return_assets"], "amounts": [item]}
    with pytest.raises(InvalidInput, match=rf"payload of 'return_assets': {field}"):
        ASSET.decide(state="forfeiture_ordered", action="return_assets", side=D, payload=payload)


def test_a_return_must_name_its_amounts() -> None:
    payload = {**VALID["return_assets"], "amounts": []}
    with pytest.raises(InvalidInput, match="amounts"):
        ASSET.decide(state="forfeiture_ordered", action="return_assets", side=D, payload=payload)


def test_refusal_needs_an_enumerated_ground() -> None:
    with pytest.raises(InvalidInput, match="grounds: Field required"):
        ASSET.decide(state="tracing", action="refuse", side=D, payload={"explanation": "no"})
    with pytest.raises(InvalidInput, match=r"grounds\.0"):
        ASSET.decide(
            state="freeze_requested",
            action="refuse",
            side=D,
            payload={"grounds": ["too_costly"], "explanation": "no"},
        )


def test_estimated_amounts_in_the_opening_are_checked_by_name() -> None:
    details = {
        "offence": "fraud",
        "suspects": "X",
        "estimated": [{"currency": "USD", "amount": "1e6"}],
    }
    with pytest.raises(InvalidInput, match=r"asset opening details: estimated\.0\.amount"):
        ASSET.validate_opening(details)


def test_identified_asset_kind_is_enumerated() -> None:
    payload = {"assets": [{"asset_id": "A1", "kind": "yacht", "description": "boat"}]}
    with pytest.raises(InvalidInput, match=r"assets\.0\.kind"):
        ASSET.decide(state="tracing", action="report_assets", side=D, payload=payload)


# -- deadlines -------------------------------------------------------------------------------


def test_deadlines_are_the_requested_sides_to_meet() -> None:
    for name in ("trace", "freeze", "return"):
        assert ASSET.deadline(name).owner is D


def test_deadlines_follow_the_request_through_its_life() -> None:
    by_name = {a.name: a for a in ASSET.actions}
    assert ASSET.opening_starts == ("trace",)
    assert by_name["report_assets"].stops == ("trace",)
    assert by_name["report_none_found"].stops == ("trace",)
    assert by_name["request_freeze"].starts == ("freeze",)
    assert by_name["confirm_freeze"].stops == ("freeze",)
    assert set(by_name["refuse"].stops) == {"trace", "freeze"}
    assert by_name["transmit_forfeiture_order"].starts == ("return",)
    assert by_name["return_assets"].stops == ("return",)


def _open_deadlines(*steps: str) -> set[str]:
    events: list[tuple[str, str, dict[str, Any]]] = [("open", "2026-01-01T00:00:00Z", {})]
    events += [(a, f"2026-01-{i + 2:02d}T00:00:00Z", VALID[a]) for i, a in enumerate(steps)]
    return set(fold(ASSET, Priority.URGENT, events).deadlines)


def test_open_deadlines_as_the_case_goes() -> None:
    assert _open_deadlines() == {"trace"}
    assert _open_deadlines("report_none_found") == set()
    assert _open_deadlines("report_assets") == set()
    assert _open_deadlines("report_assets", "request_freeze") == {"freeze"}
    frozen = ("report_assets", "request_freeze", "confirm_freeze")
    assert _open_deadlines(*frozen) == set()
    assert _open_deadlines(*frozen, "transmit_forfeiture_order") == {"return"}
    assert _open_deadlines(*frozen, "transmit_forfeiture_order", "return_assets") == set()
    assert _open_deadlines(*frozen, "transmit_forfeiture_order", "withdraw") == set()
