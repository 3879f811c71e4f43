"""A swap (or a recovery) in its own process, for the kill -9 tests: ``python -m tests.execution.swap_worker MODE``.

The trading key comes from ``FILLPATH_TEST_KEY`` (an environment variable, as a configured account would read
it); ``FILLPATH_FAILPOINT`` picks where the swap kills itself. Prints one JSON line with what happened.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from eth_account import Account

from fillpath.app import execution_parts, open_store
from fillpath.chains.accounts import Signer
from fillpath.cli.swap import prepare
from fillpath.execution import failpoints
from fillpath.execution.engine import Engine, SwapRequest
from fillpath.lab import lab_config
from fillpath.router.request import RouteRequest


async def main(mode: str) -> dict[str, object]:
    cfg = lab_config(Path(os.environ["FILLPATH_TEST_LAB_DIR"]), database_url=os.environ["DB_URL"])
    store = open_store(cfg)
    signer = Signer(Account.from_key(os.environ["FILLPATH_TEST_KEY"]))
    chains = os.environ.get("CHAINS", "lab1").split(",")
    parts = await execution_parts(cfg, store, signers=dict.fromkeys(chains, signer), crash=failpoints.from_env())
    try:
        resolved, passes = await prepare(cfg, store, parts)
        out: dict[str, object] = {"resolved": [[r.intent_id, r.outcome, r.detail] for r in resolved]}
        out["findings"] = [[p.venue, str(f.asset), f.action.value] for p in passes for f in p.findings]
        if mode == "swap":
            buy, hops = os.environ.get("BUY", "USDC"), int(os.environ.get("MAX_HOPS", "2"))
            request = SwapRequest(
                RouteRequest(os.environ["SELL"], int(os.environ["AMOUNT"]), buy, max_hops=hops), max_replans=0
            )
            result = await Engine(parts.wiring).run(request, dry_run=False)
            out["execution_id"] = result.execution_id
            out["status"] = result.status
        return out
    finally:
        await parts.close()
        store.close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))), flush=True)
