"""Evidence packs: one zip archive with everything a third party needs to verify a case offline
(`verify_pack.py`, which travels inside it): the case log with its erasable parts, the envelopes
as received, the receipts, the checkpoints with their timestamp tokens, the attachments (or their
hashes), both nodes' keys and key history, and a bilingual report. Format: docs/evidence.md.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.attachments.enums import FileStatus
from accord.attachments.service import attachments_of, store_of
from accord.audit import service as audit
from accord.cases.casetype import case_types
from accord.cases.enums import HandlingCode, Side
from accord.cases.erasure import parts_of
from accord.cases.models import Case, CaseEvent
from accord.cases.service import case_log, get_case
from accord.config import Settings
from accord.core.canonical import canonical_bytes
from accord.core.clock import iso, utcnow
from accord.core.errors import InvalidInput
from accord.core.templating import environment, pdf_of
from accord.cyber import handling
from accord.evidence import verify_pack
from accord.evidence.checkpoints import checkpoint_document
from accord.evidence.models import Checkpoint
from accord.evidence.verify_pack import (
    ATTACHMENTS,
    CHECKPOINTS,
    ENVELOPES,
    EVENTS,
    FORMAT,
    KEYS,
    MANIFEST,
    RECEIPTS,
)
from accord.federation.keys import NodeIdentity, fingerprint
from accord.federation.models import InboxItem, KeyHistory, NodeRecord, OutboxItem
from accord.federation.peers import get_peer, key_history

REPORT = "report.pdf"
VERIFIER = "verify_pack.py"
TEMPLATES = Path(__file__).parent / "templates"

Progress = Callable[[str, int, int], None]
"""(step, done, total): how far the export is, for a progress bar."""


class AttachmentMode(StrEnum):
    FULL = "full"
    """Each attached file whose handling code allows it to leave; the others by hash."""
    HASHES = "hashes"
    """Every attached file by its hash only."""


@dataclass(frozen=True)
class PackWritten:
    """What one export wrote."""

    path: Path
    reference: str
    events: int
    envelopes: int
    receipts: int
    checkpoints: int
    attachments: int
    attachments_by_hash: int
    erased_parts: int
    size: int


@dataclass
class _Archive:
    """The pack's files as they are written, with what the manifest says of each."""

    archive: zipfile.ZipFile
    listed: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, content: bytes) -> None:
        self.archive.writestr(name, content)
        self.listed.append(
            {"path": name, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
        )

    def add_json(self, name: str, value: Any) -> None:
        self.add(name, canonical_bytes(value))

    def add_file(self, name: str, source: Path) -> None:
        digest = hashlib.sha256()
        size = 0
        with source.open("rb") as reading, self.archive.open(name, "w", force_zip64=True) as out:
            while block := reading.read(1024 * 1024):
                digest.update(block)
                size += len(block)
                out.write(block)
        self.listed.append({"path": name, "sha256": digest.hexdigest(), "size": size})


def export_pack(
    session: Session,
    *,
    node: NodeIdentity,
    settings: Settings,
    reference: str,
    out: Path,
    attachments: AttachmentMode = AttachmentMode.FULL,
    progress: Progress | None = None,
) -> PackWritten:
    """Write the evidence pack of `reference` to `out` (replaced whole, or left as it was if
    the export fails); it only reads, and `record_export` audits it. Attachments whose
    handling code (or the case's) does not allow them to leave the two parties go by hash
    whatever `attachments` says."""
    report = progress or (lambda step, done, total: None)
    case = get_case(session, reference=reference)
    if case.event_count == 0:
        raise InvalidInput(f"case {reference} has no events: there is nothing to prove yet")
    rows = case_log(session, reference=reference)
    stored_parts = parts_of(session, case)
    events: list[dict[str, Any]] = []
    for done, row in enumerate(rows, start=1):
        events.append(_event(row, stored_parts.get(row.seq, [])))
        if done % 500 == 0 or done == len(rows):
            report("events", done, len(rows))
    envelopes = [
        item.envelope
        for item in session.scalars(
            select(InboxItem).where(InboxItem.stream == reference).order_by(InboxItem.id)
        )
    ]
    receipts = [
        receipt
        for receipt in session.scalars(
            select(OutboxItem.receipt)
            .where(OutboxItem.stream == reference, OutboxItem.receipt.is_not(None))
            .order_by(OutboxItem.id)
        )
        if receipt is not None
    ]
    checkpoints = list(
        session.scalars(
            select(Checkpoint).where(Checkpoint.case_id == case.id).order_by(Checkpoint.tree_size)
        )
    )
    keys = {"nodes": {name: _keys(session, node, case, name) for name in _parties(case)}}
    files = _attachment_entries(session, node, case, attachments)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        with zipfile.ZipFile(staging, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            pack = _Archive(archive)
            pack.add_json(EVENTS, events)
            pack.add_json(ENVELOPES, envelopes)
            pack.add_json(RECEIPTS, receipts)
            tsa_files = _tsa_files(pack, settings, node.name)
            pack.add_json(
                CHECKPOINTS, [_checkpoint(pack, c, node.name, tsa_files) for c in checkpoints]
            )
            store = store_of(node)
            for done, entry in enumerate(files, start=1):
                if entry["file"] is not None:
                    pack.add_file(entry["file"], store.path(entry["sha256"]))
                report("attachments", done, len(files))
            pack.add_json(ATTACHMENTS, files)
            pack.add_json(KEYS, keys)
            report("report", 0, 1)
            erased = [
                {**part, "seq": e["seq"]} for e in events for part in e["parts"] if _erased(part)
            ]
            pack.add(
                REPORT,
                _report_pdf(session, node, case, events, checkpoints, files, keys, erased),
            )
            report("report", 1, 1)
            pack.add(VERIFIER, Path(verify_pack.__file__).read_bytes())
            manifest = {
                "format": FORMAT,
                "exported_by": node.name,
                "exported_at": iso(utcnow()),
                "case": {
                    "reference": case.reference,
                    "case_type": case.case_type,
                    "requesting_node": case.requesting_node,
                    "requested_node": case.requested_node,
                    "sequencer": case.sequencer,
                    "handling_code": case.handling_code,
                    "state": case.state,
                    "event_count": case.event_count,
                    "head_hash": case.head_hash,
                },
                "nodes": _parties(case),
                "attachments": attachments.value,
                "files": pack.listed,
            }
            archive.writestr(MANIFEST, canonical_bytes(manifest))
        os.replace(staging, out)
    finally:
        staging.unlink(missing_ok=True)
    by_hash = sum(1 for f in files if f["file"] is None)
    written = PackWritten(
        path=out,
        reference=case.reference,
        events=len(events),
        envelopes=len(envelopes),
        receipts=len(receipts),
        checkpoints=len(checkpoints),
        attachments=len(files) - by_hash,
        attachments_by_hash=by_hash,
        erased_parts=len(erased),
        size=out.stat().st_size,
    )
    return written


def record_export(session: Session, *, written: PackWritten, actor: str = "operator") -> None:
    """Audit an export that `export_pack` wrote: which case, what went in, the archive's hash.
    Apart from the export, so that the export itself runs in a read-only transaction (on
    SQLite no writer waits while the report is laid out)."""
    audit.record(
        session,
        actor=actor,
        action="evidence.export",
        outcome="ok",
        subject=written.reference,
        detail={
            "events": written.events,
            "checkpoints": written.checkpoints,
            "attachments": written.attachments,
            "attachments_by_hash": written.attachments_by_hash,
            "sha256": _file_sha256(written.path),
        },
    )
    session.flush()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reading:
        while block := reading.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _parties(case: Case) -> list[str]:
    return [case.requesting_node, case.requested_node]


def _erased(part: dict[str, Any]) -> bool:
    return part["salt"] is None


def _event(row: CaseEvent, parts: list[Any]) -> dict[str, Any]:
    """One event as stored: the fields its hash covers, its hash, and its erasable parts
    (commitment and salt; an erased part without salt, one hashed in clear without either)."""
    return {
        "seq": row.seq,
        "action": row.action,
        "side": row.side,
        "actor_node": row.actor_node,
        "actor_officer": row.actor_officer,
        "payload": row.payload,
        "occurred_at": row.occurred_at,
        "submission_id": row.submission_id,
        "prev_hash": row.prev_hash,
        "acted_at": row.acted_at,
        "signature": row.signature,
        "hash": row.hash,
        "state_after": row.state_after,
        "parts": [
            {
                "path": p.path,
                "commitment": p.commitment,
                "salt": p.salt,
                "erased_at": iso(p.erased_at) if p.erased_at is not None else None,
                "erasure_seq": p.erasure_seq,
            }
            for p in parts
        ],
    }


def _keys(session: Session, node: NodeIdentity, case: Case, name: str) -> dict[str, Any]:
    """A node's current public keys and those it held before each rotation."""
    if name == node.name:
        record = session.scalar(select(NodeRecord))
        current = (record.signing_key, record.encryption_key) if record else None
    else:
        peer = get_peer(session, name)
        current = (peer.signing_key, peer.encryption_key)
    keys: list[dict[str, Any]] = []
    if current is not None:
        keys.append(
            {
                "signing_key": current[0],
                "encryption_key": current[1],
                "fingerprint": fingerprint(*current),
                "current": True,
                "valid_from": None,
                "valid_until": None,
                "revoked_at": None,
                "revoked_reason": None,
                "replaced_by": None,
            }
        )
    keys.extend(_history_entry(row) for row in key_history(session, name))
    return {"keys": keys}


def _history_entry(row: KeyHistory) -> dict[str, Any]:
    return {
        "signing_key": row.signing_key,
        "encryption_key": row.encryption_key,
        "fingerprint": row.fingerprint,
        "current": False,
        "valid_from": iso(row.valid_from) if row.valid_from else None,
        "valid_until": iso(row.valid_until),
        "revoked_at": iso(row.revoked_at) if row.revoked_at else None,
        "revoked_reason": row.revoked_reason,
        "replaced_by": row.replaced_by,
    }


def _tsa_files(pack: _Archive, settings: Settings, owner: str) -> dict[str, str]:
    """The TSA certificate and CA this node is configured with, as PEM files in the pack."""
    found: dict[str, str] = {}
    for key, source in (
        ("tsa_certificate", settings.tsa_certificate_file),
        ("tsa_ca", settings.tsa_ca_file or settings.tsa_certificate_file),
    ):
        if source is None or not source.is_file():
            continue
        name = f"tsa/{owner}/{'tsa' if key == 'tsa_certificate' else 'ca'}.pem"
        pack.add(name, source.read_bytes())
        found[key] = name
    return found


def _checkpoint(
    pack: _Archive, checkpoint: Checkpoint, owner: str, tsa_files: dict[str, str]
) -> dict[str, Any]:
    token_name = None
    if checkpoint.tsa_token is not None:
        token_name = f"checkpoints/{checkpoint.tree_size:08d}.tsr"
        pack.add(token_name, checkpoint.tsa_token)
    return {
        "document": checkpoint_document(checkpoint),
        "signature": checkpoint.signature,
        "peer": checkpoint.peer,
        "peer_signature": checkpoint.peer_signature,
        "reason": checkpoint.reason,
        "status": checkpoint.status,
        "stamped_at": iso(checkpoint.stamped_at) if checkpoint.stamped_at else None,
        "timestamp_token": token_name,
        "stamped_for": owner if token_name else None,
        "tsa_certificate": tsa_files.get("tsa_certificate") if token_name else None,
        "tsa_ca": tsa_files.get("tsa_ca") if token_name else None,
    }


WHY_CHOSEN = ("hashes only, as asked (--attachments hashes)", "按要求仅提供哈希")
WHY_CODE = (
    "its handling code does not let it leave the two parties",
    "其处理代码不允许提供给双方以外",
)
WHY_ABSENT = ("its content is not held here", "本节点未持有其内容")


def _attachment_entries(
    session: Session, node: NodeIdentity, case: Case, mode: AttachmentMode
) -> list[dict[str, Any]]:
    """Each attached file of the case: in the pack, or by hash only and why."""
    entries: list[dict[str, Any]] = []
    store = store_of(node)
    for item in attachments_of(session, case=case):
        sha = str(item.get("sha256"))
        code = str(item.get("handling_code") or case.handling_code)
        why: tuple[str, str] | None = None
        if not (handling.exportable(code) and handling.exportable(case.handling_code)):
            why = WHY_CODE
        elif mode is AttachmentMode.HASHES:
            why = WHY_CHOSEN
        elif item.get("status") is not FileStatus.AVAILABLE or not store.has(sha):
            why = WHY_ABSENT
        entries.append(
            {
                "sha256": sha,
                "seq": item["seq"],
                "by": item["by"],
                "filename": item.get("filename"),
                "size": item.get("size"),
                "media_type": item.get("media_type"),
                "handling_code": code,
                "file": None if why else f"attachments/{sha}",
                "why": why[0] if why else None,
            }
        )
    return entries


# -- the report ------------------------------------------------------------------------------


@cache
def _templates() -> Environment:
    return environment(TEMPLATES, "en")


def _report_pdf(
    session: Session,
    node: NodeIdentity,
    case: Case,
    events: list[dict[str, Any]],
    checkpoints: list[Checkpoint],
    files: list[dict[str, Any]],
    keys: dict[str, Any],
    erased: list[dict[str, Any]],
) -> bytes:
    """The chain of custody in English and Chinese, side by side: what the pack holds."""
    workflow = case_types(session).workflow(case.case_type)
    state = workflow.state(case.state)
    code = HandlingCode(case.handling_code)
    labels: dict[str, tuple[str, str]] = {}
    lines = []
    for e in events:
        if e["action"] not in labels:
            labels[e["action"]] = workflow.labels_of(e["action"])
        side = Side(e["side"])
        en, zh = labels[e["action"]]
        lines.append(
            {
                "seq": e["seq"],
                "occurred_at": e["occurred_at"],
                "action_en": en,
                "action_zh": zh,
                "side_en": side.en,
                "side_zh": side.zh,
                "actor_node": e["actor_node"],
                "actor_officer": e["actor_officer"],
                "signed": e["signature"] is not None,
                "erased": sum(1 for p in e["parts"] if _erased(p)),
                "hash": e["hash"],
            }
        )
    why_zh = {WHY_CHOSEN[0]: WHY_CHOSEN[1], WHY_CODE[0]: WHY_CODE[1], WHY_ABSENT[0]: WHY_ABSENT[1]}
    context = {
        "reference": case.reference,
        "title": case.title,
        "case_type_en": workflow.en,
        "case_type_zh": workflow.zh,
        "state_en": state.en,
        "state_zh": state.zh,
        "requesting_node": case.requesting_node,
        "requested_node": case.requested_node,
        "sequencer": case.sequencer,
        "handling_en": code.en,
        "handling_zh": code.zh,
        "exported_by": node.name,
        "exported_at": iso(utcnow()),
        "event_count": case.event_count,
        "head_hash": case.head_hash,
        "nodes": [
            {"name": name, "fingerprints": entry["keys"]} for name, entry in keys["nodes"].items()
        ],
        "checkpoints": [
            {
                "tree_size": c.tree_size,
                "made_by": c.made_by,
                "made_at": c.made_at,
                "reason": c.reason,
                "peer": c.peer,
                "peer_signed": c.peer_signature is not None,
                "stamped_at": iso(c.stamped_at) if c.stamped_at else None,
                "root_hash": c.root_hash,
            }
            for c in checkpoints
        ],
        "erased": erased,
        "attachments": [
            {**f, "why_en": f["why"], "why_zh": why_zh.get(f["why"] or "", "")} for f in files
        ],
        "events": lines,
    }
    return pdf_of(_templates().get_template("report.html").render(r=context))
