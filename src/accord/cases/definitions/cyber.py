"""Cyber assistance: a request on malicious activity, acknowledged within hours, measures taken,
a result reported. Indicators travel as STIX with the case (see the cyber module)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import Field, model_validator

from accord.cases.casetype import CaseType, FieldMeta
from accord.cases.definitions.common import (
    FIELDS,
    TEXT,
    Closure,
    Payload,
    Remark,
    days,
    hours,
    in_order,
    note_action,
    withdraw_action,
)
from accord.cases.enums import Area, CyberActivity, CyberMeasure, Side
from accord.cases.metrics import CaseRecord, Figure, Figures, Period
from accord.cases.workflow import Action, DeadlineRule, State, Who, Workflow

INDICATOR_TYPES = ("ipv4", "ipv6", "cidr", "domain", "url", "md5", "sha1", "sha256", "email")


class Indicator(Payload):
    type: str = Field(pattern="^(" + "|".join(INDICATOR_TYPES) + ")$")
    value: str = Field(min_length=1, max_length=2048)


class CyberRequest(Payload):
    activity: list[CyberActivity] = Field(min_length=1)
    description: str = Field(min_length=1, max_length=TEXT)
    observed_from: datetime | None = None
    observed_until: datetime | None = None
    indicators: list[Indicator] = Field(default_factory=list, max_length=10000)
    measures_requested: list[CyberMeasure] = Field(min_length=1)
    stix_bundle_id: str = Field(default="", max_length=100, description="bundle sent with it")

    @model_validator(mode="after")
    def observed_in_order(self) -> CyberRequest:
        in_order(self, "observed_from", "observed_until")
        return self


class MeasureTaken(Payload):
    measure: CyberMeasure
    details: str = Field(min_length=1, max_length=TEXT)
    taken_at: datetime


class SightedIndicator(Payload):
    indicator_id: str = Field(
        pattern=r"^indicator--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    )
    count: int = Field(ge=1)
    first_seen: datetime
    last_seen: datetime
    values: list[str] = Field(default_factory=list, max_length=10, description="values seen")

    @model_validator(mode="after")
    def seen_in_order(self) -> SightedIndicator:
        in_order(self, "first_seen", "last_seen")
        return self


class SightingsReport(Payload):
    """One matching run of the case's indicators against the requested side's logs."""

    started_at: datetime
    lines: int = Field(ge=0, description="log lines read")
    hit_lines: int = Field(ge=0)
    sources: list[str] = Field(default_factory=list, max_length=100, description="logs read")
    sightings: list[SightedIndicator] = Field(default_factory=list, max_length=100000)
    bundle_sha256: str = Field(
        default="", pattern=r"^([0-9a-f]{64})?$", description="the attached STIX Sightings bundle"
    )


class Result(Payload):
    summary: str = Field(min_length=1, max_length=TEXT)
    complete: bool = True


_OPEN = frozenset({"requested", "acknowledged", "result_reported"})

CYBER = Workflow(
    case_type="cyber",
    en="Cyber assistance request",
    zh="网络安全协助请求",
    reference_prefix="CYB",
    initial="requested",
    opening=CyberRequest,
    opening_starts=("acknowledge",),
    states=(
        State("requested", "Requested", "已请求"),
        State("acknowledged", "Acknowledged", "已确认收到"),
        State("result_reported", "Result reported", "已通报结果"),
        State("closed", "Closed", "已结案", final=True),
        State("withdrawn", "Withdrawn", "已撤回", final=True),
    ),
    deadlines=(
        DeadlineRule("acknowledge", Side.REQUESTED, hours(24, 4, 1), "Acknowledge", "确认收到"),
        DeadlineRule("result", Side.REQUESTED, days(30, 7, 2), "Report the result", "通报结果"),
    ),
    actions=(
        Action(
            "acknowledge",
            "Acknowledge",
            "确认收到",
            frozenset({"requested"}),
            "acknowledged",
            Who.REQUESTED,
            Remark,
            starts=("result",),
            stops=("acknowledge",),
        ),
        Action(
            "report_measure",
            "Report a measure taken",
            "通报已采取措施",
            frozenset({"acknowledged"}),
            None,
            Who.REQUESTED,
            MeasureTaken,
        ),
        Action(
            "report_sightings",
            "Report sightings",
            "通报命中情况",
            frozenset({"acknowledged", "result_reported"}),
            None,
            Who.REQUESTED,
            SightingsReport,
        ),
        Action(
            "report_result",
            "Report the result",
            "通报结果",
            frozenset({"acknowledged"}),
            "result_reported",
            Who.REQUESTED,
            Result,
            stops=("result",),
        ),
        Action(
            "close",
            "Close",
            "结案",
            frozenset({"result_reported"}),
            "closed",
            Who.REQUESTING,
            Closure,
        ),
        withdraw_action({"requested", "acknowledged"}),
        note_action(_OPEN),
    ),
)


def cyber_figures(records: Sequence[CaseRecord], period: Period) -> Figures:
    """Of the requests received in the period, the share acknowledged within the agreed
    acknowledgement deadline."""
    on_time, cases = 0, []
    for record in records:
        received = record.received_at
        if received is None or not period.holds(received):
            continue
        limit = record.events[0].payload.get("deadline_seconds", {}).get("acknowledge")
        if limit is None:
            continue
        cases.append(record.reference)
        acknowledged = next((e for e in record.events if e.action == "acknowledge"), None)
        if acknowledged is not None and (acknowledged.at - received).total_seconds() <= limit:
            on_time += 1
    share = round(on_time / len(cases), 4) if cases else None
    return {"cyber_acknowledged_in_time": Figure(share, cases)}


CYBER_TYPE = CaseType(
    CYBER,
    default_area=Area.CYBERCRIME,
    withdrawn_states=frozenset({"withdrawn"}),
    metrics=cyber_figures,
    fields={
        **FIELDS,
        "type": FieldMeta("Indicator type", "指标类型"),
        "value": FieldMeta("Value", "值"),
        "observed_from": FieldMeta("Observed from (UTC)", "观察起始时间（UTC）"),
        "observed_until": FieldMeta("Observed until (UTC)", "观察截止时间（UTC）"),
        "stix_bundle_id": FieldMeta("STIX bundle id", "STIX 数据包编号"),
        "bundle_sha256": FieldMeta("SHA-256 of the STIX bundle", "STIX 数据包的 SHA-256 值"),
        "indicator_id": FieldMeta("Indicator id (STIX)", "指标编号（STIX）"),
        "first_seen": FieldMeta("First seen (UTC)", "首次发现（UTC）"),
        "last_seen": FieldMeta("Last seen (UTC)", "最后发现（UTC）"),
        "hit_lines": FieldMeta("Lines with a hit", "命中的行数"),
    },
)
