"""The chaos simulator's throughput (scenarios per second and per hour on this machine) and what the scenarios
exercise: the share of scenarios in which each fault kind struck, and each failpoint.

    python benchmarks/bench_chaos.py [--seeds 300] [--start 0] [--jobs 2] [--chain] [--bridge]

``--chain``: the world with the EVM chain (eth-tester) beside the exchange, and the exchange's deposits and
withdrawals over it; its deployed state is loaded from the lab cache once per process (deployed and stored there by
the first process that finds none: the warm-up). The first line gives the CPU seconds a scenario costs (one process)
and the scenarios an hour two free cores run at that cost: the load of a shared box inflates CPU time far less than
the wall clock.

Goal (issue 25): at least 10,000 scenarios an hour on 2 cores. The same seeds run in one process, then in ``--jobs``
processes (``fillpath chaos run --jobs N``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout, not an installed copy
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import table
from fillpath.lab.chaos.faults import ALL_FAILPOINTS, BRIDGE_WORLD_KINDS, CHAIN_KINDS, FAILPOINTS, TRANSFER_KINDS
from fillpath.lab.chaos.sweep import sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=300)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--chain", action="store_true", help="with the EVM chain beside the exchange")
    parser.add_argument("--bridge", action="store_true", help="with a second chain and the bridge (implies --chain)")
    args = parser.parse_args()
    bridge = bool(args.bridge)
    chain = bool(args.chain) or bridge
    # warm-up: imports, the template journal, the chains' deploys
    sweep(range(10_000_000, 10_000_003), chain=chain, bridge=bridge)
    seeds = range(args.start, args.start + args.seeds)
    cpu = time.process_time()
    runs = [(1, sweep(seeds, chain=chain, bridge=bridge))]
    cpu_per = (time.process_time() - cpu) / max(1, runs[0][1].scenarios)
    if args.jobs > 1:
        runs.append((args.jobs, sweep(seeds, jobs=args.jobs, chain=chain, bridge=bridge)))
    per_cpu_s = 1 / cpu_per if cpu_per else 0.0
    print(
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; one process: {cpu_per:.3f} CPU s a "
        f"scenario ({per_cpu_s:.2f} scenarios per CPU second: {2 * 3600 * per_cpu_s:,.0f} an hour on 2 free cores)"
    )
    print(table("chaos: scenarios per second", ["processes", "scenarios", "seconds", "scenarios/s", "scenarios/hour",
                                                "journal events", "invariant failures"],
                [[str(j), str(r.scenarios), f"{r.seconds:.1f}", f"{r.per_second:.2f}", f"{r.per_second * 3600:,.0f}",
                  f"{r.events:,}", str(len(r.failures))] for j, r in runs]))  # fmt: skip
    s = runs[0][1]
    print("dialects: " + ", ".join(f"{d} {n}" for d, n in sorted(s.per_dialect.items())))
    shown = [k for k in s.kinds if (chain or k not in (*CHAIN_KINDS, *TRANSFER_KINDS))
             and (bridge or k not in BRIDGE_WORLD_KINDS)]  # fmt: skip
    rows = [[str(k), str(s.drawn[k]), str(s.fired[k]), f"{s.share(k):.1%}", str(s.hits[k])] for k in shown]
    rows += [[f"failpoint:{p}", str(s.drawn[f"failpoint:{p}"]), str(s.fired[f"failpoint:{p}"]),
              f"{s.share(f'failpoint:{p}'):.1%}", ""] for p in (ALL_FAILPOINTS if chain else FAILPOINTS)]  # fmt: skip
    print(table("share of scenarios per fault kind and failpoint", ["kind", "drawn", "struck", "share", "hits"], rows))
    print("goal: ≥ 10,000 scenarios/hour on 2 cores")
    if s.failures:
        print("failing seeds: " + ", ".join(str(o.seed) for o in s.failures))


if __name__ == "__main__":
    main()
