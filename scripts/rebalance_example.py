"""Keep half the USDC on each lab chain and 10 ETH on labex: `python scripts/rebalance_example.py [--execute]`."""

import sys
from pathlib import Path

import fillpath

with fillpath.Client() as client:
    run = client.rebalance(Path(__file__).with_name("spread.toml"), execute="--execute" in sys.argv)
for move in run.plan.moves if run.plan else ():
    print(f"{move.source} -> {move.target}: {move.amount} via {' + '.join(move.kinds)} ({move.cost_bps} bps)")
final = run.after or run.plan
print(run.status, "inside every band" if final and final.in_band else "outside a band", run.reason or "")
