"""A cyber case as a MISP feed under /misp/feeds/<reference>/, for a MISP instance to pull
(MISP's "MISP Feed" source format: manifest.json, then <uuid>.json per event; hashes.csv)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from accord.accounts.service import Principal
from accord.api import ERRORS, RuntimeDep, audited, remote, require
from accord.core.errors import Forbidden, NotFound
from accord.core.permissions import Permission
from accord.cyber.misp import service
from accord.cyber.misp.writer import Feed
from accord.runtime import Runtime

router = APIRouter(prefix="/misp/feeds", tags=["misp"], responses=ERRORS)
Analyst = Annotated[Principal, Depends(require(Permission.CYBER_ANALYSE))]


def _feed(
    runtime: Runtime, analyst: Principal, request: Request, reference: str, action: str
) -> Feed:
    """The case's feed, or the refusal its handling code makes, audited in either case."""
    try:
        with runtime.reading() as session:
            return service.case_feed(
                session, node=runtime.node, reference=reference, viewer=analyst
            )
    except Forbidden as exc:
        with runtime.transaction() as session:
            service.record_refusal(
                session,
                actor=analyst.username,
                action=action,
                reference=reference,
                reason=exc.message,
                remote=remote(request),
            )
        raise


def _served(
    runtime: Runtime,
    analyst: Principal,
    request: Request,
    reference: str,
    action: str,
    answer: Callable[[Feed], tuple[bytes, str]],
) -> Response:
    feed = _feed(runtime, analyst, request, reference, action)
    content, media_type = answer(feed)
    with runtime.transaction() as session:
        audited(
            session,
            analyst,
            action,
            request,
            subject=reference,
            detail={"events": len(feed.events), "hashes": len(feed.hashes)},
        )
    return Response(content, media_type=media_type)


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


_JSON: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": {"type": "object"}}}}
}
_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


@router.get("/{reference}/manifest.json", response_class=Response, responses=_JSON)
def manifest(reference: str, request: Request, runtime: RuntimeDep, analyst: Analyst) -> Response:
    """The feed's manifest: each event's uuid to its info, date, tags, organisation and
    timestamp (MISP re-fetches an event when its timestamp changes)."""
    return _served(
        runtime,
        analyst,
        request,
        reference,
        "misp.feed_manifest",
        lambda feed: (_json(feed.manifest), "application/json"),
    )


@router.get("/{reference}/hashes.csv", response_class=Response, responses=_CSV)
def hashes(reference: str, request: Request, runtime: RuntimeDep, analyst: Analyst) -> Response:
    """One line per attribute value (each part of a composite one): its MD5, the event uuid."""
    return _served(
        runtime,
        analyst,
        request,
        reference,
        "misp.feed_hashes",
        lambda feed: (feed.hashes_csv().encode(), "text/csv; charset=utf-8"),
    )


@router.get("/{reference}/{event_uuid}.json", response_class=Response, responses=_JSON)
def event(
    reference: str, event_uuid: str, request: Request, runtime: RuntimeDep, analyst: Analyst
) -> Response:
    """One event of the feed, as MISP's feed format holds it ({"Event": {...}})."""

    def one(feed: Feed) -> tuple[bytes, str]:
        if event_uuid not in feed.events:
            raise NotFound(
                f"the feed of {reference} has no event {event_uuid}; its manifest.json lists "
                "the events it has"
            )
        return _json(feed.events[event_uuid]), "application/json"

    return _served(runtime, analyst, request, reference, "misp.feed_event", one)
