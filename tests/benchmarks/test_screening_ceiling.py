"""The screening benchmark's Bayes ceiling reads the generator's own model: the chances it gives
each way of writing a date of birth are those the generator draws, and on a small data set,
where few people share a name, it tells nearly every listed query apart."""

from __future__ import annotations

import importlib.util
import random
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "screening.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screening_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("born", [date(1970, 3, 5), date(1970, 3, 25), date(1984, 2, 29)])
def test_date_chances_are_those_the_generator_draws(bench: ModuleType, born: date) -> None:
    rng = random.Random(3)
    population = bench.Population(3)
    speller = bench.Speller(rng, population.cantonese)
    person = bench.Person("张", "伟", born, "M", "CN", "", "E1234567", "")
    draws = 20_000
    written = Counter(
        bench.query_row(0, person, speller, rng)[0]["birth_date"] for _ in range(draws)
    )
    chances = {w: bench._birth_chance(w, born.isoformat()) for w in written}
    # the forms drawn are all the forms with a chance, and the chances add up to one
    assert sum(chances.values()) == pytest.approx(1.0)
    for form, n in written.items():
        assert n / draws == pytest.approx(chances[form], abs=0.006), form


def test_a_record_showing_less_spreads_the_chance(bench: ModuleType) -> None:
    exact = bench._birth_chance("1970-03-25", "1970-03-25")
    by_year = bench._birth_chance("1970-03-25", "1970")
    anyone = bench._birth_chance("1970-03-25", "")
    assert exact > by_year > anyone > 0
    assert by_year == pytest.approx((1 - bench.DATE_MISSING) / 365)
    assert bench._birth_chance("1971-03-25", "1970-03-25") > 0  # a year off
    assert bench._birth_chance("1972-03-25", "1970-03-25") == 0
    assert bench._birth_chance("1970-03", "1970") == pytest.approx(
        bench.DATE_PARTIAL / 2 * 31 / 365
    )
    assert bench._birth_chance("", "1970") == bench._birth_chance("", "")


def test_the_ceiling_of_a_small_set_tells_nearly_every_listed_query_apart(
    bench: ModuleType, tmp_path: Path
) -> None:
    data = bench.generate(3000, 600, 11, tmp_path)
    curve = data["bayes_ceiling"]
    assert list(curve) == [f"{t:.2f}" for t in bench.MATCH_THRESHOLDS]
    recalls = [curve[k]["recall"] for k in curve]
    assert recalls == sorted(recalls)  # a lower threshold matches more
    # On 3,000 records few people share a name: nearly every listed query can be told apart.
    assert curve["0.85"]["precision"] >= 0.98
    assert 0.9 <= curve["0.85"]["recall"] < 1.0
