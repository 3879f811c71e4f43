"""Several writers on one PostgreSQL journal (issue 24): intent commits per second and journal appends per second
for 1, 2 and 4 processes, each committing what the hot path commits for one executor transaction — a nonce, an
intent and a broadcast record, in one transaction.

Two cases: every writer trades its own account (no contention but the journal's head lock), and all writers
trade **one** account (their nonces collide: the journal refuses a taken nonce and the writer takes the next, as
the engine does). The reference is one writer, measured in the same run.

    PYTHONPATH=.:src python benchmarks/bench_writers.py [--seconds 5] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg

from _table import median, table
from fillpath.model.errors import Conflict
from fillpath.model.events import IntentCreated, NonceAllocated, TxBroadcast
from fillpath.state.store import Store, make_engine


def _writer(url: str, account: str, tag: str, seconds: float, go: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    store = Store(make_engine(url))
    while time.time() < go:
        time.sleep(0.0005)
    commits = conflicts = events = 0
    latencies: list[float] = []
    end = go + seconds
    nonce = 0
    while time.time() < end:
        nonce = max(nonce, store.next_nonce("lab1", account) or 0)
        batch = [NonceAllocated("lab1", account, nonce),
                 IntentCreated("lab1", f"{tag}-{commits}", "evm.executor", ref=f"{account}:{nonce}:0x{tag}{commits}"),
                 TxBroadcast("lab1", f"0x{tag}{commits}", account, nonce, f"{tag}-{commits}")]  # fmt: skip
        t = time.perf_counter()
        try:
            store.append_many(batch)
        except Conflict:
            conflicts += 1
            nonce += 1
            continue
        latencies.append(time.perf_counter() - t)
        commits += 1
        events += len(batch)
        nonce += 1
    store.close()
    out.put(json.dumps({"commits": commits, "events": events, "conflicts": conflicts,
                        "p50_ms": median(latencies) * 1000 if latencies else 0.0}))  # fmt: skip


def run(url: str, writers: int, shared: bool, seconds: float) -> dict[str, float]:
    Store.open(url).close()  # migrate once
    out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    go = time.time() + 1.5
    procs = [mp.Process(target=_writer, args=(url, "0xshared" if shared else f"0xacct{n}", f"w{n}", seconds, go, out))
             for n in range(writers)]  # fmt: skip
    for p in procs:
        p.start()
    rows = [json.loads(out.get(timeout=seconds + 60)) for _ in procs]
    for p in procs:
        p.join()
    commits = sum(r["commits"] for r in rows)
    return {"commits_s": commits / seconds, "events_s": sum(r["events"] for r in rows) / seconds,
            "conflicts": sum(r["conflicts"] for r in rows), "p50_ms": median([r["p50_ms"] for r in rows])}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    base = args.pg
    try:
        conninfo = base.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        print(f"skipped: no PostgreSQL at {base}: {exc}")
        return 0
    rows = []
    reference = None
    for shared in (False, True):
        for writers in (1, 2, 4):
            schema = f"bench_writers_{secrets.token_hex(4)}"
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            url = f"{base}?options={quote(f'-csearch_path={schema}')}"
            try:
                r = run(url, writers, shared, args.seconds)
            finally:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            if reference is None:
                reference = r["commits_s"]
            rows.append(["one account" if shared else "own accounts", writers, f"{r['commits_s']:.0f}",
                         f"{r['events_s']:.0f}", f"{r['p50_ms']:.2f}", int(r["conflicts"]),
                         f"{r['commits_s'] / reference:.2f}"])  # fmt: skip
    print(table(f"Writers on one PostgreSQL journal, {args.seconds:g} s each (intent commit = nonce + intent + "
                "broadcast record)", ["accounts", "writers", "intents/s", "appends/s", "commit p50 ms",
                                      "nonce conflicts", "× 1 writer"], rows))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
