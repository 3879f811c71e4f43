from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.router.venues import uniswap_v3_math as m

ticks = st.integers(m.MIN_TICK, m.MAX_TICK)
prices = st.integers(m.MIN_SQRT_RATIO, m.MAX_SQRT_RATIO - 1)


def test_boundary_values() -> None:
    assert m.get_sqrt_ratio_at_tick(m.MIN_TICK) == m.MIN_SQRT_RATIO
    assert m.get_sqrt_ratio_at_tick(m.MAX_TICK) == m.MAX_SQRT_RATIO
    assert m.get_sqrt_ratio_at_tick(0) == 1 << 96
    assert m.get_tick_at_sqrt_ratio(m.MIN_SQRT_RATIO) == m.MIN_TICK
    assert m.get_tick_at_sqrt_ratio(m.MAX_SQRT_RATIO - 1) == m.MAX_TICK - 1
    for bad_tick in (m.MIN_TICK - 1, m.MAX_TICK + 1):
        with pytest.raises(ArithmeticError):
            m.get_sqrt_ratio_at_tick(bad_tick)
    for bad_price in (m.MIN_SQRT_RATIO - 1, m.MAX_SQRT_RATIO):
        with pytest.raises(ArithmeticError):
            m.get_tick_at_sqrt_ratio(bad_price)


@settings(max_examples=400, deadline=None)
@given(ticks)
def test_tick_round_trip_and_order(tick: int) -> None:
    ratio = m.get_sqrt_ratio_at_tick(tick)
    if tick < m.MAX_TICK:
        assert m.get_tick_at_sqrt_ratio(ratio) == tick
        assert m.get_sqrt_ratio_at_tick(tick + 1) > ratio
    if tick > m.MIN_TICK:
        assert m.get_tick_at_sqrt_ratio(ratio - 1) == tick - 1


@settings(max_examples=400, deadline=None)
@given(prices)
def test_tick_at_price_brackets_the_price(price: int) -> None:
    tick = m.get_tick_at_sqrt_ratio(price)
    assert m.get_sqrt_ratio_at_tick(tick) <= price
    assert tick == m.MAX_TICK or price < m.get_sqrt_ratio_at_tick(tick + 1)


@settings(max_examples=200, deadline=None)
@given(st.integers(-200_000, 200_000))
def test_sqrt_ratio_close_to_real_value(tick: int) -> None:
    """The magic constants give sqrt(1.0001^tick)*2^96 to within a few parts in 10^15 (an independent check
    of the table, computed with 60-digit decimals)."""
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal("1.0001") ** tick
        exact = exact.sqrt() * (1 << 96)
        got = Decimal(m.get_sqrt_ratio_at_tick(tick))
        assert abs(got - exact) / exact < Decimal("1e-15")


big = st.integers(0, 2**256 - 1)


@settings(max_examples=300, deadline=None)
@given(big, big, st.integers(1, 2**256 - 1))
def test_mul_div_exact_or_reverts(a: int, b: int, d: int) -> None:
    if a * b // d >= 2**256:
        with pytest.raises(ArithmeticError):
            m.mul_div(a, b, d)
        return
    assert m.mul_div(a, b, d) == a * b // d
    if -(-a * b // d) < 2**256:
        assert m.mul_div_rounding_up(a, b, d) == -(-a * b // d)


liquidity = st.integers(1, 2**128 - 1)


@settings(max_examples=300, deadline=None)
@given(prices, prices, liquidity)
def test_amount_deltas_round_up_by_at_most_one(pa: int, pb: int, liq: int) -> None:
    for delta in (m.amount0_delta, m.amount1_delta):
        try:
            down = delta(pa, pb, liq, False)
            up = delta(pa, pb, liq, True)
        except ArithmeticError:
            continue
        assert down <= up <= down + 1
        assert delta(pb, pa, liq, False) == down  # order of prices does not matter


@settings(max_examples=400, deadline=None)
@given(prices, prices, liquidity, st.integers(-(2**200), 2**200), st.sampled_from([0, 100, 500, 3000, 10000]))
def test_swap_step_respects_amount_and_target(current: int, target: int, liq: int, remaining: int, fee: int) -> None:
    try:
        price, amount_in, amount_out, fee_amount = m.compute_swap_step(current, target, liq, remaining, fee)
    except ArithmeticError:
        return
    zero_for_one = current >= target
    # The price moves toward the target and never past it.
    if zero_for_one:
        assert target <= price <= current
    else:
        assert current <= price <= target
    if remaining >= 0:
        assert amount_in + fee_amount <= remaining
    else:
        assert amount_out <= -remaining
    assert min(amount_in, amount_out, fee_amount) >= 0
