"""Rendering pages: one Jinja2 environment per language, and the route class every web route
uses (errors become pages, not JSON; a missing session sends the browser to sign in; every
response carries the security headers)."""

from __future__ import annotations

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

from accord.core.errors import AccordError, InvalidInput, validation_problems
from accord.core.i18n import translations
from accord.core.labels import Lang
from accord.core.permissions import Permission
from accord.core.templating import environment as template_environment
from accord.web.security import (
    CSRF_FIELD,
    SECURITY_HEADERS,
    LoginRequired,
    Officer,
    language_of,
)

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


def error_page(request: Request, exc: AccordError) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"status": exc.http_status, "message": exc.message},
        status=exc.http_status,
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
                target = "/login?next=" + quote(
                    request.url.path if request.method == "GET" else "/", safe="/"
                )
                if request.headers.get("hx-request"):
                    response = Response(status_code=204, headers={"HX-Redirect": target})
                else:
                    response = see_other(target)
            except AccordError as exc:
                response = error_page(request, exc)
            except RequestValidationError as exc:
                problems = validation_problems(exc.errors(), skip=1)  # fields by their names
                response = error_page(
                    request, InvalidInput(f"invalid request: {problems.text}", problems=problems)
                )
            response.headers.update(SECURITY_HEADERS)
            return response

        return guarded


def svg(markup: str) -> Markup:
    """SVG we drew ourselves (workflow diagrams, QR codes), every text in it escaped."""
    return Markup(markup)
