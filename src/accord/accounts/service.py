"""API tokens: issue (shown once) and check."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.accounts.models import ApiToken
from accord.core.clock import new_id, utcnow
from accord.core.errors import Unauthenticated

PREFIX = "acc_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, *, name: str) -> str:
    """Create a token; only its hash is stored, so the caller must hand it on now."""
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            id=new_id(), name=name, token_hash=_digest(token), created_at=utcnow(), active=True
        )
    )
    session.flush()
    return token


def check_token(session: Session, *, token: str) -> ApiToken:
    found = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.active.is_(True))
    )
    if found is None:
        raise Unauthenticated("unknown or revoked API token; issue one with `accord token new`")
    return found
