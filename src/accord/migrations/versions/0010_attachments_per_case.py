"""attachments_per_case: attachments accepted and served per case

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

`case_files` records which case holds which file. Existing holdings are carried over where the
content was verifiably brought to the case: an attach event of our own side (an upload here),
or one of the peer's for a file that came from that peer. A peer's attach naming a file that
only this node or another peer held is not carried over: the case shows it as on its way.
Incomplete `blobs` rows (chunks kept by hash alone, for any case or none) are deleted; the
workers delete their folders once they have been unchanged for the transfer expiry.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
CHUNK = 64 * 1024


def upgrade() -> None:
    op.create_table(
        "case_files",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_files_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", "sha256", name=op.f("pk_case_files")),
    )
    with op.batch_alter_table("case_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_files_status"), ["status"], unique=False)
    _carry_over_holdings()


def _carry_over_holdings() -> None:
    bind = op.get_bind()
    blobs = sa.table(
        "blobs",
        sa.column("sha256", sa.String),
        sa.column("size", sa.Integer),
        sa.column("complete", sa.Boolean),
        sa.column("origin", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("completed_at", sa.DateTime(timezone=True)),
    )
    cases = sa.table("cases", sa.column("id", sa.Uuid), sa.column("peer", sa.String))
    events = sa.table(
        "case_events",
        sa.column("case_id", sa.Uuid),
        sa.column("action", sa.String),
        sa.column("actor_node", sa.String),
        sa.column("payload", JSON),
    )
    complete = {
        row.sha256: row
        for row in bind.execute(sa.select(blobs).where(blobs.c.complete == sa.true()))
    }
    attached = bind.execute(
        sa.select(events.c.case_id, events.c.actor_node, events.c.payload, cases.c.peer)
        .join(cases, cases.c.id == events.c.case_id)
        .where(events.c.action == "attach")
    )
    rows: dict[tuple[Any, str], dict[str, Any]] = {}
    for case_id, actor_node, payload, peer in attached:
        sha = payload.get("sha256") if isinstance(payload, dict) else None
        if not isinstance(sha, str) or sha not in complete or (case_id, sha) in rows:
            continue
        blob = complete[sha]
        if actor_node == peer and blob.origin != peer:
            continue  # the peer named a file it never sent: nothing to carry over
        rows[(case_id, sha)] = {
            "case_id": case_id,
            "sha256": sha,
            "status": "available",
            "size": blob.size,
            "chunks": max(1, -(-blob.size // CHUNK)),
            "origin": actor_node,
            "started_at": blob.created_at,
            "completed_at": blob.completed_at or blob.created_at,
        }
    if rows:
        case_files = sa.table(
            "case_files",
            sa.column("case_id", sa.Uuid),
            sa.column("sha256", sa.String),
            sa.column("status", sa.String),
            sa.column("size", sa.Integer),
            sa.column("chunks", sa.Integer),
            sa.column("origin", sa.String),
            sa.column("started_at", sa.DateTime(timezone=True)),
            sa.column("completed_at", sa.DateTime(timezone=True)),
        )
        op.bulk_insert(case_files, list(rows.values()))
    bind.execute(sa.delete(blobs).where(blobs.c.complete == sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("case_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_files_status"))
    op.drop_table("case_files")
