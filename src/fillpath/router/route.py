"""``route(market, request) -> Plan``: the router's one entry point. Pure and deterministic.

Pipeline: resolve the request into source/sink nodes → build the asset@location graph of every direction within
``max_hops`` (a transfer is no hop) → one :class:`Problem` over all of it → continuous optimum (water-filling for
parallel venues, Newton on the dual for networks) → exact integer plan → venue choice under fixed costs (gas,
fixed fees: drop/re-add, grown from the best single path) → the best exact net wins → the certificate (an upper
bound from the solve's prices). Candidate paths are still enumerated, for the best single path and the stats.
The only clock read is ``solve_ms`` (stats), which is outside the deterministic fields.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from fractions import Fraction

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router.branch import settle
from fillpath.router.build import Stats, build, min_out
from fillpath.router.costs import Costs
from fillpath.router.graph import CandidatePath, Edge, Graph, search_paths
from fillpath.router.market import Market
from fillpath.router.optimize import Problem, Solution
from fillpath.router.plan import Plan
from fillpath.router.request import Endpoints, RouteRequest, resolve
from fillpath.router.select import choose

SINGLE_PATH_CANDIDATES = 16
CERTIFIED = 1e-6
"""A solve over the candidates whose continuous output is within this of the certificate over the whole graph is
kept; otherwise the whole graph is solved."""


def route(market: Market, request: RouteRequest, *, timer: Callable[[], float] = time.perf_counter) -> Plan:
    """The best plan found: convex split over all candidate paths with gas-aware venue choice, compared
    with the best single paths (exact). The same input always gives the same plan, to the wei. ``timer``: the
    clock ``stats.solve_ms`` is read from (a simulation passes its virtual one, so its journal is reproducible)."""
    started = timer()
    ends = resolve(market, request)
    costs = Costs.of(market, ends, request)
    graph, full, mixed = _shape(market, ends, request)
    ends = _canonical(ends, graph.canon)
    level = request.latency_cost_bps_per_hour <= 0
    search = search_paths(graph, ends.sources, ends.sinks, request.max_hops, request.amount, level=level)
    paths = search.paths
    if not paths:
        raise InvalidInput(
            "buy",
            f"no route from {request.sell} to {request.buy} within {request.max_hops} hops",
            "raise max_hops",
        )
    # First over the candidates' directions (fast: spot-rate pruning keeps few), then the certificate over every
    # direction of the hop-limited graph at that solve's prices. If it proves the solve within CERTIFIED of the
    # best the whole graph allows, done; else (a mixed graph whose optimum the pruning cut) solve the whole graph.
    # A graph with transfers (a mixed graph: the issue-15 shape, where pruning by one path's rates cut what the
    # optimum uses) goes straight to the whole graph.
    best, problem = _plan(full if mixed else _union(paths), paths, ends, request, costs)
    bound = problem.upper_bound(problem.full_prices or best.prices, full)
    priced = [(problem, problem.full_prices or best.prices), (problem, best.prices)]
    if len(problem.edges) < len(full) and problem.full_continuous < bound * (1.0 - CERTIFIED):
        again, whole = _plan(full, paths, ends, request, costs)
        bound = min(bound, whole.upper_bound(whole.full_prices or again.prices))
        priced = [(whole, whole.full_prices or again.prices), (whole, again.prices)]
        if again.net >= best.net:
            best = again
        else:
            priced.append((problem, best.prices))
    best, bound = _fixed_costs(best, bound, priced, full)
    lowered = search.hops if search.hops < request.max_hops and paths else None
    return _finish(best, ends.sell_label, ends.buy_label, request, len(paths), timer() - started, lowered, bound)


def _shape(market: Market, ends: Endpoints, request: RouteRequest) -> tuple[Graph, list[Edge], bool]:
    """(graph within the hop budget, its every direction, whether it is mixed: has a transfer), from the market's
    memo: the same for every amount sold on this snapshot with this request's shape."""
    sources = frozenset(s for s, _ in ends.sources)
    penalty = tuple(sorted(request.penalty_bps.items()))
    key = ("graph", sources, ends.sinks, request.max_hops, request.exclude, penalty)

    def make() -> tuple[Graph, list[Edge], bool]:
        within = (sources, request.max_hops)
        graph = Graph.build(market.venues, request.exclude, ends.sinks, request.penalty_bps, within)
        full = [e for es in graph.out_edges.values() for e in es]
        return graph, full, any(e.hops == 0 for e in full)

    graph, full, mixed = market.memo.get(key, make)
    return graph, list(full), mixed


def _canonical(ends: Endpoints, canon: Mapping[AssetId, AssetId]) -> Endpoints:
    """``ends`` holding the graph's own asset objects (equal ones: lookups by identity, see ``Graph.canon``)."""
    sources = tuple((canon.get(s, s), cap) for s, cap in ends.sources)
    return replace(ends, sources=sources, sinks=frozenset(canon.get(t, t) for t in ends.sinks))


def _fixed_costs(
    best: Solution, bound: int, priced: list[tuple[Problem, tuple[float, ...]]], full: list[Edge]
) -> tuple[Solution, int]:
    """Fixed fees and gas, the mixed-integer part: the branch and bound of :mod:`.branch` over the venues with a
    fixed cost, from the prices of every venue set solved so far. Its plans compete with ``best``. Without gas its
    bound is on ``expected_out`` (fixed fees are inside it); with gas it is on the output net of gas, and the plan's
    own gas is added back, so that ``gap`` reads how much net output any plan could add, relative to this one's
    (the gross bound is no bound on that: a plan with less gas may net more)."""
    problem, prices = priced[0]
    gassy = any(p.gassy for p, _ in priced)
    if not gassy and not any(getattr(e.venue, "fee_fixed", 0) for e in full):
        return best, bound
    settled = settle(problem, best, full, problem.solved_prices(prices, best.prices))
    best = settled.best
    if gassy:
        return best, settled.bound + (math.ceil(best.cost) if best.cost > 0 else 0)
    return best, min(bound, settled.bound)


def _plan(
    edges: list[Edge], paths: list[CandidatePath], ends: Endpoints, request: RouteRequest, costs: Costs
) -> tuple[Solution, Problem]:
    """The best exact plan over ``edges``: the convex split with the venue choice, or the best single path."""
    problem = Problem(edges, ends.sources, ends.sinks, request.amount, costs, request.slippage_bps, request.penalty_bps)
    if any(g > 0.0 for g in problem.gas_float.values()):
        # fixed costs: the best single path seeds the venue choice (one path, fewest venues), so it comes first
        best = _best_single(problem, paths)
        seed = frozenset(leg.venue for leg in best.draft.legs) if best is not None else frozenset()
        try:
            split = choose(problem, seed)
        except InvalidInput:
            if best is None:
                raise
        else:
            if best is None or split.net >= best.net:
                best = split
        assert best is not None
        return best, problem
    # no fixed cost: the venue choice is the all-venue solve, and only a single path that could beat it is quoted
    try:
        split = choose(problem)
    except InvalidInput:
        alone = _best_single(problem, paths)
        if alone is None:
            raise
        return alone, problem
    alone = _best_single(problem, paths, beat=split.net)
    return (alone if alone is not None and alone.net > split.net else split), problem


def _union(paths: list[CandidatePath]) -> list[Edge]:
    seen: dict[int, Edge] = {}  # edges are the graph's own objects: identity is cheaper than AssetId hashing
    for p in paths:
        for e in p.edges:
            seen.setdefault(id(e), e)
    return list(seen.values())


def _best_single(problem: Problem, paths: list[CandidatePath], beat: Fraction | None = None) -> Solution | None:
    """The exact plan of the best single path by exact net (a mixed-integer corner the split can miss when
    gas is high: one path, fewest venues). Only the most promising few by float estimate are quoted, and with
    ``beat`` (the net of a plan already found) only those whose estimate could reach it: a path's float estimate is
    its exact net's upper bound up to float rounding (the exact quotes floor; docking each leg's penalty bps in turn
    docks less than their sum), so a path more than a millionth below ``beat`` cannot win (exact quotes, with a book's
    ``Fraction`` arithmetic, were a sixth of a mixed route)."""
    caps = dict(problem.sources)

    def estimate(p: CandidatePath) -> float:
        x = float(problem.amount)
        for e in p.edges:
            x = e.curve.out(x)
        return x - sum(problem.gas_only[e.venue.id] for e in p.edges)

    def exact_net(p: CandidatePath) -> Fraction:
        x = problem.amount
        for e in p.edges:
            x = e.venue.quote(e.asset_in, x) if x > 0 else 0
        docked = Fraction(sum(problem.penalty_bps.get(e.venue.id, 0) for e in p.edges), 10_000)  # as penalty_of
        return x * (1 - docked) - sum((problem.gas[e.venue.id] for e in p.edges), Fraction(0))

    usable = [p for p in paths if caps[p.source] >= problem.amount]
    least = -math.inf if beat is None else float(beat) * (1.0 - 1e-6) - 2.0
    if beat is not None:
        # a concave path gives at most its spot rate times the amount: most paths fail that before any estimate
        usable = [p for p in usable if float(problem.amount) * p.spot * (1.0 + 1e-6) >= least]
    if not usable:
        return None
    # ranked by the float estimate over every candidate (not first cut by spot rate: on a small sale with gas, the
    # best path's spot rate was below 64 others' that crossed a thin pool; explore seed 5 of family 4 paid $8 more)
    ranked = sorted(((estimate(p), k) for k, p in enumerate(usable)), key=lambda t: -t[0])[:SINGLE_PATH_CANDIDATES]
    if beat is not None:
        ranked = [(v, k) for v, k in ranked if v >= least]
        if not ranked:
            return None
    best_path = max((usable[k] for _, k in ranked), key=exact_net)
    on = {id(e) for e in best_path.edges}
    weights = [1 if id(e) in on else 0 for e in problem.edges]
    try:
        draft = build(problem.edges, weights, {best_path.source: problem.amount}, problem.sinks, problem.slippage_bps)
    except InvalidInput:
        return None
    return problem.solution(draft, tuple(problem.spot_prices), float(draft.expected_out))


def _finish(
    sol: Solution,
    sell: str,
    buy: str,
    request: RouteRequest,
    considered: int,
    elapsed_s: float,
    hops: int | None = None,
    bound: int | None = None,
) -> Plan:
    draft = sol.draft
    total_min = min_out(draft.expected_out, request.slippage_bps)
    if total_min <= 0 or any(leg.min_out <= 0 for leg in draft.legs):
        raise InvalidInput("amount", "too small to route: a leg's min_out would be 0", "sell more")
    gas_cost = math.ceil(sol.cost) if sol.cost > 0 else 0
    solve_ms = round(elapsed_s * 1000.0, 3)
    return Plan(
        sell=sell,
        buy=buy,
        amount_in=draft.amount_in,
        expected_out=draft.expected_out,
        min_out=total_min,
        gas_cost_out=gas_cost,
        net_out=draft.expected_out - gas_cost,
        legs=draft.legs,
        paths=draft.paths,
        stats=Stats(considered, solve_ms, draft.unsold, hops),
        upper_bound=bound,
    )
