"""One reconciliation pass over 10 venues × 200 assets: CPU time (target ≤ 1 s), on SQLite.

Run: ``.venv/bin/python benchmarks/bench_reconcile.py [--passes N]``. The store holds opening balances for every
asset; each pass sees the same reports except a few drifting assets, as a real pass would. The reference is
the same pass with nothing to record (every asset agrees), measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import median, pct, table
from fillpath.model.assets import AssetId
from fillpath.model.reports import BalanceReport
from fillpath.state.reconciler import Reconciler
from fillpath.state.store import Store

VENUES, ASSETS = 10, 200


class Source:
    def __init__(self, location: str, amounts: dict[AssetId, int | Decimal]) -> None:
        self.location = location
        self.amounts = amounts

    async def balances(self) -> list[BalanceReport]:
        return [BalanceReport(self.location, a, v) for a, v in self.amounts.items()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--passes", type=int, default=15)
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


if __name__ == "__main__":
    main()
