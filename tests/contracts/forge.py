"""The project's own contracts from the forge build (``out/``), deployed on any web3 backend in tests."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from web3 import Web3

from fillpath import paths
from fillpath.lab.contracts.artifacts import FILES as LAB_FILES

# contract name -> its source file (forge puts each artifact under out/<file>/<name>.json)
FILES = {**LAB_FILES, "LabToken": "LabToken.sol", "FillpathExecutor": "FillpathExecutor.sol"}


@cache
def artifact(name: str) -> tuple[list[dict[str, Any]], str]:
    """(abi, creation code) of a forge artifact."""
    data = json.loads((paths.forge_out_dir() / FILES[name] / f"{name}.json").read_text())
    return data["abi"], data["bytecode"]["object"]


# An explicit gas limit: without one every transaction is first estimated, which on eth-tester costs ~6x the
# transaction itself (0.16 s against 0.024 s for a StableSwap exchange).
GAS = 8_000_000


def deploy(w3: Web3, sender: str, name: str, *args: Any) -> Any:
    abi, code = artifact(name)
    tx = w3.eth.contract(abi=abi, bytecode=code).constructor(*args).transact({"from": sender, "gas": GAS})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert receipt["status"] == 1, name
    return w3.eth.contract(address=receipt["contractAddress"], abi=abi)


def signature(item: dict[str, Any]) -> str:
    """``name(type,...)`` of an ABI entry, tuples spelled out as the selector hashes them."""

    def typ(p: dict[str, Any]) -> str:
        if p["type"].startswith("tuple"):
            return "(" + ",".join(typ(c) for c in p["components"]) + ")" + p["type"][5:]
        return str(p["type"])

    return f"{item['name']}({','.join(typ(p) for p in item['inputs'])})"


def signatures(name: str, kind: str) -> set[str]:
    """Every ``kind`` ("function", "event", "error") of the artifact, by signature."""
    return {signature(i) for i in artifact(name)[0] if i["type"] == kind}


def send(w3: Web3, call: Any, sender: str, **extra: Any) -> Any:
    """Send a contract call as a transaction and insist it succeeds."""
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender, "gas": GAS, **extra}))
    assert receipt["status"] == 1
    return receipt
