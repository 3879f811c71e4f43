"""How long ``lab up`` takes: first deployment, reload from the cached state, and an idempotent ``up``; and what
the lab trader costs: making its keystore (first ``up`` only), unlocking it, and ``lab fund``.

Run: ``.venv/bin/python benchmarks/bench_lab.py [--reloads N]``. The reference is the first deployment,
measured in the same run with an empty cache.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import median, pct, table
from fillpath.lab.chains import trader
from fillpath.lab.manager import Lab
from fillpath.model.assets import AssetId

FUND_A = {"WETH@lab1": "1500", "USDC@lab1": "2000000", "ETH@lab1": "50", "WETH@lab2": "300", "USDC@lab2": "400000",
          "ETH@lab2": "20", "ETH@labex": "500", "USDT@labex": "1000000"}  # fmt: skip
FUND_B = {k: str(Decimal(v) / 2) for k, v in FUND_A.items()}  # alternating: every fund moves all eight balances


def _targets(raw: dict[str, str]) -> dict[AssetId, Decimal]:
    return {AssetId.parse(k): Decimal(v) for k, v in raw.items()}


def _timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


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
        lab.up()
        rounds = iter([FUND_A, FUND_B] * args.reloads)
        fund_s = _timed(lambda: lab.fund(_targets(next(rounds))), args.reloads)
        again = _targets(FUND_A if args.reloads % 2 else FUND_B)  # what the last round set
        fund_same_s = _timed(lambda: lab.fund(again), args.reloads)
        unlock_s = _timed(lab.trader_signer, args.reloads)
        lab.down()
        dirs = iter(range(args.reloads))
        create_s = _timed(lambda: trader.ensure_trader(root / f"t{next(dirs)}"), args.reloads)
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
    trader_rows = [
        (name, len(s), f"{median(s):.3f}", f"{pct(s, 99):.3f}")
        for name, s in (
            ("make the trader's keystore (first up only)", create_s),
            ("unlock it (trading_signers on the lab)", unlock_s),
            ("lab fund: 8 balances on lab1, lab2, labex", fund_s),
            ("lab fund: the same targets again (no-op)", fund_same_s),
        )
    ]
    print(table("the lab trader (seconds)", ["case", "n", "median", "p99"], trader_rows))


if __name__ == "__main__":
    main()
