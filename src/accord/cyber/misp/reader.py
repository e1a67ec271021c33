"""A MISP event (MISP's REST API JSON, PyMISP's `MISPEvent.to_json()`, a feed's `<uuid>.json`)
read into a STIX 2.1 bundle for a cyber case: attributes flagged `to_ids` as indicators, the
others as observed data, objects as groupings, the event as a report; what cannot be mapped is
listed in `problems`, never dropped without a word."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymisp.abstract import describe_types

from accord.cases.enums import HandlingCode
from accord.core import jsontext
from accord.core.errors import InvalidInput
from accord.cyber.misp import attributes as types
from accord.cyber.misp import policy
from accord.cyber.stix import TLP2_MARKINGS, TlpLevel, validate_object

_BUNDLE_NAMESPACE = uuid.UUID("3f0b6c2e-9d41-4f5e-8a77-52c1d0e6b9a4")
_CATEGORIES: dict[str, list[str]] = describe_types["category_type_mappings"]
_KNOWN_TYPES: set[str] = set(describe_types["types"])
_SEEN = {
    "indicator": ("valid_from", "valid_until"),
    "observed-data": ("first_observed", "last_observed"),
}
_NOTE_TYPES = {"text", "comment", "other"}
"""MISP types that are prose: a STIX note is what they are, so carrying them is no problem"""
_UNMAPPED = ("Galaxy", "EventReport", "Sighting", "ShadowAttribute", "CryptographicKey")
_DISTRIBUTIONS = {
    0: "your organisation only",
    1: "this community only",
    2: "connected communities",
    3: "all communities",
    4: "sharing group",
    5: "inherit event",
}


@dataclass
class MispImport:
    """A MISP event as Accord reads it."""

    event_uuid: str
    info: str
    bundle: dict[str, Any]
    handling_code: HandlingCode | None
    """the strictest code its tags and distribution levels ask for (None: they ask nothing)"""
    reasons: list[str] = field(default_factory=list)
    """which tags and distribution levels ask for `handling_code`"""
    problems: list[str] = field(default_factory=list)
    indicators: int = 0
    observables: int = 0
    notes: int = 0

    def content(self) -> bytes:
        return (json.dumps(self.bundle, ensure_ascii=False, indent=1) + "\n").encode()


def stix_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _epoch(value: Any, where: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise InvalidInput(
            f"{where} field 'timestamp': {value!r} is not seconds since 1970"
        ) from None


def _iso(value: Any, where: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{where} field {name!r}: {value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _uuid(value: Any, where: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise InvalidInput(f"{where} field 'uuid': {value!r} is not a UUID") from None


def _flag(value: Any, where: str, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true"):
        return True
    if text in ("0", "false", ""):
        return False
    raise InvalidInput(f"{where} field {name!r}: {value!r} is not true or false")


def _distribution(value: Any, where: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = -1
    if level not in _DISTRIBUTIONS:
        raise InvalidInput(f"{where} field 'distribution': {value!r} is not 0 to 5")
    return level


def _tags(item: Mapping[str, Any], where: str) -> list[str]:
    tags = item.get("Tag") or []
    if not isinstance(tags, list):
        raise InvalidInput(f"{where} field 'Tag': expected a list of tags")
    names = []
    for position, tag in enumerate(tags):
        name = tag.get("name") if isinstance(tag, dict) else tag
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"{where} tag {position}: no 'name'")
        names.append(name.strip())
    return names


def _unwrap(data: Any) -> dict[str, Any]:
    # MISP itself reads a one-event search result or list as that event (Feed::__prepareEvent).
    response = data.get("response") if isinstance(data, dict) else None
    if isinstance(response, list) and len(response) == 1:
        data = response[0]
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if isinstance(data, dict) and isinstance(data.get("Event"), dict):
        data = data["Event"]
    elif isinstance(data, dict) and isinstance(data.get("response"), list):
        raise InvalidInput(
            f"this is a MISP search result of {len(data['response'])} events: import each "
            'event on its own (one {"Event": …} a file)'
        )
    elif isinstance(data, list):
        raise InvalidInput(
            f"this is a list of {len(data)} items, not one MISP event: import each event on "
            'its own (one {"Event": …} a file)'
        )
    if not isinstance(data, dict) or not ("info" in data or "Attribute" in data):
        raise InvalidInput(
            'expected a MISP event: a JSON object {"Event": {"info": …, "Attribute": […]}}'
        )
    return data


class _Reading:
    """The state of one event being read."""

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event
        self.uuid = _uuid(event.get("uuid"), "MISP event")
        info = event.get("info")
        if not isinstance(info, str) or not info.strip():
            raise InvalidInput("MISP event field 'info': missing or empty (the event's title)")
        self.info = info.strip()
        self.tags = _tags(event, "MISP event")
        self.distribution = _distribution(event.get("distribution"), "MISP event")
        stamp = event.get("timestamp")
        if stamp not in (None, ""):
            self.timestamp = _epoch(stamp, "MISP event")
        elif event.get("date"):
            self.timestamp = _iso(event["date"], "MISP event", "date")
        else:
            raise InvalidInput("MISP event: neither 'timestamp' nor 'date' says when it is from")
        self.problems: list[str] = []
        self.reasons: list[str] = []
        self.levels: list[TlpLevel] = []
        self.codes: list[HandlingCode] = []
        self.objects: list[dict[str, Any]] = []
        self.refs: list[str] = []
        self.indicators = 0
        self.observables = 0
        self.notes = 0
        self.creator = self._creator()
        self.level, self.event_codes = self._policy(self.tags, self.distribution, None, "the event")

    def _creator(self) -> str | None:
        org = self.event.get("Orgc")
        if not isinstance(org, dict) or not isinstance(org.get("name"), str):
            return None
        org_uuid = _uuid(org.get("uuid") or uuid.uuid5(_BUNDLE_NAMESPACE, org["name"]), "Orgc")
        identity = {
            "type": "identity",
            "spec_version": "2.1",
            "id": f"identity--{org_uuid}",
            "created": stix_time(self.timestamp),
            "modified": stix_time(self.timestamp),
            "name": org["name"],
            "identity_class": "organization",
        }
        self.objects.append(identity)
        return str(identity["id"])

    def _policy(
        self,
        tags: list[str],
        distribution: int | None,
        inherited: TlpLevel | None,
        where: str,
    ) -> tuple[TlpLevel | None, list[HandlingCode]]:
        """The TLP level and explicit handling codes an item's tags and distribution ask for."""
        levels: list[TlpLevel | None] = [inherited]
        codes: list[HandlingCode] = []
        for tag in tags:
            level = policy.tlp_of_tag(tag)
            if level is None and policy.is_tlp_tag(tag):
                level = TlpLevel.RED
                self.problems.append(
                    f"{where}: tag {tag!r} is no TLP level Accord knows; read as TLP:RED"
                )
            if level is not None:
                levels.append(level)
                self.reasons.append(f"tag {tag} on {where}")
            code = policy.handling_code_of_tag(tag)
            if code is not None:
                codes.append(code)
                self.reasons.append(f"tag {tag} on {where}")
        if distribution is not None and distribution != policy.INHERIT:
            levels.append(policy.DISTRIBUTION_TLP[distribution])
            self.reasons.append(
                f"distribution {distribution} ({_DISTRIBUTIONS[distribution]}) on {where}"
            )
        self.codes += codes
        return policy.stricter_tlp(levels), codes

    def _common(
        self, kind: str, ident: str, moment: datetime, labels: list[str], level: TlpLevel | None
    ) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "type": kind,
            "spec_version": "2.1",
            "id": f"{kind}--{ident}",
            "created": stix_time(moment),
            "modified": stix_time(moment),
        }
        if self.creator:
            obj["created_by_ref"] = self.creator
        if labels:
            obj["labels"] = labels
        if level is not None:
            obj["object_marking_refs"] = [TLP2_MARKINGS[level].id]
            self.levels.append(level)
        return obj

    def attribute(
        self,
        item: Any,
        where: str,
        *,
        inherited: TlpLevel | None,
        relation: bool = False,
    ) -> str | None:
        """Read one attribute into STIX objects; the id of the indicator or observed data.
        An attribute that cannot be read is listed in `problems`, and the others still are."""
        try:
            return self._attribute(item, where, inherited=inherited, relation=relation)
        except InvalidInput as exc:
            self.problems.append(f"{exc.message}; not imported")
            return None

    def _attribute(
        self,
        item: Any,
        where: str,
        *,
        inherited: TlpLevel | None,
        relation: bool,
    ) -> str | None:
        if not isinstance(item, dict):
            self.problems.append(f"{where}: not a JSON object; not imported")
            return None
        misp_type = item.get("type")
        where = f"{where} ({item.get('uuid', 'no uuid')}, {misp_type})"
        if item.get("deleted") in (True, "1", 1, "true"):
            self.problems.append(f"{where}: deleted in MISP; not imported")
            return None
        if not isinstance(misp_type, str) or misp_type not in _KNOWN_TYPES:
            self.problems.append(
                f"{where}: type {misp_type!r} is no MISP type; not imported (the event as "
                "received is kept on the case)"
            )
            return None
        value = item.get("value")
        if value is None or str(value) == "":
            self.problems.append(f"{where}: no value; not imported")
            return None
        value = str(value)
        ident = _uuid(item.get("uuid"), where)
        to_ids = _flag(item.get("to_ids", True), where, "to_ids")
        category = (
            item.get("category") or describe_types["sane_defaults"][misp_type]["default_category"]
        )
        if not isinstance(category, str):
            raise InvalidInput(f"{where} field 'category': expected a string")
        if category not in _CATEGORIES:
            self.problems.append(f"{where}: category {category!r} is no MISP category; kept")
        elif misp_type not in _CATEGORIES[category]:
            self.problems.append(f"{where}: type {misp_type} is not of category {category}; kept")
        comment = str(item.get("comment") or "")
        tags = _tags(item, where)
        level, _ = self._policy(
            tags, _distribution(item.get("distribution"), where), inherited, where
        )
        stamp = item.get("timestamp")
        moment = _epoch(stamp, where) if stamp not in (None, "") else self.timestamp
        first = _iso(item["first_seen"], where, "first_seen") if item.get("first_seen") else None
        last = _iso(item["last_seen"], where, "last_seen") if item.get("last_seen") else None
        labels = [
            f'misp:type="{misp_type}"',
            f'misp:category="{category}"',
            f'misp:to_ids="{to_ids}"',
        ]
        if relation:
            labels.append(f'misp:object-relation="{item.get("object_relation", "")}"')
        labels += tags
        try:
            built = self._stix(misp_type, value, to_ids, ident, moment, labels, level, comment)
            head = built[0]
            start, end = _SEEN.get(head["type"], (None, None))
            if start and end:
                if first is not None:
                    head[start] = stix_time(first)
                if last is not None and (first is None or last > first):
                    head[end] = stix_time(last)
                elif head["type"] == "observed-data":
                    head[end] = head[start]
            for obj in built:
                validate_object(obj, where=where)
        except (types.ValueProblem, InvalidInput) as exc:
            self.problems.append(f"{where}: {exc}; not imported")
            return None
        if item.get("data"):
            self.problems.append(
                f"{where}: its file content ('data') is not carried in STIX; kept in the event "
                "as received"
            )
        if head["type"] == "note" and misp_type not in _NOTE_TYPES:
            self.problems.append(
                f"{where}: type {misp_type!r} has no STIX pattern or observable in Accord; "
                "carried as a note, not matched against logs"
            )
        self.objects += built
        if head["type"] == "indicator":
            self.indicators += 1
        elif head["type"] == "observed-data":
            self.observables += 1
        else:
            self.notes += 1
        return str(head["id"])

    def _stix(
        self,
        misp_type: str,
        value: str,
        to_ids: bool,
        ident: str,
        moment: datetime,
        labels: list[str],
        level: TlpLevel | None,
        comment: str,
    ) -> list[dict[str, Any]]:
        if misp_type in types.RULE_TYPES:
            # a rule in its own language: an indicator the log matcher skips (not STIX)
            rule = self._common("indicator", ident, moment, labels, level)
            rule.update(
                pattern=value,
                pattern_type=types.RULE_TYPES[misp_type],
                valid_from=stix_time(moment),
            )
            if comment:
                rule["description"] = comment
            return [rule]
        if misp_type not in types.TYPES and misp_type != types.STIX_PATTERN_TYPE:
            # no pattern nor observable says it: a note on the event, so that it travels
            note = self._common("note", ident, moment, labels, level)
            note.update(content=value, object_refs=[f"report--{self.uuid}"])
            if comment:
                note["abstract"] = comment
            return [note]
        if to_ids:
            indicator = self._common("indicator", ident, moment, labels, level)
            indicator.update(
                pattern=types.pattern_of(misp_type, value),
                pattern_type="stix",
                pattern_version="2.1",
                valid_from=stix_time(moment),
            )
            if comment:
                indicator["description"] = comment
            return [indicator]
        if misp_type == types.STIX_PATTERN_TYPE:
            raise types.ValueProblem(
                "a STIX pattern not flagged to_ids has no observable form (it is no observation)"
            )
        observables = types.observables_of(misp_type, value)
        if level is not None:
            for sco in observables:
                sco["object_marking_refs"] = [TLP2_MARKINGS[level].id]
        observed = self._common("observed-data", ident, moment, labels, level)
        observed.update(
            first_observed=stix_time(moment),
            number_observed=1,
            object_refs=[sco["id"] for sco in observables],
        )
        if comment:
            observed["x_misp_comment"] = comment
        return [observed, *observables]

    def misp_object(self, item: Any, where: str) -> list[str]:
        """Read one MISP object: its attributes, and a grouping that holds them."""
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            self.problems.append(f"{where}: not a MISP object (no 'name'); not imported")
            return []
        where = f"{where} ({item['name']}, {item.get('uuid', 'no uuid')})"
        if item.get("deleted") in (True, "1", 1, "true"):
            self.problems.append(f"{where}: deleted in MISP; not imported")
            return []
        ident = _uuid(item.get("uuid"), where)
        level, _ = self._policy(
            _tags(item, where), _distribution(item.get("distribution"), where), self.level, where
        )
        members = item.get("Attribute") or []
        if not isinstance(members, list):
            raise InvalidInput(f"{where} field 'Attribute': expected a list")
        refs = [
            ref
            for position, member in enumerate(members)
            if (
                ref := self.attribute(
                    member, f"{where} attribute {position}", inherited=level, relation=True
                )
            )
        ]
        if not refs:
            self.problems.append(f"{where}: none of its attributes could be imported")
            return []
        stamp = item.get("timestamp")
        moment = _epoch(stamp, where) if stamp not in (None, "") else self.timestamp
        labels = [f'misp:name="{item["name"]}"']
        for key in ("meta-category", "template_uuid", "template_version"):
            if item.get(key):
                labels.append(f'misp:{key.replace("_", "-")}="{item[key]}"')
        grouping = self._common("grouping", ident, moment, labels, level)
        grouping.update(name=item["name"], context="unspecified", object_refs=refs)
        if item.get("comment"):
            grouping["description"] = str(item["comment"])
        self.objects.append(grouping)
        return [*refs, grouping["id"]]

    def unmapped(self) -> None:
        """Name what the event holds beyond attributes and objects: kept only in the event as
        received (galaxy clusters also travel as their `misp-galaxy:` tags)."""
        counts: dict[str, int] = {}
        for name in _UNMAPPED:
            items = self.event.get(name)
            if isinstance(items, list | dict) and items:
                counts[name] = len(items)
        for item in self.event.get("Object") or []:
            if (
                isinstance(item, dict)
                and isinstance(item.get("ObjectReference"), list)
                and (item["ObjectReference"])
            ):
                counts["ObjectReference"] = counts.get("ObjectReference", 0) + len(
                    item["ObjectReference"]
                )
        for name, count in counts.items():
            self.problems.append(
                f"the event's {name} ({count}) has no STIX form here; kept in the event as received"
            )

    def report(self, refs: list[str]) -> dict[str, Any]:
        published = self.event.get("publish_timestamp")
        moment = _epoch(published, "MISP event") if published not in (None, "", "0", 0) else None
        report = self._common("report", self.uuid, self.timestamp, self.tags, self.level)
        report.update(
            name=self.info,
            report_types=["threat-report"],
            published=stix_time(moment or self.timestamp),
            object_refs=refs,
        )
        return report


def read_event(source: bytes | str | Mapping[str, Any]) -> MispImport:
    """Read one MISP event. InvalidInput names the field at fault when the event itself is
    unreadable; attributes that cannot be mapped are listed in `problems` and left out."""
    if isinstance(source, Mapping):
        data: Any = dict(source)
    else:
        text = source.decode("utf-8-sig") if isinstance(source, bytes) else source.lstrip("\ufeff")
        try:
            data = jsontext.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"the MISP event is not JSON: {exc}") from None
    reading = _Reading(_unwrap(data))
    event = reading.event
    refs: list[str] = []
    for name in ("Attribute", "Object"):
        if not isinstance(event.get(name) or [], list):
            raise InvalidInput(f"MISP event field {name!r}: expected a list")
    for position, item in enumerate(event.get("Attribute") or []):
        ref = reading.attribute(item, f"attribute {position}", inherited=reading.level)
        if ref:
            refs.append(ref)
    for position, item in enumerate(event.get("Object") or []):
        refs += reading.misp_object(item, f"object {position}")
    reading.unmapped()
    if not refs:
        raise InvalidInput(
            f"MISP event {reading.uuid}: no attribute could be imported"
            + (": " + "; ".join(reading.problems[:10]) if reading.problems else "")
        )
    report = reading.report(refs)
    markings = [
        json.loads(TLP2_MARKINGS[level].serialize())
        for level in TlpLevel
        if level in reading.levels
    ]
    bundle_id = uuid.uuid5(_BUNDLE_NAMESPACE, f"{reading.uuid}|{stix_time(reading.timestamp)}")
    bundle = {
        "type": "bundle",
        "id": f"bundle--{bundle_id}",
        "objects": [*markings, report, *reading.objects],
    }
    return MispImport(
        event_uuid=reading.uuid,
        info=reading.info,
        bundle=bundle,
        handling_code=policy.code_needed(policy.stricter_tlp(reading.levels), reading.codes),
        reasons=list(dict.fromkeys(reading.reasons)),
        problems=reading.problems,
        indicators=reading.indicators,
        observables=reading.observables,
        notes=reading.notes,
    )
