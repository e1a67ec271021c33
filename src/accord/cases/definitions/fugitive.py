"""Fugitives: a wanted-person notice, reviewed on receipt, located, returned or prosecuted."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pydantic import Field, field_validator, model_validator

from accord.cases.casetype import CaseType
from accord.cases.definitions.common import (
    FIELDS,
    TEXT,
    Closure,
    LegalReview,
    Payload,
    Refusal,
    Remark,
    days,
    note_action,
    withdraw_action,
)
from accord.cases.enums import Area, ReturnRoute, Side
from accord.cases.metrics import CaseRecord, Figure, Figures, Period
from accord.cases.workflow import Action, DeadlineRule, State, Who, Workflow
from accord.core.errors import InvalidInput
from accord.identity.integration import screen_on_receipt

COUNTRY = r"^[A-Z]{2}$"


class ArrestWarrant(Payload):
    issuing_country: str = Field(pattern=COUNTRY)
    charge: str = Field(min_length=1, max_length=TEXT)
    charge_translation: str = Field(default="", max_length=TEXT)


class Notice(Payload):
    """A wanted-person notice, in the fields of INTERPOL's public notice data."""

    notice_id: str = Field(default="", max_length=64, description="the issuer's id (entity_id)")
    name: str = Field(min_length=1, max_length=200, description="family name")
    forename: str = Field(default="", max_length=200)
    name_native: str = Field(default="", max_length=200, description="name in its own script")
    date_of_birth: str = Field(
        default="", pattern=r"^(\d{4}(-\d{2}(-\d{2})?)?)?$", description="YYYY, YYYY-MM or full"
    )
    place_of_birth: str = Field(default="", max_length=200)
    nationalities: list[str] = Field(default_factory=list)
    sex: str = Field(default="", pattern=r"^(M|F|U)?$")
    arrest_warrants: list[ArrestWarrant] = Field(min_length=1)
    distinguishing_marks: str = Field(default="", max_length=2000)
    languages_spoken: list[str] = Field(default_factory=list)
    last_known_location: str = Field(default="", max_length=2000)

    @field_validator("nationalities")
    @classmethod
    def countries(cls, value: list[str]) -> list[str]:
        for code in value:
            if not re.match(COUNTRY, code):
                raise ValueError(f"{code!r} is not an ISO 3166 alpha-2 country code")
        return value


class FugitiveReview(LegalReview):
    """The requested side's review on receipt: the legal review plus human-rights safeguards."""

    human_rights_confirmed: bool = Field(
        description="no risk of persecution, torture or an unfair trial on return"
    )

    @model_validator(mode="after")
    def human_rights_hold(self) -> FugitiveReview:
        if not self.human_rights_confirmed:
            raise ValueError(
                "human-rights safeguards not confirmed: refuse the notice or ask for assurances"
            )
        return self


class LocationRequest(Payload):
    leads: str = Field(min_length=1, max_length=TEXT, description="addresses, associates, travel")


class Located(Payload):
    place: str = Field(min_length=1, max_length=2000)
    located_on: date
    custody: bool = Field(description="whether the person is now held")
    note: str = Field(default="", max_length=TEXT)


class NotFound(Payload):
    searches: str = Field(min_length=1, max_length=TEXT)


class ReturnArrangement(Payload):
    route: ReturnRoute
    conditions: str = Field(default="", max_length=TEXT, description="assurances, escort, dates")


class ProsecutionInPlace(Payload):
    court: str = Field(min_length=1, max_length=2000)
    reasons: str = Field(min_length=1, max_length=TEXT)


class Handover(Payload):
    handed_over_on: date
    place: str = Field(min_length=1, max_length=2000)
    receiving_officers: str = Field(min_length=1, max_length=2000)


class Judgment(Payload):
    court: str = Field(min_length=1, max_length=2000)
    outcome: str = Field(min_length=1, max_length=TEXT)


_OPEN = frozenset(
    {
        "notice",
        "under_review",
        "accepted",
        "location_requested",
        "located",
        "not_found",
        "return_arranged",
        "prosecution_in_place",
        "handed_over",
        "judged",
    }
)

FUGITIVE = Workflow(
    case_type="fugitive",
    en="Fugitive notice",
    zh="追逃通报",
    reference_prefix="FUG",
    initial="notice",
    opening_starts=("review",),
    opening=Notice,
    states=(
        State("notice", "Notice sent", "通报已发送"),
        State("under_review", "Under review on receipt", "接收方审查中"),
        State("accepted", "Review passed", "审查通过"),
        State("refused", "Refused", "已拒绝", final=True),
        State("location_requested", "Location requested", "请求查找下落"),
        State("located", "Located", "已查获"),
        State("not_found", "Not found", "未查获"),
        State("return_arranged", "Return arranged", "已安排遣返/引渡"),
        State("prosecution_in_place", "Prosecuted in place", "异地追诉"),
        State("handed_over", "Handed over", "已移交"),
        State("judged", "Judged in place", "已异地判决"),
        State("closed", "Closed", "已结案", final=True),
        State("withdrawn", "Withdrawn", "已撤回", final=True),
    ),
    deadlines=(
        DeadlineRule("review", Side.REQUESTED, days(30, 7, 2), "Review the notice", "审查通报"),
        DeadlineRule("locate", Side.REQUESTED, days(90, 30, 7), "Search for the person", "查找"),
        DeadlineRule("hand_over", Side.REQUESTED, days(60, 30, 10), "Hand over", "移交"),
    ),
    actions=(
        Action(
            "begin_review",
            "Begin review",
            "开始审查",
            frozenset({"notice"}),
            "under_review",
            Who.REQUESTED,
            Remark,
        ),
        Action(
            "record_review",
            "Record the neutrality and human-rights review",
            "记录中立性及人权审查",
            frozenset({"under_review"}),
            "accepted",
            Who.REQUESTED,
            FugitiveReview,
            stops=("review",),
            review=True,
        ),
        Action(
            "refuse",
            "Refuse",
            "拒绝",
            frozenset({"notice", "under_review"}),
            "refused",
            Who.REQUESTED,
            Refusal,
            stops=("review",),
            review=True,
        ),
        Action(
            "request_location",
            "Request location",
            "请求查找下落",
            frozenset({"accepted", "not_found"}),
            "location_requested",
            Who.REQUESTING,
            LocationRequest,
            starts=("locate",),
        ),
        Action(
            "report_located",
            "Report located",
            "报告已查获",
            frozenset({"location_requested"}),
            "located",
            Who.REQUESTED,
            Located,
            stops=("locate",),
        ),
        Action(
            "report_not_found",
            "Report not found",
            "报告未查获",
            frozenset({"location_requested"}),
            "not_found",
            Who.REQUESTED,
            NotFound,
            stops=("locate",),
        ),
        Action(
            "arrange_return",
            "Arrange return",
            "安排遣返/引渡/劝返",
            frozenset({"located"}),
            "return_arranged",
            Who.REQUESTED,
            ReturnArrangement,
            starts=("hand_over",),
        ),
        Action(
            "prosecute_in_place",
            "Prosecute in place",
            "异地追诉",
            frozenset({"located"}),
            "prosecution_in_place",
            Who.REQUESTED,
            ProsecutionInPlace,
        ),
        Action(
            "hand_over",
            "Record handover",
            "记录移交",
            frozenset({"return_arranged"}),
            "handed_over",
            Who.REQUESTED,
            Handover,
            stops=("hand_over",),
        ),
        Action(
            "report_judgment",
            "Report judgment",
            "通报判决",
            frozenset({"prosecution_in_place"}),
            "judged",
            Who.REQUESTED,
            Judgment,
        ),
        Action(
            "close",
            "Close",
            "结案",
            frozenset({"handed_over", "judged", "not_found"}),
            "closed",
            Who.REQUESTING,
            Closure,
        ),
        withdraw_action(_OPEN - {"handed_over", "judged"}),
        note_action(_OPEN),
    ),
)


def _listed(data: dict[str, Any], field: str) -> list[Any]:
    value = data.get(field) or []
    if not isinstance(value, list):
        raise InvalidInput(f"{field} must be a list, not {type(value).__name__}")
    return value


def notice_from_interpol(data: dict[str, Any]) -> dict[str, Any]:
    """Opening details from a notice in INTERPOL's public notice JSON (its field names)."""
    if not isinstance(data, dict):
        raise InvalidInput("a notice must be a JSON object")
    missing = [f for f in ("name", "arrest_warrants") if not data.get(f)]
    if missing:
        raise InvalidInput(f"notice lacks {', '.join(missing)}")
    warrants = _listed(data, "arrest_warrants")
    birth = str(data.get("date_of_birth") or "").replace("/", "-")
    sex = str(data.get("sex_id") or "").upper()
    details: dict[str, Any] = {
        "notice_id": str(data.get("entity_id") or ""),
        "name": str(data["name"]),
        "forename": str(data.get("forename") or ""),
        "date_of_birth": birth,
        "place_of_birth": str(data.get("place_of_birth") or ""),
        "nationalities": [str(c).upper() for c in _listed(data, "nationalities")],
        "sex": sex if sex in ("M", "F") else ("U" if sex else ""),
        "arrest_warrants": [
            {
                "issuing_country": str(w.get("issuing_country_id") or "").upper(),
                "charge": str(w.get("charge") or ""),
                "charge_translation": str(w.get("charge_translation") or ""),
            }
            for w in warrants
            if isinstance(w, dict)
        ],
        "distinguishing_marks": str(data.get("distinguishing_marks") or ""),
        "languages_spoken": [str(c) for c in _listed(data, "languages_spoken_ids")],
    }
    return FUGITIVE.validate_opening(details)


def notice_title(details: dict[str, Any]) -> str:
    """A case title from a notice: the name and the charges."""
    charges = "; ".join(w["charge_translation"] or w["charge"] for w in details["arrest_warrants"])
    return (f"{details['name']} {details['forename']}".strip() + f" — {charges}")[:500]


def person_sought(details: Mapping[str, Any]) -> list[dict[str, object]]:
    """The notice's subject as record fields for identity screening. A notice names the family
    name apart: written in capitals, the name layer reads it as the surname whatever the order
    (CHEN Xiaoming)."""
    nationalities = details.get("nationalities") or []
    return [
        {
            "id": details.get("notice_id") or "subject",
            "name": f"{details['name'].upper()} {details.get('forename', '')}".strip(),
            "name_native": details.get("name_native", ""),
            "birth_date": details.get("date_of_birth", ""),
            "sex": details.get("sex", ""),
            "nationality": nationalities[0] if len(nationalities) == 1 else "",
        }
    ]


def fugitive_figures(records: Sequence[CaseRecord], period: Period) -> Figures:
    """Fugitives handed over by the requested side in the period."""
    returned = Figure(0)
    for record in records:
        for event in record.events:
            if event.action == "hand_over" and period.holds(event.at):
                returned.value = int(returned.value or 0) + 1
                returned.cases.append(record.reference)
    returned.cases = sorted(set(returned.cases))
    return {"fugitives_returned": returned}


FUGITIVE_TYPE = CaseType(
    FUGITIVE,
    default_area=Area.FUGITIVES,
    withdrawn_states=frozenset({"withdrawn"}),
    refused_states=frozenset({"refused"}),
    metrics=fugitive_figures,
    on_receipt=(screen_on_receipt,),
    screened=person_sought,
    fields=FIELDS,
)
