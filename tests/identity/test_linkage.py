"""Linkage: comparison levels, Fellegi–Sunter weights with term frequencies, calibrated scores,
blocking, and explanations a reviewer can read."""

from __future__ import annotations

from accord.identity.linkage.compare import (
    Feature,
    Level,
    compare,
    compare_birth,
    compare_name,
    profile,
)
from accord.identity.linkage.index import SORTED_BLOCK, WatchlistIndex
from accord.identity.linkage.score import Frequencies, Model, posteriors
from accord.identity.records import PartialDate, PersonRecord, parse_partial_date
from accord.identity.screening import Decision, Screener


def person(pid: str, name: str, native: str = "", birth: str = "", **fields: str) -> PersonRecord:
    return PersonRecord(
        id=pid,
        name=name,
        name_native=native,
        birth=parse_partial_date(birth) if birth else None,
        sex=fields.get("sex"),
        nationality=fields.get("nationality"),
        passport=fields.get("passport"),
    )


def name_level(a: str, b: str, native_a: str = "", native_b: str = "") -> Level:
    return compare_name(profile(person("a", a, native_a)), profile(person("b", b, native_b)))


def test_name_levels() -> None:
    assert name_level("Cheung Wai", "ZHANG Wei", native_b="张伟") is Level.EXACT
    assert name_level("WANG Ming Xiao", "WANG Xiaoming") is Level.REORDERED
    assert name_level("Wang Xiaoming", "Wang Xiaomin") is Level.SIMILAR
    assert name_level("Wang Xiaoming", "Wang Lihua") is Level.SURNAME_ONLY
    assert name_level("Wang Xiaoming", "Li Lihua") is Level.DIFFERENT
    # 廖 is Liu in Hong Kong (刘 is Lau there); Liu stays 刘 in pinyin.
    assert name_level("LIU Ping", "LIAO Ping", native_b="廖平") is Level.EXACT
    assert name_level("Liu Ping", "刘平") is Level.EXACT


def test_hong_kong_spellings_of_common_name_characters() -> None:
    # Found by the screening benchmark's error analysis: 秦 Chun, 颖 Wing, 佳 Kai, 旭 Yuk,
    # 绿 Luk, 轩 Hin.
    assert name_level("Jenny Chun Na-lam", "QIN Nalin", native_b="秦娜琳") is Level.EXACT
    assert name_level("WU Wing", "Hu Ying", native_b="胡颖") is Level.EXACT
    assert name_level("Kai To Wu", "Jia-tao Hu", native_b="胡佳涛") is Level.EXACT
    assert name_level("Pak Hiu Yuk", "Bai Xiao-xu", native_b="白晓旭") is Level.EXACT
    assert name_level("Cheung Kuen Luk", "Juan-lv Zhang") is Level.EXACT
    assert name_level("Cindy Hin Ho", "何轩") is Level.EXACT


def test_the_cheapest_combinations_of_readings_are_kept_whatever_their_order() -> None:
    from itertools import product

    from accord.identity.names.keys import _product
    from accord.identity.names.romanise import System, token_readings

    tokens = ("ching", "yung", "kai")  # three ambiguous Cantonese syllables: 3 × 3 × 3 readings
    every = sorted(
        sum(cost for _, cost in c)
        for c in product(*(token_readings(t, System.SOUTHERN)[:3] for t in tokens))
    )
    kept = _product(tokens, System.SOUTHERN, 3, 8)
    assert len(every) == 27 and len(kept) == 8
    assert sorted(cost for _, cost in kept) == every[:8]
    in_order = _product(tokens, System.SOUTHERN, 3, 8, by_cost=False)
    assert sorted(cost for _, cost in in_order) != every[:8]  # the first eight in order are not


def test_homophone_characters_speak_against_a_pinyin_agreement() -> None:
    a, b = profile(person("a", "张伟")), profile(person("b", "章伟"))
    levels = compare(a, b)
    assert levels[0] is Level.EXACT
    assert levels[list(Feature).index(Feature.NATIVE)] is Level.HOMOPHONE


def d(text: str) -> PartialDate:
    return parse_partial_date(text)


def test_birth_date_levels() -> None:
    assert compare_birth(d("1980-05-01"), d("1980-05-01")) is Level.EXACT
    assert compare_birth(d("1980-05"), d("1980-05-01")) is Level.YEAR_MONTH
    assert compare_birth(d("1980"), d("1980-05-01")) is Level.YEAR
    assert compare_birth(d("1980-01-05"), d("1980-05-01")) is Level.SWAPPED
    assert compare_birth(d("1981-05-01"), d("1980-05-01")) is Level.NEAR
    assert compare_birth(d("1981"), d("1980-05-01")) is Level.NEAR_YEAR
    assert compare_birth(d("1980-05-02"), d("1980-05-01")) is Level.DIFFERENT
    assert compare_birth(d("1980-06"), d("1980-05-01")) is Level.DIFFERENT
    assert compare_birth(None, d("1980-05-01")) is Level.MISSING


def _watchlist(common: int) -> list[PersonRecord]:
    records = [person(f"z{i}", "ZHANG Wei", "张伟", f"{1950 + i % 50}-01-0{1 + i % 9}")
               for i in range(common)]  # fmt: skip
    records.append(person("rare", "OUYANG Xiu", "欧阳修", "1970-03-04"))
    records += [person(f"x{i}", f"Person{i} Smith", birth="1960") for i in range(200)]
    return records


def test_term_frequency_makes_a_common_name_weigh_less_than_a_rare_one() -> None:
    index = WatchlistIndex.build(_watchlist(common=50))
    model = Model(index.frequencies)
    common_q = profile(person("q1", "Zhang Wei"))
    rare_q = profile(person("q2", "Ouyang Xiu"))
    common = model.table(common_q).rows[0][Level.EXACT]
    rare = model.table(rare_q).rows[0][Level.EXACT]
    assert rare.bits > common.bits + 4
    assert common.u > rare.u


def test_an_agreement_on_an_ambiguous_spelling_is_worth_less() -> None:
    frequencies = Frequencies.of(
        [
            profile(person(f"p{i}", n))
            for i, n in enumerate(["张伟", "蒋伟", "向伟", "张辉", "李明"])
        ]
    )
    model = Model(frequencies)
    exact_pinyin = model.u(Feature.NAME, Level.EXACT, profile(person("q", "Zhang Wei")))
    cantonese = model.u(Feature.NAME, Level.EXACT, profile(person("q", "Cheung Wai")))
    assert cantonese > exact_pinyin  # Cheung Wai may be 张伟, 蒋伟, 向伟 or 张辉


def test_competing_candidates_share_the_probability() -> None:
    alone = posteriors(-10.0, [30.0])
    two = posteriors(-10.0, [30.0, 30.0])
    assert alone[0] > 0.99
    assert abs(two[0] - two[1]) < 1e-12 and two[0] < 0.5
    assert sum(posteriors(-10.0, [30.0, 28.0, 5.0])) <= 1.0


def test_scores_stay_finite_for_huge_and_tiny_weights() -> None:
    assert posteriors(-40.0, [400.0])[0] == 1.0
    assert 0.0 <= posteriors(-40.0, [-400.0])[0] < 1e-100


def test_blocking_finds_the_person_across_scripts_and_a_year_apart() -> None:
    index = WatchlistIndex.build(_watchlist(common=5))
    q = profile(person("q", "Hsiu Ouyang", birth="1971-03-04"))
    found = [index.profiles[i].record.id for i in index.candidates(q)]
    assert found == ["rare"]


def test_blocking_by_document_number_ignores_the_name() -> None:
    records = [person("w", "ZHANG Wei", passport="E12345678")]
    index = WatchlistIndex.build(records)
    q = profile(person("q", "Michael Smith", passport="E12345678"))
    assert index.candidates(q) == [0]


def test_blocking_leaves_out_other_birth_years() -> None:
    index = WatchlistIndex.build(_watchlist(common=50))
    q = profile(person("q", "Zhang Wei", birth="1960-01-02"))
    years = {index.profiles[i].record.birth.year for i in index.candidates(q)}  # type: ignore[union-attr]
    assert years <= {1959, 1960, 1961}


def test_a_namesake_born_another_day_is_not_a_match() -> None:
    screener = Screener(WatchlistIndex.build(_watchlist(common=50)))
    found = screener.screen(person("q", "Wei Zhang", birth="1930-07-07"))
    assert all(c.decision is not Decision.MATCH for c in found)


def test_at_most_one_match_per_query_and_it_is_the_right_person() -> None:
    records = _watchlist(common=50)
    screener = Screener(WatchlistIndex.build(records))
    found = screener.screen(person("q", "Cheung Wai", birth="1953-01-04", sex="M"))
    matches = [c for c in found if c.decision is Decision.MATCH]
    assert [m.candidate_id for m in matches] == ["z3"]
    assert found == sorted(found, key=lambda c: -c.score)


def test_a_swapped_date_still_finds_a_rare_name() -> None:
    screener = Screener(WatchlistIndex.build(_watchlist(common=5)))
    found = screener.screen(person("q", "Au Yeung Sau", birth="1970-04-03"))
    assert found and found[0].candidate_id == "rare"
    assert "day and month swapped" in found[0].explanation


def test_explanation_names_each_feature_with_its_weight_and_the_watchlist_share() -> None:
    screener = Screener(WatchlistIndex.build(_watchlist(common=50)))
    found = screener.screen(person("q", "Cheung Wai", "", "1953-01-04", sex="M"))
    text = found[0].explanation
    assert text.startswith("birth date: 1953-01-04 ~ 1953-01-04: same date of birth [+")
    assert "name: Cheung Wai ~ ZHANG Wei / 张伟 (zhang wei): same name in pinyin" in text
    assert "of the watchlist" in text
    assert text.endswith("]") and "prior:" in text


def test_an_identity_card_number_outweighs_a_different_spelling() -> None:
    card = "11010519491231002X"
    from accord.identity.documents import parse_resident_id

    listed = PersonRecord(
        id="w", name="LI Na", birth=d("1949-12-31"), resident_id=parse_resident_id(card)
    )
    others = [person(f"o{i}", "LI Na", birth="1949-12-31") for i in range(3)]
    screener = Screener(WatchlistIndex.build([listed, *others]))
    query = PersonRecord(id="q", name="Grace Lee", resident_id=parse_resident_id(card))
    found = screener.screen(query)
    assert found[0].candidate_id == "w" and found[0].decision is Decision.MATCH
    assert "identity card: 11010519491231002X = 11010519491231002X" in found[0].explanation


def test_a_name_without_any_surname_reading_does_not_weigh_as_an_unseen_surname() -> None:
    # Western names have no Chinese surname reading; their frequency is unknown, not zero.
    index = WatchlistIndex.build(_watchlist(common=50))
    model = Model(index.frequencies)
    q = profile(person("q", "John Smith"))
    assert compare_name(q, profile(person("c", "SMITH John"))) is Level.REORDERED
    assert model.table(q).rows[0][Level.REORDERED].bits < 6


def test_loose_keys_meet_full_names_but_not_each_other() -> None:
    index = WatchlistIndex.build(
        [person("w1", "ZHANG Wei", "张伟"), person("w2", "Dana Zhang Xiaoming")]
    )
    found = [
        index.profiles[i].record.id
        for i in index.candidates(profile(person("q", "Dana Zhang Wei")))
    ]
    # Dana Zhang Wei meets 张伟 (leaving Dana out) but not Dana Zhang Xiaoming, with whom it
    # shares a name only once each leaves a token out.
    assert found == ["w1"]


def test_common_name_blocks_are_read_within_a_year_either_side() -> None:
    records = [person(f"z{i}", "ZHANG Wei", "张伟", f"{1950 + i}-01-01") for i in range(40)]
    records.append(person("no-year", "Zhang Wei"))
    index = WatchlistIndex.build(records)
    found = {
        index.profiles[i].record.id
        for i in index.candidates(profile(person("q", "张伟", birth="1970-06-01")))
    }
    assert found == {"z19", "z20", "z21", "no-year"}


def test_candidate_bits_equal_the_weights_of_each_comparison() -> None:
    """The fast path (names compared once per distinct name) sums what `compare` and `bits`
    give, candidate by candidate, including namesakes that differ in every other field."""
    records = [
        person("a", "ZHANG Wei", "张伟", "1980-05-01", sex="M", nationality="CN"),
        person("b", "Zhang Wei", "张伟", "1980-01-05", sex="F", nationality="HK"),
        person("c", "Cheung Wai", "", "1980", passport="K1234567"),
        person("d", "ZHANG Wei", "章伟", "", sex="M"),
        person("e", "Wei Zhang", "", "1981-05-01", nationality="CN", passport="E7654321"),
        person("f", "ZHANG Weiming", "张伟明", "1980-05", sex="M"),
        person("g", "Li Na", "李娜", "1980-05-01", sex="F", nationality="CN"),
        person("h", "Michael Smith", "", "1980-05-01"),
    ]
    index = WatchlistIndex.build(records)
    model = Model(index.frequencies)
    queries = [
        person(
            "q1", "Zhang Wei", "张伟", "1980-05-01", sex="M", nationality="CN", passport="K1234567"
        ),
        person("q2", "Cheung Wai", "", ""),
        person("q3", "Michael Smith", "", "1980-05-01", sex="M"),
    ]
    for record in queries:
        q = profile(record)
        table = model.table(q)
        expected = [table.bits(compare(q, c)) for c in index.profiles]
        assert table.candidate_bits(q, index.profiles) == expected
        assert len(set(expected)) >= 3  # the fields do tell the candidates apart


def test_a_large_name_block_is_read_by_year_and_grows_with_the_index() -> None:
    """Blocks of SORTED_BLOCK records or more are sorted by year and read by bisection: the same
    records as filtering the block, and a record added later is found too."""
    records = [
        person(f"z{i}", "ZHANG Wei", "张伟", f"{1950 + (i * 7) % 50}-01-01" if i % 9 else "")
        for i in range(300)
    ]
    index = WatchlistIndex.build(records)
    assert len(records) >= SORTED_BLOCK

    def found(birth: str) -> set[str]:
        q = profile(person("q", "张伟", birth=birth))
        return {index.profiles[i].record.id for i in index.candidates(q)}

    def expected(year: int) -> set[str]:
        return {r.id for r in records if r.birth is None or abs(r.birth.year - year) <= 1}

    for year in (1950, 1970, 1999, 2010):
        assert found(f"{year}-06-01") == expected(year)
    assert len(found("1970-06-01")) < len(records)
    late = person("late", "Zhang Wei", "张伟", "1971-02-03")
    index.add(late)
    records.append(late)
    assert "late" in found("1970-06-01") and found("1970-06-01") == expected(1970)


def test_screened_queries_leave_the_cache_of_name_parts_as_it_was() -> None:
    from accord.identity.linkage.compare import _name_parts

    index = WatchlistIndex.build(_watchlist(common=5))
    screener = Screener(index)
    before = _name_parts.cache_info().currsize
    query = person("q", "Ouyang Xiu Qu", "欧阳修渠", "1970-03-04")
    screener.screen(query)
    assert profile(query, remember=False).pairs == profile(query).pairs
    # only the remembered profile of the last line added an entry
    assert _name_parts.cache_info().currsize == before + 1


def test_one_wrong_letter_in_a_given_syllable_still_finds_the_candidate() -> None:
    # issue 18, item 4: typos in given names never became candidates.
    index = WatchlistIndex.build(
        [
            person("w1", "ZHANG Xiaoming", "张小明", birth="1980-03-04"),
            person("w2", "LIU Xiaoying", birth="1990"),
            person("w3", "WONG Kwok Wing", birth="1970-01-01"),
            person("w4", "CHEN Meiling", birth="1965"),
        ]
    )
    for query, birth, expected in [
        ("Zhang Xiaomng", "1980", "w1"),  # a letter dropped: no syllable spelt
        ("Zhang Xaioming", "1980", "w1"),  # two letters exchanged
        ("Zhang Xiaomin", "1980", "w1"),  # a letter dropped, still a syllable
        ("Zhnag Xiaoming", "1980", "w1"),  # in the surname
        ("LIU Xiaoyng", "1991", "w2"),
        ("Wong Kwok Wng", "1970", "w3"),
        ("Chen Meilng", "1965", "w4"),
    ]:
        q = profile(person("q", query, birth=birth))
        assert [index.profiles[i].record.id for i in index.candidates(q)] == [expected], query


def test_typo_blocks_are_read_only_near_the_birth_year_and_only_for_unknown_names() -> None:
    index = WatchlistIndex.build(
        [person("w1", "ZHANG Xiaoming", birth="1980"), person("w2", "ZHANG Xiaomin", birth="1980")]
    )
    # no year: a wrong syllable alone singles no one out
    assert index.candidates(profile(person("q", "Zhang Xiaomng"))) == []
    # another decade
    assert index.candidates(profile(person("q", "Zhang Xiaomng", birth="1950"))) == []
    # a name the watchlist carries is not widened to its typo neighbours
    found = index.candidates(profile(person("q", "Zhang Xiaomin", birth="1980")))
    assert [index.profiles[i].record.id for i in found] == ["w2"]
