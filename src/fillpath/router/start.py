"""A deterministic start for the dual solve: the prices a greedy primal implies.

From spot prices every pool is just off (its price ratio sits at its spot rate) and the first Newton steps of a
large sale hit the move cap and backtrack; from the optimum's prices a solve needs far fewer evaluations. The
start here is a cheap guess at them that depends only on the solve's inputs (arcs, supplies, sinks), never on an
earlier route: the supply is pushed in parts of at most ``1/CHUNKS`` of it, each along the best marginal path at the
flows so far (the arcs' marginal rates, ``curve.rate``; a full arc's is 0), and each node's start price is its best
marginal completion to the sinks at the final flows. At the optimum that completion is exactly the dual price (an arc
that carries flow has ``ν_out·rate(x) = ν_in + c``), so the guess is off by about one part's price impact.

Measured (40 markets per family, same run): Newton evaluations per mixed route -41% / -43% / -26% / -26% on
families 1-4; the oracle start (the optimum's own prices) gives -61% on families 1-2. docs/routing.md has the CPU.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from fillpath.router.network import Arc

CHUNKS = 12
"""The supply is pushed in parts of at most this fraction: more is closer to the optimum's prices (24 gave the same
evaluations on family 1), each costs one value pass (a Bellman-Ford over the arcs)."""
PUSHES = 4
"""At most ``PUSHES * CHUNKS`` pushes: a push that would lower its path's marginal rate by more than ``DROP`` sends
less (halved, at most 3 times), so a thin pool does not swallow a whole chunk (its marginal rate far below the
deep pools' at the end: prices too high, 0.66 of spot where the optimum has 0.44 on a $2.9M sale)."""
DROP = 0.1
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
    left = dict(sorted(supplies.items()))
    for _ in range(PUSHES * CHUNKS):
        busy = [(src, amount) for src, amount in left.items() if amount > supplies[src] * 1e-12]
        if not busy:
            break
        for src, amount in busy:
            _, via = _values(n, order, rates, sinks)
            sent = _push(arcs, via, flows, rates, src, min(amount, supplies[src] / CHUNKS), n)
            left[src] = amount - sent if sent > 0.0 else 0.0  # nothing sent: no path on (the solve will say so)
    value, _ = _values(n, order, rates, sinks)
    used = set(supplies) | {a.head for a, x in zip(arcs, flows, strict=True) if x > 0.0}
    # a node's price lies between what its best arc out pays (value: every arc out off) and what its arcs in would
    # pay for it (every arc in off). A node the flow passes sits at the low end (its arc out carries); one it passes
    # by starts halfway (geometric), off on both sides: at either end a linear arc (a book level, an uncapped
    # transfer) would turn on whole in the smoothed dual, or a kink read by the crossover would be off by a hair.
    # A node whose ways on are full (value 0) is priced by its inflow's margin: ν_tail = rate(x)·ν_head.
    top = [float(s) for s in spot]
    for a, x, r in zip(arcs, flows, rates, strict=True):
        if a.tail in sinks or value[a.tail] <= 0.0:
            continue
        edge = r if x > 0.0 else a.curve.spot
        if edge > 0.0:
            top[a.head] = min(top[a.head], (value[a.tail] + a.cost) / edge)
    weights = []
    for j, s in enumerate(spot):
        lo, hi = value[j], top[j]
        if s <= 0.0 or j in sinks:
            weights.append(1.0)
            continue
        nu = lo if j in used and lo > 0.0 else math.sqrt(lo * hi) if 0.0 < lo < hi else hi if lo <= 0.0 else lo
        weights.append(min(1.0, max(FLOOR, nu / s)))
    return weights


def _order(
    n: int, arcs: Sequence[Arc], sinks: frozenset[int], spot: Sequence[float]
) -> list[tuple[int, int, int, float]]:
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
    live = [(i, a.tail, a.head, a.cost) for i, a in enumerate(arcs) if a.tail not in sinks]
    return sorted(live, key=lambda t: depth[t[2]])


def _values(
    n: int, order: list[tuple[int, int, int, float]], rates: list[float], sinks: frozenset[int]
) -> tuple[list[float], list[int]]:
    """Best marginal completion of one unit at each node to the sinks (Bellman-Ford on products over ``order``'s
    (arc, tail, head, cost), ``n`` passes at most: a cycle that gains at marginal rates stops there) and the arc
    each node's best path leaves by."""
    value = [1.0 if j in sinks else 0.0 for j in range(n)]
    via = [-1] * n
    for _ in range(n):
        changed = False
        for i, tail, head, cost in order:
            v = rates[i] * value[head] - cost
            if v > value[tail] * (1.0 + 1e-15):
                value[tail] = v
                via[tail] = i
                changed = True
        if not changed:
            break
    return value, via


def _push(
    arcs: Sequence[Arc], via: list[int], flows: list[float], rates: list[float], node: int, amount: float, n: int
) -> float:
    """Send up to ``amount`` from ``node`` along the best arcs to a sink; how much was sent (0: no path). A path
    that cannot take all of it takes the share that fills its first full arc (linearly estimated: concave curves
    pass at least that share, and the last arc clips), or that lowers its marginal rate by at most ``DROP``."""
    path: list[int] = []
    j = node
    while via[j] >= 0 and len(path) < n:  # at most n arcs: a gaining cycle ends it
        path.append(via[j])
        j = arcs[via[j]].head
    if not path:
        return 0.0
    before = math.prod(rates[i] for i in path)
    send, full = amount, False
    for _ in range(4):
        a, fits, after = send, True, 1.0
        for i in path:
            curve = arcs[i].curve
            room = curve.cap - flows[i]
            if a > room:
                send *= max(room, 0.0) / a
                fits, full = False, True
                break
            after *= curve.rate(flows[i] + a) if room > a else 0.0
            a = curve.out(flows[i] + a) - curve.out(flows[i])
        if full or not fits:
            continue  # filling an arc is not overshooting it: only the fit is checked again
        if after >= (1.0 - DROP) * before:
            break
        send *= 0.5
    a = send
    for i in path:
        curve = arcs[i].curve
        x0 = flows[i]
        x1 = min(x0 + a, curve.cap)
        if math.isfinite(curve.cap) and curve.cap - x1 <= 1e-12 * curve.cap:
            x1 = curve.cap  # full (float noise aside): its rate is 0 from now on
        a = curve.out(x1) - curve.out(x0)
        flows[i] = x1
        rates[i] = curve.rate(x1) if x1 < curve.cap else 0.0
    return send
