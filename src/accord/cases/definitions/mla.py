"""Mutual legal assistance: request, legal review, decision, execution with evidence returned."""

from __future__ import annotations

from pydantic import Field

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
from accord.cases.enums import Area, HandlingCode, MlaAssistance, Side
from accord.cases.workflow import Action, DeadlineRule, State, Who, Workflow


class MlaDetails(Payload):
    assistance: list[MlaAssistance] = Field(min_length=1)
    offence: str = Field(min_length=1, max_length=2000)
    facts: str = Field(default="", max_length=TEXT)
    legal_basis: str = Field(default="", max_length=2000, description="treaty or reciprocity")


class ReviewReturn(Payload):
    reviewer: str = Field(min_length=1, max_length=200)
    reasons: str = Field(min_length=1, max_length=TEXT)


class Questions(Payload):
    questions: str = Field(min_length=1, max_length=TEXT)


class Answers(Payload):
    answers: str = Field(min_length=1, max_length=TEXT)


class EvidenceItem(Payload):
    description: str = Field(min_length=1, max_length=2000)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    handling_code: HandlingCode = HandlingCode.H0


class EvidenceReturn(Payload):
    items: list[EvidenceItem] = Field(min_length=1)
    outstanding: str = Field(min_length=1, max_length=TEXT, description="what is still to come")


class Execution(Payload):
    items: list[EvidenceItem] = Field(default_factory=list)
    summary: str = Field(min_length=1, max_length=TEXT)


_BEFORE_EXECUTION = frozenset(
    {"draft", "legal_review", "submitted", "received", "under_review", "more_info", "accepted"}
)
_OPEN = _BEFORE_EXECUTION | {"in_execution", "partially_executed", "executed"}

MLA = Workflow(
    case_type="mla",
    en="Mutual legal assistance request",
    zh="刑事司法协助请求",
    reference_prefix="MLA",
    initial="draft",
    opening=MlaDetails,
    states=(
        State("draft", "Draft", "草稿", shared=False),
        State("legal_review", "Legal review", "法律审查", shared=False),
        State("submitted", "Submitted", "已提交"),
        State("received", "Received", "已接收"),
        State("under_review", "Under review", "审查中"),
        State("more_info", "More information requested", "要求补充材料"),
        State("accepted", "Accepted", "已接受"),
        State("refused", "Refused", "已拒绝", final=True),
        State("in_execution", "In execution", "执行中"),
        State("partially_executed", "Partially executed", "部分执行"),
        State("executed", "Executed", "已执行"),
        State("closed", "Closed", "已结案", final=True),
        State("withdrawn", "Withdrawn", "已撤回", final=True),
    ),
    deadlines=(
        DeadlineRule("acknowledge", Side.REQUESTED, days(5, 1, 8 / 24), "Acknowledge", "确认收到"),
        DeadlineRule("decide", Side.REQUESTED, days(30, 10, 3), "Decide", "作出决定"),
        DeadlineRule(
            "provide_info", Side.REQUESTING, days(30, 10, 3), "Provide information", "补充材料"
        ),
        DeadlineRule("execute", Side.REQUESTED, days(90, 30, 10), "Execute", "执行"),
    ),
    actions=(
        Action(
            "send_to_review",
            "Send to legal review",
            "提交法律审查",
            frozenset({"draft"}),
            "legal_review",
            Who.REQUESTING,
            Remark,
        ),
        Action(
            "return_to_draft",
            "Return to drafter",
            "退回修改",
            frozenset({"legal_review"}),
            "draft",
            Who.REQUESTING,
            ReviewReturn,
            review=True,
        ),
        Action(
            "approve_and_submit",
            "Approve and submit",
            "审查通过并提交",
            frozenset({"legal_review"}),
            "submitted",
            Who.REQUESTING,
            LegalReview,
            starts=("acknowledge", "decide"),
            review=True,
        ),
        Action(
            "acknowledge",
            "Acknowledge receipt",
            "确认收到",
            frozenset({"submitted"}),
            "received",
            Who.REQUESTED,
            Remark,
            stops=("acknowledge",),
        ),
        Action(
            "begin_review",
            "Begin review",
            "开始审查",
            frozenset({"received"}),
            "under_review",
            Who.REQUESTED,
            Remark,
        ),
        Action(
            "request_more_info",
            "Request more information",
            "要求补充材料",
            frozenset({"under_review"}),
            "more_info",
            Who.REQUESTED,
            Questions,
            starts=("provide_info",),
            stops=("decide",),
        ),
        Action(
            "provide_info",
            "Provide information",
            "补充材料",
            frozenset({"more_info"}),
            "under_review",
            Who.REQUESTING,
            Answers,
            starts=("decide",),
            stops=("provide_info",),
        ),
        Action(
            "accept",
            "Accept",
            "接受",
            frozenset({"under_review"}),
            "accepted",
            Who.REQUESTED,
            LegalReview,
            starts=("execute",),
            stops=("decide",),
            review=True,
        ),
        Action(
            "refuse",
            "Refuse",
            "拒绝",
            frozenset({"received", "under_review"}),
            "refused",
            Who.REQUESTED,
            Refusal,
            review=True,
        ),
        Action(
            "begin_execution",
            "Begin execution",
            "开始执行",
            frozenset({"accepted"}),
            "in_execution",
            Who.REQUESTED,
            Remark,
        ),
        Action(
            "return_evidence",
            "Return evidence (partial)",
            "移交部分证据",
            frozenset({"in_execution", "partially_executed"}),
            "partially_executed",
            Who.REQUESTED,
            EvidenceReturn,
        ),
        Action(
            "complete_execution",
            "Complete execution",
            "执行完毕",
            frozenset({"in_execution", "partially_executed"}),
            "executed",
            Who.REQUESTED,
            Execution,
            stops=("execute",),
        ),
        Action(
            "close", "Close", "结案", frozenset({"executed"}), "closed", Who.REQUESTING, Closure
        ),
        withdraw_action(_BEFORE_EXECUTION),
        note_action(_OPEN),
    ),
)

MLA_TYPE = CaseType(
    MLA,
    default_area=Area.JUDICIAL_ASSISTANCE,
    share_action="approve_and_submit",
    withdrawn_states=frozenset({"withdrawn"}),
    refused_states=frozenset({"refused"}),
    fields=FIELDS,
)
