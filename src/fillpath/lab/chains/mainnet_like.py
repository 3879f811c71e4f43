"""An anvil chain that is Ethereum where fillpath looks, for offline tests of what only a real network has.

Chain id 1; the real Uniswap V2 and V3 factories, deployed from their npm builds by their real deployers at nonce 0
(so they land at 0x5C69… and 0x1F98…), the 0.01% tier enabled by the V3 factory's owner as governance did;
Multicall3's code at 0xcA11…; and pools created between the real token addresses, so each lands at its mainnet
address (CREATE2 over the real factory and init code hash). The tokens themselves have no code: a test that needs
balances needs a real fork. A pair with a token outside the description is created too (discovery must skip it).
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

from fillpath import paths
from fillpath.chains.networks import ETHEREUM, MULTICALL3
from fillpath.lab.chains import artifacts, process, rpc
from fillpath.model.errors import LabError

GENESIS_NUMBER = 21_000_000
V2_DEPLOYER = "0x9C33eaCc2F50E39940D3AfaF2c7B8246B681A374"
V3_DEPLOYER = "0x6C9FC64A53c1b71FB3f9Af64d1ae3A4931A5f4E9"
OUTSIDER = "0x000000000000000000000000000000000000dEaD"
V2_PAIRS = (("WETH", "USDC"), ("WETH", "USDT"), ("DAI", "WETH"), ("USDC", "USDT"), ("WBTC", "WETH"))
V3_POOLS = (("USDC", "WETH", 500), ("USDC", "WETH", 3000), ("WETH", "USDT", 500), ("WBTC", "WETH", 3000),
            ("DAI", "USDC", 100))  # fmt: skip


def _deploy_as(w3: Any, url: str, deployer: str, name: str, *args: Any) -> str:
    rpc.call(url, "anvil_impersonateAccount", [deployer])
    rpc.call(url, "anvil_setBalance", [deployer, hex(10**18)])
    art = artifacts.load(name)
    tx = w3.eth.contract(abi=art.abi, bytecode=art.bytecode).constructor(*args).transact({"from": deployer})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    rpc.call(url, "anvil_stopImpersonatingAccount", [deployer])
    return str(receipt["contractAddress"])


def start(log_path: Path) -> tuple[process.ProcessRef, str]:
    """Start the chain and build it; returns its process and RPC URL (stop it with ``process.stop``)."""
    from web3 import Web3

    port = process.free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [str(paths.binary("anvil")), "--host", "127.0.0.1", "--port", str(port), "--chain-id", "1",
            "--number", str(GENESIS_NUMBER), "--silent"]  # fmt: skip
    ref = process.spawn(argv, log_path, marker=f"--port {port}")
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(LabError):
                rpc.call(url, "eth_chainId", timeout=1.0)
                break
            if time.monotonic() > deadline:
                raise LabError(f"anvil did not answer at {url}")
            time.sleep(0.05)
        w3 = Web3(Web3.HTTPProvider(url))
        v2 = _deploy_as(w3, url, V2_DEPLOYER, "UniswapV2Factory", V2_DEPLOYER)
        v3 = _deploy_as(w3, url, V3_DEPLOYER, "UniswapV3Factory")
        if (v2, v3) != (ETHEREUM.uniswap_v2.factory, ETHEREUM.uniswap_v3.factory):
            raise LabError(f"the factories landed at {v2} and {v3}, not at Ethereum's")
        runtime = json.loads(artifacts._path("Multicall3").read_text())["deployedBytecode"]["object"]
        rpc.call(url, "anvil_setCode", [MULTICALL3, runtime])
        dev = w3.eth.accounts[0]
        f2 = w3.eth.contract(address=Web3.to_checksum_address(v2), abi=artifacts.abi("UniswapV2Factory"))
        f3 = w3.eth.contract(address=Web3.to_checksum_address(v3), abi=artifacts.abi("UniswapV3Factory"))
        tok = {t.symbol: Web3.to_checksum_address(t.address) for t in ETHEREUM.tokens}
        for a, b in V2_PAIRS:
            f2.functions.createPair(tok[a], tok[b]).transact({"from": dev})
        f2.functions.createPair(OUTSIDER, tok["WETH"]).transact({"from": dev})
        rpc.call(url, "anvil_impersonateAccount", [V3_DEPLOYER])
        f3.functions.enableFeeAmount(100, 1).transact({"from": V3_DEPLOYER})
        rpc.call(url, "anvil_stopImpersonatingAccount", [V3_DEPLOYER])
        for a, b, fee in V3_POOLS:
            f3.functions.createPool(tok[a], tok[b], fee).transact({"from": dev})
        f3.functions.createPool(OUTSIDER, tok["USDC"], 500).transact({"from": dev})
    except BaseException:
        process.stop(ref)
        raise
    return ref, url
