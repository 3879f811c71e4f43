"""Fixed gas makes venue choice mixed-integer: the drop/re-add heuristic against brute force."""

from __future__ import annotations

from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.errors import InvalidInput
from fillpath.router import RouteRequest, route
from fillpath.router.costs import Costs
from fillpath.router.graph import Graph, candidate_paths
from fillpath.router.market import Market
from fillpath.router.optimize import Problem
from fillpath.router.request import resolve
from tests.router.networks import network, value_units


def brute_force(problem: Problem) -> int:
    """Best exact net over every subset of venues (same inner solve and plan builder)."""
    best: int | None = None
    venues = sorted(problem.venues)
    for k in range(1, len(venues) + 1):
        for subset in combinations(venues, k):
            try:
                sol = problem.solve(frozenset(subset))
            except InvalidInput:
                continue
            net = sol.draft.expected_out - int(-(-sol.cost // 1))
            best = net if best is None else max(best, net)
    assert best is not None
    return best


def small_problem(
    seed: int, pools: int, books: int, gas: int, value: float
) -> tuple[Market, RouteRequest, Problem]:
    market, assets = network(seed, 3, pools, books=books, gas=gas, depth=10**5)
    amount = value_units(market, assets[0], value)
    req = RouteRequest(str(assets[0]), amount, str(assets[1]), max_hops=2)
    ends = resolve(market, req)
    graph = Graph.build(market.venues, frozenset(), ends.sinks)
    paths = candidate_paths(graph, ends.sources, ends.sinks, 2, amount)
    edges = list({e.key: e for p in paths for e in p.edges}.values())
    return market, req, Problem(edges, ends.sources, ends.sinks, amount, Costs.of(market, ends, req), 50)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10**6),
    st.integers(2, 5),
    st.integers(0, 1),
    st.sampled_from([50_000, 300_000, 2_000_000]),
    st.sampled_from([1e3, 1e4, 1e5]),
)
def test_heuristic_matches_brute_force_on_small_cases(
    seed: int, pools: int, books: int, gas: int, value: float
) -> None:
    market, req, problem = small_problem(seed, pools, books, gas, value)
    if len(problem.venues) > 6:
        return
    plan = route(market, req)
    best = brute_force(problem)
    assert plan.net_out >= best - abs(best) * 1e-9 - 2
