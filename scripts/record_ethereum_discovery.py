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
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from web3 import Web3

from fillpath import paths
from fillpath.app import pool_discovery
from fillpath.chains.networks import ETHEREUM, MULTICALL3
from fillpath.chains.rpc import RpcClient
from fillpath.config import DiscoveryConfig
from fillpath.lab.chains import artifacts, process, rpc

OUT = Path(__file__).resolve().parent.parent / "tests" / "chains" / "fixtures" / "ethereum_discovery.json"
GENESIS_NUMBER = 21_000_000
V2_DEPLOYER = "0x9C33eaCc2F50E39940D3AfaF2c7B8246B681A374"
V3_DEPLOYER = "0x6C9FC64A53c1b71FB3f9Af64d1ae3A4931A5f4E9"
OUTSIDER = "0x000000000000000000000000000000000000dEaD"  # a token the description does not list
V2_PAIRS = [("WETH", "USDC"), ("WETH", "USDT"), ("DAI", "WETH"), ("USDC", "USDT"), ("WBTC", "WETH")]
V3_POOLS = [("USDC", "WETH", 500), ("USDC", "WETH", 3000), ("WETH", "USDT", 500), ("WBTC", "WETH", 3000),
            ("DAI", "USDC", 100)]  # fmt: skip
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


def _deploy_as(w3: Web3, url: str, deployer: str, name: str, *args: Any) -> str:
    rpc.call(url, "anvil_impersonateAccount", [deployer])
    rpc.call(url, "anvil_setBalance", [deployer, hex(10**18)])
    art = artifacts.load(name)
    tx = w3.eth.contract(abi=art.abi, bytecode=art.bytecode).constructor(*args).transact({"from": deployer})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    rpc.call(url, "anvil_stopImpersonatingAccount", [deployer])
    return str(receipt["contractAddress"])


def main() -> int:
    port = process.free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path("/tmp") / f"record-ethereum-{port}.log"
    argv = [str(paths.binary("anvil")), "--port", str(port), "--chain-id", "1", "--number", str(GENESIS_NUMBER),
            "--silent"]  # fmt: skip
    ref = process.spawn(argv, log, marker=f"--port {port}")
    try:
        for _ in range(200):
            try:
                rpc.call(url, "eth_chainId", timeout=1.0)
                break
            except Exception:
                time.sleep(0.05)
        w3 = Web3(Web3.HTTPProvider(url))
        v2 = _deploy_as(w3, url, V2_DEPLOYER, "UniswapV2Factory", V2_DEPLOYER)
        v3 = _deploy_as(w3, url, V3_DEPLOYER, "UniswapV3Factory")
        assert v2 == ETHEREUM.uniswap_v2.factory, v2
        assert v3 == ETHEREUM.uniswap_v3.factory, v3
        runtime = json.loads(artifacts._path("Multicall3").read_text())["deployedBytecode"]["object"]
        rpc.call(url, "anvil_setCode", [MULTICALL3, runtime])
        dev = w3.eth.accounts[0]
        f2 = w3.eth.contract(address=Web3.to_checksum_address(v2), abi=artifacts.abi("UniswapV2Factory"))
        f3 = w3.eth.contract(address=Web3.to_checksum_address(v3), abi=artifacts.abi("UniswapV3Factory"))
        tok = {t.symbol: Web3.to_checksum_address(t.address) for t in ETHEREUM.tokens}
        for a, b in V2_PAIRS:
            f2.functions.createPair(tok[a], tok[b]).transact({"from": dev})
        f2.functions.createPair(OUTSIDER, tok["WETH"]).transact({"from": dev})
        # the 0.01% tier was enabled after deployment by the factory's owner (governance), as on mainnet
        rpc.call(url, "anvil_impersonateAccount", [V3_DEPLOYER])
        f3.functions.enableFeeAmount(100, 1).transact({"from": V3_DEPLOYER})
        rpc.call(url, "anvil_stopImpersonatingAccount", [V3_DEPLOYER])
        for a, b, fee in V3_POOLS:
            f3.functions.createPool(tok[a], tok[b], fee).transact({"from": dev})
        f3.functions.createPool(OUTSIDER, tok["USDC"], 500).transact({"from": dev})
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
