"""One routing problem over the candidate edges, solvable for any subset of venues.

``solve(enabled)`` picks the method from the structure: one source straight into the sinks over
parallel venues is water-filling (exact); anything else is Newton on the network dual (:mod:`.newton`). Either way
the continuous answer becomes an exact integer :class:`~fillpath.router.plan.Draft`, valued net of gas and
waiting; ``upper_bound`` turns the solve's prices into the plan's certificate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router.build import COARSE, Draft, apportion, build, executable
from fillpath.router.certificate import FixedCosts, holdings, upper_bound
from fillpath.router.costs import Costs
from fillpath.router.curves import CostedCurve, FloatCurve, PiecewiseLinearCurve, curve_for
from fillpath.router.cycles import cancel_cycles
from fillpath.router.graph import Edge
from fillpath.router.network import Arc, initial_prices, surplus
from fillpath.router.newton import GIVE_UP, FlowSolution, solve_flow
from fillpath.router.reach import reach
from fillpath.router.split import water_fill
from fillpath.router.venues.base import Venue


@dataclass(frozen=True)
class Solution:
    draft: Draft
    net: Fraction
    """Expected output less gas, waiting and venue penalties, in buy base units (exact): what choices compare."""
    cost: Fraction
    """Gas and waiting (real costs; penalties are not)."""
    prices: tuple[float, ...]
    """Node prices (sink units per base unit) of the continuous solve; spot values off its subgraph."""
    continuous: float
    """The continuous solve's own estimate of the output (before integer rounding)."""


_NO_GAS = Fraction(0)


@dataclass(frozen=True)
class BoundParts:
    """The certificate's inputs over one set of edges (see :func:`~fillpath.router.certificate.upper_bound`)."""

    prices: list[float]
    arcs: list[tuple[int, int, FloatCurve]]
    sources: list[tuple[int, float]]
    amount: float
    sinks: frozenset[int]
    fixed: FixedCosts | None
    venues: tuple[str, ...]
    """Venue ids by index (``fixed.venue`` and ``fixed.gas`` count in these)."""


class Problem:
    def __init__(
        self,
        edges: Sequence[Edge],
        sources: Sequence[tuple[AssetId, int]],
        sinks: frozenset[AssetId],
        amount: int,
        costs: Costs,
        slippage_bps: int,
        penalty_bps: Mapping[str, int] | None = None,
    ) -> None:
        """``edges`` come from a :class:`Graph` built with the same ``penalty_bps`` (their curves carry it)."""
        self.edges = sorted(edges, key=lambda e: (e.venue.id, str(e.asset_in), str(e.asset_out)))
        self.penalty_bps = {v: b for v, b in (penalty_bps or {}).items() if b > 0}
        self.sources = tuple(sources)
        self.sinks = sinks
        self.amount = amount
        self.costs = costs
        self.slippage_bps = slippage_bps
        nodes = sorted({a for e in self.edges for a in (e.asset_in, e.asset_out)} | {s for s, _ in sources}, key=str)
        self.index = {a: i for i, a in enumerate(nodes)}
        # A bare-symbol buy names a sink at every location; only those some candidate edge reaches (or a source
        # already is) are nodes of this problem. Filtering here keeps every later lookup total.
        self.all_sinks = sinks
        self.sinks = frozenset(t for t in sinks if t in self.index)
        lin_exact = [costs.latency_per_unit(e.venue, e.asset_in) for e in self.edges]
        self.lin = [float(c) if c else 0.0 for c in lin_exact]
        self.gas_wei = {e.venue.id: (e.venue.location, costs.gas_wei(e.venue)) for e in self.edges}
        self.gas = {v: (costs.wei_to_buy(loc) * w if w else _NO_GAS) for v, (loc, w) in self.gas_wei.items()}
        self.gas_float = {v: float(g) for v, g in self.gas.items()}
        """The venue choice compares surpluses (floats) with gas on every re-solve: converted once."""
        self.lin_exact = {e.key: c for e, c in zip(self.edges, lin_exact, strict=True) if c}
        self.venues = frozenset(self.gas)
        arcs = [Arc(self.index[e.asset_in], self.index[e.asset_out], e.curve) for e in self.edges]
        self.full_continuous = 0.0
        """The continuous output of that solve (what the certificate is compared with to judge the solve)."""
        self.full_solution: Solution | None = None
        """The solve over every venue, once it has run."""
        self.full_prices: tuple[float, ...] | None = None
        self._solved: dict[frozenset[str], Solution] = {}
        """Solves by venue set: the venue choice and the branch and bound ask for the same subsets again."""
        self._failed: list[frozenset[str]] = []
        """Venue sets that could not carry the amount (or had no route): any subset of one cannot either."""
        """Node prices of the solve over every venue (the tightest certificate), once it has run."""
        self.spot_prices = initial_prices(len(self.index), arcs, frozenset(self.index[t] for t in self.sinks))
        for e in self.edges:
            # a bridge's or withdrawal's fixed fee is a fixed cost like gas (the curve leaves it out: it is no slope),
            # so the venue choice weighs it the same way; the exact plan pays it in its quotes
            fixed = int(getattr(e.venue, "fee_fixed", 0) or 0)
            if fixed > 0:
                value = fixed * self.spot_prices[self.index[e.asset_in]]
                self.gas_float[e.venue.id] = self.gas_float.get(e.venue.id, 0.0) + value

    def cost_of(self, draft: Draft) -> Fraction:
        wei: dict[str, int] = {}
        for v in {leg.venue for leg in draft.legs}:
            loc, w = self.gas_wei[v]
            if w:
                wei[loc] = wei.get(loc, 0) + w
        gas = sum((self.costs.wei_to_buy(loc) * w for loc, w in sorted(wei.items())), Fraction(0))
        if not any(self.lin):
            return gas
        wait = sum(
            (self.lin_exact.get((leg.venue, leg.asset_in, leg.asset_out), 0) * leg.amount_in for leg in draft.legs),
            Fraction(0),
        )
        return gas + wait

    def penalty_of(self, draft: Draft) -> Fraction:
        """What the penalized venues' legs are docked, in buy base units: each such leg's output less its bps,
        valued at what one unit of that asset yields at the sinks in this draft (exact; no market prices)."""
        if not any(leg.venue in self.penalty_bps for leg in draft.legs):
            return Fraction(0)
        yields: dict[AssetId, Fraction] = {}  # per node: sink output its spent units produced
        spent: dict[AssetId, int] = {}

        def value(a: AssetId) -> Fraction:
            if a in self.sinks:
                return Fraction(1)
            return yields[a] / spent[a] if spent.get(a) else Fraction(0)

        for leg in reversed(draft.legs):  # executable order: every leg out of a node comes after legs into it
            yields[leg.asset_in] = yields.get(leg.asset_in, Fraction(0)) + leg.amount_out * value(leg.asset_out)
            spent[leg.asset_in] = spent.get(leg.asset_in, 0) + leg.amount_in
        return sum(
            (
                Fraction(self.penalty_bps[leg.venue], 10_000) * leg.amount_out * value(leg.asset_out)
                for leg in draft.legs
                if leg.venue in self.penalty_bps
            ),
            Fraction(0),
        )

    def solution(self, draft: Draft, prices: tuple[float, ...], continuous: float) -> Solution:
        """``draft`` valued: net of gas, waiting and penalties."""
        cost = self.cost_of(draft)
        return Solution(draft, draft.expected_out - cost - self.penalty_of(draft), cost, prices, continuous)

    def _finish(self, draft: Draft, prices: dict[AssetId, float], continuous: float) -> Solution:
        nu = list(self.spot_prices)  # nodes outside this solve: valued at spot (for re-adding venues)
        for a, p in prices.items():
            nu[self.index[a]] = p
        return self.solution(draft, tuple(nu), continuous)

    def surplus(self, solution: Solution) -> dict[str, float]:
        """Per venue: its arbitrage profit at the solution's prices (buy base units); only the gas choice
        needs it, so it is computed on demand."""
        nu = solution.prices
        sur: dict[str, float] = {}
        for k, e in enumerate(self.edges):
            no = nu[self.index[e.asset_out]]
            if no > 0.0:
                s = surplus(e.curve, nu[self.index[e.asset_in]] + self.lin[k], no)
                sur[e.venue.id] = sur.get(e.venue.id, 0.0) + s
        return sur

    def upper_bound(
        self,
        prices: Sequence[float],
        edges: Sequence[Edge] | None = None,
        *,
        fixed_costs: bool = False,
        used: frozenset[str] = frozenset(),
        descend: bool = False,
    ) -> int:
        """The certificate (see :mod:`fillpath.router.certificate`) over ``edges`` (default: the problem's; may be a
        superset, the whole hop-limited graph), on the venues' own curves (no penalty, no waiting cost: it bounds
        ``expected_out``), at ``prices`` (one per node of the problem). A node the problem does not have is priced
        at its best spot-rate completion to priced nodes: then its outgoing arcs add nothing, and an arc into it
        adds only what a path the problem left out could really gain. ``fixed_costs``: net of fixed fees (so still a
        bound on ``expected_out``, tighter) and of gas (then a bound on the output net of gas: ``net_out``);
        ``used``: venues every plan bounded here uses (their fixed costs count in full)."""
        parts = self.bound_parts(prices, edges, fixed_costs=fixed_costs, used=used)
        return upper_bound(
            parts.prices, parts.arcs, parts.sources, parts.amount, parts.sinks, parts.fixed, descend=descend
        )

    def bound_parts(
        self,
        prices: Sequence[float],
        edges: Sequence[Edge] | None = None,
        *,
        fixed_costs: bool = False,
        used: frozenset[str] = frozenset(),
    ) -> BoundParts:
        """What :meth:`upper_bound` evaluates, indexed: the branch and bound (:mod:`.branch`) re-evaluates it with
        venues switched on and off, and needs the prices each bound was reached at."""
        edges = self.edges if edges is None else edges
        nodes = sorted({a for e in edges for a in (e.asset_in, e.asset_out)} | set(self.index), key=str)
        index = {a: i for i, a in enumerate(nodes)}
        nu = [0.0] * len(nodes)
        known = [False] * len(nodes)
        for a, i in self.index.items():
            nu[index[a]], known[index[a]] = prices[i], True
        sinks = frozenset(index[t] for t in self.all_sinks if t in index)
        for t in sinks:
            nu[t], known[t] = 1.0, True
        _reprice_off_routes(
            nu, known, [(index[e.asset_in], index[e.asset_out]) for e in edges], sinks, self.sources, index
        )
        arcs = [
            (
                index[e.asset_in],
                index[e.asset_out],
                curve_for(e.venue, e.asset_in) if e.venue.id in self.penalty_bps else e.curve,
            )
            for e in edges
        ]
        for _ in range(len(nodes)):
            changed = False
            for t, h, curve in arcs:
                if not known[t] and curve.spot * nu[h] > nu[t] * (1.0 + 1e-15):
                    nu[t] = curve.spot * nu[h]
                    changed = True
            if not changed:
                break
        sources = [(index[s], float(cap)) for s, cap in self.sources]
        fixed = None
        venues = sorted({e.venue.id for e in edges})
        if fixed_costs:
            at = {v: i for i, v in enumerate(venues)}
            lost = [
                float(getattr(e.venue, "fee_fixed", 0) or 0) * _least_rate(e.curve)
                if e.venue.id not in self.penalty_bps
                else 0.0
                for e in edges
            ]
            of = {e.venue.id: e.venue for e in edges}
            gas = [float(self.gas[v]) if v in self.gas else self._gas_of(of[v]) for v in venues]
            most = holdings(arcs, sources, float(self.amount), len(nodes), sinks)
            venue_of = [at[e.venue.id] for e in edges]
            fixed = FixedCosts(
                venue_of,
                lost,
                gas,
                frozenset(at[v] for v in used if v in at),
                [most[t] for t, _, _ in arcs],
            )
        return BoundParts(nu, arcs, sources, float(self.amount), sinks, fixed, tuple(venues))

    def _gas_of(self, venue: Venue) -> float:
        """Gas of a venue the problem does not know (an edge of the whole graph off its candidate paths), in sink
        units: a bound that took it as free let the relaxation route through it for nothing (11% on a $1,000 sale
        paying 2M gas a pool)."""
        wei = self.costs.gas_wei(venue)
        return float(self.costs.wei_to_buy(venue.location) * wei) if wei else 0.0

    def solved_prices(self, *first: tuple[float, ...]) -> list[tuple[float, ...]]:
        """``first``, then the prices of every venue set solved so far (each once, in solve order)."""
        return list(dict.fromkeys([*first, *(s.prices for s in self._solved.values())]))

    def has_solved(self, enabled: frozenset[str]) -> bool:
        """Whether ``solve(enabled)`` is known (memoized, or refused as a subset of a set that could not carry)."""
        return enabled in self._solved or any(enabled <= failed for failed in self._failed)

    @property
    def fixed_cost_venues(self) -> frozenset[str]:
        """Venues that cost something just for being used: gas, or a fixed fee (valued in ``gas_float``)."""
        return frozenset(v for v, g in self.gas_float.items() if g > 0.0)

    def solve(self, enabled: frozenset[str]) -> Solution:
        """The exact plan of the continuous optimum over the ``enabled`` venues. Raises :class:`InvalidInput` when they
        cannot carry the amount. Memoized per venue set; a subset of a set that could not carry the amount is refused
        without a solve (fewer venues carry less), except the whole set, whose refusal states the capacity."""
        known = self._solved.get(enabled)
        if known is not None:
            return known
        if enabled != self.venues and any(enabled <= failed for failed in self._failed):
            raise InvalidInput("amount", "more than these venues can carry", "sell less")
        try:
            solution = self._solve(enabled)
        except InvalidInput:
            self._failed.append(enabled)
            raise
        self._solved[enabled] = solution
        if enabled == self.venues:
            self.full_solution = solution
            self.full_prices = solution.prices
            self.full_continuous = solution.continuous
        return solution

    def _solve(self, enabled: frozenset[str]) -> Solution:
        ks = self._routable([k for k, e in enumerate(self.edges) if e.venue.id in enabled])
        if not ks:
            raise InvalidInput("buy", "no route with these venues", "enable more venues")
        # Only sources some routable edge leaves can supply: flow sent to any other source could never reach a
        # sink, and the dual would read that as "the venues cannot carry the amount".
        live = tuple((a, cap) for a, cap in self.sources if any(self.edges[k].asset_in == a for k in ks))
        if sum(cap for _, cap in live) < self.amount:
            raise InvalidInput("amount", "more than the locations with a route hold", "sell less")
        direct = len(live) == 1 and all(
            self.edges[k].asset_in == live[0][0] and self.edges[k].asset_out in self.sinks for k in ks
        )
        # only the solve over every venue explains a shortfall (a bisection of solves); the venue choice's trial
        # subsets just fail
        explain = enabled == self.venues
        return self._water_fill(ks, live[0][0]) if direct else self._network(ks, live, explain)

    def _routable(self, ks: list[int]) -> list[int]:
        """Edges on some source → sink route (a dead end would only strand value and confuse prices)."""
        srcs = {s for s, _ in self.sources}
        if all(self.edges[k].asset_in in srcs and self.edges[k].asset_out in self.sinks for k in ks):
            return ks  # parallel venues straight into the sinks: all routable
        fwd_adj: dict[AssetId, list[AssetId]] = {}
        back_adj: dict[AssetId, list[AssetId]] = {}
        for k in ks:
            e = self.edges[k]
            fwd_adj.setdefault(e.asset_in, []).append(e.asset_out)
            back_adj.setdefault(e.asset_out, []).append(e.asset_in)
        fwd = reach(srcs, fwd_adj)
        back = reach(set(self.sinks), back_adj)
        return [k for k in ks if self.edges[k].asset_in in fwd and self.edges[k].asset_out in back]

    def _water_fill(self, ks: list[int], src: AssetId) -> Solution:
        curves: list[FloatCurve] = [
            CostedCurve(self.edges[k].curve, self.lin[k]) if self.lin[k] else self.edges[k].curve for k in ks
        ]
        caps = [self.edges[k].venue.capacity(src) for k in ks]
        if all(c is not None for c in caps) and sum(c or 0 for c in caps) < self.amount:
            raise self._too_much(sum(c or 0 for c in caps), ((src, self.amount),))
        split = water_fill(curves, self.amount, caps)
        weights = [0] * len(self.edges)
        for k, x in zip(ks, split.shares, strict=True):
            weights[k] = x
        est = sum(c.out(float(x)) for c, x in zip(curves, split.shares, strict=True))
        coarse = self.sinks if COARSE * est < 1.0 else frozenset()  # a small output: one sink unit counts
        draft = build(self.edges, weights, {src: self.amount}, self.sinks, self.slippage_bps, coarse=coarse)
        prices = dict.fromkeys(self.sinks, 1.0)
        prices[src] = split.rate
        return self._finish(draft, prices, est)

    def _network(self, ks: list[int], sources: tuple[tuple[AssetId, int], ...], explain: bool = True) -> Solution:
        arcs, supply, n, whole = self._flow_problem(ks, sources, self.amount)
        idx = self.index
        sinks = frozenset(idx[t] for t in self.sinks)
        sol = solve_flow(n, arcs, supply, sinks)
        carried = sol.imbalance <= GIVE_UP and _carried(sol, arcs, supply, sinks)
        if sol.imbalance > GIVE_UP or (explain and not carried):
            # the first try gave up, or before blaming the venues: a slower second try, kept unless it does worse
            again = solve_flow(n, arcs, supply, sinks, careful=True)
            again_carried = _carried(again, arcs, supply, sinks)
            if again_carried or again.imbalance <= sol.imbalance:
                sol, carried = again, again_carried
            elif sol.imbalance > GIVE_UP:
                carried = _carried(sol, arcs, supply, sinks)
        if not carried and not _unconverged(sol, arcs, supply, sinks):
            if not explain:
                raise InvalidInput("amount", "more than these venues can carry", "sell less")
            raise self._capacity_error(ks, sources)
        flows, outs = cancel_cycles([(a.tail, a.head) for a in arcs], sol.flows, sol.outs)
        weights: list[float] = [0.0] * len(self.edges)
        value: list[float] = [0.0] * len(self.edges)
        for j, k in enumerate(ks):
            weights[k] = flows[j] if flows[j] >= 1.0 else 0.0
            value[k] = flows[j] * sol.prices[arcs[j].tail]
        if whole or len(sources) == 1:
            supplies = dict(sources) if whole else {sources[0][0]: self.amount}  # as ``_supplies`` gives one source
        else:
            # a source the builder will give no leg (every edge under one unit, or its route breaks off later: a
            # float-noise flow of 3e4 wei ETH is under one unit of USDT one hop on) must get no supply either, or
            # that supply would find no venue and stay unsold
            srcs = {s for s, _ in sources}
            fed = {self.edges[k].asset_in for k in executable(self.edges, weights, srcs, self.sinks, value)} & srcs
            src_flows = [f if s in fed else 0.0 for (s, _), f in zip(sources, flows[len(ks) :], strict=False)]
            supplies = self._supplies(sources, src_flows, fed)
        est = sum(o for a, o in zip(arcs, outs, strict=True) if a.head in sinks)
        coarse = frozenset(a for a, i in idx.items() if sol.prices[i] > COARSE * est)
        draft = build(self.edges, weights, supplies, self.sinks, self.slippage_bps, value, coarse)
        # the solve prices only the nodes of its arcs; the others keep their spot values (``Solution.prices``): at the
        # solver's leftovers (1e-300) every idle pool out of them looked like free output to the venue choice
        touched = {a.tail for a in arcs} | {a.head for a in arcs}
        prices = {a: sol.prices[i] for a, i in idx.items() if i in touched}
        return self._finish(draft, prices, est)

    def _flow_problem(
        self, ks: list[int], sources: tuple[tuple[AssetId, int], ...], amount: int
    ) -> tuple[list[Arc], dict[int, float], int, bool]:
        """(arcs, supplies, node count, whole) of the continuous solve that sells ``amount`` over edges ``ks``."""
        idx = self.index
        src_value = max(self.spot_prices[idx[s]] for s, _ in sources)
        arcs = [
            Arc(idx[self.edges[k].asset_in], idx[self.edges[k].asset_out], self._scaled(k, src_value), self.lin[k])
            for k in ks
        ]
        # Sources selling exactly what they hold (a whole sell list) each supply a fixed amount: no choice to make,
        # and hard-capped super-source arcs at their caps are where the smoothed dual converges worst.
        whole = len(sources) > 1 and sum(cap for _, cap in sources) <= amount
        if len(sources) == 1:
            return arcs, {idx[sources[0][0]]: float(amount)}, len(idx), whole
        if whole:
            return arcs, {idx[s]: float(cap) for s, cap in sources}, len(idx), whole
        top = len(idx)  # a super-source splits the amount over the holdings
        arcs += [Arc(top, idx[s], PiecewiseLinearCurve([(1.0, float(cap))])) for s, cap in sources]
        return arcs, {top: float(amount)}, top + 1, whole

    def _capacity_error(self, ks: list[int], sources: tuple[tuple[AssetId, int], ...]) -> InvalidInput:
        """The venues cannot carry the amount: say how much they can (bisection on the continuous solve, less 1% for
        its precision and the plan's rounding), so the user can act on it."""
        sinks = frozenset(self.index[t] for t in self.sinks)

        def carried(amount: int) -> bool:
            arcs, supplies, n, _ = self._flow_problem(ks, sources, amount)
            if _carried(solve_flow(n, arcs, supplies, sinks), arcs, supplies, sinks):
                return True
            again = solve_flow(n, arcs, supplies, sinks, careful=True)
            return _carried(again, arcs, supplies, sinks) or _unconverged(again, arcs, supplies, sinks)

        lo, hi = 0, self.amount
        while hi > 1 and not carried(hi // 2):  # far too much: halve until some amount goes through
            hi //= 2
        lo = hi // 2
        for _ in range(CAPACITY_STEPS):
            mid = (lo + hi) // 2
            if mid <= lo:
                break
            lo, hi = (mid, hi) if carried(mid) else (lo, mid)
        return self._too_much(lo, sources)

    def _too_much(self, most_units: int, sources: Sequence[tuple[AssetId, int]]) -> InvalidInput:
        lo = most_units
        sell = sources[0][0] if len(sources) == 1 else None
        buy = ", ".join(sorted(str(t) for t in self.sinks))
        decimals = self.costs.market.decimals.get(sell) if sell is not None else None
        most = _human(lo * 99 // 100, decimals) if decimals is not None else f"{lo} base units"
        what = f"{most} {sell}" if sell is not None else f"{most} in all from {', '.join(str(s) for s, _ in sources)}"
        return InvalidInput(
            "amount", f"at most about {what} can be sold into {buy} on these venues", "sell at most that much"
        )

    def _scaled(self, k: int, src_value: float) -> FloatCurve:
        """The edge's curve, a piecewise-linear one clipped to 4x the most the request could bring to its input
        (valued at spot prices; ``src_value``: the best source's): arcs much longer than any flow make the smoothed
        dual ill-conditioned."""
        curve = self.edges[k].curve
        if not isinstance(curve, PiecewiseLinearCurve):
            return curve
        tail_value = self.spot_prices[self.index[self.edges[k].asset_in]]
        if src_value <= 0.0 or tail_value <= 0.0:
            return curve
        bound = 4.0 * float(self.amount) * src_value / tail_value
        return curve.clipped(bound) if curve.cap > bound else curve

    def _supplies(
        self, sources: tuple[tuple[AssetId, int], ...], src_flows: Sequence[float], fed: set[AssetId]
    ) -> dict[AssetId, int]:
        """Integer amounts per source summing to the request, within holdings, only to sources with a leg
        (``fed``) while they have room."""
        if len(sources) == 1:
            return {sources[0][0]: self.amount}
        caps = [c if s in fed else 0 for s, c in sources]
        ws = [Fraction(max(0.0, min(f, float(c)))) for f, c in zip(src_flows, caps, strict=True)]
        if sum(ws) <= 0:
            ws = [Fraction(c) for c in caps]
        shares = apportion(self.amount, ws)
        spill = 0
        for i, c in enumerate(caps):
            if shares[i] > c:
                spill += shares[i] - c
                shares[i] = c
        held = [c for _, c in sources]
        for limits in (caps, held):  # unfed sources only if the fed ones cannot hold it (the builder judges)
            for i in range(len(shares)):
                room = min(spill, limits[i] - shares[i])
                shares[i] += room
                spill -= room
        return {s: x for (s, _), x in zip(sources, shares, strict=True)}


def _reprice_off_routes(
    nu: list[float],
    known: list[bool],
    pairs: Sequence[tuple[int, int]],
    sinks: frozenset[int],
    sources: Sequence[tuple[AssetId, int]],
    index: Mapping[AssetId, int],
) -> None:
    """The tightest prices for the nodes no source → sink flow over ``pairs`` (tail, head) can use; any prices give a
    valid bound, so the solve's (or spot) values there only loosen it. A node that reaches no sink is worth 0 (an arc
    into it then adds nothing, nor does one out of it: its head reaches no sink either). A node no source reaches
    holds nothing: it is marked unknown, and the caller prices it at its best spot-rate completion, where its arcs
    add nothing. (A subset solve of the venue choice or of the branch and bound leaves such nodes at spot: an arc
    from the routes into a dead end then counted its whole spot value, a gap of 1e-3 on a $1,200 sale.)"""
    back: dict[int, list[int]] = {}
    fwd: dict[int, list[int]] = {}
    for t, h in pairs:
        back.setdefault(h, []).append(t)
        fwd.setdefault(t, []).append(h)
    to_sink = reach(set(sinks), back)
    starts = {index[s] for s, _ in sources if s in index}
    from_source = reach(starts, fwd)
    for j in range(len(nu)):
        if j in sinks:
            continue
        if j not in to_sink:
            nu[j], known[j] = 0.0, True
        elif j not in from_source:
            nu[j], known[j] = 0.0, False


def _least_rate(curve: FloatCurve) -> float:
    """The smallest marginal rate a linear curve has (a fixed fee taken from the input costs at least that much
    output per unit); 0 for other curves (no fixed fee is counted on them)."""
    return curve.rates[-1] if isinstance(curve, PiecewiseLinearCurve) and curve.rates else 0.0


CAPACITY_STEPS = 14
"""Bisection steps for the largest sellable amount (2^-14: four significant digits)."""


def _carried(sol: FlowSolution, arcs: Sequence[Arc], supplies: Mapping[int, float], sinks: frozenset[int]) -> bool:
    """The solve placed the supply: every node but the sinks sends on what it receives and holds (to within 0.1%).
    When the capped venues cannot absorb the amount, something stays behind whatever the prices."""
    if sol.imbalance > 0.05:
        return False
    into = dict(supplies)
    out: dict[int, float] = {}
    for a, x, o in zip(arcs, sol.flows, sol.outs, strict=True):
        out[a.tail] = out.get(a.tail, 0.0) + x
        into[a.head] = into.get(a.head, 0.0) + o
    total = sum(sol.prices[s] * a for s, a in supplies.items())
    dust = 1e-9 * total  # float noise (a tie's flow of 0.05 units into a node that sends nothing on) is no shortfall
    return all(
        out.get(j, 0.0) >= have * 0.999 or (have - out.get(j, 0.0)) * sol.prices[j] <= dust
        for j, have in into.items()
        if j not in sinks
    )


UNCONVERGED = 0.02
"""Relative imbalance below which a solve whose prices are all sound is a solve that stopped short, not a shortfall."""
SOUND = 1e-6
"""A node's price above this fraction of its spot value is sound: a node that truly cannot send on what it holds has
its price run towards 0 (the dual has no minimum there)."""


def _unconverged(sol: FlowSolution, arcs: Sequence[Arc], supplies: Mapping[int, float], sinks: frozenset[int]) -> bool:
    """The solve did not balance to 0.1%, but no price collapsed: the venues carry the supply and the solve stopped
    short (a careful try ending at a relative imbalance of 1e-3: the lab's demo sale of 1,500 WETH@lab1 and 500
    ETH@labex was refused as "at most about 1,139.6" on drained pools). The plan is built from what each node actually
    holds, so it stays exact and executable; the certificate says how far it is from the optimum."""
    if sol.imbalance > UNCONVERGED:
        return False
    spot = initial_prices(len(sol.prices), arcs, sinks)
    return all(sol.prices[j] >= SOUND * spot[j] for j in range(len(sol.prices)) if j not in sinks and spot[j] > 0.0)


def _human(units: int, decimals: int) -> str:
    """Base units as a human amount with thousands separators, four significant digits, rounded down."""
    value = Decimal(units) / Decimal(10) ** decimals
    if value <= 0:
        return "0"
    digits = value.adjusted() - 3
    step = Decimal(10) ** digits
    shown = (value / step).to_integral_value(rounding=ROUND_FLOOR) * step
    return f"{shown:,f}" if digits < 0 else f"{int(shown):,}"
