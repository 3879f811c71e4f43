"""Building a connector from an ``[exchanges.NAME]`` table (for the composition root).

Secrets are read from the environment variables the table names (or its 0600 credentials file), at build time,
and only handed to ccxt. ``urls = {api = "http://127.0.0.1:PORT"}`` points every API family (REST and streams) at
another host (the simulator, a proxy). A venue is built through its dialect package ``fillpath.cex.<ccxt_id>``
(``DIALECT``, ``point_at``), found by name, so this module names no venue: a new dialect is a new package that
passes the conformance suite (``tests/cex/conformance.py``).
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Protocol, cast

from fillpath.cex.connector import CcxtConnector
from fillpath.cex.dialect import Dialect, PointAt
from fillpath.cex.ratelimit import RateLimiter
from fillpath.model.errors import InvalidInput
from fillpath.model.ports import Journal
from fillpath.paths import read_private_file


class ExchangeSettings(Protocol):
    """What the factory reads of ``config.ExchangeConfig`` (adapters do not import the config module)."""

    @property
    def ccxt_id(self) -> str: ...
    @property
    def api_key_env(self) -> str | None: ...
    @property
    def secret_env(self) -> str | None: ...
    @property
    def passphrase_env(self) -> str | None: ...
    @property
    def credentials_file(self) -> Path | None: ...
    @property
    def urls(self) -> Mapping[str, str]: ...
    @property
    def options(self) -> Mapping[str, Any]: ...
    @property
    def sandbox(self) -> bool: ...


@cache
def dialects() -> tuple[str, ...]:
    """The ccxt ids with a dialect package here (``cex/<id>/dialect.py``)."""
    here = Path(__file__).parent
    return tuple(sorted(p.name for p in here.iterdir() if (p / "dialect.py").is_file()))


def dialect_for(ccxt_id: str, *, field: str = "ccxt_id") -> tuple[Dialect, PointAt]:
    """The dialect of ``ccxt_id`` and its URL rewriting."""
    if ccxt_id not in dialects():
        raise InvalidInput(field, f"no dialect for {ccxt_id!r}", f"one of {list(dialects())}")
    package = importlib.import_module(f"fillpath.cex.{ccxt_id}")
    return cast(Dialect, package.DIALECT()), cast(PointAt, package.point_at)


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

    ``credentials=False``: public endpoints only; the secrets' environment variables are not even read. A
    passphrase (a venue that asks for one with the key) goes to ccxt as ``password``."""
    dialect, point_at = dialect_for(cfg.ccxt_id, field=f"exchanges.{name}.ccxt_id")
    env = os.environ if env is None else env
    if pro:
        import ccxt.pro as ccxt_module
    else:
        import ccxt.async_support as ccxt_module
    options: dict[str, object] = {"enableRateLimit": False}
    key = _secret(env, cfg.api_key_env if credentials else None, f"exchanges.{name}.api_key_env")
    secret = _secret(env, cfg.secret_env if credentials else None, f"exchanges.{name}.secret_env")
    passphrase = _secret(env, cfg.passphrase_env if credentials else None, f"exchanges.{name}.passphrase_env")
    if credentials and cfg.credentials_file is not None:
        key, secret, passphrase = _credentials_file(cfg.credentials_file, f"exchanges.{name}.credentials_file")
    for option, value in (("apiKey", key), ("secret", secret), ("password", passphrase)):
        if value is not None:
            options[option] = value
    exchange = getattr(ccxt_module, cfg.ccxt_id)(options)
    if cfg.sandbox:
        exchange.set_sandbox_mode(True)
    unknown = set(cfg.urls) - {"api"}
    if unknown:
        raise InvalidInput(f"exchanges.{name}.urls", f"unknown keys {sorted(unknown)}", 'only "api" (a base URL)')
    if "api" in cfg.urls:
        point_at(exchange, cfg.urls["api"])
    for option, value in cfg.options.items():
        exchange.options[option] = value
    return CcxtConnector(exchange, location=name, dialect=dialect, limiter=limiter, journal=journal)


def _credentials_file(path: Path, field: str) -> tuple[str, str, str | None]:
    """``{"api_key": ..., "secret": ...}``, with ``"passphrase"`` for a venue that asks for one."""
    try:
        data = json.loads(read_private_file(path, field))
        passphrase = data.get("passphrase")
        return str(data["api_key"]), str(data["secret"]), None if passphrase is None else str(passphrase)
    except (ValueError, KeyError, TypeError, AttributeError):
        fix = 'write {"api_key": "...", "secret": "...", "passphrase": "..." (if the venue has one)}'
        raise InvalidInput(field, f"{path} is not a JSON object with api_key and secret", fix) from None
