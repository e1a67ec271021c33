"""Roles and what each may do, in one table; routes declare the permission they need."""

from __future__ import annotations

from enum import StrEnum

from accord.core.labels import Labelled


class Role(Labelled):
    LIAISON_OFFICER = "liaison_officer", "Liaison officer", "联络官"
    LEGAL_REVIEWER = "legal_reviewer", "Legal reviewer", "法律审查员"
    ANALYST = "analyst", "Analyst", "分析员"
    DIALOGUE_COORDINATOR = "dialogue_coordinator", "Dialogue coordinator", "对话协调员"
    AUDITOR = "auditor", "Auditor", "审计员"
    ADMINISTRATOR = "administrator", "Administrator", "管理员"


class Permission(StrEnum):
    CASE_READ = "case:read"
    CASE_OPEN = "case:open"
    CASE_ACT = "case:act"
    CASE_REVIEW = "case:review"
    """take the actions that record a legal review (each case type declares which)"""
    CASE_SHARE = "case:share"
    ATTACHMENT_WRITE = "attachment:write"
    PEER_READ = "peer:read"
    PEER_ADMIN = "peer:admin"
    USER_ADMIN = "user:admin"
    AUDIT_READ = "audit:read"
    FEDERATION_READ = "federation:read"
    IDENTITY_SCREEN = "identity:screen"
    CYBER_ANALYSE = "cyber:analyse"
    DIALOGUE_MANAGE = "dialogue:manage"
    DIALOGUE_READ = "dialogue:read"


_CASEWORK = {
    Permission.CASE_READ,
    Permission.CASE_OPEN,
    Permission.CASE_ACT,
    Permission.CASE_SHARE,
    Permission.ATTACHMENT_WRITE,
    Permission.PEER_READ,
    Permission.DIALOGUE_READ,
}

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.LIAISON_OFFICER: frozenset(_CASEWORK | {Permission.IDENTITY_SCREEN}),
    Role.LEGAL_REVIEWER: frozenset(_CASEWORK | {Permission.CASE_REVIEW}),
    Role.ANALYST: frozenset(
        {
            Permission.CASE_READ,
            Permission.CASE_ACT,
            Permission.ATTACHMENT_WRITE,
            Permission.PEER_READ,
            Permission.IDENTITY_SCREEN,
            Permission.CYBER_ANALYSE,
            Permission.DIALOGUE_READ,
        }
    ),
    Role.DIALOGUE_COORDINATOR: frozenset(
        {Permission.DIALOGUE_MANAGE, Permission.DIALOGUE_READ, Permission.PEER_READ}
    ),
    # The auditor reads the audit log and verifies it, and can read no case content.
    Role.AUDITOR: frozenset({Permission.AUDIT_READ}),
    Role.ADMINISTRATOR: frozenset(
        {
            Permission.PEER_READ,
            Permission.PEER_ADMIN,
            Permission.USER_ADMIN,
            Permission.FEDERATION_READ,
        }
    ),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in GRANTS[role]
