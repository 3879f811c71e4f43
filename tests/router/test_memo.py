"""The per-market memo (router/memo.py) and the graph's kept paths: a route on a snapshot that has been routed before
gives the plan a fresh snapshot gives, to the wei, and a different hop budget, venue set or exclusion never reuses a
graph built for another."""

from __future__ import annotations

import copy
import pickle
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.router import RouteRequest, route
from fillpath.router.graph import Graph, search_paths
from fillpath.router.market import Market
from fillpath.router.memo import LIMIT, Memo
from fillpath.router.plan import Plan
from tests.router.mixed import FAMILIES, mixed_case
from tests.router.networks import network, value_units


def _doc(plan: Plan) -> dict[str, Any]:
    doc = plan.to_json()
    doc["stats"].pop("solve_ms")  # type: ignore[union-attr]
    return doc


def _without(market: Market, venue_id: str) -> Market:
    m = market
    return Market(
        tuple(v for v in m.venues if v.id != venue_id), m.decimals, m.prices, m.holdings, m.gas_price_wei, m.native
    )


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from(FAMILIES[:2]), st.lists(st.sampled_from([0.3, 1.0, 2.5]), min_size=3))
def test_routes_on_a_routed_snapshot_equal_routes_on_fresh_ones(seed: int, family: Any, scales: list[float]) -> None:
    case = mixed_case(seed, family)
    for k, scale in enumerate(scales):
        hops = 4 if k % 2 == 0 else 3
        req = RouteRequest(str(case.sell), max(1, int(case.amount * scale)), str(case.buy), max_hops=hops, gas=False)
        fresh = mixed_case(seed, family).market  # new venues too: nothing shared with the routed snapshot
        assert _doc(route(case.market, req)) == _doc(route(fresh, req))
    graphs = len({4 if k % 2 == 0 else 3 for k in range(len(scales))})
    assert len(case.market.memo) == graphs + 1  # one graph per hop budget, and the traded assets


def test_a_hop_budget_an_exclusion_or_a_venue_set_never_reuses_another_graph() -> None:
    case = mixed_case(3, FAMILIES[0])
    market = case.market

    def req(**kw: Any) -> RouteRequest:
        return RouteRequest(str(case.sell), case.amount, str(case.buy), gas=False, **kw)

    four = route(market, req(max_hops=4))
    two = route(market, req(max_hops=2))
    assert two.expected_out < four.expected_out  # the 2-hop graph is its own, not the 4-hop one
    assert _doc(two) == _doc(route(mixed_case(3, FAMILIES[0]).market, req(max_hops=2)))
    used = max(four.legs, key=lambda leg: leg.amount_out).venue
    excluded = route(market, req(exclude=frozenset({used})))
    assert used not in {leg.venue for leg in excluded.legs}
    assert len(market.memo) == 3 + 1  # three graphs and the traded assets
    fewer = _without(market, used)
    assert len(fewer.memo) == 0  # a new snapshot starts empty
    assert used not in {leg.venue for leg in route(fewer, req()).legs}


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 20), st.integers(1, 4), st.integers(0, 3), st.floats(1e2, 1e7))
def test_a_second_search_keeps_the_paths_of_a_fresh_one(
    seed: int, tokens: int, hops: int, transfers: int, value: float
) -> None:
    """From the second search on a graph the paths come from its unpruned enumeration: the same as a first search."""
    market, assets = network(seed, tokens, 3 * tokens, books=2, transfers=transfers)
    sinks = frozenset({assets[1]})
    sources = [(assets[0], value_units(market, assets[0], value))]
    kept = Graph.build(market.venues, frozenset(), sinks)
    search_paths(kept, [(assets[0], value_units(market, assets[0], 1e5))], sinks, hops, 1)  # the first search
    again = search_paths(kept, sources, sinks, hops, sources[0][1])
    assert (assets[0], sinks, hops) in kept.every  # the enumeration was tried (None only past its limit)
    fresh = search_paths(Graph.build(market.venues, frozenset(), sinks), sources, sinks, hops, sources[0][1])

    def keys(paths: list[Any]) -> list[tuple[str, ...]]:
        return [tuple(f"{e.venue.id}:{e.asset_in}" for e in p.edges) for p in paths]

    assert keys(again.paths) == keys(fresh.paths) and again.hops == fresh.hops


def test_the_memo_is_bounded_and_never_copied() -> None:
    memo = Memo()
    built: list[int] = []
    for k in range(LIMIT + 5):
        memo.get(k, lambda k=k: built.append(k) or k)  # type: ignore[func-returns-value]
    assert len(memo) == LIMIT
    assert memo.get(LIMIT + 4, lambda: -1) == LIMIT + 4  # kept: no rebuild
    assert memo.get(0, lambda: -1) == -1  # the oldest was dropped: rebuilt
    case = mixed_case(1, FAMILIES[0])
    route(case.market, RouteRequest(str(case.sell), case.amount, str(case.buy), gas=False))
    assert len(case.market.memo) == 2  # the graph and the traded assets
    assert len(copy.copy(case.market.memo)) == 0
    assert len(pickle.loads(pickle.dumps(case.market.memo))) == 0
