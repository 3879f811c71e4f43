"""Build + sign an EIP-1559 swap transaction (SwapRouter.exactInputSingle), coincurve vs the pure-Python backend.

Run: ``.venv/bin/python benchmarks/bench_sign.py [--n N]``. The reference is eth-keys' native (pure Python)
backend, measured in the same run; the target is p50 ≤ 0.5 ms on coincurve.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eth_account import Account

from _table import median, pct, table
from fillpath.chains import transactions as txs
from fillpath.chains.accounts import Signer, signing_backend
from fillpath.chains.fees import Fees

ROUTER, TOKEN_IN, TOKEN_OUT = "0x" + "e5" * 20, "0x" + "a1" * 20, "0x" + "b2" * 20


def once(signer: Signer, nonce: int) -> bytes:
    call = txs.v3_exact_input_single(ROUTER, TOKEN_IN, TOKEN_OUT, 500, 10**21, 2_900 * 10**9, signer.address, 2**31)
    fees = Fees(max_fee_per_gas=30 * 10**9, max_priority_fee_per_gas=10**8)
    return txs.sign(signer, 1, nonce, call, 180_000, fees).raw


def measure(n: int) -> list[float]:
    signer = Signer(Account.create())
    for i in range(50):
        once(signer, i)
    out = []
    for i in range(n):
        t = time.perf_counter()
        once(signer, i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--samples-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.samples_only:  # the reference run, in a subprocess with another signing backend
        print(json.dumps({"backend": signing_backend(), "ms": measure(args.n)}))
        return
    fast = measure(args.n)
    env = {**os.environ, "ECC_BACKEND_CLASS": "eth_keys.backends.native.NativeECCBackend"}
    ref = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--samples-only", "--n", str(max(200, args.n // 10))],
            capture_output=True, text=True, env=env, check=True,
        ).stdout
    )  # fmt: skip
    slow = ref["ms"]
    rows = [
        (
            signing_backend(),
            len(fast),
            f"{median(fast):.3f}",
            f"{pct(fast, 99):.3f}",
            f"{median(fast) / median(slow):.3f}",
        ),
        (f"{ref['backend']} (reference)", len(slow), f"{median(slow):.3f}", f"{pct(slow, 99):.3f}", "1.000"),
    ]
    title = "build + sign an EIP-1559 V3 swap (ms; ratio vs pure-Python signing in this run)"
    print(table(title, ["backend", "n", "p50", "p99", "ratio"], rows))


if __name__ == "__main__":
    main()
