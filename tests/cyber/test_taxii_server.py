"""The TAXII 2.1 server, spoken to by the OASIS client (`taxii2-client`) over HTTP on loopback
against a real `accord serve` process, on SQLite and on PostgreSQL; and its paging and filters
in process."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from sqlalchemy import func, select
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from accord.accounts.service import create_user, issue_token
from accord.audit.models import AuditEntry
from accord.cli.demo import RunningNode, pin, prepare_node, start_node
from accord.core.db import make_engine, session_factory, unit_of_work
from accord.core.permissions import Role
from accord.cyber.taxii import service
from accord.cyber.taxii.models import TaxiiObject
from accord.federation.models import Peer
from tests.conftest import IN_CI, _pg_admin, pg_problem
from tests.helpers import Node

TAXII = "application/taxii+json;version=2.1"
FROM_CN = "from-CN-MOJ"
TO_CN = "to-CN-MOJ"


class Bearer(requests.auth.AuthBase):
    """The node's API token, as the REST API takes it."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def stix_id(kind: str, n: int) -> str:
    return f"{kind}--00000000-0000-4000-8000-{n:012d}"


def indicator(
    n: int, *, modified: str = "2024-05-01T00:00:00.000Z", **extra: Any
) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id("indicator", n),
        "created": "2024-05-01T00:00:00.000Z",
        "modified": modified,
        "pattern": f"[ipv4-addr:value = '198.51.{n // 256 % 256}.{n % 256}']",
        "pattern_type": "stix",
        "valid_from": "2024-05-01T00:00:00Z",
        **extra,
    }


def malware(n: int) -> dict[str, Any]:
    return {
        "type": "malware",
        "spec_version": "2.1",
        "id": stix_id("malware", n),
        "created": "2024-05-01T00:00:00.000Z",
        "modified": "2024-05-01T00:00:00.000Z",
        "name": f"sample {n}",
        "is_family": False,
    }


# The collection from-CN-MOJ as the peer's deliveries leave it, in this order: two batches.
FIRST_BATCH = [indicator(n) for n in range(1, 21)] + [malware(1), malware(2)]
SECOND_BATCH = [
    indicator(1, modified="2024-06-01T00:00:00.000Z"),  # a second version of indicator 1
    indicator(21),
    indicator(1, modified="2024-04-01T00:00:00.000Z", created="2024-04-01T00:00:00.000Z"),
]


@dataclass
class TaxiiNode:
    node: RunningNode
    analyst: str
    officer: str
    url: str
    database_url: str

    def server(self, token: str | None = None) -> Server:
        return Server(f"{self.url}/taxii2/", auth=Bearer(token or self.analyst))

    def root(self) -> ApiRoot:
        return ApiRoot(f"{self.url}/taxii2/cyber/", auth=Bearer(self.analyst))

    def collection(self, alias: str) -> Collection:
        """The collection by its id (taxii2-client checks that the URL holds it)."""
        url = f"{self.url}/taxii2/cyber/collections/{service.collection_id(alias)}/"
        return Collection(url, auth=Bearer(self.analyst))

    def get(self, path: str, **headers: str) -> httpx.Response:
        sent = {"Authorization": f"Bearer {self.analyst}", "Accept": TAXII, **headers}
        return httpx.get(f"{self.url}/taxii2/cyber/{path}", headers=sent, timeout=30)


def _database(kind: str, root: Path, label: str, created: list[str]) -> str:
    if kind == "sqlite":
        return f"sqlite:///{root / (label + '.db')}"
    name = f"accord_test_{uuid.uuid4().hex[:12]}"
    conn: Any = _pg_admin()
    conn.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    created.append(name)
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _seed(url: str) -> str:
    """An analyst with a token, the peer CN-MPS with nothing agreed for cyber, and the two
    batches the peer CN-MOJ delivered to from-CN-MOJ."""
    engine = make_engine(url)
    try:
        factory = session_factory(engine)
        with unit_of_work(factory) as session:
            user = create_user(
                session,
                username="chen",
                display_name="Analyst Chen",
                role=Role.ANALYST,
                unit="central-authority",
                password="correct horse battery",
            )
            token = issue_token(session, name="taxii", user=user)
            closed = session.scalars(select(Peer).where(Peer.name == "CN-MPS")).one()
            closed.agreement = {"cyber": {"send": False, "receive": False}}
        for batch in (FIRST_BATCH, SECOND_BATCH):
            with unit_of_work(factory) as session:
                inbound = service.get_collection(session, FROM_CN)
                service.add_objects(session, collection=inbound, objects=batch, actor="CN-MOJ")
        return token
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def taxii_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TaxiiNode]:
    """US-DOJ as a real `accord serve` process, peered with CN-MOJ (cyber agreed both ways) and
    CN-MPS (nothing agreed), with the peer's deliveries in from-CN-MOJ."""
    if request.param == "postgresql" and (problem := pg_problem()):
        if IN_CI:
            pytest.fail(f"PostgreSQL must be reachable in CI: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    root = tmp_path_factory.mktemp(f"taxii-{request.param}")
    created: list[str] = []
    settings, card, staff = prepare_node(
        root, "US-DOJ", "US", _database(request.param, root, "us", created)
    )
    # two authorities of one country: each sequences its references in a namespace of its own
    for name, namespace in (("CN-MOJ", "CN"), ("CN-MPS", "CNMPS")):
        _, peer_card, _ = prepare_node(
            root, name, "CN", f"sqlite:///{root / (name + '.db')}", namespace=namespace
        )
        pin(settings, peer_card, card.name)
    token = _seed(settings.resolved_database_url)
    node = start_node(settings, card, staff, root)
    try:
        yield TaxiiNode(node, token, staff.officer.token, node.url, settings.resolved_database_url)
    finally:
        node.stop()
        if created:
            conn: Any = _pg_admin()
            for name in created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.close()


def ids_of(envelope: dict[str, Any]) -> list[str]:
    return [obj["id"] for obj in envelope.get("objects", [])]


# -- discovery, API root, collections -----------------------------------------------------------


def test_discovery_names_the_one_api_root(taxii_node: TaxiiNode) -> None:
    server = taxii_node.server()
    assert server.title == "Accord node US-DOJ"
    assert [root.url for root in server.api_roots] == [f"{taxii_node.url}/taxii2/cyber/"]
    assert server.default is not None and server.default.url == server.api_roots[0].url


def test_api_root_speaks_taxii_21_and_states_its_size_limit(taxii_node: TaxiiNode) -> None:
    root = taxii_node.root()
    assert root.versions == [TAXII]
    assert root.max_content_length == 4 * 1024 * 1024


def test_collections_are_one_per_peer_and_direction_with_rights_from_the_agreement(
    taxii_node: TaxiiNode,
) -> None:
    listed = taxii_node.root().collections
    found = {c.alias: (c.can_read, c.can_write) for c in listed}
    assert all(c.id == str(uuid.UUID(c.id)) for c in listed)
    assert found == {
        "to-CN-MOJ": (True, True),
        "from-CN-MOJ": (True, False),
        "to-CN-MPS": (True, False),
        "from-CN-MPS": (False, False),
    }
    single = taxii_node.collection(TO_CN)
    assert single.title == "Shared with CN-MOJ" and single.media_types == [
        "application/stix+json;version=2.1"
    ]


# -- getting objects ----------------------------------------------------------------------------


def test_paging_with_limit_and_next_returns_every_last_version_once_in_order(
    taxii_node: TaxiiNode,
) -> None:
    pages = list(as_pages(taxii_node.collection(FROM_CN).get_objects, per_request=7))
    assert [len(p["objects"]) for p in pages] == [7, 7, 7, 2]
    assert [p["more"] for p in pages] == [True, True, True, False]
    assert "next" not in pages[-1]
    seen = [i for page in pages for i in ids_of(page)]
    # indicator 1's last version came in the second batch, so it is served there, once.
    expected = [o["id"] for o in FIRST_BATCH[1:]] + [
        stix_id("indicator", 1),
        stix_id("indicator", 21),
    ]
    assert seen == expected
    last_of_1 = next(o for p in pages for o in p["objects"] if o["id"] == stix_id("indicator", 1))
    assert last_of_1["modified"] == "2024-06-01T00:00:00.000Z"


def test_every_read_is_audited_with_who_what_and_how_much(taxii_node: TaxiiNode) -> None:
    one = stix_id("indicator", 21)
    reads = [
        (f"collections/{FROM_CN}/objects/?limit=3&match[type]=indicator", "taxii.get_objects"),
        (f"collections/{FROM_CN}/objects/{one}/", "taxii.get_object"),
        (f"collections/{FROM_CN}/objects/{one}/versions/", "taxii.get_versions"),
        (f"collections/{FROM_CN}/manifest/?limit=2", "taxii.get_manifest"),
    ]
    engine = make_engine(taxii_node.database_url)
    try:
        with session_factory(engine)() as session:
            before = session.scalar(select(func.max(AuditEntry.id))) or 0
        for path, _ in reads:
            assert taxii_node.get(path).status_code == 200
        with session_factory(engine)() as session:
            entries = session.scalars(
                select(AuditEntry).where(AuditEntry.id > before).order_by(AuditEntry.id)
            ).all()
    finally:
        engine.dispose()
    found = [(e.actor, e.action, e.subject, e.detail["entries"]) for e in entries]
    assert found == [
        ("chen", "taxii.get_objects", FROM_CN, 3),
        ("chen", "taxii.get_object", f"{FROM_CN}/{one}", 1),
        ("chen", "taxii.get_versions", f"{FROM_CN}/{one}", 1),
        ("chen", "taxii.get_manifest", FROM_CN, 2),
    ]
    assert entries[0].detail["query"] == "limit=3&match[type]=indicator"


def test_pages_carry_the_date_added_of_their_first_and_last_object(taxii_node: TaxiiNode) -> None:
    page = taxii_node.get(f"collections/{FROM_CN}/objects/?limit=3")
    assert page.status_code == 200 and page.headers["content-type"] == TAXII
    manifest = taxii_node.get(f"collections/{FROM_CN}/manifest/?limit=3").json()["objects"]
    assert page.headers["X-TAXII-Date-Added-First"] == manifest[0]["date_added"]
    assert page.headers["X-TAXII-Date-Added-Last"] == manifest[2]["date_added"]
    empty = taxii_node.get(f"collections/{TO_CN}/objects/?match[type]=campaign")
    assert empty.json() == {"more": False, "objects": []}
    assert "X-TAXII-Date-Added-First" not in empty.headers


def test_added_after_returns_only_what_came_later(taxii_node: TaxiiNode) -> None:
    collection = taxii_node.collection(FROM_CN)
    manifest = collection.get_manifest(version="all")["objects"]
    dates = [record["date_added"] for record in manifest]
    assert dates == sorted(set(dates)), "every object of a batch has a date_added of its own"
    first_batch_added = manifest[len(FIRST_BATCH) - 1]["date_added"]
    later = collection.get_objects(added_after=first_batch_added, version="all")
    assert [(o["id"], o["modified"]) for o in later["objects"]] == [
        (o["id"], o["modified"]) for o in SECOND_BATCH
    ]
    assert collection.get_objects(added_after=manifest[-1]["date_added"])["objects"] == []


def test_match_id_and_type_select_objects(taxii_node: TaxiiNode) -> None:
    collection = taxii_node.collection(FROM_CN)
    wanted = [stix_id("indicator", 3), stix_id("malware", 2)]
    assert ids_of(collection.get_objects(id=wanted)) == wanted
    assert ids_of(collection.get_objects(type="malware")) == [stix_id("malware", n) for n in (1, 2)]
    both = collection.get_objects(type=["malware", "indicator"])
    assert len(both["objects"]) == 23
    assert collection.get_objects(type="campaign")["objects"] == []


def test_match_version_last_first_all_and_a_timestamp(taxii_node: TaxiiNode) -> None:
    collection = taxii_node.collection(FROM_CN)
    one = stix_id("indicator", 1)

    def versions_of_1(**match: Any) -> list[str]:
        return [o["modified"] for o in collection.get_objects(id=one, **match)["objects"]]

    assert versions_of_1() == ["2024-06-01T00:00:00.000Z"]
    assert versions_of_1(version="last") == ["2024-06-01T00:00:00.000Z"]
    assert versions_of_1(version="first") == ["2024-04-01T00:00:00.000Z"]
    assert sorted(versions_of_1(version="all")) == [
        "2024-04-01T00:00:00.000Z",
        "2024-05-01T00:00:00.000Z",
        "2024-06-01T00:00:00.000Z",
    ]
    assert versions_of_1(version="2024-05-01T00:00:00Z") == ["2024-05-01T00:00:00.000Z"]
    assert sorted(versions_of_1(version=["first", "last"])) == [
        "2024-04-01T00:00:00.000Z",
        "2024-06-01T00:00:00.000Z",
    ]


def test_match_spec_version(taxii_node: TaxiiNode) -> None:
    collection = taxii_node.collection(FROM_CN)
    assert len(collection.get_objects(spec_version="2.1")["objects"]) == 23
    assert collection.get_objects(spec_version="2.0")["objects"] == []


def test_a_bad_filter_is_a_taxii_error(taxii_node: TaxiiNode) -> None:
    answer = taxii_node.get(f"collections/{FROM_CN}/objects/?added_after=yesterday")
    assert answer.status_code == 400 and answer.headers["content-type"] == TAXII
    assert "added_after" in answer.json()["description"]
    assert taxii_node.get(f"collections/{FROM_CN}/objects/?next=abc").status_code == 400


# -- object by id, versions, manifest -----------------------------------------------------------


def test_an_object_by_id_is_its_last_version_unless_asked(taxii_node: TaxiiNode) -> None:
    collection = taxii_node.collection(FROM_CN)
    one = stix_id("indicator", 1)
    assert [o["modified"] for o in collection.get_object(one)["objects"]] == [
        "2024-06-01T00:00:00.000Z"
    ]
    assert len(collection.get_object(one, version="all")["objects"]) == 3
    with pytest.raises(requests.HTTPError) as missing:
        collection.get_object(stix_id("indicator", 999))
    assert missing.value.response.status_code == 404
    assert "holds no object" in missing.value.response.json()["description"]


def test_versions_of_an_object_in_the_order_they_were_added(taxii_node: TaxiiNode) -> None:
    versions = taxii_node.collection(FROM_CN).object_versions(stix_id("indicator", 1))
    assert versions == {
        "more": False,
        "versions": [
            "2024-05-01T00:00:00.000Z",
            "2024-06-01T00:00:00.000Z",
            "2024-04-01T00:00:00.000Z",
        ],
    }
    paged = taxii_node.collection(FROM_CN).object_versions(stix_id("indicator", 1), limit=2)
    assert paged["more"] is True and len(paged["versions"]) == 2


def test_manifest_describes_each_object_version(taxii_node: TaxiiNode) -> None:
    pages = list(as_pages(taxii_node.collection(FROM_CN).get_manifest, per_request=10))
    records = [r for page in pages for r in page["objects"]]
    assert len(records) == 23
    assert records[0] == {
        "id": stix_id("indicator", 2),
        "date_added": records[0]["date_added"],
        "version": "2024-05-01T00:00:00.000Z",
        "media_type": "application/stix+json;version=2.1",
    }
    assert records[0]["date_added"].endswith("Z")


# -- adding objects -----------------------------------------------------------------------------


def test_add_objects_validates_each_and_reports_every_failure_in_the_status(
    taxii_node: TaxiiNode,
) -> None:
    collection = taxii_node.collection(TO_CN)
    bad_custom = indicator(102, xy="a custom property name of two characters")
    no_pattern = {k: v for k, v in indicator(103).items() if k != "pattern"}
    envelope = {"objects": [indicator(100), bad_custom, indicator(101), no_pattern, "junk"]}
    status = collection.add_objects(envelope)
    assert (status.status, status.total_count) == ("complete", 5)
    assert (status.success_count, status.failure_count, status.pending_count) == (2, 3, 0)
    assert [s["id"] for s in status.successes] == [stix_id("indicator", n) for n in (100, 101)]
    reasons = {f["id"]: f["message"] for f in status.failures}
    custom = reasons[stix_id("indicator", 102)]
    assert "'xy'" in custom and "§11.1" in custom
    assert "pattern" in reasons[stix_id("indicator", 103)]
    assert "not a STIX object" in reasons["(object 4: no id)"]

    again = taxii_node.root().get_status(status.id)
    assert (again.success_count, again.failure_count) == (2, 3)
    assert again.failures == status.failures
    stored = ids_of(collection.get_objects(id=[stix_id("indicator", n) for n in range(100, 104)]))
    assert stored == [stix_id("indicator", 100), stix_id("indicator", 101)]

    repeated = collection.add_objects({"objects": [indicator(100)]})
    assert repeated.success_count == 1
    assert collection.object_versions(stix_id("indicator", 100))["versions"] == [
        "2024-05-01T00:00:00.000Z"
    ]


def test_collections_without_write_refuse_objects(taxii_node: TaxiiNode) -> None:
    for collection_id, reason in (("from-CN-MOJ", "only CN-MOJ"), ("to-CN-MPS", "cyber.send")):
        answer = httpx.post(
            f"{taxii_node.url}/taxii2/cyber/collections/{collection_id}/objects/",
            content=json.dumps({"objects": [indicator(200)]}),
            headers={
                "Authorization": f"Bearer {taxii_node.analyst}",
                "Accept": TAXII,
                "Content-Type": TAXII,
            },
        )
        assert answer.status_code == 403 and reason in answer.json()["description"]
    closed = taxii_node.get("collections/from-CN-MPS/objects/")
    assert closed.status_code == 403 and "cyber.receive" in closed.json()["description"]


def test_unknown_status_is_404(taxii_node: TaxiiNode) -> None:
    assert taxii_node.get(f"status/{uuid.uuid4()}/").status_code == 404


# -- media types and authentication -------------------------------------------------------------


def test_an_accept_header_without_taxii_21_is_406(taxii_node: TaxiiNode) -> None:
    for accept in ("application/json", "application/taxii+json;version=2.0", "text/html"):
        answer = taxii_node.get("collections/", Accept=accept)
        assert answer.status_code == 406, accept
        assert answer.headers["content-type"] == TAXII
        assert answer.json()["http_status"] == "406"
    for accept in ("application/taxii+json", "*/*", f"text/html, {TAXII};q=0.5"):
        assert taxii_node.get("collections/", Accept=accept).status_code == 200, accept


def test_posting_without_the_taxii_content_type_is_415(taxii_node: TaxiiNode) -> None:
    for content_type in ("application/json", "application/stix+json;version=2.1"):
        answer = httpx.post(
            f"{taxii_node.url}/taxii2/cyber/collections/{TO_CN}/objects/",
            content=json.dumps({"objects": [indicator(300)]}),
            headers={
                "Authorization": f"Bearer {taxii_node.analyst}",
                "Accept": TAXII,
                "Content-Type": content_type,
            },
        )
        assert answer.status_code == 415, content_type
        assert answer.json()["title"] == "Unsupported media type"


def test_without_a_token_every_endpoint_is_401(taxii_node: TaxiiNode) -> None:
    for path in ("/taxii2/", "/taxii2/cyber/", "/taxii2/cyber/collections/"):
        answer = httpx.get(taxii_node.url + path, headers={"Accept": TAXII})
        assert answer.status_code == 401 and answer.headers["content-type"] == TAXII
        assert "Bearer" in answer.json()["description"]
    with pytest.raises(requests.HTTPError) as refused:
        Server(f"{taxii_node.url}/taxii2/").refresh()
    assert refused.value.response.status_code == 401


def test_only_analysts_speak_taxii(taxii_node: TaxiiNode) -> None:
    with pytest.raises(requests.HTTPError) as refused:
        taxii_node.server(taxii_node.officer).refresh()
    assert refused.value.response.status_code == 403
    assert "cyber:analyse" in refused.value.response.json()["description"]


def test_an_envelope_over_the_size_limit_is_refused(taxii_node: TaxiiNode) -> None:
    huge = {"objects": [indicator(400, description="x" * (5 * 1024 * 1024))]}
    answer = httpx.post(
        f"{taxii_node.url}/taxii2/cyber/collections/{TO_CN}/objects/",
        content=json.dumps(huge),
        headers={"Authorization": f"Bearer {taxii_node.analyst}", "Content-Type": TAXII},
    )
    assert answer.status_code == 413


# -- in process: versions, paging by key ---------------------------------------------------------


def test_last_and_first_marks_follow_versions_arriving_out_of_order(
    pair: tuple[Node, Node],
) -> None:
    us, _ = pair
    one = stix_id("indicator", 1)
    arrivals = ["2024-05-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z", "2024-07-01T00:00:00.000Z"]
    for modified in arrivals:
        with us.runtime.transaction() as session:
            target = service.get_collection(session, FROM_CN)
            service.add_objects(
                session, collection=target, objects=[indicator(1, modified=modified)], actor="t"
            )
    with us.runtime.reading() as session:
        rows = session.execute(
            select(TaxiiObject.version, TaxiiObject.latest, TaxiiObject.earliest)
            .where(TaxiiObject.object_id == one)
            .order_by(TaxiiObject.version)
        ).all()
    assert [(r.latest, r.earliest) for r in rows] == [(False, True), (False, False), (True, False)]


def test_a_page_starts_after_the_key_of_the_previous_one(pair: tuple[Node, Node]) -> None:
    us, _ = pair
    with us.runtime.transaction() as session:
        target = service.get_collection(session, TO_CN)
        service.add_objects(session, collection=target, objects=FIRST_BATCH, actor="t")
    walked: list[str] = []
    after = 0
    pages = 0
    with us.runtime.reading() as session:
        while True:
            page = service.object_page(
                session,
                collection=service.collection_id(TO_CN),
                filters=service.ObjectFilter(),
                after=after,
                limit=5,
            )
            walked += [json.loads(row.body)["id"] for row in page.rows]
            pages += 1
            if page.next is None:
                break
            after = int(page.next)
    assert walked == [o["id"] for o in FIRST_BATCH] and pages == 5


def test_parse_filter_reads_every_match_parameter() -> None:
    found = service.parse_filter(
        {
            "added_after": "2024-05-01T00:00:00Z",
            "match[id]": "a,b",
            "match[type]": "indicator",
            "match[version]": "first,2024-05-02T00:00:00.000Z",
            "match[spec_version]": "2.1",
        }
    )
    assert found.ids == ("a", "b") and found.types == ("indicator",)
    assert found.versions.first and not found.versions.last and len(found.versions.at) == 1
    assert service.parse_filter({"match[version]": "last,all"}).versions.all
    assert service.parse_limit("100000") == service.MAX_PAGE
    with pytest.raises(Exception, match="limit"):
        service.parse_limit("0")
