"""One handling-code rule on every path STIX takes: a TLP:RED bundle that `cyber attach` refuses
on an H2 case is refused over TAXII too, never forwarded, refused by a receiving peer whose
agreement does not allow it (quarantined with the reason), and never exported."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from accord.accounts.service import Principal
from accord.attachments.service import export_case
from accord.cases.enums import HandlingCode
from accord.cli import scenarios
from accord.core.errors import Forbidden, InvalidInput
from accord.core.permissions import Role
from accord.cyber import handling, sightings
from accord.cyber.stix import TLP2_MARKINGS, TlpLevel, tlp_marking_for
from accord.cyber.taxii import service
from accord.cyber.taxii.models import TaxiiObject
from accord.federation.models import OutboxItem, Peer, QuarantineItem
from tests.cyber.test_taxii_server import indicator
from tests.helpers import Node, open_from, pump

RED = TLP2_MARKINGS[TlpLevel.RED].id
AMBER = TLP2_MARKINGS[TlpLevel.AMBER].id


def red(n: int) -> dict[str, Any]:
    return indicator(n, object_marking_refs=[RED])


def _bundle(*objects: dict[str, Any]) -> bytes:
    return json.dumps(
        {"type": "bundle", "id": "bundle--00000000-0000-4000-8000-0000000000b1", "objects": objects}
    ).encode()


def _agree(node: Node, peer: str, **cyber: Any) -> None:
    with node.runtime.transaction() as session:
        row = session.scalars(select(Peer).where(Peer.name == peer)).one()
        row.agreement = {**(row.agreement or {}), "cyber": cyber}


def _outbox_objects(node: Node) -> list[str]:
    with node.runtime.reading() as session:
        bodies = session.scalars(select(OutboxItem.body).where(OutboxItem.kind == "taxii.objects"))
        return [obj["id"] for body in bodies for obj in body["objects"]]


def _h2_cyber_case(us: Node, cn: Node) -> str:
    opening = {**scenarios.CYBER.opening, "handling_code": "H2"}
    reference = open_from(cn, us.name, opening)
    pump(us, cn)
    return reference


def test_the_rule_reads_object_and_granular_markings() -> None:
    peer = handling.for_peer("CN-MOJ", {})
    assert peer.ceiling is HandlingCode.H2
    assert handling.refusal(indicator(1, object_marking_refs=[AMBER]), peer) is None
    granular = indicator(2, granular_markings=[{"marking_ref": RED, "selectors": ["pattern"]}])
    reason = handling.refusal(granular, peer)
    assert reason is not None and "need handling code H3" in reason and "carries H2" in reason
    wider = handling.for_peer("CN-MOJ", {"cyber": {"handling_code": "H3"}})
    assert handling.refusal(granular, wider) is None
    with pytest.raises(InvalidInput, match=r"cyber\.handling_code 'H9'"):
        handling.for_peer("CN-MOJ", {"cyber": {"handling_code": "H9"}})
    assert [handling.exportable(c) for c in HandlingCode] == [True, True, False, False]


def test_attach_refuses_a_red_bundle_on_an_h2_case(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = _h2_cyber_case(us, cn)
    with (
        cn.runtime.transaction() as session,
        pytest.raises(Forbidden, match=r"need handling code H3 but the case .* carries H2"),
    ):
        sightings.attach_bundle(
            session, node=cn.identity, reference=reference, bundle=_bundle(red(1)), officer="a"
        )


def test_taxii_add_refuses_the_same_bundle_and_forwards_nothing(pair: tuple[Node, Node]) -> None:
    """The issue's bypass: what attach refuses on an H2 case was accepted over TAXII and sent."""
    us, cn = pair
    with us.runtime.transaction() as session:
        target = service.writable(session, f"to-{cn.name}")
        status = service.add_objects(
            session, collection=target, objects=[red(1), indicator(2)], actor="analyst"
        )
    assert (status.success_count, status.failure_count) == (1, 1)
    assert "need handling code H3" in status.failures[0]["message"]
    assert _outbox_objects(us) == [indicator(2)["id"]]
    with us.runtime.reading() as session:
        held = session.scalars(select(TaxiiObject.object_id)).all()
    assert held == [indicator(2)["id"]]


def test_federation_out_is_held_to_the_rule_on_its_own(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    with us.runtime.transaction() as session, pytest.raises(Forbidden, match="H3"):
        service.share(session, cn.name, [red(1)], handling.for_peer(cn.name, {}))
    assert _outbox_objects(us) == []


def test_a_receiving_peer_quarantines_what_its_agreement_does_not_allow(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    _agree(us, cn.name, handling_code="H3")  # US may share RED with CN; CN has not agreed it
    with us.runtime.transaction() as session:
        target = service.writable(session, f"to-{cn.name}")
        status = service.add_objects(session, collection=target, objects=[red(1)], actor="a")
    assert status.success_count == 1
    pump(us, cn)
    with cn.runtime.reading() as session:
        assert session.scalar(select(func.count()).select_from(TaxiiObject)) == 0
        reasons = list(session.scalars(select(QuarantineItem.reason)))
    assert any("need handling code H3" in r and "kept in quarantine" in r for r in reasons)
    _agree(cn, us.name, handling_code="H3")
    with us.runtime.transaction() as session:
        target = service.writable(session, f"to-{cn.name}")
        service.add_objects(session, collection=target, objects=[red(2)], actor="a")
    pump(us, cn)
    with cn.runtime.reading() as session:
        received = session.scalars(select(TaxiiObject.object_id)).all()
    assert received == [red(2)["id"]]


def test_export_refuses_a_case_holding_a_red_bundle(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    opening = {**scenarios.CYBER.opening, "handling_code": "H3"}
    reference = open_from(cn, us.name, opening)
    pump(us, cn)
    marked = _bundle(indicator(1, object_marking_refs=[tlp_marking_for(HandlingCode.H3).id]))
    with cn.runtime.transaction() as session:
        sightings.attach_bundle(
            session, node=cn.identity, reference=reference, bundle=marked, officer="a"
        )
        unit = sightings.cases.get_case(session, reference=reference).unit
        viewer = Principal(username="t", role=Role.LIAISON_OFFICER, unit=unit)
        with pytest.raises(Forbidden, match="forbids exporting"):
            export_case(session, reference=reference, viewer=viewer)
