"""One reconciliation pass over 10 venues × 200 assets: CPU time (target ≤ 1 s), on SQLite; and one pass over an
exchange account on the simulator with its orders and trades.

Run: ``.venv/bin/python benchmarks/bench_reconcile.py [--passes N] [--no-sim]``. The store holds opening balances
for every asset; each pass sees the same reports except a few drifting assets, as a real pass would. The
reference is the same pass with nothing to record (every asset agrees), measured in the same run.

The exchange pass runs against the simulator in a child process (its own core), over loopback HTTP, with our
rate limiter unmetered (the simulator does not meter without its ``rate_limit`` profile). The account holds 40 of
our filled market orders, 10 of our resting limit orders and 5 resting orders we never placed. One pass reads the
balances, the open orders, the trades of the symbols our recent orders traded, and compares them with the
journal. Rows: nothing new to record; and 5 of our resting orders canceled at the venue behind our back, which
the pass resolves by client id through the order driver (journaling the cancels). Wall time is the pass as the
caller waits for it; CPU is this process only (the simulator's work is in the child).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import median, pct, table
from fillpath.app import exchange_checks
from fillpath.cex.binance.dialect import BinanceDialect
from fillpath.cex.client_ids import client_order_id
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.dialect import Endpoint
from fillpath.cex.order_driver import OrderDriver
from fillpath.cex.ratelimit import LimitKind, RateLimiter, RateLimitRule
from fillpath.lab.exchange import spawn_sim
from fillpath.lab.exchange.binance import sim_binance
from fillpath.model.assets import AssetId
from fillpath.model.commands import SubmitOrder
from fillpath.model.reports import BalanceReport
from fillpath.model.sides import Side
from fillpath.state.reconciler import Reconciler
from fillpath.state.store import Store

VENUES, ASSETS = 10, 200


class Source:
    def __init__(self, location: str, amounts: dict[AssetId, int | Decimal]) -> None:
        self.location = location
        self.amounts = amounts

    async def balances(self) -> list[BalanceReport]:
        return [BalanceReport(self.location, a, v) for a, v in self.amounts.items()]


KEY, SECRET = "bench-key", "bench-secret"
UNMETERED = (RateLimitRule(LimitKind.REQUEST_WEIGHT, 60.0, 10**9), RateLimitRule(LimitKind.ORDERS, 10.0, 10**9))


class Counted(CcxtConnector):
    """The connector, counting its requests to the venue and the request weight they spend."""

    requests = 0
    weight = 0

    async def _call(self, endpoint: Endpoint, params: Any, *, depth: int = 100) -> Any:
        self.requests += 1
        self.weight += self.dialect.cost(endpoint, depth=depth).weight
        return await super()._call(endpoint, params, depth=depth)


async def _timed(rec: Reconciler, conn: Counted) -> tuple[float, float, int, int, int]:
    requests, weight, wall, cpu = conn.requests, conn.weight, time.perf_counter(), time.process_time()
    (result,) = await rec.run_once()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, conn.requests - requests, conn.weight - weight, len(result.events)


async def exchange_pass(url: str, passes: int) -> list[tuple[object, ...]]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'x.db'}", sqlite_synchronous="NORMAL")
        conn = Counted(
            sim_binance(url, KEY, SECRET), location="labex", limiter=RateLimiter(UNMETERED), dialect=BinanceDialect()
        )
        await conn.load_markets()
        conn.limiter.set_rules(UNMETERED)  # the pass's own cost, not waits for the venue's weight window
        hot = OrderDriver(conn, store)

        def order(intent: str, side: Side, qty: str, price: str | None) -> SubmitOrder:
            limit = Decimal(price) if price else None
            return SubmitOrder("labex", client_order_id(intent), "ETH/USDT", side, Decimal(qty), limit, intent)

        for i in range(40):
            await hot.submit(order(f"m{i}", Side.BUY if i % 2 else Side.SELL, "0.1", None))
        for i in range(10):
            await hot.submit(order(f"r{i}", Side.BUY, "0.1", "1500"))
        for i in range(5):  # placed by someone else
            by_hand = {"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.1",
                       "price": "1400", "newClientOrderId": f"by-hand-{i}"}  # fmt: skip
            await conn.exchange.private_post_order(by_hand)
        rec = Reconciler(store, [conn], exchanges=exchange_checks([conn]))
        await rec.run_once()  # opening balances, the foreign orders recorded
        quiet, busy = [], []
        for p in range(passes):
            quiet.append(await _timed(rec, conn))
            for i in range(5):  # ours, ended at the venue behind our back
                cmd = order(f"gone{p}-{i}", Side.BUY, "0.1", "1500")
                await hot.submit(cmd)
                await conn.exchange.private_delete_order(
                    {"symbol": "ETHUSDT", "origClientOrderId": cmd.client_order_id}
                )
            busy.append(await _timed(rec, conn))
        trades = len(await conn.trades("ETH/USDT", None))
        await conn.close()
        store.close()
    rows = []
    for name, samples in ((f"nothing new ({trades} trades listed)", quiet), ("5 orders resolved by client id", busy)):
        walls, cpus = [s[0] for s in samples], [s[1] for s in samples]
        rows.append((name, len(samples), f"{median(walls) * 1000:.1f}", f"{pct(walls, 99) * 1000:.1f}",
                     f"{median(cpus) * 1000:.1f}", samples[-1][2], samples[-1][3], samples[-1][4]))  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--passes", type=int, default=15)
    ap.add_argument("--no-sim", action="store_true", help="skip the exchange pass on the simulator")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'r.db'}", sqlite_synchronous="NORMAL")
        sources = []
        for v in range(VENUES):
            loc = f"v{v}"
            cex = v % 2 == 1
            amounts: dict[AssetId, int | Decimal] = {
                AssetId(f"A{i}", loc): (Decimal(f"{1000 + i}.12345678") if cex else (10**21 + i)) for i in range(ASSETS)
            }
            sources.append(Source(loc, amounts))
        rec = Reconciler(store, sources)
        asyncio.run(rec.run_once())  # opening balances: 2,000 adjustments
        quiet, drifting = [], []
        for _ in range(args.passes):
            t = time.process_time()
            asyncio.run(rec.run_once())
            quiet.append(time.process_time() - t)
            for s in sources[:3]:  # three venues drift on one asset each: booked as adjustments
                a = next(iter(s.amounts))
                s.amounts[a] = s.amounts[a] + (1 if isinstance(s.amounts[a], int) else Decimal("0.00000001"))
            t = time.process_time()
            asyncio.run(rec.run_once())
            drifting.append(time.process_time() - t)
        store.close()
    rows = [
        ("pass, 3 small drifts booked", len(drifting), f"{median(drifting):.3f}", f"{pct(drifting, 99):.3f}",
         f"{median(drifting) / median(quiet):.2f}"),
        ("pass, nothing to record (reference)", len(quiet), f"{median(quiet):.3f}", f"{pct(quiet, 99):.3f}", "1.00"),
    ]  # fmt: skip
    print(table(f"reconciliation, {VENUES} venues × {ASSETS} assets (CPU seconds; target ≤ 1 s)",
                ["case", "n", "median", "p99", "ratio"], rows))  # fmt: skip
    if args.no_sim:
        return
    os.environ["FILLPATH_BENCH_SIM_SECRET"] = SECRET  # a secret never goes on the command line
    with spawn_sim(
        ["--api-key", KEY, "--api-secret-env", "FILLPATH_BENCH_SIM_SECRET", "--walk-interval", "0", "--seed", "1"]
    ) as sim:
        sim_rows = asyncio.run(exchange_pass(sim.url, args.passes))
    header = ["case", "n", "wall p50", "wall p99", "CPU p50", "requests", "weight", "events"]
    print(table("one exchange pass on the simulator: balances + 15 open orders + trades of 55 orders (ms)",
                header, sim_rows))  # fmt: skip
    print("weight: Binance's request weight per pass (6,000 a minute per IP on spot)")


if __name__ == "__main__":
    main()
