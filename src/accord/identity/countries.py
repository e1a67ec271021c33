"""Countries as lists write them: ISO 3166 alpha-2 and alpha-3 codes, English names, Chinese names
(from the ISO 3166 data and its translations in pycountry), and the forms that sanctions lists and
notices use ("Korea, South", "Burma", "PRC"), read to their alpha-2 code."""

from __future__ import annotations

import gettext
import re
from functools import lru_cache

import pycountry

from accord.core.errors import InvalidInput

# Forms that pycountry does not know, each as written by a published list: the OFAC SDN list
# ("Korea, South", "Korea, North", "Burma", "Russia", "Turkey", "Congo, Democratic Republic of
# the"), INTERPOL notices and Chinese-language lists (台湾, 韩国, 朝鲜), and common short forms.
LIST_FORMS = {
    "korea, south": "KR", "republic of korea": "KR", "korea": "KR", "korea, north": "KP",
    "dprk": "KP", "burma": "MM", "russia": "RU", "turkey": "TR", "turkiye": "TR",
    "macau": "MO", "macao sar": "MO", "macau sar": "MO", "hong kong sar": "HK",
    "hong kong, china": "HK", "macao, china": "MO", "prc": "CN", "p.r.c.": "CN",
    "people's republic of china": "CN", "mainland china": "CN", "china, mainland": "CN",
    "taiwan, china": "TW", "chinese taipei": "TW", "republic of china": "TW", "roc": "TW",
    "uk": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "usa": "US",
    "u.s.": "US", "u.s.a.": "US", "united states of america": "US", "america": "US",
    "congo, democratic republic of the": "CD", "drc": "CD", "congo, republic of the": "CG",
    "ivory coast": "CI", "cape verde": "CV", "swaziland": "SZ", "east timor": "TL",
    "vatican": "VA", "holland": "NL", "czechia": "CZ", "the gambia": "GM", "gambia, the": "GM",
    "bahamas, the": "BS", "micronesia, federated states of": "FM", "palestine": "PS",
    "台湾": "TW", "臺灣": "TW", "中国台湾": "TW", "中國臺灣": "TW", "韩国": "KR", "韓國": "KR",
    "南韩": "KR", "南韓": "KR", "朝鲜": "KP", "北韩": "KP", "北韓": "KP", "中国大陆": "CN",
    "中华人民共和国": "CN", "中華人民共和國": "CN", "澳門": "MO", "香港特别行政区": "HK",
    "澳门特别行政区": "MO", "美國": "US", "英國": "GB", "俄罗斯": "RU", "俄羅斯": "RU",
    "越南": "VN", "缅甸": "MM", "緬甸": "MM", "老挝": "LA", "柬埔寨": "KH", "泰国": "TH",
    "马来西亚": "MY", "新加坡": "SG", "菲律宾": "PH", "印度尼西亚": "ID", "印尼": "ID",
    "日本": "JP", "加拿大": "CA", "澳大利亚": "AU", "澳洲": "AU", "新西兰": "NZ",
}  # fmt: skip


@lru_cache(maxsize=1)
def _chinese_names() -> dict[str, str]:
    """Chinese names of every ISO 3166 country, simplified and traditional."""
    names: dict[str, str] = {}
    for language in ("zh_CN", "zh_TW", "zh_HK"):
        try:
            catalogue = gettext.translation(
                "iso3166-1", pycountry.LOCALES_DIR, languages=[language]
            )
        except OSError:
            continue
        for country in pycountry.countries:
            for english in (country.name, getattr(country, "common_name", None)):
                if english:
                    translated = catalogue.gettext(english)
                    if translated != english:
                        names.setdefault(translated, country.alpha_2)
    return names


@lru_cache(maxsize=4096)
def country_code(text: str) -> str:
    """The alpha-2 code of a country written as a code, a name in English or Chinese, or a form
    lists use. Raise InvalidInput naming the value when it is none of these."""
    written = " ".join(text.strip().split())
    key = written.casefold()
    if key in LIST_FORMS:
        return LIST_FORMS[key]
    if written in _chinese_names():
        return _chinese_names()[written]
    try:
        found = pycountry.countries.lookup(written)
    except LookupError:
        found = None
    if found is not None:
        return str(found.alpha_2)
    if re.fullmatch(r"[a-z]{2}", key):
        # Alpha-2 codes not (or no longer) in ISO 3166, used by passports: XK Kosovo, EU.
        return written.upper()
    raise InvalidInput(
        f"nationality {text!r} is not a country this node knows: write an ISO 3166 code "
        "(CN, CHN) or the country's name in English or Chinese"
    )
