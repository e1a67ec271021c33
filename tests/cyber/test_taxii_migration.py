"""Migration 0018 on SQLite and PostgreSQL: stored collections named `to-<peer>` get their UUID
ids, objects of one add that shared a date_added get one each, in key order; and back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import command

from accord.core.db import make_engine
from accord.core.migrate import alembic_config
from accord.cyber.taxii.service import collection_id

ADDED = datetime(2026, 11, 1, 12, 0, 0, 123000, tzinfo=UTC)


def _value(column: sa.Column[Any], name: str) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.DateTime):
        return ADDED
    if isinstance(kind, sa.Integer):
        return 0
    if isinstance(kind, sa.JSON):
        return {}
    if isinstance(kind, sa.Uuid):
        return uuid.uuid4()
    return name if column.name == "name" else "x"


def _insert_peer(conn: sa.Connection, name: str) -> None:
    peers = sa.Table("peers", sa.MetaData(), autoload_with=conn)
    row = {
        c.name: _value(c, name)
        for c in peers.columns
        if not c.nullable and c.server_default is None and c.autoincrement is not True
    }
    conn.execute(sa.insert(peers), [row])


def test_0018_gives_collections_uuids_and_every_object_its_own_date_added(
    database_url: Callable[[str], str],
) -> None:
    url = database_url("migration")
    config = alembic_config(url)
    command.upgrade(config, "0017")
    engine = make_engine(url)
    objects = sa.table(
        "taxii_objects",
        *(sa.column(n) for n in ("key", "collection", "object_id", "object_type")),
        sa.column("version", sa.DateTime(timezone=True)),
        sa.column("date_added", sa.DateTime(timezone=True)),
        *(sa.column(n) for n in ("spec_version", "latest", "earliest", "body")),
    )
    try:
        with engine.begin() as conn:
            _insert_peer(conn, "CN-MOJ")
            rows = [
                {
                    "collection": "from-CN-MOJ" if n < 5 else "to-CN-MOJ",
                    "object_id": f"indicator--00000000-0000-4000-8000-{n:012d}",
                    "object_type": "indicator",
                    "version": ADDED,
                    "spec_version": "2.1",
                    # one add of five, then one of three: each shared its date_added
                    "date_added": ADDED if n < 5 else ADDED + timedelta(seconds=1),
                    "latest": True,
                    "earliest": True,
                    "body": "{}",
                }
                for n in range(8)
            ]
            conn.execute(sa.insert(objects), rows)
        command.upgrade(config, "0018")
        with engine.connect() as conn:
            found = conn.execute(
                sa.select(objects.c.collection, objects.c.date_added).order_by(objects.c.key)
            ).all()
            index_names = {i["name"] for i in sa.inspect(conn).get_indexes("taxii_objects")}
        inbound, outbound = collection_id("from-CN-MOJ"), collection_id("to-CN-MOJ")
        assert [c for c, _ in found] == [inbound] * 5 + [outbound] * 3
        dates = [d.replace(tzinfo=d.tzinfo or UTC).astimezone(UTC) for _, d in found]
        tick = timedelta(microseconds=1)
        assert dates[:5] == [ADDED + n * tick for n in range(5)]
        assert dates[5:] == [ADDED + timedelta(seconds=1) + n * tick for n in range(3)]
        assert "ix_taxii_objects_collection_date_added" in index_names

        command.downgrade(config, "0017")
        with engine.connect() as conn:
            names = [c for (c,) in conn.execute(sa.select(objects.c.collection))]
        assert sorted(set(names)) == ["from-CN-MOJ", "to-CN-MOJ"]
    finally:
        engine.dispose()
