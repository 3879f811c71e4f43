"""The cvxpy reference for mixed markets (tests/router/mixed.py): one convex program over given venue directions.

Benchmark-only. Each direction enters through its float curve (the router's own view of the venue's exact math,
checked against the exact quotes by the venue tests), but the optimization is independent: Clarabel on a conic
program, in units of the sale's value. Constant-product pools are exact conic constraints (written so that a piece
far deeper than the trade keeps its curvature above the solver's tolerance); a V3 pool is its ranges as parallel capped
constant-product pieces (exact: the pieces' rates decrease, so the optimum fills them in order); books, transfers and
bridges are capped linear pieces; a StableSwap direction is the intersection of 160 tangent lines of its curve (an
outer approximation: never below the curve). Amounts are in numeraire units so the solver sees numbers near 1.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from fillpath.model.assets import AssetId
from fillpath.router.curves import ConcentratedCurve, ConstantProductCurve, FloatCurve, PiecewiseLinearCurve
from fillpath.router.market import Market

TANGENTS = 160
CUTS = 6
"""Rounds of tangents added where the flows are (the time reported is the first solve's)."""
NEAR = 120


def mixed_reference(
    market: Market,
    arcs: Sequence[tuple[AssetId, AssetId, FloatCurve]],
    sell: AssetId,
    buy: AssetId,
    amount: int,
) -> tuple[float, float, dict[AssetId, float], str]:
    """(optimal output in buy base units, seconds to build and solve, the solver's node prices in buy units per base
    unit, the solver's status) over ``arcs`` (asset in, asset out, curve). The prices let a caller check the answer:
    weak duality says the dual at any prices bounds the optimum, so a value above the dual at the solver's own prices
    is inaccurate."""
    started = time.perf_counter()

    unit = amount * float(market.prices[sell]) / 10 ** market.decimals[sell]  # the sale's value: amounts near 1

    def scale(a: AssetId) -> float:
        return float(market.prices[a]) / 10 ** market.decimals[a] / unit

    nodes = sorted({a for t, h, _ in arcs for a in (t, h)} | {sell, buy}, key=str)
    index = {a: i for i, a in enumerate(nodes)}
    n = len(nodes)
    budget = amount * scale(sell)
    cp_t, cp_h, cp_ri, cp_ro, cp_g, cp_cap = [], [], [], [], [], []
    ln_t, ln_h, ln_r, ln_c = [], [], [], []
    smooth: list[tuple[FloatCurve, float, float, list[float]]] = []  # curve, scales, tangent points (curve units)
    for t, h, curve in arcs:
        si, so = scale(t), scale(h)
        if isinstance(curve, ConstantProductCurve):
            cp_t.append(index[t])
            cp_h.append(index[h])
            cp_ri.append(curve.ri * si)
            cp_ro.append(curve.ro * so)
            cp_g.append(curve.g)
            cp_cap.append(math.inf)
        elif isinstance(curve, ConcentratedCurve):
            for ri, ro, length in zip(curve._ri, curve._ro, curve._len, strict=True):
                cp_t.append(index[t])
                cp_h.append(index[h])
                cp_ri.append(ri * si)
                cp_ro.append(ro * so)
                cp_g.append(curve.g)
                cp_cap.append(length * si)
        elif isinstance(curve, PiecewiseLinearCurve):
            for rate, length in zip(curve._rates, curve._lens, strict=True):
                ln_t.append(index[t])
                ln_h.append(index[h])
                ln_r.append(rate * so / si)
                ln_c.append(min(length * si, 4.0 * budget))  # "uncapped" transfers: well beyond any flow
        else:  # a smooth curve with no conic form (StableSwap): tangent lines up to well past the budget
            top = min(curve.cap, 100.0 * budget / si) if math.isfinite(curve.cap) else 100.0 * budget / si
            near = min(top, 2.0 * budget / si)  # where a flow can go: 3/4 of the lines, the rest out to ``top``
            points = [near * (k + 1) ** 2 / NEAR**2 for k in range(NEAR)]
            points += [near + (top - near) * (k + 1) ** 2 / (TANGENTS - NEAR) ** 2 for k in range(TANGENTS - NEAR)]
            points[0] = near * 1e-9
            smooth.append((curve, si, so, points))
            ln_t.append(index[t])  # placeholder rows are added below, per tangent arc
            ln_h.append(index[h])
            ln_r.append(-1.0)  # marker, replaced below
            ln_c.append(top * si)

    def incidence(rows: list[int], cols: int) -> sp.csr_matrix:
        return sp.csr_matrix((np.ones(len(rows)), (rows, range(len(rows)))), shape=(n, cols))

    free = [i for i in range(n) if i != index[buy]]

    def solve(solves: int) -> tuple[cp.Problem, list[cp.Constraint], cp.Variable | None, cp.Variable | None]:
        nonlocal elapsed
        cons: list[cp.Constraint] = []
        net: cp.Expression = np.zeros(n)
        if cp_t:
            x = cp.Variable(len(cp_t), nonneg=True)
            out = cp.Variable(len(cp_t), nonneg=True)
            ri, ro, g = np.array(cp_ri), np.array(cp_ro), np.array(cp_g)
            # out = s·x/(1 + x/c) = s·x − (s/c)·w with w·(1 + x/c) ≥ x² (a rotated cone), s = g·ro/ri the spot rate and
            # c = ri/g the depth, both in units of the sale's value. Written as ro·(1 − 1/(1 + x/c)) the curvature of a
            # piece far deeper than the trade (a narrow V3 range) cancelled below the solver's tolerance: 34 of 75
            # V3/StableSwap markets failed the reference's own duality check. Here every cone entry is near 1 and the
            # curvature term w/c carries its own scale.
            spot, depth = g * ro / ri, ri / g
            w = cp.Variable(len(cp_t), nonneg=True)
            lin = 1 + cp.multiply(1 / depth, x)
            cons.append(cp.SOC(w + lin, cp.vstack([2 * x, w - lin]), axis=0))
            cons.append(out <= cp.multiply(spot, x) - cp.multiply(spot / depth, w))
            capped = [k for k, c in enumerate(cp_cap) if math.isfinite(c)]
            if capped:
                cons.append(x[capped] <= np.array([cp_cap[k] for k in capped]))
            net = net + incidence(cp_h, len(cp_t)) @ out - incidence(cp_t, len(cp_t)) @ x
        lin = [k for k, r in enumerate(ln_r) if r >= 0.0]
        tan = [k for k, r in enumerate(ln_r) if r < 0.0]
        if lin:
            y = cp.Variable(len(lin), nonneg=True)
            cons.append(y <= np.array([ln_c[k] for k in lin]))
            heads, tails = [ln_h[k] for k in lin], [ln_t[k] for k in lin]
            net = net + incidence(heads, len(lin)) @ cp.multiply(np.array([ln_r[k] for k in lin]), y)
            net = net - incidence(tails, len(lin)) @ y
        z = o = None
        if tan:
            z = cp.Variable(len(tan), nonneg=True)  # input of each tangent-bounded arc
            o = cp.Variable(len(tan), nonneg=True)
            cons.append(z <= np.array([ln_c[k] for k in tan]))
            tg_a, tg_b, tg_arc = [], [], []  # tangents: out <= a + b*x, one row per line
            for j, (curve, si, so, points) in enumerate(smooth):
                for x0 in points:
                    tg_a.append((curve.out(x0) - curve.rate(x0) * x0) * so)
                    tg_b.append(curve.rate(x0) * so / si)
                    tg_arc.append(j)
            pick = sp.csr_matrix((np.ones(len(tg_arc)), (range(len(tg_arc)), tg_arc)), shape=(len(tg_arc), len(tan)))
            cons.append(pick @ o <= np.array(tg_a) + cp.multiply(np.array(tg_b), pick @ z))
            net = (
                net + incidence([ln_h[k] for k in tan], len(tan)) @ o - incidence([ln_t[k] for k in tan], len(tan)) @ z
            )
        supply = np.zeros(n)
        supply[index[sell]] = budget
        cons.append((net + supply)[free] >= 0)
        prob = cp.Problem(cp.Maximize(net[index[buy]]), cons)
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-9, tol_gap_rel=1e-9, tol_feas=1e-9)
        if solves == 0:
            elapsed = time.perf_counter() - started
        return prob, cons, z, o

    # The tangents are an outer approximation of a StableSwap curve, loose between its points: an optimum that sits
    # between two of them reads above the curve (family 2 seed 11: 2.4e-6 above the certificate). Cutting planes: a
    # tangent added where each such arc's flow is, until every flow's output is on its curve (within 1e-10).
    elapsed = 0.0
    for solves in range(CUTS + 1):
        prob, cons, z, o = solve(solves)
        if z is None or o is None or z.value is None or o.value is None:
            break
        loose = False
        for j, (curve, si, so, points) in enumerate(smooth):
            x0 = max(0.0, float(z.value[j])) / si
            if float(o.value[j]) > curve.out(x0) * so * (1 + 1e-10) + 1e-12:
                points.append(x0)
                loose = True
        if not loose:
            break
    duals = cons[-1].dual_value
    prices = {buy: 1.0}
    if duals is not None:
        prices |= {
            nodes[j]: max(0.0, float(d)) * scale(nodes[j]) / scale(buy) for j, d in zip(free, duals, strict=True)
        }
    value = float(prob.value) / scale(buy) if prob.value is not None else math.inf
    return value, elapsed, prices, str(prob.status)
