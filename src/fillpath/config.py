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
from fillpath.model.validate import did_you_mean
from fillpath.paths import default_data_dir, read_input_text

MAX_CONFIG_BYTES = 4 * 1024 * 1024
"""A configuration lists venues, tokens and pools; 4 MiB is thousands of them."""

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
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_LOCATION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


def _check_address(v: str | None) -> str | None:
    if v is not None and not _ADDRESS.match(v):
        raise ValueError(f"{v!r} is not an EVM address (0x and 40 hex digits)")
    return v


def _check_url(v: str, schemes: tuple[str, ...]) -> str:
    scheme, sep, rest = v.partition("://")
    if not sep or scheme.lower() not in schemes or not rest or any(c.isspace() for c in v):
        raise ValueError(f"{v!r} is not a {' or '.join(s + '://' for s in schemes)} URL")
    return v


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


IdentityRule = Literal["halt", "new_epoch"]
IDENTITY_RULE_HELP = (
    "when the venue comes back as another one (a new chain or account id): 'halt' until an operator takes its figures "
    "(`fillpath reconcile --accept`), or 'new_epoch' (the lab's: archive the ledger, open the venue's figures)"
)


class FactoryConfig(_Frozen):
    """One factory discovery reads: a Uniswap V2 (``getPair``, ``PairCreated``) or V3 (``getPool``, ``PoolCreated``)."""

    address: str
    start_block: int = Field(default=0, ge=0, description="where the creation-event scan starts")
    fee_tiers: tuple[int, ...] = Field(default=(100, 500, 3000, 10000), description="V3 tiers asked of getPool")

    _address = field_validator("address")(_check_address)


class DiscoveryConfig(_Frozen):
    """``[locations.NAME.discovery]``: find this location's pools from factories (``chains/discovery.py``), between
    its configured tokens. ``network`` takes the factories of a described network (ethereum, arbitrum, base)."""

    network: str | None = None
    uniswap_v2: tuple[FactoryConfig, ...] = ()
    uniswap_v3: tuple[FactoryConfig, ...] = ()
    events: bool = Field(default=True, description="also scan the factories' creation events from start_block")
    max_log_range: int = Field(default=10_000, ge=1, le=1_000_000, description="blocks per eth_getLogs request")

    @model_validator(mode="after")
    def _something(self) -> DiscoveryConfig:
        if self.network is None and not (self.uniswap_v2 or self.uniswap_v3):
            raise ValueError("name a network (ethereum, arbitrum, base) or list uniswap_v2 / uniswap_v3 factories")
        return self


class EvmLocationConfig(_Frozen):
    kind: Literal["evm"] = "evm"
    chain_id: int = Field(gt=0, lt=2**64)
    rpc: tuple[str, ...] = Field(min_length=1, max_length=32, description="HTTP endpoints, tried in order (failover)")
    ws: str | None = None
    confirmations: int = Field(default=2, ge=0, le=10_000)
    native: str = "ETH"
    multicall: str | None = Field(default=None, description="Multicall3 address; default: the canonical one")
    executor: str | None = Field(default=None, description="FillpathExecutor address (needed to trade here)")
    on_identity_change: IdentityRule = Field(default="halt", description=IDENTITY_RULE_HELP)
    discovery: DiscoveryConfig | None = None
    replace_after_s: float | None = Field(
        default=60.0, gt=0, le=86_400, description="speed up (fee bump) a transaction unmined this long"
    )
    max_replacements: int = Field(default=3, ge=0, le=20, description="fee bumps per transaction; 0: never")
    max_fee_multiple: int = Field(
        default=3, ge=1, le=100, description="a replacement's max fee per gas is at most this times the first one's"
    )

    @field_validator("rpc", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    @field_validator("rpc")
    @classmethod
    def _http(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_url(u, ("http", "https")) for u in v)

    @field_validator("ws")
    @classmethod
    def _ws(cls, v: str | None) -> str | None:
        return None if v is None else _check_url(v, ("ws", "wss"))

    _addresses = field_validator("multicall", "executor")(_check_address)


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
    _address = field_validator("address")(_check_address)

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
    passphrase_env: str | None = Field(
        default=None, description="the API passphrase some venues ask for with the key (ccxt's password)"
    )
    credentials_file: Path | None = Field(
        default=None,
        description='a JSON file (mode 0600) {"api_key", "secret", "passphrase"?}, instead of the env vars',
    )
    urls: dict[str, str] = Field(default_factory=dict, description="ccxt URL overrides, e.g. {api = ...}")
    options: dict[str, Any] = Field(default_factory=dict, description="ccxt options, passed through")
    sandbox: bool = False
    on_identity_change: IdentityRule = Field(default="halt", description=IDENTITY_RULE_HELP)

    _env = field_validator("api_key_env", "secret_env", "passphrase_env")(_check_env_name)

    @model_validator(mode="after")
    def _one_credential_source(self) -> ExchangeConfig:
        if self.credentials_file is not None and (self.api_key_env or self.secret_env or self.passphrase_env):
            raise ValueError("give either 'credentials_file' or 'api_key_env'/'secret_env'/'passphrase_env', not both")
        return self


class TokenConfig(_Frozen):
    location: str
    symbol: str
    address: str
    decimals: int = Field(ge=0, le=77)

    _address = field_validator("address")(_check_address)

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, v: str) -> str:
        if not _SYMBOL.match(v):
            raise ValueError(f"{v!r} is not a token symbol (letters, digits, '.', '_', '-'; at most 32)")
        return v


class PoolConfig(_Frozen):
    location: str
    kind: Literal["uniswap_v2", "uniswap_v3", "stableswap"]
    address: str

    _address = field_validator("address")(_check_address)


def _asset_text(v: str) -> str:
    symbol, at, location = v.partition("@")
    if not (symbol and at and location):
        raise ValueError(f"{v!r} is not SYMBOL@LOCATION")
    return v


class BridgeRouteConfig(_Frozen):
    """One direction of a bridge: ``from`` on its chain to ``to`` on another. Fees and the cap in human units of
    ``from``; ``latency_s`` is the expected time to the fill (the router prices waiting with it)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    fee_ppm: int = Field(default=0, ge=0, lt=1_000_000)
    fee_fixed: Decimal = Field(default=Decimal(0), ge=0)
    latency_s: int = Field(default=60, ge=0)
    max_amount: Decimal = Field(default=Decimal(10**9), gt=0)
    gas: int = Field(default=150_000, ge=0)

    _assets = field_validator("source", "target")(_asset_text)


class BridgeConfig(_Frozen):
    """An intent bridge (Across V3's deposit / fill interface): its spoke pool on each chain, its routes.

    ``fill_deadline_s``: the deposit's fill deadline, in the origin chain's seconds from the deposit; after it an
    unfilled deposit is refunded to us on the origin. ``wait_s``: how long a swap follows one transfer before
    leaving it to ``fillpath recover`` (it stays in flight meanwhile)."""

    protocol: Literal["across_v3"] = "across_v3"
    spoke_pools: dict[str, str]
    fill_deadline_s: int = Field(default=600, ge=10, le=86_400)
    wait_s: float = Field(default=300.0, gt=0)
    poll_s: float = Field(default=0.25, gt=0)
    routes: tuple[BridgeRouteConfig, ...] = ()


class TransferConfig(_Frozen):
    """One exchange deposit or withdrawal route (``[[transfers]]``): ``coin`` on ``exchange`` ⇄ ``token`` on
    ``chain`` over the exchange's ``network`` (default: the chain's name). ``token`` defaults to ``coin``; the
    chain's native symbol means its native coin. ``fee`` and ``min`` in human units of the coin (a withdrawal's
    fee is taken from the amount); ``latency_s``: expected time to the credit."""

    exchange: str
    chain: str
    direction: Literal["deposit", "withdraw"]
    coin: str
    token: str | None = None
    network: str | None = None
    fee: Decimal = Field(default=Decimal(0), ge=0)
    min: Decimal = Field(default=Decimal(0), ge=0)
    max_amount: Decimal = Field(default=Decimal(10**9), gt=0)
    latency_s: int = Field(default=60, ge=0)
    gas: int | None = Field(default=None, ge=0, description="deposits: gas of the transfer (default 21k native, 65k)")
    wait_s: float = Field(default=300.0, gt=0)
    poll_s: float = Field(default=0.25, gt=0)

    @property
    def chain_symbol(self) -> str:
        return self.token or self.coin

    @property
    def network_id(self) -> str:
        return self.network or self.chain


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


class ForkConfig(_Frozen):
    """``[fork]``: ``fillpath lab up`` starts anvil forks of these chains instead of fresh lab chains (docs/fork.md).

    One URL per chain (its chain id says which chain it is); ``block`` pins every fork (default: each upstream's
    head when the lab starts); ``state``: a fork state dumped by ``fillpath lab dump``, loaded on top."""

    url: tuple[str, ...] = Field(min_length=1, max_length=8)
    block: int | None = Field(default=None, ge=0)
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    state: Path | None = None
    venues: bool = Field(default=True, description="also start the lab's exchange simulators, relayer, aggregator")

    @field_validator("url", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    @field_validator("url")
    @classmethod
    def _urls(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_url(u, ("http", "https", "ws", "wss")) for u in v)


class RiskConfig(_Frozen):
    max_order_notional: Decimal = Field(default=Decimal("10000000"), ge=0, le=Decimal(10**18), allow_inf_nan=False)
    max_venue_notional: Decimal = Field(default=Decimal("50000000"), ge=0, le=Decimal(10**18), allow_inf_nan=False)
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
    bridges: dict[str, BridgeConfig] = Field(default_factory=dict)
    transfers: tuple[TransferConfig, ...] = ()
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    fork: ForkConfig | None = None

    @model_validator(mode="after")
    def _movers_name_known_places(self) -> Config:
        for name, b in self.bridges.items():
            for loc in b.spoke_pools:
                if loc not in self.locations:
                    raise ValueError(f"bridges.{name}.spoke_pools: {loc!r} is not a configured location")
            for r in b.routes:
                for end in (r.source, r.target):
                    if end.partition("@")[2] not in b.spoke_pools:
                        raise ValueError(f"bridges.{name}.routes: {end} is on a chain without a spoke pool")
        for i, t in enumerate(self.transfers):
            if t.chain not in self.locations:
                raise ValueError(f"transfers[{i}].chain: {t.chain!r} is not a configured location")
            if t.exchange not in self.exchanges:
                raise ValueError(f"transfers[{i}].exchange: {t.exchange!r} is not a configured exchange")
        return self

    @model_validator(mode="after")
    def _service_locations(self) -> Config:
        known = set(self.locations) | set(self.exchanges)
        unknown = sorted(set(self.service.reconcile_intervals) - known)
        if unknown and known:
            raise ValueError(f"service.reconcile_intervals names {', '.join(unknown)}, not a configured location")
        return self

    @model_validator(mode="after")
    def _names_resolve(self) -> Config:
        """Every name the configuration uses refers to something it defines: a typo is an error here, with a
        "did you mean", not a venue that silently never trades."""
        for name in [*self.locations, *self.exchanges]:
            if not _LOCATION_NAME.match(name):
                raise ValueError(f"location name {name!r}: use lower-case letters, digits, '_' or '-' (it is in ids)")
        both = sorted(set(self.locations) & set(self.exchanges))
        if both:
            raise ValueError(f"{both[0]!r} is both an EVM location and an exchange: give each its own name")
        chains = list(self.locations)
        where = [(f"tokens[{k}]", t.location) for k, t in enumerate(self.tokens)]
        where += [(f"pools[{k}]", p.location) for k, p in enumerate(self.pools)]
        for name, acc in self.accounts.items():
            where += [(f"accounts.{name}.locations", loc) for loc in acc.locations or ()]
        for field, loc in where:
            if loc not in chains:
                raise ValueError(f"{field}: {loc!r} is not a configured EVM location ({did_you_mean(loc, chains)})")
        seen: set[tuple[str, str]] = set()
        for k, t in enumerate(self.tokens):
            if (t.location, t.symbol) in seen:
                raise ValueError(f"tokens[{k}]: {t.symbol}@{t.location} is listed twice")
            seen.add((t.location, t.symbol))
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
    if candidate.is_file() or (explicit and candidate.exists()):
        return load_config_file(candidate)  # a directory or a device given on purpose: refused there, by name
    if explicit:
        raise InvalidInput("--config", f"{candidate} does not exist", "give the path of a fillpath.toml")
    lab = lab_config_path()
    if lab.is_file():
        return load_config_file(lab, lab=True)
    return Config(lab=True, database_url=os.environ.get("FILLPATH_DATABASE_URL") or None)


def load_config_file(path: Path, *, lab: bool = False, **overrides: Any) -> Config:
    """One TOML file, validated; ``overrides`` replace top-level keys (tests point ``database_url`` elsewhere)."""
    text = read_input_text(path, str(path), max_bytes=MAX_CONFIG_BYTES, fix="give the path of a fillpath.toml")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(str(path), f"not valid TOML: {exc}", "fix the syntax at that line") from None
    except RecursionError:
        raise InvalidInput(str(path), "nested too deeply", "a fillpath.toml nests a few tables deep") from None
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
