"""Removal: a batch of persons whose identities the requested side verifies one by one, then
documents for travel; the requesting side removes them; the batch closes when all are settled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from accord.cases.casetype import CaseType, FieldMeta
from accord.cases.definitions.common import (
    FIELDS,
    Closure,
    Payload,
    Remark,
    days,
    note_action,
    optional_country,
    withdraw_action,
)
from accord.cases.definitions.persons import PERSON_FIELDS, Aliases, ListedBirthDate
from accord.cases.enums import Area, PersonStatus, Side
from accord.cases.metrics import CaseRecord, Figure, Figures, Period
from accord.cases.workflow import Action, DeadlineRule, Guard, State, Who, Workflow
from accord.identity.integration import screen_on_receipt
from accord.identity.records import FIELDS as RECORD_FIELDS

PERSONS = "persons"


class Person(Payload):
    person_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    name_native: str = Field(default="", max_length=200)
    aliases: Aliases = ""
    birth_date: ListedBirthDate = ""
    sex: str = Field(default="", pattern=r"^(M|F|U)?$")
    nationality: Annotated[str, AfterValidator(optional_country)] = Field(default="", max_length=2)
    id_number: str = Field(default="", max_length=32)
    passport_number: str = Field(default="", max_length=32)
    claimed_origin: str = Field(default="", max_length=500, description="claimed home address")


class Batch(Payload):
    persons: list[Person] = Field(min_length=1, max_length=5000)
    detained_at: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def unique_ids(self) -> Batch:
        seen: set[str] = set()
        for person in self.persons:
            if person.person_id in seen:
                raise ValueError(f"person_id {person.person_id!r} appears twice in the batch")
            seen.add(person.person_id)
        return self


class Verified(Payload):
    person_id: str = Field(min_length=1, max_length=64)
    confirmed_name_native: str = Field(default="", max_length=200)
    confirmed_id_number: str = Field(default="", max_length=32)
    note: str = Field(default="", max_length=2000)


class NotVerified(Payload):
    person_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)


class TravelDocument(Payload):
    person_id: str = Field(min_length=1, max_length=64)
    document_number: str = Field(min_length=1, max_length=64)
    valid_until: date


class Removed(Payload):
    person_id: str = Field(min_length=1, max_length=64)
    removed_on: date
    transport: str = Field(min_length=1, max_length=500, description="flight or crossing")


class NotRemoved(Payload):
    person_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000, description="released, absconded, asylum")


def person_status(facts: Mapping[str, Any], person_id: str) -> PersonStatus | None:
    value = facts.get(PERSONS, {}).get(person_id)
    return PersonStatus(value) if value else None


def _when(*allowed: PersonStatus) -> Guard:
    """A guard: the payload's person is in the batch and in one of the allowed statuses."""

    def guard(facts: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
        status = person_status(facts, payload["person_id"])
        if status is None:
            return f"no person {payload['person_id']!r} in this batch"
        if status not in allowed:
            wanted = " or ".join(s.value for s in allowed)
            return f"person {payload['person_id']!r} is {status.value}, not {wanted}"
        return None

    return guard


def _all_settled(facts: Mapping[str, Any], _payload: Mapping[str, Any]) -> str | None:
    open_ = sorted(p for p, s in facts.get(PERSONS, {}).items() if not PersonStatus(s).settled)
    if open_:
        shown = ", ".join(open_[:5]) + (" …" if len(open_) > 5 else "")
        return f"{len(open_)} persons are not settled yet ({shown})"
    return None


_NEXT = {
    "confirm_identity": PersonStatus.VERIFIED,
    "deny_identity": PersonStatus.NOT_VERIFIED,
    "issue_travel_document": PersonStatus.DOCUMENTED,
    "record_removal": PersonStatus.REMOVED,
    "record_not_removed": PersonStatus.NOT_REMOVED,
}


def _reduce(facts: dict[str, Any], action: str, payload: Mapping[str, Any]) -> None:
    if action == "open":
        facts[PERSONS] = {
            p["person_id"]: PersonStatus.PENDING.value for p in payload["details"]["persons"]
        }
    elif action in _NEXT:
        facts[PERSONS] = {**facts[PERSONS], payload["person_id"]: _NEXT[action].value}


_OPEN = frozenset({"requested", "in_progress"})

REMOVAL = Workflow(
    case_type="removal",
    en="Removal: identity verification and return",
    zh="非法移民遣返：身份核查与遣返",
    reference_prefix="REM",
    initial="requested",
    opening=Batch,
    opening_starts=("acknowledge",),
    reduce=_reduce,
    states=(
        State("requested", "Verification requested", "已请求核查身份"),
        State("in_progress", "In progress", "处理中"),
        State("closed", "Closed", "已结案", final=True),
        State("withdrawn", "Withdrawn", "已撤回", final=True),
    ),
    deadlines=(
        DeadlineRule("acknowledge", Side.REQUESTED, days(7, 2, 1), "Acknowledge", "确认收到"),
        DeadlineRule(
            "travel_document",
            Side.REQUESTED,
            days(30, 30, 30),
            "Issue the travel document (30 days from verification)",
            "签发旅行证件（核实后30日内）",
            item_field="person_id",
        ),
    ),
    actions=(
        Action(
            "acknowledge",
            "Acknowledge",
            "确认收到",
            frozenset({"requested"}),
            "in_progress",
            Who.REQUESTED,
            Remark,
            stops=("acknowledge",),
        ),
        Action(
            "confirm_identity",
            "Confirm identity",
            "确认身份",
            frozenset({"in_progress"}),
            None,
            Who.REQUESTED,
            Verified,
            starts=("travel_document",),
            guard=_when(PersonStatus.PENDING),
        ),
        Action(
            "deny_identity",
            "Identity not verified",
            "身份无法核实",
            frozenset({"in_progress"}),
            None,
            Who.REQUESTED,
            NotVerified,
            guard=_when(PersonStatus.PENDING),
        ),
        Action(
            "issue_travel_document",
            "Issue travel document",
            "签发旅行证件",
            frozenset({"in_progress"}),
            None,
            Who.REQUESTED,
            TravelDocument,
            stops=("travel_document",),
            guard=_when(PersonStatus.VERIFIED),
        ),
        Action(
            "record_removal",
            "Record removal",
            "记录遣返",
            frozenset({"in_progress"}),
            None,
            Who.REQUESTING,
            Removed,
            guard=_when(PersonStatus.DOCUMENTED),
        ),
        Action(
            "record_not_removed",
            "Record not removed",
            "记录未遣返",
            frozenset({"in_progress"}),
            None,
            Who.REQUESTING,
            NotRemoved,
            stops=("travel_document",),
            guard=_when(PersonStatus.VERIFIED, PersonStatus.DOCUMENTED),
        ),
        Action(
            "close",
            "Close the batch",
            "结束本批次",
            frozenset({"in_progress"}),
            "closed",
            Who.REQUESTING,
            Closure,
            guard=_all_settled,
        ),
        withdraw_action(_OPEN),
        note_action(_OPEN),
    ),
)


def persons_asked_about(details: Mapping[str, Any]) -> list[dict[str, object]]:
    """The batch's persons as record fields for identity screening (`id`: the person's id;
    the claimed home address is the record's address, kept but not compared)."""
    return [
        {
            "id": p["person_id"],
            **{f: p.get(f, "") for f in RECORD_FIELDS if f != "id"},
            "address": p.get("claimed_origin", ""),
        }
        for p in details["persons"]
    ]


DOCUMENTED_WITHIN = timedelta(days=30)


def removal_figures(records: Sequence[CaseRecord], period: Period) -> Figures:
    """Persons the requested side verified and the requesting side removed in the period, and
    the share of travel documents issued within 30 days of the person's identity confirmed."""
    verified, removed = Figure(0), Figure(0)
    documented, within_cases = 0, []
    for record in records:
        confirmed_at: dict[str, datetime] = {}
        for event in record.events:
            person = str(event.payload.get("person_id", ""))
            if not period.holds(event.at):
                if event.action == "confirm_identity":
                    confirmed_at[person] = event.at
                continue
            if event.action == "confirm_identity":
                confirmed_at[person] = event.at
                verified.value = int(verified.value or 0) + 1
                verified.cases.append(record.reference)
            elif event.action == "record_removal":
                removed.value = int(removed.value or 0) + 1
                removed.cases.append(record.reference)
            elif event.action == "issue_travel_document" and person in confirmed_at:
                documented += 1
                if event.at - confirmed_at[person] <= DOCUMENTED_WITHIN:
                    within_cases.append(record.reference)
    for figure in (verified, removed):
        figure.cases = sorted(set(figure.cases))
    within = (
        Figure(round(len(within_cases) / documented, 4), sorted(set(within_cases)))
        if documented
        else Figure(None)
    )
    return {
        "removal_persons_verified": verified,
        "removal_persons_removed": removed,
        "removal_documented_within_30d": within,
    }


REMOVAL_TYPE = CaseType(
    REMOVAL,
    default_area=Area.IMMIGRATION,
    withdrawn_states=frozenset({"withdrawn"}),
    metrics=removal_figures,
    on_receipt=(screen_on_receipt,),
    screened=persons_asked_about,
    fields={
        **FIELDS,
        **PERSON_FIELDS,
        "persons": FieldMeta("Persons in the batch", "本批次人员"),
        "name": FieldMeta("Name (Latin letters)", "姓名（拉丁字母）", personal=True),
        "claimed_origin": FieldMeta("Claimed home address", "自称的住址", personal=True),
        "detained_at": FieldMeta("Where detained", "羁押地点"),
        "confirmed_name_native": FieldMeta(
            "Confirmed name in its own script", "核实的本国文字姓名", personal=True
        ),
        "confirmed_id_number": FieldMeta(
            "Confirmed identity card number", "核实的身份证号码", personal=True
        ),
        "document_number": FieldMeta("Travel document number", "旅行证件号码", personal=True),
        "valid_until": FieldMeta("Valid until", "有效期至"),
        "removed_on": FieldMeta("Removed on", "遣返日期"),
        "transport": FieldMeta("Transport", "交通方式"),
    },
)
