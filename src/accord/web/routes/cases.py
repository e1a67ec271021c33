"""Officers' case pages: the dashboard, the case list, opening a case, a case and its actions.

The same services, permission checks and audit entries as the JSON API (cases/routes.py):
reads of case content are audited, review actions need case:review, need-to-know is the
service's (get_visible_case, list_cases with a viewer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from accord.accounts.service import Principal
from accord.api import RuntimeDep, audited
from accord.attachments import service as attachments
from accord.attachments.enums import FileStatus
from accord.cases import service
from accord.cases.casetype import CaseType, CaseTypes, FieldMeta, case_types
from accord.cases.diagram import render_svg
from accord.cases.enums import Area, HandlingCode, PersonStatus, Priority, Side
from accord.cases.models import Case, CaseEvent
from accord.cases.schemas import CaseCreate, CaseDetail
from accord.cases.workflow import OPEN_ACTION, Action, Workflow, json_schema
from accord.core.clock import utcnow
from accord.core.errors import (
    AccordError,
    InvalidInput,
    NotFound,
    Problem,
    Problems,
    validation_problems,
)
from accord.core.labels import Lang, label, pick
from accord.core.media import download_headers
from accord.core.permissions import Permission
from accord.core.schemas import MAX_OFFSET
from accord.cyber import sightings
from accord.federation.peers import list_peers
from accord.identity import integration
from accord.runtime import Runtime
from accord.web.forms import (
    FormField,
    Option,
    field_errors,
    form_fields,
    header_schema,
    parse_form,
    readable,
)
from accord.web.i18n import field_label
from accord.web.messages import refusal
from accord.web.once import act_once, keyed_form
from accord.web.pages import WebRoute, render, see_other, svg, tr
from accord.web.security import CSRF_FIELD, Officer, check_csrf, signed_in

router = APIRouter(route_class=WebRoute, include_in_schema=False)

SOON = timedelta(days=7)
PERSONS_FACT = "persons"
"""The facts of a batch: each person's status by their id (removal)."""
DUE_FILTERS = {"overdue": timedelta(0), "7d": timedelta(days=7), "30d": timedelta(days=30)}
HEADER_SHOWN = ("title", "area", "priority", "handling_code", "details")


def officer(request: Request, runtime: RuntimeDep) -> Officer:
    return signed_in(runtime, request)


OfficerDep = Annotated[Officer, Depends(officer)]


async def posted_form(request: Request) -> FormData:
    return await request.form()


PostedDep = Annotated[FormData, Depends(posted_form)]


def _next_steps(types: CaseTypes, case: Case, node_name: str, principal: Principal) -> list[Action]:
    """What this officer could do now on the case that moves it on (their queue): the case
    type's next steps for our side, without its bookkeeping (notes, withdrawal)."""
    if case.sequencer != node_name and not case.shared:
        return []
    declared = types.get(case.case_type)
    if declared.workflow.state(case.state).final:
        return []
    side = service.side_of(case, node_name)
    return [
        a
        for a in declared.next_steps(case.state, side)
        if principal.may_take(review=a.review) and possible(a, case.facts or {})
    ]


def possible(action: Action, facts: Mapping[str, Any]) -> bool:
    """Whether the action's guard lets it through for the case as it stands: for some person of
    a batch (a guard that asks about one), or for the case. A removal whose persons all wait on
    the other side is not in this side's queue, nor under "You can"."""
    if action.guard is None:
        return True
    persons = list(facts.get(PERSONS_FACT, {}))
    for trial in [{"person_id": p} for p in persons] or [{}]:
        try:
            if action.guard(facts, trial) is None:
                return True
        except (KeyError, TypeError, ValueError):  # the guard needs a payload: not decidable
            return True
    return False


@dataclass(frozen=True)
class Row:
    """A case in a list, in the page's language."""

    reference: str
    title: str
    case_type: str
    type_label: str
    state: str
    state_label: str
    final: bool
    priority: str
    side: str
    peer: str
    updated_at: Any
    next_due_at: Any
    overdue: bool
    next_steps: list[str]


def _row(types: CaseTypes, case: Case, node_name: str, principal: Principal, lang: Lang) -> Row:
    workflow = types.workflow(case.case_type)
    state = workflow.state(case.state)
    now = utcnow()
    return Row(
        reference=case.reference,
        title=case.title,
        case_type=case.case_type,
        type_label=pick(lang, workflow.en, workflow.zh),
        state=case.state,
        state_label=pick(lang, state.en, state.zh),
        final=state.final,
        priority=enum_label_of(Priority, case.priority, lang),
        side=enum_label_of(Side, service.side_of(case, node_name).value, lang),
        peer=case.peer,
        updated_at=case.updated_at,
        next_due_at=case.next_due_at,
        overdue=case.next_due_at is not None and case.next_due_at < now,
        next_steps=[pick(lang, a.en, a.zh) for a in _next_steps(types, case, node_name, principal)],
    )


def enum_label_of(cls: type[StrEnum], value: str, lang: Lang) -> str:
    try:
        return label(cls(value), lang)
    except (KeyError, ValueError):
        return value


def _state_label(workflow: Workflow, name: str | None, lang: Lang) -> str:
    if name is None:
        return ""
    state = workflow.state(name)
    return pick(lang, state.en, state.zh)


def _deadline_label(workflow: Workflow, name: str, lang: Lang) -> str:
    rule, _, item = name.partition(":")
    try:
        declared = workflow.deadline(rule)
    except KeyError:
        return name
    text = pick(lang, declared.en, declared.zh)
    return f"{text} ({item})" if item else text


# -- dashboard --------------------------------------------------------------------------------


def _landing(principal: Principal) -> str:
    for permission, path in (
        (Permission.USER_ADMIN, "/users"),
        (Permission.AUDIT_READ, "/audit"),
        (Permission.DIALOGUE_READ, "/dialogue"),
        (Permission.PEER_READ, "/peers"),
    ):
        if principal.can(permission):
            return path
    return "/account"


@router.get("/")
def dashboard(request: Request, runtime: RuntimeDep, me: OfficerDep) -> Response:
    """My queue, deadlines due soon and overdue, recent activity."""
    if not me.principal.can(Permission.CASE_READ):
        return see_other(_landing(me.principal))
    node_name = runtime.node.name
    lang = me.lang
    with runtime.transaction() as session:
        recent_cases, _ = service.list_cases(session, viewer=me.principal, limit=200)
        due_cases, _ = service.list_cases(session, viewer=me.principal, due_within=SOON, limit=100)
        types = runtime.case_types
        queue = [
            _row(types, c, node_name, me.principal, lang)
            for c in recent_cases
            if _next_steps(types, c, node_name, me.principal)
        ]
        deadlines: list[dict[str, Any]] = []
        horizon = utcnow() + SOON
        for case in due_cases:
            workflow = types.workflow(case.case_type)
            side = service.side_of(case, node_name)
            for due in service.open_deadlines(case):
                if due.due_at <= horizon:
                    deadlines.append(
                        {
                            "reference": case.reference,
                            "title": case.title,
                            "name": _deadline_label(workflow, due.name, lang),
                            "ours": due.owner == side,
                            "owner": enum_label_of(Side, due.owner.value, lang),
                            "due_at": due.due_at,
                            "overdue": due.due_at < utcnow(),
                        }
                    )
        deadlines.sort(key=lambda d: d["due_at"])
        latest = service.last_events(session, cases=recent_cases[:10])
        activity = [
            _event_line(types, case, latest[case.id], lang)
            for case in recent_cases[:10]
            if case.id in latest
        ]
        audited(
            session,
            me.principal,
            "case.list",
            request,
            detail={"count": len(recent_cases), "page": "dashboard"},
        )
    return render(
        request,
        "cases/dashboard.html",
        {"queue": queue, "deadlines": deadlines, "activity": activity},
        officer=me,
    )


def _action_label(workflow: Workflow, action: str, lang: Lang) -> str:
    return pick(lang, *workflow.labels_of(action))


def _event_line(types: CaseTypes, case: Case, event: CaseEvent, lang: Lang) -> dict[str, Any]:
    workflow = types.workflow(case.case_type)
    state = workflow.state(event.state_after)
    return {
        "reference": case.reference,
        "title": case.title,
        "seq": event.seq,
        "at": event.occurred_at,
        "node": event.actor_node,
        "officer": event.actor_officer,
        "action": _action_label(workflow, event.action, lang),
        "state": pick(lang, state.en, state.zh),
    }


# -- case list --------------------------------------------------------------------------------


def _type_options(types: CaseTypes, lang: Lang) -> list[Option]:
    return [Option(t.name, pick(lang, t.en, t.zh)) for t in types]


def _state_options(types: CaseTypes, case_type: str, lang: Lang) -> list[Option]:
    workflows = [types.workflow(case_type)] if case_type in types else [t.workflow for t in types]
    seen: dict[str, Option] = {}
    for workflow in workflows:
        for state in workflow.states:
            seen.setdefault(state.name, Option(state.name, pick(lang, state.en, state.zh)))
    return list(seen.values())


@router.get("/cases")
def case_list(
    request: Request,
    runtime: RuntimeDep,
    me: OfficerDep,
    state: str = "",
    type: str = "",
    due: str = "",
    offset: int = 0,
) -> Response:
    me.principal.require(Permission.CASE_READ)
    lang = me.lang
    limit = 50
    offset = min(max(0, offset), MAX_OFFSET)
    with runtime.transaction() as session:
        rows, total = service.list_cases(
            session,
            state=state or None,
            case_type=type or None,
            due_within=DUE_FILTERS.get(due),
            viewer=me.principal,
            offset=offset,
            limit=limit,
        )
        shown = [_row(runtime.case_types, c, runtime.node.name, me.principal, lang) for c in rows]
        audited(session, me.principal, "case.list", request, detail={"count": len(rows)})
    _ = tr(lang)
    return render(
        request,
        "cases/list.html",
        {
            "rows": shown,
            "total": total,
            "offset": offset,
            "limit": limit,
            "filters": {"state": state, "type": type, "due": due},
            "type_options": _type_options(runtime.case_types, lang),
            "state_options": _state_options(runtime.case_types, type, lang),
            "due_options": [
                Option("overdue", _("Overdue")),
                Option("7d", _("Due within 7 days")),
                Option("30d", _("Due within 30 days")),
            ],
        },
        officer=me,
    )


# -- opening a case ---------------------------------------------------------------------------


def _opening_fields(
    session: Session,
    case_type: str,
    lang: Lang,
    posted: FormData | None = None,
    errors: dict[str, str] | None = None,
) -> tuple[list[FormField], list[FormField]]:
    """The header's fields (peer, area, priority, handling code, title) and the details'."""
    schema = CaseCreate.model_json_schema()
    schema["properties"] = {
        k: v
        for k, v in schema["properties"].items()
        if k in ("area", "priority", "handling_code", "title")
    }
    schema["required"] = ["area", "title"]
    header = form_fields(schema, lang, posted=posted, prefix="", errors=errors)
    peers = [Option(p.name, f"{p.name} ({p.country})") for p in list_peers(session) if p.active]
    chosen = str(posted.get("peer", "")) if posted else ""
    peer_field = FormField(
        name="peer",
        label="Peer",
        kind="select",
        required=True,
        options=peers,
        value=chosen or (peers[0].value if peers else ""),
        error=(errors or {}).get("peer", ""),
    )
    declared = case_types(session).get(case_type)
    for f in header:
        if f.name == "area" and not posted:
            f.value = declared.default_area.value
    workflow = declared.workflow
    details = form_fields(
        workflow.opening.model_json_schema(),
        lang,
        posted=posted,
        prefix="d.",
        errors={k.removeprefix("details."): v for k, v in (errors or {}).items()},
        meta=declared.fields,
    )
    return [peer_field, *header], details


@router.get("/cases/new")
def new_case_page(
    request: Request, runtime: RuntimeDep, me: OfficerDep, type: str = "mla"
) -> Response:
    me.principal.require(Permission.CASE_OPEN)
    runtime.case_types.get(type)
    with runtime.reading() as session:
        header, details = _opening_fields(session, type, me.lang)
    return _new_case(request, runtime.case_types, me, type, header, details, [])


def _new_case(
    request: Request,
    types: CaseTypes,
    me: Officer,
    case_type: str,
    header: list[FormField],
    details: list[FormField],
    errors: list[str],
) -> Response:
    lang = me.lang
    return render(
        request,
        "cases/new.html",
        {
            "case_type": case_type,
            "type_options": _type_options(types, lang),
            "header_fields": header,
            "detail_fields": details,
            "errors": errors,
        },
        officer=me,
        status=422 if errors else 200,
    )


HEADER_POSTED = ("peer", "area", "priority", "handling_code", "title")


def _header_problems(form: FormData, case_type: str) -> Problems:
    """What is wrong with the header an officer typed, checked against the API's own model
    (CaseCreate) so that every field's problem shows at once, beside the details'."""
    typed = {k: str(form.get(k, "")).strip() for k in HEADER_POSTED}
    data: dict[str, Any] = {k: v for k, v in typed.items() if v}
    data.setdefault("priority", Priority.ROUTINE.value)
    data.setdefault("handling_code", HandlingCode.H0.value)
    try:
        CaseCreate.model_validate({**data, "case_type": case_type, "details": {}})
    except ValidationError as exc:
        return validation_problems(exc)
    return Problems()


def _detail_problems(workflow: Workflow, form: FormData) -> tuple[dict[str, Any], Problems]:
    """The opening details typed into the form, and what is wrong with them."""
    try:
        details = parse_form(workflow.opening.model_json_schema(), form, prefix="d.")
        workflow.validate_opening(details)
    except InvalidInput as exc:
        return {}, exc.problems or Problems((Problem((), "value_error", exc.message),))
    return details, Problems()


@router.post("/cases/new")
def open_case(
    request: Request, runtime: RuntimeDep, me: OfficerDep, form: PostedDep, type: str = "mla"
) -> Response:
    check_csrf(form.get(CSRF_FIELD), me.csrf)
    me.principal.require(Permission.CASE_OPEN)
    declared = runtime.case_types.get(type)
    header_problems = _header_problems(form, type)
    details, detail_problems = _detail_problems(declared.workflow, form)
    if header_problems or detail_problems:
        return _refused_opening(request, runtime, me, type, form, header_problems, detail_problems)
    try:
        keyed = keyed_form(form, request, me.principal)
        with runtime.transaction() as session:

            def perform() -> str:
                case = service.open_case(
                    session,
                    node=runtime.node,
                    case_type=type,
                    peer=str(form.get("peer", "")).strip(),
                    area=Area(str(form.get("area", "")).strip()),
                    priority=Priority(str(form.get("priority") or "routine").strip()),
                    handling_code=HandlingCode(str(form.get("handling_code") or "H0").strip()),
                    title=str(form.get("title", "")).strip(),
                    details=details,
                    officer=me.principal.officer,
                    unit=me.principal.unit,
                )
                audited(session, me.principal, "case.open", request, subject=case.reference)
                return f"/cases/{case.reference}"

            opened = act_once(session, runtime, request, me.principal, keyed, perform)
    except InvalidInput as exc:
        if exc.problems:  # the details, as the service checked them against this node's data
            return _refused_opening(request, runtime, me, type, form, Problems(), exc.problems)
        return _refused_opening(
            request, runtime, me, type, form, Problems(), Problems(), [refusal(exc, me.lang)]
        )
    except ValidationError as exc:
        return _refused_opening(
            request, runtime, me, type, form, validation_problems(exc), Problems()
        )
    except AccordError as exc:
        return _refused_opening(
            request, runtime, me, type, form, Problems(), Problems(), [refusal(exc, me.lang)]
        )
    return see_other(opened)


def _refused_opening(
    request: Request,
    runtime: Runtime,
    me: Officer,
    case_type: str,
    form: FormData,
    header: Problems,
    details: Problems,
    general: list[str] | None = None,
) -> Response:
    """New case sent back as typed, each problem beside its field, the rest above the form."""
    meta = runtime.case_types.get(case_type).fields
    header_errors, header_general = field_errors(InvalidInput("", problems=header), me.lang)
    detail_errors, detail_general = field_errors(InvalidInput("", problems=details), me.lang, meta)
    errors = {**header_errors, **{f"details.{k}": v for k, v in detail_errors.items()}}
    shown = [*(general or []), *header_general, *detail_general]
    if not shown:
        shown = [tr(me.lang)("Check the fields marked below.")]
    with runtime.reading() as session:
        header_fields, detail_fields = _opening_fields(
            session, case_type, me.lang, posted=form, errors=errors
        )
    return _new_case(
        request, runtime.case_types, me, case_type, header_fields, detail_fields, shown
    )


_E = Any


def _enum(cls: _E, value: object, name: str) -> _E:
    try:
        return cls(str(value))
    except ValueError:
        raise InvalidInput(
            f"{name}: choose one of {', '.join(m.value for m in cls)}",
            detail={"errors": f"{name}: choose one of the listed values"},
        ) from None


# -- one case ---------------------------------------------------------------------------------


@dataclass
class ActionForm:
    name: str
    label: str
    target: str
    fields: list[FormField]
    allowed: bool
    errors: list[str]
    confirm: bool = False
    """a step that cannot be undone (a withdrawal, a refusal): the form asks to confirm it"""
    confirm_error: str = ""
    opened: bool = False
    """shown open: the one sent back with errors, else the first next step"""


@dataclass(frozen=True)
class Failed:
    """An action form sent back with what was wrong, its values kept."""

    action: str
    posted: FormData
    by_field: dict[str, str]
    general: list[str]


def _attachments(events: list[CaseEvent]) -> list[dict[str, Any]]:
    """Evidence items named in the log (described, with their SHA-256 when given)."""
    found: list[dict[str, Any]] = []

    def walk(value: Any, seq: int) -> None:
        if isinstance(value, dict):
            if "sha256" in value:
                found.append({"seq": seq, **value})
                return
            for item in value.values():
                walk(item, seq)
        elif isinstance(value, list):
            for item in value:
                walk(item, seq)

    for event in events:
        walk(event.payload, event.seq)
    return found


def _with_availability(
    session: Session, case: Case, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Mark the attached files this case holds, here and verified (downloadable), and those on
    their way or not received: a file is never downloadable through a case that only names it."""
    status = {a["sha256"]: a["status"] for a in attachments.attachments_of(session, case=case)}
    for item in items:
        if item.get("filename"):
            item["status"] = status.get(item["sha256"], FileStatus.NOT_RECEIVED)
            item["available"] = item["status"] is FileStatus.AVAILABLE
    return items


def _case_context(
    session: Session,
    runtime: Runtime,
    me: Officer,
    reference: str,
    failed: Failed | None = None,
) -> dict[str, Any]:
    lang = me.lang
    gettext = tr(lang)
    node_name = runtime.node.name
    case = service.get_visible_case(session, reference=reference, viewer=me.principal)
    detail = service.describe(session, case=case, node_name=node_name)
    workflow = runtime.case_types.workflow(case.case_type)
    events = service.case_log(session, reference=reference)
    meta = runtime.case_types.get(case.case_type).fields
    schemas: dict[str, dict[str, Any]] = {OPEN_ACTION: header_schema(json_schema(workflow.opening))}
    timeline = []
    for event in events:
        if event.action not in schemas:
            schemas[event.action] = json_schema(workflow.action(event.action).payload)
        payload = event.payload
        if event.action == OPEN_ACTION:
            payload = {k: v for k, v in payload.items() if k in HEADER_SHOWN}
        state = workflow.state(event.state_after)
        timeline.append(
            {
                "seq": event.seq,
                "at": event.occurred_at,
                "side": enum_label_of(Side, event.side, lang),
                "side_value": event.side,
                "node": event.actor_node,
                "officer": event.actor_officer,
                "action": event.action,
                "action_label": _action_label(workflow, event.action, lang),
                "state_label": pick(lang, state.en, state.zh),
                "payload": readable(schemas[event.action], payload, lang, gettext, meta),
                "hash": event.hash,
            }
        )
    declared_type = runtime.case_types.get(case.case_type)
    forms, failed_elsewhere = action_forms(
        detail,
        workflow,
        lang,
        failed,
        allowed=lambda name: me.principal.may_take(review=workflow.action(name).review),
        meta=declared_type.fields,
        final_for_good=final_for_good(declared_type),
    )
    return {
        "case": detail,
        "type_label": pick(lang, workflow.en, workflow.zh),
        "state_label": pick(lang, detail.state_en, detail.state_zh),
        "final": workflow.state(case.state).final,
        "area": enum_label_of(Area, detail.area, lang),
        "priority": enum_label_of(Priority, detail.priority, lang),
        "handling": enum_label_of(HandlingCode, detail.handling_code, lang),
        "side": enum_label_of(Side, detail.side.value, lang),
        "diagram": svg(render_svg(workflow, current=case.state, lang=lang)),
        "deadlines": [
            {
                "name": _deadline_label(workflow, d.name, lang),
                "owner": enum_label_of(Side, d.owner.value, lang),
                "ours": d.owner == detail.side,
                "due_at": d.due_at,
                "overdue": d.overdue,
            }
            for d in detail.deadlines
        ],
        "pending": [
            {
                "action": _action_label(workflow, p.action, lang),
                "status": p.status,
                "reason": p.reason or "",
                "submitted_at": p.submitted_at,
                "event_seq": p.event_seq,
            }
            for p in detail.pending
        ],
        "timeline": timeline,
        "attachments": _with_availability(session, case, _attachments(events)),
        "may_attach": me.principal.can(Permission.ATTACHMENT_WRITE)
        and not workflow.state(detail.state).final,
        "handling_codes": [
            Option(c.value, enum_label_of(HandlingCode, c.value, lang)) for c in HandlingCode
        ],
        "actions": forms,
        "page_errors": failed_elsewhere,
        "version": _version(detail),
        "cyber": _cyber_panel(session, runtime, case) if case.case_type == "cyber" else None,
        "batch": _batch(session, case, detail, declared_type, me),
        "notice": _notice_panel(runtime.case_types, detail, lang),
        "history": [
            {
                **entry.model_dump(),
                "action_label": _action_label(workflow, entry.action, lang),
            }
            for entry in detail.personal_data_history
        ],
    }


def _notice_panel(types: CaseTypes, detail: CaseDetail, lang: Lang) -> dict[str, Any] | None:
    """A case's notice as it stands (after any newer notice), every field labelled by its
    type, and where it was published; None for a case that holds no notice."""
    details = detail.details
    if "notice_kind" not in details:
        return None
    meta = types.get(detail.case_type).fields

    def named(name: str) -> str:
        found = meta.get(name)
        return pick(lang, found.en, found.zh) if found else field_label(name)

    fields = [
        (named(name), ", ".join(map(str, value)) if isinstance(value, list) else str(value))
        for name, value in details.items()
        if name not in ("source", "arrest_warrants") and value not in (None, "", [])
    ]
    return {
        "fields": fields,
        "warrants": details.get("arrest_warrants") or [],
        "labels": {n: named(n) for n in ("issuing_country", "charge", "charge_translation")},
        "source": details.get("source") or {},
    }


@dataclass
class BatchRow:
    """One person of a batch (or a notice's subject): where they stand, what screening
    proposes, and the actions this officer may take on them."""

    person_id: str
    name: str
    born: str
    status: str
    status_value: str
    proposal: dict[str, Any] | None
    actions: list[ActionForm]
    may_accept: bool


def _batch(
    session: Session, case: Case, detail: CaseDetail, declared_type: CaseType, me: Officer
) -> list[BatchRow] | None:
    """A removal batch as a table, or a notice's screening proposal: None for other cases."""
    lang, workflow, meta = me.lang, declared_type.workflow, declared_type.fields
    facts = case.facts or {}
    statuses: dict[str, str] = facts.get(PERSONS_FACT, {})
    proposals: dict[str, dict[str, Any]] = {}
    if declared_type.screened is not None:
        try:
            _job, found = integration.proposals(session, reference=case.reference)
            proposals = {str(p["person_id"]): p for p in found}
        except NotFound:
            proposals = {}
    if not statuses and not proposals:
        return None
    opening = service.case_log(session, reference=case.reference)[0].payload.get("details", {})
    listed = opening.get(PERSONS_FACT) or []
    people = {str(p.get("person_id")): p for p in listed if isinstance(p, dict)}
    ids = list(statuses) or list(proposals)
    per_person = [
        a for a in detail.available_actions if "person_id" in a.payload_schema.get("properties", {})
    ]
    rows = []
    for person_id in ids:
        person = people.get(person_id, {})
        proposal = proposals.get(person_id)
        status = statuses.get(person_id, "")
        actions = []
        for available in per_person:
            declared = workflow.action(available.name)
            if not me.principal.may_take(review=declared.review):
                continue
            if declared.guard is not None and declared.guard(facts, {"person_id": person_id}):
                continue
            schema = dict(available.payload_schema)
            schema["properties"] = {
                k: v for k, v in schema.get("properties", {}).items() if k != "person_id"
            }
            actions.append(
                ActionForm(
                    name=available.name,
                    label=pick(lang, available.en, available.zh),
                    target="",
                    fields=form_fields(schema, lang, prefix=f"{available.name}.", meta=meta),
                    allowed=True,
                    errors=[],
                )
            )
        rows.append(
            BatchRow(
                person_id=person_id,
                name=str(person.get("name") or (proposal or {}).get("name") or ""),
                born=str(person.get("birth_date") or ""),
                status=enum_label_of(PersonStatus, status, lang) if status else "",
                status_value=status,
                proposal=_shown_proposal(proposal, lang) if proposal else None,
                actions=actions,
                may_accept=bool(
                    proposal
                    and not proposal.get("confirmed_at")
                    and status == PersonStatus.PENDING.value
                    and any(a.name in integration.ACTION_OF.values() for a in actions)
                ),
            )
        )
    return rows


def _shown_proposal(proposal: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
    outcome = str(proposal.get("outcome", ""))
    score = proposal.get("score")
    return {
        **proposal,
        "outcome_label": enum_label_of(integration.Outcome, outcome, lang),
        "score_text": f"{score:.2f}" if isinstance(score, int | float) else "—",
    }


def _cyber_panel(session: Session, runtime: Runtime, case: Case) -> dict[str, Any]:
    """A cyber case's indicators, its matching runs and a chart of the sightings over time."""
    found = sightings.case_indicators(session, node=runtime.node, reference=case.reference)
    runs = sightings.runs_of(session, case=case)
    chart = None
    if any(run.sightings for run in runs):
        chart = svg(sightings.sightings_chart(runs, lambda key: found.values.get(key, key)))
    return {
        "indicators": [found.values[i.id] for i in found.indicators[:200]],
        "indicator_count": len(found.indicators),
        "waiting": found.waiting,
        "runs": runs,
        "chart": chart,
    }


def action_forms(
    detail: CaseDetail,
    workflow: Workflow,
    lang: Lang,
    failed: Failed | None,
    *,
    allowed: Callable[[str], bool],
    meta: Mapping[str, FieldMeta] | None = None,
    final_for_good: frozenset[str] = frozenset(),
) -> tuple[list[ActionForm], list[str]]:
    """The forms of the actions this side may take now (one sent back with its errors), and
    the errors of a failed action that is no longer available. An action into one of the
    `final_for_good` states (withdrawn, refused) asks the officer to confirm it."""
    forms = []
    for available in detail.available_actions:
        mine = failed is not None and failed.action == available.name
        forms.append(
            ActionForm(
                name=available.name,
                label=pick(lang, available.en, available.zh),
                target=_state_label(workflow, available.target, lang),
                fields=form_fields(
                    available.payload_schema,
                    lang,
                    posted=failed.posted if failed and mine else None,
                    prefix=f"{available.name}.",
                    errors=failed.by_field if failed and mine else None,
                    meta=meta,
                ),
                allowed=allowed(available.name),
                errors=failed.general if failed and mine else [],
                confirm=available.target in final_for_good,
                confirm_error=failed.by_field.get(CONFIRM, "") if failed and mine else "",
                opened=mine,
            )
        )
    if not any(f.opened for f in forms):  # the first next step, never a withdrawal or a note
        for form, available in zip(forms, detail.available_actions, strict=True):
            declared = workflow.action(available.name)
            if form.allowed and not form.confirm and not declared.bookkeeping:
                form.opened = True
                break
    failed_elsewhere = (
        failed.general
        if failed and failed.action not in {a.name for a in detail.available_actions}
        else []
    )
    return forms, failed_elsewhere


CONFIRM = "_confirm"
"""The checkbox that confirms a step that cannot be undone (`withdraw._confirm`)."""


def final_for_good(declared: CaseType) -> frozenset[str]:
    """The states that end a case of this type without its work done: a withdrawal, a refusal."""
    return declared.withdrawn_states | declared.refused_states


def require_confirmation(
    form: FormData, declared: Action, payload: dict[str, Any], final: frozenset[str]
) -> None:
    """Refuse a step into a withdrawn or refused state that the officer did not confirm, with
    whatever else is wrong with its payload, so that both show at once."""
    if declared.target not in final or form.get(f"{declared.name}.{CONFIRM}"):
        return
    try:
        declared.payload.model_validate(payload)
        found: tuple[Problem, ...] = ()
    except ValidationError as exc:
        found = validation_problems(exc).items
    problem = Problem((CONFIRM,), "confirm_required", "confirm that this cannot be undone")
    problems = Problems((*found, problem))
    raise InvalidInput(f"invalid input: {problems.text}", problems=problems)


def failure(
    exc: AccordError | ValidationError,
    action: str,
    form: FormData,
    lang: Lang,
    meta: Mapping[str, FieldMeta] | None = None,
) -> Failed:
    """A refused action as a form to send back: errors by field where the payload named them,
    each in the officer's language."""
    if isinstance(exc, ValidationError):
        exc = InvalidInput("invalid input", problems=validation_problems(exc))
    if isinstance(exc, InvalidInput) and (exc.problems or exc.detail.get("errors")):
        by_field, general = field_errors(exc, lang, meta)
    else:
        by_field, general = {}, [refusal(exc, lang)]
    if by_field and not general:
        general = [tr(lang)("Check the fields marked below.")]
    return Failed(action, form, by_field, general)


def _version(detail: CaseDetail) -> str:
    """Changes whenever the log grows or a pending submission is settled."""
    settled = sum(1 for p in detail.pending if p.status != "pending")
    return f"{detail.event_count}.{len(detail.pending)}.{settled}"


@router.get("/cases/{reference}")
def case_page(reference: str, request: Request, runtime: RuntimeDep, me: OfficerDep) -> Response:
    me.principal.require(Permission.CASE_READ)
    with runtime.transaction() as session:
        context = _case_context(session, runtime, me, reference)
        audited(session, me.principal, "case.read", request, subject=reference)
    return render(request, "cases/case.html", context, officer=me)


@router.get("/cases/{reference}/live")
def case_live(
    reference: str, request: Request, runtime: RuntimeDep, me: OfficerDep, version: str = ""
) -> Response:
    """The state, deadlines, pending submissions and timeline, polled by the case page:
    nothing (204) while the case is unchanged."""
    me.principal.require(Permission.CASE_READ)
    with runtime.reading() as session:
        case = service.get_visible_case(session, reference=reference, viewer=me.principal)
        current = _version(service.describe(session, case=case, node_name=runtime.node.name))
    if current == version:
        return Response(status_code=204)
    with runtime.transaction() as session:
        context = _case_context(session, runtime, me, reference)
        audited(session, me.principal, "case.read", request, subject=reference)
    return render(request, "cases/_live.html", {**context, "changed": True}, officer=me)


@router.post("/cases/{reference}")
@router.post("/cases/{reference}/act")
def act(
    reference: str, request: Request, runtime: RuntimeDep, me: OfficerDep, form: PostedDep
) -> Response:
    """Take one of the case's available actions with the payload typed into its form."""
    check_csrf(form.get(CSRF_FIELD), me.csrf)
    action = str(form.get("action", ""))
    me.principal.require(Permission.CASE_ACT)
    try:
        keyed = keyed_form(form, request, me.principal)
        with runtime.transaction() as session:

            def perform() -> str:
                case = service.get_visible_case(session, reference=reference, viewer=me.principal)
                declared = runtime.case_types.workflow(case.case_type).action(action)
                me.principal.require_action(review=declared.review)
                schema = declared.payload.model_json_schema()
                payload = parse_form(schema, form, prefix=f"{action}.")
                final = final_for_good(runtime.case_types.get(case.case_type))
                require_confirmation(form, declared, payload, final)
                service.act(
                    session,
                    node=runtime.node,
                    reference=reference,
                    action=action,
                    payload=payload,
                    officer=me.principal.officer,
                )
                audited(session, me.principal, f"case.act.{action}", request, subject=reference)
                return f"/cases/{reference}#timeline"

            acted = act_once(session, runtime, request, me.principal, keyed, perform)
    except (AccordError, ValidationError) as exc:
        with runtime.reading() as session:
            case = service.get_visible_case(session, reference=reference, viewer=me.principal)
            meta = runtime.case_types.get(case.case_type).fields
        failed = failure(exc, action, form, me.lang, meta)
        with runtime.transaction() as session:
            context = _case_context(session, runtime, me, reference, failed=failed)
        status = exc.http_status if isinstance(exc, AccordError) else 422
        return render(
            request, "cases/case.html", context, officer=me, status=422 if status == 404 else status
        )
    return see_other(acted)


@router.post("/cases/{reference}/persons/{person_id}/accept")
def accept_proposal(
    reference: str,
    person_id: str,
    request: Request,
    runtime: RuntimeDep,
    me: OfficerDep,
    form: PostedDep,
) -> Response:
    """Take the action a person's screening proposal calls for (confirm or deny the identity),
    in the officer's name: the same use case as the API's proposal confirmation."""
    check_csrf(form.get(CSRF_FIELD), me.csrf)
    # as the API's confirmation: an officer who screens identities (a legal reviewer does not)
    me.principal.require(Permission.CASE_ACT)
    me.principal.require(Permission.IDENTITY_SCREEN)
    try:
        with runtime.transaction() as session:
            case = service.get_visible_case(session, reference=reference, viewer=me.principal)
            workflow = runtime.case_types.workflow(case.case_type)
            for action in set(integration.ACTION_OF.values()):
                me.principal.require_action(review=workflow.action(action).review)
            done = integration.confirm(
                session,
                node=runtime.node,
                reference=reference,
                person_id=person_id,
                officer=me.principal.officer,
                note=str(form.get("note", ""))[:1000],
            )
            audited(
                session,
                me.principal,
                f"case.act.{done.proposal['action']}",
                request,
                subject=reference,
                detail={"person_id": person_id, "from": "identity proposal"},
            )
    except AccordError as exc:
        failed = Failed("", form, {}, [refusal(exc, me.lang)])
        with runtime.transaction() as session:
            context = _case_context(session, runtime, me, reference, failed=failed)
        return render(request, "cases/case.html", context, officer=me, status=exc.http_status)
    return see_other(f"/cases/{reference}#batch-h")


@router.get("/cases/{reference}/act")
def act_reloaded(reference: str) -> Response:
    """The address of a refused action, opened again (a reload, a bookmark): the case."""
    return see_other(f"/cases/{reference}")


@router.post("/cases/{reference}/attach")
def attach(
    reference: str, request: Request, runtime: RuntimeDep, me: OfficerDep, form: PostedDep
) -> Response:
    """Attach a file to the case (stored by its SHA-256, sent to the peer in chunks)."""
    check_csrf(form.get(CSRF_FIELD), me.csrf)
    me.principal.require(Permission.ATTACHMENT_WRITE)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput(tr(me.lang)("Choose a file to attach."))
    code = _enum(HandlingCode, form.get("handling_code", "H0"), "handling_code")
    with runtime.transaction() as session:
        service.get_visible_case(session, reference=reference, viewer=me.principal)
        attachments.attach(
            session,
            node=runtime.node,
            reference=reference,
            content=upload.file,
            filename=upload.filename,
            media_type=upload.content_type or "application/octet-stream",
            handling_code=code,
            description=str(form.get("description", ""))[:2000],
            officer=me.principal.officer,
        )
        audited(session, me.principal, "attachment.upload", request, subject=reference)
    return see_other(f"/cases/{reference}#attachments-h")


@router.get("/cases/{reference}/files/{sha256}")
def download(
    reference: str, sha256: str, request: Request, runtime: RuntimeDep, me: OfficerDep
) -> Response:
    """One file of the case, if the case names it and holds it, here and verified; safe
    Content-Type and Content-Disposition whatever the record holds; every download is audited."""
    me.principal.require(Permission.CASE_READ)
    with runtime.transaction() as session:
        path, record = attachments.open_attachment(
            session, node=runtime.node, reference=reference, sha256=sha256, viewer=me.principal
        )
        audited(
            session,
            me.principal,
            "attachment.download",
            request,
            subject=reference,
            detail={"sha256": sha256, "handling_code": record["handling_code"]},
        )
    return FileResponse(path, headers=download_headers(record["filename"], record["media_type"]))
