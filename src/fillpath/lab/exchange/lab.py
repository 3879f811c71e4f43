"""The lab's exchange: one simulator as location ``labex``, priced near lab1's pools, with the development
account's API key funded.

Its credentials are made once per data directory (random, not a well-known pair) and kept in a file of mode
0600 beside the lab's state; the lab's configuration reads them from there. They open only this local simulator.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fillpath.lab.chains.deployment import LabDeployment

LOCATION = "labex"
MARKETS = (("ETH", "USDT"), ("BTC", "USDT"), ("ETH", "BTC"), ("USDC", "USDT"))
ASSETS = tuple(sorted({a for market in MARKETS for a in market}))
FUNDING = {"ETH": "1500", "BTC": "40", "USDT": "10000000", "USDC": "5000000"}
SEED = 7


@dataclass(frozen=True, slots=True)
class LabExchangeCreds:
    api_key: str
    secret: str = ""

    def __repr__(self) -> str:
        return f"LabExchangeCreds(api_key={self.api_key!r}, secret=***)"


def credentials_path(lab_dir: Path) -> Path:
    return lab_dir / "labex-credentials.json"


def credentials(lab_dir: Path) -> LabExchangeCreds:
    path = credentials_path(lab_dir)
    if path.is_file():
        data = json.loads(path.read_text())
        return LabExchangeCreds(str(data["api_key"]), str(data["secret"]))
    creds = LabExchangeCreds("labex" + secrets.token_hex(12), secrets.token_hex(32))
    lab_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"api_key": creds.api_key, "secret": creds.secret}, fh)
    os.replace(tmp, path)
    return creds


@dataclass(frozen=True, slots=True)
class WalletCoin:
    """A coin labex's wallet handles on every lab chain: the chain token (None: native), withdrawal fee and minimum."""

    coin: str
    token: str | None
    decimals: int
    withdraw_fee: str
    withdraw_min: str


WALLET = (
    WalletCoin("ETH", None, 18, "0.001", "0.01"),
    WalletCoin("USDC", "USDC", 6, "1", "10"),
    WalletCoin("USDT", "USDT", 6, "1", "10"),
)
CONFIRMATIONS = 2
"""Blocks that must hold a deposit before labex credits it."""
TRANSFER_ROUTES = (("deposit", "lab1", "ETH", 4), ("withdraw", "lab2", "USDC", 3))
"""(direction, chain, coin, expected latency s): the routes the lab's configuration offers the trader. labex's
wallet takes every ``WALLET`` coin on every lab chain; the configuration offers the few that let a plan cross
between the chains and the exchange without making the lab's other plans cheaper by a detour."""


def networks(chains: Sequence[tuple[LabDeployment, str]]) -> dict[str, Any]:
    """The wallet's networks for the simulator's config: one per lab chain (deployment, RPC URL)."""
    out: dict[str, Any] = {}
    for dep, url in chains:
        coins = {
            c.coin: {"token": dep.address(c.token) if c.token else None, "decimals": c.decimals,
                     "withdraw_fee": c.withdraw_fee, "withdraw_min": c.withdraw_min}
            for c in WALLET
        }  # fmt: skip
        out[dep.location] = {"rpc": url, "chain_id": dep.chain_id, "hot_wallet": dep.address("HotWallet"),
                             "confirmations": CONFIRMATIONS, "coins": coins}  # fmt: skip
    return out


def sim_config(
    usd: dict[str, Decimal], creds: LabExchangeCreds, wallet: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The simulator's config (its own format): books at lab1's prices, the lab key funded, the wallet's chains."""
    price = {"ETH": usd["WETH"], "BTC": usd["WBTC"], "USDT": usd["USDT"], "USDC": usd["USDC"]}
    markets = [
        {
            "base": b,
            "quote": q,
            "mid": str((price[b] / price[q]).quantize(Decimal("0.0001") if q != "BTC" else Decimal("0.00001"))),
        }
        for b, q in MARKETS
    ]
    return {
        "markets": markets,
        "accounts": [{"api_key": creds.api_key, "secret": creds.secret, "balances": FUNDING}],
        "seed": SEED,
        "walk_interval": 1.0,
        "networks": wallet or {},
    }


def write_sim_config(path: Path, config: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the secret
    with os.fdopen(fd, "w") as fh:
        json.dump(config, fh, indent=2)
