"""What a fork fixture costs: anvil forking a running lab chain at a pinned block, funding the trader on it by
storage writes, dumping its state, and a new fork with that dump loaded (the fast path for pinned fixtures);
and a whole ``lab up`` in fork mode (exchange simulators and the aggregator included).

Run: ``.venv/bin/python benchmarks/bench_fork.py [--n N]``. The upstream is a lab started in a temporary data
directory for the run (reloaded from the lab's dump cache when it is warm).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import median, pct, table
from fillpath.lab.chains import fork, process, rpc, slots
from fillpath.lab.manager import FORK_STATE_FORMAT, Lab, load_fork_state

HOLDER = "0x000000000000000000000000000000000000bEEF"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=9)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {}

    def timed(name: str, t0: float) -> None:
        samples.setdefault(name, []).append(time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as tmp:
        upstream_lab = Lab(Path(tmp) / "upstream")
        try:
            node = next(n for n in upstream_lab.up() if n.location == "lab1")
            assert node.rpc_url
            assert node.deployment
            url, dep = node.rpc_url, node.deployment
            block = int(rpc.call(url, "eth_blockNumber"), 16)
            up = fork.probe_upstream(url, block, 10)
            dump_path = Path(tmp) / "fork.json"
            for i in range(args.n):
                t0 = time.perf_counter()
                ref, fork_url = fork.start(up, Path(tmp) / f"fork-{i}.log", timeout_s=30, balance_eth=1000)
                timed("anvil fork ready (pinned block)", t0)
                try:
                    t0 = time.perf_counter()
                    for symbol, amount in (("USDC", 10**12), ("WETH", 10**21), ("DAI", 10**24)):
                        slots.set_token_balance(fork_url, dep.address(symbol), HOLDER, amount)
                    timed("fund 3 tokens by storage writes (probe + write + read back)", t0)
                    t0 = time.perf_counter()
                    dump = str(rpc.call(fork_url, "anvil_dumpState", timeout=60))
                    timed("anvil_dumpState", t0)
                    dump_path.write_text(json.dumps({"format": FORK_STATE_FORMAT, "chains": {"lab1": dump}}))
                finally:
                    process.stop(ref)
                t0 = time.perf_counter()
                ref, fork_url = fork.start(up, Path(tmp) / f"fork-load-{i}.log", timeout_s=30, balance_eth=1000)
                try:
                    load_fork_state(fork_url, dump_path, "lab1")
                    timed("fork + load the dumped state (funded)", t0)
                    assert slots.balance_of(fork_url, dep.address("USDC"), HOLDER) == 10**12
                finally:
                    process.stop(ref)
            for i in range(min(args.n, 3)):
                lab = Lab(Path(tmp) / f"forklab-{i}", fork=fork.ForkSettings((url,), block))
                t0 = time.perf_counter()
                try:
                    lab.up()
                    timed("lab up --fork-url (simulators, aggregator too)", t0)
                finally:
                    lab.down()
        finally:
            upstream_lab.down()
    rows = [[name, len(s), f"{median(s):.3f}", f"{pct(s, 99):.3f}"] for name, s in samples.items()]
    print(table("fork fixtures (seconds)", ["step", "n", "median", "p99"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
