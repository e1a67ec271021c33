"""What the accounts API answers: officers (for administrators) and API tokens."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel


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
