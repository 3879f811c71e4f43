"""The path search never keeps an arbitrary subset: past ``max_paths`` it lowers the hop limit instead.

Depth-first enumeration cut off at a count keeps a lopsided sample (it can miss even a 2-hop path); the search
uses the deepest hop count whose paths all fit, and the plan says so in ``stats.max_hops_used``.
"""

from __future__ import annotations

from fillpath.router import RouteRequest
from fillpath.router.graph import Graph, candidate_paths, search_paths
from fillpath.router.request import resolve
from tests.router.networks import network, value_units


def _graph(max_hops: int):  # type: ignore[no-untyped-def]
    market, assets = network(3, 12, 60)
    amount = value_units(market, assets[0], 1e5)
    ends = resolve(market, RouteRequest(str(assets[0]), amount, str(assets[1]), max_hops=max_hops))
    return Graph.build(market.venues, frozenset(), ends.sinks), ends, amount


def test_too_many_paths_lowers_the_hop_limit_and_keeps_every_shorter_path() -> None:
    graph, ends, amount = _graph(5)
    full = {tuple(e.venue.id for e in p.edges) for p in candidate_paths(graph, ends.sources, ends.sinks, 5, amount)}
    by_len = {h: {p for p in full if len(p) <= h} for h in range(1, 6)}
    assert len(by_len[2]) < len(by_len[5])
    limit = len(by_len[3])  # room for every path of ≤ 3 hops, not for the 4-hop ones
    assert limit < len(by_len[4])
    search = search_paths(graph, ends.sources, ends.sinks, 5, amount, max_paths=limit)
    assert search.hops == 3
    kept = {tuple(e.venue.id for e in p.edges) for p in search.paths}
    assert kept == by_len[3]  # all of them, not a depth-first sample of longer ones


def test_a_search_within_the_limit_keeps_the_requested_hops() -> None:
    graph, ends, amount = _graph(3)
    search = search_paths(graph, ends.sources, ends.sinks, 3, amount)
    assert search.hops == 3 and search.paths
