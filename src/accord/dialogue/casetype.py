"""The dialogue round as a case type: its workflow, and the check that a new round names an
active mechanism of ours and a number not yet used in it."""

from __future__ import annotations

from accord.cases.casetype import CaseType
from accord.cases.definitions.round import ROUND
from accord.cases.enums import Area
from accord.dialogue.service import check_round_opening

ROUND_TYPE = CaseType(ROUND, default_area=Area.DIALOGUE, opening_checks=(check_round_opening,))
