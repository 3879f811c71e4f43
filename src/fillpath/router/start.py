"""A deterministic start for the dual solve: the prices a greedy primal implies.

From spot prices every pool is just off (its price ratio sits at its spot rate) and the first Newton steps of a
large sale hit the move cap and backtrack; from the optimum's prices a solve needs far fewer evaluations. The
start here is a cheap guess at them that depends only on the solve's inputs (arcs, supplies, sinks), never on an
earlier route: the supply is pushed in ``CHUNKS`` equal parts, each along the best marginal path at the flows so far
(the arcs' marginal rates, ``curve.rate``), and each node's start price is its best marginal completion to the sinks
at the final flows. At the optimum that completion is exactly the dual price (an arc that carries flow has
``ν_out·rate(x) = ν_in + c``), so the guess is off by about one chunk's price impact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fillpath.router.network import Arc

CHUNKS = 12
"""Parts the supply is pushed in: more is closer to the optimum's prices, each costs one value pass."""
FLOOR = 1e-6
"""Lowest start price relative to spot: a node the greedy saturated (every arc out at its cap) still starts where
Newton's relative steps can reach its price."""


def greedy_weights(
    n: int, arcs: Sequence[Arc], supplies: Mapping[int, float], sinks: frozenset[int], spot: Sequence[float]
) -> list[float]:
    """Each node's start price relative to ``spot`` (in ``[FLOOR, 1]``; 1 where the greedy sent nothing)."""
    order = _order(n, arcs, sinks, spot)
    flows = [0.0] * len(arcs)
    rates = [a.curve.spot for a in arcs]
    sources = sorted(supplies.items())
    for _ in range(CHUNKS):
        for src, amount in sources:
            left = amount / CHUNKS
            for _ in range(n):  # a path that fills an arc's cap takes what fits; the rest takes the next best path
                _, via = _values(n, arcs, order, rates, sinks)
                left = _push(arcs, via, flows, rates, src, left, n)
                if left <= amount * 1e-12:
                    break
    value, _ = _values(n, arcs, order, rates, sinks)
    # a node whose way on is full (value 0) is worth what its inflow paid at the margin: ν_tail = rate(x)·ν_head
    into = [min((value[a.tail] / r for a, x, r in zip(arcs, flows, rates, strict=True) if a.head == j and x > 0.0 and r > 0.0), default=0.0) for j in range(n)]
    used = set(supplies) | {a.head for a, x in zip(arcs, flows, strict=True) if x > 0.0}
    return [
        min(1.0, max(FLOOR, (value[j] or into[j]) / s)) if s > 0.0 and j in used else 1.0
        for j, s in enumerate(spot)
    ]


def _order(n: int, arcs: Sequence[Arc], sinks: frozenset[int], spot: Sequence[float]) -> list[int]:
    """Arcs out of non-sinks, those whose head is fewest spot-best hops from a sink first: one value pass then
    mostly settles every node (the passes repeat only where the marginal rates changed the best paths)."""
    depth = [0 if j in sinks else n for j in range(n)]
    for _ in range(n):
        changed = False
        for a in arcs:
            if a.tail in sinks or depth[a.head] + 1 >= depth[a.tail]:
                continue
            if spot[a.tail] > 0.0 and a.curve.spot * spot[a.head] >= spot[a.tail] * (1.0 - 1e-12):
                depth[a.tail] = depth[a.head] + 1
                changed = True
        if not changed:
            break
    live = [i for i, a in enumerate(arcs) if a.tail not in sinks]
    return sorted(live, key=lambda i: depth[arcs[i].head])


def _values(
    n: int, arcs: Sequence[Arc], order: Sequence[int], rates: Sequence[float], sinks: frozenset[int]
) -> tuple[list[float], list[int]]:
    """Best marginal completion of one unit at each node to the sinks (Bellman-Ford on products, ``n`` passes at
    most: a cycle that gains at marginal rates stops there) and the arc each node's best path leaves by."""
    value = [1.0 if j in sinks else 0.0 for j in range(n)]
    via = [-1] * n
    for _ in range(n):
        changed = False
        for i in order:
            a = arcs[i]
            v = rates[i] * value[a.head] - a.cost
            if v > value[a.tail] * (1.0 + 1e-15):
                value[a.tail] = v
                via[a.tail] = i
                changed = True
        if not changed:
            break
    return value, via


def _push(
    arcs: Sequence[Arc], via: Sequence[int], flows: list[float], rates: list[float], node: int, amount: float, n: int
) -> float:
    """Send up to ``amount`` from ``node`` along the best arcs to a sink; what is left (the path's caps are full).
    A path that cannot take all of it takes the share that fills its first full arc (linearly estimated: concave
    curves pass at least that share, and the last arc clips); a node without a path keeps nothing (0 is left)."""
    path: list[int] = []
    j = node
    while via[j] >= 0 and len(path) < n:  # at most n arcs: a gaining cycle ends it
        path.append(via[j])
        j = arcs[via[j]].head
    if not path:
        return 0.0
    send = amount
    for _ in range(4):
        a, fits = send, True
        for i in path:
            room = arcs[i].curve.cap - flows[i]
            if a > room:
                send *= max(room, 0.0) / a
                fits = False
                break
            a = arcs[i].curve.out(flows[i] + a) - arcs[i].curve.out(flows[i])
        if fits or send <= 0.0:
            break
    a = send
    for i in path:
        curve = arcs[i].curve
        x0 = flows[i]
        x1 = min(x0 + a, curve.cap)
        a = curve.out(x1) - curve.out(x0)
        flows[i] = x1
        rates[i] = curve.rate(x1) if x1 < curve.cap else 0.0
    return amount - send
