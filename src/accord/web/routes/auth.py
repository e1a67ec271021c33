"""Signing in (password, then the second factor, enrolled at the first sign-in), signing out,
and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from sqlalchemy import func, select

from accord.accounts import service as accounts
from accord.accounts.models import User, WebSession
from accord.accounts.vault import Vault, vault_for
from accord.api import RuntimeDep, remote
from accord.audit import service as audit
from accord.audit.models import AuditEntry
from accord.core.errors import InvalidInput, Unauthenticated
from accord.core.i18n import LANGUAGES
from accord.core.labels import Lang
from accord.runtime import Runtime
from accord.web.i18n import LANG_COOKIE
from accord.web.pages import WebRoute, render, see_other, svg, tr
from accord.web.security import (
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    clear_cookie,
    current_session,
    language_of,
    new_prelogin_token,
    safe_next,
    session_token,
    set_cookie,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

MAX_CODE_ATTEMPTS = 5
"""Wrong second-factor codes allowed per session before the password is asked for again (each
also counts toward the account's lock, with the password's failures)."""


def _session_hours(runtime: Runtime) -> int:
    return int(runtime.settings.session_hours * 3600)


def _vault(runtime: Runtime) -> Vault:
    return vault_for(runtime.settings.keys_dir)


def _refusal_text(lang: Lang, refusal: Unauthenticated) -> str:
    """What the sign-in pages say for a refusal of the accounts service: a lock says until
    when."""
    _ = tr(lang)
    minutes = refusal.detail.get("minutes")
    if minutes is not None:
        return _(
            "Too many failed sign-ins: this account is locked for %(minutes)s more minutes "
            "(until %(until)s UTC). Try again then, or ask an administrator to unlock it."
        ) % {"minutes": minutes, "until": str(refusal.detail.get("locked_until", ""))[11:16]}
    return _("Wrong username or password.")


def half_signed_in(runtime: RuntimeDep, request: Request) -> tuple[WebSession, User]:
    """A session whose password step is done; the second factor may be missing."""
    found = current_session(runtime, request)
    if found is None:
        raise Unauthenticated("your sign-in has expired: enter your username and password again")
    return found


HalfSignedIn = Annotated[tuple[WebSession, User], Depends(half_signed_in)]


def _login_form(
    request: Request, *, next_path: str, username: str = "", error: str = "", status: int = 200
) -> Response:
    token = new_prelogin_token()
    response = render(
        request,
        "auth/login.html",
        {"token": token, "next_path": next_path, "username": username, "error": error},
        status=status,
    )
    set_cookie(response, request, PRELOGIN_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
def login_page(request: Request, runtime: RuntimeDep, next: str = "/") -> Response:
    found = current_session(runtime, request)
    if found is not None and found[0].second_factor_done:
        return see_other(safe_next(next))
    return _login_form(request, next_path=safe_next(next))


@router.post("/login")
def login(
    request: Request,
    runtime: RuntimeDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Step one: the password (five failures lock the account for a while)."""
    check_csrf(csrf_token, request.cookies.get(PRELOGIN_COOKIE))
    refusal: Unauthenticated | None = None
    with runtime.transaction() as session:
        # The refusal is recorded (audit, failure count) before the transaction ends.
        try:
            user = accounts.authenticate(
                session, username=username.strip(), password=password, remote_addr=remote(request)
            )
        except Unauthenticated as exc:
            refusal = exc
        else:
            token, _ = accounts.start_session(
                session,
                user=user,
                remote_addr=remote(request),
                hours=runtime.settings.session_hours,
            )
            enrolled = user.totp_enabled
    if refusal is not None:
        message = _refusal_text(language_of(request), refusal)
        return _login_form(
            request, next_path=safe_next(next), username=username, error=message, status=401
        )
    target = "/login/totp" if enrolled else "/login/enrol"
    response = see_other(f"{target}?next={safe_next(next)}")
    set_cookie(response, request, SESSION_COOKIE, token, max_age=_session_hours(runtime))
    clear_cookie(response, request, PRELOGIN_COOKIE)
    return response


@router.get("/login/totp")
def totp_page(request: Request, half: HalfSignedIn, next: str = "/") -> Response:
    web, user = half
    if not user.totp_enabled:
        return see_other(f"/login/enrol?next={safe_next(next)}")
    return render(
        request,
        "auth/totp.html",
        {"csrf": web.csrf_token, "next_path": safe_next(next), "error": ""},
        lang=language_of(request, user),
    )


def _complete(request: Request, runtime: Runtime, token: str, next_path: str) -> Response:
    """Both factors passed: a fresh session token (the half-signed-in one is dropped)."""
    with runtime.transaction() as session:
        found = accounts.resolve_session(session, token)
        if found is None:
            raise Unauthenticated("your sign-in has expired: enter your username and password")
        _, user = found
        accounts.end_session(session, token)
        fresh, web = accounts.start_session(
            session, user=user, remote_addr=remote(request), hours=runtime.settings.session_hours
        )
        web.second_factor_done = True
        accounts.signed_in(session, user=user)
        audit.record(
            session, actor=user.username, action="login", outcome="ok", remote_addr=remote(request)
        )
    response = see_other(safe_next(next_path))
    set_cookie(response, request, SESSION_COOKIE, fresh, max_age=_session_hours(runtime))
    return response


@router.post("/login/totp")
def totp(
    request: Request,
    runtime: RuntimeDep,
    half: HalfSignedIn,
    code: Annotated[str, Form(max_length=20)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Step two: the code from the officer's authenticator. A code is taken once; a wrong one
    counts toward the account's lock, and five in one session ask for the password again."""
    web, user = half
    check_csrf(csrf_token, web.csrf_token)
    token = session_token(request) or ""
    lang = language_of(request, user)
    _ = tr(lang)
    refusal: Unauthenticated | None = None
    with runtime.transaction() as session:
        # The refusal is recorded (audit, failure count) before the transaction ends.
        row = session.get(User, user.id)
        assert row is not None
        try:
            accounts.check_totp(
                session, user=row, code=code, vault=_vault(runtime), remote_addr=remote(request)
            )
        except Unauthenticated as exc:
            refusal = exc
            audit.record(
                session,
                actor=user.username,
                action="login.totp",
                outcome="refused",
                subject=f"session:{web.id}",
                remote_addr=remote(request),
            )
            failures = session.scalar(
                select(func.count(AuditEntry.id)).where(
                    AuditEntry.action == "login.totp",
                    AuditEntry.outcome == "refused",
                    AuditEntry.subject == f"session:{web.id}",
                )
            )
            locked = accounts.is_locked(row)
            if locked or (failures or 0) >= MAX_CODE_ATTEMPTS:
                accounts.end_session(session, token)
    if refusal is None:
        return _complete(request, runtime, token, next)
    if locked or (failures or 0) >= MAX_CODE_ATTEMPTS:
        response = _login_form(
            request,
            next_path=safe_next(next),
            username=user.username,
            error=_refusal_text(lang, refusal)
            if locked
            else _("Too many wrong codes: sign in again."),
            status=401,
        )
        clear_cookie(response, request, SESSION_COOKIE)
        return response
    return render(
        request,
        "auth/totp.html",
        {
            "csrf": web.csrf_token,
            "next_path": safe_next(next),
            "error": _(
                "That code is not right, or was used already. Check your authenticator and "
                "try again with its next code."
            ),
        },
        lang=lang,
        status=401,
    )


@router.get("/login/enrol")
def enrol_page(
    request: Request, runtime: RuntimeDep, half: HalfSignedIn, next: str = "/"
) -> Response:
    """First sign-in: a new authenticator key, shown as a QR code and as text."""
    web, user = half
    if user.totp_enabled:
        return see_other(f"/login/totp?next={safe_next(next)}")
    issuer = f"Accord {runtime.node.name}"
    with runtime.transaction() as session:
        row = session.get(User, user.id)
        assert row is not None
        offered = accounts.totp_secret(row, vault=_vault(runtime))
        if offered:  # keep the key already offered: it may have been scanned
            secret, qr = offered, accounts.totp_qr(offered, row.username, issuer)
        else:
            secret, qr = accounts.begin_totp(
                session, user=row, issuer=issuer, vault=_vault(runtime)
            )
    return _enrol(request, web, user, secret, qr, next, error="")


def _enrol(
    request: Request,
    web: WebSession,
    user: User,
    secret: str,
    qr: str,
    next_path: str,
    *,
    error: str,
) -> Response:
    spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render(
        request,
        "auth/enrol.html",
        {
            "csrf": web.csrf_token,
            "next_path": safe_next(next_path),
            "secret": secret,
            "secret_spaced": spaced,
            "qr": svg(qr),
            "error": error,
        },
        lang=language_of(request, user),
        status=422 if error else 200,
    )


@router.post("/login/enrol")
def enrol(
    request: Request,
    runtime: RuntimeDep,
    half: HalfSignedIn,
    code: Annotated[str, Form(max_length=20)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    web, user = half
    check_csrf(csrf_token, web.csrf_token)
    if user.totp_enabled:
        return see_other(f"/login/totp?next={safe_next(next)}")
    refused = False
    with runtime.transaction() as session:  # a wrong code is audited and counted: commit it
        row = session.get(User, user.id)
        assert row is not None
        try:
            accounts.confirm_totp(
                session, user=row, code=code, vault=_vault(runtime), remote_addr=remote(request)
            )
        except InvalidInput:
            refused = True
    if refused:
        secret = accounts.totp_secret(user, vault=_vault(runtime)) or ""
        qr = accounts.totp_qr(secret, user.username, f"Accord {runtime.node.name}")
        _ = tr(language_of(request, user))
        message = _("That code does not match. Check the clock of your phone and try again.")
        return _enrol(request, web, user, secret, qr, next, error=message)
    return _complete(request, runtime, session_token(request) or "", next)


@router.post("/logout")
def logout(
    request: Request,
    runtime: RuntimeDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    found = current_session(runtime, request)
    response = see_other("/login")
    if found is None:
        clear_cookie(response, request, SESSION_COOKIE)
        return response
    web, user = found
    check_csrf(csrf_token, web.csrf_token)
    with runtime.transaction() as session:
        accounts.end_session(session, session_token(request) or "")
        audit.record(
            session, actor=user.username, action="logout", outcome="ok", remote_addr=remote(request)
        )
    clear_cookie(response, request, SESSION_COOKIE)
    return response


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, next: str = "/") -> Response:
    """The header's EN / 中文 switch: remembered in a cookie, for this browser."""
    response = see_other(safe_next(next))
    if code in LANGUAGES:
        set_cookie(response, request, LANG_COOKIE, code, max_age=365 * 24 * 3600)
    return response
