"""The dual solve's start (router/start.py): a greedy primal's prices. It must depend only on the solve's inputs (a plan
is a function of its snapshot and request, whatever was routed before), price a sale where its optimum does on the
networks where greedy is exact, and lead to the optimum the spot start leads to."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fillpath.router import RouteRequest, newton, route
from fillpath.router.certificate import upper_bound
from fillpath.router.curves import ConstantProductCurve, PiecewiseLinearCurve
from fillpath.router.network import Arc, initial_prices
from fillpath.router.newton import GIVE_UP, solve_flow
from fillpath.router.plan import Plan
from fillpath.router.start import greedy_weights
from tests.router.mixed import FAMILIES, mixed_case
from tests.router.test_crossover import _flow_problem


def _doc(plan: Plan) -> dict[str, Any]:
    doc = plan.to_json()
    doc["stats"].pop("solve_ms")  # type: ignore[union-attr]
    return doc


def test_one_pool_starts_at_its_marginal_rate_after_the_sale() -> None:
    """One path: the greedy is exact, so the source starts at the optimum's price (the pool's rate at the amount)."""
    pool = ConstantProductCurve(10**24, 3 * 10**15, 3000)
    amount = 2e23
    arcs = [Arc(0, 1, pool)]
    spot = initial_prices(2, arcs, frozenset({1}))
    w = greedy_weights(2, arcs, {0: amount}, frozenset({1}), spot)
    assert w[1] == 1.0
    assert w[0] == pytest.approx(pool.rate(amount) / pool.spot, rel=1e-12)
    assert w[0] < 0.8  # far from spot: a 20% sale into the pool


def test_a_full_book_hands_the_rest_to_the_pool() -> None:
    """A capped book level beside a pool: the greedy fills the book (its cap), the rest goes into the pool, and the
    source is priced at the pool's margin there: the optimum's price (the book is full at it)."""
    pool = ConstantProductCurve(10**24, 3 * 10**15, 3000)
    book = PiecewiseLinearCurve([(pool.spot * 1.001, 5e22)])
    arcs = [Arc(0, 1, pool), Arc(0, 1, book)]
    spot = initial_prices(2, arcs, frozenset({1}))
    w = greedy_weights(2, arcs, {0: 2e23}, frozenset({1}), spot)
    assert w[0] == pytest.approx(pool.rate(2e23 - 5e22) / book.spot, rel=1e-9)


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from(FAMILIES[:2]))
def test_a_route_does_not_depend_on_what_was_routed_before(seed: int, family: Any) -> None:
    """Route A, then B (another amount), then A again on one snapshot: A's plan is the same to the wei."""
    case = mixed_case(seed, family)
    a = RouteRequest(str(case.sell), case.amount, str(case.buy), max_hops=4, gas=False)
    b = RouteRequest(str(case.sell), max(1, case.amount * 3), str(case.buy), max_hops=4, gas=False)
    first = _doc(route(case.market, a))
    route(case.market, b)
    assert _doc(route(case.market, a)) == first
    n, arcs, supply, sinks = _flow_problem(seed, FAMILIES.index(family))
    spot = initial_prices(n, arcs, sinks)
    assert greedy_weights(n, arcs, supply, sinks, spot) == greedy_weights(n, arcs, supply, sinks, spot)


@settings(max_examples=6, deadline=None)
@example(237, 2).via("a greedy first try that gave up (explore)")
@given(st.integers(0, 10**6), st.sampled_from([0, 1, 2]))
def test_the_greedy_start_reaches_the_optimum_of_the_spot_start(seed: int, family_index: int) -> None:
    """Both starts end at the same output (to the solve's precision), and each one's certificate bounds the other's
    output (weak duality: neither stopped short of the optimum). As in the router, a first try that gives up hands
    over to the careful try (from spot either way)."""
    n, arcs, supply, sinks = _flow_problem(seed, family_index)
    sols = []
    for greedy in (False, True):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(newton, "GREEDY_START", greedy)
            sol = solve_flow(n, arcs, supply, sinks)
            if sol.imbalance > GIVE_UP:
                sol = solve_flow(n, arcs, supply, sinks, careful=True)
            sols.append(sol)
    if max(s.imbalance for s in sols) > 1e-6:
        return  # the venues cannot carry it, or neither try balances: the router's checks take over (tested there)
    triples = [(a.tail, a.head, a.curve) for a in arcs]
    outs = [sum(o for a, o in zip(arcs, s.outs, strict=True) if a.head in sinks) for s in sols]
    bounds = [upper_bound(list(s.prices), triples, list(supply.items()), sum(supply.values()), sinks) for s in sols]
    assert abs(outs[1] - outs[0]) <= 1e-6 * outs[0]
    assert max(outs) <= min(bounds) * (1 + 1e-9)
