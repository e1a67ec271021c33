"""STIX 2.1 for Accord: bundles and indicators read with `stix2`, their patterns reduced to
observables the matcher can index, TLP 2.0 markings as handling codes, and Sightings built back."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import RFC_4122, UUID

import stix2
import stix2.exceptions
import stix2.patterns as sp
from stix2.pattern_visitor import create_pattern_object

from accord.cases.enums import HandlingCode
from accord.core import jsontext
from accord.core.errors import InvalidInput
from accord.core.labels import Labelled


class ObservableKind(Labelled):
    IPV4 = "ipv4", "IPv4 address or network", "IPv4 地址或网段"
    IPV6 = "ipv6", "IPv6 address or network", "IPv6 地址或网段"
    DOMAIN = "domain", "Domain name and its subdomains", "域名及其子域名"
    URL = "url", "URL", "网址"
    MD5 = "md5", "MD5 file hash", "MD5 文件哈希"
    SHA1 = "sha1", "SHA-1 file hash", "SHA-1 文件哈希"
    SHA256 = "sha256", "SHA-256 file hash", "SHA-256 文件哈希"
    EMAIL = "email", "E-mail address", "电子邮件地址"


class TlpLevel(Labelled):
    CLEAR = "clear", "TLP:CLEAR", "TLP:CLEAR 公开"
    GREEN = "green", "TLP:GREEN", "TLP:GREEN 社区内共享"
    AMBER = "amber", "TLP:AMBER", "TLP:AMBER 限本机构及其客户"
    AMBER_STRICT = "amber+strict", "TLP:AMBER+STRICT", "TLP:AMBER+STRICT 仅限本机构"
    RED = "red", "TLP:RED", "TLP:RED 仅限指定接收人"


@dataclass(frozen=True, slots=True)
class Observable:
    """One value an indicator looks for; for IP kinds `value` may be a network ('10.0.0.0/8')."""

    kind: ObservableKind
    value: str


@dataclass(frozen=True, slots=True)
class IndicatorPattern:
    """An indicator reduced for matching.

    Simple: the pattern is one comparison, or an OR of comparisons, that the index answers alone;
    a hit on any observable is a hit. Complex: `stix2-matcher` decides, and `observables` are
    anchors, values at least one of which every matching event must carry (empty: no anchor).
    """

    id: str
    pattern: str
    observables: tuple[Observable, ...]
    complex: bool = False
    marking_refs: tuple[str, ...] = ()


@dataclass
class CyberBundle:
    """A STIX 2.1 bundle read for a case: its indicators ready to match, and every object."""

    id: str
    indicators: list[IndicatorPattern]
    objects: list[dict[str, Any]]
    skipped: list[str] = field(default_factory=list)

    @property
    def handling_code(self) -> HandlingCode | None:
        """The strictest handling code the markings of its objects ask for (None: unmarked)."""
        return strictest(
            code for code in map(required_handling_code, self.objects) if code is not None
        )


# -- patterns ----------------------------------------------------------------------------------

_PATHS: dict[tuple[str, str], ObservableKind] = {
    ("ipv4-addr", "value"): ObservableKind.IPV4,
    ("ipv6-addr", "value"): ObservableKind.IPV6,
    ("domain-name", "value"): ObservableKind.DOMAIN,
    ("url", "value"): ObservableKind.URL,
    ("email-addr", "value"): ObservableKind.EMAIL,
}
# STIX 2.1 names them MD5, SHA-1, SHA-256; producers also write them without the hyphen.
_HASHES: dict[str, ObservableKind] = {
    "md5": ObservableKind.MD5,
    "sha-1": ObservableKind.SHA1,
    "sha1": ObservableKind.SHA1,
    "sha-256": ObservableKind.SHA256,
    "sha256": ObservableKind.SHA256,
}
_NETWORK_KINDS = (ObservableKind.IPV4, ObservableKind.IPV6)

# The shape nearly every feed uses, read without the ANTLR parser (which costs ~0.7 ms a pattern).
# A subset of the STIX 2.1 pattern grammar: strings escape only ' and \ as the grammar does.
_SIMPLE = re.compile(
    r"""\[\s*(?P<type>ipv4-addr|ipv6-addr|domain-name|url|email-addr|file)
    :(?P<prop>value|hashes\.(?:'[A-Za-z0-9-]+'|[A-Za-z0-9]+))
    \s*(?P<op>=|ISSUBSET)\s*'(?P<value>(?:[^'\\]|\\['\\])*)'\s*\]""",
    re.VERBOSE,
)
_UNESCAPE = re.compile(r"\\(.)")


def _kind_of_path(object_type: str, prop: Sequence[str]) -> ObservableKind | None:
    if object_type == "file" and len(prop) == 2 and prop[0] == "hashes":
        return _HASHES.get(prop[1].strip("'").lower())
    if len(prop) == 1:
        return _PATHS.get((object_type, prop[0]))
    return None


def _observable(kind: ObservableKind, op: str, value: str) -> Observable | None:
    if op == "ISSUBSET" and kind not in _NETWORK_KINDS:
        return None
    if op == "ISSUBSET" and "/" not in value:
        value += "/32" if kind is ObservableKind.IPV4 else "/128"
    return Observable(kind, value)


def _parse_pattern(pattern: str) -> Any:
    try:
        return create_pattern_object(pattern, version="2.1")
    except Exception as exc:  # the ANTLR front end raises bare Exceptions with the position
        raise ValueError(str(exc).strip() or "not a STIX 2.1 pattern") from None


def _comparison_terms(expr: Any) -> list[Observable] | None:
    """The observables of an OR of plain comparisons; None if it is anything else."""
    if isinstance(expr, sp.OrBooleanExpression):
        terms: list[Observable] = []
        for operand in expr.operands:
            sub = _comparison_terms(operand)
            if sub is None:
                return None
            terms += sub
        return terms
    if isinstance(expr, sp.ParentheticalExpression):
        return _comparison_terms(expr.expression)
    if not isinstance(expr, sp._ComparisonExpression) or expr.negated:
        return None
    path = [c.property_name for c in expr.lhs.property_path]
    kind = _kind_of_path(expr.lhs.object_type_name, path)
    if kind is None:
        return None
    if expr.operator in ("=", "ISSUBSET") and isinstance(expr.rhs, sp.StringConstant):
        found = _observable(kind, expr.operator, expr.rhs.value)
        return None if found is None else [found]
    if expr.operator == "IN" and isinstance(expr.rhs, sp.ListConstant):
        values = [c.value for c in expr.rhs.value if isinstance(c, sp.StringConstant)]
        if len(values) != len(expr.rhs.value):
            return None
        return [Observable(kind, v) for v in values]
    return None


def _simple_terms(expr: Any) -> list[Observable] | None:
    """Observables of a pattern that is an OR (within or across observations) of comparisons."""
    if isinstance(expr, sp.ObservationExpression):
        return _comparison_terms(expr.operand)
    if isinstance(expr, sp.OrObservationExpression):
        terms: list[Observable] = []
        for operand in expr.operands:
            sub = _simple_terms(operand)
            if sub is None:
                return None
            terms += sub
        return terms
    if isinstance(expr, sp.ParentheticalExpression):
        return _simple_terms(expr.expression)
    return None


def _anchors(expr: Any) -> list[Observable] | None:
    """Values one of which every event matching `expr` must carry; None when there are none.

    An AND (of comparisons or observations) needs only one side's anchors, an OR needs all.
    """
    if isinstance(expr, sp.ObservationExpression):
        return _anchors(expr.operand)
    if isinstance(expr, sp.ParentheticalExpression):
        return _anchors(expr.expression)
    if isinstance(expr, sp.QualifiedObservationExpression):
        return _anchors(expr.observation_expression)
    if isinstance(expr, sp.OrBooleanExpression | sp.OrObservationExpression):
        union: list[Observable] = []
        for operand in expr.operands:
            sub = _anchors(operand)
            if sub is None:
                return None
            union += sub
        return union
    if isinstance(
        expr,
        sp.AndBooleanExpression | sp.AndObservationExpression | sp.FollowedByObservationExpression,
    ):
        options = [a for a in map(_anchors, expr.operands) if a is not None]
        return min(options, key=len) if options else None
    return _comparison_terms(expr)


def _simple_observable(pattern: str) -> Observable | None:
    """The one observable of a pattern of the shape nearly every feed uses, read by a regular
    expression; None for any other pattern (which the ANTLR parser must read)."""
    simple = _SIMPLE.fullmatch(pattern.strip())
    if simple is None:
        return None
    kind = _kind_of_path(simple["type"], simple["prop"].split(".", 1))
    if kind is None:
        return None
    return _observable(kind, simple["op"], _UNESCAPE.sub(r"\1", simple["value"]))


_HASH_DIGITS = {ObservableKind.MD5: 32, ObservableKind.SHA1: 40, ObservableKind.SHA256: 64}


def valid_simple_pattern(pattern: str) -> bool:
    """Whether a pattern is one the fast path reads and valid STIX 2.1 as the pattern validator
    of `stix2` would find it: its grammar, and a hash of the length its algorithm gives."""
    found = _simple_observable(pattern)
    if found is None:
        return False
    digits = _HASH_DIGITS.get(found.kind)
    return digits is None or re.fullmatch(f"[0-9a-fA-F]{{{digits}}}", found.value) is not None


def observables_of(pattern: str) -> tuple[tuple[Observable, ...], bool]:
    """(observables, complex) for a STIX 2.1 pattern; ValueError if it does not parse."""
    found = _simple_observable(pattern)
    if found is not None:
        return (found,), False
    expr = _parse_pattern(pattern)
    terms = _simple_terms(expr)
    if terms is not None:
        return tuple(terms), False
    return tuple(_anchors(expr) or ()), True


# -- bundles -----------------------------------------------------------------------------------

_INDICATOR_ID = re.compile(
    r"indicator--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def _where(position: int, obj: Mapping[str, Any]) -> str:
    return f"bundle object {position} ({obj.get('id') or obj.get('type') or 'no id'})"


def _validate(position: int, obj: Mapping[str, Any]) -> None:
    validate_object(obj, where=_where(position, obj))


_CUSTOM_PROPERTY = re.compile(r"[a-z0-9_]{3,250}")
"""STIX 2.1 §11.1: a custom property name is ASCII a-z, 0-9 and _, 3 to 250 characters"""
_CUSTOM_TYPE = re.compile(r"(?!.*--)[a-z0-9-]{3,250}")
"""STIX 2.1 §11.2: a custom object type is ASCII a-z, 0-9 and -, no '--', 3 to 250 characters"""
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_FAST_PATTERN_TYPE = "accord-simple-pattern"
"""stands in for `stix` while `stix2` checks the rest of an indicator whose pattern the fast path
has read (a pattern it reads is valid STIX 2.1 pattern grammar)"""
# The common properties of a custom object (§11.2), checked with the property types `stix2`
# declares for them on a standard object.
_COMMON = {
    name: prop
    for name, prop in stix2.v21.AttackPattern._properties.items()
    if name
    in {
        "created_by_ref",
        "created",
        "modified",
        "revoked",
        "labels",
        "confidence",
        "lang",
        "external_references",
        "object_marking_refs",
        "granular_markings",
        "extensions",
    }
}


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z")
_INDICATOR_STRINGS = ("name", "description", "pattern_version", "lang")
_INDICATOR_LISTS = ("indicator_types", "labels")
_INDICATOR_FIELDS = frozenset(
    {"type", "spec_version", "id", "created", "modified", "pattern", "pattern_type"}
    | {"valid_from", "valid_until", "revoked", "confidence", "created_by_ref"}
    | {"object_marking_refs", *_INDICATOR_STRINGS, *_INDICATOR_LISTS}
)


def _fast_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value[:-1])
    except ValueError:
        return None


def _fast_ref(value: Any, object_type: str) -> bool:
    prefix = object_type + "--"
    if not isinstance(value, str) or not value.startswith(prefix):
        return False
    try:
        return UUID(value[len(prefix) :]).variant == RFC_4122
    except ValueError:
        return False


def _fast_indicator(obj: Mapping[str, Any]) -> bool:
    """Whether an indicator of the common shape is valid, decided without `stix2`: every field
    one this check knows, each held to what `stix2` requires of it or more (a string, not
    something it would turn into one; a pattern the fast path reads). False means "not
    decided here": `stix2` decides, so nothing is accepted that `stix2` would refuse."""
    if not obj.keys() <= _INDICATOR_FIELDS or obj.get("spec_version") != "2.1":
        return False
    if obj.get("pattern_type") != "stix" or not isinstance(obj.get("pattern"), str):
        return False
    if not _fast_ref(obj.get("id"), "indicator") or not valid_simple_pattern(obj["pattern"]):
        return False
    created, modified, valid_from = (
        _fast_timestamp(obj.get(name)) for name in ("created", "modified", "valid_from")
    )
    if created is None or modified is None or valid_from is None or modified < created:
        return False
    if "valid_until" in obj:
        until = _fast_timestamp(obj["valid_until"])
        if until is None or until <= valid_from:
            return False
    for name in _INDICATOR_STRINGS:
        if name in obj and not isinstance(obj[name], str):
            return False
    for name in _INDICATOR_LISTS:
        values = obj.get(name, ["-"])
        if not isinstance(values, list) or not values:
            return False
        if not all(isinstance(v, str) and v for v in values):
            return False
    if not isinstance(obj.get("revoked", False), bool):
        return False
    confidence = obj.get("confidence", 0)
    if type(confidence) is not int or not 0 <= confidence <= 100:
        return False
    if "created_by_ref" in obj and not _fast_ref(obj["created_by_ref"], "identity"):
        return False
    markings = obj.get("object_marking_refs", ["marking-definition--" + str(_FAST_UUID)])
    return (
        isinstance(markings, list)
        and bool(markings)
        and all(_fast_ref(m, "marking-definition") for m in markings)
    )


_FAST_UUID = UUID("00000000-0000-4000-8000-000000000000")


def _stix_class(object_type: str) -> Any:
    return stix2.registry.class_for_type(
        object_type, "2.1", "objects"
    ) or stix2.registry.class_for_type(object_type, "2.1", "observables")


def validate_object(obj: Mapping[str, Any], *, where: str) -> None:
    """STIX 2.1 validation by `stix2`, custom content as §11 allows it (custom properties and
    custom object types), reported as `where` and the field at fault.

    An indicator whose pattern the fast path reads (`[ipv4-addr:value = '…']` and the like) is
    not parsed again by the ANTLR front end, which is most of the cost of validating it; one
    of the common shape is checked field by field without building `stix2` objects at all
    (`_fast_indicator`), `stix2` deciding whatever that check does not."""
    object_type = obj.get("type")
    if not isinstance(object_type, str):
        raise InvalidInput(f"{where}: field 'type': missing or not a string")
    if object_type == "indicator" and _fast_indicator(obj):
        return
    cls = _stix_class(object_type)
    names = [name for name in obj if cls is None or name not in cls._properties]
    for name in names:
        if name not in ("type", "id", "spec_version") and not _CUSTOM_PROPERTY.fullmatch(name):
            raise InvalidInput(
                f"{where}: field {name!r}: a custom property name is 3 to 250 characters "
                "a-z, 0-9 and _ (STIX 2.1 §11.1)"
            )
    if cls is None:
        _validate_custom_object(obj, object_type, where=where)
        return
    checked: Mapping[str, Any] = obj
    if (
        object_type == "indicator"
        and obj.get("pattern_type") == "stix"
        and isinstance(obj.get("pattern"), str)
        and valid_simple_pattern(obj["pattern"])
    ):
        checked = {**obj, "pattern_type": _FAST_PATTERN_TYPE}
    try:
        stix2.parse(dict(checked), allow_custom=True, version="2.1")
    except stix2.exceptions.InvalidValueError as exc:
        raise InvalidInput(f"{where}: field {exc.prop_name!r}: {exc.reason}") from None
    except stix2.exceptions.MissingPropertiesError as exc:
        missing = ", ".join(repr(p) for p in exc.properties)
        raise InvalidInput(f"{where}: missing required field(s) {missing}") from None
    except stix2.exceptions.ExtraPropertiesError as exc:
        extra = ", ".join(repr(p) for p in exc.properties)
        raise InvalidInput(f"{where}: unknown field(s) {extra}") from None
    except (stix2.exceptions.STIXError, ValueError, TypeError) as exc:
        raise InvalidInput(f"{where}: {exc}") from None


def _validate_custom_object(obj: Mapping[str, Any], object_type: str, *, where: str) -> None:
    """A custom object (STIX 2.1 §11.2): its type name, id and spec_version, and its common
    properties as `stix2` types them; its own properties are kept as they came."""
    if not _CUSTOM_TYPE.fullmatch(object_type):
        raise InvalidInput(
            f"{where}: field 'type': {object_type!r} is not a STIX type; a custom object type "
            "is 3 to 250 characters a-z, 0-9 and - without '--' (STIX 2.1 §11.2)"
        )
    ident = obj.get("id")
    if not isinstance(ident, str) or not re.fullmatch(re.escape(object_type) + "--" + _UUID, ident):
        raise InvalidInput(f"{where}: field 'id': expected {object_type}--<UUID>")
    if obj.get("spec_version") != "2.1":
        raise InvalidInput(f"{where}: field 'spec_version': expected '2.1'")
    cleaned: dict[str, Any] = {}
    for name, prop in _COMMON.items():
        if name in obj:
            try:
                cleaned[name], _ = prop.clean(obj[name], True)
            except (stix2.exceptions.STIXError, ValueError, TypeError) as exc:
                raise InvalidInput(f"{where}: field {name!r}: {exc}") from None
    if "modified" in cleaned:
        if "created" not in cleaned:
            raise InvalidInput(f"{where}: field 'created': required with 'modified'")
        if cleaned["modified"] < cleaned["created"]:
            raise InvalidInput(f"{where}: field 'modified': earlier than 'created'")


def _quick_check(position: int, obj: Mapping[str, Any]) -> None:
    """The fields matching relies on, for bundles too large for full validation."""
    where = _where(position, obj)
    if not isinstance(obj.get("id"), str) or not _INDICATOR_ID.fullmatch(obj["id"]):
        raise InvalidInput(f"{where}: field 'id': not an indicator id (indicator--<uuid>)")
    for name in ("pattern", "pattern_type", "valid_from"):
        if not isinstance(obj.get(name), str):
            raise InvalidInput(f"{where}: field {name!r}: missing or not a string")


def parse_indicator(obj: Mapping[str, Any], *, position: int = 0) -> IndicatorPattern:
    """An indicator object (already validated) reduced for matching."""
    try:
        observables, is_complex = observables_of(obj["pattern"])
    except ValueError as exc:
        raise InvalidInput(f"{_where(position, obj)}: field 'pattern': {exc}") from None
    return IndicatorPattern(
        id=obj["id"],
        pattern=obj["pattern"],
        observables=observables,
        complex=is_complex,
        marking_refs=tuple(obj.get("object_marking_refs", ())),
    )


def parse_bundle(source: bytes | str | Mapping[str, Any], *, validate: bool = True) -> CyberBundle:
    """Read a STIX 2.1 bundle. `validate=False` checks only what matching needs: full validation
    by `stix2` costs about a millisecond per indicator, too slow for feeds of a million."""
    if isinstance(source, Mapping):
        data: Any = source
    else:
        try:
            data = jsontext.loads(source)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"the bundle is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("type") != "bundle":
        raise InvalidInput("expected a STIX bundle: a JSON object with type 'bundle'")
    objects = data.get("objects", [])
    if not isinstance(objects, list):
        raise InvalidInput("bundle field 'objects': expected a list")
    indicators: list[IndicatorPattern] = []
    skipped: list[str] = []
    for position, obj in enumerate(objects):
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            raise InvalidInput(f"bundle object {position}: not a STIX object (no 'type')")
        if obj["type"] != "indicator":
            if validate:
                _validate(position, obj)
            continue
        if validate:
            _validate(position, obj)
        else:
            _quick_check(position, obj)
        if obj["pattern_type"] != "stix" or obj.get("revoked") is True:
            # Sigma, YARA, Snort… are not for log matching here, and revoked ones no longer hold.
            skipped.append(obj["id"])
            continue
        indicators.append(parse_indicator(obj, position=position))
    return CyberBundle(
        id=str(data.get("id", "")), indicators=indicators, objects=objects, skipped=skipped
    )


# -- TLP 2.0 and handling codes ---------------------------------------------------------------

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
# The identifiers OASIS published for TLP 2.0 (cti-stix-common-objects); stix2 3.0 predefines
# only the TLP 1.0 markings, so these are built here with the same library.
_TLP2_IDS: dict[TlpLevel, str] = {
    TlpLevel.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TlpLevel.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TlpLevel.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TlpLevel.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TlpLevel.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP2_MARKINGS: dict[TlpLevel, Any] = {
    level: stix2.v21.MarkingDefinition(
        id=marking_id,
        created="2022-10-01T00:00:00.000Z",
        name=f"TLP:{level.value.upper()}",
        extensions={
            TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level.value}
        },
    )
    for level, marking_id in _TLP2_IDS.items()
}
_TLP_BY_MARKING_ID: dict[str, TlpLevel] = {
    **{marking_id: level for level, marking_id in _TLP2_IDS.items()},
    # TLP 1.0 markings still arrive from older feeds; WHITE became CLEAR.
    stix2.v21.TLP_WHITE.id: TlpLevel.CLEAR,
    stix2.v21.TLP_GREEN.id: TlpLevel.GREEN,
    stix2.v21.TLP_AMBER.id: TlpLevel.AMBER,
    stix2.v21.TLP_RED.id: TlpLevel.RED,
}

# Reading a marking: sharing beyond the recipient's organisation is what both systems restrict.
# AMBER lets the recipient tell its clients, which between authorities are third parties, so it
# maps to H2 like AMBER+STRICT. RED limits the information to the named recipients, a restriction
# of the sender's own: H3. Documented in docs/cyber.md.
HANDLING_CODE_BY_TLP: dict[TlpLevel, HandlingCode] = {
    TlpLevel.CLEAR: HandlingCode.H0,
    TlpLevel.GREEN: HandlingCode.H0,
    TlpLevel.AMBER: HandlingCode.H2,
    TlpLevel.AMBER_STRICT: HandlingCode.H2,
    TlpLevel.RED: HandlingCode.H3,
}
# Writing a marking never loosens: H0 is for police and judicial use, never public (GREEN, not
# CLEAR); H1 limits court use, which TLP cannot say, so the recipient is kept to its organisation.
TLP_BY_HANDLING_CODE: dict[HandlingCode, TlpLevel] = {
    HandlingCode.H0: TlpLevel.GREEN,
    HandlingCode.H1: TlpLevel.AMBER,
    HandlingCode.H2: TlpLevel.AMBER_STRICT,
    HandlingCode.H3: TlpLevel.RED,
}
_STRICTNESS = list(HandlingCode)


def tlp_level_of(marking_ref: str) -> TlpLevel | None:
    """The TLP level of a marking-definition id (2.0, or 1.0 read as 2.0); None if not TLP."""
    return _TLP_BY_MARKING_ID.get(marking_ref)


def handling_code_for_tlp(level: TlpLevel) -> HandlingCode:
    return HANDLING_CODE_BY_TLP[level]


def strictest(codes: Iterable[HandlingCode]) -> HandlingCode | None:
    return max(codes, key=_STRICTNESS.index, default=None)


def marking_refs_in(obj: Mapping[str, Any]) -> set[str]:
    """Every marking an object carries: its object markings and its granular markings."""
    refs = {ref for ref in obj.get("object_marking_refs", ()) if isinstance(ref, str)}
    for granular in obj.get("granular_markings", ()):
        if isinstance(granular, Mapping) and isinstance(granular.get("marking_ref"), str):
            refs.add(granular["marking_ref"])
    return refs


def required_handling_code(obj: Mapping[str, Any]) -> HandlingCode | None:
    """The handling code an object's TLP markings ask for (None: no TLP marking)."""
    return handling_code_of(marking_refs_in(obj))


def handling_code_of(marking_refs: Iterable[str]) -> HandlingCode | None:
    """The strictest handling code asked for by the TLP markings among `marking_refs`."""
    levels = (tlp_level_of(ref) for ref in marking_refs)
    return strictest(HANDLING_CODE_BY_TLP[level] for level in levels if level is not None)


def tlp_marking_for(code: HandlingCode) -> Any:
    """The TLP 2.0 marking-definition object to put on STIX leaving under `code`."""
    return TLP2_MARKINGS[TLP_BY_HANDLING_CODE[code]]


# -- sightings ---------------------------------------------------------------------------------


def build_sighting(
    *,
    indicator_id: str,
    count: int,
    first_seen: datetime,
    last_seen: datetime,
    where_sighted_refs: Sequence[str] = (),
    marking_refs: Sequence[str] = (),
    created_by_ref: str | None = None,
) -> Any:
    """A STIX 2.1 Sighting of an indicator, aggregated over the events that hit it. It carries
    the indicator's markings: what was seen of restricted intelligence is as restricted."""
    if count < 1:
        raise InvalidInput(f"a sighting of {indicator_id} needs a count of at least 1")
    extra: dict[str, Any] = {}
    if where_sighted_refs:
        extra["where_sighted_refs"] = list(where_sighted_refs)
    if marking_refs:
        extra["object_marking_refs"] = list(marking_refs)
    if created_by_ref:
        extra["created_by_ref"] = created_by_ref
    return stix2.v21.Sighting(
        sighting_of_ref=indicator_id,
        count=count,
        first_seen=first_seen,
        last_seen=last_seen,
        **extra,
    )


def sightings_bundle(sightings: Sequence[Any]) -> Any:
    """A bundle of sightings with the TLP 2.0 marking definitions they reference."""
    refs = {ref for s in sightings for ref in s.get("object_marking_refs", ())}
    markings = [m for m in TLP2_MARKINGS.values() if m.id in refs]
    return stix2.v21.Bundle(objects=[*markings, *sightings], allow_custom=True)
