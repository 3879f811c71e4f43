"""Building the integer plan: exact legs in executable order, built from a (continuous) flow on edges.

Given how the optimizer wants each node's holdings split over its outgoing edges (``weights``, any
positive scale), the builder walks the nodes in topological order, splits what the node *actually*
holds — its supply, or exactly what earlier legs output — by largest remainder, and quotes every leg with
the venue's exact ``quote``. So amounts are conserved by construction, each (venue, direction) trades
once, and re-simulating any leg on the snapshot gives its ``amount_out``.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router.graph import Edge
from fillpath.router.plan import PlanLeg, PlanPath, PlanStats
from fillpath.router.reach import reach
from fillpath.router.venues.aggregator import Aggregator

BPS = 10_000
DUST_PPM = 100_000
"""A remainder no venue can take is dust, left unsold and reported, when it is at most 10 ppm of what its node holds
(an intermediate asset) or of what the plan sells (a source given a rounding unit but no leg); anything else is a
real shortfall ("sell less"). 10 ppm, not 1: a $15M sale that saturates every ETH book on an exchange left 3.4 ppm of
the ETH it bought there (the float solve's flows into a saturated node match its books' depth to ~1e-6)."""


COARSE = 1e-6
"""An intermediate asset is coarse when one base unit is worth more than this share of the output: flooring a leg's
output to whole units of it costs real output."""


def min_out(amount: int, slippage_bps: int) -> int:
    return amount * (BPS - slippage_bps) // BPS


# The plan's value types are the format's own (``router/plan.py``): what the builder makes is what is written.
Leg = PlanLeg
PathFlow = PlanPath
Stats = PlanStats


@dataclass(frozen=True)
class Draft:
    """Legs and paths before costs: what the builder produces for one set of weights."""

    legs: tuple[Leg, ...]
    paths: tuple[PathFlow, ...]
    amount_in: int
    expected_out: int
    unsold: tuple[tuple[AssetId, int], ...] = ()
    """Dust no venue could take (integer splitting at capacity edges), per node: kept, not traded."""


def apportion(total: int, weights: Sequence[Fraction | int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` by largest remainder; shares sum to ``total``."""
    if all(isinstance(w, int) for w in weights):
        return _apportion_int(total, [int(w) for w in weights])
    wsum = sum(weights)
    if wsum <= 0:
        return [0] * len(weights)
    exact = [Fraction(total) * w / wsum for w in weights]
    shares = [int(e) for e in exact]  # floor: all non-negative
    order = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _apportion_int(total: int, weights: list[int]) -> list[int]:
    """Integer-only largest remainder (the hot path: no Fractions)."""
    wsum = sum(weights)
    if wsum <= 0:
        return [0] * len(weights)
    shares, rems = [], []
    for w in weights:
        q, r = divmod(total * w, wsum)
        shares.append(q)
        rems.append(r)
    left = total - sum(shares)
    if left:
        for i in sorted(range(len(weights)), key=lambda i: (-rems[i], i))[:left]:
            shares[i] += 1
    return shares


def _useful(edges: Sequence[Edge], active: list[int], sources: set[AssetId], sinks: frozenset[AssetId]) -> list[int]:
    """Edges on some source → sink route within ``active`` (a dead end would strand assets)."""
    fwd_adj: dict[AssetId, list[AssetId]] = {}
    back_adj: dict[AssetId, list[AssetId]] = {}
    for k in active:
        fwd_adj.setdefault(edges[k].asset_in, []).append(edges[k].asset_out)
        back_adj.setdefault(edges[k].asset_out, []).append(edges[k].asset_in)
    fwd = reach(set(sources), fwd_adj)
    back = reach(set(sinks), back_adj)
    return [k for k in active if edges[k].asset_in in fwd and edges[k].asset_out in back]


def _find_cycle(arcs: Sequence[tuple[AssetId, AssetId]]) -> list[tuple[AssetId, AssetId]] | None:
    """One directed cycle's arcs (depth-first, nodes and arcs in the order given: deterministic), or None."""
    adj: dict[AssetId, list[AssetId]] = {}
    for u, v in arcs:
        adj.setdefault(u, []).append(v)
        adj.setdefault(v, [])
    state: dict[AssetId, int] = {}  # 1: on the current path, 2: done
    for root in adj:
        if root in state:
            continue
        path = [root]
        state[root] = 1
        its = [iter(adj[root])]
        while its:
            nxt = next(its[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                its.pop()
                continue
            seen = state.get(nxt)
            if seen == 1:
                start = path.index(nxt)
                loop = [*path[start:], nxt]
                return list(itertools.pairwise(loop))
            if seen is None:
                state[nxt] = 1
                path.append(nxt)
                its.append(iter(adj[nxt]))
    return None


def _break_cycles(edges: Sequence[Edge], active: list[int], value: Sequence[float]) -> list[int]:
    """Drop the least valuable edge of each directed cycle (possible only with arbitrage, or a venue
    wanted both ways) until the flow is acyclic, hence executable in order."""
    active = list(active)
    while True:
        cycle = _find_cycle([(edges[k].asset_in, edges[k].asset_out) for k in active])
        if cycle is None:
            return active
        on = set(cycle)
        worst = min((k for k in active if (edges[k].asset_in, edges[k].asset_out) in on), key=lambda k: value[k])
        active.remove(worst)


def executable(
    edges: Sequence[Edge],
    weights: Sequence[float | int],
    sources: set[AssetId],
    sinks: frozenset[AssetId],
    value: Sequence[float] | None = None,
) -> list[int]:
    """The edges the builder will trade: carrying flow, acyclic, and on some source → sink route. A source with
    none of them gets no leg, so whoever splits the sell amount over sources must give it nothing."""
    active = [k for k, w in enumerate(weights) if w > 0]
    if all(edges[k].asset_in in sources and edges[k].asset_out in sinks for k in active):
        return active  # straight from sources into sinks (one pair, parallel venues): no cycle, no dead end
    active = _break_cycles(edges, active, value if value is not None else [float(w) for w in weights])
    return _useful(edges, active, sources, sinks)


def build(
    edges: Sequence[Edge],
    weights: Sequence[float | int],
    supplies: Mapping[AssetId, int],
    sinks: frozenset[AssetId],
    slippage_bps: int,
    value: Sequence[float] | None = None,
    coarse: frozenset[AssetId] = frozenset(),
) -> Draft:
    """Exact legs from per-edge weights (see module doc). ``value`` ranks edges when breaking cycles. A leg into a
    ``coarse`` asset (one base unit worth a noticeable share of the output) is trimmed to the least input that
    still buys its whole units, the rest going to a sibling leg (see :func:`_whole_units`); a coarse sink (a small
    output) loses one fraction per node, not one per leg (see :func:`_one_fraction`)."""
    sources = {s for s, n in supplies.items() if n > 0}
    active = executable(edges, weights, sources, sinks, value)
    if not active:
        raise InvalidInput("buy", "no route carries any output", "check the venues and the amount")
    by_tail: dict[AssetId, list[int]] = {}
    for k in active:
        by_tail.setdefault(edges[k].asset_in, []).append(k)
    avail: dict[AssetId, int] = {s: n for s, n in supplies.items() if n > 0}
    legs: list[Leg] = []
    leg_of: dict[int, Leg] = {}
    held: dict[AssetId, int] = {}
    for node in _order(edges, active, sinks):
        have = avail.get(node, 0)
        held[node] = have
        if node in sinks or have <= 0 or node not in by_tail:
            continue
        ks = sorted(by_tail[node], key=lambda k: (edges[k].venue.id, str(edges[k].asset_out)))
        shares = _split_node(edges, ks, weights, have, slippage_bps)
        shares = _on_samples(edges, ks, shares)
        if coarse:
            shares = _whole_units(edges, ks, shares, coarse - sinks)
            if coarse & sinks:
                shares = _one_fraction(edges, ks, shares, sinks)
        for k, amt in zip(ks, shares, strict=True):
            if amt <= 0:
                continue
            e = edges[k]
            out = e.venue.quote(e.asset_in, amt)
            leg = Leg(e.venue.id, e.asset_in, e.asset_out, amt, out, min_out(out, slippage_bps))
            legs.append(leg)
            leg_of[k] = leg
            avail[e.asset_out] = avail.get(e.asset_out, 0) + out
    spent: dict[AssetId, int] = {}
    for leg in legs:
        spent[leg.asset_in] = spent.get(leg.asset_in, 0) + leg.amount_in
    offered = sum(n for n in supplies.values() if n > 0)
    unsold: list[tuple[AssetId, int]] = []
    for node, have in sorted(avail.items(), key=lambda kv: str(kv[0])):
        if node not in sinks and have > spent.get(node, 0):
            # only capacities leave anything behind (splits are exact): the route cannot carry it all
            left = have - spent.get(node, 0)
            # at a source, only a rounding unit that got no leg at all is dust: a source whose legs are full was
            # asked for more than its venues take
            dust = (
                left * DUST_PPM <= have if node not in supplies else not spent.get(node) and left * DUST_PPM <= offered
            )
            if not dust:
                raise InvalidInput("amount", f"{left} base units of {node} find no venue with room", "sell less")
            unsold.append((node, left))
    expected = sum(avail.get(t, 0) for t in sinks)
    amount_in = offered - sum(n for a, n in unsold if a in supplies)
    paths = _paths(edges, leg_of, supplies, held, sinks, expected, amount_in)
    return Draft(tuple(legs), paths, amount_in, expected, tuple(unsold))


def _split_node(
    edges: Sequence[Edge], ks: list[int], weights: Sequence[float | int], have: int, slippage_bps: int
) -> list[int]:
    """Split a node's holdings over its edges: proportional, within capacities, no dust legs (a leg whose
    min_out would be 0 goes to the node's biggest leg instead)."""
    # float weights keep 20 more bits so small flows split as precisely as large ones
    ws = [w if isinstance(w, int) else int(w * 1048576.0) for w in (weights[k] for k in ks)]
    shares = apportion(have, ws)
    caps = [edges[k].venue.capacity(edges[k].asset_in) for k in ks]
    spill = 0
    for i, c in enumerate(caps):
        if c is not None and shares[i] > c:
            spill += shares[i] - c
            shares[i] = c
    for i in sorted(range(len(ks)), key=lambda i: -ws[i]):
        if spill <= 0:
            break
        room = spill if caps[i] is None else min(spill, caps[i] - shares[i])  # type: ignore[operator]
        shares[i] += room
        spill -= room
    while len([s for s in shares if s > 0]) > 1:
        live = [i for i, s in enumerate(shares) if s > 0]
        dust = [
            i for i in live if min_out(edges[ks[i]].venue.quote(edges[ks[i]].asset_in, shares[i]), slippage_bps) <= 0
        ]
        if not dust:
            break
        i = dust[0]
        big = max((j for j in live if j != i), key=lambda j: (shares[j], -j))
        cap = caps[big]
        if cap is not None and shares[big] + shares[i] > cap:
            break
        shares[big] += shares[i]
        shares[i] = 0
    return shares


SNAP_PPM = 1
"""How close (ppm of the leg) a sampled venue's share must be to one of its samples to be moved onto it."""


def _on_samples(edges: Sequence[Edge], ks: list[int], shares: list[int]) -> list[int]:
    """A sampled venue (an aggregator's quoted points) is exact only at its samples; between them the plan would
    promise an interpolation. The optimizer gives such a venue whole segments, so its share lands on a sample up to
    the float weights' rounding: put it exactly there, the difference going to the node's biggest other leg."""
    shares = list(shares)
    for i, k in enumerate(ks):
        venue = edges[k].venue
        if not isinstance(venue, Aggregator) or shares[i] <= 0:
            continue
        point = min((a for a, _ in venue.samples), key=lambda a: abs(a - shares[i]))
        diff = point - shares[i]
        others = [
            j for j, kk in enumerate(ks) if j != i and shares[j] > 0 and not isinstance(edges[kk].venue, Aggregator)
        ]
        if not diff or abs(diff) * 1_000_000 > shares[i] * SNAP_PPM or not others:
            continue
        to = max(others, key=lambda j: (shares[j], -j))
        cap = edges[ks[to]].venue.capacity(edges[ks[to]].asset_in)
        if shares[to] - diff <= 0 or (cap is not None and shares[to] - diff > cap):
            continue
        shares[i] += diff
        shares[to] -= diff
    return shares


def _order(edges: Sequence[Edge], active: list[int], sinks: frozenset[AssetId]) -> list[AssetId]:
    """The nodes in executable order: topological, ties by name (deterministic plans)."""
    tails = {edges[k].asset_in for k in active}
    heads = {edges[k].asset_out for k in active}
    if not tails & heads:  # one layer (every leg from a holding straight into the buy asset): nothing to sort
        return sorted(tails, key=str) + sorted(heads, key=str)
    # Kahn's algorithm, the smallest name first among the ready nodes (networkx's lexicographical order)
    succ: dict[AssetId, set[AssetId]] = {}
    indeg: dict[AssetId, int] = {}
    for k in active:
        u, v = edges[k].asset_in, edges[k].asset_out
        succ.setdefault(v, set())
        indeg.setdefault(u, 0)
        indeg.setdefault(v, 0)
        if v not in succ.setdefault(u, set()):
            succ[u].add(v)
            indeg[v] += 1
    ready = [(str(a), a) for a, d in indeg.items() if d == 0]
    heapq.heapify(ready)
    out: list[AssetId] = []
    while ready:
        _, a = heapq.heappop(ready)
        out.append(a)
        for b in succ[a]:
            indeg[b] -= 1
            if indeg[b] == 0:
                heapq.heappush(ready, (str(b), b))
    if len(out) < len(indeg):
        raise ValueError("the active edges have a cycle")
    return out


def _whole_units(edges: Sequence[Edge], ks: list[int], shares: list[int], coarse: frozenset[AssetId]) -> list[int]:
    """Legs into a coarse intermediate buy whole base units: the input past the least amount that buys as many
    (up to one unit's worth, which can be a percent of the trade) would be thrown away. Move it to the node's
    biggest leg into a fine asset, if it has room. Binary search on the exact quote; only coarse legs pay it."""
    fine = [i for i, k in enumerate(ks) if shares[i] > 0 and edges[k].asset_out not in coarse]
    if not fine:
        return shares
    to = max(fine, key=lambda i: (shares[i], -i))
    return _trim_into(edges, ks, shares, [i for i, k in enumerate(ks) if edges[k].asset_out in coarse], to)


def _one_fraction(edges: Sequence[Edge], ks: list[int], shares: list[int], sinks: frozenset[AssetId]) -> list[int]:
    """Legs from one node into the sinks, when one unit of the output is a noticeable share of it: each leg floors its
    output, so k legs can throw away almost k - 1 units between them. All but the biggest buy their whole units with
    the least input and the biggest takes the rest: one fraction lost instead of k (a 17,770.27-unit optimum then
    plans 17,770, not 17,769). Never worse: the trimmed legs keep their output and the biggest gets more input."""
    into = [i for i, k in enumerate(ks) if shares[i] > 0 and edges[k].asset_out in sinks]
    if len(into) < 2:
        return shares
    to = max(into, key=lambda i: (shares[i], -i))
    return _trim_into(edges, ks, shares, into, to)


def _trim_into(edges: Sequence[Edge], ks: list[int], shares: list[int], trim: list[int], to: int) -> list[int]:
    """Each leg in ``trim`` (but ``to``) down to the least input that buys the same output; the spare to leg ``to``
    while it has room."""
    shares = list(shares)
    e_to = edges[ks[to]]
    cap = e_to.venue.capacity(e_to.asset_in)
    for i in trim:
        e = edges[ks[i]]
        if i == to or shares[i] <= 0:
            continue
        want = e.venue.quote(e.asset_in, shares[i])
        if want <= 0:
            continue
        lo, hi = 0, shares[i]  # quote(lo) < want <= quote(hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if e.venue.quote(e.asset_in, mid) >= want:
                hi = mid
            else:
                lo = mid
        spare = shares[i] - hi
        if cap is not None:
            spare = min(spare, cap - shares[to])
        if spare > 0:
            shares[i] -= spare
            shares[to] += spare
    return shares


def _paths(
    edges: Sequence[Edge],
    leg_of: Mapping[int, Leg],
    supplies: Mapping[AssetId, int],
    held: Mapping[AssetId, int],
    sinks: frozenset[AssetId],
    expected: int,
    amount_in: int,
) -> tuple[PathFlow, ...]:
    """Attribute legs to source → sink paths pro rata (exact, then largest remainder). The paths' inputs
    sum to ``amount_in`` even when dust stays unsold on an intermediate node (a book's lot rounding): that dust is
    attributed to the paths through the node, like the rest of its input."""
    if all(edges[k].asset_in in supplies and edges[k].asset_out in sinks for k in leg_of):
        # every leg is a whole path (parallel venues): no attribution needed
        legs = sorted(leg_of.values(), key=lambda leg: (str(leg.asset_in), leg.venue))
        return tuple(PathFlow(leg.amount_in, leg.amount_out, (leg.venue,)) for leg in legs)
    out_of: dict[AssetId, list[int]] = {}
    for k in sorted(leg_of, key=lambda k: (leg_of[k].venue, str(leg_of[k].asset_out))):
        out_of.setdefault(edges[k].asset_in, []).append(k)
    # Each path's share of its source is the product of its legs' shares of what their nodes held: exact, in integers
    # over one common denominator (every node's holdings), since largest-remainder shares depend only on the weights'
    # ratios (the same shares as with Fractions, without their gcd at every step).
    nodes = sorted({edges[k].asset_in for k in leg_of}, key=str)
    common = 1
    for node in nodes:
        common *= held[node]
    found: list[tuple[int, int, tuple[str, ...]]] = []
    for s in sorted(supplies, key=str):
        if supplies[s] <= 0:
            continue
        # (node, Π amount_in so far, Π amount_out so far, the holdings not yet divided by, venues)
        stack: list[tuple[AssetId, int, int, int, tuple[str, ...]]] = [(s, 1, 1, common, ())]
        while stack:
            node, num_in, num_out, rest, names = stack.pop()
            if node in sinks:
                found.append((num_in * rest * supplies[s], num_out * rest * supplies[s], names))
                continue
            for k in reversed(out_of.get(node, [])):
                leg = leg_of[k]
                stack.append(
                    (
                        edges[k].asset_out,
                        num_in * leg.amount_in,
                        num_out * leg.amount_out,
                        rest // held[node],
                        (*names, leg.venue),
                    )
                )
    ins = apportion(amount_in if found else 0, [f[0] for f in found])
    total_out = Fraction(sum(f[1] for f in found), common) if found else Fraction(0)
    outs = apportion(min(expected, round(total_out)), [f[1] for f in found])
    return tuple(PathFlow(i, o, f[2]) for i, o, f in zip(ins, outs, found, strict=True))
