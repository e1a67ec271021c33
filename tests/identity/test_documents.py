"""Resident identity card numbers (GB 11643, ISO 7064 MOD 11-2) and passport numbers."""

from __future__ import annotations

from datetime import date

import pytest

from accord.core.errors import InvalidInput
from accord.identity.documents import check_character, normalise_passport, parse_resident_id

# The example number of GB 11643-1999 itself.
STANDARD_EXAMPLE = "11010519491231002X"


def test_check_character_of_the_standard_example() -> None:
    assert check_character(STANDARD_EXAMPLE[:17]) == "X"


def test_valid_number_gives_birth_date_sex_and_region() -> None:
    card = parse_resident_id(STANDARD_EXAMPLE)
    assert card.birth_date == date(1949, 12, 31)
    assert card.sex == "F"  # sequence 002 is even
    assert card.region == "110105"


def test_lower_case_x_and_separators_are_accepted() -> None:
    assert parse_resident_id("110105 19491231 002x").number == STANDARD_EXAMPLE


@pytest.mark.parametrize("wrong", ["110105194912310021", "110105194912310020"])
def test_a_wrong_check_character_is_refused_with_the_expected_one(wrong: str) -> None:
    with pytest.raises(InvalidInput, match="should be X"):
        parse_resident_id(wrong)


def test_a_transposed_digit_is_caught() -> None:
    with pytest.raises(InvalidInput, match="fails its check"):
        parse_resident_id("11010519491213002X")


def test_fifteen_digit_card_is_widened_to_eighteen() -> None:
    card = parse_resident_id("110105491231002")
    assert card.number == STANDARD_EXAMPLE
    assert card.birth_date == date(1949, 12, 31)


def test_impossible_date_and_region_are_refused() -> None:
    first_17 = "11010519491331002"  # month 13
    with pytest.raises(InvalidInput, match="not a date"):
        parse_resident_id(first_17 + check_character(first_17))
    other = "99010519491231002"
    with pytest.raises(InvalidInput, match="province"):
        parse_resident_id(other + check_character(other))


def test_future_birth_date_is_refused() -> None:
    first_17 = "11010520990101001"
    with pytest.raises(InvalidInput, match="impossible"):
        parse_resident_id(first_17 + check_character(first_17))


def test_wrong_length_is_refused() -> None:
    with pytest.raises(InvalidInput, match="18 characters"):
        parse_resident_id("1101051949123100")


def test_passport_numbers_are_normalised() -> None:
    assert normalise_passport(" e 1234-5678 ") == "E12345678"
    with pytest.raises(InvalidInput, match="5 to 20"):
        normalise_passport("E1")
