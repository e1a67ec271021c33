"""Erasable parts of a case-log event: personal data committed by salted hash.

What an event's hash and its act's signature cover is the committed form of its payload: each
part declared personal (`FieldMeta(personal=True)`) is replaced there by
`{"$commit": sha256(salt ‖ canonical(value))}`, with a random 32-byte salt. The clear value stays
in the stored payload and the salt in `case_event_parts`; erasing a part overwrites the value
and deletes the salt, and the committed form, hence every hash and signature, is unchanged.
Pure functions: no I/O.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from accord.core.canonical import canonical_bytes

COMMIT_KEY = "$commit"
SALT_BYTES = 32


@dataclass(frozen=True)
class Part:
    """One erasable part: where it is in the payload (an RFC 6901 pointer), its commitment, and
    its salt (None once erased, or on a replica that received it erased)."""

    path: str
    commitment: str
    salt: str | None


def commitment_of(salt_hex: str, value: Any) -> str:
    return hashlib.sha256(bytes.fromhex(salt_hex) + canonical_bytes(value)).hexdigest()


def opens(part: Part, value: Any) -> bool:
    """Whether `value` with the part's salt opens its commitment."""
    if part.salt is None:
        return False
    try:
        computed = commitment_of(part.salt, value)
    except ValueError:
        return False
    return hmac.compare_digest(computed, part.commitment)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def personal_values(payload: Mapping[str, Any], names: frozenset[str]) -> Iterator[tuple[str, Any]]:
    """(pointer, value) of every key named in `names`, at any depth, that holds a value."""

    def walk(node: Any, prefix: str) -> Iterator[tuple[str, Any]]:
        if isinstance(node, Mapping):
            for key in sorted(node):
                value = node[key]
                pointer = f"{prefix}/{_escape(str(key))}"
                if key in names and value not in (None, "", [], {}):
                    yield pointer, value
                else:
                    yield from walk(value, pointer)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                yield from walk(item, f"{prefix}/{index}")

    return walk(payload, "")


def commit(payload: Mapping[str, Any], names: frozenset[str]) -> list[Part]:
    """Fresh parts (new salts) for the personal values of a payload."""
    parts = []
    for pointer, value in personal_values(payload, names):
        salt = secrets.token_hex(SALT_BYTES)
        parts.append(Part(pointer, commitment_of(salt, value), salt))
    return parts


def get_at(payload: Any, pointer: str) -> Any:
    node = payload
    for token in pointer.split("/")[1:]:
        key = _unescape(token)
        if isinstance(node, list):
            node = node[int(key)]
        elif isinstance(node, Mapping):
            node = node[key]
        else:
            raise KeyError(pointer)
    return node


def _set_at(payload: Any, pointer: str, value: Any) -> None:
    tokens = [_unescape(t) for t in pointer.split("/")[1:]]
    if not tokens:
        raise KeyError(pointer)
    node = payload
    for key in tokens[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = tokens[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def committed(payload: Mapping[str, Any], commitments: Mapping[str, str]) -> dict[str, Any]:
    """The payload as hashed and signed: each committed part replaced by its commitment."""
    if not commitments:
        return dict(payload)
    form = copy.deepcopy(dict(payload))
    for pointer, digest in commitments.items():
        _set_at(form, pointer, {COMMIT_KEY: digest})
    return form


def placeholder(value: Any) -> Any:
    """What an erased value is overwritten with: the same JSON type, empty, so that the fold
    and the views that read the payload still find what they expect."""
    if isinstance(value, str):
        return ""
    if isinstance(value, list):
        return []
    if isinstance(value, dict):
        return {}
    return None


def scrub(payload: Mapping[str, Any], pointers: list[str]) -> dict[str, Any]:
    """A copy of the payload with the values at `pointers` overwritten by their placeholder
    (a pointer that is not there is skipped: already erased, or never present)."""
    result = copy.deepcopy(dict(payload))
    for pointer in pointers:
        try:
            _set_at(result, pointer, placeholder(get_at(result, pointer)))
        except (KeyError, IndexError, ValueError, TypeError):
            continue
    return result


def check_parts(payload: Mapping[str, Any], parts: list[Part], names: frozenset[str]) -> str | None:
    """Why the parts sent with a payload are not the ones its declaration asks for, or None:
    every personal value committed (or none: the format before 0.3), each commitment opened
    by the value it names, and a part that comes without its salt (erased before it was sent)
    holding no value any more."""
    expected = {pointer for pointer, _ in personal_values(payload, names)}
    given = {p.path for p in parts}
    if len(given) != len(parts):
        return "a part is committed twice"
    missing = sorted(expected - given)
    if missing and parts:  # none at all: an event in the format before 0.3, hashed in clear
        return f"personal parts sent in clear, not committed: {missing}"
    for part in parts:
        try:
            value = get_at(payload, part.path)
        except (KeyError, IndexError, ValueError, TypeError):
            return f"a part names {part.path}, which the payload does not hold"
        if part.salt is None:
            if value != placeholder(value):
                return f"the part at {part.path} comes without its salt but with a value"
        elif not opens(part, value):
            return f"the value at {part.path} does not open its commitment"
    return None
