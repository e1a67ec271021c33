"""Applying an erasure event to this node's copy of a case: every personal part it names is
overwritten in the stored payloads, its salt deleted, and the copies of it kept in the pending
actions and the federation outbox and inbox scrubbed the same way. The commitments stay, so
the log still verifies (`cases/erasable.py`)."""

from __future__ import annotations

import copy
import json
import os
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, SessionTransaction

from accord.cases.casetype import case_types
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
    here (0 when all of it was erased already: a redelivery, or a restore re-applying it)."""
    _overwrite_freed_space(session)
    names = case_types(session).get(case.case_type).personal
    stored = parts_of(session, case)
    wanted: dict[int, list[str]] = {}
    for target in payload.get("targets", []):
        wanted.setdefault(int(target["seq"]), []).append(str(target.get("path", "")))
    erased = 0
    scrubbed: dict[int, list[str]] = {}
    # an erasure erases only what came before it
    seqs = [seq for seq in wanted if seq < erasure_seq]
    events = {
        e.seq: e
        for e in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq.in_(seqs))
        )
    }
    for seq, prefixes in sorted(wanted.items()):
        event = events.get(seq)
        if event is None:
            continue
        rows = stored.get(seq, [])
        pointers: list[str] = []
        if rows and not attested(rows):
            for row in rows:
                if row.salt is not None and any(_under(row.path, p) for p in prefixes):
                    row.salt = None
                    row.erased_at = at
                    row.erasure_seq = erasure_seq
                    pointers.append(row.path)
        else:  # hashed in clear (format 0.1 or 0.2): erase all the same, the hash as attested
            known = {r.path for r in rows}
            for pointer, _ in personal_values(event.payload, names):
                if pointer not in known and any(_under(pointer, p) for p in prefixes):
                    session.add(
                        CaseEventPart(
                            case_id=case.id,
                            seq=seq,
                            path=pointer,
                            commitment=None,
                            salt=None,
                            erased_at=at,
                            erasure_seq=erasure_seq,
                        )
                    )
                    pointers.append(pointer)
        if pointers:
            event.payload = scrub(event.payload, pointers)
            scrubbed[seq] = pointers
            erased += len(pointers)
    if scrubbed:
        _scrub_copies(session, case, scrubbed, events)
        _refold_facts(session, case)
        for hook in case_types(session).on_erased:
            hook(session, case)
    if journal and erased:
        _journal_after_commit(
            session,
            {
                "reference": case.reference,
                "erasure_seq": erasure_seq,
                "rule": str(payload.get("rule", "")),
                "targets": [dict(t) for t in payload.get("targets", [])],
                "at": iso(at),
            },
        )
    session.flush()
    return erased


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
    session: Session, case: Case, scrubbed: dict[int, list[str]], events: dict[int, CaseEvent]
) -> None:
    """The same parts wherever else this node kept the payload: the act we submitted while it
    was pending, and the bodies of the case's messages in the outbox and the inbox."""
    submissions = {events[seq].submission_id: seq for seq in scrubbed if events[seq].submission_id}
    if submissions:
        for pending in session.scalars(
            select(PendingAction).where(PendingAction.case_id == case.id)
        ):
            found = submissions.get(str(pending.id))
            if found is not None:
                pending.payload = scrub(pending.payload, scrubbed[found])
    with session.no_autoflush:
        items: list[OutboxItem | InboxItem] = [
            *session.scalars(
                select(OutboxItem).where(
                    OutboxItem.peer == case.peer, OutboxItem.stream == case.reference
                )
            ),
            *session.scalars(
                select(InboxItem).where(
                    InboxItem.sender == case.peer, InboxItem.stream == case.reference
                )
            ),
        ]
    for item in items:
        body = copy.deepcopy(item.body or {})
        event_body = body.get("event")
        seq: int | None = None
        if isinstance(event_body, dict):
            seq = event_body.get("seq") if isinstance(event_body.get("seq"), int) else None
            target = event_body
        else:
            seq = submissions.get(str(body.get("submission_id")))
            target = body
        if seq is None or seq not in scrubbed or not isinstance(target.get("payload"), dict):
            continue
        target["payload"] = scrub(target["payload"], scrubbed[seq])
        for part in target.get("parts") or []:
            if part.get("path") in scrubbed[seq]:
                part["salt"] = None
        item.body = body
        if isinstance(item, InboxItem) and isinstance(item.envelope, dict):
            item.envelope = {**item.envelope, "body": ERASED_BODY}


def _refold_facts(session: Session, case: Case) -> None:
    """The case's cached facts from its erased log (a type's fold may copy personal parts)."""
    workflow = case_types(session).workflow(case.case_type)
    rows = session.execute(
        select(CaseEvent.action, CaseEvent.occurred_at, CaseEvent.payload)
        .where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.seq)
    )
    case.facts = fold(workflow, Priority(case.priority), ((a, t, p) for a, t, p in rows)).facts
