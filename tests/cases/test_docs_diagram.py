"""docs/workflows.md shows the diagram generated from the current declaration."""

from __future__ import annotations

from pathlib import Path

from accord.cases.definitions import MLA

DOC = Path(__file__).resolve().parents[2] / "docs" / "workflows.md"


def test_workflow_doc_holds_the_generated_mla_diagram() -> None:
    assert MLA.mermaid() in DOC.read_text(encoding="utf-8")


def test_diagram_has_every_state_changing_action() -> None:
    diagram = MLA.mermaid()
    for action in MLA.actions:
        if action.target is not None:
            assert f": {action.name} (" in diagram
