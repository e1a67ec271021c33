"""TAXII 2.1 use cases over the store: the collections of the peer agreements, pages of objects
(keyset on the insertion key), manifests, versions, and adding objects with a status."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Select, and_, false, insert, or_, select, update
from sqlalchemy.orm import Session

from accord.core import jsontext
from accord.core.clock import iso, new_id, parse_iso
from accord.core.errors import Forbidden, InvalidInput, NotFound
from accord.cyber import handling
from accord.cyber.stix import validate_object
from accord.cyber.taxii.models import TaxiiObject, TaxiiStatus
from accord.federation.keys import NodeIdentity
from accord.federation.kinds import Rejected
from accord.federation.models import Peer
from accord.federation.outbox import enqueue
from accord.federation.peers import find_peer, list_peers

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
DEFAULT_PAGE = 1000
MAX_PAGE = 5000
"""the most objects one page holds; a larger `limit` is served as this many (TAXII 2.1 §3.4)"""
_IN_CHUNK = 500
"""ids per `IN (…)` when looking up existing versions"""
TICK = timedelta(microseconds=1)
"""the step between the date_added of two objects added one after the other"""
COLLECTION_NAMESPACE = UUID("3f0b7c52-6d2e-4c1a-9d8e-2b5f4a7c9e10")
"""collection ids are uuid5 of this and the alias (`to-CN-MOJ`): the same on every node, for
ever, and computable by the migration that gave the stored collections their ids"""


class Direction(StrEnum):
    TO = "to"
    """what this node shares with the peer"""
    FROM = "from"
    """what the peer shared with this node"""


def collection_id(alias: str) -> str:
    """The collection's TAXII identifier (§5.2.1: a UUID-based identifier) from its alias."""
    return str(uuid5(COLLECTION_NAMESPACE, alias))


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """One TAXII collection: one peer agreement in one direction."""

    peer: str
    direction: Direction
    can_read: bool
    can_write: bool

    @property
    def alias(self) -> str:
        """`to-<peer>` or `from-<peer>`: the readable name, also accepted in the path."""
        return f"{self.direction.value}-{self.peer}"

    @property
    def id(self) -> str:
        return collection_id(self.alias)

    def resource(self) -> dict[str, Any]:
        """The collection resource (TAXII 2.1 §5.2.1)."""
        if self.direction is Direction.TO:
            title = f"Shared with {self.peer}"
            description = f"STIX objects this node shares with {self.peer} under the agreement"
        else:
            title = f"Received from {self.peer}"
            description = f"STIX objects {self.peer} shared with this node under the agreement"
        return {
            "id": self.id,
            "title": title,
            "description": description,
            "alias": self.alias,
            "can_read": self.can_read,
            "can_write": self.can_write,
            "media_types": [STIX_MEDIA_TYPE],
        }


def cyber_terms(agreement: Mapping[str, Any] | None) -> tuple[bool, bool]:
    """(send, receive) agreed with a peer for STIX objects: `agreement["cyber"]["send"]` and
    `["receive"]`. A pinned peer has signed a cooperation agreement, cyber included, so an
    absent term means agreed; a term set to false closes that direction."""
    terms = (agreement or {}).get("cyber") or {}
    return terms.get("send", True) is not False, terms.get("receive", True) is not False


def _collections_of(peer: Peer) -> list[CollectionInfo]:
    send, receive = cyber_terms(peer.agreement)
    # to-<peer>: ours to write when sending is agreed, and always ours to read back.
    # from-<peer>: written only by what the peer sends; readable while receiving is agreed.
    return [
        CollectionInfo(peer.name, Direction.TO, True, send),
        CollectionInfo(peer.name, Direction.FROM, receive, False),
    ]


def list_collections(session: Session) -> list[CollectionInfo]:
    return [c for peer in list_peers(session) if peer.active for c in _collections_of(peer)]


def get_collection(session: Session, collection_id: str) -> CollectionInfo:
    """A collection by its id, or by its alias (`to-CN-MOJ`), which earlier nodes used as id."""
    direction, _, peer_name = collection_id.partition("-")
    peer = find_peer(session, peer_name) if direction in ("to", "from") else None
    if peer is not None and peer.active:
        return next(c for c in _collections_of(peer) if c.alias == collection_id)
    found = list_collections(session)
    for collection in found:
        if collection.id == collection_id.lower():
            return collection
    known = ", ".join(f"{c.id} ({c.alias})" for c in found) or "none: no peer is pinned"
    raise NotFound(f"no collection {collection_id!r}; collections: {known}")


def readable(session: Session, collection_id: str) -> CollectionInfo:
    collection = get_collection(session, collection_id)
    if not collection.can_read:
        raise Forbidden(
            f"collection {collection_id!r} cannot be read: receiving STIX objects from "
            f"{collection.peer} is not agreed (peer agreement, term cyber.receive)"
        )
    return collection


def writable(session: Session, collection_id: str) -> CollectionInfo:
    collection = get_collection(session, collection_id)
    if collection.can_write:
        return collection
    if collection.direction is Direction.FROM:
        reason = f"only {collection.peer} adds objects to it, through federation"
    else:
        reason = f"sharing STIX objects with {collection.peer} is not agreed (term cyber.send)"
    raise Forbidden(f"collection {collection_id!r} cannot be written: {reason}")


# -- filters -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionMatch:
    """match[version]: any of the last, the first, or given versions; or all of them."""

    all: bool = False
    last: bool = False
    first: bool = False
    at: tuple[datetime, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectFilter:
    """The filters of TAXII 2.1 §3.5 (URL parameters added_after and match[…])."""

    added_after: datetime | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: VersionMatch = VersionMatch(last=True)
    spec_versions: tuple[str, ...] = ()


def _timestamp(name: str, text: str) -> datetime:
    try:
        return parse_iso(text)
    except ValueError:
        raise InvalidInput(
            f"{name}: {text!r} is not a timestamp; write it as 2024-05-01T00:00:00.000Z"
        ) from None


def _values(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def parse_filter(params: Mapping[str, str], *, default_version: str = "last") -> ObjectFilter:
    """Read the filter parameters (match[version] defaults to `default_version`)."""
    added_after = params.get("added_after")
    version_terms = _values(params.get("match[version]") or "")
    match = VersionMatch()
    for term in version_terms or (default_version,):
        if term == "all":
            match = VersionMatch(all=True)
            break
        if term == "last":
            match = VersionMatch(match.all, True, match.first, match.at)
        elif term == "first":
            match = VersionMatch(match.all, match.last, True, match.at)
        else:
            match = VersionMatch(
                match.all, match.last, match.first, (*match.at, _timestamp("match[version]", term))
            )
    return ObjectFilter(
        added_after=_timestamp("added_after", added_after) if added_after else None,
        ids=_values(params.get("match[id]") or ""),
        types=_values(params.get("match[type]") or ""),
        versions=match,
        spec_versions=_values(params.get("match[spec_version]") or ""),
    )


def parse_limit(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_PAGE
    if not text.isdigit() or int(text) < 1:
        raise InvalidInput(f"limit: {text!r} is not a positive whole number")
    return min(int(text), MAX_PAGE)


def parse_next(text: str | None) -> int:
    """The `next` token: the insertion key of the last object of the previous page."""
    if text is None or text == "":
        return 0
    if not text.isdigit():
        raise InvalidInput(f"next: {text!r} is not a token this server gave; start again without")
    return int(text)


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows in insertion order; `next` is None on the last page."""

    rows: Sequence[Any]
    next: str | None
    first_added: datetime | None = None
    last_added: datetime | None = None

    @property
    def more(self) -> bool:
        return self.next is not None


def stix_timestamp(moment: datetime) -> str:
    """A STIX timestamp: milliseconds, or microseconds when it has them."""
    moment = moment.astimezone(UTC)
    if moment.microsecond % 1000:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_OBJECTS = TaxiiObject.__table__.c
"""columns of the table, selected without ORM row loading (a page is thousands of rows)"""


def _conditions(collection: str, filters: ObjectFilter) -> list[ColumnElement[bool]]:
    t = _OBJECTS
    found: list[ColumnElement[bool]] = [t.collection == collection]
    if filters.added_after is not None:
        found.append(t.date_added > filters.added_after)
    if filters.ids:
        found.append(t.object_id.in_(filters.ids))
    if filters.types:
        found.append(t.object_type.in_(filters.types))
    if filters.spec_versions:
        found.append(t.spec_version.in_(filters.spec_versions))
    match = filters.versions
    if not match.all:
        chosen: list[ColumnElement[bool]] = []
        if match.last:
            chosen.append(t.latest.is_(True))
        if match.first:
            chosen.append(t.earliest.is_(True))
        if match.at:
            chosen.append(t.version.in_(match.at))
        found.append(or_(*chosen) if chosen else false())
    return found


def _start_key(session: Session, collection: str, filters: ObjectFilter, after: int) -> int:
    """Where a page starts: after the `next` token, and after the last object added at or
    before added_after (date_added grows with the key, so that object is found on an index)."""
    if filters.added_after is None:
        return after
    t = _OBJECTS
    last_before = session.scalar(
        select(t.key)
        .where(t.collection == collection, t.date_added <= filters.added_after)
        .order_by(t.date_added.desc())
        .limit(1)
    )
    return max(after, last_before or 0)


def _page(session: Session, query: Select[*tuple[Any, ...]], after: int, limit: int) -> Page:
    t = _OBJECTS
    # One row more than asked says whether another page follows, without counting.
    rows = session.execute(query.where(t.key > after).order_by(t.key).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if not rows:
        return Page(rows, None)
    # Only the first and last date_added go out (in headers): read those two, not a page of them.
    ends = {rows[0].key, rows[-1].key}
    found = session.execute(select(t.key, t.date_added).where(t.key.in_(ends)))
    added: dict[int, datetime] = {key: moment for key, moment in found}
    return Page(rows, str(rows[-1].key) if more else None, added[rows[0].key], added[rows[-1].key])


def object_page(
    session: Session, *, collection: str, filters: ObjectFilter, after: int, limit: int
) -> Page:
    """Rows (key, body) of the objects matching `filters`, after key `after`."""
    query = select(_OBJECTS.key, _OBJECTS.body).where(*_conditions(collection, filters))
    return _page(session, query, _start_key(session, collection, filters, after), limit)


def manifest_page(
    session: Session, *, collection: str, filters: ObjectFilter, after: int, limit: int
) -> Page:
    """Rows (key, object_id, date_added, version, spec_version) for the manifest."""
    t = _OBJECTS
    query = select(t.key, t.object_id, t.date_added, t.version, t.spec_version).where(
        *_conditions(collection, filters)
    )
    return _page(session, query, _start_key(session, collection, filters, after), limit)


def manifest_record(row: Any) -> dict[str, Any]:
    """A manifest-record (TAXII 2.1 §5.3.1)."""
    return {
        "id": row.object_id,
        "date_added": iso(row.date_added),
        "version": stix_timestamp(row.version),
        "media_type": f"application/stix+json;version={row.spec_version}",
    }


def require_object(session: Session, *, collection: CollectionInfo, object_id: str) -> None:
    """NotFound unless the collection holds some version of `object_id`."""
    held = session.scalar(
        select(TaxiiObject.key)
        .where(TaxiiObject.collection == collection.id, TaxiiObject.object_id == object_id)
        .limit(1)
    )
    if held is None:
        raise NotFound(f"collection {collection.alias!r} holds no object {object_id!r}")


def envelope_json(page: Page) -> bytes:
    """The envelope (TAXII 2.1 §3.7) of a page of (key, body) rows, joined without re-encoding."""
    head = f'{{"more":{"true" if page.more else "false"}'
    if page.next is not None:
        head += f',"next":"{page.next}"'
    return (head + ',"objects":[' + ",".join([row[1] for row in page.rows]) + "]}").encode()


# -- adding ------------------------------------------------------------------------------------


def _version_text(obj: Mapping[str, Any]) -> str | None:
    for name in ("modified", "created"):
        if isinstance(obj.get(name), str):
            return str(obj[name])
    return None


def _detail(obj: Any, position: int, message: str | None = None) -> dict[str, Any]:
    """A status-details entry (TAXII 2.1 §4.3.1)."""
    mapping = obj if isinstance(obj, Mapping) else {}
    object_id = mapping.get("id")
    entry: dict[str, Any] = {
        "id": object_id if isinstance(object_id, str) else f"(object {position}: no id)",
        "version": _version_text(mapping) or "",
    }
    if message:
        entry["message"] = message
    return entry


def envelope_objects(body: bytes) -> list[Any]:
    """The `objects` of a posted envelope (TAXII 2.1 §3.7); InvalidInput if it is none."""
    try:
        envelope = jsontext.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the request body is not JSON: {exc}") from None
    if not isinstance(envelope, dict):
        raise InvalidInput("expected an envelope: a JSON object with a list `objects`")
    objects = envelope.get("objects", [])
    if not isinstance(objects, list):
        raise InvalidInput("envelope field `objects`: expected a list of STIX objects")
    return objects


def _existing_versions(
    session: Session, collection: str, ids: Iterable[str]
) -> dict[str, set[datetime]]:
    found: dict[str, set[datetime]] = {}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        rows = session.execute(
            select(TaxiiObject.object_id, TaxiiObject.version).where(
                TaxiiObject.collection == collection, TaxiiObject.object_id.in_(chunk)
            )
        )
        for object_id, version in rows:
            found.setdefault(object_id, set()).add(version)
    return found


def add_objects(
    session: Session, *, collection: CollectionInfo, objects: Sequence[Any], actor: str
) -> TaxiiStatus:
    """Validate and store the objects of an envelope; every object gets a line in the status.

    An object is validated as STIX 2.1 (custom properties and objects as §11 allows) and held
    to the peer's handling code (`accord.cyber.handling`); a bad one is listed in `failures`
    with its reason. A version already held is a success that adds nothing. Each object stored
    gets a `date_added` later than every object the collection already holds (TAXII 2.1 §3.4).
    """
    received = datetime.now(UTC)
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    valid: list[tuple[int, dict[str, Any]]] = []
    for position, obj in enumerate(objects):
        if not isinstance(obj, dict):
            failures.append(_detail(obj, position, "not a STIX object (a JSON object)"))
            continue
        try:
            validate_object(obj, where=f"object {position}")
        except InvalidInput as exc:
            failures.append(_detail(obj, position, exc.message))
            continue
        valid.append((position, obj))

    # Writers to a peer's collections queue on the peer row (SQLite: on the database), so that
    # keys and dates are given and committed in one order: a reader paging by key or by
    # added_after never skips a late commit.
    agreement = session.scalar(
        select(Peer.agreement).where(Peer.name == collection.peer).with_for_update()
    )
    destination = handling.for_peer(collection.peer, agreement)
    allowed: list[tuple[int, dict[str, Any]]] = []
    for position, obj in valid:
        refused = handling.refusal(obj, destination)
        if refused is None:
            allowed.append((position, obj))
        else:
            failures.append(_detail(obj, position, f"object {position}: {refused}"))

    target = collection.id  # a uuid5: computed once, not per row
    held = _existing_versions(session, target, (obj["id"] for _, obj in allowed))
    before = {object_id: (min(v), max(v)) for object_id, v in held.items()}
    added = _next_date_added(session, target, received)
    rows: list[dict[str, Any]] = []
    shared: list[dict[str, Any]] = []
    for position, obj in allowed:
        versions = held.setdefault(obj["id"], set())
        text = _version_text(obj)
        if text is None and versions:
            successes.append(_detail(obj, position, "already held (an object without versions)"))
            continue
        version = _timestamp("version", text) if text else added
        if version in versions:
            successes.append(_detail(obj, position, "this version is already held"))
            continue
        versions.add(version)
        rows.append(
            {
                "collection": target,
                "object_id": obj["id"],
                "object_type": obj["type"],
                "version": version,
                "spec_version": obj.get("spec_version", "2.1"),
                "date_added": added,
                "latest": False,
                "earliest": False,
                "body": json.dumps(obj, ensure_ascii=False, separators=(",", ":")),
            }
        )
        shared.append(obj)
        successes.append(_detail(obj, position) | {"version": text or stix_timestamp(added)})
        added += TICK

    for row in rows:
        versions = held[row["object_id"]]
        row["latest"] = row["version"] == max(versions)
        row["earliest"] = row["version"] == min(versions)
    _demote_held(session, target, held, before)
    if rows:
        session.execute(insert(TaxiiObject), rows)
        if collection.direction is Direction.TO:
            share(session, collection.peer, shared, destination)

    status = TaxiiStatus(
        id=new_id(),
        collection=target,
        status="complete",
        request_timestamp=received,
        total_count=len(objects),
        success_count=len(successes),
        failure_count=len(failures),
        pending_count=0,
        successes=successes,
        failures=failures,
        created_by=actor,
    )
    session.add(status)
    session.flush()
    return status


def _next_date_added(session: Session, collection: str, now: datetime) -> datetime:
    """The date_added of the next object: now, or a tick after the collection's last one if
    that is not earlier (several adds within a microsecond, a clock stepped back). Called
    under the peer's lock: the last row by key has the latest date."""
    t = _OBJECTS
    last = session.scalar(
        select(t.date_added).where(t.collection == collection).order_by(t.key.desc()).limit(1)
    )
    return now if last is None or last < now else last + TICK


OBJECTS_KIND = "taxii.objects"
SHARE_BATCH = 200
"""objects per federation message"""


class ObjectsMessage(BaseModel):
    """`taxii.objects`: STIX objects a peer added to its collection for us."""

    model_config = ConfigDict(extra="forbid")

    objects: list[dict[str, Any]] = Field(min_length=1, max_length=SHARE_BATCH)


def share(
    session: Session,
    peer: str,
    objects: list[dict[str, Any]],
    destination: handling.Destination,
) -> None:
    """Queue what was added to `to-<peer>` for the peer, in the same transaction: it lands in
    the peer's `from-<us>` collection. Held to the handling rule again on the way out."""
    handling.require_fits(objects, destination)
    for start in range(0, len(objects), SHARE_BATCH):
        batch = objects[start : start + SHARE_BATCH]
        enqueue(session, peer=peer, stream="taxii", kind=OBJECTS_KIND, body={"objects": batch})


def receive_objects(session: Session, node: NodeIdentity, sender: str, message: Any) -> None:
    """As receiver: store the peer's objects in `from-<peer>` (validated again: a bad object is
    a failure in the status, kept there with its reason), unless receiving is not agreed."""
    assert isinstance(message, ObjectsMessage)
    peer = find_peer(session, sender)
    if peer is None:
        raise Rejected(f"{sender} is not a pinned peer")
    collection = next(c for c in _collections_of(peer) if c.direction is Direction.FROM)
    _send, receive = cyber_terms(peer.agreement)
    if not receive:
        raise Rejected(
            f"receiving STIX objects from {sender} is not agreed (peer agreement, term "
            "cyber.receive): the objects are kept in quarantine"
        )
    try:
        handling.require_fits(message.objects, handling.for_peer(sender, peer.agreement))
    except Forbidden as exc:
        raise Rejected(f"{exc.message}: the objects are kept in quarantine") from None
    add_objects(session, collection=collection, objects=message.objects, actor=f"peer:{sender}")


def _demote_held(
    session: Session,
    collection: str,
    held: Mapping[str, set[datetime]],
    before: Mapping[str, tuple[datetime, datetime]],
) -> None:
    """Clear the last/first marks of stored versions that a new version has overtaken."""
    t = TaxiiObject
    for object_id, (first, last) in before.items():
        versions = held[object_id]
        if max(versions) > last:
            session.execute(
                update(t)
                .where(and_(t.collection == collection, t.object_id == object_id, t.latest))
                .values(latest=False)
            )
        if min(versions) < first:
            session.execute(
                update(t)
                .where(and_(t.collection == collection, t.object_id == object_id, t.earliest))
                .values(earliest=False)
            )


def status_resource(status: TaxiiStatus) -> dict[str, Any]:
    """The status resource (TAXII 2.1 §4.3.1)."""
    return {
        "id": str(status.id),
        "status": status.status,
        "request_timestamp": iso(status.request_timestamp),
        "total_count": status.total_count,
        "success_count": status.success_count,
        "successes": status.successes,
        "failure_count": status.failure_count,
        "failures": status.failures,
        "pending_count": status.pending_count,
        "pendings": [],
    }


def get_status(session: Session, status_id: str) -> TaxiiStatus:
    try:
        key = UUID(status_id)
    except ValueError:
        key = None
    status = session.get(TaxiiStatus, key) if key else None
    if status is None:
        raise NotFound(f"no status {status_id!r}; a status id is returned by Add Objects")
    return status
