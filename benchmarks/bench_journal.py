"""Journal throughput and intent-commit latency on SQLite and PostgreSQL.

Each row is a fresh store: single appends (one transaction each), batched appends (``append_many``, one
transaction per batch), and the latency of durably recording one ``IntentCreated`` — what the hot path pays
before a command may leave the process (target: <= 1 ms on SQLite).

    python benchmarks/bench_journal.py [--n 2000] [--batch 100] [--pg postgresql://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout, not an installed copy

from fillpath.model.assets import AssetId
from fillpath.model.events import BalanceAdjusted, Event, IntentCreated, OrderSubmitted
from fillpath.model.sides import Side
from fillpath.state.store import Store

USDT = AssetId("USDT", "binance")


def _event(i: int) -> Event:
    if i % 2:
        return BalanceAdjusted("binance", USDT, Decimal("1.25"), "fill")
    price = Decimal("2000.1")
    return OrderSubmitted("binance", f"c{i}", "ETH/USDT", Side.BUY, Decimal("0.5"), price, intent_id=f"i{i}")


def _intent(i: int) -> IntentCreated:
    weth = AssetId("WETH", "lab1")
    return IntentCreated("lab1", f"intent-{i}", "swap", ref=f"0x{i:x}", asset_in=weth, amount_in=10**18 + i)


def _rate(n: int, run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return n / (time.perf_counter() - start)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def _sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="fp-bench-") as tmp:
        yield f"sqlite:///{tmp}/journal.db"


@contextmanager
def _pg_url(base: str) -> Iterator[str | None]:
    import psycopg

    schema = f"fp_bench_{os.getpid()}"
    conninfo = base.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL skipped: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        yield None
        return
    try:
        yield f"{base}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def measure(url: str, n: int, batch: int, **open_args: str) -> tuple[float, float, float, float, float]:
    with Store.open(url, **open_args) as store:  # type: ignore[arg-type]
        single = _rate(n, lambda: [store.append(_event(i)) for i in range(n)] and None)
        chunks = [[_event(i) for i in range(k, k + batch)] for k in range(0, n * 5, batch)]
        batched = _rate(n * 5, lambda: [store.append_many(c) for c in chunks] and None)
        latencies = []
        for i in range(n):
            event = _intent(i)
            t0 = time.perf_counter_ns()
            store.append(event)
            latencies.append((time.perf_counter_ns() - t0) / 1e6)
        assert store.verify() == []
    return single, batched, statistics.median(latencies), _percentile(latencies, 0.99), max(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="single appends and intent commits per row")
    parser.add_argument("--batch", type=int, default=100, help="events per append_many")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    rows: list[tuple[str, tuple[float, float, float, float, float]]] = []
    for sync in ("FULL", "NORMAL"):
        with _sqlite_url() as url:
            figures = measure(url, args.n, args.batch, sqlite_synchronous=sync)
            rows.append((f"SQLite WAL, synchronous={sync}", figures))
    with _pg_url(args.pg) as url:
        if url is not None:
            rows.append(("PostgreSQL 127.0.0.1 (fsync as configured)", measure(url, args.n, args.batch)))

    batch_col = f"batch{args.batch}/s"
    head = f"{'backend':<44} {'single/s':>10} {batch_col:>11} {'intent p50':>11} {'p99':>8} {'max':>8}"
    print(f"journal: n={args.n} single appends, {5 * args.n} events in batches, {args.n} intent commits")
    print(head)
    print("-" * len(head))
    for name, (single, batched, p50, p99, worst) in rows:
        print(f"{name:<44} {single:>10.0f} {batched:>11.0f} {p50:>9.3f}ms {p99:>6.3f}ms {worst:>6.2f}ms")


if __name__ == "__main__":
    main()
