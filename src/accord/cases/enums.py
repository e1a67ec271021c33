"""Enumerations of the case domain, each with its English and Chinese labels in one place."""

from __future__ import annotations

from accord.core.labels import Labelled


class Side(Labelled):
    REQUESTING = "requesting", "requesting side", "请求方"
    REQUESTED = "requested", "requested side", "被请求方"

    @property
    def other(self) -> Side:
        return Side.REQUESTED if self is Side.REQUESTING else Side.REQUESTING


class Area(Labelled):
    COUNTER_TERRORISM = "counter_terrorism", "Counter-terrorism", "反恐"
    TRANSNATIONAL_CRIME = "transnational_crime", "Transnational crime", "跨国犯罪"
    CYBERCRIME = "cybercrime", "Cybercrime", "网络犯罪"
    COUNTER_NARCOTICS = "counter_narcotics", "Counter-narcotics", "禁毒"
    FUGITIVES = "fugitives", "Fugitive repatriation", "追逃"
    ASSET_RECOVERY = "asset_recovery", "Asset recovery", "追赃"
    JUDICIAL_ASSISTANCE = "judicial_assistance", "Mutual legal assistance", "司法协助"
    IMMIGRATION = "immigration", "Repatriation of illegal immigrants", "非法移民遣返"
    DIALOGUE = "dialogue", "Dialogue", "对话"
    """The dialogue's own record (its rounds), not a field of cooperation."""


class Priority(Labelled):
    ROUTINE = "routine", "Routine", "常规"
    URGENT = "urgent", "Urgent", "紧急"
    IMMEDIATE = "immediate", "Immediate", "特急"


class HandlingCode(Labelled):
    H0 = "H0", "H0 police and judicial use", "H0 限警务和司法使用"
    H1 = "H1", "H1 not evidence in court without consent", "H1 未经同意不得作为法庭证据"
    H2 = "H2", "H2 no third party without consent", "H2 未经同意不得向第三方提供"
    H3 = "H3", "H3 sender's own restrictions", "H3 发送方特别限制"


class RefusalGround(Labelled):
    SOVEREIGNTY_SECURITY = (
        "sovereignty_security_public_order",
        "Prejudices sovereignty, security or public order",
        "损害主权、安全或公共秩序",
    )
    POLITICAL_OFFENCE = "political_offence", "Political offence", "政治犯罪"
    MILITARY_OFFENCE = "military_offence", "Purely military offence", "纯军事犯罪"
    DISCRIMINATION = (
        "discrimination",
        "Prosecution on account of race, religion, nationality, sex or political opinion",
        "因种族、宗教、国籍、性别或政治见解而起诉",
    )
    DOUBLE_JEOPARDY = "double_jeopardy", "Already tried for the same offence", "一事不再理"
    NO_DUAL_CRIMINALITY = (
        "no_dual_criminality",
        "Not an offence in the requested state",
        "不符合双重犯罪原则",
    )
    INSUFFICIENT_INFORMATION = (
        "insufficient_information",
        "Insufficient information to act",
        "请求信息不足",
    )
    CONTRARY_TO_DOMESTIC_LAW = (
        "contrary_to_domestic_law",
        "Contrary to the requested state's law",
        "违反被请求方法律",
    )
    PREJUDICES_PROCEEDINGS = (
        "prejudices_ongoing_proceedings",
        "Would prejudice ongoing proceedings",
        "妨碍正在进行的调查或诉讼",
    )
    NO_ASSURANCES = "assurances_not_given", "Required assurances not given", "未提供所需保证"
    OTHER = "other", "Other ground (stated)", "其他理由（已说明）"


class MlaAssistance(Labelled):
    EVIDENCE = "evidence", "Taking of evidence", "调取证据"
    BANK_RECORDS = "bank_records", "Bank records", "银行记录"
    WITNESS_STATEMENT = "witness_statement", "Witness statement", "证人证言"
    SEARCH_AND_SEIZURE = "search_and_seizure", "Search and seizure", "搜查和扣押"
    SERVICE_OF_DOCUMENTS = "service_of_documents", "Service of documents", "送达文书"


class SourceReliability(Labelled):
    """The 4x4 grading of the source (EU/INTERPOL style)."""

    A = "A", "A: no doubt about the source", "A：来源可靠，无疑问"
    B = "B", "B: source mostly reliable", "B：来源多数情况下可靠"
    C = "C", "C: source mostly unreliable", "C：来源多数情况下不可靠"
    X = "X", "X: source cannot be assessed", "X：来源无法评估"


class InformationReliability(Labelled):
    ONE = "1", "1: known true without reservation", "1：确认属实"
    TWO = "2", "2: known personally to the source", "2：来源亲自知悉，但官员未亲自知悉"
    THREE = "3", "3: not known personally, corroborated", "3：来源未亲自知悉，但有佐证"
    FOUR = "4", "4: cannot be judged", "4：无法判断"


class FeedbackOutcome(Labelled):
    USEFUL = "useful", "Useful", "有用"
    LED_TO_ACTION = "led_to_action", "Led to action", "已据此采取行动"
    NO_ACTION = "no_action", "No action", "未采取行动"


class ReturnRoute(Labelled):
    DEPORTATION = "deportation", "Deportation", "遣返"
    EXTRADITION = "extradition", "Extradition", "引渡"
    VOLUNTARY_RETURN = "voluntary_return", "Voluntary return", "劝返"


class AssetKind(Labelled):
    BANK_ACCOUNT = "bank_account", "Bank account", "银行账户"
    REAL_ESTATE = "real_estate", "Real estate", "不动产"
    VEHICLE = "vehicle", "Vehicle", "车辆"
    SECURITIES = "securities", "Securities", "证券"
    VIRTUAL_ASSETS = "virtual_assets", "Virtual assets", "虚拟资产"
    OTHER = "other", "Other", "其他"


class CyberActivity(Labelled):
    DDOS = "ddos", "Denial of service", "拒绝服务攻击"
    INTRUSION = "intrusion", "Intrusion", "网络入侵"
    MALWARE = "malware", "Malware", "恶意软件"
    PHISHING = "phishing", "Phishing", "网络钓鱼"
    RANSOMWARE = "ransomware", "Ransomware", "勒索软件"
    FRAUD = "fraud", "Online fraud", "网络诈骗"
    OTHER = "other", "Other", "其他"


class CyberMeasure(Labelled):
    TAKEDOWN = "takedown", "Takedown", "关停"
    PRESERVATION = "preservation", "Data preservation", "数据保全"
    INVESTIGATION = "investigation", "Investigation", "调查"
    INFORMATION = "information", "Information", "提供信息"


class PersonStatus(Labelled):
    """Where one person of a removal batch stands."""

    PENDING = "pending", "Pending", "待核查"
    VERIFIED = "verified", "Identity verified", "身份已核实"
    NOT_VERIFIED = "not_verified", "Identity not verified", "身份未能核实"
    DOCUMENTED = "documented", "Travel document issued", "已签发旅行证件"
    REMOVED = "removed", "Removed", "已遣返"
    NOT_REMOVED = "not_removed", "Not removed", "未遣返"

    @property
    def settled(self) -> bool:
        return self in (PersonStatus.NOT_VERIFIED, PersonStatus.REMOVED, PersonStatus.NOT_REMOVED)


class OutcomeStatus(Labelled):
    """Where an agreed outcome of a dialogue round stands."""

    AGREED = "agreed", "Agreed", "已商定"
    IN_PROGRESS = "in_progress", "In progress", "推进中"
    DONE = "done", "Done", "已完成"
    CARRIED_OVER = "carried_over", "Carried over to the next round", "转入下一轮"
    DROPPED = "dropped", "Dropped", "已撤销"

    @property
    def settled(self) -> bool:
        return self in (OutcomeStatus.DONE, OutcomeStatus.CARRIED_OVER, OutcomeStatus.DROPPED)
