"""One trading engine in its own process, for the several-engines tests: ``python -m tests.state.engine_proc``.

It swaps ``SWAPS`` times, one after another, selling ``AMOUNT`` base units of WETH@lab1 for USDC@lab1 with the
account whose key is in ``FILLPATH_TEST_KEY`` — the same account as its sibling processes — on the journal at
``DB_URL`` (PostgreSQL). Every swap needs an exact approval, so approvals of one token by several engines
interleave on one account. ``MODE=recover`` only resolves what dead engines left. One JSON line per swap.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from eth_account import Account

from fillpath.app import execution_parts, open_store
from fillpath.chains.accounts import Signer
from fillpath.execution import failpoints
from fillpath.execution.engine import Engine, SwapRequest
from fillpath.execution.recovery import recover
from fillpath.lab import lab_config
from fillpath.router.request import RouteRequest


async def main() -> None:
    lab = lab_config(Path(os.environ["FILLPATH_TEST_LAB_DIR"]), database_url=os.environ["DB_URL"])
    cfg = lab.model_copy(update={  # lab1 only: the swaps never leave it
        "locations": {"lab1": lab.locations["lab1"]}, "exchanges": {},
        "tokens": tuple(t for t in lab.tokens if t.location == "lab1"),
        "pools": tuple(p for p in lab.pools if p.location == "lab1"),
    })  # fmt: skip
    store = open_store(cfg, trading=f"engine {os.environ.get('TAG', '?')}")
    signer = Signer(Account.from_key(os.environ["FILLPATH_TEST_KEY"]))
    parts = await execution_parts(cfg, store, signers={"lab1": signer}, crash=failpoints.from_env())
    try:
        print(json.dumps({"ready": True, "owner": store.owner}), flush=True)
        go = os.environ.get("GO_FILE")
        while go and not Path(go).exists():
            await asyncio.sleep(0.005)
        if os.environ.get("MODE") == "recover":
            done = await recover(store, parts.evm, parts.drivers, parts.assets_by_address)
            print(json.dumps({"recovered": [[r.intent_id, r.outcome] for r in done]}), flush=True)
            return
        for i in range(int(os.environ["SWAPS"])):
            route = RouteRequest("WETH@lab1", int(os.environ["AMOUNT"]), "USDC@lab1", max_hops=1)
            t = time.perf_counter()
            result = await Engine(parts.wiring).run(SwapRequest(route, max_replans=0), dry_run=False)
            hashes = sorted({leg.ref for leg in result.legs if leg.ref})
            print(json.dumps({"i": i, "execution_id": result.execution_id, "status": result.status,
                              "txs": hashes, "ms": (time.perf_counter() - t) * 1000}), flush=True)  # fmt: skip
    finally:
        await parts.close()
        store.close()


if __name__ == "__main__":
    asyncio.run(main())
