"""TAXII 2.1 conformance, section by section, against a real `accord serve` process on SQLite and
on PostgreSQL, spoken to by the OASIS client `taxii2-client` wherever it can say what is tested
(raw HTTP only for what the client does not expose: headers, wrong methods, bad media types).
Each test cites the section of TAXII 2.1 (OASIS Standard, 10 June 2021) it checks.

The node US-DOJ is peered with CN-MOJ (cyber agreed, handling code H2 by default), CN-MPS
(nothing agreed) and CN-CERT (agreed up to H3). Objects go in through Add Objects."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from sqlalchemy import select
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from accord.accounts.service import create_user, issue_token
from accord.cli.demo import RunningNode, pin, prepare_node, start_node
from accord.core.db import make_engine, session_factory, unit_of_work
from accord.core.permissions import Role
from accord.cyber.stix import TLP2_MARKINGS, TlpLevel
from accord.cyber.taxii.service import collection_id
from accord.federation.models import Peer
from tests.conftest import IN_CI, _pg_admin, pg_problem
from tests.cyber.test_taxii_server import Bearer, _database, indicator, malware, stix_id
from tests.helpers import published_samples

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
SAMPLES = published_samples("stix")
TO_CN = collection_id("to-CN-MOJ")
TO_CERT = collection_id("to-CN-CERT")
ERROR_FIELDS = {"title", "description", "http_status"}


@dataclass
class Node:
    node: RunningNode
    token: str
    officer: str
    url: str

    @property
    def taxii(self) -> str:
        return f"{self.url}/taxii2/"

    def root(self) -> ApiRoot:
        return ApiRoot(f"{self.taxii}cyber/", auth=Bearer(self.token))

    def collection(self, ident: str = TO_CN) -> Collection:
        return Collection(f"{self.taxii}cyber/collections/{ident}/", auth=Bearer(self.token))

    def http(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": TAXII}
        headers.update(kwargs.pop("headers", {}))
        return httpx.request(method, self.taxii + path, headers=headers, timeout=30, **kwargs)


def _seed(url: str) -> str:
    engine = make_engine(url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            user = create_user(
                session,
                username="li",
                display_name="Analyst Li",
                role=Role.ANALYST,
                unit="central-authority",
                password="correct horse battery",
            )
            token = issue_token(session, name="conformance", user=user)
            for name, agreement in (
                ("CN-MPS", {"cyber": {"send": False, "receive": False}}),
                ("CN-CERT", {"cyber": {"handling_code": "H3"}}),
            ):
                session.scalars(select(Peer).where(Peer.name == name)).one().agreement = agreement
        return token
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    if request.param == "postgresql" and (problem := pg_problem()):
        if IN_CI:
            pytest.fail(f"PostgreSQL must be reachable in CI: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    root = tmp_path_factory.mktemp(f"conformance-{request.param}")
    created: list[str] = []
    settings, card, staff = prepare_node(
        root, "US-DOJ", "US", _database(request.param, root, "us", created)
    )
    for name, namespace in (("CN-MOJ", "CN"), ("CN-MPS", "CNMPS"), ("CN-CERT", "CNCERT")):
        _, peer_card, _ = prepare_node(
            root, name, "CN", f"sqlite:///{root / (name + '.db')}", namespace=namespace
        )
        pin(settings, peer_card, card.name)
    token = _seed(settings.resolved_database_url)
    running = start_node(settings, card, staff, root)
    try:
        served = Node(running, token, staff.officer.token, running.url)
        status = served.collection().add_objects({"objects": BASE})
        assert status.success_count == len(BASE), status.failures
        yield served
    finally:
        running.stop()
        if created:
            conn: Any = _pg_admin()
            for name in created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.close()


# What to-CN-MOJ holds before any test adds to it: ten indicators, two malware, and two more
# versions of indicator 1 (one newer, one older than the first).
BASE = [indicator(n) for n in range(1, 11)] + [
    malware(1),
    malware(2),
    indicator(1, modified="2024-06-01T00:00:00.000Z"),
    indicator(1, modified="2024-04-01T00:00:00.000Z", created="2024-04-01T00:00:00.000Z"),
]


def ids_of(envelope: dict[str, Any]) -> list[str]:
    return [obj["id"] for obj in envelope.get("objects", [])]


def assert_taxii_error(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == TAXII
    body: dict[str, Any] = answer.json()
    assert set(body) >= ERROR_FIELDS and body["http_status"] == str(status)
    assert body["description"]
    return body


# -- §4 server information ---------------------------------------------------------------------


def test_server_discovery_names_the_default_and_every_api_root(node: Node) -> None:
    """§4.1 Server Discovery, §4.1.1 discovery resource: title, default, api_roots."""
    server = Server(node.taxii, auth=Bearer(node.token))
    assert server.title == "Accord node US-DOJ"
    assert [r.url for r in server.api_roots] == [f"{node.taxii}cyber/"]
    assert server.default is not None and server.default.url == f"{node.taxii}cyber/"


def test_api_root_information_states_versions_and_the_size_limit(node: Node) -> None:
    """§4.2 Get API Root Information, §4.2.1 api-root resource: versions, max_content_length."""
    root = node.root()
    root.refresh_information()
    assert root.title and root.versions == [TAXII]
    assert root.max_content_length == 4 * 1024 * 1024


def test_status_of_an_add_can_be_read_again(node: Node) -> None:
    """§4.3 Get Status, §4.3.1 status resource: id, status, counts, successes, failures."""
    status = node.collection().add_objects({"objects": [indicator(500), {"type": "x"}]})
    again = node.root().get_status(status.id)
    assert (again.status, again.total_count, again.success_count) == ("complete", 2, 1)
    assert (again.failure_count, again.pending_count) == (1, 0)
    assert [s["id"] for s in again.successes] == [stix_id("indicator", 500)]
    assert again.failures == status.failures and again.failures[0]["message"]
    assert_taxii_error(node.http("GET", f"cyber/status/{uuid.uuid4()}/"), 404)


# -- §5.1, §5.2 collections ----------------------------------------------------------------------


def test_collections_have_uuid_identifiers_titles_and_aliases(node: Node) -> None:
    """§5.1 Get Collections, §5.2.1 collection resource: `id` is an identifier (UUID-based),
    title required, alias optional, can_read, can_write, media_types."""
    listed = {c.alias: c for c in node.root().collections}
    assert set(listed) == {
        f"{direction}-{peer}"
        for peer in ("CN-MOJ", "CN-MPS", "CN-CERT")
        for direction in ("to", "from")
    }
    for alias, collection in listed.items():
        assert str(uuid.UUID(collection.id)) == collection.id == collection_id(alias)
        assert collection.title and collection.media_types == [STIX]
    assert (listed["to-CN-MOJ"].can_read, listed["to-CN-MOJ"].can_write) == (True, True)
    assert (listed["from-CN-MPS"].can_read, listed["from-CN-MPS"].can_write) == (False, False)


def test_a_collection_by_id_and_by_its_former_path(node: Node) -> None:
    """§5.2 Get A Collection: by its id; the alias, which earlier nodes served as the id,
    still answers, with the same resource."""
    by_id = node.collection()
    by_id.refresh()
    assert (by_id.id, by_id.alias, by_id.title) == (TO_CN, "to-CN-MOJ", "Shared with CN-MOJ")
    former = node.http("GET", "cyber/collections/to-CN-MOJ/")
    assert former.status_code == 200 and former.json()["id"] == TO_CN
    assert_taxii_error(node.http("GET", f"cyber/collections/{uuid.uuid4()}/"), 404)


# -- §5.3, §5.4, §5.6, §5.8 reading ---------------------------------------------------------------


def test_manifest_records_and_strictly_increasing_date_added(node: Node) -> None:
    """§5.3 Get Object Manifests, §5.3.1 manifest-record: id, date_added, version,
    media_type; every version of one add has a date_added of its own (§3.4)."""
    records = node.collection().get_manifest(version="all")["objects"]
    assert set(records[0]) == {"id", "date_added", "version", "media_type"}
    assert records[0]["media_type"] == STIX
    dates = [r["date_added"] for r in records]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)


def test_get_objects_is_an_envelope_of_last_versions_in_order(node: Node) -> None:
    """§5.4 Get Objects, §3.7 envelope: more and objects, last versions by default."""
    envelope = node.collection().get_objects(match={"type": ["indicator", "malware"]}, limit=100)
    assert envelope["more"] is False
    one = next(o for o in envelope["objects"] if o["id"] == stix_id("indicator", 1))
    assert one["modified"] == "2024-06-01T00:00:00.000Z"


def test_get_an_object_is_its_last_version_unless_asked(node: Node) -> None:
    """§5.6 Get An Object: the last version; match[version] chooses others; 404 if absent."""
    collection = node.collection()
    one = stix_id("indicator", 1)
    assert [o["modified"] for o in collection.get_object(one)["objects"]] == [
        "2024-06-01T00:00:00.000Z"
    ]
    assert len(collection.get_object(one, version="all")["objects"]) == 3
    with pytest.raises(requests.HTTPError) as missing:
        collection.get_object(stix_id("indicator", 9999))
    assert missing.value.response.status_code == 404
    assert missing.value.response.headers["content-type"] == TAXII


def test_object_versions_in_the_order_added(node: Node) -> None:
    """§5.8 Get Object Versions: every version, in the order added, pageable by limit."""
    versions = node.collection().object_versions(stix_id("indicator", 1))
    assert versions["versions"] == [
        "2024-05-01T00:00:00.000Z",
        "2024-06-01T00:00:00.000Z",
        "2024-04-01T00:00:00.000Z",
    ]
    assert node.collection().object_versions(stix_id("indicator", 1), limit=1)["more"] is True


# -- §3.5 filters --------------------------------------------------------------------------------


def test_match_id_and_type(node: Node) -> None:
    """§3.5.1 match[id], match[type]: comma-separated values, any of them."""
    collection = node.collection()
    wanted = [stix_id("indicator", 3), stix_id("malware", 2)]
    assert ids_of(collection.get_objects(id=wanted)) == wanted
    assert ids_of(collection.get_objects(type="malware")) == [stix_id("malware", n) for n in (1, 2)]
    assert collection.get_objects(type="campaign")["objects"] == []


def test_match_version_first_last_all_and_a_timestamp(node: Node) -> None:
    """§3.5.1 match[version]: last (default), first, all, or STIX timestamps, combined."""
    collection = node.collection()
    one = stix_id("indicator", 1)

    def versions(**match: Any) -> list[str]:
        return sorted(o["modified"] for o in collection.get_objects(id=one, **match)["objects"])

    assert versions(version="first") == ["2024-04-01T00:00:00.000Z"]
    assert versions(version="last") == ["2024-06-01T00:00:00.000Z"]
    assert len(versions(version="all")) == 3
    assert versions(version="2024-05-01T00:00:00.000Z") == ["2024-05-01T00:00:00.000Z"]
    assert versions(version=["first", "last"]) == [
        "2024-04-01T00:00:00.000Z",
        "2024-06-01T00:00:00.000Z",
    ]


def test_match_spec_version(node: Node) -> None:
    """§3.5.1 match[spec_version]: objects of the given STIX versions."""
    collection = node.collection()
    assert len(collection.get_objects(spec_version="2.1", type="malware")["objects"]) == 2
    assert collection.get_objects(spec_version="2.0")["objects"] == []


def test_added_after_is_strictly_after(node: Node) -> None:
    """§3.5 added_after: only objects added after the timestamp, the one at it excluded."""
    collection = node.collection()
    records = collection.get_manifest(version="all", type=["indicator", "malware"])["objects"]
    later = collection.get_manifest(version="all", added_after=records[4]["date_added"])
    assert [r["date_added"] for r in later["objects"]][: len(records) - 5] == [
        r["date_added"] for r in records[5:]
    ]


# -- §3.4 paging ---------------------------------------------------------------------------------


def test_limit_and_next_walk_every_object_once(node: Node) -> None:
    """§3.4 pagination: limit, more and next; every object once, in order."""
    pages = list(as_pages(node.collection().get_objects, per_request=4, version="all"))
    assert all(p["more"] for p in pages[:-1]) and not pages[-1]["more"]
    assert all(len(p["objects"]) == 4 for p in pages[:-1])
    seen = [(o["id"], o.get("modified")) for p in pages for o in p["objects"]]
    assert len(seen) == len(set(seen))
    assert set(seen) >= {(o["id"], o["modified"]) for o in BASE}


def test_date_added_headers_bound_each_page(node: Node) -> None:
    """§3.4: X-TAXII-Date-Added-First and -Last are the date_added of the page's first and
    last object; an empty page has neither."""
    page = node.http("GET", f"cyber/collections/{TO_CN}/objects/?limit=3&match[version]=all")
    manifest = node.http("GET", f"cyber/collections/{TO_CN}/manifest/?limit=3&match[version]=all")
    records = manifest.json()["objects"]
    assert page.headers["X-TAXII-Date-Added-First"] == records[0]["date_added"]
    assert page.headers["X-TAXII-Date-Added-Last"] == records[2]["date_added"]
    empty = node.http("GET", f"cyber/collections/{TO_CN}/objects/?match[type]=campaign")
    assert empty.json() == {"more": False, "objects": []}
    assert "X-TAXII-Date-Added-First" not in empty.headers


def test_polling_by_added_after_while_a_producer_adds_receives_every_object_once(
    node: Node,
) -> None:
    """§3.4, §3.5 added_after: a consumer that polls with added_after = the last
    X-TAXII-Date-Added-Last it received, while a producer adds in batches at the same time,
    receives every object exactly once (the issue's consumer received 137 of 268)."""
    produced = [indicator(10_000 + n) for n in range(300)]
    done = threading.Event()
    failures: list[Any] = []

    def produce() -> None:
        producer = node.collection()
        try:
            for start in range(0, len(produced), 20):
                status = producer.add_objects({"objects": produced[start : start + 20]})
                failures.extend(status.failures)
        finally:
            done.set()

    consumer = node.collection()
    last_seen: list[str] = []
    consumer._conn.session.hooks["response"].append(
        lambda response, *args, **kwargs: last_seen.append(
            response.headers.get("X-TAXII-Date-Added-Last", "")
        )
    )
    start_after = consumer.get_manifest(version="all")["objects"][-1]["date_added"]
    received: list[str] = []
    added_after = start_after
    thread = threading.Thread(target=produce)
    thread.start()
    try:
        while True:
            finished = done.is_set()  # one more poll after the producer's last add
            envelope = consumer.get_objects(added_after=added_after, limit=7, version="all")
            received += ids_of(envelope)
            added_after = last_seen[-1] or added_after
            if finished and not envelope.get("more"):
                break
    finally:
        thread.join()
    assert failures == []
    assert sorted(received) == sorted(o["id"] for o in produced)
    assert len(received) == len(set(received)) == 300


# -- §5.5 adding ---------------------------------------------------------------------------------


def test_add_objects_answers_a_status_listing_every_object(node: Node) -> None:
    """§5.5 Add Objects: 202 with a status resource; each object a success or a failure with
    its reason, none dropped."""
    bad_name = indicator(600, **{"x": "a custom property name of one character"})
    no_pattern = {k: v for k, v in indicator(601).items() if k != "pattern"}
    answer = node.http(
        "POST",
        f"cyber/collections/{TO_CN}/objects/",
        content=json.dumps({"objects": [indicator(602), bad_name, no_pattern, 7]}),
        headers={"Content-Type": TAXII},
    )
    assert answer.status_code == 202 and answer.headers["content-type"] == TAXII
    status = answer.json()
    assert (status["status"], status["total_count"], status["success_count"]) == ("complete", 4, 1)
    reasons = [f["message"] for f in status["failures"]]
    assert "§11.1" in reasons[0] and "pattern" in reasons[1] and "not a STIX object" in reasons[2]


def test_a_collection_without_can_write_refuses_with_403(node: Node) -> None:
    """§5.5: adding to a collection whose can_write is false is 403, a TAXII error."""
    for alias in ("from-CN-MOJ", "to-CN-MPS"):
        answer = node.http(
            "POST",
            f"cyber/collections/{collection_id(alias)}/objects/",
            content=json.dumps({"objects": [indicator(700)]}),
            headers={"Content-Type": TAXII},
        )
        assert_taxii_error(answer, 403)
    assert_taxii_error(
        node.http("GET", f"cyber/collections/{collection_id('from-CN-MPS')}/objects/"), 403
    )


def test_red_objects_are_refused_where_the_agreement_is_h2_and_kept_where_it_is_h3(
    node: Node,
) -> None:
    """§5.5 with Accord's handling rule: TLP:RED needs H3; CN-MOJ's collections carry H2."""
    red = indicator(800, object_marking_refs=[TLP2_MARKINGS[TlpLevel.RED].id])
    refused = node.collection().add_objects({"objects": [red]})
    assert refused.failure_count == 1 and "need handling code H3" in refused.failures[0]["message"]
    assert node.collection().get_objects(id=red["id"])["objects"] == []
    kept = node.collection(TO_CERT).add_objects({"objects": [red]})
    assert kept.success_count == 1
    assert node.collection(TO_CERT).get_objects(id=red["id"])["objects"] == [red]


def _sample_objects(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["objects"] if data.get("type") == "bundle" else [data]


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_every_published_sample_goes_in_and_out_with_no_semantic_difference(
    node: Node, sample: Path
) -> None:
    """§5.5 then §5.4, with the published STIX 2.1 samples (OASIS examples, ATT&CK for ICS with
    its x_mitre_* properties and x-mitre-* objects): every object accepted, and served back
    as the same JSON value (markings up to TLP:RED, hence CN-CERT's H3 collection)."""
    objects = _sample_objects(sample)
    collection = node.collection(TO_CERT)
    status = collection.add_objects({"objects": objects})
    assert status.failures == [] and status.success_count == len(objects)
    served: dict[tuple[str, Any], Any] = {}
    ids = sorted({o["id"] for o in objects})
    for start in range(0, len(ids), 50):
        for envelope in as_pages(
            collection.get_objects, per_request=200, id=ids[start : start + 50], version="all"
        ):
            for obj in envelope.get("objects", []):
                served[(obj["id"], obj.get("modified", obj.get("created")))] = obj
    for obj in objects:
        assert served[(obj["id"], obj.get("modified", obj.get("created")))] == obj


# -- media types ---------------------------------------------------------------------------------


def test_responses_are_in_the_taxii_media_type_and_other_accepts_are_406(node: Node) -> None:
    """§3.1 endpoints (the Accept header) and §1.6.8 media types: every answer is
    application/taxii+json;version=2.1; an Accept that does not admit it is 406 (a TAXII error)."""
    assert node.http("GET", "cyber/").headers["content-type"] == TAXII
    for accept in ("application/json", "application/taxii+json;version=2.0", "text/html"):
        assert_taxii_error(node.http("GET", "cyber/collections/", headers={"Accept": accept}), 406)
    for accept in ("application/taxii+json", "*/*", f"text/html, {TAXII};q=0.5"):
        answer = node.http("GET", "cyber/collections/", headers={"Accept": accept})
        assert answer.status_code == 200, accept


def test_posting_in_another_content_type_is_415(node: Node) -> None:
    """§1.6.8, §5.5: Add Objects takes only application/taxii+json;version=2.1."""
    for content_type in ("application/json", STIX):
        answer = node.http(
            "POST",
            f"cyber/collections/{TO_CN}/objects/",
            content=json.dumps({"objects": [indicator(900)]}),
            headers={"Content-Type": content_type},
        )
        assert_taxii_error(answer, 415)


# -- §3.6 errors ---------------------------------------------------------------------------------


def test_an_unknown_path_is_a_taxii_404(node: Node) -> None:
    """§3.6, §3.6.1 error message: an unknown path under /taxii2/ is 404 in the TAXII media type."""
    for path in ("nothing-here/", "cyber/collections/x/y/z/", "cyber/statuses/"):
        assert_taxii_error(node.http("GET", path), 404)
    no_slash = node.http("GET", "cyber/collections")
    assert no_slash.status_code == 308
    assert no_slash.headers["location"] == f"{node.taxii}cyber/collections/"


def test_a_wrong_method_is_a_taxii_405_with_allow(node: Node) -> None:
    """§3.6: DELETE (§5.7 is not offered), PUT and POST where only GET is served: 405."""
    for method, path in (
        ("DELETE", f"cyber/collections/{TO_CN}/objects/{stix_id('indicator', 1)}/"),
        ("PUT", f"cyber/collections/{TO_CN}/"),
        ("POST", ""),
    ):
        answer = node.http(method, path)
        assert_taxii_error(answer, 405)
        assert "GET" in answer.headers["allow"]


def test_a_body_over_max_content_length_is_a_taxii_413(node: Node) -> None:
    """§3.6, §4.2.1 max_content_length: a larger request is 413, before it is read."""
    huge = {"objects": [indicator(1000, description="x" * (5 * 1024 * 1024))]}
    answer = node.http(
        "POST",
        f"cyber/collections/{TO_CN}/objects/",
        content=json.dumps(huge),
        headers={"Content-Type": TAXII},
    )
    assert "max_content_length" in assert_taxii_error(answer, 413)["description"]


def test_a_malformed_request_is_a_taxii_400(node: Node) -> None:
    """§3.6: a filter or body that cannot be read is 400, naming what is wrong."""
    bad = node.http("GET", f"cyber/collections/{TO_CN}/objects/?added_after=yesterday")
    assert "added_after" in assert_taxii_error(bad, 400)["description"]
    assert_taxii_error(node.http("GET", f"cyber/collections/{TO_CN}/objects/?limit=0"), 400)
    not_json = node.http(
        "POST",
        f"cyber/collections/{TO_CN}/objects/",
        content=b"{",
        headers={"Content-Type": TAXII},
    )
    assert "not JSON" in assert_taxii_error(not_json, 400)["description"]


def test_without_a_token_401_and_with_another_role_403(node: Node) -> None:
    """§3.6: no credentials 401 (with WWW-Authenticate), an officer who is not an analyst
    403; both TAXII errors."""
    anonymous = httpx.get(f"{node.taxii}cyber/collections/", headers={"Accept": TAXII})
    assert_taxii_error(anonymous, 401)
    assert "Bearer" in anonymous.headers["www-authenticate"]
    officer = node.http("GET", "cyber/", headers={"Authorization": f"Bearer {node.officer}"})
    assert "cyber:analyse" in assert_taxii_error(officer, 403)["description"]
