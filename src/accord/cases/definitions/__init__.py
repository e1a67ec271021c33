"""One declaration per case type; REGISTRY maps a case type to its workflow."""

from __future__ import annotations

from accord.cases.definitions.asset import ASSET
from accord.cases.definitions.cyber import CYBER
from accord.cases.definitions.fugitive import FUGITIVE
from accord.cases.definitions.intel import INTEL
from accord.cases.definitions.mla import MLA
from accord.cases.definitions.removal import REMOVAL
from accord.cases.definitions.round import ROUND
from accord.cases.workflow import Workflow
from accord.core.errors import InvalidInput

REGISTRY: dict[str, Workflow] = {
    wf.case_type: wf for wf in (MLA, FUGITIVE, ASSET, REMOVAL, INTEL, CYBER, ROUND)
}


def workflow_for(case_type: str) -> Workflow:
    try:
        return REGISTRY[case_type]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise InvalidInput(f"unknown case type {case_type!r}; known types: {known}") from None
