#!/usr/bin/env python3
"""Offline verifier of Accord evidence packs (`accord evidence export`): checks every file hash,
the case log's hash chain, every signature, checkpoint and timestamp, and says in plain words
what the pack proves and what it does not.

A third party runs it alone: `python3 verify_pack.py PACK.zip [--tsa-ca CA.pem] [--json]`, with
Python 3.11 or later and two libraries, `cryptography` (Ed25519) and `rfc3161-client` (RFC 3161
tokens). It imports nothing of Accord, on purpose (a test runs it with Accord unimportable): the
pack format is documented in docs/evidence.md, and everything this file needs to know about it
is written out here, so that a court need trust neither node's software, only this file, which it
can read (or replace with its own). Exit status: 0 verified, 1 problems found, 2 not a pack.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import hashlib
import hmac
import json
import sys
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "accord.evidence.pack/1"
MANIFEST = "manifest.json"
EVENTS = "case/events.json"
ENVELOPES = "federation/envelopes.json"
RECEIPTS = "federation/receipts.json"
CHECKPOINTS = "checkpoints/checkpoints.json"
ATTACHMENTS = "attachments/index.json"
KEYS = "keys/nodes.json"

GENESIS = "0" * 64
ACT_PURPOSE = "accord.case.act/1"
CHECKPOINT_PURPOSE = "accord.evidence.checkpoint/1"
COMMIT_KEY = "$commit"
SHA256_OID = "2.16.840.1.101.3.4.2.1"
HASHED_FIELDS = (
    "reference",
    "seq",
    "action",
    "side",
    "actor_node",
    "actor_officer",
    "payload",
    "occurred_at",
    "submission_id",
    "prev_hash",
)
SIGNED_FIELDS = ("acted_at", "signature")
"""Hashed too when an event carries a signed act (logs before acts were signed carry none)."""

MAX_MEMBER_BYTES = 2 * 1024 * 1024 * 1024


class PackUnreadable(Exception):
    """Not an evidence pack this verifier can read: not a zip, no manifest, another format."""


# -- the encodings Accord hashes and signs ---------------------------------------------------
# Written out again here rather than imported from Accord: the verifier must stand alone, and an
# independent copy of the encoding and of the tree means a mistake in Accord's is found, not
# shared.


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 (not \\u escapes), no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_head(entries: Sequence[bytes]) -> bytes:
    """MTH of RFC 9162 §2.1.1 over `entries` (the event hashes as 32 raw bytes, in order):
    leaves SHA-256(0x00 || entry), interior nodes SHA-256(0x01 || left || right), split at the
    largest power of two below n; the empty tree's head is SHA-256 of nothing."""
    level = [hashlib.sha256(b"\x00" + entry).digest() for entry in entries]
    if not level:
        return hashlib.sha256(b"").digest()
    return _subtree(level)


def _subtree(hashes: Sequence[bytes]) -> bytes:
    n = len(hashes)
    if n == 1:
        return hashes[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _subtree(hashes[:k]) + _subtree(hashes[k:])).digest()


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _set_at(document: Any, pointer: str, value: Any) -> None:
    """Put `value` at an RFC 6901 pointer of a JSON document."""
    tokens = [_unescape(t) for t in pointer.split("/")[1:]]
    if not tokens:
        raise KeyError(pointer)
    node = document
    for key in tokens[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = tokens[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def _get_at(document: Any, pointer: str) -> Any:
    node = document
    for token in pointer.split("/")[1:]:
        key = _unescape(token)
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def committed(payload: Mapping[str, Any], commitments: Mapping[str, str]) -> dict[str, Any]:
    """The payload as hashed and signed: each erasable part replaced by {"$commit": digest}."""
    form = copy.deepcopy(dict(payload))
    for pointer, digest in commitments.items():
        _set_at(form, pointer, {COMMIT_KEY: digest})
    return form


def event_hash(reference: str, event: Mapping[str, Any], commitments: Mapping[str, str]) -> str:
    fields: dict[str, Any] = {name: event.get(name) for name in HASHED_FIELDS[1:]}
    fields["reference"] = reference
    if event.get("signature") is not None:
        for name in SIGNED_FIELDS:
            fields[name] = event.get(name)
    fields["payload"] = committed(event["payload"], commitments)
    return sha256_hex(canonical(fields))


def act_document(reference: str, event: Mapping[str, Any], payload: Any) -> dict[str, Any]:
    """What an act's signature covers (the payload in committed form)."""
    return {
        "purpose": ACT_PURPOSE,
        "reference": reference,
        "action": event.get("action"),
        "side": event.get("side"),
        "actor_node": event.get("actor_node"),
        "actor_officer": event.get("actor_officer"),
        "payload": payload,
        "submission_id": event.get("submission_id"),
        "acted_at": event.get("acted_at"),
    }


def _empty(value: Any) -> bool:
    """What an erased value is overwritten with: "", [], {} or null."""
    return value in ("", [], {}, None)


def _moment(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


# -- keys --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeKey:
    fingerprint: str
    signing_key: bytes
    valid_until: datetime | None
    """The end of its rotation's overlap (None: the node's current key)."""
    revoked_at: datetime | None


class KeyBook:
    """Each node's signing keys as the pack's key history gives them."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.keys: dict[str, list[NodeKey]] = {}
        for name, node in (document.get("nodes") or {}).items():
            found = []
            for entry in node.get("keys") or []:
                found.append(
                    NodeKey(
                        fingerprint=str(entry.get("fingerprint")),
                        signing_key=base64.b64decode(str(entry["signing_key"]), validate=True),
                        valid_until=_moment(entry.get("valid_until")),
                        revoked_at=_moment(entry.get("revoked_at")),
                    )
                )
            self.keys[str(name)] = found

    def check(self, node: str, message: bytes, signature: Any, at: Any) -> str | None:
        """Why `signature` is not `node`'s over `message` by a key it held at `at` (its own
        date, as signed), or None when it is."""
        if not isinstance(signature, str):
            return f"no signature of {node}"
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            return f"the signature of {node} is not base64"
        keys = self.keys.get(node)
        if not keys:
            return f"the pack holds no key of {node}"
        moment = _moment(at)
        for key in keys:
            try:
                Ed25519PublicKey.from_public_bytes(key.signing_key).verify(raw, message)
            except (InvalidSignature, ValueError):
                continue
            if key.revoked_at is not None and (moment is None or moment >= key.revoked_at):
                return (
                    f"signed with {node}'s key {key.fingerprint[:16]}…, revoked at "
                    f"{key.revoked_at.isoformat()} after a compromise"
                )
            if key.valid_until is not None and moment is not None and moment > key.valid_until:
                return (
                    f"signed with {node}'s key {key.fingerprint[:16]}… dated {at}, after that "
                    f"key was retired ({key.valid_until.isoformat()})"
                )
            return None
        return f"does not verify by any key of {node} in the pack's key history"


# -- the verification ----------------------------------------------------------------------------


@dataclass
class Problem:
    """One thing that does not hold: its kind (stable, for programs), where, and what."""

    kind: str
    where: str
    what: str


@dataclass
class ErasedPart:
    seq: int
    path: str
    commitment: str | None
    erased_at: str | None
    erasure_seq: int | None


@dataclass
class Verification:
    reference: str | None = None
    problems: list[Problem] = field(default_factory=list)
    proven: list[str] = field(default_factory=list)
    not_proven: list[str] = field(default_factory=list)
    erased: list[ErasedPart] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def kinds(self) -> set[str]:
        return {p.kind for p in self.problems}

    def problem(self, kind: str, where: str, what: str) -> None:
        self.problems.append(Problem(kind, where, what))

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "verified": self.ok,
            "problems": [asdict(p) for p in self.problems],
            "proven": self.proven,
            "not_proven": self.not_proven,
            "erased": [asdict(e) for e in self.erased],
            "counts": self.counts,
        }

    def lines(self) -> list[str]:
        out = [f"Evidence pack of {self.reference or 'an unknown case'}"]
        if self.ok:
            out.append("VERIFIED: every check passed.")
        else:
            out.append(f"NOT VERIFIED: {len(self.problems)} problem(s).")
            out.extend(f"  ✗ [{p.kind}] {p.where}: {p.what}" for p in self.problems)
        out.append("What this pack proves:")
        out.extend(f"  ✓ {line}" for line in self.proven)
        if self.erased:
            out.append("Erased parts (commitments proven in the chain, values gone):")
            out.extend(
                f"  · event {e.seq} {e.path}"
                + (f", erased by event {e.erasure_seq}" if e.erasure_seq else "")
                + (f" at {e.erased_at}" if e.erased_at else "")
                for e in self.erased
            )
        out.append("What it does not prove:")
        out.extend(f"  - {line}" for line in self.not_proven)
        return out


def _load_json(files: Mapping[str, bytes], name: str, result: Verification) -> Any:
    raw = files.get(name)
    if raw is None:
        result.problem("missing-file", name, "the pack lacks this file")
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        result.problem("file-format", name, f"not JSON: {exc}")
        return None


def read_pack(path: Path) -> dict[str, bytes]:
    """Every file of the pack by its name."""
    try:
        with zipfile.ZipFile(path) as archive:
            files: dict[str, bytes] = {}
            for info in archive.infolist():
                if info.is_dir():
                    continue
                if info.file_size > MAX_MEMBER_BYTES:
                    raise PackUnreadable(f"{info.filename} is larger than a pack file may be")
                files[info.filename] = archive.read(info)
            return files
    except (OSError, zipfile.BadZipFile) as exc:
        raise PackUnreadable(f"{path} is not a readable zip archive: {exc}") from None


def verify_pack(path: Path, *, tsa_roots: Sequence[x509.Certificate] = ()) -> Verification:
    """Check the pack at `path`. `tsa_roots`: CA certificates the reader trusts for the
    time-stamping authority; without them the CA the pack carries is used, and the report says
    that this makes the timestamps the nodes' word."""
    return verify_files(read_pack(path), tsa_roots=tsa_roots)


def verify_files(
    files: Mapping[str, bytes], *, tsa_roots: Sequence[x509.Certificate] = ()
) -> Verification:
    result = Verification()
    if MANIFEST not in files:
        raise PackUnreadable("the archive holds no manifest.json: not an Accord evidence pack")
    try:
        manifest = json.loads(files[MANIFEST].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackUnreadable(f"manifest.json is not JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise PackUnreadable(f"manifest.json names format {found!r}; this verifier reads {FORMAT}")
    case = manifest.get("case") or {}
    reference = str(case.get("reference") or "")
    result.reference = reference
    _check_manifest(files, manifest, result)
    try:
        book = KeyBook(_load_json(files, KEYS, result) or {})
    except (KeyError, binascii.Error, ValueError, TypeError) as exc:
        result.problem("keys", KEYS, f"the key history cannot be read: {exc}")
        book = KeyBook({})
    parties = [str(n) for n in manifest.get("nodes") or []]
    for name in parties:
        for key in book.keys.get(name, []):
            if key.valid_until is None:
                result.not_proven.append(
                    f"that {name}'s keys are really {name}'s: compare its fingerprint "
                    f"{key.fingerprint} with the one its operators exchanged out of band"
                )
    events = _load_json(files, EVENTS, result) or []
    hashes = _check_log(reference, case, events, book, result)
    _check_envelopes(files, manifest, parties, book, result)
    _check_checkpoints(files, reference, hashes, events, book, tsa_roots, result)
    _check_attachments(files, events, result)
    result.not_proven.extend(
        [
            "that what the events say is true: only who said it, and in which order",
            "that the exporting node showed every event it holds: only what the "
            "checkpoints cover is tied to both nodes",
        ]
    )
    return result


def _check_manifest(
    files: Mapping[str, bytes], manifest: Mapping[str, Any], result: Verification
) -> None:
    listed: dict[str, Mapping[str, Any]] = {}
    for entry in manifest.get("files") or []:
        listed[str(entry.get("path"))] = entry
    bad = 0
    for name, entry in listed.items():
        content = files.get(name)
        if content is None:
            result.problem("missing-file", name, "the manifest lists it but the pack lacks it")
            bad += 1
            continue
        digest = sha256_hex(content)
        if digest != entry.get("sha256") or len(content) != entry.get("size"):
            result.problem(
                "file-hash",
                name,
                f"its SHA-256 is {digest} ({len(content)} bytes), the manifest says "
                f"{entry.get('sha256')} ({entry.get('size')} bytes): the file was changed",
            )
            bad += 1
    for name in sorted(set(files) - set(listed) - {MANIFEST}):
        result.problem("unlisted-file", name, "in the pack but not in its manifest")
        bad += 1
    if not bad:
        result.proven.append(
            f"the pack's {len(listed)} files are exactly those its manifest lists, "
            "each with the SHA-256 it gives"
        )
    result.not_proven.append(
        "the manifest itself is signed by no one: the signatures inside the files are what "
        "bind the content to the nodes"
    )


def _check_log(
    reference: str,
    case: Mapping[str, Any],
    events: Any,
    book: KeyBook,
    result: Verification,
) -> list[str]:
    """The chain, each event's hash and act signature and parts; returns the event hashes in
    the order the pack gives them."""
    if not isinstance(events, list):
        result.problem("file-format", EVENTS, "not a list of events")
        return []
    hashes: list[str] = []
    previous_hash = GENESIS
    previous_seq = 0
    signers: dict[str, int] = {}
    unsigned: list[int] = []
    attested: list[int] = []
    bad_before = len(result.problems)
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            result.problem("file-format", f"{EVENTS}[{index}]", "not an event object")
            continue
        seq = event.get("seq")
        where = f"event {seq}"
        stated = str(event.get("hash"))
        hashes.append(stated)
        if not isinstance(seq, int):
            result.problem("file-format", f"{EVENTS}[{index}]", "the event has no number")
            continue
        if seq <= previous_seq:
            result.problem(
                "event-reordered",
                where,
                f"comes after event {previous_seq} in the log: events were reordered",
            )
        if event.get("prev_hash") != previous_hash:
            result.problem(
                "event-chain",
                where,
                "its previous-event hash is not the hash of the event before it in the log "
                "(an event before it was changed, removed or reordered)",
            )
        commitments: dict[str, str] = {}
        erased_clear = False
        for part in event.get("parts") or []:
            path = str(part.get("path"))
            commitment = part.get("commitment")
            salt = part.get("salt")
            try:
                value = _get_at(event.get("payload"), path)
            except (KeyError, IndexError, ValueError, TypeError):
                result.problem("part", where, f"names a part at {path} its payload lacks")
                continue
            if commitment is None:  # hashed in clear (format 0.1/0.2), erased since
                erased_clear = True
                result.erased.append(
                    ErasedPart(seq, path, None, part.get("erased_at"), part.get("erasure_seq"))
                )
                continue
            commitments[path] = str(commitment)
            if salt is None:
                if not _empty(value):
                    result.problem(
                        "part", where, f"the part at {path} has no salt left but holds a value"
                    )
                result.erased.append(
                    ErasedPart(
                        seq, path, str(commitment), part.get("erased_at"), part.get("erasure_seq")
                    )
                )
                continue
            try:
                opened = sha256_hex(bytes.fromhex(str(salt)) + canonical(value))
            except (ValueError, TypeError):
                opened = ""
            if not hmac.compare_digest(opened, str(commitment)):
                result.problem(
                    "event-edited",
                    where,
                    f"the value at {path} does not open its commitment: the value was changed",
                )
        if erased_clear:
            attested.append(seq)
        else:
            try:
                computed = event_hash(reference, event, commitments)
            except (KeyError, IndexError, ValueError, TypeError) as exc:
                computed = f"(cannot be computed: {exc})"
            if computed != stated:
                result.problem(
                    "event-edited",
                    where,
                    f"its content does not match its hash ({event.get('action')}): the event "
                    "was changed",
                )
        if event.get("signature") is None:
            unsigned.append(seq)
        else:
            node = str(event.get("actor_node"))
            try:
                document = act_document(
                    reference, event, committed(event.get("payload") or {}, commitments)
                )
                why = book.check(
                    node, canonical(document), event.get("signature"), event.get("acted_at")
                )
            except (KeyError, IndexError, ValueError, TypeError) as exc:
                why = f"the act cannot be rebuilt: {exc}"
            if why is not None:
                result.problem("act-signature", where, f"its act is not {node}'s: {why}")
            else:
                signers[node] = signers.get(node, 0) + 1
        previous_hash = stated
        previous_seq = max(previous_seq, seq)
    count = len(hashes)
    result.counts["events"] = count
    numbers = {e.get("seq") for e in events if isinstance(e, dict)}
    missing = [n for n in range(1, previous_seq + 1) if n not in numbers]
    if missing:
        result.problem(
            "event-removed", f"events {_ranges(missing)}", "missing from the log: removed"
        )
    if case.get("event_count") is not None and case.get("event_count") != count:
        result.problem(
            "event-removed",
            EVENTS,
            f"the log holds {count} events, the manifest says {case.get('event_count')}",
        )
    if hashes and case.get("head_hash") and case.get("head_hash") != hashes[-1]:
        result.problem(
            "event-chain", EVENTS, "the last event's hash is not the head the manifest gives"
        )
    if len(result.problems) == bad_before and hashes:
        result.proven.append(
            f"the case log of {reference} holds events 1 to {count}, each chained to the one "
            f"before it by its SHA-256; its head is {hashes[-1]}"
        )
        by = ", ".join(f"{n} {k}" for n, k in sorted(signers.items()))
        result.proven.append(
            f"each of the {sum(signers.values())} signed acts is signed by the node that took "
            f"it, with a key that node held at the time ({by})"
        )
    if unsigned:
        result.not_proven.append(
            f"who took events {_ranges(unsigned)}: written before acts were signed, they "
            "carry no signature"
        )
    if attested:
        result.not_proven.append(
            f"the content of events {_ranges(attested)}: hashed with personal data in clear "
            "and erased since, their hashes stand as the nodes attested them"
        )
    if result.erased:
        result.proven.append(
            f"{len(result.erased)} personal part(s) were erased after the fact: each one's "
            "commitment is in the chain and every hash and signature still verifies"
        )
        result.not_proven.append(
            "what the erased parts said: their values and salts are gone, by design"
        )
    return hashes


def _ranges(numbers: Sequence[int]) -> str:
    spans: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        spans.append(str(start) if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(spans)


def _check_envelopes(
    files: Mapping[str, bytes],
    manifest: Mapping[str, Any],
    parties: Sequence[str],
    book: KeyBook,
    result: Verification,
) -> None:
    exporter = str(manifest.get("exported_by"))
    envelopes = _load_json(files, ENVELOPES, result) or []
    good = 0
    for index, envelope in enumerate(envelopes):
        where = f"envelope {envelope.get('id') or index}"
        sender = str(envelope.get("from"))
        if sender not in parties or envelope.get("to") != exporter:
            result.problem(
                "envelope-signature",
                where,
                f"from {sender} to {envelope.get('to')}: not from a party of the case to the "
                "node that exported the pack",
            )
            continue
        unsigned = {k: v for k, v in envelope.items() if k != "sig"}
        why = book.check(sender, canonical(unsigned), envelope.get("sig"), envelope.get("sent_at"))
        if why is not None:
            result.problem("envelope-signature", where, f"not {sender}'s: {why}")
        else:
            good += 1
    receipts = _load_json(files, RECEIPTS, result) or []
    good_receipts = 0
    for index, receipt in enumerate(receipts):
        where = f"receipt of envelope {receipt.get('envelope_id') or index}"
        receiver = str(receipt.get("receiver"))
        unsigned = {k: v for k, v in receipt.items() if k != "sig"}
        why = book.check(
            receiver, canonical(unsigned), receipt.get("sig"), receipt.get("received_at")
        )
        if receiver not in parties or why is not None:
            result.problem("receipt-signature", where, f"not {receiver}'s: {why}")
        else:
            good_receipts += 1
    result.counts["envelopes"] = len(envelopes)
    result.counts["receipts"] = len(receipts)
    if good == len(envelopes) and envelopes:
        result.proven.append(
            f"the {good} envelopes {exporter} received on this case were signed by their "
            "senders as kept (their bodies are encrypted to the receiver and not opened here)"
        )
    if good_receipts == len(receipts) and receipts:
        result.proven.append(
            f"the {good_receipts} receipts {exporter} holds were signed by the node that "
            "received each envelope"
        )


def _check_checkpoints(
    files: Mapping[str, bytes],
    reference: str,
    hashes: Sequence[str],
    events: Any,
    book: KeyBook,
    tsa_roots: Sequence[x509.Certificate],
    result: Verification,
) -> None:
    entries = _load_json(files, CHECKPOINTS, result) or []
    result.counts["checkpoints"] = len(entries)
    try:
        entries_raw = [bytes.fromhex(h) for h in hashes]
    except ValueError:
        entries_raw = []
        result.problem("event-chain", EVENTS, "an event hash is not hexadecimal")
    covered = 0
    stamped: list[str] = []
    own_roots = not tsa_roots
    for entry in entries:
        document = entry.get("document") or {}
        size = document.get("tree_size")
        where = f"checkpoint at size {size}"
        problems_before = len(result.problems)
        if document.get("purpose") != CHECKPOINT_PURPOSE:
            result.problem("checkpoint-case", where, "its document is not a checkpoint's")
            continue
        if document.get("reference") != reference:
            result.problem(
                "checkpoint-case",
                where,
                f"is a checkpoint of {document.get('reference')}, not of {reference}",
            )
            continue
        if not isinstance(size, int) or size < 1:
            result.problem("checkpoint-root", where, "covers no events")
            continue
        if size > len(entries_raw):
            result.problem(
                "event-removed",
                where,
                f"covers {size} events but the log holds {len(entries_raw)}: events were removed",
            )
        elif tree_head(entries_raw[:size]).hex() != document.get("root_hash"):
            result.problem(
                "checkpoint-root",
                where,
                f"the tree head of the log's first {size} events is not the one signed: an "
                "event was changed, removed or reordered",
            )
        elif hashes[size - 1] != document.get("head_hash"):
            result.problem("checkpoint-root", where, f"event {size}'s hash is not the head signed")
        signed = canonical(document)
        maker = str(document.get("made_by"))
        why = book.check(maker, signed, entry.get("signature"), document.get("made_at"))
        if why is not None:
            result.problem("checkpoint-signature", where, f"not signed by {maker}: {why}")
        peer = entry.get("peer")
        if entry.get("peer_signature") is None:
            result.not_proven.append(
                f"that {peer} agreed to the {where}: it holds no signature of {peer}"
            )
        else:
            why = book.check(
                str(peer), signed, entry.get("peer_signature"), document.get("made_at")
            )
            if why is not None:
                result.problem("checkpoint-signature", where, f"not countersigned by {peer}: {why}")
        token_name = entry.get("timestamp_token")
        if token_name is None:
            result.not_proven.append(f"when the {where} existed: it carries no timestamp")
        else:
            token = files.get(str(token_name))
            if token is None:
                result.problem("timestamp", where, f"its token {token_name} is not in the pack")
            else:
                roots = list(tsa_roots) or _pack_roots(files, entry)
                said = _check_token(token, signed, roots, _pack_certificate(files, entry))
                if isinstance(said, str):
                    result.problem("timestamp", where, said)
                elif said is None:
                    result.not_proven.append(
                        f"when the {where} existed: its token stamps it, but there is no CA "
                        "certificate to check the token's signer against (give --tsa-ca)"
                    )
                else:
                    stamped.append(f"size {size} by {said[1]} at {said[0]}")
        if len(result.problems) == problems_before:
            covered = max(covered, size)
    if covered:
        result.proven.append(
            f"both nodes' signatures tie events 1 to {covered} to the checkpoints, whose tree "
            "heads (RFC 9162) this pack's log reproduces exactly"
        )
    if stamped:
        result.proven.append(
            "the time-stamping authority stamped the checkpoints: "
            + "; ".join(stamped)
            + ": each existed no later than its stamp"
        )
        if own_roots:
            result.not_proven.append(
                "that the time-stamping authority is one you trust: its CA certificate came "
                "with the pack (the exporting node's word); run again with --tsa-ca and the "
                "CA certificate you trust"
            )
    if len(hashes) > covered:
        first = covered + 1
        result.not_proven.append(
            f"that the other node holds events {first} to {len(hashes)}: no checkpoint covers "
            "them, only each act's own signature vouches for it"
        )


def _pack_roots(files: Mapping[str, bytes], entry: Mapping[str, Any]) -> list[x509.Certificate]:
    name = entry.get("tsa_ca")
    if not name or str(name) not in files:
        return []
    try:
        return list(x509.load_pem_x509_certificates(files[str(name)]))
    except ValueError:
        return []


def _pack_certificate(
    files: Mapping[str, bytes], entry: Mapping[str, Any]
) -> x509.Certificate | None:
    name = entry.get("tsa_certificate")
    if not name or str(name) not in files:
        return None
    try:
        return x509.load_pem_x509_certificate(files[str(name)])
    except ValueError:
        return None


def _check_token(
    token: bytes,
    message: bytes,
    roots: Sequence[x509.Certificate],
    certificate: x509.Certificate | None,
) -> tuple[str, str] | str | None:
    """(time, TSA) that a granted RFC 3161 token over SHA-256(`message`) says, signed by a TSA
    chaining to `roots`; or why it is not one; None when it stamps `message` but there is no
    CA to check its signer against."""
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response
    from rfc3161_client.tsp import PKIStatus

    try:
        parsed = decode_timestamp_response(token)
    except ValueError as exc:
        return f"its token is not an RFC 3161 response: {exc}"
    if parsed.status != PKIStatus.GRANTED:
        return f"its token is not a granted stamp (status {parsed.status})"
    info = parsed.tst_info
    if info.message_imprint.hash_algorithm != x509.ObjectIdentifier(SHA256_OID):
        return "its token stamps a digest other than SHA-256"
    if info.message_imprint.message != hashlib.sha256(message).digest():
        return "its token stamps another document (a token of another checkpoint)"
    if not roots:
        return None
    builder = VerifierBuilder(roots=list(roots))
    if certificate is not None:
        builder = builder.tsa_certificate(certificate)
    try:
        builder.build().verify(parsed, hashlib.sha256(message).digest())
    except VerificationError as exc:
        return f"its token does not verify: {exc}"
    signer = certificate.subject.rfc4514_string() if certificate is not None else "the TSA"
    return info.gen_time.astimezone(UTC).isoformat(), signer


def _check_attachments(files: Mapping[str, bytes], events: Any, result: Verification) -> None:
    index = _load_json(files, ATTACHMENTS, result) or []
    by_seq = (
        {e.get("seq"): e for e in events if isinstance(e, dict)} if isinstance(events, list) else {}
    )
    included = hashed = 0
    for entry in index:
        sha = str(entry.get("sha256"))
        where = f"attachment {sha[:16]}…"
        event = by_seq.get(entry.get("seq"))
        payload = (event or {}).get("payload") or {}
        if not isinstance(payload, dict) or payload.get("sha256") != sha:
            result.problem(
                "attachment",
                where,
                f"the index says event {entry.get('seq')} names it, but that event does not",
            )
            continue
        name = entry.get("file")
        if name is None:
            hashed += 1
            continue
        content = files.get(str(name))
        if content is None:
            result.problem("attachment", where, f"{name} is not in the pack")
            continue
        digest = sha256_hex(content)
        if digest != sha:
            result.problem(
                "attachment",
                where,
                f"{name} holds content whose SHA-256 is {digest}, not the one event "
                f"{entry.get('seq')} names: the file was replaced",
            )
            continue
        included += 1
    result.counts["attachments"] = included
    result.counts["attachments_hash_only"] = hashed
    if included:
        result.proven.append(
            f"the {included} attached files in the pack are byte for byte those the log names "
            "by SHA-256"
        )
    if hashed:
        result.not_proven.append(
            f"the content of {hashed} attachment(s) given by hash only (by choice or by their "
            "handling code): the log proves which file it was, the pack does not hold it"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify an Accord evidence pack offline.")
    parser.add_argument("pack", type=Path)
    parser.add_argument(
        "--tsa-ca",
        type=Path,
        help="PEM file of the CA certificates you trust for the time-stamping authority",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    roots: list[x509.Certificate] = []
    if args.tsa_ca is not None:
        try:
            roots = list(x509.load_pem_x509_certificates(args.tsa_ca.read_bytes()))
        except (OSError, ValueError) as exc:
            print(
                f"--tsa-ca {args.tsa_ca}: no PEM certificate could be read ({exc})", file=sys.stderr
            )
            return 2
    try:
        result = verify_pack(args.pack, tsa_roots=roots)
    except PackUnreadable as exc:
        print(f"{args.pack}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(result.lines()))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
