"""Router benchmarks: quality against a convex reference, speed, and the gas heuristic vs brute force.

Run from the repository root: ``PYTHONPATH=src:. python benchmarks/bench_router.py [--quick]``. The
reference needs cvxpy (``benchmarks/requirements.txt``); without it the reference columns are skipped.
Venues are the test venues of ``tests/router/opt_venues.py`` (exact V2-like pools, order books,
transfers). Every figure is measured in the same run; nothing is copied from elsewhere.
"""

from __future__ import annotations

import argparse
import importlib
import math
import random
import statistics
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from tests.router.exact import brute_force, parallel_optimum, small_problem
from tests.router.grid import grid_route
from tests.router.mixed import FAMILIES, mixed_case
from tests.router.networks import network, value_units
from tests.router.opt_venues import BookVenue, CPVenue

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router import Market, RouteRequest, route
from fillpath.router.certificate import upper_bound
from fillpath.router.graph import Graph, candidate_paths
from fillpath.router.request import resolve
from fillpath.router.select import choose

try:
    from benchmarks.reference import reference
    from benchmarks.reference_gas import sandwich
    from benchmarks.reference_mixed import mixed_reference

    HAVE_CVXPY = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_CVXPY = False

A = AssetId("WETH", "x")
B = AssetId("USDC", "x")


def pct(xs: Sequence[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000.0)
    return out


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        print("| " + " | ".join(f"{c:.7f}" if isinstance(c, float) and c < 10 else str(c) for c in r) + " |")


def one_pair(n: int, seed: int, books: int = 0, gwei: int = 0) -> Market:
    """``n`` venues on WETH/USDC; with ``gwei`` the pools cost 120,000 gas each (books none), paid in ETH."""
    rng = random.Random(seed)
    venues: list[CPVenue | BookVenue] = []
    gas = 120_000 if gwei else 0
    for i in range(n - books):
        r0 = rng.randint(10**20, 10**22)
        r1 = r0 * rng.randint(2900, 3100) // 10**12
        venues.append(CPVenue(f"p{i}", "x", A, B, r0, r1, rng.choice([500, 3000]), gas=gas))
    for i in range(books):
        rate = Fraction(rng.randint(2950, 3000), 10**12)
        bids = tuple((rate * (1000 - k) / 1000, rng.randint(10**18, 10**20)) for k in range(10))
        venues.append(BookVenue(f"b{i}", "x", A, B, bids, ((1 / rate, 10**9),), 1000))
    eth = AssetId("ETH", "x")
    return Market(
        tuple(venues),
        {A: 18, B: 6, eth: 18},
        {A: Fraction(3000), B: Fraction(1), eth: Fraction(3000)},
        {},
        {"x": gwei * 10**9},
        {"x": eth},
    )


def quality_one_pair(seeds: int) -> None:
    rows = []
    for n in (2, 10, 100):
        ours, grid = [], []
        for seed in range(seeds):
            market = one_pair(n, seed)
            pools = [v for v in market.venues if isinstance(v, CPVenue)]
            for amount in (10**18, 10**20, 10**22):
                opt = parallel_optimum(pools, amount)
                plan = route(market, RouteRequest(str(A), amount, str(B), gas=False))
                ours.append(float(Decimal(plan.expected_out) / opt))
                grid.append(float(Decimal(grid_route(market, A, B, amount, 1)) / opt))
        rows.append((n, len(ours), statistics.median(ours), min(ours), statistics.median(grid), min(grid)))
    table(
        "Quality, one pair over parallel V2 pools (vs 60-digit continuous optimum)",
        ["venues", "cases", "ours median", "ours worst", "5% grid median", "5% grid worst"],
        rows,
    )


def admitted_arcs(market: Market, request: RouteRequest) -> set[tuple[str, AssetId, AssetId]]:
    """The venue directions on some simple path of at most ``max_hops`` hops, enumerated *without* the
    router's spot-rate pruning (margin 1: nothing is cut), so a reference over them also checks the pruning."""
    ends = resolve(market, request)
    graph = Graph.build(market.venues, request.exclude, ends.sinks, request.penalty_bps)
    paths = candidate_paths(graph, ends.sources, ends.sinks, request.max_hops, request.amount, margin=1.0)
    return {e.key for p in paths for e in p.edges}


def quality_network(seeds: int) -> None:
    if not HAVE_CVXPY:
        print("\n(cvxpy not installed: network quality table skipped; see benchmarks/requirements.txt)")
        return
    rows = []
    for tokens, pools, books, transfers, hops in ((5, 12, 2, 1, 4), (10, 40, 3, 2, 4), (20, 80, 4, 3, 4)):
        for value in (1e2, 1e4, 1e5, 1e6, 3e6):
            ours, grid, cand, coarse_free, same, whole, short = [], [], [], [], [], [], []
            for seed in range(seeds):
                market, assets = network(seed, tokens, pools, books=books, transfers=transfers)
                sell, buy = assets[0], assets[1]
                amount = value_units(market, sell, value)
                req = RouteRequest(str(sell), amount, str(buy), max_hops=hops, gas=False)
                plan = route(market, req)
                ref, _ = reference(market, sell, buy, amount)
                ref_same, _ = reference(market, sell, buy, amount, arcs=admitted_arcs(market, req))
                deep = route(market, RouteRequest(str(sell), amount, str(buy), max_hops=6, gas=False))
                ours.append(plan.expected_out / ref)
                same.append(plan.expected_out / ref_same)
                # a plan pays whole base units: no integer plan beats floor(optimum) (177 of a 177.9 optimum)
                whole.append(plan.expected_out / max(1, math.floor(ref_same)))
                unit = float(market.prices[buy]) / 10 ** market.decimals[buy]  # numeraire per buy base unit
                short.append(max(0.0, ref_same - plan.expected_out) * unit)
                if plan.expected_out >= 10**6:
                    coarse_free.append(plan.expected_out / ref)
                cand.append(deep.expected_out / ref)
                grid.append(grid_route(market, sell, buy, amount, hops) / ref)
            rows.append(
                (
                    f"{tokens} tok / {pools + books + 2 * transfers} venues",
                    f"{value:.0e}",
                    statistics.median(ours),
                    min(ours),
                    min(same),
                    min(whole),
                    f"{max(short):.3f}",
                    min(coarse_free) if coarse_free else "n/a",
                    min(cand),
                    statistics.median(grid),
                    min(grid),
                )
            )
    table(
        f"Quality, random networks (pools + books + transfers), gas off, {seeds} seeds per row "
        "(trade value vs ~1e6 typical pool depth); ratio of exact integer plan output (max_hops 4 unless "
        "noted) to the cvxpy optimum over the whole network (no hop limit), and over the same graph the router "
        "solves (the venue directions on simple paths of <= max_hops hops, unpruned)",
        [
            "network",
            "trade",
            "ours/opt median",
            "ours/opt worst",
            "ours/opt worst, same arcs",
            "ours/floor(opt) worst, same arcs",
            "largest shortfall vs same-arcs opt (numeraire)",
            "worst, output >= 1e6 base units",
            "ours/opt worst, max_hops 6",
            "5% grid/opt median",
            "5% grid/opt worst",
        ],
        rows,
    )


def quality_mixed(
    per_family: int,
    milp: bool = False,
    families: list[int] | None = None,
    milp_detail: bool = False,
    first: int = 0,
) -> None:
    """Issue 15's graphs: tests/router/mixed.py families, ratio to the cvxpy optimum over the same venue directions
    (the hop-limited graph the router solves over), the certificate's gap, and whether the bound ever falls below
    the reference (it must not). With ``milp``, the families with fixed costs are also compared with the
    mixed-integer reference (:mod:`benchmarks.reference_gas`), which counts gas and fixed fees: the plan's net
    against its lower end (an achievable net: a flow executed with the venues' exact quotes) and its upper end (a
    bound on every flow's net), the sandwich's width, and the certificate's net bound against the lower end (a bound
    below an achievable value is a bug). Markets whose plan nets less than 0.9999 of the lower end are listed, with
    the venues where the two flows differ; ``milp_detail`` lists every market."""
    if not HAVE_CVXPY:
        print("\n(cvxpy not installed: mixed quality table skipped)")
        return
    rows = []
    milp_rows = []
    short: list[str] = []
    for family in FAMILIES if families is None else [FAMILIES[k - 1] for k in families]:
        ratios, gaps, under, failed, ms, ref_ms = [], [], 0, 0, [], []
        inaccurate = dual = 0  # reference failures by reason
        to_lower: list[float] = []
        to_upper: list[float] = []
        widths: list[float] = []
        milp_s: list[float] = []
        below_lower = 0
        milp_failed: dict[str, int] = {}
        fixed = family.gas or family.transfers != "free"
        for seed in range(first, first + per_family):
            case = mixed_case(seed, family)
            req = RouteRequest(str(case.sell), case.amount, str(case.buy), max_hops=4, gas=family.gas)
            t = time.perf_counter()
            try:
                plan = route(case.market, req)
            except InvalidInput:
                failed += 1  # counted, never hidden
                continue
            ms.append((time.perf_counter() - t) * 1000.0)
            ends = resolve(case.market, req)
            graph = Graph.build(case.market.venues, frozenset(), ends.sinks, None, ([s for s, _ in ends.sources], 4))
            arcs = [(e.asset_in, e.asset_out, e.curve) for es in graph.out_edges.values() for e in es]
            ref, secs, prices, status = mixed_reference(case.market, arcs, case.sell, case.buy, case.amount)
            ref_ms.append(secs * 1000.0)
            gaps.append(float(plan.gap or 0))
            assert plan.upper_bound is not None
            if milp and fixed:
                ends_ = sandwich(case.market, req)
                milp_s.append(ends_.seconds)
                net_bound = plan.upper_bound - plan.gas_cost_out
                line = (
                    f"family {FAMILIES.index(family) + 1} seed {seed} ${case.value:,.0f}: net {plan.net_out} "
                    f"lower {ends_.lower:.0f} upper {ends_.upper:.1f} plan/lower {plan.net_out / ends_.lower:.9f} "
                    f"plan/upper {plan.net_out / ends_.upper:.9f} width {ends_.width:.1e} "
                    f"gap {float(plan.gap or 0):.1e} "
                    f"net bound/lower - 1 {net_bound / ends_.lower - 1:.1e} rounds {ends_.rounds}+{ends_.polish} "
                    f"{ends_.seconds:.1f}s {ends_.status}"
                )
                if ends_.status != "optimal" or not ends_.lower > 0:
                    reason = ends_.status if ends_.status != "optimal" else "lower end <= 0"
                    milp_failed[reason] = milp_failed.get(reason, 0) + 1
                else:
                    to_lower.append(plan.net_out / ends_.lower)
                    to_upper.append(plan.net_out / ends_.upper)
                    widths.append(ends_.width)
                    # an integer the venues deliver: a certificate below it is wrong (no tolerance)
                    below_lower += net_bound < ends_.lower
                    if to_lower[-1] < 0.9999 or net_bound < ends_.lower:
                        ours = {leg.venue for leg in plan.legs}
                        line += (
                            f"\n    only the reference uses {sorted(ends_.used - ours)}; "
                            f"only the plan uses {sorted(ours - ends_.used)}"
                        )
                        short.append(line)
                        line = ""
                if milp_detail and line:
                    print(line, flush=True)
            if status != "optimal":
                inaccurate += 1  # Clarabel stopped short of its tolerances ("optimal_inaccurate"): no reference
                continue
            if not _reference_holds(ref, prices, arcs, case):
                dual += 1  # Clarabel's value exceeds the dual at its own prices: its answer is not an optimum
                continue
            ratios.append(plan.expected_out / ref)
            if family.transfers == "free" and not family.gas:
                # beyond the reference's own accuracy (its dual check). With fixed fees or gas the reference is the
                # convex relaxation without them (above every integer plan), and the certificate counts them, so
                # there a bound below the reference is expected; the MILP columns are what measure those plans.
                under += plan.upper_bound < ref * (1 - 1e-6)
        rows.append(
            (
                family.name,
                per_family,
                failed,
                f"{inaccurate} + {dual}",
                min(ratios) if ratios else "n/a",
                statistics.median(ratios) if ratios else "n/a",
                f"{max(gaps):.1e}",
                f"{statistics.median(gaps):.1e}",
                under if not fixed else "n/a",
                f"{statistics.median(ms):.1f}",
                f"{pct(ms, 0.99):.1f}",
                f"{statistics.median(ref_ms):.1f}",
            )
        )
        if milp and fixed:
            milp_rows.append(
                (
                    family.name,
                    per_family - failed,
                    ", ".join(f"{n} {r}" for r, n in sorted(milp_failed.items())) or "0",
                    f"{min(to_lower):.9f}" if to_lower else "n/a",
                    f"{statistics.median(to_lower):.9f}" if to_lower else "n/a",
                    sum(r < 0.9999 for r in to_lower),
                    f"{min(to_upper):.9f}" if to_upper else "n/a",
                    f"{statistics.median(to_upper):.9f}" if to_upper else "n/a",
                    f"{statistics.median(widths):.1e}" if widths else "n/a",
                    f"{max(widths):.1e}" if widths else "n/a",
                    below_lower,
                    f"{statistics.median(milp_s):.1f}" if milp_s else "n/a",
                    f"{max(milp_s):.1f}" if milp_s else "n/a",
                )
            )
    table(
        f"Quality on mixed markets (tests/router/mixed.py, {per_family} per family, $1k-$20M, max_hops 4): "
        "exact plan / cvxpy optimum over the same venue directions; gap = 1 - plan / certificate; "
        "bound < reference = cases where the certificate fell below the reference by more than 1e-6, the accuracy "
        "of the reference itself (must be 0); "
        "reference failed = Clarabel stopped short of its tolerances (status optimal_inaccurate) + its value above "
        "the dual at its own prices (weak duality: not an optimum); both left out of the ratios. With fixed fees "
        "(bridges, withdrawals) or gas the cvxpy reference is the convex relaxation without them, so its ratio "
        "understates the plan and bound < reference does not apply (n/a): the mixed-integer table (--milp) measures "
        "those families.",
        [
            "family",
            "cases",
            "route failed",
            "reference failed (inaccurate + dual check)",
            "min ratio",
            "median ratio",
            "max gap",
            "median gap",
            "bound < reference",
            "route median ms",
            "route p99 ms",
            "cvxpy median ms",
        ],
        rows,
    )
    if milp_rows:
        table(
            "Families with fixed costs against the mixed-integer reference (benchmarks/reference_gas.py: HiGHS, a "
            "binary per fixed-cost venue, tangent cutting planes): plan = the plan's net output (gas and fixed fees "
            "off); lower = the reference's flow executed with the venues' exact quotes, net (an achievable value); "
            "upper = its bound on every flow's net; width = (upper - lower) / upper; net bound < lower = the "
            "certificate's net bound below an achievable value (a bug: must be 0); MILP s = CPU seconds a market",
            [
                "family",
                "cases",
                "MILP failed (by reason)",
                "min plan/lower",
                "median plan/lower",
                "plan/lower < 0.9999",
                "min plan/upper",
                "median plan/upper",
                "median width",
                "max width",
                "net bound < lower",
                "MILP median s",
                "MILP max s",
            ],
            milp_rows,
        )
    if short:
        print(
            "\nMarkets whose plan nets less than 0.9999 of the reference's lower end (or whose net bound is below it):"
        )
        for line in short:
            print(line)


def _reference_holds(ref: float, prices: dict[AssetId, float], arcs: list[Any], case: Any) -> bool:
    """Clarabel's value is at most the dual at its own prices (within 1e-6): otherwise it is not an optimum."""
    if not math.isfinite(ref):
        return False
    nodes = sorted({a for t, h, _ in arcs for a in (t, h)} | {case.sell, case.buy}, key=str)
    idx = {a: i for i, a in enumerate(nodes)}
    bound = upper_bound(
        [prices.get(a, 0.0) for a in nodes],
        [(idx[t], idx[h], c) for t, h, c in arcs],
        [(idx[case.sell], float(case.amount))],
        float(case.amount),
        frozenset({idx[case.buy]}),
    )
    return ref <= bound * (1 + 1e-6)


def speed(repeat: int, big: bool) -> None:
    rows = []
    sizes = (10, 100, 1000, 10000) if big else (10, 100, 1000)
    for n in sizes:
        market = one_pair(n, 7, books=n // 10)
        req = RouteRequest(str(A), 10**21, str(B))
        route(market, req)
        ts = timed(lambda m=market, r=req: route(m, r), repeat if n < 10000 else max(5, repeat // 4))
        ref_ms = _ref_ms(market, A, B, 10**21, 3)
        rows.append(_speed_row(f"one pair, {n} venues (warm: the snapshot routed again)", ts, ref_ms))
        if n >= 1000:  # the same venues paying gas: the venue choice re-solves (cvxpy's figure is its gas-off solve)
            gas_market = one_pair(n, 7, books=n // 10, gwei=20)
            route(gas_market, req)
            ts = timed(lambda m=gas_market, r=req: route(m, r), repeat if n < 10000 else max(5, repeat // 4))
            gas_row = _speed_row(f"one pair, {n} venues, gas on (pools 120k gas at 20 gwei)", ts, ref_ms)
            rows.append((*gas_row[:4], "n/a: cvxpy solves gas off"))
    for family, seed in ((FAMILIES[0], 3), (FAMILIES[1], 3)):
        rows.extend(_mixed_speed_rows(family, seed, repeat))
    market, assets = network(3, 50, 300, books=5, transfers=5)
    amount = value_units(market, assets[0], 1e6)
    req = RouteRequest(str(assets[0]), amount, str(assets[1]), max_hops=3)
    net_ref = _ref_ms(market, *assets[:2], amount, 3)
    cold = []
    for _ in range(repeat):
        fresh = network(3, 50, 300, books=5, transfers=5)[0]  # a new snapshot (untimed): nothing carried over
        t = time.perf_counter()
        route(fresh, req)
        cold.append((time.perf_counter() - t) * 1000.0)
    rows.append(_speed_row("50 tokens, 300 pools (+10 books/transfers), max_hops 3, cold", cold, net_ref))
    route(market, req)
    ts = timed(lambda: route(market, req), repeat)
    rows.append(_speed_row("50 tokens, 300 pools (+10 books/transfers), max_hops 3, warm (routed again)", ts, net_ref))
    table(
        f"Speed: full route() incl. gas choice and exact plan ({repeat} runs; "
        "cvxpy = build + Clarabel solve, median of 3)",
        ["case", "median ms", "p99 ms", "cvxpy ms", "speed-up vs cvxpy"],
        rows,
    )


WARM_SCALES = (0.5, 0.8, 1.0, 1.25, 2.0)
"""The warm rows route these multiples of the case's amount in turn on one snapshot (nothing is memoized per amount:
the market's memo holds the graph, which every amount shares)."""


def _mixed_speed_rows(family: Any, seed: int, repeat: int) -> list[tuple[object, ...]]:
    """Cold: every route on a snapshot of its own (the market rebuilt, untimed: nothing carried over, not even a V3
    pool's float curves). Warm: one snapshot, the amounts of ``WARM_SCALES`` in turn, after one route has filled the
    market's memo. The reference is timed on the same amounts, median of 3 each (cvxpy is given the graph's arcs: its
    time is its own model build and solve, like the router's warm one)."""
    case = mixed_case(seed, family)
    name = f"mixed: {family.name}, {len(case.market.venues)} venues, max_hops 4"
    amounts = [max(1, int(case.amount * k)) for k in WARM_SCALES]

    def request(amount: int) -> RouteRequest:
        return RouteRequest(str(case.sell), amount, str(case.buy), max_hops=4, gas=False)

    cold: list[float] = []
    cold_cpu: list[float] = []
    for _ in range(repeat):
        fresh = mixed_case(seed, family).market
        t, c = time.perf_counter(), time.process_time()
        route(fresh, request(case.amount))
        cold.append((time.perf_counter() - t) * 1000.0)
        cold_cpu.append((time.process_time() - c) * 1000.0)
    route(case.market, request(case.amount))
    warm: list[float] = []
    warm_cpu: list[float] = []
    for k in range(max(repeat, len(amounts))):
        req = request(amounts[k % len(amounts)])
        t, c = time.perf_counter(), time.process_time()
        route(case.market, req)
        warm.append((time.perf_counter() - t) * 1000.0)
        warm_cpu.append((time.process_time() - c) * 1000.0)
    ref_one = ref_all = None
    if HAVE_CVXPY:
        ends = resolve(case.market, request(case.amount))
        graph = Graph.build(case.market.venues, frozenset(), ends.sinks, None, ([s for s, _ in ends.sources], 4))
        arcs = [(e.asset_in, e.asset_out, e.curve) for es in graph.out_edges.values() for e in es]

        def ref(amount: int) -> float:
            return statistics.median(
                mixed_reference(case.market, arcs, case.sell, case.buy, amount)[1] for _ in range(3)
            )

        ref_one = ref(case.amount) * 1000.0
        ref_all = statistics.median(ref(a) for a in amounts) * 1000.0
    cpu = f"CPU median {statistics.median(cold_cpu):.2f} ms"
    wcpu = f"CPU median {statistics.median(warm_cpu):.2f} ms"
    return [
        _speed_row(f"{name}, cold (a new snapshot each route; {cpu})", cold, ref_one),
        _speed_row(f"{name}, warm (one snapshot, amounts x0.5-2; {wcpu})", warm, ref_all),
    ]


def _ref_ms(market: Market, sell: AssetId, buy: AssetId, amount: int, repeat: int) -> float | None:
    if not HAVE_CVXPY:
        return None
    return statistics.median(reference(market, sell, buy, amount)[1] * 1000.0 for _ in range(repeat))


def _speed_row(name: str, ts: list[float], ref: float | None) -> tuple[object, ...]:
    med = statistics.median(ts)
    return (
        name,
        f"{med:.2f}",
        f"{pct(ts, 0.99):.2f}",
        "n/a" if ref is None else f"{ref:.1f}",
        "n/a" if ref is None else f"{ref / med:.1f}x",
    )


def gas_choice(cases: int) -> None:
    rows = []
    for gas in (50_000, 300_000, 2_000_000):
        equal = total = 0
        worst_route = worst_choose = 0.0
        for seed in range(cases):
            rng = random.Random(seed)
            market, req, problem = small_problem(
                seed, rng.randint(2, 5), rng.randint(0, 1), gas, rng.choice([1e3, 1e4, 1e5])
            )
            if len(problem.venues) > 6:
                continue
            best = brute_force(problem)
            plan = route(market, req)
            alone = choose(problem)  # drop/re-add from all venues, no single-path seed
            alone_net = alone.draft.expected_out - int(-(-alone.cost // 1))
            total += 1
            equal += plan.net_out >= best
            scale = max(abs(best), 1)
            worst_route = max(worst_route, (best - plan.net_out) / scale)
            worst_choose = max(worst_choose, (best - alone_net) / scale)
        rows.append((gas, total, f"{100 * equal / total:.0f}%", f"{worst_route:.2e}", f"{worst_choose:.2e}"))
    table(
        "Gas venue choice vs brute force over all venue subsets (small random cases, net of gas)",
        [
            "gas/venue",
            "cases",
            "route() >= brute force",
            "route() worst shortfall",
            "drop/re-add alone worst shortfall",
        ],
        rows,
    )


def level_with_gas(cases: int) -> None:
    """The water-level bound is exact for the continuous split; with fixed gas the venue choice may drop venues and
    lower the level, so a venue cut by the bound could have been worth re-adding. Measured: the same route with the
    bound off (the search's ``level`` flag) on one pair of 8-120 gas-paying pools."""
    route_module = importlib.import_module("fillpath.router.route")
    search = route_module.search_paths

    def unleveled(*args: Any, **kwargs: Any) -> Any:
        return search(*args, **{**kwargs, "level": False})  # route() passes level=...: override it

    same = better = worse = 0
    cut: list[int] = []
    worst = 0.0
    for seed in range(cases):
        rng = random.Random(seed)
        market = one_pair(rng.randint(8, 120), seed, gwei=rng.choice([1, 10, 50, 200]))
        req = RouteRequest(str(A), 10 ** rng.randint(17, 23), str(B))
        on = route(market, req)
        route_module.search_paths = unleveled
        try:
            off = route(market, req)
        finally:
            route_module.search_paths = search
        same += on.net_out == off.net_out
        better += on.net_out > off.net_out
        worse += on.net_out < off.net_out
        worst = max(worst, (off.net_out - on.net_out) / max(1, off.net_out))
        cut.append(off.stats.paths_considered - on.stats.paths_considered)
    table(
        "Water-level bound with gas on (one pair, 8-120 pools paying 120k gas at 1-200 gwei, 1e-1 to 1e5 WETH): "
        "route() with the bound vs without",
        ["cases", "same net", "better", "worse", "worst shortfall", "cases with candidates cut", "most cut"],
        [(cases, same, better, worse, f"{worst:.2e}", sum(c > 0 for c in cut), max(cut))],
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer seeds and no 10,000-venue case")
    ap.add_argument("--only", choices=["quality", "mixed", "speed", "gas"], help="run one table group")
    ap.add_argument("--mixed", type=int, default=75, help="mixed markets per family (4 families)")
    ap.add_argument("--milp", action="store_true", help="mixed: also the mixed-integer reference (gas, fixed fees)")
    ap.add_argument("--families", help="mixed: only these families, e.g. 3,4")
    ap.add_argument("--milp-detail", action="store_true", help="mixed --milp: one line per market")
    ap.add_argument("--first", type=int, default=0, help="mixed: the first seed (out-of-sample runs: 75)")
    args = ap.parse_args()
    seeds = 3 if args.quick else 8
    print(f"cvxpy reference: {'available' if HAVE_CVXPY else 'NOT available (reference columns skipped)'}")
    if args.only in (None, "quality"):
        quality_one_pair(seeds)
        quality_network(seeds)
    if args.only in (None, "mixed"):
        families = [int(k) for k in args.families.split(",")] if args.families else None
        quality_mixed(10 if args.quick else args.mixed, args.milp, families, args.milp_detail, args.first)
    if args.only in (None, "speed"):
        speed(10 if args.quick else 30, not args.quick)
    if args.only in (None, "gas"):
        gas_choice(30 if args.quick else 100)
        level_with_gas(100 if args.quick else 300)


if __name__ == "__main__":
    main()
