"""Federation endpoints: the peer-facing inbox and query (/federation/v1) and the operators' API."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from accord.accounts.service import Principal
from accord.api import ErrorOut, RuntimeDep, require
from accord.audit import service as audit
from accord.core import jsontext
from accord.core.permissions import Permission
from accord.federation import inbox, outbox
from accord.federation.peers import add_peer, list_peers
from accord.federation.schemas import Envelope, NodeCard, ReceiptBatch
from accord.runtime import Runtime

wire = APIRouter(prefix="/federation/v1", tags=["federation"])
api = APIRouter(prefix="/api/v1", tags=["federation"])


async def _read_limited(request: Request, limit: int) -> tuple[bytes | None, int]:
    """The request body, or None as soon as it exceeds `limit` bytes; and its size (as declared,
    or as read until then)."""
    declared = request.headers.get("content-length")
    # isascii: str.isdigit() is also true of '²', which int() refuses
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        return None, int(declared)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None, size
        chunks.append(chunk)
    return b"".join(chunks), size


def _remote(request: Request) -> str | None:
    return request.client.host if request.client else None


def _refuse_oversize(runtime: Runtime, remote: str | None, limit: int, size: int) -> JSONResponse:
    reason = f"request larger than {limit} bytes; send fewer envelopes per request"
    with runtime.transaction() as session:
        inbox.refuse_request(
            session,
            status=413,
            reason=reason,
            raw=None,
            size=size,
            remote_addr=remote,
            bounds=inbox.RefusalBounds.of(runtime.settings),
        )
    return JSONResponse(status_code=413, content={"error": "payload_too_large", "message": reason})


# The wire routes read their bodies themselves (size first, then JSON, then each envelope, each
# refusal quarantined), so their OpenAPI shapes are declared here rather than inferred.
_ENVELOPE = Envelope.model_json_schema()
_REFUSALS = {
    400: "Not JSON, not a batch, a malformed envelope, the wrong addressee or a stale sent_at",
    401: "A signature that does not verify with the sender's pinned key",
    403: "A sender this node has not pinned as a peer",
    413: "Too many bytes or envelopes in one request",
    429: "Too many requests from this address",
}


class QueryRefusal(BaseModel):
    error: str
    message: str | None = None


@wire.post(
    "/envelopes",
    responses={
        200: {"model": ReceiptBatch, "description": "One signed receipt per envelope"},
        **{status: {"model": ErrorOut, "description": why} for status, why in _REFUSALS.items()},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["envelopes"],
                        "properties": {"envelopes": {"type": "array", "items": _ENVELOPE}},
                    }
                }
            },
        }
    },
)
async def receive_envelopes(request: Request, runtime: RuntimeDep) -> JSONResponse:
    """Receive a batch of envelopes; answer with one signed receipt each, after storing them."""
    limit = runtime.settings.max_request_bytes
    remote = _remote(request)
    raw, size = await _read_limited(request, limit)
    if raw is None:
        return await run_in_threadpool(_refuse_oversize, runtime, remote, limit, size)

    def work() -> inbox.BatchOutcome:
        node = runtime.node
        window = timedelta(seconds=runtime.settings.replay_window_seconds)
        bounds = inbox.RefusalBounds.of(runtime.settings)
        with runtime.transaction() as session:
            try:
                document = jsontext.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                return inbox.refuse_request(
                    session,
                    status=400,
                    reason=f"request is not JSON: {exc}",
                    raw=raw,
                    remote_addr=remote,
                    bounds=bounds,
                )
            envelopes = document.get("envelopes") if isinstance(document, dict) else None
            if not isinstance(envelopes, list):
                return inbox.refuse_request(
                    session,
                    status=400,
                    reason='request must be {"envelopes": [...]}',
                    raw=raw,
                    remote_addr=remote,
                    bounds=bounds,
                )
            if len(envelopes) > runtime.settings.max_envelopes_per_request:
                return inbox.refuse_request(
                    session,
                    status=413,
                    raw=raw,
                    remote_addr=remote,
                    reason=f"{len(envelopes)} envelopes in one request; the limit is "
                    f"{runtime.settings.max_envelopes_per_request}",
                    bounds=bounds,
                )
            return inbox.receive(
                session,
                node=node,
                envelopes=envelopes,
                remote_addr=remote,
                window=window,
                bounds=bounds,
            )

    outcome = await run_in_threadpool(work)
    if outcome.error is not None:
        return JSONResponse(
            status_code=outcome.status,
            content={
                "error": "envelope_refused",
                "message": outcome.error,
                "receipts": outcome.receipts,
            },
        )
    return JSONResponse(content={"receipts": outcome.receipts})


@wire.post(
    "/query",
    responses={
        200: {"description": "The signed answer"},
        409: {"model": QueryRefusal, "description": "A query already answered (replay)"},
        422: {"model": QueryRefusal, "description": "A body that is not a valid query"},
        **{
            status: {"model": QueryRefusal, "description": why} for status, why in _REFUSALS.items()
        },
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ENVELOPE}}}
    },
)
async def answer_query(request: Request, runtime: RuntimeDep) -> JSONResponse:
    """A signed question from a peer (e.g. `case.head`), answered with a signed reply."""
    limit = 64 * 1024
    remote = _remote(request)
    raw, size = await _read_limited(request, limit)
    if raw is None:
        return await run_in_threadpool(_refuse_oversize, runtime, remote, limit, size)

    def work() -> tuple[int, dict[str, Any]]:
        window = timedelta(seconds=runtime.settings.replay_window_seconds)
        bounds = inbox.RefusalBounds.of(runtime.settings)
        with runtime.transaction() as session:
            try:
                document = jsontext.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                outcome = inbox.refuse_request(
                    session,
                    status=400,
                    reason=f"query is not JSON: {exc}",
                    raw=raw,
                    remote_addr=remote,
                    bounds=bounds,
                )
                return outcome.status, {"error": outcome.error}
            return inbox.answer_query(
                session,
                node=runtime.node,
                raw_envelope=document,
                remote_addr=remote,
                window=window,
                bounds=bounds,
            )

    status, content = await run_in_threadpool(work)
    return JSONResponse(status_code=status, content=content)


@wire.get("/card")
def node_card(runtime: RuntimeDep) -> NodeCard:
    """This node's public card (name, endpoint, public keys, fingerprint)."""
    return runtime.node.card()


class PeerOut(BaseModel):
    name: str
    country: str
    endpoint: str
    fingerprint: str
    active: bool


class QuarantineOut(BaseModel):
    id: int
    received_at: str
    stage: str
    sender: str | None
    envelope_id: str | None
    kind: str | None
    reason: str
    remote_addr: str | None
    count: int
    last_seen_at: str | None
    size: int | None
    digest: str | None
    capped: str | None


PeerReader = Annotated[Principal, Depends(require(Permission.PEER_READ))]
PeerAdmin = Annotated[Principal, Depends(require(Permission.PEER_ADMIN))]
FederationReader = Annotated[Principal, Depends(require(Permission.FEDERATION_READ))]


@api.get("/node")
def own_card(runtime: RuntimeDep, _viewer: PeerReader) -> NodeCard:
    return runtime.node.card()


@api.get("/peers")
def peers(runtime: RuntimeDep, _viewer: PeerReader) -> list[PeerOut]:
    with runtime.reading() as session:
        return [
            PeerOut(
                name=p.name,
                country=p.country,
                endpoint=p.endpoint,
                fingerprint=p.fingerprint,
                active=p.active,
            )
            for p in list_peers(session)
        ]


@api.post("/peers", status_code=201)
def pin_peer(card: NodeCard, runtime: RuntimeDep, admin: PeerAdmin) -> PeerOut:
    with runtime.transaction() as session:
        p = add_peer(
            session,
            card=card,
            own_name=runtime.node.name,
            own_namespace=runtime.node.reference_namespace,
        )
        audit.record(
            session,
            actor=admin.username,
            action="peer.pin",
            outcome="ok",
            subject=p.name,
            detail={"fingerprint": p.fingerprint},
        )
        return PeerOut(
            name=p.name,
            country=p.country,
            endpoint=p.endpoint,
            fingerprint=p.fingerprint,
            active=p.active,
        )


COUNT_HEADERS = {
    "rows": "Accord-Quarantine-Rows",
    "refusals": "Accord-Quarantine-Refusals",
    "unauthenticated_rows": "Accord-Quarantine-Unauthenticated-Rows",
    "unauthenticated_refusals": "Accord-Quarantine-Unauthenticated-Refusals",
    "counted_past_caps": "Accord-Quarantine-Counted-Past-Caps",
    "unauthenticated_bytes": "Accord-Quarantine-Unauthenticated-Bytes",
}
"""The totals of the whole quarantine, answered as headers beside the newest rows."""


@api.get("/federation/quarantine")
def quarantine(
    runtime: RuntimeDep,
    _viewer: FederationReader,
    response: Response,
    limit: int = Query(100, ge=1, le=1000),
) -> list[QuarantineOut]:
    """The newest rows, each with the refusals it stands for (`count`, `last_seen_at`, `capped`
    for refusals only counted past the caps); the totals in the Accord-Quarantine-* headers."""
    with runtime.reading() as session:
        counts = dataclasses.asdict(inbox.quarantine_counts(session))
        for name, header in COUNT_HEADERS.items():
            response.headers[header] = str(counts[name])
        return [
            QuarantineOut(
                id=q.id,
                received_at=q.received_at.isoformat(),
                stage=q.stage,
                sender=q.sender,
                envelope_id=q.envelope_id,
                kind=q.kind,
                reason=q.reason,
                remote_addr=q.remote_addr,
                count=q.count,
                last_seen_at=q.last_seen_at.isoformat() if q.last_seen_at else None,
                size=q.size,
                digest=q.digest,
                capped=q.capped,
            )
            for q in inbox.quarantined(session, limit=limit)
        ]


@api.get("/federation/outbox")
def outbox_status(runtime: RuntimeDep, _viewer: FederationReader) -> dict[str, int]:
    with runtime.reading() as session:
        return outbox.counts(session)
