"""Files of INTERPOL's public notices API read as published: each shape recognised and named
(red notice, yellow notice, search-results page, images listing), every field of a notice mapped
to the fugitive case's opening details, and every error naming the notice's own field.

Pure: bytes in, opening details (or a reason naming the field) out. docs/workflows.md has the
mapping field by field.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from accord.core import jsontext
from accord.core.canonical import canonical_bytes, contains_nul, sha256_hex
from accord.core.errors import InvalidInput, Problem, Problems

RED = "red"
YELLOW = "yellow"
KINDS = (RED, YELLOW)
API = "INTERPOL public notices API"
BOM = b"\xef\xbb\xbf"
COUNTRY = re.compile(r"^[A-Z]{2}$")
CODE = re.compile(r"^[A-Z]{2,4}$")
NAME_MAX = 200
TEXT_MAX = 2000
CHARGE_MAX = 20000
EARLIEST_YEAR = 1900

YELLOW_FIELDS = (
    "date_of_event",
    "place",
    "country",
    "father_name",
    "father_forename",
    "mother_name",
    "mother_forename",
    "birth_name",
    "countries_likely_to_be_visited",
)
"""Fields that only a yellow notice (a missing person) carries."""

MAPPED = frozenset(
    {
        "entity_id",
        "name",
        "forename",
        "date_of_birth",
        "place_of_birth",
        "country_of_birth_id",
        "nationalities",
        "sex_id",
        "height",
        "weight",
        "eyes_colors_id",
        "hairs_id",
        "distinguishing_marks",
        "languages_spoken_ids",
        "arrest_warrants",
        "_links",
        "_embedded",
        *YELLOW_FIELDS,
    }
)
"""The public API's fields that the opening details carry (`_embedded` holds only an empty
`links` list in a notice); any other field is named in `source.unmapped` and kept in the
original file."""


class Shape(StrEnum):
    """What a file of the notices API is."""

    RED = "red notice"
    YELLOW = "yellow notice"
    SEARCH_PAGE = "search page"
    IMAGES = "images listing"


@dataclass(frozen=True)
class NoticeRead:
    """One notice of a file: its opening details, or why it cannot open a case."""

    position: str
    """Where it is in the file: "" for a notice file, `_embedded.notices[2]` in a search page."""
    notice_id: str
    kind: str
    details: dict[str, Any] | None
    error: InvalidInput | None


@dataclass(frozen=True)
class NoticeFile:
    """A file of the notices API as received: its bytes, their SHA-256 and its notices."""

    shape: Shape
    original: bytes
    sha256: str
    notices: tuple[NoticeRead, ...]


class _Problems:
    """The problems of one notice, each naming the public API's field where it is."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.items: list[Problem] = []

    def add(self, field: str, message: str, kind: str = "value_error") -> None:
        path = tuple(p for p in re.split(r"[.\[\]]+", f"{self.where}{field}") if p)
        self.items.append(Problem(path=path, type=kind, message=f"{self.where}{field} {message}"))

    def raise_any(self) -> None:
        if self.items:
            text = "; ".join(p.message for p in self.items)
            raise InvalidInput(text, detail={"errors": text}, problems=Problems(tuple(self.items)))


# -- the file ---------------------------------------------------------------------------------


def decode(raw: bytes) -> Any:
    """The JSON value of a file as received: UTF-8, with or without a byte-order mark."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput("the file is UTF-16 text: save it as UTF-8 (the notices API's encoding)")
    body = raw[len(BOM) :] if raw.startswith(BOM) else raw
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"the file is not UTF-8 text (byte {exc.start + (len(raw) - len(body))} is "
            f"{body[exc.start]:#04x}): the notices API sends UTF-8 JSON"
        ) from None
    if not text.strip():
        raise InvalidInput("the file is empty: a notice is a JSON object")
    try:
        return jsontext.loads(text)
    except json.JSONDecodeError as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if exc.pos else ""
        raise InvalidInput(f"the file is not JSON: {exc.msg}{where}") from None


def _link(value: Any, name: str) -> str:
    links = value.get("_links") if isinstance(value, dict) else None
    link = links.get(name) if isinstance(links, dict) else None
    href = link.get("href") if isinstance(link, dict) else None
    return href if isinstance(href, str) else ""


def _kind_of_link(href: str) -> str | None:
    match = re.search(r"/notices/v\d+/([a-z]+)(?:[/?]|$)", href)
    return match.group(1) if match else None


def _entity_of_link(href: str) -> str:
    """`.../red/2019-48213/images` → `2019/48213` (the entity id, as the notice writes it)."""
    match = re.search(r"/notices/v\d+/[a-z]+/(\d{4})-(\d+)", href)
    return f"{match.group(1)}/{match.group(2)}" if match else ""


def _looks_like(value: Any) -> str:
    """What a value that is no file of the notices API looks like, in a few words."""
    if isinstance(value, list):
        return f"a JSON array of {len(value)} item{'s' if len(value) != 1 else ''}"
    if not isinstance(value, dict):
        return f"{_json_type(value)}, not a JSON object"
    if not value:
        return "an empty JSON object"
    keys = sorted(str(k) for k in value)
    shown = ", ".join(keys[:8]) + (f" and {len(keys) - 8} more" if len(keys) > 8 else "")
    return f"a JSON object with the field{'s' if len(keys) != 1 else ''} {shown}"


def _unknown(value: Any) -> InvalidInput:
    return InvalidInput(
        f"this is not a file of INTERPOL's public notices API: it is {_looks_like(value)}. "
        "A red notice has entity_id, name and arrest_warrants; a yellow notice entity_id, name "
        "and date_of_event; a search page _embedded.notices; an images listing _embedded.images"
    )


def recognise(value: Any) -> Shape:
    """Which shape of the notices API a parsed file is; an images listing or anything else is
    refused with what it is and what to do."""
    if not isinstance(value, dict):
        raise _unknown(value)
    embedded = value.get("_embedded")
    embedded = embedded if isinstance(embedded, dict) else {}
    self_link = _link(value, "self")
    if "images" in embedded or self_link.rstrip("/").endswith("/images"):
        notice_link = _link(value, "notice") or self_link.rstrip("/").removesuffix("/images")
        entity = _entity_of_link(notice_link) or "(unknown)"
        fetch = notice_link or "the notice's own link"
        raise InvalidInput(
            f"this is the images listing of notice {entity}, not a notice; fetch {fetch}"
        )
    if "notices" in embedded:
        return Shape.SEARCH_PAGE
    kind = _kind_of_link(self_link)
    if kind is not None and kind not in KINDS:
        raise InvalidInput(
            f"this is a {kind} notice ({self_link}): Accord opens cases from red notices "
            "(wanted persons) and yellow notices (missing persons)"
        )
    if kind == YELLOW or (kind is None and any(f in value for f in YELLOW_FIELDS)):
        return Shape.YELLOW
    if kind == RED or "arrest_warrants" in value or {"entity_id", "name"} <= value.keys():
        return Shape.RED
    raise _unknown(value)


def read_notice_file(raw: bytes) -> NoticeFile:
    """A file of the notices API as received: every notice in it read, or refused by field."""
    value = decode(raw)
    shape = recognise(value)
    sha = sha256_hex(raw)
    if shape is Shape.SEARCH_PAGE:
        listed = value["_embedded"]["notices"]
        if not isinstance(listed, list):
            raise InvalidInput(
                f"_embedded.notices must be a list of notices, not {type(listed).__name__}"
            )
        if not listed:
            raise InvalidInput("this search page lists no notice (_embedded.notices is empty)")
        page_kind = _kind_of_link(_link(value, "self")) or RED
        reads = tuple(
            _read_one(
                entry,
                _kind_of_link(_link(entry, "self")) or page_kind,
                f"_embedded.notices[{index}]",
                shape,
                sha,
                len(raw),
            )
            for index, entry in enumerate(listed)
        )
        return NoticeFile(shape, raw, sha, reads)
    kind = YELLOW if shape is Shape.YELLOW else RED
    return NoticeFile(shape, raw, sha, (_read_one(value, kind, "", shape, sha, len(raw)),))


def _read_one(
    entry: Any, kind: str, position: str, shape: Shape, sha: str, size: int
) -> NoticeRead:
    notice_id = str(entry.get("entity_id") or "") if isinstance(entry, dict) else ""
    if kind not in KINDS:
        error = InvalidInput(
            f"{position} is a {kind} notice: Accord opens cases from red and yellow notices"
        )
        return NoticeRead(position, notice_id, kind, None, error)
    source = {
        "api": API,
        "shape": shape.value,
        "sha256": sha,
        "size": size,
        "position": position,
        "summary": shape is Shape.SEARCH_PAGE,
    }
    try:
        details = notice_details(entry, kind, where=position, source=source)
    except InvalidInput as exc:
        return NoticeRead(position, notice_id, kind, None, exc)
    return NoticeRead(position, details["notice_id"], kind, details, None)


# -- one notice -------------------------------------------------------------------------------


def notice_details(
    data: Any,
    kind: str,
    *,
    where: str = "",
    source: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The fugitive case's opening details from one notice object (public API field names);
    every problem is named by the notice's field, all of them at once."""
    prefix = f"{where}." if where else ""
    if not isinstance(data, dict):
        raise InvalidInput(f"{where or 'a notice'} must be a JSON object, not {_looks_like(data)}")
    problems = _Problems(prefix)
    if contains_nul(data):
        problems.add("", "contains a NUL (U+0000) character, which no notice field may hold")
        problems.raise_any()
    summary = bool(source and source.get("summary"))
    details: dict[str, Any] = {
        "notice_kind": kind,
        "notice_id": _text(data, "entity_id", problems, 64),
        "name": _text(data, "name", problems, NAME_MAX, required="the family name"),
        "forename": _text(data, "forename", problems, NAME_MAX),
        "date_of_birth": notice_date(data, "date_of_birth", problems),
        "place_of_birth": _text(data, "place_of_birth", problems, NAME_MAX),
        "country_of_birth": _country(
            data.get("country_of_birth_id"), "country_of_birth_id", problems
        ),
        "nationalities": _countries(data, "nationalities", problems),
        "sex": _sex(data.get("sex_id"), problems),
        "height": _measure(data, "height", problems, 3.0, "metres", "1.75"),
        "weight": _measure(data, "weight", problems, 500.0, "kilograms", "70"),
        "eyes_colors": _codes(data, "eyes_colors_id", problems),
        "hairs": _codes(data, "hairs_id", problems),
        "distinguishing_marks": _text(data, "distinguishing_marks", problems, TEXT_MAX),
        "languages_spoken": _codes(data, "languages_spoken_ids", problems),
        "arrest_warrants": _warrants(data, problems, required=kind == RED and not summary),
    }
    if kind == YELLOW:
        details.update(
            {
                "birth_name": _text(data, "birth_name", problems, NAME_MAX),
                "father_name": _text(data, "father_name", problems, NAME_MAX),
                "father_forename": _text(data, "father_forename", problems, NAME_MAX),
                "mother_name": _text(data, "mother_name", problems, NAME_MAX),
                "mother_forename": _text(data, "mother_forename", problems, NAME_MAX),
                "disappeared_on": notice_date(data, "date_of_event", problems),
                "disappearance_place": _text(data, "place", problems, NAME_MAX),
                "disappearance_country": _country(data.get("country"), "country", problems),
                "countries_likely_to_be_visited": _countries(
                    data, "countries_likely_to_be_visited", problems
                ),
            }
        )
    elif kind == RED and any(data.get(f) for f in YELLOW_FIELDS):
        found = ", ".join(f for f in YELLOW_FIELDS if data.get(f))
        problems.add(
            "_links.self",
            f"names a red notice, but the notice carries a yellow notice's fields ({found})",
        )
    problems.raise_any()
    content = {k: v for k, v in details.items() if v not in ("", [], None)}
    details["source"] = {
        "api": API,
        "shape": Shape.RED.value if kind == RED else Shape.YELLOW.value,
        "sha256": "",
        "size": 0,
        "position": "",
        "summary": False,
        **(source or {}),
        "content_sha256": sha256_hex(canonical_bytes(content)),
        "links": {name: _link(data, name)[:TEXT_MAX] for name in ("self", "images", "thumbnail")},
        "unmapped": sorted(str(k) for k in data if k not in MAPPED)[:100],
    }
    return details


def _present(data: Mapping[str, Any], field: str) -> Any:
    value = data.get(field)
    return None if value in (None, "") else value


def _text(
    data: Mapping[str, Any],
    field: str,
    problems: _Problems,
    max_length: int,
    *,
    required: str = "",
) -> str:
    value = _present(data, field)
    if value is None:
        if required:
            problems.add(field, f"is empty: {required} is required", "missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.add(field, f"must be text, not {_json_type(value)}")
        return ""
    text = str(value).strip()
    if not text and required:
        problems.add(field, f"is empty: {required} is required", "missing")
    if len(text) > max_length:
        problems.add(field, f"is {len(text)} characters long; at most {max_length} are kept")
        return ""
    return text


def _json_type(value: Any) -> str:
    return {
        type(None): "null",
        dict: "an object",
        list: "a list",
        bool: "true or false",
        str: "text",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _listed(data: Mapping[str, Any], field: str, problems: _Problems) -> list[Any]:
    value = data.get(field)
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [value]  # a single code where the API usually sends a list of one
    if not isinstance(value, list):
        problems.add(field, f"must be a list, not {type(value).__name__}")
        return []
    return value


def _country(value: Any, field: str, problems: _Problems) -> str:
    if value in (None, ""):
        return ""
    code = value.strip().upper() if isinstance(value, str) else None
    if code is None or not COUNTRY.match(code):
        problems.add(field, f"{value!r} is not an ISO 3166 alpha-2 country code (such as CN)")
        return ""
    return code


def _countries(data: Mapping[str, Any], field: str, problems: _Problems) -> list[str]:
    codes = []
    for index, value in enumerate(_listed(data, field, problems)):
        code = _country(value, f"{field}[{index}]", problems)
        if code and code not in codes:
            codes.append(code)
    return codes


def _codes(data: Mapping[str, Any], field: str, problems: _Problems) -> list[str]:
    """Codes of the API's lists (languages SPA, eye colours BRO, hair BLA), as given."""
    codes = []
    for index, value in enumerate(_listed(data, field, problems)):
        code = value.strip().upper() if isinstance(value, str) else None
        if code is None or not CODE.match(code):
            problems.add(f"{field}[{index}]", f"{value!r} is not a code of the API (such as BRO)")
        elif code not in codes:
            codes.append(code)
    return codes


def _sex(value: Any, problems: _Problems) -> str:
    if value in (None, ""):
        return ""
    code = value.strip().upper() if isinstance(value, str) else None
    if code not in ("M", "F", "U"):
        problems.add("sex_id", f"{value!r} is not M, F or U")
        return ""
    return code


def _measure(
    data: Mapping[str, Any],
    field: str,
    problems: _Problems,
    most: float,
    unit: str,
    example: str,
) -> float | None:
    """Height in metres, weight in kilograms; the API writes 0 when it is not known."""
    value = data.get(field)
    if value in (None, "", 0):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(field, f"must be a number of {unit} (such as {example}), not {value!r}")
        return None
    if not 0 < value <= most:
        problems.add(
            field,
            f"{value} is not a {field} in {unit}: the notices API gives it in {unit} "
            f"(such as {example}), 0 when not known",
        )
        return None
    return float(value)


def _warrants(
    data: Mapping[str, Any], problems: _Problems, *, required: bool
) -> list[dict[str, str]]:
    listed = _listed(data, "arrest_warrants", problems)
    named = {p.path[-1] for p in problems.items if p.path}
    if not listed and required and "arrest_warrants" not in named:
        problems.add(
            "arrest_warrants",
            "is empty: a red notice carries at least one arrest warrant (a missing person's "
            "notice is a yellow notice)",
            "missing",
        )
    warrants = []
    for index, entry in enumerate(listed):
        where = f"arrest_warrants[{index}]"
        if not isinstance(entry, dict):
            problems.add(where, f"must be an object, not {_json_type(entry)}")
            continue
        inner = _Problems(f"{problems.where}{where}.")
        country = _present(entry, "issuing_country_id")
        if country is None:
            inner.add("issuing_country_id", "is empty: the issuing country is required", "missing")
        warrants.append(
            {
                "issuing_country": _country(country, "issuing_country_id", inner)
                if country is not None
                else "",
                "charge": _text(entry, "charge", inner, CHARGE_MAX, required="the charge"),
                "charge_translation": _text(entry, "charge_translation", inner, CHARGE_MAX),
            }
        )
        problems.items.extend(inner.items)
    return warrants


# -- dates ------------------------------------------------------------------------------------

_YMD = re.compile(r"^(\d{4})(?:[/-](\d{1,2})(?:[/-](\d{1,2}))?)?$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def notice_date(data: Mapping[str, Any], field: str, problems: _Problems) -> str:
    """A notice's date as ISO 8601 (`1970`, `1970-05`, `1970-05-12`). The API writes
    `YYYY/MM/DD` (or `YYYY/MM`, `YYYY` when that is all it knows); a day-first or month-first
    date is read when only one reading is a date, and refused as ambiguous otherwise."""
    value = _present(data, field)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.add(field, f"must be text such as 1970/05/12, not {_json_type(value)}")
        return ""
    text = value.strip()
    if match := _YMD.match(text):
        year, month, day = (int(g) if g else None for g in match.groups())
        return _checked(field, text, int(year or 0), month, day, problems)
    if match := _DMY.match(text):
        first, second, year = (int(g) for g in match.groups())
        readings = {(m, d) for m, d in ((second, first), (first, second)) if _is_date(year, m, d)}
        if len(readings) > 1:
            day_first = f"{first} {calendar.month_name[second]}"
            month_first = f"{calendar.month_name[first]} {second}"
            problems.add(
                field,
                f"{text!r} is ambiguous ({day_first} or {month_first} {year}?): the notices API "
                f"writes dates as YYYY/MM/DD; write {year}/{second:02d}/{first:02d} or "
                f"{year}/{first:02d}/{second:02d}",
            )
            return ""
        if readings:
            ((month, day),) = readings
            return _checked(field, text, year, month, day, problems)
    problems.add(
        field,
        f"{text!r} is not a date as notices write them: YYYY/MM/DD, YYYY/MM or YYYY "
        "(such as 1970/05/12)",
    )
    return ""


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _checked(
    field: str, text: str, year: int, month: int | None, day: int | None, problems: _Problems
) -> str:
    if month is not None and not 1 <= month <= 12:
        problems.add(field, f"{text!r} has no month {month}")
        return ""
    if month is not None and day is not None and not _is_date(year, month, day):
        problems.add(field, f"{text!r} is not a day of the calendar")
        return ""
    if year < EARLIEST_YEAR or (year, month or 1, day or 1) > date.today().timetuple()[:3]:
        problems.add(
            field, f"{text!r} is not a plausible date (before {EARLIEST_YEAR} or in the future)"
        )
        return ""
    if day is not None:
        return f"{year:04d}-{month:02d}-{day:02d}"
    return f"{year:04d}-{month:02d}" if month is not None else f"{year:04d}"
