"""The one handling-code rule for STIX: an object whose TLP markings ask for stricter handling
than where it is going allows does not go there. Every path asks it: `cyber attach`, TAXII Add
Objects, federation out (`taxii.objects` to a peer) and in, a STIX bundle the peer attaches to
a case (`attachments.service`), and the export of a case."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from accord.cases.enums import HandlingCode
from accord.core.errors import Forbidden, InvalidInput
from accord.cyber.stix import required_handling_code

_STRICTNESS = list(HandlingCode)
DEFAULT_PEER_CEILING = HandlingCode.H2
"""what a peer's collections carry unless the agreement says otherwise: the code a new case
gets by default, so that what a case refuses a collection refuses too"""
EXPORT_CEILING = HandlingCode.H1
"""an export leaves the two parties: H2 (no third party) and H3 (the sender's own terms) stay"""


@dataclass(frozen=True, slots=True)
class Destination:
    """Where STIX objects are going, and the strictest handling code it may carry."""

    name: str
    ceiling: HandlingCode
    remedy: str
    """what the officer can do instead, for the refusal's message"""


def for_case(reference: str, case_code: HandlingCode) -> Destination:
    return Destination(
        f"the case {reference}",
        case_code,
        "raise the case's handling code or send less restricted indicators",
    )


def peer_ceiling(peer: str, agreement: Mapping[str, Any] | None) -> HandlingCode:
    """The strictest code STIX objects exchanged with `peer` outside a case may carry: the
    agreement's `cyber.handling_code`, H2 when it names none."""
    terms = (agreement or {}).get("cyber") or {}
    code = terms.get("handling_code", DEFAULT_PEER_CEILING.value)
    try:
        return HandlingCode(code)
    except ValueError:
        choices = ", ".join(c.value for c in HandlingCode)
        raise InvalidInput(
            f"the agreement with {peer}: term cyber.handling_code {code!r} is none of {choices}"
        ) from None


def for_peer(peer: str, agreement: Mapping[str, Any] | None) -> Destination:
    ceiling = peer_ceiling(peer, agreement)
    return Destination(
        f"the collections shared with {peer} (agreement term cyber.handling_code {ceiling})",
        ceiling,
        "share it on a case of that handling code instead, or agree a stricter "
        "cyber.handling_code with the peer",
    )


EXPORT = Destination(
    "an export", EXPORT_CEILING, "H2 and H3 items leave only to the peer, on their case"
)


def too_strict(code: HandlingCode | None, ceiling: HandlingCode) -> bool:
    return code is not None and _STRICTNESS.index(code) > _STRICTNESS.index(ceiling)


def refusal(obj: Mapping[str, Any], destination: Destination) -> str | None:
    """Why `obj` may not go to `destination` (None: it may)."""
    needed = required_handling_code(obj)
    if not too_strict(needed, destination.ceiling):
        return None
    return (
        f"its TLP markings need handling code {needed} but {destination.name} carries "
        f"{destination.ceiling}; {destination.remedy}"
    )


def require_fits(objects: Iterable[Mapping[str, Any]], destination: Destination) -> None:
    """Forbidden, naming the first object at fault and how many there are, unless every object
    may go to `destination`."""
    refused = [
        (obj, reason) for obj in objects if (reason := refusal(obj, destination)) is not None
    ]
    if refused:
        first, reason = refused[0]
        others = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        raise Forbidden(f"{first.get('id') or first.get('type')}{others}: {reason}")


def exportable(code: HandlingCode | str | None) -> bool:
    """Whether an item of handling code `code` may be exported."""
    return not too_strict(None if code is None else HandlingCode(code), EXPORT_CEILING)
