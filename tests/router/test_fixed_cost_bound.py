"""The certificate with fixed costs (bridge and withdrawal fees, gas) on the benchmark's mixed families, and the cost
of the venue subsets that cannot carry a big sale (issue 15: the p99 of 42-57 s per route on families 3-4)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.errors import InvalidInput
from fillpath.router import RouteRequest, newton, route
from fillpath.router.market import Market
from fillpath.router.plan import Plan
from tests.router.helpers import check_plan
from tests.router.mixed import FAMILIES, Case, mixed_case

FEES, GAS = FAMILIES[2], FAMILIES[3]


def _plan(case: Case, gas: bool, market: Market | None = None) -> Plan:
    request = RouteRequest(str(case.sell), case.amount, str(case.buy), max_hops=4, gas=gas)
    return route(market or case.market, request)


@pytest.mark.parametrize(
    ("family", "seed"),
    [
        # small sales where a $1-20 fee is 1e-3 of the output: the bound counted an arc from the routes into a dead
        # end (priced at spot) of a subset solve: gaps 6.0e-4 and 1.0e-3
        (FEES, 22),
        (FEES, 46),
        # gas on: at the convex solve's prices a small sale's bound was its whole spot value (gaps 4.7e-3, 1.9e-3,
        # 7.9e-4); arcs capped at what a plan can hold and the descent on the fixed-cost dual close them
        (GAS, 49),
        (GAS, 15),
        (GAS, 48),
    ],
)
def test_small_sales_with_fixed_costs_are_certified_to_1e_4(family: object, seed: int) -> None:
    assert family in (FEES, GAS)
    case = mixed_case(seed, FEES if family is FEES else GAS)
    plan = _plan(case, gas=family is GAS)
    check_plan(case.market, plan, {case.sell: case.amount}, {case.buy}, 50)
    assert plan.gap is not None and 0 <= plan.gap <= Fraction(1, 10_000)


def test_a_single_pool_plan_is_found_when_gas_makes_it_the_best() -> None:
    """Explore seed 5 of family 4 ($1,465, gas on): the best single path (one pool, then a deposit) had a lower spot
    rate than 64 others crossing a thin pool, so it was never quoted; the plan paid two pools' gas, $8 more net."""
    case = mixed_case(5, GAS)
    plan = _plan(case, gas=True)
    assert len({leg.venue for leg in plan.legs if leg.venue.startswith(("eth:", "arb:"))}) == 1
    assert plan.net_out >= 1_463_198_861


@pytest.fixture
def newton_steps() -> Iterator[list[int]]:
    steps = [0]
    original = newton._newton

    def counted(*args: object, **kwargs: object) -> tuple[list[float], int, float]:
        out = original(*args, **kwargs)  # type: ignore[arg-type]
        steps[0] += out[1]
        return out

    newton._newton = counted  # type: ignore[assignment]
    try:
        yield steps
    finally:
        newton._newton = original  # type: ignore[assignment]


def test_venue_sets_that_cannot_carry_a_big_sale_cost_little(newton_steps: list[int]) -> None:
    """Seed 26 of family 3 ($7.4M): the venue choice and the branch and bound try sets without a capped withdrawal
    the sale needs; each such solve ran the careful try's six stages to their step limit (1,440 Newton steps, ~2.5 s
    of CPU) and the same sets were solved again: 17,142 Newton steps, 10 s per route. A collapsing price now ends
    such a solve, and a set (or a subset of one) that could not carry the amount is not solved again."""
    case = mixed_case(26, FEES)
    plan = _plan(case, gas=False)
    assert newton_steps[0] < 2_000
    assert plan.gap is not None and 0 <= plan.gap <= Fraction(1, 10_000)


@settings(max_examples=3, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_the_gas_bound_holds_for_plans_on_fewer_venues(seed: int, pick: int) -> None:
    """With gas the reported bound is the smaller of the gross bound and the net bound plus the plan's own gas: no
    plan on part of the venues may beat both (its gross above the bound and its net above the bound less our gas)."""
    case = mixed_case(seed, GAS)
    if case.value > 2e5:
        return  # gas matters on small sales; big ones are the capacity tests' business
    plan = _plan(case, gas=True)
    assert plan.upper_bound is not None
    rng = random.Random(pick)
    m = case.market
    venues = tuple(v for v in m.venues if rng.random() < 0.6)
    try:
        other = _plan(
            case, gas=True, market=Market(venues, m.decimals, m.prices, m.holdings, m.gas_price_wei, m.native)
        )
    except InvalidInput:
        return
    assert other.expected_out <= plan.upper_bound or other.net_out <= plan.upper_bound - plan.gas_cost_out
