"""Corrections and retractions of a case's personal data: the checks a `correct` or `retract`
event must pass, what each erases when it is recorded, the case's details as corrected, and the
history of its personal data (what was erased, corrected or retracted, when, by whom and under
which rule, never the content)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.cases.casetype import case_types
from accord.cases.enums import Side
from accord.cases.erasable import get_at
from accord.cases.models import Case, CaseEvent, CaseEventPart
from accord.cases.schemas import CaseHeader, HistoryEntry, HistoryTarget
from accord.cases.workflow import (
    CORRECT_ACTION,
    CORRECTED,
    DETAILS_SEQ,
    ERASE_ACTION,
    ERASURE_RECEIPT_ACTION,
    LIFECYCLE_ACTIONS,
    OPEN_ACTION,
    RETRACT_ACTION,
    RETRACTED,
)
from accord.core.errors import InvalidInput

HISTORY_ACTIONS = (ERASE_ACTION, CORRECT_ACTION, RETRACT_ACTION)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def corrected_pointers(payload: Mapping[str, Any]) -> list[tuple[int, str]]:
    """(event number, pointer) of every value a correction replaces."""
    return [
        (int(item["seq"]), f"{item['path']}/{_escape(name)}")
        for item in payload.get("corrections", [])
        for name in item.get("set") or {}
    ]


def erasure_targets(
    session: Session, case: Case, action: str, payload: Mapping[str, Any], *, seq: int
) -> list[dict[str, Any]]:
    """What a correction or a retraction erases, as erasure targets ({seq, path}): the old
    values it replaces (and those an earlier correction of the same value had brought), or
    the items it withdraws."""
    if action == RETRACT_ACTION:
        return [{"seq": int(i["seq"]), "path": str(i["path"])} for i in payload.get("items", [])]
    wanted = set(corrected_pointers(payload))
    targets = [{"seq": seq, "path": path} for seq, path in sorted(wanted)]
    earlier = session.scalars(
        select(CaseEvent)
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.action == CORRECT_ACTION,
            CaseEvent.seq < seq,
        )
        .order_by(CaseEvent.seq)
    )
    for event in earlier:
        for index, item in enumerate(event.payload.get("corrections", [])):
            for name in item.get("set") or {}:
                if (int(item["seq"]), f"{item['path']}/{_escape(name)}") in wanted:
                    pointer = f"/corrections/{index}/set/{_escape(name)}"
                    targets.append({"seq": event.seq, "path": pointer})
    return targets


# -- checks -----------------------------------------------------------------------------------


def check(
    session: Session,
    *,
    case: Case,
    side: Side,
    action: str,
    payload: Mapping[str, Any],
    replicated: bool = False,
) -> None:
    """Refuse, with what is wrong, a correction or retraction that names an event or a path
    the log does not hold, a field that is not personal data, data the other side recorded
    (each side corrects only what it recorded), a value already erased by an erasure, or a new
    value its field's rules refuse. A `replicated` event, appended by the sequencer after
    those checks, may arrive with its values or its targets erased since: only where it
    points is checked again."""
    if action not in (CORRECT_ACTION, RETRACT_ACTION):
        return
    items = payload.get("corrections" if action == CORRECT_ACTION else "items", [])
    seqs = sorted({int(item["seq"]) for item in items})
    events = {
        e.seq: e
        for e in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq.in_(seqs))
        )
    }
    parts: dict[tuple[int, str], CaseEventPart] = {
        (p.seq, p.path): p
        for p in session.scalars(
            select(CaseEventPart).where(
                CaseEventPart.case_id == case.id, CaseEventPart.seq.in_(seqs)
            )
        )
    }
    declared = case_types(session).get(case.case_type)
    names = declared.personal
    for item in items:
        seq, path = int(item["seq"]), str(item["path"])
        event = events.get(seq)
        where = f"{action} of event {seq} at {path}"
        if event is None:
            raise InvalidInput(
                f"{where}: {case.reference} has no event {seq} (its log has {case.event_count})"
            )
        if event.action in LIFECYCLE_ACTIONS:
            raise InvalidInput(
                f"{where}: event {seq} is a {event.action!r}, which holds no data of the case's "
                "subjects to correct or withdraw; name the event that recorded the data"
            )
        if event.side != side.value:
            raise InvalidInput(
                f"{where}: event {seq} was recorded by the {event.side} side; each side "
                f"corrects or withdraws only what it recorded (ask {event.actor_node})"
            )
        try:
            found = get_at(event.payload, path)
        except (KeyError, IndexError, ValueError, TypeError):
            raise InvalidInput(
                f"{where}: event {seq} ({event.action}) holds nothing at {path}"
            ) from None
        if not isinstance(found, dict):
            raise InvalidInput(
                f"{where}: {path} is not an item (an object such as a person or an indicator)"
                + (
                    "; name the object that holds the field and the field in `set`"
                    if action == CORRECT_ACTION
                    else "; to change one field, correct it"
                )
            )
        if action == RETRACT_ACTION:
            if not replicated:
                _check_not_erased(parts, seq, path, where, session, case, whole=True)
            continue
        for name in item["set"]:
            pointer = f"{path}/{_escape(name)}"
            if name not in found:
                raise InvalidInput(f"{where}: event {seq} holds no field {name!r} at {path}")
            if name not in names:
                personal = ", ".join(sorted(names))
                raise InvalidInput(
                    f"{where}: {name!r} is not personal data of a {case.case_type} case; a "
                    f"correction changes only personal fields ({personal})"
                )
            if not isinstance(found[name], str):
                raise InvalidInput(f"{where}: {name!r} is not a text field")
            if not replicated:
                _check_not_erased(parts, seq, pointer, where, session, case, whole=False)
        if not replicated:
            _check_values(session, case, event, item)


def _check_not_erased(
    parts: Mapping[tuple[int, str], CaseEventPart],
    seq: int,
    pointer: str,
    where: str,
    session: Session,
    case: Case,
    *,
    whole: bool,
) -> None:
    """An erasure's part stays erased: it cannot be corrected (or withdrawn) back into the log.
    A value erased by a correction may be corrected again (that correction's value goes)."""
    for (part_seq, path), part in parts.items():
        inside = path == pointer or path.startswith(pointer + "/")
        if part_seq != seq or not inside or part.salt is not None:
            continue
        by = (
            session.scalar(
                select(CaseEvent.action).where(
                    CaseEvent.case_id == case.id, CaseEvent.seq == part.erasure_seq
                )
            )
            if part.erasure_seq
            else None
        )
        if whole or by != CORRECT_ACTION:
            raise InvalidInput(
                f"{where}: {path} was erased"
                + (f" by event {part.erasure_seq} ({by})" if by else "")
                + " and cannot be brought back"
            )


def _check_values(session: Session, case: Case, event: CaseEvent, item: Mapping[str, Any]) -> None:
    """The new values pass the rules of the field they replace (a date of birth as a date, a
    sex as M, F or U): the event's payload with them is validated again, and a problem at one
    of the corrected fields refuses the correction."""
    workflow = case_types(session).workflow(case.case_type)
    payload = copy.deepcopy(event.payload)
    target = get_at(payload, item["path"])
    target.update(item["set"])
    model: type[BaseModel]
    if event.action == OPEN_ACTION:
        model, data, root = workflow.opening, payload.get("details") or {}, "/details"
    else:
        model, data, root = workflow.action(event.action).payload, payload, ""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        wanted = {f"{item['path']}/{_escape(name)}" for name in item["set"]}
        for error in exc.errors():
            pointer = root + "".join(f"/{_escape(str(p))}" for p in error["loc"])
            if pointer in wanted:
                raise InvalidInput(
                    f"{CORRECT_ACTION} of event {event.seq}: the new value at {pointer} is "
                    f"refused: {error['msg']}"
                ) from None


# -- views ------------------------------------------------------------------------------------


def current_details(case: Case, header: CaseHeader) -> dict[str, Any]:
    """The case's details as its officers and its screening see them now: from the opening
    (or the later event a type's fold took them from), with the corrected values in place of
    the erased ones and the retracted items gone."""
    facts = case.facts or {}
    details = copy.deepcopy(facts.get("details") or header.details)
    source = str(facts.get(DETAILS_SEQ) or 1)
    for pointer, value in (facts.get(CORRECTED) or {}).get(source, {}).items():
        tokens = _tokens(pointer)[1:]  # the payload's key that holds the details
        node: Any = details
        try:
            for token in tokens[:-1]:
                node = node[int(token)] if isinstance(node, list) else node[token]
            if tokens and isinstance(node, dict):
                node[tokens[-1]] = value
        except (KeyError, IndexError, ValueError, TypeError):
            continue
    retracted = (facts.get(RETRACTED) or {}).get(source, [])
    # deepest and highest indices first, so that removing one does not move the next
    for pointer in sorted(retracted, key=_tokens_key, reverse=True):
        tokens = _tokens(pointer)[1:]
        if not tokens:
            return {}
        parent: Any = details
        try:
            for token in tokens[:-1]:
                parent = parent[int(token)] if isinstance(parent, list) else parent[token]
            if isinstance(parent, list):
                del parent[int(tokens[-1])]
            elif isinstance(parent, dict):
                parent.pop(tokens[-1], None)
        except (KeyError, IndexError, ValueError, TypeError):
            continue
    return dict(details)


def _tokens_key(pointer: str) -> list[tuple[int, int | str]]:
    return [(0, int(t)) if t.isdigit() else (1, t) for t in _tokens(pointer)]


def history(session: Session, *, case: Case) -> list[HistoryEntry]:
    """Every erasure, correction and retraction of the case: when, by whom, under which rule,
    where in the log (event and pointer, or the field names corrected), how many parts it
    erased here, and the peer's receipt. Never a value."""
    events = list(
        session.scalars(
            select(CaseEvent)
            .where(
                CaseEvent.case_id == case.id,
                CaseEvent.action.in_((*HISTORY_ACTIONS, ERASURE_RECEIPT_ACTION)),
            )
            .order_by(CaseEvent.seq)
        )
    )
    receipts = {
        int(e.payload.get("erasure_seq", 0)): e
        for e in events
        if e.action == ERASURE_RECEIPT_ACTION
    }
    counts: dict[int, int] = {}
    for erasure_seq in session.scalars(
        select(CaseEventPart.erasure_seq).where(
            CaseEventPart.case_id == case.id, CaseEventPart.erasure_seq.is_not(None)
        )
    ):
        if erasure_seq is not None:
            counts[erasure_seq] = counts.get(erasure_seq, 0) + 1
    entries = []
    for event in events:
        if event.action == ERASURE_RECEIPT_ACTION:
            continue
        payload = event.payload
        if event.action == ERASE_ACTION:
            targets = [
                HistoryTarget(seq=int(t["seq"]), path=str(t.get("path", "")))
                for t in payload.get("targets", [])
            ]
        elif event.action == CORRECT_ACTION:
            targets = [
                HistoryTarget(seq=seq, path=path) for seq, path in corrected_pointers(payload)
            ]
        else:
            targets = [
                HistoryTarget(seq=int(i["seq"]), path=str(i["path"]))
                for i in payload.get("items", [])
            ]
        receipt = receipts.get(event.seq)
        entries.append(
            HistoryEntry(
                seq=event.seq,
                action=event.action,
                occurred_at=event.occurred_at,
                actor_node=event.actor_node,
                actor_officer=event.actor_officer,
                rule=str(payload.get("rule", "")),
                reason=str(payload.get("reason", "")),
                targets=targets,
                parts_erased=counts.get(event.seq, 0),
                receipt_seq=receipt.seq if receipt is not None else None,
                receipt_by=receipt.actor_node if receipt is not None else None,
                receipt_at=receipt.occurred_at if receipt is not None else None,
            )
        )
    return entries
