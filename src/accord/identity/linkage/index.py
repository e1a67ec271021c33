"""Blocking: an in-memory inverted index from name keys, birth years and document numbers to
watchlist records, so a query is compared with a few candidates instead of every record."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from accord.identity.linkage.compare import Profile, profile
from accord.identity.linkage.score import Frequencies
from accord.identity.records import PartialDate, PersonRecord

# A block larger than this (a very common name with no year to narrow it) is read only this far:
# such a query cannot single anyone out by name anyway.
MAX_BLOCK = 2_000
_NO_YEAR = "?"


def _surname_date_keys(p: Profile, birth: PartialDate) -> list[str]:
    return [f"{s}|{birth}" for s in p.surnames]


class WatchlistIndex:
    """Profiles of the watchlist, their frequencies and the blocking index over them."""

    def __init__(self) -> None:
        self.profiles: list[Profile] = []
        self.frequencies = Frequencies()
        self._by_name_year: dict[str, list[int]] = defaultdict(list)
        self._by_name: dict[str, list[int]] = defaultdict(list)
        self._by_surname_date: dict[str, list[int]] = defaultdict(list)
        self._by_document: dict[str, list[int]] = defaultdict(list)

    def __len__(self) -> int:
        return len(self.profiles)

    def add(self, record: PersonRecord) -> None:
        p = profile(record)
        i = len(self.profiles)
        self.profiles.append(p)
        self.frequencies.add(p)
        year = str(record.birth.year) if record.birth else _NO_YEAR
        for key in p.name.keys | p.name.loose_keys:
            self._by_name_year[f"{key}|{year}"].append(i)
            self._by_name[key].append(i)
        if record.birth is not None and record.birth.is_full:
            for key in _surname_date_keys(p, record.birth):
                self._by_surname_date[key].append(i)
        if record.resident_id is not None:
            self._by_document[f"id:{record.resident_id.number}"].append(i)
        if record.passport is not None:
            self._by_document[f"pp:{record.passport}"].append(i)

    @classmethod
    def build(cls, records: Iterable[PersonRecord]) -> WatchlistIndex:
        index = cls()
        for record in records:
            index.add(record)
        return index

    def candidates(self, q: Profile) -> list[int]:
        """Records sharing a block with the query: a name key and a birth year within one year
        (or no year on either side), a surname and the full date of birth (also with day and
        month swapped), or a document number."""
        found: set[int] = set()
        birth = q.record.birth
        for key in q.name.keys | q.name.loose_keys:
            if birth is None:
                found.update(self._by_name.get(key, ())[:MAX_BLOCK])
                continue
            for year in (birth.year - 1, birth.year, birth.year + 1):
                found.update(self._by_name_year.get(f"{key}|{year}", ()))
            found.update(self._by_name_year.get(f"{key}|{_NO_YEAR}", ()))
        if birth is not None and birth.is_full:
            dates = [birth]
            if birth.day is not None and birth.month is not None and birth.day <= 12:
                dates.append(PartialDate(birth.year, birth.day, birth.month))
            for date in dates:
                for key in _surname_date_keys(q, date):
                    found.update(self._by_surname_date.get(key, ())[:MAX_BLOCK])
        record = q.record
        if record.resident_id is not None:
            found.update(self._by_document.get(f"id:{record.resident_id.number}", ()))
        if record.passport is not None:
            found.update(self._by_document.get(f"pp:{record.passport}", ()))
        return sorted(found)
