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
    if isinstance(v, float):
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
    exchange: tuple[str, str, Path] | None,
    *,
    aggregators: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """``chains``: (deployment, rpc URL, ws URL); ``exchange``: (location, base URL, credentials file);
    ``aggregators``: name → its ``[aggregators.NAME]`` table (``lab/aggregator/lab.py``)."""
    parts = [HEADER, _table("", {"data_dir": data_dir}).lstrip("\n")]
    for dep, rpc_url, ws_url in chains:
        parts.append(_table(f"[locations.{dep.location}]", {
            "chain_id": dep.chain_id, "rpc": [rpc_url], "ws": ws_url,
            # the lab mines only when a transaction arrives: its head is final (reading below it would show
            # balances from before the last trade)
            "confirmations": 0,
            "multicall": dep.address("Multicall3"), "executor": dep.address("FillpathExecutor"),
        }))  # fmt: skip
    parts.append(_table("[accounts.trader]", {
        "address": trader, "keystore": keystore, "passphrase_file": passphrase_file,
    }))  # fmt: skip
    if exchange is not None:
        location, url, credentials = exchange
        parts.append(_table(f"[exchanges.{location}]", {
            "ccxt_id": "binance", "credentials_file": credentials, "urls": {"api": url},
            "options": SIM_BINANCE_OPTIONS,
        }))  # fmt: skip
    for dep, _, _ in chains:
        for t in dep.tokens:
            fields = {"location": dep.location, "symbol": t.symbol, "address": t.address, "decimals": t.decimals}
            parts.append(_table("[[tokens]]", fields))
    for dep, _, _ in chains:
        for p in dep.pools:
            parts.append(_table("[[pools]]", {"location": dep.location, "kind": p.kind, "address": p.address}))
    # aggregator quote APIs: a CALL leg runs only against the targets and spenders listed here
    for name, table in (aggregators or {}).items():
        parts.append(_table(f"[aggregators.{name}]", table))
    return "\n".join(parts)


def write(data_dir: Path, text: str) -> Path:
    path = lab_config_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path


def remove(data_dir: Path) -> None:
    lab_config_path(data_dir).unlink(missing_ok=True)
