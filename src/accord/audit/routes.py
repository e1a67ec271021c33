"""REST API for auditors (/api/v1/audit): read the log and verify its chain. No case content."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from accord.accounts.service import Principal
from accord.api import RuntimeDep, remote, require
from accord.audit import service
from accord.core.permissions import Permission
from accord.core.schemas import MAX_OFFSET

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

Auditor = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]


@router.get("")
def entries(
    request: Request,
    runtime: RuntimeDep,
    auditor: Auditor,
    action: str | None = None,
    actor: str | None = None,
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """Audit entries, newest first: who, what, which case, when, from where. The read is
    audited."""
    with runtime.transaction() as session:
        found = service.read_log(
            session,
            reader=auditor.username,
            remote_addr=remote(request),
            actor=actor,
            action=action,
            offset=offset,
            limit=limit,
        )
        return [
            {
                "id": e.id,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "outcome": e.outcome,
                "subject": e.subject,
                "remote_addr": e.remote_addr,
                "detail": e.detail,
                "hash": e.hash,
            }
            for e in found
        ]


@router.get("/verify")
def verify(runtime: RuntimeDep, _auditor: Auditor) -> dict[str, Any]:
    """Walk the hash chain; name every entry that was edited, deleted or reordered."""
    with runtime.reading() as session:
        problems = service.verify(session)
    return {"intact": not problems, "problems": problems}
