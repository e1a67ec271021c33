"""Test helpers: in-process nodes on real databases, and a pump that moves envelopes between
them through the real seal → inbox → process path (only the HTTP hop is left out)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.accounts.service import create_user, issue_token
from accord.cases import service
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cases.schemas import EventOut
from accord.cli.scenarios import MLA_OPENING, MLA_STEPS
from accord.composition import assemble
from accord.config import Settings
from accord.core.clock import iso, new_id, utcnow
from accord.core.permissions import Role
from accord.federation import inbox
from accord.federation.delivery import seal_item
from accord.federation.envelope import seal, verify_document
from accord.federation.keys import NodeIdentity, PeerKeys
from accord.federation.models import OutboxItem
from accord.federation.node import init_node
from accord.federation.peers import add_peer, find_peer, peer_keys
from accord.runtime import Registry, Runtime

WINDOW = timedelta(seconds=300)


@dataclass
class Node:
    runtime: Runtime
    identity: NodeIdentity

    @property
    def name(self) -> str:
        return self.identity.name


def role_tokens(
    session: Session,
    roles: Iterable[Role],
    *,
    prefix: str,
    unit: str,
    password: str = "correct horse battery staple",
) -> dict[Role, str]:
    """One officer per role (`<prefix>-<role>`), each with an API token named after `prefix`."""
    tokens: dict[Role, str] = {}
    for role in roles:
        user = create_user(
            session,
            username=f"{prefix}-{role.value.replace('_', '-')}",
            display_name=role.value,
            role=role,
            unit=unit,
            password=password,
        )
        tokens[role] = issue_token(session, name=prefix, user=user)
    return tokens


def make_node(
    root: Path, url: str, name: str, country: str, registry: Registry | None = None
) -> Node:
    settings = Settings(data_dir=root / name, database_url=url)
    identity, _ = init_node(settings, name=name, country=country, endpoint=f"http://{name}.test")
    runtime = Runtime.open(settings, registry or assemble())
    return Node(runtime=runtime, identity=identity)


def peer_up(a: Node, b: Node) -> None:
    with a.runtime.transaction() as session:
        add_peer(
            session,
            card=b.identity.card(),
            own_name=a.name,
            own_namespace=a.identity.reference_namespace,
        )
    with b.runtime.transaction() as session:
        add_peer(
            session,
            card=a.identity.card(),
            own_name=b.name,
            own_namespace=b.identity.reference_namespace,
        )


def take_outbox(node: Node, to: str | None = None) -> list[dict[str, Any]]:
    """Seal every pending outbox item of `node` (as the delivery worker would) and mark it
    delivered; return the envelopes in outbox order."""
    envelopes: list[dict[str, Any]] = []
    with node.runtime.transaction() as session:
        query = select(OutboxItem).where(OutboxItem.status == "pending").order_by(OutboxItem.id)
        for item in session.scalars(query):
            if to is not None and item.peer != to:
                continue
            peer = find_peer(session, item.peer)
            assert peer is not None
            envelopes.append(seal_item(node.identity, peer_keys(peer), item, sent_at=iso(utcnow())))
            item.status = "delivered"
    return envelopes


def deliver(node: Node, envelopes: list[dict[str, Any]]) -> inbox.BatchOutcome:
    with node.runtime.transaction() as session:
        return inbox.receive(
            session, node=node.identity, envelopes=envelopes, remote_addr="test", window=WINDOW
        )


def process(node: Node) -> int:
    total = 0
    while True:
        settled = inbox.process(node.runtime.factory, node.identity)
        total += settled
        if not settled:
            return total


def pump(*nodes: Node, rounds: int = 20) -> None:
    """Exchange until quiet: every outbox item is delivered and every inbox item processed."""
    by_name = {n.name: n for n in nodes}
    for _ in range(rounds):
        moved = 0
        for node in nodes:
            for target in by_name:
                if target == node.name:
                    continue
                envelopes = take_outbox(node, to=target)
                if envelopes:
                    moved += len(envelopes)
                    outcome = deliver(by_name[target], envelopes)
                    assert outcome.error is None, outcome.error
                    process(by_name[target])
        if not moved:
            return
    raise AssertionError("the nodes did not go quiet")


def asker(a: Node, b: Node) -> Callable[[str, str, dict[str, Any]], dict[str, Any]]:
    """`ask` for service.verify that reaches `b` through its real query path, minus HTTP."""

    def ask(peer_name: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        assert peer_name == b.name
        keys = PeerKeys.from_b64(b.name, b.identity.signing_public, b.identity.encryption_public)
        envelope = seal(
            a.identity, keys, envelope_id=new_id(), kind=kind, body=body, sent_at=iso(utcnow())
        )
        with b.runtime.transaction() as session:
            status, reply = inbox.answer_query(
                session, node=b.identity, raw_envelope=envelope, remote_addr="test", window=WINDOW
            )
        assert status == 200, reply
        verify_document(reply, keys.verify)
        answer: dict[str, Any] = reply["answer"]
        return answer

    return ask


def open_mla(node: Node, peer: str) -> str:
    with node.runtime.transaction() as session:
        case = service.open_case(
            session,
            node=node.identity,
            case_type="mla",
            peer=peer,
            area=Area.JUDICIAL_ASSISTANCE,
            priority=Priority.ROUTINE,
            handling_code=HandlingCode.H1,
            title=MLA_OPENING["title"],
            details=MLA_OPENING["details"],
            officer="Officer Smith",
        )
        return case.reference


def open_from(node: Node, peer: str, opening: dict[str, Any], officer: str = "tester") -> str:
    """Open a case as a demo scenario's opening describes it (`cli/scenarios.py`)."""
    with node.runtime.transaction() as session:
        case = service.open_case(
            session,
            node=node.identity,
            case_type=opening["case_type"],
            peer=peer,
            area=Area(opening["area"]),
            priority=Priority(opening["priority"]),
            handling_code=HandlingCode(opening["handling_code"]),
            title=opening["title"],
            details=opening["details"],
            officer=officer,
        )
        return case.reference


def act(node: Node, reference: str, action: str, payload: dict[str, Any]) -> service.Acted:
    with node.runtime.transaction() as session:
        return service.act(
            session,
            node=node.identity,
            reference=reference,
            action=action,
            payload=payload,
            officer="tester",
        )


def log_of(node: Node, reference: str) -> list[dict[str, Any]]:
    with node.runtime.transaction() as session:
        return [
            EventOut.model_validate(e).model_dump()
            for e in service.case_log(session, reference=reference)
        ]


def submitted_mla(us: Node, cn: Node) -> str:
    """An MLA case opened by `us`, through its legal review, and replicated to `cn`."""
    reference = open_mla(us, cn.name)
    for step in MLA_STEPS[:2]:
        act(us, reference, step.action, step.payload)
    pump(us, cn)
    return reference


def published_samples(kind: str) -> Path:
    """The folder of published sample files of one kind (`notices`, `stix`, `watchlists`):
    `../shared/samples/<kind>` beside the checkout, or below `ACCORD_SAMPLES` where the checkout
    lies elsewhere. Tests read them there and never copy them in; without them a test fails,
    saying where it looked, rather than skip."""
    configured = os.environ.get("ACCORD_SAMPLES")
    base = (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[2] / "shared" / "samples"
    )
    folder = base / kind
    if not folder.is_dir():
        raise FileNotFoundError(
            f"the published samples are not at {folder}: check out beside ../shared, or set "
            "ACCORD_SAMPLES to the samples folder"
        )
    return folder
