"""How long ``lab up`` takes: first deployment, reload from the cached state, and an idempotent ``up``.

Run: ``.venv/bin/python benchmarks/bench_lab.py [--reloads N]``. The reference is the first deployment,
measured in the same run with an empty cache.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import median, pct, table
from fillpath.chains.lab.manager import Lab


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reloads", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lab = Lab(root / "data", cache_dir=root / "cache")
        t = time.perf_counter()
        lab.up()
        cold = time.perf_counter() - t
        lab.down()
        reload_s, idem_s = [], []
        for _ in range(args.reloads):
            t = time.perf_counter()
            lab.up()
            reload_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            lab.up()
            idem_s.append(time.perf_counter() - t)
            lab.down()
    rows = [
        ("first up (deploy + seed, both chains)", 1, f"{cold:.3f}", f"{cold:.3f}", "1.00"),
        ("up after down (reload cached state)", len(reload_s), f"{median(reload_s):.3f}", f"{pct(reload_s, 99):.3f}",
         f"{median(reload_s) / cold:.3f}"),
        ("up while running (idempotent)", len(idem_s), f"{median(idem_s):.3f}", f"{pct(idem_s, 99):.3f}",
         f"{median(idem_s) / cold:.3f}"),
    ]  # fmt: skip
    print(
        table("lab up (seconds; ratio vs first deployment in this run)", ["case", "n", "median", "p99", "ratio"], rows)
    )


if __name__ == "__main__":
    main()
