"""Asset recovery: trace, identify, freeze, forfeit and return the proceeds of crime."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from pydantic import Field

from accord.cases.casetype import CaseType, FieldMeta
from accord.cases.definitions.common import (
    FIELDS,
    TEXT,
    Closure,
    Payload,
    Refusal,
    Remark,
    days,
    note_action,
    withdraw_action,
)
from accord.cases.enums import Area, AssetKind, Side
from accord.cases.metrics import CaseRecord, Figure, Figures, Period
from accord.cases.workflow import Action, DeadlineRule, State, Who, Workflow

CURRENCY = r"^[A-Z]{3}$"
AMOUNT = r"^\d{1,15}(\.\d{1,4})?$"


class Amount(Payload):
    currency: str = Field(pattern=CURRENCY, description="ISO 4217")
    amount: str = Field(pattern=AMOUNT, description="decimal, as text: no rounding on the wire")


class Asset(Payload):
    asset_id: str = Field(min_length=1, max_length=64)
    kind: AssetKind
    description: str = Field(min_length=1, max_length=2000)
    institution: str = Field(default="", max_length=500)
    account: str = Field(default="", max_length=100)
    value: Amount | None = None


class TracingRequest(Payload):
    offence: str = Field(min_length=1, max_length=2000)
    suspects: str = Field(min_length=1, max_length=TEXT)
    leads: str = Field(default="", max_length=TEXT, description="accounts, companies, properties")
    estimated: list[Amount] = Field(default_factory=list)


class AssetsIdentified(Payload):
    assets: list[Asset] = Field(min_length=1)


class FreezeRequest(Payload):
    asset_ids: list[str] = Field(min_length=1)
    order_reference: str = Field(min_length=1, max_length=200, description="the domestic order")
    legal_basis: str = Field(min_length=1, max_length=2000)


class Frozen(Payload):
    asset_ids: list[str] = Field(min_length=1)
    amounts: list[Amount] = Field(default_factory=list)
    order_reference: str = Field(min_length=1, max_length=200)


class ForfeitureOrder(Payload):
    court: str = Field(min_length=1, max_length=500)
    order_reference: str = Field(min_length=1, max_length=200)
    final: bool = Field(description="no appeal pending")


class Returned(Payload):
    amounts: list[Amount] = Field(min_length=1)
    transfer_reference: str = Field(min_length=1, max_length=200)
    recipient: str = Field(min_length=1, max_length=500, description="victims or the treasury")


def _known_assets(facts: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    unknown = sorted(set(payload["asset_ids"]) - set(facts.get("assets", [])))
    return f"assets {unknown} were not identified in this case" if unknown else None


def _final_order(facts: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    return None if payload["final"] else "only a final forfeiture order can be executed"


def _reduce(facts: dict[str, Any], action: str, payload: Mapping[str, Any]) -> None:
    if action == "report_assets":
        facts["assets"] = sorted(
            set(facts.get("assets", [])) | {a["asset_id"] for a in payload["assets"]}
        )
    elif action == "return_assets":
        totals: dict[str, str] = dict(facts.get("returned", {}))
        for item in payload["amounts"]:
            previous = Decimal(totals.get(item["currency"], "0"))
            totals[item["currency"]] = str(previous + Decimal(item["amount"]))
        facts["returned"] = totals


_OPEN = frozenset(
    {
        "tracing",
        "identified",
        "freeze_requested",
        "frozen",
        "forfeiture_ordered",
        "returned",
        "no_assets",
    }
)

ASSET = Workflow(
    case_type="asset",
    en="Asset recovery request",
    zh="追赃请求",
    reference_prefix="AST",
    initial="tracing",
    opening=TracingRequest,
    opening_starts=("trace",),
    reduce=_reduce,
    states=(
        State("tracing", "Tracing requested", "请求查询资产"),
        State("identified", "Assets identified", "资产已查明"),
        State("no_assets", "No assets found", "未发现资产"),
        State("freeze_requested", "Freeze requested", "请求冻结"),
        State("frozen", "Frozen", "已冻结"),
        State("forfeiture_ordered", "Forfeiture ordered", "已作出没收裁定"),
        State("returned", "Assets returned", "资产已返还"),
        State("refused", "Refused", "已拒绝", final=True),
        State("closed", "Closed", "已结案", final=True),
        State("withdrawn", "Withdrawn", "已撤回", final=True),
    ),
    deadlines=(
        DeadlineRule("trace", Side.REQUESTED, days(60, 20, 5), "Trace the assets", "查询资产"),
        DeadlineRule("freeze", Side.REQUESTED, days(30, 3, 1), "Freeze", "冻结"),
        DeadlineRule("return", Side.REQUESTED, days(90, 60, 30), "Return the assets", "返还资产"),
    ),
    actions=(
        Action(
            "report_assets",
            "Report assets identified",
            "报告已查明资产",
            frozenset({"tracing"}),
            "identified",
            Who.REQUESTED,
            AssetsIdentified,
            stops=("trace",),
        ),
        Action(
            "report_none_found",
            "Report no assets found",
            "报告未发现资产",
            frozenset({"tracing"}),
            "no_assets",
            Who.REQUESTED,
            Remark,
            stops=("trace",),
        ),
        Action(
            "request_freeze",
            "Request a freeze",
            "请求冻结",
            frozenset({"identified"}),
            "freeze_requested",
            Who.REQUESTING,
            FreezeRequest,
            starts=("freeze",),
            guard=_known_assets,
        ),
        Action(
            "confirm_freeze",
            "Confirm the freeze",
            "确认冻结",
            frozenset({"freeze_requested"}),
            "frozen",
            Who.REQUESTED,
            Frozen,
            stops=("freeze",),
            guard=_known_assets,
        ),
        Action(
            "refuse",
            "Refuse",
            "拒绝",
            frozenset({"tracing", "freeze_requested"}),
            "refused",
            Who.REQUESTED,
            Refusal,
            stops=("trace", "freeze"),
            review=True,
        ),
        Action(
            "transmit_forfeiture_order",
            "Transmit the forfeiture order",
            "转递没收裁定",
            frozenset({"frozen"}),
            "forfeiture_ordered",
            Who.REQUESTING,
            ForfeitureOrder,
            starts=("return",),
            guard=_final_order,
        ),
        Action(
            "return_assets",
            "Return assets",
            "返还资产",
            frozenset({"forfeiture_ordered", "returned"}),
            "returned",
            Who.REQUESTED,
            Returned,
            stops=("return",),
        ),
        Action(
            "close",
            "Close",
            "结案",
            frozenset({"returned", "no_assets"}),
            "closed",
            Who.REQUESTING,
            Closure,
        ),
        withdraw_action(_OPEN - {"returned"}),
        note_action(_OPEN),
    ),
)


def asset_figures(records: Sequence[CaseRecord], period: Period) -> Figures:
    """Assets the requested side returned in the period, summed exactly per currency."""
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    cases: dict[str, list[str]] = defaultdict(list)
    for record in records:
        for event in record.events:
            if event.action != "return_assets" or not period.holds(event.at):
                continue
            for item in event.payload.get("amounts", []):
                amounts[item["currency"]] += Decimal(item["amount"])
                if record.reference not in cases[item["currency"]]:
                    cases[item["currency"]].append(record.reference)
    return {
        "assets_returned": {c: Figure(str(total), cases[c]) for c, total in sorted(amounts.items())}
    }


ASSET_TYPE = CaseType(
    ASSET,
    default_area=Area.ASSET_RECOVERY,
    withdrawn_states=frozenset({"withdrawn"}),
    refused_states=frozenset({"refused"}),
    metrics=asset_figures,
    fields={
        **FIELDS,
        "estimated": FieldMeta("Estimated amounts, per currency", "估计金额（按币种）"),
        "amounts": FieldMeta("Amounts, per currency", "金额（按币种）"),
        "asset_id": FieldMeta("Asset number", "资产编号"),
        "asset_ids": FieldMeta("Asset numbers", "资产编号"),
    },
)
