"""What a dialect's gaps cost: a market order from decision to FILLED in the journal, per dialect, on loopback.

Binance's FULL reply carries the order's state and fills: one request. OKX acknowledges only (``Gap.ACK_ONLY``):
the driver asks for the order, then its fills, so three requests (or the ``orders`` channel, not used here). Each
simulator runs as a child process (``fillpath sim serve --dialect ...``, secrets from the environment); the
connector's requests are counted per endpoint; the journal is in memory (no fsync).

Usage: python benchmarks/bench_dialects.py [--orders N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import pct, table
from fillpath.cex.client_ids import client_order_id
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.dialect import Endpoint
from fillpath.cex.factory import dialect_for
from fillpath.cex.order_driver import OrderDriver, ResolvePolicy
from fillpath.cex.ratelimit import LimitKind, RateLimitRule
from fillpath.lab.exchange import spawn_sim
from fillpath.lab.exchange.binance import sim_binance
from fillpath.lab.exchange.okx.client import sim_okx
from fillpath.model.commands import SubmitOrder
from fillpath.model.events import Event
from fillpath.model.orders import OrderState
from fillpath.model.sides import Side

KEY, SECRET, PASSPHRASE = "bench-key", "bench-secret", "bench-pass"
UNMETERED = (RateLimitRule(LimitKind.REQUEST_WEIGHT, 60.0, 10**9), RateLimitRule(LimitKind.ORDERS, 10.0, 10**9))
POLICY = ResolvePolicy(grace_s=1.0, first_delay_s=0.005, max_delay_s=0.05)


class Counted(CcxtConnector):
    calls: Counter[Endpoint]

    async def _call(self, endpoint: Endpoint, params: Any, *, depth: int = 100) -> Any:
        self.calls[endpoint] += 1
        return await super()._call(endpoint, params, depth=depth)


class _Journal:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def append(self, event: Event, *, recv_ns: int | None = None, venue_ts: int | None = None) -> int:
        self.events.append(event)
        return len(self.events)


async def run(dialect_name: str, url: str, n: int) -> list[str]:
    exchange = (
        sim_okx(url, KEY, SECRET, PASSPHRASE, enableRateLimit=False)
        if dialect_name == "okx"
        else sim_binance(url, KEY, SECRET, enableRateLimit=False)
    )
    dialect, _ = dialect_for(dialect_name)
    conn = Counted(exchange, location=dialect_name, dialect=dialect)
    conn.calls = Counter()
    try:
        await conn.load_markets()
        conn.limiter.set_rules(UNMETERED)  # the path's cost, not waits for the venue's windows
        drv = OrderDriver(conn, _Journal(), policy=POLICY)
        samples: list[float] = []
        for i in range(-20, n):  # 20 warm-up orders
            side = Side.BUY if i % 2 else Side.SELL
            cmd = SubmitOrder(dialect_name, client_order_id(f"bench-{time.time_ns()}-{i}"), "ETH/USDT", side,
                              Decimal("0.01"))  # fmt: skip
            if i == 0:
                conn.calls.clear()
            started = time.perf_counter()
            o = await drv.submit(cmd)
            if not o.state.terminal:
                o = await drv.settle(cmd.client_order_id)
            if i >= 0:
                samples.append(time.perf_counter() - started)
            assert o.state is OrderState.FILLED, o
        per_order = sum(conn.calls.values()) / n
        endpoints = ", ".join(f"{e.value} {c / n:g}" for e, c in sorted(conn.calls.items()))
        return [dialect_name, str(n), f"{per_order:g}", endpoints,
                f"{pct(samples, 50) * 1000:.2f}", f"{pct(samples, 99) * 1000:.2f}"]  # fmt: skip
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=300)
    n = parser.parse_args().orders
    os.environ.update(BENCH_SIM_SECRET=SECRET, BENCH_SIM_PASS=PASSPHRASE)  # secrets by name, never on the command line
    rows = []
    for name in ("binance", "okx"):
        argv = ["--dialect", name, "--walk-interval", "0", "--api-key", KEY, "--api-secret-env", "BENCH_SIM_SECRET",
                "--passphrase-env", "BENCH_SIM_PASS"]  # fmt: skip
        with spawn_sim(argv) as proc:
            rows.append(asyncio.run(run(name, proc.url, n)))
    title = "market order 0.01 ETH/USDT, decision to FILLED, sequential, loopback, simulator in a child process"
    print(table(title, ["dialect", "n", "requests / order", "by endpoint", "p50 ms", "p99 ms"], rows))


if __name__ == "__main__":
    main()
