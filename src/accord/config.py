"""Settings of one node (env prefix ACCORD_); SQLite in the data folder unless a URL is given."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACCORD_", extra="ignore")

    data_dir: Path = Field(default=Path("accord-data"), description="keys, blobs, SQLite file")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/accord.db"
    )
    replay_window_seconds: int = Field(
        default=300,
        ge=1,
        description="accepted clock difference for an envelope's `sent_at` (keep clocks on NTP)",
    )
    max_request_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="largest request body, API or federation (413 beyond); attachments have "
        "their own limit",
    )
    max_envelopes_per_request: int = Field(
        default=200, ge=1, description="largest batch of envelopes accepted from a peer"
    )
    rate_limit_per_second: float = Field(
        default=100.0,
        ge=0,
        description="requests a second per token, web session or address; 0: none",
    )
    rate_limit_burst: int = Field(default=1000, ge=1, description="requests at once before that")
    delivery_batch: int = Field(default=100, ge=1, description="largest batch of envelopes sent")
    delivery_max_bytes: int = Field(
        default=3 * 1024 * 1024, ge=64 * 1024, description="keep under the peer's request limit"
    )
    delivery_poll_seconds: float = Field(
        default=0.25,
        gt=0,
        description="how often idle workers look for work written by other processes",
    )
    delivery_backoff_base_seconds: float = Field(
        default=0.5,
        gt=0,
        description="first wait before an envelope the peer did not take is sent again",
    )
    delivery_backoff_max_seconds: float = Field(
        default=300.0, gt=0, description="longest wait between two attempts of one envelope"
    )
    delivery_alert_after_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="age after which an undelivered envelope raises an alert (never dropped)",
    )
    delivery_timeout_seconds: float = Field(
        default=30.0, gt=0, description="longest wait for a peer's answer to one request"
    )
    quarantine_window_seconds: int = Field(
        default=3600,
        ge=60,
        description="unauthenticated refusals from one address are aggregated and capped per "
        "window of this length",
    )
    quarantine_rows_per_source: int = Field(
        default=100, ge=1, description="unauthenticated refusals kept per address per window"
    )
    quarantine_max_rows: int = Field(
        default=10_000, ge=1, description="unauthenticated refusals kept in all"
    )
    quarantine_max_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=64 * 1024,
        description="bytes of raw text and reasons kept for unauthenticated refusals in all",
    )
    quarantine_retention_days: float = Field(
        default=30.0, gt=0, description="unauthenticated refusals older than this are deleted"
    )
    quarantine_prune_seconds: float = Field(
        default=3600.0, gt=0, description="how often the inbox worker deletes them"
    )
    retention_interval_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="how often the inbox worker (inside `accord serve` and `accord worker`) "
        "runs `accord retention apply`: erases the personal data whose agreed retention period "
        "has run out (0: never, erasure runs only from the CLI)",
    )
    attachment_transfer_expiry_seconds: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="chunks of a file from a peer not completed this long after its first "
        "chunk are deleted; the case shows the file as not received",
    )
    intake_unit: str = Field(
        default="central-authority", description="the unit that receives cases opened by peers"
    )
    session_hours: float = Field(default=8.0, gt=0, description="web session lifetime")
    account_request_hours: float = Field(
        default=72.0,
        gt=0,
        description="a change to an account awaiting a second administrator's approval "
        "expires after this long, and then does nothing",
    )
    run_workers: bool = Field(default=True, description="run delivery and inbox workers in serve")
    idempotency_key_hours: float = Field(
        default=24.0,
        gt=0,
        description="how long the answer to a request sent with an Idempotency-Key is replayed",
    )

    database_pool_size: int = Field(
        default=10,
        ge=1,
        description="PostgreSQL connections each process keeps open (see the sizing guidance)",
    )
    database_max_overflow: int = Field(
        default=10, ge=0, description="PostgreSQL connections each process may open beyond those"
    )
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="`json`: one JSON object a line (time, level, logger, message, request id, "
        "node, peer, case); `text`: one readable line, for a terminal",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="the least severe log records written"
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="addresses of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (comma-separated, `*` for any); unset: uvicorn's "
        "FORWARDED_ALLOW_IPS, else 127.0.0.1. Session cookies are Secure only on requests that "
        "came over TLS, so a proxy on another machine must be named here",
    )
    metrics_token: str | None = Field(
        default=None,
        description="if set, /metrics answers only requests with `Authorization: Bearer "
        "<token>`; if unset, only clients on loopback",
    )
    worker_heartbeat_seconds: float = Field(
        default=10.0, gt=0, description="how often each worker process records that it lives"
    )
    worker_stale_seconds: float = Field(
        default=60.0,
        gt=0,
        description="/readyz fails when no delivery or no inbox worker has recorded a heartbeat "
        "this recently",
    )
    ready_outbox_age_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="/readyz fails while an envelope has waited for delivery longer than this "
        "(0: not checked)",
    )
    worker_backoff_base_seconds: float = Field(
        default=0.5, gt=0, description="a worker's first wait after a failed round"
    )
    worker_backoff_max_seconds: float = Field(
        default=60.0,
        gt=0,
        description="its longest wait: each failure in a row doubles the wait up to this, with "
        "jitter",
    )
    tsa_url: str | None = Field(
        default=None,
        description="the RFC 3161 time-stamping authority that stamps checkpoints (HTTP POST of "
        "a timestamp query); unset: checkpoints are signed and wait unstamped",
    )
    tsa_certificate_file: Path | None = Field(
        default=None,
        description="PEM file of the TSA's signing certificate, pinned: a token signed by "
        "another is refused (needed with the URL)",
    )
    tsa_ca_file: Path | None = Field(
        default=None,
        description="PEM file of the CA certificates the TSA's certificate chains to; unset: "
        "the TSA certificate itself",
    )
    tsa_timeout_seconds: float = Field(
        default=10.0, gt=0, description="longest wait for the TSA's answer"
    )
    tsa_retry_max_seconds: float = Field(
        default=600.0,
        gt=0,
        description="longest wait before a checkpoint the TSA did not stamp is tried again "
        "(doubling from 5 s; never given up)",
    )
    tsa_alert_after_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="age after which an unstamped checkpoint raises an alert (log and audit)",
    )
    checkpoints: bool = Field(
        default=True,
        description="the sequencer checkpoints a shared case's log at every change of state "
        "and every checkpoint_every_events events (off: only `accord evidence checkpoint`)",
    )
    checkpoint_every_events: int = Field(
        default=100,
        ge=0,
        description="a checkpoint at every this many events of a case, beside those at its "
        "changes of state (0: only at changes of state)",
    )
    tsa_stamp_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        description="how often the worker inside `accord serve` and `accord worker` stamps the "
        "checkpoints whose attempt is due",
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'accord.db').resolve()}"

    @property
    def idempotency_lifetime(self) -> timedelta:
        return timedelta(hours=self.idempotency_key_hours)

    @property
    def account_request_lifetime(self) -> timedelta:
        return timedelta(hours=self.account_request_hours)

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"
