"""A file attached on one node arrives, verified by hash, on the other; H2 export is refused."""

from __future__ import annotations

import hashlib
import os

import pytest

from accord.cli.demo import wait_for
from tests.e2e.conftest import Started
from tests.e2e.test_two_nodes import submitted_case

pytestmark = pytest.mark.e2e


def test_attachment_travels_and_both_sides_show_its_hash(nodes: tuple[Started, Started]) -> None:
    us, cn = nodes
    reference = submitted_case(us, cn)
    content = os.urandom(200_000)
    sha = hashlib.sha256(content).hexdigest()
    uploaded = us.node.client.post(
        f"{us.node.url}/api/v1/cases/{reference}/attachments",
        files={"file": ("statement.pdf", content, "application/pdf")},
        data={"handling_code": "H2", "description": "informant statement"},
    )
    assert uploaded.status_code == 201, uploaded.text
    listed = wait_for(
        lambda: [
            a for a in cn.node.get(f"/api/v1/cases/{reference}/attachments") if a["available"]
        ],
        "the file to arrive on CN",
    )
    assert listed[0]["sha256"] == sha and listed[0]["handling_code"] == "H2"
    assert us.node.get(f"/api/v1/cases/{reference}/attachments")[0]["sha256"] == sha
    download = cn.node.client.get(f"{cn.node.url}/api/v1/cases/{reference}/attachments/{sha}")
    assert download.status_code == 200 and hashlib.sha256(download.content).hexdigest() == sha

    refused = cn.node.client.get(f"{cn.node.url}/api/v1/cases/{reference}/export")
    assert refused.status_code == 403 and "H2" in refused.json()["message"]
