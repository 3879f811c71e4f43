"""Bridges, transfers, wrapping and sampled aggregator quotes."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.router.venues.aggregator import Aggregator
from fillpath.router.venues.bridge import Bridge
from fillpath.router.venues.transfer import Transfer
from fillpath.router.venues.wrap import Wrap
from tests.router.venues import laws

USDC_ETH = AssetId("USDC", "ethereum")
USDC_ARB = AssetId("USDC", "arbitrum")
WETH = AssetId("WETH", "ethereum")
ETH = AssetId("ETH", "ethereum")


def bridge(
    source_decimals: int = 6,
    target_decimals: int = 6,
    cls: type[Bridge] = Bridge,
    max_amount: int = 5 * 10**12,
) -> Bridge:
    return cls(
        id="bridge:usdc",
        source=USDC_ETH,
        target=USDC_ARB,
        fee_fixed=1_000_000,
        fee_ppm=500,
        latency_s=900,
        max_amount=max_amount,
        gas=150_000,
        source_decimals=source_decimals,
        target_decimals=target_decimals,
    )


def test_bridge_fee_formula() -> None:
    b = bridge()
    # 1000 USDC: 1 USDC fixed + 0.05% = 0.5 USDC.
    assert b.quote(USDC_ETH, 1000 * 10**6) == 1000 * 10**6 - 10**6 - 500_000
    assert b.quote(USDC_ETH, 999_999) == 0  # below the fixed fee
    assert b.quote(USDC_ETH, 10**20) == b.quote(USDC_ETH, b.max_amount)
    assert b.location == "ethereum"
    assert b.pairs() == ((USDC_ETH, USDC_ARB),)
    with pytest.raises(ValueError, match="only takes"):
        b.quote(USDC_ARB, 1)


def test_bridge_converts_decimals_rounding_down() -> None:
    # 18 -> 6 decimals: 1.0000009 units in, less fees, truncated to 6 decimals.
    b = bridge(source_decimals=18, target_decimals=6, max_amount=10**30)
    amount = 10**18 + 999_999_999_999
    net = amount - 1_000_000 - amount * 500 // 10**6
    assert b.quote(USDC_ETH, amount) == net // 10**12
    up = bridge(source_decimals=6, target_decimals=18)
    assert up.quote(USDC_ETH, 10**7) == (10**7 - 10**6 - 5000) * 10**12
    assert up.marginal_rate(USDC_ETH, 0) == Fraction(999_500, 10**6) * 10**12


def test_transfer_is_its_own_kind_with_bridge_math() -> None:
    t = bridge(cls=Transfer)
    assert t.kind == "transfer"
    assert t.quote(USDC_ETH, 10**9) == bridge().quote(USDC_ETH, 10**9)
    assert t != bridge()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**14), min_size=2, max_size=6), st.sampled_from([(6, 6), (18, 6), (6, 18)]))
def test_bridge_laws(xs: list[int], decimals: tuple[int, int]) -> None:
    b = bridge(*decimals)
    laws.check_monotone(b, USDC_ETH, xs)
    laws.check_marginal_non_increasing(b, USDC_ETH, xs)
    for x in xs:
        laws.check_rate_bounds_quote(b, USDC_ETH, x)
        laws.check_inverse(b, USDC_ETH, b.marginal_rate(USDC_ETH, x))


def test_wrap_is_one_to_one_both_ways() -> None:
    w = Wrap("ethereum:wrap:WETH", "ethereum", ETH, WETH, 30_000)
    assert w.quote(ETH, 10**18) == 10**18
    assert w.quote(WETH, 7) == 7
    assert w.capacity(ETH) is None
    assert w.marginal_rate(WETH, 10**30) == 1
    assert w.amount_at_rate(ETH, Fraction(1)) > 10**70
    assert w.amount_at_rate(ETH, Fraction(101, 100)) == 0


SAMPLES = ((10**18, 2995 * 10**6), (10 * 10**18, 29_900 * 10**6), (100 * 10**18, 296_000 * 10**6))


def aggregator(samples: tuple[tuple[int, int], ...] = SAMPLES) -> Aggregator:
    return Aggregator("agg", "ethereum", WETH, USDC_ETH, samples, 250_000)


def test_aggregator_interpolates_and_stops_at_the_last_sample() -> None:
    a = aggregator()
    assert a.quote(WETH, 0) == 0
    assert a.quote(WETH, 10**18 // 2) == 2995 * 10**6 // 2
    # Halfway between the 1st and 2nd sample.
    assert a.quote(WETH, 55 * 10**17) == 2995 * 10**6 + (29_900 - 2995) * 10**6 // 2
    assert a.quote(WETH, 10**18) == 2995 * 10**6
    assert a.capacity(WETH) == 100 * 10**18
    assert a.quote(WETH, 10**21) == 296_000 * 10**6
    assert a.marginal_rate(WETH, 10**18) == Fraction(2995 * 10**6, 10**18)
    assert a.marginal_rate(WETH, 10**18 + 1) == Fraction((29_900 - 2995) * 10**6, 9 * 10**18)
    assert a.marginal_rate(WETH, 100 * 10**18) == 0
    # The second segment's slope is 2989.44 USDC/WETH.
    assert a.amount_at_rate(WETH, Fraction(2990 * 10**6, 10**18)) == 10**18
    assert a.amount_at_rate(WETH, Fraction(2989 * 10**6, 10**18)) == 10 * 10**18


@st.composite
def concave_samples(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    """A concave sampled curve: positive input steps, slopes non-increasing."""
    steps = draw(st.lists(st.integers(1, 10**20), min_size=1, max_size=6))
    slopes = sorted(draw(st.lists(st.fractions(0, 10**4), min_size=len(steps), max_size=len(steps))), reverse=True)
    samples, x, y = [], 0, 0
    for step, slope in zip(steps, slopes, strict=True):
        x += step
        y += int(step * slope)
        samples.append((x, y))
    return tuple(samples)


@settings(max_examples=200, deadline=None)
@given(concave_samples(), st.lists(st.integers(0, 10**21), min_size=2, max_size=6))
def test_aggregator_laws(samples: tuple[tuple[int, int], ...], xs: list[int]) -> None:
    a = aggregator(samples)
    laws.check_monotone(a, WETH, xs)
    for x in xs:
        assert a.quote(WETH, x) <= samples[-1][1]
        laws.check_inverse(a, WETH, a.marginal_rate(WETH, x))


@given(st.integers(0, 10**6 - 1), st.integers(0, 24), st.integers(0, 24), st.integers(0, 10**30))
def test_bridge_float_curve_is_its_exact_marginal_rate_rounded_once(
    fee_ppm: int, source_decimals: int, target_decimals: int, max_amount: int
) -> None:
    b = Bridge("b", USDC_ETH, USDC_ARB, 0, fee_ppm, 0, max_amount, 0, source_decimals, target_decimals)
    curve = b.float_curve(USDC_ETH)
    assert curve.spot == float(b.marginal_rate(USDC_ETH, 0))
    assert curve.cap == float(max_amount)
    with pytest.raises(ValueError, match="only takes"):
        b.float_curve(USDC_ARB)
