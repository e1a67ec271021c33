"""The dialogue pages: the scorecard (each figure linked to the cases behind it), the stuck
cases, the rounds with their agreed outcomes, and the briefing pack."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from accord.api import RuntimeDep, audited
from accord.cases import service as cases
from accord.cases.definitions.round import ROUND
from accord.cases.diagram import render_svg
from accord.cases.enums import Area, OutcomeStatus
from accord.core.clock import utcnow
from accord.core.errors import AccordError, InvalidInput, NotFound
from accord.core.labels import Lang, label, pick
from accord.core.permissions import Permission
from accord.dialogue import service
from accord.dialogue.routes import brief_response
from accord.dialogue.scorecard import AGE_BUCKETS, money
from accord.federation.peers import list_peers
from accord.web.forms import parse_form
from accord.web.pages import WebRoute, render, see_other, svg, tr
from accord.web.routes.cases import (
    Failed,
    OfficerDep,
    PostedDep,
    action_forms,
    failure,
)
from accord.web.security import CSRF_FIELD, Officer, check_csrf, csp_with_own_styles

router = APIRouter(route_class=WebRoute, include_in_schema=False)

PERIODS = (30, 90, 180, 365)
FIGURES = (
    ("sent", "Requests sent"),
    ("received", "Requests received"),
    ("first_response_median_days", "First response, median days"),
    ("first_response_p90_days", "First response, 90th percentile days"),
    ("completion_median_days", "Completion, median days"),
    ("completion_rate", "Completion rate"),
    ("refusal_rate", "Refusal rate"),
    ("overdue", "Overdue"),
    ("fugitives_returned", "Fugitives returned"),
    ("removal_persons_verified", "Persons verified"),
    ("removal_persons_removed", "Persons removed"),
    ("removal_documented_within_30d", "Documented within 30 days"),
    ("cyber_acknowledged_in_time", "Cyber requests acknowledged in time"),
)
RATES = {
    "completion_rate",
    "refusal_rate",
    "removal_documented_within_30d",
    "cyber_acknowledged_in_time",
}


def _shown(name: str, value: Any) -> str:
    if value is None:
        return "—"
    if name in RATES:
        return f"{float(value) * 100:.0f} %"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _area_label(area: str, lang: Lang) -> str:
    return tr(lang)("All areas") if area == "all" else label(Area(area), lang)


def _figure(card: dict[str, Any], area: str, node: str, name: str) -> dict[str, Any]:
    """One figure of the current period; `backlog:<bucket>` and `assets:<currency>` reach in."""
    try:
        current = card["areas"][area][node]["current"]
        if name.startswith("backlog:"):
            found: dict[str, Any] = current["backlog"][name.split(":", 1)[1]]
        elif name.startswith("assets:"):
            found = current["assets_returned"][name.split(":", 1)[1]]
        else:
            found = current[name]
    except KeyError:
        raise NotFound(f"no figure {name!r} for {node} in area {area!r}") from None
    return found


def _scorecard(runtime: RuntimeDep, days: int) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    if days not in PERIODS:
        raise InvalidInput(f"period {days} days: choose one of {', '.join(map(str, PERIODS))}")
    end = utcnow()
    with runtime.reading() as session:
        nodes = [runtime.node.name, *(p.name for p in list_peers(session))]
        records = service.case_records(session)  # every event of every case: read it once
        card = service.scorecard(
            session, nodes=nodes, start=end - timedelta(days=days), end=end, records=records
        )
        waiting = service.stuck_cases(session, nodes=nodes, now=end, records=records)
    return card, waiting, nodes


@router.get("/dialogue")
def dialogue(request: Request, runtime: RuntimeDep, me: OfficerDep, days: int = 90) -> Response:
    """The scorecard of the last `days`, the stuck cases of each side and the rounds."""
    me.principal.require(Permission.DIALOGUE_READ)
    lang = me.lang
    _ = tr(lang)
    card, waiting, nodes = _scorecard(runtime, days)
    areas = [a for a in card["areas"] if a != Area.DIALOGUE.value]
    rows = []
    for area in ["all", *[a for a in areas if a != "all"]]:
        for node in nodes:
            figures = card["areas"][area][node]
            cells = []
            for name, title in FIGURES:
                now, before = figures["current"][name], figures["previous"][name]
                cells.append(
                    {
                        "name": name,
                        "title": _(title),
                        "value": _shown(name, now["value"]),
                        "previous": _shown(name, before["value"]),
                        "count": len(now["cases"]),
                        "href": f"/dialogue/figure?days={days}&area={area}&node={node}&name={name}",
                    }
                )
            backlog = [
                {
                    "bucket": bucket,
                    "value": figures["current"]["backlog"][bucket]["value"],
                    "href": f"/dialogue/figure?days={days}&area={area}&node={node}"
                    f"&name=backlog:{bucket}",
                }
                for bucket, _low, _high in AGE_BUCKETS
            ]
            assets = [
                {
                    "currency": currency,
                    "value": money(figure["value"], currency, lang),
                    "href": f"/dialogue/figure?days={days}&area={area}&node={node}"
                    f"&name=assets:{currency}",
                }
                for currency, figure in figures["current"]["assets_returned"].items()
            ]
            rows.append(
                {
                    "area": _area_label(area, lang),
                    "node": node,
                    "cells": cells,
                    "backlog": backlog,
                    "assets": assets,
                }
            )
    with runtime.reading() as session:
        rounds = service.list_rounds(session)
    return render(
        request,
        "dialogue/index.html",
        {
            "days": days,
            "periods": PERIODS,
            "period": card["period"],
            "figures": [_(title) for _n, title in FIGURES],
            "rows": rows,
            "stuck": waiting,
            "rounds": rounds,
            "round_state": lambda name: pick(lang, ROUND.state(name).en, ROUND.state(name).zh),
            "may_read_cases": me.principal.can(Permission.CASE_READ),
        },
        officer=me,
    )


@router.get("/dialogue/figure")
def figure_cases(
    request: Request,
    runtime: RuntimeDep,
    me: OfficerDep,
    area: str,
    node: str,
    name: str,
    days: int = 90,
) -> Response:
    """The cases behind one figure of the scorecard."""
    me.principal.require(Permission.DIALOGUE_READ)
    card, _waiting, _nodes = _scorecard(runtime, days)
    found = _figure(card, area, node, name)
    titles = dict(FIGURES)
    _ = tr(me.lang)
    if name.startswith("assets:"):
        currency = name.split(":", 1)[1]
        title, value = _("Assets returned"), money(found["value"], currency, me.lang)
    else:
        title, value = _(titles[name]) if name in titles else name, _shown(name, found["value"])
    return render(
        request,
        "dialogue/figure.html",
        {
            "area": _area_label(area, me.lang),
            "node": node,
            "title": title,
            "value": value,
            "cases": sorted(set(found["cases"])),
            "days": days,
            "may_read_cases": me.principal.can(Permission.CASE_READ),
        },
        officer=me,
    )


def _round_context(
    runtime: RuntimeDep, me: Officer, reference: str, failed: Failed | None = None
) -> dict[str, Any]:
    lang = me.lang
    with runtime.reading() as session:
        view = service.get_round(session, reference)
        case = service.get_round_case(session, reference)
        detail = cases.describe(session, case=case, node_name=runtime.node.name)
    forms, page_errors = action_forms(
        detail,
        ROUND,
        lang,
        failed,
        allowed=lambda _action: me.principal.can(Permission.DIALOGUE_MANAGE),
    )
    state = ROUND.state(view.state)
    return {
        "r": view,
        "state_label": pick(lang, state.en, state.zh),
        "status": lambda value: label(OutcomeStatus(value), lang),
        "area": lambda value: label(Area(value), lang),
        "actions": forms,
        "page_errors": page_errors,
        "pending": [p for p in detail.pending if p.status == "pending"],
        "diagram": svg(render_svg(ROUND, current=view.state, lang=lang)),
        "may_read_cases": me.principal.can(Permission.CASE_READ),
        "not_allowed_hint": tr(lang)("A dialogue coordinator of your node takes this action."),
    }


@router.get("/dialogue/rounds/{reference}")
def round_page(reference: str, request: Request, runtime: RuntimeDep, me: OfficerDep) -> Response:
    me.principal.require(Permission.DIALOGUE_READ)
    return render(
        request, "dialogue/round.html", _round_context(runtime, me, reference), officer=me
    )


@router.post("/dialogue/rounds/{reference}")
@router.post("/dialogue/rounds/{reference}/act")
def round_act(
    reference: str, request: Request, runtime: RuntimeDep, me: OfficerDep, form: PostedDep
) -> Response:
    """Add an agenda item, record or update an outcome, hold, conclude or cancel the round."""
    check_csrf(form.get(CSRF_FIELD), me.csrf)
    me.principal.require(Permission.DIALOGUE_MANAGE)
    action = str(form.get("action", ""))
    try:
        with runtime.transaction() as session:
            declared = ROUND.action(action)
            payload = parse_form(declared.payload.model_json_schema(), form, prefix=f"{action}.")
            service.act_on_round(
                session,
                node=runtime.node,
                reference=reference,
                action=action,
                payload=payload,
                officer=me.principal.officer,
            )
            audited(
                session,
                me.principal,
                "dialogue.round.act",
                request,
                subject=reference,
                detail={"action": action},
            )
    except AccordError as exc:
        context = _round_context(runtime, me, reference, failure(exc, action, form, me.lang))
        status = exc.http_status if exc.http_status != 404 else 422
        return render(request, "dialogue/round.html", context, officer=me, status=status)
    return see_other(f"/dialogue/rounds/{reference}#outcomes")


@router.get("/dialogue/rounds/{reference}/act")
def round_act_reloaded(reference: str) -> Response:
    """The address of a refused action, opened again (a reload, a bookmark): the round."""
    return see_other(f"/dialogue/rounds/{reference}")


@router.get("/dialogue/rounds/{reference}/brief", response_model=None)
def round_brief(
    reference: str,
    runtime: RuntimeDep,
    me: OfficerDep,
    lang: str = "en",
    format: str = "html",
) -> Response:
    """The briefing pack, as a page to read or print, or as a PDF to download."""
    me.principal.require(Permission.DIALOGUE_READ)
    if lang not in ("en", "zh") or format not in ("html", "pdf"):
        raise InvalidInput("the briefing pack is in en or zh, as html or pdf")
    response = brief_response(
        runtime, reference, "zh" if lang == "zh" else "en", "pdf" if format == "pdf" else "html"
    )
    if format == "html":  # styled under the CSP: its own stylesheet, allowed by its hash
        response.headers["Content-Security-Policy"] = csp_with_own_styles(
            bytes(response.body).decode("utf-8")
        )
    return response
