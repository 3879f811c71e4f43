from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.router.venues import uniswap_v3_math as m
from fillpath.router.venues.uniswap_v3 import UniswapV3Pool
from tests.router.venues import laws

T0 = AssetId("USDC", "lab")
T1 = AssetId("WETH", "lab")


def random_pool(seed: int) -> UniswapV3Pool:
    """A pool with 1-6 random positions (some not covering the price, some beyond a bitmap word)."""
    rng = random.Random(seed)
    spacing, fee = rng.choice([(1, 100), (10, 500), (60, 3000), (200, 10000)])
    tick = rng.randrange(-300_000, 300_000)
    price = rng.randrange(m.get_sqrt_ratio_at_tick(tick), m.get_sqrt_ratio_at_tick(tick + 1))
    net: dict[int, int] = {}
    active = 0
    for _ in range(rng.randint(1, 6)):
        center = tick // spacing + rng.randint(-600, 600)
        half = rng.choice([1, 3, 50, 400])
        lower, upper = (center - half) * spacing, (center + half) * spacing
        amount = rng.randrange(10**10, 10**24)
        net[lower] = net.get(lower, 0) + amount
        net[upper] = net.get(upper, 0) - amount
        if lower <= tick < upper:
            active += amount
    listed = tuple((t, n) for t, n in sorted(net.items()) if n != 0)
    return UniswapV3Pool("lab:v3:x", "lab", "0x0", T0, T1, fee, spacing, price, active, tick, listed, 110000, 30000)


seeds = st.integers(0, 2**32)
fractions = st.fractions(Fraction(0), Fraction(1))


@settings(max_examples=60, deadline=None)
@given(seeds, st.lists(fractions, min_size=2, max_size=5))
def test_curve_laws(seed: int, parts: list[Fraction]) -> None:
    pool = random_pool(seed)
    for asset in (T0, T1):
        cap = pool.capacity(asset)
        xs = [int(p * cap) for p in parts] + [cap, cap + 1]
        laws.check_monotone(pool, asset, xs)
        laws.check_marginal_non_increasing(pool, asset, xs)
        for x in xs:
            laws.check_rate_bounds_quote(pool, asset, x)
        assert pool.quote(asset, cap + 10**30) == pool.quote(asset, cap)


@settings(max_examples=60, deadline=None)
@given(seeds, fractions)
def test_amount_at_rate_inverts_marginal_rate(seed: int, part: Fraction) -> None:
    """Sqrt prices are integers, so several inputs share one price and "marginal_rate(x+1) < r" cannot hold
    exactly. What holds: the last unit of x trades at >= r, and a few more price units' worth of input (at the
    liquidity there) takes it below r."""
    pool = random_pool(seed)
    for asset, zfo in ((T0, True), (T1, False)):
        start = pool.marginal_rate(asset, 0)
        cap = pool.capacity(asset)
        for rate in (start * part, start * (1 + part), start * (1 - part / 1000)):
            x = pool.amount_at_rate(asset, rate)
            assert 0 <= x <= cap
            if x == cap or rate == 0:
                continue
            if x > 0:  # the last unit of x still trades at >= r (at a range's end the next one may not)
                assert pool.marginal_rate(asset, x - 1) >= rate
            state = pool.swap(zfo, x) if x else pool.swap(zfo, 0)
            price, liq = state.sqrt_price_x96, state.liquidity
            if liq == 0:
                continue
            step = m.amount0_delta(price - 3, price, liq, True) if zfo else m.amount1_delta(price, price + 3, liq, True)
            slack = step * 10**6 // (10**6 - pool.fee_ppm) + 3
            assert pool.marginal_rate(asset, x + slack) < rate


@settings(max_examples=60, deadline=None)
@given(seeds, fractions)
def test_exact_output_is_consistent_with_exact_input(seed: int, part: Fraction) -> None:
    pool = random_pool(seed)
    for asset in (T0, T1):
        full = pool.quote(asset, pool.capacity(asset))
        want = max(int(full * part), 1)
        needed = pool.quote_out(asset, want)
        if full == 0:
            assert needed is None
            continue
        assert needed is not None
        assert pool.quote(asset, needed) >= want
        assert pool.quote_out(asset, full + 1) is None


def test_no_listed_ticks_means_no_trade() -> None:
    pool = UniswapV3Pool("v", "lab", "0x0", T0, T1, 500, 10, 1 << 96, 10**20, 0, (), 1, 1)
    assert pool.quote(T0, 10**18) == 0
    assert pool.capacity(T0) == 0
    assert pool.marginal_rate(T1, 0) == 0


def test_swap_stops_at_the_listed_edge() -> None:
    """One position [-100, 100]: selling token0 ends exactly at tick -100's price, never below."""
    liq = 10**20
    pool = UniswapV3Pool("v", "lab", "0x0", T0, T1, 0, 10, 1 << 96, liq, 0, ((-100, liq), (100, -liq)), 1, 1)
    result = pool.swap(True, 10**30)
    assert result.sqrt_price_x96 == m.get_sqrt_ratio_at_tick(-100)
    assert result.amount_out == m.amount1_delta(m.get_sqrt_ratio_at_tick(-100), 1 << 96, liq, False)
    assert result.amount_in == m.amount0_delta(m.get_sqrt_ratio_at_tick(-100), 1 << 96, liq, True)
    assert not result.complete
    assert result.ticks_crossed == 1
    assert pool.gas_used(T0, 10**30) == 1 + 1 * 1
    assert pool.gas_used(T0, 10) == 1
