"""The lab's exchanges: one simulator per location, each speaking one exchange's API, priced near lab1's pools,
with the lab's own API key funded.

- ``labex`` speaks Binance spot (ccxt ``binance``): books at lab1's prices, 0.1% maker and taker.
- ``labokx`` speaks OKX v5 (ccxt ``okx``): books 8 bps above lab1's and shaped differently (fewer, wider,
  thinner ETH/USDT levels), OKX's Lv1 fees (0.08% maker, 0.1% taker), and a passphrase with its key.

Credentials are made once per data directory and exchange (random, not a well-known pair) and kept in files of
mode 0600 beside the lab's state; the lab's configuration reads them from there. They open only these local
simulators.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fillpath.lab.chains.deployment import LabDeployment

from fillpath.model.errors import DamagedState

MARKETS = (("ETH", "USDT"), ("BTC", "USDT"), ("ETH", "BTC"), ("USDC", "USDT"))
ASSETS = tuple(sorted({a for market in MARKETS for a in market}))
FUNDING = {"ETH": "1500", "BTC": "40", "USDT": "10000000", "USDC": "5000000"}


@dataclass(frozen=True, slots=True)
class LabExchange:
    """One simulated exchange of the lab."""

    location: str
    dialect: str
    """The API it speaks, which is also the ccxt id that talks to it."""
    seed: int
    skew_bps: int
    """Its books sit this many basis points above lab1's prices."""
    maker_fee: str
    taker_fee: str
    books: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    """Per market, how its synthetic book differs from the simulator's default (levels, spacing, sizes)."""

    @property
    def ping_path(self) -> str:
        """A public path that answers when the simulator is up."""
        return "/api/v5/public/time" if self.dialect == "okx" else "/api/v3/ping"

    @property
    def api(self) -> str:
        return {"binance": "Binance spot API", "okx": "OKX v5 API"}.get(self.dialect, self.dialect)


LABEX = LabExchange("labex", "binance", 7, 0, "0.001", "0.001")
LABOKX = LabExchange(
    "labokx", "okx", 11, 8, "0.0008", "0.001",
    {("ETH", "USDT"): {"levels": 150, "spacing_ticks": 20, "first_qty": "1.5", "last_qty": "24"}},
)  # fmt: skip
EXCHANGES: tuple[LabExchange, ...] = (LABEX, LABOKX)
LOCATION = LABEX.location
"""The first exchange's location (``labex``)."""
SEED = LABEX.seed


def exchange(location: str) -> LabExchange:
    found = next((e for e in EXCHANGES if e.location == location), None)
    if found is None:
        raise KeyError(location)
    return found


@dataclass(frozen=True, slots=True)
class LabExchangeCreds:
    api_key: str
    secret: str = ""
    passphrase: str = ""

    def __repr__(self) -> str:
        return f"LabExchangeCreds(api_key={self.api_key!r}, secret=***, passphrase=***)"


def credentials_path(lab_dir: Path, location: str = LOCATION) -> Path:
    return lab_dir / f"{location}-credentials.json"


def credentials(lab_dir: Path, location: str = LOCATION) -> LabExchangeCreds:
    """The exchange account's credentials, made on first use. A venue that asks for a passphrase gets one."""
    path = credentials_path(lab_dir, location)
    if path.is_file():
        try:
            data = json.loads(path.read_text())
            return LabExchangeCreds(str(data["api_key"]), str(data["secret"]), str(data.get("passphrase", "")))
        except (OSError, ValueError, KeyError, TypeError):
            fix = f"move it aside (mv {path} {path}.damaged) and run `fillpath lab down` and `fillpath lab up`"
            raise DamagedState(str(path), f"{location}'s credentials file is damaged", fix) from None
    wants_passphrase = exchange(location).dialect == "okx"
    creds = LabExchangeCreds(
        location + secrets.token_hex(12), secrets.token_hex(32), secrets.token_hex(12) if wants_passphrase else ""
    )
    lab_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    fields = {"api_key": creds.api_key, "secret": creds.secret}
    if creds.passphrase:
        fields["passphrase"] = creds.passphrase
    with os.fdopen(fd, "w") as fh:
        json.dump(fields, fh)
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
    usd: dict[str, Decimal], creds: LabExchangeCreds, ex: LabExchange = LABEX, wallet: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The simulator's config (its own format): books at lab1's prices (shifted by the exchange's skew), the lab
    key funded, the exchange's fees and dialect, the wallet's chains (labex's deposits and withdrawals)."""
    price = {"ETH": usd["WETH"], "BTC": usd["WBTC"], "USDT": usd["USDT"], "USDC": usd["USDC"]}
    skew = 1 + Decimal(ex.skew_bps) / 10_000
    markets = [
        {
            "base": b,
            "quote": q,
            "mid": str((price[b] / price[q] * skew).quantize(Decimal("0.0001") if q != "BTC" else Decimal("0.00001"))),
            **ex.books.get((b, q), {}),
        }
        for b, q in MARKETS
    ]
    account = {"api_key": creds.api_key, "secret": creds.secret, "balances": FUNDING}
    if creds.passphrase:
        account["passphrase"] = creds.passphrase
    return {
        "dialect": ex.dialect,
        "markets": markets,
        "accounts": [account],
        "seed": ex.seed,
        "walk_interval": 1.0,
        "maker_fee": ex.maker_fee,
        "taker_fee": ex.taker_fee,
        "networks": wallet or {},
    }


def write_sim_config(path: Path, config: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the secret
    with os.fdopen(fd, "w") as fh:
        json.dump(config, fh, indent=2)
