"""The routing dual's pieces shared by the solve and the venue choice: arcs, spot prices, an arc's surplus.

Following Angeris et al. ("Optimal Routing for Constant Function Market Makers") and Diamandis et al.
("An Efficient Algorithm for Optimal Routing Through Constant Function Market Makers"): give every node
(asset@location) a price ν, sinks fixed at 1 (output is what we maximize). Given ν, each arc — one
direction of one venue — solves its own arbitrage ``max_x ν_out·out(x) − (ν_in + c)·x``, whose answer is
``x_at_rate((ν_in + c)/ν_out)``. The dual

    g(ν) = ν_src·A + Σ_arcs max_x [ν_out·out(x) − (ν_in + c)·x]

is convex, its gradient is each node's net flow imbalance, and any ν ≥ 0 makes it an upper bound on the output.
:mod:`fillpath.router.newton` minimizes it; :mod:`fillpath.router.certificate` reports it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

from fillpath.router.curves import ConcentratedCurve, ConstantProductCurve, FloatCurve, PiecewiseLinearCurve
from fillpath.router.venues.stableswap_curve import StableSwapCurve


class Arc(NamedTuple):
    """One direction of one venue between node indices, with a linear cost per unit input (sink units). A named
    tuple, not a frozen dataclass: a route over 10,000 venues builds 10,000 of them, and a tuple builds 4x faster."""

    tail: int
    head: int
    curve: FloatCurve
    cost: float = 0.0


def initial_prices(n: int, arcs: Sequence[Arc], sinks: frozenset[int]) -> list[float]:
    """Value of one unit at each node in sink units at spot rates (best path; Bellman-Ford on products)."""
    nu = [1.0 if j in sinks else 0.0 for j in range(n)]
    for _ in range(n):
        changed = False
        for a in arcs:
            if a.tail in sinks:
                continue
            v = a.curve.spot * nu[a.head]
            if v > nu[a.tail] * (1.0 + 1e-15):
                nu[a.tail] = v
                changed = True
        if not changed:
            break
    return nu


def surplus(curve: FloatCurve, price_in: float, price_out: float) -> float:
    """An arc's arbitrage profit at node prices (sink units; ``price_in`` includes any linear cost): a
    lower bound on what removing its venue loses, an upper bound on what adding it gains (weak duality)."""
    if price_out <= 0.0:
        return 0.0
    x, o = curve.arb(price_in / price_out, 0.0)
    return max(0.0, price_out * o - price_in * x)


def arb_slope(curve: FloatCurve, rho: float, tau: float, x: float) -> float:
    """x'(ρ) ≤ 0: how the arc's optimal input falls as its price ratio rises."""
    if isinstance(curve, ConstantProductCurve):
        if x <= 0.0:
            return 0.0
        return -math.sqrt(curve.k) / (2.0 * curve.g * rho * math.sqrt(rho))
    if isinstance(curve, PiecewiseLinearCurve):
        return curve.arb_slope(rho, tau)
    rate_slope = getattr(curve, "rate_slope", None)
    if rate_slope is not None:  # analytic: x(ρ) inverts rate(x), so x'(ρ) = 1 / rate'(x)
        if x <= 0.0:
            return 0.0
        d = rate_slope(x)
        return 1.0 / d if d < 0.0 else 0.0
    h = rho * 1e-7
    lo, _ = curve.arb(rho - h, tau)
    hi, _ = curve.arb(rho + h, tau)
    return min(0.0, (hi - lo) / (2.0 * h))


OFF_ABOVE_SPOT = (ConstantProductCurve, ConcentratedCurve, StableSwapCurve)
"""Smooth curves whose ``arb`` is (0, 0) from their spot rate on, with a zero slope there: the solves skip such an
arc once its price ratio is there (what it would add is nothing)."""

ArcEval = Callable[[float, float], tuple[float, float, float]]
"""(ρ, τ) → (input, output, x'(ρ)) of one arc: ``curve.arb`` and :func:`arb_slope` in one call."""


def evaluator(curve: FloatCurve) -> ArcEval:
    """The arc's :data:`ArcEval`, specialized once per solve: the Newton loop evaluates every arc at every step, and
    dispatching on the curve's type there (twice: arb, then its slope) was a third of a mixed route's solve. Same
    arithmetic as ``arb`` and :func:`arb_slope`, so the same floats to the last bit."""
    if type(curve) is ConstantProductCurve:
        spot, k, ri, ro, g = curve.spot, curve.k, curve.ri, curve.ro, curve.g
        root_k = math.sqrt(k)

        def constant_product(rho: float, tau: float) -> tuple[float, float, float]:
            if rho >= spot:
                return 0.0, 0.0, 0.0
            if rho <= 0.0:  # no price: never at a solve's prices, kept as arb has it
                x0, o0 = curve.arb(rho, tau)
                return x0, o0, arb_slope(curve, rho, tau, x0)
            x = (math.sqrt(k / rho) - ri) / g
            gx = g * x
            o = gx * ro / (ri + gx)
            return x, o, (-root_k / (2.0 * g * rho * math.sqrt(rho)) if x > 0.0 else 0.0)

        return constant_product
    if type(curve) is PiecewiseLinearCurve:
        return curve.arb_with_slope

    def generic(rho: float, tau: float) -> tuple[float, float, float]:
        x, o = curve.arb(rho, tau)
        return x, o, arb_slope(curve, rho, tau, x)

    return generic


def solve_spd(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Cholesky solve of a symmetric positive definite system; None when it is not (numerically)."""
    m = len(b)
    low = [[0.0] * m for _ in range(m)]
    for i in range(m):
        ai, li = a[i], low[i]
        for j in range(i + 1):
            lj = low[j]
            s = ai[j] - sum(li[k] * lj[k] for k in range(j))
            if i == j:
                if s <= 0.0:
                    return None
                li[i] = math.sqrt(s)
            else:
                li[j] = s / lj[j]
    y = [0.0] * m
    for i in range(m):
        li = low[i]
        y[i] = (b[i] - sum(li[k] * y[k] for k in range(i))) / li[i]
    x = [0.0] * m
    for i in range(m - 1, -1, -1):
        x[i] = (y[i] - sum(low[k][i] * x[k] for k in range(i + 1, m))) / low[i][i]
    return x
