"""What the accounts API takes and answers: officers, the changes to them that a second
administrator approves, and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from accord.core.permissions import Role


class UserOut(BaseModel):
    username: str
    display_name: str
    role: str
    unit: str
    active: bool
    second_factor: bool
    failed_logins: int
    """failed sign-ins in a row, of the password or the second factor"""
    locked_until: datetime | None
    """set while the account is locked after failed sign-ins"""
    last_login_at: datetime | None


class TokenOut(BaseModel):
    id: UUID
    name: str
    user: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    active: bool


class AccountIn(BaseModel):
    """A new account, asked for by an administrator (a second one approves it)."""

    username: str = Field(max_length=100)
    display_name: str = Field("", max_length=200)
    role: Role
    unit: str = Field(max_length=100)
    password: str = Field(max_length=1000, description="the first password")
    language: Literal["en", "zh"] = "en"


class RoleIn(BaseModel):
    role: Role


class UnitIn(BaseModel):
    unit: str = Field(max_length=100)


class AccountRequestOut(BaseModel):
    """A change to an account and where it stands: `pending` until a second administrator
    approves or rejects it or it expires; `alone` if taken at once on a node with one
    administrator."""

    id: UUID
    change: str
    username: str
    detail: dict[str, Any]
    status: str
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    decided_by: str | None
    decided_at: datetime | None
