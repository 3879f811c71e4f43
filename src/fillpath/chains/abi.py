"""Typed ABI calls without a provider: selectors, argument encoding and result decoding from an ABI entry.

Readers batch thousands of calls through Multicall3, so they need encode/decode as plain functions, not
bound contract objects that each want a provider.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

ABI_DIR = Path(__file__).resolve().parent / "abis"
"""The ABIs production calls, shipped as package data (``scripts/ship_abis.py`` writes them from the builds;
``tests/chains/test_abis.py`` checks they still match): reading a chain needs no build tree and no lab."""
SHIPPED = ("ERC20", "WETH9", "Multicall3", "UniswapV2Pair", "UniswapV3Pool", "UniswapV2Router02", "SwapRouter",
           "FillpathExecutor")  # fmt: skip


@cache
def abi(contract: str) -> list[dict[str, Any]]:
    """A shipped contract ABI by name (``ERC20`` is the standard token interface)."""
    if contract not in SHIPPED:
        raise KeyError(f"no shipped ABI named {contract!r}; one of {', '.join(SHIPPED)}")
    data: list[dict[str, Any]] = json.loads((ABI_DIR / f"{contract}.json").read_text())
    return data


def _type(param: dict[str, Any]) -> str:
    t = str(param["type"])
    if t.startswith("tuple"):
        inner = ",".join(_type(c) for c in param["components"])
        return f"({inner}){t[5:]}"
    return t


@dataclass(frozen=True, slots=True)
class AbiFunction:
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.inputs)})"

    @property
    def selector(self) -> bytes:
        return _selector(self.signature)

    def encode(self, *args: Any) -> bytes:
        return self.selector + encode(list(self.inputs), list(args))

    def decode(self, data: bytes) -> tuple[Any, ...]:
        return tuple(decode(list(self.outputs), data))


@cache
def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def function_from_abi(abi: Sequence[dict[str, Any]], name: str) -> AbiFunction:
    for entry in abi:
        if entry.get("type") == "function" and entry.get("name") == name:
            return AbiFunction(
                name,
                tuple(_type(p) for p in entry.get("inputs", [])),
                tuple(_type(p) for p in entry.get("outputs", [])),
            )
    raise KeyError(name)


@cache
def fn(contract: str, name: str) -> AbiFunction:
    """``fn("UniswapV3Pool", "slot0")``: a function of a shipped contract ABI."""
    return function_from_abi(abi(contract), name)


@cache
def error_names(contract: str) -> dict[bytes, str]:
    """Selector → ``Name(type,...)`` for a contract's custom errors, so a revert says *why* in words."""
    return errors_from_abi(abi(contract))


def errors_from_abi(entries: Sequence[dict[str, Any]]) -> dict[bytes, str]:
    out: dict[bytes, str] = {}
    for entry in entries:
        if entry.get("type") == "error":
            sig = f"{entry['name']}({','.join(_type(p) for p in entry.get('inputs', []))})"
            out[keccak(text=sig)[:4]] = sig
    return out
