"""Chinese surnames as data: their readings as surnames, and how they are spelt outside pinyin.

Readings are pinyin syllables without tones, `v` for ü. Where a character is read differently as a
surname (单 Shan, 曾 Zeng, 区 Ou), only the surname readings are listed; where the surname itself
has several readings (覃 Qin or Tan), all are kept, most common first.
"""

from __future__ import annotations

import csv
import pkgutil

# Single-character surnames: the ~150 most frequent (Ministry of Public Security 2020 ranking)
# plus every character whose surname reading differs from its usual one.
SINGLE: dict[str, tuple[str, ...]] = {
    "王": ("wang",), "李": ("li",), "张": ("zhang",), "刘": ("liu",), "陈": ("chen",),
    "杨": ("yang",), "黄": ("huang",), "赵": ("zhao",), "吴": ("wu",), "周": ("zhou",),
    "徐": ("xu",), "孙": ("sun",), "马": ("ma",), "朱": ("zhu",), "胡": ("hu",),
    "郭": ("guo",), "何": ("he",), "林": ("lin",), "高": ("gao",), "罗": ("luo",),
    "郑": ("zheng",), "梁": ("liang",), "谢": ("xie",), "宋": ("song",), "唐": ("tang",),
    "许": ("xu",), "邓": ("deng",), "冯": ("feng",), "韩": ("han",), "曹": ("cao",),
    "曾": ("zeng",), "彭": ("peng",), "萧": ("xiao",), "肖": ("xiao",), "蔡": ("cai",),
    "潘": ("pan",), "田": ("tian",), "董": ("dong",), "袁": ("yuan",), "于": ("yu",),
    "余": ("yu",), "叶": ("ye",), "蒋": ("jiang",), "杜": ("du",), "苏": ("su",),
    "魏": ("wei",), "程": ("cheng",), "吕": ("lv",), "丁": ("ding",), "沈": ("shen",),
    "任": ("ren",), "姚": ("yao",), "卢": ("lu",), "傅": ("fu",), "钟": ("zhong",),
    "姜": ("jiang",), "崔": ("cui",), "谭": ("tan",), "廖": ("liao",), "范": ("fan",),
    "汪": ("wang",), "陆": ("lu",), "金": ("jin",), "石": ("shi",), "戴": ("dai",),
    "贾": ("jia",), "韦": ("wei",), "夏": ("xia",), "邱": ("qiu",), "方": ("fang",),
    "侯": ("hou",), "邹": ("zou",), "熊": ("xiong",), "孟": ("meng",), "秦": ("qin",),
    "白": ("bai",), "江": ("jiang",), "阎": ("yan",), "闫": ("yan",), "薛": ("xue",),
    "尹": ("yin",), "段": ("duan",), "雷": ("lei",), "黎": ("li",), "史": ("shi",),
    "龙": ("long",), "陶": ("tao",), "贺": ("he",), "顾": ("gu",), "毛": ("mao",),
    "郝": ("hao",), "龚": ("gong",), "邵": ("shao",), "万": ("wan",), "钱": ("qian",),
    "严": ("yan",), "赖": ("lai",), "覃": ("qin", "tan"), "洪": ("hong",), "武": ("wu",),
    "莫": ("mo",), "孔": ("kong",), "汤": ("tang",), "向": ("xiang",), "常": ("chang",),
    "温": ("wen",), "康": ("kang",), "施": ("shi",), "文": ("wen",), "牛": ("niu",),
    "樊": ("fan",), "葛": ("ge",), "邢": ("xing",), "安": ("an",), "齐": ("qi",),
    "易": ("yi",), "乔": ("qiao",), "伍": ("wu",), "庞": ("pang",), "颜": ("yan",),
    "倪": ("ni",), "庄": ("zhuang",), "聂": ("nie",), "章": ("zhang",), "鲁": ("lu",),
    "岳": ("yue",), "翟": ("zhai", "di"), "殷": ("yin",), "詹": ("zhan",), "申": ("shen",),
    "欧": ("ou",), "耿": ("geng",), "关": ("guan",), "兰": ("lan",), "焦": ("jiao",),
    "俞": ("yu",), "左": ("zuo",), "柳": ("liu",), "甘": ("gan",), "祝": ("zhu",),
    "包": ("bao",), "宁": ("ning",), "尚": ("shang",), "符": ("fu",), "舒": ("shu",),
    "阮": ("ruan",), "柯": ("ke",), "纪": ("ji",), "梅": ("mei",), "童": ("tong",),
    "凌": ("ling",), "毕": ("bi",), "单": ("shan",), "季": ("ji",), "裴": ("pei",),
    "霍": ("huo",), "涂": ("tu",), "成": ("cheng",), "苗": ("miao",), "谷": ("gu",),
    "盛": ("sheng",), "曲": ("qu",), "翁": ("weng",), "冉": ("ran",), "骆": ("luo",),
    "蓝": ("lan",), "路": ("lu",), "游": ("you",), "辛": ("xin",), "靳": ("jin",),
    "麦": ("mai",), "区": ("ou",), "解": ("xie",), "仇": ("qiu",), "朴": ("piao",),
    "查": ("zha",), "盖": ("ge", "gai"), "乐": ("yue", "le"), "缪": ("miao", "mou"),
    "秘": ("bi",), "召": ("shao",), "繁": ("po",), "员": ("yun",), "尉": ("yu", "wei"),
    "种": ("chong",), "都": ("du",), "长": ("chang",), "折": ("she",), "祭": ("zhai",),
    "难": ("ning",), "华": ("hua",), "过": ("guo",), "重": ("chong",),
    "宓": ("mi", "fu"), "参": ("can",), "句": ("gou",), "隗": ("wei", "kui"), "丘": ("qiu",),
    "车": ("che",), "褚": ("chu",), "卜": ("bu",), "燕": ("yan",), "虞": ("yu",),
}  # fmt: skip

# Compound surnames; a name starting with one of these takes both characters as its surname.
COMPOUND: dict[str, tuple[str, ...]] = {
    "欧阳": ("ou yang",), "司马": ("si ma",), "司徒": ("si tu",), "上官": ("shang guan",),
    "诸葛": ("zhu ge",), "东方": ("dong fang",), "皇甫": ("huang fu",), "尉迟": ("yu chi",),
    "公孙": ("gong sun",), "令狐": ("ling hu",), "慕容": ("mu rong",), "夏侯": ("xia hou",),
    "长孙": ("zhang sun",), "宇文": ("yu wen",), "轩辕": ("xuan yuan",), "澹台": ("tan tai",),
    "端木": ("duan mu",), "闻人": ("wen ren",), "南宫": ("nan gong",), "万俟": ("mo qi",),
    "单于": ("chan yu",), "呼延": ("hu yan",), "申屠": ("shen tu",), "司空": ("si kong",),
    "西门": ("xi men",), "独孤": ("du gu",), "钟离": ("zhong li",), "太史": ("tai shi",),
}  # fmt: skip

# Surname spellings outside Hanyu Pinyin, each with the pinyin surnames it may stand for.
# Cantonese (Hong Kong government romanisation and Macau variants):
CANTONESE: dict[str, tuple[str, ...]] = {
    "chan": ("chen",), "chen": ("chen",), "wong": ("huang", "wang"), "lee": ("li",),
    "li": ("li",), "lau": ("liu",), "liu": ("liao",), "cheung": ("zhang", "xiang", "jiang"),
    "ng": ("wu",),
    "leung": ("liang",), "ho": ("he",), "yip": ("ye",), "tsang": ("zeng",), "kwok": ("guo",),
    "lam": ("lin",), "tang": ("deng", "tang"), "chow": ("zhou",), "tse": ("xie",),
    "fung": ("feng",), "au": ("ou",), "man": ("wen",), "mak": ("mai",), "cheng": ("zheng",),
    "lo": ("luo", "lu"), "law": ("luo",), "yeung": ("yang",), "wu": ("hu", "wu"),
    "chu": ("zhu",), "kwan": ("guan",), "siu": ("xiao", "shao"), "tam": ("tan",),
    "choi": ("cai",), "fong": ("fang",), "hui": ("xu",), "lui": ("lv", "lei"), "luk": ("lu",),
    "kong": ("jiang",), "chiu": ("zhao",), "ko": ("gao",), "so": ("su",), "to": ("du",),
    "poon": ("pan",), "pun": ("pan",), "yu": ("yu",), "yue": ("yu",), "tong": ("tang",),
    "tung": ("dong",), "hung": ("hong", "xiong"), "hon": ("han",), "tsui": ("xu", "cui"),
    "chui": ("xu", "cui"), "shek": ("shi",), "sit": ("xue",), "tai": ("dai",), "ka": ("jia",),
    "koo": ("gu",), "kwong": ("kuang", "guang"), "lai": ("li", "lai"), "mok": ("mo",),
    "pang": ("peng",), "suen": ("sun",), "shum": ("shen",), "sham": ("shen",), "sin": ("xian",),
    "tsoi": ("cai",), "wai": ("wei",), "wan": ("yin", "wen"), "yan": ("yan", "xin"),
    "yau": ("qiu", "you"), "yim": ("yan",), "yiu": ("yao",), "yung": ("rong", "weng"),
    "kung": ("gong",), "kam": ("jin", "gan"), "ching": ("cheng",), "chong": ("zhuang",),
    "kan": ("jian",), "keung": ("jiang",), "lok": ("luo",), "lung": ("long",), "mo": ("mao",),
    "ngai": ("wei",), "ngan": ("yan",), "on": ("an",), "sze": ("shi",), "szeto": ("si tu",),
    "seto": ("si tu",), "auyeung": ("ou yang",), "auyang": ("ou yang",), "szema": ("si ma",),
    "sheungkoon": ("shang guan",), "chukot": ("zhu ge",), "tungfong": ("dong fang",),
    "chiang": ("jiang",), "chun": ("qin",), "kou": ("gao",), "chau": ("zhou", "qiu"),
    "yuen": ("yuan", "ruan"),
    "yuan": ("yuan",), "foo": ("fu", "hu"), "fu": ("fu",), "ting": ("ding",),
}  # fmt: skip

# Hokkien / Teochew (Singapore, Malaysia, Taiwan, the Philippines):
HOKKIEN: dict[str, tuple[str, ...]] = {
    "tan": ("chen",), "lim": ("lin",), "ong": ("wang",), "goh": ("wu",), "chua": ("cai",),
    "teo": ("zhang",), "tay": ("zheng",), "koh": ("xu",), "sim": ("shen",), "yeo": ("yang",),
    "khoo": ("qiu",), "ang": ("hong",), "low": ("liu",), "teh": ("zheng",), "toh": ("du",),
    "quek": ("guo",), "seah": ("she", "xie"), "png": ("fang",), "heng": ("wang",),
    "neo": ("liang",), "oei": ("huang",), "ooi": ("huang",), "ng": ("huang", "wu"),
    "chia": ("xie",), "kang": ("jiang",), "gan": ("yan",), "chew": ("zhou",), "soh": ("su",),
    "yap": ("ye",), "loh": ("lu", "luo"), "hew": ("qiu",), "kwek": ("guo",), "tio": ("zhang",),
    "tjoa": ("cai",), "liem": ("lin",), "oey": ("huang",), "ngo": ("wu",), "tee": ("zheng",),
    "sia": ("xie",), "kho": ("xu",), "phua": ("pan",), "poh": ("fu",), "yeoh": ("yang",),
    "chiam": ("zhan",), "tang": ("chen", "deng"), "lau": ("liu",), "ho": ("he",),
}  # fmt: skip

# Wade-Giles and postal spellings that the syllable-by-syllable Wade-Giles table does not give.
IRREGULAR: dict[str, tuple[str, ...]] = {
    "soong": ("song",), "kuo": ("guo",), "hsieh": ("xie",), "hsu": ("xu",), "hsueh": ("xue",),
    "tsai": ("cai",), "tsao": ("cao",), "tsui": ("cui",), "chou": ("zhou",), "yeh": ("ye",),
    "sze": ("shi", "si"), "szu": ("si",), "ssu": ("si",), "teng": ("deng",), "tu": ("du",),
    "peng": ("peng",), "tseng": ("zeng",), "kung": ("gong", "kong"), "lu": ("lu", "lv"),
    "ouyang": ("ou yang",), "shan": ("shan",), "chao": ("zhao",), "wang": ("wang",),
    "lyu": ("lv",), "lue": ("lv",), "leu": ("lv",), "liu": ("liu",), "yueh": ("yue",),
}  # fmt: skip


def _surname_syllables() -> frozenset[str]:
    readings: set[str] = set()
    for table in (SINGLE, COMPOUND):
        for values in table.values():
            readings.update(values)
    return frozenset(readings)


# Every surname reading, as space-separated syllables ("zhang", "ou yang").
SURNAME_READINGS = _surname_syllables()


def listed_spellings() -> dict[str, dict[str, tuple[str, ...]]]:
    """The sourced table of surname spellings no library gives (`data/surname_spellings.tsv`:
    Macau, Singapore/Malaysia/Philippines Hokkien and Teochew, North-American, Republican-era
    spellings; its header cites the sources): per system name, each spelling and the pinyin
    surnames it stands for, most frequent first."""
    raw = pkgutil.get_data("accord.identity.names", "data/surname_spellings.tsv")
    if raw is None:  # pragma: no cover - shipped with the package
        raise FileNotFoundError("accord/identity/names/data/surname_spellings.tsv")
    lines = [line for line in raw.decode("utf-8").splitlines() if not line.startswith("#")]
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    for row in csv.DictReader(lines, delimiter="\t"):
        readings = tuple(r.strip() for r in row["pinyin"].split(","))
        found.setdefault(row["system"], {})[row["spelling"]] = readings
    return found
