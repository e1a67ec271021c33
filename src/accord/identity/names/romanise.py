"""Readings of a name in pinyin: Hanzi with surname-aware readings, and romanised tokens (pinyin,
Wade-Giles, Cantonese, Hokkien surnames, ü as u/v/yu) split into syllables and mapped back."""

from __future__ import annotations

import itertools
from enum import StrEnum
from functools import lru_cache

from pypinyin import Style, lazy_pinyin, pinyin
from pypinyin.pinyin_dict import pinyin_dict
from pypinyin.style import convert

from accord.identity.names.cantonese import cantonese_syllables
from accord.identity.names.surnames import CANTONESE, COMPOUND, HOKKIEN, IRREGULAR, SINGLE

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
    SOUTHERN = "southern"  # Cantonese, and Hokkien / Teochew surnames


def _syllable_tables() -> dict[System, dict[str, dict[str, int]]]:
    """Per system: each spelling, the pinyin syllables it may stand for, ranked (0 = likeliest)."""
    tables: dict[System, dict[str, dict[str, int]]] = {s: {} for s in System}

    def add(system: System, spelling: str, syllable: str, rank: int) -> None:
        for variant in _u_variants(spelling):
            readings = tables[system].setdefault(variant, {})
            readings[syllable] = min(rank, readings.get(syllable, rank))

    # Sorted: ties of rank keep this order downstream, so it must not depend on string hashing.
    for syllable in sorted(PINYIN_SYLLABLES):
        add(System.PINYIN, syllable, syllable, 0)
        # Passports and most databases drop the apostrophes of Wade-Giles (Ch'en → Chen).
        add(System.WADE_GILES, _wade_giles(syllable), syllable, 0)
    for spelling, syllables in _CANTONESE_SYLLABLES.items():
        for rank, syllable in enumerate(syllables):
            add(System.SOUTHERN, spelling, syllable, rank)
    # Every other Cantonese spelling of an everyday character (gwok, kwai, cheuk …), from the
    # Hong Kong Government romanisation data (names/cantonese.py), its two likeliest readings:
    # the table above holds the commonest name syllables only.
    for spelling, syllables in cantonese_syllables().items():
        if not spelling.isalpha() or spelling in tables[System.SOUTHERN]:
            continue
        if spelling in PINYIN_SYLLABLES:
            # a spelling that is also a pinyin syllable (liu, man, tin) would give every pinyin
            # name southern readings too: only the table above says when it is Cantonese
            continue
        kept = [s for s in syllables if s in PINYIN_SYLLABLES and s not in _NOT_NAME_SYLLABLES]
        for rank, syllable in enumerate(kept[:2]):
            add(System.SOUTHERN, spelling, syllable, rank)
    # A surname's Cantonese spelling also spells the syllable in given names (Fong: 方, 芳).
    for spelling, readings in CANTONESE.items():
        for rank, reading in enumerate(readings):
            if " " not in reading:
                add(System.SOUTHERN, spelling, reading, rank + 1)
    return tables


SYLLABLE_TABLES = _syllable_tables()


def _surname_aliases() -> dict[System, dict[str, dict[Syllables, int]]]:
    aliases: dict[System, dict[str, dict[Syllables, int]]] = {s: {} for s in System}
    sources = ((System.WADE_GILES, IRREGULAR), (System.SOUTHERN, CANTONESE))
    for system, table in (*sources, (System.SOUTHERN, HOKKIEN)):
        for spelling, readings in table.items():
            entry = aliases[system].setdefault(spelling, {})
            for rank, reading in enumerate(readings):
                entry.setdefault(tuple(reading.split()), rank)
    return aliases


SURNAME_ALIASES = _surname_aliases()


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
def _readings_in(token: str, system: System) -> dict[Syllables, int]:
    table = SYLLABLE_TABLES[system]
    ranks: dict[Syllables, int] = dict(SURNAME_ALIASES[system].get(token, {}))
    for cut in _segmentations(token, table):
        # Bound the product: a joined three-syllable Cantonese name could give 4³ readings.
        options = [sorted(table[piece].items(), key=lambda kv: kv[1])[:3] for piece in cut]
        for combination in itertools.product(*options):
            syllables = tuple(s for s, _ in combination)
            rank = sum(r for _, r in combination)
            ranks[syllables] = min(rank, ranks.get(syllables, rank))
    return ranks


@lru_cache(maxsize=200_000)
def token_readings(token: str, system: System) -> tuple[tuple[Syllables, int], ...]:
    """Pinyin syllable sequences a romanised token may stand for when the name is written in
    `system`, likeliest first. A token the system cannot read falls back to plain pinyin, then
    to any system, at a cost (Zhang Siu Ming mixes pinyin and Cantonese). Empty when no system
    reads it: the token is not Chinese (an English name such as Michael)."""
    ranks = dict(_readings_in(token, system))
    if not ranks:
        for fallback in (System.PINYIN, *System):
            if fallback != system:
                ranks = {s: r + FALLBACK_COST for s, r in _readings_in(token, fallback).items()}
            if ranks:
                break
    ranked = sorted(ranks.items(), key=lambda kv: (kv[1], kv[0]))
    return tuple(ranked[:MAX_TOKEN_READINGS])


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
