"""The running lab as a fillpath configuration: ``fillpath lab up`` writes ``<data dir>/lab/fillpath.toml``.

The composition root then wires the lab exactly as it wires a real deployment (locations, the trading account,
the exchange account, tokens, pools), so no production module knows the lab exists. The file is also a worked
example of a configuration; secrets stay in the 0600 files it names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fillpath.config import lab_config_path
from fillpath.lab.chains.deployment import LabDeployment
from fillpath.lab.exchange.binance import SIM_BINANCE_OPTIONS
from fillpath.lab.exchange.okx.client import SIM_OKX_OPTIONS
from fillpath.paths import ensure_private_dir

OPTIONS: Mapping[str, Mapping[str, Any]] = {"binance": SIM_BINANCE_OPTIONS, "okx": SIM_OKX_OPTIONS}
"""The ccxt options each dialect's class needs to talk to the simulator (spot markets only, ...)."""

HEADER = """\
# The running lab's configuration, written by `fillpath lab up` and removed by `fillpath lab down`.
# fillpath reads it when no --config, $FILLPATH_CONFIG or ./fillpath.toml is given. A copy is a starting point
# for a configuration of your own venues; the secrets stay in the files it names (mode 0600).
"""


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):  # durations (never money)
        return repr(v)
    if isinstance(v, str | Path):
        return json.dumps(str(v))  # a TOML basic string: JSON's escapes are TOML's
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, Sequence):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"no TOML form for {type(v).__name__}")


def _table(header: str, fields: Mapping[str, Any]) -> str:
    return f"{header}\n" + "".join(f"{k} = {_value(v)}\n" for k, v in fields.items() if v is not None)


def render(
    data_dir: Path,
    chains: Sequence[tuple[LabDeployment, str, str]],
    trader: str,
    keystore: Path,
    passphrase_file: Path,
    exchanges: Sequence[tuple[str, str, str, Path]],
    *,
    aggregators: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """``chains``: (deployment, rpc URL, ws URL); ``exchanges``: (location, ccxt id, base URL, credentials file:
    its key, secret and, where the venue asks for one, passphrase); ``aggregators``: name → its
    ``[aggregators.NAME]`` table (``lab/aggregator/lab.py``)."""
    parts = [HEADER, _table("", {"data_dir": data_dir}).lstrip("\n")]
    for dep, rpc_url, ws_url in chains:
        parts.append(_table(f"[locations.{dep.location}]", {
            "chain_id": dep.chain_id, "rpc": [rpc_url], "ws": ws_url,
            # the lab mines only when a transaction arrives: its head is final (reading below it would show
            # balances from before the last trade)
            "confirmations": 0,
            "multicall": dep.address("Multicall3"), "executor": dep.address("FillpathExecutor"),
            # a lab chain comes back from its cache on every `up`: a new epoch, not a halt (docs/operations.md)
            "on_identity_change": "new_epoch",
        }))  # fmt: skip
    parts.append(_table("[accounts.trader]", {
        "address": trader, "keystore": keystore, "passphrase_file": passphrase_file,
    }))  # fmt: skip
    for location, ccxt_id, url, credentials in exchanges:
        parts.append(_table(f"[exchanges.{location}]", {
            "ccxt_id": ccxt_id, "credentials_file": credentials, "urls": {"api": url},
            "options": OPTIONS[ccxt_id], "on_identity_change": "new_epoch",
        }))  # fmt: skip
    for dep, _, _ in chains:
        for t in dep.tokens:
            fields = {"location": dep.location, "symbol": t.symbol, "address": t.address, "decimals": t.decimals}
            parts.append(_table("[[tokens]]", fields))
    for dep, _, _ in chains:
        for p in dep.pools:
            parts.append(_table("[[pools]]", {"location": dep.location, "kind": p.kind, "address": p.address}))
    parts += _bridge(chains)
    for location, _ccxt_id, _url, _creds in exchanges:
        if location == "labex":  # the lab's wallet: labex takes deposits and pays withdrawals on the lab chains
            parts += _transfers(location, {dep.location for dep, _, _ in chains})
    # aggregator quote APIs: a CALL leg runs only against the targets and spenders listed here
    for name, table in (aggregators or {}).items():
        parts.append(_table(f"[aggregators.{name}]", table))
    return "\n".join(parts)


BRIDGE = "labbridge"
BRIDGE_TERMS = {"USDC": ("500", "0.5", "1000000"), "USDT": ("500", "0.5", "1000000")}
"""symbol → (fee in ppm, fixed fee, cap per transfer), human units: what the lab relayer charges (Across-like)."""


def _bridge(chains: Sequence[tuple[LabDeployment, str, str]]) -> list[str]:
    """The lab bridge: its spoke pool on every chain, and a route per bridged token and direction."""
    pools = {dep.location: dep.address("LabSpokePool") for dep, _, _ in chains if _has(dep, "LabSpokePool")}
    if len(pools) < 2:
        return []
    out = [_table(f"[bridges.{BRIDGE}]", {"protocol": "across_v3", "fill_deadline_s": 600, "wait_s": 60.0,
                                          "poll_s": 0.1}),
           _table(f"[bridges.{BRIDGE}.spoke_pools]", pools)]  # fmt: skip
    for src in sorted(pools):
        for dst in sorted(pools):
            if src == dst:
                continue
            for symbol, (ppm, fixed, cap) in BRIDGE_TERMS.items():
                out.append(_table(f"[[bridges.{BRIDGE}.routes]]", {
                    "from": f"{symbol}@{src}", "to": f"{symbol}@{dst}", "fee_ppm": int(ppm), "fee_fixed": fixed,
                    "latency_s": 2, "max_amount": cap, "gas": 110_000,
                }))  # fmt: skip
    return out


def _transfers(exchange: str, chains: set[str]) -> list[str]:
    """The exchange's deposit and withdrawal routes the lab offers (``lab/exchange/lab.py: TRANSFER_ROUTES``)."""
    from fillpath.lab.exchange.lab import TRANSFER_ROUTES, WALLET

    fees = {c.coin: c for c in WALLET}
    out = []
    for direction, chain, coin, latency in TRANSFER_ROUTES:
        if chain not in chains:
            continue
        c = fees[coin]
        out.append(_table("[[transfers]]", {
            "exchange": exchange, "chain": chain, "direction": direction, "coin": coin, "token": c.token,
            "network": chain, "fee": c.withdraw_fee if direction == "withdraw" else "0",
            "min": c.withdraw_min if direction == "withdraw" else "0", "latency_s": latency, "wait_s": 60.0,
            "poll_s": 0.1,
        }))  # fmt: skip
    return out


def _has(dep: LabDeployment, name: str) -> bool:
    return any(n == name for n, _ in dep.contracts)


def write(data_dir: Path, text: str) -> Path:
    path = lab_config_path(data_dir)
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path


def remove(data_dir: Path) -> None:
    lab_config_path(data_dir).unlink(missing_ok=True)
