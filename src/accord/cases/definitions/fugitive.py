"""Fugitives: a wanted-person notice, reviewed on receipt, located, returned or prosecuted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from accord.cases.casetype import CaseType, FieldMeta
from accord.cases.definitions import notices
from accord.cases.definitions.common import (
    FIELDS,
    PARTIAL_DATE,
    TEXT,
    Closure,
    LegalReview,
    Payload,
    Refusal,
    Remark,
    country_code,
    days,
    note_action,
    withdraw_action,
)
from accord.cases.definitions.persons import PERSON_FIELDS, Aliases, ListedBirthDate
from accord.cases.enums import Area, ReturnRoute, Side
from accord.cases.metrics import CaseRecord, Figure, Figures, Period
from accord.cases.workflow import OPEN_ACTION, Action, DeadlineRule, State, Who, Workflow
from accord.core.errors import InvalidInput
from accord.identity.integration import screen_on_receipt

COUNTRY = r"^[A-Z]{2}$"
MAYBE_COUNTRY = r"^([A-Z]{2})?$"
UPDATE_NOTICE = "update_notice"
"""The action that replaces a case's notice by a newer one of the same entity_id."""


class ArrestWarrant(Payload):
    issuing_country: str = Field(pattern=COUNTRY)
    charge: str = Field(min_length=1, max_length=TEXT)
    charge_translation: str = Field(default="", max_length=TEXT)


# The notice's own links in the public API (`_links`): where it was published. (Comments, not
# docstrings, on the models nested in payloads: a docstring would be a label of the forms.)
class NoticeLinks(Payload):
    self: str = Field(default="", max_length=2000, description="the notice's own URL")
    images: str = Field(default="", max_length=2000, description="its images listing")
    thumbnail: str = Field(default="", max_length=2000, description="its thumbnail picture")


# Where the notice came from: the file as received (by its SHA-256; the file itself is attached
# to the case) and the notice's own links.
class NoticeSource(Payload):
    api: str = Field(default="", max_length=100, description="the publisher's API")
    shape: str = Field(
        default="", max_length=32, description="red notice, yellow notice or search page"
    )
    sha256: str = Field(
        default="", pattern=r"^([0-9a-f]{64})?$", description="SHA-256 of the file as received"
    )
    size: int = Field(default=0, ge=0, description="bytes of the file as received")
    position: str = Field(default="", max_length=64, description="where in the file the notice is")
    summary: bool = Field(
        default=False, description="a search page's summary, not the whole notice"
    )
    content_sha256: str = Field(
        default="", pattern=r"^([0-9a-f]{64})?$", description="SHA-256 of the notice's content"
    )
    links: NoticeLinks = Field(default_factory=NoticeLinks)
    unmapped: list[str] = Field(
        default_factory=list, max_length=100, description="fields kept only in the file"
    )


# A wanted-person (red) or missing-person (yellow) notice, in the fields of INTERPOL's public
# notice data (docs/workflows.md maps them field by field).
class Notice(Payload):
    notice_kind: Literal["red", "yellow"] = Field(
        default="red", description="red: a wanted person; yellow: a missing person"
    )
    notice_id: str = Field(default="", max_length=64, description="the issuer's id (entity_id)")
    name: str = Field(min_length=1, max_length=200, description="family name")
    forename: str = Field(default="", max_length=200)
    name_native: str = Field(default="", max_length=200, description="name in its own script")
    aliases: Aliases = ""
    date_of_birth: ListedBirthDate = ""
    place_of_birth: str = Field(default="", max_length=200)
    country_of_birth: str = Field(default="", pattern=MAYBE_COUNTRY)
    nationalities: list[str] = Field(default_factory=list)
    sex: str = Field(default="", pattern=r"^(M|F|U)?$")
    height: float | None = Field(default=None, gt=0, le=3, description="in metres")
    weight: float | None = Field(default=None, gt=0, le=500, description="in kilograms")
    eyes_colors: list[str] = Field(default_factory=list)
    hairs: list[str] = Field(default_factory=list)
    arrest_warrants: list[ArrestWarrant] = Field(default_factory=list)
    distinguishing_marks: str = Field(default="", max_length=2000)
    languages_spoken: list[str] = Field(default_factory=list)
    last_known_location: str = Field(default="", max_length=2000)
    birth_name: str = Field(default="", max_length=200)
    father_name: str = Field(default="", max_length=200)
    father_forename: str = Field(default="", max_length=200)
    mother_name: str = Field(default="", max_length=200)
    mother_forename: str = Field(default="", max_length=200)
    disappeared_on: str = Field(default="", pattern=PARTIAL_DATE)
    disappearance_place: str = Field(default="", max_length=200)
    disappearance_country: str = Field(default="", pattern=MAYBE_COUNTRY)
    countries_likely_to_be_visited: list[str] = Field(default_factory=list)
    source: NoticeSource | None = None

    @field_validator("nationalities", "countries_likely_to_be_visited")
    @classmethod
    def countries(cls, value: list[str]) -> list[str]:
        for code in value:
            country_code(code)
        return value

    @model_validator(mode="after")
    def warrants_of_a_red_notice(self) -> Notice:
        summary = self.source is not None and self.source.summary
        if self.notice_kind == "red" and not self.arrest_warrants and not summary:
            raise ValueError(
                "arrest_warrants: a red notice carries at least one arrest warrant "
                "(a missing person's notice is a yellow notice: notice_kind yellow)"
            )
        if self.notice_kind == "red" and self.disappeared_on:
            raise ValueError("disappeared_on: a red notice has no date of disappearance")
        return self


class NoticeUpdate(Payload):
    """A newer publication of the case's notice (same entity_id): its details replace the
    case's, the older ones stay in the log."""

    notice: Notice
    previous_content_sha256: str = Field(default="", pattern=r"^([0-9a-f]{64})?$")
    reason: str = Field(default="", max_length=2000)


class MissingPersonReview(Payload):
    """The requested side's review of a yellow notice on receipt: no warrant, so no dual
    criminality; the question is whether searching for the person serves their safety."""

    reviewer: str = Field(min_length=1, max_length=200)
    legal_basis: str = Field(min_length=1, max_length=2000)
    neutrality_confirmed: bool = Field(
        description="not a search for someone of political, military, religious or racial interest"
    )
    protective_purpose_confirmed: bool = Field(
        description="the search serves the person's safety, not a pursuit of someone who fled"
    )
    reasons: str = Field(min_length=1, max_length=TEXT)

    @model_validator(mode="after")
    def safeguards_hold(self) -> MissingPersonReview:
        if not self.neutrality_confirmed:
            raise ValueError(
                "neutrality not confirmed: a missing-person notice must not trace a person "
                "of political, military, religious or racial interest; refuse it instead"
            )
        if not self.protective_purpose_confirmed:
            raise ValueError(
                "protective purpose not confirmed: if the person may have fled persecution or "
                "abuse, refuse the notice or ask the issuer"
            )
        return self


class FoundSafe(Payload):
    """A missing person found: whether the person (an adult) agreed that the issuer be told
    where they are."""

    found_on: date
    whereabouts_disclosed: bool = Field(
        description="the person agreed (or, a minor, it is in their interest) to tell the issuer"
    )
    note: str = Field(default="", max_length=TEXT)


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
        "found",
    }
)


def _kind(facts: Mapping[str, Any]) -> str:
    return str(facts.get("notice_kind") or "red")


def _red_only(facts: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    if _kind(facts) == "yellow":
        return (
            "this case holds a yellow notice (a missing person): review it with "
            "record_missing_person_review and report the person with report_found"
        )
    return None


def _yellow_only(facts: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    if _kind(facts) != "yellow":
        return (
            "this case holds a red notice (a wanted person): review it with record_review "
            "and report the person with report_located"
        )
    return None


def _same_notice(facts: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    notice = payload["notice"]
    held = (str(facts.get("notice_id") or ""), _kind(facts))
    given = (str(notice.get("notice_id") or ""), str(notice.get("notice_kind") or "red"))
    if not held[0]:
        return "this case was opened without a notice id (entity_id): it cannot be updated"
    if given != held:
        return (
            f"the update is {given[1]} notice {given[0] or '(no entity_id)'}, but this case "
            f"holds {held[1]} notice {held[0]}"
        )
    return None


def _reduce(facts: dict[str, Any], action: str, payload: Mapping[str, Any]) -> None:
    """The notice the case holds now: its entity id, kind and content hash (the duplicate
    check reads them), and after an update its newer details."""
    if action == OPEN_ACTION:
        details = payload.get("details") or {}
    elif action == UPDATE_NOTICE:
        details = payload["notice"]
        facts["details"] = dict(details)
    else:
        return
    source = details.get("source") or {}
    facts["notice_id"] = str(details.get("notice_id") or "")
    facts["notice_kind"] = str(details.get("notice_kind") or "red")
    facts["notice_content"] = str(source.get("content_sha256") or "")
    facts["notice_summary"] = bool(source.get("summary"))


FUGITIVE = Workflow(
    case_type="fugitive",
    en="Fugitive notice",
    zh="追逃通报",
    reference_prefix="FUG",
    initial="notice",
    opening_starts=("review",),
    opening=Notice,
    reduce=_reduce,
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
        State("found", "Missing person found", "失踪人员已找到"),
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
            guard=_red_only,
            review=True,
        ),
        Action(
            "record_missing_person_review",
            "Record the review of a missing-person notice",
            "记录失踪人员通报审查",
            frozenset({"under_review"}),
            "accepted",
            Who.REQUESTED,
            MissingPersonReview,
            stops=("review",),
            guard=_yellow_only,
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
            guard=_red_only,
        ),
        Action(
            "report_found",
            "Report the missing person found",
            "报告已找到失踪人员",
            frozenset({"location_requested"}),
            "found",
            Who.REQUESTED,
            FoundSafe,
            stops=("locate",),
            guard=_yellow_only,
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
            frozenset({"handed_over", "judged", "not_found", "found"}),
            "closed",
            Who.REQUESTING,
            Closure,
        ),
        Action(
            UPDATE_NOTICE,
            "Update from a newer notice",
            "依据更新的通报更新",
            frozenset(_OPEN),
            None,
            Who.EITHER,
            NoticeUpdate,
            guard=_same_notice,
            bookkeeping=True,
        ),
        withdraw_action(_OPEN - {"handed_over", "judged", "found"}),
        note_action(_OPEN),
    ),
)


def notice_from_interpol(data: Any, *, source: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Opening details from one notice in INTERPOL's public notice JSON (its field names); a
    red or a yellow notice, told apart by its own link or its fields. Errors name the notice's
    field."""
    shape = notices.recognise(data)
    if shape is notices.Shape.SEARCH_PAGE:
        raise InvalidInput(
            "this is a search page of notices, not one notice: import the page (accord case "
            "import-notice, or POST /api/v1/cases/notices), which opens a case per notice"
        )
    kind = notices.YELLOW if shape is notices.Shape.YELLOW else notices.RED
    return FUGITIVE.validate_opening(notices.notice_details(data, kind, source=source))


def notice_title(details: Mapping[str, Any]) -> str:
    """A case title from a notice: the name and the charges, or that the person is missing."""
    person = f"{details['name']} {details.get('forename', '')}".strip()
    if details.get("notice_kind") == "yellow":
        where = details.get("disappearance_place") or details.get("disappearance_country") or ""
        since = details.get("disappeared_on") or ""
        what = "missing" + (f" in {where}" if where else "") + (f" since {since}" if since else "")
    else:
        warrants = details.get("arrest_warrants") or []
        what = "; ".join(w["charge_translation"] or w["charge"] for w in warrants)
        what = what or "red notice (summary from a search page)"
    return (f"{person} — {what}")[:500]


def person_sought(details: Mapping[str, Any]) -> list[dict[str, object]]:
    """The notice's subject as record fields for identity screening. A notice names the family
    name apart: written in capitals, the name layer reads it as the surname whatever the order
    (CHEN Xiaoming). The notice's other names, and a name at birth, are screened as aliases;
    every nationality is kept (a person matches on any of them)."""
    birth_name = str(details.get("birth_name") or "")
    aliases = [a for a in str(details.get("aliases") or "").split(";") if a.strip()]
    return [
        {
            "id": details.get("notice_id") or "subject",
            "name": f"{details['name'].upper()} {details.get('forename', '')}".strip(),
            "name_native": details.get("name_native", ""),
            "aliases": [*aliases, *([birth_name] if birth_name.strip() else [])],
            "birth_date": details.get("date_of_birth", ""),
            "sex": details.get("sex", ""),
            "nationality": "; ".join(details.get("nationalities") or []),
            "birth_place": details.get("place_of_birth", ""),
        }
    ]


NOTICE_FIELDS: dict[str, FieldMeta] = {
    "notice_kind": FieldMeta(
        "Kind of notice",
        "通报种类",
        hint_en="red: a wanted person; yellow: a missing person",
        hint_zh="红色：被通缉人员；黄色：失踪人员",
    ),
    "notice_id": FieldMeta("Notice number (entity_id)", "通报编号（entity_id）"),
    "name": FieldMeta("Family name", "姓", personal=True),
    "forename": FieldMeta("Forename", "名", personal=True),
    "aliases": PERSON_FIELDS["aliases"],
    "date_of_birth": replace(PERSON_FIELDS["birth_date"], kind=""),
    "place_of_birth": FieldMeta("Place of birth", "出生地", personal=True),
    "country_of_birth": FieldMeta("Country of birth", "出生国", kind="country"),
    "nationalities": FieldMeta("Nationalities", "国籍"),
    "sex": FieldMeta("Sex", "性别", kind="sex"),
    "height": FieldMeta("Height (metres)", "身高（米）"),
    "weight": FieldMeta("Weight (kilograms)", "体重（公斤）"),
    "eyes_colors": FieldMeta("Eye colour", "眼睛颜色"),
    "hairs": FieldMeta("Hair", "头发"),
    "distinguishing_marks": FieldMeta("Distinguishing marks", "显著特征", personal=True),
    "languages_spoken": FieldMeta("Languages spoken", "所讲语言"),
    "last_known_location": FieldMeta("Last known location", "最后已知位置"),
    "arrest_warrants": FieldMeta("Arrest warrants", "逮捕令"),
    "issuing_country": FieldMeta("Issuing country", "签发国", kind="country"),
    "charge": FieldMeta("Charge", "指控罪名"),
    "charge_translation": FieldMeta("Charge (translation)", "指控罪名（译文）"),
    "birth_name": FieldMeta("Name at birth", "出生时姓名", personal=True),
    "father_name": FieldMeta("Father's family name", "父亲的姓"),
    "father_forename": FieldMeta("Father's forename", "父亲的名", personal=True),
    "mother_name": FieldMeta("Mother's family name", "母亲的姓"),
    "mother_forename": FieldMeta("Mother's forename", "母亲的名", personal=True),
    "disappeared_on": FieldMeta("Date of disappearance", "失踪日期"),
    "disappearance_place": FieldMeta("Place of disappearance", "失踪地点"),
    "disappearance_country": FieldMeta("Country of disappearance", "失踪国家", kind="country"),
    "countries_likely_to_be_visited": FieldMeta("Countries likely to be visited", "可能前往的国家"),
    "source": FieldMeta("Provenance", "来源"),
}
"""Labels of the notice's fields in both languages: the forms, the case page's notice panel."""


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
    fields={**FIELDS, **NOTICE_FIELDS},
)
