"""Web forms acted on once: each action form and the New case form carry a hidden key made when
the form is rendered (templates/_once.html), so that a double submit or a browser's retry of the
same form is answered as the first time (the same redirect) and not acted on again."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from accord.accounts.service import Principal
from accord.api import audited
from accord.idempotency.service import Answer, KeyedRequest, keyed_request, officer_scope, once
from accord.runtime import Runtime
from accord.web.security import CSRF_FIELD

IDEMPOTENCY_FIELD = "idempotency_key"
"""The hidden field's name; templates/_once.html writes it."""


def keyed_form(form: FormData, request: Request, officer: Principal) -> KeyedRequest | None:
    """The keyed request a posted form makes: its key, and its fields without the CSRF token
    (which is the session's, not the request's). None for a form without a key (a page
    rendered before forms carried one): it is acted on as before."""
    sent = form.get(IDEMPOTENCY_FIELD)
    if not isinstance(sent, str) or not sent:
        return None
    fields = sorted(
        [name, value if isinstance(value, str) else str(value.filename)]
        for name, value in form.multi_items()
        if name not in (CSRF_FIELD, IDEMPOTENCY_FIELD)
    )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return keyed_request(
        sent, scope=officer_scope(officer), method=request.method, target=target, body=fields
    )


def act_once(
    session: Session,
    runtime: Runtime,
    request: Request,
    officer: Principal,
    keyed: KeyedRequest | None,
    perform: Callable[[], str],
) -> str:
    """Where to send the browser: what `perform` answers (it acts, in `session`'s transaction),
    or, for a form sent before, where it was sent then (the replay is audited)."""
    answered = once(
        session,
        request=keyed,
        lifetime=runtime.settings.idempotency_lifetime,
        perform=lambda: Answer(303, {"location": perform()}),
    )
    if answered.replayed and keyed is not None:
        audited(
            session,
            officer,
            "idempotency.replay",
            request,
            subject=keyed.target[:200],
            detail={"idempotency_key": keyed.key, "status": answered.answer.status},
        )
    return str(answered.answer.body["location"])
