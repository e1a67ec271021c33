"""One realistic case of each type, as data: played by `accord demo` and by the two-node tests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from accord.cases.definitions.fugitive import notice_from_interpol
from accord.core.clock import utcnow


@dataclass(frozen=True)
class Step:
    side: str
    """requesting or requested"""
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    opener: str
    """US or CN: which demo node opens (and so sequences) the case"""
    opening: dict[str, Any]
    steps: tuple[Step, ...]
    final_state: str


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


REVIEW: dict[str, Any] = {
    "reviewer": "J. Doe, Office of International Affairs",
    "treaty_basis": "US-PRC MLAA (2000), Art. 1 and 4",
    "dual_criminality": True,
    "neutrality_confirmed": True,
    "reasons": "Ordinary fraud and laundering; no political, military, religious or racial "
    "character; evidence sought is specific and proportionate.",
}
MLA_OPENING: dict[str, Any] = {
    "case_type": "mla",
    "area": "judicial_assistance",
    "priority": "routine",
    "handling_code": "H1",
    "title": "Bank records of a shell company in a cross-border fraud (Operation Lotus)",
    "details": {
        "assistance": ["bank_records", "witness_statement"],
        "offence": "Wire fraud and money laundering (18 U.S.C. §1343, §1956)",
        "facts": "Proceeds of an investment fraud moved through accounts in Shenzhen.",
        "legal_basis": "US-PRC Agreement on Mutual Legal Assistance (2000)",
    },
}
MLA_STEPS: tuple[Step, ...] = (
    Step("requesting", "send_to_review", {"note": "Draft complete"}),
    Step("requesting", "approve_and_submit", REVIEW),
    Step("requested", "acknowledge", {"note": "已收到"}),
    Step("requested", "begin_review", {}),
    Step(
        "requested",
        "request_more_info",
        {"questions": "Please give the account numbers and the period of the transactions."},
    ),
    Step(
        "requesting",
        "provide_info",
        {"answers": "Accounts 6222 0000 1111 and 6222 0000 2222, 2025-01-01 to 2025-06-30."},
    ),
    Step(
        "requested",
        "accept",
        {
            "reviewer": "李律师",
            "treaty_basis": "中美刑事司法协助协定（2000）第一条",
            "dual_criminality": True,
            "neutrality_confirmed": True,
            "reasons": "符合协定，双重犯罪成立，不涉及政治、军事、宗教或种族因素。",
        },
    ),
    Step("requested", "begin_execution", {}),
    Step(
        "requested",
        "return_evidence",
        {
            "items": [
                {
                    "description": "Statements of account 6222 0000 1111, Jan-Jun 2025",
                    "sha256": _sha("statements-1111"),
                    "handling_code": "H1",
                }
            ],
            "outstanding": "Records of the second account and the witness statement.",
        },
    ),
    Step("requesting", "note", {"text": "Thank you; first records received and verified."}),
    Step(
        "requested",
        "complete_execution",
        {
            "items": [
                {
                    "description": "Statements of account 6222 0000 2222, Jan-Jun 2025",
                    "sha256": _sha("statements-2222"),
                    "handling_code": "H1",
                },
                {
                    "description": "Witness statement of the branch manager (translated)",
                    "sha256": _sha("witness-statement"),
                    "handling_code": "H1",
                },
            ],
            "summary": "All requested records and one witness statement provided.",
        },
    ),
    Step("requesting", "close", {"satisfied": True, "note": "Request fully executed."}),
)
MLA = Scenario("US", MLA_OPENING, MLA_STEPS, "closed")
INTERPOL_NOTICE: dict[str, Any] = {
    "entity_id": "2024/81234",
    "name": "CHEN",
    "forename": "XIAOMING",
    "date_of_birth": "1978/04/09",
    "place_of_birth": "Wenzhou",
    "nationalities": ["CN"],
    "sex_id": "M",
    "arrest_warrants": [
        {
            "issuing_country_id": "CN",
            "charge": "挪用公款、受贿",
            "charge_translation": "Embezzlement of public funds and bribery",
        }
    ],
    "distinguishing_marks": "Scar on the left hand",
    "languages_spoken_ids": ["CHI", "ENG"],
}
FUGITIVE = Scenario(
    "CN",
    {
        "case_type": "fugitive",
        "area": "fugitives",
        "priority": "urgent",
        "handling_code": "H2",
        "title": "陈小明 — embezzlement, believed in Los Angeles",
        "details": {
            **notice_from_interpol(INTERPOL_NOTICE),
            "name_native": "陈小明",
            "last_known_location": "Los Angeles, California",
        },
    },
    (
        Step("requested", "begin_review", {}),
        Step(
            "requested",
            "record_review",
            {
                "reviewer": "A. Reviewer, DOJ OIA",
                "treaty_basis": "Reciprocity; UNCAC Art. 44",
                "dual_criminality": True,
                "neutrality_confirmed": True,
                "human_rights_confirmed": True,
                "reasons": "Ordinary corruption offences; no political character; "
                "assurances on fair trial received.",
            },
        ),
        Step(
            "requesting",
            "request_location",
            {"leads": "Relatives in Arcadia, CA; property purchased 2019."},
        ),
        Step(
            "requested",
            "report_located",
            {"place": "Arcadia, CA", "located_on": "2026-10-02", "custody": True},
        ),
        Step(
            "requested",
            "arrange_return",
            {"route": "deportation", "conditions": "Removal order issued; escort by CBP."},
        ),
        Step(
            "requested",
            "hand_over",
            {
                "handed_over_on": "2026-11-01",
                "place": "Beijing Capital International Airport",
                "receiving_officers": "Ministry of Public Security escort team",
            },
        ),
        Step("requesting", "close", {"satisfied": True}),
    ),
    "closed",
)
ASSET = Scenario(
    "CN",
    {
        "case_type": "asset",
        "area": "asset_recovery",
        "priority": "routine",
        "handling_code": "H1",
        "title": "Proceeds of embezzlement moved to US accounts",
        "details": {
            "offence": "Embezzlement of public funds",
            "suspects": "陈小明 (CHEN Xiaoming)",
            "leads": "Wire transfers 2019-2021 to a bank in California",
            "estimated": [{"currency": "USD", "amount": "2500000"}],
        },
    },
    (
        Step(
            "requested",
            "report_assets",
            {
                "assets": [
                    {
                        "asset_id": "A1",
                        "kind": "bank_account",
                        "description": "Checking account",
                        "institution": "Example Bank, Los Angeles",
                        "account": "****4411",
                        "value": {"currency": "USD", "amount": "1200000.50"},
                    },
                    {
                        "asset_id": "A2",
                        "kind": "real_estate",
                        "description": "House in Arcadia, CA",
                        "value": {"currency": "USD", "amount": "1300000"},
                    },
                ]
            },
        ),
        Step(
            "requesting",
            "request_freeze",
            {
                "asset_ids": ["A1", "A2"],
                "order_reference": "(2026)浙01刑初12号",
                "legal_basis": "UNCAC Art. 54",
            },
        ),
        Step(
            "requested",
            "confirm_freeze",
            {
                "asset_ids": ["A1", "A2"],
                "amounts": [{"currency": "USD", "amount": "2500000.50"}],
                "order_reference": "2:26-mj-01234",
            },
        ),
        Step(
            "requesting",
            "transmit_forfeiture_order",
            {"court": "杭州市中级人民法院", "order_reference": "(2026)浙01刑初12号", "final": True},
        ),
        Step(
            "requested",
            "return_assets",
            {
                "amounts": [{"currency": "USD", "amount": "2500000.50"}],
                "transfer_reference": "FED-2026-11-20-0001",
                "recipient": "Victims' compensation account",
            },
        ),
        Step("requesting", "close", {"satisfied": True}),
    ),
    "closed",
)
_PERSONS = [
    {
        "person_id": "P1",
        "name": "LIN Hui",
        "name_native": "林慧",
        "birth_date": "1990-02-03",
        "sex": "F",
        "nationality": "CN",
        "id_number": "",
        "passport_number": "E12345678",
    },
    {
        "person_id": "P2",
        "name": "HUANG Jun",
        "name_native": "黄军",
        "birth_date": "1987",
        "sex": "M",
        "nationality": "CN",
    },
    {"person_id": "P3", "name": "WU Ming", "birth_date": "1995-11", "sex": "M"},
]
REMOVAL = Scenario(
    "US",
    {
        "case_type": "removal",
        "area": "immigration",
        "priority": "routine",
        "handling_code": "H0",
        "title": "Identity verification: 3 persons detained in Texas",
        "details": {"persons": _PERSONS, "detained_at": "El Paso processing center"},
    },
    (
        Step("requested", "acknowledge", {}),
        Step("requested", "confirm_identity", {"person_id": "P1", "confirmed_name_native": "林慧"}),
        Step("requested", "confirm_identity", {"person_id": "P2"}),
        Step(
            "requested",
            "deny_identity",
            {"person_id": "P3", "reason": "No record matches the name and birth month."},
        ),
        Step(
            "requested",
            "issue_travel_document",
            {"person_id": "P1", "document_number": "T0012345", "valid_until": "2027-02-01"},
        ),
        Step(
            "requested",
            "issue_travel_document",
            {"person_id": "P2", "document_number": "T0012346", "valid_until": "2027-02-01"},
        ),
        Step(
            "requesting",
            "record_removal",
            {"person_id": "P1", "removed_on": "2026-11-15", "transport": "Charter flight 1"},
        ),
        Step(
            "requesting",
            "record_not_removed",
            {"person_id": "P2", "reason": "Released on bond pending appeal"},
        ),
        Step("requesting", "close", {"satisfied": True}),
    ),
    "closed",
)
INTEL = Scenario(
    "CN",
    {
        "case_type": "intel",
        "area": "counter_narcotics",
        "priority": "urgent",
        "handling_code": "H2",
        "title": "Fentanyl precursor shipments via express parcels",
        "details": {
            "summary": "A trading company is shipping 4-AP to addresses in Ohio.",
            "source_reliability": "B",
            "information_reliability": "2",
            "subjects": [
                {
                    "kind": "organisation",
                    "name": "Example Trading Co., Ltd.",
                    "identifiers": {"uscc": "91330100MA2B000000"},
                }
            ],
            "substances": [
                {
                    "name": "4-anilinopiperidine (4-AP)",
                    "cas_number": "23056-29-3",
                    "quantity": "25",
                    "unit": "kg",
                }
            ],
            "parcels": [{"carrier": "Express", "tracking_number": "EX1234567890CN"}],
        },
    },
    (
        Step("requested", "acknowledge", {}),
        Step(
            "requested",
            "give_feedback",
            {"outcome": "led_to_action", "details": "Parcel seized at Cincinnati hub."},
        ),
    ),
    "feedback_given",
)
CYBER = Scenario(
    "CN",
    {
        "case_type": "cyber",
        "area": "cybercrime",
        "priority": "urgent",
        "handling_code": "H1",
        "title": "Phishing kit hosted on a US provider targeting Chinese banks",
        "details": {
            "activity": ["phishing"],
            "description": "Phishing pages imitating bank logins, hosted in the US.",
            "indicators": [
                {"type": "domain", "value": "login-bank.example"},
                {"type": "ipv4", "value": "203.0.113.10"},
            ],
            "measures_requested": ["takedown", "preservation"],
        },
    },
    (
        Step("requested", "acknowledge", {}),
        Step(
            "requested",
            "report_measure",
            {
                "measure": "preservation",
                "details": "Hosting records preserved.",
                "taken_at": "2026-11-20T10:00:00Z",
            },
        ),
        Step(
            "requested",
            "report_measure",
            {
                "measure": "takedown",
                "details": "Domain suspended by registrar.",
                "taken_at": "2026-11-20T12:00:00Z",
            },
        ),
        Step(
            "requested",
            "report_result",
            {"summary": "Site down; preserved records available via MLA.", "complete": True},
        ),
        Step("requesting", "close", {"satisfied": True}),
    ),
    "closed",
)


def round_scenario(today: date) -> Scenario:
    """A round of the law enforcement and cybersecurity dialogue held today, hosted by the US
    side: an agenda from both sides, outcomes recorded by both, one already under way."""
    later = (today + timedelta(days=60)).isoformat()
    return Scenario(
        "US",
        {
            "case_type": "round",
            "area": "dialogue",
            "priority": "routine",
            "handling_code": "H0",
            "title": "Law enforcement and cybersecurity dialogue, round 3",
            "details": {
                "mechanism": "law_enforcement_cyber",
                "number": 3,
                "starts_on": today.isoformat(),
                "venue": "Washington, D.C.",
                "host_cochair": "Deputy Attorney General",
                "guest_cochair": "公安部副部长 (Vice Minister of Public Security)",
            },
        },
        (
            Step(
                "requesting",
                "add_agenda_item",
                {
                    "item_id": "A1",
                    "title_en": "Pending mutual legal assistance requests",
                    "title_zh": "待办司法协助请求",
                    "area": "judicial_assistance",
                },
            ),
            Step(
                "requested",
                "add_agenda_item",
                {
                    "item_id": "A2",
                    "title_en": "Fugitive repatriation and asset recovery",
                    "title_zh": "追逃追赃",
                    "area": "fugitives",
                },
            ),
            Step(
                "requesting",
                "hold",
                {
                    "held_on": today.isoformat(),
                    "summary_en": "Both sides reviewed the scorecard and agreed three outcomes.",
                    "summary_zh": "双方审议了执法合作记分卡，商定三项成果。",
                },
            ),
            Step(
                "requesting",
                "record_outcome",
                {
                    "outcome_id": "O1",
                    "text_en": "Answer every pending legal assistance request within 60 days.",
                    "text_zh": "六十天内答复所有待办司法协助请求。",
                    "area": "judicial_assistance",
                    "owner": "requested",
                    "due": later,
                },
            ),
            Step(
                "requested",
                "record_outcome",
                {
                    "outcome_id": "O2",
                    "text_en": "Complete the removal of persons whose identity has been verified.",
                    "text_zh": "完成已核实身份人员的遣返。",
                    "area": "immigration",
                    "owner": "requesting",
                    "due": later,
                },
            ),
            Step(
                "requested",
                "record_outcome",
                {
                    "outcome_id": "O3",
                    "text_en": "Take down phishing sites targeting either side within 48 hours.",
                    "text_zh": "四十八小时内关停针对任何一方的钓鱼网站。",
                    "area": "cybercrime",
                    "owner": "requesting",
                    "due": later,
                },
            ),
            Step(
                "requesting",
                "update_outcome",
                {"outcome_id": "O3", "status": "in_progress", "note": "Takedown procedure agreed."},
            ),
        ),
        "held",
    )


ROUND = round_scenario(utcnow().date())
ALL: tuple[Scenario, ...] = (MLA, FUGITIVE, ASSET, REMOVAL, INTEL, CYBER, ROUND)
