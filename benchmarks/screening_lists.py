"""Screening benchmark on list-style data: the people of benchmarks/screening.py written as
sanctions lists and arrival records write them, with spellings from maintained romanisation data
rather than from either generator's own tables.

What differs from benchmarks/screening.py:

- names written `SURNAME, Given` (family name in capitals, a comma) on the list;
- Hong Kong names spelt by the Hong Kong Government romanisation of every character (the
  `cantonese-romanisation` data: 張國雄 → Cheung Kwok Hung, or Jeung Gwok Hung, each
  character's spelling drawn from those the data lists), not a table of a hundred characters;
  Taiwan names in Wade-Giles with a hyphen and, at times, the apostrophes (Hsiao-ming, Ch'en),
  as pypinyin writes them;
- aliases: a third of the listed persons carry one or two other spellings, half written inside
  the name (`LI, Xiaoming (a.k.a. LEE, Siu Ming)`), half as alias rows (`W0000012-AKA1`);
- list-style values: `12 May 1970`, `circa 1970`, `1969 to 1971`, country names (`China`,
  `Hong Kong SAR`, `Korea, South`-style forms), passports with their issuer
  (`E12345678 (China)`, `CHN-E12345678`);
- typos: one query in ten has one letter of its name (given name or surname, whichever is not
  in capitals) dropped, doubled or exchanged with the next.

The people themselves (surnames, given-name characters, their frequencies, dates, documents) are
those of `screening.Population` with census-like given names: this set tests what lists write,
not a new population.

    .venv/bin/python benchmarks/screening_lists.py [--watchlist 100000] [--queries 10000]
        [--seed 11] [--data-dir DIR] [--reuse]

Prints one JSON object: Accord's precision, recall, F1, candidate recall (the true record among
the written candidates), recall per case, time and memory (as benchmarks/screening.py).
"""

from __future__ import annotations

import csv
import json
import random
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import screening as base

COUNTRY_FORMS = {
    "CN": ["China", "CHN", "PRC", "People's Republic of China", "CN"],
    "HK": ["Hong Kong", "Hong Kong SAR", "HKG", "China (Hong Kong)"],
    "TW": ["Taiwan", "TWN", "Chinese Taipei"],
    "SG": ["Singapore", "SGP"],
    "MY": ["Malaysia", "MYS"],
    "US": ["United States", "USA", "U.S.A."],
    "CA": ["Canada", "CAN"],
}
PASSPORT_ISSUER = {"CN": ("China", "CHN"), "HK": ("Hong Kong", "HKG"), "TW": ("Taiwan", "TWN"),
                   "SG": ("Singapore", "SGP"), "MY": ("Malaysia", "MYS"),
                   "US": ("USA", "USA"), "CA": ("Canada", "CAN")}  # fmt: skip
FIELDS = ["id", "name", "name_native", "birth_date", "sex", "nationality", "id_number",
          "passport_number"]  # fmt: skip


@lru_cache(maxsize=1)
def _hk_romanisation() -> dict[str, list[str]]:
    import pkgutil

    raw = pkgutil.get_data("cantoroman", "data/charToRoman.json")
    assert raw is not None
    data: dict[str, list[str]] = json.loads(raw)
    return data


def hong_kong(han: str, rng: random.Random) -> list[str] | None:
    """Each character's romanisation, one of those the data gives (Hong Kong Government
    spellings, Kwok, Kit, Tang, beside the Jyutping-like Gwok, Git, Dang that the data lists
    too), or None when a character has none."""
    table = _hk_romanisation()
    found = []
    for character in base._traditional(han):
        spellings = table.get(character)
        if not spellings:
            return None
        found.append(rng.choice(sorted(set(spellings))))
    return found


def wade_giles(han: str, rng: random.Random) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    spelt = lazy_pinyin(han, style=Style.WADEGILES)
    apostrophes = rng.random() < 0.3
    return [s if apostrophes else s.replace("'", "") for s in spelt]


def spell(surname: str, given: str, system: str, rng: random.Random) -> tuple[str, list[str]]:
    """(surname, given syllables) in a system: pinyin, hk or tw; hk falls back to pinyin for a
    character the romanisation data lacks."""
    if system == "hk":
        s, g = hong_kong(surname, rng), hong_kong(given, rng)
        if s is not None and g is not None:
            return " ".join(x.capitalize() for x in s), [x.capitalize() for x in g]
    if system == "tw":
        s_wg, g_wg = wade_giles(surname, rng), wade_giles(given, rng)
        return "".join(s_wg).capitalize(), [x.capitalize() for x in g_wg]
    return "".join(base._pinyin(surname, surname=True)).capitalize(), [
        x.capitalize() for x in base._pinyin(given, surname=False)
    ]


def list_name(surname: str, given: list[str], system: str) -> str:
    """As lists write it: SURNAME, Given (Hong Kong keeps syllables apart, Taiwan hyphenates,
    pinyin joins)."""
    if system == "hk":
        written = " ".join(given)
    elif system == "tw":
        written = "-".join(given).capitalize() if given else ""
    else:
        written = "".join(given).capitalize()
    return f"{surname.upper()}, {written}" if written else surname.upper()


def arrival_name(surname: str, given: list[str], system: str, rng: random.Random) -> str:
    """As an arrival record writes it: given name first or last, joined or apart."""
    written = " ".join(given) if system == "hk" or rng.random() < 0.4 else "".join(given)
    written = written.capitalize() if " " not in written else written
    return f"{written} {surname}" if rng.random() < 0.5 else f"{surname.upper()} {written}"


def typo(name: str, rng: random.Random) -> str:
    """One letter of a name part not in capitals dropped, doubled or exchanged with the next."""
    parts = name.split(" ")
    candidates = [i for i, p in enumerate(parts) if len(p) >= 4 and not p.isupper()]
    if not candidates:
        return name
    i = rng.choice(candidates)
    word = parts[i]
    at = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.4:
        word = word[:at] + word[at + 1 :]
    elif kind < 0.7:
        word = word[:at] + word[at] + word[at:]
    else:
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    parts[i] = word
    return " ".join(parts)


def list_date(p: base.Person, rng: random.Random) -> str:
    b = p.birth
    r = rng.random()
    if r < 0.55:
        return f"{b.day:02d} {b:%b} {b.year}"
    if r < 0.7:
        return b.isoformat()
    if r < 0.8:
        return str(b.year)
    if r < 0.9:
        return f"circa {b.year}"
    if r < 0.95:
        return f"{b.year - 1} to {b.year + 1}"
    return ""


def system_of(p: base.Person, rng: random.Random) -> str:
    if p.nationality == "HK" or (p.nationality in ("SG", "MY", "US", "CA") and rng.random() < 0.4):
        return "hk"
    if p.nationality == "TW":
        return "tw"
    return "pinyin" if rng.random() < 0.9 else rng.choice(["hk", "tw"])


def generate(watchlist_size: int, queries: int, seed: int, folder: Path) -> dict[str, Any]:
    population = base.Population(seed, "census")
    rng = population.rng
    people = [population.person() for _ in range(watchlist_size)]
    alias_rows = 0
    with (folder / "watchlist.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        for i, p in enumerate(people):
            system = system_of(p, rng)
            name = list_name(*spell(p.surname, p.given, system, rng), system)
            others = [s for s in ("pinyin", "hk", "tw") if s != system]
            aliases = []
            if rng.random() < 0.33:
                for other in rng.sample(others, rng.choice([1, 2])):
                    alias = list_name(*spell(p.surname, p.given, other, rng), other)
                    if alias != name and alias not in aliases:
                        aliases.append(alias)
            inside = aliases and rng.random() < 0.5
            if inside:
                name = f"{name} ({'; '.join(f'a.k.a. {a}' for a in aliases)})"
            row = {
                "id": f"W{i:07d}",
                "name": name,
                "name_native": (base._traditional(p.surname + p.given)
                                if p.nationality in ("HK", "TW") else p.surname + p.given)
                if rng.random() < 0.6 else "",
                "birth_date": list_date(p, rng),
                "sex": p.sex if rng.random() < 0.9 else "",
                "nationality": rng.choice(COUNTRY_FORMS[p.nationality]) if rng.random() < 0.9
                else "",
                "id_number": p.id_number if rng.random() < 0.3 else "",
                "passport_number": "",
            }  # fmt: skip
            if rng.random() < 0.4:
                issuer, code = PASSPORT_ISSUER[p.nationality]
                r = rng.random()
                row["passport_number"] = (
                    f"{p.passport} ({issuer})" if r < 0.4
                    else f"{code}-{p.passport}" if r < 0.6 else p.passport
                )  # fmt: skip
            writer.writerow(row)
            if aliases and not inside:
                for n, alias in enumerate(aliases, start=1):
                    writer.writerow({**row, "id": f"W{i:07d}-AKA{n}", "name": alias,
                                     "name_native": ""})  # fmt: skip
                    alias_rows += 1
    on_list = 0
    with (
        (folder / "queries.csv").open("w", encoding="utf-8", newline="") as f,
        (folder / "truth.csv").open("w", encoding="utf-8", newline="") as t,
    ):
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        truth = csv.writer(t)
        truth.writerow(["query_id", "watchlist_id", "cases"])
        for i in range(queries):
            listed = rng.random() < 0.5
            if listed:
                k = rng.randrange(watchlist_size)
                p = people[k]
            else:
                p = population.person()
                if rng.random() < 0.5:
                    namesake = people[rng.randrange(watchlist_size)]
                    p.surname, p.given = namesake.surname, namesake.given
            cases = []
            if rng.random() < 0.2:
                name = p.surname + p.given
                cases.append("characters only")
            else:
                system = system_of(p, rng) if rng.random() < 0.6 else rng.choice(
                    ["pinyin", "hk", "tw"]
                )  # fmt: skip
                surname, given = spell(p.surname, p.given, system, rng)
                name = arrival_name(surname, given, system, rng)
                cases.append({"hk": "hong kong romanisation", "tw": "taiwan wade-giles"}.get(
                    system, "pinyin"))  # fmt: skip
                if rng.random() < 0.1:
                    spelt = typo(name, rng)
                    if spelt != name:
                        name = spelt
                        cases.append("typo")
            b = p.birth
            r = rng.random()
            if r < 0.1:
                birth = str(b.year)
                cases.append("date partial")
            elif r < 0.15:
                birth = ""
                cases.append("date missing")
            else:
                birth = b.isoformat()
            row = {
                "id": f"Q{i:07d}",
                "name": name,
                "name_native": "",
                "birth_date": birth,
                "sex": p.sex if rng.random() < 0.8 else "",
                "nationality": p.nationality if rng.random() < 0.7 else "",
                "id_number": p.id_number if rng.random() < 0.1 else "",
                "passport_number": p.passport if rng.random() < 0.2 else "",
            }
            writer.writerow(row)
            if listed:
                truth.writerow([row["id"], f"W{k:07d}", ";".join(cases)])
                on_list += 1
    return {"watchlist": watchlist_size, "alias_rows": alias_rows, "queries": queries,
            "queries_on_list": on_list}  # fmt: skip


def main() -> None:
    base.run_generated(
        generate, description=__doc__.split("\n\n")[0], seed=11, prefix="accord-lists-"
    )


if __name__ == "__main__":
    main()
