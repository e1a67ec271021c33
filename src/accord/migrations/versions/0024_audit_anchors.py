"""audit anchors: heads of the audit log signed by their node and given to a peer with each
checkpoint (ours as given, the peer's as received)

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_anchors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("node", sa.String(length=100), nullable=False),
        sa.Column("peer", sa.String(length=100), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("made_at", sa.String(length=40), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("kept_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchors")),
    )
    op.create_index(
        "ix_audit_anchors_node_peer_entry",
        "audit_anchors",
        ["node", "peer", "entry_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_audit_anchors_node_peer_entry", table_name="audit_anchors")
    op.drop_table("audit_anchors")
