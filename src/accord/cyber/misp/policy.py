"""MISP's sharing words read as Accord's: `tlp:` tags, distribution levels and Accord's own
`accord:handling-code` tag as a handling code, and a handling code as the tags it leaves with."""

from __future__ import annotations

import re
from collections.abc import Iterable

from accord.cases.enums import HandlingCode
from accord.cyber.stix import TLP_BY_HANDLING_CODE, TlpLevel, handling_code_for_tlp, strictest

HANDLING_TAG = "accord:handling-code"
"""A machine tag (MISP's `namespace:predicate="value"`) carrying the handling code itself."""

# The MISP tlp taxonomy; WHITE is TLP 1.0's name for CLEAR.
_TLP_TAGS: dict[str, TlpLevel] = {
    "tlp:white": TlpLevel.CLEAR,
    "tlp:clear": TlpLevel.CLEAR,
    "tlp:green": TlpLevel.GREEN,
    "tlp:amber": TlpLevel.AMBER,
    "tlp:amber+strict": TlpLevel.AMBER_STRICT,
    "tlp:red": TlpLevel.RED,
}
_TLP_ORDER = list(TlpLevel)

# MISP distribution levels, read as the TLP level that says the same about onward sharing:
# 0 your organisation only and 4 a sharing group (organisations the sender named) allow no third
# party; 1 this community and 2 connected communities are community-wide; 3 all communities is
# public. 5 (inherit) is resolved by the caller to the event's level.
DISTRIBUTION_TLP: dict[int, TlpLevel] = {
    0: TlpLevel.AMBER_STRICT,
    1: TlpLevel.GREEN,
    2: TlpLevel.GREEN,
    3: TlpLevel.CLEAR,
    4: TlpLevel.AMBER_STRICT,
}
INHERIT = 5

_HANDLING_TAG = re.compile(r'accord:handling-code\s*=\s*"?(H[0-3])"?', re.IGNORECASE)


def tlp_of_tag(tag: str) -> TlpLevel | None:
    return _TLP_TAGS.get(tag.strip().lower())


def is_tlp_tag(tag: str) -> bool:
    return tag.strip().lower().startswith("tlp:")


def handling_code_of_tag(tag: str) -> HandlingCode | None:
    found = _HANDLING_TAG.fullmatch(tag.strip())
    return HandlingCode(found[1].upper()) if found else None


def stricter_tlp(levels: Iterable[TlpLevel | None]) -> TlpLevel | None:
    """The strictest of the levels given (None: none given)."""
    present = [level for level in levels if level is not None]
    return max(present, key=_TLP_ORDER.index, default=None)


def code_needed(tlp: TlpLevel | None, codes: Iterable[HandlingCode]) -> HandlingCode | None:
    """The handling code a TLP level and any explicit codes ask for together."""
    asked = list(codes)
    if tlp is not None:
        asked.append(handling_code_for_tlp(tlp))
    return strictest(asked)


def tlp_tag_for(code: HandlingCode) -> str:
    """The `tlp:` tag an item leaving under `code` carries (never looser: see docs/cyber.md)."""
    return f"tlp:{TLP_BY_HANDLING_CODE[code].value}"


def handling_tag_for(code: HandlingCode) -> str:
    return f'{HANDLING_TAG}="{code.value}"'


def looser_than(tag: str, code: HandlingCode) -> bool:
    """Whether a tlp tag allows wider sharing than `code` leaves with."""
    level = tlp_of_tag(tag)
    target = TLP_BY_HANDLING_CODE[code]
    return level is not None and _TLP_ORDER.index(level) < _TLP_ORDER.index(target)
