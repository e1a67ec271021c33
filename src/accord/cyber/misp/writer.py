"""A cyber case's STIX written as one MISP event (PyMISP's model, so the JSON is MISP's own), and
that event as a MISP feed: `manifest.json`, `<uuid>.json`, `hashes.csv`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymisp import MISPEvent, MISPObject, MISPOrganisation

from accord.cases.enums import HandlingCode
from accord.cyber import handling
from accord.cyber.misp import attributes as types
from accord.cyber.misp import policy

_NAMESPACE = uuid.UUID("b4f1f0d6-6a0e-4c55-93a8-2f8e9c71d3e5")
"""Event and organisation uuids: uuid5 of this and the node (and the case's reference)."""

_OPENING_TYPES = {
    "ipv4": "ip-dst",
    "ipv6": "ip-dst",
    "cidr": "ip-dst",
    "domain": "domain",
    "url": "url",
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "email": "email",
}


@dataclass(frozen=True)
class OpeningIndicator:
    """One indicator of a case's opening list, with the STIX id both nodes give it."""

    stix_id: str
    kind: str
    value: str


@dataclass
class CaseEvent:
    """What a case says about itself in its MISP event."""

    node: str
    reference: str
    title: str
    opened: datetime
    updated: datetime
    closed: bool
    handling_code: HandlingCode


@dataclass
class Written:
    event: MISPEvent
    problems: list[str] = field(default_factory=list)
    attributes: int = 0


def event_uuid(node: str, reference: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{node}|{reference}"))


def _labels(obj: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """(the misp:key="value" labels as a dict, every other label: the tags)."""
    meta: dict[str, str] = {}
    tags: list[str] = []
    for label in obj.get("labels", ()):
        key, sep, value = str(label).partition("=")
        if key.startswith("misp:") and sep and value.startswith('"') and value.endswith('"'):
            meta[key.removeprefix("misp:")] = value[1:-1]
        else:
            tags.append(str(label))
    return meta, tags


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _latest(objects: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each object's last version, by id."""
    found: dict[str, dict[str, Any]] = {}
    for obj in objects:
        held = found.get(obj["id"])
        if held is None or str(obj.get("modified", "")) >= str(held.get("modified", "")):
            found[obj["id"]] = dict(obj)
    return found


class _Writing:
    def __init__(self, case: CaseEvent) -> None:
        self.case = case
        self.problems: list[str] = []
        self.count = 0
        self.tlp_tag = policy.tlp_tag_for(case.handling_code)

    def tags(self, tags: Sequence[str], where: str) -> list[str]:
        """The tags as they leave: a tlp tag looser than the case's is raised to the case's."""
        out: list[str] = []
        for tag in tags:
            if policy.looser_than(tag, self.case.handling_code):
                self.problems.append(
                    f"{where}: tag {tag} is looser than the case's {self.case.handling_code}; "
                    f"written as {self.tlp_tag}"
                )
                tag = self.tlp_tag
            if tag not in out:
                out.append(tag)
        return out

    def attribute(
        self, obj: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, Any] | None:
        """The MISP attribute of an indicator, observed data or MISP-labelled note; None (with
        a problem) if it has no attribute form."""
        meta, tags = _labels(obj)
        where = obj["id"]
        misp_type = meta.get("type")
        value: str | None = None
        rule_types = {v: k for k, v in types.RULE_TYPES.items()}
        if obj["type"] == "note":
            value = str(obj.get("content", ""))
            comment = str(obj.get("abstract", ""))
            first = last = None
            to_ids = meta.get("to_ids") == "True"
        elif obj["type"] == "indicator" and obj.get("pattern_type") in rule_types:
            if obj.get("revoked"):
                self.problems.append(f"{where}: revoked; left out")
                return None
            misp_type = misp_type or rule_types[obj["pattern_type"]]
            value = obj["pattern"]
            comment = str(obj.get("description", ""))
            first, last = obj.get("valid_from"), obj.get("valid_until")
            to_ids = meta.get("to_ids", "True") == "True"
        elif obj["type"] == "indicator":
            if obj.get("revoked") or obj.get("pattern_type") != "stix":
                self.problems.append(
                    f"{where}: revoked or a {obj.get('pattern_type')} pattern; left out"
                )
                return None
            parts = types.pattern_parts(obj["pattern"])
            if misp_type == types.STIX_PATTERN_TYPE:
                value = obj["pattern"]
            elif misp_type and parts:
                value = types.value_from(misp_type, *parts)
            if value is None:
                guessed = types.default_type(*parts) if parts else None
                misp_type, value = guessed or (types.STIX_PATTERN_TYPE, obj["pattern"])
            comment = str(obj.get("description", ""))
            first, last = obj.get("valid_from"), obj.get("valid_until")
            to_ids = True
        else:
            refs = [ref for ref in obj.get("object_refs", ()) if ref in by_id]
            if not refs:
                self.problems.append(f"{where}: none of its observables is on the case; left out")
                return None
            primary = by_id[refs[0]]
            parts_of = types.sco_parts(primary, by_id)
            if misp_type:
                value = types.value_from(misp_type, primary["type"], parts_of)
            if value is None:
                guessed = types.default_type(primary["type"], parts_of)
                if guessed is None:
                    self.problems.append(
                        f"{where}: a {primary['type']} observable has no MISP attribute type; "
                        "left out"
                    )
                    return None
                misp_type, value = guessed
            comment = str(obj.get("x_misp_comment", ""))
            first, last = obj.get("first_observed"), obj.get("last_observed")
            to_ids = False
        attribute: dict[str, Any] = {
            "uuid": obj["id"].split("--", 1)[1],
            "type": misp_type,
            "value": value,
            "to_ids": to_ids,
            "comment": comment,
            "disable_correlation": False,
            "timestamp": _moment(obj["modified"]),
            "Tag": [{"name": t} for t in self.tags(tags, where)],
        }
        if meta.get("category"):
            attribute["category"] = meta["category"]
        if "object-relation" in meta:
            attribute["object_relation"] = meta["object-relation"]
        if first and first != obj.get("created"):
            attribute["first_seen"] = _moment(first)
        if last and last != first:
            attribute["last_seen"] = _moment(last)
        self.count += 1
        return attribute


def write_event(
    case: CaseEvent,
    objects: Iterable[Mapping[str, Any]],
    opening: Sequence[OpeningIndicator] = (),
) -> Written:
    """The case's MISP event: one attribute per indicator (to_ids), observed data (not) and
    note read from MISP, MISP objects from the groupings read from MISP, the tags of the MISP
    events it came from, and the opening's indicators."""
    if not handling.exportable(case.handling_code):
        raise ValueError(f"a {case.handling_code} case leaves Accord as no MISP event")
    writing = _Writing(case)
    by_id = _latest(objects)
    event = MISPEvent()
    event.uuid = event_uuid(case.node, case.reference)
    event.info = f"{case.reference}: {case.title}"
    org = MISPOrganisation()
    org.name = case.node
    org.uuid = str(uuid.uuid5(_NAMESPACE, case.node))
    event.Orgc = org
    event.set_date(case.opened.date())
    event.threat_level_id = 4
    event.analysis = 2 if case.closed else 1
    event.published = True
    event_tags = [
        policy.tlp_tag_for(case.handling_code),
        policy.handling_tag_for(case.handling_code),
    ]
    grouped: dict[str, Mapping[str, Any]] = {}
    for obj in by_id.values():
        if obj["type"] == "report":
            _, tags = _labels(obj)
            for tag in tags:
                if not policy.is_tlp_tag(tag) and policy.handling_code_of_tag(tag) is None:
                    event_tags.append(tag)
        elif obj["type"] == "grouping" and "name" in _labels(obj)[0]:
            for ref in obj.get("object_refs", ()):
                grouped[ref] = obj
    for tag in dict.fromkeys(event_tags):
        event.add_tag(tag)

    stamps = [case.updated]
    misp_objects: dict[str, MISPObject] = {}
    for obj in by_id.values():
        if not _attribute_form(obj):
            continue
        attribute = writing.attribute(obj, by_id)
        if attribute is None:
            continue
        stamps.append(attribute["timestamp"])
        group = grouped.get(obj["id"])
        if group is None:
            attribute.pop("object_relation", None)
            event.add_attribute(**attribute)
            continue
        holder = misp_objects.get(group["id"])
        if holder is None:
            holder = _misp_object(group)
            misp_objects[group["id"]] = holder
        relation = attribute.pop("object_relation", None) or attribute["type"]
        holder.add_attribute(relation, **attribute)
    for holder in misp_objects.values():
        event.add_object(holder)
    for item in opening:
        misp_type = _OPENING_TYPES[item.kind]
        event.add_attribute(
            type=misp_type,
            value=item.value,
            uuid=item.stix_id.split("--", 1)[1],
            to_ids=True,
            comment=f"in the opening of {case.reference}",
            disable_correlation=False,
            timestamp=case.opened,
            Tag=[{"name": writing.tlp_tag}],
        )
        writing.count += 1
    others = sorted(
        {
            obj["type"]
            for obj in by_id.values()
            if obj["type"] not in ("report", "grouping", "identity", "marking-definition")
            and not _attribute_form(obj)
            and not _is_observable(obj)
        }
    )
    if others:
        writing.problems.append(
            "objects of type " + ", ".join(others) + " have no MISP attribute form; left out"
        )
    moment = max(stamps)
    event.timestamp = moment
    event.publish_timestamp = moment
    return Written(event=event, problems=writing.problems, attributes=writing.count)


def _attribute_form(obj: Mapping[str, Any]) -> bool:
    """Indicators and observed data, and the notes that carry MISP attributes."""
    if obj["type"] == "note":
        return "type" in _labels(obj)[0]
    return obj["type"] in ("indicator", "observed-data")


def _is_observable(obj: Mapping[str, Any]) -> bool:
    return obj["type"] in {
        "ipv4-addr",
        "ipv6-addr",
        "domain-name",
        "url",
        "email-addr",
        "file",
        "mutex",
        "windows-registry-key",
        "autonomous-system",
        "network-traffic",
    }


def _misp_object(group: Mapping[str, Any]) -> MISPObject:
    meta, _ = _labels(group)
    holder = MISPObject(meta["name"], standalone=False)
    holder.uuid = group["id"].split("--", 1)[1]
    holder.timestamp = _moment(group["modified"])
    holder.comment = str(group.get("description", ""))
    for key in ("meta-category", "template-uuid", "template-version"):
        if key in meta:
            setattr(holder, key.replace("template-", "template_"), meta[key])
    return holder


# -- the feed ----------------------------------------------------------------------------------


@dataclass
class Feed:
    """A MISP feed of events (MISP's feed format, as PyMISP's feed generator writes it)."""

    manifest: dict[str, Any]
    events: dict[str, dict[str, Any]]
    hashes: list[str]

    def hashes_csv(self) -> str:
        return "".join(line + "\n" for line in self.hashes)


def feed_of(events: Iterable[MISPEvent]) -> Feed:
    """manifest.json (each event's uuid to its summary), each event as `<uuid>.json`, and
    hashes.csv (the MD5 of each attribute value, or of each part of a composite one, and the
    uuid of its event)."""
    manifest: dict[str, Any] = {}
    files: dict[str, dict[str, Any]] = {}
    hashes: list[str] = []
    for event in events:
        manifest.update(event.manifest)
        files[event.uuid] = event.to_feed()
        hashes += [f"{digest},{event.uuid}" for digest in event.attributes_hashes("md5")]
    return Feed(manifest=manifest, events=files, hashes=hashes)
