"""Erasures survive a restore: the journal of every erasure applied on this node, kept in the
data folder outside the database, is re-applied to a database restored from before them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.cases.erasure import ErasureJournal, apply_erasure
from accord.cases.models import Case
from accord.config import Settings
from accord.core.clock import parse_iso
from accord.core.db import provided


def reapply(session: Session, entries: list[dict[str, Any]]) -> dict[str, int]:
    """Erase again what each journal entry names, in the cases this node holds; the parts
    already erased are skipped, so re-applying is harmless. Returns the counts."""
    cases = parts = 0
    for entry in entries:
        case = session.scalar(select(Case).where(Case.reference == entry["reference"]))
        if case is None:
            continue  # the backup predates the case: nothing of it to erase
        erased = apply_erasure(
            session,
            case=case,
            erasure_seq=int(entry["erasure_seq"]),
            payload={"rule": entry.get("rule", ""), "targets": entry.get("targets", [])},
            at=parse_iso(entry["at"]),
            journal=False,
        )
        if erased:
            cases += 1
            parts += erased
    return {"entries": len(entries), "cases": cases, "parts": parts}


def reapply_journal(session: Session) -> dict[str, int]:
    """Re-apply this node's whole journal (the session's runtime knows where it is)."""
    return reapply(session, provided(session, ErasureJournal).entries())


def reapply_after_restore(settings: Settings) -> dict[str, int]:
    """What `accord restore` runs once the database is back: the erasures made since the
    backup are made again before the node serves anything."""
    from accord.composition import assemble
    from accord.runtime import Runtime

    runtime = Runtime.open(settings, assemble())
    try:
        with runtime.transaction() as session:
            return reapply_journal(session)
    finally:
        runtime.close()
