"""The asset@location graph: nodes are assets, edges are one direction of one venue; plus candidate paths.

Path enumeration is depth-first from each source, never revisiting a node, up to ``max_hops``, and pruned
by spot rates: a partial path whose spot-rate product times the best spot completion to a sink cannot
reach the best found path's *marginal rate at the whole amount* (less a margin) is dropped. That bound is
principled: at the optimum every used path's marginal rate is equal and at least any single path's
marginal rate at the full amount, so a path whose spot rate is below it would get no flow (exact for
paths that share no venue; the margin covers sharing). With several capped sources the bound is per source (a
source's holdings cap its own flow); only a source that could carry the whole amount bounds the others.

On one layer of parallel venues (every edge leaves a source straight into a sink, no venue twice) the bound is
tighter: the water level of the venues found so far. Adding venues only raises the level, so a venue whose spot
rate is below the level of a subset gets nothing at the optimum either; edges come best spot first, so the
search stops at the first one under it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from fillpath.model.assets import AssetId
from fillpath.router.curves import FloatCurve, curve_for, penalized
from fillpath.router.split import fill_rate
from fillpath.router.venues.base import Venue


class Edge:
    """One tradable direction of one venue. A value, but a plain class with ``Final`` fields rather than a frozen
    dataclass: mypyc compiles a plain class's constructor (a C call), while a dataclass keeps its generated
    ``__init__`` interpreted (thousands of edges and paths a cold route). Compared by identity, like the dataclass
    (``eq=False``) it replaced."""

    __slots__ = ("asset_in", "asset_out", "curve", "hops", "venue")

    def __init__(self, venue: Venue, asset_in: AssetId, asset_out: AssetId, curve: FloatCurve) -> None:
        self.venue: Final = venue
        self.asset_in: Final = asset_in
        self.asset_out: Final = asset_out
        self.curve: Final = curve
        self.hops: Final = hop_cost(asset_in, asset_out)
        """What it counts against ``max_hops``, read at every step of the path search."""

    def __repr__(self) -> str:
        return f"Edge({self.venue.id}: {self.asset_in} -> {self.asset_out})"

    @property
    def key(self) -> tuple[str, AssetId, AssetId]:
        """(venue, in, out): an n-coin pool has several directions from one input."""
        return (self.venue.id, self.asset_in, self.asset_out)


def hop_cost(asset_in: AssetId, asset_out: AssetId) -> int:
    """What one direction counts against ``max_hops``: a trade is a hop; moving the same asset to another location
    (a bridge, a deposit, a withdrawal) is not — it changes where value sits, not what it is, and a mixed route
    would otherwise spend half its budget getting to and from an exchange."""
    return 0 if asset_in.symbol == asset_out.symbol and asset_in.location != asset_out.location else 1


def path_hops(edges: Iterable[Edge]) -> int:
    return sum(e.hops for e in edges)


class CandidatePath:
    """A path from ``source`` through ``edges`` and its spot-rate product: a plain class for the reason ``Edge`` is;
    equal when its fields are, like the frozen dataclass it replaced."""

    __slots__ = ("edges", "source", "spot")

    def __init__(self, source: AssetId, edges: tuple[Edge, ...], spot: float) -> None:
        self.source: Final = source
        self.edges: Final = edges
        self.spot: Final = spot

    def __repr__(self) -> str:
        return f"CandidatePath({self.source}, {self.edges!r}, {self.spot!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CandidatePath):
            return NotImplemented
        return self.source == other.source and self.edges == other.edges and self.spot == other.spot

    def __hash__(self) -> int:
        return hash((self.source, self.edges, self.spot))


@dataclass(frozen=True)
class Graph:
    """Adjacency by node, edges sorted best spot first (then by venue id, for determinism)."""

    out_edges: Mapping[AssetId, tuple[Edge, ...]]
    completions: dict[tuple[frozenset[AssetId], int], list[dict[AssetId, float]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """:func:`best_completion` per (sinks, hops): spot rates only, so every amount routed on the graph shares it."""
    every: dict[tuple[AssetId, frozenset[AssetId], int], list[CandidatePath] | None] = field(
        default_factory=dict, repr=False, compare=False
    )
    """Every simple path per (source, sinks, hops), unpruned, for :func:`search_paths` from the second search on
    (None: not kept, as on one layer or past ``EVERY_LIMIT``)."""
    searched: set[tuple[AssetId, frozenset[AssetId], int]] = field(default_factory=set, repr=False, compare=False)
    """The (source, sinks, hops) searched once already."""
    canon: dict[AssetId, AssetId] = field(default_factory=dict, repr=False, compare=False)
    """One object per asset, the one every edge holds (each venue of a snapshot has its own equal ids): a dict or set
    lookup then matches by identity, never calling ``AssetId.__eq__`` (a thousand calls a route)."""

    @classmethod
    def build(
        cls,
        venues: Iterable[Venue],
        exclude: frozenset[str],
        sinks: frozenset[AssetId],
        penalty_bps: Mapping[str, int] | None = None,
        within: tuple[Iterable[AssetId], int] | None = None,
    ) -> Graph:
        """``penalty_bps`` (venue id → bps) shrinks those venues' curves: path search and the continuous solve
        then see a penalized venue's output reduced by that much (10,000 bps: not at all). ``within`` = (sources,
        max_hops) keeps only the directions that can lie on a source → sink path of at most max_hops hops."""
        adj: dict[AssetId, list[Edge]] = {}
        seen: set[str] = set()
        penalty = penalty_bps or {}
        usable: list[Venue] = []
        for v in venues:
            if v.id in exclude or v.id in seen or penalty.get(v.id, 0) >= 10_000:
                continue
            seen.add(v.id)
            usable.append(v)
        on_path = _on_short_paths(usable, sinks, *within) if within is not None else None
        canon = {t: t for t in sinks}
        one = canon.setdefault
        for v in usable:
            for a_in, a_out in v.pairs():
                if a_in in sinks:
                    continue  # output that has arrived stays: paths end at the first sink
                if on_path is not None and not on_path(a_in, a_out):
                    continue
                curve = curve_for(v, a_in)
                if penalty.get(v.id, 0) > 0:
                    curve = penalized(curve, penalty[v.id])
                if curve.spot > 0.0 and curve.cap > 0.0:
                    a_in, a_out = one(a_in, a_in), one(a_out, a_out)
                    adj.setdefault(a_in, []).append(Edge(v, a_in, a_out, curve))
        out = {k: tuple(sorted(es, key=lambda e: (-e.curve.spot, e.venue.id))) for k, es in adj.items()}
        return cls(out, canon=canon)


def _on_short_paths(
    venues: list[Venue], sinks: frozenset[AssetId], sources: Iterable[AssetId], hops: int
) -> Callable[[AssetId, AssetId], bool] | None:
    """A test for a direction a → b: can it lie on a path of at most ``hops`` hops from a source to a sink, i.e.
    dist(source, a) + 1 + dist(b, sink) <= hops? Breadth-first over the venues' pairs, before any curve is built
    (curves for the whole market were a quarter of a route on a 300-pool network; most cannot be on a 3-hop path).
    Distances ignore simplicity, so they are lower bounds: no usable direction is ever dropped. None: nothing to
    drop (every direction goes from a source straight into a sink, as on one pair)."""
    sources = set(sources)
    if all(a in sinks or (a in sources and b in sinks) for v in venues for a, b in v.pairs()):
        return None
    fwd: dict[AssetId, list[AssetId]] = {}
    back: dict[AssetId, list[AssetId]] = {}
    for v in venues:
        for a, b in v.pairs():
            if a not in sinks:
                fwd.setdefault(a, []).append(b)
                back.setdefault(b, []).append(a)

    def bfs(start: Iterable[AssetId], adj: dict[AssetId, list[AssetId]]) -> dict[AssetId, int]:
        """0-1 breadth-first search: a transfer costs no hop (see :func:`hop_cost`)."""
        dist = dict.fromkeys(start, 0)
        todo = deque(dist)
        while todo:
            node = todo.popleft()
            d = dist[node]
            for o in adj.get(node, ()):
                w = hop_cost(node, o)
                if d + w < dist.get(o, hops + 1):
                    dist[o] = d + w
                    if w:
                        todo.append(o)
                    else:
                        todo.appendleft(o)
        return dist

    from_src = bfs(sources, fwd)  # no edge leaves a sink: paths end at the first one
    to_sink = bfs(sinks, back)

    def test(a: AssetId, b: AssetId) -> bool:
        da, db = from_src.get(a), to_sink.get(b)
        return da is not None and db is not None and da + hop_cost(a, b) + db <= hops

    return test


FILL_CHECK = 8
"""On one layer of parallel venues the search raises its bound to the water level of the venues found so far, after
8, 32, 128, ... of them: far tighter than one path's marginal rate. 10,000 venues on one pair:
10,000 candidates before, 996 now (the 0.5% margin keeps ~700 just under the level), 267 of them get flow."""


def _one_layer(graph: Graph, sources: tuple[tuple[AssetId, int], ...], sinks: frozenset[AssetId]) -> bool:
    """Every edge leaves a source straight into a sink and no venue has two of them: parallel venues, where the
    water level of any subset bounds the optimum's from below."""
    srcs = {s for s, _ in sources}
    if any(node not in srcs for node in graph.out_edges):
        return False
    venues: set[str] = set()
    for edges in graph.out_edges.values():
        for e in edges:
            if e.asset_out not in sinks:
                return False
            venues.add(e.venue.id)
    return len(venues) == sum(len(es) for es in graph.out_edges.values())


def best_completion(graph: Graph, sinks: frozenset[AssetId], hops: int) -> list[dict[AssetId, float]]:
    """``best[h][node]``: the best spot-rate product from node to a sink in at most h hops (computed once per graph;
    callers only read it)."""
    known = graph.completions.get((sinks, hops))
    if known is None:
        known = graph.completions[(sinks, hops)] = _best_completion(graph, sinks, hops)
    return known


def _best_completion(graph: Graph, sinks: frozenset[AssetId], hops: int) -> list[dict[AssetId, float]]:
    transfers = [e for es in graph.out_edges.values() for e in es if e.hops == 0]
    best: list[dict[AssetId, float]] = [_transfer_closure(graph, dict.fromkeys(sinks, 1.0), transfers)]
    for _ in range(hops):
        prev = best[-1]
        cur = dict(prev)
        for node, edges in graph.out_edges.items():
            v = 0.0
            for e in edges:
                v = _fmax(v, e.curve.spot * prev.get(e.asset_out, 0.0))
            if v > cur.get(node, 0.0):
                cur[node] = v
        cur = _transfer_closure(graph, cur, transfers)
        if cur == prev:  # settled: more hops cannot improve any completion
            best.extend([prev] * (hops + 1 - len(best)))
            break
        best.append(cur)
    return best


def _transfer_closure(
    graph: Graph, best: dict[AssetId, float], transfers: list[Edge] | None = None
) -> dict[AssetId, float]:
    """``best`` improved by any number of transfers (they cost no hop); strict improvement only, so a zero-fee
    round trip cannot loop. ``transfers``: the graph's transfer edges in its order, when the caller has them."""
    if transfers is None:
        transfers = [e for es in graph.out_edges.values() for e in es if e.hops == 0]
    for _ in range(len(graph.out_edges) + 1):
        changed = False
        for e in transfers:
            v = e.curve.spot * best.get(e.asset_out, 0.0)
            if v > best.get(e.asset_in, 0.0) * (1.0 + 1e-15):
                best[e.asset_in] = v
                changed = True
        if not changed:
            break
    return best


def _fmax(a: float, b: float) -> float:
    """``max(a, b)`` on two floats (the same one: ``b`` only when it is greater), a native call when compiled where
    the builtin ``max`` is a generic one (hundreds a path search)."""
    return b if b > a else a


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
    """Simple paths source → sink within ``max_hops``, pruned by spot rates (see module doc).

    The search is depth-first, so stopping at ``max_paths`` would keep a lopsided sample (it can miss even 2-hop
    paths). When ``max_hops`` yields more than ``max_paths`` candidates, the deepest hop count that fits is used
    instead — every path of that length, never an arbitrary subset (``CandidateSearch.hops`` says which).
    """
    return search_paths(graph, sources, sinks, max_hops, amount, margin=margin, max_paths=max_paths).paths


@dataclass(frozen=True, slots=True)
class CandidateSearch:
    paths: list[CandidatePath]
    hops: int
    """The hop limit the paths respect: the request's, or lower when its paths would exceed ``max_paths``."""


def search_paths(
    graph: Graph,
    sources: Iterable[tuple[AssetId, int]],
    sinks: frozenset[AssetId],
    max_hops: int,
    amount: int,
    *,
    margin: float = 0.005,
    max_paths: int = 50_000,
    level: bool = True,
) -> CandidateSearch:
    """``level``: on one layer of parallel venues, prune by the water level too (see ``FILL_CHECK``). Off when
    waiting costs apply: the level is computed on the venues' own curves, and a slow venue's cost lowers the
    optimum's level below it."""
    sources = tuple(sources)
    if len(sources) == 1 and margin < 1.0:
        every = _every_path(graph, sources[0][0], sinks, max_hops)
        if every is not None and len(every) <= max_paths:  # then the pruned search's paths fit too
            return CandidateSearch(_pruned(every, float(min(sources[0][1], amount)), margin), max_hops)
    for hops in range(max_hops, 0, -1):
        found = _paths(graph, sources, sinks, hops, amount, margin, max_paths, level)
        if found is not None:
            return CandidateSearch(found, hops)
    return CandidateSearch([], 0)


EVERY_LIMIT = 4096
"""Most unpruned paths a graph keeps for later searches (a mixed graph has 100-1,200 within 4 hops)."""


def _every_path(graph: Graph, source: AssetId, sinks: frozenset[AssetId], hops: int) -> list[CandidatePath] | None:
    """Every simple path from ``source`` within ``hops``, in the search's depth-first order, from the second search on
    this graph (the first runs the pruned search: a graph routed once pays nothing extra); None on one layer of
    parallel venues (the water level prunes there, see ``FILL_CHECK``) or past ``EVERY_LIMIT``."""
    key = (source, sinks, hops)
    if key in graph.every:
        return graph.every[key]
    if key not in graph.searched:
        graph.searched.add(key)
        return None
    one = ((source, 1),)
    found = None if _one_layer(graph, one, sinks) else _paths(graph, one, sinks, hops, 1, 1.0, EVERY_LIMIT, False)
    graph.every[key] = found
    return found


def _pruned(every: list[CandidatePath], size: float, margin: float) -> list[CandidatePath]:
    """What the pruned search keeps of ``every`` (the unpruned paths in its order) for a source selling ``size``: its
    threshold only ever rises to the best marginal rate at ``size`` (less the margin) of a path whose spot rate
    (less the margin) is above the threshold so far, and a path it prunes has a spot rate below the threshold then
    (the spot-rate completions bound every path's rate from above), so no path it prunes would have raised it. The
    same threshold, so the same paths in the same order, without walking the graph."""
    threshold = 0.0
    for c in every:
        if c.spot * (1.0 - margin) > threshold:
            threshold = _fmax(threshold, path_marginal(c.edges, size) * (1.0 - margin))
    return [c for c in every if c.spot >= threshold]


def _paths(
    graph: Graph,
    sources: tuple[tuple[AssetId, int], ...],
    sinks: frozenset[AssetId],
    max_hops: int,
    amount: int,
    margin: float,
    max_paths: int,
    level: bool,
) -> list[CandidatePath] | None:
    """Every pruned path within ``max_hops``; None when there are more than ``max_paths``."""
    best: list[dict[AssetId, float]] = []  # built on the first edge that does not end at a sink (never, on one layer)
    layer = _one_layer(graph, sources, sinks)
    level = level and layer and margin < 1.0  # margin 1: nothing is cut
    found: list[CandidatePath] = []
    # A source's holdings cap what its own paths carry, so its best path's marginal at min(cap, amount) bounds
    # only its own paths. It bounds every source's paths only when that source could carry the whole amount
    # alone: a capped source (a sell list of holdings) must keep its routes even if they are worse.
    shared = 0.0
    own: dict[AssetId, float] = {}
    for source, cap in sources:
        size = float(min(cap, amount))
        alone = cap >= amount
        threshold = shared
        parallel: list[FloatCurve] = []  # one layer: the curves found so far, for the water-level bound
        check = FILL_CHECK
        # The root's bound is infinite: a later source must not be pruned by the threshold an earlier one
        # raised (a bound of 1.0 here dropped every source after the first once rates exceeded 1).
        # (bound, node, spot product, path, its nodes, hops left): the hops left travel with the path (summing its
        # hop costs at every pop was a tenth of a first search)
        stack: list[tuple[float, AssetId, float, tuple[Edge, ...], frozenset[AssetId], int]] = [
            (math.inf, source, 1.0, (), frozenset((source,)), max_hops)
        ]
        while stack:
            if len(found) > max_paths:
                return None
            bound, node, prod, path, seen, left = stack.pop()
            threshold = _fmax(threshold, shared)
            if bound < threshold:
                continue  # the threshold rose since this branch was queued
            nxt = []
            for e in graph.out_edges.get(node, ()):
                o = e.asset_out
                if o in seen:
                    continue
                after = left - e.hops
                if after < 0:
                    continue
                p = prod * e.curve.spot
                if o in sinks:
                    if p < threshold:
                        if layer:
                            break  # one layer: edges come best spot first, so no later one passes either
                        continue
                    cand = CandidatePath(source, path + (e,), p)  # noqa: RUF005 (mypyc: `(*path, e)` goes via a list)
                    found.append(cand)
                    if p * (1.0 - margin) > threshold:  # a marginal rate never exceeds the spot rate
                        threshold = _fmax(threshold, path_marginal(cand.edges, size) * (1.0 - margin))
                    if level and alone:
                        parallel.append(e.curve)
                        if len(parallel) == check:
                            threshold = _fmax(threshold, fill_rate(parallel, size) * (1.0 - margin))
                            check *= 4
                    if alone:
                        shared = _fmax(shared, threshold)
                else:
                    if not best:
                        best = best_completion(graph, sinks, max_hops)
                    bound = p * best[after].get(o, 0.0)
                    if bound > 0.0 and bound >= threshold:
                        nxt.append((bound, o, p, e, after))
            # push worst first so the most promising branch is explored next
            nxt.sort(key=lambda t: (t[0], t[3].venue.id))
            for b, o, p, e, hops_left in nxt:
                stack.append((b, o, p, path + (e,), seen | {o}, hops_left))  # noqa: RUF005 (as above)
        own[source] = threshold
    return [c for c in found if c.spot >= _fmax(own[c.source], shared)]
