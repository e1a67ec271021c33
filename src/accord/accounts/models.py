"""Officers, their web sessions and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base
from accord.core.types import JSONType, UTCDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(100), index=True)
    password_hash: Mapped[str] = mapped_column(String(200), doc="argon2id")
    totp_secret: Mapped[str | None] = mapped_column(
        String(200), doc="sealed with the node's accounts key (accounts/vault.py)"
    )
    totp_last_step: Mapped[int | None] = mapped_column(
        Integer, doc="the last TOTP time step accepted: a code of it or an earlier one is refused"
    )
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(8), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), doc="when the officer last chose their own password (My account)"
    )


class ApiToken(Base):
    """A bearer token: only its SHA-256 is stored. Without a user it is the node's own token."""

    __tablename__ = "api_tokens"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    user_id: Mapped[UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    scopes: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    second_factor_done: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    remote_addr: Mapped[str | None] = mapped_column(String(100))


class AccountRequest(Base):
    """A change to an account that one administrator asked for and a second one must approve
    (the two-person rule, accounts/approvals.py): a new account, another unit, another role,
    an auditor disabled."""

    __tablename__ = "account_requests"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    change: Mapped[str] = mapped_column(String(16))
    username: Mapped[str] = mapped_column(String(100), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(
        JSONType, doc="what the change sets (role, unit, name, language) and what it replaces"
    )
    password_hash: Mapped[str | None] = mapped_column(
        String(200), doc="a new account's first password (argon2id); cleared once decided"
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
