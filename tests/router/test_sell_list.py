"""A sell list (``WETH@l1,WETH@l2,ETH@l3``) asked for exactly what it holds must sell every holding: the path
search may not prune a capped source's routes by another source's better rates."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.router import Market, RouteRequest, route
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
