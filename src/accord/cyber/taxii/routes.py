"""TAXII 2.1 endpoints under /taxii2/: one API root (`cyber`) whose collections are the peer
agreements, two per peer. Thin: parse the request, call one service, answer in TAXII media."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.routing import Match

from accord.accounts.service import Principal
from accord.api import RuntimeDep, audited, require
from accord.core.clock import iso
from accord.core.errors import AccordError, InvalidInput
from accord.core.permissions import Permission
from accord.cyber.taxii import service
from accord.cyber.taxii.service import ObjectFilter, Page, VersionMatch
from accord.runtime import Runtime

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
API_ROOT = "cyber"
_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
}


class TaxiiError(AccordError):
    """A refusal on the TAXII protocol level (media types), with its own HTTP status."""

    def __init__(self, http_status: int, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status


def taxii_json(
    content: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status_code, media_type=TAXII_MEDIA_TYPE, headers=headers)


def error_message(
    http_status: int, description: str, extra_headers: dict[str, str] | None = None
) -> Response:
    """A TAXII error message (TAXII 2.1 §3.6.1). Also the rate limit's 429 under /taxii2/."""
    # A malformed request is 400 in TAXII, where the rest of the API says 422.
    status = 400 if http_status == 422 else http_status
    headers = dict(extra_headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="accord"'
    content = {
        "title": _TITLES.get(status, "Error"),
        "description": description,
        "http_status": str(status),
    }
    return taxii_json(content, status_code=status, headers=headers)


def _media_ranges(header: str) -> list[tuple[str, dict[str, str]]]:
    ranges = []
    for item in header.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if media:
            options = {
                k.strip().lower(): v.strip().strip('"')
                for k, _, v in (p.partition("=") for p in params)
            }
            ranges.append((media.lower(), options))
    return ranges


def accepts_taxii(header: str) -> bool:
    """Whether an Accept header admits TAXII 2.1 JSON (no header admits anything)."""
    if not header.strip():
        return True
    for media, options in _media_ranges(header):
        try:
            if float(options.get("q", "1")) <= 0:
                continue
        except ValueError:
            continue
        if media in ("*/*", "application/*"):
            return True
        if media == "application/taxii+json" and options.get("version", "2.1") == "2.1":
            return True
    return False


def is_taxii_content(header: str) -> bool:
    ranges = _media_ranges(header)
    return (
        len(ranges) == 1
        and ranges[0][0] == "application/taxii+json"
        and (ranges[0][1].get("version", "2.1") == "2.1")
    )


class TaxiiRoute(APIRoute):
    """A route that checks the Accept header and answers every error as a TAXII error message."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def taxii_handler(request: Request) -> Response:
            if not accepts_taxii(request.headers.get("accept", "")):
                return error_message(
                    406, f"this server answers only in {TAXII_MEDIA_TYPE}; send it in Accept"
                )
            try:
                return await handler(request)
            except AccordError as exc:
                return error_message(exc.http_status, exc.message)
            except RequestValidationError as exc:
                problems = "; ".join(str(e.get("msg", e)) for e in exc.errors())
                return error_message(400, f"invalid request: {problems}")
            except HTTPException as exc:
                return error_message(exc.status_code, str(exc.detail))

        return taxii_handler


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed `limit` (the app's
    own size limit leaves /taxii2/ to this, so that the refusal is a TAXII error message)."""
    too_large = f"the request body is larger than max_content_length, {limit} bytes; split it"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TaxiiError(413, too_large)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TaxiiError(413, too_large)
    return bytes(body)


class TaxiiResponse(JSONResponse):
    """Declares the TAXII media type in the OpenAPI document; the routes build their own."""

    media_type = TAXII_MEDIA_TYPE


class TaxiiErrorOut(BaseModel):
    """A TAXII 2.1 error message (§3.6.1)."""

    title: str
    description: str
    http_status: str


router = APIRouter(
    prefix="/taxii2",
    tags=["taxii"],
    route_class=TaxiiRoute,
    default_response_class=TaxiiResponse,
    responses={
        status: {"model": TaxiiErrorOut, "description": title}
        for status, title in {**_TITLES, 429: "Too many requests"}.items()
        if status != 422
    },
)
COLLECTION = f"/{API_ROOT}/collections/{{collection_id}}"

Analyst = Annotated[Principal, Depends(require(Permission.CYBER_ANALYSE))]


# Who reads what, for the audit entry of a read: (runtime, analyst, request, action, subject:
# the collection, or the collection and object id).
Read = tuple[Runtime, Principal, Request, str, str]
MAX_AUDITED_QUERY = 500


def _params(request: Request) -> dict[str, str]:
    """Query parameters; a repeated one (match[type]=a&match[type]=b) reads as a list (a,b)."""
    query = request.query_params
    return {name: ",".join(query.getlist(name)) for name in query}


def _paged(page: Page, content: bytes, read: Read) -> Response:
    """A page of a collection as the response; the read is audited first: who read which
    collection (and object), how many entries came back, with which query."""
    runtime, analyst, request, action, subject = read
    with runtime.transaction() as session:
        audited(
            session,
            analyst,
            action,
            request,
            subject=subject,
            detail={"entries": len(page.rows), "query": request.url.query[:MAX_AUDITED_QUERY]},
        )
    headers = {}
    if page.first_added and page.last_added:
        headers["X-TAXII-Date-Added-First"] = iso(page.first_added)
        headers["X-TAXII-Date-Added-Last"] = iso(page.last_added)
    return Response(content, media_type=TAXII_MEDIA_TYPE, headers=headers)


def _list_json(page: Page, name: str, items: list[Any]) -> bytes:
    content: dict[str, Any] = {"more": page.more}
    if page.next is not None:
        content["next"] = page.next
    content[name] = items
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


@router.get("/")
def discovery(request: Request, runtime: RuntimeDep, _analyst: Analyst) -> Response:
    """TAXII 2.1 §4.1 Server Discovery: this node's one API root."""
    root = f"{request.base_url}taxii2/{API_ROOT}/"
    return taxii_json(
        {
            "title": f"Accord node {runtime.node.name}",
            "description": "STIX 2.1 objects exchanged with this node's peers, one collection "
            "per peer and direction",
            "default": root,
            "api_roots": [root],
        }
    )


@router.get(f"/{API_ROOT}/")
def api_root(runtime: RuntimeDep, _analyst: Analyst) -> Response:
    """TAXII 2.1 §4.2 Get API Root Information."""
    return taxii_json(
        {
            "title": f"Cyber cooperation of {runtime.node.name}",
            "description": "to-<peer>: what this node shares with the peer; from-<peer>: what "
            "the peer shared with this node",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": runtime.settings.max_request_bytes,
        }
    )


@router.get(f"/{API_ROOT}/status/{{status_id}}/")
def status(status_id: str, runtime: RuntimeDep, _analyst: Analyst) -> Response:
    """TAXII 2.1 §4.3 Get Status."""
    with runtime.reading() as session:
        return taxii_json(service.status_resource(service.get_status(session, status_id)))


@router.get(f"/{API_ROOT}/collections/")
def collections(runtime: RuntimeDep, _analyst: Analyst) -> Response:
    """TAXII 2.1 §5.1 Get Collections: two per active peer (see docs/cyber.md for the rule)."""
    with runtime.reading() as session:
        found = service.list_collections(session)
    return taxii_json({"collections": [c.resource() for c in found]})


@router.get(f"{COLLECTION}/")
def collection(collection_id: str, runtime: RuntimeDep, _analyst: Analyst) -> Response:
    """TAXII 2.1 §5.2 Get A Collection."""
    with runtime.reading() as session:
        return taxii_json(service.get_collection(session, collection_id).resource())


@router.get(f"{COLLECTION}/manifest/")
def manifest(
    collection_id: str, request: Request, runtime: RuntimeDep, analyst: Analyst
) -> Response:
    """TAXII 2.1 §5.3 Get Object Manifests: added_after, limit, next and every match[]."""
    params = _params(request)
    filters = service.parse_filter(params)
    with runtime.reading() as session:
        target = service.readable(session, collection_id)
        page = service.manifest_page(
            session,
            collection=target.id,
            filters=filters,
            after=service.parse_next(params.get("next")),
            limit=service.parse_limit(params.get("limit")),
        )
    records = [service.manifest_record(row) for row in page.rows]
    read = (runtime, analyst, request, "taxii.get_manifest", target.alias)
    return _paged(page, _list_json(page, "objects", records), read)


@router.get(f"{COLLECTION}/objects/")
def get_objects(
    collection_id: str, request: Request, runtime: RuntimeDep, analyst: Analyst
) -> Response:
    """TAXII 2.1 §5.4 Get Objects: added_after, limit, next, match[id|type|version|spec_version].

    A page is the next `limit` objects by insertion key after the `next` token, found on an
    index: the cost of a page does not grow with the collection."""
    params = _params(request)
    filters = service.parse_filter(params)
    with runtime.reading() as session:
        target = service.readable(session, collection_id)
        page = service.object_page(
            session,
            collection=target.id,
            filters=filters,
            after=service.parse_next(params.get("next")),
            limit=service.parse_limit(params.get("limit")),
        )
    read = (runtime, analyst, request, "taxii.get_objects", target.alias)
    return _paged(page, service.envelope_json(page), read)


@router.post(f"{COLLECTION}/objects/", status_code=202)
async def add_objects(
    collection_id: str, request: Request, runtime: RuntimeDep, analyst: Analyst
) -> Response:
    """TAXII 2.1 §5.5 Add Objects: an envelope in, a status resource (§4.3.1) out, complete.

    Each object is validated as STIX 2.1 (custom content as §11 allows) and held to the peer's
    handling code; each bad one is listed in the status `failures` with its reason, never
    dropped silently. A body over the API root's max_content_length is 413 (§4.2.1)."""
    if not is_taxii_content(request.headers.get("content-type", "")):
        raise TaxiiError(415, f"send the envelope as Content-Type: {TAXII_MEDIA_TYPE}")
    objects = service.envelope_objects(await _body(request, runtime.settings.max_request_bytes))

    def add() -> dict[str, Any]:
        with runtime.transaction() as session:
            target = service.writable(session, collection_id)
            outcome = service.add_objects(
                session, collection=target, objects=objects, actor=analyst.username
            )
            audited(
                session,
                analyst,
                "taxii.add_objects",
                request,
                subject=target.alias,
                detail={
                    "status": str(outcome.id),
                    "added": outcome.success_count,
                    "failed": outcome.failure_count,
                },
            )
            return service.status_resource(outcome)

    return taxii_json(await run_in_threadpool(add), status_code=202)


@router.get(f"{COLLECTION}/objects/{{object_id}}/")
def get_object(
    collection_id: str, object_id: str, request: Request, runtime: RuntimeDep, analyst: Analyst
) -> Response:
    """TAXII 2.1 §5.6 Get An Object: its last version, or those match[version] names."""
    params = _params(request)
    found = service.parse_filter(params)
    filters = ObjectFilter(
        added_after=found.added_after,
        ids=(object_id,),
        versions=found.versions,
        spec_versions=found.spec_versions,
    )
    with runtime.reading() as session:
        target = service.readable(session, collection_id)
        service.require_object(session, collection=target, object_id=object_id)
        page = service.object_page(
            session,
            collection=target.id,
            filters=filters,
            after=service.parse_next(params.get("next")),
            limit=service.parse_limit(params.get("limit")),
        )
    read = (runtime, analyst, request, "taxii.get_object", f"{target.alias}/{object_id}")
    return _paged(page, service.envelope_json(page), read)


@router.get(f"{COLLECTION}/objects/{{object_id}}/versions/")
def versions(
    collection_id: str, object_id: str, request: Request, runtime: RuntimeDep, analyst: Analyst
) -> Response:
    """TAXII 2.1 §5.8 Get Object Versions: added_after, limit, next, match[spec_version]."""
    params = _params(request)
    if "match[version]" in params:
        raise InvalidInput("match[version] does not apply to the versions of an object")
    found = service.parse_filter(params)
    filters = ObjectFilter(
        added_after=found.added_after,
        ids=(object_id,),
        versions=VersionMatch(all=True),
        spec_versions=found.spec_versions,
    )
    with runtime.reading() as session:
        target = service.readable(session, collection_id)
        service.require_object(session, collection=target, object_id=object_id)
        page = service.manifest_page(
            session,
            collection=target.id,
            filters=filters,
            after=service.parse_next(params.get("next")),
            limit=service.parse_limit(params.get("limit")),
        )
    stamps = [service.stix_timestamp(row.version) for row in page.rows]
    return _paged(
        page,
        _list_json(page, "versions", stamps),
        (runtime, analyst, request, "taxii.get_versions", f"{target.alias}/{object_id}"),
    )


_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@router.api_route("/{path:path}", methods=_METHODS, include_in_schema=False)
def unknown(path: str, request: Request) -> Response:
    """TAXII 2.1 §3.6: a path or method this server does not serve, as a TAXII error message
    (404, or 405 with Allow when the path is served with other methods)."""
    full = request.url.path
    allowed: set[str] = set()
    for route in router.routes:
        if not isinstance(route, APIRoute) or route.endpoint is unknown:
            continue
        scope = {"type": "http", "path": full, "method": request.method, "root_path": ""}
        if not full.endswith("/"):
            slashed = {**scope, "path": full + "/"}
            if route.matches(slashed)[0] is not Match.NONE:
                return RedirectResponse(str(request.url.replace(path=full + "/")), status_code=308)
        if route.matches(scope)[0] is Match.PARTIAL:
            allowed |= route.methods or set()
    if allowed:
        methods = ", ".join(sorted(allowed))
        response = error_message(
            405, f"{request.method} is not served at {request.url.path}; use {methods}"
        )
        response.headers["Allow"] = methods
        return response
    return error_message(
        404,
        f"{request.url.path} is no TAXII 2.1 endpoint of this server; start at /taxii2/",
    )
