"""Crossover: from a smoothed solve's prices to the exact (unsmoothed) optimum, in a few Newton steps.

Path following (:mod:`fillpath.router.newton`) smooths every piecewise-linear arc (books, transfers, bridges) with a
temperature τ; each τ stage costs Newton steps, and the last ones are the slowest (the ramps are narrow, so steps keep
crossing kinks). But a smoothed solve at a moderate τ already shows the *active set*: which linear segment is only
partly used (its price ratio inside its ramp). At the exact optimum such a segment is *tight*: ``ν_in + c = r·ν_out``.
So the crossover

1. ties the prices of every tight segment's two nodes (union-find; each group of tied nodes gets one free price
   ``π``, and each node in it is affine in it: ``ν_j = α_j·π + β_j``; a group holding a sink has ``π`` fixed),
2. minimizes the exact dual over the group prices by damped Newton (the curvature comes from the smooth arcs: pools),
   the other linear segments being whole or empty (their flows are steps, fixed away from their kinks),
3. recovers each tight segment's flow from the node balances, leaves first, over the spanning tree of its group,
4. checks the guess: every tight flow within its segment and every node balanced. If not, the caller goes on down the
   temperatures (nothing is lost but a few steps).

A zero-fee transfer both ways between two nodes (a zero-cost cycle) ties them twice: the second tie is consistent
with the first and carries a fixed flow (the smoothed one, clipped): any split of a tie's flow is optimal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fillpath.router.curves import PiecewiseLinearCurve
from fillpath.router.network import OFF_ABOVE_SPOT, Arc, ArcEval, evaluator, solve_spd

TIGHT_TOL = 1e-9
"""Relative slack allowed for a tight segment's flow beyond its ends, and for a consistent second tie."""
KINK = 1e-6
"""A price ratio this close above a segment's rate is at its kink (a candidate tie with no flow). 1e-9 missed a book
level parked 8.8e-8 above its kink at τ = 1e-3 whose neighbour's price the ties then moved by 3.7e-6: the guess
failed at τ = 1e-3 and 1e-4, two more stages (family 1, seed 3 of the benchmark). A candidate that is not tight at
the optimum fails the flow check, as before. Over 160 markets of the four families: 10% fewer Newton evaluations,
crossovers 1,570 → 1,412, the largest gap unchanged."""
MAX_STEPS = 30
BACKTRACKS = 8
"""Halvings of a step before the guess is given up (a step blocked by a kink means the active set is wrong)."""


@dataclass
class _Tie:
    arc: int
    seg: int
    rate: float
    lo_x: float
    hi_x: float
    base_out: float
    """Output of the whole segments before this one (the arc's output at ``lo_x``)."""
    smoothed: float
    """The arc's input in the smoothed solve."""


def _tight_segment(curve: PiecewiseLinearCurve, rho: float, tau: float) -> int | None:
    """The segment whose ramp holds ``rho`` (partly used at temperature ``tau``, or exactly at its kink: a flat node
    the solve parked there). Where ramps overlap (a book's levels closer than ``tau``), the one the smoothed input
    ends in: at the optimum the input fills the levels in order up to one partly used level."""
    found = [k for k, r in enumerate(curve.rates) if r * (1.0 - tau) < rho <= r * (1.0 + KINK)]
    if len(found) <= 1:
        return found[0] if found else None
    x, _ = curve.arb(rho, tau)
    cum = curve.cumulative[0]
    inside = [k for k in found if cum[k] < x < cum[k + 1]]
    return inside[0] if len(inside) == 1 else None


def crossover(
    n: int,
    arcs: Sequence[Arc],
    supplies: Mapping[int, float],
    sinks: frozenset[int],
    prices: Sequence[float],
    tau: float,
    tol: float,
    evals: Sequence[ArcEval] | None = None,
) -> tuple[list[float], list[float], list[float], float] | None:
    """(prices, flows, outputs, relative imbalance) of the exact optimum near ``prices`` (a solve at ``tau``), or None
    when the active set read from them does not check out. ``evals``: the arcs' evaluators, if the caller has them."""
    evals = evals if evals is not None else [evaluator(a.curve) for a in arcs]
    off = [a.curve.spot if type(a.curve) in OFF_ABOVE_SPOT else math.inf for a in arcs]  # smooth and off from there
    nu0 = list(prices)
    ties: list[_Tie] = []
    loose: dict[int, float] = {}  # arc -> fixed input (a second, consistent tie)
    tie_of: dict[int, _Tie] = {}
    for i, a in enumerate(arcs):
        if not isinstance(a.curve, PiecewiseLinearCurve):
            continue
        rho = (nu0[a.tail] + a.cost) / nu0[a.head]
        k = _tight_segment(a.curve, rho, tau)
        if k is None:
            continue
        cx, co = a.curve.cumulative
        x, _ = a.curve.arb(rho, tau)
        ties.append(_Tie(i, k, a.curve.rates[k], cx[k], cx[k + 1], co[k], x))
    # the other linear arcs stay whole or empty segment by segment (their input, unsmoothed, at the start)
    tied = {t.arc for t in ties}
    state: dict[int, float] = {}
    # groups: BFS over the ties from a root (a sink when the group has one); ν_j = α_j·π + β_j
    adj: dict[int, list[_Tie]] = {}
    for t in sorted(ties, key=lambda t: -t.smoothed):  # the tie carrying more first (the tree's arc)
        a = arcs[t.arc]
        adj.setdefault(a.tail, []).append(t)
        adj.setdefault(a.head, []).append(t)
    alpha = [1.0] * n
    beta = [0.0] * n
    group = list(range(n))
    order: list[list[int]] = []  # per group: nodes in BFS order (root first)
    parent: dict[int, _Tie] = {}
    seen = [False] * n
    # a sink roots its group; else a supplied node (the float residual of the solve then stays on it, rather than on
    # the last tie the balances reach: equal pools get equal flows to the unit)
    roots = sorted(adj, key=lambda j: (j not in sinks, j not in supplies, j))
    for root in roots:
        if seen[root]:
            continue
        seen[root] = True
        members = [root]
        head = 0
        while head < len(members):
            u = members[head]
            head += 1
            for t in adj[u]:
                if t.arc in tie_of or t.arc in loose:
                    continue
                a = arcs[t.arc]
                v = a.tail if u == a.head else a.head
                if seen[v]:
                    # a second tie inside the group: consistent (a zero-cost cycle) → fixed flow; else demoted
                    lhs = alpha[a.tail] - t.rate * alpha[a.head]
                    rhs = beta[a.tail] + a.cost - t.rate * beta[a.head]
                    scale = abs(alpha[a.tail]) * abs(nu0[root]) + abs(beta[a.tail]) + abs(a.cost)
                    if group[v] == root and abs(lhs * nu0[root]) + abs(rhs) <= 1e-12 * max(scale, 1e-300):
                        loose[t.arc] = t.lo_x  # no circulation: the tie that carries more stays in the tree
                    continue
                if v in sinks:
                    return None  # two sinks tied (or a sink reached from another group): not handled here
                seen[v] = True
                group[v] = root
                if u == a.head:  # v is the tail: ν_v + c = r·ν_u
                    alpha[v] = t.rate * alpha[u]
                    beta[v] = t.rate * beta[u] - a.cost
                else:  # v is the head: ν_u + c = r·ν_v
                    alpha[v] = alpha[u] / t.rate
                    beta[v] = (beta[u] + a.cost) / t.rate
                tie_of[t.arc] = t
                parent[v] = t
                members.append(v)
        order.append(members)
    for j in range(n):
        if not seen[j]:
            order.append([j])
    # free group prices: a group without a sink
    free_roots = [m[0] for m in order if not any(j in sinks for j in m)]
    pos = {r: k for k, r in enumerate(free_roots)}
    pi = {m[0]: (1.0 if m[0] in sinks else (nu0[m[0]] - beta[m[0]]) / alpha[m[0]]) for m in order}
    for m in order:
        if m[0] in sinks:
            pi[m[0]] = (1.0 - beta[m[0]]) / alpha[m[0]]

    def prices_at(p: Mapping[int, float]) -> list[float]:
        return [alpha[j] * p[group[j]] + beta[j] for j in range(n)]

    def evaluate(
        nu: Sequence[float], want_hess: bool
    ) -> tuple[float, list[float], list[list[float]], list[float], list[float], list[float]]:
        """(g, gradient and Hessian over the free groups, node imbalances without the ties' flows beyond their
        segment starts, flows, outputs)."""
        m = len(free_roots)
        grad_node = [0.0] * n
        v = 0.0
        for s, amount in supplies.items():
            grad_node[s] += amount
            v += nu[s] * amount
        hess = [[0.0] * m for _ in range(m)] if want_hess else []
        flows = [0.0] * len(arcs)
        outs = [0.0] * len(arcs)
        for i, a in enumerate(arcs):
            ni = nu[a.tail] + a.cost
            no = nu[a.head]
            t = tie_of.get(i)
            if t is not None:
                x, o = t.lo_x, t.base_out
            elif i in loose:
                x = loose[i]
                o = a.curve.out(x)
            else:
                if no <= 0.0 or ni < 0.0:
                    return math.inf, [], [], [], [], []
                if ni / no >= off[i]:
                    continue  # a pool above its spot rate: nothing to add (its flow and output stay 0)
                x, o, slope = evals[i](ni / no, 0.0)  # a linear arc's slope is 0 unsmoothed
                if i in state and x != state[i]:
                    return math.inf, [], [], [], [], []  # a linear arc crossed a kink: not the guessed active set
            flows[i], outs[i] = x, o
            v += no * o - ni * x
            grad_node[a.tail] -= x
            grad_node[a.head] += o
            if want_hess and t is None and i not in loose and not isinstance(a.curve, PiecewiseLinearCurve):
                rho = ni / no
                d = -slope / no
                if d <= 0.0:
                    continue
                gt, gh = pos.get(group[a.tail]), pos.get(group[a.head])
                ut, uh = alpha[a.tail], -rho * alpha[a.head]
                if gt is not None and gt == gh:
                    hess[gt][gt] += d * (ut + uh) ** 2
                    continue
                if gt is not None:
                    hess[gt][gt] += d * ut * ut
                if gh is not None:
                    hess[gh][gh] += d * uh * uh
                if gt is not None and gh is not None:
                    hess[gt][gh] += d * ut * uh
                    hess[gh][gt] += d * ut * uh
        grad = [0.0] * m
        for j in range(n):
            k = pos.get(group[j])
            if k is not None:
                grad[k] += alpha[j] * grad_node[j]
        return v, grad, hess, grad_node, flows, outs

    total = sum(nu0[s] * amount for s, amount in supplies.items())
    if total <= 0.0:
        return None
    nu = prices_at(pi)
    if any(p <= 0.0 for p in nu):
        return None
    for i, a in enumerate(arcs):
        if not isinstance(a.curve, PiecewiseLinearCurve) or i in tied or i in loose:
            continue
        if group[a.tail] == group[a.head]:
            # both ends tied together: the arc's price ratio is fixed; exactly at one of its rates it is a
            # consistent tie like the loose ones (a transfer back along a tied transfer): empty from that segment on
            rho = (nu[a.tail] + a.cost) / nu[a.head]
            at = [k for k, r in enumerate(a.curve.rates) if abs(rho - r) <= 1e-12 * r]
            if at:
                loose[i] = a.curve.cumulative[0][at[0]]
                continue
        state[i] = a.curve.arb((nu[a.tail] + a.cost) / nu[a.head], 0.0)[0]
    gv, grad, hess, node_imb, flows, outs = evaluate(nu, True)
    if not math.isfinite(gv):
        return None
    best, since = math.inf, 0
    for _ in range(MAX_STEPS):
        sizes = [max(abs(pi[r]), 1e-300) for r in free_roots]
        small = 0.1 * tol * total
        worst = max((abs(g) * p for g, p in zip(grad, sizes, strict=True)), default=0.0)
        if worst <= small:
            break
        if worst < 0.5 * best:
            best, since = worst, 0
        else:
            since += 1
            if since >= 3:
                break  # float resolution (or a wrong guess): the balance check below judges
        step = _newton_step(grad, hess, sizes, small)
        if step is None:
            return None
        slope = sum(g * s for g, s in zip(grad, step, strict=True))
        if slope >= 0.0:
            break  # only flat groups' small gradients remain: the balance check below judges
        t_len = 1.0
        for r, s in zip(free_roots, step, strict=True):  # no price moves more than 50% or goes negative
            if s and pi[r]:
                t_len = min(t_len, 0.5 * abs(pi[r]) / abs(s))
        accepted = False
        for _ in range(BACKTRACKS):
            trial = dict(pi)
            for r, s in zip(free_roots, step, strict=True):
                trial[r] = pi[r] + t_len * s
            nu_t = prices_at(trial)
            if all(p > 0.0 for p in nu_t):
                res = evaluate(nu_t, True)
                if res[0] <= gv + 1e-4 * t_len * slope or (res[0] <= gv + 1e-13 * abs(gv)):
                    pi, nu = trial, nu_t
                    gv, grad, hess, node_imb, flows, outs = res
                    accepted = True
                    break
            t_len *= 0.5
        if not accepted:
            break
    # tight flows from the balances, leaves first (reverse BFS order), each node's residual onto its parent tie
    resid = list(node_imb)
    for members in order:
        for v in reversed(members[1:]):
            t = parent[v]
            a = arcs[t.arc]
            if v == a.tail:  # v's surplus leaves over the tie: x = lo_x + surplus
                x = t.lo_x + resid[v]
                o = t.base_out + t.rate * (x - t.lo_x)
                resid[a.head] += o - t.base_out
            else:  # v's deficit is met by the tie's output
                o = t.base_out - resid[v]
                x = t.lo_x + (o - t.base_out) / t.rate
                resid[a.tail] -= x - t.lo_x
            resid[v] = 0.0
            slack = TIGHT_TOL * max(t.hi_x - t.lo_x, abs(x))
            if not t.lo_x - slack <= x <= t.hi_x + slack:
                return None
            x = min(max(x, t.lo_x), t.hi_x)
            flows[t.arc] = x
            outs[t.arc] = t.base_out + t.rate * (x - t.lo_x)
    imb = max((abs(resid[j]) * nu[j] for j in range(n) if j not in sinks), default=0.0) / total
    if imb > tol:
        return None
    return nu, flows, outs, imb


def _newton_step(grad: list[float], hess: list[list[float]], scale: list[float], small: float) -> list[float] | None:
    """-H⁻¹·g in relative price moves (prices of different assets differ by 10^12 per base unit), with a tiny ridge.
    A group without curvature (only linear arcs around it, none tight: no flow passes it, or books between levels)
    keeps its price if it is balanced (valued gradient below ``small``); otherwise the guess cannot be right."""
    m = len(grad)
    if m == 0:
        return []
    g = [grad[i] * scale[i] for i in range(m)]
    diag = [hess[i][i] * scale[i] * scale[i] for i in range(m)]
    top = max(diag)
    live = [i for i in range(m) if top > 0.0 and diag[i] > 1e-14 * top]
    on = set(live)
    if any(abs(g[i]) > 100.0 * small for i in range(m) if i not in on):
        return None
    a = [[hess[i][j] * scale[i] * scale[j] + (1e-12 * diag[i] if i == j else 0.0) for j in live] for i in live]
    q = solve_spd(a, [-g[i] for i in live]) if live else []
    if q is None:
        return None
    step = [0.0] * m
    for k, i in enumerate(live):
        step[i] = q[k] * scale[i]
    return step
