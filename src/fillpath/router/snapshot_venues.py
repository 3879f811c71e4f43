"""Reading and writing the venue objects of ``fillpath.snapshot/1``, one pair of functions per kind.

A venue read from a snapshot *is* the venue object the router quotes on (a frozen dataclass per kind); the
few fields a venue needs from elsewhere in the snapshot (asset decimals) are filled in here and not written
back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router import json_fields as jf
from fillpath.router.venues import uniswap_v3_math as v3m
from fillpath.router.venues.aggregator import Aggregator
from fillpath.router.venues.bridge import Bridge, Transfer
from fillpath.router.venues.order_book import OrderBook
from fillpath.router.venues.stableswap import StableSwapPool
from fillpath.router.venues.uniswap_v2 import UINT112_MAX, UniswapV2Pair
from fillpath.router.venues.uniswap_v3 import UniswapV3Pool
from fillpath.router.venues.wrap import Wrap

VenueRecord = UniswapV2Pair | UniswapV3Pool | StableSwapPool | OrderBook | Bridge | Transfer | Aggregator | Wrap

_PPM_MAX = 999_999


class Context:
    """What venue readers may look up: asset decimals and location ids."""

    def __init__(self, decimals: Mapping[AssetId, int], locations: Mapping[str, str]) -> None:
        self.decimals = decimals
        self.locations = locations  # id -> kind
        self._ids = {a: a for a in decimals}  # one instance per asset: the router's lookups then match by identity

    def asset(self, f: jf.Fields, key: str, *, at: str | None = None) -> AssetId:
        """A known asset id, optionally required to sit at location ``at``."""
        asset = f.asset_id(key)
        return self.known(asset, f.at(key), at=at)

    def known(self, asset: AssetId, path: str, *, at: str | None = None) -> AssetId:
        if asset not in self.decimals:
            raise InvalidInput(path, f"unknown asset {asset}", "list it under assets")
        if at is not None and asset.location != at:
            raise InvalidInput(path, f"{asset} is not at {at}", "a venue trades assets at its own location")
        return self._ids[asset]

    def location(self, f: jf.Fields) -> str:
        location = f.string("location")
        if location not in self.locations:
            raise InvalidInput(f.at("location"), f"unknown location {location!r}", "list it under locations")
        return location


def _read_uniswap_v2(f: jf.Fields, ctx: Context) -> UniswapV2Pair:
    location = ctx.location(f)
    reserves = []
    for key in ("reserve0", "reserve1"):
        value = f.int_string(key)
        if value > UINT112_MAX:
            raise InvalidInput(f.at(key), "exceeds uint112", "a V2 reserve fits in 112 bits")
        reserves.append(value)
    return UniswapV2Pair(
        id=f.string("id"),
        location=location,
        address=f.string("address"),
        token0=ctx.asset(f, "token0", at=location),
        token1=ctx.asset(f, "token1", at=location),
        reserve0=reserves[0],
        reserve1=reserves[1],
        fee_ppm=f.json_int("fee_ppm", high=_PPM_MAX),
        gas=f.int_string("gas"),
    )


def _write_uniswap_v2(v: UniswapV2Pair) -> dict[str, Any]:
    return {
        "kind": v.kind, "id": v.id, "location": v.location, "address": v.address,
        "token0": str(v.token0), "token1": str(v.token1),
        "reserve0": str(v.reserve0), "reserve1": str(v.reserve1), "fee_ppm": v.fee_ppm, "gas": str(v.gas),
    }  # fmt: skip


def _read_uniswap_v3(f: jf.Fields, ctx: Context) -> UniswapV3Pool:
    location = ctx.location(f)
    spacing = f.json_int("tick_spacing", low=1, high=16384)
    sqrt_price = f.int_string("sqrt_price_x96")
    if not v3m.MIN_SQRT_RATIO <= sqrt_price < v3m.MAX_SQRT_RATIO:
        raise InvalidInput(f.at("sqrt_price_x96"), "outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO)", "check the pool")
    liquidity = f.int_string("liquidity")
    if liquidity > v3m.UINT128_MAX:
        raise InvalidInput(f.at("liquidity"), "exceeds uint128", "check the pool")
    ticks: list[tuple[int, int]] = []
    for k, item in enumerate(f.array("ticks")):
        path = f"{f.at('ticks')}[{k}]"
        pair = jf.array(item, path, length=2)
        tick = jf.int_string(pair[0], f"{path}[0]", signed=True)
        net = jf.int_string(pair[1], f"{path}[1]", signed=True)
        if not v3m.MIN_TICK <= tick <= v3m.MAX_TICK or tick % spacing:
            raise InvalidInput(f"{path}[0]", f"tick {tick} is not a multiple of {spacing} in range", "check it")
        if ticks and tick <= ticks[-1][0]:
            raise InvalidInput(f"{path}[0]", "ticks not sorted strictly ascending", "sort ticks ascending")
        ticks.append((tick, net))
    return UniswapV3Pool(
        id=f.string("id"),
        location=location,
        address=f.string("address"),
        token0=ctx.asset(f, "token0", at=location),
        token1=ctx.asset(f, "token1", at=location),
        fee_ppm=f.json_int("fee_ppm", high=_PPM_MAX),
        tick_spacing=spacing,
        sqrt_price_x96=sqrt_price,
        liquidity=liquidity,
        tick=f.json_int("tick", low=v3m.MIN_TICK, high=v3m.MAX_TICK),
        ticks=tuple(ticks),
        gas=f.int_string("gas"),
        gas_per_tick=f.int_string("gas_per_tick"),
    )


def _write_uniswap_v3(v: UniswapV3Pool) -> dict[str, Any]:
    return {
        "kind": v.kind, "id": v.id, "location": v.location, "address": v.address,
        "token0": str(v.token0), "token1": str(v.token1), "fee_ppm": v.fee_ppm,
        "tick_spacing": v.tick_spacing, "sqrt_price_x96": str(v.sqrt_price_x96),
        "liquidity": str(v.liquidity), "tick": v.tick, "ticks": [[str(t), str(n)] for t, n in v.ticks],
        "gas": str(v.gas), "gas_per_tick": str(v.gas_per_tick),
    }  # fmt: skip


def _read_stableswap(f: jf.Fields, ctx: Context) -> StableSwapPool:
    location = ctx.location(f)
    coins_raw = f.array("coins")
    if len(coins_raw) < 2:
        raise InvalidInput(f.at("coins"), "fewer than 2 coins", "a pool has at least 2 coins")
    coins = tuple(
        ctx.known(jf.asset_id(c, f"{f.at('coins')}[{k}]"), f"{f.at('coins')}[{k}]", at=location)
        for k, c in enumerate(coins_raw)
    )
    if len(set(coins)) != len(coins):
        raise InvalidInput(f.at("coins"), "duplicate coin", "each coin appears once")
    balances_raw = f.array("balances", length=len(coins))
    balances = tuple(jf.int_string(b, f"{f.at('balances')}[{k}]") for k, b in enumerate(balances_raw))
    decimals = tuple(ctx.decimals[c] for c in coins)
    for k, d in enumerate(decimals):
        if d > 36:
            raise InvalidInput(f"{f.at('coins')}[{k}]", f"{d} decimals", "StableSwap rates need <= 36 decimals")
    amp = f.int_string("amp")
    if amp == 0:
        raise InvalidInput(f.at("amp"), "zero", "A is at least 1")
    fee = f.int_string("fee")
    if fee >= 10**10:
        raise InvalidInput(f.at("fee"), "100% or more", "fee is over 10^10")
    return StableSwapPool(
        id=f.string("id"), location=location, address=f.string("address"), coins=coins, balances=balances,
        amp=amp, fee=fee, gas=f.int_string("gas"), decimals=decimals,
    )  # fmt: skip


def _write_stableswap(v: StableSwapPool) -> dict[str, Any]:
    return {
        "kind": v.kind, "id": v.id, "location": v.location, "address": v.address,
        "coins": [str(c) for c in v.coins], "balances": [str(b) for b in v.balances],
        "amp": str(v.amp), "fee": str(v.fee), "gas": str(v.gas),
    }  # fmt: skip


def _levels(f: jf.Fields, key: str, descending: bool) -> tuple[tuple[Decimal, Decimal], ...]:
    levels: list[tuple[Decimal, Decimal]] = []
    for k, item in enumerate(f.array(key)):
        path = f"{f.at(key)}[{k}]"
        pair = jf.array(item, path, length=2)
        price = jf.decimal_string(pair[0], f"{path}[0]")
        size = jf.decimal_string(pair[1], f"{path}[1]")
        if price <= 0 or size <= 0:
            raise InvalidInput(path, "price and size must be positive", "drop empty levels")
        if levels:
            prev = levels[-1][0]
            if (descending and price >= prev) or (not descending and price <= prev):
                order = "strictly descending" if descending else "strictly ascending"
                raise InvalidInput(f"{path}[0]", f"{key} not sorted {order}", "sort best price first")
        levels.append((price, size))
    return tuple(levels)


def _read_order_book(f: jf.Fields, ctx: Context) -> OrderBook:
    location = ctx.location(f)
    base = ctx.asset(f, "base", at=location)
    quote = ctx.asset(f, "quote", at=location)
    fee = f.decimal_string("taker_fee")
    if fee >= 1:
        raise InvalidInput(f.at("taker_fee"), "100% or more", 'a fraction, e.g. "0.001"')
    lot = f.decimal_string("lot")
    if lot <= 0:
        raise InvalidInput(f.at("lot"), "not positive", 'e.g. "0.0001"')
    return OrderBook(
        id=f.string("id"), location=location, base=base, quote_asset=quote, taker_fee=fee, lot=lot,
        tick=f.decimal_string("tick"), min_notional=f.decimal_string("min_notional"),
        bids=_levels(f, "bids", descending=True), asks=_levels(f, "asks", descending=False),
        base_decimals=ctx.decimals[base], quote_decimals=ctx.decimals[quote],
    )  # fmt: skip


def _write_order_book(v: OrderBook) -> dict[str, Any]:
    return {
        "kind": v.kind, "id": v.id, "location": v.location, "base": str(v.base), "quote": str(v.quote_asset),
        "taker_fee": jf.decimal_text(v.taker_fee), "lot": jf.decimal_text(v.lot),
        "tick": jf.decimal_text(v.tick), "min_notional": jf.decimal_text(v.min_notional),
        "bids": [[jf.decimal_text(p), jf.decimal_text(s)] for p, s in v.bids],
        "asks": [[jf.decimal_text(p), jf.decimal_text(s)] for p, s in v.asks],
    }  # fmt: skip


def _read_bridge_like(cls: type[Bridge]) -> Callable[[jf.Fields, Context], Bridge]:
    def read(f: jf.Fields, ctx: Context) -> Bridge:
        source = ctx.asset(f, "from")
        target = ctx.asset(f, "to")
        return cls(
            id=f.string("id"), source=source, target=target, fee_fixed=f.int_string("fee_fixed"),
            fee_ppm=f.json_int("fee_ppm", high=1_000_000), latency_s=f.json_int("latency_s"),
            max_amount=f.int_string("max_amount"), gas=f.int_string("gas"),
            source_decimals=ctx.decimals[source], target_decimals=ctx.decimals[target],
        )  # fmt: skip

    return read


def _write_bridge(v: Bridge) -> dict[str, Any]:
    return {
        "kind": v.kind, "id": v.id, "from": str(v.source), "to": str(v.target),
        "fee_fixed": str(v.fee_fixed), "fee_ppm": v.fee_ppm, "latency_s": v.latency_s,
        "max_amount": str(v.max_amount), "gas": str(v.gas),
    }  # fmt: skip


def _read_aggregator(f: jf.Fields, ctx: Context) -> Aggregator:
    location = ctx.location(f)
    samples: list[tuple[int, int]] = []
    for k, item in enumerate(f.array("samples")):
        path = f"{f.at('samples')}[{k}]"
        pair = jf.array(item, path, length=2)
        amount_in = jf.int_string(pair[0], f"{path}[0]")
        amount_out = jf.int_string(pair[1], f"{path}[1]")
        if amount_in <= (samples[-1][0] if samples else 0):
            raise InvalidInput(f"{path}[0]", "samples not sorted strictly ascending by amount_in (> 0)", "sort")
        samples.append((amount_in, amount_out))
    return Aggregator(
        id=f.string("id"), location=location, token_in=ctx.asset(f, "token_in", at=location),
        token_out=ctx.asset(f, "token_out", at=location), samples=tuple(samples), gas=f.int_string("gas"),
    )  # fmt: skip


def _write_aggregator(v: Aggregator) -> dict[str, Any]:
    return {
        "kind": v.kind, "id": v.id, "location": v.location, "token_in": str(v.token_in),
        "token_out": str(v.token_out), "samples": [[str(a), str(b)] for a, b in v.samples], "gas": str(v.gas),
    }  # fmt: skip


def _read_wrap(f: jf.Fields, ctx: Context) -> Wrap:
    location = ctx.location(f)
    native = ctx.asset(f, "native", at=location)
    wrapped = ctx.asset(f, "wrapped", at=location)
    if ctx.decimals[native] != ctx.decimals[wrapped]:
        raise InvalidInput(f.at("wrapped"), "decimals differ from the native asset's", "wrapping is 1:1")
    return Wrap(id=f.string("id"), location=location, native=native, wrapped=wrapped, gas=f.int_string("gas"))


def _write_wrap(v: Wrap) -> dict[str, Any]:
    return {
        "kind": v.kind, "id": v.id, "location": v.location, "native": str(v.native),
        "wrapped": str(v.wrapped), "gas": str(v.gas),
    }  # fmt: skip


READERS: dict[str, Callable[[jf.Fields, Context], VenueRecord]] = {
    "uniswap_v2": _read_uniswap_v2,
    "uniswap_v3": _read_uniswap_v3,
    "stableswap": _read_stableswap,
    "order_book": _read_order_book,
    "bridge": _read_bridge_like(Bridge),
    "transfer": _read_bridge_like(Transfer),
    "aggregator": _read_aggregator,
    "wrap": _read_wrap,
}


def read_venue(value: object, path: str, ctx: Context) -> VenueRecord:
    f = jf.Fields(value, path)
    kind = f.string("kind")
    reader = READERS.get(kind)
    if reader is None:
        raise InvalidInput(f.at("kind"), f"unknown venue kind {kind!r}", f"one of {', '.join(READERS)}")
    venue = reader(f, ctx)
    f.done()
    return venue


def write_venue(venue: VenueRecord) -> dict[str, Any]:
    if isinstance(venue, UniswapV2Pair):
        return _write_uniswap_v2(venue)
    if isinstance(venue, UniswapV3Pool):
        return _write_uniswap_v3(venue)
    if isinstance(venue, StableSwapPool):
        return _write_stableswap(venue)
    if isinstance(venue, OrderBook):
        return _write_order_book(venue)
    if isinstance(venue, Bridge):  # Transfer too: same fields, its own kind
        return _write_bridge(venue)
    if isinstance(venue, Aggregator):
        return _write_aggregator(venue)
    return _write_wrap(venue)
