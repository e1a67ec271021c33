"""One declaration per case type; REGISTRY maps a case type to its workflow."""

from __future__ import annotations

from accord.cases.definitions.mla import MLA
from accord.cases.workflow import Workflow
from accord.core.errors import InvalidInput

REGISTRY: dict[str, Workflow] = {wf.case_type: wf for wf in (MLA,)}


def workflow_for(case_type: str) -> Workflow:
    try:
        return REGISTRY[case_type]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise InvalidInput(f"unknown case type {case_type!r}; known types: {known}") from None
