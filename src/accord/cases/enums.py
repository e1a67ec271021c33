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
    DIALOGUE = "dialogue"
    """The dialogue's own record (its rounds), not a field of cooperation."""


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
        Area.DIALOGUE: ("Dialogue", "对话"),
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


class SourceReliability(StrEnum):
    """The 4x4 grading of the source (EU/INTERPOL style)."""

    A = "A"
    B = "B"
    C = "C"
    X = "X"


class InformationReliability(StrEnum):
    ONE = "1"
    TWO = "2"
    THREE = "3"
    FOUR = "4"


class FeedbackOutcome(StrEnum):
    USEFUL = "useful"
    LED_TO_ACTION = "led_to_action"
    NO_ACTION = "no_action"


class ReturnRoute(StrEnum):
    DEPORTATION = "deportation"
    EXTRADITION = "extradition"
    VOLUNTARY_RETURN = "voluntary_return"


class AssetKind(StrEnum):
    BANK_ACCOUNT = "bank_account"
    REAL_ESTATE = "real_estate"
    VEHICLE = "vehicle"
    SECURITIES = "securities"
    VIRTUAL_ASSETS = "virtual_assets"
    OTHER = "other"


class CyberActivity(StrEnum):
    DDOS = "ddos"
    INTRUSION = "intrusion"
    MALWARE = "malware"
    PHISHING = "phishing"
    RANSOMWARE = "ransomware"
    FRAUD = "fraud"
    OTHER = "other"


class CyberMeasure(StrEnum):
    TAKEDOWN = "takedown"
    PRESERVATION = "preservation"
    INVESTIGATION = "investigation"
    INFORMATION = "information"


class PersonStatus(StrEnum):
    """Where one person of a removal batch stands."""

    PENDING = "pending"
    VERIFIED = "verified"
    NOT_VERIFIED = "not_verified"
    DOCUMENTED = "documented"
    REMOVED = "removed"
    NOT_REMOVED = "not_removed"

    @property
    def settled(self) -> bool:
        return self in (PersonStatus.NOT_VERIFIED, PersonStatus.REMOVED, PersonStatus.NOT_REMOVED)


register_labels(
    {
        SourceReliability.A: ("A: no doubt about the source", "A：来源可靠，无疑问"),
        SourceReliability.B: ("B: source mostly reliable", "B：来源多数情况下可靠"),
        SourceReliability.C: ("C: source mostly unreliable", "C：来源多数情况下不可靠"),
        SourceReliability.X: ("X: source cannot be assessed", "X：来源无法评估"),
        InformationReliability.ONE: ("1: known true without reservation", "1：确认属实"),
        InformationReliability.TWO: (
            "2: known personally to the source",
            "2：来源亲自知悉，但官员未亲自知悉",
        ),
        InformationReliability.THREE: (
            "3: not known personally, corroborated",
            "3：来源未亲自知悉，但有佐证",
        ),
        InformationReliability.FOUR: ("4: cannot be judged", "4：无法判断"),
        FeedbackOutcome.USEFUL: ("Useful", "有用"),
        FeedbackOutcome.LED_TO_ACTION: ("Led to action", "已据此采取行动"),
        FeedbackOutcome.NO_ACTION: ("No action", "未采取行动"),
        ReturnRoute.DEPORTATION: ("Deportation", "遣返"),
        ReturnRoute.EXTRADITION: ("Extradition", "引渡"),
        ReturnRoute.VOLUNTARY_RETURN: ("Voluntary return", "劝返"),
        AssetKind.BANK_ACCOUNT: ("Bank account", "银行账户"),
        AssetKind.REAL_ESTATE: ("Real estate", "不动产"),
        AssetKind.VEHICLE: ("Vehicle", "车辆"),
        AssetKind.SECURITIES: ("Securities", "证券"),
        AssetKind.VIRTUAL_ASSETS: ("Virtual assets", "虚拟资产"),
        AssetKind.OTHER: ("Other", "其他"),
    }
)
# A separate call: CyberActivity.OTHER and AssetKind.OTHER are equal as strings, and one dict
# literal would keep only one of them.
register_labels(
    {
        CyberActivity.DDOS: ("Denial of service", "拒绝服务攻击"),
        CyberActivity.INTRUSION: ("Intrusion", "网络入侵"),
        CyberActivity.MALWARE: ("Malware", "恶意软件"),
        CyberActivity.PHISHING: ("Phishing", "网络钓鱼"),
        CyberActivity.RANSOMWARE: ("Ransomware", "勒索软件"),
        CyberActivity.FRAUD: ("Online fraud", "网络诈骗"),
        CyberActivity.OTHER: ("Other", "其他"),
        CyberMeasure.TAKEDOWN: ("Takedown", "关停"),
        CyberMeasure.PRESERVATION: ("Data preservation", "数据保全"),
        CyberMeasure.INVESTIGATION: ("Investigation", "调查"),
        CyberMeasure.INFORMATION: ("Information", "提供信息"),
        PersonStatus.PENDING: ("Pending", "待核查"),
        PersonStatus.VERIFIED: ("Identity verified", "身份已核实"),
        PersonStatus.NOT_VERIFIED: ("Identity not verified", "身份未能核实"),
        PersonStatus.DOCUMENTED: ("Travel document issued", "已签发旅行证件"),
        PersonStatus.REMOVED: ("Removed", "已遣返"),
        PersonStatus.NOT_REMOVED: ("Not removed", "未遣返"),
    }
)


class OutcomeStatus(StrEnum):
    """Where an agreed outcome of a dialogue round stands."""

    AGREED = "agreed"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CARRIED_OVER = "carried_over"
    DROPPED = "dropped"

    @property
    def settled(self) -> bool:
        return self in (OutcomeStatus.DONE, OutcomeStatus.CARRIED_OVER, OutcomeStatus.DROPPED)


register_labels(
    {
        OutcomeStatus.AGREED: ("Agreed", "已商定"),
        OutcomeStatus.IN_PROGRESS: ("In progress", "推进中"),
        OutcomeStatus.DONE: ("Done", "已完成"),
        OutcomeStatus.CARRIED_OVER: ("Carried over to the next round", "转入下一轮"),
        OutcomeStatus.DROPPED: ("Dropped", "已撤销"),
    }
)
