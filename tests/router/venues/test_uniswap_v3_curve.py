"""The V3 float curve (the solver's view) against the exact swap: same output to float precision plus the
pool's per-step rounding, concave, and ending where the listed ticks end."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.router.venues.uniswap_v3 import UniswapV3Pool
from tests.router.venues.test_uniswap_v3 import T0, T1, random_pool

REL = 1e-9


def _slack(pool: UniswapV3Pool, zfo: bool, amount: int) -> float:
    """What the exact swap's integer rounding may add or take: a few base units of input (at most the spot
    rate each, in output) and of output, per swap step (ranges crossed plus tick-bitmap words)."""
    result = pool.swap(zfo, amount)
    words = abs(result.tick - pool.tick) // (256 * pool.tick_spacing)
    steps = result.ticks_crossed + words + 2
    spot = float(pool.marginal_rate(T0 if zfo else T1, 0))
    return 4.0 * steps * (1.0 + spot)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32), st.lists(st.fractions(Fraction(0), Fraction(1)), min_size=1, max_size=6))
def test_float_curve_matches_exact_quote(seed: int, parts: list[Fraction]) -> None:
    pool = random_pool(seed)
    for asset, zfo in ((T0, True), (T1, False)):
        curve = pool.float_curve(asset)
        cap = pool.capacity(asset)
        assert curve is pool.float_curve(asset), "built once per direction"
        assert abs(curve.cap - cap) <= REL * cap + 4 * (len(pool.ticks) + 2)
        assert curve.out(curve.cap * 10) == curve.out(curve.cap), "no capacity beyond the listed ticks"
        for p in parts:
            x = int(p * cap)
            exact = pool.quote(asset, x)
            assert abs(curve.out(float(x)) - exact) <= REL * exact + _slack(pool, zfo, x), (x, exact)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32), st.lists(st.floats(0.0, 1.2), min_size=2, max_size=12))
def test_float_curve_is_concave_and_inverts(seed: int, parts: list[float]) -> None:
    pool = random_pool(seed)
    for asset in (T0, T1):
        curve = pool.float_curve(asset)
        xs = sorted(p * curve.cap for p in parts)
        rates = [curve.rate(x) for x in xs]
        outs = [curve.out(x) for x in xs]
        assert all(a >= b for a, b in pairwise(rates)), "marginal rates non-increasing"
        assert all(a <= b for a, b in pairwise(outs)), "output non-decreasing"
        assert abs(curve.spot - (curve.rate(0.0) if curve.cap > 0 else 0.0)) <= 1e-12 * curve.spot
        assert abs(curve.spot - float(pool.marginal_rate(asset, 0))) <= 1e-9 * curve.spot
        for x, r in zip(xs, rates, strict=True):
            if 0.0 < x < curve.cap and r > 0.0:
                back = curve.x_at_rate(r)
                assert curve.rate(back) <= r * (1 + 1e-9) or back >= curve.cap
                # the largest input whose rate is still >= r (to float resolution on the piece's reserves)
                assert back >= x - 1e-9 * curve.cap - 1.0
