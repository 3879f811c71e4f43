from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fillpath.model.amounts import UINT256_MAX, from_base_units, parse_base_units, to_base_units
from fillpath.model.errors import InvalidInput


@given(units=st.integers(min_value=0, max_value=UINT256_MAX), decimals=st.integers(min_value=0, max_value=30))
def test_base_units_round_trip_exactly(units: int, decimals: int) -> None:
    assert to_base_units(from_base_units(units, decimals), decimals) == units


@given(text=st.decimals(min_value=0, max_value=10**12, places=6, allow_nan=False, allow_infinity=False))
def test_human_amounts_convert_without_rounding(text: Decimal) -> None:
    assert from_base_units(to_base_units(str(text), 6), 6) == text


@pytest.mark.parametrize(
    ("amount", "decimals", "units"),
    [
        ("1.5", 6, 1_500_000),
        ("2000", 18, 2000 * 10**18),
        ("0.00000001", 8, 1),
        ("1_000", 0, 1000),
        (7, 2, 700),
    ],
)
def test_known_conversions(amount: str | int, decimals: int, units: int) -> None:
    assert to_base_units(amount, decimals) == units


@pytest.mark.parametrize(
    ("amount", "decimals", "needle"),
    [
        ("1.0000001", 6, "more than 6 decimal places"),
        ("0.5", 0, "more than 0 decimal places"),
        ("-1", 6, "negative"),
        ("abc", 6, "not a number"),
        ("NaN", 6, "not a finite number"),
        ("Infinity", 6, "not a finite number"),
        (str(2**256), 0, "too large"),
    ],
)
def test_bad_amounts_are_refused_with_the_field_named(amount: str, decimals: int, needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle) as err:
        to_base_units(amount, decimals, field="--amount")
    assert err.value.field == "--amount"


def test_floats_are_refused() -> None:
    with pytest.raises(InvalidInput, match="float"):
        to_base_units(1.5, 6)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [1000, 1.5, "1e3", "0x10", " 1", "", None, "١٢"])
def test_integer_strings_are_strict(bad: object) -> None:
    with pytest.raises(InvalidInput, match="not an integer string"):
        parse_base_units(bad, field="venues[0].reserve0")


def test_integer_strings_parse() -> None:
    assert parse_base_units(str(UINT256_MAX), field="x") == UINT256_MAX
