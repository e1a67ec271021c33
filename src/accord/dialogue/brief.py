"""The briefing pack of a round: its outcomes, the scorecard with charts, the stuck cases.

One HTML document (charts as SVG images inside it) in English or Chinese; the PDF is that same
document laid out by WeasyPrint, with the Noto CJK fonts for Chinese. Charts are drawn with
matplotlib (see core.charts).
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment
from sqlalchemy.orm import Session

from accord.cases.definitions.round import ROUND
from accord.cases.enums import Area, OutcomeStatus
from accord.core.charts import figure, to_svg
from accord.core.clock import utcnow
from accord.core.errors import InvalidInput
from accord.core.i18n import translations
from accord.core.labels import Lang, label, pick
from accord.core.templating import environment, pdf_of
from accord.dialogue import service
from accord.dialogue.schemas import RoundOut
from accord.dialogue.scorecard import AGE_BUCKETS

HOST_COLOUR = "#1f5f99"
GUEST_COLOUR = "#c8102e"
STATUS_COLOURS = {
    OutcomeStatus.AGREED: "#9aa5b1",
    OutcomeStatus.IN_PROGRESS: "#e0a100",
    OutcomeStatus.DONE: "#2e8540",
    OutcomeStatus.CARRIED_OVER: "#6f42c1",
    OutcomeStatus.DROPPED: "#555555",
}
DEFAULT_PERIOD = timedelta(days=365)
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str

    @property
    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


@dataclass(frozen=True)
class Brief:
    round: RoundOut
    lang: Lang
    start: datetime
    end: datetime
    scorecard: dict[str, Any]
    stuck: dict[str, list[Any]]
    charts: list[Chart]
    outcome_counts: dict[str, dict[str, int]]
    generated_at: datetime


def period_of(session: Session, current: RoundOut, now: datetime) -> tuple[datetime, datetime]:
    """Since the previous round of the mechanism with this peer (or a year), until the round
    starts — or until now, if it starts later."""
    end = min(datetime.combine(current.starts_on, time(), UTC) + timedelta(days=1), now)
    before = service.previous_round(session, current)
    start = datetime.combine(before.starts_on, time(), UTC) if before else end - DEFAULT_PERIOD
    return start, end


def build(
    session: Session,
    *,
    reference: str,
    lang: Lang,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Brief:
    if lang not in ("en", "zh"):
        raise InvalidInput(f"language {lang!r}: the briefing pack is in en or zh")
    current = service.get_round(session, reference)
    now = utcnow()
    default_start, default_end = period_of(session, current, now)
    start, end = start or default_start, end or default_end
    if start >= end:
        raise InvalidInput(
            f"the period must end after it starts ({start:%Y-%m-%d} – {end:%Y-%m-%d})"
        )
    nodes = [current.host, current.guest]
    card = service.scorecard(session, nodes=nodes, start=start, end=end)
    counts: dict[str, dict[str, int]] = {node: {} for node in nodes}
    for node in nodes:
        tally = Counter(o.status for o in current.outcomes if o.owner == node)
        counts[node] = {s.value: tally.get(s.value, 0) for s in OutcomeStatus}
    return Brief(
        round=current,
        lang=lang,
        start=start,
        end=end,
        scorecard=card,
        stuck=service.stuck_cases(session, nodes=nodes, now=now),
        charts=charts(card, counts, nodes, lang),
        outcome_counts=counts,
        generated_at=now,
    )


# -- charts -----------------------------------------------------------------------------------


def charts(
    card: dict[str, Any], counts: dict[str, dict[str, int]], nodes: list[str], lang: Lang
) -> list[Chart]:
    _ = translations(lang).gettext
    areas = [a for a in card["areas"] if a != "all" and a != Area.DIALOGUE.value]
    names = [label(Area(a), lang) for a in areas]

    def per_area(figure: str) -> list[list[float]]:
        return [
            [float(card["areas"][a][node]["current"][figure]["value"] or 0) for a in areas]
            for node in nodes
        ]

    everything = card["areas"].get("all", {})
    backlog = [
        [
            float(
                everything.get(node, {})
                .get("current", {})
                .get("backlog", {})
                .get(b, {})
                .get("value")
                or 0
            )
            for b, _low, _high in AGE_BUCKETS
        ]
        for node in nodes
    ]
    statuses = list(OutcomeStatus)
    medians = [
        [card["areas"][a][node]["current"]["first_response_median_days"]["value"] for a in areas]
        for node in nodes
    ]
    response, response_unit = _scaled([[float(v or 0) for v in row] for row in medians], _)
    # A response within the second is a response: the chart is empty only without any.
    answered = any(v is not None for row in medians for v in row)
    return [
        Chart(
            _("Requests received, by area"),
            _bars(names, per_area("received"), nodes, _("requests"), _("No request.")),
        ),
        Chart(
            _("Median time to first response, by area"),
            _bars(names, response, nodes, response_unit, _("No response yet."), data=answered),
        ),
        Chart(
            _("Open requests by age (backlog)"),
            _bars(
                [b for b, _l, _h in AGE_BUCKETS], backlog, nodes, _("cases"), _("No open request.")
            ),
        ),
        Chart(
            _("Agreed outcomes by status and owner"),
            _stacked(
                nodes,
                [[float(counts[n][s.value]) for n in nodes] for s in statuses],
                [label(s, lang) for s in statuses],
                [STATUS_COLOURS[s] for s in statuses],
            ),
        ),
    ]


def _bars(
    categories: Sequence[str],
    series: Sequence[Sequence[float]],
    names: Sequence[str],
    unit: str,
    empty: str,
    *,
    data: bool | None = None,
) -> str:
    """Horizontal grouped bars: one group per category, one bar per side. `empty` is written
    across the chart when there is no data: no value above zero, unless `data` says."""
    fig, ax = figure(0.45 * max(len(categories), 3) + 1.4)
    height = 0.8 / max(len(series), 1)
    colours = [HOST_COLOUR, GUEST_COLOUR]
    for i, (values, name) in enumerate(zip(series, names, strict=True)):
        positions = [c + i * height for c in range(len(categories))]
        bars = ax.barh(positions, values, height=height, label=name, color=colours[i % 2])
        ax.bar_label(bars, fmt="%g", padding=2, fontsize=8)
    ax.set_yticks([c + height * (len(series) - 1) / 2 for c in range(len(categories))])
    ax.set_yticklabels(categories)
    ax.invert_yaxis()
    ax.set_xlabel(unit)
    if not (any(v for values in series for v in values) if data is None else data):
        ax.set_xlim(0, 1)
        ax.set_xticks([])
        ax.text(0.5, 0.5, empty, transform=ax.transAxes, ha="center", va="center", color="#666")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(names), frameon=False)
    return to_svg(fig)


def _scaled(days: list[list[float]], _: Callable[[str], str]) -> tuple[list[list[float]], str]:
    """Durations in days, hours, minutes or seconds, whichever reads best for the largest."""
    largest = max((v for values in days for v in values), default=0.0)
    units = (("days", 1.0), ("hours", 24.0), ("minutes", 1440.0), ("seconds", 86400.0))
    for unit, factor in units:
        if largest * factor >= 1 or unit == "seconds":
            return [[round(v * factor, 1) for v in values] for values in days], _(unit)
    raise AssertionError("unreachable")


def _stacked(
    categories: Sequence[str],
    layers: Sequence[Sequence[float]],
    names: Sequence[str],
    colours: Sequence[str],
) -> str:
    """Horizontal stacked bars: one bar per category, one layer per status."""
    fig, ax = figure(0.6 * max(len(categories), 2) + 1.4)
    left = [0.0] * len(categories)
    for values, name, colour in zip(layers, names, colours, strict=True):
        ax.barh(list(categories), values, left=left, label=name, color=colour)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3, frameon=False, fontsize=8)
    return to_svg(fig)


# -- output -----------------------------------------------------------------------------------


@cache
def _templates(lang: Lang) -> Environment:
    """The pack's own templates (dialogue/templates), with the catalogue the web UI uses."""
    return environment(TEMPLATES, lang)


def to_html(brief: Brief) -> str:
    lang = brief.lang
    template = _templates(lang).get_template("brief.html")
    return template.render(
        brief=brief,
        r=brief.round,
        state=label_of_state(brief.round.state, lang),
        area=lambda value: label(Area(value), lang),
        status=lambda value: label(OutcomeStatus(value), lang),
        number=lambda value: "—" if value is None else f"{value:g}",
        percent=lambda value: "—" if value is None else f"{value * 100:.0f} %",
    )


def label_of_state(state: str, lang: Lang) -> str:
    found = ROUND.state(state)
    return pick(lang, found.en, found.zh)


def to_pdf(brief: Brief) -> bytes:
    return pdf_of(to_html(brief))
