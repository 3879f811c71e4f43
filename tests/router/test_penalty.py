"""Venue penalties (``RouteRequest.penalty_bps``): a degraded venue gets less flow, a large enough penalty
removes it, and the plan's amounts stay the venues' exact quotes on the snapshot state."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router import Market, RouteRequest, route
from fillpath.router.build import Draft
from fillpath.router.costs import Costs
from fillpath.router.graph import Graph
from fillpath.router.optimize import Problem
from fillpath.router.plan import Plan
from fillpath.router.request import resolve
from tests.router.helpers import check_plan
from tests.router.networks import network, value_units
from tests.router.opt_venues import BookVenue, CPVenue
from tests.router.test_request import USDC_E, WETH_A, WETH_E, two_chains

WETH = 10**18


def flow(plan: Plan, venue: str) -> int:
    return sum(leg.amount_in for leg in plan.legs if leg.venue == venue)


def parallel(**kw: object) -> Market:
    """Two WETH/USDC pools at the same price on one chain, the second half as deep."""
    base = two_chains()
    venues = (
        CPVenue("eth:a", "eth", WETH_E, USDC_E, 1000 * WETH, 3_000_000 * 10**6, 3000),
        CPVenue("eth:b", "eth", WETH_E, USDC_E, 500 * WETH, 1_500_000 * 10**6, 3000),
    )
    return Market(venues, base.decimals, base.prices, {}, base.gas_price_wei, base.native)


def problem_for(market: Market, req: RouteRequest) -> Problem:
    ends = resolve(market, req)
    graph = Graph.build(market.venues, req.exclude, ends.sinks, req.penalty_bps)
    edges = [e for es in graph.out_edges.values() for e in es]
    costs = Costs.of(market, ends, req)
    return Problem(edges, ends.sources, ends.sinks, req.amount, costs, req.slippage_bps, req.penalty_bps)


def sell(market: Market, amount: int, **kw: object) -> Plan:
    plan = route(market, RouteRequest("WETH@eth", amount, "USDC@eth", gas=False, **kw))  # type: ignore[arg-type]
    check_plan(market, plan, {WETH_E: amount}, {USDC_E}, 50)  # every leg re-quoted: exact on the snapshot
    return plan


def test_a_penalized_venue_gets_less_flow_and_the_plan_stays_exact() -> None:
    market = parallel()
    plain = sell(market, 60 * WETH)
    assert flow(plain, "eth:a") == pytest.approx(40 * WETH, rel=1e-6)  # equal prices: split by depth
    shares = [flow(sell(market, 60 * WETH, penalty_bps={"eth:a": bps}), "eth:a") for bps in (10, 30, 60)]
    assert flow(plain, "eth:a") > shares[0] > shares[1] > shares[2] > 0
    penalized = sell(market, 60 * WETH, penalty_bps={"eth:a": 30})
    assert penalized.expected_out < plain.expected_out  # the penalty costs real output, as it should
    assert penalized.net_out == penalized.expected_out  # but it is not a cost the plan reports (gas is off)


def test_a_large_enough_penalty_removes_the_venue() -> None:
    market = parallel()
    assert flow(sell(market, 6 * WETH, penalty_bps={"eth:a": 200}), "eth:a") > 0
    # 6 WETH alone move pool b's marginal rate 2.4% below spot: a venue docked more than that gets nothing
    for bps in (300, 10_000):
        plan = sell(market, 6 * WETH, penalty_bps={"eth:a": bps})
        assert [leg.venue for leg in plan.legs] == ["eth:b"]
        assert plan.expected_out == market.venues[1].quote(WETH_E, 6 * WETH)


def test_a_zero_penalty_changes_nothing() -> None:
    market = parallel()
    zero, plain = sell(market, 60 * WETH, penalty_bps={"eth:a": 0}), sell(market, 60 * WETH)
    assert (zero.legs, zero.paths, zero.net_out) == (plain.legs, plain.paths, plain.net_out)


def test_a_penalized_order_book_gets_less_flow() -> None:
    """Order books are piecewise-linear curves: the penalty scales each level's rate."""
    base = parallel()
    levels = tuple((Fraction(2990 * 10**6 - k * 10**6, WETH), 5 * WETH) for k in range(20))
    book = BookVenue("eth:book", "eth", WETH_E, USDC_E, levels, levels, 1000)
    market = Market((*base.venues, book), base.decimals, base.prices, {}, base.gas_price_wei, base.native)
    plain = sell(market, 60 * WETH)
    assert flow(plain, "eth:book") > 0
    penalized = sell(market, 60 * WETH, penalty_bps={"eth:book": 40})
    assert 0 < flow(penalized, "eth:book") < flow(plain, "eth:book")


def test_a_penalty_moves_flow_across_chains() -> None:
    """Selling WETH held on two chains into USDC on eth: penalizing the arb pool sends more through eth. (35 WETH:
    eth's 30 could carry it alone, so how much comes from arb is a choice; at 45 the optimum already takes only the
    15 eth cannot hold.)"""
    market = two_chains()
    plain = route(market, RouteRequest("WETH", 35 * WETH, "USDC@eth", gas=False))
    penalized = route(market, RouteRequest("WETH", 35 * WETH, "USDC@eth", gas=False, penalty_bps={"arb:pool": 50}))
    sources = {WETH_E: 30 * WETH, WETH_A: 20 * WETH}
    for plan in (plain, penalized):
        by_source = {a: sum(leg.amount_in for leg in plan.legs if leg.asset_in == a) for a in sources}
        check_plan(market, plan, by_source, {USDC_E}, 50)
    assert 0 < flow(penalized, "arb:pool") < flow(plain, "arb:pool")
    assert flow(penalized, "bridge:usdc") < flow(plain, "bridge:usdc")


def test_gas_is_reported_without_the_penalty() -> None:
    """With gas on, the plan's gas_cost_out is the gas of the venues it uses, never the penalty."""
    market = two_chains()
    req = RouteRequest("WETH@eth", 50 * WETH, "USDC@eth", penalty_bps={"eth:pool2": 25})
    plan = route(market, req)
    check_plan(market, plan, {WETH_E: 50 * WETH}, {USDC_E}, 50)
    gas = problem_for(market, req).cost_of(Draft(plan.legs, plan.paths, plan.amount_in, plan.expected_out))
    assert plan.gas_cost_out == (gas.numerator + gas.denominator - 1) // gas.denominator


@pytest.mark.parametrize("bps", [-1, 10_001, True, 1.5])
def test_a_bad_penalty_names_the_venue(bps: object) -> None:
    with pytest.raises(InvalidInput, match=r"penalty_bps\.eth:a"):
        RouteRequest("WETH@eth", WETH, "USDC@eth", penalty_bps={"eth:a": bps})  # type: ignore[dict-item]


def test_the_request_keeps_its_own_copy_of_the_penalties() -> None:
    given_map = {"eth:a": 30}
    req = RouteRequest("WETH@eth", WETH, "USDC@eth", penalty_bps=given_map)
    given_map["eth:a"] = 10_000
    assert req.penalty_bps == {"eth:a": 30}


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6), st.integers(3, 6), st.integers(3, 10), st.integers(1, 10_000), st.integers(0, 20))
def test_penalized_plans_are_exact_on_random_networks(seed: int, tokens: int, pools: int, bps: int, which: int) -> None:
    market, assets = network(seed, tokens, pools, books=1, transfers=1)
    amount = value_units(market, assets[0], 1e5)
    venue = market.venues[which % len(market.venues)].id
    plan = route(
        market, RouteRequest(str(assets[0]), amount, str(assets[1]), max_hops=4, gas=False, penalty_bps={venue: bps})
    )
    check_plan(market, plan, {assets[0]: amount}, {assets[1]}, 50)
    if bps == 10_000:
        assert venue not in {leg.venue for leg in plan.legs}


def test_penalty_value_of_a_two_hop_leg_is_its_share_of_the_sink_output() -> None:
    """A penalized first hop is docked its bps of what its output finally yields at the sink."""
    mid = AssetId("DAI", "eth")
    hop1 = CPVenue("eth:h1", "eth", WETH_E, mid, 1000 * WETH, 3_000_000 * WETH, 3000)
    hop2 = CPVenue("eth:h2", "eth", mid, USDC_E, 3_000_000 * WETH, 3_000_000 * 10**6, 3000)
    base = two_chains()
    market = Market((hop1, hop2), {**base.decimals, mid: 18}, base.prices, {}, base.gas_price_wei, base.native)
    req = RouteRequest("WETH@eth", 10 * WETH, "USDC@eth", gas=False, penalty_bps={"eth:h1": 100})
    plan = route(market, req)
    assert [leg.venue for leg in plan.legs] == ["eth:h1", "eth:h2"]
    draft = Draft(plan.legs, plan.paths, plan.amount_in, plan.expected_out)
    assert problem_for(market, req).penalty_of(draft) == Fraction(plan.expected_out, 100)
    req2 = RouteRequest("WETH@eth", 10 * WETH, "USDC@eth", gas=False, penalty_bps={"eth:h1": 100, "eth:h2": 30})
    assert problem_for(market, req2).penalty_of(draft) == Fraction(plan.expected_out * 130, 10_000)
