"""HTML forms from a payload's JSON schema, and the posted form back into a payload.

string → text input (textarea when long), boolean → checkbox, enum (or a pattern of a few
words, `^(M|F|U)?$`) → select, a country code → a select of countries, a partial date → a
text input for YYYY, YYYY-MM or YYYY-MM-DD, array of enum → checkboxes, array of country codes
→ a multiple select, array of strings → one item per line, date → date input, integer/number →
number input; an array of flat objects (persons, warrants, amounts, indicators) → repeatable
rows, one input per column; other nested objects → a JSON textarea with an example.
Enumeration values are shown with their declared English or Chinese labels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from typing import Any, Literal, Protocol

from babel import Locale

from accord.cases.casetype import CaseTypes, FieldMeta
from accord.cases.schemas import CaseHeader
from accord.cases.workflow import json_schema
from accord.core import jsontext
from accord.core.errors import InvalidInput, Problem, Problems
from accord.core.i18n import translations
from accord.core.labels import Lang, label, pick
from accord.web.i18n import field_label
from accord.web.messages import CHOICES, explain, explain_at, where

Schema = dict[str, Any]
Kind = Literal[
    "text", "textarea", "checkbox", "select", "checkboxes", "lines", "date", "datetime",
    "number", "json", "country", "countries", "partial_date", "rows", "currency",
]  # fmt: skip
LONG_TEXT = 2000
"""Strings allowed to be longer than this get a textarea."""
MAX_ROWS = 10000
"""The most rows a posted form is read for (a batch holds at most 5,000 persons)."""
BLANK_ROWS = 2
"""Empty rows offered below the filled ones (a script adds more; without it, send the form
with rows filled to get new empty ones)."""
COUNTRY_PATTERNS = frozenset({r"^[A-Z]{2}$", r"^([A-Z]{2})?$"})
PARTIAL_DATE_PATTERN = r"^(\d{4}(-\d{2}(-\d{2})?)?)?$"
CHOICE_PATTERN = re.compile(r"^\^\(((?:[a-z0-9_]+\|)+[a-z0-9_]+)\)\??\$$", re.IGNORECASE)
"""A pattern that lists a few words (`^(M|F|U)?$`, `^(ipv4|ipv6|...)$`): a select."""
FLAT_KINDS = frozenset(
    {"text", "textarea", "checkbox", "select", "date", "datetime", "number", "country",
     "partial_date", "currency"}
)  # fmt: skip
"""The kinds a column of repeatable rows may have."""


class PostedForm(Protocol):
    """What Starlette's FormData offers (and a dict of lists, in tests)."""

    def getlist(self, key: str) -> list[Any]: ...


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass
class FormField:
    name: str
    """the payload key; the input is named `prefix + name`"""
    label: str
    """English label, the catalog msgid"""
    kind: Kind
    required: bool
    hint: str = ""
    """English hint (the schema's description), the catalog msgid"""
    options: list[Option] = field(default_factory=list)
    value: Any = None
    """what the input shows: a string, a list of strings (checkboxes) or a bool (checkbox)"""
    example: str = ""
    """for JSON fields: an example value"""
    max_length: int | None = None
    error: str = ""
    columns: list[FormField] = field(default_factory=list)
    """for rows: the fields of an empty row (its inputs named with `__i__` for the row)"""
    rows: list[list[FormField]] = field(default_factory=list)
    """for rows: the fields of each row shown, filled ones first, then empty ones"""
    prefix: str = ""
    """for rows: the input names' prefix (`d.persons.`)"""


# -- reading a schema -------------------------------------------------------------------------


def _resolve(prop: Schema, defs: Mapping[str, Schema]) -> Schema:
    """Follow $ref (and a single allOf), merging the referring schema's own keys."""
    if "$ref" in prop:
        target = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
        merged = {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
        return _resolve(merged, defs)
    if "allOf" in prop and len(prop["allOf"]) == 1:
        merged = {**_resolve(prop["allOf"][0], defs), **{k: v for k, v in prop.items()}}
        merged.pop("allOf")
        return merged
    return prop


def _unwrap_optional(prop: Schema, defs: Mapping[str, Schema]) -> tuple[Schema, bool]:
    """(the schema, whether null is allowed) for `X | None`."""
    prop = _resolve(prop, defs)
    options = prop.get("anyOf")
    if options:
        real = [o for o in options if o.get("type") != "null"]
        if len(real) == 1:
            inner = _resolve(real[0], defs)
            outer = {k: v for k, v in prop.items() if k != "anyOf"}
            return {**inner, **outer}, len(real) != len(options)
    return prop, False


@cache
def _enum_classes() -> dict[tuple[str, frozenset[str]], type[StrEnum]]:
    """Every StrEnum loaded, by (class name, values): how a schema's enum finds its labels."""
    import accord.cases.definitions  # noqa: F401  (loads the enumerations of every case type)

    found: dict[tuple[str, frozenset[str]], type[StrEnum]] = {}
    pending: list[type[StrEnum]] = list(StrEnum.__subclasses__())
    while pending:
        cls = pending.pop()
        found.setdefault((cls.__name__, frozenset(m.value for m in cls)), cls)
        pending.extend(cls.__subclasses__())
    return found


def enum_label(prop: Schema, value: Any, lang: Lang) -> str:
    cls = _enum_classes().get((str(prop.get("title", "")), frozenset(map(str, prop["enum"]))))
    if cls is None:
        known = CHOICES.get(str(value))
        return translations(lang).gettext(known) if known else str(value)
    try:
        return label(cls(value), lang)
    except (KeyError, ValueError):
        return str(value)


def _choices(prop: Schema) -> list[str]:
    """The words a pattern like `^(M|F|U)?$` allows, or [] for any other pattern."""
    found = CHOICE_PATTERN.match(str(prop.get("pattern", "")))
    return found.group(1).split("|") if found else []


def _kind(prop: Schema, defs: Mapping[str, Schema]) -> tuple[Kind, Schema | None]:
    """The input kind for a property, and for arrays the resolved item schema."""
    if "enum" in prop:
        return "select", None
    kind = prop.get("type")
    if kind == "boolean":
        return "checkbox", None
    if kind in ("integer", "number"):
        return "number", None
    if kind == "string":
        if prop.get("format") == "date":
            return "date", None
        if prop.get("format") == "date-time":
            return "datetime", None
        if prop.get("pattern") in COUNTRY_PATTERNS:
            return "country", None
        if prop.get("pattern") == PARTIAL_DATE_PATTERN:
            return "partial_date", None
        if _choices(prop):
            return "select", None
        limit = prop.get("maxLength")
        return ("textarea" if limit is None or limit > LONG_TEXT else "text"), None
    if kind == "array":
        items, _ = _unwrap_optional(prop.get("items", {}), defs)
        if "enum" in items:
            return "checkboxes", items
        if items.get("type") == "string" and items.get("pattern") in COUNTRY_PATTERNS:
            return "countries", items
        if items.get("type") == "string" and "format" not in items:
            return "lines", items
        if _flat(items, defs):
            return "rows", items
        return "json", items
    return "json", None


def _flat(items: Schema, defs: Mapping[str, Schema]) -> bool:
    """Whether an array's items are objects of plain fields: rows with one input a column."""
    properties = items.get("properties")
    if not properties:
        return False
    for raw in properties.values():
        prop, _ = _unwrap_optional(raw, defs)
        if _kind(prop, defs)[0] not in FLAT_KINDS:
            return False
    return True


DECLARED_KINDS: Mapping[str, Kind] = {
    "country": "country",
    "countries": "countries",
    "currency": "currency",
    "date": "partial_date",
    "partial_date": "partial_date",
    "longtext": "textarea",
}
"""A case type's `FieldMeta.kind` for a text field (or a list of them), as the input it gets."""


def _declared_kind(kind: Kind, declared: FieldMeta | None) -> Kind:
    if declared is None or kind not in ("text", "textarea", "lines", "select"):
        return kind
    if declared.kind == "countries" or (declared.kind == "country" and kind == "lines"):
        return "countries" if kind == "lines" else kind
    wanted = DECLARED_KINDS.get(declared.kind)
    return wanted if wanted is not None and kind != "lines" else kind


@cache
def _currencies(lang: Lang) -> tuple[Option, ...]:
    """Every currency by its ISO 4217 code, named in `lang`, the common ones first."""
    names = {
        str(k): str(v) for k, v in Locale.parse("zh" if lang == "zh" else "en").currencies.items()
    }
    first = ("USD", "CNY", "EUR", "HKD", "GBP", "JPY")
    ordered = [*first, *sorted(c for c in names if len(c) == 3 and c not in first)]
    return tuple(Option(code, f"{code} · {names.get(code, code)}") for code in ordered)


@cache
def _countries(lang: Lang) -> tuple[Option, ...]:
    """Every country by its ISO 3166 alpha-2 code, named in `lang` (Babel's CLDR data)."""
    names = Locale.parse("zh" if lang == "zh" else "en").territories
    shown = [
        Option(code, f"{name} ({code})")
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in ("ZZ", "EU", "EZ", "UN", "QO")
    ]
    return tuple(sorted(shown, key=lambda o: o.label))


def country_options(lang: Lang) -> list[Option]:
    return list(_countries(lang))


def _choice_options(prop: Schema, lang: Lang) -> list[Option]:
    gettext = translations(lang).gettext
    return [
        Option(word, gettext(CHOICES[word]) if word in CHOICES else word) for word in _choices(prop)
    ]


def _row_count(posted: PostedForm, prefix: str) -> int:
    """How many rows a posted form holds (its hidden count), within MAX_ROWS."""
    sent = posted.getlist(prefix + "count")
    try:
        return max(0, min(int(str(sent[0])), MAX_ROWS)) if sent else 0
    except ValueError:
        return 0


def _example(prop: Schema, defs: Mapping[str, Schema], depth: int = 0) -> Any:
    """A small example value for a JSON field: the shape an officer has to type."""
    prop, nullable = _unwrap_optional(prop, defs)
    if depth > 3:
        return None
    if "default" in prop and prop["default"] not in (None, "", []):
        return prop["default"]
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "object" or "properties" in prop:
        return {
            name: _example(sub, defs, depth + 1)
            for name, sub in prop.get("properties", {}).items()
            if name in prop.get("required", ()) or depth == 0
        }
    if kind == "array":
        return [_example(prop.get("items", {}), defs, depth + 1)]
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 0
    if nullable:
        return None
    return "…"


def form_fields(
    schema: Schema,
    lang: Lang,
    *,
    posted: PostedForm | None = None,
    prefix: str = "f.",
    errors: Mapping[str, str] | None = None,
    meta: Mapping[str, FieldMeta] | None = None,
) -> list[FormField]:
    """The fields of a payload schema, filled from a posted form when one is given; `meta` (the
    case type's form metadata) gives labels and hints in both languages where it has them."""
    defs: Mapping[str, Schema] = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    fields: list[FormField] = []
    for name, raw in schema.get("properties", {}).items():
        prop, _ = _unwrap_optional(raw, defs)
        kind, items = _kind(prop, defs)
        declared = (meta or {}).get(name)
        if declared is not None and declared.kind == "sex" and kind != "lines":
            prop = {**prop, "pattern": r"^(M|F|U)?$"}
            kind = "select"
        kind = _declared_kind(kind, declared)
        hint = str(raw.get("description") or prop.get("description") or "")
        if declared is not None and (declared.hint_en or declared.hint_zh):
            hint = pick(lang, declared.hint_en, declared.hint_zh)
        entry = FormField(
            name=name,
            label=pick(lang, declared.en, declared.zh) if declared else field_label(name),
            kind=kind,
            required=name in required,
            hint=hint,
            max_length=prop.get("maxLength"),
            error=(errors or {}).get(name, ""),
        )
        inner = _inner_errors(errors, name)
        enum_schema = items if kind == "checkboxes" else prop
        if kind in ("select", "checkboxes") and enum_schema is not None:
            entry.options = (
                [Option(str(v), enum_label(enum_schema, v, lang)) for v in enum_schema["enum"]]
                if "enum" in enum_schema
                else _choice_options(enum_schema, lang)
            )
        if kind in ("country", "countries"):
            entry.options = country_options(lang)
        if kind == "currency":
            entry.options = list(_currencies(lang))
        if kind == "json":
            entry.example = json.dumps(_example(prop, defs), ensure_ascii=False)
        if kind == "rows" and items is not None:
            inner = _fill_rows(
                entry, {**items, "$defs": defs}, lang, posted, prefix, meta, prop, inner
            )
        else:
            posted_values = posted.getlist(prefix + name) if posted else None
            entry.value = _shown_value(kind, prop, posted_values)
        colon = pick(lang, ": ", "：")
        entry.error = " ".join(
            [
                *([entry.error] if entry.error else []),
                *(f"{where(path, lang, meta)}{colon}{what}" for path, what in inner.items()),
            ]
        )
        fields.append(entry)
    return fields


Path = tuple[str | int, ...]


def _inner_errors(errors: Mapping[str, str] | None, name: str) -> dict[Path, str]:
    """The errors `field_errors` keyed inside field `name` (`persons.2.birth_date`), by their
    path below it: `(2, "birth_date")`."""
    found: dict[Path, str] = {}
    for key, what in (errors or {}).items():
        top, dot, rest = key.partition(".")
        if dot and top == name:
            found[tuple(int(p) if p.isdigit() else p for p in rest.split("."))] = what
    return found


def _fill_rows(
    entry: FormField,
    items: Schema,
    lang: Lang,
    posted: PostedForm | None,
    prefix: str,
    meta: Mapping[str, FieldMeta] | None,
    prop: Schema,
    inner: Mapping[Path, str],
) -> dict[Path, str]:
    """The rows of a repeatable field: those posted (or the default's), then empty ones. The
    errors `inner` of payload rows (numbered without the empty and removed rows) go beside the
    cell of the row the officer typed them in; returned by that row's number as shown, to be
    named beside the table too (and those no row shows, as they came)."""
    entry.prefix = f"{prefix}{entry.name}."
    entry.columns = form_fields(items, lang, prefix=f"{entry.prefix}__i__.", meta=meta)
    left = dict(inner)
    named: dict[Path, str] = {}
    if posted is not None:
        count = _row_count(posted, entry.prefix)
        payload_row = {i: k for k, i in enumerate(_typed_rows(items, posted, entry.prefix))}
        shown = [i for i in range(count) if not posted.getlist(f"{entry.prefix}{i}._remove")]
        filled = []
        for number, i in enumerate(shown):
            k = payload_row.get(i)
            cells: dict[str, str] = {}
            for path in [p for p in left if k is not None and p[0] == k]:
                what = left.pop(path)
                column = path[1] if len(path) > 1 and isinstance(path[1], str) else None
                if column is not None:
                    cells[column] = what
                shown_at = (number, column) if column is not None else (number,)
                named[shown_at] = f"{named[shown_at]} {what}" if shown_at in named else what
            filled.append(
                form_fields(
                    items,
                    lang,
                    posted=posted,
                    prefix=f"{entry.prefix}{i}.",
                    meta=meta,
                    errors=cells,
                )
            )
    else:
        filled = []
        for default in prop.get("default") or []:
            row = _DefaultRow(default)
            filled.append(form_fields(items, lang, posted=row, prefix="", meta=meta))
    blank = [form_fields(items, lang, meta=meta) for _ in range(BLANK_ROWS)]
    entry.rows = filled + blank
    entry.value = str(len(entry.rows))
    return {**named, **left}


class _DefaultRow:
    """One default row as a posted form (its values by field name)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def getlist(self, key: str) -> list[Any]:
        value = self.values.get(key)
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _shown_value(kind: Kind, prop: Schema, posted: list[Any] | None) -> Any:
    if posted is None:  # a fresh form: the schema's default
        default = prop.get("default")
        if kind == "checkbox":
            return bool(default)
        if kind in ("checkboxes", "countries"):
            return [str(v) for v in default or []]
        if kind == "lines":
            return "\n".join(str(v) for v in default or [])
        if kind == "json":
            return "" if default in (None, [], {}) else json.dumps(default, ensure_ascii=False)
        return "" if default is None else str(default)
    values = [str(v) for v in posted]
    if kind == "checkbox":
        return bool(values)
    if kind in ("checkboxes", "countries"):
        return values
    return values[0] if values else ""


# -- reading a posted form --------------------------------------------------------------------


def parse_form(schema: Schema, posted: PostedForm, *, prefix: str = "f.") -> dict[str, Any]:
    """The payload an officer typed: empty optional inputs are left out so that the model's
    defaults apply; the service validates the result against the same schema."""
    defs: Mapping[str, Schema] = schema.get("$defs", {})
    payload: dict[str, Any] = {}
    for name, raw in schema.get("properties", {}).items():
        prop, _ = _unwrap_optional(raw, defs)
        kind, _items = _kind(prop, defs)
        values = [str(v) for v in posted.getlist(prefix + name)]
        text = values[0].strip() if values else ""
        if kind == "checkbox":
            payload[name] = bool(values) and text not in ("", "false", "off", "0")
        elif kind in ("checkboxes", "countries"):
            payload[name] = [v for v in values if v]
        elif kind == "rows" and _items is not None:
            rows = _parse_rows({**_items, "$defs": defs}, posted, f"{prefix}{name}.")
            if rows or name in schema.get("required", ()):
                payload[name] = rows
        elif kind == "lines":  # one per line, or one per value (a multiple select)
            lines = [line.strip() for value in values for line in value.splitlines()]
            if any(lines):
                payload[name] = [line for line in lines if line]
        elif not text:
            continue
        elif kind == "json":
            try:
                payload[name] = jsontext.loads(text)
            except json.JSONDecodeError as exc:
                problem = Problem((name,), "json_invalid", "not valid JSON", {"error": exc.msg})
                problems = Problems((problem,))
                raise InvalidInput(
                    f"{name}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
                    detail={"errors": problems.text},
                    problems=problems,
                ) from None
        elif kind == "datetime":
            payload[name] = text if text.endswith("Z") or "+" in text[10:] else text + "Z"
        else:
            payload[name] = text  # numbers too: the model converts "12" and explains "x"
    return payload


def _parse_rows(items: Schema, posted: PostedForm, prefix: str) -> list[dict[str, Any]]:
    """The rows an officer filled in, in order: empty and removed rows are left out."""
    return [
        parse_form(items, posted, prefix=f"{prefix}{i}.")
        for i in _typed_rows(items, posted, prefix)
    ]


def _typed_rows(items: Schema, posted: PostedForm, prefix: str) -> list[int]:
    """The numbers of the posted rows that hold something typed and are not removed: row k of
    the payload is the form's row `_typed_rows(...)[k]`."""
    defs: Mapping[str, Schema] = items.get("$defs", {})
    defaults = {
        name: _unwrap_optional(raw, defs)[0].get("default")
        for name, raw in items.get("properties", {}).items()
    }
    kept: list[int] = []
    for i in range(_row_count(posted, prefix)):
        row = f"{prefix}{i}."
        if posted.getlist(row + "_remove"):
            continue
        typed = [
            str(v).strip()
            for name, default in defaults.items()
            for v in posted.getlist(row + name)
            if str(v).strip() not in ("", "" if default is None else str(default))
        ]
        if typed:  # not an empty row (a select left at its default is not a value typed)
            kept.append(i)
    return kept


def field_errors(
    error: InvalidInput, lang: Lang = "en", meta: Mapping[str, FieldMeta] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Split a validation error into messages per top-level field, per cell of a row
    (`persons.2.birth_date`, the payload's row; `form_fields` puts it beside the cell the
    officer typed it in) and the rest, each in the officer's language, naming what is wrong and
    what to do (web.messages)."""
    by_field: dict[str, str] = {}
    general: list[str] = []
    for top, what in _by_top_field(error, lang, meta):
        if top:
            by_field[top] = f"{by_field[top]} {what}" if top in by_field else what
        else:
            general.append(what)
    return by_field, general


def _by_top_field(
    error: InvalidInput, lang: Lang, meta: Mapping[str, FieldMeta] | None
) -> Iterator[tuple[str, str]]:
    """(top-level field, or "" for the whole input; message) of each problem. An error raised
    without its problems names them in its text ("field: message; field: message")."""
    if error.problems:
        for problem in error.problems:
            later = problem.ctx.get("later") if problem.type == "date_order" else None
            path = problem.path
            if isinstance(later, str):  # two fields out of order: beside the later one
                path = (*path, later)
            if len(path) >= 2 and isinstance(path[1], int):  # a row's: by row and column
                cell = ".".join(str(p) for p in path[:3])
                yield cell, explain_at(replace(problem, path=path[2:]), lang, meta)
            elif path and not problem.path:
                yield str(path[0]), explain(problem, lang, meta)
            elif path:
                yield str(path[0]), explain_at(problem, lang, meta)
            else:
                yield "", explain(problem, lang, meta)
        return
    text = str(error.detail.get("errors") or "")
    for part in filter(None, (p.strip() for p in text.split("; "))):
        where, sep, what = part.partition(": ")
        top = where.split(".")[0]
        if sep and top and top != "(root)":
            yield top, what
        else:
            yield "", what or where


# -- showing a payload ------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """One field of a payload, readable: a text, or nested entries (objects, lists of them)."""

    label: str
    """English label, the catalog msgid"""
    text: str = ""
    nested: Sequence[Sequence[Shown]] = ()


def readable(
    schema: Schema,
    payload: Mapping[str, Any],
    lang: Lang,
    gettext: Callable[[str], str],
    meta: Mapping[str, FieldMeta] | None = None,
) -> list[Shown]:
    """A payload's fields as the officer reads them: labelled as the case type declares (or
    from their names), choices and countries by their names in `lang`."""
    defs: Mapping[str, Schema] = schema.get("$defs", {})
    properties: Mapping[str, Schema] = schema.get("properties", {})
    shown: list[Shown] = []
    names = [*properties, *(k for k in payload if k not in properties)]
    for name in names:
        if name not in payload:
            continue
        value = payload[name]
        if value in (None, "", [], {}):
            continue
        prop, _ = _unwrap_optional(properties.get(name, {}), defs)
        declared = (meta or {}).get(name)
        title = pick(lang, declared.en, declared.zh) if declared else field_label(name)
        shown.append(_show(title, prop, value, defs, lang, gettext, meta))
    return shown


def _scalar(prop: Schema, value: Any, lang: Lang, gettext: Callable[[str], str]) -> str:
    """One value as text: a choice or a country by its name, anything else as it is."""
    text = str(value)
    if prop.get("pattern") in COUNTRY_PATTERNS:
        names = {o.value: o.label for o in _countries(lang)}
        return names.get(text, text)
    if text in _choices(prop) and text in CHOICES:
        return gettext(CHOICES[text])
    return text


def _show(
    name: str,
    prop: Schema,
    value: Any,
    defs: Mapping[str, Schema],
    lang: Lang,
    gettext: Callable[[str], str],
    meta: Mapping[str, FieldMeta] | None = None,
) -> Shown:
    if isinstance(value, bool):
        return Shown(name, gettext("Yes") if value else gettext("No"))
    if "enum" in prop:
        return Shown(name, enum_label(prop, value, lang))
    if isinstance(value, dict):
        return Shown(name, nested=[readable({**prop, "$defs": defs}, value, lang, gettext, meta)])
    if isinstance(value, list):
        items, _ = _unwrap_optional(prop.get("items", {}), defs)
        if all(isinstance(v, dict) for v in value):
            entries = [readable({**items, "$defs": defs}, v, lang, gettext, meta) for v in value]
            return Shown(name, nested=entries)
        separator = pick(lang, ", ", "、")
        if "enum" in items:
            return Shown(name, separator.join(enum_label(items, v, lang) for v in value))
        return Shown(name, separator.join(_scalar(items, v, lang, gettext) for v in value))
    return Shown(name, _scalar(prop, value, lang, gettext))


# -- the catalog's share ----------------------------------------------------------------------


def header_schema(opening: Schema) -> Schema:
    """The opening event's schema, with the case type's details in place of a free dict."""
    schema = json_schema(CaseHeader)
    defs = {**schema.get("$defs", {}), **opening.get("$defs", {})}
    details = {k: v for k, v in opening.items() if k != "$defs"}
    return {**schema, "properties": {**schema["properties"], "details": details}, "$defs": defs}


def schema_messages(case_types: CaseTypes) -> list[str]:
    """Every field label and hint that payload forms and timelines can show, for the catalog."""
    found: dict[str, None] = {}

    def walk(schema: Schema, defs: Mapping[str, Schema], depth: int = 0) -> None:
        for name, raw in schema.get("properties", {}).items():
            found[field_label(name)] = None
            prop, _ = _unwrap_optional(raw, defs)
            for text in (raw.get("description"), prop.get("description")):
                if text:
                    found[str(text)] = None
            inner = prop
            if prop.get("type") == "array":
                inner, _ = _unwrap_optional(prop.get("items", {}), defs)
            if "properties" in inner and depth < 4:
                walk(inner, defs, depth + 1)

    for workflow in (t.workflow for t in case_types):
        opening = header_schema(workflow.opening.model_json_schema())
        walk(opening, opening["$defs"])
        for action in workflow.actions:
            schema = action.payload.model_json_schema()
            walk(schema, schema.get("$defs", {}))
    return list(found)
