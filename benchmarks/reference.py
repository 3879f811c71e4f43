"""The cvxpy reference: the same routing instance as one convex program (gas off), solved by Clarabel.

Benchmark-only (cvxpy is not a fillpath dependency). Amounts are rescaled to numeraire units so the
conic solver sees well-scaled numbers. Knows the test venue kinds of ``tests/router/opt_venues.py``.
"""

from __future__ import annotations

import time
from fractions import Fraction

import cvxpy as cp
import numpy as np
from tests.router.opt_venues import PPM, BookVenue, CPVenue, TransferVenue

from fillpath.model.assets import AssetId
from fillpath.router.market import Market


def reference(
    market: Market, sell: AssetId, buy: AssetId, amount: int, only: set[str] | None = None
) -> tuple[float, float]:
    """(optimal output in buy base units, seconds to build and solve) over the whole network, or over the
    venues in ``only``."""
    started = time.perf_counter()

    def scale(a: AssetId) -> float:
        return float(market.prices[a]) / 10 ** market.decimals[a]

    inflow: dict[AssetId, list[cp.Expression]] = {}
    outflow: dict[AssetId, list[cp.Expression]] = {}
    cons: list[cp.Constraint] = []

    def arc(a: AssetId, b: AssetId, x: cp.Expression, out: cp.Expression) -> None:
        outflow.setdefault(a, []).append(x)
        inflow.setdefault(b, []).append(out)

    venues = [v for v in market.venues if only is None or v.id in only]
    cps = [v for v in venues if isinstance(v, CPVenue)]
    for a_in in (0, 1) if cps else ():
        n = len(cps)
        x = cp.Variable(n, nonneg=True)
        out = cp.Variable(n, nonneg=True)
        ri, ro, g = [], [], []
        for v in cps:
            t_in, t_out = (v.token0, v.token1) if a_in == 0 else (v.token1, v.token0)
            r_in, r_out = v._res(t_in)
            ri.append(r_in * scale(t_in))
            ro.append(r_out * scale(t_out))
            g.append((PPM - v.fee_ppm) / PPM)
        ri_a, ro_a, g_a = np.array(ri), np.array(ro), np.array(g)
        # out <= ro * g*x/(ri + g*x) = ro * (1 - 1/(1 + g*x/ri))
        cons.append(out <= cp.multiply(ro_a, 1 - cp.inv_pos(1 + cp.multiply(g_a / ri_a, x))))
        for k, v in enumerate(cps):
            t_in, t_out = (v.token0, v.token1) if a_in == 0 else (v.token1, v.token0)
            arc(t_in, t_out, x[k], out[k])
    for v in venues:
        if isinstance(v, BookVenue):
            f = (PPM - v.fee_ppm) / PPM
            for t_in, t_out, levels in (
                (v.base, v.quote_asset, v.sell_base),
                (v.quote_asset, v.base, v.buy_base),
            ):
                xs = cp.Variable(len(levels), nonneg=True)
                caps = [d * scale(t_in) for _, d in levels]
                rates = [float(r) * f * scale(t_out) / scale(t_in) for r, _ in levels]
                cons.append(xs <= caps)
                arc(t_in, t_out, cp.sum(xs), np.array(rates) @ xs)
        elif isinstance(v, TransferVenue):
            x = cp.Variable(nonneg=True)
            cons.append(x <= v.max_amount * scale(v.src))
            arc(v.src, v.dst, x, float(Fraction(PPM - v.fee_ppm, PPM)) * scale(v.dst) / scale(v.src) * x)
    nodes = set(inflow) | set(outflow)
    objective = 0
    for node in nodes:
        net = sum(inflow.get(node, [])) - sum(outflow.get(node, []))
        if node == sell:
            net = net + amount * scale(sell)
        if node == buy:
            objective = net
        cons.append(net >= 0)
    prob = cp.Problem(cp.Maximize(objective), cons)
    prob.solve(solver=cp.CLARABEL)
    return float(prob.value) / scale(buy), time.perf_counter() - started
