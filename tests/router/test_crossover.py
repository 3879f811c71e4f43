"""The crossover (router/crossover.py): from a smoothed solve's prices to the exact optimum of the continuous problem.
What it returns is checked by optimality itself: at its prices the dual (the certificate) equals the flow's output,
so no flow does better (weak duality), and the flow is feasible (every node balanced, every arc within its curve)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.router import RouteRequest
from fillpath.router.certificate import upper_bound
from fillpath.router.costs import Costs
from fillpath.router.curves import PiecewiseLinearCurve
from fillpath.router.graph import Graph
from fillpath.router.network import Arc
from fillpath.router.newton import solve_flow
from fillpath.router.optimize import Problem
from fillpath.router.request import resolve
from tests.router.mixed import FAMILIES, mixed_case


def _flow_problem(seed: int, family_index: int) -> tuple[int, list[Arc], dict[int, float], frozenset[int]]:
    family = FAMILIES[family_index]
    case = mixed_case(seed, family)
    req = RouteRequest(str(case.sell), case.amount, str(case.buy), max_hops=4, gas=False)
    ends = resolve(case.market, req)
    graph = Graph.build(case.market.venues, frozenset(), ends.sinks, None, ([s for s, _ in ends.sources], 4))
    edges = [e for es in graph.out_edges.values() for e in es]
    problem = Problem(edges, ends.sources, ends.sinks, case.amount, Costs.of(case.market, ends, req), 50)
    ks = problem._routable(list(range(len(problem.edges))))
    arcs, supply, n, _ = problem._flow_problem(ks, problem.sources, case.amount)
    return n, arcs, supply, frozenset(problem.index[t] for t in problem.sinks)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from([0, 1]))
def test_an_exact_solution_is_optimal_and_feasible(seed: int, family_index: int) -> None:
    n, arcs, supply, sinks = _flow_problem(seed, family_index)
    sol = solve_flow(n, arcs, supply, sinks)
    if sol.tau != 0.0:
        return  # the crossover did not take (the smoothed path's answer is tested through the plans)
    delivered = sum(o for a, o in zip(arcs, sol.outs, strict=True) if a.head in sinks)
    # feasible: each arc's output is its curve's at its input, inputs within the curve, every other node balanced
    for a, x, o in zip(arcs, sol.flows, sol.outs, strict=True):
        assert 0.0 <= x <= a.curve.cap * (1 + 1e-12)
        assert abs(o - a.curve.out(x)) <= 1e-9 * max(o, 1.0) + 1e-6
    held = dict(supply)
    for a, x, o in zip(arcs, sol.flows, sol.outs, strict=True):
        held[a.tail] = held.get(a.tail, 0.0) - x
        held[a.head] = held.get(a.head, 0.0) + o
    total = sum(sol.prices[s] * q for s, q in supply.items())
    assert all(abs(q) * sol.prices[j] <= 1e-8 * total for j, q in held.items() if j not in sinks)
    # optimal: the dual at its prices (the certificate, over the same arcs) is the output, to float precision
    bound = upper_bound(
        list(sol.prices), [(a.tail, a.head, a.curve) for a in arcs], list(supply.items()), sum(supply.values()), sinks
    )
    assert delivered <= bound
    assert bound <= delivered * (1 + 1e-7) + 2


def test_a_zero_fee_transfer_both_ways_is_a_tie_not_a_cycle() -> None:
    """Two nodes joined by free transfers both ways and a pool from each into the sink: the crossover ties their
    prices (the second transfer a consistent tie with no flow) and splits the supply like one deeper pool."""
    from fillpath.router.curves import ConstantProductCurve

    free = PiecewiseLinearCurve([(1.0, 1e12)])
    arcs = [
        Arc(0, 1, free),
        Arc(1, 0, free),
        Arc(0, 2, ConstantProductCurve(10**9, 3 * 10**12, 3000)),
        Arc(1, 2, ConstantProductCurve(10**9, 3 * 10**12, 3000)),
    ]
    sol = solve_flow(3, arcs, {0: 1e8}, frozenset({2}))
    assert sol.tau == 0.0
    assert sol.prices[0] == sol.prices[1]
    assert min(sol.flows[0], sol.flows[1]) == 0.0  # no circulation
    assert abs(sol.flows[2] - sol.flows[3]) <= 1e-6 * sol.flows[2]  # equal pools, equal halves
