"""A year of cooperation for `accord demo --history`: hundreds of cases of every type, played
through the real case services of both nodes on a clock set back into the past.

The plan is drawn from a seeded random generator (the same seed gives the same year):
- arrivals of each kind of case are a Poisson process (exponential gaps) over the year;
- every wait for a step is log-normal (a typical delay and a long right tail, as response
  times of administrations are), with the typical delay and spread per step below;
- refusals, withdrawals, requests for more information and cases that simply stop (stuck: the
  side that owes the next step never takes it) are Bernoulli draws per case;
- steps that would fall after now are not taken, so recent cases are still open.
See docs/dialogue.md ("A year of history").

Each step is taken on the node of the side that acts, with `accord.core.clock.SKEW` set so that
the clock reads the step's moment; envelopes are then moved between the two nodes through the
real seal → inbox → process path (only the HTTP hop is left out), so both logs are real, signed,
hash-chained and verify. The clock only moves forwards.
"""

from __future__ import annotations

import csv
import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select

from accord.cases import service
from accord.cases.definitions.fugitive import notice_from_interpol
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cli import scenarios
from accord.composition import assemble
from accord.config import Settings
from accord.core import clock
from accord.core.clock import iso, utcnow
from accord.federation import inbox
from accord.federation.delivery import seal_item
from accord.federation.keys import NodeIdentity
from accord.federation.models import OutboxItem
from accord.federation.node import load_identity
from accord.federation.peers import find_peer, peer_keys
from accord.identity import service as identity_service
from accord.runtime import Runtime

WINDOW = timedelta(seconds=300)
DAY = 86400.0

RATES: dict[tuple[str, str], float] = {
    ("mla", "US"): 50,
    ("mla", "CN"): 40,
    ("fugitive", "CN"): 22,
    ("asset", "CN"): 14,
    ("asset", "US"): 6,
    ("removal", "US"): 30,
    ("intel", "CN"): 20,
    ("intel", "US"): 16,
    ("cyber", "CN"): 18,
    ("cyber", "US"): 14,
}
"""Expected cases a year, by type and opening side (about 230 in all)."""

DELAYS: dict[str, tuple[float, float]] = {
    "draft": (0.5, 0.8),
    "review": (2.0, 0.7),
    "acknowledge": (3.0, 0.9),
    "examine": (6.0, 0.8),
    "decide": (25.0, 0.6),
    "answer": (14.0, 0.7),
    "execute": (45.0, 0.6),
    "close": (6.0, 0.8),
    "locate": (60.0, 0.7),
    "return": (40.0, 0.6),
    "court": (90.0, 0.5),
    "quick": (1.0, 0.9),
    "verify": (20.0, 0.6),
    "document": (15.0, 0.6),
}
"""Log-normal waits: (median days, sigma of the log). The p90 is median * exp(1.28 sigma)."""

BATCH = timedelta(hours=12)
"""Envelopes move between the nodes at least this often (of the demo's clock), and before a
case is acted on again: an action the requested side submits is appended by the requesting
side when it arrives, so within this time of when it was taken."""

STUCK = 0.07
"""The chance, at each step owed by the requested side, that the case stops there."""


@dataclass
class Planned:
    """One case of the year: who opens it, its opening, and its steps at their moments."""

    opener: str
    opening: dict[str, Any]
    opened_at: datetime
    steps: list[tuple[datetime, scenarios.Step]] = field(default_factory=list)


@dataclass
class Year:
    """What was played: the references by case type, and the counts of the summary line."""

    references: dict[str, list[str]] = field(default_factory=dict)
    events: int = 0

    @property
    def cases(self) -> int:
        return sum(len(v) for v in self.references.values())


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _Draw:
    """The plan's random draws, from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def wait(self, kind: str) -> timedelta:
        median, sigma = DELAYS[kind]
        days = self.rng.lognormvariate(math.log(median), sigma)
        return timedelta(seconds=max(600.0, days * DAY))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, options: list[Any]) -> Any:
        return self.rng.choice(options)


def _steps_of(scenario: scenarios.Scenario) -> dict[str, dict[str, Any]]:
    return {s.action: s.payload for s in scenario.steps}


_MLA = _steps_of(scenarios.MLA)
_FUGITIVE = _steps_of(scenarios.FUGITIVE)
_ASSET = _steps_of(scenarios.ASSET)
_REMOVAL_NAMES = [
    ("LIN Hui", "林慧", "F"),
    ("HUANG Jun", "黄军", "M"),
    ("WU Ming", "吴明", "M"),
    ("ZHANG Wei", "张伟", "M"),
    ("LIU Yang", "刘洋", "F"),
    ("CHEN Jing", "陈静", "F"),
    ("ZHAO Lei", "赵磊", "M"),
    ("YANG Fang", "杨芳", "F"),
    ("ZHOU Qiang", "周强", "M"),
    ("XU Li", "徐丽", "F"),
    ("SUN Hao", "孙浩", "M"),
    ("MA Lin", "马琳", "F"),
]
_GROUNDS = [
    ["no_dual_criminality"],
    ["insufficient_information"],
    ["sovereignty_security_public_order"],
    ["political_offence"],
]
_MLA_TITLES = [
    "Bank records of a shell company in a cross-border fraud",
    "Witness statement of a former employee in an investment fraud",
    "Telecom subscriber records in a money laundering case",
    "Company registry extracts for a trade-based laundering scheme",
    "Service of judicial documents on a defendant",
    "Email account content in a ransomware investigation",
]
_OFFENCES = [
    "Wire fraud and money laundering",
    "Investment fraud",
    "Money laundering",
    "Smuggling of counterfeit goods",
    "Computer intrusion and extortion",
]


def _mla(d: _Draw, opener: str, at: datetime, n: int) -> Planned:
    details = {
        **scenarios.MLA_OPENING["details"],
        "offence": d.pick(_OFFENCES),
    }
    opening = {
        **scenarios.MLA_OPENING,
        "priority": "urgent" if d.chance(0.15) else "routine",
        "title": f"{d.pick(_MLA_TITLES)} ({n})",
        "details": details,
    }
    plan = Planned(opener, opening, at)
    t = at
    add = _adder(plan)
    t = add(t, d.wait("draft"), "requesting", "send_to_review", _MLA["send_to_review"])
    t = add(t, d.wait("review"), "requesting", "approve_and_submit", _MLA["approve_and_submit"])
    if d.chance(STUCK):
        return plan
    t = add(t, d.wait("acknowledge"), "requested", "acknowledge", {"note": "Received."})
    if d.chance(0.04):
        add(t, d.wait("answer"), "requesting", "withdraw", {"reason": "Case closed at home."})
        return plan
    t = add(t, d.wait("examine"), "requested", "begin_review", {})
    if d.chance(STUCK):
        return plan
    if d.chance(0.10):
        refusal = {"grounds": d.pick(_GROUNDS), "explanation": "The request cannot be granted."}
        add(t, d.wait("decide"), "requested", "refuse", refusal)
        return plan
    if d.chance(0.25):
        t = add(t, d.wait("answer"), "requested", "request_more_info", _MLA["request_more_info"])
        if d.chance(STUCK):
            return plan
        t = add(t, d.wait("answer"), "requesting", "provide_info", _MLA["provide_info"])
    t = add(t, d.wait("decide"), "requested", "accept", _MLA["accept"])
    t = add(t, d.wait("quick"), "requested", "begin_execution", {})
    if d.chance(STUCK):
        return plan
    if d.chance(0.4):
        t = add(t, d.wait("execute"), "requested", "return_evidence", _MLA["return_evidence"])
    t = add(t, d.wait("execute"), "requested", "complete_execution", _MLA["complete_execution"])
    add(t, d.wait("close"), "requesting", "close", _MLA["close"])
    return plan


def _fugitive(d: _Draw, opener: str, at: datetime, n: int) -> Planned:
    name, native, sex = d.pick(_REMOVAL_NAMES)
    family, _, given = name.partition(" ")
    notice = {
        **scenarios.INTERPOL_NOTICE,
        "entity_id": f"{at.year}/{80000 + n}",
        "name": family,
        "forename": given.upper(),
        "sex_id": sex,
    }
    opening = {
        **scenarios.FUGITIVE.opening,
        "title": f"{native} — embezzlement ({n})",
        "details": {
            **scenarios.FUGITIVE.opening["details"],
            **notice_from_interpol(notice),
            "name_native": native,
        },
    }
    plan = Planned(opener, opening, at)
    add = _adder(plan)
    t = add(at, d.wait("examine"), "requested", "begin_review", {})
    if d.chance(STUCK):
        return plan
    if d.chance(0.12):
        refusal = {"grounds": d.pick(_GROUNDS), "explanation": "Assurances not received."}
        add(t, d.wait("decide"), "requested", "refuse", refusal)
        return plan
    t = add(t, d.wait("decide"), "requested", "record_review", _FUGITIVE["record_review"])
    t = add(t, d.wait("quick"), "requesting", "request_location", _FUGITIVE["request_location"])
    if d.chance(0.3):  # still sought
        return plan
    t = add(
        t,
        d.wait("locate"),
        "requested",
        "report_located",
        _dated(_FUGITIVE["report_located"], "located_on", t),
    )
    t = add(t, d.wait("return"), "requested", "arrange_return", _FUGITIVE["arrange_return"])
    if d.chance(STUCK):
        return plan
    t = add(t, d.wait("return"), "requested", "hand_over", {})
    plan.steps[-1] = (
        plan.steps[-1][0],
        scenarios.Step(
            "requested", "hand_over", _dated(_FUGITIVE["hand_over"], "handed_over_on", t)
        ),
    )
    add(t, d.wait("close"), "requesting", "close", {"satisfied": True})
    return plan


def _dated(payload: dict[str, Any], key: str, moment: datetime) -> dict[str, Any]:
    return {**payload, key: moment.date().isoformat()}


def _asset(d: _Draw, opener: str, at: datetime, n: int) -> Planned:
    currency = "USD" if opener == "CN" else "CNY"
    cents = d.rng.randrange(5_000_00, 40_000_000_00)
    a1, a2 = cents * 2 // 5, cents - cents * 2 // 5
    money = [f"{a1 // 100}.{a1 % 100:02d}", f"{a2 // 100}.{a2 % 100:02d}"]
    total = f"{cents // 100}.{cents % 100:02d}"
    opening = {
        **scenarios.ASSET.opening,
        "title": f"Proceeds of embezzlement moved abroad ({n})",
        "details": {
            **scenarios.ASSET.opening["details"],
            "estimated": [{"currency": currency, "amount": total}],
        },
    }
    plan = Planned(opener, opening, at)
    add = _adder(plan)
    if d.chance(STUCK):
        return plan
    if d.chance(0.1):
        add(at, d.wait("decide"), "requested", "report_none_found", {"note": "No assets found."})
        return plan
    assets = [
        {**item, "value": {"currency": currency, "amount": value}}
        for item, value in zip(_ASSET["report_assets"]["assets"], money, strict=True)
    ]
    t = add(at, d.wait("decide"), "requested", "report_assets", {"assets": assets})
    t = add(t, d.wait("answer"), "requesting", "request_freeze", _ASSET["request_freeze"])
    if d.chance(0.08):
        refusal = {"grounds": d.pick(_GROUNDS), "explanation": "No domestic basis to freeze."}
        add(t, d.wait("decide"), "requested", "refuse", refusal)
        return plan
    amounts = [{"currency": currency, "amount": total}]
    frozen = {**_ASSET["confirm_freeze"], "amounts": amounts}
    t = add(t, d.wait("answer"), "requested", "confirm_freeze", frozen)
    if d.chance(STUCK):
        return plan
    order = _ASSET["transmit_forfeiture_order"]
    t = add(t, d.wait("court"), "requesting", "transmit_forfeiture_order", order)
    returned = {**_ASSET["return_assets"], "amounts": amounts}
    t = add(t, d.wait("return"), "requested", "return_assets", returned)
    add(t, d.wait("close"), "requesting", "close", {"satisfied": True})
    return plan


def _removal(d: _Draw, opener: str, at: datetime, n: int) -> Planned:
    people = d.rng.sample(_REMOVAL_NAMES, d.rng.randint(1, 5))
    persons = [
        {
            "person_id": f"P{i}",
            "name": name,
            "name_native": native,
            "birth_date": f"{d.rng.randint(1960, 2004)}-{d.rng.randint(1, 12):02d}",
            "sex": sex,
            "nationality": "CN",
        }
        for i, (name, native, sex) in enumerate(people, 1)
    ]
    opening = {
        **scenarios.REMOVAL.opening,
        "title": f"Identity verification: {len(persons)} persons detained ({n})",
        "details": {**scenarios.REMOVAL.opening["details"], "persons": persons},
    }
    plan = Planned(opener, opening, at)
    add = _adder(plan)
    t = add(at, d.wait("acknowledge"), "requested", "acknowledge", {})
    settled = True
    for person in persons:
        pid = person["person_id"]
        if d.chance(STUCK):
            settled = False
            continue
        t = t + d.wait("verify") / len(persons)
        if d.chance(0.12):
            add(
                t,
                timedelta(0),
                "requested",
                "deny_identity",
                {"person_id": pid, "reason": "No record matches."},
            )
            continue
        add(t, timedelta(0), "requested", "confirm_identity", {"person_id": pid})
        doc = {
            "person_id": pid,
            "document_number": f"T{n:04d}{pid}",
            "valid_until": (t + timedelta(days=180)).date().isoformat(),
        }
        t = add(t, d.wait("document") / len(persons), "requested", "issue_travel_document", doc)
        if d.chance(0.15):
            add(
                t,
                timedelta(0),
                "requesting",
                "record_not_removed",
                {"person_id": pid, "reason": "Released on bond pending appeal"},
            )
        else:
            t = add(
                t,
                d.wait("quick"),
                "requesting",
                "record_removal",
                {
                    "person_id": pid,
                    "removed_on": t.date().isoformat(),
                    "transport": "Charter flight",
                },
            )
    if settled:
        add(t, d.wait("close"), "requesting", "close", {"satisfied": True})
    return plan


def _intel(d: _Draw, opener: str, at: datetime, n: int) -> Planned:
    details = {**scenarios.INTEL.opening["details"]}
    details["parcels"] = [{"carrier": "Express", "tracking_number": f"EX{n:010d}CN"}]
    opening = {
        **scenarios.INTEL.opening,
        "title": f"Precursor shipments via express parcels ({n})",
        "details": details,
    }
    plan = Planned(opener, opening, at)
    add = _adder(plan)
    if d.chance(STUCK):
        return plan
    t = add(at, d.wait("acknowledge"), "requested", "acknowledge", {})
    if d.chance(0.15):
        return plan
    outcome = d.pick(["useful", "led_to_action", "no_action"])
    add(
        t,
        d.wait("answer"),
        "requested",
        "give_feedback",
        {"outcome": outcome, "details": "See our report."},
    )
    return plan


def _cyber(d: _Draw, opener: str, at: datetime, n: int) -> Planned:
    details = {**scenarios.CYBER.opening["details"]}
    details["indicators"] = [
        {"type": "domain", "value": f"login-bank-{n}.example"},
        {"type": "ipv4", "value": f"203.0.113.{n % 250 + 1}"},
    ]
    opening = {
        **scenarios.CYBER.opening,
        "title": f"Phishing site targeting banks ({n})",
        "details": details,
    }
    plan = Planned(opener, opening, at)
    add = _adder(plan)
    t = add(at, d.wait("quick"), "requested", "acknowledge", {})
    if d.chance(STUCK):
        return plan
    for measure in ("preservation", "takedown"):
        t = t + d.wait("quick")
        add(
            t,
            timedelta(0),
            "requested",
            "report_measure",
            {"measure": measure, "details": "Done.", "taken_at": iso(t).replace(".000000", "")},
        )
    t = add(
        t,
        d.wait("answer"),
        "requested",
        "report_result",
        {"summary": "Site down.", "complete": True},
    )
    add(t, d.wait("close"), "requesting", "close", {"satisfied": True})
    return plan


def _adder(plan: Planned) -> Callable[[datetime, timedelta, str, str, dict[str, Any]], datetime]:
    def add(
        t: datetime, wait: timedelta, side: str, action: str, payload: dict[str, Any]
    ) -> datetime:
        moment = t + wait
        plan.steps.append((moment, scenarios.Step(side, action, payload)))
        return moment

    return add


_MAKERS = {
    "mla": _mla,
    "fugitive": _fugitive,
    "asset": _asset,
    "removal": _removal,
    "intel": _intel,
    "cyber": _cyber,
}


def plan_year(seed: int, end: datetime, days: int = 365) -> list[Planned]:
    """The cases of the `days` before `end`, by the distributions above."""
    draw = _Draw(seed)
    start = end - timedelta(days=days)
    planned: list[Planned] = []
    number = 0
    for (kind, opener), rate in RATES.items():
        t = start
        while True:
            t += timedelta(seconds=draw.rng.expovariate(rate / 365) * DAY)
            if t >= end - timedelta(hours=1):
                break
            number += 1
            planned.append(_MAKERS[kind](draw, opener, t, number))
    for plan in planned:
        plan.steps = [(m, s) for m, s in plan.steps if m < end - timedelta(minutes=30)]
    return planned


def records_for(plans: list[Planned], seed: int) -> dict[str, list[dict[str, str]]]:
    """Identity records for each requested side, so that screening proposals appear: CN's
    registry holds most of the persons in the US's removal batches (and the rest of a small
    town), the US's records most of the fugitives CN seeks. Drawn from their own generator."""
    rng = random.Random(seed + 1)
    cn: list[dict[str, str]] = []
    us: list[dict[str, str]] = []
    for plan in plans:
        details = plan.opening["details"]
        if plan.opening["case_type"] == "removal":
            for person in details["persons"]:
                if rng.random() < 0.8:
                    cn.append(
                        {
                            "name": person["name"],
                            "name_native": person["name_native"],
                            "birth_date": f"{person['birth_date']}-{rng.randint(1, 28):02d}",
                            "sex": person["sex"],
                            "nationality": "CN",
                            "passport_number": f"E{rng.randint(10_000_000, 99_999_999)}",
                        }
                    )
        elif plan.opening["case_type"] == "fugitive" and rng.random() < 0.6:
            us.append(
                {
                    "name": f"{details.get('forename', '')} {details.get('name', '')}".strip(),
                    "name_native": details.get("name_native", ""),
                    "birth_date": str(details.get("date_of_birth") or ""),
                    "sex": str(details.get("sex") or ""),
                    "nationality": "CN",
                    "passport_number": f"E{rng.randint(10_000_000, 99_999_999)}",
                }
            )
    # The tour's own batch (scenarios.REMOVAL): the registry holds the two persons the script
    # confirms, as a registry writes them (a full date where the batch gives a year), and not
    # the one it denies, so the batch's table shows a proposal beside each of the two.
    confirmed = [
        s.payload["person_id"] for s in scenarios.REMOVAL.steps if s.action == "confirm_identity"
    ]
    for person in scenarios.REMOVAL.opening["details"]["persons"]:
        if person["person_id"] in confirmed:
            born = person["birth_date"]
            cn.append(
                {
                    "name": person["name"],
                    "name_native": person.get("name_native", ""),
                    "birth_date": born if len(born) == 10 else f"{born[:4]}-06-14",
                    "sex": person["sex"],
                    "nationality": person.get("nationality", "CN"),
                    "passport_number": person.get("passport_number")
                    or f"E{rng.randint(10_000_000, 99_999_999)}",
                }
            )
    for i in range(300):  # others of the same names: the near misses a screener must sort
        name, native, sex = rng.choice(_REMOVAL_NAMES)
        cn.append(
            {
                "name": name,
                "name_native": native,
                "birth_date": f"{rng.randint(1950, 2006)}-{rng.randint(1, 12):02d}-"
                f"{i % 28 + 1:02d}",
                "sex": sex,
                "nationality": "CN",
            }
        )
    for rows, prefix in ((cn, "HR"), (us, "US")):
        for i, row in enumerate(rows, 1):
            row["id"] = f"{prefix}{i:05d}"
    return {"CN": cn, "US": us}


def _import(settings: Settings, rows: list[dict[str, str]]) -> int:
    """Load `rows` onto the watchlist of the unit that receives the peer's cases."""
    columns = [
        "id",
        "name",
        "name_native",
        "birth_date",
        "sex",
        "nationality",
        "id_number",
        "passport_number",
    ]
    path = settings.data_dir / "demo-identity-records.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    runtime = Runtime.open(settings, assemble())
    try:
        with runtime.transaction() as session:
            added, updated, problems = identity_service.import_records(
                session, path=path, unit=settings.intake_unit
            )
    finally:
        runtime.close()
    if problems:
        raise RuntimeError(f"identity records refused: {problems[:3]}")
    return added + updated


class _Side:
    def __init__(self, settings: Settings) -> None:
        self.runtime = Runtime.open(settings, assemble())
        if self.runtime.engine.dialect.name == "sqlite":

            @event.listens_for(self.runtime.engine, "connect")
            def _bulk(dbapi_connection: Any, _record: Any) -> None:
                # a bulk load of a demo: no fsync per commit (a crash loses only the demo)
                dbapi_connection.execute("PRAGMA synchronous=OFF")

        with self.runtime.reading() as session:
            self.identity: NodeIdentity = load_identity(session, settings)

    @property
    def name(self) -> str:
        return self.identity.name


def _set_clock(moment: datetime) -> None:
    clock.SKEW = timedelta(0)
    clock.SKEW = moment - utcnow()


def _pump(sides: list[_Side]) -> None:
    """Move every pending envelope between the sides until both are quiet."""
    for _ in range(20):
        moved = 0
        for node in sides:
            for target in sides:
                if target is node:
                    continue
                with node.runtime.transaction() as session:
                    query = select(OutboxItem).where(
                        OutboxItem.status == "pending", OutboxItem.peer == target.name
                    )
                    envelopes = []
                    for item in session.scalars(query.order_by(OutboxItem.id)):
                        peer = find_peer(session, item.peer)
                        assert peer is not None
                        envelopes.append(
                            seal_item(node.identity, peer_keys(peer), item, sent_at=iso(utcnow()))
                        )
                        item.status = "delivered"
                if not envelopes:
                    continue
                moved += len(envelopes)
                with target.runtime.transaction() as session:
                    outcome = inbox.receive(
                        session,
                        node=target.identity,
                        envelopes=envelopes,
                        remote_addr="demo-history",
                        window=WINDOW,
                    )
                if outcome.error is not None:
                    raise RuntimeError(f"{target.name} refused a batch: {outcome.error}")
                while inbox.process(target.runtime.factory, target.identity):
                    pass
        if not moved:
            return
    raise RuntimeError("the two nodes did not go quiet")


def play_year(
    us: Settings,
    cn: Settings,
    *,
    seed: int,
    officers: dict[str, tuple[str, str]],
    days: int = 365,
    progress: Callable[[int, int], None] | None = None,
) -> Year:
    """Play the planned year between the two nodes (not running: their databases are used
    directly). `officers` gives, per country, the (officer, legal reviewer) display names;
    `days` is the length of the history (the rates stay per year)."""
    end = utcnow()
    plans = plan_year(seed, end, days)
    for country, rows in records_for(plans, seed).items():
        _import(us if country == "US" else cn, rows)
    sides = {"US": _Side(us), "CN": _Side(cn)}
    timeline: list[tuple[datetime, int, int]] = []
    for index, plan in enumerate(plans):
        timeline.append((plan.opened_at, index, -1))
        timeline.extend((moment, index, step) for step, (moment, _) in enumerate(plan.steps))
    timeline.sort()
    references: dict[int, str] = {}
    year = Year()
    registry = assemble()
    dirty: set[int] = set()
    dirty_since: datetime | None = None
    try:
        for done, (moment, index, step) in enumerate(timeline, 1):
            plan = plans[index]
            if dirty and (index in dirty or (dirty_since and moment - dirty_since > BATCH)):
                _pump(list(sides.values()))
                dirty.clear()
                dirty_since = None
            _set_clock(moment)
            other = "CN" if plan.opener == "US" else "US"
            if step < 0:
                node = sides[plan.opener]
                with node.runtime.transaction() as session:
                    opening = plan.opening
                    case = service.open_case(
                        session,
                        node=node.identity,
                        case_type=opening["case_type"],
                        peer=sides[other].name,
                        area=Area(opening["area"]),
                        priority=Priority(opening["priority"]),
                        handling_code=HandlingCode(opening["handling_code"]),
                        title=opening["title"],
                        details=opening["details"],
                        officer=officers[plan.opener][0],
                    )
                    references[index] = case.reference
                year.references.setdefault(opening["case_type"], []).append(case.reference)
            else:
                item = plan.steps[step][1]
                country = plan.opener if item.side == "requesting" else other
                reference = references[index]
                reviewed = registry.case_types.of_reference(reference).needs_review(item.action)
                with sides[country].runtime.transaction() as session:
                    service.act(
                        session,
                        node=sides[country].identity,
                        reference=reference,
                        action=item.action,
                        payload=item.payload,
                        officer=officers[country][1 if reviewed else 0],
                    )
            year.events += 1
            dirty.add(index)
            dirty_since = dirty_since or moment
            if progress:
                progress(done, len(timeline))
        _pump(list(sides.values()))
    finally:
        clock.SKEW = timedelta(0)
        for side in sides.values():
            side.runtime.close()
    return year
