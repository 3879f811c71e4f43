"""Orders per second the exchange simulator sustains from a local client, with latency median and p99.

Runs the simulator as a child process (``fillpath sim serve``) so client and server do not share a core's
event loop, then places alternating market buys/sells of 0.01 ETH/USDT:

- ``ccxt``: ccxt's real ``binance`` class (what fillpath uses), sequential and with N in flight;
- ``raw``: a minimal signed aiohttp client, to show the venue's own cost without ccxt's.

Usage: python benchmarks/bench_sim.py [--orders N]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import aiohttp

from fillpath.lab.exchange import spawn_sim
from fillpath.lab.exchange.binance import sim_binance

KEY, SECRET = "bench-key", "bench-secret"


async def _run(n: int, concurrency: int, place: Callable[[int], Awaitable[None]]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            started = time.perf_counter()
            await place(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


def _row(name: str, concurrency: int, elapsed: float, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    rate = len(latencies) / elapsed
    median_ms = statistics.median(ordered) * 1000
    cells = (f"{name:<5}", f"{concurrency:>8}", f"{len(latencies):>6}", f"{rate:>10.0f}")
    return "| " + " | ".join((*cells, f"{median_ms:>10.2f}", f"{p99 * 1000:>8.2f}")) + " |"


async def bench(url: str, n: int) -> list[str]:
    rows = []
    exchange = sim_binance(url, KEY, SECRET, enableRateLimit=False)
    try:
        await exchange.load_markets()

        async def via_ccxt(i: int) -> None:
            await exchange.create_order("ETH/USDT", "market", "buy" if i % 2 == 0 else "sell", 0.01)

        for concurrency in (1, 8):
            await _run(20, concurrency, via_ccxt)  # warm up
            elapsed, latencies = await _run(n, concurrency, via_ccxt)
            rows.append(_row("ccxt", concurrency, elapsed, latencies))
    finally:
        await exchange.close()

    async with aiohttp.ClientSession() as http:

        async def raw(i: int) -> None:
            query = urlencode(
                {
                    "symbol": "ETHUSDT",
                    "side": "BUY" if i % 2 == 0 else "SELL",
                    "type": "MARKET",
                    "quantity": "0.01",
                    "newOrderRespType": "ACK",
                    "timestamp": int(time.time() * 1000),
                }
            )
            signature = hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
            body = f"{query}&signature={signature}"
            headers = {"X-MBX-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded"}
            async with http.post(f"{url}/api/v3/order", data=body, headers=headers) as resp:
                if resp.status != 200:
                    raise RuntimeError(await resp.text())
                await resp.read()

        for concurrency in (1, 8):
            await _run(20, concurrency, raw)
            elapsed, latencies = await _run(n, concurrency, raw)
            rows.append(_row("raw", concurrency, elapsed, latencies))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    os.environ["FILLPATH_BENCH_SIM_SECRET"] = SECRET  # a secret never goes on the command line
    with spawn_sim(
        ["--api-key", KEY, "--api-secret-env", "FILLPATH_BENCH_SIM_SECRET", "--walk-interval", "0.5", "--seed", "1"]
    ) as sim:
        rows = asyncio.run(bench(sim.url, args.orders))
    print(f"simulator {sim.url}, {args.orders} market orders per row, ETH/USDT 0.01, loopback")
    heads = (
        f"{'client':<5}",
        f"{'inflight':>8}",
        f"{'orders':>6}",
        f"{'orders/s':>10}",
        f"{'median ms':>10}",
    )
    print("| " + " | ".join((*heads, f"{'p99 ms':>8}")) + " |")
    print(f"|{'-' * 7}|{'-' * 10}|{'-' * 8}|{'-' * 12}|{'-' * 12}|{'-' * 10}|")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
