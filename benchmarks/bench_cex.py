"""Order submit overhead of the connector on loopback, excluding the simulator's own time; and the cost of
ccxt's default rate limiter against ours.

The simulator runs as a child process (its own core). Rows:

- ``raw aiohttp POST``: a minimal signed POST /api/v3/order — loopback plus the venue's own time (baseline);
- ``connector.submit (loopback)``: the full path through ccxt to the simulator;
- ``ccxt only (no I/O)``: ccxt's raw ``private_post_order`` with its HTTP ``fetch`` answered from memory —
  request building, HMAC signing, JSON handling, error checks;
- ``ours only (no ccxt, no I/O)``: ``connector.submit`` on a stand-in exchange that answers at once —
  validation, limiter, dialect parameters, report and fill parsing: our overhead;
- ``driver.submit (ours, no I/O)``: the above plus the state machine and journal calls (in-memory journal);
- ``driver.submit + SQLite Store``: the same with the real journal (a market order is two durable commits:
  the submission, then the ack with its fills), for scale — the hot path pays this, not the venue.

Then the limiters: ccxt's built-in throttle (``enableRateLimit``: binance's ``rateLimit`` of 50 ms, a token
bucket) against ours (the venue's windows, free until the window fills), per call with no I/O.

Usage: python benchmarks/bench_cex.py [--orders N]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import hashlib
import hmac
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp

from _table import pct, table
from fillpath.cex.binance.dialect import BinanceDialect
from fillpath.cex.client_ids import client_order_id
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.order_driver import OrderDriver
from fillpath.cex.ratelimit import Cost, LimitKind, Priority, RateLimiter, RateLimitRule
from fillpath.lab.exchange import spawn_sim
from fillpath.lab.exchange.binance import sim_binance
from fillpath.model.commands import SubmitOrder
from fillpath.model.events import Event
from fillpath.model.sides import Side
from fillpath.state.store import Store

KEY, SECRET = "bench-key", "bench-secret"
UNMETERED = (RateLimitRule(LimitKind.REQUEST_WEIGHT, 60.0, 10**9), RateLimitRule(LimitKind.ORDERS, 10.0, 10**9))


async def timed(n: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    for i in range(min(50, n)):
        await call(-1 - i)  # warm up
    out = []
    for i in range(n):
        started = time.perf_counter()
        await call(i)
        out.append(time.perf_counter() - started)
    return out


async def paired(
    n: int, a: Callable[[int], Awaitable[object]], b: Callable[[int], Awaitable[object]]
) -> tuple[list[float], list[float]]:
    """``a`` and ``b`` interleaved, so both see the same machine; the i-th samples form a pair."""
    for i in range(min(50, n)):
        await a(-1 - i)
        await b(-1 - i)
    out_a, out_b = [], []
    for i in range(n):
        t = time.perf_counter()
        await a(i)
        t2 = time.perf_counter()
        await b(i)
        out_b.append(time.perf_counter() - t2)
        out_a.append(t2 - t)
    return out_a, out_b


def row(name: str, samples: list[float]) -> list[str]:
    return [name, str(len(samples)), f"{pct(samples, 50) * 1000:.3f}", f"{pct(samples, 99) * 1000:.3f}"]


def cmd(i: int, side: Side | None = None) -> SubmitOrder:
    s = side or (Side.BUY if i % 2 == 0 else Side.SELL)
    return SubmitOrder("binance", client_order_id(f"bench-{time.time_ns()}-{i}"), "ETH/USDT", s, Decimal("0.01"))


class _Instant:
    """A stand-in exchange: the raw endpoints answer from memory (the replies the simulator gave)."""

    def __init__(self, markets: dict[str, Any], order_reply: dict[str, Any]) -> None:
        self.enableRateLimit = False
        self.enableLastResponseHeaders = True
        self.apiKey = ""
        self.markets = markets
        self.reply = order_reply

    async def load_markets(self) -> dict[str, Any]:
        return self.markets

    async def public_get_exchangeinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {}

    async def private_post_order(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self.reply, "clientOrderId": params["newClientOrderId"]}

    async def close(self) -> None:
        return None


class _ListJournal:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def append(self, event: Event, *, recv_ns: int | None = None, venue_ts: int | None = None) -> int:
        self.events.append(event)
        return len(self.events)


async def bench(url: str, n: int) -> tuple[str, str]:
    rows: list[list[str]] = []
    exchange = sim_binance(url, KEY, SECRET)
    conn = CcxtConnector(exchange, location="binance", dialect=BinanceDialect())
    try:
        await conn.load_markets()
        conn.limiter.set_rules(UNMETERED)  # 100 orders / 10 s would queue the run: latency rows measure the path
        markets = copy.deepcopy(exchange.markets)

        async with aiohttp.ClientSession() as http:

            async def raw(i: int) -> None:
                query = urlencode(
                    {"symbol": "ETHUSDT", "side": "BUY" if i % 2 == 0 else "SELL", "type": "MARKET",
                     "quantity": "0.01", "newOrderRespType": "FULL", "timestamp": int(time.time() * 1000)}
                )  # fmt: skip
                signature = hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
                headers = {"X-MBX-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded"}
                async with http.post(
                    f"{url}/api/v3/order", data=f"{query}&signature={signature}", headers=headers
                ) as r:
                    if r.status != 200:
                        raise RuntimeError(await r.text())
                    await r.read()

            base, full = await paired(n, raw, lambda i: conn.submit(cmd(i)))
        rows.append(row("raw aiohttp POST (venue + loopback)", base))
        rows.append(row("connector.submit (loopback, total)", full))
        diff = [f - b for f, b in zip(full, base, strict=True)]
        rows.append(row("  total − raw, per interleaved pair", diff))

        reply_text = exchange.last_http_response
        order_reply = exchange.parse_json(reply_text)

        async def canned_fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
            return exchange.parse_json(reply_text)

        exchange.fetch = canned_fetch
        params = {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01",
                  "newOrderRespType": "FULL"}  # fmt: skip
        rows.append(row("ccxt only (no I/O)", await timed(n, lambda i: exchange.private_post_order(dict(params)))))

        instant = CcxtConnector(_Instant(markets, order_reply), location="binance", dialect=BinanceDialect())
        await instant.load_markets()
        instant.limiter.set_rules(UNMETERED)
        ours = await timed(n, lambda i: instant.submit(cmd(i)))
        rows.append(row("ours only (no ccxt, no I/O)", ours))
        drv = OrderDriver(instant, _ListJournal())
        rows.append(row("driver.submit (ours, no I/O)", await timed(n, lambda i: drv.submit(cmd(i)))))
        with tempfile.TemporaryDirectory() as tmp:
            for sync in ("FULL", "NORMAL"):
                with Store.open(f"sqlite:///{tmp}/{sync}.db", sqlite_synchronous=sync) as store:  # type: ignore[arg-type]
                    stored = OrderDriver(instant, store)
                    samples = await timed(min(n, 300), lambda i, d=stored: d.submit(cmd(i)))
                    rows.append(row(f"driver.submit + SQLite Store ({sync}), journaled", samples))
    finally:
        await conn.close()

    # --- limiters -------------------------------------------------------------------------------------
    lim_rows: list[list[str]] = []
    calls = 40
    cost = Cost(1, 1, Priority.EXECUTION)
    for name, enable in (
        ("ccxt built-in throttle (enableRateLimit)", True),
        ("ours (RateLimiter, venue windows)", False),
    ):
        ex = sim_binance(url, KEY, SECRET, enableRateLimit=enable)
        ex.fetch = canned_fetch
        limiter = RateLimiter(CcxtConnector(ex, location="binance", dialect=BinanceDialect()).dialect.rules)
        ex.enableRateLimit = enable  # the connector switches ccxt's off; put it back for the first row

        async def one(i: int, ex: Any = ex, limiter: RateLimiter = limiter, enable: bool = enable) -> None:
            if not enable:
                await limiter.acquire(cost)
            await ex.private_post_order(dict(params))

        await one(-1)  # warm up
        started = time.perf_counter()
        samples = [0.0] * calls
        for i in range(calls):
            t = time.perf_counter()
            await one(i)
            samples[i] = time.perf_counter() - t
        elapsed = time.perf_counter() - started
        lim_rows.append([name, str(calls), f"{elapsed * 1000:.1f}", f"{pct(samples, 50) * 1000:.3f}",
                         f"{pct(samples, 99) * 1000:.3f}"])  # fmt: skip
        await ex.close()
    lim = RateLimiter(CcxtConnector(_Instant({}, {}), location="binance", dialect=BinanceDialect()).dialect.rules)
    t = time.perf_counter()
    for _ in range(5000):
        await lim.acquire(Cost(1, 0, Priority.MARKET_DATA))
    per = (time.perf_counter() - t) / 5000
    lim_rows.append(["ours: acquire alone (capacity free)", "5000", f"{per * 5000 * 1000:.1f}", f"{per * 1e3:.4f}", ""])

    t1 = table(
        f"order submit, ETH/USDT market 0.01, sim {url} (child process), sequential",
        ["path", "n", "p50 ms", "p99 ms"],
        rows,
    )
    t2 = table(
        f"rate limiting: {calls} sequential order requests, no I/O (ccxt's fetch answered from memory)",
        ["limiter", "calls", "total ms", "p50 ms", "p99 ms"],
        lim_rows,
    )
    return t1, t2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    os.environ["FILLPATH_BENCH_SIM_SECRET"] = SECRET  # a secret never goes on the command line
    with spawn_sim(
        ["--api-key", KEY, "--api-secret-env", "FILLPATH_BENCH_SIM_SECRET", "--walk-interval", "0", "--seed", "1"]
    ) as sim:
        t1, t2 = asyncio.run(bench(sim.url, args.orders))
    print(t1)
    print(t2)
    print("targets for our overhead: p50 ≤ 0.5 ms, p99 ≤ 2 ms")


if __name__ == "__main__":
    main()
