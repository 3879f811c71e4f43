from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.router.venues.uniswap_v2 import UINT112_MAX, UniswapV2Pair
from tests.router.venues import laws

USDC = AssetId("USDC", "lab")
WETH = AssetId("WETH", "lab")


def pair(r0: int, r1: int, fee: int = 3000) -> UniswapV2Pair:
    return UniswapV2Pair("lab:v2:x", "lab", "0x0", USDC, WETH, r0, r1, fee, 90000)


reserves = st.integers(10**3, 10**30)
amounts = st.integers(0, 10**32)


def test_matches_uniswap_v2_library_at_997_over_1000() -> None:
    p = pair(30_000 * 10**6, 10 * 10**18)
    amount_in = 1000 * 10**6
    expected = amount_in * 997 * 10 * 10**18 // (30_000 * 10**6 * 1000 + amount_in * 997)
    assert p.quote(USDC, amount_in) == expected
    # getAmountIn from the library, with 997/1000.
    out = 10**17
    assert p.quote_out(USDC, out) == 30_000 * 10**6 * out * 1000 // ((10 * 10**18 - out) * 997) + 1


@settings(max_examples=300, deadline=None)
@given(reserves, reserves, st.lists(amounts, min_size=2, max_size=6), st.sampled_from([0, 500, 3000, 10000]))
def test_curve_laws(r0: int, r1: int, xs: list[int], fee: int) -> None:
    p = pair(r0, r1, fee)
    for asset in (USDC, WETH):
        laws.check_monotone(p, asset, xs)
        laws.check_marginal_non_increasing(p, asset, xs)
        for x in xs:
            laws.check_rate_bounds_quote(p, asset, x)
            assert p.quote(asset, x) < p.reserves(asset)[1]


@settings(max_examples=300, deadline=None)
@given(reserves, reserves, st.fractions(Fraction(1, 10**30), Fraction(10**30)), st.sampled_from([0, 3000]))
def test_amount_at_rate_is_the_exact_inverse(r0: int, r1: int, rate: Fraction, fee: int) -> None:
    p = pair(r0, r1, fee)
    for asset in (USDC, WETH):
        laws.check_inverse(p, asset, rate)


@settings(max_examples=300, deadline=None)
@given(reserves, reserves, st.integers(1, 10**30))
def test_quote_out_is_within_one_of_the_least_input(r0: int, r1: int, out: int) -> None:
    """getAmountIn always adds 1, so it may ask 1 more than the least input; never less, never 2 more."""
    p = pair(r0, r1)
    needed = p.quote_out(USDC, out)
    if out >= r1 or needed is None:
        assert out >= r1 or r0 * out * 1000 // ((r1 - out) * 997) + 1 > p.capacity(USDC)
        return
    assert p.quote(USDC, needed) >= out
    assert needed <= 2 or p.quote(USDC, needed - 2) < out


def test_capacity_is_the_uint112_room() -> None:
    p = pair(10**18, 10**18)
    assert p.capacity(USDC) == UINT112_MAX - 10**18
    assert p.quote(USDC, 2**200) == p.quote(USDC, p.capacity(USDC))
    assert p.marginal_rate(USDC, p.capacity(USDC)) == 0
