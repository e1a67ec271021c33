"""Base schema and the page wrapper shared by every list endpoint."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")

MAX_OFFSET = 2**31 - 1
"""The largest offset a list endpoint accepts: beyond any table here, and far below the 64-bit
integer that a larger number would overflow in the database (a 500, found by schemathesis)."""


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(Schema, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int
