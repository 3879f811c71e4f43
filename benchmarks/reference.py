"""The cvxpy reference: the same routing instance as one convex program (gas off), solved by Clarabel.

Benchmark-only (cvxpy is not a fillpath dependency). Vectorized: one variable vector per venue kind and
sparse incidence matrices for node balances, so cvxpy's compile time is not what we measure against.
Amounts are rescaled to numeraire units so the conic solver sees well-scaled numbers. Knows the test venue
kinds of ``tests/router/opt_venues.py``.
"""

from __future__ import annotations

import time

import cvxpy as cp
import numpy as np
import scipy.sparse as sp
from tests.router.opt_venues import PPM, BookVenue, CPVenue, TransferVenue

from fillpath.model.assets import AssetId
from fillpath.router.market import Market

Arc = tuple[str, AssetId, AssetId]
"""(venue id, asset in, asset out): one direction of one venue."""


def reference(
    market: Market,
    sell: AssetId,
    buy: AssetId,
    amount: int,
    only: set[str] | None = None,
    arcs: set[Arc] | None = None,
) -> tuple[float, float]:
    """(optimal output in buy base units, seconds to build and solve) over the whole network, or over the
    venues in ``only``, or over the venue directions in ``arcs``. A flow program cannot express "paths of
    at most h hops" (arcs combine into longer walks); ``arcs`` = the directions on some simple path of at
    most h hops is the same graph the router solves over, so that comparison measures the optimizer alone."""
    started = time.perf_counter()

    def allowed(v_id: str, t_in: AssetId, t_out: AssetId) -> bool:
        return arcs is None or (v_id, t_in, t_out) in arcs

    def scale(a: AssetId) -> float:
        return float(market.prices[a]) / 10 ** market.decimals[a]

    venues = [v for v in market.venues if only is None or v.id in only]
    nodes = sorted({a for v in venues for pair in v.pairs() for a in pair} | {sell, buy}, key=str)
    index = {a: i for i, a in enumerate(nodes)}
    # curved arcs (constant product): tail, head, ri, ro, g (numeraire units)
    cp_t, cp_h, cp_ri, cp_ro, cp_g = [], [], [], [], []
    # linear pieces (book levels, transfers): tail, head, rate, cap
    ln_t, ln_h, ln_r, ln_c = [], [], [], []
    for v in venues:
        if isinstance(v, CPVenue):
            for t_in, t_out in v.pairs():
                if not allowed(v.id, t_in, t_out):
                    continue
                r_in, r_out = v._res(t_in)
                cp_t.append(index[t_in])
                cp_h.append(index[t_out])
                cp_ri.append(r_in * scale(t_in))
                cp_ro.append(r_out * scale(t_out))
                cp_g.append((PPM - v.fee_ppm) / PPM)
        elif isinstance(v, BookVenue):
            f = (PPM - v.fee_ppm) / PPM
            for t_in, t_out, levels in (
                (v.base, v.quote_asset, v.sell_base),
                (v.quote_asset, v.base, v.buy_base),
            ):
                if not allowed(v.id, t_in, t_out):
                    continue
                for rate, depth in levels:
                    ln_t.append(index[t_in])
                    ln_h.append(index[t_out])
                    ln_r.append(float(rate) * f * scale(t_out) / scale(t_in))
                    ln_c.append(depth * scale(t_in))
        elif isinstance(v, TransferVenue) and allowed(v.id, v.src, v.dst):
            ln_t.append(index[v.src])
            ln_h.append(index[v.dst])
            ln_r.append((PPM - v.fee_ppm) / PPM * scale(v.dst) / scale(v.src))
            ln_c.append(v.max_amount * scale(v.src))
    n = len(nodes)

    def incidence(rows: list[int]) -> sp.csr_matrix:
        return sp.csr_matrix((np.ones(len(rows)), (rows, range(len(rows)))), shape=(n, len(rows)))

    cons: list[cp.Constraint] = []
    net: cp.Expression = np.zeros(n)
    if cp_t:
        x = cp.Variable(len(cp_t), nonneg=True)
        out = cp.Variable(len(cp_t), nonneg=True)
        ri, ro, g = np.array(cp_ri), np.array(cp_ro), np.array(cp_g)
        # out <= ro * g*x/(ri + g*x) = ro * (1 - 1/(1 + g*x/ri))
        cons.append(out <= cp.multiply(ro, 1 - cp.inv_pos(1 + cp.multiply(g / ri, x))))
        net = net + incidence(cp_h) @ out - incidence(cp_t) @ x
    if ln_t:
        y = cp.Variable(len(ln_t), nonneg=True)
        cons.append(y <= np.array(ln_c))
        net = net + incidence(ln_h) @ cp.multiply(np.array(ln_r), y) - incidence(ln_t) @ y
    supply = np.zeros(n)
    supply[index[sell]] = amount * scale(sell)
    cons.append(net + supply >= 0)
    prob = cp.Problem(cp.Maximize(net[index[buy]]), cons)
    prob.solve(solver=cp.CLARABEL)
    return float(prob.value) / scale(buy), time.perf_counter() - started
