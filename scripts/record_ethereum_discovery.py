"""Record the JSON-RPC exchange of pool discovery with the Ethereum description, for an offline test.

There is no internet here, so the recording is made on an anvil chain that *is* Ethereum where discovery looks:
chain id 1, the real Uniswap V2 and V3 factories deployed from their npm builds by their real deployers at nonce 0
(so they land at 0x5C69… and 0x1F98…), Multicall3's code at 0xcA11…, and pools created between the real token
addresses (a pair or pool lands at its mainnet address: CREATE2 over the real factory and init code hash). A pair
with a token outside the description is created too: discovery must not report it.

    .venv/bin/python scripts/record_ethereum_discovery.py   # writes tests/chains/fixtures/ethereum_discovery.json
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from web3 import Web3

from fillpath.app import pool_discovery
from fillpath.chains.networks import ETHEREUM, MULTICALL3
from fillpath.chains.rpc import RpcClient
from fillpath.config import DiscoveryConfig
from fillpath.lab.chains import mainnet_like, process

OUT = Path(__file__).resolve().parent.parent / "tests" / "chains" / "fixtures" / "ethereum_discovery.json"
DISCOVERY = DiscoveryConfig(network="ethereum", max_log_range=1_000_000)


class RecordingRpc(RpcClient):
    def __init__(self, urls: Sequence[str]) -> None:
        super().__init__("ethereum", urls)
        self.exchanges: list[dict[str, Any]] = []

    async def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        result = await super().request(method, params)
        self.exchanges.append({"batch": [[method, list(params)]], "results": [result]})
        return result

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        results = await super().batch(calls)
        self.exchanges.append({"batch": [[m, list(p)] for m, p in calls], "results": results})
        return results


def main() -> int:
    ref, url = mainnet_like.start(Path("/tmp") / f"record-ethereum-{os.getpid()}.log")
    try:
        w3 = Web3(Web3.HTTPProvider(url))
        head = w3.eth.block_number
        discovery = pool_discovery("ethereum", DISCOVERY, ETHEREUM.tokens, MULTICALL3)
        assert discovery is not None

        async def go() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            async with RecordingRpc([url]) as client:
                found = await discovery.pools(client, head)
                return client.exchanges, [
                    {"kind": p.kind, "address": p.address, "token0": p.token0, "token1": p.token1, "fee_ppm": p.fee_ppm}
                    for p in found
                ]

        exchanges, pools = asyncio.run(go())
    finally:
        process.stop(ref)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "recorded_by": "scripts/record_ethereum_discovery.py",
        "network": "ethereum", "block": head, "discovery": DISCOVERY.model_dump(mode="json"),
        "exchanges": exchanges, "pools": pools,
    }, indent=1) + "\n")  # fmt: skip
    print(f"{len(exchanges)} exchanges, {len(pools)} pools → {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
