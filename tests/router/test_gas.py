"""Fixed gas makes venue choice mixed-integer: the drop/re-add heuristic against brute force."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fillpath.router import route
from tests.router.exact import brute_force, small_problem


# Hypothesis found a case where the drop/re-add choice is 0.47% below the best venue subset (4 pools, 2M gas):
# the heuristic is not exact, so the bound is 1% and the case is kept as an explicit example. The gap per gas
# level is measured in benchmarks/bench_router.py (--only gas).
@settings(max_examples=40, deadline=None)
@example(54619, 4, 0, 2_000_000, 10000.0)
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
    assert plan.net_out >= best - abs(best) // 100 - 2


@settings(max_examples=15, deadline=None)
@given(
    st.integers(0, 10**6),
    st.integers(2, 5),
    st.integers(0, 1),
    st.sampled_from([50_000, 300_000, 2_000_000]),
    st.sampled_from([1e3, 1e4, 1e5]),
)
def test_the_gas_bound_is_above_every_venue_subset(seed: int, pools: int, books: int, gas: int, value: float) -> None:
    """The certificate with gas against brute force (every venue subset, exactly planned): its net bound (the plan's
    gas taken back out) is at least the best subset's net, the plan within 1e-4 of that net, and the gap within 1e-4
    (plus two base units: on a 14,185-unit output the bound's rounding alone is 1.4e-4)."""
    market, req, problem = small_problem(seed, pools, books, gas, value)
    if len(problem.venues) > 6:
        return
    plan = route(market, req)
    best = brute_force(problem)
    assert plan.upper_bound is not None
    assert plan.upper_bound - plan.gas_cost_out >= best
    assert plan.net_out >= best - plan.upper_bound // 10_000 - 2  # the branch and bound closes within 8e-5
    assert plan.upper_bound - plan.expected_out <= plan.upper_bound // 10_000 + 2
