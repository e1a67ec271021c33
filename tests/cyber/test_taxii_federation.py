"""What a node adds to its `to-<peer>` collection reaches the peer's `from-<node>` collection
through federation; a peer that has not agreed to receive keeps it in quarantine, explained."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from accord.cyber.taxii import service
from accord.cyber.taxii.models import TaxiiObject
from accord.federation.models import Peer, QuarantineItem
from tests.cyber.test_taxii_server import indicator
from tests.helpers import Node, pump


def _add(node: Node, collection_id: str, objects: list[dict[str, Any]]) -> Any:
    with node.runtime.transaction() as session:
        status = service.add_objects(
            session,
            collection=service.writable(session, collection_id),
            objects=objects,
            actor="analyst",
        )
        return status.success_count, status.failure_count


def _held(node: Node, collection_id: str) -> list[str]:
    with node.runtime.reading() as session:
        return list(
            session.scalars(
                select(TaxiiObject.object_id)
                .where(TaxiiObject.collection == service.collection_id(collection_id))
                .order_by(TaxiiObject.key)
            )
        )


def test_objects_shared_with_a_peer_arrive_in_its_collection(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    objects = [indicator(n) for n in range(450)]  # three federation messages
    assert _add(us, f"to-{cn.name}", objects) == (450, 0)
    pump(us, cn)
    assert _held(cn, f"from-{us.name}") == [o["id"] for o in objects]
    assert _held(us, f"from-{cn.name}") == []
    # a new version travels too; the same version again adds nothing and sends nothing
    newer = indicator(0, modified="2026-12-01T00:00:00.000Z")
    assert _add(us, f"to-{cn.name}", [newer, objects[1]]) == (2, 0)
    pump(us, cn)
    with cn.runtime.reading() as session:
        page = service.object_page(
            session,
            collection=service.collection_id(f"from-{us.name}"),
            filters=service.parse_filter({"match[id]": objects[0]["id"], "match[version]": "all"}),
            after=0,
            limit=10,
        )
    assert len(page.rows) == 2


def test_a_peer_that_does_not_receive_quarantines_with_a_reason(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    with cn.runtime.transaction() as session:
        peer = session.scalar(select(Peer).where(Peer.name == us.name))
        assert peer is not None
        peer.agreement = {**(peer.agreement or {}), "cyber": {"receive": False}}
    _add(us, f"to-{cn.name}", [indicator(1)])
    pump(us, cn)
    assert _held(cn, f"from-{us.name}") == []
    with cn.runtime.reading() as session:
        reasons = list(session.scalars(select(QuarantineItem.reason)))
    assert any("receiving STIX objects from US-DOJ is not agreed" in r for r in reasons)
