"""Criminal intelligence referrals: shared with grades and a handling code, then feedback."""

from __future__ import annotations

from pydantic import Field, field_validator

from accord.cases.casetype import CaseType, FieldMeta
from accord.cases.definitions.common import (
    FIELDS,
    TEXT,
    Payload,
    Remark,
    days,
    note_action,
)
from accord.cases.enums import (
    Area,
    FeedbackOutcome,
    InformationReliability,
    Side,
    SourceReliability,
)
from accord.cases.workflow import Action, DeadlineRule, State, Who, Workflow

SUBJECT_KINDS = ("person", "organisation", "account", "vehicle", "phone", "address", "other")


class Subject(Payload):
    kind: str = Field(pattern="^(" + "|".join(SUBJECT_KINDS) + ")$")
    name: str = Field(min_length=1, max_length=500)
    identifiers: dict[str, str] = Field(
        default_factory=dict, description="e.g. passport, IBAN, plate, phone"
    )


def cas_number_valid(value: str) -> bool:
    """A CAS Registry Number: digits-2digits-checkdigit, the check a weighted sum mod 10."""
    parts = value.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return False
    if not (2 <= len(parts[0]) <= 7 and len(parts[1]) == 2 and len(parts[2]) == 1):
        return False
    digits = (parts[0] + parts[1])[::-1]
    return sum((i + 1) * int(d) for i, d in enumerate(digits)) % 10 == int(parts[2])


class Substance(Payload):
    name: str = Field(min_length=1, max_length=200)
    cas_number: str = Field(default="", max_length=20)
    quantity: str = Field(default="", pattern=r"^(\d{1,12}(\.\d{1,4})?)?$")
    unit: str = Field(default="", pattern=r"^(g|kg|t|ml|l|tablets|units)?$")

    @field_validator("cas_number")
    @classmethod
    def valid_cas(cls, value: str) -> str:
        if value and not cas_number_valid(value):
            raise ValueError(f"{value!r} is not a valid CAS Registry Number (check digit)")
        return value


class Parcel(Payload):
    carrier: str = Field(min_length=1, max_length=200)
    tracking_number: str = Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9-]+$")


class Referral(Payload):
    summary: str = Field(min_length=1, max_length=TEXT)
    source_reliability: SourceReliability
    information_reliability: InformationReliability
    subjects: list[Subject] = Field(default_factory=list)
    substances: list[Substance] = Field(default_factory=list, description="counter-narcotics")
    parcels: list[Parcel] = Field(default_factory=list)
    restrictions: str = Field(default="", max_length=2000, description="H3: sender's own words")


class Feedback(Payload):
    outcome: FeedbackOutcome
    details: str = Field(default="", max_length=TEXT)


class Clarification(Payload):
    questions: str = Field(min_length=1, max_length=TEXT)


class ClarificationAnswer(Payload):
    answers: str = Field(min_length=1, max_length=TEXT)


INTEL = Workflow(
    case_type="intel",
    en="Criminal intelligence referral",
    zh="刑事情报通报",
    reference_prefix="INT",
    initial="shared",
    opening=Referral,
    opening_starts=("acknowledge",),
    states=(
        State("shared", "Shared", "已通报"),
        State("acknowledged", "Acknowledged", "已确认收到"),
        State("clarification", "Clarification requested", "请求澄清"),
        State("feedback_given", "Feedback given", "已反馈", final=True),
    ),
    deadlines=(
        DeadlineRule("acknowledge", Side.REQUESTED, days(5, 1, 8 / 24), "Acknowledge", "确认收到"),
        DeadlineRule("feedback", Side.REQUESTED, days(90, 30, 7), "Give feedback", "反馈"),
        DeadlineRule("clarify", Side.REQUESTING, days(14, 3, 1), "Clarify", "澄清"),
    ),
    actions=(
        Action(
            "acknowledge",
            "Acknowledge",
            "确认收到",
            frozenset({"shared"}),
            "acknowledged",
            Who.REQUESTED,
            Remark,
            starts=("feedback",),
            stops=("acknowledge",),
        ),
        Action(
            "request_clarification",
            "Request clarification",
            "请求澄清",
            frozenset({"acknowledged"}),
            "clarification",
            Who.REQUESTED,
            Clarification,
            starts=("clarify",),
        ),
        Action(
            "clarify",
            "Clarify",
            "澄清",
            frozenset({"clarification"}),
            "acknowledged",
            Who.REQUESTING,
            ClarificationAnswer,
            stops=("clarify",),
        ),
        Action(
            "give_feedback",
            "Give feedback",
            "反馈",
            frozenset({"acknowledged"}),
            "feedback_given",
            Who.REQUESTED,
            Feedback,
            stops=("feedback",),
        ),
        note_action({"shared", "acknowledged", "clarification"}),
    ),
)

INTEL_TYPE = CaseType(
    INTEL,
    default_area=Area.TRANSNATIONAL_CRIME,
    fields={
        **FIELDS,
        "name": FieldMeta("Name", "名称"),  # of a subject or a substance, not only a person
        "kind": FieldMeta("Kind", "类别"),
        "identifiers": FieldMeta("Identifiers", "识别信息"),
        "quantity": FieldMeta("Quantity", "数量"),
        "unit": FieldMeta("Unit", "单位"),
        "carrier": FieldMeta("Carrier", "承运人"),
        "tracking_number": FieldMeta("Tracking number", "运单号"),
    },
)
