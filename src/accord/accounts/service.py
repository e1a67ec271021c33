"""Accounts: officers with argon2id passwords and TOTP, web sessions, scoped API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.accounts.models import ApiToken, User, WebSession
from accord.accounts.passwords import check_password
from accord.accounts.vault import Vault, is_sealed
from accord.audit import service as audit
from accord.core.clock import new_id, utcnow
from accord.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from accord.core.permissions import GRANTS, Permission, Role

PREFIX = "acc_"
LOCK_AFTER = 5
"""Failures in a row, of the password or of the second factor, before the account locks."""
LOCK_MINUTES = 15
"""The first lock; each further failure doubles it (back-off), up to LONGEST_LOCK."""
LONGEST_LOCK = timedelta(days=1)
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
    """An account made at once, outside the two-person rule: for `accord init`, the demo and
    tests. Administrators' changes to accounts go through `accounts.approvals`."""
    check_new_account(session, username=username, unit=unit)
    check_password(password, username=username, display_name=display_name)
    return add_account(
        session,
        username=username,
        display_name=display_name,
        role=role,
        unit=unit,
        password_hash=hash_password(password),
        language=language,
    )


def check_new_account(session: Session, *, username: str, unit: str) -> None:
    """A new account's username is well formed and free, and it names a unit."""
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise InvalidInput("a username uses letters, digits, '.', '-' and '_' only")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} exists already")
    if not unit.strip():
        raise InvalidInput("an account belongs to a unit: name it")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_account(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: Role,
    unit: str,
    password_hash: str,
    language: str = "en",
) -> User:
    """The account itself, its checks already passed (create_user, or an approved request)."""
    user = User(
        id=new_id(),
        username=username,
        display_name=display_name or username,
        role=role.value,
        unit=unit,
        password_hash=password_hash,
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


def change_password(
    session: Session,
    *,
    user: User,
    current: str,
    new: str,
    keep: UUID | None = None,
    remote_addr: str | None = None,
) -> None:
    """An officer chooses their own password: the current one first (a wrong one counts towards
    the lock, as at sign-in), the password policy for the new one; their other web sessions end
    (`keep`: the one they are in). Refusals are audited; the caller commits them too."""
    now = utcnow()
    _refuse_if_locked(session, user, now, action="user.password_changed", remote_addr=remote_addr)
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        _count_failure(user, now)
        audit.record(
            session,
            actor=user.username,
            action="user.password_changed",
            outcome="refused",
            subject=user.username,
            remote_addr=remote_addr,
            detail={"reason": "current password"},
        )
        raise Unauthenticated("the current password is wrong") from None
    check_password(new, username=user.username, display_name=user.display_name)
    user.password_hash = _hasher.hash(new)
    user.password_changed_at = now
    for web in session.scalars(select(WebSession).where(WebSession.user_id == user.id)):
        if web.id != keep:
            session.delete(web)
    audit.record(
        session,
        actor=user.username,
        action="user.password_changed",
        outcome="ok",
        subject=user.username,
        remote_addr=remote_addr,
    )


def set_language(session: Session, *, user: User, language: str) -> None:
    """The officer's own language preference: the pages' language when no switch says else."""
    if language not in ("en", "zh"):
        raise InvalidInput(f"language {language!r}: choose en or zh")
    user.language = language
    audit.record(
        session,
        actor=user.username,
        action="user.language",
        outcome="ok",
        subject=user.username,
        detail={"language": language},
    )


def lock_message(user: User, now: datetime) -> Unauthenticated:
    """The refusal of a locked account, saying until when (also in `detail`, for the web)."""
    assert user.locked_until is not None
    minutes = max(1, -(-int((user.locked_until - now).total_seconds()) // 60))
    return Unauthenticated(
        f"too many failed sign-ins; this account is locked for {minutes} more minutes "
        f"(until {user.locked_until:%H:%M} UTC): try again then, or ask an administrator",
        detail={"locked_until": user.locked_until.isoformat(), "minutes": minutes},
    )


def is_locked(user: User, now: datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def _count_failure(user: User, now: datetime) -> None:
    """One more failure in a row; from the LOCK_AFTER-th on, a lock that doubles each time."""
    user.failed_logins += 1
    if user.failed_logins >= LOCK_AFTER:
        doublings = min(user.failed_logins - LOCK_AFTER, 16)
        user.locked_until = now + min(LONGEST_LOCK, timedelta(minutes=LOCK_MINUTES * 2**doublings))


def authenticate(
    session: Session, *, username: str, password: str, remote_addr: str | None
) -> User:
    """Check a password. Failures in a row, of the password or of the second factor, lock the
    account from the fifth on (15 minutes, doubling with each further one); only a completed
    sign-in (`signed_in`) clears them, so signing in again does not buy fresh code guesses."""
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
    _refuse_if_locked(session, user, now, action="login", remote_addr=remote_addr)
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        _count_failure(user, now)
        audit.record(
            session,
            actor=user.username,
            action="login",
            outcome="refused",
            remote_addr=remote_addr,
            detail={"reason": "password"},
        )
        raise refusal from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def signed_in(session: Session, *, user: User) -> None:
    """Both factors passed: the failures in a row start again from zero."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()


def unlock(session: Session, *, username: str, by: str) -> User:
    """An administrator lifts a lock before it runs out."""
    user = get_user(session, username)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, actor=by, action="user.unlocked", outcome="ok", subject=username)
    return user


# -- second factor ----------------------------------------------------------------------------


def begin_totp(session: Session, *, user: User, issuer: str, vault: Vault) -> tuple[str, str]:
    """A new secret (not yet active, sealed at rest) and the enrolment QR code as SVG."""
    secret = pyotp.random_base32()
    user.totp_secret = vault.seal(secret)
    user.totp_enabled = False
    user.totp_last_step = None
    return secret, totp_qr(secret, user.username, issuer)


def totp_secret(user: User, *, vault: Vault) -> str | None:
    """The officer's TOTP secret in clear; a secret stored before sealing is sealed now."""
    if not user.totp_secret:
        return None
    if not is_sealed(user.totp_secret):
        secret = user.totp_secret
        user.totp_secret = vault.seal(secret)
        return secret
    return vault.open(user.totp_secret)


def seal_stored_secrets(session: Session, *, vault: Vault) -> int:
    """Seal every TOTP secret still stored in clear (from before sealing); how many were."""
    sealed = 0
    for user in session.scalars(select(User).where(User.totp_secret.is_not(None))):
        if user.totp_secret and not is_sealed(user.totp_secret):
            user.totp_secret = vault.seal(user.totp_secret)
            sealed += 1
    return sealed


def totp_qr(secret: str, username: str, issuer: str) -> str:
    """The enrolment QR code (an otpauth:// URI) as inline SVG."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)
    return str(segno.make(uri, error="m").svg_inline(scale=4))


def _matching_step(user: User, code: str, *, vault: Vault) -> int | None:
    """The time step (of now, one before or one after: clock drift) whose code `code` is, if it
    is later than the last step accepted for this officer; else None."""
    secret = totp_secret(user, vault=vault)
    code = code.strip().replace(" ", "")
    if not secret or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utcnow())
    for step in (now - 1, now, now + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _refuse_if_locked(
    session: Session, user: User, now: datetime, *, action: str, remote_addr: str | None
) -> None:
    """A locked account is refused, and audited, whatever was typed."""
    if is_locked(user, now):
        audit.record(
            session,
            actor=user.username,
            action=action,
            outcome="refused",
            remote_addr=remote_addr,
            detail={"reason": "locked"},
        )
        raise lock_message(user, now)


def check_totp(
    session: Session, *, user: User, code: str, vault: Vault, remote_addr: str | None
) -> None:
    """The second factor of a sign-in. A code is accepted once: its time step is kept, and a code
    of that step or an earlier one is refused. A wrong code counts as a failed sign-in (the lock
    of `authenticate`); a locked account is refused whatever the code."""
    now = utcnow()
    _refuse_if_locked(session, user, now, action="login.totp", remote_addr=remote_addr)
    step = _matching_step(user, code, vault=vault) if user.totp_enabled else None
    if step is None:
        _count_failure(user, now)
        audit.record(
            session,
            actor=user.username,
            action="login.totp",
            outcome="refused",
            remote_addr=remote_addr,
            detail={"reason": "code"},
        )
        if is_locked(user, now):
            raise lock_message(user, now)
        raise Unauthenticated("that code is not right, or was used already: wait for the next")
    user.totp_last_step = step


def confirm_totp(
    session: Session, *, user: User, code: str, vault: Vault, remote_addr: str | None = None
) -> None:
    """The first code from a new authenticator. A wrong one is audited and counts towards the
    lock (a stolen password buys no free guesses at enrolment); the caller commits that."""
    _refuse_if_locked(session, user, utcnow(), action="totp.enrolled", remote_addr=remote_addr)
    step = _matching_step(user, code, vault=vault)
    if step is None:
        _count_failure(user, utcnow())
        audit.record(
            session,
            actor=user.username,
            action="totp.enrolled",
            outcome="refused",
            remote_addr=remote_addr,
            detail={"reason": "code"},
        )
        raise InvalidInput("that code does not match: check the phone's clock and try again")
    user.totp_enabled = True
    user.totp_last_step = step
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


def verified_caller(session: Session, *, kind: str, credential: str) -> str | None:
    """Who a credential as sent names, if it verifies — an API token that is active and not
    expired, or a web session that exists, of an active officer: `officer:<id>`; else None.
    The rate limit keys its buckets on this, never on what the caller merely sent."""
    user_id: UUID | None = None
    if kind == "token":
        found = session.scalar(
            select(ApiToken).where(
                ApiToken.token_hash == _digest(credential), ApiToken.active.is_(True)
            )
        )
        if found is not None and (found.expires_at is None or found.expires_at >= utcnow()):
            user = session.get(User, found.user_id) if found.user_id else None
            user_id = user.id if user is not None and user.active else None
    elif kind == "web session":
        web = resolve_session(session, credential)
        user_id = web[1].id if web is not None else None
    return f"officer:{user_id}" if user_id is not None else None


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


def list_tokens(session: Session, *, by: Principal, username: str | None = None) -> list[ApiToken]:
    """The tokens `by` may see: their own; an administrator's, anyone's (or `username`'s)."""
    query = select(ApiToken).where(ApiToken.user_id.is_not(None)).order_by(ApiToken.created_at)
    if not by.can(Permission.USER_ADMIN):
        query = query.where(ApiToken.user_id == by.user_id)
    elif username is not None:
        query = query.where(ApiToken.user_id == get_user(session, username).id)
    return list(session.scalars(query))


def revoke_token(
    session: Session, *, token_id: UUID, by: Principal, remote_addr: str | None = None
) -> ApiToken:
    """Revoke one token, at once and for good: by its officer, or by an administrator. Another
    officer's token is answered as one that does not exist."""
    token = session.get(ApiToken, token_id)
    if token is None or not (
        by.can(Permission.USER_ADMIN) or (by.user_id is not None and token.user_id == by.user_id)
    ):
        raise NotFound(f"no token {token_id} of yours; `accord token list` shows them")
    owner = session.get(User, token.user_id) if token.user_id else None
    token.active = False
    audit.record(
        session,
        actor=by.username,
        action="token.revoked",
        outcome="ok",
        subject=owner.username if owner else "node",
        remote_addr=remote_addr,
        detail={"token": str(token.id), "name": token.name},
    )
    return token


def token_owner(session: Session, token: ApiToken) -> str:
    owner = session.get(User, token.user_id) if token.user_id else None
    return owner.username if owner else ""
