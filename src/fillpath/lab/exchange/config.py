"""What the simulator starts with: markets, seeded books, accounts. Values are frozen; amounts are Decimal."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fillpath.model.amounts import parse_decimal
from fillpath.model.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """One spot symbol: its filters and how its synthetic book looks and moves.

    ``levels`` price levels per side, ``spacing_ticks`` apart; quantities run linearly from
    ``first_qty`` (best level) to ``last_qty`` with a seeded jitter of ``jitter`` (a fraction).
    The random walk moves the best bid by up to ``max_step_ticks`` ticks per step.
    """

    base: str
    quote: str
    mid: Decimal
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    min_price: Decimal
    max_price: Decimal
    spread_ticks: int = 1
    levels: int = 50
    spacing_ticks: int = 1
    first_qty: Decimal = Decimal(1)
    last_qty: Decimal = Decimal(10)
    jitter: Decimal = Decimal("0.25")
    max_step_ticks: int = 10

    @property
    def symbol(self) -> str:
        return f"{self.base}{self.quote}"


@dataclass(frozen=True, slots=True)
class AccountSpec:
    api_key: str
    secret: str
    balances: Mapping[str, Decimal]
    passphrase: str = ""
    """The API passphrase a dialect may ask for with the key (OKX); ignored by the others."""

    def __repr__(self) -> str:
        return f"AccountSpec(api_key={self.api_key!r}, secret=***, passphrase=***, balances={dict(self.balances)!r})"


DEFAULT_API_KEY = "sim-key"
DEFAULT_API_SECRET = "sim-secret"
DEFAULT_PASSPHRASE = "sim-passphrase"
DIALECTS = ("binance", "okx")
"""The APIs the simulator speaks (one per simulated exchange)."""

DEFAULT_BALANCES: Mapping[str, Decimal] = {
    "USDT": Decimal(1_000_000),
    "USDC": Decimal(1_000_000),
    "ETH": Decimal(100),
    "BTC": Decimal(10),
}


def _market(
    base: str,
    quote: str,
    *,
    mid: str,
    tick: str,
    step: str,
    notional: str,
    max_qty: str,
    max_price: str,
    levels: int,
    spacing: int,
    qty: tuple[str, str],
    walk: int,
) -> MarketSpec:
    """A default market, written as strings: the smallest price and quantity are one tick and one step."""
    return MarketSpec(
        base=base,
        quote=quote,
        mid=Decimal(mid),
        tick=Decimal(tick),
        step=Decimal(step),
        min_qty=Decimal(step),
        max_qty=Decimal(max_qty),
        min_notional=Decimal(notional),
        min_price=Decimal(tick),
        max_price=Decimal(max_price),
        levels=levels,
        spacing_ticks=spacing,
        first_qty=Decimal(qty[0]),
        last_qty=Decimal(qty[1]),
        max_step_ticks=walk,
    )


DEFAULT_MARKETS: tuple[MarketSpec, ...] = (
    # ~$10M a side within 1%: 200 levels 0.15 apart, 2 → 30 ETH
    _market("ETH", "USDT", mid="3000", tick="0.01", step="0.0001", notional="5", max_qty="9000",
            max_price="1000000", levels=200, spacing=15, qty=("2", "30"), walk=20),
    # ~$14M a side within 1%: 200 levels $4.50 apart, 0.05 → 1.5 BTC
    _market("BTC", "USDT", mid="90000", tick="0.01", step="0.00001", notional="5", max_qty="9000",
            max_price="1000000", levels=200, spacing=450, qty=("0.05", "1.5"), walk=500),
    # ~$6M a side within 1%: 33 levels one tick apart, 20 → 100 ETH
    _market("ETH", "BTC", mid="0.0333", tick="0.00001", step="0.0001", notional="0.0001", max_qty="100000",
            max_price="922327", levels=33, spacing=1, qty=("20", "100"), walk=1),
    # ~$15M a side within 1%: 100 levels one tick apart, 200k → 100k USDC
    _market("USDC", "USDT", mid="1.0000", tick="0.0001", step="1", notional="5", max_qty="9000000",
            max_price="10", levels=100, spacing=1, qty=("200000", "100000"), walk=1),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Everything the simulator needs to start.

    The walk advances every ``walk_interval`` seconds (0: never on a timer) and ``walk_per_order`` steps after
    each accepted order (0: never), besides ``POST /admin/walk``.
    """

    markets: tuple[MarketSpec, ...] = DEFAULT_MARKETS
    accounts: tuple[AccountSpec, ...] = (
        AccountSpec(DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_BALANCES, DEFAULT_PASSPHRASE),
    )
    seed: int = 0
    walk_interval: float = 1.0
    walk_per_order: int = 0
    depth_interval: float = 0.1
    """Seconds between depth-stream pushes (Binance's ``@100ms``); 0 pushes every change at once."""
    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    faults: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    dialect: str = "binance"
    """Which exchange's API this simulated exchange speaks (``DIALECTS``)."""
    networks: Mapping[str, Any] = field(default_factory=dict)
    """The wallet's chains (``capital.py``): name → rpc, chain id, hot wallet, confirmations, coins."""

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise InvalidInput(
                "dialect", f"{self.dialect!r} is not a dialect the simulator speaks", f"one of {DIALECTS}"
            )

    def market(self, symbol: str) -> MarketSpec | None:
        return next((m for m in self.markets if m.symbol == symbol), None)


_MARKET_DECIMALS = (
    "mid",
    "tick",
    "step",
    "min_qty",
    "max_qty",
    "min_notional",
    "min_price",
    "max_price",
    "first_qty",
    "last_qty",
    "jitter",
)
_MARKET_INTS = ("spread_ticks", "levels", "spacing_ticks", "max_step_ticks")


def _market_from(raw: Mapping[str, Any], where: str) -> MarketSpec:
    base, quote = raw.get("base"), raw.get("quote")
    if not isinstance(base, str) or not isinstance(quote, str):
        raise InvalidInput(f"{where}.base", "base and quote are required", 'for example base = "ETH"')
    template = next((m for m in DEFAULT_MARKETS if m.base == base and m.quote == quote), DEFAULT_MARKETS[0])
    values: dict[str, Any] = {}
    for name in _MARKET_DECIMALS:
        text = raw.get(name)
        values[name] = getattr(template, name) if text is None else parse_decimal(text, field=f"{where}.{name}")
    for name in _MARKET_INTS:
        number = raw.get(name, getattr(template, name))
        if not isinstance(number, int) or number < (0 if name == "max_step_ticks" else 1):
            raise InvalidInput(f"{where}.{name}", f"{number!r} is not a positive integer")
        values[name] = number
    unknown = set(raw) - {"base", "quote", *_MARKET_DECIMALS, *_MARKET_INTS}
    if unknown:
        raise InvalidInput(where, f"unknown keys {sorted(unknown)}")
    return MarketSpec(base=base, quote=quote, **values)


def sim_config_from_mapping(raw: Mapping[str, Any], *, base: SimConfig | None = None) -> SimConfig:
    """Build a config from parsed TOML/JSON. Amounts must be strings or ints (floats are refused)."""
    start = base or SimConfig()
    markets = start.markets
    if "markets" in raw:
        markets = tuple(_market_from(m, f"markets[{i}]") for i, m in enumerate(raw["markets"]))
    accounts = start.accounts
    if "accounts" in raw:
        accounts = tuple(
            AccountSpec(
                str(a["api_key"]),
                str(a["secret"]),
                {k: parse_decimal(v, field=f"accounts[{i}].balances.{k}") for k, v in a.get("balances", {}).items()},
                str(a.get("passphrase", "")),
            )
            for i, a in enumerate(raw["accounts"])
        )
    faults = {str(k): {str(p): str(v) for p, v in dict(ps).items()} for k, ps in raw.get("faults", {}).items()}
    return SimConfig(
        markets=markets,
        accounts=accounts,
        seed=int(raw.get("seed", start.seed)),
        walk_interval=float(raw.get("walk_interval", start.walk_interval)),
        walk_per_order=int(raw.get("walk_per_order", start.walk_per_order)),
        depth_interval=float(raw.get("depth_interval", start.depth_interval)),
        maker_fee=parse_decimal(raw.get("maker_fee", start.maker_fee), field="maker_fee"),
        taker_fee=parse_decimal(raw.get("taker_fee", start.taker_fee), field="taker_fee"),
        faults=faults or start.faults,
        dialect=str(raw.get("dialect", start.dialect)),
        networks=dict(raw.get("networks", start.networks)),
    )


def load_sim_config(path: Path) -> SimConfig:
    """A TOML (``.toml``) or JSON file; keys as in :func:`sim_config_from_mapping`."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InvalidInput("--config", f"cannot read {path}: {exc.strerror}") from None
    try:
        raw = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text, parse_float=Decimal)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("--config", f"{path} is not valid: {exc}") from None
    return sim_config_from_mapping(raw)
