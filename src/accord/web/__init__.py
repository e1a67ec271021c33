"""The web UI: server-rendered pages (Jinja2 + HTMX), English and Chinese, for officers."""

from __future__ import annotations

from fastapi import APIRouter

from accord.web.pages import STATIC
from accord.web.routes import account, admin, auth, cases, dialogue

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
router.include_router(cases.router)
router.include_router(admin.router)
router.include_router(account.router)
router.include_router(dialogue.router)

__all__ = ["STATIC", "router"]
