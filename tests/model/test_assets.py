from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fillpath.model.assets import AssetId, Location, LocationKind
from fillpath.model.errors import InvalidInput


def test_parse_and_print() -> None:
    a = AssetId.parse("USDC@lab1")
    assert (a.symbol, a.location, str(a)) == ("USDC", "lab1", "USDC@lab1")
    assert AssetId.parse("USDC@lab1") == a
    assert hash(AssetId.parse("USDC@lab1")) == hash(a)


@given(
    symbol=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,10}", fullmatch=True),
    location=st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}", fullmatch=True),
)
def test_round_trip(symbol: str, location: str) -> None:
    assert AssetId.parse(str(AssetId(symbol, location))) == AssetId(symbol, location)


@pytest.mark.parametrize("bad", ["USDC", "@lab1", "USDC@", "US DC@lab1", "USDC@Lab1", "USDC@lab1@x"])
def test_bad_ids_name_the_field(bad: str) -> None:
    with pytest.raises(InvalidInput) as err:
        AssetId.parse(bad, field="--sell")
    assert err.value.field == "--sell"


def test_evm_location_needs_a_chain_id() -> None:
    assert Location("lab1", LocationKind.EVM, 31337).chain_id == 31337
    with pytest.raises(InvalidInput, match="chain_id"):
        Location("lab1", LocationKind.EVM)


def test_ids_are_interned_so_equality_is_identity_through_parse_pickle_and_copy() -> None:
    import copy
    import pickle
    from dataclasses import replace

    a = AssetId("USDC", "lab1")
    assert AssetId.parse("USDC@lab1") is a
    assert pickle.loads(pickle.dumps(a)) is a
    assert copy.copy(a) is a and copy.deepcopy({a: 1}) == {a: 1}
    assert replace(a, location="lab2") is AssetId("USDC", "lab2")
    assert a != AssetId("USDC", "lab2") and a != "USDC@lab1"
    with pytest.raises(AttributeError):
        a.symbol = "DAI"  # type: ignore[misc]


@given(
    ids=st.lists(
        st.tuples(
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,4}", fullmatch=True),
            st.from_regex(r"[a-z0-9][a-z0-9_-]{0,4}", fullmatch=True),
        ),
        max_size=8,
    )
)
def test_ids_order_by_symbol_then_location(ids: list[tuple[str, str]]) -> None:
    made = [AssetId(s, loc) for s, loc in ids]
    assert [(x.symbol, x.location) for x in sorted(made)] == sorted(ids)
    for x in made:
        for y in made:
            key_x, key_y = (x.symbol, x.location), (y.symbol, y.location)
            assert (x < y, x <= y, x > y, x >= y, x == y) == (
                key_x < key_y,
                key_x <= key_y,
                key_x > key_y,
                key_x >= key_y,
                key_x == key_y,
            )
