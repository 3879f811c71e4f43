"""The mixed-integer reference of the benchmark (benchmarks/reference_gas.py) against brute force on a tiny market.

The reference is what issue 15's fixed-cost families are measured against, so its two ends are checked here: on one
pair with two pools, one of them paying gas, the best net output is found by brute force (every venue subset, the
split by sampling then an integer search, every output the pools' exact quote) and the reference's lower end must
equal it within 1e-6 and its upper end must not be below it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import pytest

from fillpath.model.assets import AssetId
from fillpath.router import RouteRequest
from fillpath.router.market import Market
from fillpath.router.venues.uniswap_v2 import UniswapV2Pair

pytest.importorskip("highspy", reason="benchmark-only dependency: install benchmarks/requirements.txt (.venv-bench)")
pytest.importorskip("scipy", reason="benchmark-only dependency: install benchmarks/requirements.txt (.venv-bench)")

from benchmarks.reference_gas import sandwich  # after the skips: it imports highspy and scipy

WETH, USDC, ETH = AssetId("WETH", "eth"), AssetId("USDC", "eth"), AssetId("ETH", "eth")
GAS_UNITS, GWEI = 90_000, 20


def _market() -> Market:
    """A shallow gas-free pool (0.3%, ~$200k) and a deep pool that pays 90,000 gas (0.05%, ~$20M)."""
    shallow = UniswapV2Pair("shallow", "eth", "0x0", WETH, USDC, 33 * 10**18, 100_000 * 10**6, 3000, 0)
    deep = UniswapV2Pair("deep", "eth", "0x0", WETH, USDC, 3_300 * 10**18, 9_950_000 * 10**6, 500, GAS_UNITS)
    return Market(
        (shallow, deep),
        decimals={WETH: 18, USDC: 6, ETH: 18},
        prices={WETH: Fraction(3000), USDC: Fraction(1), ETH: Fraction(3000)},
        holdings={},
        gas_price_wei={"eth": GWEI * 10**9},
        native={"eth": ETH},
    )


def _best_split(f: Callable[[int], int], amount: int) -> int:
    """max over integer x in [0, amount] of f(x), f concave up to rounding: 20,001 samples, then a ternary search on
    the integers between the best sample's neighbours, then a scan of the last few."""
    n = 20_000
    xs = [amount * k // n for k in range(n + 1)]
    values = [f(x) for x in xs]
    k = max(range(n + 1), key=values.__getitem__)
    lo, hi = xs[max(0, k - 1)], xs[min(n, k + 1)]
    while hi - lo > 8:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if f(m1) < f(m2):
            lo = m1
        else:
            hi = m2
    best: int = max([*values, *(f(x) for x in range(lo, hi + 1))])
    return best


def _brute_force(market: Market, amount: int) -> tuple[int, bool]:
    """(the best net output over every subset of the two pools, whether it uses the deep one); the deep pool's gas
    is rounded up as a plan's."""
    shallow, deep = market.venues
    gas = math.ceil(Fraction(GAS_UNITS * GWEI * 10**9 * 3000 * 10**6, 10**18))  # wei -> ETH -> USDC base units
    alone = shallow.quote(WETH, amount)
    with_deep = max(
        deep.quote(WETH, amount) - gas,
        _best_split(lambda x: shallow.quote(WETH, amount - x) + deep.quote(WETH, x), amount) - gas,
    )
    return max(alone, with_deep), with_deep > alone


@pytest.mark.parametrize("weth", [Fraction(1, 10), Fraction(3), Fraction(300)])
def test_the_sandwich_holds_the_brute_force_optimum(weth: Fraction) -> None:
    """0.1 WETH: the shallow pool alone beats paying $5.40 of gas; 3 and 300 WETH: the deep pool pays for itself."""
    market = _market()
    amount = int(weth * 10**18)
    best, deep = _brute_force(market, amount)
    assert deep == (weth > 1)  # the premise: both choices of the fixed-cost venue are exercised
    ends = sandwich(market, RouteRequest(str(WETH), amount, str(USDC), max_hops=4, gas=True))
    assert ends.status == "optimal"
    assert ends.lower == pytest.approx(best, rel=1e-6)
    assert ends.lower <= best  # an achievable value: never above the optimum
    assert ends.upper >= best
    assert ends.width <= 1e-6
    assert ("deep" in ends.used) == deep
