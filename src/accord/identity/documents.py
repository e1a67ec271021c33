"""Identity documents as evidence: Chinese resident identity card numbers (GB 11643-1999, with
the ISO 7064 MOD 11-2 check character and the legacy 15-digit form) and passport numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from accord.core.errors import InvalidInput

# ISO 7064 MOD 11-2: weight of position i (0-based, 17 digits) is 2^(17 - i) mod 11.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARACTERS = "10X98765432"
# First two digits: province-level division (GB/T 2260), including Taiwan, Hong Kong and Macau.
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51}
    | {52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91}
)
_SEPARATORS = re.compile(r"[\s\-]")


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A valid resident identity card number and what it encodes."""

    number: str  # always the 18-character form
    region: str  # the six-digit administrative division code at issue
    birth_date: date
    sex: str  # "M" or "F": the sequence code is odd for men


def check_character(first_17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first_17, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def parse_resident_id(text: str, *, today: date | None = None) -> ResidentId:
    """Validate a resident identity card number (18 characters, or the 15-digit form of cards
    issued before 1999, which is widened to 18). Raise InvalidInput saying what is wrong."""
    number = _SEPARATORS.sub("", text).upper()
    if re.fullmatch(r"\d{15}", number):
        # 15-digit cards: two-digit year of the 1900s, no check character.
        first_17 = number[:6] + "19" + number[6:]
        number = first_17 + check_character(first_17)
    elif not re.fullmatch(r"\d{17}[\dX]", number):
        raise InvalidInput(
            f"resident ID {text!r} must be 18 characters (17 digits and a digit or X) or 15 digits"
        )
    elif check_character(number[:17]) != number[17]:
        raise InvalidInput(
            f"resident ID {text!r} fails its check: the last character should be "
            f"{check_character(number[:17])}; check the number for a mistyped digit"
        )
    if int(number[:2]) not in _PROVINCES:
        raise InvalidInput(f"resident ID {text!r} starts with {number[:2]}, not a province code")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidInput(
            f"resident ID {text!r} encodes {number[6:14]}, which is not a date"
        ) from None
    if born.year < 1880 or born > (today or date.today()):
        raise InvalidInput(f"resident ID {text!r} encodes an impossible birth date {born}")
    return ResidentId(
        number=number,
        region=number[:6],
        birth_date=born,
        sex="M" if int(number[16]) % 2 else "F",
    )


def normalise_passport(text: str) -> str:
    """A passport number as issuers print it: upper case, no spaces, hyphens or other marks
    (e 1234 5678 → E12345678). Raise InvalidInput for what cannot be a passport number."""
    number = re.sub(r"[^0-9A-Za-z]", "", text).upper()
    if not 5 <= len(number) <= 20:
        raise InvalidInput(
            f"passport number {text!r} has {len(number)} letters and digits; expected 5 to 20"
        )
    return number
