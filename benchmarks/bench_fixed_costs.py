"""The router side of the fixed-cost benchmark (no cvxpy): per family 3 (fixed fees) and 4 (gas), per seed, the
plan's net, the certificate's gap and the route's CPU (``process_time``). Run it once per code version (e.g. with
``PYTHONPATH`` at another checkout's ``src``) and compare the JSON lines it writes::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_fixed_costs.py --seeds 75 --families 3,4 --out after.jsonl
    .venv/bin/python benchmarks/bench_fixed_costs.py --compare before.jsonl after.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from fillpath.model.errors import InvalidInput
from fillpath.router import RouteRequest, route


def run(seeds: int, families: list[int], out: str, first: int = 0) -> None:
    from tests.router.mixed import FAMILIES, mixed_case

    with open(out, "w") as f:
        for k in families:
            family = FAMILIES[k - 1]
            for seed in range(first, first + seeds):
                case = mixed_case(seed, family)
                req = RouteRequest(str(case.sell), case.amount, str(case.buy), max_hops=4, gas=family.gas)
                t = time.process_time()
                try:
                    plan = route(case.market, req)
                except InvalidInput:
                    continue  # a sale the venues cannot carry (named in the error): no plan to compare
                cpu = time.process_time() - t
                row = {
                    "family": k,
                    "seed": seed,
                    "net": plan.net_out,
                    "gap": float(plan.gap or 0),
                    "cpu": cpu,
                }
                f.write(json.dumps(row) + "\n")
                f.flush()


def _load(path: str) -> dict[tuple[int, int], dict[str, float]]:
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return {(r["family"], r["seed"]): r for r in rows}


def compare(paths: list[str]) -> None:
    runs = [_load(p) for p in paths]
    families = sorted({k for r in runs for k, _ in r})
    print("| run | family | cases | max gap | gaps > 1e-4 | median s | p90 s | max s | total s | net < first run's |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path, r in zip(paths, runs, strict=True):
        for fam in families:
            rows = [v for (k, _), v in r.items() if k == fam]
            if not rows:
                continue
            cpu = sorted(v["cpu"] for v in rows)
            worse = [
                s for (k, s), v in r.items() if k == fam and (k, s) in runs[0] and v["net"] < runs[0][(k, s)]["net"]
            ]
            p90 = cpu[min(len(cpu) - 1, int(0.9 * len(cpu)))]
            print(
                f"| {path} | {fam} | {len(rows)} | {max(v['gap'] for v in rows):.1e} | "
                f"{sum(v['gap'] > 1e-4 for v in rows)} | {statistics.median(cpu):.3f} | {p90:.3f} | {cpu[-1]:.2f} | "
                f"{sum(cpu):.1f} | {len(worse)} {sorted(worse)[:8]} |"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=75)
    ap.add_argument("--first", type=int, default=0, help="the first seed (the bench's are 0 to 74)")
    ap.add_argument("--families", default="3,4")
    ap.add_argument("--out", default="fixed_costs.jsonl")
    ap.add_argument("--compare", nargs="+", help="JSON-lines files of earlier runs: print the table")
    args = ap.parse_args()
    if args.compare:
        compare(args.compare)
    else:
        run(args.seeds, [int(k) for k in args.families.split(",")], args.out, args.first)


if __name__ == "__main__":
    main()
