"""Venue health: what the book costs the engine per call, how long the default policy keeps a venue flagged, and
what a router penalty does to a split and to routing time.

Run from the repository root: ``PYTHONPATH=src:. .venv/bin/python benchmarks/bench_health.py``. Every figure is
measured in the same run.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tests.router.networks import network, value_units
from tests.router.opt_venues import CPVenue
from tests.router.test_request import USDC_E, WETH_E, two_chains

from _table import median, pct, table
from fillpath.execution.health import SECOND, HealthBook, Observation, ObservationKind, VenueState
from fillpath.router import Market, RouteRequest, route

K = ObservationKind


def per_call_us(fn: object, calls: int, rounds: int = 7) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn(calls)  # type: ignore[operator]
        samples.append((time.perf_counter() - t) / calls * 1e6)
    return median(samples), pct(samples, 90)


def call_costs() -> str:
    rng = random.Random(1)
    kinds = [K.OK, K.OK, K.OK, K.REJECT, K.TIMEOUT]
    venues = [f"v{i}" for i in range(50)]

    def observe(n: int) -> None:
        book = HealthBook()
        for i in range(n):
            book.observe(venues[i % 50], Observation(rng.choice(kinds)), i * SECOND // 10)

    book = HealthBook()
    for i, v in enumerate(venues):
        book.observe(v, Observation(K.DRIFT if i % 3 == 0 else K.OK), 0)
    pairs = [(f"{v}:pool{j}", v) for v in venues for j in range(4)]

    def tick(n: int) -> None:
        for i in range(n):
            book.tick(i * SECOND)

    def limits(n: int) -> None:
        for i in range(n):
            book.route_limits(pairs, i * SECOND)

    rows = []
    for name, fn, calls in (
        ("observe (one venue)", observe, 20_000),
        ("tick (50 venues)", tick, 2_000),
        ("route_limits (200 venues)", limits, 500),
    ):
        med, p90 = per_call_us(fn, calls)
        rows.append((name, f"{med:.1f}", f"{p90:.1f}"))
    return table("cost per call (µs)", ("call", "median", "p90"), rows)


def flagged_for(hits: list[ObservationKind]) -> tuple[VenueState, float]:
    """Seconds a venue stays flagged after ``hits`` at t=0 and nothing after, ticked every second."""
    book = HealthBook()
    for kind in hits:
        book.observe("v", Observation(kind), 0)
    state = book.state("v")
    t = 0
    while book.state("v") is not VenueState.OK:
        t += SECOND
        book.tick(t)
    return state, t / SECOND


def timelines() -> str:
    rows = []
    for label, hits in (
        ("5 rejects", [K.REJECT] * 5),
        ("1 ack-then-deny", [K.ACK_THEN_DENY]),
        ("1 drift", [K.DRIFT]),
        ("3 ack-then-deny", [K.ACK_THEN_DENY] * 3),
        ("3 drifts", [K.DRIFT] * 3),
    ):
        state, seconds = flagged_for(hits)
        rows.append((label, state.value, f"{seconds:.0f} s"))
    return table("default policy: one incident, then silence", ("incident", "state", "flagged for"), rows)


def penalties() -> str:
    base = two_chains()
    venues = (
        CPVenue("eth:a", "eth", WETH_E, USDC_E, 1000 * 10**18, 3_000_000 * 10**6, 3000),
        CPVenue("eth:b", "eth", WETH_E, USDC_E, 500 * 10**18, 1_500_000 * 10**6, 3000),
    )
    market = Market(venues, base.decimals, base.prices, {}, base.gas_price_wei, base.native)
    rows = []
    for bps in (0, 10, 30, 60, 100, 200, 300):
        plans = {}
        for size in (6, 60):
            req = RouteRequest("WETH@eth", size * 10**18, "USDC@eth", gas=False, penalty_bps={"eth:a": bps})
            plan = route(market, req)
            plans[size] = sum(leg.amount_in for leg in plan.legs if leg.venue == "eth:a") / (size * 10**18)
        rows.append((bps, f"{plans[6]:.1%}", f"{plans[60]:.1%}"))
    return table(
        "share of a penalized pool (2/3 of the depth, same price)", ("penalty bps", "selling 6 WETH", "60 WETH"), rows
    )


def routing_time() -> str:
    rows = []
    for name, plain_ms, pen_ms in _routing_samples():
        rows.append((name, f"{median(plain_ms):.1f}", f"{median(pen_ms):.1f}"))
    return table("route() time (ms, median of 5 markets x 3)", ("market", "no penalty", "3 venues penalized"), rows)


def _routing_samples() -> list[tuple[str, list[float], list[float]]]:
    out = []
    for name, tokens, pools in (("6 tokens, 12 pools, 1 book", 6, 12), ("8 tokens, 24 pools, 2 books", 8, 24)):
        plain, pen = [], []
        for seed in range(5):
            market, assets = network(seed, tokens, pools, books=pools // 12)
            amount = value_units(market, assets[0], 1e5)
            penalty = {v.id: 30 for v in market.venues[:3]}
            for _ in range(3):
                for bucket, p in ((plain, {}), (pen, penalty)):
                    req = RouteRequest(str(assets[0]), amount, str(assets[1]), max_hops=3, penalty_bps=p)
                    t = time.perf_counter()
                    route(market, req)
                    bucket.append((time.perf_counter() - t) * 1000)
        out.append((name, plain, pen))
    return out


def main() -> None:
    for part in (call_costs, timelines, penalties, routing_time):
        print(part())


if __name__ == "__main__":
    main()
