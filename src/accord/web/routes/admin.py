"""Peers (who this node cooperates with), users (administrators) and the audit log (auditors),
and the officer's own account page."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from accord.accounts import approvals
from accord.accounts import service as accounts
from accord.accounts.models import AccountRequest
from accord.accounts.passwords import MIN_PASSWORD, PasswordFault, WeakPassword
from accord.api import RuntimeDep, remote
from accord.audit import service as audit
from accord.core.clock import utcnow
from accord.core.errors import AccordError, Forbidden
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
    notice: str = "",
    posted: FormData | None = None,
    status: int = 200,
) -> Response:
    with runtime.transaction() as session:  # expiring the requests that are due writes
        users = accounts.list_users(session)
        requests = approvals.list_requests(session)
        in_force = approvals.rule_in_force(session)
    now = utcnow()
    return render(
        request,
        "admin/users.html",
        {
            "users": users,
            "roles": [Option(r.value, label(r, me.lang)) for r in Role],
            "role_label": lambda value: label(Role(value), me.lang),
            "error": error,
            "notice": notice,
            "posted": {k: str(v) for k, v in (posted or {}).items() if k != "password"},
            "unit_default": runtime.settings.intake_unit,
            "locked": lambda user: accounts.is_locked(user, now),
            "pending": [r for r in requests if r.status == approvals.Status.PENDING.value],
            "decided": [r for r in requests if r.status != approvals.Status.PENDING.value][:20],
            "in_force": in_force,
            "decide": True,
            **_request_labels(me),
        },
        officer=me,
        status=status,
    )


def _request_labels(me: OfficerDep) -> dict[str, object]:
    """What the users and audit pages need to show account requests in the officer's language."""

    def what(request: AccountRequest) -> str:
        detail = request.detail
        role = label(Role(detail["role"]), me.lang) if "role" in detail else ""
        if request.change == approvals.Change.CREATE.value:
            return f"{role}, {detail['unit']}"
        if request.change == approvals.Change.UNIT.value:
            return f"{detail['from']} → {detail['unit']}"
        if request.change == approvals.Change.ROLE.value:
            return f"{label(Role(detail['from']), me.lang)} → {role}"
        return role

    return {
        "change_label": lambda value: label(approvals.Change(value), me.lang),
        "status_label": lambda value: label(approvals.Status(value), me.lang),
        "what": what,
    }


@router.get("/users")
def users(request: Request, runtime: RuntimeDep, me: OfficerDep) -> Response:
    me.principal.require(Permission.USER_ADMIN)
    return _users_page(request, runtime, me)


def _asked_notice(me: OfficerDep, asked: AccountRequest) -> str:
    _ = tr(me.lang)
    if asked.status == approvals.Status.PENDING.value:
        return _("Requested: the change takes effect when another administrator approves it.")
    return _("Done at once: this node has one administrator, so there is nobody to approve it.")


@router.post("/users")
def add_user(request: Request, runtime: RuntimeDep, me: OfficerDep, form: PostedDep) -> Response:
    """Ask for a new officer's account (a second administrator approves it, once the node has
    two); they enrol their second factor at their first sign-in."""
    check_csrf(form.get(CSRF_FIELD), me.csrf)
    me.principal.require(Permission.USER_ADMIN)
    _ = tr(me.lang)
    try:
        role = Role(str(form.get("role", "")))
    except ValueError:
        return _users_page(request, runtime, me, error=_("Choose a role."), posted=form, status=422)
    try:
        with runtime.transaction() as session:
            asked = approvals.request_account(
                session,
                by=me.principal,
                username=str(form.get("username", "")).strip(),
                display_name=str(form.get("display_name", "")).strip(),
                role=role,
                unit=str(form.get("unit", "")).strip() or runtime.settings.intake_unit,
                password=str(form.get("password", "")),
                language=str(form.get("language", "en")),
                lifetime=runtime.settings.account_request_lifetime,
                remote_addr=remote(request),
            )
    except WeakPassword as exc:
        message = password_refusal(me.lang, exc)
        return _users_page(request, runtime, me, error=message, posted=form, status=422)
    except AccordError as exc:
        return _users_page(
            request, runtime, me, error=exc.message, posted=form, status=exc.http_status
        )
    return _users_page(request, runtime, me, notice=_asked_notice(me, asked))


@router.post("/users/{username}/change")
def change_user(
    username: str, request: Request, runtime: RuntimeDep, me: OfficerDep, form: PostedDep
) -> Response:
    """Ask to give an officer another role or move them to another unit (or both: two
    requests); a second administrator approves each."""
    check_csrf(form.get(CSRF_FIELD), me.csrf)
    me.principal.require(Permission.USER_ADMIN)
    _ = tr(me.lang)
    role_value = str(form.get("role", "")).strip()
    unit = str(form.get("unit", "")).strip()
    lifetime = runtime.settings.account_request_lifetime
    asked: list[AccountRequest] = []
    try:
        role = Role(role_value) if role_value else None
        with runtime.transaction() as session:
            user = accounts.get_user(session, username)
            if role is not None and role.value != user.role:
                asked.append(
                    approvals.request_role(
                        session,
                        by=me.principal,
                        username=username,
                        role=role,
                        lifetime=lifetime,
                        remote_addr=remote(request),
                    )
                )
            if unit and unit != user.unit:
                asked.append(
                    approvals.request_unit(
                        session,
                        by=me.principal,
                        username=username,
                        unit=unit,
                        lifetime=lifetime,
                        remote_addr=remote(request),
                    )
                )
    except ValueError:
        return _users_page(request, runtime, me, error=_("Choose a role."), status=422)
    except AccordError as exc:
        return _users_page(request, runtime, me, error=exc.message, status=exc.http_status)
    if not asked:
        return _users_page(
            request, runtime, me, error=_("Nothing to change: choose another role or unit.")
        )
    return _users_page(request, runtime, me, notice=_asked_notice(me, asked[-1]))


def password_refusal(lang: Lang, refusal: WeakPassword) -> str:
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
    """Disable an officer (their sessions end, their tokens are revoked) or enable them again.
    Disabling an auditor is a request a second administrator approves."""
    check_csrf(form.get(CSRF_FIELD), me.csrf)
    me.principal.require(Permission.USER_ADMIN)
    active = str(form.get("active", "")) == "true"
    if not active and form.get("confirm") != "true":  # one mis-click disables no one
        error = tr(me.lang)("Tick the box beside Disable to confirm: one click disables no one.")
        return _users_page(request, runtime, me, error=error, status=422)
    with runtime.transaction() as session:
        asked = approvals.set_active(
            session,
            by=me.principal,
            username=username,
            active=active,
            lifetime=runtime.settings.account_request_lifetime,
            remote_addr=remote(request),
        )
    if asked is not None:
        return _users_page(request, runtime, me, notice=_asked_notice(me, asked))
    return see_other("/users")


@router.post("/users/requests/{request_id}/approve")
def approve_request(
    request_id: UUID, request: Request, runtime: RuntimeDep, me: OfficerDep, form: PostedDep
) -> Response:
    """Approve another administrator's request: the change takes effect now."""
    return _decide(request, runtime, me, form, request_id, approve=True)


@router.post("/users/requests/{request_id}/reject")
def reject_request(
    request_id: UUID, request: Request, runtime: RuntimeDep, me: OfficerDep, form: PostedDep
) -> Response:
    """Reject a request, or withdraw one's own: nothing changes."""
    return _decide(request, runtime, me, form, request_id, approve=False)


def _decide(
    request: Request,
    runtime: RuntimeDep,
    me: OfficerDep,
    form: FormData,
    request_id: UUID,
    *,
    approve: bool,
) -> Response:
    check_csrf(form.get(CSRF_FIELD), me.csrf)
    me.principal.require(Permission.USER_ADMIN)
    _ = tr(me.lang)
    decide = approvals.approve if approve else approvals.reject
    refusal: AccordError | None = None
    with runtime.transaction() as session:  # a refusal's audit entry is kept
        try:
            decide(session, request_id=request_id, by=me.principal, remote_addr=remote(request))
        except AccordError as exc:
            refusal = exc
    if isinstance(refusal, Forbidden):
        message = _("You asked for this change: another administrator must approve it.")
        return _users_page(request, runtime, me, error=message, status=403)
    if refusal is not None:
        return _users_page(request, runtime, me, error=refusal.message, status=refusal.http_status)
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
    """The audit log, newest first, whether its hash chain is intact, and the changes to
    accounts that needed a second administrator (pending and decided)."""
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
        requests = approvals.list_requests(session)
    return render(
        request,
        "admin/audit.html",
        {
            "entries": entries,
            "total": total,
            "problems": problems,
            "filters": {"actor": actor, "action": action},
            "older": entries[-1].id if len(entries) == AUDIT_PAGE else None,
            "pending": [r for r in requests if r.status == approvals.Status.PENDING.value],
            "decided": [r for r in requests if r.status != approvals.Status.PENDING.value][:50],
            "decide": False,
            **_request_labels(me),
        },
        officer=me,
    )
