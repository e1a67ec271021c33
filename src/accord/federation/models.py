"""Federation tables: this node, its pinned peers and the history of their keys, the outbox,
the inbox, the quarantine, and the reconciliation with each peer after a restore."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base
from accord.core.types import JSONType, UTCDateTime


class NodeRecord(Base):
    """This node's public identity (one row); private keys live in files, not here."""

    __tablename__ = "node"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    namespace: Mapped[str | None] = mapped_column(
        String(12), doc="the middle part of the references we sequence; the country if null"
    )
    endpoint: Mapped[str] = mapped_column(String(500))
    signing_key: Mapped[str] = mapped_column(String(64), doc="Ed25519 public key, base64")
    encryption_key: Mapped[str] = mapped_column(String(64), doc="X25519 public key, base64")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Peer(Base):
    __tablename__ = "peers"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    namespace: Mapped[str | None] = mapped_column(
        String(12), doc="the middle part of the references the peer sequences; its country if null"
    )
    endpoint: Mapped[str] = mapped_column(String(500))
    signing_key: Mapped[str] = mapped_column(String(64))
    encryption_key: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    agreement: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, doc="terms agreed with this peer, e.g. deadlines per case type"
    )
    tls_ca: Mapped[str | None] = mapped_column(
        Text, doc="PEM certificates trusted for this peer's TLS, beside the system bundle"
    )
    tls_pin: Mapped[str | None] = mapped_column(
        String(64), doc="SHA-256 (hex) of the peer's TLS leaf certificate or of its public key"
    )


class KeyHistory(Base):
    """A node's public keys before a rotation (ours or a peer's), kept so that what they signed
    still verifies: envelopes until `valid_until` (the overlap window), acts for good. A key
    revoked after a compromise authenticates no envelope any more."""

    __tablename__ = "key_history"
    __table_args__ = (Index("ix_key_history_owner", "owner"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(100), doc="the node whose keys these were")
    signing_key: Mapped[str] = mapped_column(String(64))
    encryption_key: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(
        UTCDateTime(), doc="end of the overlap: envelopes signed with this key are refused after"
    )
    replaced_by: Mapped[str | None] = mapped_column(String(64), doc="the next fingerprint")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class Reconciliation(Base):
    """After a restore from backup, one row per peer: until every row is settled the node
    sequences nothing and delivers nothing (a log or a reference number could fork)."""

    __tablename__ = "reconciliations"

    peer: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(
        String(16), doc="needed, done, or skipped (by the operator, without the peer)"
    )
    restored_at: Mapped[datetime] = mapped_column(UTCDateTime())
    backup_created_at: Mapped[str | None] = mapped_column(String(40))
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    report: Mapped[dict[str, Any] | None] = mapped_column(
        JSONType, doc="what the peer held that we had lost, and what was recovered"
    )


class OutboxItem(Base):
    """A message to a peer, written in the same transaction as the change it announces.

    The envelope is built and signed at each delivery attempt (fresh `sent_at`), under the id
    fixed here, so the receiver recognises a retry as the same envelope.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_stream_order", "peer", "stream", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    envelope_id: Mapped[UUID] = mapped_column(unique=True)
    peer: Mapped[str] = mapped_column(String(100), index=True)
    stream: Mapped[str] = mapped_column(String(100), doc="ordering key, e.g. the case reference")
    kind: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    receipt: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class InboxItem(Base):
    """A verified, decrypted envelope, stored before the receipt is sent; processed later."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    envelope_id: Mapped[UUID] = mapped_column(unique=True)
    sender: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[str] = mapped_column(String(40))
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    envelope: Mapped[dict[str, Any]] = mapped_column(JSONType, doc="as received, signed")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="stored", index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)


class QuarantineItem(Base):
    """Anything refused at the inbox or in processing, kept with the reason.

    An authentic envelope refused (stages body and processing) is kept whole. A refusal before
    authentication (stage inbox) keeps the digest, size and first KiB of what was sent; repeats
    of the same bytes from one address within a window count on one row, and past the caps
    (rows per address per window, rows and bytes in all) refusals are only counted, on a row
    marked `capped`. Unauthenticated rows are deleted after the retention period.
    """

    __tablename__ = "quarantine"
    __table_args__ = (
        Index("ix_quarantine_source", "stage", "remote_addr", "received_at"),
        Index("ix_quarantine_capped", "capped", "received_at"),
        Index("ix_quarantine_envelope_id", "envelope_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stage: Mapped[str] = mapped_column(
        String(16),
        doc="inbox (refused before it was authenticated), body (authentic, its body refused) "
        "or processing (refused by its kind's handler)",
    )
    sender: Mapped[str | None] = mapped_column(String(200))
    envelope_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    remote_addr: Mapped[str | None] = mapped_column(String(100))
    raw: Mapped[str] = mapped_column(
        Text,
        doc="the bytes as received (UTF-8, or base64 after 'base64:'): whole up to 64 KiB for "
        "an authentic envelope, the first KiB for an unauthenticated refusal",
    )
    digest: Mapped[str | None] = mapped_column(
        String(64), doc="SHA-256 (hex) of all that was sent, not only of what `raw` keeps"
    )
    size: Mapped[int | None] = mapped_column(
        BigInteger, doc="bytes sent, summed over the `count` refusals this row stands for"
    )
    count: Mapped[int] = mapped_column(
        Integer, default=1, server_default="1", doc="how many refusals this row stands for"
    )
    last_seen_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), doc="the latest of them (null: received_at)"
    )
    capped: Mapped[str | None] = mapped_column(
        String(8),
        doc="null: a refusal kept; 'source': refusals from this address past its cap for the "
        "window, counted here; 'total': refusals from any address past the total caps",
    )
