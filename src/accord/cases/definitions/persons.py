"""The person fields that a removal batch and a fugitive notice share with the lists they are
screened against: other names, and dates of birth as lists and notices write them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from accord.cases.casetype import FieldMeta
from accord.cases.definitions.common import EARLIEST_BIRTH_YEAR
from accord.core.errors import InvalidInput
from accord.identity.dates import ImplausibleBirthYear, NotARealDate, parse_partial_date

WRITTEN_FORMS = "1970, 1970-05, 1970-05-12, 12 May 1970, circa 1970 or 1968 to 1970"


def listed_birth_date(value: str) -> str:
    """A date of birth in any form `identity.dates` reads, kept as what it says in one written
    form: `12 May 1970` is 1970-05-12, `circa 1970` stays circa, `1968 to 1970` stays a range.
    That form reads back as itself, so the peer validating the payload sees the same value."""
    if not value.strip():
        return ""
    try:
        born = parse_partial_date(value)
    except NotARealDate:
        raise PydanticCustomError(
            "partial_date", "{value} is not a real date: write " + WRITTEN_FORMS, {"value": value}
        ) from None
    except ImplausibleBirthYear:
        raise _implausible(value) from None
    except InvalidInput as exc:
        raise PydanticCustomError("string_pattern_mismatch", exc.message) from None
    today = date.today()
    starts = date(born.year, born.month or 1, born.day or 1)
    if born.year < EARLIEST_BIRTH_YEAR or starts > today or (born.last_year or 0) > today.year:
        raise _implausible(value)
    return str(born)


def _implausible(value: str) -> PydanticCustomError:
    return PydanticCustomError(
        "birth_date_range",
        "{value} is not a plausible date of birth (between {earliest} and today)",
        {"value": value, "earliest": EARLIEST_BIRTH_YEAR},
    )


def listed_aliases(value: object) -> object:
    """Other names as a list, or as text with `;` (or a new line) between them: kept as text,
    `; ` between the names, each name once, as a column of the batch's rows can hold them."""
    if value is None:
        return ""
    if not isinstance(value, (str, list)):
        raise PydanticCustomError(
            "string_type", "aliases are names: text with ; between them, or a list of names"
        )
    parts = value if isinstance(value, list) else value.replace("\n", ";").split(";")
    names: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise PydanticCustomError(
                "string_type", "an alias is a name (text), not {value}", {"value": repr(part)}
            )
        name = " ".join(part.split())
        if name and name.casefold() not in {n.casefold() for n in names}:
            names.append(name)
    if len(names) > MAX_ALIASES:
        raise PydanticCustomError(
            "too_long",
            "{count} aliases: give at most {max} other names for a person",
            {"count": len(names), "max": MAX_ALIASES},
        )
    return "; ".join(names)


MAX_ALIASES = 20

ListedBirthDate = Annotated[
    str,
    Field(default="", max_length=40, description=WRITTEN_FORMS),
    AfterValidator(listed_birth_date),
]
"""A date of birth as far as it is known, in the forms lists and notices write."""

Aliases = Annotated[
    str,
    BeforeValidator(listed_aliases),
    Field(default="", max_length=2000, description="other names, `;` between them (or a list)"),
]
"""A person's other names (other spellings, earlier names, names on other documents): screened
as the person's names too."""

PERSON_FIELDS = {
    "aliases": FieldMeta(
        "Other names (aliases)",
        "其他姓名（别名）",
        hint_en="other spellings, earlier names, names on other documents; ; between them",
        hint_zh="其他拼写、曾用名、其他证件上的姓名；多个之间用分号（;）隔开",
        personal=True,
    ),
    "birth_date": FieldMeta(
        "Date of birth",
        "出生日期",
        kind="partial_date",
        hint_en="as much as is known: 1970, 1970-05, 1970-05-12, 12 May 1970, circa 1970, "
        "1968 to 1970",
        hint_zh="已知多少填多少：1970、1970-05、1970-05-12、12 May 1970、circa 1970（约1970年）、"
        "1968 to 1970（1968至1970年之间）",
        personal=True,
    ),
}
"""Form metadata of these fields, in both languages."""
