"""My account: who is signed in, their password (under the password policy) and their language."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from accord.accounts import service as accounts
from accord.accounts.passwords import WeakPassword
from accord.api import RuntimeDep, remote
from accord.core.errors import AccordError, Unauthenticated
from accord.core.labels import label
from accord.web.i18n import LANG_COOKIE
from accord.web.pages import WebRoute, render, see_other, tr
from accord.web.routes.admin import password_refusal
from accord.web.routes.cases import OfficerDep, PostedDep
from accord.web.security import CSRF_FIELD, Officer, check_csrf, set_cookie

router = APIRouter(route_class=WebRoute, include_in_schema=False)
YEAR = 365 * 24 * 3600


def _account_page(
    request: Request,
    me: Officer,
    *,
    errors: dict[str, str] | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin/account.html",
        {
            "role": label(me.principal.role, me.lang),
            "user": me.user,
            "errors": errors or {},
            "done": done,
        },
        officer=me,
        status=status,
    )


@router.get("/account")
def account(request: Request, me: OfficerDep, done: str = "") -> Response:
    """Who is signed in, with which role and unit: the landing page of a role with no pages."""
    _ = tr(me.lang)
    shown = {
        "password": _("Your password is changed. Your other sessions have ended."),
        "language": _("Your language is saved."),
    }.get(done, "")
    return _account_page(request, me, done=shown)


@router.post("/account/password")
def change_password(
    request: Request, runtime: RuntimeDep, me: OfficerDep, form: PostedDep
) -> Response:
    """The officer's own new password: the current one, then the new one twice."""
    check_csrf(form.get(CSRF_FIELD), me.csrf)
    _ = tr(me.lang)
    new, again = str(form.get("new_password", "")), str(form.get("new_password_again", ""))
    if new != again:
        errors = {"new_password_again": _("The two new passwords differ: type the same twice.")}
        return _account_page(request, me, errors=errors, status=422)
    refused: AccordError | None = None
    with runtime.transaction() as session:  # a refusal is audited and counted: commit it
        user = accounts.get_user(session, me.user.username)
        try:
            accounts.change_password(
                session,
                user=user,
                current=str(form.get("current_password", "")),
                new=new,
                keep=me.web.id,
                remote_addr=remote(request),
            )
        except AccordError as exc:
            refused = exc
    if refused is not None:
        return _account_page(request, me, errors=_password_errors(me, refused), status=422)
    return see_other("/account?done=password")


def _password_errors(me: Officer, refused: AccordError) -> dict[str, str]:
    _ = tr(me.lang)
    if isinstance(refused, WeakPassword):
        return {"new_password": password_refusal(me.lang, refused)}
    if isinstance(refused, Unauthenticated) and "current password" in refused.message:
        return {"current_password": _("This is not your current password: type it again.")}
    return {"current_password": _("Too many wrong passwords: your account is locked for now.")}


@router.post("/account/language")
def set_language(
    request: Request, runtime: RuntimeDep, me: OfficerDep, form: PostedDep
) -> Response:
    """The officer's language, kept with their account (and the header switch set to it)."""
    check_csrf(form.get(CSRF_FIELD), me.csrf)
    language = str(form.get("language", ""))
    with runtime.transaction() as session:
        accounts.set_language(
            session, user=accounts.get_user(session, me.user.username), language=language
        )
    response = see_other("/account?done=language")
    set_cookie(response, request, LANG_COOKIE, language, YEAR)
    return response
