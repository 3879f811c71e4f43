"""Contract artifacts: the real Uniswap/WETH9 builds from npm, and fillpath's own contracts built by forge."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fillpath import paths
from fillpath.chains.abi import AbiFunction, function_from_abi
from fillpath.model.errors import LabError

# name → (where it lives: "npm" under node_modules or "forge" under out/, relative path)
_SOURCES: dict[str, tuple[str, str]] = {
    "WETH9": ("npm", "@uniswap/v2-periphery/build/WETH9.json"),
    "UniswapV2Factory": ("npm", "@uniswap/v2-core/build/UniswapV2Factory.json"),
    "UniswapV2Pair": ("npm", "@uniswap/v2-core/build/UniswapV2Pair.json"),
    "UniswapV2Router02": ("npm", "@uniswap/v2-periphery/build/UniswapV2Router02.json"),
    "UniswapV3Factory": (
        "npm",
        "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
    ),
    "UniswapV3Pool": ("npm", "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json"),
    "SwapRouter": ("npm", "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json"),
    "QuoterV2": ("npm", "@uniswap/v3-periphery/artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json"),
    "NonfungiblePositionManager": (
        "npm",
        "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json",
    ),
    "ERC20": ("npm", "@openzeppelin/contracts/build/contracts/ERC20PresetMinterPauser.json"),
    "LabToken": ("forge", "LabToken.sol/LabToken.json"),
    "Multicall3": ("forge", "Multicall3.sol/Multicall3.json"),
    "FillpathExecutor": ("forge", "FillpathExecutor.sol/FillpathExecutor.json"),
    "LabStableSwap": ("forge", "LabStableSwap.sol/LabStableSwap.json"),
    "LabAllowanceHolder": ("forge", "LabAllowanceHolder.sol/LabAllowanceHolder.json"),
    "LabAggregator": ("forge", "LabAggregator.sol/LabAggregator.json"),
}

# The init code hashes the periphery contracts have compiled in: a pair/pool deployed from these artifacts
# lands at the address the routers compute, so the real routers and the quoter work on a fresh chain.
V2_PAIR_INIT_CODE_HASH = "96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"
V3_POOL_INIT_CODE_HASH = "e34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"


@dataclass(frozen=True, slots=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str  # 0x-prefixed creation code

    @property
    def init_code_hash(self) -> str:
        from eth_utils.crypto import keccak

        return keccak(hexstr=self.bytecode).hex()


def _path(name: str) -> Path:
    try:
        where, rel = _SOURCES[name]
    except KeyError:
        raise LabError(f"no artifact named {name!r}") from None
    base = paths.node_modules() if where == "npm" else paths.forge_out_dir()
    return base / rel


@cache
def load(name: str) -> Artifact:
    path = _path(name)
    if not path.is_file():
        raise LabError(f"artifact {name} is missing at {path}; run `make setup`")
    raw = json.loads(path.read_text())
    abi = raw["abi"]
    if isinstance(abi, str):
        abi = json.loads(abi)
    code = raw.get("bytecode")
    if isinstance(code, dict):  # forge: {"object": "0x..."}
        code = code["object"]
    if not isinstance(code, str) or len(code) < 4:
        raise LabError(f"artifact {name} at {path} has no bytecode")
    if not code.startswith("0x"):
        code = "0x" + code
    return Artifact(name=name, abi=abi, bytecode=code)


def abi(name: str) -> list[dict[str, Any]]:
    return load(name).abi


def fingerprint() -> str:
    """A hash of every artifact's bytes: part of the key under which a deployed lab state is cached."""
    h = hashlib.sha256()
    for name in sorted(_SOURCES):
        path = _path(name)
        if not path.is_file():
            raise LabError(f"artifact {name} is missing at {path}; run `make setup` (it builds the contracts)")
        h.update(name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def fn(contract: str, name: str) -> AbiFunction:
    """A function of any lab artifact (``fn("LabToken", "mint")``); production reads only the shipped ABIs."""
    return _fn(contract, name)


@cache
def _fn(contract: str, name: str) -> AbiFunction:
    return function_from_abi(abi(contract), name)


ERC20_ENTRIES = frozenset(
    {"name", "symbol", "decimals", "totalSupply", "balanceOf", "transfer", "allowance", "approve", "transferFrom",
     "Transfer", "Approval"}
)  # fmt: skip
"""The standard token interface, taken from OpenZeppelin's preset without its roles and minting."""


def production_abi(name: str) -> list[dict[str, Any]]:
    """What ``fillpath/chains/abis/NAME.json`` must hold: the build's ABI (for ERC20, the standard interface)."""
    entries = abi(name)
    if name == "ERC20":
        entries = [e for e in entries if e.get("name") in ERC20_ENTRIES]
    return entries
