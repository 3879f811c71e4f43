"""Graph.build(within=(sources, max_hops)) builds curves only for directions that can lie on a short enough path;
the candidate paths must be exactly those of the full graph."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.router.graph import CandidatePath, Graph, hop_cost, path_hops, search_paths
from tests.router.networks import network, value_units


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 30), st.integers(1, 4), st.integers(0, 3))
def test_pruned_graph_gives_the_same_candidate_paths(seed: int, tokens: int, hops: int, transfers: int) -> None:
    market, assets = network(seed, tokens, 3 * tokens, books=2, transfers=transfers)
    sinks = frozenset({assets[1]})
    sources = [(assets[0], value_units(market, assets[0], 1e5))]
    full = Graph.build(market.venues, frozenset(), sinks)
    pruned = Graph.build(market.venues, frozenset(), sinks, within=([assets[0]], hops))
    n_full = sum(len(es) for es in full.out_edges.values())
    n_pruned = sum(len(es) for es in pruned.out_edges.values())
    assert n_pruned <= n_full

    def keys(g: Graph) -> list[tuple[tuple[str, str, str], ...]]:
        found = search_paths(g, sources, sinks, hops, sources[0][1]).paths
        return [tuple((e.venue.id, str(e.asset_in), str(e.asset_out)) for e in p.edges) for p in found]

    assert keys(pruned) == keys(full)


def test_a_three_hop_search_on_a_wide_network_builds_a_fraction_of_the_curves() -> None:
    market, assets = network(3, 50, 300, books=5, transfers=5)
    sinks = frozenset({assets[1]})
    full = Graph.build(market.venues, frozenset(), sinks)
    pruned = Graph.build(market.venues, frozenset(), sinks, within=([assets[0]], 3))
    n_full = sum(len(es) for es in full.out_edges.values())
    n_pruned = sum(len(es) for es in pruned.out_edges.values())
    assert n_pruned < n_full // 2


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3))
def test_edges_carry_their_hop_cost_and_paths_compare_by_value(seed: int, transfers: int) -> None:
    market, assets = network(seed, 8, 24, books=2, transfers=transfers)
    sinks = frozenset({assets[1]})
    graph = Graph.build(market.venues, frozenset(), sinks)
    edges = [e for es in graph.out_edges.values() for e in es]
    assert [e.hops for e in edges] == [hop_cost(e.asset_in, e.asset_out) for e in edges]
    found = search_paths(graph, [(assets[0], value_units(market, assets[0], 1e5))], sinks, 3, 10**18).paths
    for p in found:
        twin = CandidatePath(p.source, tuple(p.edges), p.spot)
        assert twin == p and hash(twin) == hash(p) and twin is not p
        assert CandidatePath(p.source, p.edges, p.spot * 2 + 1) != p
        assert path_hops(p.edges) == sum(hop_cost(e.asset_in, e.asset_out) for e in p.edges) <= 3
