"""One cell of a hand-written workflow table, checked against the engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from accord.cases.enums import Side
from accord.cases.workflow import Workflow
from accord.core.errors import WorkflowViolation

Table = Mapping[tuple[str, str], tuple[set[Side], str | None]]


def check_cell(
    workflow: Workflow,
    expected: Table,
    payload: Mapping[str, Any],
    *,
    state: str,
    action: str,
    side: Side,
    facts: Mapping[str, Any] | None = None,
) -> None:
    """Refused for the right reason (state, then side), or allowed with the expected target."""
    cell = expected.get((state, action))
    arguments = {"state": state, "action": action, "side": side, "payload": payload}
    if cell is None:
        with pytest.raises(WorkflowViolation, match=f"not allowed in state '{state}'"):
            workflow.decide(**arguments, facts=facts)
        return
    if side not in cell[0]:
        with pytest.raises(WorkflowViolation, match="belongs to the"):
            workflow.decide(**arguments, facts=facts)
        return
    declared, _ = workflow.decide(**arguments, facts=facts)
    assert declared.target == cell[1]
