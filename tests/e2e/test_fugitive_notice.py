"""A notice imported over the API reaches the peer, whose due list shows the review it owes."""

from __future__ import annotations

import pytest

from accord.cli.demo import case_on, wait_for
from accord.cli.scenarios import INTERPOL_NOTICE
from tests.e2e.conftest import Started
from tests.e2e.test_two_nodes import cli

pytestmark = pytest.mark.e2e


def test_notice_import_shows_up_as_due_on_the_requested_side(
    nodes: tuple[Started, Started],
) -> None:
    us, cn = nodes
    agreed = cli(
        cn.settings, "peer", "agreement", us.card.name, "--deadline", "fugitive.review.urgent=3d"
    )
    assert agreed.returncode == 0, agreed.stderr
    assert '"review"' in agreed.stdout and "259200" in agreed.stdout

    opened = cn.node.post(
        "/api/v1/cases/notices", {"peer": us.card.name, "notice": INTERPOL_NOTICE}
    )
    reference = opened["reference"]
    assert reference.startswith("FUG-CN-") and opened["state"] == "notice"
    assert "CHEN XIAOMING" in opened["title"]
    received = wait_for(lambda: case_on(us.node, reference), "the notice to reach US")
    assert received["details"]["date_of_birth"] == "1978-04-09"
    (review,) = received["deadlines"]
    assert review["name"] == "review" and review["owner"] == "requested"

    due = us.node.get("/api/v1/cases?due_within_hours=96")
    assert [c["reference"] for c in due["items"]] == [reference]
    assert us.node.get("/api/v1/cases?due_within_hours=48")["total"] == 0  # due in 3 days

    listed = cli(us.settings, "case", "list", "--due", "--within", "4d")
    assert listed.returncode == 0 and reference in listed.stdout
    assert "review" in listed.stdout and "US-DOJ" in listed.stdout  # US owes the review

    bad = cn.node.client.post(
        f"{cn.node.url}/api/v1/cases/notices",
        json={"peer": us.card.name, "notice": {"name": "X"}},
    )
    assert bad.status_code == 422 and "arrest_warrants" in bad.json()["message"]
