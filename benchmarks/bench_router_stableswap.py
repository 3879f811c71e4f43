"""Routing over StableSwap pools: the float curve (``StableSwapPool.float_curve``) against the exact fallback.

Run from the repository root: ``PYTHONPATH=src:. python benchmarks/bench_router_stableswap.py``. The
network: a 2-coin USDC/USDT pool (A 2000), a 3-coin DAI/USDC/USDT pool (A 200, as pair views), and V2-like
pools (``tests/router/opt_venues.CPVenue``) between each stable and WETH. "exact" hides the StableSwap float
curves so the solver evaluates the pools' integer math (``ExactCurve``), as before the float curve existed.
Both plans are exact integer plans (build re-quotes every leg); the output ratio compares them.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction

from tests.router.opt_venues import CPVenue

from fillpath.model.assets import AssetId
from fillpath.router import Market, RouteRequest, route
from fillpath.router import graph as graph_module
from fillpath.router.curves import ExactCurve, FloatCurve
from fillpath.router.venues.base import Venue
from fillpath.router.venues.factory import venues_from_snapshot
from fillpath.router.venues.stableswap import StableSwapPair, StableSwapPool

USDC, USDT, DAI, WETH = (AssetId(s, "x") for s in ("USDC", "USDT", "DAI", "WETH"))
DECIMALS = {USDC: 6, USDT: 6, DAI: 18, WETH: 18}


def market() -> Market:
    two = StableSwapPool("x:curve:2", "x", "0x2", (USDC, USDT), (30 * 10**12, 25 * 10**12), 2000, 1_000_000, 0, (6, 6))
    three = StableSwapPool(
        "x:curve:3",
        "x",
        "0x3",
        (DAI, USDC, USDT),
        (60 * 10**24, 50 * 10**12, 70 * 10**12),
        200,
        4_000_000,
        0,
        (18, 6, 6),
    )

    class Snap:
        venues = (two, three)

    stables: list[Venue] = list(venues_from_snapshot(Snap()))  # type: ignore[arg-type]
    weth = 10**18
    cps = [
        CPVenue("x:v2:weth-usdc", "x", WETH, USDC, 5_000 * weth, 15 * 10**12, 3000),
        CPVenue("x:v2:weth-usdt", "x", WETH, USDT, 4_000 * weth, 12 * 10**12, 3000),
        CPVenue("x:v2:weth-dai", "x", WETH, DAI, 3_000 * weth, 9 * 10**24, 3000),
        CPVenue("x:v2:usdc-dai", "x", USDC, DAI, 2 * 10**12, 2 * 10**24, 500),
    ]
    prices = {USDC: Fraction(1), USDT: Fraction(1), DAI: Fraction(1), WETH: Fraction(3000)}
    return Market((*stables, *cps), DECIMALS, prices)


@contextmanager
def exact_stableswap() -> Iterator[None]:
    """The solver's view of StableSwap venues without their float curve (the state before it existed)."""
    original = graph_module.curve_for

    def curve_for(venue: Venue, asset_in: AssetId) -> FloatCurve:
        if isinstance(venue, StableSwapPool | StableSwapPair):
            return ExactCurve(venue, asset_in)
        return original(venue, asset_in)

    graph_module.curve_for = curve_for
    try:
        yield
    finally:
        graph_module.curve_for = original


def run(m: Market, sell: AssetId, buy: AssetId, amount: int, repeat: int) -> tuple[int, float]:
    best = float("inf")
    out = 0
    for _ in range(repeat):
        started = time.perf_counter()
        out = route(m, RouteRequest(str(sell), amount, str(buy), gas=False)).expected_out
        best = min(best, time.perf_counter() - started)
    return out, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3, help="best of N timings per case")
    args = ap.parse_args()
    cases = [
        ("USDC→USDT small", USDC, USDT, 10_000 * 10**6),
        ("USDC→USDT large", USDC, USDT, 40_000_000 * 10**6),
        ("DAI→USDT large", DAI, USDT, 30_000_000 * 10**18),
        ("WETH→USDT large", WETH, USDT, 3_000 * 10**18),
    ]
    print("| trade | exact-fallback s | float-curve s | speed-up | output float / exact | difference (base units) |")
    print("|---|---|---|---|---|---|")
    for name, sell, buy, amount in cases:
        with exact_stableswap():
            slow_out, slow = run(market(), sell, buy, amount, args.repeat)
        fast_out, fast = run(market(), sell, buy, amount, args.repeat)
        ratio = fast_out / slow_out if slow_out else float("nan")
        print(f"| {name} | {slow:.3f} | {fast:.4f} | {slow / fast:.0f}x | {ratio:.12f} | {fast_out - slow_out} |")


if __name__ == "__main__":
    main()
