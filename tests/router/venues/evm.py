"""Deploying the real Uniswap contracts from their npm artifacts on an in-process eth-tester chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parents[3]
# The npm packages and the forge build are not in git; a worktree may use the main checkout's copies.
_ROOT = next((r for r in (_REPO, Path("/work/main")) if (r / "tools/node_modules/@uniswap").is_dir()), _REPO)
NODE = _ROOT / "tools/node_modules/@uniswap"
ARTIFACTS = {
    "factory": NODE / "v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
    "pool": NODE / "v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json",
    "npm": NODE / "v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json",
    "quoter": NODE / "v3-periphery/artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json",
    "weth": NODE / "v2-periphery/build/WETH9.json",
    "v2_factory": NODE / "v2-core/build/UniswapV2Factory.json",
    "v2_pair": NODE / "v2-core/build/UniswapV2Pair.json",
    "v2_router": NODE / "v2-periphery/build/UniswapV2Router02.json",
    "token": _ROOT / "out/LabToken.sol/LabToken.json",
}


def artifacts_present() -> bool:
    return all(p.exists() for p in ARTIFACTS.values())


def artifact(name: str) -> tuple[Any, str]:
    """(abi, bytecode) of an artifact, whichever of the hardhat/waffle/forge layouts it uses."""
    data = json.loads(ARTIFACTS[name].read_text())
    code = data["bytecode"]
    if isinstance(code, dict):
        code = code["object"]
    if not code.startswith("0x"):
        code = "0x" + code
    return data["abi"], code


def deploy(w3: Any, sender: str, name: str, *args: Any) -> Any:
    abi, code = artifact(name)
    tx = w3.eth.contract(abi=abi, bytecode=code).constructor(*args).transact({"from": sender})
    address = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
    return w3.eth.contract(address=address, abi=abi)
