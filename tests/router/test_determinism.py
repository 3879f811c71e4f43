"""Same input, same plan to the wei — also across interpreter runs with different hash seeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json
from tests.router.networks import network, value_units
from fillpath.router import RouteRequest, route
out = []
for seed in range(4):
    market, assets = network(seed, 8, 20, books=2, transfers=2, gas=150_000)
    amount = value_units(market, assets[0], 3e5)
    doc = route(market, RouteRequest(str(assets[0]), amount, str(assets[1]), max_hops=3)).to_json()
    doc.pop("stats")
    out.append(doc)
print(json.dumps(out))
"""


def _run(hash_seed: str) -> object:
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=f"{root / 'src'}{os.pathsep}{root}")
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_plans_do_not_depend_on_hash_seed() -> None:
    assert _run("1") == _run("12345")
