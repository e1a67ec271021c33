"""Rendering pages: one Jinja2 environment per language, and the route class every web route
uses (errors become pages, not JSON; a missing session sends the browser to sign in; every
response carries the security headers)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment
from markupsafe import Markup
from pydantic import ValidationError

from accord.core.errors import AccordError, InvalidInput, validation_problems
from accord.core.i18n import translations
from accord.core.labels import Lang
from accord.core.permissions import Permission
from accord.core.templating import environment as template_environment
from accord.web.i18n import field_label
from accord.web.messages import explain_in_full, refusal
from accord.web.security import (
    CSRF_FIELD,
    SECURITY_HEADERS,
    LoginRequired,
    Officer,
    language_of,
    signed_in,
)

log = logging.getLogger(__name__)
CSP = "content-security-policy"

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


@cache
def environment(lang: Lang) -> Environment:
    env = template_environment(TEMPLATES, lang)
    env.globals.update(Permission=Permission, csrf_field=CSRF_FIELD)
    return env


def tr(lang: Lang) -> Callable[[str], str]:
    return translations(lang).gettext


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    officer: Officer | None = None,
    lang: Lang | None = None,
    status: int = 200,
) -> HTMLResponse:
    lang = lang or (officer.lang if officer else language_of(request))
    runtime = request.app.state.runtime
    page = (
        environment(lang)
        .get_template(template)
        .render(
            {
                "officer": officer,
                "node_name": runtime.node.name,
                "path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                "csrf": officer.csrf if officer else "",
                **context,
            }
        )
    )
    return HTMLResponse(page, status_code=status)


WEB_PATHS_EXCLUDED = ("/api/", "/federation/", "/taxii", "/static/", "/healthz", "/openapi")
"""Paths whose refusals stay JSON (or plain): the API, the wire, TAXII, files."""


def _officer_of(request: Request) -> Officer | None:
    """The signed-in officer, if any: an error page keeps their navigation and language."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return None
    try:
        return signed_in(runtime, request)
    except (LoginRequired, AccordError):
        return None


def error_page(request: Request, exc: AccordError) -> HTMLResponse:
    """A refusal as a page in the app's layout and the officer's language: what was wrong and
    what to do, without permission codes or command lines."""
    officer = _officer_of(request)
    lang = officer.lang if officer else language_of(request)
    if isinstance(exc, InvalidInput) and exc.problems:
        messages = [explain_in_full(p, lang) for p in exc.problems]
    else:
        messages = [refusal(exc, lang)]
    return render(
        request,
        "error.html",
        {"status": exc.http_status, "messages": messages},
        officer=officer,
        lang=lang,
        status=exc.http_status,
    )


def is_web_path(request: Request) -> bool:
    """Whether a refusal of this request is a page (a browser asked for a page of the UI)."""
    path = request.url.path
    if path.startswith(WEB_PATHS_EXCLUDED) or path in ("/docs", "/redoc"):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept or (request.method == "POST" and "json" not in accept)


def status_page(request: Request, status: int) -> HTMLResponse:
    """An unknown path (404), a wrong method (405) or a failure (500) of the UI, as a page."""
    officer = _officer_of(request)
    lang = officer.lang if officer else language_of(request)
    _ = tr(lang)
    if status == 404:
        message = _(
            "This page does not exist, or what it shows is not shared with your unit. Check "
            "the address, or find it from the dashboard."
        )
    elif status == 405:
        message = _("This address is not a page to open: go back to the page you came from.")
    elif status >= 500:
        message = _(
            "The node failed on this request (it is logged). Try again, and tell the "
            "administrator if it happens again."
        )
    else:
        message = _("This request could not be answered: go back and try again.")
    return render(
        request,
        "error.html",
        {"status": status, "messages": [message]},
        officer=officer,
        lang=lang,
        status=status,
    )


RETURN_TO = re.compile(r"^(/cases/[A-Za-z0-9-]+|/dialogue/rounds/[A-Za-z0-9-]+)(/act)?$")
KEPT_OUT = ("csrf_token", "idempotency_key", "action", "password", "current_password")


def return_path(request: Request) -> str:
    """Where to come back to after signing in: the page a form was on (its case), else the
    page asked for."""
    path = request.url.path
    if request.method == "GET":
        return path + (f"?{request.url.query}" if request.url.query else "")
    found = RETURN_TO.match(path)
    if found:
        return found.group(1)
    if path == "/cases/new":
        return path + (f"?{request.url.query}" if request.url.query else "")
    return "/"


def session_ended(request: Request, form: Mapping[str, Any], target: str) -> HTMLResponse:
    """A form sent after the session ended: what the officer typed, to copy, and the way back
    to the page after signing in again (never a silent loss of the text)."""
    gettext = tr(language_of(request))
    typed = [
        (gettext(field_label(str(name).rsplit(".", 1)[-1])), str(value))
        for name, value in getattr(form, "multi_items", lambda: list(form.items()))()
        if isinstance(value, str)
        and value.strip()
        and not str(name).endswith(KEPT_OUT)
        and not str(name).endswith(("._confirm", ".count", "._remove"))
    ]
    return render(
        request,
        "auth/session_ended.html",
        {"typed": typed, "target": target},
        lang=language_of(request),
        status=401,
    )


def see_other(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


class WebRoute(APIRoute):
    """Errors as pages in the officer's language, redirects to sign-in, security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            response: Response
            try:
                response = await handler(request)
            except LoginRequired:
                back = return_path(request)
                target = "/login?next=" + quote(back, safe="/")
                if request.headers.get("hx-request"):
                    response = Response(status_code=204, headers={"HX-Redirect": target})
                elif request.method == "POST":  # what was typed is shown, not lost
                    response = session_ended(request, await request.form(), target)
                else:
                    response = see_other(target)
            except AccordError as exc:
                response = error_page(request, exc)
            except RequestValidationError as exc:
                problems = validation_problems(exc.errors(), skip=1)  # fields by their names
                response = error_page(
                    request, InvalidInput(f"invalid request: {problems.text}", problems=problems)
                )
            except ValidationError as exc:  # a model a service built from what was typed
                problems = validation_problems(exc)
                response = error_page(
                    request, InvalidInput(f"invalid input: {problems.text}", problems=problems)
                )
            except Exception:  # a page in the layout, never a bare 500
                log.exception("web request failed: %s %s", request.method, request.url.path)
                response = status_page(request, 500)
            own = "content-security-policy" in response.headers  # a page's own, narrower
            response.headers.update(
                {k: v for k, v in SECURITY_HEADERS.items() if not (own and k.lower() == CSP)}
            )
            return response

        return guarded


def svg(markup: str) -> Markup:
    """SVG we drew ourselves (workflow diagrams, QR codes), every text in it escaped."""
    return Markup(markup)
