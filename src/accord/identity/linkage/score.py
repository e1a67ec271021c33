"""Fellegi–Sunter scoring: each feature level weighs log2(m/u) bits, names and nationalities with
u taken from their frequency in the watchlist, and candidates turned into calibrated 0–1 scores.

m is the chance of the level when the two records are the same person, u when they are not. The
m values below are set from how often each kind of variation occurs in watchlist data, not
estimated from the data being screened; u values come from the watchlist where that matters
(term frequencies) and from the size of the value space otherwise.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from accord.identity.linkage.compare import (
    Feature,
    Level,
    Levels,
    NameMatcher,
    Profile,
    compare,
    compare_birth,
    compare_native,
)

MAX_BITS = 60.0


@dataclass(frozen=True)
class Parameters:
    """m and u of each level; a `None` u is taken from the watchlist's frequencies."""

    m: dict[Feature, dict[Level, float]] = field(
        default_factory=lambda: {
            Feature.NAME: {
                Level.EXACT: 0.86,
                Level.REORDERED: 0.06,
                Level.SIMILAR: 0.04,
                Level.SURNAME_ONLY: 0.03,
                Level.DIFFERENT: 0.01,
            },
            Feature.NATIVE: {Level.EXACT: 0.97, Level.HOMOPHONE: 0.03},
            Feature.BIRTH_DATE: {
                Level.EXACT: 0.90,
                Level.YEAR_MONTH: 0.95,
                Level.YEAR: 0.95,
                Level.SWAPPED: 0.03,
                Level.NEAR: 0.03,
                Level.NEAR_YEAR: 0.03,
                Level.WITHIN: 0.90,
                Level.DIFFERENT: 0.04,
            },
            Feature.SEX: {Level.EXACT: 0.98, Level.DIFFERENT: 0.02},
            Feature.NATIONALITY: {Level.EXACT: 0.95, Level.DIFFERENT: 0.05},
            Feature.RESIDENT_ID: {Level.EXACT: 0.99, Level.DIFFERENT: 0.01},
            Feature.PASSPORT: {Level.EXACT: 0.90, Level.DIFFERENT: 0.10},
        }
    )
    u: dict[Feature, dict[Level, float | None]] = field(
        default_factory=lambda: {
            Feature.NAME: {
                Level.EXACT: None,
                Level.REORDERED: None,
                Level.SIMILAR: None,
                Level.SURNAME_ONLY: None,
                Level.DIFFERENT: 0.98,
            },
            # Among different people whose names agree in pinyin, about half share the characters
            # too: most common names have one usual writing.
            Feature.NATIVE: {Level.EXACT: 0.5, Level.HOMOPHONE: 0.5},
            Feature.BIRTH_DATE: {
                Level.EXACT: 1 / 22_000,  # about sixty years of birth dates
                Level.YEAR_MONTH: 1 / 720,
                Level.YEAR: 1 / 60,
                Level.SWAPPED: 1 / 22_000,
                Level.NEAR: 1 / 11_000,
                Level.NEAR_YEAR: 1 / 30,
                Level.WITHIN: 1 / 15,  # a span of about four years in sixty
                Level.DIFFERENT: 0.998,
            },
            Feature.SEX: {Level.EXACT: 0.5, Level.DIFFERENT: 0.5},
            Feature.NATIONALITY: {Level.EXACT: None, Level.DIFFERENT: None},
            Feature.RESIDENT_ID: {Level.EXACT: 1e-9, Level.DIFFERENT: 1.0},
            Feature.PASSPORT: {Level.EXACT: 1e-8, Level.DIFFERENT: 1.0},
        }
    )
    # Chance that a screened person is on the watchlist at all. With the watchlist's size it
    # gives the prior; scores of competing candidates then sum to at most 1.
    prevalence: float = 0.5
    # A given name that differs by a few letters (SIMILAR) is rarer among strangers sharing the
    # surname than among all records; SURNAME_ONLY is as common as the surname.
    similar_given_share: float = 0.01
    reordered_given_share: float = 0.002
    # A weak alias (a nickname, a single name) that agrees weighs this share of the bits the
    # same agreement of a full name would: lists give them because they are used, not because
    # they single anyone out.
    weak_alias_factor: float = 0.5


class Frequencies:
    """How often name readings, surnames and nationalities occur in the watchlist."""

    def __init__(self) -> None:
        self.records = 0
        self.pairs: Counter[str] = Counter()
        self.surnames: Counter[str] = Counter()
        self.nationalities: Counter[str] = Counter()

    def add(self, profile: Profile, *aliases: Profile) -> None:
        """Count a person once, with every name they carry (`aliases`: the profiles of their
        other names): a reading shared by two of one person's names is one record's."""
        self.records += 1
        if aliases:
            self.pairs.update({p for name in (profile, *aliases) for p in name.pairs})
            self.surnames.update({s for name in (profile, *aliases) for s in name.surnames})
        else:
            self.pairs.update(profile.pairs)
            self.surnames.update(profile.surnames)
        if profile.record.nationality:
            self.nationalities[profile.record.nationality] += 1

    def remove(self, profile: Profile, *aliases: Profile) -> None:
        """Take back what `add` counted of a person (whose rows are being merged)."""
        self.records -= 1
        self.pairs.subtract({p for name in (profile, *aliases) for p in name.pairs})
        self.surnames.subtract({s for name in (profile, *aliases) for s in name.surnames})
        if profile.record.nationality:
            self.nationalities[profile.record.nationality] -= 1

    def merge(self, other: Frequencies) -> None:
        """Add the counts of another part of the watchlist (a shard held by another process)."""
        self.records += other.records
        self.pairs.update(other.pairs)
        self.surnames.update(other.surnames)
        self.nationalities.update(other.nationalities)

    @classmethod
    def of(cls, profiles: Iterable[Profile]) -> Frequencies:
        tables = cls()
        for p in profiles:
            tables.add(p)
        return tables

    def share(self, counter: Counter[str], values: Iterable[str]) -> float:
        """Share of the watchlist holding any of `values`: the u of an agreement on them.
        Never below half a record, so a value seen nowhere is not infinitely telling."""
        n = max(self.records, 1)
        return min(1.0, max(sum(counter.get(v, 0) for v in values), 0.5) / n)


@dataclass(frozen=True, slots=True)
class Weight:
    feature: Feature
    level: Level
    bits: float
    u: float


Row = tuple[Feature, dict[Level, float], dict[Level, float]]  # u and bits of each level


class Model:
    def __init__(self, frequencies: Frequencies, parameters: Parameters | None = None) -> None:
        self.frequencies = frequencies
        self.parameters = parameters or Parameters()
        # Rows whose u values do not depend on the query are weighed once.
        self._fixed: dict[Feature, Row] = {}
        for feature, fixed in self.parameters.u.items():
            if all(value is not None for value in fixed.values()):
                self._fixed[feature] = self._row(feature, self._u_of(feature, None))
        self._no_nationality = self._row(Feature.NATIONALITY, lambda level: 1.0)

    def u(self, feature: Feature, level: Level, q: Profile) -> float:
        return self._u_of(feature, q)(level)

    def _u_of(self, feature: Feature, q: Profile | None) -> Callable[[Level], float]:
        """The u of each level of a feature for this query, its shares of the watchlist looked
        up once (no query: the u values that depend on none)."""
        fixed = self.parameters.u[feature]
        f = self.frequencies
        by_level: dict[Level, float] = {}
        if q is not None and feature is Feature.NAME:
            # A name read without any surname (no token is one) says nothing of its surname's
            # frequency: its agreements weigh as if the surname were universal, not unseen.
            surname_share = f.share(f.surnames, q.surnames) if q.surnames else 1.0
            by_level = {
                Level.EXACT: f.share(f.pairs, q.pairs),
                Level.REORDERED: surname_share * self.parameters.reordered_given_share,
                Level.SIMILAR: surname_share * self.parameters.similar_given_share,
                Level.SURNAME_ONLY: surname_share,
            }
        elif q is not None and feature is Feature.NATIONALITY and q.record.nationality:
            agree = f.share(f.nationalities, [q.record.nationality])
            by_level = {Level.EXACT: agree, Level.DIFFERENT: max(1.0 - agree, 0.01)}

        def u(level: Level) -> float:
            value = fixed[level]
            if value is not None:
                return value
            if level not in by_level:
                raise ValueError(f"no u for {feature} {level} without the query's value")
            return by_level[level]

        return u

    def _row(self, feature: Feature, u_of: Callable[[Level], float]) -> Row:
        us = {level: u_of(level) for level in self.parameters.m[feature]}
        bits = {
            level: max(-MAX_BITS, min(MAX_BITS, math.log2(m / us[level])))
            for level, m in self.parameters.m[feature].items()
        }
        return feature, us, bits

    def table(self, q: Profile) -> QueryTable:
        return QueryTable(self._rows_of(q), self.parameters.weak_alias_factor)

    def _rows_of(self, q: Profile) -> list[Row]:
        """Every (feature, level) weight for one query: u values that depend on the query's
        name or nationality are looked up once, not once per candidate; the others once for
        every query."""
        rows: list[Row] = []
        for feature in Feature:
            row = self._fixed.get(feature)
            if row is None:
                if feature is Feature.NATIONALITY and not q.record.nationality:
                    row = self._no_nationality
                else:
                    row = self._row(feature, self._u_of(feature, q))
            rows.append(row)
        return rows

    def prior_bits(self) -> float:
        """log2 of the prior odds that the query is one given record."""
        p = self.parameters.prevalence
        n = max(self.frequencies.records, 1)
        return math.log2(p / n) - math.log2(1 - p)


class QueryTable:
    """The weights of one query's comparisons, by feature and level."""

    def __init__(self, rows: list[Row], weak_alias_factor: float = 1.0) -> None:
        self._rows = rows
        self._bits = [bits for _, _, bits in rows]
        self.weak_alias_factor = weak_alias_factor

    def _weak(self, bits: float) -> float:
        return bits * self.weak_alias_factor if bits > 0 else bits

    @property
    def rows(self) -> list[dict[Level, Weight]]:
        """Each feature's weights by level."""
        return [
            {level: Weight(feature, level, b, us[level]) for level, b in bits.items()}
            for feature, us, bits in self._rows
        ]

    def bits(self, levels: Levels) -> float:
        total = 0.0
        for row, level in zip(self._bits, levels, strict=True):
            if level is not Level.MISSING:
                total += row[level]
        return total

    def candidate_bits(self, q: Profile, candidates: Iterable[Profile]) -> list[float]:
        """`bits(compare(q, c))` of each candidate, the names compared once per distinct name:
        a common name's namesakes share one parsed name, and a query meets dozens of them."""
        names, natives, births, sexes, nationalities, resident_ids, passports = self._bits
        by_name: dict[tuple[int, bool], float] = {}
        matcher = NameMatcher(q)
        query_weak = q.weak
        record = q.record
        birth, sex, nationality = record.birth, record.sex, record.nationality
        resident_id = record.card_number
        passport = record.passport
        # a second nationality, passport or identity number on either side: any shared agrees
        several = bool(record.nationalities or record.passports or record.other_ids)
        found = []
        for c in candidates:
            # Keyed by identity: records with one (name, native) share one parsed name, and every
            # candidate stays alive (and its id unique) while the query is scored.
            weak = query_weak or c.weak
            total = by_name.get((id(c.name), weak))
            if total is None:
                level = matcher.level(c)
                total = names[level]
                native = compare_native(q, c, level)
                native_bits = natives[native] if native is not Level.MISSING else 0.0
                if weak:
                    total, native_bits = self._weak(total), self._weak(native_bits)
                total += native_bits
                by_name[(id(c.name), weak)] = total
            other = c.record
            if birth is not None and other.birth is not None:
                total += births[compare_birth(birth, other.birth)]
            if sex is not None and other.sex is not None:
                total += sexes[Level.EXACT if sex == other.sex else Level.DIFFERENT]
            if several or other.nationalities or other.passports or other.other_ids:
                _, _, _, _, by_nationality, by_card, by_passport = compare(q, c)
                for row, level in ((nationalities, by_nationality), (resident_ids, by_card),
                                   (passports, by_passport)):  # fmt: skip
                    if level is not Level.MISSING:
                        total += row[level]
                found.append(total)
                continue
            if nationality is not None and other.nationality is not None:
                total += nationalities[
                    Level.EXACT if nationality == other.nationality else Level.DIFFERENT
                ]
            if resident_id is not None and (theirs := other.card_number) is not None:
                total += resident_ids[Level.EXACT if resident_id == theirs else Level.DIFFERENT]
            if passport is not None and other.passport is not None:
                total += passports[Level.EXACT if passport == other.passport else Level.DIFFERENT]
            found.append(total)
        return found

    def weights(self, levels: Levels, *, weak: bool = False) -> list[Weight]:
        """Each feature's weight; `weak`: the names that agree include a weak alias."""
        return [
            Weight(
                feature,
                level,
                self._weak(bits[level])
                if weak and feature in (Feature.NAME, Feature.NATIVE)
                else bits[level],
                us[level],
            )
            for (feature, us, bits), level in zip(self._rows, levels, strict=True)
            if level is not Level.MISSING
        ]


def posteriors(prior_bits: float, candidate_bits: list[float]) -> list[float]:
    """Calibrated scores: the probability that the query is each candidate, given that it is at
    most one record of the watchlist and that records outside the candidates do not match it.
    Candidates compete: two equally good candidates share the probability."""
    if not candidate_bits:
        return []
    top = max(candidate_bits) + prior_bits
    # Odds relative to the best candidate, so that 2**bits never overflows.
    scaled = [2.0 ** (b + prior_bits - top) for b in candidate_bits]
    none = 2.0 ** min(-top, 1000.0)
    total = none + sum(scaled)
    return [s / total for s in scaled]
