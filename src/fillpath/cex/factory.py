"""Building a connector from an ``[exchanges.NAME]`` table (for the composition root).

Secrets are read from the environment variables the table names, at build time, and only handed to ccxt.
``urls = {api = "http://127.0.0.1:PORT"}`` points every API family (REST and streams) at another host
(the simulator, a proxy). Only venues with a dialect can be built; today that is Binance spot.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from fillpath.cex.binance.dialect import BinanceDialect
from fillpath.cex.binance.urls import point_binance_at
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.ratelimit import RateLimiter
from fillpath.model.errors import InvalidInput
from fillpath.model.ports import Journal
from fillpath.paths import read_private_file

DIALECTS = {"binance": BinanceDialect}


class ExchangeSettings(Protocol):
    """What the factory reads of ``config.ExchangeConfig`` (adapters do not import the config module)."""

    @property
    def ccxt_id(self) -> str: ...
    @property
    def api_key_env(self) -> str | None: ...
    @property
    def secret_env(self) -> str | None: ...
    @property
    def credentials_file(self) -> Path | None: ...
    @property
    def urls(self) -> Mapping[str, str]: ...
    @property
    def options(self) -> Mapping[str, Any]: ...
    @property
    def sandbox(self) -> bool: ...


def _secret(env: Mapping[str, str], name: str | None, field: str) -> str | None:
    if name is None:
        return None
    value = env.get(name)
    if not value:
        raise InvalidInput(field, f"the environment variable {name} is not set", f"export {name}=...")
    return value


def connector_from_config(
    name: str,
    cfg: ExchangeSettings,
    *,
    journal: Journal | None = None,
    limiter: RateLimiter | None = None,
    pro: bool = False,
    env: Mapping[str, str] | None = None,
    credentials: bool = True,
) -> CcxtConnector:
    """An unloaded connector (call ``load_markets()``); ``pro`` builds it on ccxt.pro for the streams.

    ``credentials=False``: public endpoints only; the secrets' environment variables are not even read."""
    dialect_cls = DIALECTS.get(cfg.ccxt_id)
    if dialect_cls is None:
        raise InvalidInput(f"exchanges.{name}.ccxt_id", f"no dialect for {cfg.ccxt_id!r}", f"one of {sorted(DIALECTS)}")
    env = os.environ if env is None else env
    if pro:
        import ccxt.pro as ccxt_module
    else:
        import ccxt.async_support as ccxt_module
    options: dict[str, object] = {"enableRateLimit": False}
    key = _secret(env, cfg.api_key_env if credentials else None, f"exchanges.{name}.api_key_env")
    secret = _secret(env, cfg.secret_env if credentials else None, f"exchanges.{name}.secret_env")
    if credentials and cfg.credentials_file is not None:
        key, secret = _credentials_file(cfg.credentials_file, f"exchanges.{name}.credentials_file")
    if key is not None:
        options["apiKey"] = key
    if secret is not None:
        options["secret"] = secret
    exchange = getattr(ccxt_module, cfg.ccxt_id)(options)
    if cfg.sandbox:
        exchange.set_sandbox_mode(True)
    unknown = set(cfg.urls) - {"api"}
    if unknown:
        raise InvalidInput(f"exchanges.{name}.urls", f"unknown keys {sorted(unknown)}", 'only "api" (a base URL)')
    if "api" in cfg.urls:
        point_binance_at(exchange, cfg.urls["api"])
    for option, value in cfg.options.items():
        exchange.options[option] = value
    return CcxtConnector(exchange, location=name, dialect=dialect_cls(), limiter=limiter, journal=journal)


def _credentials_file(path: Path, field: str) -> tuple[str, str]:
    try:
        data = json.loads(read_private_file(path, field))
        return str(data["api_key"]), str(data["secret"])
    except (ValueError, KeyError, TypeError):
        fix = 'write {"api_key": "...", "secret": "..."}'
        raise InvalidInput(field, f"{path} is not a JSON object with api_key and secret", fix) from None
