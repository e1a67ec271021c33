"""Evidence packs of real case logs (two nodes, SQLite and PostgreSQL, a real TSA): a pack
verifies, with the standalone verifier run where Accord cannot be imported; erased parts
verify as erased; and each kind of tampering is detected and named."""

from __future__ import annotations

import ast
import copy
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from accord.attachments import service as attachments
from accord.audit.models import AuditEntry
from accord.cases.enums import HandlingCode
from accord.cli import app
from accord.cli.scenarios import REMOVAL
from accord.core.canonical import canonical_bytes
from accord.evidence import verify_pack
from accord.evidence.checkpoints import make_checkpoint, stamp_due
from accord.evidence.pack import AttachmentMode, export_pack
from accord.evidence.verify_pack import (
    ATTACHMENTS,
    CHECKPOINTS,
    ENVELOPES,
    EVENTS,
    KEYS,
    MANIFEST,
    verify_files,
)
from tests.evidence.conftest import OpenSSLTSA
from tests.helpers import Node, act, open_from, open_mla, pump

VERIFIER = Path(verify_pack.__file__)
OPENED = "OK: the file the standalone verifier was given"
H1_CONTENT = b"bank statement, H1: may go into the pack"
H2_CONTENT = b"informant details, H2: by hash only"


@dataclass
class Exported:
    path: Path
    reference: str
    other: Path
    """The pack of another case, for the checkpoint that does not belong."""
    ca_file: Path


def _attach(node: Node, reference: str, content: bytes, code: HandlingCode) -> str:
    with node.runtime.transaction() as session:
        attachments.attach(
            session,
            node=node.identity,
            reference=reference,
            content=io.BytesIO(content),
            filename="statement.pdf",
            media_type="application/pdf",
            handling_code=code,
            description="statement",
            officer="tester",
        )
    return hashlib.sha256(content).hexdigest()


def _checkpoint_and_stamp(us: Node, cn: Node, reference: str, tsa: OpenSSLTSA) -> None:
    with us.runtime.transaction() as session:
        make_checkpoint(session, node=us.identity, reference=reference, reason="test")
    pump(us, cn)  # the peer countersigns
    with us.runtime.transaction() as session:
        stamp_due(session, tsa=tsa.authority(), settings=us.runtime.settings)


def _export(node: Node, reference: str, out: Path, tsa: OpenSSLTSA, **options: Any) -> Path:
    settings = node.runtime.settings.model_copy(
        update={"tsa_certificate_file": tsa.certificate_file, "tsa_ca_file": tsa.ca_file}
    )
    with node.runtime.transaction() as session:
        export_pack(
            session, node=node.identity, settings=settings, reference=reference, out=out, **options
        )
    return out


def _case_with_history(us: Node, cn: Node, tsa: OpenSSLTSA, tmp_path: Path) -> Exported:
    """A removal case opened by US: acts of both sides, two attachments (H1, H2), a
    checkpoint countersigned and stamped, one person erased, a second checkpoint; and an MLA
    case with its own checkpoint."""
    reference = open_from(us, cn.name, REMOVAL.opening)
    pump(us, cn)
    for step in REMOVAL.steps[:3]:
        act(cn if step.side == "requested" else us, reference, step.action, step.payload)
        pump(us, cn)
    _attach(us, reference, H1_CONTENT, HandlingCode.H1)
    _attach(us, reference, H2_CONTENT, HandlingCode.H2)
    pump(us, cn)
    _checkpoint_and_stamp(us, cn, reference, tsa)
    act(us, reference, "erase", {"rule": "court order 9", "targets": [
        {"seq": 1, "path": "/details/persons/0"}
    ]})  # fmt: skip
    pump(us, cn)
    _checkpoint_and_stamp(us, cn, reference, tsa)
    other = open_mla(us, cn.name)
    act(us, other, "send_to_review", {"note": "Draft complete"})
    _checkpoint_and_stamp(us, cn, other, tsa)
    return Exported(
        path=_export(us, reference, tmp_path / "pack.zip", tsa),
        reference=reference,
        other=_export(us, other, tmp_path / "other.zip", tsa),
        ca_file=tsa.ca_file,
    )


@pytest.fixture
def exported(pair: tuple[Node, Node], tsa: OpenSSLTSA, tmp_path: Path) -> Exported:
    us, cn = pair
    return _case_with_history(us, cn, tsa, tmp_path)


def _files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _json(files: dict[str, bytes], name: str) -> Any:
    return json.loads(files[name])


def _rewrite(files: dict[str, bytes], name: str, value: Any) -> None:
    files[name] = canonical_bytes(value)


def _fix_manifest(files: dict[str, bytes]) -> None:
    """What a careful forger does after an edit: list every file again with its new hash."""
    manifest = _json(files, MANIFEST)
    manifest["files"] = [
        {"path": name, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
        for name, content in sorted(files.items())
        if name != MANIFEST
    ]
    _rewrite(files, MANIFEST, manifest)


def test_a_pack_holds_the_case_and_verifies(exported: Exported) -> None:
    files = _files(exported.path)
    manifest = _json(files, MANIFEST)
    assert manifest["format"] == "accord.evidence.pack/1"
    assert manifest["case"]["reference"] == exported.reference
    assert manifest["nodes"] == ["US-DOJ", "CN-MOJ"]
    assert {f["path"] for f in manifest["files"]} == set(files) - {MANIFEST}
    events = _json(files, EVENTS)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert {e["actor_node"] for e in events} == {"US-DOJ", "CN-MOJ"}
    assert _json(files, ENVELOPES) and all(e["sig"] for e in _json(files, ENVELOPES))
    assert all(r["receiver"] == "CN-MOJ" for r in _json(files, "federation/receipts.json"))
    checkpoints = _json(files, CHECKPOINTS)
    # Ours, and any the case service made at state changes on its own.
    assert len(checkpoints) >= 2 and all(c["peer_signature"] for c in checkpoints)
    assert all(files[c["timestamp_token"]] for c in checkpoints)
    keys = _json(files, KEYS)["nodes"]
    assert set(keys) == {"US-DOJ", "CN-MOJ"} and all(k["keys"][0]["current"] for k in keys.values())
    # The H1 file travels; the H2 one is given by hash only, forced by its handling code.
    index = {a["sha256"]: a for a in _json(files, ATTACHMENTS)}
    h1, h2 = hashlib.sha256(H1_CONTENT).hexdigest(), hashlib.sha256(H2_CONTENT).hexdigest()
    assert files[index[h1]["file"]] == H1_CONTENT
    assert index[h2]["file"] is None and "handling code" in index[h2]["why"]
    assert f"attachments/{h2}" not in files

    result = verify_pack.verify_pack(exported.path, tsa_roots=_roots(exported.ca_file))
    assert result.ok, result.problems
    text = "\n".join(result.lines())
    assert "VERIFIED" in text and "existed no later than" in text
    assert "content of 1 attachment(s) given by hash only" in text
    assert result.counts["checkpoints"] == len(checkpoints) and result.counts["attachments"] == 1

    # The report is one PDF in both languages.
    pdf = pypdfium2.PdfDocument(files["report.pdf"])
    first = pdf[0].get_textpage().get_text_range()
    assert "Chain of custody" in first and "保管链" in first and exported.reference in first


def _roots(ca_file: Path) -> list[Any]:
    from cryptography import x509

    return list(x509.load_pem_x509_certificates(ca_file.read_bytes()))


def test_erased_parts_verify_as_erased_not_broken(exported: Exported) -> None:
    files = _files(exported.path)
    events = _json(files, EVENTS)
    opening = events[0]
    erased = [p for p in opening["parts"] if p["salt"] is None]
    kept = [p for p in opening["parts"] if p["salt"] is not None]
    assert erased and kept and all(p["path"].startswith("/details/persons/0/") for p in erased)
    assert opening["payload"]["details"]["persons"][0]["name"] == ""
    assert "LIN Hui" not in files[EVENTS].decode()
    result = verify_files(files, tsa_roots=_roots(exported.ca_file))
    assert result.ok, result.problems
    assert {(e.seq, e.path) for e in result.erased} == {(1, p["path"]) for p in erased}
    erasure = next(e["seq"] for e in events if e["action"] == "erase")
    assert {e.erasure_seq for e in result.erased} == {erasure}
    text = "\n".join(result.lines())
    assert "Erased parts (commitments proven in the chain, values gone)" in text
    assert "what the erased parts said" in text
    # An erased part that still holds a value is not "erased": it is named.
    opening["payload"]["details"]["persons"][0]["name"] = "LIN Hui"
    _rewrite(files, EVENTS, events)
    _fix_manifest(files)
    assert "part" in verify_files(files).kinds()


def _edit_event(files: dict[str, bytes]) -> None:
    events = _json(files, EVENTS)
    events[2]["payload"]["note"] = "never said"
    _rewrite(files, EVENTS, events)


def _edit_event_and_its_hash(files: dict[str, bytes]) -> None:
    """A forger who recomputes the edited event's hash: the chain and its act still tell."""
    events = _json(files, EVENTS)
    reference = _json(files, MANIFEST)["case"]["reference"]
    event = events[1]
    event["actor_officer"] = "someone else"
    commitments = {p["path"]: p["commitment"] for p in event["parts"] if p["commitment"]}
    event["hash"] = verify_pack.event_hash(reference, event, commitments)
    _rewrite(files, EVENTS, events)


def _remove_event(files: dict[str, bytes]) -> None:
    events = _json(files, EVENTS)
    del events[3]
    _rewrite(files, EVENTS, events)


def _reorder_events(files: dict[str, bytes]) -> None:
    events = _json(files, EVENTS)
    events[2], events[3] = events[3], events[2]
    _rewrite(files, EVENTS, events)


def _swap_act_signatures(files: dict[str, bytes]) -> None:
    events = _json(files, EVENTS)
    events[1]["signature"], events[2]["signature"] = events[2]["signature"], events[1]["signature"]
    _rewrite(files, EVENTS, events)


def _swap_envelope_signatures(files: dict[str, bytes]) -> None:
    envelopes = _json(files, ENVELOPES)
    envelopes[0]["sig"], envelopes[1]["sig"] = envelopes[1]["sig"], envelopes[0]["sig"]
    _rewrite(files, ENVELOPES, envelopes)


def _readdress_envelope(files: dict[str, bytes]) -> None:
    envelopes = _json(files, ENVELOPES)
    envelopes[0]["to"] = "XX-MOJ"
    _rewrite(files, ENVELOPES, envelopes)


def _swap_checkpoint_signatures(files: dict[str, bytes]) -> None:
    checkpoints = _json(files, CHECKPOINTS)
    first = checkpoints[0]
    first["signature"], first["peer_signature"] = first["peer_signature"], first["signature"]
    _rewrite(files, CHECKPOINTS, checkpoints)


def _swap_timestamp_tokens(files: dict[str, bytes]) -> None:
    first, second = (c["timestamp_token"] for c in _json(files, CHECKPOINTS)[:2])
    files[first], files[second] = files[second], files[first]


def _replace_attachment(files: dict[str, bytes]) -> None:
    name = next(a["file"] for a in _json(files, ATTACHMENTS) if a["file"])
    files[name] = b"another statement altogether"


def _drop_last_events(files: dict[str, bytes]) -> None:
    """Events removed from the end, the manifest's count and head adjusted to match."""
    events = _json(files, EVENTS)[:-2]
    manifest = _json(files, MANIFEST)
    manifest["case"]["event_count"], manifest["case"]["head_hash"] = len(events), events[-1]["hash"]
    _rewrite(files, EVENTS, events)
    _rewrite(files, MANIFEST, manifest)


TAMPERING: list[tuple[str, Callable[[dict[str, bytes]], None], set[str]]] = [
    ("an event edited", _edit_event, {"event-edited", "act-signature"}),
    (
        "an event edited, its hash recomputed",
        _edit_event_and_its_hash,
        {"event-chain", "act-signature", "checkpoint-root"},
    ),
    ("an event removed", _remove_event, {"event-removed", "event-chain", "checkpoint-root"}),
    ("events removed from the end", _drop_last_events, {"event-removed"}),
    ("events reordered", _reorder_events, {"event-reordered", "event-chain", "checkpoint-root"}),
    ("act signatures swapped", _swap_act_signatures, {"act-signature", "event-edited"}),
    ("envelope signatures swapped", _swap_envelope_signatures, {"envelope-signature"}),
    ("an envelope readdressed", _readdress_envelope, {"envelope-signature"}),
    ("checkpoint signatures swapped", _swap_checkpoint_signatures, {"checkpoint-signature"}),
    ("timestamp tokens swapped", _swap_timestamp_tokens, {"timestamp"}),
    ("an attachment replaced", _replace_attachment, {"attachment"}),
]


def test_each_kind_of_tampering_is_detected_and_named(exported: Exported) -> None:
    pristine = _files(exported.path)
    roots = _roots(exported.ca_file)
    assert verify_files(pristine, tsa_roots=roots).ok
    for name, tamper, expected in TAMPERING:
        files = copy.deepcopy(pristine)
        tamper(files)
        # Without the manifest fixed, the changed file is named by its hash...
        kinds = verify_files(files, tsa_roots=roots).kinds()
        assert "file-hash" in kinds or name == "events removed from the end", (name, kinds)
        # ...and with it fixed, as a careful forger would, the deeper check names the change.
        _fix_manifest(files)
        result = verify_files(files, tsa_roots=roots)
        assert not result.ok, name
        assert expected <= result.kinds(), (name, result.kinds(), result.problems)
        assert "file-hash" not in result.kinds(), name
        assert "NOT VERIFIED" in "\n".join(result.lines())


def test_a_checkpoint_of_another_case_is_named(exported: Exported) -> None:
    files = _files(exported.path)
    foreign = _files(exported.other)
    entry = _json(foreign, CHECKPOINTS)[0]
    checkpoints = _json(files, CHECKPOINTS)
    entry["timestamp_token"] = "checkpoints/foreign.tsr"
    files["checkpoints/foreign.tsr"] = foreign[_json(foreign, CHECKPOINTS)[0]["timestamp_token"]]
    _rewrite(files, CHECKPOINTS, [*checkpoints, entry])
    _fix_manifest(files)
    result = verify_files(files, tsa_roots=_roots(exported.ca_file))
    assert result.kinds() == {"checkpoint-case"}, result.problems
    assert result.problems[0].what == (
        f"is a checkpoint of {_json(foreign, MANIFEST)['case']['reference']}, "
        f"not of {exported.reference}"
    )


def test_a_manifest_hash_wrong_and_a_file_slipped_in_are_named(exported: Exported) -> None:
    files = _files(exported.path)
    manifest = _json(files, MANIFEST)
    manifest["files"][0]["sha256"] = "0" * 64
    _rewrite(files, MANIFEST, manifest)
    files["extra.txt"] = b"not from the node"
    result = verify_files(files, tsa_roots=_roots(exported.ca_file))
    assert result.kinds() == {"file-hash", "unlisted-file"}, result.problems
    assert result.problems[0].where == manifest["files"][0]["path"]


def test_the_standalone_verifier_runs_without_accord(exported: Exported, tmp_path: Path) -> None:
    """Run as a third party would: the copy inside the pack, Python in isolated mode, and
    `accord` made unimportable, so that any import of it fails the run."""
    files = _files(exported.path)
    assert files["verify_pack.py"] == VERIFIER.read_bytes()
    script = tmp_path / "elsewhere" / "verify_pack.py"
    script.parent.mkdir()
    script.write_bytes(files["verify_pack.py"])
    guard = (
        "import runpy, sys; sys.modules['accord'] = None; "
        "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-I", "-c", guard, str(script), *arguments],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    good = run(str(exported.path), "--tsa-ca", str(exported.ca_file))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "VERIFIED: every check passed." in good.stdout
    assert "existed no later than" in good.stdout
    without_ca = run(str(exported.path))
    assert without_ca.returncode == 0 and "--tsa-ca" in without_ca.stdout
    tampered = dict(files)
    _edit_event(tampered)
    bad_path = tmp_path / "tampered.zip"
    with zipfile.ZipFile(bad_path, "w") as archive:
        for name, content in tampered.items():
            archive.writestr(name, content)
    bad = run(str(bad_path), "--json")
    assert bad.returncode == 1, bad.stderr
    assert "event-edited" in {p["kind"] for p in json.loads(bad.stdout)["problems"]}
    not_a_pack = tmp_path / "n.zip"
    not_a_pack.write_bytes(b"not a zip")
    unreadable = run(str(not_a_pack))
    assert unreadable.returncode == 2 and "not a readable zip archive" in unreadable.stderr


def test_the_verifier_imports_only_the_standard_library_and_two_packages() -> None:
    allowed = set(sys.stdlib_module_names) | {"cryptography", "rfc3161_client", "__future__"}
    tree = ast.parse(VERIFIER.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative import"
            imported.add((node.module or "").split(".")[0])
    assert imported and imported <= allowed, imported - allowed


def test_attachments_by_hash_only_when_asked(
    pair: tuple[Node, Node], tsa: OpenSSLTSA, tmp_path: Path
) -> None:
    us, cn = pair
    reference = open_mla(us, cn.name)
    sha = _attach(us, reference, H1_CONTENT, HandlingCode.H1)
    out = _export(us, reference, tmp_path / "h.zip", tsa, attachments=AttachmentMode.HASHES)
    files = _files(out)
    assert [(a["sha256"], a["file"]) for a in _json(files, ATTACHMENTS)] == [(sha, None)]
    result = verify_files(files)
    assert result.ok, result.problems
    # No checkpoint yet: the report says what that leaves unproven.
    assert any("no checkpoint covers" in line for line in result.not_proven)


def test_the_export_and_verify_commands(
    pair: tuple[Node, Node], tsa: OpenSSLTSA, tmp_path: Path
) -> None:
    us, cn = pair
    reference = open_mla(us, cn.name)
    _checkpoint_and_stamp(us, cn, reference, tsa)
    settings = us.runtime.settings
    base = ["--data", str(settings.data_dir), "--database-url", settings.database_url or ""]
    out = tmp_path / "cli.zip"
    exported = CliRunner().invoke(app, [*base, "evidence", "export", reference, "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert f"{out}: 1 events, 1 checkpoints" in exported.output
    checked = CliRunner().invoke(app, ["evidence", "verify", str(out)])
    assert checked.exit_code == 0, checked.output
    assert "VERIFIED" in checked.output
    wrong = CliRunner().invoke(
        app, [*base, "evidence", "export", reference, "--attachments", "some"]
    )
    assert wrong.exit_code == 2 and "'some' is not one of 'full'" in wrong.output
    with us.runtime.reading() as session:
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "evidence.export")
        ).one()
        assert audited.subject == reference
        assert audited.detail["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
