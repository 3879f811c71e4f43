"""The baseline the optimizer must beat: a Uniswap-style 5% grid over venue-disjoint routes."""

from __future__ import annotations

from fillpath.model.assets import AssetId
from fillpath.router.graph import CandidatePath, Graph, candidate_paths
from fillpath.router.market import Market


def path_out(path: CandidatePath, amount: int) -> int:
    x = amount
    for e in path.edges:
        if x <= 0:
            return 0
        x = e.venue.quote(e.asset_in, x)
    return x


def grid_route(market: Market, sell: AssetId, buy: AssetId, amount: int, max_hops: int, chunks: int = 20) -> int:
    """Greedy: each 1/chunks of the amount goes to the route adding the most output; routes that share a
    venue with a funded route are skipped (as Uniswap's router requires); the top 20 routes compete."""
    sinks = frozenset((buy,))
    graph = Graph.build(market.venues, frozenset(), sinks)
    paths = candidate_paths(graph, ((sell, amount),), sinks, max_hops, amount)
    paths = sorted(paths, key=lambda p: -path_out(p, amount // chunks))[:20]
    alloc = [0] * len(paths)
    outs = [0] * len(paths)
    used: set[str] = set()
    step = amount // chunks
    for c in range(chunks):
        size = step if c < chunks - 1 else amount - step * (chunks - 1)
        best, gain = -1, -1
        for i, p in enumerate(paths):
            ids = {e.venue.id for e in p.edges}
            if not alloc[i] and ids & used:
                continue
            g = path_out(p, alloc[i] + size) - outs[i]
            if g > gain:
                best, gain = i, g
        if best < 0:
            break
        alloc[best] += size
        outs[best] += gain
        used |= {e.venue.id for e in paths[best].edges}
    return sum(outs)
