"""Payloads and actions that several case types share: notes, reviews, refusals, withdrawal."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from accord.cases.casetype import FieldMeta
from accord.cases.enums import HandlingCode, Priority, RefusalGround
from accord.cases.workflow import Action, Who

TEXT = 20000

FIELDS = {
    "sha256": FieldMeta(
        "SHA-256 of the file",
        "文件的 SHA-256 值",
        kind="sha256",
        hint_en="64 hexadecimal characters",
        hint_zh="64 位十六进制字符",
    ),
    "person_id": FieldMeta("Person number in the batch", "批次中的人员编号"),
    "name_native": FieldMeta("Name in its own script", "本国文字姓名", personal=True),
    "cas_number": FieldMeta("CAS Registry Number", "CAS 登记号"),
    "handling_code": FieldMeta("Handling code", "处理代码"),
    "filename": FieldMeta("File name", "文件名"),
    "size": FieldMeta("Size (bytes)", "大小（字节）"),
    "media_type": FieldMeta("File type", "文件类型"),
    "birth_date": FieldMeta(
        "Date of birth",
        "出生日期",
        kind="partial_date",
        hint_en="YYYY, YYYY-MM or YYYY-MM-DD: as much as is known",
        hint_zh="年、年-月或年-月-日：已知多少填多少",
        personal=True,
    ),
    "sex": FieldMeta("Sex", "性别", kind="sex"),
    "nationality": FieldMeta("Nationality", "国籍", kind="country"),
    "id_number": FieldMeta("Identity card number", "身份证号码", personal=True),
    "passport_number": FieldMeta("Passport number", "护照号码", personal=True),
    "legal_basis": FieldMeta(
        "Legal basis", "法律依据", hint_en="treaty or reciprocity", hint_zh="条约或互惠"
    ),
    "currency": FieldMeta("Currency", "币种", kind="currency"),
    "amount": FieldMeta(
        "Amount",
        "金额",
        hint_en="digits, up to four decimals, no separators: 2500000.50",
        hint_zh="数字，最多四位小数，不加千位分隔符：2500000.50",
    ),
}
"""Form metadata of the fields that several case types' payloads share."""


PARTIAL_DATE = r"^(\d{4}(-\d{2}(-\d{2})?)?)?$"
"""YYYY, YYYY-MM or YYYY-MM-DD (or nothing): a birth date known only in part."""
COUNTRY = r"^[A-Z]{2}$"
"""An ISO 3166-1 alpha-2 country code."""
EARLIEST_BIRTH_YEAR = 1900


def real_birth_date(value: str) -> str:
    """A partial date whose parts exist (no 13th month, no 30 February) and which is not in the
    future: what the pattern alone lets through is refused before it reaches the peer."""
    if not value:
        return value
    parts = [int(part) for part in value.split("-")]
    year, month, day = (*parts, 1, 1)[:3]
    try:
        born = date(year, month, day)
    except ValueError:
        raise PydanticCustomError(
            "partial_date",
            "{value} is not a real date: write YYYY, YYYY-MM or YYYY-MM-DD",
            {"value": value},
        ) from None
    if year < EARLIEST_BIRTH_YEAR or born > date.today():
        raise PydanticCustomError(
            "birth_date_range",
            "{value} is not a plausible date of birth (between {earliest} and today)",
            {"value": value, "earliest": EARLIEST_BIRTH_YEAR},
        )
    return value


BirthDate = Annotated[str, Field(default="", pattern=PARTIAL_DATE), AfterValidator(real_birth_date)]
"""A date of birth as far as it is known: YYYY, YYYY-MM or YYYY-MM-DD, a real one."""


def country_code(value: str) -> str:
    """Refuse what is not a country code, naming it (the form offers the countries as a list)."""
    if not re.fullmatch(COUNTRY, value):
        raise PydanticCustomError(
            "country_code", "{value} is not an ISO 3166 alpha-2 country code", {"value": value}
        )
    return value


def optional_country(value: str) -> str:
    return value and country_code(value)


def in_order(model: Any, earlier: str, later: str) -> None:
    """Refuse `later` before `earlier` (both optional); the error names both fields."""
    first, last = getattr(model, earlier), getattr(model, later)
    if first is not None and last is not None and last < first:
        raise PydanticCustomError(
            "date_order", "{later} is before {earlier}", {"earlier": earlier, "later": later}
        )


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
