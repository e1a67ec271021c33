"""Handling-code changes are case events: raised on one node, replicated, and enforced on the
other (the case can no longer be exported there); either side may change it."""

from __future__ import annotations

import pytest

from accord.attachments.service import h2_items
from accord.cases import service
from accord.core.errors import InvalidInput
from tests.helpers import Node, act, log_of, pump, submitted_mla


def code_and_restrictions(node: Node, reference: str) -> tuple[str, list[str]]:
    with node.runtime.reading() as session:
        case = service.get_case(session, reference=reference)
        return case.handling_code, h2_items(session, case=case)


def raise_to(node: Node, reference: str, code: str) -> service.Acted:
    return act(
        node, reference, "change_handling_code", {"handling_code": code, "reason": "source asks"}
    )


def test_a_raised_handling_code_reaches_the_peer_and_stops_export_there(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    assert code_and_restrictions(cn, reference) == ("H1", [])
    raise_to(us, reference, "H2")
    pump(us, cn)
    for node in (us, cn):
        code, restricted = code_and_restrictions(node, reference)
        assert code == "H2" and f"the case {reference}" in restricted
    assert log_of(us, reference) == log_of(cn, reference)


def test_the_requested_side_raises_the_code_through_the_sequencer(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    acted = raise_to(cn, reference, "H3")
    assert acted.pending is not None and code_and_restrictions(cn, reference)[0] == "H1"
    pump(us, cn)
    assert code_and_restrictions(us, reference)[0] == "H3"
    assert code_and_restrictions(cn, reference)[0] == "H3"


def test_an_unknown_code_is_refused_naming_it(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    with pytest.raises(InvalidInput, match="handling_code"):
        raise_to(us, reference, "H9")
