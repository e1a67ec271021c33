"""API shapes of the dialogue: mechanisms, rounds, their agenda and agreed outcomes."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class MechanismIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    en: str = Field(min_length=1, max_length=200)
    zh: str = Field(min_length=1, max_length=200)


class MechanismOut(BaseModel):
    code: str
    en: str
    zh: str
    active: bool


class RoundIn(BaseModel):
    """A new round, hosted by this node (which therefore sequences its joint record)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    peer: str = Field(min_length=1, max_length=100, description="the guest side's node")
    mechanism: str = Field(min_length=1, max_length=64)
    number: int = Field(ge=1, le=1000)
    starts_on: date
    ends_on: date | None = None
    venue: str = Field(min_length=1, max_length=300)
    host_cochair: str = Field(min_length=1, max_length=300)
    guest_cochair: str = Field(min_length=1, max_length=300)


class RoundActionIn(BaseModel):
    """One step on a round: add_agenda_item, hold, record_outcome, update_outcome, conclude,
    cancel or note, with the payload its declaration asks for."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)


class OutcomeOut(BaseModel):
    outcome_id: str
    number: int
    text_en: str
    text_zh: str
    area: str
    owner: str
    """the owning node's name"""
    due: date
    status: str
    overdue: bool
    cases: list[str]
    history: list[dict[str, str]]


class AgendaItemOut(BaseModel):
    item_id: str
    title_en: str
    title_zh: str
    area: str | None
    cases: list[str]


class RoundOut(BaseModel):
    reference: str
    mechanism: str
    mechanism_en: str
    mechanism_zh: str
    number: int
    starts_on: date
    ends_on: date | None
    venue: str
    host: str
    guest: str
    host_cochair: str
    guest_cochair: str
    state: str
    held_on: date | None
    summary_en: str
    summary_zh: str
    agenda: list[AgendaItemOut]
    outcomes: list[OutcomeOut]
    head_hash: str
    event_count: int
