"""A person's other names: an `aliases` field (`;` between names in CSV, a list in JSON lines and
Parquet) and the "a.k.a." / "f.k.a." / "also known as" that lists write inside a name, split
into names of their own; and the rows of a list that are one person."""

from __future__ import annotations

import re
from dataclasses import dataclass

from accord.core.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Alias:
    """Another name of a person. A weak alias (a nickname, a single name: FtM `weakAlias`)
    is kept but weighs less when it is the name that agrees."""

    name: str
    native: str = ""
    weak: bool = False


_MARKER = re.compile(
    r"\b(?:a\.\s?k\.\s?a\.?|a/k/a|f\.\s?k\.\s?a\.?|n\.\s?k\.\s?a\.?|also\s+known\s+as|"
    r"formerly\s+known\s+as|also\s+spelt|also\s+spelled)(?=[\s:,]|$)|又名|别名|別名|化名|曾用名",
    re.IGNORECASE,
)
# An alias row of a list (OFAC habit: SDN-10001-AKA1 beside SDN-10001): the person is the id
# before the suffix.
_ALIAS_ROW = re.compile(r"^(?P<person>.+?)[-_ ](?:AKA|FKA)\d*$", re.IGNORECASE)


def person_id(record_id: str) -> str:
    """The person a row describes: its id, or for an alias row (`SDN-10001-AKA1`) the id
    before the suffix."""
    found = _ALIAS_ROW.match(record_id)
    return found.group("person") if found else record_id


def is_weak(name: str) -> bool:
    """A single name (one token, no surname to tell it by) can only be a weak alias."""
    return len(name.split()) < 2 and not any("\u4e00" <= c <= "\u9fff" for c in name)


def _clean(part: str) -> str:
    return part.strip(" \t;,:()[]\"'“”‘’").strip()


def split_name(text: str) -> tuple[str, list[str]]:
    """A name field as lists write it, split into the name and the aliases written inside it:
    `LI, Xiaoming (a.k.a. LEE, Siu Ming; a.k.a. LI, Hsiao-ming)` → `LI, Xiaoming` and
    [`LEE, Siu Ming`, `LI, Hsiao-ming`]. Raise InvalidInput when the field cannot be split
    into names (no name before the first marker, an empty alias, unbalanced brackets)."""
    markers = list(_MARKER.finditer(text))
    if not markers:
        return text.strip(), []
    if text.count("(") != text.count(")"):
        raise InvalidInput(
            f"name {text!r} has aliases inside it but unbalanced brackets; write the aliases "
            "in the aliases field, separated by ;"
        )
    primary = _clean(text[: markers[0].start()])
    if not primary:
        raise InvalidInput(
            f"name {text!r} starts with an alias marker; put the person's name first"
        )
    aliases: list[str] = []
    for i, marker in enumerate(markers):
        end = markers[i + 1].start() if i + 1 < len(markers) else len(text)
        for part in text[marker.end() : end].split(";"):
            alias = _clean(part)
            if alias:
                aliases.append(alias)
        if not _clean(text[marker.end() : end]):
            raise InvalidInput(f"name {text!r}: {marker.group(0)!r} is followed by no name")
    return primary, aliases


def alias_values(value: object) -> list[Alias]:
    """An `aliases` field: text with `;` between the names, or a list (JSON lines, Parquet) of
    names or of objects `{"name", "name_native", "weak"}` (as the node stores them). Weak
    marks are kept; `is_weak` adds them for single names."""
    if value is None:
        return []
    if isinstance(value, float) and value != value:  # NaN from a Parquet writer
        return []
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    found: list[Alias] = []
    for item in items:
        if isinstance(item, str):
            found += [Alias(a, weak=is_weak(a)) for a in (_clean(p) for p in item.split(";")) if a]
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            name, native = _clean(item["name"]), item.get("name_native") or ""
            if not isinstance(native, str):
                raise InvalidInput(f"an alias's name_native must be text, not {native!r}")
            if name:
                found.append(Alias(name, native.strip(), bool(item.get("weak")) or is_weak(name)))
        else:
            raise InvalidInput(
                f"aliases must be names (text with ; between them, or a list), not {item!r}"
            )
    return found
