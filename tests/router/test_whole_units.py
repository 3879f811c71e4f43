"""Legs into a coarse intermediate (one base unit worth a noticeable share of the output) buy whole units: the
input past the least amount that buys as many goes to a sibling leg instead of being thrown away. Legs into the sink
of a small output do the same among themselves, so only one leg's fraction of a unit is lost."""

from __future__ import annotations

import math
import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.router import Market, RouteRequest, route
from fillpath.router.build import build
from fillpath.router.curves import curve_for
from fillpath.router.graph import Edge
from tests.router.exact import parallel_optimum
from tests.router.opt_venues import CPVenue

WETH = AssetId("WETH", "l1")
BIG = AssetId("BIG", "l1")  # no decimals, one unit worth 10 WETH: coarse
USDC = AssetId("USDC", "l1")
E18 = 10**18


def _edges(depth: int) -> list[Edge]:
    direct = CPVenue("direct", "l1", WETH, USDC, 10_000 * E18, 30_000_000 * 10**6)
    into = CPVenue("into", "l1", WETH, BIG, depth * 10 * E18, depth)
    out = CPVenue("out", "l1", BIG, USDC, depth, depth * 30_000 * 10**6)
    return [Edge(v, a, b, curve_for(v, a)) for v, a, b in ((direct, WETH, USDC), (into, WETH, BIG), (out, BIG, USDC))]


@settings(max_examples=60, deadline=None)
@given(st.integers(1_000, 1_000_000), st.integers(E18, 50_000 * E18), st.integers(1, 99))
def test_a_coarse_leg_buys_whole_units_and_the_rest_is_sold_elsewhere(depth: int, amount: int, pct: int) -> None:
    edges = _edges(depth)
    weights = [100 - pct, pct, pct]
    plain = build(edges, weights, {WETH: amount}, frozenset({USDC}), 50)
    trimmed = build(edges, weights, {WETH: amount}, frozenset({USDC}), 50, coarse=frozenset({BIG}))
    assert trimmed.amount_in == plain.amount_in == amount
    assert trimmed.expected_out >= plain.expected_out
    legs = {leg.venue: leg for leg in trimmed.legs}
    if "into" in legs:
        into = legs["into"]
        # the least input that buys that many units: one wei less buys one unit less
        assert edges[1].venue.quote(WETH, into.amount_in - 1) < into.amount_out
        assert into.amount_out == {leg.venue: leg for leg in plain.legs}["into"].amount_out
    assert sum(leg.amount_in for leg in trimmed.legs if leg.asset_in == WETH) == amount


def test_the_spare_input_of_a_coarse_leg_is_worth_real_output() -> None:
    """Most of a unit of BIG (~9 WETH) would have bought nothing: the direct pool now sells it."""
    edges = _edges(100_000)
    amount = 2_505 * E18 + 7
    plain = build(edges, [1, 1, 1], {WETH: amount}, frozenset({USDC}), 50)
    trimmed = build(edges, [1, 1, 1], {WETH: amount}, frozenset({USDC}), 50, coarse=frozenset({BIG}))
    gained = trimmed.expected_out - plain.expected_out
    legs = {leg.venue: leg.amount_in for leg in trimmed.legs}
    assert legs["direct"] > amount // 2 > legs["into"]
    assert gained > 10_000 * 10**6  # several WETH at ~3,000 USDC, not rounding noise


CENT = AssetId("EUR", "l1")  # 2 decimals: a few WETH buy only ~1e5-1e6 units of it


def _cent_pools(seed: int, n: int) -> list[CPVenue]:
    rng = random.Random(seed)
    return [
        CPVenue(f"p{i}", "l1", WETH, CENT, r0, r0 * rng.randint(2_999_00, 3_000_00) // E18, 3000)
        for i, r0 in enumerate(rng.randint(50 * E18, 500 * E18) for _ in range(n))
    ]


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10**6), st.integers(2, 5), st.integers(10**15, 3 * E18))
def test_a_small_output_loses_at_most_one_unit_to_the_floors(seed: int, n: int, amount: int) -> None:
    """k parallel legs each floor their output: up to k - 1 units lost beyond the optimum's own fraction. With the
    sink's legs trimmed to whole units, the plan is within one unit of the 60-digit continuous optimum."""
    pools = _cent_pools(seed, n)
    market = Market(tuple(pools), {WETH: 18, CENT: 2}, {WETH: Fraction(3000), CENT: Fraction(1, 100)})
    plan = route(market, RouteRequest(str(WETH), amount, str(CENT), gas=False))
    best = parallel_optimum(pools, amount)
    assert plan.expected_out <= best
    assert plan.expected_out >= math.floor(best) - 1
    assert sum(leg.amount_in for leg in plan.legs) == amount


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(2, 5), st.integers(10**15, 3 * E18))
def test_trimming_the_sink_legs_never_loses_output(seed: int, n: int, amount: int) -> None:
    pools = _cent_pools(seed, n)
    edges = [Edge(p, WETH, CENT, curve_for(p, WETH)) for p in pools]
    weights = [random.Random(seed + i).randint(1, 100) for i in range(n)]
    sinks = frozenset({CENT})
    plain = build(edges, weights, {WETH: amount}, sinks, 50)
    trimmed = build(edges, weights, {WETH: amount}, sinks, 50, coarse=sinks)
    assert trimmed.amount_in == plain.amount_in == amount
    assert trimmed.expected_out >= plain.expected_out
    assert trimmed.expected_out <= plain.expected_out + n - 1  # k legs gain back at most k - 1 fractions
    biggest = max(trimmed.legs, key=lambda leg: leg.amount_in)
    for leg in trimmed.legs:
        if leg is not biggest:  # the least input that buys that many units: one wei less buys one unit less
            assert edges[int(leg.venue[1:])].venue.quote(WETH, leg.amount_in - 1) < leg.amount_out
