"""A sampled venue (an aggregator's quoted points) gets a leg at one of its samples: the plan then promises what the
aggregator quoted for exactly that size, not an interpolation between two of its quotes."""

from __future__ import annotations

from fillpath.model.assets import AssetId
from fillpath.router import Market, RouteRequest, route
from fillpath.router.venues.aggregator import Aggregator
from fillpath.router.venues.uniswap_v2 import UniswapV2Pair

WETH, USDC = AssetId("WETH", "x"), AssetId("USDC", "x")
SAMPLES = ((10**18, 2_995 * 10**6), (5 * 10**18, 14_950 * 10**6), (20 * 10**18, 59_000 * 10**6))


def _market() -> Market:
    pairs = tuple(
        UniswapV2Pair(f"x:v2:{k}", "x", f"0x{k:040x}", WETH, USDC, r * 10**18, r * 3000 * 10**6, 3000, 0)
        for k, r in enumerate((1_000, 3_000))
    )
    agg = Aggregator("x:aggregator:a:WETH>USDC", "x", WETH, USDC, SAMPLES, 0)
    return Market(venues=(*pairs, agg), decimals={WETH: 18, USDC: 6})


def test_the_aggregator_leg_sits_on_a_sample_and_promises_its_quote() -> None:
    for amount in (10, 37, 151, 400):
        plan = route(_market(), RouteRequest("WETH@x", amount * 10**18 + 12_345, "USDC@x", gas=False))
        legs = {leg.venue: leg for leg in plan.legs}
        agg = legs.get("x:aggregator:a:WETH>USDC")
        assert agg is not None, amount  # its first segments beat the pools' margins at these sizes
        assert (agg.amount_in, agg.amount_out) in SAMPLES, (amount, agg)
        assert sum(leg.amount_in for leg in plan.legs) == amount * 10**18 + 12_345  # the rest went to a pool
