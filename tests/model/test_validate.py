"""The shared validation layer (``model/validate.py``): every boundary refuses the same mistake the same way."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fillpath.model.errors import InvalidInput, printable
from fillpath.model.validate import (
    MAX_SUPPLY_WHOLE,
    bounded_number,
    check_human,
    check_units,
    decode_utf8,
    did_you_mean,
    json_depth,
    parse_json,
    resolve_name,
)


def test_depth_is_measured_without_parsing_and_ignores_brackets_in_strings() -> None:
    assert json_depth('{"a": "[[[[[[", "b": [1, {"c": []}]}') == 4
    assert json_depth("[" * 100_000) == 100_000
    assert json_depth('"\\"[[["') == 0


def test_parse_json_refuses_depth_size_and_non_numbers_before_the_parser() -> None:
    with pytest.raises(InvalidInput, match="nested 100000 deep"):
        parse_json("[" * 100_000, "f")
    with pytest.raises(InvalidInput, match="limit"):
        parse_json("[1]" + " " * 100, "f", max_chars=10)
    for constant in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(InvalidInput, match="not a JSON number"):
            parse_json(f"[{constant}]", "f")
    with pytest.raises(InvalidInput, match="line 1 column 2"):
        parse_json("{", "f")


def test_bytes_that_are_not_utf8_are_named_by_offset() -> None:
    with pytest.raises(InvalidInput, match="byte 3: 0xff"):
        decode_utf8(b"abc\xff", "f")
    assert decode_utf8(b"\xef\xbb\xbf{}", "f") == "{}"  # a BOM is dropped


def test_names_resolve_exactly_with_a_did_you_mean() -> None:
    known = ["lab1", "lab2", "labex"]
    assert resolve_name("labex", known, "VENUE") == "labex"
    with pytest.raises(InvalidInput, match="did you mean 'labex'\\?"):
        resolve_name("LABEX", known, "VENUE")  # a different case is another name, but the one meant is named
    with pytest.raises(InvalidInput, match="known: lab1, lab2, labex"):
        resolve_name("nosuchvenue", known, "VENUE")
    with pytest.raises(InvalidInput, match="empty"):
        resolve_name(" ", known, "VENUE")
    assert did_you_mean("x", []) == "none is configured"


def test_amounts_stay_showable_storable_and_reconcilable() -> None:
    assert check_units(2**256 - 1, "a") == 2**256 - 1
    with pytest.raises(InvalidInput, match="uint256"):
        check_units(2**256, "a")
    with pytest.raises(InvalidInput, match="supply"):
        check_units(MAX_SUPPLY_WHOLE * 10**6 + 1, "a", decimals=6)
    assert check_human(Decimal(MAX_SUPPLY_WHOLE), "a") == MAX_SUPPLY_WHOLE
    with pytest.raises(InvalidInput, match="supply"):
        check_human(Decimal("1e30"), "ETH@labex")
    with pytest.raises(InvalidInput, match=r"1\.111e\+99 is more"):  # a long amount is shown by its magnitude
        check_human(Decimal("1" * 100), "a")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "301", "1e309", "x", ""])
def test_bounded_numbers_refuse_nan_infinity_and_out_of_range(value: str) -> None:
    with pytest.raises(InvalidInput, match="--listen"):
        bounded_number(value, "--listen", low=0, high=300)


def test_messages_quote_hostile_text_harmlessly() -> None:
    exc = InvalidInput("venues[0].\x1b[31mred\n", "bad \u202e", "fix")
    assert "\n" not in str(exc) and "\x1b" not in str(exc) and "\u202e" not in str(exc)
    assert printable("plain") == "plain"
