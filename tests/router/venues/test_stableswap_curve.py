"""The StableSwap float curve (the solver's view) against the pool's exact integer math: the same output to
float precision plus the pool's rounding, concave, and ``x_at_rate`` inverting ``rate``."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.router.curves import INF
from fillpath.router.venues.factory import venues_from_snapshot
from fillpath.router.venues.stableswap import StableSwapPool
from tests.router.venues.test_stableswap import COINS, pool

REL = 1e-9


@st.composite
def pools(draw: st.DrawFn) -> tuple[StableSwapPool, int, int]:
    """2–4 coins of 6, 8 or 18 decimals, 1e6–1e12 tokens each (so balanced and up to 1e6:1 imbalanced),
    A from 1 to 5000, and a random direction."""
    n = draw(st.integers(2, 4))
    decimals = [draw(st.sampled_from([6, 8, 18])) for _ in range(n)]
    balances = [draw(st.integers(10**6, 10**12)) * 10**d for d in decimals]
    amp = draw(st.sampled_from([1, 10, 100, 200, 2000, 5000]))
    fee = draw(st.sampled_from([0, 1_000_000, 4_000_000, 30_000_000]))
    i, j = draw(st.permutations(range(n)))[:2]
    return pool(balances, amp, fee, decimals), i, j


@settings(max_examples=150, deadline=None)
@given(pools(), st.lists(st.floats(-9.0, 1.5), min_size=1, max_size=6))
def test_float_output_matches_exact_quote(state: tuple[StableSwapPool, int, int], exponents: list[float]) -> None:
    """Inputs from 1e-9 to 30x the input balance: within 1e-9 relative plus a few base units (the pool's
    ``- 1`` and floor divisions), small trades included (the delta form does not cancel)."""
    p, i, j = state
    curve = p.curve_between(i, j)
    assert curve is p.curve_between(i, j), "built once per direction"
    for e in exponents:
        x = int(p.balances[i] * 10**e)
        exact = p.get_dy(i, j, x)
        assert abs(curve.out(float(x)) - exact) <= REL * exact + 4, (x, exact)


@settings(max_examples=150, deadline=None)
@given(pools(), st.lists(st.floats(-9.0, 1.5), min_size=2, max_size=8))
def test_float_rate_matches_exact_and_is_concave(
    state: tuple[StableSwapPool, int, int], exponents: list[float]
) -> None:
    p, i, j = state
    curve = p.curve_between(i, j)
    assert curve.cap == INF
    assert abs(curve.spot - float(p.marginal_rate_between(i, j, 0))) <= 1e-12 * curve.spot
    xs = sorted(int(p.balances[i] * 10**e) for e in exponents)
    rates = [curve.rate(float(x)) for x in xs]
    assert all(a >= b * (1 - 1e-14) for a, b in pairwise(rates)), "marginal rates non-increasing"
    for x, r in zip(xs, rates, strict=True):
        exact = float(p.marginal_rate_between(i, j, x))
        assert abs(r - exact) <= 1e-9 * exact, (x, r, exact)


@settings(max_examples=150, deadline=None)
@given(pools(), st.floats(-9.0, 1.5))
def test_x_at_rate_inverts_rate(state: tuple[StableSwapPool, int, int], e: float) -> None:
    """Back to the same rate to 1e-10, and to the same input within 1e-9 of the input balance (the rate is
    nearly flat on a high-A pool, so the input it pins down is only that precise)."""
    p, i, j = state
    curve = p.curve_between(i, j)
    x = p.balances[i] * 10**e
    r = curve.rate(x)
    back = curve.x_at_rate(r)
    assert abs(curve.rate(back) - r) <= 1e-10 * r
    assert abs(back - x) <= 1e-9 * p.balances[i]
    assert curve.x_at_rate(curve.spot) == 0.0
    assert curve.x_at_rate(0.0) == INF
    arb_x, arb_out = curve.arb(r, 0.0)
    assert arb_x == back and arb_out == curve.out(back)


def test_pair_views_share_the_pools_curves() -> None:
    """A 3-coin pool is quoted through pair views (as the snapshot factory builds them); each view's float
    curve is the pool's curve for that direction, and two-coin pools answer ``float_curve`` themselves."""
    three = pool([10**24, 2 * 10**12, 3 * 10**12], 200, decimals=[18, 6, 6])
    view = three.pair_view(COINS[0], COINS[2])
    assert view.float_curve(COINS[0]) is three.curve_between(0, 2)
    two = pool([10**24, 10**24], 100)
    assert two.float_curve(COINS[1]) is two.curve_between(1, 0)
    x = 10**22
    assert abs(view.float_curve(COINS[0]).out(float(x)) - view.quote(COINS[0], x)) <= REL * x


def test_float_curve_is_used_by_the_factory_views() -> None:
    """The factory's per-pair venues answer ``float_curve`` (the solver does not fall back to exact math)."""

    class Snap:
        venues = (pool([10**24, 2 * 10**24, 3 * 10**24], 100),)

    views = venues_from_snapshot(Snap())  # type: ignore[arg-type]
    assert len(views) == 6
    for v in views:
        ((a, _),) = v.pairs()
        assert hasattr(v, "float_curve") and v.float_curve(a).spot > 0.0


def test_a_pool_with_an_empty_coin_has_no_float_curve_to_trade() -> None:
    """The pool's get_dy is 0 when any coin is empty (even one not traded): the float curve agrees, so the
    graph drops the edge (spot 0) instead of dividing by zero."""
    p = pool([10**24, 10**24, 0], 100)
    curve = p.curve_between(0, 1)
    assert p.get_dy(0, 1, 10**18) == 0
    assert curve.spot == 0.0 and curve.out(1e18) == 0.0 and curve.rate(1e18) == 0.0


def test_far_out_of_any_depth_the_curve_answers_instead_of_failing() -> None:
    """The lab's 3-coin pool (30M of each coin, A 2000): the solver asked for a rate of ~1e-312, whose input underflows
    the pool's output balance (was a math domain error), and then for the output at that input (was a division by
    zero). Both now answer: a huge input, and an output no larger than the whole balance."""
    p = pool([30 * 10**12, 30 * 10**12, 30 * 10**24], 2000, 1_000_000, [6, 6, 18])
    curve = p.curve_between(0, 2)
    x = curve.x_at_rate(1.000150169206e-312)
    assert x > 1e100 and curve.rate(x) <= 1e-300
    out = curve.out(x)
    assert 0 < out <= 30 * 10**24
    imbalanced = pool([9 * 10**12, 37 * 10**12, 55 * 10**24], 2000, 1_000_000, [6, 6, 18]).curve_between(0, 1)
    far = imbalanced.x_at_rate(1e-312)
    assert 0 < imbalanced.out(far) <= 37 * 10**12
