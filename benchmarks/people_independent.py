"""Screening benchmark on people generated from independent sources: neither the population nor
the spellings come from Accord's tables or from benchmarks/screening.py's generator.

Sources, each used as published or as a maintained library produces it:

- surnames in the order of the Ministry of Public Security's 2020 national name report
  (公安部户政管理研究中心《二〇二〇年全国姓名报告》: 王, 李, 张, 刘, 陈, 杨, 黄, 赵, 吴, 周 …,
  the thirty commonest); their shares here follow a Zipf law over that rank (s = 0.9), an
  assumption of this benchmark, not the report's figures;
- given names from the same report's most frequent newborn names of 2020 (奕辰, 宇轩, 浩宇,
  亦辰, 宇辰, 子墨, 宇航, 浩然, 梓豪, 亦宸; 一诺, 依诺, 欣怡, 梓涵, 语桐, 欣妍, 可欣, 语汐, 雨桐,
  梦瑶) and the generation before them (伟, 芳, 娜, 敏, 静, 丽, 强, 磊, 军, 洋, 勇, 艳, 杰, 娟, 涛,
  明, 超, 秀英, 霞, 平: the commonest full names in the same report's tables), recombined
  character by character so that namesakes are as frequent as such names make them;
- spellings: Hanyu Pinyin and Wade-Giles as `pypinyin` writes them (Taiwan, with a hyphen
  between given syllables and sometimes the aspiration apostrophes); the Hong Kong
  Government's Cantonese romanisation of each character from the `cantonese-romanisation`
  package's data (Hong Kong, Macau); Taiwanese Hokkien in Tâi-lô from `taibun`, accents
  dropped (Singapore, Malaysia: Tan, Lim, Ong), as passports of those countries write them;
- list-style values: `SURNAME, Given` names, `12 May 1970`, `circa 1970`, `1969 to 1971`,
  countries by name (`China`, `Hong Kong SAR`, `Taiwan`, `Singapore`), passports with their
  issuer (`E12345678 (China)`); aliases (another system's spelling, an English name with the
  surname) as the `aliases` column; one query in ten with one edit in its given name (a letter
  dropped, added, changed or two exchanged).

    .venv/bin/python benchmarks/people_independent.py [--watchlist 100000] [--queries 10000]
        [--seed 5] [--data-dir DIR] [--reuse] [--workers N]

Prints one JSON object as benchmarks/screening_lists.py does: precision, recall, F1, candidate
recall (the true record among the written candidates), recall per case, time and memory.
"""

from __future__ import annotations

import csv
import json
import random
import string
import sys
import unicodedata
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import screening as base  # the runner, the evaluation and the memory probe only

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马胡朱郭何罗高林郑梁谢宋唐许邓韩冯曹"
NEWBORN = [
    "奕辰",
    "宇轩",
    "浩宇",
    "亦辰",
    "宇辰",
    "子墨",
    "宇航",
    "浩然",
    "梓豪",
    "亦宸",
    "一诺",
    "依诺",
    "欣怡",
    "梓涵",
    "语桐",
    "欣妍",
    "可欣",
    "语汐",
    "雨桐",
    "梦瑶",
]
EARLIER = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
]
ENGLISH = ["Michael", "David", "Kevin", "Grace", "Amy", "Jason", "Vivian", "Peter"]
NATIONALITIES = [("CN", 0.75), ("HK", 0.08), ("TW", 0.07), ("MO", 0.02), ("SG", 0.05), ("MY", 0.03)]
COUNTRY_NAMES = {
    "CN": ["China", "People's Republic of China", "CHN", "PRC"],
    "HK": ["Hong Kong", "Hong Kong SAR", "HKG"],
    "TW": ["Taiwan", "TWN"],
    "MO": ["Macau", "Macao", "MAC"],
    "SG": ["Singapore", "SGP"],
    "MY": ["Malaysia", "MYS"],
}
SYSTEM_OF = {"CN": "pinyin", "HK": "hk", "MO": "hk", "TW": "tw", "SG": "hokkien", "MY": "hokkien"}
FIELDS = ["id", "name", "name_native", "aliases", "birth_date", "sex", "nationality",
          "passport_number"]  # fmt: skip
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _zipf(n: int, s: float) -> list[float]:
    return [1 / (rank**s) for rank in range(1, n + 1)]


SURNAME_WEIGHTS = _zipf(len(SURNAMES), 0.9)
GIVEN_CHARACTERS = sorted({c for name in NEWBORN + EARLIER for c in name})


class Person:
    __slots__ = ("birth", "given", "nationality", "passport", "sex", "surname")

    def __init__(self, rng: random.Random) -> None:
        self.surname = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
        r = rng.random()
        if r < 0.4:
            self.given = rng.choice(NEWBORN)
        elif r < 0.7:
            self.given = rng.choice(EARLIER)
        else:  # recombined: two characters of the published names
            self.given = "".join(rng.choices(GIVEN_CHARACTERS, k=2))
        self.sex = rng.choice("MF")
        self.nationality = rng.choices(
            [n for n, _ in NATIONALITIES], [w for _, w in NATIONALITIES]
        )[0]
        self.birth = date(1945, 1, 1) + timedelta(days=rng.randrange(60 * 365))
        self.passport = rng.choice("EGK") + "".join(rng.choices(string.digits, k=8))


def _plain(text: str) -> str:
    """Accents and tone marks dropped, as passports print names."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ⁿ", "")


@lru_cache(maxsize=1)
def _hk_table() -> dict[str, list[str]]:
    import pkgutil

    raw = pkgutil.get_data("cantoroman", "data/charToRoman.json")
    assert raw is not None
    data: dict[str, list[str]] = json.loads(raw)
    return data


@lru_cache(maxsize=1)
def _taibun() -> Any:
    import taibun

    return taibun.Converter(system="Tailo", dialect="south", format="mark", delimiter=" ")


@lru_cache(maxsize=1)
def _s2t() -> Any:
    import opencc

    return opencc.OpenCC("s2t")


def syllables(han: str, system: str, rng: random.Random) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    if system == "pinyin":
        return [s.replace("ü", "v") for s in lazy_pinyin(han)]
    if system == "tw":
        spelt = [_plain(s.replace("v", "ü")) for s in lazy_pinyin(han, style=Style.WADEGILES)]
        return [s if rng.random() < 0.3 else s.replace("'", "") for s in spelt]
    if system == "hk":
        table = _hk_table()
        found = []
        for simplified, character in zip(han, _s2t().convert(han), strict=True):
            spellings = sorted(set(table.get(character, []) or table.get(simplified, [])))
            found.append(rng.choice(spellings) if spellings else lazy_pinyin(simplified)[0])
        return found
    found = []
    for simplified in han:  # taibun leaves a character it cannot read as it is: pinyin then
        spelt = _plain(_taibun().get(_s2t().convert(simplified))).replace("-", " ").split()
        read = [s for s in spelt if s.isascii()]
        found += read if read else lazy_pinyin(simplified)
    return found


def written_name(p: Person, system: str, rng: random.Random, *, listed: bool) -> str:
    surname = "".join(syllables(p.surname, system, rng)).capitalize()
    given = [s.lower() for s in syllables(p.given, system, rng)]
    if system == "tw":
        given_text = "-".join(given).capitalize()
    elif system in ("hk", "hokkien"):
        given_text = " ".join(s.capitalize() for s in given)
    else:
        given_text = "".join(given).capitalize()
    if listed:
        return f"{surname.upper()}, {given_text}"
    r = rng.random()
    return f"{given_text} {surname}" if r < 0.4 else f"{surname.upper()} {given_text}" if r < 0.8 \
        else f"{surname} {given_text}"  # fmt: skip


def one_edit(name: str, rng: random.Random) -> str:
    """One letter of the given name dropped, added, changed, or two exchanged."""
    letters = [i for i, c in enumerate(name) if c.islower()]
    if len(letters) < 3:
        return name
    i = rng.choice(letters[1:])
    kind = rng.randrange(4)
    if kind == 0:
        return name[:i] + name[i + 1 :]
    if kind == 1:
        return name[:i] + rng.choice("aeiounghl") + name[i:]
    if kind == 2:
        return name[:i] + rng.choice([c for c in "aeiounghlkst" if c != name[i]]) + name[i + 1 :]
    j = i + 1 if i + 1 in letters else i - 1
    first, second = sorted((i, j))
    return name[:first] + name[second] + name[first] + name[second + 1 :]


def list_date(p: Person, rng: random.Random) -> tuple[str, str]:
    b, r = p.birth, rng.random()
    if r < 0.5:
        return f"{b.day:02d} {MONTHS[b.month - 1]} {b.year}", "day month-name year"
    if r < 0.65:
        return f"circa {b.year + rng.choice([-1, 0, 0, 1])}", "circa"
    if r < 0.75:
        return f"{b.year - 1} to {b.year + 1}", "range of years"
    if r < 0.85:
        return str(b.year), "year only"
    return b.isoformat(), "iso date"


def generate(watchlist_size: int, queries: int, seed: int, folder: Path) -> dict[str, Any]:
    rng = random.Random(seed)
    people = [Person(rng) for _ in range(watchlist_size)]
    forms: dict[str, int] = {}
    with (folder / "watchlist.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        for i, p in enumerate(people):
            system = SYSTEM_OF[p.nationality]
            aliases = []
            if rng.random() < 0.4:
                other = rng.choice([s for s in ("pinyin", "hk", "tw", "hokkien") if s != system])
                aliases.append(written_name(p, other, rng, listed=True))
            if rng.random() < 0.1:
                surname = "".join(syllables(p.surname, system, rng)).upper()
                aliases.append(f"{surname}, {rng.choice(ENGLISH)}")
            birth, form = list_date(p, rng)
            forms[form] = forms.get(form, 0) + 1
            native = p.surname + p.given
            issuer = COUNTRY_NAMES[p.nationality][0]
            writer.writerow({
                "id": f"L{i:07d}",
                "name": written_name(p, system, rng, listed=True),
                "name_native": (_s2t().convert(native)
                                if p.nationality in ("HK", "TW", "MO") else native)
                if rng.random() < 0.5 else "",
                "aliases": "; ".join(aliases),
                "birth_date": birth,
                "sex": p.sex if rng.random() < 0.9 else "",
                "nationality": rng.choice(COUNTRY_NAMES[p.nationality]) if rng.random() < 0.9
                else "",
                "passport_number": f"{p.passport} ({issuer})" if rng.random() < 0.3 else "",
            })  # fmt: skip
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
                p = Person(rng)
            cases = []
            if rng.random() < 0.15:
                name = p.surname + p.given
                cases.append("characters only")
            else:
                own = SYSTEM_OF[p.nationality]
                system = own if rng.random() < 0.7 else rng.choice(["pinyin", "hk", "tw"])
                name = written_name(p, system, rng, listed=False)
                cases.append(system if system == own else f"{system} (not the list's system)")
                if rng.random() < 0.1:
                    edited = one_edit(name, rng)
                    if edited != name:
                        name = edited
                        cases.append("one edit")
            r = rng.random()
            birth = p.birth.isoformat() if r < 0.85 else str(p.birth.year) if r < 0.95 else ""
            if r >= 0.85:
                cases.append("date partial or missing")
            writer.writerow({
                "id": f"Q{i:07d}",
                "name": name,
                "name_native": "",
                "aliases": "",
                "birth_date": birth,
                "sex": p.sex if rng.random() < 0.8 else "",
                "nationality": p.nationality if rng.random() < 0.7 else "",
                "passport_number": p.passport if rng.random() < 0.2 else "",
            })  # fmt: skip
            if listed:
                truth.writerow([f"Q{i:07d}", f"L{k:07d}", ";".join(cases)])
                on_list += 1
    return {"watchlist": watchlist_size, "queries": queries, "queries_on_list": on_list,
            "list_date_forms": dict(sorted(forms.items()))}  # fmt: skip


def main() -> None:
    base.run_generated(
        generate,
        description=__doc__.split("\n\n")[0],
        seed=5,
        prefix="accord-independent-",
        label={"generator": "people_independent"},
    )


if __name__ == "__main__":
    main()
