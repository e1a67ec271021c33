"""taxii: the objects of the TAXII collections, keyed in insertion order, and add statuses

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "taxii_objects",
        sa.Column("key", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("collection", sa.String(length=120), nullable=False),
        sa.Column("object_id", sa.String(length=300), nullable=False),
        sa.Column("object_type", sa.String(length=250), nullable=False),
        sa.Column("version", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spec_version", sa.String(length=10), nullable=False),
        sa.Column("date_added", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest", sa.Boolean(), nullable=False),
        sa.Column("earliest", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_taxii_objects")),
        sa.UniqueConstraint(
            "collection", "object_id", "version", name=op.f("uq_taxii_objects_collection")
        ),
    )
    op.create_index(
        "ix_taxii_objects_collection_key", "taxii_objects", ["collection", "key"], unique=False
    )
    op.create_index(
        "ix_taxii_objects_collection_type_key",
        "taxii_objects",
        ["collection", "object_type", "key"],
        unique=False,
    )
    op.create_table(
        "taxii_statuses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("collection", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("request_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("success_count", sa.Integer(), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("pending_count", sa.Integer(), nullable=False),
        sa.Column("successes", JSON, nullable=False),
        sa.Column("failures", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_statuses")),
    )


def downgrade() -> None:
    op.drop_table("taxii_statuses")
    op.drop_index("ix_taxii_objects_collection_type_key", table_name="taxii_objects")
    op.drop_index("ix_taxii_objects_collection_key", table_name="taxii_objects")
    op.drop_table("taxii_objects")
