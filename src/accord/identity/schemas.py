"""Request and response bodies of the identity API."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from accord.core.schemas import Schema

MAX_BATCH = 10_000


class PersonIn(BaseModel):
    """A person as screened or listed; every field but id and name may be left out."""

    id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=300)
    name_native: str | None = Field(default=None, max_length=300)
    birth_date: str | None = Field(default=None, description="YYYY, YYYY-MM or YYYY-MM-DD")
    sex: str | None = None
    nationality: str | None = Field(default=None, description="ISO 3166 alpha-2 or alpha-3")
    id_number: str | None = Field(default=None, description="Chinese resident identity card")
    passport_number: str | None = None


class ProblemOut(Schema):
    row: int
    record_id: str
    field: str
    message: str
    action: str


class CandidateOut(Schema):
    candidate_id: str
    score: float
    decision: str
    explanation: str


class MatchOut(BaseModel):
    query_id: str
    candidates: list[CandidateOut]
    problems: list[ProblemOut]
    watchlist_records: int


class WatchlistLoad(BaseModel):
    persons: list[PersonIn] = Field(min_length=1, max_length=MAX_BATCH)


class WatchlistLoaded(BaseModel):
    added: int
    updated: int
    problems: list[ProblemOut]
    watchlist_records: int


class ScreeningStart(BaseModel):
    persons: list[PersonIn] = Field(min_length=1, max_length=MAX_BATCH)


class ScreeningOut(Schema):
    id: UUID
    status: str
    total: int
    done: int
    matches: int
    created_at: datetime
    finished_at: datetime | None
    error: str | None
    results: list[dict[str, object]] = Field(
        default_factory=list, description="candidates, once the job is done"
    )
    problems: list[dict[str, object]] = Field(default_factory=list)
