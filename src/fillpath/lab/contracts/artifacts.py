"""The lab contracts' forge builds (``out/<file>/<name>.json``), and deploying one on any web3 backend.

Deliberately separate from the Uniswap/WETH artifact registry: these are fillpath's own lab venues, whose ABIs
the sibling modules know by signature; only deployment needs the build output.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from fillpath import paths
from fillpath.model.errors import LabError

if TYPE_CHECKING:  # the caller brings its Web3; reading an artifact (what `lab up` does) needs no web3
    from web3 import Web3
    from web3.contract import Contract

# contract -> its source file; forge writes each artifact to out/<file>/<contract>.json
FILES: Final = {
    "LabStableSwap": "LabStableSwap.sol",
    "LabAggregator": "LabAggregator.sol",
    "LabAllowanceHolder": "LabAllowanceHolder.sol",
    "LabSpokePool": "LabSpokePool.sol",
}
# An explicit gas limit: without one web3 estimates every transaction first, which on eth-tester costs about
# six times the transaction itself.
DEPLOY_GAS: Final = 8_000_000


@cache
def artifact(name: str) -> tuple[list[dict[str, Any]], str]:
    """(abi, creation code) of one of ``FILES``."""
    if name not in FILES:
        raise LabError(f"no lab contract named {name!r}; known: {', '.join(FILES)}")
    path = paths.forge_out_dir() / FILES[name] / f"{name}.json"
    if not path.is_file():
        raise LabError(f"{name} is not built at {path}; run `make setup` (forge build, offline)")
    data = json.loads(path.read_text())
    return data["abi"], data["bytecode"]["object"]


def deploy(w3: Web3, sender: str, name: str, *args: Any) -> Contract:
    """Deploy ``name`` with constructor ``args`` from ``sender`` (an unlocked account) and wait for it."""
    abi, code = artifact(name)
    tx = w3.eth.contract(abi=abi, bytecode=code).constructor(*args).transact({"from": sender, "gas": DEPLOY_GAS})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    if receipt["status"] != 1 or not receipt["contractAddress"]:
        raise LabError(f"deploying {name} failed (tx {tx.hex()})")
    return w3.eth.contract(address=receipt["contractAddress"], abi=abi)
