"""Mutual legal assistance: request, legal review, decision, execution with evidence returned."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.cases.enums import HandlingCode, MlaAssistance, Priority, RefusalGround, Side
from accord.cases.workflow import Action, DeadlineRule, State, Who, Workflow


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MlaDetails(_Payload):
    assistance: list[MlaAssistance] = Field(min_length=1)
    offence: str = Field(min_length=1, max_length=2000)
    facts: str = Field(default="", max_length=20000)
    legal_basis: str = Field(default="", max_length=2000, description="treaty or reciprocity")


class Note(_Payload):
    text: str = Field(min_length=1, max_length=20000)
    handling_code: HandlingCode = HandlingCode.H0


class Remark(_Payload):
    note: str = Field(default="", max_length=20000)


class LegalReview(_Payload):
    """The reviewer's recorded findings; a case goes forward only if every safeguard holds."""

    reviewer: str = Field(min_length=1, max_length=200)
    treaty_basis: str = Field(min_length=1, max_length=2000)
    dual_criminality: bool
    neutrality_confirmed: bool = Field(
        description="not of a predominantly political, military, religious or racial character"
    )
    reasons: str = Field(min_length=1, max_length=20000)

    @model_validator(mode="after")
    def safeguards_hold(self) -> LegalReview:
        if not self.neutrality_confirmed:
            raise ValueError(
                "neutrality not confirmed: a case of predominantly political, military, "
                "religious or racial character cannot go forward; refuse or return it instead"
            )
        if not self.dual_criminality:
            raise ValueError(
                "dual criminality not established: refuse (no_dual_criminality) or return it"
            )
        return self


class ReviewReturn(_Payload):
    reviewer: str = Field(min_length=1, max_length=200)
    reasons: str = Field(min_length=1, max_length=20000)


class Questions(_Payload):
    questions: str = Field(min_length=1, max_length=20000)


class Answers(_Payload):
    answers: str = Field(min_length=1, max_length=20000)


class Refusal(_Payload):
    grounds: list[RefusalGround] = Field(min_length=1)
    explanation: str = Field(min_length=1, max_length=20000)


class EvidenceItem(_Payload):
    description: str = Field(min_length=1, max_length=2000)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    handling_code: HandlingCode = HandlingCode.H0


class EvidenceReturn(_Payload):
    items: list[EvidenceItem] = Field(min_length=1)
    outstanding: str = Field(min_length=1, max_length=20000, description="what is still to come")


class Execution(_Payload):
    items: list[EvidenceItem] = Field(default_factory=list)
    summary: str = Field(min_length=1, max_length=20000)


class Closure(_Payload):
    satisfied: bool
    note: str = Field(default="", max_length=20000)


class Withdrawal(_Payload):
    reason: str = Field(min_length=1, max_length=20000)


def _days(routine: float, urgent: float, immediate: float) -> dict[Priority, timedelta]:
    return {
        Priority.ROUTINE: timedelta(days=routine),
        Priority.URGENT: timedelta(days=urgent),
        Priority.IMMEDIATE: timedelta(days=immediate),
    }


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
        DeadlineRule("acknowledge", Side.REQUESTED, _days(5, 1, 8 / 24), "Acknowledge", "确认收到"),
        DeadlineRule("decide", Side.REQUESTED, _days(30, 10, 3), "Decide", "作出决定"),
        DeadlineRule(
            "provide_info", Side.REQUESTING, _days(30, 10, 3), "Provide information", "补充材料"
        ),
        DeadlineRule("execute", Side.REQUESTED, _days(90, 30, 10), "Execute", "执行"),
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
        ),
        Action(
            "refuse",
            "Refuse",
            "拒绝",
            frozenset({"received", "under_review"}),
            "refused",
            Who.REQUESTED,
            Refusal,
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
        Action(
            "withdraw",
            "Withdraw",
            "撤回",
            _BEFORE_EXECUTION,
            "withdrawn",
            Who.REQUESTING,
            Withdrawal,
        ),
        Action("note", "Add a note", "添加备注", _OPEN, None, Who.EITHER, Note),
    ),
)
