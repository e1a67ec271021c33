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
    name: str = Field(
        min_length=1, max_length=300, description="may carry aliases: `LI Xiaoming (a.k.a. …)`"
    )
    name_native: str | None = Field(default=None, max_length=300)
    aliases: list[str] = Field(default_factory=list, max_length=50, description="other names")
    weak_aliases: list[str] = Field(
        default_factory=list, max_length=50, description="nicknames, single names: weigh less"
    )
    birth_date: str | None = Field(
        default=None,
        max_length=40,
        description="1970-05-12, 1970-05, 1970, 12 May 1970, circa 1970, 1968 to 1970",
    )
    sex: str | None = None
    nationality: str | list[str] | None = Field(
        default=None, description="ISO 3166 alpha-2 or alpha-3, or the country's name; or several"
    )
    id_number: str | list[str] | None = Field(
        default=None, description="PRC resident identity card, Hong Kong, Macau or Taiwan card"
    )
    passport_number: str | list[str] | None = Field(
        default=None, description="the number, optionally with its issuer: E12345678 (China)"
    )
    birth_place: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, max_length=500)


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


class ProposalOut(BaseModel):
    """What screening proposes for one person of a case, and whether an officer confirmed it."""

    person_id: str
    name: str
    outcome: str = Field(description="verified, not_verified or no_candidate")
    candidate_id: str | None = Field(description="the best candidate among this node's records")
    score: float | None
    candidates: int = Field(description="candidates worth a look (the best is shown)")
    explanation: str
    problems: list[str]
    person_status: str | None = Field(
        default=None, description="where the person stands in the case now (removal)"
    )
    confirmed_by: str | None
    confirmed_at: str | None
    action: str | None = Field(description="the case action taken on confirming")


class CaseScreeningOut(BaseModel):
    reference: str
    status: str = Field(description="done, or failed (screen again)")
    screened_by: str
    screened_at: datetime | None
    error: str | None
    proposals: list[ProposalOut]


class ConfirmIn(BaseModel):
    note: str = Field(default="", max_length=1000, description="added to the case action")


class ConfirmOut(BaseModel):
    reference: str
    proposal: ProposalOut
    status: str = Field(description="applied (we sequence the case) or pending (submitted)")
