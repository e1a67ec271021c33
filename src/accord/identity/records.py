"""A person record as screened: fields checked one by one, each problem named by row and field so
that one bad value costs only that value (or, without id or name, that row)."""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from accord.core.errors import InvalidInput
from accord.identity.aliases import Alias, alias_values, is_weak, split_name
from accord.identity.countries import country_code
from accord.identity.dates import PartialDate, parse_partial_date
from accord.identity.documents import (
    IdentityCard,
    Passport,
    ResidentId,
    parse_identity_number,
    parse_passport,
)

__all__ = ["Alias", "PartialDate", "PersonRecord", "RowProblem", "parse_partial_date"]

FIELDS = (
    "id",
    "name",
    "name_native",
    "birth_date",
    "sex",
    "nationality",
    "id_number",
    "passport_number",
    "aliases",
    "weak_aliases",
    "birth_place",
    "address",
)

_SEX = {
    "m": "M", "male": "M", "man": "M", "男": "M",
    "f": "F", "female": "F", "woman": "F", "女": "F",
    "u": None, "x": None, "unknown": None, "未知": None,
}  # fmt: skip


def text_lines(path: Path) -> Iterator[tuple[int, str | None]]:
    """(line number from 1, the line as text, or None where it is not UTF-8: that line is
    reported, the others are read); a BOM is dropped."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    id: str
    name: str
    name_native: str = ""
    birth: PartialDate | None = None
    sex: str | None = None
    nationality: str | None = None
    resident_id: ResidentId | None = None
    passport: str | None = None
    aliases: tuple[Alias, ...] = ()  # other names, in the order given
    passport_country: str | None = None  # the passport's issuer, where the list says it
    identity_card: IdentityCard | None = None  # a Hong Kong, Macau or Taiwan card
    # more of each, beyond the first (a second nationality, passport or identity number)
    nationalities: tuple[str, ...] = ()
    passports: tuple[Passport, ...] = ()
    other_ids: tuple[ResidentId | IdentityCard, ...] = ()
    birth_place: str = ""
    address: str = ""

    @property
    def all_nationalities(self) -> frozenset[str]:
        first = (self.nationality,) if self.nationality else ()
        return frozenset((*first, *self.nationalities))

    @property
    def all_passports(self) -> frozenset[str]:
        first = (self.passport,) if self.passport else ()
        return frozenset((*first, *(p.number for p in self.passports)))

    @property
    def all_card_numbers(self) -> frozenset[str]:
        first = (self.card_number,) if self.card_number else ()
        return frozenset((*first, *(_card_key(n) for n in self.other_ids)))

    @property
    def card_number(self) -> str | None:
        """The identity number compared between records: the PRC number as it is, the others
        with their kind (a Taiwan and a Hong Kong number never agree by accident)."""
        if self.resident_id is not None:
            return self.resident_id.number
        if self.identity_card is not None:
            return f"{self.identity_card.kind}:{self.identity_card.number}"
        return None


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One bad value: where it is, what was wrong, and what was done about it."""

    row: int  # records counted from 1, the CSV header not counted
    record_id: str
    field: str
    message: str
    action: str  # "row skipped", "value ignored" or "value kept"


def field_text(raw: Mapping[str, object], field: str) -> str:
    """A field of a row as stripped text, "" when it is missing, empty or NaN. A list (JSON
    lines, Parquet) gives its first value; `field_values` gives them all."""
    value = raw.get(field)
    if isinstance(value, (list, tuple)):
        value = next((v for v in value if field_text({field: v}, field)), None)
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from a Parquet writer
        return ""
    return str(value).strip()


def field_values(raw: Mapping[str, object], field: str) -> list[str]:
    """Every value of a field: one, or each of a list (JSON lines, Parquet)."""
    value = raw.get(field)
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    return [text for v in values if (text := field_text({field: v}, field))]


def person_from_row(
    raw: Mapping[str, object], row: int
) -> tuple[PersonRecord | None, list[RowProblem]]:
    """Check a row's fields one by one. A record is returned unless `id` or `name` is missing
    (or the name cannot be split into names); a bad optional value is left out and reported,
    and the rest of the row is used."""
    problems: list[RowProblem] = []
    record_id = field_text(raw, "id")
    names = field_values(raw, "name")
    for field, value in (("id", record_id), ("name", names)):
        if not value:
            message = f"row {row}: `{field}` is empty; every record needs an id and a name"
            return None, [RowProblem(row, record_id, field, message, "row skipped")]

    def ignore(field: str, message: str) -> None:
        problems.append(RowProblem(row, record_id, field, f"row {row}: {message}", "value ignored"))

    def keep_first(field: str, values: list[str]) -> str:
        if len(values) > 1:
            problems.append(
                RowProblem(
                    row, record_id, field,
                    f"row {row}: {field} has {len(values)} values; a record holds one, the "
                    f"first ({values[0]!r}) is kept",
                    "value kept",
                )
            )  # fmt: skip
        return values[0] if values else ""

    # The name field may carry aliases ("a.k.a."); a list of names is the name and aliases.
    aliases: list[Alias] = []
    try:
        name, inside = split_name(names[0])
    except InvalidInput as exc:
        message = f"row {row}: {exc.message}"
        return None, [RowProblem(row, record_id, "name", message, "row skipped")]
    written = [*inside, *names[1:]]
    for field, weak in (("aliases", False), ("weak_aliases", True)):
        try:
            listed = alias_values(raw.get(field))
        except InvalidInput as exc:
            ignore(field, exc.message)
            continue
        for given in listed:
            try:
                primary, more = split_name(given.name)
            except InvalidInput as exc:
                ignore(field, exc.message)
                continue
            aliases.append(Alias(primary, given.native, weak or given.weak))
            aliases += [Alias(text, weak=weak or is_weak(text)) for text in more]
    distinct: dict[str, Alias] = {}
    for alias in [Alias(text, weak=is_weak(text)) for text in written] + aliases:
        if alias.name.casefold() != name.casefold():
            distinct.setdefault(alias.name.casefold(), alias)

    birth: PartialDate | None = None
    if text := keep_first("birth_date", field_values(raw, "birth_date")):
        try:
            birth = parse_partial_date(text)
        except InvalidInput as exc:
            ignore("birth_date", exc.message)
    sex: str | None = None
    if text := keep_first("sex", field_values(raw, "sex")):
        if text.casefold() in _SEX:
            sex = _SEX[text.casefold()]
        else:
            ignore("sex", f"sex {text!r} is not M, F or empty")
    # Several nationalities, passports and identity numbers are all kept: a list, or `;`
    # between them in text. The first of each is the record's; the others are compared too.
    countries: list[str] = []
    for text in _several(raw, "nationality"):
        try:
            code = country_code(text)
        except InvalidInput as exc:
            ignore("nationality", exc.message)
        else:
            if code not in countries:
                countries.append(code)
    nationality = countries[0] if countries else None
    resident_id: ResidentId | None = None
    identity_card: IdentityCard | None = None
    other_ids: list[ResidentId | IdentityCard] = []
    for text in _several(raw, "id_number"):
        try:
            number = parse_identity_number(text)
        except InvalidInput as exc:
            ignore("id_number", exc.message)
            continue
        if isinstance(number, ResidentId) and resident_id is None and identity_card is None:
            resident_id = number
        elif isinstance(number, IdentityCard) and resident_id is None and identity_card is None:
            identity_card = number
        elif number not in other_ids and number not in (resident_id, identity_card):
            other_ids.append(number)
    passports: list[Passport] = []
    for text in _several(raw, "passport_number"):
        try:
            document = parse_passport(text)
        except InvalidInput as exc:
            ignore("passport_number", exc.message)
        else:
            if all(document.number != known.number for known in passports):
                passports.append(document)
    passport = passports[0].number if passports else None
    passport_country = passports[0].country if passports else None

    if resident_id is not None:
        encoded = resident_id.birth_date
        if birth is None or (not birth.is_full and _consistent(birth, encoded)):
            # The card gives the whole date where the record gives none, or only its year or
            # month: 1980 and a card born 1980-05-01 are one person born 1980-05-01.
            birth = PartialDate(encoded.year, encoded.month, encoded.day)
        elif not _consistent(birth, encoded):
            problems.append(
                RowProblem(
                    row,
                    record_id,
                    "birth_date",
                    f"row {row}: birth_date {birth} disagrees with the date encoded in "
                    f"id_number ({encoded}); the identity card's date is used",
                    "value kept",
                )
            )
            birth = PartialDate(encoded.year, encoded.month, encoded.day)
        if sex is None:
            sex = resident_id.sex
        elif sex != resident_id.sex:
            problems.append(
                RowProblem(
                    row,
                    record_id,
                    "sex",
                    f"row {row}: sex {sex} disagrees with id_number, which encodes "
                    f"{resident_id.sex}; the identity card's sex is used",
                    "value kept",
                )
            )
            sex = resident_id.sex
    if identity_card is not None and identity_card.sex is not None:
        if sex is None:
            sex = identity_card.sex
        elif sex != identity_card.sex:
            problems.append(
                RowProblem(
                    row, record_id, "sex",
                    f"row {row}: sex {sex} disagrees with id_number, which encodes "
                    f"{identity_card.sex}; the identity card's sex is used",
                    "value kept",
                )
            )  # fmt: skip
            sex = identity_card.sex
    record = PersonRecord(
        id=record_id,
        name=name,
        name_native=field_text(raw, "name_native"),
        aliases=tuple(distinct.values()),
        passport_country=passport_country,
        identity_card=identity_card,
        birth=birth,
        sex=sex,
        nationality=nationality,
        resident_id=resident_id,
        passport=passport,
        nationalities=tuple(countries[1:]),
        passports=tuple(passports[1:]),
        other_ids=tuple(other_ids),
        birth_place=field_text(raw, "birth_place"),
        address=field_text(raw, "address"),
    )
    return record, problems


def _several(raw: Mapping[str, object], field: str) -> list[str]:
    return [part.strip() for v in field_values(raw, field) for part in v.split(";") if part.strip()]


def _consistent(birth: PartialDate, encoded: date) -> bool:
    if birth.is_span:
        first, last = birth.years
        return first <= encoded.year <= last
    if birth.year != encoded.year:
        return False
    if birth.month is not None and birth.month != encoded.month:
        return False
    return birth.day is None or birth.day == encoded.day


def _card_key(number: ResidentId | IdentityCard) -> str:
    return number.number if isinstance(number, ResidentId) else f"{number.kind}:{number.number}"


_MERGED = ("birth", "sex")
_FIELD_OF = {"birth": "birth_date"}


def merge_rows(
    person: PersonRecord, other: PersonRecord, row: int
) -> tuple[PersonRecord, list[RowProblem]]:
    """Another row of the same person (the same id, or an alias row `<id>-AKA1`): its names
    become aliases of the person and its values fill the person's gaps; a value that
    disagrees with the person's is reported and the person's kept."""
    problems: list[RowProblem] = []
    names = {person.name.casefold(), *(a.name.casefold() for a in person.aliases)}
    aliases = list(person.aliases)
    for alias in (Alias(other.name, other.name_native, is_weak(other.name)), *other.aliases):
        if alias.name.casefold() not in names:
            names.add(alias.name.casefold())
            aliases.append(alias)
    changes: dict[str, object] = {"aliases": tuple(aliases)}
    if not person.name_native and other.name_native:
        changes["name_native"] = other.name_native
    # more nationalities, passports and identity numbers are kept beside the first
    countries = [c for c in other.all_nationalities if c not in person.all_nationalities]
    if countries:
        if person.nationality is None:
            changes["nationality"], countries = countries[0], countries[1:]
        changes["nationalities"] = (*person.nationalities, *sorted(countries))
    known = person.all_passports
    documents = [p for p in _passports_of(other) if p.number not in known]
    if documents:
        if person.passport is None:
            changes["passport"] = documents[0].number
            changes["passport_country"] = documents[0].country
            documents = documents[1:]
        changes["passports"] = (*person.passports, *documents)
    cards = [n for n in _cards_of(other) if _card_key(n) not in person.all_card_numbers]
    if cards:
        if person.card_number is None:
            first, cards = cards[0], cards[1:]
            changes["resident_id" if isinstance(first, ResidentId) else "identity_card"] = first
        changes["other_ids"] = (*person.other_ids, *cards)
    for text in ("birth_place", "address"):
        if not getattr(person, text) and getattr(other, text):
            changes[text] = getattr(other, text)
    for attribute in _MERGED:
        mine, theirs = getattr(person, attribute), getattr(other, attribute)
        if theirs is None or mine == theirs:
            continue
        if mine is None:
            changes[attribute] = theirs
            continue
        field = _FIELD_OF.get(attribute, attribute)
        problems.append(
            RowProblem(
                row, other.id, field,
                f"row {row}: {field} {theirs} differs from {mine}, given for the same person "
                f"{person.id!r} in an earlier row; the earlier value is kept",
                "value kept",
            )
        )  # fmt: skip
    return replace(person, **changes), problems  # type: ignore[arg-type]


def _passports_of(record: PersonRecord) -> list[Passport]:
    first = [Passport(record.passport, record.passport_country)] if record.passport else []
    return [*first, *record.passports]


def _cards_of(record: PersonRecord) -> list[ResidentId | IdentityCard]:
    first = record.resident_id or record.identity_card
    return [*((first,) if first is not None else ()), *record.other_ids]
