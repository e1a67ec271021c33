"""benchmarks/people_independent.py writes what it says: list-style values every record reads
without a problem, spellings from the maintained libraries, and a truth file of listed queries."""

from __future__ import annotations

import csv
import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

from accord.identity.records import person_from_row

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))  # it imports screening.py beside it
    spec = importlib.util.spec_from_file_location(
        "people_independent", BENCHMARKS / "people_independent.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_list_reads_without_a_problem(bench: ModuleType, tmp_path: Path) -> None:
    data = bench.generate(300, 60, 5, tmp_path)
    assert set(data["list_date_forms"]) == {
        "circa", "day month-name year", "iso date", "range of years", "year only",
    }  # fmt: skip
    with (tmp_path / "watchlist.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        record, problems = person_from_row(row, 1)
        assert record is not None and problems == [], (row, problems)
        assert all(c.isascii() for c in record.name), row  # no character left unspelt
    assert any(r["aliases"] for r in rows) and any("(" in r["passport_number"] for r in rows)
    with (tmp_path / "truth.csv").open(encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    assert len(truth) == data["queries_on_list"] and all(t["watchlist_id"] for t in truth)


def test_spellings_come_from_each_system(bench: ModuleType) -> None:
    rng = random.Random(1)
    assert bench.syllables("陈", "pinyin", rng) == ["chen"]
    # taibun's reading of the character (literary Tîn; the surname's colloquial Tân is what
    # Singapore passports print: a limit of the source, noted in the benchmark's figures)
    assert bench.syllables("陈", "hokkien", rng) == ["Tin"]
    assert bench.syllables("张", "hk", rng)[0].capitalize() in {"Cheung", "Jeung", "Chang"}
    assert "".join(bench.syllables("欣怡", "tw", rng)).replace("'", "") == "hsini"
    edited = bench.one_edit("ZHANG Xiaoming", random.Random(2))
    assert edited != "ZHANG Xiaoming" and edited.startswith("ZHANG ")
