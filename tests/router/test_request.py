"""Request semantics: bare symbols, holdings, exclusions, costs, errors, and the plan/1 JSON shape."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router import Market, RouteRequest, route
from tests.router.helpers import check_plan
from tests.router.networks import network, value_units
from tests.router.opt_venues import CPVenue, TransferVenue

WETH_E = AssetId("WETH", "eth")
USDC_E = AssetId("USDC", "eth")
WETH_A = AssetId("WETH", "arb")
USDC_A = AssetId("USDC", "arb")
ETH_E = AssetId("ETH", "eth")
ETH_A = AssetId("ETH", "arb")


def two_chains(**kw: object) -> Market:
    venues = (
        CPVenue("eth:pool", "eth", WETH_E, USDC_E, 1000 * 10**18, 3_000_000 * 10**6, 3000, 100_000),
        CPVenue("eth:pool2", "eth", WETH_E, USDC_E, 200 * 10**18, 600_000 * 10**6, 500, 100_000),
        CPVenue("arb:pool", "arb", WETH_A, USDC_A, 500 * 10**18, 1_500_000 * 10**6, 3000, 400_000),
        TransferVenue("bridge:usdc", "eth", USDC_A, USDC_E, 10**15, 1_000_000, 500, 150_000, 900),
    )
    base = {
        "decimals": {WETH_E: 18, WETH_A: 18, USDC_E: 6, USDC_A: 6, ETH_E: 18, ETH_A: 18},
        "prices": {
            WETH_E: Fraction(3000),
            WETH_A: Fraction(3000),
            ETH_E: Fraction(3000),
            ETH_A: Fraction(3000),
            USDC_E: Fraction(1),
            USDC_A: Fraction(1),
        },
        "holdings": {WETH_E: 30 * 10**18, WETH_A: 20 * 10**18},
        "gas_price_wei": {"eth": 20 * 10**9, "arb": 10**8},
        "native": {"eth": ETH_E, "arb": ETH_A},
    }
    base.update(kw)
    return Market(venues, **base)  # type: ignore[arg-type]


def test_bare_sell_symbol_takes_from_every_location_within_holdings() -> None:
    market = two_chains()
    plan = route(market, RouteRequest("WETH", 45 * 10**18, "USDC"))
    sources: dict[AssetId, int] = {}
    for leg in plan.legs:
        if leg.asset_in.symbol == "WETH":
            sources[leg.asset_in] = sources.get(leg.asset_in, 0) + leg.amount_in
    assert sum(sources.values()) == 45 * 10**18
    assert sources.get(WETH_E, 0) <= 30 * 10**18
    assert sources.get(WETH_A, 0) <= 20 * 10**18
    assert sources.get(WETH_A, 0) > 0  # 30 on ethereum cannot cover 45
    assert sum(p.amount_in for p in plan.paths) == 45 * 10**18
    assert {leg.asset_out for leg in plan.legs} >= {USDC_E}


def test_more_than_holdings_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="amount"):
        route(two_chains(), RouteRequest("WETH", 51 * 10**18, "USDC"))


@pytest.mark.parametrize(
    ("sell", "buy", "field"),
    [
        ("DOGE@eth", "USDC@eth", "sell"),
        ("WETH@eth", "DAI", "buy"),
        ("WETH@eth", "WETH@eth", "buy"),
        ("X", "USDC", "sell"),
    ],
)
def test_bad_assets_name_the_field(sell: str, buy: str, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        route(two_chains(), RouteRequest(sell, 10**18, buy))
    assert err.value.field == field


def test_excluded_venues_are_not_used() -> None:
    plan = route(two_chains(), RouteRequest("WETH@eth", 50 * 10**18, "USDC@eth", exclude=frozenset({"eth:pool"})))
    assert {leg.venue for leg in plan.legs} == {"eth:pool2"}


def test_no_route_within_hops_is_invalid() -> None:
    # WETH@arb → USDC@arb → (bridge) → USDC@eth → WETH@eth is two trades: the bridge is not a hop
    with pytest.raises(InvalidInput, match="no route"):
        route(two_chains(), RouteRequest("WETH@arb", 10**18, "WETH@eth", max_hops=1))


def test_a_bridge_costs_no_hop() -> None:
    plan = route(two_chains(), RouteRequest("WETH@arb", 10**18, "USDC@eth", max_hops=1, gas=False))
    assert [leg.venue for leg in plan.legs] == ["arb:pool", "bridge:usdc"]


def test_dust_amount_with_zero_min_out_is_refused() -> None:
    with pytest.raises(InvalidInput, match="min_out"):
        route(two_chains(), RouteRequest("WETH@eth", 10**5, "USDC@eth", gas=False))


def test_latency_cost_is_charged_and_can_change_the_route() -> None:
    market = two_chains()
    fast = route(market, RouteRequest("WETH@arb", 10 * 10**18, "USDC@eth", gas=False))
    assert [leg.venue for leg in fast.legs] == ["arb:pool", "bridge:usdc"]
    assert fast.gas_cost_out == 0
    slow = route(market, RouteRequest("WETH@arb", 10 * 10**18, "USDC@eth", gas=False, latency_cost_bps_per_hour=100))
    # 100 bps/hour over the bridge's 900 s = 25 bps of the ~30k USDC moved
    assert slow.gas_cost_out == pytest.approx(fast.expected_out * 25 / 10_000, rel=1e-3)
    assert slow.net_out == slow.expected_out - slow.gas_cost_out


def test_gas_is_converted_through_the_native_price() -> None:
    plan = route(two_chains(), RouteRequest("WETH@eth", 10**18, "USDC@eth"))
    assert len(plan.legs) == 1  # a second pool's 100k gas (6 USDC) is not worth a split of 1 WETH
    assert plan.gas_cost_out == 100_000 * 20 * 10**9 * 3000 * 10**6 // 10**18


def test_missing_price_for_gas_is_invalid() -> None:
    market = two_chains(prices={WETH_E: Fraction(3000), USDC_E: Fraction(1)})
    with pytest.raises(InvalidInput, match="prices"):
        route(market, RouteRequest("WETH@eth", 10**18, "USDC@eth"))


def test_plan_json_has_exactly_the_plan1_fields() -> None:
    doc = route(two_chains(), RouteRequest("WETH", 45 * 10**18, "USDC")).to_json()
    assert list(doc) == [
        "format",
        "sell",
        "buy",
        "amount_in",
        "expected_out",
        "min_out",
        "gas_cost_out",
        "net_out",
        "upper_bound",
        "gap",
        "legs",
        "paths",
        "stats",
    ]
    assert doc["format"] == "fillpath.plan/1"
    legs = doc["legs"]
    assert isinstance(legs, list)
    for leg in legs:
        assert list(leg) == ["venue", "asset_in", "asset_out", "amount_in", "amount_out", "min_out"]
        assert all(leg[k].isdigit() for k in ("amount_in", "amount_out", "min_out"))
    paths = doc["paths"]
    assert isinstance(paths, list)
    for p in paths:
        assert list(p) == ["amount_in", "amount_out", "venues"]
    assert set(doc["stats"]) == {"paths_considered", "solve_ms"}  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10**6), st.integers(3, 6), st.integers(3, 12), st.sampled_from([1e3, 1e5, 1e6]))
def test_markets_with_arbitrage_still_give_valid_acyclic_plans(
    seed: int, tokens: int, pools: int, value: float
) -> None:
    market, assets = network(seed, tokens, pools, books=1, skew=0.02)
    amount = value_units(market, assets[0], value)
    plan = route(market, RouteRequest(str(assets[0]), amount, str(assets[1]), max_hops=4, gas=False))
    check_plan(market, plan, {assets[0]: amount}, {assets[1]}, 50)


def test_latency_cost_steers_a_parallel_split_to_the_faster_bridge() -> None:
    fast = TransferVenue("bridge:fast", "arb", USDC_A, USDC_E, 10**13, 0, 1000, 0, 60)
    slow = TransferVenue("bridge:slow", "arb", USDC_A, USDC_E, 10**13, 0, 200, 0, 6 * 3600)
    market = two_chains()
    market = Market((fast, slow), market.decimals, market.prices, {}, market.gas_price_wei, market.native)
    req = RouteRequest("USDC@arb", 10**11, "USDC@eth", gas=False)
    assert [leg.venue for leg in route(market, req).legs] == ["bridge:slow"]  # cheaper fee wins when waiting is free
    waiting = route(market, RouteRequest("USDC@arb", 10**11, "USDC@eth", gas=False, latency_cost_bps_per_hour=10))
    assert [leg.venue for leg in waiting.legs] == ["bridge:fast"]  # 6 h at 10 bps/h = 60 bps > 8 bps fee gap
    assert waiting.net_out > waiting.expected_out - 10**11 * 20 // 10_000


class ThreeCoinPool:
    """A 3-coin venue made of constant-product pairs (enough to show every direction is kept)."""

    def __init__(self, coins: tuple[AssetId, AssetId, AssetId]) -> None:
        self.id = "eth:3pool"
        self.location = "eth"
        self.gas = 0
        self._pairs = {
            (a, b): CPVenue(self.id, "eth", a, b, 10**12, 10**12, 100) for a in coins for b in coins if a != b
        }
        self._by_in = {a: [p for (x, _), p in self._pairs.items() if x == a] for a in coins}

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        return tuple(self._pairs)

    # The Protocol's quote has no asset_out, so an n-coin venue cannot say which output it means: the
    # graph test below only needs pairs(); quoting answers for the first pair from that input.
    def quote(self, asset_in: AssetId, amount_in: int) -> int:
        return self._by_in[asset_in][0].quote(asset_in, amount_in)

    def marginal_rate(self, asset_in: AssetId, amount_in: int) -> Fraction:
        return self._by_in[asset_in][0].marginal_rate(asset_in, amount_in)

    def amount_at_rate(self, asset_in: AssetId, rate: Fraction) -> int:
        return self._by_in[asset_in][0].amount_at_rate(asset_in, rate)

    def capacity(self, asset_in: AssetId) -> int | None:
        return None


def test_an_n_coin_venue_keeps_every_direction_from_one_input() -> None:
    from fillpath.router.graph import Graph

    usdt, dai = AssetId("USDT", "eth"), AssetId("DAI", "eth")
    pool = ThreeCoinPool((USDC_E, usdt, dai))
    graph = Graph.build([pool], frozenset(), frozenset((dai,)))
    keys = sorted((str(e.asset_in), str(e.asset_out)) for es in graph.out_edges.values() for e in es)
    assert ("USDC@eth", "USDT@eth") in keys
    assert ("USDC@eth", "DAI@eth") in keys
    assert len({e.key for es in graph.out_edges.values() for e in es}) == len(keys)


def test_more_than_the_books_can_take_is_invalid() -> None:
    market, assets = network(5, 3, 1, books=1, transfers=0)
    book = next(v for v in market.venues if v.id == "book0")
    cap = book.capacity(assets[0])
    assert cap is not None
    only_book = frozenset(v.id for v in market.venues if v.id != "book0")
    with pytest.raises(InvalidInput, match="amount"):
        route(market, RouteRequest(str(assets[0]), cap + 1, str(assets[1]), gas=False, exclude=only_book))
    plan = route(market, RouteRequest(str(assets[0]), cap, str(assets[1]), gas=False, exclude=only_book))
    assert [(leg.venue, leg.amount_in) for leg in plan.legs] == [("book0", cap)]


def test_a_bridge_too_small_for_the_route_is_invalid_not_stranded() -> None:
    market = two_chains()
    small = TransferVenue("bridge:small", "arb", USDC_A, USDC_E, 10**9, 0, 500)
    venues = (*(v for v in market.venues if v.id != "bridge:usdc"), small)
    market = Market(venues, market.decimals, market.prices, market.holdings, market.gas_price_wei, market.native)
    with pytest.raises(InvalidInput, match=r"at most about [\d.,]+ WETH@arb can be sold into USDC@eth") as err:
        route(market, RouteRequest("WETH@arb", 10 * 10**18, "USDC@eth", gas=False))
    plan = route(market, RouteRequest("WETH@arb", 10**17, "USDC@eth", gas=False))
    assert [leg.venue for leg in plan.legs] == ["arb:pool", "bridge:small"]
    # the amount the error names can be sold, and it is close to the most there is (1,000 USDC over the bridge)
    most = re.search(r"at most about ([\d.,]+)", str(err.value))
    assert most is not None
    named = int(Decimal(most.group(1).replace(",", "")) * 10**18)
    plan = route(market, RouteRequest("WETH@arb", named, "USDC@eth", gas=False))
    assert 0.98 * 10**9 <= sum(leg.amount_in for leg in plan.legs if leg.venue == "bridge:small") <= 10**9


def test_a_bare_symbol_buy_ignores_locations_no_route_reaches() -> None:
    """Selling on one location for a symbol traded at several: a sink no candidate path reaches must not break
    the network solve (it raised KeyError on such a sink)."""
    from tests.router.opt_venues import CPVenue

    eth, mid, usd = AssetId("ETH", "x"), AssetId("MID", "x"), AssetId("USD", "x")
    far_eth, far_usd = AssetId("ETH", "y"), AssetId("USD", "y")
    venues = (
        CPVenue("x:a", "x", eth, mid, 10**24, 10**24),
        CPVenue("x:b", "x", eth, mid, 10**24, 10**24),
        CPVenue("x:c", "x", mid, usd, 10**24, 3 * 10**27),
        CPVenue("y:p", "y", far_eth, far_usd, 10**24, 3 * 10**27),
    )
    market = Market(venues=venues, decimals=dict.fromkeys((eth, mid, usd, far_eth, far_usd), 18),
                    holdings={eth: 10**23})  # fmt: skip
    plan = route(market, RouteRequest("ETH@x", 10**22, "USD", gas=False))
    assert {leg.asset_out for leg in plan.legs} == {mid, usd}
    assert len(plan.legs) == 3  # split over both ETH/MID pools, then MID/USD; USD@y is simply not reachable


def test_a_bare_symbol_sale_splits_across_the_locations_that_hold_it() -> None:
    """Two equal pools on two locations, the asset held on both: the optimum sells half on each (the path search
    used to drop every source after the first)."""
    from tests.router.opt_venues import CPVenue

    ex, ey, ux, uy = AssetId("ETH", "x"), AssetId("ETH", "y"), AssetId("USD", "x"), AssetId("USD", "y")
    venues = (CPVenue("x:a", "x", ex, ux, 10**22, 3 * 10**25), CPVenue("y:a", "y", ey, uy, 10**22, 3 * 10**25))
    market = Market(venues=venues, decimals=dict.fromkeys((ex, ey, ux, uy), 18), holdings={ex: 10**24, ey: 10**24})
    plan = route(market, RouteRequest("ETH", 2 * 10**21, "USD", gas=False))
    shares = {leg.venue: leg.amount_in for leg in plan.legs}
    assert set(shares) == {"x:a", "y:a"}
    assert abs(shares["x:a"] - shares["y:a"]) <= 2  # equal pools: equal halves (to the unit, after rounding)
    one = venues[0].quote(ex, 10**21)
    assert abs(plan.expected_out - 2 * one) <= 2 * one // 10**12  # the two-venue optimum, to 1e-12


def test_holdings_where_no_route_starts_do_not_block_the_split() -> None:
    """ETH is also held on z, where no venue leads to USD: the sale still splits over x and y (the dual used to
    feed z through the super-source, could not drain it, and reported that the venues cannot carry the amount)."""
    from tests.router.opt_venues import CPVenue

    ex, ey, ez = AssetId("ETH", "x"), AssetId("ETH", "y"), AssetId("ETH", "z")
    ux, uy = AssetId("USD", "x"), AssetId("USD", "y")
    venues = (CPVenue("x:a", "x", ex, ux, 10**22, 3 * 10**25), CPVenue("y:a", "y", ey, uy, 10**22, 3 * 10**25))
    decimals = dict.fromkeys((ex, ey, ez, ux, uy), 18)
    market = Market(venues=venues, decimals=decimals, holdings={ex: 10**24, ey: 10**24, ez: 10**24})
    plan = route(market, RouteRequest("ETH", 2 * 10**21, "USD", gas=False))
    assert {leg.venue for leg in plan.legs} == {"x:a", "y:a"}


def test_waiting_costs_turn_the_water_level_bound_off() -> None:
    """Ten slow bridges with no fee set a water level of 1.0; the fast one charges 1% and would be pruned by that
    level. At 1,000 bps per hour the slow ones cost 10% of what they move, so the fast one is the best route."""
    slow = [TransferVenue(f"bridge:slow{i}", "arb", USDC_A, USDC_E, 10**11, 0, 0, 0, 3600) for i in range(10)]
    fast = TransferVenue("bridge:fast", "arb", USDC_A, USDC_E, 10**12, 0, 10_000, 0, 0)
    base = two_chains()
    market = Market((*slow, fast), base.decimals, base.prices, {}, base.gas_price_wei, base.native)
    free = route(market, RouteRequest("USDC@arb", 5 * 10**11, "USDC@eth", gas=False))
    assert "bridge:fast" not in {leg.venue for leg in free.legs}
    assert free.stats.paths_considered == 10  # the level pruned the fast one
    costly = RouteRequest("USDC@arb", 5 * 10**11, "USDC@eth", gas=False, latency_cost_bps_per_hour=1000)
    assert [leg.venue for leg in route(market, costly).legs] == ["bridge:fast"]
