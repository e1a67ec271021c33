"""MISP attribute types as STIX 2.1: for each type the STIX object type and the property paths
its value (or each part of a composite `a|b` value) lives at, so that one table builds the
indicator pattern, builds the observable, and reads the value back from either."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import stix2.patterns as sp
from stix2.pattern_visitor import create_pattern_object

SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
"""STIX 2.1 §2.9: the namespace of deterministic ids of cyber observables."""


@dataclass(frozen=True, slots=True)
class AttributeType:
    """Where a MISP type's value goes in STIX: `object_type` (`ip` picks ipv4-addr or
    ipv6-addr by the value) and one path per part of the value."""

    object_type: str
    paths: tuple[str, ...]


_IP = "ip"
_HASH_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha512": "SHA-512"}

TYPES: dict[str, AttributeType] = {
    "ip-src": AttributeType(_IP, ("value",)),
    "ip-dst": AttributeType(_IP, ("value",)),
    "domain": AttributeType("domain-name", ("value",)),
    "hostname": AttributeType("domain-name", ("value",)),
    "url": AttributeType("url", ("value",)),
    "uri": AttributeType("url", ("value",)),
    "link": AttributeType("url", ("value",)),
    "email": AttributeType("email-addr", ("value",)),
    "email-src": AttributeType("email-addr", ("value",)),
    "email-dst": AttributeType("email-addr", ("value",)),
    "filename": AttributeType("file", ("name",)),
    "mutex": AttributeType("mutex", ("name",)),
    "regkey": AttributeType("windows-registry-key", ("key",)),
    "AS": AttributeType("autonomous-system", ("number",)),
    "mac-address": AttributeType("mac-addr", ("value",)),
    "email-subject": AttributeType("email-message", ("subject",)),
    "domain|ip": AttributeType("domain-name", ("value", "resolves_to_refs[*].value")),
    "ip-src|port": AttributeType("network-traffic", ("src_ref.value", "src_port")),
    "ip-dst|port": AttributeType("network-traffic", ("dst_ref.value", "dst_port")),
    **{name: AttributeType("file", (f"hashes.{alg}",)) for name, alg in _HASH_NAMES.items()},
    **{
        f"filename|{name}": AttributeType("file", ("name", f"hashes.{alg}"))
        for name, alg in _HASH_NAMES.items()
    },
    **{
        f"x509-fingerprint-{name}": AttributeType("x509-certificate", (f"hashes.{alg}",))
        for name, alg in _HASH_NAMES.items()
        if name != "sha512"
    },
}
RULE_TYPES = {"yara": "yara", "snort": "snort", "sigma": "sigma"}
"""MISP types whose value is a rule: an indicator of that STIX 2.1 pattern_type"""
STIX_PATTERN_TYPE = "stix2-pattern"
"""A MISP attribute whose value is a STIX pattern: any indicator no other type can say."""

_INTEGER_PATHS = {"number", "src_port", "dst_port"}
_HEX = re.compile(r"[0-9a-fA-F]+")
_UNESCAPE = re.compile(r"\\(.)")
_HASH_LENGTHS = {"MD5": 32, "SHA-1": 40, "SHA-256": 64, "SHA-512": 128}


class ValueProblem(ValueError):
    """A value that does not fit its MISP type, said in words."""


def _ip_type(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueProblem(f"{value!r} is not an IP address or network") from None
    return "ipv6-addr" if network.version == 6 else "ipv4-addr"


def _check_part(path: str, value: str) -> None:
    if path in _INTEGER_PATHS:
        digits = value[2:] if path == "number" and value.upper().startswith("AS") else value
        if not digits.isdigit():
            raise ValueProblem(f"{value!r} is not a number")
        if path != "number" and not 0 <= int(digits) <= 65535:
            raise ValueProblem(f"{value!r} is not a port (0 to 65535)")
    elif path.startswith("hashes."):
        algorithm = path.removeprefix("hashes.")
        if not _HEX.fullmatch(value) or len(value) != _HASH_LENGTHS[algorithm]:
            raise ValueProblem(
                f"{value!r} is not a {algorithm} hash ({_HASH_LENGTHS[algorithm]} hex digits)"
            )
    elif path.endswith("ref.value") or path.endswith("refs[*].value"):
        _ip_type(value)


def split_value(misp_type: str, value: str) -> list[str]:
    """The parts of a value, one per path of its type, each checked against its path."""
    kind = TYPES[misp_type]
    parts = value.split("|") if len(kind.paths) > 1 else [value]
    if len(parts) != len(kind.paths):
        raise ValueProblem(f"a {misp_type} value has {len(kind.paths)} parts separated by '|'")
    for path, part in zip(kind.paths, parts, strict=True):
        if not part:
            raise ValueProblem(f"a part of the {misp_type} value is empty")
        _check_part(path, part)
    if kind.object_type == _IP:
        _ip_type(parts[0])
    return parts


def _object_type(misp_type: str, parts: Sequence[str]) -> str:
    kind = TYPES[misp_type]
    return _ip_type(parts[0]) if kind.object_type == _IP else kind.object_type


def _literal(path: str, part: str) -> str:
    if path in _INTEGER_PATHS:
        return str(int(part[2:] if part.upper().startswith("AS") else part))
    return "'" + part.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _pattern_path(path: str) -> str:
    if path.startswith("hashes."):
        algorithm = path.removeprefix("hashes.")
        return f"hashes.'{algorithm}'" if "-" in algorithm else path
    return path


def pattern_of(misp_type: str, value: str) -> str:
    """The STIX 2.1 pattern of an attribute (ValueProblem if the value does not fit its type)."""
    if misp_type == STIX_PATTERN_TYPE:
        try:
            create_pattern_object(value, version="2.1")
        except Exception as exc:  # the ANTLR front end raises bare Exceptions
            raise ValueProblem(f"not a STIX 2.1 pattern: {str(exc).strip()}") from None
        return value
    parts = split_value(misp_type, value)
    object_type = _object_type(misp_type, parts)
    comparisons = []
    for path, part in zip(TYPES[misp_type].paths, parts, strict=True):
        operator = (
            "ISSUBSET" if path == "value" and object_type.startswith("ip") and "/" in part else "="
        )
        comparisons.append(f"{object_type}:{_pattern_path(path)} {operator} {_literal(path, part)}")
    return "[" + " AND ".join(comparisons) + "]"


def _sco_id(object_type: str, contributing: Mapping[str, Any]) -> str:
    import json

    canonical = json.dumps(contributing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{object_type}--{uuid.uuid5(SCO_NAMESPACE, canonical)}"


def _sco(object_type: str, properties: dict[str, Any]) -> dict[str, Any]:
    # The id contributing properties of STIX 2.1 §6 for the types this table uses.
    keys = {
        "file": ("hashes", "name"),
        "network-traffic": ("start", "src_ref", "dst_ref", "src_port", "dst_port", "protocols"),
        "email-message": ("from_ref", "subject", "body"),
        "x509-certificate": ("hashes", "serial_number"),
    }.get(object_type, ("value", "name", "key", "number"))
    contributing = {k: properties[k] for k in keys if k in properties}
    return {
        "type": object_type,
        "spec_version": "2.1",
        "id": _sco_id(object_type, contributing),
        **properties,
    }


def observables_of(misp_type: str, value: str) -> list[dict[str, Any]]:
    """The cyber observables of an attribute, the one its type names first (then those it
    refers to). ValueProblem if the value does not fit its type."""
    parts = split_value(misp_type, value)
    object_type = _object_type(misp_type, parts)
    properties: dict[str, Any] = {}
    referred: list[dict[str, Any]] = []
    for path, part in zip(TYPES[misp_type].paths, parts, strict=True):
        if path.startswith("hashes."):
            properties.setdefault("hashes", {})[path.removeprefix("hashes.")] = part
        elif path in _INTEGER_PATHS:
            properties[path] = int(_literal(path, part))
        elif path.endswith(".value"):
            target = _sco(_ip_type(part), {"value": part})
            referred.append(target)
            name = path.removesuffix(".value")
            if name.endswith("[*]"):
                properties.setdefault(name.removesuffix("[*]"), []).append(target["id"])
            else:
                properties[name] = target["id"]
        else:
            properties[path] = part
    if object_type == "network-traffic":
        properties["protocols"] = [referred[0]["type"].removesuffix("-addr")]
    if object_type == "email-message":
        properties["is_multipart"] = False  # required; a subject alone says nothing of parts
    return [_sco(object_type, properties), *referred]


# -- reading values back ----------------------------------------------------------------------


def _path_text(components: Sequence[Any]) -> str:
    names = []
    for component in components:
        name = str(component.property_name).strip("'")
        if isinstance(component, sp.ListObjectPathComponent):
            name += "[*]"
        names.append(name)
    return ".".join(names)


def pattern_parts(pattern: str) -> tuple[str, dict[str, str]] | None:
    """(object type, {path: value}) of a pattern that is one observation of '=' (or ISSUBSET)
    comparisons joined by AND on one object type; None for any other pattern."""
    try:
        expr = create_pattern_object(pattern, version="2.1")
    except Exception:  # the ANTLR front end raises bare Exceptions
        return None
    if not isinstance(expr, sp.ObservationExpression):
        return None
    operand = expr.operand
    comparisons = operand.operands if isinstance(operand, sp.AndBooleanExpression) else [operand]
    object_types: set[str] = set()
    found: dict[str, str] = {}
    for comparison in comparisons:
        if not isinstance(comparison, sp._ComparisonExpression) or comparison.negated:
            return None
        if comparison.operator not in ("=", "ISSUBSET"):
            return None
        if not isinstance(comparison.rhs, sp.StringConstant | sp.IntegerConstant):
            return None
        path = _path_text(comparison.lhs.property_path)
        if path in found:
            return None
        object_types.add(comparison.lhs.object_type_name)
        value = comparison.rhs.value
        # stix2 keeps a string constant's escapes as written (a backslash before ' and \)
        found[path] = _UNESCAPE.sub(r"\1", value) if isinstance(value, str) else str(value)
    if len(object_types) != 1:
        return None
    return object_types.pop(), found


def sco_parts(primary: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """{path: value} of an observable, following its references to other observables."""
    found: dict[str, str] = {}
    for key, item in primary.items():
        if key == "hashes" and isinstance(item, Mapping):
            for algorithm, digest in item.items():
                found[f"hashes.{algorithm}"] = str(digest)
        elif key.endswith("_refs") and isinstance(item, list):
            for ref in item[:1]:
                if ref in by_id and "value" in by_id[ref]:
                    found[f"{key}[*].value"] = str(by_id[ref]["value"])
        elif key.endswith("_ref") and isinstance(item, str):
            if item in by_id and "value" in by_id[item]:
                found[f"{key}.value"] = str(by_id[item]["value"])
        elif key in ("value", "name", "key", "number", "subject", "src_port", "dst_port"):
            found[key] = str(item)
    return found


def value_from(misp_type: str, object_type: str, parts: Mapping[str, str]) -> str | None:
    """The MISP value of `misp_type` read from the {path: value} of a pattern or observable;
    None if they do not hold that type's value."""
    kind = TYPES.get(misp_type)
    if kind is None:
        return None
    expected = kind.object_type
    if (expected == _IP and object_type not in ("ipv4-addr", "ipv6-addr")) or (
        expected != _IP and object_type != expected
    ):
        return None
    values = []
    for path in kind.paths:
        if path not in parts:
            return None
        values.append(parts[path])
    return "|".join(values)


# What an indicator's or observable's own shape says its MISP type is, when no `misp:type`
# label says so (STIX that did not come from MISP): the single-path types.
_DEFAULT_TYPES: dict[tuple[str, str], str] = {
    ("ipv4-addr", "value"): "ip-dst",
    ("ipv6-addr", "value"): "ip-dst",
    ("domain-name", "value"): "domain",
    ("url", "value"): "url",
    ("email-addr", "value"): "email",
    ("file", "name"): "filename",
    ("mutex", "name"): "mutex",
    ("windows-registry-key", "key"): "regkey",
    ("autonomous-system", "number"): "AS",
    ("mac-addr", "value"): "mac-address",
    ("email-message", "subject"): "email-subject",
    **{("file", f"hashes.{alg}"): name for name, alg in _HASH_NAMES.items()},
    ("file", "hashes.SHA1"): "sha1",
    ("file", "hashes.SHA256"): "sha256",
}


def default_type(object_type: str, parts: Mapping[str, str]) -> tuple[str, str] | None:
    """(MISP type, value) for a pattern or observable of one path, or a file name and hash."""
    if len(parts) == 1:
        ((path, value),) = parts.items()
        found = _DEFAULT_TYPES.get((object_type, path))
        return (found, value) if found else None
    if object_type == "file" and len(parts) == 2 and "name" in parts:
        (path,) = (p for p in parts if p != "name")
        hashed = _DEFAULT_TYPES.get(("file", path))
        if hashed in _HASH_NAMES:
            return f"filename|{hashed}", f"{parts['name']}|{parts[path]}"
    return None
