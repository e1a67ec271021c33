"""Peers (who this node cooperates with), users (administrators) and the audit log (auditors),
and the officer's own account page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from accord.accounts import service as accounts
from accord.accounts.passwords import MIN_PASSWORD, PasswordFault, WeakPassword
from accord.api import RuntimeDep, audited, remote
from accord.audit import service as audit
from accord.core.clock import utcnow
from accord.core.errors import AccordError
from accord.core.labels import Lang, label
from accord.core.permissions import Permission, Role
from accord.federation.peers import list_peers
from accord.web.forms import Option
from accord.web.pages import WebRoute, render, see_other, tr
from accord.web.routes.cases import OfficerDep, posted_form
from accord.web.security import CSRF_FIELD, check_csrf

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PostedDep = Annotated[FormData, Depends(posted_form)]
AUDIT_PAGE = 100


@router.get("/account")
def account(request: Request, me: OfficerDep) -> Response:
    """Who is signed in, with which role and unit: the landing page of a role with no pages."""
    return render(
        request,
        "admin/account.html",
        {"role": label(me.principal.role, me.lang), "user": me.user},
        officer=me,
    )


@router.get("/peers")
def peers(request: Request, runtime: RuntimeDep, me: OfficerDep) -> Response:
    me.principal.require(Permission.PEER_READ)
    with runtime.reading() as session:
        rows = list_peers(session)
    return render(
        request,
        "admin/peers.html",
        {"peers": rows, "card": runtime.node.card()},
        officer=me,
    )


def _users_page(
    request: Request,
    runtime: RuntimeDep,
    me: OfficerDep,
    *,
    error: str = "",
    posted: FormData | None = None,
    status: int = 200,
) -> Response:
    with runtime.reading() as session:
        users = accounts.list_users(session)
    now = utcnow()
    return render(
        request,
        "admin/users.html",
        {
            "users": users,
            "roles": [Option(r.value, label(r, me.lang)) for r in Role],
            "role_label": lambda value: label(Role(value), me.lang),
            "error": error,
            "posted": {k: str(v) for k, v in (posted or {}).items() if k != "password"},
            "unit_default": runtime.settings.intake_unit,
            "locked": lambda user: accounts.is_locked(user, now),
        },
        officer=me,
        status=status,
    )


@router.get("/users")
def users(request: Request, runtime: RuntimeDep, me: OfficerDep) -> Response:
    me.principal.require(Permission.USER_ADMIN)
    return _users_page(request, runtime, me)


@router.post("/users")
def add_user(request: Request, runtime: RuntimeDep, me: OfficerDep, form: PostedDep) -> Response:
    """Add an officer; they enrol their second factor at their first sign-in."""
    check_csrf(form.get(CSRF_FIELD), me.csrf)
    me.principal.require(Permission.USER_ADMIN)
    _ = tr(me.lang)
    try:
        role = Role(str(form.get("role", "")))
    except ValueError:
        return _users_page(request, runtime, me, error=_("Choose a role."), posted=form, status=422)
    try:
        with runtime.transaction() as session:
            user = accounts.create_user(
                session,
                username=str(form.get("username", "")).strip(),
                display_name=str(form.get("display_name", "")).strip(),
                role=role,
                unit=str(form.get("unit", "")).strip() or runtime.settings.intake_unit,
                password=str(form.get("password", "")),
                language=str(form.get("language", "en")),
            )
            audited(
                session,
                me.principal,
                "user.created",
                request,
                subject=user.username,
                detail={"role": role.value, "unit": user.unit},
            )
    except WeakPassword as exc:
        message = _password_refusal(me.lang, exc)
        return _users_page(request, runtime, me, error=message, posted=form, status=422)
    except AccordError as exc:
        return _users_page(
            request, runtime, me, error=exc.message, posted=form, status=exc.http_status
        )
    return see_other("/users")


def _password_refusal(lang: Lang, refusal: WeakPassword) -> str:
    """What was wrong with the first password, in the administrator's language."""
    _ = tr(lang)
    if refusal.fault is PasswordFault.TOO_SHORT:
        return _("The password is too short: it needs at least %(count)s characters.") % {
            "count": MIN_PASSWORD
        }
    if refusal.fault is PasswordFault.FROM_USERNAME:
        return _(
            "The password is derived from the username (it contains it, reversed or with "
            "digits for letters). Choose one that has nothing to do with it."
        )
    if refusal.fault is PasswordFault.COMMON:
        return _(
            "The password is one of the most common passwords, found in lists of breached "
            "passwords. Choose another, for example four or five unrelated words."
        )
    return _(
        "The password would be guessed quickly. Choose a longer one, for example four or five "
        "unrelated words."
    )


@router.post("/users/{username}/active")
def set_active(
    username: str, request: Request, runtime: RuntimeDep, me: OfficerDep, form: PostedDep
) -> Response:
    """Disable an officer (their sessions end, their tokens are revoked) or enable them again."""
    check_csrf(form.get(CSRF_FIELD), me.csrf)
    me.principal.require(Permission.USER_ADMIN)
    active = str(form.get("active", "")) == "true"
    with runtime.transaction() as session:
        accounts.set_active(session, username=username, active=active, by=me.principal.username)
    return see_other("/users")


@router.post("/users/{username}/unlock")
def unlock(
    username: str, request: Request, runtime: RuntimeDep, me: OfficerDep, form: PostedDep
) -> Response:
    """Lift an account's lock (after failed sign-ins) before it runs out."""
    check_csrf(form.get(CSRF_FIELD), me.csrf)
    me.principal.require(Permission.USER_ADMIN)
    with runtime.transaction() as session:
        accounts.unlock(session, username=username, by=me.principal.username)
    return see_other("/users")


@router.get("/audit")
def audit_log(
    request: Request,
    runtime: RuntimeDep,
    me: OfficerDep,
    actor: str = "",
    action: str = "",
    before: int | None = None,
) -> Response:
    """The audit log, newest first, and whether its hash chain is intact."""
    me.principal.require(Permission.AUDIT_READ)
    with runtime.transaction() as session:
        total = audit.count_entries(session)  # as they were before this read was recorded
        problems = audit.verify(session)
        entries = audit.read_log(
            session,
            reader=me.principal.username,
            remote_addr=remote(request),
            actor=actor,
            action=action,
            before=before,
            limit=AUDIT_PAGE,
        )
    return render(
        request,
        "admin/audit.html",
        {
            "entries": entries,
            "total": total,
            "problems": problems,
            "filters": {"actor": actor, "action": action},
            "older": entries[-1].id if len(entries) == AUDIT_PAGE else None,
        },
        officer=me,
    )
