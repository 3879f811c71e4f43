"""The perspective relaxation of fixed costs, solved by Newton: prices that minimize the fixed-cost dual ``h``.

``h(ν) = source term + Σ_v max(0, z_v(ν))``, ``z_v = Σ_{arcs of v} (term_a(ν) − lost_a·ν_head) − gas_v`` (see
:class:`~fillpath.router.certificate.FixedCosts`), is convex, and any ν gives a valid bound. Its minimum is the bound of
the perspective relaxation: each venue's "0 if unused, its curves less its fixed cost if used" replaced by its concave
envelope (a ray from the origin up to the tangent through the fixed cost), a convex flow problem. Coordinate descent
on the non-smooth ``h`` stalls where several venues are half open (their ``z_v`` at 0); here ``max(0, z)`` is smoothed
by a quadratic of width ``μ_v`` (0 below 0, ``z²/2μ`` up to ``μ``, ``z − μ/2`` beyond: the venue's open share ramps
from 0 to 1, like a book level's flow in :mod:`.newton`), piecewise-linear arcs by the curves' own temperature, and
damped Newton follows both down. Each venue adds its arcs' rank-one curvature times its open share, plus a rank-one
term ``∇z_v ∇z_vᵀ/μ_v`` while it is half open: that is the curvature coordinate descent never saw.

Only the prices come from here; the bound is always the exact, unsmoothed ``h`` evaluated at them and rounded up
(:func:`~fillpath.router.certificate.priced_bound`), so a poor solve gives a looser bound, never a wrong one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from fillpath.router.curves import FloatCurve, PiecewiseLinearCurve
from fillpath.router.network import ArcEval, evaluator, solve_spd

if TYPE_CHECKING:
    from fillpath.router.certificate import FixedCosts

STAGES = (1e-4, 1e-5)
"""Smoothing widths, relative (a venue's ``μ_v`` to its fixed cost; a linear arc's temperature): Newton converges at
one, then warm-starts the next."""
MAX_STEPS = 15
"""Newton steps per stage (a stage also stops when a step lowers the smoothed ``h`` by less than 1e-12 of it)."""
MAX_MOVE = 0.5
"""Largest relative change of a price in one step."""
BACKTRACKS = 20
CUT = 0.3
FLAT_STEP = 0.3
"""About the largest relative move of a node with no curvature in one step (a gradient-scaled ridge: near the
minimum, where gradients vanish, the step is Newton's)."""


class _Smoothed:
    """The smoothed ``h`` over the free nodes, its gradient and Hessian, in scaled prices ``ν_j = scale_j·w_j``."""

    def __init__(
        self,
        start: Sequence[float],
        arcs: Sequence[tuple[int, int, FloatCurve]],
        sources: Sequence[tuple[int, float]],
        amount: float,
        sinks: frozenset[int],
        venue: Sequence[int],
        lost: Sequence[float],
        gas: Sequence[float],
        forced: frozenset[int],
        banned: frozenset[int],
        held: Sequence[float],
    ) -> None:
        self.scale = list(start)
        n = len(start)
        keep = [k for k in range(len(arcs)) if venue[k] not in banned]
        touched = {j for k in keep for j in arcs[k][:2]}
        self.free = [j for j in range(n) if j not in sinks and start[j] > 0.0 and j in touched]
        self.pos = {j: i for i, j in enumerate(self.free)}
        self.sources = list(sources)
        self.amount = amount
        self.arcs: list[tuple[int, int, FloatCurve, ArcEval, float, float, int]] = []
        for k in keep:
            t, h, c = arcs[k]
            cap = held[k] if held else math.inf
            if isinstance(c, PiecewiseLinearCurve) and cap < c.cap:
                c = c.clipped(cap)  # a transfer's 10^30 units would make its smoothed ramp meaningless
                cap = math.inf
            self.arcs.append((t, h, c, evaluator(c), cap, lost[k], venue[k]))
        self.gas = gas
        # a venue with no fixed cost is always on (its z is a sum of terms ≥ 0): it counts in full
        costly = {venue[k] for k in keep if lost[k] > 0.0} | {v for v, g in enumerate(gas) if g > 0.0}
        self.always = frozenset(v for v in range(len(gas)) if v not in costly) | forced
        self.width = [0.0] * len(gas)
        self.base = [g + sum(lost[k] * start[arcs[k][1]] for k in keep if venue[k] == v) for v, g in enumerate(gas)]
        self.tau = 0.0

    def set_stage(self, rel: float) -> None:
        self.tau = rel
        self.width = [rel * b if b > 0.0 else rel for b in self.base]

    def prices(self, w: Sequence[float]) -> list[float]:
        nu = list(self.scale)
        for i, j in enumerate(self.free):
            nu[j] = self.scale[j] * w[i]
        return nu

    def _source(self, nu: Sequence[float], grad: list[float]) -> float:
        if len(self.sources) == 1:
            s = self.sources[0][0]
            grad[s] += self.amount
            return nu[s] * self.amount
        # min over the super-source price p of p·amount + Σ cap·max(0, ν_s − p): a breakpoint wins; its subgradient
        best, at = math.inf, 0.0
        for p in (0.0, *(nu[s] for s, _ in self.sources)):
            v = p * self.amount + sum(c * max(0.0, nu[s] - p) for s, c in self.sources)
            if v < best:
                best, at = v, p
        for s, c in self.sources:
            if nu[s] > at:
                grad[s] += c
        return best

    def full(self, w: Sequence[float], hessian: bool = True) -> tuple[float, list[float], list[list[float]]]:
        nu = self.prices(w)
        n = len(nu)
        grad = [0.0] * n
        value = self._source(nu, grad)
        tau = self.tau
        nv = len(self.gas)
        z = [-g for g in self.gas]
        vgrad: list[dict[int, float]] = [{} for _ in range(nv)]
        vhess: list[list[tuple[int, int, float, float]]] = [[] for _ in range(nv)]
        for t, h, c, ev, cap, lost, v in self.arcs:
            no = nu[h]
            if no <= 0.0:
                continue
            ni = nu[t]
            if ni <= 0.0:
                x = min(c.cap, cap, 1e300)
                o, slope, rho = c.out(x), 0.0, 0.0
            else:
                rho = ni / no
                if hessian:
                    x, o, slope = ev(rho, tau)
                else:  # a line search's trial: no slope (a StableSwap's is two more evaluations)
                    (x, o), slope = c.arb(rho, tau), 0.0
                if x > cap:
                    x, o, slope = cap, c.out(cap), 0.0
            term = no * o - ni * x - lost * no
            z[v] += term
            if hessian and (x > 0.0 or lost):
                g = vgrad[v]
                g[t] = g.get(t, 0.0) - x
                g[h] = g.get(h, 0.0) + o - lost
            d = -slope / no
            if d > 0.0 and hessian:
                vhess[v].append((t, h, d, rho))
        m = len(self.free)
        hess = [[0.0] * m for _ in range(m)] if hessian else []
        pos = self.pos
        for v in range(nv):
            g = vgrad[v]
            if v in self.always:
                share, bend = 1.0, 0.0
                value += z[v]
            else:
                mu = self.width[v]
                zv = z[v]
                if zv <= 0.0:
                    continue
                if zv < mu:
                    share, bend = zv / mu, 1.0 / mu
                    value += zv * zv / (2.0 * mu)
                else:
                    share, bend = 1.0, 0.0
                    value += zv - mu / 2.0
            for j, gj in g.items():
                grad[j] += share * gj
            if not hessian:
                continue
            for t, h, d, rho in vhess[v]:
                pt, ph = pos.get(t, -1), pos.get(h, -1)
                ds = d * share
                if pt >= 0:
                    hess[pt][pt] += ds * self.scale[t] ** 2
                    if ph >= 0:
                        cross = -ds * rho * self.scale[t] * self.scale[h]
                        hess[pt][ph] += cross
                        hess[ph][pt] += cross
                if ph >= 0:
                    hess[ph][ph] += ds * rho * rho * self.scale[h] ** 2
            if bend > 0.0:
                live = [(pos[j], gj * self.scale[j]) for j, gj in g.items() if j in pos]
                for a, ga in live:
                    row = hess[a]
                    for b, gb in live:
                        row[b] += bend * ga * gb
        return value, [grad[j] * self.scale[j] for j in self.free], hess


def perspective_prices(
    start: Sequence[float],
    arcs: Sequence[tuple[int, int, FloatCurve]],
    sources: Sequence[tuple[int, float]],
    amount: float,
    sinks: frozenset[int],
    fixed: FixedCosts,
) -> list[list[float]]:
    """Prices at the end of each smoothing stage, from ``start`` (nodes priced 0 stay there; sinks stay at 1): the
    caller evaluates the exact ``h`` at each and keeps the least."""
    f = _Smoothed(
        start, arcs, sources, amount, sinks, fixed.venue, fixed.lost, fixed.gas, fixed.forced, fixed.banned, fixed.held
    )
    w = [1.0] * len(f.free)
    out = []
    if not f.free:
        return [list(start)]
    for rel in STAGES:
        f.set_stage(rel)
        w = _newton(f, w)
        out.append(f.prices(w))
    return out


def _newton(f: _Smoothed, w: list[float]) -> list[float]:
    value, grad, hess = f.full(w)
    ridge = 1e-10
    m = len(w)
    for _ in range(MAX_STEPS):
        top = max((hess[i][i] for i in range(m)), default=0.0)
        if top <= 0.0:
            top = 1.0
        while True:
            a = [list(row) for row in hess]
            for i in range(m):
                # a node with little curvature (its arcs linear, or its venues closed) moves at most ~FLAT_STEP
                a[i][i] += ridge * hess[i][i] + abs(grad[i]) / (FLAT_STEP * w[i]) + 1e-12 * top
            p = solve_spd(a, [-g for g in grad])
            if p is not None:
                break
            ridge = max(ridge * 10.0, 1e-8)
        slope = sum(g * q for g, q in zip(grad, p, strict=True))
        if slope >= 0.0:
            break
        move = max((abs(q) / wi for wi, q in zip(w, p, strict=True)), default=0.0)
        t = min(1.0, MAX_MOVE / move) if move > 0.0 else 1.0
        accepted = False
        for _ in range(BACKTRACKS):
            wn = [wi + t * q for wi, q in zip(w, p, strict=True)]
            vn = f.full(wn, hessian=False)[0]
            if vn <= value + 1e-4 * t * slope:
                accepted = True
                break
            t *= CUT
        if not accepted:
            break
        drop = value - vn
        w = wn
        value, grad, hess = f.full(w)
        ridge = max(ridge / 10.0, 1e-12)
        if drop <= 1e-12 * abs(value):
            break
    return w
