"""REST API of the dialogue (/api/v1/dialogue): the scorecard and the stuck cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from accord.accounts.service import Principal
from accord.api import RuntimeDep, require
from accord.core.clock import utcnow
from accord.core.permissions import Permission
from accord.dialogue import service
from accord.federation.peers import list_peers

router = APIRouter(prefix="/api/v1/dialogue", tags=["dialogue"])

Reader = Annotated[Principal, Depends(require(Permission.DIALOGUE_READ))]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@router.get("/scorecard")
def scorecard(
    runtime: RuntimeDep,
    _reader: Reader,
    start: datetime | None = Query(None, description="default: 90 days before the end"),
    end: datetime | None = Query(None, description="exclusive; default: now"),
) -> dict[str, Any]:
    """Per area and side, each figure with the cases behind it, and the previous period."""
    until = _utc(end) if end else utcnow()
    since = _utc(start) if start else until - timedelta(days=90)
    with runtime.reading() as session:
        nodes = [runtime.node.name, *(p.name for p in list_peers(session))]
        return service.scorecard(session, nodes=nodes, start=since, end=until)


@router.get("/stuck")
def stuck(runtime: RuntimeDep, _reader: Reader) -> dict[str, list[Any]]:
    """For each side, the cases waiting on it beyond a deadline, oldest first."""
    with runtime.reading() as session:
        nodes = [runtime.node.name, *(p.name for p in list_peers(session))]
        return service.stuck_cases(session, nodes=nodes, now=utcnow())
