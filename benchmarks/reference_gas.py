"""A mixed-integer reference for mixed markets with fixed costs (gas per venue used, fixed fees per transfer).

Benchmark-only, independent of the router's method: HiGHS (``highspy``) on a mixed-integer linear program over the
same venue directions, in units of the sale's value. A binary per venue with a fixed cost says whether it is used: its
gas is paid and its fixed fee taken from its output, and its arcs carry nothing unless it is on. It returns a sandwich
around the best net output (after gas and fixed fees) of any flow over those directions:

- **upper end**: each concave curve replaced by tangents, never below it (books, transfers and bridges are their own
  linear pieces, the fixed fee exact), so HiGHS's dual bound of that program is at least the true optimum;
- **lower end**: a solution's flow (each arc's input) executed with the venues' exact integer math (``Venue.quote``)
  in topological order, an arc taking no more than its tail holds, less the gas of the venues it uses (rounded up,
  as a plan's): a value some plan achieves (a certificate's bound below it is a bug). The best of every solve's.

The tangents are made tight where the solution is (cutting planes). A round solves the mixed-integer program, then
polishes its venue choice: the same program with the binaries fixed (a linear program, fast) is solved again until
its flow reads on the curves; every solve adds tangents at, and just around (``AROUND``), each arc's input where its
output reads above its curve. Rounds stop once the ends are within ``WIDTH`` of each other (or after ``ROUNDS``).
First tangents: geometric (ratio ``RATIO``) from 1e-7 of the sale's value up to what a plan can hold at the arc's
tail. HiGHS's tolerances matter at this width: at its defaults (feasibility 1e-7, absolute MIP gap 1e-6 of the sale's
value) the ends stalled ~1e-6 apart; both are set to 1e-9 / 1e-11. The curves are the router's float views of the
venues' exact math (checked against the exact quotes by the venue tests), as in :mod:`benchmarks.reference_mixed`;
the arcs' reach (what a plan can hold at a node) is the certificate's ``holdings`` lemma.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import highspy
import numpy as np
import scipy.sparse as sp

from fillpath.model.assets import AssetId
from fillpath.router import RouteRequest
from fillpath.router.certificate import holdings
from fillpath.router.costs import Costs
from fillpath.router.curves import FloatCurve, PiecewiseLinearCurve
from fillpath.router.graph import Graph
from fillpath.router.market import Market
from fillpath.router.request import resolve
from fillpath.router.venues.base import Venue
from fillpath.router.venues.bridge import Bridge

RATIO = 1.5
"""First tangents' spacing in input: coarse (the rounds tighten them where the flow is): ~45 per curve."""
SMALLEST = 1e-7
"""The first tangent point, as a fraction of the sale's value."""
AROUND = (0.0, -1e-2, 1e-2, -1e-3, 1e-3, -1e-4, 1e-4)
"""Relative offsets of the tangents a round adds at a loose arc's input: the next solution moves little."""
WIDTH = 1e-7
"""Stop when (upper − lower) / upper is at most this."""
ROUNDS = 6
"""At most this many mixed-integer solves."""
POLISH = 6
"""At most this many linear solves (the venue choice fixed) after each."""
LOOSE = 1e-10
"""An arc whose output in the solution exceeds its curve by more than this (relative) gets tangents."""


@dataclass(frozen=True)
class Arc:
    """One venue direction as the program sees it."""

    venue: Venue
    tail: AssetId
    head: AssetId
    curve: FloatCurve
    fee: float
    """Fixed fee in head base units, lost when the venue is used (a bridge's or a transfer's, exact: the router's
    float curve leaves it out)."""


@dataclass(frozen=True)
class Sandwich:
    """The best net output of any flow lies in [lower, upper] (buy base units, gas and fixed fees taken off)."""

    lower: float
    """An achievable net output: the venues' exact math on the flow below, less its gas (an integer value)."""
    upper: float
    """HiGHS's dual bound over the tangent program: at least the optimum."""
    seconds: float
    """CPU seconds (``process_time``) for every round."""
    rounds: int
    """Mixed-integer solves."""
    polish: int
    """Linear solves with the venue choice fixed."""
    status: str
    """"optimal" when every solve finished; else HiGHS's message (the ends are then not to be trusted), or "a venue
    used both ways" (the lower end's flow quotes each direction on the snapshot alone: not one executable plan). The
    rounds may end before the ends close: ``width`` says how far apart they are."""
    flow: Mapping[tuple[str, AssetId, AssetId], int]
    """The lower end's flow: each venue direction's exact input (base units of its tail)."""
    gas: int
    """The lower end's gas, in buy base units (rounded up, as a plan's)."""

    @property
    def width(self) -> float:
        """(upper − lower) / upper: how far apart the ends are (≤ WIDTH once the rounds have closed it)."""
        return (self.upper - self.lower) / abs(self.upper) if self.upper else math.inf

    @property
    def used(self) -> frozenset[str]:
        """Venues the lower end's flow uses."""
        return frozenset(v for v, _, _ in self.flow)


def milp_reference(
    market: Market,
    arcs: Sequence[Arc],
    gas: Mapping[str, Fraction],
    sell: AssetId,
    buy: AssetId,
    amount: int,
    time_limit: float = 60.0,
) -> Sandwich:
    """The sandwich over ``arcs`` for selling ``amount`` of ``sell`` into ``buy``, with ``gas`` per venue in buy base
    units (exact; a venue absent pays none)."""
    started = time.process_time()
    unit = amount * float(market.prices[sell]) / 10 ** market.decimals[sell]

    def scale(a: AssetId) -> float:
        per_unit: float = float(market.prices[a]) / 10.0 ** market.decimals[a] / unit
        return per_unit

    nodes = sorted({a for arc in arcs for a in (arc.tail, arc.head)} | {sell, buy}, key=str)
    index = {a: i for i, a in enumerate(nodes)}
    most = holdings(
        [(index[a.tail], index[a.head], a.curve) for a in arcs],
        [(index[sell], float(amount))],
        float(amount),
        len(nodes),
        frozenset({index[buy]}),
    )
    venues = sorted({a.venue.id for a in arcs})
    fixed = [v for v in venues if gas.get(v, 0) > 0 or any(a.fee > 0.0 for a in arcs if a.venue.id == v)]
    reach: list[float] = []
    points: list[list[float]] = []  # per arc: tangent points (value units of its tail); [] for a linear arc
    for a in arcs:
        si = scale(a.tail)
        r = min(most[index[a.tail]] * si * 1.000001, a.curve.cap * si if math.isfinite(a.curve.cap) else math.inf)
        r = min(r, 4.0)  # no plan holds four times the sale's value anywhere (no gaining cycle at spot)
        reach.append(max(r, 0.0))
        ps: list[float] = []
        if not isinstance(a.curve, PiecewiseLinearCurve) and r > 0.0:
            ps.append(0.0)
            b = SMALLEST
            while b < r:
                ps.append(b)
                b *= RATIO
            ps.append(r)
        points.append(ps)
    best: tuple[int, dict[tuple[str, AssetId, AssetId], int], int] | None = None  # (value, flow, gas)
    upper = math.inf
    status = "optimal"
    rounds = polish = 0

    def step(fix: Mapping[str, bool] | None) -> tuple[float, dict[str, bool]] | None:
        """One solve (the venue choice fixed to ``fix``, or free): keeps the best executed flow, adds tangents where
        the solution reads above a curve; (its value or bound in buy units, the fixed-cost venues it uses)."""
        nonlocal best, status
        solved = _solve(arcs, points, reach, fixed, fix, gas, index, scale, sell, buy, time_limit)
        if solved is None:
            status = "no solution"
            return None
        bound, on, inputs, outputs, message = solved
        if message != "optimal":
            status = message
        lower = _execute(market, arcs, inputs, on, scale, sell, buy, amount, gas)
        if best is None or lower[0] > best[0]:
            best = lower
        for k, a in enumerate(arcs):
            loose = points[k] and outputs[k] > a.curve.out(inputs[k] / scale(a.tail)) * scale(a.head) * (1.0 + LOOSE)
            if loose and inputs[k] > 0.0:
                points[k].extend(min(reach[k], inputs[k] * (1.0 + d)) for d in AROUND)
        return bound / scale(buy), on

    def closed() -> bool:
        return best is not None and upper - best[0] <= WIDTH * abs(upper)

    for _ in range(ROUNDS):
        rounds += 1
        got = step(None)
        if got is None:
            break
        upper = min(upper, got[0])
        if status != "optimal" or closed():
            break
        # the continuous optimum of the venue set chosen (its binaries fixed: an LP, fast): its flow raises the
        # lower end, and its tangents tighten the next program where its optimum lies
        for _ in range(POLISH):
            polish += 1
            value = step(got[1])
            if (
                value is None
                or status != "optimal"
                or closed()
                or value[0] - (best[0] if best else 0) <= 1e-9 * abs(upper)
            ):
                break
        if status != "optimal" or closed():
            break
    seconds = time.process_time() - started
    if best is None:
        return Sandwich(math.nan, math.nan, seconds, rounds, polish, status, {}, 0)
    directions = [v for v, _, _ in best[1]]
    if status == "optimal" and len(set(directions)) < len(directions):
        status = "a venue used both ways"  # each direction was quoted on the snapshot alone: not one executable plan
    return Sandwich(float(best[0]), upper, seconds, rounds, polish, status, best[1], best[2])


def _solve(
    arcs: Sequence[Arc],
    points: Sequence[Sequence[float]],
    reach: Sequence[float],
    fixed: Sequence[str],
    fix: Mapping[str, bool] | None,
    gas: Mapping[str, Fraction],
    index: Mapping[AssetId, int],
    scale: Callable[[AssetId], float],
    sell: AssetId,
    buy: AssetId,
    time_limit: float,
) -> tuple[float, dict[str, bool], list[float], list[float], str] | None:
    """One solve of the tangent program, the fixed-cost venues free or fixed to ``fix``: (HiGHS's dual bound in
    value units, which fixed-cost venues are on, each arc's input and output in value units, status), or None when
    HiGHS returned no solution."""
    n = len(index)
    zcol = {v: k for k, v in enumerate(fixed)}
    lo: list[float] = [float(fix[v]) if fix is not None else 0.0 for v in fixed]
    hi: list[float] = [float(fix[v]) if fix is not None else 1.0 for v in fixed]
    obj: list[float] = [float(gas.get(v, 0)) * scale(buy) for v in fixed]  # minimized: gas paid
    integral: list[int] = [int(fix is None)] * len(fixed)
    ri: list[int] = []
    ci: list[int] = []
    data: list[float] = []
    row_lo: list[float] = []
    row_hi: list[float] = []
    balance: list[dict[int, float]] = [{} for _ in range(n)]  # per node: inflow − outflow coefficients

    def col(top: float) -> int:
        lo.append(0.0)
        hi.append(top)
        obj.append(0.0)
        integral.append(0)
        return len(obj) - 1

    def row(coef: Mapping[int, float], low: float, high: float) -> None:
        r = len(row_lo)
        for c, v in coef.items():
            ri.append(r)
            ci.append(c)
            data.append(v)
        row_lo.append(low)
        row_hi.append(high)

    def add(at: dict[int, float], c: int, v: float) -> None:
        at[c] = at.get(c, 0.0) + v

    ins: list[list[int]] = []  # per arc: the columns of its input
    outs: list[list[tuple[int, float]]] = []  # per arc: (column, rate) of its output
    for k, a in enumerate(arcs):
        si, so = scale(a.tail), scale(a.head)
        t, h = index[a.tail], index[a.head]
        top = reach[k]
        xs: list[int] = []
        os: list[tuple[int, float]] = []
        if top > 0.0 and isinstance(a.curve, PiecewiseLinearCurve):
            left = top
            for rate, length in zip(a.curve.rates, a.curve._lens, strict=True):
                if left <= 0.0:
                    break
                y = col(min(length * si, left))
                left -= length * si
                xs.append(y)
                os.append((y, rate * so / si))
                add(balance[h], y, rate * so / si)
                add(balance[t], y, -1.0)
        elif top > 0.0:
            x = col(top)
            o = col(math.inf)
            xs.append(x)
            os.append((o, 1.0))
            add(balance[h], o, 1.0)
            add(balance[t], x, -1.0)
            for p in sorted(set(points[k])):
                slope = a.curve.rate(p / si) * so / si
                row({o: 1.0, x: -slope}, -math.inf, a.curve.out(p / si) * so - slope * p)
        ins.append(xs)
        outs.append(os)
        v = a.venue.id
        if xs and v in zcol:
            link = dict.fromkeys(xs, 1.0)
            link[zcol[v]] = -top
            row(link, -math.inf, 0.0)
            if a.fee > 0.0:
                add(balance[h], zcol[v], -a.fee * so)
    for j in range(n):
        if j == index[buy]:
            for c, coef in balance[j].items():
                obj[c] -= coef  # maximize what reaches the buy node: minimize its negative
            continue
        row(balance[j], -1.0 if j == index[sell] else 0.0, math.inf)
    a_mat = sp.csc_matrix((data, (ri, ci)), shape=(len(row_lo), len(obj)))
    solved = _highs(np.array(obj), a_mat, row_lo, row_hi, lo, hi, integral, time_limit)
    if solved is None:
        return None
    values, dual, message = solved
    inputs = [sum(float(values[c]) for c in xs) for xs in ins]
    outputs = [sum(float(values[c]) * r for c, r in os) for os in outs]
    on = {v: bool(values[zcol[v]] > 0.5) for v in fixed}
    return -dual, on, inputs, outputs, message


def _highs(
    cost: np.ndarray,
    matrix: sp.csc_matrix,
    row_lo: list[float],
    row_hi: list[float],
    lo: list[float],
    hi: list[float],
    integral: list[int],
    time_limit: float,
) -> tuple[np.ndarray, float, str] | None:
    """Minimize ``cost·x`` (HiGHS, one thread, feasibility tolerances 1e-9: at its default 1e-7 a tangent row may be
    exceeded by 1e-7 of the sale's value and a binary read 1e-6 "off" lets a gas venue carry 4e-6 of it for free):
    (x, the dual bound, status), or None without a solution."""
    h = highspy.Highs()
    for name, value in (
        ("output_flag", False),
        ("threads", 1),
        ("time_limit", time_limit),
        ("mip_rel_gap", 1e-8),
        ("mip_abs_gap", 1e-11),
        ("primal_feasibility_tolerance", 1e-9),
        ("dual_feasibility_tolerance", 1e-9),
        ("mip_feasibility_tolerance", 1e-9),
    ):
        h.setOptionValue(name, value)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(lo), len(row_lo)
    lp.col_cost_ = cost
    lp.col_lower_, lp.col_upper_ = np.array(lo), np.array(hi)
    lp.row_lower_, lp.row_upper_ = np.array(row_lo), np.array(row_hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    if any(integral):
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integral]
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    solution = h.getSolution()
    if not solution.value_valid:
        return None
    info = h.getInfo()
    dual = info.mip_dual_bound if any(integral) else info.objective_function_value
    message = "optimal" if status == highspy.HighsModelStatus.kOptimal else h.modelStatusToString(status)
    return np.array(solution.col_value), float(dual), message


def _execute(
    market: Market,
    arcs: Sequence[Arc],
    inputs: Sequence[float],
    on: Mapping[str, bool],
    scale: Callable[[AssetId], float],
    sell: AssetId,
    buy: AssetId,
    amount: int,
    gas: Mapping[str, Fraction],
) -> tuple[int, dict[tuple[str, AssetId, AssetId], int], int]:
    """(net output, the flow executed, its gas) of the flow ``inputs`` (value units per arc) run with the venues'
    exact ``quote``: cycles are cancelled first (a flow round a cycle is taken off every arc of it), then nodes in
    topological order each send what they hold, split as the flow says (cut in proportion when they hold less)."""
    # base units of each tail; a fixed-cost venue the solution has off carries nothing (its binary may be within
    # HiGHS's tolerance of 0 and let a sliver through)
    x = [max(0.0, v) / scale(a.tail) if on.get(a.venue.id, True) else 0.0 for a, v in zip(arcs, inputs, strict=True)]
    live = {k for k, v in enumerate(x) if v >= 1.0}
    # cancel cycles: the value round a cycle (in sale-value units) taken off each of its arcs, least first
    while True:
        cycle = _cycle(arcs, live)
        if cycle is None:
            break
        least = min(x[k] * scale(arcs[k].tail) for k in cycle)
        for k in cycle:
            x[k] -= least / scale(arcs[k].tail)
            if x[k] < 1.0:
                live.discard(k)
    order = _topological({a for k in live for a in (arcs[k].tail, arcs[k].head)} | {sell}, arcs, live)
    held: dict[AssetId, int] = {sell: amount}
    flow: dict[tuple[str, AssetId, AssetId], int] = {}
    for node in order:
        out = [k for k in live if arcs[k].tail == node]
        if not out:
            continue
        want = sum(int(x[k]) for k in out)
        have = held.get(node, 0)
        for k in sorted(out, key=lambda k: (arcs[k].venue.id, str(arcs[k].head))):
            a = arcs[k]
            take = int(x[k]) if want <= have else int(x[k]) * have // want
            if take <= 0:
                continue
            got = a.venue.quote(a.tail, take)
            held[node] = held.get(node, 0) - take
            held[a.head] = held.get(a.head, 0) + got
            key = (a.venue.id, a.tail, a.head)
            flow[key] = flow.get(key, 0) + take
    paid = sum((gas.get(v, Fraction(0)) for v in {v for v, _, _ in flow}), Fraction(0))
    cost = math.ceil(paid)
    return held.get(buy, 0) - cost, flow, cost


def _cycle(arcs: Sequence[Arc], live: set[int]) -> list[int] | None:
    """Some directed cycle among the ``live`` arcs (their indices), or None."""
    out: dict[AssetId, list[int]] = {}
    for k in sorted(live):
        out.setdefault(arcs[k].tail, []).append(k)
    state: dict[AssetId, int] = {}  # 1: on the stack, 2: done
    via: dict[AssetId, int] = {}
    for root in sorted(out, key=str):
        if state.get(root):
            continue
        stack = [(root, iter(out.get(root, [])))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                continue
            k = nxt
            head = arcs[k].head
            if state.get(head) == 1:  # back edge: the cycle is head → … → node → head
                cycle = [k]
                at = node
                while at != head:
                    cycle.append(via[at])
                    at = arcs[via[at]].tail
                return cycle
            if not state.get(head):
                state[head] = 1
                via[head] = k
                stack.append((head, iter(out.get(head, []))))
    return None


def _topological(nodes: set[AssetId], arcs: Sequence[Arc], live: set[int]) -> list[AssetId]:
    """The nodes in an order where every live arc's tail comes before its head (the arcs are acyclic)."""
    indegree = dict.fromkeys(nodes, 0)
    for k in live:
        indegree[arcs[k].head] += 1
    ready = sorted((a for a, d in indegree.items() if d == 0), key=str)
    order: list[AssetId] = []
    while ready:
        node = ready.pop()
        order.append(node)
        for k in sorted(live):
            if arcs[k].tail == node:
                indegree[arcs[k].head] -= 1
                if indegree[arcs[k].head] == 0:
                    ready.append(arcs[k].head)
    return order


def fixed_fee(venue: Venue) -> float:
    """A bridge's or a transfer's fixed fee in its target's base units less one (the exact quote rounds its
    proportional fee down: up to one unit back), 0 for other venues."""
    if not isinstance(venue, Bridge) or venue.fee_fixed <= 0:
        return 0.0
    shift = venue.target_decimals - venue.source_decimals
    return max(0.0, (venue.fee_fixed - 1) * 10.0**shift)


def sandwich(market: Market, request: RouteRequest, time_limit: float = 60.0) -> Sandwich:
    """The sandwich over the same hop-limited venue directions the router solves over (one source, the first sink),
    gas priced as the router prices it (``Costs``: the snapshot's gas prices, the request's gas switch)."""
    ends = resolve(market, request)
    costs = Costs.of(market, ends, request)
    graph = Graph.build(
        market.venues, request.exclude, ends.sinks, None, ([s for s, _ in ends.sources], request.max_hops)
    )
    edges = sorted(
        (e for es in graph.out_edges.values() for e in es),
        key=lambda e: (e.venue.id, str(e.asset_in), str(e.asset_out)),
    )
    arcs = [Arc(e.venue, e.asset_in, e.asset_out, e.curve, fixed_fee(e.venue)) for e in edges]
    gas = {e.venue.id: costs.gas(e.venue) for e in edges}
    (sell, _), buy = ends.sources[0], min(ends.sinks, key=str)
    return milp_reference(market, arcs, {v: g for v, g in gas.items() if g > 0}, sell, buy, request.amount, time_limit)
