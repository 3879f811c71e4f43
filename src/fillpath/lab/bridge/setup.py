"""The lab bridge's deployment: a ``LabSpokePool`` on each lab chain, its routes, and the relayer's inventory;
plus the exchange simulator's hot wallet, funded on each chain (it pays withdrawals from there).

Run once per chain at the lab's first deployment, so it lands in the cached chain state. The accounts are anvil's
unlocked development accounts (no key is handled): ``RELAYER`` fills from its own inventory, ``SETTLER`` repays
relayers and refunds expired deposits on the origin, ``HOT_WALLET`` is the simulator's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from web3 import Web3

from fillpath.lab.chains import artifacts
from fillpath.lab.chains.deployment import LabDeployment
from fillpath.lab.contracts import artifacts as lab_artifacts
from fillpath.lab.contracts import spoke_pool as sp
from fillpath.model.errors import LabError

RELAYER, SETTLER, HOT_WALLET = 1, 2, 3
"""Indexes of anvil's unlocked development accounts."""
BRIDGED = ("USDC", "USDT", "WETH")
QUOTE_BUFFER_S = 3600
FILL_DEADLINE_BUFFER_S = 6 * 3600
SETTLEMENT_WINDOW_S = 3600
RELAYER_INVENTORY = {"USDC": Decimal(20_000_000), "USDT": Decimal(20_000_000), "WETH": Decimal(5_000)}
HOT_WALLET_INVENTORY = {"USDC": Decimal(20_000_000), "USDT": Decimal(20_000_000)}
UNLIMITED = 2**256 - 1


def accounts(w3: Web3) -> tuple[str, str, str]:
    """(relayer, settler, hot wallet) addresses."""
    a = w3.eth.accounts
    if len(a) <= HOT_WALLET:
        raise LabError("the lab chain has too few unlocked accounts for the relayer, settler and hot wallet")
    return a[RELAYER], a[SETTLER], a[HOT_WALLET]


def _send(w3: Web3, sender: str, to: str, data: bytes, what: str, value: int = 0) -> None:
    tx = w3.eth.send_transaction({"from": sender, "to": to, "data": data, "value": value, "gas": 500_000})  # type: ignore[typeddict-item]
    if w3.eth.wait_for_transaction_receipt(tx)["status"] != 1:
        raise LabError(f"{what} reverted (tx {tx.hex()})")


def deploy_bridge(w3: Web3, dep: LabDeployment, peer_chain_ids: Sequence[int]) -> LabDeployment:
    """The spoke pool on this chain (admin: the deployer), routes for ``BRIDGED`` to every peer, the relayer funded
    and approved, the hot wallet funded. Returns the deployment with ``LabSpokePool`` added."""
    relayer, settler, hot = accounts(w3)
    pool = lab_artifacts.deploy(w3, dep.dev, "LabSpokePool", dep.dev, settler, QUOTE_BUFFER_S, FILL_DEADLINE_BUFFER_S,
                                SETTLEMENT_WINDOW_S)  # fmt: skip
    mint, approve, transfer = (artifacts.fn("LabToken", n) for n in ("mint", "approve", "transfer"))
    for symbol in BRIDGED:
        token = dep.address(symbol)
        for peer in peer_chain_ids:
            _send(w3, dep.dev, pool.address, sp.enable_route_calldata(token, peer), f"route {symbol} → {peer}")
        units = int(RELAYER_INVENTORY[symbol].scaleb(dep.token(symbol).decimals))
        if symbol == "WETH":  # the deployer wraps and hands it over (WETH has no minter)
            _send(w3, dep.dev, token, artifacts.fn("WETH9", "deposit").encode(), "wrap", value=units)
            _send(w3, dep.dev, token, transfer.encode(relayer, units), "WETH to the relayer")
        else:
            _send(w3, dep.dev, token, mint.encode(relayer, units), f"mint {symbol} to the relayer")
        _send(w3, relayer, token, approve.encode(pool.address, UNLIMITED), f"relayer approves {symbol}")
    for symbol, amount in HOT_WALLET_INVENTORY.items():
        units = int(amount.scaleb(dep.token(symbol).decimals))
        _send(w3, dep.dev, dep.address(symbol), mint.encode(hot, units), f"mint {symbol} to the hot wallet")
    actors = (("LabSpokePool", pool.address), ("Relayer", relayer), ("Settler", settler), ("HotWallet", hot))
    return replace(dep, contracts=(*dep.contracts, *actors))
