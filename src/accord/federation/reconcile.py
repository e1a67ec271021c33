"""After a restore: the hold that keeps a node from forking its logs with its peers.

A node restored from a backup may have sent its peers, after that backup, events, cases and
reference numbers it no longer holds. Sequencing anything new then could reuse a reference or an
event number the peer already has (the peer would see a forked log). So a restore writes one
`Reconciliation` row per peer; while any is unsettled the node appends nothing to a log it
sequences, and delivers nothing. Reconciling with a peer (`accord.cases.recovery`) asks it, in
signed queries, what it holds from us, takes back what we lost, and settles the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accord.audit import service as audit
from accord.core.clock import utcnow
from accord.core.errors import Conflict, NotFound
from accord.federation.inbox import WAKE_KEY
from accord.federation.models import InboxItem, Peer, Reconciliation

NEEDED = "needed"
DONE = "done"
SKIPPED = "skipped"
_HELD_KEY = "accord.reconcile_held"


class Unreconciled(Conflict):
    """The node was restored and has not reconciled with every peer yet."""


@dataclass(frozen=True)
class HoldStatus:
    held: bool
    waiting_for: list[str]
    rows: list[Reconciliation]

    def describe(self) -> str:
        if not self.held:
            return "reconciled with every peer" if self.rows else "no restore to reconcile"
        return "restored from a backup: waiting to reconcile with " + ", ".join(self.waiting_for)


def hold(session: Session, *, backup_created_at: str | None) -> list[str]:
    """Just restored: hold sequencing and delivery until every active peer is reconciled."""
    now = utcnow()
    peers = list(
        session.scalars(select(Peer.name).where(Peer.active.is_(True)).order_by(Peer.name))
    )
    for name in peers:
        row = session.get(Reconciliation, name)
        if row is None:
            row = Reconciliation(peer=name, restored_at=now, status=NEEDED)
            session.add(row)
        row.status, row.restored_at, row.backup_created_at = NEEDED, now, backup_created_at
        row.attempted_at = row.settled_at = None
        row.last_error, row.report = None, None
    session.flush()
    return peers


def waiting_for(session: Session) -> list[str]:
    """The peers still to reconcile with (none: the node is not held)."""
    return list(
        session.scalars(
            select(Reconciliation.peer)
            .where(Reconciliation.status == NEEDED)
            .order_by(Reconciliation.peer)
        )
    )


def status(session: Session) -> HoldStatus:
    rows = list(session.scalars(select(Reconciliation).order_by(Reconciliation.peer)))
    waiting = [r.peer for r in rows if r.status == NEEDED]
    return HoldStatus(held=bool(waiting), waiting_for=waiting, rows=rows)


def held(session: Session) -> bool:
    """Whether the node is held, asked once per transaction (every appended event asks)."""
    transaction = session.get_transaction()
    cached = session.info.get(_HELD_KEY)
    if cached is None or cached[0] is not transaction:
        cached = (transaction, bool(waiting_for(session)))
        session.info[_HELD_KEY] = cached
    return bool(cached[1])


def refuse_while_held(session: Session, what: str) -> None:
    """Raise Unreconciled, naming the peers and the command, if the node is held."""
    if not held(session):
        return
    peers = ", ".join(waiting_for(session))
    raise Unreconciled(
        f"this node was restored from a backup and has not reconciled with {peers} yet: it "
        f"{what} only once it has (run `accord federation reconcile`, or wait for the peers to "
        "be reachable)"
    )


def peer_held(session: Session, peer: str) -> bool:
    row = session.get(Reconciliation, peer)
    return row is not None and row.status == NEEDED


def attempted(session: Session, peer: str, error: str) -> None:
    row = session.get(Reconciliation, peer)
    if row is not None:
        row.attempted_at, row.last_error = utcnow(), error[:2000]


def settle(session: Session, peer: str, report: dict[str, Any], *, skipped: bool = False) -> None:
    """Reconciled with `peer` (or skipped by the operator): audited; once no peer is left the
    node sequences and delivers again, and the peer's messages that waited are retried."""
    row = session.get(Reconciliation, peer)
    if row is None or row.status != NEEDED:
        raise NotFound(f"nothing to reconcile with {peer!r}: `accord federation reconcile` lists")
    now = utcnow()
    row.status = SKIPPED if skipped else DONE
    row.attempted_at = row.settled_at = now
    row.last_error = None
    row.report = report
    audit.record(
        session,
        actor="system:reconcile",
        action="federation.reconcile_skipped" if skipped else "federation.reconciled",
        outcome="ok",
        subject=peer,
        detail=report,
    )
    session.info.pop(_HELD_KEY, None)
    if not waiting_for(session):
        session.execute(
            update(InboxItem).where(InboxItem.status == "waiting").values(status="stored")
        )
        session.info[WAKE_KEY] = True
