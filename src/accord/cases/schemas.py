"""Case shapes: the opening header carried by event 1, wire events, and the API's views."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from accord.cases.enums import Area, HandlingCode, Priority, Side
from accord.core.schemas import Schema
from accord.federation.schemas import NAME_PATTERN

REFERENCE_PATTERN = r"^[A-Z]{2,8}-[A-Z0-9]{2,12}-\d{4}-\d{6}$"
"""<type prefix>-<the sequencer's namespace>-<year>-<number>"""


class CaseHeader(BaseModel):
    """The payload of a case's opening event: everything both sides must agree the case is."""

    model_config = ConfigDict(extra="forbid")

    case_type: str = Field(max_length=32)
    reference: str = Field(pattern=REFERENCE_PATTERN)
    area: Area
    priority: Priority
    handling_code: HandlingCode
    title: str = Field(min_length=1, max_length=500)
    requesting_node: str = Field(pattern=NAME_PATTERN)
    requested_node: str = Field(pattern=NAME_PATTERN)
    sequencer: str = Field(pattern=NAME_PATTERN)
    details: dict[str, Any]
    deadline_seconds: dict[str, int] = Field(
        default_factory=dict,
        description="each deadline's duration for this case, fixed at opening from the "
        "declaration and the peer agreement, so that both sides compute the same due dates",
    )


class WirePart(BaseModel):
    """An erasable part of an event's payload, as it travels inside the encrypted envelope:
    its place, its commitment, and its salt (None once erased)."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(max_length=500, pattern=r"^(/[^/]*)+$")
    commitment: str = Field(pattern=r"^[0-9a-f]{64}$")
    salt: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class WireEvent(BaseModel):
    """One case-log event exactly as hashed and replicated."""

    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=1)
    action: str = Field(max_length=64)
    side: Side
    actor_node: str = Field(pattern=NAME_PATTERN)
    actor_officer: str = Field(max_length=200)
    payload: dict[str, Any]
    occurred_at: str = Field(max_length=40)
    submission_id: str | None = Field(default=None, max_length=36)
    prev_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    acted_at: str | None = Field(default=None, max_length=40)
    """When the actor took the act (for the other side's acts, when it submitted them)."""
    signature: str | None = Field(default=None, max_length=100)
    """The actor node's signature of the act (`cases/acts.py`); None only in logs written
    before acts were signed."""
    parts: list[WirePart] = Field(default_factory=list, max_length=10000)
    """The erasable parts of the payload (format 0.3): hash and signature cover the payload
    with each part replaced by its commitment. Empty in events of earlier formats."""


class EventMessage(BaseModel):
    """`case.event`: the sequencer replicates one appended event."""

    model_config = ConfigDict(extra="forbid")

    reference: str = Field(max_length=64)
    sequencer: str = Field(pattern=NAME_PATTERN)
    event: WireEvent


class SubmitMessage(BaseModel):
    """`case.submit`: the other side asks the sequencer to append an action."""

    model_config = ConfigDict(extra="forbid")

    reference: str = Field(max_length=64)
    submission_id: UUID
    action: str = Field(max_length=64)
    payload: dict[str, Any]
    actor_officer: str = Field(max_length=200)
    submitted_at: str = Field(max_length=40)
    signature: str = Field(max_length=100, description="the submitting node's signature of the act")
    parts: list[WirePart] = Field(default_factory=list, max_length=10000)


class RejectedMessage(BaseModel):
    """`case.rejected`: the sequencer refused a submitted action, with its reason."""

    model_config = ConfigDict(extra="forbid")

    reference: str = Field(max_length=64)
    submission_id: UUID
    reason: str = Field(max_length=5000)


class HeadQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str = Field(max_length=64)


# -- API --------------------------------------------------------------------------------------


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_type: str = Field(examples=["mla"])
    peer: str = Field(description="the requested node", pattern=NAME_PATTERN)
    area: Area
    priority: Priority = Priority.ROUTINE
    handling_code: HandlingCode = HandlingCode.H0
    title: str = Field(min_length=1, max_length=500)
    details: dict[str, Any] = Field(description="the case type's opening details")


class NoticeImport(BaseModel):
    """A file of INTERPOL's public notices API (a red or yellow notice, or a search page), to
    open a fugitive case per notice."""

    model_config = ConfigDict(extra="forbid")

    peer: str = Field(pattern=NAME_PATTERN, description="the node asked to locate the person")
    notice: dict[str, Any] | str = Field(
        description="the file's JSON text exactly as received (kept byte for byte, a byte-order "
        "mark allowed), or its JSON object (kept as re-serialised)"
    )
    priority: Priority = Priority.URGENT
    handling_code: HandlingCode = HandlingCode.H2


class NoticeResult(BaseModel):
    """What importing one notice did: opened a case, linked to the case that holds it, updated
    that case from a newer notice, or refused it (with the field at fault)."""

    position: str = Field(description="where the notice is in the file (a search page's entry)")
    notice_id: str
    kind: str = Field(description="red (wanted person) or yellow (missing person)")
    outcome: str = Field(description="opened, linked, updated or refused")
    explanation: str
    reference: str | None = None
    event_seq: int | None = Field(default=None, description="the update's event in the log")


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)


class EventOut(Schema):
    seq: int
    action: str
    side: str
    actor_node: str
    actor_officer: str
    payload: dict[str, Any]
    occurred_at: str
    submission_id: str | None
    prev_hash: str
    hash: str
    state_after: str
    acted_at: str | None = None
    signature: str | None = Field(
        default=None, description="the actor node's signature of the act (base64 Ed25519)"
    )


class DeadlineOut(BaseModel):
    name: str
    owner: Side
    started_at: datetime
    due_at: datetime
    overdue: bool


class PendingOut(Schema):
    id: UUID
    action: str
    status: str
    reason: str | None
    submitted_at: datetime
    event_seq: int | None


class AvailableAction(BaseModel):
    name: str
    en: str
    zh: str
    target: str | None
    payload_schema: dict[str, Any]


class CaseOut(Schema):
    reference: str
    case_type: str
    area: str
    priority: str
    handling_code: str
    title: str
    requesting_node: str
    requested_node: str
    sequencer: str
    peer: str
    side: Side
    state: str
    state_en: str
    state_zh: str
    shared: bool
    event_count: int
    head_hash: str
    opened_at: datetime
    updated_at: datetime
    deadlines: list[DeadlineOut]


class HistoryTarget(BaseModel):
    seq: int = Field(description="the event that held the data")
    path: str = Field(description="where in its payload (RFC 6901 pointer); never the value")


class HistoryEntry(BaseModel):
    """One erasure, correction or retraction of the case's personal data: where, when, by
    whom and under which rule, never the content."""

    seq: int
    action: str = Field(description="erase, correct or retract")
    occurred_at: str
    actor_node: str
    actor_officer: str
    rule: str
    reason: str
    targets: list[HistoryTarget]
    parts_erased: int = Field(description="personal parts this node erased for it")
    receipt_seq: int | None = Field(default=None, description="the other node's receipt")
    receipt_by: str | None = None
    receipt_at: str | None = None


class CaseDetail(CaseOut):
    details: dict[str, Any]
    available_actions: list[AvailableAction]
    pending: list[PendingOut]
    personal_data_history: list[HistoryEntry] = Field(default_factory=list)


class ActOutcome(BaseModel):
    reference: str
    status: str = Field(description="applied (by us, the sequencer) or pending (sent to it)")
    event: EventOut | None = None
    pending: PendingOut | None = None


class VerifyOut(BaseModel):
    reference: str
    identical: bool
    local_count: int
    local_head: str
    peer: str
    peer_count: int | None
    peer_head: str | None
    explanation: str


class NoticeImported(CaseDetail):
    """The case a notice file opened, links to or updated, and which of the three."""

    notice: NoticeResult
    file_shape: str = Field(description="red notice or yellow notice")
    file_sha256: str = Field(description="SHA-256 of the file as received, attached to the case")


class NoticePageImported(BaseModel):
    """A search page: one answer per notice in it."""

    file_shape: str
    file_sha256: str
    notices: list[NoticeResult]
