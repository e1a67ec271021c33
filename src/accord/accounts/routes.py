"""REST API of the accounts (/api/v1/users, /api/v1/tokens): officers and their locks for
administrators; an officer's API tokens, each revocable on its own."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from accord.accounts import service
from accord.accounts.models import ApiToken
from accord.accounts.schemas import TokenOut, UserOut
from accord.accounts.service import Principal
from accord.api import RuntimeDep, authenticated, remote, require
from accord.core.permissions import Permission

router = APIRouter(prefix="/api/v1", tags=["accounts"])

Administrator = Annotated[Principal, Depends(require(Permission.USER_ADMIN))]
Officer = Annotated[Principal, Depends(authenticated)]


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
