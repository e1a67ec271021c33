"""REST API of the accounts (/api/v1/users, /api/v1/tokens): officers and their locks for
administrators, and the changes to accounts that one administrator asks for and another approves
(the two-person rule); an officer's API tokens, each revocable on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy.orm import Session

from accord.accounts import approvals, service
from accord.accounts.models import AccountRequest, ApiToken
from accord.accounts.schemas import (
    AccountIn,
    AccountRequestOut,
    RoleIn,
    TokenOut,
    UnitIn,
    UserOut,
)
from accord.accounts.service import Principal
from accord.api import RuntimeDep, authenticated, remote, require
from accord.core.errors import AccordError, Forbidden
from accord.core.permissions import Permission

router = APIRouter(prefix="/api/v1", tags=["accounts"])

Administrator = Annotated[Principal, Depends(require(Permission.USER_ADMIN))]
Officer = Annotated[Principal, Depends(authenticated)]


def _overseer(principal: Officer) -> Principal:
    """Administrators decide account requests; auditors see them too."""
    if not (principal.can(Permission.USER_ADMIN) or principal.can(Permission.AUDIT_READ)):
        raise Forbidden(
            f"{principal.username} ({principal.role.value}) may not read account requests: "
            "administrators and auditors may"
        )
    return principal


Overseer = Annotated[Principal, Depends(_overseer)]


def request_out(request: AccountRequest) -> AccountRequestOut:
    return AccountRequestOut(
        id=request.id,
        change=request.change,
        username=request.username,
        detail=request.detail,
        status=request.status,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        expires_at=request.expires_at,
        decided_by=request.decided_by,
        decided_at=request.decided_at,
    )


ALONE: dict[int | str, dict[str, Any]] = {
    201: {"description": "Taken at once: the node has one administrator"}
}
"""A request's other answer: 202 while it awaits a second administrator."""


def _asked(response: Response, request: AccountRequest) -> AccountRequestOut:
    """202 while the request awaits a second administrator; 201 if it took effect at once."""
    pending = request.status == approvals.Status.PENDING.value
    response.status_code = status.HTTP_202_ACCEPTED if pending else status.HTTP_201_CREATED
    return request_out(request)


def _token_out(session: Session, token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        user=service.token_owner(session, token),
        scopes=[str(s) for s in token.scopes],
        created_at=token.created_at,
        expires_at=token.expires_at,
        active=token.active,
    )


@router.get("/users")
def users(runtime: RuntimeDep, _admin: Administrator) -> list[UserOut]:
    """The officers of this node, with their failed sign-ins in a row and any lock."""
    with runtime.reading() as session:
        return [
            UserOut(
                username=u.username,
                display_name=u.display_name,
                role=u.role,
                unit=u.unit,
                active=u.active,
                second_factor=u.totp_enabled,
                failed_logins=u.failed_logins,
                locked_until=u.locked_until if service.is_locked(u) else None,
                last_login_at=u.last_login_at,
            )
            for u in service.list_users(session)
        ]


@router.get("/tokens")
def tokens(runtime: RuntimeDep, officer: Officer, user: str | None = None) -> list[TokenOut]:
    """The caller's API tokens; an administrator's call lists everyone's (or `user`'s)."""
    with runtime.reading() as session:
        found = service.list_tokens(session, by=officer, username=user)
        return [_token_out(session, t) for t in found]


@router.delete("/tokens/{token_id}")
def revoke(token_id: UUID, request: Request, runtime: RuntimeDep, officer: Officer) -> TokenOut:
    """Revoke one token: its officer or an administrator may. It is refused from now on."""
    with runtime.transaction() as session:
        token = service.revoke_token(
            session, token_id=token_id, by=officer, remote_addr=remote(request)
        )
        return _token_out(session, token)


@router.post("/users", status_code=202, responses=ALONE)
def add_user(
    body: AccountIn, request: Request, response: Response, runtime: RuntimeDep, admin: Administrator
) -> AccountRequestOut:
    """Ask for a new account. Once the node has two administrators, it exists only when
    another administrator approves the request (202); before that, at once (201)."""
    with runtime.transaction() as session:
        asked = approvals.request_account(
            session,
            by=admin,
            username=body.username,
            display_name=body.display_name,
            role=body.role,
            unit=body.unit,
            password=body.password,
            language=body.language,
            lifetime=runtime.settings.account_request_lifetime,
            remote_addr=remote(request),
        )
        return _asked(response, asked)


@router.put("/users/{username}/role", status_code=202, responses=ALONE)
def change_role(
    username: str,
    body: RoleIn,
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    admin: Administrator,
) -> AccountRequestOut:
    """Ask to give an officer another role (a second administrator approves)."""
    with runtime.transaction() as session:
        asked = approvals.request_role(
            session,
            by=admin,
            username=username,
            role=body.role,
            lifetime=runtime.settings.account_request_lifetime,
            remote_addr=remote(request),
        )
        return _asked(response, asked)


@router.put("/users/{username}/unit", status_code=202, responses=ALONE)
def change_unit(
    username: str,
    body: UnitIn,
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    admin: Administrator,
) -> AccountRequestOut:
    """Ask to move an officer to another unit (a second administrator approves)."""
    with runtime.transaction() as session:
        asked = approvals.request_unit(
            session,
            by=admin,
            username=username,
            unit=body.unit,
            lifetime=runtime.settings.account_request_lifetime,
            remote_addr=remote(request),
        )
        return _asked(response, asked)


@router.get("/users/requests")
def account_requests(
    runtime: RuntimeDep, _reader: Overseer, status: approvals.Status | None = None
) -> list[AccountRequestOut]:
    """Changes to accounts, newest first: pending, approved, rejected, expired, or taken at once
    while the node had one administrator."""
    with runtime.transaction() as session:  # expiring what is due writes
        return [request_out(r) for r in approvals.list_requests(session, status=status)]


@router.post("/users/requests/{request_id}/approve")
def approve(
    request_id: UUID, request: Request, runtime: RuntimeDep, admin: Administrator
) -> AccountRequestOut:
    """Approve another administrator's request: the change takes effect now. One's own request
    is refused (403), a decided or expired one too (409); each refusal is audited."""
    return _decided(runtime, approvals.approve, request_id, admin, remote(request))


@router.post("/users/requests/{request_id}/reject")
def reject(
    request_id: UUID, request: Request, runtime: RuntimeDep, admin: Administrator
) -> AccountRequestOut:
    """Reject a request (or withdraw one's own): nothing changes."""
    return _decided(runtime, approvals.reject, request_id, admin, remote(request))


def _decided(
    runtime: RuntimeDep,
    decide: Callable[..., AccountRequest],
    request_id: UUID,
    admin: Principal,
    remote_addr: str | None,
) -> AccountRequestOut:
    """Decide in one transaction; a refusal's audit entry is kept, then the refusal answered."""
    with runtime.transaction() as session:
        try:
            return request_out(
                decide(session, request_id=request_id, by=admin, remote_addr=remote_addr)
            )
        except AccordError as exc:
            refusal = exc
    raise refusal
