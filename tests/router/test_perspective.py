"""The perspective relaxation of fixed costs (router/perspective.py): a valid bound on every venue subset's best plan,
also with venues forced on or switched off (the branch and bound's nodes), near the minimum of the fixed-cost dual,
and seed 39 of the gas family (issue 15's last case above 1e-4) certified."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.errors import InvalidInput
from fillpath.router import RouteRequest, route
from fillpath.router.certificate import FixedCosts, priced_bound
from fillpath.router.curves import ConstantProductCurve, FloatCurve
from fillpath.router.optimize import Problem
from tests.router.exact import small_problem
from tests.router.helpers import check_plan
from tests.router.mixed import FAMILIES, mixed_case


def _subset_nets(problem: Problem) -> dict[frozenset[str], int]:
    """The best exact net (output less gas, rounded up) per set of venues a plan uses, over the plans of every venue
    subset that carries the amount (a subset's plan may leave some of its venues unused: it pays no gas for them)."""
    nets: dict[frozenset[str], int] = {}
    venues = sorted(problem.venues)
    for k in range(1, len(venues) + 1):
        for subset in combinations(venues, k):
            try:
                sol = problem.solve(frozenset(subset))
            except InvalidInput:
                continue
            used = frozenset(leg.venue for leg in sol.draft.legs)
            nets[used] = max(nets.get(used, -(10**30)), sol.draft.expected_out - int(-(-sol.cost // 1)))
    return nets


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 10**6),
    st.integers(2, 5),
    st.integers(0, 1),
    st.sampled_from([50_000, 300_000, 2_000_000]),
    st.sampled_from([1e3, 1e4, 1e5]),
    st.integers(0, 2),
    st.integers(0, 10**6),
)
def test_the_perspective_bound_is_above_every_venue_subset(
    seed: int, pools: int, books: int, gas: int, value: float, pattern: int, pick: int
) -> None:
    """Brute force over every venue subset (exact plans): the Newton-minimized bound is at least the best net, over
    all plans (``pattern`` 0), over those that use a venue forced on (1), over those without a venue switched off (2):
    the three kinds of node of the branch and bound."""
    _, _, problem = small_problem(seed, pools, books, gas, value)
    if len(problem.venues) > 6:
        return
    nets = _subset_nets(problem)
    if not nets:
        return
    try:
        sol = problem.solve(problem.venues)
    except InvalidInput:
        return
    parts = problem.bound_parts(sol.prices, fixed_costs=True)
    assert parts.fixed is not None
    venue = parts.venues[pick % len(parts.venues)]
    index = parts.venues.index(venue)
    if pattern == 1:
        fixed, allowed = replace(parts.fixed, forced=frozenset({index})), [s for s in nets if venue in s]
    elif pattern == 2:
        fixed, allowed = replace(parts.fixed, banned=frozenset({index})), [s for s in nets if venue not in s]
    else:
        fixed, allowed = parts.fixed, list(nets)
    if not allowed:
        return
    bound, _ = priced_bound(parts.prices, parts.arcs, parts.sources, parts.amount, parts.sinks, fixed, smooth=True)
    assert bound >= max(nets[s] for s in allowed)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(10**4, 10**7), st.floats(0.95, 1.05), st.sampled_from([500, 3000, 10_000])),
        min_size=2,
        max_size=6,
    ),
    st.floats(0.001, 0.5),
    st.floats(1e-5, 3e-3),
)
def test_newton_finds_the_minimum_of_the_fixed_cost_dual(
    pools: list[tuple[int, float, int]], size: float, gas_share: float
) -> None:
    """Parallel pools between one source and the sink: the dual has one free price, so its minimum is found by a
    scan; the bound at Newton's prices (from spot, where every pool counts its whole arbitrage) is within 1e-6 of it."""
    arcs: list[tuple[int, int, FloatCurve]] = [
        (0, 1, ConstantProductCurve(ri, int(ri * rate), fee)) for ri, rate, fee in pools
    ]
    depth = sum(ri for ri, _, _ in pools)
    amount = size * depth
    gas = [gas_share * amount] * len(pools)
    fixed = FixedCosts(list(range(len(pools))), [0.0] * len(pools), gas)
    sinks = frozenset({1})
    spot = max(c.spot for _, _, c in arcs)

    def h(p: float) -> int:
        return priced_bound([p, 1.0], arcs, [(0, amount)], amount, sinks, fixed)[0]

    # the scan: a grid, then golden section around its best point (h is convex in the source's price)
    grid = [spot * k / 2000 for k in range(1, 2001)]
    k = min(range(len(grid)), key=lambda i: h(grid[i]))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    for _ in range(80):
        a, b = lo + (hi - lo) * 0.382, lo + (hi - lo) * 0.618
        if h(a) <= h(b):
            hi = b
        else:
            lo = a
    least = min(h(lo), h(grid[k]))
    newton, _ = priced_bound([spot, 1.0], arcs, [(0, amount)], amount, sinks, fixed, smooth=True)
    assert newton <= least * (1 + 1e-6) + 2


def test_seed_39_of_the_gas_family_is_certified_to_1e_4() -> None:
    """Seed 39 of family 4 ($110k, gas on), the last case above 1e-4 (1.9e-4): its plan was 8e-5 below the
    mixed-integer optimum (one WETH pool where two through LINK do better) and its bound stayed open. The relaxation's
    venue choice, tried as a swap by the local search, finds the better plan; the plan nets at least the lower end of
    the mixed-integer reference (benchmarks/reference_gas.py: 108,038,833,252 to 108,039,372,057 units)."""
    case = mixed_case(39, FAMILIES[3])
    plan = route(case.market, RouteRequest(str(case.sell), case.amount, str(case.buy), max_hops=4, gas=True))
    check_plan(case.market, plan, {case.sell: case.amount}, {case.buy}, 50)
    assert plan.net_out >= 108_038_833_252
    assert plan.gap is not None and 0 <= plan.gap <= Fraction(1, 10_000)
