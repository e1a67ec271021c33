"""Cyber cases and STIX: indicators travel with the case, sightings come back on it.

The requesting side attaches STIX 2.1 bundles to a `cyber` case (checked against the case's
handling code, then replicated as any attachment). The requested side matches its logs against
every indicator of the case — those of the opening and those of the bundles that have arrived —
and reports the hits with `report_sightings`: the aggregated figures go into the log, the STIX
Sightings bundle is attached beside them.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.attachments import service as attachments
from accord.cases import service as cases
from accord.cases.definitions.cyber import CYBER
from accord.cases.enums import HandlingCode
from accord.cases.models import Case, CaseEvent
from accord.core.clock import iso, parse_iso
from accord.core.errors import InvalidInput
from accord.cyber import handling
from accord.cyber.matching.engine import (
    Matcher,
    MatchReport,
    build_sightings,
    marking_refs_of,
)
from accord.cyber.matching.index import IndicatorIndex
from accord.cyber.matching.readers import LogFormat
from accord.cyber.matching.suppression import SuppressionList
from accord.cyber.stix import (
    IndicatorPattern,
    parse_bundle,
    parse_indicator,
    sightings_bundle,
)
from accord.federation.keys import NodeIdentity

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
REPORT_ACTION = "report_sightings"
_ID_NAMESPACE = uuid.UUID("6a1c5e0e-5b0c-4d55-9a57-3c0a2d3f9e61")
"""Opening indicators get the same STIX id on both nodes: uuid5 of this, the case and the value."""

_PATTERNS: dict[str, str] = {
    "ipv4": "[ipv4-addr:value = '{v}']",
    "ipv6": "[ipv6-addr:value = '{v}']",
    "domain": "[domain-name:value = '{v}']",
    "url": "[url:value = '{v}']",
    "email": "[email-addr:value = '{v}']",
    "md5": "[file:hashes.MD5 = '{v}']",
    "sha1": "[file:hashes.'SHA-1' = '{v}']",
    "sha256": "[file:hashes.'SHA-256' = '{v}']",
}


@dataclass
class CaseIndicators:
    indicators: list[IndicatorPattern]
    values: dict[str, str] = field(default_factory=dict)
    """indicator id -> what it looks for, for people (the opening's value or the pattern)"""
    waiting: list[str] = field(default_factory=list)
    """bundles named in the log whose content has not arrived yet"""


def _cyber_case(session: Session, reference: str) -> Case:
    case = cases.get_case(session, reference=reference)
    if case.case_type != CYBER.case_type:
        raise InvalidInput(f"{reference} is a {case.case_type} case; indicators go on cyber cases")
    return case


def opening_indicator(reference: str, kind: str, value: str) -> IndicatorPattern:
    """An indicator of the opening's simple list as STIX, with an id both sides compute alike."""
    if kind == "cidr":
        kind = "ipv6" if ":" in value else "ipv4"
        template = f"[{kind}-addr:value ISSUBSET '{{v}}']"
    else:
        template = _PATTERNS[kind]
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    ident = f"indicator--{uuid.uuid5(_ID_NAMESPACE, f'{reference}|{kind}|{value}')}"
    return parse_indicator({"id": ident, "pattern": template.format(v=escaped)})


def attach_bundle(
    session: Session,
    *,
    node: NodeIdentity,
    reference: str,
    bundle: bytes,
    officer: str,
    filename: str = "",
) -> cases.Acted:
    """Attach a STIX 2.1 bundle to a cyber case: indicators to match, or context only (threat
    actors, campaigns, infrastructure, attack patterns, observed data). Validated in full, and
    refused if its TLP markings ask for stricter handling than the case carries."""
    case = _cyber_case(session, reference)
    parsed = parse_bundle(bundle)
    case_code = HandlingCode(case.handling_code)
    handling.require_fits(parsed.objects, handling.for_case(reference, case_code))
    if not parsed.objects:
        raise InvalidInput(f"bundle {parsed.id} holds no STIX object")
    return attachments.attach(
        session,
        node=node,
        reference=reference,
        content=io.BytesIO(bundle),
        filename=filename or f"{parsed.id}.json",
        media_type=STIX_MEDIA_TYPE,
        handling_code=parsed.handling_code or case_code,
        description=f"STIX bundle {parsed.id}: {len(parsed.objects)} objects, "
        f"{len(parsed.indicators)} indicators",
        officer=officer,
    )


def _stix_attachments(session: Session, case: Case) -> list[dict[str, Any]]:
    return [
        a
        for a in attachments.attachments_of(session, case=case)
        if str(a.get("media_type", "")).startswith("application/stix+json")
    ]


def case_indicators(session: Session, *, node: NodeIdentity, reference: str) -> CaseIndicators:
    """Every indicator of the case: the opening's, and those of each STIX bundle attached that
    is here (sightings bundles, which hold no indicators, add nothing)."""
    case = _cyber_case(session, reference)
    opening = session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == 1)
    )
    assert opening is not None
    found = CaseIndicators(indicators=[])
    for item in opening.payload["details"].get("indicators", []):
        indicator = opening_indicator(reference, item["type"], item["value"])
        found.indicators.append(indicator)
        found.values[indicator.id] = f"{item['type']} {item['value']}"
    store = attachments.store_of(node)
    for item in _stix_attachments(session, case):
        if not item["available"]:
            found.waiting.append(item["filename"])
            continue
        bundle = parse_bundle(store.path(item["sha256"]).read_bytes())
        for indicator in bundle.indicators:
            if indicator.id not in found.values:
                found.indicators.append(indicator)
                found.values[indicator.id] = indicator.pattern
    return found


def match_logs(
    found: CaseIndicators,
    logs: Sequence[Path],
    log_format: LogFormat,
    *,
    suppression: SuppressionList | None = None,
    progress: Callable[[int], None] | None = None,
) -> MatchReport:
    """Stream the logs through the case's indicators (default suppression of benign values)."""
    suppression = suppression if suppression is not None else SuppressionList.defaults()
    index = IndicatorIndex.build(found.indicators, suppression.key_entry)
    return Matcher(index, suppression=suppression).run(logs, log_format, progress=progress)


def report_sightings(
    session: Session,
    *,
    node: NodeIdentity,
    reference: str,
    report: MatchReport,
    indicators: Sequence[IndicatorPattern],
    sources: Sequence[Path | str],
    officer: str,
) -> cases.Acted:
    """Send the hits of one matching run back on the case: the STIX Sightings bundle attached,
    then `report_sightings` with the figures (it needs the case acknowledged)."""
    case = _cyber_case(session, reference)
    sightings = build_sightings(report, markings=marking_refs_of(indicators))
    bundle_sha = ""
    if sightings:
        content = (sightings_bundle(sightings).serialize(pretty=True) + "\n").encode()
        bundle_sha = hashlib.sha256(content).hexdigest()
        attachments.attach(
            session,
            node=node,
            reference=reference,
            content=io.BytesIO(content),
            filename=f"sightings-{iso(report.started)[:19].replace(':', '')}.json",
            media_type=STIX_MEDIA_TYPE,
            handling_code=HandlingCode(case.handling_code),
            description=f"STIX Sightings of {len(sightings)} indicators",
            officer=officer,
        )
    payload = {
        "started_at": iso(report.started),
        "lines": report.lines,
        "hit_lines": report.hit_lines,
        "sources": [Path(s).name for s in sources][:100],
        "sightings": [
            {
                "indicator_id": indicator_id,
                "count": aggregate.count,
                "first_seen": iso(aggregate.first_seen or report.started),
                "last_seen": iso(aggregate.last_seen or report.started),
                "values": [v for v, _ in aggregate.values.most_common(3)],
            }
            for indicator_id, aggregate in sorted(report.hits.items())
        ],
        "bundle_sha256": bundle_sha,
    }
    return cases.act(
        session,
        node=node,
        reference=reference,
        action=REPORT_ACTION,
        payload=payload,
        officer=officer,
    )


@dataclass(frozen=True)
class Run:
    """One matching run as the log holds it."""

    seq: int
    at: datetime
    officer: str
    lines: int
    hit_lines: int
    sources: list[str]
    sightings: list[dict[str, Any]]


def runs_of(session: Session, *, case: Case) -> list[Run]:
    """The matching runs reported on the case, oldest first."""
    rows = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == REPORT_ACTION)
        .order_by(CaseEvent.seq)
    )
    return [
        Run(
            seq=row.seq,
            at=parse_iso(row.occurred_at),
            officer=row.actor_officer,
            lines=row.payload["lines"],
            hit_lines=row.payload["hit_lines"],
            sources=list(row.payload.get("sources", [])),
            sightings=list(row.payload["sightings"]),
        )
        for row in rows
    ]


def sightings_chart(runs: Sequence[Run], names: Callable[[str], str], *, limit: int = 12) -> str:
    """Sightings by indicator over time: for each indicator (most sighted first), a bar from
    first to last seen in each run, labelled with its count. An SVG."""
    from matplotlib import dates as mdates

    from accord.core.charts import figure, to_svg

    totals: dict[str, int] = {}
    spans: dict[str, list[tuple[datetime, datetime, int]]] = {}
    for run in runs:
        for item in run.sightings:
            key = item["indicator_id"]
            totals[key] = totals.get(key, 0) + item["count"]
            spans.setdefault(key, []).append(
                (parse_iso(item["first_seen"]), parse_iso(item["last_seen"]), item["count"])
            )
    chosen = sorted(totals, key=lambda k: -totals[k])[:limit]
    fig, ax = figure(0.42 * max(len(chosen), 2) + 1.2)
    for row, key in enumerate(chosen):
        for first, last, count in spans[key]:
            start = float(mdates.date2num(first))  # type: ignore[no-untyped-call]
            width = max(float(mdates.date2num(last)) - start, 1 / 96)  # type: ignore[no-untyped-call]
            ax.barh(row, width, left=start, height=0.5, color="#c8102e")
            ax.text(start + width, row, f" {count}", va="center", fontsize=8)
    ax.set_yticks(range(len(chosen)))
    ax.set_yticklabels([names(k)[:48] for k in chosen], fontsize=8)
    ax.invert_yaxis()
    ax.xaxis_date()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d %H:%M"))  # type: ignore[no-untyped-call]
    fig.autofmt_xdate()
    return to_svg(fig)
