"""The node's watchlist and screening against it: load, match one person, batch jobs. Entries
and jobs are held per unit: an officer reaches only their own unit's (need-to-know), and one of
another unit is answered as if it did not exist."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TextIO
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from accord.core.clock import new_id, utcnow
from accord.core.db import unit_of_work
from accord.core.errors import InvalidInput, NotFound
from accord.core.heap import collector_paused
from accord.identity import ftm
from accord.identity.linkage.index import WatchlistIndex
from accord.identity.models import ScreeningJob, WatchlistEntry
from accord.identity.records import FIELDS, PersonRecord, RowProblem, person_from_row
from accord.identity.screening import CandidateMatch, Decision, Screener, file_format, read_rows

PROGRESS_EVERY = 100  # persons screened between two progress writes

_cache_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, int, str], Screener]] = {}


def add_to_watchlist(
    session: Session,
    *,
    persons: Sequence[dict[str, object]],
    unit: str,
    rows: Sequence[int] | None = None,
) -> tuple[int, int, list[RowProblem]]:
    """Add or replace (by id) persons on `unit`'s watchlist; another unit's entry of the same id
    is neither seen nor touched. Rows without id or name are refused;
    bad optional values are reported and left out. `rows` numbers the persons in problems
    (their rows in a file; by default 1, 2, …). Returns (added, updated, problems)."""
    added = updated = 0
    problems: list[RowProblem] = []
    now = utcnow()
    numbers = rows if rows is not None else range(1, len(persons) + 1)
    for row, fields in zip(numbers, persons, strict=True):
        record, found = person_from_row(fields, row)
        problems += found
        if record is None:
            continue
        values = {
            "name": record.name,
            "name_native": record.name_native or None,
            # as read: 1970-05-12, 1970-05, circa 1970, 1968 to 1970 (what the list said)
            "birth_date": str(record.birth) if record.birth is not None else None,
            "sex": record.sex,
            "nationality": record.nationality,
            "passport_number": record.passport,
            "passport_country": record.passport_country,
            "id_number": record.resident_id.number
            if record.resident_id
            else (record.identity_card.number if record.identity_card else None),
            "aliases": [
                {"name": a.name, "name_native": a.native, "weak": a.weak} for a in record.aliases
            ]
            or None,
            "more_values": _more_values(record),
            "birth_place": record.birth_place[:300] or None,
            "address": record.address[:500] or None,
        }
        entry = _entry(session, record_id=record.id, unit=unit)
        if entry is None:
            session.add(WatchlistEntry(unit=unit, record_id=record.id, updated_at=now, **values))
            added += 1
        else:
            for key, value in values.items():
                setattr(entry, key, value)
            entry.updated_at = now
            updated += 1
    session.flush()
    return added, updated, problems


def _entry(session: Session, *, record_id: str, unit: str) -> WatchlistEntry | None:
    return session.scalar(
        select(WatchlistEntry).where(
            WatchlistEntry.unit == unit, WatchlistEntry.record_id == record_id
        )
    )


def get_entry(session: Session, *, record_id: str, unit: str) -> WatchlistEntry:
    """One entry of `unit`'s watchlist; another unit's is not found."""
    entry = _entry(session, record_id=record_id, unit=unit)
    if entry is None:
        raise NotFound(
            f"no watchlist entry {record_id!r} in your unit; add it with POST "
            "/api/v1/identity/watchlist"
        )
    return entry


def remove_entry(session: Session, *, record_id: str, unit: str) -> None:
    """Take one entry off `unit`'s watchlist; another unit's is not found."""
    session.delete(get_entry(session, record_id=record_id, unit=unit))
    session.flush()


def _text(value: object) -> str | None:
    return str(value).strip() or None if value is not None else None


IMPORT_CHUNK = 1000  # persons stored per flush while importing a file
EXPORT_FORMATS = ("csv", "jsonl", "ftm")


def import_records(
    session: Session, *, path: Path, unit: str, kind: str | None = None
) -> tuple[int, int, list[RowProblem]]:
    """Add or replace persons on `unit`'s watchlist from a file: CSV, JSON lines, Parquet or
    FollowTheMoney entities (`kind`, or the file's name). Bad lines are reported by line and
    field and the import goes on. Returns (added, updated, problems)."""
    kind = kind or file_format(path)
    added = updated = 0
    problems: list[RowProblem] = []
    persons: list[dict[str, object]] = []
    rows: list[int] = []

    def store() -> None:
        nonlocal added, updated
        a, u, found = add_to_watchlist(session, persons=persons, unit=unit, rows=rows)
        added, updated = added + a, updated + u
        if kind == "ftm":  # the problems named as the entity names them
            found = [ftm.in_ftm_terms(p) for p in found]
        problems.extend(found)
        persons.clear()
        rows.clear()

    lines: Iterator[tuple[int, dict[str, object] | None, list[RowProblem]]]
    lines = ftm.read_entities(path) if kind == "ftm" else _rows_of(path, kind)
    for row, fields, found in lines:
        problems.extend(found)
        if fields is not None:
            persons.append(fields)
            rows.append(row)
        if len(persons) >= IMPORT_CHUNK:
            store()
    store()
    problems.sort(key=lambda p: p.row)
    return added, updated, problems


def _rows_of(
    path: Path, kind: str
) -> Iterator[tuple[int, dict[str, object] | None, list[RowProblem]]]:
    for row, fields in read_rows(path, kind):
        if isinstance(fields, str):
            yield row, None, [RowProblem(row, "", "", fields, "row skipped")]
        else:
            yield row, fields, []


def export_records(session: Session, *, out: TextIO, kind: str, unit: str) -> int:
    """Write `unit`'s watchlist to `out` as CSV, JSON lines or FollowTheMoney entities (JSON
    lines); returns the number of records written."""
    if kind not in EXPORT_FORMATS:
        raise InvalidInput(f"cannot export as {kind!r}; use one of {', '.join(EXPORT_FORMATS)}")
    writer = csv.DictWriter(out, fieldnames=FIELDS) if kind == "csv" else None
    if writer is not None:
        writer.writeheader()
    count = 0
    entries = select(WatchlistEntry).where(WatchlistEntry.unit == unit)
    for entry in session.scalars(entries.order_by(WatchlistEntry.record_id)):
        fields = entry_fields(entry)
        if writer is not None:
            aliases = [a["name"] for a in entry.aliases or () if not a.get("weak")]
            weak = [a["name"] for a in entry.aliases or () if a.get("weak")]
            flat = {k: "; ".join(v) if isinstance(v, list) else v for k, v in fields.items()}
            writer.writerow(
                {**flat, "aliases": "; ".join(aliases), "weak_aliases": "; ".join(weak)}
            )
        else:
            value = ftm.entity_of(fields) if kind == "ftm" else fields
            out.write(json.dumps(value, ensure_ascii=False) + "\n")
        count += 1
    return count


def entry_fields(entry: WatchlistEntry) -> dict[str, object]:
    """An entry as the fields of a row, read again by `person_from_row`: the passport with its
    issuer (`E12345678 (CN)`), the aliases as stored (objects with name, native and weak)."""
    fields: dict[str, object] = {"id": entry.record_id}
    for name in FIELDS:
        if name not in ("id", "aliases", "weak_aliases"):
            fields[name] = getattr(entry, name) or ""
    if entry.passport_number and entry.passport_country:
        fields["passport_number"] = f"{entry.passport_number} ({entry.passport_country})"
    fields["aliases"] = list(entry.aliases or [])
    for name, more in (entry.more_values or {}).items():
        if name in fields and isinstance(more, list):
            first = fields[name]
            fields[name] = [*([first] if first else []), *more]
    return fields


def _more_values(record: PersonRecord) -> dict[str, list[str]] | None:
    """The values of a record beyond the first of each field, as `entry_fields` reads them."""
    more: dict[str, list[str]] = {}
    if record.nationalities:
        more["nationality"] = list(record.nationalities)
    if record.passports:
        more["passport_number"] = [
            f"{p.number} ({p.country})" if p.country else p.number for p in record.passports
        ]
    if record.other_ids:
        more["id_number"] = [n.number for n in record.other_ids]
    return more or None


def entry_person(entry: WatchlistEntry) -> dict[str, object]:
    """An entry as the API shows a person: the passport with its issuer, aliases as names."""
    fields = entry_fields(entry)
    listed = entry.aliases or []
    fields["aliases"] = [a["name"] for a in listed if not a.get("weak")]
    fields["weak_aliases"] = [a["name"] for a in listed if a.get("weak")]
    return {key: value if value != "" else None for key, value in fields.items()}


def watchlist_size(session: Session, *, unit: str | None) -> int:
    """Entries on `unit`'s watchlist (None: every unit's)."""
    counted = select(func.count()).select_from(WatchlistEntry)
    if unit is not None:
        counted = counted.where(WatchlistEntry.unit == unit)
    return session.scalar(counted) or 0


def screener(session: Session, *, unit: str | None = None) -> Screener:
    """A screener over `unit`'s watchlist as it is now (None: every unit's, for the node's own
    screening of the cases peers send). The index is built once and kept while that watchlist is
    unchanged (same count, highest id and last update)."""
    held = (WatchlistEntry.unit == unit,) if unit is not None else ()
    stamp_row = session.execute(
        select(
            func.count(WatchlistEntry.id),
            func.max(WatchlistEntry.id),
            func.max(WatchlistEntry.updated_at),
        ).where(*held)
    ).one()
    stamp = (int(stamp_row[0] or 0), int(stamp_row[1] or 0), str(stamp_row[2]))
    key = f"{session.get_bind().engine.url}#{unit if unit is not None else ''}"
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    index = WatchlistIndex()
    with collector_paused():
        entries = select(WatchlistEntry).where(*held).order_by(WatchlistEntry.id)
        for entry in session.scalars(entries):
            record, _ = person_from_row(entry_fields(entry), entry.id)
            if record is not None:
                index.add(record, entry.id)  # an alias row joins its person
    built = Screener(index)
    with _cache_lock:
        _cache[key] = (stamp, built)
    return built


def match_person(
    session: Session, *, person: dict[str, object], unit: str
) -> tuple[list[CandidateMatch], list[RowProblem], int]:
    """Screen one person against `unit`'s watchlist: candidates, problems with the person's
    fields, and the watchlist's size."""
    record, problems = person_from_row(person, 1)
    if record is None:
        raise InvalidInput(problems[0].message, detail={"field": problems[0].field})
    active = screener(session, unit=unit)
    return active.screen(record), problems, len(active.index)


def start_job(
    session: Session, *, persons: Sequence[dict[str, object]], created_by: str, unit: str
) -> ScreeningJob:
    """A job of `unit`, screening against that unit's watchlist."""
    job = ScreeningJob(
        id=new_id(),
        unit=unit,
        status="queued",
        total=len(persons),
        done=0,
        matches=0,
        persons=list(persons),
        results=[],
        problems=[],
        created_by=created_by,
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, *, job_id: UUID) -> ScreeningJob:
    job = session.get(ScreeningJob, job_id)
    if job is None:
        raise NotFound(
            f"no screening job {job_id}; start one with POST /api/v1/identity/screenings"
        )
    return job


def visible_job(session: Session, *, job_id: UUID, unit: str) -> ScreeningJob:
    """A job of `unit`; another unit's, and a case's screening, are not found."""
    job = session.get(ScreeningJob, job_id)
    if job is None or job.unit is None or job.unit != unit:
        raise NotFound(
            f"no screening job {job_id} in your unit; start one with "
            "POST /api/v1/identity/screenings"
        )
    return job


def run_job(factory: sessionmaker[Session], *, job_id: UUID) -> None:
    """Screen a job's persons, writing progress every PROGRESS_EVERY persons and the results
    at the end, each in its own short transaction so that pollers see them."""
    with unit_of_work(factory) as session:
        job = get_job(session, job_id=job_id)
        persons = list(job.persons)
        job.status = "running"
        active = screener(session, unit=job.unit)
    results: list[dict[str, object]] = []
    problems: list[dict[str, object]] = []
    matches = 0
    try:
        for row, person in enumerate(persons, start=1):
            record, found = person_from_row(person, row)
            problems += [asdict(p) for p in found]
            if record is not None:
                for candidate in active.screen(record):
                    results.append(asdict(candidate))
                    matches += candidate.decision is Decision.MATCH
            if row % PROGRESS_EVERY == 0:
                with unit_of_work(factory) as session:
                    job = get_job(session, job_id=job_id)
                    job.done, job.matches = row, matches
    except Exception as exc:  # the job must end in a state a poller can read
        with unit_of_work(factory) as session:
            job = get_job(session, job_id=job_id)
            job.status, job.error, job.finished_at = "failed", str(exc)[:500], utcnow()
        raise
    with unit_of_work(factory) as session:
        job = get_job(session, job_id=job_id)
        job.status, job.done, job.matches = "done", len(persons), matches
        job.results, job.problems, job.finished_at = results, problems, utcnow()
