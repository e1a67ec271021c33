"""dialogue: the mechanisms, seeded with the four of the bilateral dialogue

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULTS = [
    ("diplomatic_security", "Diplomatic and security dialogue", "外交安全对话"),
    ("comprehensive_economic", "Comprehensive economic dialogue", "全面经济对话"),
    ("social_people", "Social and people-to-people dialogue", "社会和人文对话"),
    ("law_enforcement_cyber", "Law enforcement and cybersecurity dialogue", "执法及网络安全对话"),
]


def upgrade() -> None:
    table = op.create_table(
        "dialogue_mechanisms",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("en", sa.String(length=200), nullable=False),
        sa.Column("zh", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_dialogue_mechanisms")),
    )
    op.bulk_insert(
        table,
        [
            {"code": code, "en": en, "zh": zh, "position": i, "active": True}
            for i, (code, en, zh) in enumerate(DEFAULTS)
        ],
    )


def downgrade() -> None:
    op.drop_table("dialogue_mechanisms")
