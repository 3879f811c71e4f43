"""The network solve: damped Newton on the smoothed routing dual, following the smoothing down (path following).

The dual of the max-output flow problem (see :mod:`fillpath.router.network`) is ``g(ν) = Σ supply·ν +
Σ_arcs ν_out·φ(ρ)`` with ``ρ = (ν_in + c)/ν_out`` and ``φ`` the arc's arbitrage value. Each arc adds a rank-one
term ``d·[1, −ρ][1, −ρ]ᵀ`` (``d = −x'(ρ)/ν_out``) to the Hessian, so Newton's method sees what first-order
methods do not: a zero-fee transfer both ways (a zero-cost cycle) is a stiff tie between two prices, a deep book
level beside a thin pool is a stiff arc beside a soft one, and tied prices cost nothing. Piecewise-linear arcs
(books, transfers, wraps, bridges) are smoothed by a quadratic with temperature τ (see
:class:`~fillpath.router.curves.PiecewiseLinearCurve`); the solve converges at τ, divides τ by ``TAU_STEP`` and
warm-starts, down to ``TAU_FINAL`` (an interior-point-like central path). With no such arc there is one stage.
The linear system is small (one row per free node) and is solved densely. docs/routing.md has the details (flat
nodes, kinks, damping) and the measured limits.

Any non-negative prices give an upper bound on the optimum (weak duality): :mod:`fillpath.router.certificate`
evaluates the unsmoothed dual at the solve's prices, the plan's certificate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from fillpath.router.crossover import crossover
from fillpath.router.curves import PiecewiseLinearCurve
from fillpath.router.network import OFF_ABOVE_SPOT, Arc, evaluator, initial_prices, solve_spd
from fillpath.router.start import greedy_weights

TAU_START = 1e-3
TAU_STEP = 10.0
TAU_FINAL = 1e-7
STAGE_TOL = 1e-3
"""Relative imbalance at which an intermediate stage hands over to the next temperature."""
FINAL_TOL = 1e-9
BACKTRACKS = 12
MAX_MOVE = 0.9
"""Largest relative change of a price in one Newton step."""
FLAT_STEP = 0.3
"""Largest relative move of a flat node's price towards its nearest kink."""
STALL = 6
STALL_FROM = 1e-6
"""Newton steps without a 10% smaller imbalance after which a stage stops: float resolution has been reached (a
stiff zero-fee transfer beside a thin pool floors the imbalance near 1e-8 relative; the plan does not move)."""
CROSSOVER_FROM = 1e-3
"""From this temperature down, each stage's prices are tried as the exact optimum's active set (:mod:`.crossover`)."""
CROSSOVER_TO = 1e-5
"""A first try whose crossover has not succeeded by this temperature hands over to the careful try."""
GIVE_UP = 1e-2
"""A first try whose stage ends this far from balance stops there (the caller's careful try takes over)."""
MAX_NEWTON = 60
"""Newton steps per stage; a stage that has not converged by then hands over anyway (the final check decides)."""
COLLAPSED = 1e-15
"""A price this far below its spot value (relative) means the node holds more than it can send on: the venues cannot
carry the supply (no optimum: the dual runs that price to 0). The solve stops there instead of running every stage
(the careful try of an infeasible subset took 1,440 Newton steps, 2.5 s: most of a 10 s route on a $7M sale). The
lowest price of a feasible solve seen in the benchmark's families is 2.5e-7 of spot."""
GREEDY_START = True
"""The first try starts from :func:`~fillpath.router.start.greedy_weights` (False: from spot, as before; for
measuring)."""


@dataclass(frozen=True)
class FlowSolution:
    prices: tuple[float, ...]
    flows: tuple[float, ...]
    outs: tuple[float, ...]
    imbalance: float
    """Largest node imbalance valued at its price, relative to the supply's value (0 at the optimum)."""
    iterations: int
    tau: float = 0.0
    """The temperature the flows are at (0: the exact optimum, found by the crossover or with no linear arc)."""


class _Dual:
    """g, its gradient and Hessian over the free nodes, in scaled prices ``ν_j = scale_j · w_j``."""

    def __init__(
        self, n: int, arcs: Sequence[Arc], supply: Mapping[int, float], sinks: frozenset[int], scale: list[float]
    ) -> None:
        self.n = n
        self.arcs = arcs
        self.supply = supply
        self.free = [j for j in range(n) if j not in sinks]
        self.pos = {j: k for k, j in enumerate(self.free)}
        self.scale = scale
        self.total = 0.0
        self.evals = [evaluator(a.curve) for a in arcs]
        self._spots = [
            (a.curve.spot, type(a.curve) is PiecewiseLinearCurve, type(a.curve) in OFF_ABOVE_SPOT) for a in arcs
        ]
        self.cuts: list[float] = []
        self.tau = 0.0
        # per arc: (tail, head, cost, tail's free position or -1, head's, their scales): fixed for the solve
        self.layout = [
            (a.tail, a.head, a.cost, self.pos.get(a.tail, -1), self.pos.get(a.head, -1), scale[a.tail], scale[a.head])
            for a in arcs
        ]

    @property
    def tau(self) -> float:
        return self._tau

    @tau.setter
    def tau(self, tau: float) -> None:
        """The temperature, and with it each arc's cut: the price ratio from which on the arc carries nothing and lends
        no curvature (a pool above its spot rate, a linear arc beyond its best segment's ramp and the ramp's
        neighbourhood). About half the arcs of a mixed graph are there at any time (a pool's other direction): the
        Newton loop skips them, which is what evaluating them would add (nothing)."""
        self._tau = tau
        self.cuts = [
            spot * (1.0 + tau) * (1.0 + 1e-12) if linear else spot if smooth else math.inf
            for spot, linear, smooth in self._spots
        ]

    def kink_room(self, w: Sequence[float], k: int, up: bool) -> float:
        """How far (relative) free node k's price can move up or down before an arc around it reaches a kink (turns
        on, or enters or leaves a book level's ramp): where a flat node should stop, at most ``FLAT_STEP``."""
        nu = self.prices(w)
        j = self.free[k]
        best = FLAT_STEP
        for a in self.arcs:
            if a.tail != j and a.head != j:
                continue
            curve = a.curve
            if isinstance(curve, PiecewiseLinearCurve):
                kinks = [*curve.rates, *(r * (1.0 - self.tau) for r in curve.rates)]
            else:
                kinks = [curve.spot]
            for rho in kinks:
                if rho <= 0.0:
                    continue
                at = rho * nu[a.head] - a.cost if a.tail == j else (nu[a.tail] + a.cost) / rho
                if at <= 0.0:
                    continue
                d = at / nu[j] - 1.0
                if (up and 1e-12 < d < best) or (not up and -best < d < -1e-12):
                    best = abs(d)
        return best

    def prices(self, w: Sequence[float]) -> list[float]:
        nu = [1.0] * self.n
        for k, j in enumerate(self.free):
            nu[j] = self.scale[j] * w[k]
        return nu

    def value(self, w: Sequence[float]) -> float:
        nu = self.prices(w)
        v = sum(nu[s] * a for s, a in self.supply.items())
        tau = self.tau
        for a, cut in zip(self.arcs, self.cuts, strict=True):
            ni = nu[a.tail] + a.cost
            no = nu[a.head]
            rho = ni / no
            if rho >= cut:
                continue  # off: adds nothing
            x, o = a.curve.arb(rho, tau)
            if x > 0.0:
                v += no * o - ni * x
        return v

    def full(self, w: Sequence[float]) -> tuple[float, list[float], list[list[float]], float]:
        """(g, ∇g, ∇²g, relative imbalance), all over the free nodes in ``w`` coordinates."""
        nu = self.prices(w)
        m = len(self.free)
        grad = [0.0] * self.n
        hess = [[0.0] * m for _ in range(m)]
        v = 0.0
        for s, amount in self.supply.items():
            grad[s] += amount
            v += nu[s] * amount
        total = v
        tau = self.tau
        for (tail, head, cost, t, h, st, sh), ev, cut in zip(self.layout, self.evals, self.cuts, strict=True):
            ni = nu[tail] + cost
            no = nu[head]
            rho = ni / no
            if rho >= cut:
                continue  # off: no flow, no curvature
            x, o, slope = ev(rho, tau)
            if x > 0.0:
                v += no * o - ni * x
                grad[tail] -= x
                grad[head] += o
            d = -slope / no
            if d <= 0.0:
                continue
            if t >= 0:
                hess[t][t] += d * st * st
                if h >= 0:
                    c = -d * rho * st * sh
                    hess[t][h] += c
                    hess[h][t] += c
                    hess[h][h] += d * rho * rho * sh * sh
            elif h >= 0:
                hess[h][h] += d * rho * rho * sh * sh
        self.total = total
        imb = max((abs(grad[j]) * nu[j] for j in self.free), default=0.0) / total if total > 0 else 0.0
        return v, [grad[j] * self.scale[j] for j in self.free], hess, imb


def _direction(
    grad: list[float], hess: list[list[float]], ridge: float, w: list[float], room: Callable[[int, bool], float]
) -> list[float]:
    """Newton direction with a Levenberg ridge relative to each diagonal. A flat node (no arc around it has any
    curvature: every arc is just off at its kink, or a book sits between levels) gets no Newton step, whose size
    would be arbitrary: its price moves against its gradient to its nearest kink, and the others solve with it fixed."""
    m = len(grad)
    top = max((hess[i][i] for i in range(m)), default=0.0)
    flat = [top <= 0.0 or hess[i][i] <= 1e-12 * top for i in range(m)]
    # a flat node moves against its gradient to just past its nearest kink, where some arc starts to respond
    p = [0.0] * m
    for i in range(m):
        if flat[i] and grad[i]:
            p[i] = -math.copysign(room(i, grad[i] < 0) * (1.0 + 1e-6) * w[i], grad[i])
    live = [i for i in range(m) if not flat[i]]
    if not live:
        return p
    # the live block, with the flat nodes' moves on the right-hand side
    rhs = [-grad[i] - sum(hess[i][j] * p[j] for j in range(m) if flat[j]) for i in live]
    while True:
        a = [[hess[i][j] for j in live] for i in live]
        for k, i in enumerate(live):
            a[k][k] += ridge * hess[i][i] + 1e-14 * top
        q = solve_spd(a, rhs)
        if q is not None:
            for k, i in enumerate(live):
                p[i] = q[k]
            return p
        ridge = max(ridge * 10.0, 1e-10)


def _newton(
    f: _Dual, w: list[float], tol: float, max_iter: int, max_move: float | None = None
) -> tuple[list[float], int, float]:
    """Damped Newton with a Levenberg ridge that grows when steps must be cut and shrinks when full steps work."""
    gv, gr, hs, imb = f.full(w)
    it = 0
    ridge = 1e-12
    best, since = imb, 0
    while it < max_iter and imb > tol and (since < STALL or imb > STALL_FROM):
        it += 1
        p = _direction(gr, hs, ridge, w, partial(f.kink_room, w))
        slope = sum(g * q for g, q in zip(gr, p, strict=True))
        if slope >= 0.0:
            p = [-g / hs[i][i] if hs[i][i] > 0 else -g for i, g in enumerate(gr)]
            slope = sum(g * q for g, q in zip(gr, p, strict=True))
        move = max(abs(qi) / wi for wi, qi in zip(w, p, strict=True))
        t = min(1.0, (max_move or MAX_MOVE) / move) if move > 0.0 else 1.0
        neg = [-wi / qi for wi, qi in zip(w, p, strict=True) if qi < 0.0]
        if neg:
            t = min(t, 0.95 * min(neg))  # prices stay positive
        first = t
        step: tuple[float, list[float], list[list[float]], float] | None = None
        wn = w
        for tries in range(BACKTRACKS):
            wn = [wi + t * qi for wi, qi in zip(w, p, strict=True)]
            # the first trial is usually taken: evaluate everything at once; a cut step only needs g
            trial = f.full(wn) if tries == 0 else None
            gn = trial[0] if trial is not None else f.value(wn)
            if gn <= gv + 1e-4 * t * slope:
                step = trial if trial is not None else f.full(wn)
                break
            if gn <= gv + 1e-12 * abs(gv):  # a change below the float resolution of g: judge by the imbalance
                trial = trial if trial is not None else f.full(wn)
                if trial[3] < imb:
                    step = trial
                    break
            t *= 0.25
        if step is None:
            if ridge >= 1e6:
                break
            ridge = max(ridge * 100.0, 1e-6)
            continue
        ridge = max(ridge / 10.0, 1e-12) if t >= first else min(ridge * 10.0, 1e6) if t < 0.1 * first else ridge
        w = wn
        gv, gr, hs, imb = step
        if min(w, default=1.0) < COLLAPSED:
            break  # a price collapsing to 0: the supply cannot be carried (the caller's check says so)
        if imb < 0.9 * best:
            best, since = imb, 0
        else:
            since += 1
    return w, it, imb


def solve_flow(
    n: int,
    arcs: Sequence[Arc],
    supplies: Mapping[int, float],
    sinks: frozenset[int],
    *,
    start: Sequence[float] | None = None,
    tol: float = FINAL_TOL,
    careful: bool = False,
) -> FlowSolution:
    """Prices minimizing the dual and each arc's (input, output) at them. ``careful``: a slower second try for a
    solve that did not balance (from a smoother start, shorter steps, more of them). Without ``start`` the first
    try starts from a greedy primal's prices (:mod:`.start`), the careful one from spot; prices stay scaled by spot."""
    scale = list(start) if start is not None else initial_prices(n, arcs, sinks)
    scale = [s if s > 0.0 else 1e-300 for s in scale]
    f = _Dual(n, arcs, supplies, sinks, scale)
    w = [1.0] * len(f.free)
    if start is None and not careful and GREEDY_START:
        guess = greedy_weights(n, arcs, supplies, sinks, scale)
        w = [guess[j] for j in f.free]
    smooth = not any(isinstance(a.curve, PiecewiseLinearCurve) for a in arcs)
    stages: list[tuple[float, float]] = []
    if smooth:
        stages.append((0.0, tol))
    else:
        tau = TAU_START * (10.0 if careful else 1.0)
        while tau > TAU_FINAL * 1.0001:
            stages.append((tau, STAGE_TOL))
            tau /= TAU_STEP
        stages.append((TAU_FINAL, tol))
    iterations = 0
    imb = math.inf
    for tau, stage_tol in stages:
        f.tau = tau
        if careful:
            w, k, imb = _newton(f, w, stage_tol, 4 * MAX_NEWTON, max_move=0.3)
        else:
            w, k, imb = _newton(f, w, stage_tol, MAX_NEWTON)
        iterations += k
        if min(w, default=1.0) < COLLAPSED:
            imb = max(imb, 2.0 * GIVE_UP)
            break  # the venues cannot carry the supply: no later stage changes that
        if not careful and imb > GIVE_UP:
            break  # far off after a whole stage: the careful try (smoother, shorter steps) does better than going on
        if 0.0 < tau <= CROSSOVER_FROM and tau > TAU_FINAL * 1.0001:
            exact = crossover(n, arcs, supplies, sinks, f.prices(w), tau, tol, f.evals)
            if exact is not None:
                nu_x, flows_x, outs_x, imb_x = exact
                return FlowSolution(tuple(nu_x), tuple(flows_x), tuple(outs_x), imb_x, iterations, 0.0)
            if not careful and tau <= CROSSOVER_TO * 1.0001:
                imb = max(imb, 2.0 * GIVE_UP)  # no exact optimum by now: the careful try goes all the way down
                break
    nu = f.prices(w)
    flows, outs = [], []
    for a in arcs:
        x, o = a.curve.arb((nu[a.tail] + a.cost) / nu[a.head], f.tau)
        flows.append(x)
        outs.append(o)
    return FlowSolution(tuple(nu), tuple(flows), tuple(outs), imb, iterations, f.tau)
