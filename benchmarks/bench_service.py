"""``fillpath run`` under load: does it hold a 1 s reconcile interval on the lab's three locations (lab1, lab2,
labex) while serving 200 API requests a second, and what does the API's latency look like? Then: how fast does the
journal grow while the service idles?

Run: ``.venv/bin/python benchmarks/bench_service.py [--rate 200] [--seconds 20] [--idle-seconds 60]``. It starts a
lab of its own (a temporary data directory), funds the trader, starts ``fillpath run`` in a child process on a free
loopback port with ``reconcile_interval_s = 1``, and sends an open-loop load: one request every 1/rate s (never
waiting for answers, at most 64 in flight), cycling through the read endpoints the dashboard polls. Latency is
from the request's scheduled time to its answer (a late send counts against the service). The interval is held if
every location's passes during the load are at least 90% of load seconds / interval and the reconcile lag sampled
every 0.5 s stays under 2 intervals. Journal growth is measured over ``--idle-seconds`` of an idle service and
extrapolated to an hour (rows and bytes of the SQLite file and its WAL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import median, pct, table
from fillpath.config import lab_config_path
from fillpath.lab.manager import Lab

ENDPOINTS = ["/api/status", "/api/balances", "/api/venues", "/api/reconcile", "/api/events?last=20", "/api/inflight"]


def _config(data: Path) -> Path:
    text = lab_config_path(data).read_text()
    path = data / "service.toml"
    path.write_text(text + "\n[service]\nreconcile_interval_s = 1.0\nsnapshot_interval_s = 2.0\n")
    return path


async def _status(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with http.get(url + "/api/status") as r:
        return dict(await r.json())


async def _load(
    url: str, rate: float, seconds: float
) -> tuple[dict[str, list[float]], int, list[float], dict[str, int]]:
    latencies: dict[str, list[float]] = {e.split("?")[0]: [] for e in ENDPOINTS}
    errors = 0
    lags: list[float] = []
    sem = asyncio.Semaphore(64)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:
        before = {r["location"]: r["passes"] for r in (await _status(http, url))["reconciliation"]}

        async def one(path: str, due: float) -> None:
            nonlocal errors
            async with sem:
                try:
                    async with http.get(url + path) as r:
                        await r.read()
                        ok = r.status == 200
                except aiohttp.ClientError:
                    ok = False
            if ok:
                latencies[path.split("?")[0]].append(time.perf_counter() - due)
            else:
                errors += 1

        async def sample_lag() -> None:
            while True:
                await asyncio.sleep(0.5)
                st = await _status(http, url)
                lags.append(max(r["lag_s"] or 0.0 for r in st["reconciliation"]))

        sampler = asyncio.create_task(sample_lag())
        start = time.perf_counter()
        tasks, n = [], int(rate * seconds)
        for i in range(n):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(ENDPOINTS[i % len(ENDPOINTS)], due)))
        await asyncio.gather(*tasks)
        sampler.cancel()
        after = {r["location"]: r["passes"] for r in (await _status(http, url))["reconciliation"]}
    return latencies, errors, lags, {loc: after[loc] - before[loc] for loc in before}


def _db_size(data: Path) -> int:
    return sum(p.stat().st_size for p in data.glob("fillpath.db*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--idle-seconds", type=float, default=60.0)
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-service-"))
    lab = Lab(data)
    lab.up()
    proc = None
    try:
        lab.fund({"WETH@lab1": "100", "ETH@labex": "50"})
        env = {**os.environ, "FILLPATH_DATA_DIR": str(data)}
        cmd = [sys.executable, "-m", "fillpath", "--config", str(_config(data)), "run", "--port", "0"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        found = re.search(r"http://[0-9.:]+", proc.stdout.readline())
        assert found, "the service printed no URL"
        url = found.group(0)
        for _ in range(600):
            try:
                if json.loads(subprocess.check_output(["curl", "-s", url + "/api/status"]))["ready"]:
                    break
            except (subprocess.CalledProcessError, ValueError):
                pass
            time.sleep(0.1)
        time.sleep(2.0)  # a couple of passes before the load
        latencies, errors, lags, passes = asyncio.run(_load(url, args.rate, args.seconds))
        every = [lat for lats in latencies.values() for lat in lats]
        rows = [[path, len(lats), f"{median(lats) * 1e3:.2f}", f"{pct(lats, 99) * 1e3:.2f}"]
                for path, lats in latencies.items() if lats]  # fmt: skip
        rows.append(["all", len(every), f"{median(every) * 1e3:.2f}", f"{pct(every, 99) * 1e3:.2f}"])
        achieved = len(every) / args.seconds
        title = (f"API under load: {args.rate:.0f} req/s offered for {args.seconds:.0f} s ({achieved:.0f} answered/s, "
                 f"{errors} errors), loopback")  # fmt: skip
        print(table(title, ["endpoint", "requests", "p50 ms", "p99 ms"], rows))
        want = args.seconds / 1.0 * 0.9
        held = all(n >= want for n in passes.values()) and (max(lags) if lags else 0) < 2.0
        print(table("reconcile interval 1 s during the load", ["location", "passes", "needed (90%)"],
                    [[loc, n, f"{want:.0f}"] for loc, n in sorted(passes.items())]))  # fmt: skip
        print(
            f"reconcile lag sampled every 0.5 s: median {median(lags):.2f} s, max {max(lags):.2f} s -> "
            f"{'HELD' if held else 'NOT HELD'}\n"
        )
        status = json.loads(subprocess.check_output(["curl", "-s", url + "/api/status"]))
        seq0, size0, t0 = status["journal_last_seq"], _db_size(data), time.monotonic()
        time.sleep(args.idle_seconds)
        status = json.loads(subprocess.check_output(["curl", "-s", url + "/api/status"]))
        seq1, size1, t1 = status["journal_last_seq"], _db_size(data), time.monotonic()
        per_hour = 3600 / (t1 - t0)
        print(table(f"journal growth while idle (measured over {t1 - t0:.0f} s, extrapolated to one hour)",
                    ["what", "measured", "per hour"],
                    [["rows", seq1 - seq0, f"{(seq1 - seq0) * per_hour:.0f}"],
                     ["bytes (db + wal)", size1 - size0, f"{(size1 - size0) * per_hour:.0f}"]]))  # fmt: skip
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        lab.down()


if __name__ == "__main__":
    main()
