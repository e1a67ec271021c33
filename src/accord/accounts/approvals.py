"""Two-person rules: a change to an account that could let one insider read case content is a
request of one administrator that takes effect only when a different administrator approves it.

Covered: a new account (of any role), a move to another unit, another role, and disabling an
auditor's account (nothing turns the audit log off, but with no auditor nobody reads it). The
rule holds once the node has two administrator accounts (disabled ones count, so disabling the
other administrator does not lift it); before that, the one administrator's changes take effect
at once and are recorded as such. Every request, approval, rejection and expiry is audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.accounts import service as accounts
from accord.accounts.models import AccountRequest, User
from accord.accounts.passwords import check_password
from accord.accounts.service import Principal
from accord.audit import service as audit
from accord.core.clock import new_id, utcnow
from accord.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from accord.core.labels import Labelled
from accord.core.permissions import Permission, Role

EXPIRER = "node"
"""Who the audit log names for a request that expired: nobody decided it."""


class Change(Labelled):
    CREATE = "create", "New account", "新建账户"
    UNIT = "unit", "Move to another unit", "调往其他单位"
    ROLE = "role", "Another role", "更改角色"
    DISABLE = "disable", "Disable an auditor", "停用审计员"


class Status(Labelled):
    PENDING = "pending", "Awaiting a second administrator", "等待另一名管理员批准"
    APPROVED = "approved", "Approved", "已批准"
    REJECTED = "rejected", "Rejected", "已拒绝"
    EXPIRED = "expired", "Expired", "已过期"
    ALONE = "alone", "Taken at once (one administrator)", "立即生效（仅一名管理员）"


def rule_in_force(session: Session) -> bool:
    """Two administrator accounts exist, active or not."""
    count = session.scalar(select(func.count(User.id)).where(User.role == Role.ADMINISTRATOR.value))
    return (count or 0) >= 2


def request_account(
    session: Session,
    *,
    by: Principal,
    username: str,
    display_name: str,
    role: Role,
    unit: str,
    password: str,
    language: str,
    lifetime: timedelta,
    remote_addr: str | None = None,
) -> AccountRequest:
    """Ask for a new account. Its checks (a free username, a unit, the password policy) are
    made now, and again for the username when it is approved; only the password's hash is
    kept in the request."""
    username, unit = username.strip(), unit.strip()
    accounts.check_new_account(session, username=username, unit=unit)
    pending = session.scalar(
        select(AccountRequest.id).where(
            AccountRequest.username == username,
            AccountRequest.change == Change.CREATE.value,
            AccountRequest.status == Status.PENDING.value,
        )
    )
    if pending is not None:
        raise Conflict(f"an account {username!r} is already awaiting approval (request {pending})")
    check_password(password, username=username, display_name=display_name)
    detail = {
        "role": role.value,
        "unit": unit,
        "display_name": display_name or username,
        "language": language if language in ("en", "zh") else "en",
    }
    return _propose(
        session,
        by=by,
        change=Change.CREATE,
        username=username,
        detail=detail,
        password_hash=accounts.hash_password(password),
        lifetime=lifetime,
        remote_addr=remote_addr,
    )


def request_unit(
    session: Session,
    *,
    by: Principal,
    username: str,
    unit: str,
    lifetime: timedelta,
    remote_addr: str | None = None,
) -> AccountRequest:
    """Ask to move an officer to another unit (whose cases they would then read)."""
    user = accounts.get_user(session, username)
    unit = unit.strip()
    if not unit:
        raise InvalidInput("name the unit to move the officer to")
    if unit == user.unit:
        raise InvalidInput(f"{username} is in unit {unit} already")
    return _propose(
        session,
        by=by,
        change=Change.UNIT,
        username=username,
        detail={"unit": unit, "from": user.unit},
        lifetime=lifetime,
        remote_addr=remote_addr,
    )


def request_role(
    session: Session,
    *,
    by: Principal,
    username: str,
    role: Role,
    lifetime: timedelta,
    remote_addr: str | None = None,
) -> AccountRequest:
    """Ask to give an officer another role."""
    user = accounts.get_user(session, username)
    if role.value == user.role:
        raise InvalidInput(f"{username} is a {role.value} already")
    return _propose(
        session,
        by=by,
        change=Change.ROLE,
        username=username,
        detail={"role": role.value, "from": user.role},
        lifetime=lifetime,
        remote_addr=remote_addr,
    )


def set_active(
    session: Session,
    *,
    by: Principal,
    username: str,
    active: bool,
    lifetime: timedelta,
    remote_addr: str | None = None,
) -> AccountRequest | None:
    """Disable or enable an officer. Disabling an active auditor is a request (the rule's);
    anything else takes effect at once (None)."""
    user = accounts.get_user(session, username)
    if not active and user.active and user.role == Role.AUDITOR.value:
        return _propose(
            session,
            by=by,
            change=Change.DISABLE,
            username=username,
            detail={"role": user.role},
            lifetime=lifetime,
            remote_addr=remote_addr,
        )
    accounts.set_active(session, username=username, active=active, by=by.username)
    return None


def _propose(
    session: Session,
    *,
    by: Principal,
    change: Change,
    username: str,
    detail: dict[str, Any],
    lifetime: timedelta,
    remote_addr: str | None,
    password_hash: str | None = None,
) -> AccountRequest:
    by.require(Permission.USER_ADMIN)
    expire_due(session)
    alone = not rule_in_force(session)
    if not alone and by.user_id is None:
        raise Forbidden(
            "this node has two administrators, so a change to an account is one "
            "administrator's request that another approves: make it as an administrator "
            "(on the command line, --as NAME)"
        )
    now = utcnow()
    request = AccountRequest(
        id=new_id(),
        change=change.value,
        username=username,
        detail=detail,
        password_hash=password_hash,
        status=Status.PENDING.value,
        requested_by=by.username,
        requested_at=now,
        expires_at=now + lifetime,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="user.request",
        outcome="pending",
        subject=username,
        remote_addr=remote_addr,
        detail={"request": str(request.id), "change": change.value} | _public(detail),
    )
    if alone:  # one administrator: nobody else to ask (the bootstrap of a node)
        _apply(session, request)
        _decide(session, request, Status.ALONE, by=by.username, remote_addr=remote_addr)
    return request


def _public(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in detail.items() if k != "display_name"}


def get_request(session: Session, request_id: UUID, *, lock: bool = False) -> AccountRequest:
    """One request; with `lock`, locked for this transaction (of two administrators deciding
    it at once, the second finds it decided)."""
    found = session.get(AccountRequest, request_id, with_for_update=lock)
    if found is None:
        raise NotFound(f"no account request {request_id}; `accord user requests` lists them")
    return found


def list_requests(session: Session, *, status: Status | None = None) -> list[AccountRequest]:
    """Requests newest first (pending ones past their time are expired first)."""
    expire_due(session)
    query = select(AccountRequest).order_by(AccountRequest.requested_at.desc())
    if status is not None:
        query = query.where(AccountRequest.status == status.value)
    return list(session.scalars(query))


def expire_due(session: Session) -> int:
    """Pending requests past their time become expired, doing nothing; how many did."""
    due = list(
        session.scalars(
            select(AccountRequest).where(
                AccountRequest.status == Status.PENDING.value,
                AccountRequest.expires_at <= utcnow(),
            )
        )
    )
    for request in due:
        _decide(session, request, Status.EXPIRED, by=EXPIRER, remote_addr=None)
    return len(due)


def approve(
    session: Session, *, request_id: UUID, by: Principal, remote_addr: str | None = None
) -> AccountRequest:
    """A second administrator approves: the change takes effect now. The administrator who
    asked for it can never approve it (refused, and audited)."""
    by.require(Permission.USER_ADMIN)
    request = _pending(session, request_id, by=by, verb="approve", remote_addr=remote_addr)
    if by.user_id is None or by.username == request.requested_by:
        audit.record(
            session,
            actor=by.username,
            action="user.request.approve",
            outcome="refused",
            subject=request.username,
            remote_addr=remote_addr,
            detail={"request": str(request.id), "reason": "own request"},
        )
        raise Forbidden(
            f"{by.username} asked for this change, so another administrator must approve it"
            if by.user_id is not None
            else "an approval is an administrator's: on the command line, --as NAME"
        )
    _apply(session, request)
    _decide(session, request, Status.APPROVED, by=by.username, remote_addr=remote_addr)
    return request


def reject(
    session: Session, *, request_id: UUID, by: Principal, remote_addr: str | None = None
) -> AccountRequest:
    """Reject a request (its own administrator may withdraw it): nothing changes."""
    by.require(Permission.USER_ADMIN)
    request = _pending(session, request_id, by=by, verb="reject", remote_addr=remote_addr)
    _decide(session, request, Status.REJECTED, by=by.username, remote_addr=remote_addr)
    return request


def _pending(
    session: Session, request_id: UUID, *, by: Principal, verb: str, remote_addr: str | None
) -> AccountRequest:
    expire_due(session)
    request = get_request(session, request_id, lock=True)
    if request.status != Status.PENDING.value:
        audit.record(
            session,
            actor=by.username,
            action=f"user.request.{verb}",
            outcome="refused",
            subject=request.username,
            remote_addr=remote_addr,
            detail={"request": str(request.id), "reason": request.status},
        )
        raise Conflict(f"request {request.id} is {request.status}: it can no longer be decided")
    return request


def _apply(session: Session, request: AccountRequest) -> None:
    """Make the change. The account must still be as it was when the change was asked for."""
    detail = request.detail
    if request.change == Change.CREATE.value:
        accounts.check_new_account(session, username=request.username, unit=detail["unit"])
        assert request.password_hash is not None
        accounts.add_account(
            session,
            username=request.username,
            display_name=detail["display_name"],
            role=Role(detail["role"]),
            unit=detail["unit"],
            password_hash=request.password_hash,
            language=detail["language"],
        )
        return
    user = accounts.get_user(session, request.username)
    if request.change == Change.DISABLE.value:
        accounts.set_active(session, username=user.username, active=False, by=request.requested_by)
        return
    field = "unit" if request.change == Change.UNIT.value else "role"
    if getattr(user, field) != detail["from"]:
        raise Conflict(
            f"{user.username}'s {field} is no longer {detail['from']} as when this was asked "
            "for: reject the request and make a new one"
        )
    setattr(user, field, detail[field])


def _decide(
    session: Session,
    request: AccountRequest,
    status: Status,
    *,
    by: str,
    remote_addr: str | None,
) -> None:
    request.status = status.value
    request.decided_by = by
    request.decided_at = utcnow()
    request.password_hash = None  # used or never to be: not kept
    audit.record(
        session,
        actor=by,
        action=f"user.request.{status.value}",
        outcome="ok",
        subject=request.username,
        remote_addr=remote_addr,
        detail={
            "request": str(request.id),
            "change": request.change,
            "requested_by": request.requested_by,
        }
        | _public(request.detail),
    )
