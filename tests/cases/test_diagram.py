"""Workflow diagrams: valid SVG, every state drawn, the current one highlighted, docs current."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from accord.cases.diagram import render_svg
from accord.cases.workflow import Workflow
from accord.composition import assemble

DOCS = Path(__file__).resolve().parents[2] / "docs" / "diagrams"
SVG = "{http://www.w3.org/2000/svg}"

WORKFLOWS = [t.workflow for t in assemble().case_types]


def texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.case_type for w in WORKFLOWS])
def test_every_state_and_transition_is_drawn(workflow: Workflow) -> None:
    svg = render_svg(workflow)
    drawn = texts(svg)
    for state in workflow.states:
        assert state.en in drawn
    for action in workflow.actions:
        if action.target is not None:  # an arrow's label, or the heading of an escape's box
            assert any(t == action.name or t.startswith(action.name + " (") for t in drawn)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.case_type for w in WORKFLOWS])
def test_docs_hold_the_current_diagrams(workflow: Workflow) -> None:
    assert (DOCS / f"{workflow.case_type}.svg").read_text() == render_svg(workflow)


def test_current_state_is_highlighted_and_chinese_labels_are_used() -> None:
    mla = assemble().case_types.workflow("mla")
    svg = render_svg(mla, current="under_review", lang="zh")
    root = ET.fromstring(svg)
    highlighted = [r for r in root.iter(f"{SVG}rect") if r.get("fill") == "#ffe08a"]
    assert len(highlighted) == 1
    assert "审查中" in texts(svg) and "刑事司法协助请求" in texts(svg)
    assert not [
        r for r in ET.fromstring(render_svg(mla)).iter(f"{SVG}rect") if r.get("fill") == "#ffe08a"
    ]
