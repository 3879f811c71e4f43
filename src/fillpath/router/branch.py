"""Fixed costs (gas per venue used, a transfer's fixed fee), the mixed-integer part: a budgeted branch and bound.

At any prices ν a plan that uses venue set T is bounded by the convex dual with T's fixed costs subtracted, and the
best over every T is one pass, ``h(ν) = source term + Σ_v max(0, term_v(ν) − fixed_v(ν))``
(:class:`~fillpath.router.certificate.FixedCosts`); its minimum over ν is the Lagrangian (perspective) relaxation.
That relaxation is weak where the best plan concentrates a small sale on a few gas-paying pools: it spreads the sale
over every pool that is a close call, each paying its gas only in proportion to its flow (1e-3 on $2k-$7k sales).

So the venues with a fixed cost are switched on and off, best first. A node fixes some venues on (their fixed costs
count in full) and some off (their terms count 0); it is bounded by ``h`` at its parent's prices and at those of its
own solves (with every venue it allows, and with only those it forces on), lowered by descent from the best of them,
and (at most ``SMOOTHS`` times a route, with gas) by Newton on a smoothed ``h`` (:mod:`.perspective`) where the
descent leaves it open. A node within ``TOL`` of the best plan is closed, and so is one with no route left. An open
node first probes its close calls: each forced on, and one whose bound closes is switched off for the whole node (its
plans lie under that bound); then it branches on the probe nearest to closing. Before the enumeration, a local search
on venue sets (:meth:`_Search.polish`, and the relaxation's own venue choice as a swap: :meth:`_Search.guided`) looks
for a better plan (a better plan closes more nodes). The bound is the largest over the closed nodes and those left
open when the budget (counted in bounds and solves, never timed) runs out: every plan lies under one of them.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, replace

from fillpath.model.errors import InvalidInput
from fillpath.router.certificate import FixedCosts, priced_bound, venue_parts
from fillpath.router.graph import Edge
from fillpath.router.optimize import BoundParts, Problem, Solution
from fillpath.router.reach import reach

TOL = 8e-5
"""A node bounded within this (relative) of the best plan is closed: the certificate's gap ends below it unless the
budget runs out first (under the issue's 1e-4; at 5e-5 the lab's 10 WETH@lab1 -> USDC took 43 ms, 8.4 ms now)."""
TOL_FEES = 1e-7
"""The same without gas: only a few bridges and withdrawals have fixed fees, and enumerating them is cheap."""
MAX_NODES = 80
"""Nodes bounded (each a descent of ``h``): the budget that keeps a route's time bounded (counted, not timed, so the
same input gives the same plan)."""
MAX_SOLVES = 24
"""Convex solves the enumeration may spend on the plans of its nodes."""
PROBES = 24
"""Close calls a node forces on one at a time (probing) before it branches."""
POLISH = 96
"""Convex solves the local search on venue sets (:meth:`_Search.polish`) may spend."""
POLISH_ABOVE = 1e-4
"""The local search runs only where the root's bound is this far above the best plan (relative)."""
POLISH_TRIES = 6
"""Drops (and adds) tried per round of that search, the most promising first."""
DESCENTS = 2
"""Price vectors the root's bound descends from (the best few of those it was evaluated at)."""
GUIDE = True
"""The local search also tries the relaxation's own venue choice at the root's prices (:meth:`_Search.guided`; False:
as before, for measuring)."""
HALF_OPEN = 1e-3
"""The swap counts a venue open when its term is within this share of its gas of paying it (half open)."""
SMOOTHS = 12
"""Bounds (with gas) left open by descent that then minimize the smoothed ``h`` by Newton (:mod:`.perspective`) and
descend again: ~10-50 ms each where a descent takes ~6 ms, so counted apart (0: as before, for measuring)."""


@dataclass(frozen=True)
class Settled:
    best: Solution
    bound: int
    """An upper bound on the output net of fixed costs of every plan over the edges (gas-free: on ``expected_out``)."""
    nodes: int
    """Nodes bounded (the budget spent)."""


def settle(problem: Problem, best: Solution, full: Sequence[Edge], starts: Sequence[tuple[float, ...]]) -> Settled:
    """The best plan and the fixed-cost bound over ``full`` (the hop-limited graph), from ``starts`` (prices of the
    problem's nodes, from its solves: any are valid)."""
    first = problem.bound_parts(starts[0], full, fixed_costs=True)
    fixed = first.fixed
    assert fixed is not None
    cands = [first.prices, *(problem.bound_parts(p, full).prices for p in starts[1:])]
    branchable = frozenset(v for v, g in enumerate(fixed.gas) if g > 0.0) | {
        fixed.venue[k] for k, lost in enumerate(fixed.lost) if lost > 0.0
    }
    search = _Search(problem, first, fixed, branchable, best, full)
    return search.run(cands)


class _Search:
    def __init__(
        self,
        problem: Problem,
        parts: BoundParts,
        fixed: FixedCosts,
        branchable: frozenset[int],
        best: Solution,
        full: Sequence[Edge],
    ) -> None:
        self.problem = problem
        self.parts = parts
        self.fixed = fixed
        self.branchable = branchable
        self.best = best
        self.nodes = 0
        self.solves = 0
        self.polished = 0
        self.smooths = 0
        self.gassy = any(g > 0.0 for g in fixed.gas)
        self.tol = TOL if self.gassy else TOL_FEES
        self.free = frozenset(v for v in range(len(fixed.gas)) if v not in branchable)
        self.all = frozenset(range(len(fixed.gas)))
        self.index = {v: i for i, v in enumerate(parts.venues)}
        self.full = full

    def target(self) -> float:
        """What the bound is compared with: the best plan's output net of its gas (its ``net``; without gas its
        ``expected_out``, fixed fees being inside it)."""
        gassy = any(g > 0.0 for g in self.fixed.gas)
        return float(self.best.net) if gassy else float(self.best.draft.expected_out)

    def closed(self, bound: int) -> bool:
        return bound <= self.target() * (1.0 + self.tol) + 2

    def bound(
        self, cands: Sequence[list[float]], on: frozenset[int], off: frozenset[int], descend: int
    ) -> tuple[int, list[float]]:
        """The node's bound: the least of ``h`` at ``cands``, lowered by descent from the best ``descend`` of them
        unless already closed."""
        p = self.parts
        fixed = replace(self.fixed, forced=on, banned=off)
        valued = [priced_bound(c, p.arcs, p.sources, p.amount, p.sinks, fixed) for c in cands]
        order = sorted(range(len(valued)), key=lambda i: (valued[i][0], i))
        least, at = valued[order[0]]
        if descend == 0:
            self.nodes += 1
        if self.closed(least):
            return least, at
        for i in order[:descend]:
            self.nodes += 1
            value, nu = priced_bound(valued[i][1], p.arcs, p.sources, p.amount, p.sinks, fixed, descend=True)
            if value < least:
                least, at = value, nu
        if descend and self.gassy and self.smooths < SMOOTHS and not self.closed(least):
            # descent stalled where venues are half open: the perspective relaxation's Newton solve from there
            self.smooths += 1
            value, nu = priced_bound(at, p.arcs, p.sources, p.amount, p.sinks, fixed, descend=True, smooth=True)
            if value < least:
                least, at = value, nu
        return least, at

    def solve(self, enabled: frozenset[str]) -> Solution | None:
        """The branch and bound's solve, within its budget; a better plan becomes the best."""
        sol, self.solves = self._within(enabled, self.solves, MAX_SOLVES)
        if sol is not None and sol.net > self.best.net:
            self.best = sol
        return sol

    def _within(self, enabled: frozenset[str], spent: int, limit: int) -> tuple[Solution | None, int]:
        """The solve of venue set ``enabled`` unless ``spent`` reached ``limit`` (None too where it cannot carry the
        amount), and the budget spent after it: a set solved before costs nothing (the problem memoizes it)."""
        if spent >= limit:
            return None, spent
        if not self.problem.has_solved(enabled):
            spent += 1
        try:
            return self.problem.solve(enabled), spent
        except InvalidInput:
            return None, spent

    def ids(self, vs: frozenset[int]) -> frozenset[str]:
        return frozenset(self.parts.venues[v] for v in vs)

    def run(self, cands: list[list[float]]) -> Settled:
        """Best first over (on, off) patterns; a node enters with its parent's bound and is bounded itself when it
        comes up (then re-queued at its own bound), and expanded when it comes up again."""
        root, at = self.bound(cands, frozenset(), frozenset(), DESCENTS)
        if self.closed(root):
            return Settled(self.best, root, self.nodes)
        # a better plan first (it closes more nodes): local search from the best plan's venues and from every venue,
        # where the gap is above what the search is for (on a big sale 50-80 solves of ~30 ms bought 3e-5)
        start = self.best
        polish = root > self.target() * (1.0 + POLISH_ABOVE)
        if polish:
            self.polish(start, self.problem.venues - self.problem.fixed_cost_venues | self.venues_of(start))
            if self.problem.full_solution is not None:
                self.polish(self.problem.full_solution, self.problem.venues)
            if GUIDE:
                self.guided(at)
            if self.best is not start:  # its prices are valid for the root's bound too
                cands.append(self.problem.bound_parts(self.best.prices, self.full).prices)
                again, there = self.bound([at, cands[-1]], frozenset(), frozenset(), 0)
                if again < root:
                    root, at = again, there
        leaves: list[tuple[int, frozenset[int], frozenset[int], list[float], bool]] = []  # bound, on, off, at, lowered
        lazy = 0 if self.gassy else 1  # without gas a node's solves price it well: only the top leaf descends
        descend = 1 - lazy
        tick = 0
        legs = self.legs(start) | self.legs(self.best)
        legs = legs.union(*(self.worth(c, frozenset(), frozenset()) for c in cands))
        heap: list[tuple[int, int, bool, frozenset[int], frozenset[int], list[float], frozenset[int]]] = [
            (-root, tick, True, frozenset(), frozenset(), at, legs)
        ]
        while heap:
            neg, _, done, on, off, at, legs = heapq.heappop(heap)
            if self.closed(-neg):
                leaves.append((-neg, on, off, at, False))
                break  # best first: every node left is bounded lower
            if not done:
                if self.nodes >= MAX_NODES:
                    leaves.append((-neg, on, off, at, False))
                    break  # out of budget: the rest are bounded at their parents' (valid, looser)
                if not self.routed(off):
                    continue  # no route from a source to a sink is left: no plan lies under this node
                # its own solve with every venue it allows: a plan, and prices that make its bound tight
                cands = [at]
                sol = self.solve(self.ids(self.all - off)) if off else None
                if sol is not None:
                    q = self.problem.bound_parts(sol.prices, self.full).prices
                    cands.append(q)
                    legs = legs | self.legs(sol) | self.worth(q, on, off)
                bound, at = self.bound(cands, on, off, descend)
                tick += 1
                heapq.heappush(heap, (-min(bound, -neg), tick, True, on, off, at, legs))
                continue
            bound = -neg
            parts = venue_parts(at, self.parts.arcs, replace(self.fixed, forced=on, banned=off))
            if self.closed(bound):
                leaves.append((bound, on, off, at, False))
                continue
            # the undecided venues that matter here: worth their fixed cost at these prices, or used by the node's
            # plan (a transfer's fixed fee at a tie of its prices counts nothing until the transfer is forced on)
            undecided = [v for v in self.branchable - on - off if parts[v] + self.fixed.gas[v] > 0.0 or v in legs]
            sol = self.solve(self.ids(self.free | on)) if not undecided and on else None
            if sol is not None:
                # nothing left to branch on at these prices, yet open: the prices of a solve with only the venues it
                # forces on (family 3 seed 60: a withdrawal forced on, the bridge its relaxation still leaned on)
                q = self.problem.bound_parts(sol.prices, self.full).prices
                b, there = self.bound([at, q], on, off, descend)
                if b < bound:
                    bound, at = b, there
                    parts = venue_parts(at, self.parts.arcs, replace(self.fixed, forced=on, banned=off))
                legs = legs | self.legs(sol) | self.worth(q, on, off)
                if self.closed(bound):
                    leaves.append((bound, on, off, at, False))
                    continue
                undecided = [v for v in self.branchable - on - off if parts[v] + self.fixed.gas[v] > 0.0 or v in legs]
            if not undecided:
                leaves.append((bound, on, off, at, False))
                continue
            # probing: a close call forced on whose bound closes is switched off here (its plans are under that
            # bound: a leaf); a relaxation that spreads a small sale over many half-open pools would otherwise need
            # a branch for each of them
            banned: frozenset[int] = frozenset()
            forced: dict[int, int] = {}  # the bounds of the probes that did not close
            for v in sorted(undecided, key=lambda v: (abs(parts[v]), v))[:PROBES]:
                if self.nodes >= MAX_NODES:
                    break
                b, there = self.bound([at], on | {v}, off | banned, descend)
                if self.closed(b):
                    leaves.append((b, on | {v}, off | banned, there, False))
                    banned |= {v}
                else:
                    forced[v] = b
            tick += 1
            if banned:
                heapq.heappush(heap, (-bound, tick, False, on, off | banned, at, legs))
                continue
            # branch on the probe nearest to closing: its on side is then soon done, and the off side has lost a
            # venue the relaxation leaned on (seeds 28, 38, 68 of family 4: 1.5e-4, 1.0e-4, 9.2e-5 -> 8.9e-5, 5.0e-5,
            # 4.7e-5 against branching on the closest call)
            if forced:
                v = min(forced, key=lambda v: (forced[v], v))
            else:
                v = min(undecided, key=lambda v: (abs(parts[v]), v))
            for child_on, child_off in ((on | {v}, off), (on, off | {v})):
                tick += 1
                heapq.heappush(heap, (-bound, tick, False, child_on, child_off, at, legs))
        leaves.extend((-n, on, off, at, False) for n, _, _, on, off, at, _ in heap)
        while lazy and leaves:  # the top leaf, lowered by descent until the top one has been (h is convex: a search)
            leaves.sort(key=lambda leaf: -leaf[0])
            top, on, off, at, done = leaves[0]
            if done or self.closed(top):
                break
            b, there = self.bound([at], on, off, 1)
            leaves[0] = (min(b, top), on, off, there, True)
        if polish and self.best is not start:
            self.polish(self.best, self.problem.venues - self.problem.fixed_cost_venues | self.venues_of(self.best))
        return Settled(self.best, max(b for b, *_ in leaves) if leaves else root, self.nodes)

    def polish(self, start: Solution, enabled: frozenset[str]) -> None:
        """Local search on the venue set from ``start`` (a plan over ``enabled``): drop the used venues whose fixed
        cost their surplus at the plan's prices does not cover (all at once, then one at a time, worst first), else
        add an unused one whose surplus does (best first, alone, then the best two and four); a change is kept only if
        the exact net improves. From the all-venue solve it finds the few pools a mid-size sale needs (seeds 4, 38 of
        family 4: 28-30 venues down to 12-15, the mixed-integer optimum), which the branch and bound's solves of large
        venue sets miss."""
        problem = self.problem
        costly = problem.fixed_cost_venues
        cur = start
        while self.polished < POLISH:
            margin = self.margins(cur)
            losing = self.losing(cur, margin)
            drops = [frozenset(losing)] if len(losing) > 1 else []
            drops += [frozenset((v,)) for v in losing[:POLISH_TRIES]]
            gaining = sorted((v for v in costly - enabled if margin[v] > 0.0), key=lambda v: (-margin[v], v))
            adds = [frozenset((v,)) for v in gaining[:POLISH_TRIES]]
            adds += [frozenset(gaining[:k]) for k in (2, 4) if len(gaining) >= k]  # a path's pools come in pairs
            trials = [enabled - d for d in drops] + [enabled | a for a in adds]
            for trial in trials:
                sol = self.try_solve(trial)
                if sol is not None and sol.net > cur.net:
                    enabled, cur = trial, sol
                    break
            else:
                break
        if cur.net > self.best.net:
            self.best = cur

    def guided(self, at: list[float]) -> None:
        """The relaxation's venue choice as a move of the local search: at the root's prices (after Newton, the
        perspective relaxation's), the venues with a fixed cost whose terms cover it are open. The best plan's venues
        plus the open ones it lacks, less each of its own the relaxation closes (one at a time, then all): a swap the
        search's single drops and adds miss (seed 39 of family 4: one WETH pool out, two pools through LINK in,
        8e-5 more net). A change is kept only if the exact net improves; then the local search goes on from it."""
        problem = self.problem
        costly = problem.fixed_cost_venues
        parts = venue_parts(at, self.parts.arcs, self.fixed)
        # open, or half open: a term within 1e-3 of its gas of paying it (seed 170 of family 4: the bridge of the
        # better plan sat at -$0.00 of $5.4, the relaxation using a part of it)
        term = {self.parts.venues[v]: parts[v] + HALF_OPEN * self.fixed.gas[v] for v in range(len(parts))}
        opened = frozenset(v for v in costly if term.get(v, -1.0) > 0.0)
        used = self.venues_of(self.best) & costly
        drops = sorted(used - opened, key=lambda v: (term.get(v, 0.0), v))
        if not opened - used:
            return
        base = problem.venues - costly | used | opened
        trials = [base - {d} for d in drops[:POLISH_TRIES]] + [base - frozenset(drops), base]
        start = self.best
        for trial in trials:
            sol = self.try_solve(trial)
            if sol is not None and sol.net > self.best.net:
                self.best = sol
        if self.best is not start:
            self.polish(self.best, self.venues_of(self.best) | (problem.venues - costly))

    def try_solve(self, enabled: frozenset[str]) -> Solution | None:
        """The local search's solve, within its own budget."""
        sol, self.polished = self._within(enabled, self.polished, POLISH)
        return sol

    def margins(self, sol: Solution) -> dict[str, float]:
        """Per venue with a fixed cost: its dual term at the plan's prices less that cost, its input capped at what a
        plan can hold there (uncapped, an idle deep pool between nodes priced at spot showed $5M of "surplus" and
        hid the one pool worth adding: seed 42 of family 4, $4.2)."""
        parts = venue_parts(self.problem.bound_parts(sol.prices, self.full).prices, self.parts.arcs, self.fixed)
        cost = self.problem.gas_float
        return {v: parts[self.index[v]] if v in self.index else -cost[v] for v in self.problem.fixed_cost_venues}

    def losing(self, sol: Solution, margin: dict[str, float]) -> list[str]:
        """The venues ``sol`` uses whose term does not cover their fixed cost, the worst first."""
        used = sorted(self.venues_of(sol) & self.problem.fixed_cost_venues, key=lambda v: (margin[v], v))
        return [v for v in used if margin[v] < 0.0]

    def venues_of(self, sol: Solution) -> frozenset[str]:
        return frozenset(leg.venue for leg in sol.draft.legs)

    def routed(self, off: frozenset[int]) -> bool:
        """Whether the arcs of the venues not switched ``off`` still join a source to a sink (over the whole graph:
        a structural fact, where a solve's refusal to carry the amount is a numerical judgement)."""
        adj: dict[int, list[int]] = {}
        for k, (t, h, _) in enumerate(self.parts.arcs):
            if self.fixed.venue[k] not in off:
                adj.setdefault(t, []).append(h)
        return bool(reach({s for s, _ in self.parts.sources}, adj) & self.parts.sinks)

    def worth(self, prices: list[float], on: frozenset[int], off: frozenset[int]) -> frozenset[int]:
        """The undecided venues whose terms at ``prices`` are positive: at a solve's prices, the venues its bound
        still counts (a node whose descended prices open none of them may yet be loose there)."""
        parts = venue_parts(prices, self.parts.arcs, replace(self.fixed, forced=on, banned=off))
        return frozenset(v for v in self.branchable - on - off if parts[v] + self.fixed.gas[v] > 0.0)

    def legs(self, sol: Solution) -> frozenset[int]:
        return frozenset(self.index[leg.venue] for leg in sol.draft.legs if leg.venue in self.index)
