"""Configuration: a TOML file validated by pydantic into frozen objects.

Secrets never live in the file: accounts name a keystore or an *environment variable*, exchanges name the
variables that hold their key and secret. Without a config file, fillpath uses the local lab.
"""

from __future__ import annotations

import itertools
import os
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import SplitResult, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fillpath.model.errors import InvalidInput
from fillpath.paths import default_data_dir

_SECRET_FIELDS = {
    "private_key",
    "key",
    "secret",
    "api_key",
    "api_secret",
    "passphrase",
    "password",
    "mnemonic",
}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_literal_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in data:
                if str(name).lower() in _SECRET_FIELDS:
                    raise ValueError(
                        f"'{name}' holds a secret, and secrets never go in the config file: "
                        f"name an environment variable instead ('{name}_env = \"MY_VAR\"')"
                    )
        return data


def _check_env_name(v: str | None) -> str | None:
    if v is not None and not _ENV_NAME.match(v):
        raise ValueError(f"{v!r} is not an environment variable name (letters, digits, '_')")
    return v


class EvmLocationConfig(_Frozen):
    kind: Literal["evm"] = "evm"
    chain_id: int = Field(gt=0)
    rpc: tuple[str, ...] = Field(min_length=1, description="HTTP endpoints, tried in order (failover)")
    ws: str | None = None
    confirmations: int = Field(default=2, ge=0)
    native: str = "ETH"
    multicall: str | None = Field(default=None, description="Multicall3 address; default: the canonical one")
    executor: str | None = Field(default=None, description="FillpathExecutor address (needed to trade here)")

    @field_validator("rpc", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v


class AccountConfig(_Frozen):
    """One signer: a V3 keystore (passphrase from an env var or a prompt), or a key in an env var.

    ``locations``: the EVM locations it trades on (default: every configured one). Signing for execution needs
    ``passphrase_env`` for a keystore: execution never prompts.
    """

    address: str | None = None
    keystore: Path | None = None
    passphrase_env: str | None = None
    passphrase_file: Path | None = Field(
        default=None, description="a file (mode 0600) holding the keystore's passphrase, instead of passphrase_env"
    )
    private_key_env: str | None = None
    locations: tuple[str, ...] | None = None

    _env = field_validator("passphrase_env", "private_key_env")(_check_env_name)

    @model_validator(mode="after")
    def _one_source(self) -> AccountConfig:
        if (self.keystore is None) == (self.private_key_env is None):
            raise ValueError("give exactly one of 'keystore' or 'private_key_env'")
        if self.passphrase_env is not None and self.passphrase_file is not None:
            raise ValueError("give at most one of 'passphrase_env' or 'passphrase_file'")
        return self


class ExchangeConfig(_Frozen):
    ccxt_id: str
    api_key_env: str | None = None
    secret_env: str | None = None
    credentials_file: Path | None = Field(
        default=None, description='a JSON file (mode 0600) {"api_key": ..., "secret": ...}, instead of the env vars'
    )
    urls: dict[str, str] = Field(default_factory=dict, description="ccxt URL overrides, e.g. {api = ...}")
    options: dict[str, Any] = Field(default_factory=dict, description="ccxt options, passed through")
    sandbox: bool = False

    _env = field_validator("api_key_env", "secret_env")(_check_env_name)

    @model_validator(mode="after")
    def _one_credential_source(self) -> ExchangeConfig:
        if self.credentials_file is not None and (self.api_key_env or self.secret_env):
            raise ValueError("give either 'credentials_file' or 'api_key_env'/'secret_env', not both")
        return self


class TokenConfig(_Frozen):
    location: str
    symbol: str
    address: str
    decimals: int = Field(ge=0, le=77)


class PoolConfig(_Frozen):
    location: str
    kind: Literal["uniswap_v2", "uniswap_v3", "stableswap"]
    address: str


class AggregatorPairConfig(_Frozen):
    """One direction the collector samples: ``sell`` → ``buy`` (token symbols at the aggregator's location) at
    ``sizes`` (human amounts of ``sell``, ascending): the snapshot's ``aggregator`` venue is those points."""

    sell: str
    buy: str
    sizes: tuple[Decimal, ...] = Field(min_length=1)

    @field_validator("sizes")
    @classmethod
    def _ascending(cls, v: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if any(x <= 0 for x in v) or any(b <= a for a, b in itertools.pairwise(v)):
            raise ValueError("sizes must be positive and strictly ascending")
        return v


class AggregatorConfig(_Frozen):
    """An aggregator's quote API in the 0x Swap API v2 shape (AllowanceHolder flow) on one EVM location
    (docs/venues.md). Its calldata runs only as a CALL leg of the executor, and only when the quote's
    ``transaction.to`` is in ``allowed_targets`` and its allowance target in ``allowed_spenders``."""

    location: str
    url: str = Field(description="the API's base URL (…/swap/allowance-holder/quote is appended)")
    api_key_env: str | None = Field(default=None, description="the variable holding the 0x-api-key header")
    allowed_targets: tuple[str, ...] = Field(min_length=1, description="contracts a quote's calldata may be sent to")
    allowed_spenders: tuple[str, ...] = Field(min_length=1, description="allowance targets a quote may name")
    excluded_sources: tuple[str, ...] = Field(
        default=(), description="liquidity sources the API should leave out: the pools fillpath trades directly"
    )
    pairs: tuple[AggregatorPairConfig, ...] = Field(min_length=1)
    timeout_s: float = Field(default=3.0, gt=0, le=60)
    slippage_bps: int = Field(default=50, ge=0, lt=10_000, description="asked of the API for its own minBuyAmount")
    max_shortfall_bps: int = Field(
        default=0, ge=0, lt=10_000, description="how far the simulated output may fall below the quote's buyAmount"
    )

    _env = field_validator("api_key_env")(_check_env_name)

    @field_validator("allowed_targets", "allowed_spenders")
    @classmethod
    def _addresses(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for a in v:
            if not re.fullmatch(r"0x[0-9a-fA-F]{40}", a):
                raise ValueError(f"{a!r} is not a 0x-prefixed 20-byte address")
        return v


class RiskConfig(_Frozen):
    max_order_notional: Decimal = Decimal("10000000")
    max_venue_notional: Decimal = Decimal("50000000")
    max_slippage_bps: int = Field(default=200, ge=0, le=10_000)
    kill_switch_file: Path | None = None


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class ServiceConfig(_Frozen):
    """``fillpath run``: where the API listens and how often the cold path looks (docs/service.md).

    A token is required when the API is bound beyond loopback: ``token_env`` names the variable holding it."""

    host: str = "127.0.0.1"
    port: int = Field(default=8477, ge=0, le=65_535)
    token_env: str | None = Field(default=None, description="the variable holding the API's bearer token")
    reconcile_interval_s: float = Field(default=3.0, gt=0, le=3_600)
    reconcile_intervals: dict[str, float] = Field(
        default_factory=dict, description="per location, overriding reconcile_interval_s"
    )
    snapshot_interval_s: float = Field(default=2.0, gt=0, le=3_600)
    head_poll_interval_s: float = Field(default=1.0, gt=0, le=60)
    health_tick_s: float = Field(default=1.0, gt=0, le=60)
    clock_bound_ms: int = Field(default=2_000, gt=0)
    shutdown_grace_s: float = Field(default=3.0, ge=0, le=60)
    """How long a stop waits for a swap in flight before cancelling it (its intents stay for recovery)."""

    _env = field_validator("token_env")(_check_env_name)

    @field_validator("reconcile_intervals")
    @classmethod
    def _positive_intervals(cls, v: dict[str, float]) -> dict[str, float]:
        for name, seconds in v.items():
            if not 0 < seconds <= 3_600:
                raise ValueError(f"reconcile_intervals.{name} = {seconds}: give seconds in (0, 3600]")
        return v

    def interval_for(self, location: str) -> float:
        return self.reconcile_intervals.get(location, self.reconcile_interval_s)


class Config(_Frozen):
    """The resolved configuration. ``lab`` means: this is the local lab's, written by ``fillpath lab up``
    (``<data dir>/lab/fillpath.toml``), or the lab's empty default when it is not running."""

    source: str = "built-in lab default"
    lab: bool = False
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    numeraire: str = "USD"
    locations: dict[str, EvmLocationConfig] = Field(default_factory=dict)
    accounts: dict[str, AccountConfig] = Field(default_factory=dict)
    exchanges: dict[str, ExchangeConfig] = Field(default_factory=dict)
    tokens: tuple[TokenConfig, ...] = ()
    pools: tuple[PoolConfig, ...] = ()
    aggregators: dict[str, AggregatorConfig] = Field(default_factory=dict)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)

    @model_validator(mode="after")
    def _service_locations(self) -> Config:
        known = set(self.locations) | set(self.exchanges)
        unknown = sorted(set(self.service.reconcile_intervals) - known)
        if unknown and known:
            raise ValueError(f"service.reconcile_intervals names {', '.join(unknown)}, not a configured location")
        return self

    @model_validator(mode="after")
    def _aggregator_locations(self) -> Config:
        for name, agg in self.aggregators.items():
            if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
                raise ValueError(
                    f"aggregators.{name}: a name of letters, digits, '_' and '-' (it is part of venue ids)"
                )
            if agg.location not in self.locations:
                raise ValueError(f"aggregators.{name}.location: {agg.location!r} is not a configured EVM location")
            tokens = {t.symbol for t in self.tokens if t.location == agg.location}
            for pair in agg.pairs:
                for symbol in (pair.sell, pair.buy):
                    if symbol not in tokens:
                        raise ValueError(f"aggregators.{name}.pairs: {symbol} is not a token of {agg.location}")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'fillpath.db'}"


def _loc(parts: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in parts) or "config"


LAB_CONFIG = Path("lab") / "fillpath.toml"
"""Where ``fillpath lab up`` writes the running lab's configuration, under the data directory."""


def lab_config_path(data_dir: Path | None = None) -> Path:
    return (data_dir or default_data_dir()) / LAB_CONFIG


def load_config(path: str | Path | None = None) -> Config:
    """``path``, else ``$FILLPATH_CONFIG``, else ``./fillpath.toml``, else the running lab's configuration (what
    ``fillpath lab up`` wrote), else the lab's empty default (commands that need a venue then say to start it)."""
    explicit = path or os.environ.get("FILLPATH_CONFIG")
    candidate = Path(explicit) if explicit else Path("fillpath.toml")
    if candidate.is_file():
        return load_config_file(candidate)
    if explicit:
        raise InvalidInput("--config", f"{candidate} does not exist", "give the path of a fillpath.toml")
    lab = lab_config_path()
    if lab.is_file():
        return load_config_file(lab, lab=True)
    return Config(lab=True, database_url=os.environ.get("FILLPATH_DATABASE_URL") or None)


def load_config_file(path: Path, *, lab: bool = False, **overrides: Any) -> Config:
    """One TOML file, validated; ``overrides`` replace top-level keys (tests point ``database_url`` elsewhere)."""
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(str(path), f"not valid TOML: {exc}", "fix the syntax at that line") from None
    raw.setdefault("source", f"the running lab ({path})" if lab else str(path))
    raw.setdefault("lab", lab)
    if os.environ.get("FILLPATH_DATABASE_URL"):
        raw["database_url"] = os.environ["FILLPATH_DATABASE_URL"]
    raw.update({k: str(v) if isinstance(v, Path) else v for k, v in overrides.items()})
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"{path}: {_loc(err['loc'])}", msg) from None


# --- redaction ---------------------------------------------------------------------------------------------

_KEYISH = re.compile(r"[A-Za-z0-9_-]{20,}")


def redact_url(url: str) -> str:
    """Hide what URLs often carry as credentials: user:password, query values, long key-like path parts."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    if parts.scheme.startswith("sqlite"):
        return url.split("?", 1)[0]
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username or parts.password:
        netloc = "***@" + netloc
    path = _KEYISH.sub("***", parts.path)
    query = "&".join(f"{kv.split('=', 1)[0]}=***" for kv in parts.query.split("&") if kv)
    return urlunsplit(SplitResult(parts.scheme, netloc, path, query, ""))


def _env_status(name: str | None) -> str | None:
    if name is None:
        return None
    return f"${name} ({'set' if os.environ.get(name) else 'not set'})"


def redacted_view(cfg: Config) -> dict[str, Any]:
    """The config as plain data, safe to print: URLs redacted, env vars reported as set or not, never read out."""
    return {
        "source": cfg.source,
        "lab": cfg.lab,
        "data_dir": str(cfg.data_dir),
        "database_url": redact_url(cfg.resolved_database_url),
        "numeraire": cfg.numeraire,
        "locations": {
            name: {
                "kind": loc.kind,
                "chain_id": loc.chain_id,
                "rpc": [redact_url(u) for u in loc.rpc],
                "ws": redact_url(loc.ws) if loc.ws else None,
                "confirmations": loc.confirmations,
            }
            for name, loc in cfg.locations.items()
        },
        "accounts": {
            name: {
                "address": acc.address,
                "keystore": str(acc.keystore) if acc.keystore else None,
                "passphrase": _env_status(acc.passphrase_env)
                or (f"file {acc.passphrase_file}" if acc.passphrase_file else None)
                or ("prompt" if acc.keystore else None),
                "private_key": _env_status(acc.private_key_env),
                "locations": list(acc.locations) if acc.locations is not None else "all",
            }
            for name, acc in cfg.accounts.items()
        },
        "exchanges": {
            name: {
                "ccxt_id": ex.ccxt_id,
                "api_key": _env_status(ex.api_key_env),
                "secret": _env_status(ex.secret_env),
                "credentials_file": str(ex.credentials_file) if ex.credentials_file else None,
                "urls": {k: redact_url(v) for k, v in ex.urls.items()},
                "options": ex.options,
                "sandbox": ex.sandbox,
            }
            for name, ex in cfg.exchanges.items()
        },
        "tokens": [t.model_dump(mode="json") for t in cfg.tokens],
        "pools": [p.model_dump(mode="json") for p in cfg.pools],
        "aggregators": {
            name: {
                **agg.model_dump(mode="json", exclude={"url", "api_key_env"}),
                "url": redact_url(agg.url),
                "api_key": _env_status(agg.api_key_env),
            }
            for name, agg in cfg.aggregators.items()
        },
        "risk": cfg.risk.model_dump(mode="json"),
        "service": {**cfg.service.model_dump(mode="json"), "token": _env_status(cfg.service.token_env)},
    }
