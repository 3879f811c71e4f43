"""A mixed-integer reference for mixed markets with fixed costs (gas per venue used, fixed fees per transfer).

Benchmark-only, independent of the router's method: HiGHS (``scipy.optimize.milp``) on a mixed-integer linear program
over the same venue directions, in units of the sale's value. A binary per venue with a fixed cost says whether it is
used: its gas is paid and its fixed fee taken from its output, and its arcs carry nothing unless it is on. Each concave
curve is replaced by a piecewise-linear one, two ways, and so the program sandwiches the true optimum (net of gas):

- ``inner``: chords between breakpoints, never above the curve: every solution is a flow the venues can carry, so the
  value is at most the true optimum (a lower bound: the certificate must never fall below it);
- ``outer``: tangents at the same breakpoints, never below the curve: at least the true optimum (an upper bound: a
  plan near it is optimal, and a certificate far above it is loose).

Breakpoints are geometric (ratio ``RATIO``) from 1e-7 of the sale's value up to what a plan can hold at the arc's
tail; books, transfers and bridges are their own linear segments (exact in both). The curves are the router's float
views (checked against the exact quotes by the venue tests), as in :mod:`benchmarks.reference_mixed`.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from fillpath.model.assets import AssetId
from fillpath.router import RouteRequest
from fillpath.router.certificate import holdings
from fillpath.router.costs import Costs
from fillpath.router.curves import FloatCurve, PiecewiseLinearCurve
from fillpath.router.graph import Graph
from fillpath.router.market import Market
from fillpath.router.optimize import Problem
from fillpath.router.request import resolve

RATIO = 1.08
"""Breakpoint spacing: a chord over [b, 1.08·b] of a constant-product curve is within ~1e-3 of its curvature term."""
SMALLEST = 1e-7
"""The first breakpoint, as a fraction of the sale's value."""


def gas_reference(
    market: Market,
    arcs: Sequence[tuple[str, AssetId, AssetId, FloatCurve, float]],
    gas: Mapping[str, float],
    sell: AssetId,
    buy: AssetId,
    amount: int,
    mode: str = "inner",
    time_limit: float = 60.0,
) -> tuple[float, float, frozenset[str], str]:
    """(best output net of gas in buy base units, seconds, the venues the solution uses, HiGHS's status) over ``arcs``
    (venue id, asset in, asset out, curve, fixed fee in head base units lost when used), with ``gas`` per venue in buy
    base units; ``mode`` "inner" (a lower bound on the optimum) or "outer" (an upper bound)."""
    started = time.perf_counter()
    unit = amount * float(market.prices[sell]) / 10 ** market.decimals[sell]

    def scale(a: AssetId) -> float:
        return float(market.prices[a]) / 10 ** market.decimals[a] / unit

    nodes = sorted({a for _, t, h, _, _ in arcs for a in (t, h)} | {sell, buy}, key=str)
    index = {a: i for i, a in enumerate(nodes)}
    n = len(nodes)
    most = holdings(
        [(index[t], index[h], c) for _, t, h, c, _ in arcs],
        [(index[sell], float(amount))],
        float(amount),
        n,
        frozenset({index[buy]}),
    )
    venues = sorted({v for v, *_ in arcs})
    fixed = [v for v in venues if gas.get(v, 0.0) > 0.0 or any(f > 0.0 for w, *_, f in arcs if w == v)]
    zcol = {v: k for k, v in enumerate(fixed)}
    # columns: [binaries z (one per fixed-cost venue)] then, per arc, its pieces (inner) or (x, o) (outer)
    cols_lo: list[float] = [0.0] * len(fixed)
    cols_hi: list[float] = [1.0] * len(fixed)
    obj: list[float] = [scale(buy) * gas.get(v, 0.0) for v in fixed]  # minimized: gas paid
    integral: list[int] = [1] * len(fixed)
    rows: list[tuple[dict[int, float], float, float]] = []  # (coefficients, lower, upper)
    balance: list[dict[int, float]] = [{} for _ in range(n)]  # per node: inflow − outflow coefficients

    def col(lo: float, hi: float, cost: float = 0.0) -> int:
        cols_lo.append(lo)
        cols_hi.append(hi)
        obj.append(cost)
        integral.append(0)
        return len(obj) - 1

    def add(row: dict[int, float], c: int, v: float) -> None:
        row[c] = row.get(c, 0.0) + v

    for v, t, h, curve, fee in arcs:
        si, so = scale(t), scale(h)
        reach = min(most[index[t]] * si * 1.000001, curve.cap * si if math.isfinite(curve.cap) else math.inf)
        reach = min(reach, 4.0)  # no plan holds four times the sale's value anywhere (no gaining cycle at spot)
        if reach <= 0.0:
            continue
        xs: list[int] = []
        if isinstance(curve, PiecewiseLinearCurve):
            left = reach
            for r, length in zip(curve.rates, curve._lens, strict=True):
                if left <= 0.0:
                    break
                y = col(0.0, min(length * si, left))
                left -= length * si
                xs.append(y)
                add(balance[index[h]], y, r * so / si)
                add(balance[index[t]], y, -1.0)
        else:
            points = [0.0]
            b = SMALLEST
            while b < reach:
                points.append(b)
                b *= RATIO
            points.append(reach)

            def f(xn: float, curve: FloatCurve = curve, si: float = si, so: float = so) -> float:
                return curve.out(xn / si) * so

            if mode == "inner":
                for a, b in itertools.pairwise(points):
                    slope = (f(b) - f(a)) / (b - a)
                    y = col(0.0, b - a)
                    xs.append(y)
                    add(balance[index[h]], y, max(0.0, slope))
                    add(balance[index[t]], y, -1.0)
            else:
                x = col(0.0, reach)
                o = col(0.0, math.inf)
                xs.append(x)
                add(balance[index[h]], o, 1.0)
                add(balance[index[t]], x, -1.0)
                for p in points:
                    slope = curve.rate(p / si) * so / si
                    rows.append(({o: 1.0, x: -slope}, -math.inf, f(p) - slope * p))
        if v in zcol:
            link = dict.fromkeys(xs, 1.0)
            link[zcol[v]] = -reach
            rows.append((link, -math.inf, 0.0))
            if fee > 0.0:
                add(balance[index[h]], zcol[v], -fee * so)
    for j in range(n):
        if j == index[buy]:
            for c, v in balance[j].items():
                obj[c] -= v  # maximize what reaches the buy node: minimize its negative
            continue
        supply = 1.0 if j == index[sell] else 0.0
        rows.append((balance[j], -supply, math.inf))
    m = len(rows)
    data, ri, ci = [], [], []
    for r, (coef, _, _) in enumerate(rows):
        for c, v in coef.items():
            ri.append(r)
            ci.append(c)
            data.append(v)
    a = sp.csr_matrix((data, (ri, ci)), shape=(m, len(obj)))
    res = milp(
        np.array(obj),
        constraints=LinearConstraint(a, np.array([lo for _, lo, _ in rows]), np.array([hi for _, _, hi in rows])),
        integrality=np.array(integral),
        bounds=Bounds(np.array(cols_lo), np.array(cols_hi)),
        options={"time_limit": time_limit, "mip_rel_gap": 1e-7, "presolve": True},
    )
    elapsed = time.perf_counter() - started
    if res.x is None:
        return math.nan, elapsed, frozenset(), str(res.message)
    used = frozenset(v for v in fixed if res.x[zcol[v]] > 0.5)
    value = -float(res.fun) / scale(buy)
    if mode == "outer" and res.status != 0:
        value = -float(res.mip_dual_bound) / scale(buy) if res.mip_dual_bound is not None else math.inf
    return value, elapsed, used, "optimal" if res.status == 0 else str(res.message)


def sandwich(market: Market, request: RouteRequest, time_limit: float = 60.0) -> tuple[float, float, float, str]:
    """(inner, outer, seconds, status): the optimum net of gas and fixed fees lies between inner and outer (buy base
    units), over the same hop-limited venue directions the router solves over; status "optimal" when both solved."""
    ends = resolve(market, request)
    costs = Costs.of(market, ends, request)
    graph = Graph.build(
        market.venues, request.exclude, ends.sinks, None, ([s for s, _ in ends.sources], request.max_hops)
    )
    full = [e for es in graph.out_edges.values() for e in es]
    problem = Problem(full, ends.sources, ends.sinks, request.amount, costs, request.slippage_bps)
    arcs = [
        (e.venue.id, e.asset_in, e.asset_out, e.curve, float(getattr(e.venue, "fee_fixed", 0) or 0) * _least(e.curve))
        for e in full
    ]
    gas = {v: float(g) for v, g in problem.gas.items()}
    (sell, _), buy = ends.sources[0], min(ends.sinks, key=str)
    lo, t1, _, s1 = gas_reference(market, arcs, gas, sell, buy, request.amount, "inner", time_limit)
    hi, t2, _, s2 = gas_reference(market, arcs, gas, sell, buy, request.amount, "outer", time_limit)
    return lo, hi, t1 + t2, "optimal" if s1 == s2 == "optimal" else f"{s1} / {s2}"


def _least(curve: FloatCurve) -> float:
    """A linear curve's least rate (the head units its fixed fee costs at least per input unit), as the router's."""
    return curve.rates[-1] if isinstance(curve, PiecewiseLinearCurve) and curve.rates else 0.0
