"""The lab's exchange: one simulator as location ``labex``, priced near lab1's pools, with the development
account's API key funded.

Its credentials are made once per data directory (random, not a well-known pair) and kept in a file of mode
0600 beside the lab's state; the lab's configuration reads them from there. They open only this local simulator.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from fillpath.model.errors import DamagedState

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
        try:
            data = json.loads(path.read_text())
            return LabExchangeCreds(str(data["api_key"]), str(data["secret"]))
        except (OSError, ValueError, KeyError, TypeError):
            fix = f"move it aside (mv {path} {path}.damaged) and run `fillpath lab down` and `fillpath lab up`"
            raise DamagedState(str(path), "labex's credentials file is damaged", fix) from None
    creds = LabExchangeCreds("labex" + secrets.token_hex(12), secrets.token_hex(32))
    lab_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"api_key": creds.api_key, "secret": creds.secret}, fh)
    os.replace(tmp, path)
    return creds


def sim_config(usd: dict[str, Decimal], creds: LabExchangeCreds) -> dict[str, Any]:
    """The simulator's config (its own format): books at lab1's prices, the lab key funded."""
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
    }


def write_sim_config(path: Path, config: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the secret
    with os.fdopen(fd, "w") as fh:
        json.dump(config, fh, indent=2)
