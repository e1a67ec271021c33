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


@dataclass(frozen=True, slots=True)
class Passport:
    """A passport number and, where the list said it, the issuing country (alpha-2)."""

    number: str
    country: str | None = None


_PASSPORT_LABEL = re.compile(
    r"^(?P<issuer>[\w.' ]*?)\s*\b(?:passport|pass\.|ppt|护照|護照)\b\.?\s*(?:no\.?|number|#|:)?\s*",
    re.IGNORECASE,
)
_NUMBER_LABEL = re.compile(r"^(?:no\.?|number|#)\s*", re.IGNORECASE)
_ISSUER_AFTER = re.compile(r"^(?P<number>.+?)\s*(?:\((?P<paren>[^()]+)\)|,\s*(?P<comma>[^,]+))$")
_ISSUER_BEFORE = re.compile(r"^(?P<code>[A-Za-z]{3})\s*[-:/]\s*(?P<number>.*\d.*)$")


def parse_passport(text: str) -> Passport:
    """A passport number as lists annotate it, split into the number and its issuing country:
    `E12345678 (China)`, `CHN-K98765432`, `PRC Passport No. E87654321`, `G1234567, Taiwan`.
    A part that names no country is refused, never folded into the number."""
    from accord.identity.countries import country_code

    written = " ".join(text.strip().split())
    rest, issuer = written, None
    if labelled := _PASSPORT_LABEL.match(rest):
        issuer = labelled.group("issuer").strip() or None
        rest = rest[labelled.end() :]
    rest = _NUMBER_LABEL.sub("", rest)
    if after := _ISSUER_AFTER.match(rest):
        named = (after.group("paren") or after.group("comma") or "").strip()
        if issuer is not None:
            raise InvalidInput(f"passport number {text!r} names its issuer twice")
        issuer, rest = named, after.group("number")
    elif (before := _ISSUER_BEFORE.match(rest)) and issuer is None:
        issuer, rest = before.group("code"), before.group("number")
    country = None
    if issuer is not None:
        try:
            country = country_code(issuer)
        except InvalidInput:
            raise InvalidInput(
                f"passport number {text!r}: {issuer!r} is not a country; write the number "
                "alone, or the number and the issuing country, e.g. E12345678 (China)"
            ) from None
    return Passport(normalise_passport(rest), country)


@dataclass(frozen=True, slots=True)
class IdentityCard:
    """An identity card number of Hong Kong (HK), Macau (MO) or Taiwan (TW), checked by its own
    rule; `sex` where the number encodes it (Taiwan)."""

    kind: str
    number: str  # as printed, without brackets or spaces: A1234563, 12345678, A123456789
    sex: str | None = None

    @property
    def label(self) -> str:
        return {"HK": "Hong Kong identity card", "MO": "Macau resident identity card",
                "TW": "Taiwan national identification number"}[self.kind]  # fmt: skip


def _letter_value(letter: str) -> int:
    return ord(letter) - ord("A") + 10


def hong_kong_check(body: str) -> str:
    """The check character of a Hong Kong identity card (one or two letters and six digits):
    weights 9 to 2 over the letters (A=10 … Z=35, a missing first letter 36) and digits,
    the check making the sum divisible by 11, 10 written A."""
    padded = [36] * (8 - len(body)) + [_letter_value(c) if c.isalpha() else int(c) for c in body]
    total = sum(v * w for v, w in zip(padded, range(9, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return "A" if check == 10 else str(check)


# Taiwan: the letter's two-digit code (the Ministry of the Interior's order, I O W X Y Z late).
_TAIWAN_LETTERS = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=True))


def taiwan_check_ok(number: str) -> bool:
    """A Taiwan national identification number (a letter, 1 or 2 for the sex, or 8 or 9 on a
    resident certificate, and eight digits): the weighted sum 1, 9, 8 … 1, 1 is divisible by
    ten."""
    code = _TAIWAN_LETTERS[number[0]]
    digits = [code // 10, code % 10, *map(int, number[1:])]
    weights = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)
    return sum(d * w for d, w in zip(digits, weights, strict=True)) % 10 == 0


def parse_identity_number(text: str) -> ResidentId | IdentityCard:
    """An identity number recognised by its form: a PRC resident identity card (18 characters
    or the 15-digit legacy form), a Hong Kong identity card (A123456(3)), a Taiwan national
    identification number (A123456789) or a Macau resident identity card (1234567(8)); each
    checked by its own rule. Raise InvalidInput saying which form it was read as and why it
    fails, or that it has none of these forms."""
    number = re.sub(r"[\s\-()]", "", text).upper()
    if re.fullmatch(r"\d{17}[\dX]|\d{15}", number):
        return parse_resident_id(text)
    if found := re.fullmatch(r"([A-Z]{1,2})(\d{6})([\dA])", number):
        body = found.group(1) + found.group(2)
        if hong_kong_check(body) != found.group(3):
            raise InvalidInput(
                f"Hong Kong identity card {text!r} fails its check: the character in brackets "
                f"should be {hong_kong_check(body)}; check the number for a mistyped digit"
            )
        return IdentityCard("HK", number)
    if re.fullmatch(r"[A-Z][1289]\d{8}", number):
        if not taiwan_check_ok(number):
            raise InvalidInput(
                f"Taiwan identification number {text!r} fails its check digit; check the "
                "number for a mistyped digit"
            )
        return IdentityCard("TW", number, "M" if number[1] in "18" else "F")
    if re.fullmatch(r"[157]\d{7}", number):
        # The Macau card's check digit rule is not published: the form alone is checked.
        return IdentityCard("MO", number)
    raise InvalidInput(
        f"identity number {text!r} is not a PRC resident identity card (18 characters), a Hong "
        "Kong identity card (A123456(3)), a Macau card (1234567(8)) or a Taiwan number "
        "(A123456789)"
    )
