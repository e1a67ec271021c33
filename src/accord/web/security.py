"""Web sessions in cookies, CSRF tokens on every form, and the security headers of every page.

The session cookie `accord_session` is HttpOnly, SameSite=Strict, and Secure when the request
came over TLS. Every POST form carries the session's CSRF token in a hidden field; the sign-in
form, which comes before any session, uses a double-submit cookie instead.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from accord.accounts.models import User, WebSession
from accord.accounts.service import Principal, principal_of, resolve_session
from accord.core.errors import Forbidden
from accord.core.labels import Lang
from accord.core.limits import ASGIApp, Message, Receive, Scope, Send
from accord.runtime import Runtime
from accord.web.i18n import LANG_COOKIE, pick_language

SESSION_COOKIE = "accord_session"
PRELOGIN_COOKIE = "accord_prelogin"
CSRF_FIELD = "csrf_token"

SECURITY_HEADERS = {
    # No inline script anywhere: htmx is a file of our own origin.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# The OpenAPI pages (/docs, /redoc) are FastAPI's, with inline script (their scripts and styles
# are the node's own, from fastapi-offline): they still may not be framed, but the rest of the
# policy would leave them blank.
DOCS_CSP = "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")


def csp_with_own_styles(html: str) -> str:
    """The page policy, letting the page's own <style> blocks through by their SHA-256 (the
    briefing pack carries its stylesheet inside, to be read offline and printed as a PDF)."""
    blocks = re.findall(r"<style>(.*?)</style>", html, flags=re.DOTALL)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode("utf-8")).digest()).decode() + "'"
        for b in blocks
    )
    return SECURITY_HEADERS["Content-Security-Policy"] + f"; style-src 'self' {hashes}".rstrip()


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    """The headers of a response to `path`; static files may be cached, nothing else."""
    headers = dict(SECURITY_HEADERS)
    if path in DOCS_PATHS:
        headers["Content-Security-Policy"] = DOCS_CSP
    if path.startswith("/static/"):
        del headers["Cache-Control"]
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]


class SecurityHeaders:
    """The security headers on every response (API, TAXII, federation, static files, 404s and
    refusals of the size and rate limits); a header the route set itself is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(str(scope.get("path", "")))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LoginRequired(Exception):
    """No signed-in officer: the page sends the browser to the sign-in form."""


@dataclass(frozen=True)
class Officer:
    """The officer behind one request, signed in with both factors."""

    user: User
    web: WebSession
    principal: Principal
    lang: Lang

    @property
    def csrf(self) -> str:
        return self.web.csrf_token


def over_tls(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        secure=over_tls(request),
        samesite="strict",
        path="/",
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, secure=over_tls(request), samesite="strict"
    )


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def current_session(runtime: Runtime, request: Request) -> tuple[WebSession, User] | None:
    """The web session named by the cookie, whichever factors it has passed."""
    token = session_token(request)
    if token is None:
        return None
    with runtime.reading() as session:
        return resolve_session(session, token)


def language_of(request: Request, user: User | None = None) -> Lang:
    return pick_language(request.cookies.get(LANG_COOKIE), user.language if user else None)


def signed_in(runtime: Runtime, request: Request) -> Officer:
    """The officer, or LoginRequired when there is no session or its second factor is missing."""
    found = current_session(runtime, request)
    if found is None or not found[0].second_factor_done:
        raise LoginRequired
    web, user = found
    return Officer(
        user=user, web=web, principal=principal_of(user), lang=language_of(request, user)
    )


def check_csrf(posted: object, expected: str | None) -> None:
    """Refuse a form that does not carry the expected token (a forged cross-site request)."""
    if not isinstance(posted, str) or not expected or not secrets.compare_digest(posted, expected):
        raise Forbidden(
            "this form has expired or did not come from this site (CSRF token missing or "
            "wrong): go back, reload the page and send it again"
        )


def new_prelogin_token() -> str:
    return secrets.token_urlsafe(24)


def safe_next(target: str | None) -> str:
    """Only a path on this site is a valid place to go back to after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
