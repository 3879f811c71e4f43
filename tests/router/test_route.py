"""Properties of whole routes on random networks of pools, books and transfers."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.router import RouteRequest, route
from fillpath.router.costs import Costs
from fillpath.router.graph import Graph, candidate_paths
from fillpath.router.optimize import Problem
from fillpath.router.request import resolve
from tests.router.grid import grid_route, path_out
from tests.router.helpers import check_plan
from tests.router.networks import network, value_units

cases = st.tuples(
    st.integers(0, 10**6),  # seed
    st.integers(3, 7),  # tokens
    st.integers(3, 14),  # pools
    st.integers(0, 2),  # books
    st.integers(0, 2),  # transfers
    st.sampled_from([1e2, 1e4, 1e5, 1e6, 3e6]),  # trade value vs ~1e6 pool depth
)


def _setup(case: tuple[int, int, int, int, int, float], **kw: object):  # type: ignore[no-untyped-def]
    seed, tokens, pools, books, transfers, value = case
    market, assets = network(seed, tokens, pools, books=books, transfers=transfers, **kw)  # type: ignore[arg-type]
    amount = value_units(market, assets[0], value)
    return market, assets[0], assets[1], amount


@settings(max_examples=60, deadline=None)
@given(cases, st.sampled_from([0, 30, 500]))
def test_plan_is_exact_conserving_and_deterministic(case, bps) -> None:  # type: ignore[no-untyped-def]
    market, sell, buy, amount = _setup(case)
    req = RouteRequest(str(sell), amount, str(buy), max_hops=3, slippage_bps=bps, gas=False)
    plan = route(market, req)
    check_plan(market, plan, {sell: amount}, {buy}, bps)
    again = route(market, req).to_json()
    first = plan.to_json()
    first.pop("stats")
    again.pop("stats")
    assert first == again


@settings(max_examples=60, deadline=None)
@given(cases)
def test_split_beats_best_single_path_and_the_5pct_grid(case) -> None:  # type: ignore[no-untyped-def]
    market, sell, buy, amount = _setup(case)
    req = RouteRequest(str(sell), amount, str(buy), max_hops=3, gas=False)
    ends = resolve(market, req)
    graph = Graph.build(market.venues, frozenset(), ends.sinks)
    paths = candidate_paths(graph, ends.sources, ends.sinks, 3, amount)
    edges = list({e.key: e for p in paths for e in p.edges}.values())
    problem = Problem(edges, ends.sources, ends.sinks, amount, Costs.of(market, ends, req), 50)
    draft = problem.solve(problem.venues).draft  # the optimizer alone, no single-path fallback
    split = draft.expected_out
    # each leg floors away < 1 base unit of its output asset; coarse intermediates (few base units per
    # numeraire) make that unit worth many units of the buy asset
    costs = Costs.of(market, ends, req)
    rounding = sum(2 * max(1.0, float(costs.to_buy(leg.asset_out))) for leg in draft.legs)
    single = max(path_out(p, amount) for p in paths)
    assert split >= single * (1 - 1e-6) - rounding
    grid = grid_route(market, sell, buy, amount, 3)
    assert split >= grid * (1 - 1e-6) - rounding


@settings(max_examples=30, deadline=None)
@given(cases)
def test_gas_is_charged_once_per_venue_used(case) -> None:  # type: ignore[no-untyped-def]
    market, sell, buy, amount = _setup(case, gas=120_000)
    plan = route(market, RouteRequest(str(sell), amount, str(buy), max_hops=3))
    check_plan(market, plan, {sell: amount}, {buy}, 50)
    venues = {v.id: v for v in market.venues}
    used = {leg.venue for leg in plan.legs}
    gas_wei = sum(venues[v].gas * market.gas_price_wei.get(venues[v].location, 0) for v in used)
    eth = next(a for a in market.prices if a.symbol == "ETH")
    cost = gas_wei * market.prices[eth] * 10 ** market.decimals[buy] / (market.prices[buy] * 10**18)
    assert plan.gas_cost_out == math.ceil(cost)
