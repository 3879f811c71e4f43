"""Independent optima for tests and benchmarks: brute force over venue subsets, and a high-precision
continuous optimum for one pair over parallel constant-product pools."""

from __future__ import annotations

from decimal import Decimal, getcontext
from itertools import combinations

from fillpath.model.errors import InvalidInput
from fillpath.router import RouteRequest
from fillpath.router.costs import Costs
from fillpath.router.graph import Graph, candidate_paths
from fillpath.router.market import Market
from fillpath.router.optimize import Problem
from fillpath.router.request import resolve
from tests.router.networks import network, value_units
from tests.router.opt_venues import PPM, CPVenue


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


def small_problem(seed: int, pools: int, books: int, gas: int, value: float) -> tuple[Market, RouteRequest, Problem]:
    market, assets = network(seed, 3, pools, books=books, gas=gas, depth=10**5)
    amount = value_units(market, assets[0], value)
    req = RouteRequest(str(assets[0]), amount, str(assets[1]), max_hops=2)
    ends = resolve(market, req)
    graph = Graph.build(market.venues, frozenset(), ends.sinks)
    paths = candidate_paths(graph, ends.sources, ends.sinks, 2, amount)
    edges = list({e.key: e for p in paths for e in p.edges}.values())
    return market, req, Problem(edges, ends.sources, ends.sinks, amount, Costs.of(market, ends, req), 50)


def parallel_optimum(pools: list[CPVenue], amount: int) -> Decimal:
    """The continuous optimum in 60-digit decimals: bisection on λ with the closed-form inverse."""
    getcontext().prec = 60
    million = Decimal(PPM)
    rows = [(Decimal(p.reserve0), Decimal(p.reserve1), (million - p.fee_ppm) / million) for p in pools]

    def x_at(lam: Decimal) -> list[Decimal]:
        return [max(Decimal(0), ((g * ri * ro / lam).sqrt() - ri) / g) for ri, ro, g in rows]

    lo, hi = Decimal(0), max(g * ro / ri for ri, ro, g in rows)
    for _ in range(400):
        mid = (lo + hi) / 2
        if sum(x_at(mid)) > amount:
            lo = mid
        else:
            hi = mid
    xs = x_at(hi)
    return sum((g * x * ro / (ri + g * x) for (ri, ro, g), x in zip(rows, xs, strict=True)), Decimal(0))
