"""Accounts: officers with argon2id passwords and TOTP, web sessions, scoped API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.accounts.models import ApiToken, User, WebSession
from accord.audit import service as audit
from accord.core.clock import new_id, utcnow
from accord.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from accord.core.permissions import GRANTS, Permission, Role

PREFIX = "acc_"
MIN_PASSWORD = 12
LOCK_AFTER = 5
_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters


@dataclass(frozen=True)
class Principal:
    """Who is calling: an officer (through a session or a token), or the node's operator."""

    username: str
    role: Role
    unit: str
    display_name: str = ""
    user_id: UUID | None = None
    scopes: frozenset[Permission] | None = None
    """A token's scopes narrow the role's permissions; None means all of the role's."""

    @property
    def officer(self) -> str:
        """How the officer is named in case logs."""
        return self.display_name or self.username

    def can(self, permission: Permission) -> bool:
        if permission not in GRANTS[self.role]:
            return False
        return self.scopes is None or permission in self.scopes

    def may_take(self, *, review: bool) -> bool:
        """The permission half of who may take a case action (the workflow checks the side
        and the state): case:act, and case:review for an action that records a legal review
        (its case type declares which)."""
        if not self.can(Permission.CASE_ACT):
            return False
        return not review or self.can(Permission.CASE_REVIEW)

    def require_action(self, *, review: bool) -> None:
        self.require(Permission.CASE_ACT)
        if review:
            self.require(Permission.CASE_REVIEW)

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(
                f"{self.username} ({self.role.value}) may not {permission.value}"
                + ("" if self.scopes is None else " with this token's scopes")
            )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def principal_of(user: User, scopes: frozenset[Permission] | None = None) -> Principal:
    return Principal(
        username=user.username,
        role=Role(user.role),
        unit=user.unit,
        display_name=user.display_name,
        user_id=user.id,
        scopes=scopes,
    )


# -- users ------------------------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: Role,
    unit: str,
    password: str,
    language: str = "en",
) -> User:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters")
    if not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("a username uses letters, digits, '.', '-' and '_' only")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} exists already")
    user = User(
        id=new_id(),
        username=username,
        display_name=display_name or username,
        role=role.value,
        unit=unit,
        password_hash=_hasher.hash(password),
        totp_enabled=False,
        language=language if language in ("en", "zh") else "en",
        active=True,
        failed_logins=0,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}; `accord user list` shows them")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def set_active(session: Session, *, username: str, active: bool, by: str) -> User:
    user = get_user(session, username)
    user.active = active
    if not active:
        for web in session.scalars(select(WebSession).where(WebSession.user_id == user.id)):
            session.delete(web)
        for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
            token.active = False
    audit.record(
        session,
        actor=by,
        action="user.enabled" if active else "user.disabled",
        outcome="ok",
        subject=username,
    )
    return user


def authenticate(
    session: Session, *, username: str, password: str, remote_addr: str | None
) -> User:
    """Check a password; five failures in a row lock the account for a while (throttling)."""
    user = session.scalar(select(User).where(User.username == username))
    now = utcnow()
    refusal = Unauthenticated("wrong username or password")
    if user is None or not user.active:
        audit.record(
            session,
            actor=f"anonymous:{username[:50]}",
            action="login",
            outcome="refused",
            remote_addr=remote_addr,
            detail={"reason": "unknown"},
        )
        _hasher.hash(password)  # the same work as for a real user: no timing oracle
        raise refusal
    if user.locked_until and user.locked_until > now:
        audit.record(
            session,
            actor=user.username,
            action="login",
            outcome="refused",
            remote_addr=remote_addr,
            detail={"reason": "locked"},
        )
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60))
        raise Unauthenticated(f"too many failed sign-ins; try again in {minutes} minutes")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= LOCK_AFTER:
            user.locked_until = now + timedelta(minutes=15 * 2 ** (user.failed_logins - LOCK_AFTER))
        audit.record(
            session,
            actor=user.username,
            action="login",
            outcome="refused",
            remote_addr=remote_addr,
            detail={"reason": "password"},
        )
        raise refusal from None
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


# -- second factor ----------------------------------------------------------------------------


def begin_totp(session: Session, *, user: User, issuer: str) -> tuple[str, str]:
    """A new secret (not yet active) and the enrolment QR code as SVG."""
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled = False
    return user.totp_secret, totp_qr(user.totp_secret, user.username, issuer)


def totp_qr(secret: str, username: str, issuer: str) -> str:
    """The enrolment QR code (an otpauth:// URI) as inline SVG."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)
    return str(segno.make(uri, error="m").svg_inline(scale=4))


def check_totp(user: User, code: str) -> bool:
    if not user.totp_secret:
        return False
    return pyotp.TOTP(user.totp_secret).verify(code.strip().replace(" ", ""), valid_window=1)


def confirm_totp(session: Session, *, user: User, code: str) -> None:
    if not check_totp(user, code):
        raise InvalidInput("that code does not match: check the phone's clock and try again")
    user.totp_enabled = True
    audit.record(session, actor=user.username, action="totp.enrolled", outcome="ok")


# -- web sessions -----------------------------------------------------------------------------


def start_session(
    session: Session, *, user: User, remote_addr: str | None, hours: float
) -> tuple[str, WebSession]:
    token = secrets.token_urlsafe(32)
    web = WebSession(
        id=new_id(),
        token_hash=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(24),
        second_factor_done=False,
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(hours=hours),
        remote_addr=remote_addr,
    )
    session.add(web)
    session.flush()
    return token, web


def resolve_session(session: Session, token: str) -> tuple[WebSession, User] | None:
    web = session.scalar(select(WebSession).where(WebSession.token_hash == _digest(token)))
    if web is None or web.expires_at < utcnow():
        return None
    user = session.get(User, web.user_id)
    if user is None or not user.active:
        return None
    return web, user


def end_session(session: Session, token: str) -> None:
    web = session.scalar(select(WebSession).where(WebSession.token_hash == _digest(token)))
    if web is not None:
        session.delete(web)


# -- API tokens -------------------------------------------------------------------------------


def issue_token(
    session: Session,
    *,
    name: str,
    user: User,
    scopes: list[Permission] | None = None,
    expires_in: timedelta | None = None,
) -> str:
    """Create a token for `user`; only its hash is kept, so the caller must hand it on now."""
    for scope in scopes or []:
        if scope not in GRANTS[Role(user.role)]:
            raise InvalidInput(f"a {user.role} cannot hold the scope {scope.value}")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            id=new_id(),
            name=name,
            token_hash=_digest(token),
            created_at=utcnow(),
            active=True,
            user_id=user.id,
            scopes=[s.value for s in scopes or []],
            expires_at=utcnow() + expires_in if expires_in else None,
        )
    )
    session.flush()
    return token


def check_token(session: Session, *, token: str) -> Principal:
    found = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.active.is_(True))
    )
    if found is None or (found.expires_at is not None and found.expires_at < utcnow()):
        raise Unauthenticated(
            "unknown, expired or revoked API token; issue one with `accord token new`"
        )
    user = session.get(User, found.user_id) if found.user_id else None
    if user is None or not user.active:
        raise Unauthenticated("this token's user is disabled")
    scopes = frozenset(Permission(s) for s in found.scopes) if found.scopes else None
    return principal_of(user, scopes)
