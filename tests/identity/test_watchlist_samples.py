"""The published sanctions-style watchlist and arrivals (../shared/samples/watchlists/) screened
as an officer would: every arrival's expected outcome written out by hand from reading the two
files, before the code was made to meet it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from accord.identity.screening import screen_files
from tests.helpers import published_samples

SAMPLES = published_samples("watchlists")
WATCHLIST = SAMPLES / "sanctions-style-watchlist.csv"
ARRIVALS = SAMPLES / "arrivals.csv"

# Read from the files, row by row. The watchlist holds seven persons: SDN-10001 with its two
# alias rows (-AKA1 CHANG Wei, -AKA2 CHEUNG Wai) is one person; SDN-10002 carries its aliases
# inside its name.
#   "match": the evidence names the person (a document, or the name with a full date of birth)
#   "review": the right person must come first, but the evidence is thin (a common name and a
#             year, or a listed alias with a vague date and another nationality): a reviewer
#             decides, so either decision is acceptable, as long as it is this person.
EXPECTED: dict[str, tuple[str | None, str]] = {
    # Wei ZHANG, 1970-05-12, CN, passport E12345678: the listed passport "E12345678 (China)"
    "Q01": ("SDN-10001", "match"),
    # Chang Wei (Wade-Giles of Zhang Wei, and the -AKA1 row), same full date, CHN = China
    "Q02": ("SDN-10001", "match"),
    # Cheung Wai (Cantonese, the -AKA2 row), 1970 only, no nationality: name and year
    "Q03": ("SDN-10001", "review"),
    # Hsiao-ming Li: the a.k.a. "LI, Hsiao-ming" of SDN-10002; 1970 is within "circa 1970";
    # but TW against the listed CN
    "Q04": ("SDN-10002", "review"),
    # LEE Siu Ming: the a.k.a. "LEE, Siu Ming" of SDN-10002; 1971 within circa 1970; HK, not CN
    "Q05": ("SDN-10002", "review"),
    # Chen Mei-ling, F, 1965-08-01, TW: CHEN Meiling 陳美玲, 1965, F, Taiwan
    "Q06": ("SDN-10003", "match"),
    # Ou-yang Hsiu (Wade-Giles of Ouyang Xiu), 1969 within "1968 to 1970", CN = CHN
    "Q07": ("SDN-10004", "match"),
    # 王芳, passport E87654321 = "PRC Passport No. E87654321", 1975-03-15 within 1975-03
    "Q08": ("SDN-10005", "match"),
    # Ming Huang, 1980-01-01, CN: HUANG Ming 黄明, 01 Jan 1980, China. HWANG Ming (Korea,
    # South, 1980) is another person and must not be the match.
    "Q09": ("SDN-10006", "match"),
    # John Smith, US: nobody on the list
    "Q10": (None, "none"),
    # "ZHANG, Wei" (family name, comma, given name), same date and nationality as SDN-10001
    "Q11": ("SDN-10001", "match"),
}


@pytest.fixture(scope="module", params=[1, 2], ids=["one process", "two processes"])
def screened(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples") / "candidates.csv"
    summary = screen_files(WATCHLIST, ARRIVALS, out, workers=request.param)
    assert summary.watchlist_records == 7  # nine rows, seven persons
    assert summary.problems == 0, summary.problems_path and summary.problems_path.read_text()
    return out


def test_every_arrival_meets_its_expected_outcome(screened: Path) -> None:
    with screened.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with ARRIVALS.open(encoding="utf-8") as f:
        arrivals = [row["id"] for row in csv.DictReader(f)]
    assert sorted(arrivals) == sorted(EXPECTED)  # every arrival has its expectation
    for query_id, (person, outcome) in EXPECTED.items():
        found = [r for r in rows if r["query_id"] == query_id]
        if person is None:
            assert found == [], query_id
            continue
        assert found, f"{query_id}: no candidate"
        best = found[0]
        assert best["candidate_id"] == person, (query_id, best)
        if outcome == "match":
            assert best["decision"] == "match", (query_id, best)
        # each person once: alias rows are not candidates of their own
        assert len({r["candidate_id"] for r in found}) == len(found)
        assert not any("-AKA" in r["candidate_id"] for r in found)
    hwang = [r for r in rows if r["query_id"] == "Q09" and r["candidate_id"] == "SDN-10007"]
    assert all(r["decision"] != "match" for r in hwang)


def test_the_annotated_passport_is_evidence_for_the_listed_person(screened: Path) -> None:
    with screened.open(encoding="utf-8") as f:
        q01 = next(r for r in csv.DictReader(f) if r["query_id"] == "Q01")
    assert "passport: E12345678 = E12345678 (CN)" in q01["explanation"]
    assert q01["score"] == "1.0000"
