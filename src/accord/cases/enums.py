"""Enumerations of the case domain, each with its English and Chinese labels in one place."""

from __future__ import annotations

from enum import StrEnum

from accord.core.labels import register_labels


class Side(StrEnum):
    REQUESTING = "requesting"
    REQUESTED = "requested"

    @property
    def other(self) -> Side:
        return Side.REQUESTED if self is Side.REQUESTING else Side.REQUESTING


class Area(StrEnum):
    COUNTER_TERRORISM = "counter_terrorism"
    TRANSNATIONAL_CRIME = "transnational_crime"
    CYBERCRIME = "cybercrime"
    COUNTER_NARCOTICS = "counter_narcotics"
    FUGITIVES = "fugitives"
    ASSET_RECOVERY = "asset_recovery"
    JUDICIAL_ASSISTANCE = "judicial_assistance"
    IMMIGRATION = "immigration"


class Priority(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    IMMEDIATE = "immediate"


class HandlingCode(StrEnum):
    H0 = "H0"
    H1 = "H1"
    H2 = "H2"
    H3 = "H3"


class RefusalGround(StrEnum):
    SOVEREIGNTY_SECURITY = "sovereignty_security_public_order"
    POLITICAL_OFFENCE = "political_offence"
    MILITARY_OFFENCE = "military_offence"
    DISCRIMINATION = "discrimination"
    DOUBLE_JEOPARDY = "double_jeopardy"
    NO_DUAL_CRIMINALITY = "no_dual_criminality"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    CONTRARY_TO_DOMESTIC_LAW = "contrary_to_domestic_law"
    PREJUDICES_PROCEEDINGS = "prejudices_ongoing_proceedings"
    NO_ASSURANCES = "assurances_not_given"
    OTHER = "other"


class MlaAssistance(StrEnum):
    EVIDENCE = "evidence"
    BANK_RECORDS = "bank_records"
    WITNESS_STATEMENT = "witness_statement"
    SEARCH_AND_SEIZURE = "search_and_seizure"
    SERVICE_OF_DOCUMENTS = "service_of_documents"


register_labels(
    {
        Side.REQUESTING: ("requesting side", "请求方"),
        Side.REQUESTED: ("requested side", "被请求方"),
        Area.COUNTER_TERRORISM: ("Counter-terrorism", "反恐"),
        Area.TRANSNATIONAL_CRIME: ("Transnational crime", "跨国犯罪"),
        Area.CYBERCRIME: ("Cybercrime", "网络犯罪"),
        Area.COUNTER_NARCOTICS: ("Counter-narcotics", "禁毒"),
        Area.FUGITIVES: ("Fugitive repatriation", "追逃"),
        Area.ASSET_RECOVERY: ("Asset recovery", "追赃"),
        Area.JUDICIAL_ASSISTANCE: ("Mutual legal assistance", "司法协助"),
        Area.IMMIGRATION: ("Repatriation of illegal immigrants", "非法移民遣返"),
        Priority.ROUTINE: ("Routine", "常规"),
        Priority.URGENT: ("Urgent", "紧急"),
        Priority.IMMEDIATE: ("Immediate", "特急"),
        HandlingCode.H0: ("H0 police and judicial use", "H0 限警务和司法使用"),
        HandlingCode.H1: (
            "H1 not evidence in court without consent",
            "H1 未经同意不得作为法庭证据",
        ),
        HandlingCode.H2: (
            "H2 no third party without consent",
            "H2 未经同意不得向第三方提供",
        ),
        HandlingCode.H3: ("H3 sender's own restrictions", "H3 发送方特别限制"),
        RefusalGround.SOVEREIGNTY_SECURITY: (
            "Prejudices sovereignty, security or public order",
            "损害主权、安全或公共秩序",
        ),
        RefusalGround.POLITICAL_OFFENCE: ("Political offence", "政治犯罪"),
        RefusalGround.MILITARY_OFFENCE: ("Purely military offence", "纯军事犯罪"),
        RefusalGround.DISCRIMINATION: (
            "Prosecution on account of race, religion, nationality, sex or political opinion",
            "因种族、宗教、国籍、性别或政治见解而起诉",
        ),
        RefusalGround.DOUBLE_JEOPARDY: ("Already tried for the same offence", "一事不再理"),
        RefusalGround.NO_DUAL_CRIMINALITY: (
            "Not an offence in the requested state",
            "不符合双重犯罪原则",
        ),
        RefusalGround.INSUFFICIENT_INFORMATION: (
            "Insufficient information to act",
            "请求信息不足",
        ),
        RefusalGround.CONTRARY_TO_DOMESTIC_LAW: (
            "Contrary to the requested state's law",
            "违反被请求方法律",
        ),
        RefusalGround.PREJUDICES_PROCEEDINGS: (
            "Would prejudice ongoing proceedings",
            "妨碍正在进行的调查或诉讼",
        ),
        RefusalGround.NO_ASSURANCES: ("Required assurances not given", "未提供所需保证"),
        RefusalGround.OTHER: ("Other ground (stated)", "其他理由（已说明）"),
        MlaAssistance.EVIDENCE: ("Taking of evidence", "调取证据"),
        MlaAssistance.BANK_RECORDS: ("Bank records", "银行记录"),
        MlaAssistance.WITNESS_STATEMENT: ("Witness statement", "证人证言"),
        MlaAssistance.SEARCH_AND_SEIZURE: ("Search and seizure", "搜查和扣押"),
        MlaAssistance.SERVICE_OF_DOCUMENTS: ("Service of documents", "送达文书"),
    }
)
