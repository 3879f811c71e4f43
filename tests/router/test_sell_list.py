"""A sell list (``WETH@l1,WETH@l2,ETH@l3``) asked for exactly what it holds must sell every holding: the path
search may not prune a capped source's routes by another source's better rates."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.router import Market, RouteRequest, route
from fillpath.router.snapshot import loads_snapshot
from tests.router.helpers import check_plan
from tests.router.opt_venues import CPVenue

SOURCES = (AssetId("WETH", "l1"), AssetId("WETH", "l2"), AssetId("ETH", "l3"))
USDC = {s.location: AssetId("USDC", s.location) for s in SOURCES}
E18 = 10**18


def _market(holdings: tuple[int, int, int], prices: tuple[int, int, int]) -> Market:
    """One deep pool per location; l1 pays best, so its marginal at its own holdings beats the others' spot."""
    venues = tuple(
        CPVenue(f"{s.location}:pool", s.location, s, USDC[s.location], 10_000 * E18, 10_000 * price * 10**6)
        for s, price in zip(SOURCES, prices, strict=True)
    )
    decimals = dict.fromkeys(SOURCES, 18) | dict.fromkeys(USDC.values(), 6)
    return Market(venues, decimals=decimals, holdings=dict(zip(SOURCES, holdings, strict=True)))


def test_selling_exactly_the_holdings_of_a_list_uses_every_source() -> None:
    market = _market((E18, E18, E18), (3000, 2990, 2980))
    plan = route(market, RouteRequest("WETH@l1,WETH@l2,ETH@l3", 3 * E18, "USDC"))
    check_plan(market, plan, dict(zip(SOURCES, (E18, E18, E18), strict=True)), set(USDC.values()), 50)
    assert {leg.asset_in: leg.amount_in for leg in plan.legs} == dict.fromkeys(SOURCES, E18)


@settings(max_examples=30, deadline=None)
@given(
    st.tuples(*[st.integers(E18 // 100, 50 * E18)] * 3),
    st.tuples(*[st.integers(2500, 3500)] * 3),
)
# found by another hypothesis seed: the dual, with every source arc a hard cap at its holdings, never balanced
@example(holdings=(10**16, 10**16, 10**16), prices=(2931, 3249, 3424))
def test_any_sell_list_can_sell_all_it_holds(holdings: tuple[int, int, int], prices: tuple[int, int, int]) -> None:
    market = _market(holdings, prices)
    plan = route(market, RouteRequest("WETH@l1,WETH@l2,ETH@l3", sum(holdings), "USDC"))
    check_plan(market, plan, dict(zip(SOURCES, holdings, strict=True)), set(USDC.values()), 50)


LAB = Path(__file__).parent / "data" / "lab_four_locations.json"


def test_a_sell_list_from_four_locations_of_the_lab_routes_and_is_certified() -> None:
    """The lab's four-location snapshot (two chains, two exchanges, bridges, deposits, books, V2/V3/StableSwap pools,
    aggregators): a sell list of everything held, from every location, sells every holding."""
    market = Market.from_snapshot(loads_snapshot(LAB.read_text()))
    sell = "WETH@lab1,ETH@lab2,ETH@labex,ETH@labokx"
    held = {a: market.holdings[a] for a in map(AssetId.parse, sell.split(","))}
    plan = route(market, RouteRequest(sell, sum(held.values()), "USDC", gas=False))
    usdc = {a for a in market.decimals if a.symbol == "USDC"}
    check_plan(market, plan, held, usdc, 50)
    assert {a: sum(leg.amount_in for leg in plan.legs if leg.asset_in == a) for a in held} == held
    assert plan.gap is not None and 0 <= plan.gap <= Fraction(1, 10_000)
