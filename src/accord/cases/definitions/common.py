"""Payloads and actions that several case types share: notes, reviews, refusals, withdrawal."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.cases.enums import HandlingCode, Priority, RefusalGround
from accord.cases.workflow import Action, Who

TEXT = 20000


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Note(Payload):
    text: str = Field(min_length=1, max_length=TEXT)
    handling_code: HandlingCode = HandlingCode.H0


class Remark(Payload):
    note: str = Field(default="", max_length=TEXT)


class LegalReview(Payload):
    """The reviewer's recorded findings; a case goes forward only if every safeguard holds."""

    reviewer: str = Field(min_length=1, max_length=200)
    treaty_basis: str = Field(min_length=1, max_length=2000)
    dual_criminality: bool
    neutrality_confirmed: bool = Field(
        description="not of a predominantly political, military, religious or racial character"
    )
    reasons: str = Field(min_length=1, max_length=TEXT)

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


class Refusal(Payload):
    grounds: list[RefusalGround] = Field(min_length=1)
    explanation: str = Field(min_length=1, max_length=TEXT)


class Closure(Payload):
    satisfied: bool
    note: str = Field(default="", max_length=TEXT)


class Withdrawal(Payload):
    reason: str = Field(min_length=1, max_length=TEXT)


def days(routine: float, urgent: float, immediate: float) -> dict[Priority, timedelta]:
    return {
        Priority.ROUTINE: timedelta(days=routine),
        Priority.URGENT: timedelta(days=urgent),
        Priority.IMMEDIATE: timedelta(days=immediate),
    }


def hours(routine: float, urgent: float, immediate: float) -> dict[Priority, timedelta]:
    return {
        Priority.ROUTINE: timedelta(hours=routine),
        Priority.URGENT: timedelta(hours=urgent),
        Priority.IMMEDIATE: timedelta(hours=immediate),
    }


def note_action(open_states: Iterable[str]) -> Action:
    return Action(
        "note",
        "Add a note",
        "添加备注",
        frozenset(open_states),
        None,
        Who.EITHER,
        Note,
        bookkeeping=True,
    )


def withdraw_action(states: Iterable[str]) -> Action:
    return Action(
        "withdraw",
        "Withdraw",
        "撤回",
        frozenset(states),
        "withdrawn",
        Who.REQUESTING,
        Withdrawal,
        bookkeeping=True,
    )
