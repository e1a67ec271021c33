"""Evidence packs across a key rotation (two nodes, SQLite and PostgreSQL): acts signed before
the rotation verify by the old key in the pack's key history, those after by the new one, and a
key history that does not hold (key gone, retired too early, revoked) is named."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from accord.cli.scenarios import MLA_STEPS
from accord.core.canonical import canonical_bytes
from accord.evidence.pack import export_pack
from accord.evidence.verify_pack import EVENTS, KEYS, MANIFEST, verify_files
from accord.federation.announce import rotate_keys
from tests.federation.test_key_rotation import exchange, reloaded
from tests.helpers import Node, act, submitted_mla


def _files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _with_keys(files: dict[str, bytes], edit: Any) -> dict[str, bytes]:
    """The pack with its key history edited and the manifest rewritten to match."""
    changed = dict(files)
    keys = json.loads(changed[KEYS])
    edit(keys["nodes"]["US-DOJ"]["keys"])
    changed[KEYS] = canonical_bytes(keys)
    manifest = json.loads(changed[MANIFEST])
    manifest["files"] = [
        {"path": n, "sha256": hashlib.sha256(c).hexdigest(), "size": len(c)}
        for n, c in sorted(changed.items())
        if n != MANIFEST
    ]
    changed[MANIFEST] = canonical_bytes(manifest)
    return changed


def test_acts_verify_by_the_key_their_node_held_at_the_time(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    with us.runtime.transaction() as session:
        rotate_keys(session, node=us.identity, overlap=timedelta(days=2))
    us = reloaded(us)
    try:
        # Delivery's own claim, which sends the announcement alone first, and real receipts.
        act(us, reference, "note", {"text": "signed with the new key"})
        act(cn, reference, MLA_STEPS[2].action, MLA_STEPS[2].payload)  # US receipts it
        exchange(us, cn)
        out = tmp_path / "rotated.zip"
        with cn.runtime.transaction() as session:
            export_pack(
                session,
                node=cn.identity,
                settings=cn.runtime.settings,
                reference=reference,
                out=out,
            )
    finally:
        us.runtime.close()
    files = _files(out)
    history = json.loads(files[KEYS])["nodes"]["US-DOJ"]["keys"]
    assert [k["current"] for k in history] == [True, False]  # the new key, then the old one
    result = verify_files(files)
    assert result.ok, result.problems
    assert result.counts["receipts"] > 0  # CN's receipts of what it sent, signed by US
    events = json.loads(files[EVENTS])
    first_act = events[0]["acted_at"]
    new_key_note = next(e["seq"] for e in events if e["action"] == "note")

    def drop_old(keys: list[dict[str, Any]]) -> None:
        del keys[1]

    def retire_early(keys: list[dict[str, Any]]) -> None:
        keys[1]["valid_until"] = "2000-01-01T00:00:00.000000Z"

    def revoke(keys: list[dict[str, Any]]) -> None:
        keys[1]["revoked_at"] = first_act

    for edit, said in (
        (drop_old, "does not verify by any key of US-DOJ"),
        (retire_early, "after that key was retired"),
        (revoke, "revoked at"),
    ):
        problems = verify_files(_with_keys(files, edit)).problems
        acts = [p for p in problems if p.kind == "act-signature"]
        assert acts and all(said in p.what for p in acts), (edit.__name__, problems)
        # Only what the old key signed: the acts before the rotation, none after it.
        assert "event 1" in {p.where for p in acts}
        assert f"event {new_key_note}" not in {p.where for p in acts}
