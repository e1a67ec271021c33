"""Applying an erasure event to this node's copy of a case: every personal part it names is
overwritten in the stored payloads, its salt deleted, and the copies of it kept in the pending
actions and the federation outbox and inbox scrubbed the same way. The commitments stay, so
the log still verifies (`cases/erasable.py`)."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, select, text
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, SessionTransaction

from accord.cases.casetype import CaseTypes, case_types
from accord.cases.enums import Priority
from accord.cases.erasable import Part, personal_values, scrub
from accord.cases.models import Case, CaseEvent, CaseEventPart, PendingAction
from accord.cases.schemas import WirePart
from accord.cases.workflow import fold
from accord.core.clock import iso
from accord.federation.models import InboxItem, OutboxItem

ERASED_BODY = "erased"
"""What replaces the encrypted body of a stored envelope that carried an erased part."""


def parts_of(session: Session, case: Case) -> dict[int, list[CaseEventPart]]:
    """The erasable parts of a case's events, by event number."""
    found: dict[int, list[CaseEventPart]] = {}
    rows = session.scalars(
        select(CaseEventPart)
        .where(CaseEventPart.case_id == case.id)
        .order_by(CaseEventPart.seq, CaseEventPart.path)
    )
    for row in rows:
        found.setdefault(row.seq, []).append(row)
    return found


def wire_parts(rows: list[CaseEventPart]) -> list[WirePart]:
    """The parts as they travel (an attested row, without commitment, does not travel)."""
    return [
        WirePart(path=r.path, commitment=r.commitment, salt=r.salt)
        for r in rows
        if r.commitment is not None
    ]


def as_parts(rows: list[WirePart]) -> list[Part]:
    return [Part(r.path, r.commitment, r.salt) for r in rows]


def attested(rows: list[CaseEventPart]) -> bool:
    """An event hashed in clear whose parts were erased: its stored hash stands as attested."""
    return any(r.commitment is None for r in rows)


def _under(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(prefix + "/")


@dataclass(frozen=True)
class Erasure:
    """One erasure event to apply to this node's copy of its case."""

    case: Case
    erasure_seq: int
    payload: Mapping[str, Any]
    at: datetime


_DEFERRED = "accord.erasures_deferred"

BULK = 500
"""Cases whose rows one erasure batch loads with one query per table."""


@contextmanager
def erasures_deferred(session: Session) -> Iterator[None]:
    """Within the block, the erasure events appended are applied together when it ends, with
    one query per table for all their cases instead of a dozen per case (a retention run's
    chunk). The block's `apply_erasure` calls return 0: nothing is erased before it ends."""
    queued: list[Erasure] = []
    session.info[_DEFERRED] = queued
    try:
        yield
    finally:
        session.info.pop(_DEFERRED, None)
    apply_erasures(session, queued)


@contextmanager
def one_deferred_erasure(session: Session) -> Iterator[None]:
    """One case's erasure inside `erasures_deferred`, in a savepoint: if it fails, the
    savepoint is rolled back and what it queued is dropped, the block's other erasures kept."""
    queued: list[Erasure] | None = session.info.get(_DEFERRED)
    mark = len(queued) if queued is not None else 0
    try:
        with session.begin_nested():
            yield
    except BaseException:
        if queued is not None:
            del queued[mark:]
        raise


def apply_erasure(
    session: Session,
    *,
    case: Case,
    erasure_seq: int,
    payload: Mapping[str, Any],
    at: datetime,
    journal: bool = True,
) -> int:
    """Erase what the erasure event `erasure_seq` names; return how many parts were erased
    here (0 when all of it was erased already: a redelivery, or a restore re-applying it; 0
    also inside `erasures_deferred`, which applies it at the end of its block)."""
    erasure = Erasure(case=case, erasure_seq=erasure_seq, payload=payload, at=at)
    queued: list[Erasure] | None = session.info.get(_DEFERRED)
    if queued is not None and journal:
        queued.append(erasure)
        return 0
    return apply_erasures(session, [erasure], journal=journal).get(case.id, 0)


def apply_erasures(
    session: Session, erasures: Sequence[Erasure], *, journal: bool = True
) -> dict[UUID, int]:
    """Apply erasure events, in order; return the parts erased here per case."""
    erased: dict[UUID, int] = {}
    if not erasures:
        return erased
    _overwrite_freed_space(session)
    batch: list[Erasure] = []
    for erasure in erasures:
        # a case appears once per batch: its second erasure sees what the first erased
        if len(batch) == BULK or any(e.case.id == erasure.case.id for e in batch):
            _apply_batch(session, batch, erased, journal)
            batch = []
        batch.append(erasure)
    _apply_batch(session, batch, erased, journal)
    session.flush()
    return erased


def _apply_batch(
    session: Session, batch: list[Erasure], erased: dict[UUID, int], journal: bool
) -> None:
    if not batch:
        return
    types = case_types(session)
    ids = [e.case.id for e in batch]
    stored: dict[UUID, dict[int, list[CaseEventPart]]] = {i: {} for i in ids}
    for row in session.scalars(
        select(CaseEventPart)
        .where(CaseEventPart.case_id.in_(ids))
        .order_by(CaseEventPart.case_id, CaseEventPart.seq, CaseEventPart.path)
    ):
        stored[row.case_id].setdefault(row.seq, []).append(row)
    logs: dict[UUID, list[CaseEvent]] = {i: [] for i in ids}
    for event in session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id.in_(ids))
        .order_by(CaseEvent.case_id, CaseEvent.seq)
    ):
        logs[event.case_id].append(event)
    changed: list[tuple[Case, dict[int, list[str]], dict[int, CaseEvent]]] = []
    for erasure in batch:
        case = erasure.case
        events = {e.seq: e for e in logs[case.id]}
        scrubbed = _erase_parts(session, erasure, events, stored[case.id], types)
        erased[case.id] = erased.get(case.id, 0) + sum(len(p) for p in scrubbed.values())
        if scrubbed:
            changed.append((case, scrubbed, events))
            if journal:
                _journal_after_commit(
                    session,
                    {
                        "reference": case.reference,
                        "erasure_seq": erasure.erasure_seq,
                        "rule": str(erasure.payload.get("rule", "")),
                        "targets": [dict(t) for t in erasure.payload.get("targets", [])],
                        "at": iso(erasure.at),
                    },
                )
    if not changed:
        return
    _scrub_copies(session, changed)
    for case, _, events in changed:
        _refold_facts(session, case, [events[seq] for seq in sorted(events)])
    session.flush()  # once for the batch, not at each hook's first query
    for case, _, _ in changed:
        for hook in types.on_erased:
            hook(session, case)


def _erase_parts(
    session: Session,
    erasure: Erasure,
    events: dict[int, CaseEvent],
    stored: dict[int, list[CaseEventPart]],
    types: CaseTypes,
) -> dict[int, list[str]]:
    """Erase the parts one erasure names in its case's loaded log; return the pointers
    overwritten, by event number."""
    case = erasure.case
    names = types.get(case.case_type).personal
    wanted: dict[int, list[str]] = {}
    for target in erasure.payload.get("targets", []):
        wanted.setdefault(int(target["seq"]), []).append(str(target.get("path", "")))
    scrubbed: dict[int, list[str]] = {}
    for seq, prefixes in sorted(wanted.items()):
        event = events.get(seq)
        if event is None or seq >= erasure.erasure_seq:
            continue  # an erasure erases only what came before it
        rows = stored.get(seq, [])
        pointers: list[str] = []
        if rows and not attested(rows):
            for row in rows:
                if row.salt is not None and any(_under(row.path, p) for p in prefixes):
                    row.salt = None
                    row.erased_at = erasure.at
                    row.erasure_seq = erasure.erasure_seq
                    pointers.append(row.path)
        else:  # hashed in clear (format 0.1 or 0.2): erase all the same, the hash as attested
            known = {r.path for r in rows}
            for pointer, _ in personal_values(event.payload, names):
                if pointer not in known and any(_under(pointer, p) for p in prefixes):
                    row = CaseEventPart(
                        case_id=case.id,
                        seq=seq,
                        path=pointer,
                        commitment=None,
                        salt=None,
                        erased_at=erasure.at,
                        erasure_seq=erasure.erasure_seq,
                    )
                    session.add(row)
                    stored.setdefault(seq, []).append(row)
                    pointers.append(pointer)
        if pointers:
            event.payload = scrub(event.payload, pointers)
            scrubbed[seq] = pointers
    return scrubbed


JOURNAL_FILE = "erasures.jsonl"
"""In the data folder, outside the database and its backups: one line per erasure applied here
(where, not what), which `accord restore` re-applies to a database restored from before it."""


@dataclass(frozen=True)
class ErasureJournal:
    """Where this node keeps its erasure journal; carried by the runtime's sessions."""

    path: Path

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text("utf-8").splitlines() if line]


_JOURNAL_PENDING = "accord.erasure_journal"


def _journal_after_commit(session: Session, entry: dict[str, Any]) -> None:
    journal = session.info.get(ErasureJournal)
    if not isinstance(journal, ErasureJournal):
        return
    pending: list[dict[str, Any]] | None = session.info.get(_JOURNAL_PENDING)
    if pending is not None:
        pending.append(entry)
        return
    session.info[_JOURNAL_PENDING] = [entry]

    def write(committed: Session) -> None:
        lines = committed.info.pop(_JOURNAL_PENDING, [])
        journal.path.parent.mkdir(parents=True, exist_ok=True)
        with journal.path.open("a", encoding="utf-8") as out:
            for line in lines:
                out.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def forget(rolled_back: Session) -> None:
        rolled_back.info.pop(_JOURNAL_PENDING, None)

    _at_outer_end(session, write, forget)


def _at_outer_end(
    session: Session, committed: Callable[[Session], None], rolled_back: Callable[[Session], None]
) -> None:
    """Run `committed` once the session's outermost transaction commits, or `rolled_back` once
    it rolls back. SQLAlchemy fires `after_commit` and `after_soft_rollback` for a SAVEPOINT
    (a `begin_nested` block, as identity screening opens after an erasure) too: a listener
    with `once=True` would write the journal and checkpoint the WAL while the erasing
    transaction is still open (the checkpoint then left the old pages in the files)."""
    done = False

    def on_commit(ended: Session) -> None:
        nonlocal done
        if not done and not ended.in_nested_transaction():
            done = True
            committed(ended)

    def on_rollback(ended: Session, transaction: SessionTransaction) -> None:
        nonlocal done
        if not done and not transaction.nested:
            done = True
            rolled_back(ended)

    orm_event.listen(session, "after_commit", on_commit)
    orm_event.listen(session, "after_soft_rollback", on_rollback)


def _overwrite_freed_space(session: Session) -> None:
    """On SQLite: zero what the erasure frees in the database file (`secure_delete`), and once
    it is committed, copy the write-ahead log back and truncate it, so that the old pages'
    images do not linger there. PostgreSQL keeps the old row versions until VACUUM
    (docs/security.md)."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return
    session.execute(text("PRAGMA secure_delete=ON"))
    if session.info.get(_CHECKPOINT):
        return
    session.info[_CHECKPOINT] = True

    engine = bind.engine if isinstance(bind, Connection) else bind
    path = engine.url.database

    def checkpoint(committed: Session) -> None:
        committed.info.pop(_CHECKPOINT, None)
        if not path or path == ":memory:":
            return
        # a connection of its own, outside the pool and its one-writer queue: the session's
        # connection may not be checked in yet; busy readers only make it a partial checkpoint
        connection = sqlite3.connect(path, timeout=2, isolation_level=None)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()

    def forget(rolled_back: Session) -> None:
        rolled_back.info.pop(_CHECKPOINT, None)

    _at_outer_end(session, checkpoint, forget)


_CHECKPOINT = "accord.erasure_checkpoint"


def _scrub_copies(
    session: Session, changed: list[tuple[Case, dict[int, list[str]], dict[int, CaseEvent]]]
) -> None:
    """The same parts wherever else this node kept the payload: the acts we submitted while
    they were pending, and the bodies of the cases' messages in the outbox and the inbox."""
    by_stream = {(case.peer, case.reference): (case, scrubbed) for case, scrubbed, _ in changed}
    submitted: dict[str, tuple[int, list[str]]] = {}
    for _, scrubbed, events in changed:
        for number, pointers in scrubbed.items():
            if events[number].submission_id:
                submitted[str(events[number].submission_id)] = (number, pointers)
    references = [case.reference for case, _, _ in changed]
    peers = sorted({case.peer for case, _, _ in changed})
    with session.no_autoflush:
        if submitted:
            for pending in session.scalars(
                select(PendingAction).where(
                    PendingAction.case_id.in_([case.id for case, _, _ in changed])
                )
            ):
                found = submitted.get(str(pending.id))
                if found is not None:
                    pending.payload = scrub(pending.payload, found[1])
        items: list[OutboxItem | InboxItem] = [
            *session.scalars(
                select(OutboxItem).where(
                    OutboxItem.peer.in_(peers), OutboxItem.stream.in_(references)
                )
            ),
            *session.scalars(
                select(InboxItem).where(
                    InboxItem.sender.in_(peers), InboxItem.stream.in_(references)
                )
            ),
        ]
    for item in items:
        party = item.peer if isinstance(item, OutboxItem) else item.sender
        found_case = by_stream.get((party, item.stream))
        if found_case is None:
            continue
        scrubbed = found_case[1]
        body = item.body or {}
        event_body = body.get("event")
        seq: int | None = None
        if isinstance(event_body, dict):
            seq = event_body.get("seq") if isinstance(event_body.get("seq"), int) else None
        else:
            mine = submitted.get(str(body.get("submission_id")))
            seq = mine[0] if mine is not None else None
        if seq is None or seq not in scrubbed:
            continue
        # copies down to the payload, which scrub copies: the stored body is never mutated
        body = dict(body)
        if isinstance(body.get("event"), dict):
            target = body["event"] = dict(body["event"])
        else:
            target = body
        if not isinstance(target.get("payload"), dict):
            continue
        target["payload"] = scrub(target["payload"], scrubbed[seq])
        if isinstance(target.get("parts"), list):
            target["parts"] = [
                {**part, "salt": None} if part.get("path") in scrubbed[seq] else part
                for part in target["parts"]
            ]
        item.body = body
        if isinstance(item, InboxItem) and isinstance(item.envelope, dict):
            item.envelope = {**item.envelope, "body": ERASED_BODY}


def _refold_facts(session: Session, case: Case, log: list[CaseEvent]) -> None:
    """The case's cached facts from its erased log (a type's fold may copy personal parts)."""
    workflow = case_types(session).workflow(case.case_type)
    case.facts = fold(
        workflow, Priority(case.priority), ((e.action, e.occurred_at, e.payload) for e in log)
    ).facts
