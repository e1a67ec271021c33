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
            assert any(t == action.en or t.startswith(action.en + " (") for t in drawn)
    assert not any(t == action.name and action.name != action.en.lower() for t in drawn)


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


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.case_type for w in WORKFLOWS])
def test_labels_are_readable_and_do_not_overlap(workflow: Workflow, lang: str) -> None:
    root = ET.fromstring(render_svg(workflow, lang=lang))  # type: ignore[arg-type]
    drawn = list(root.iter(f"{SVG}text"))
    assert min(float(t.get("font-size", "0")) for t in drawn) >= 11
    boxes = []
    for t in drawn:
        if t.get("paint-order") != "stroke":  # the transitions' labels
            continue
        x, y, size = float(t.get("x", 0)), float(t.get("y", 0)), float(t.get("font-size", 0))
        width = units(t.text or "") * size * 0.56
        boxes.append((x, y - size, x + width, y))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def units(text: str) -> int:
    return sum(2 if ord(c) >= 0x2E80 else 1 for c in text)
