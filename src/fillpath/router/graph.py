"""The asset@location graph: nodes are assets, edges are one direction of one venue; plus candidate paths.

Path enumeration is depth-first from each source, never revisiting a node, up to ``max_hops``, and pruned
by spot rates: a partial path whose spot-rate product times the best spot completion to a sink cannot
reach the best found path's *marginal rate at the whole amount* (less a margin) is dropped. That bound is
principled: at the optimum every used path's marginal rate is equal and at least any single path's
marginal rate at the full amount, so a path whose spot rate is below it would get no flow (exact for
paths that share no venue; the margin covers sharing).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fillpath.model.assets import AssetId
from fillpath.router.curves import FloatCurve, curve_for
from fillpath.router.venues.base import Venue


@dataclass(frozen=True, eq=False)
class Edge:
    """One tradable direction of one venue."""

    venue: Venue
    asset_in: AssetId
    asset_out: AssetId
    curve: FloatCurve

    @property
    def key(self) -> tuple[str, AssetId, AssetId]:
        """(venue, in, out): an n-coin pool has several directions from one input."""
        return (self.venue.id, self.asset_in, self.asset_out)


@dataclass(frozen=True)
class CandidatePath:
    source: AssetId
    edges: tuple[Edge, ...]
    spot: float


@dataclass(frozen=True)
class Graph:
    """Adjacency by node, edges sorted best spot first (then by venue id, for determinism)."""

    out_edges: Mapping[AssetId, tuple[Edge, ...]]

    @classmethod
    def build(cls, venues: Iterable[Venue], exclude: frozenset[str], sinks: frozenset[AssetId]) -> Graph:
        adj: dict[AssetId, list[Edge]] = {}
        seen: set[str] = set()
        for v in venues:
            if v.id in exclude or v.id in seen:
                continue
            seen.add(v.id)
            for a_in, a_out in v.pairs():
                if a_in in sinks:
                    continue  # output that has arrived stays: paths end at the first sink
                curve = curve_for(v, a_in)
                if curve.spot > 0.0 and curve.cap > 0.0:
                    adj.setdefault(a_in, []).append(Edge(v, a_in, a_out, curve))
        return cls({k: tuple(sorted(es, key=lambda e: (-e.curve.spot, e.venue.id))) for k, es in adj.items()})


def best_completion(graph: Graph, sinks: frozenset[AssetId], hops: int) -> list[dict[AssetId, float]]:
    """``best[h][node]``: the best spot-rate product from node to a sink in at most h hops."""
    best: list[dict[AssetId, float]] = [dict.fromkeys(sinks, 1.0)]
    for _ in range(hops):
        prev = best[-1]
        cur = dict(prev)
        for node, edges in graph.out_edges.items():
            v = max((e.curve.spot * prev.get(e.asset_out, 0.0) for e in edges), default=0.0)
            if v > cur.get(node, 0.0):
                cur[node] = v
        if cur == prev:  # settled: more hops cannot improve any completion
            best.extend([prev] * (hops + 1 - len(best)))
            break
        best.append(cur)
    return best


def path_marginal(edges: Iterable[Edge], amount: float) -> float:
    """d(out)/d(in) of a path carrying ``amount`` alone (product of marginal rates at its flows)."""
    m, x = 1.0, amount
    for e in edges:
        m *= e.curve.rate(x)
        x = e.curve.out(x)
    return m


def candidate_paths(
    graph: Graph,
    sources: Iterable[tuple[AssetId, int]],
    sinks: frozenset[AssetId],
    max_hops: int,
    amount: int,
    *,
    margin: float = 0.005,
    max_paths: int = 50_000,
) -> list[CandidatePath]:
    """Simple paths source → sink within ``max_hops``, pruned by spot rates (see module doc)."""
    best = best_completion(graph, sinks, max_hops)
    found: list[CandidatePath] = []
    threshold = 0.0
    for source, cap in sources:
        size = float(min(cap, amount))
        # The root's bound is infinite: a later source must not be pruned by the threshold an earlier one
        # raised (a bound of 1.0 here dropped every source after the first once rates exceeded 1).
        stack: list[tuple[float, AssetId, float, tuple[Edge, ...], frozenset[AssetId]]] = [
            (math.inf, source, 1.0, (), frozenset((source,)))
        ]
        while stack and len(found) < max_paths:
            bound, node, prod, path, seen = stack.pop()
            if bound < threshold:
                continue  # the threshold rose since this branch was queued
            left = max_hops - len(path)
            nxt = []
            for e in graph.out_edges.get(node, ()):
                o = e.asset_out
                if o in seen:
                    continue
                p = prod * e.curve.spot
                if o in sinks:
                    if p < threshold:
                        continue
                    cand = CandidatePath(source, (*path, e), p)
                    found.append(cand)
                    threshold = max(threshold, path_marginal(cand.edges, size) * (1.0 - margin))
                elif left > 1:
                    bound = p * best[left - 1].get(o, 0.0)
                    if bound > 0.0 and bound >= threshold:
                        nxt.append((bound, o, p, e))
            # push worst first so the most promising branch is explored next
            nxt.sort(key=lambda t: (t[0], t[3].venue.id))
            for b, o, p, e in nxt:
                stack.append((b, o, p, (*path, e), seen | {o}))
    return [c for c in found if c.spot >= threshold]
