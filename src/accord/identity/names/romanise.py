"""Readings of a name in pinyin: Hanzi with surname-aware readings, and romanised tokens (pinyin,
Wade-Giles, Cantonese, Hokkien, ü as u/v/yu) split into syllables and mapped back."""

from __future__ import annotations

import itertools
from enum import StrEnum
from functools import lru_cache

from pypinyin import Style, lazy_pinyin, pinyin
from pypinyin.pinyin_dict import pinyin_dict
from pypinyin.style import convert

from accord.identity.names.cantonese import cantonese_surnames, cantonese_syllables
from accord.identity.names.hokkien import hokkien_surnames, hokkien_syllables
from accord.identity.names.surnames import (
    CANTONESE,
    COMPOUND,
    HOKKIEN,
    IRREGULAR,
    SINGLE,
    listed_spellings,
)

Syllables = tuple[str, ...]

# A token read outside its name's system (a pinyin surname in a Cantonese name) ranks lower.
FALLBACK_COST = 2

# Interjection-only readings (嗯 n, 呣 m, 哼 hng) would let English names split into "syllables".
_NOT_NAME_SYLLABLES = {"m", "n", "ng", "hm", "hng", "ê", "o", "e", "a", "er"}

MAX_TOKEN_READINGS = 8
MAX_GIVEN_READINGS = 4


def _pinyin_syllables() -> frozenset[str]:
    found: set[str] = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            found.add(convert(reading, Style.NORMAL, strict=True))
    return frozenset(s for s in found if s.isascii() and s.isalpha()) - _NOT_NAME_SYLLABLES


PINYIN_SYLLABLES = _pinyin_syllables() | {"a", "e", "er"}

# Cantonese given-name syllables (Hong Kong government romanisation) and the Mandarin readings
# of the characters they most often stand for in names.
_CANTONESE_SYLLABLES: dict[str, tuple[str, ...]] = {
    "ah": ("ya",), "bik": ("bi",), "bing": ("bing",), "bo": ("bao", "bo"), "bun": ("bin",),
    "chak": ("ze",), "chan": ("chen", "zhen"), "chau": ("zhou", "qiu"), "chee": ("zhi", "zi"),
    "cheng": ("zheng", "jing"), "cheuk": ("zhuo",), "cheung": ("zhang", "xiang", "chang"),
    "chi": ("zhi", "zi", "ci", "chi"), "chiu": ("zhao", "chao"),
    "ching": ("zheng", "jing", "qing", "cheng"), "cho": ("zu", "cao", "chu"), "choi": ("cai",),
    "chong": ("zhuang",), "chow": ("zhou",), "chu": ("zhu",), "chuen": ("quan", "chuan"),
    "chui": ("xu", "cui"), "chun": ("jun", "zhen", "chun", "qin"),
    "chung": ("zhong", "song", "cong"), "fai": ("hui",), "fan": ("fan", "xun"), "fat": ("fa",),
    "fong": ("fang",), "fook": ("fu",), "fung": ("feng",), "ha": ("xia",),
    "hang": ("heng", "xing"), "hau": ("hou", "hao", "qiao"), "hei": ("xi",),
    "hin": ("xian", "xuan"),
    "hing": ("xing", "qing"), "ho": ("he", "hao"), "hoi": ("hai", "kai"), "hon": ("han",),
    "hong": ("kang", "hang"), "hou": ("hao",), "hung": ("hong", "xiong"), "hui": ("xu",),
    "ka": ("jia",), "kai": ("qi", "jia", "jie", "ji"), "kam": ("jin", "gan"), "kan": ("jian",),
    "kar": ("jia",), "kee": ("ji", "qi"), "keung": ("qiang", "jiang"), "kin": ("jian",),
    "king": ("jing", "qing"), "kit": ("jie",), "kiu": ("qiao",), "ko": ("gao",),
    "kok": ("guo",), "kong": ("gang", "jiang"), "kui": ("ju",), "kwai": ("gui",),
    "kwan": ("jun", "kun", "qun", "guan"), "kwok": ("guo",), "kwong": ("guang", "kuang"),
    "lai": ("li", "lai"), "lam": ("lin",), "lap": ("li",), "lau": ("liu",), "lee": ("li",),
    "leung": ("liang",), "lik": ("li",), "lim": ("lian",), "lok": ("le", "luo"),
    "lung": ("long",), "man": ("wen", "min", "wan"), "miu": ("miao",), "mo": ("mao", "wu"),
    "mui": ("mei",), "nam": ("nan",), "nga": ("ya",), "ngai": ("yi", "wei"), "ngan": ("yan",),
    "ngo": ("ao",), "oi": ("ai",), "on": ("an",), "pak": ("bai", "bo"), "pik": ("bi",),
    "ping": ("ping", "bing"), "po": ("bao", "bo", "pu"), "pui": ("pei",), "sai": ("xi", "shi"),
    "sam": ("sen", "xin", "shen"), "san": ("xin", "shan", "shen"), "sang": ("sheng",),
    "sau": ("xiu", "shou"), "sek": ("shi",), "shek": ("shi",), "sheung": ("shang", "chang"),
    "shing": ("cheng", "sheng"), "shuk": ("shu",), "shun": ("shun", "xun"),
    "sik": ("shi", "xi"), "sin": ("xian", "shan"), "sing": ("sheng", "xing", "cheng"),
    "siu": ("xiao", "shao", "zhao"), "so": ("su",), "suen": ("sun", "xuan"), "suet": ("xue",),
    "sui": ("rui", "sui"), "sum": ("sen", "xin", "shen"), "sun": ("xin", "chen", "shen"),
    "sung": ("song",), "sze": ("si", "shi"), "tai": ("da", "tai"), "tak": ("de",),
    "tat": ("da",), "tin": ("tian",), "ting": ("ting", "ding"), "to": ("tao", "du", "tu"),
    "tong": ("tang",), "tsan": ("zan",), "tsang": ("zeng",), "tse": ("xie",),
    "tsz": ("zi", "ci"), "tsun": ("jun", "zun"), "tung": ("dong", "tong"), "wa": ("hua",),
    "wah": ("hua",), "wai": ("wei", "hui"), "wan": ("yun", "wen", "huan"),
    "wing": ("rong", "yong", "ying"), "wo": ("he",), "wong": ("huang", "wang"), "wu": ("hu",),
    "yan": ("en", "xin", "ren", "yin"), "yat": ("yi", "ri"), "yau": ("you", "qiu", "rou"),
    "yee": ("yi", "er"), "yeung": ("yang",), "yick": ("yi",), "yim": ("yan",),
    "yin": ("xian", "yan"), "ying": ("ying",), "yip": ("ye",), "yiu": ("yao",),
    "yu": ("yu", "ru"), "yuen": ("yuan", "ruan"), "yuk": ("yu", "xu"), "yung": ("rong", "yong"),
    "au": ("ou",), "yeh": ("ye",), "tim": ("tian",), "mei": ("mei",), "ling": ("ling",),
    "ming": ("ming",), "lun": ("lun",), "shu": ("shu",), "hsin": ("xin",),
    "kuen": ("juan", "quan"), "hiu": ("xiao",), "fei": ("fei",), "lui": ("lei", "lv"),
    "pan": ("bin",), "wang": ("hong", "wang"), "pok": ("bo",), "huen": ("xuan",),
    "yui": ("rui",), "ham": ("han",), "fun": ("huan",), "kei": ("qi", "ji"), "yam": ("ren",),
    "mang": ("meng",), "tso": ("cao",), "yi": ("yi",), "luk": ("lu", "lv"), "mak": ("mai",),
    "yeuk": ("ruo",), "kwun": ("guan",), "tsoi": ("cai",),
}  # fmt: skip


def _name_syllable(spelling: str) -> bool:
    """Whether a spelling from the data may be a piece of a joined token: letters with a vowel,
    two or more, not an interjection. A lone vowel or a syllabic nasal (Hokkien i, u, ng, m)
    would cut any name into pieces (Ming: mi + ng); as a whole token a surname table reads it."""
    return (
        len(spelling) >= 2
        and spelling.isalpha()
        and any(v in spelling for v in "aeiouy")
        and spelling not in _NOT_NAME_SYLLABLES
    )


def _u_variants(spelling: str) -> set[str]:
    """ü written as v, u or yu (lü: lv, lu, lyu; lüe: lve, lue, lyue)."""
    if "v" not in spelling:
        return {spelling}
    return {spelling, spelling.replace("v", "u"), spelling.replace("v", "yu")}


def _wade_giles(syllable: str) -> str:
    """The Wade-Giles spelling without apostrophes, as passports and most databases write it
    (Ch'en → Chen)."""
    spelling = convert(syllable, Style.WADEGILES, strict=False).replace("'", "")
    # pypinyin 0.55 turns the final -ai into -ei when there is no initial in its table
    # (lai → lei, wai → wei); Wade-Giles keeps -ai.
    if syllable.endswith("ai") and spelling.endswith("ei"):
        spelling = spelling[:-2] + "ai"
    return spelling


class System(StrEnum):
    """A romanisation a whole name is written in; each token is read in the name's system."""

    PINYIN = "pinyin"
    WADE_GILES = "wade-giles"
    SOUTHERN = "southern"  # Cantonese (Hong Kong, Macau, Taishanese), Hakka; Hokkien surnames
    HOKKIEN = "hokkien"  # Hokkien and Teochew (Taiwan, Singapore, Malaysia, the Philippines)


Table = dict[System, dict[str, dict[str, int]]]
# Spellings read from the maintained data per system, the likeliest readings kept.
DATA_READINGS = 2
# Surnames a data-derived surname spelling may stand for (Koh: 高 gao, 許 xu).
DATA_SURNAMES = 2


def _syllable_tables() -> tuple[Table, Table]:
    """Per system: each spelling, the pinyin syllables it may stand for, ranked (0 = likeliest).
    Two tables: the spellings that say a name is written in the system (Cheung, Lim, Hsiao:
    no pinyin syllable is spelt so), and, wider, those too that the system shares with pinyin
    (Ga 家, Dang 鄧, Bun 文): read in a name the system's own spellings have marked, never a
    reason to read a pinyin name in another system."""
    tables: Table = {s: {} for s in System}
    wide: Table = {s: {} for s in System}

    def add(system: System, spelling: str, syllable: str, rank: int, *, marks: bool = True) -> None:
        for variant in _u_variants(spelling):
            for table in (tables, wide) if marks else (wide,):
                readings = table[system].setdefault(variant, {})
                readings[syllable] = min(rank, readings.get(syllable, rank))

    # Sorted: ties of rank keep this order downstream, so it must not depend on string hashing.
    for syllable in sorted(PINYIN_SYLLABLES):
        add(System.PINYIN, syllable, syllable, 0)
        # Passports and most databases drop the apostrophes of Wade-Giles (Ch'en → Chen).
        add(System.WADE_GILES, _wade_giles(syllable), syllable, 0)
    for spelling, syllables in _CANTONESE_SYLLABLES.items():
        for rank, syllable in enumerate(syllables):
            add(System.SOUTHERN, spelling, syllable, rank)
    # Every other spelling of an everyday character in the maintained data, its likeliest
    # readings: Cantonese as the Hong Kong Government romanises it (names/cantonese.py: gwok,
    # kwai, cheuk), Hokkien from taibun (names/hokkien.py: lim, chua, beng). The short table
    # above holds the commonest Cantonese name syllables and decides their ranking.
    for system, data in ((System.SOUTHERN, cantonese_syllables()),
                         (System.HOKKIEN, hokkien_syllables())):  # fmt: skip
        for spelling, syllables in data.items():
            if not _name_syllable(spelling) or spelling in tables[system]:
                continue
            # a spelling that is also a pinyin syllable (liu, man, tin) would give every pinyin
            # name southern readings too: it is read only in a name the system has marked
            marks = spelling not in PINYIN_SYLLABLES
            kept = [s for s in syllables if s in PINYIN_SYLLABLES and s not in _NOT_NAME_SYLLABLES]
            # a shared spelling's own pinyin reading is one of them (bun: 文 wen, or bun):
            # one other reading only, each costing a key in every name it is read in
            for rank, syllable in enumerate(kept[: DATA_READINGS if marks else 1]):
                add(system, spelling, syllable, rank, marks=marks)
    # A surname's spelling also spells the syllable in given names (Fong: 方, 芳).
    for system, table in ((System.SOUTHERN, CANTONESE), (System.HOKKIEN, HOKKIEN)):
        for spelling, readings in table.items():
            if system == System.HOKKIEN and not _name_syllable(spelling):
                continue  # Ng as a piece would cut Ming into mi + ng (Cantonese has ming)
            for rank, reading in enumerate(readings):
                if " " not in reading:
                    add(system, spelling, reading, rank + 1)
    return tables, wide


SYLLABLE_TABLES, WIDE_SYLLABLE_TABLES = _syllable_tables()
Aliases = dict[System, dict[str, dict[Syllables, int]]]


def _surname_aliases() -> tuple[Aliases, Aliases]:
    """Surname spellings per system, as SYLLABLE_TABLES: those that mark the system, and the
    wider set with those that are also pinyin syllables (Lei 李 in Cantonese, Tin 陳 in
    Hokkien). The hand tables first, then the sourced table (data/surname_spellings.tsv),
    then every spelling of a surname character in the maintained data."""
    aliases: Aliases = {s: {} for s in System}
    wide: Aliases = {s: {} for s in System}
    listed = listed_spellings()
    hand = ((System.WADE_GILES, IRREGULAR), (System.SOUTHERN, CANTONESE),
            (System.SOUTHERN, HOKKIEN), (System.HOKKIEN, HOKKIEN))  # fmt: skip
    derived = ((System.SOUTHERN, cantonese_surnames()), (System.HOKKIEN, hokkien_surnames()))
    sources = [(system, table, 0, True) for system, table in hand]
    sources += [(System(name), table, 0, False) for name, table in sorted(listed.items())]
    sources += [(system, table, 1, False) for system, table in derived]
    for system, table, offset, curated in sources:
        for spelling, readings in table.items():
            # the hand tables mark their system whatever they spell (Chan, Tan, Li): as before
            marks = curated or spelling not in PINYIN_SYLLABLES
            kept = readings if curated else readings[:DATA_SURNAMES]
            for target in (aliases, wide) if marks else (wide,):
                # data-derived readings of a spelling a table already lists rank after its own
                extra = offset if spelling in target[system] else 0
                entry = target[system].setdefault(spelling, {})
                for rank, reading in enumerate(kept):
                    entry.setdefault(tuple(reading.split()), rank + extra)
    return aliases, wide


SURNAME_ALIASES, WIDE_SURNAME_ALIASES = _surname_aliases()


def _segmentations(token: str, table: dict[str, dict[str, int]]) -> list[list[str]]:
    """Ways to cut a joined token into the system's syllables, fewest pieces only
    (Xiaoming → xiao ming, not xi ao ming)."""
    n = len(token)
    longest = 6
    best: list[list[list[str]] | None] = [None] * (n + 1)
    best[0] = [[]]
    for end in range(1, n + 1):
        found: list[list[str]] = []
        for start in range(max(0, end - longest), end):
            before = best[start]
            if before is None or token[start:end] not in table:
                continue
            found += [[*cut, token[start:end]] for cut in before]
        if found:
            fewest = min(len(c) for c in found)
            best[end] = [c for c in found if len(c) == fewest][:6]
    return best[n] or []


@lru_cache(maxsize=200_000)
def _readings_in(token: str, system: System, wide: bool = True) -> dict[Syllables, int]:
    """Readings of a token in a system; not `wide`, only those of a surname spelling that marks
    the system or of a cut into syllables of which one at least does (Kwokming: kwok)."""
    table = WIDE_SYLLABLE_TABLES[system]
    marking = SYLLABLE_TABLES[system]
    ranks = dict((WIDE_SURNAME_ALIASES if wide else SURNAME_ALIASES)[system].get(token, {}))
    for cut in _segmentations(token, table):
        if not wide and all(piece not in marking for piece in cut):
            continue
        # Bound the product: a joined three-syllable Cantonese name could give 4³ readings.
        read = [marking[p] if not wide and p in marking else table[p] for p in cut]
        options = [sorted(r.items(), key=lambda kv: kv[1])[:3] for r in read]
        for combination in itertools.product(*options):
            syllables = tuple(s for s, _ in combination)
            rank = sum(r for _, r in combination)
            ranks[syllables] = min(rank, ranks.get(syllables, rank))
    return ranks


@lru_cache(maxsize=200_000)
def token_readings(
    token: str, system: System, wide: bool = True
) -> tuple[tuple[Syllables, int], ...]:
    """Pinyin syllable sequences a romanised token may stand for when the name is written in
    `system`, likeliest first. A token the system cannot read falls back to plain pinyin, then
    to any system, at a cost (Zhang Siu Ming mixes pinyin and Cantonese). Empty when no system
    reads it: the token is not Chinese (an English name such as Michael). Not `wide`: with
    only the spellings that mark the system (whether a name is written in it at all)."""
    ranks = dict(_readings_in(token, system, wide))
    if not ranks:
        for fallback in (System.PINYIN, *System):
            if fallback != system:
                found = _readings_in(token, fallback, wide)
                ranks = {s: r + FALLBACK_COST for s, r in found.items()}
            if ranks:
                break
    ranked = sorted(ranks.items(), key=lambda kv: (kv[1], kv[0]))
    return tuple(ranked[:MAX_TOKEN_READINGS])


@lru_cache(maxsize=200_000)
def marks(token: str, system: System) -> bool:
    """Whether the token is spelt as `system` spells and pinyin does not (Cheung, Kwok, Chee
    mark Cantonese; Beng, like Li and Ming, marks nothing: pinyin spells it too)."""
    return bool(_readings_in(token, system, False))


@lru_cache(maxsize=200_000)
def is_chinese_token(token: str) -> bool:
    return any(_readings_in(token, system) for system in System)


@lru_cache(maxsize=100_000)
def _given_readings(given: str) -> list[Syllables]:
    """Readings of the given-name characters: pypinyin's phrase-aware choice first, then other
    readings of each character (明 ming, meng) while the combinations stay few."""
    if not given:
        return [()]
    first = tuple(lazy_pinyin(given, style=Style.NORMAL))
    per_char = pinyin(given, style=Style.NORMAL, heteronym=True)
    readings = [first]
    for combination in itertools.product(*(r[:2] for r in per_char)):
        if combination != first:
            readings.append(tuple(combination))
        if len(readings) >= MAX_GIVEN_READINGS:
            break
    return readings


def split_han(han: str) -> tuple[str, str]:
    """Surname and given name of a Hanzi name: a compound surname (欧阳) takes two characters."""
    if len(han) >= 3 and han[:2] in COMPOUND:
        return han[:2], han[2:]
    return han[:1], han[1:]


@lru_cache(maxsize=50_000)
def han_readings(han: str) -> tuple[tuple[Syllables, Syllables], ...]:
    """(surname, given) pinyin readings of a simplified Hanzi name, with the surname read as a
    surname (单 shan, 曾 zeng, 区 ou) and every surname reading kept (覃 qin or tan)."""
    surname, given = split_han(han)
    if surname in COMPOUND:
        surnames = [tuple(r.split()) for r in COMPOUND[surname]]
    elif surname in SINGLE:
        surnames = [(r,) for r in SINGLE[surname]]
    else:
        surnames = [(r,) for r in pinyin(surname, style=Style.NORMAL, heteronym=True)[0][:2]]
    return tuple((s, g) for s in surnames for g in _given_readings(given))
