"""Workflow diagrams as SVG, drawn from the declarations (current state highlighted).

States are laid out in rows by their distance from the initial state; forward transitions run
down, the others curve round the side. No layout engine is needed for graphs this size.
"""

from __future__ import annotations

from collections import deque
from html import escape

from accord.cases.workflow import Action, Who, Workflow
from accord.core.labels import Lang, pick

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 170, 38, 46, 78, 30
WIDE = 4
SIDE_W = 260
COLOURS = {Who.REQUESTING: "#1f5fa8", Who.REQUESTED: "#b3541e", Who.EITHER: "#555555"}
SMALL = 11
"""The smallest text of a diagram, in px (labels of transitions, the legend)."""
LINE = 14
SIDES = {
    Who.REQUESTING: ("requesting side", "请求方"),
    Who.REQUESTED: ("requested side", "被请求方"),
    Who.EITHER: ("either side", "任一方"),
}


class Labels:
    """Where transition labels went: a new one moves down until it overlaps none of them."""

    def __init__(self) -> None:
        self.placed: list[tuple[float, float, float, float]] = []

    def place(self, x: float, y: float, text: str) -> tuple[float, float]:
        width, height = _units(text) * SMALL * 0.56, LINE
        for _ in range(12):
            box = (x, y - height + 3, x + width, y + 3)
            if not any(_overlap(box, other) for other in self.placed):
                break
            y += LINE
        self.placed.append((x, y - height + 3, x + width, y + 3))
        return x, y


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _is_escape(action: Action) -> bool:
    """An exit open from many states (withdrawal): drawn once, as a box beside the graph."""
    return action.target is not None and len(action.sources) >= WIDE


def _ranks(workflow: Workflow) -> dict[str, int]:
    rank = {workflow.initial: 0}
    queue = deque([workflow.initial])
    while queue:
        current = queue.popleft()
        for action in workflow.actions:
            target = action.target
            if _is_escape(action) or not target:
                continue
            if current in action.sources and target not in rank:
                rank[target] = rank[current] + 1
                queue.append(target)
    # Then push each state below every state that leads forward to it (longest path over
    # the edges that go down in breadth-first order, which cannot form a cycle), so that
    # final states sink to the bottom.
    breadth = dict(rank)
    finals = {st.name for st in workflow.states if st.final}
    changed = True
    while changed:
        changed = False
        for action in workflow.actions:
            target = action.target
            if _is_escape(action) or not target or target not in rank:
                continue
            for source in action.sources:
                forward = source in breadth and (
                    breadth[target] > breadth[source] or target in finals
                )
                if forward and rank[target] < rank[source] + 1:
                    rank[target] = rank[source] + 1
                    changed = True
    return rank


def _units(text: str) -> int:
    """Display width in half-width units: Han characters count double."""
    return sum(2 if ord(c) >= 0x2E80 else 1 for c in text)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        if current and _units(current) + 1 + _units(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else lines


def render_svg(workflow: Workflow, *, current: str | None = None, lang: Lang = "en") -> str:
    ranks = _ranks(workflow)
    rows: dict[int, list[str]] = {}
    side = [s.name for s in workflow.states if s.name not in ranks]
    for state in workflow.states:  # declaration order within a row
        if state.name in ranks:
            rows.setdefault(ranks[state.name], []).append(state.name)
    widest = max(len(names) for names in rows.values())
    graph_width = widest * BOX_W + (widest - 1) * GAP_X + 120 + 2 * 90
    width = MARGIN * 2 + graph_width + (SIDE_W if side else 0)
    height = MARGIN * 2 + 40 + len(rows) * BOX_H + (len(rows) - 1) * GAP_Y + 90
    centre: dict[str, tuple[float, float]] = {}
    for row, names in rows.items():
        row_width = len(names) * BOX_W + (len(names) - 1) * GAP_X
        left = MARGIN + 90 + (graph_width - 300 - row_width) / 2
        for i, name in enumerate(names):
            x = left + i * (BOX_W + GAP_X) + BOX_W / 2
            y = MARGIN + 40 + row * (BOX_H + GAP_Y) + BOX_H / 2
            centre[name] = (x, y)
    middle = MARGIN + 90 + (graph_width - 300) / 2
    for i, name in enumerate(side):
        centre[name] = (MARGIN + graph_width + BOX_W / 2 + 20, MARGIN + 40 + BOX_H / 2 + i * 160)

    title = pick(lang, workflow.en, workflow.zh)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(title)}" '
        'font-family="Noto Sans CJK SC, Noto Sans, sans-serif">',
        "<defs>",
        *(
            f'<marker id="arrow-{who.value}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
            for who, colour in COLOURS.items()
        ),
        "</defs>",
        f'<text x="{MARGIN}" y="{MARGIN + 6}" font-size="17" font-weight="bold">'
        f"{escape(title)}</text>",
    ]
    bend = 0
    labels = Labels()
    for action in workflow.actions:
        if action.target is None:
            continue
        colour = COLOURS[action.by]
        if _is_escape(action):
            x, y = centre[action.target]
            names = [
                pick(lang, st.en, st.zh) for st in workflow.states if st.name in action.sources
            ]
            heading = pick(lang, action.en, action.zh)
            by_en, by_zh = SIDES[action.by]
            lines = [pick(lang, f"{heading} ({by_en})", f"{heading}（{by_zh}）")]
            lines += _wrap(pick(lang, "from: ", "可自：") + ", ".join(names), 44)
            for n, line in enumerate(lines):
                parts.append(
                    f'<text x="{x - BOX_W / 2:.1f}" y="{y + BOX_H / 2 + 16 + LINE * n:.1f}" '
                    f'font-size="{SMALL}" fill="{colour}">{escape(line)}</text>'
                )
            continue
        for source in sorted(action.sources):
            (x1, y1), (x2, y2) = centre[source], centre[action.target]
            text = pick(lang, action.en, action.zh)
            label = escape(text)
            if source == action.target:
                continue  # stays in its state: listed in the legend
            span = ranks[action.target] - ranks[source]
            if span == 1:
                sx, sy, ex, ey = x1, y1 + BOX_H / 2, x2, y2 - BOX_H / 2
                cx, cy = (sx + ex) / 2, (sy + ey) / 2
                path = f"M{sx:.1f},{sy:.1f} L{ex:.1f},{ey:.1f}"
                lx, ly = cx + 4, cy
            elif span > 1:  # skips rows: bow out to the nearer side, clear of the boxes
                outward = -1 if x1 <= middle else 1
                sx, sy = x1 + outward * BOX_W / 2, y1
                ex, ey = x2 + outward * BOX_W / 2, y2
                cx = (
                    (min(sx, ex) - 60 - 10 * span)
                    if outward < 0
                    else (max(sx, ex) + 60 + 10 * span)
                )
                cy = (sy + ey) / 2
                path = f"M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}"
                mx = 0.25 * sx + 0.5 * cx + 0.25 * ex  # the curve's midpoint
                lx, ly = (mx + 4, cy) if outward > 0 else (mx - 8 - SMALL * 0.56 * _units(text), cy)
            elif ranks[action.target] == ranks[source]:  # side by side: a straight line
                direction = 1 if x2 > x1 else -1
                sx, ex = x1 + direction * BOX_W / 2, x2 - direction * BOX_W / 2
                sy = ey = y1 + (6 if direction > 0 else -6)
                path = f"M{sx:.1f},{sy:.1f} L{ex:.1f},{ey:.1f}"
                lx, ly = min(sx, ex) + 4, sy - 4 if direction < 0 else sy + 12
            else:  # back up: curve out to the right
                bend += 1
                sx, sy = x1 + BOX_W / 2, y1
                ex, ey = x2 + BOX_W / 2, y2
                cx = max(sx, ex) + 40 + 12 * (bend % 4)
                cy = (sy + ey) / 2
                path = f"M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}"
                lx, ly = 0.25 * sx + 0.5 * cx + 0.25 * ex + 4, cy
            parts.append(
                f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.4" '
                f'marker-end="url(#arrow-{action.by.value})"/>'
            )
            lx, ly = labels.place(lx, ly, text)
            parts.append(
                f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="{SMALL}" fill="{colour}" '
                f'paint-order="stroke" stroke="#ffffff" stroke-width="3">{label}</text>'
            )
    for state in workflow.states:
        x, y = centre[state.name]
        is_current = state.name == current
        fill = "#ffe08a" if is_current else ("#eeeeee" if state.final else "#ffffff")
        stroke = "#c08a00" if is_current else "#333333"
        dash = ' stroke-dasharray="4 3"' if not state.shared else ""
        parts.append(
            f'<g><title>{escape(state.name)}</title><rect x="{x - BOX_W / 2:.1f}" '
            f'y="{y - BOX_H / 2:.1f}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{3 if is_current else 1.2}"{dash}/>'
            f'<text x="{x:.1f}" y="{y + 5:.1f}" font-size="13" text-anchor="middle"'
            f"{' font-weight=' + chr(34) + 'bold' + chr(34) if is_current else ''}>"
            f"{escape(pick(lang, state.en, state.zh))}</text></g>"
        )
    staying = sorted(
        {
            pick(lang, a.en, a.zh)
            for a in workflow.actions
            if a.target is None or a.target in a.sources
        }
    )
    legend_y = height - MARGIN - 10
    x = MARGIN
    for who in (Who.REQUESTING, Who.REQUESTED):
        en, zh = SIDES[who]
        parts.append(
            f'<line x1="{x}" y1="{legend_y - 4}" x2="{x + 24}" y2="{legend_y - 4}" '
            f'stroke="{COLOURS[who]}" stroke-width="2"/>'
            f'<text x="{x + 30}" y="{legend_y}" font-size="{SMALL}">{pick(lang, en, zh)}</text>'
        )
        x += 140
    if staying:
        prefix = pick(lang, "without a change of state: ", "不改变状态的操作：")
        separator = pick(lang, ", ", "、")
        for n, line in enumerate(_wrap(prefix + separator.join(staying), 70)):
            parts.append(
                f'<text x="{x}" y="{legend_y + LINE * n}" font-size="{SMALL}" fill="#555555">'
                f"{escape(line)}</text>"
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
