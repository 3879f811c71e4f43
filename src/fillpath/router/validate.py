"""Physical consistency of a parsed snapshot: what the strict reader cannot see field by field.

The reader (``snapshot.read_snapshot``) checks each field's type and range; this module checks that the fields
together describe a market that can exist, and runs on every snapshot the reader returns (files and live
collections alike). A snapshot that fails is refused with ``InvalidInput`` naming the JSON path and the rule,
never routed: a V3 tick that disagrees with its price once quoted 542 trillion USDC for 10 WETH.

Rules (docs/validation.md lists them for users):

- pair venues trade two different assets (V2, V3, aggregators, books, wraps, bridges);
- V3: ``tick`` is TickMath.getTickAtSqrtRatio(``sqrt_price_x96``) (or one below it, exactly at a tick boundary
  after a downward swap, as slot0 records it); walking the listed ticks from the current one, the active
  liquidity stays inside [0, 2**128) — a complete listing's nets sum to zero, and a window's leave a
  non-negative liquidity beyond its last tick;
- books are uncrossed (best bid < best ask); their levels are sorted (the reader checks that);
- every amount is inside uint256 and at most ``MAX_SUPPLY_WHOLE`` whole units of its asset; gas and gas prices
  are below what any chain charges.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.model.validate import MAX_SUPPLY_WHOLE, check_human, check_units
from fillpath.router.venues import uniswap_v3_math as v3m
from fillpath.router.venues.aggregator import Aggregator
from fillpath.router.venues.bridge import Bridge, Transfer
from fillpath.router.venues.order_book import OrderBook
from fillpath.router.venues.stableswap import StableSwapPool
from fillpath.router.venues.uniswap_v2 import UniswapV2Pair
from fillpath.router.venues.uniswap_v3 import UniswapV3Pool
from fillpath.router.venues.wrap import Wrap

if TYPE_CHECKING:
    from fillpath.router.snapshot import Snapshot

MAX_GAS = 10**9
"""Gas units per venue use: no chain's block holds more."""
MAX_GAS_PRICE_WEI = 10**16
"""10 million gwei per gas unit: three orders of magnitude above any recorded spike."""
MAX_LATENCY_S = 10**7
"""About 115 days: a bridge slower than that is not a route."""
FIX = "see docs/SNAPSHOT.md"

Decimals = Mapping[AssetId, int]


def _distinct(a: AssetId, b: AssetId, path: str) -> None:
    if a == b:
        raise InvalidInput(path, f"the same asset as the other side ({a})", "a venue trades two different assets")


def _units(value: int, path: str, decimals: int | None) -> None:
    check_units(value, path, decimals=decimals)


def _gas(value: int, path: str) -> None:
    if value > MAX_GAS:
        raise InvalidInput(path, f"{value} gas units is more than any block holds", f"at most {MAX_GAS:,}")


def _v2(v: UniswapV2Pair, path: str, dec: Decimals) -> None:
    _distinct(v.token0, v.token1, f"{path}.token1")
    _units(v.reserve0, f"{path}.reserve0", dec[v.token0])
    _units(v.reserve1, f"{path}.reserve1", dec[v.token1])
    _gas(v.gas, f"{path}.gas")


def v3_tick_problem(sqrt_price_x96: int, tick: int) -> str | None:
    """Why ``tick`` cannot go with ``sqrt_price_x96`` (None if it can). slot0 keeps the greatest tick whose price
    is <= the current price, except right after a downward swap that stopped exactly on a tick boundary, where it
    keeps that tick minus one (UniswapV3Pool.swap: ``tick = zeroForOne ? tickNext - 1 : tickNext``)."""
    at = v3m.get_tick_at_sqrt_ratio(sqrt_price_x96)
    if tick == at or (tick == at - 1 and v3m.get_sqrt_ratio_at_tick(at) == sqrt_price_x96):
        return None
    return f"{tick} does not match sqrt_price_x96, whose tick is {at}"


def _v3(v: UniswapV3Pool, path: str, dec: Decimals) -> None:
    _distinct(v.token0, v.token1, f"{path}.token1")
    problem = v3_tick_problem(v.sqrt_price_x96, v.tick)
    if problem is not None:
        raise InvalidInput(f"{path}.tick", problem, "tick = floor(log_1.0001(price)) as TickMath computes it; " + FIX)
    above = [(t, n) for t, n in v.ticks if t > v.tick]
    below = [(t, n) for t, n in reversed(v.ticks) if t <= v.tick]
    for steps, sign, side in ((above, 1, "above"), (below, -1, "below")):
        liquidity = v.liquidity
        for k, (t, net) in enumerate(steps):
            liquidity += sign * net
            if not 0 <= liquidity <= v3m.UINT128_MAX:
                index = v.ticks.index((t, net))
                state = "negative" if liquidity < 0 else "more than uint128"
                raise InvalidInput(
                    f"{path}.ticks[{index}][1]",
                    f"crossing tick {t} ({k + 1}. {side} the current one) leaves the active liquidity {state}",
                    "liquidity_net values must add up: a complete listing sums to zero; " + FIX,
                )
    _gas(v.gas, f"{path}.gas")
    _gas(v.gas_per_tick, f"{path}.gas_per_tick")


def _stableswap(v: StableSwapPool, path: str, dec: Decimals) -> None:
    for k, (coin, balance) in enumerate(zip(v.coins, v.balances, strict=True)):
        _units(balance, f"{path}.balances[{k}]", dec[coin])
    _gas(v.gas, f"{path}.gas")


def _book(v: OrderBook, path: str, dec: Decimals) -> None:
    _distinct(v.base, v.quote_asset, f"{path}.quote")
    if v.bids and v.asks and v.bids[0][0] >= v.asks[0][0]:
        raise InvalidInput(
            f"{path}.bids[0][0]",
            f"the book is crossed: best bid {v.bids[0][0]} >= best ask {v.asks[0][0]}",
            "a book's best bid is below its best ask; take the snapshot again",
        )
    for side in ("bids", "asks"):
        levels: tuple[tuple[Decimal, Decimal], ...] = getattr(v, side)
        for k, (price, size) in enumerate(levels):
            check_human(price, f"{path}.{side}[{k}][0]")
            check_human(size, f"{path}.{side}[{k}][1]")
    for name in ("lot", "tick", "min_notional"):
        check_human(getattr(v, name), f"{path}.{name}")


def _bridge(v: Bridge, path: str, dec: Decimals) -> None:
    _distinct(v.source, v.target, f"{path}.to")
    _units(v.fee_fixed, f"{path}.fee_fixed", dec[v.source])
    _units(v.max_amount, f"{path}.max_amount", None)  # "no limit" may be written as a uint256 maximum
    if v.latency_s > MAX_LATENCY_S:
        problem = f"{v.latency_s} s is longer than any transfer"
        raise InvalidInput(f"{path}.latency_s", problem, f"at most {MAX_LATENCY_S}")
    _gas(v.gas, f"{path}.gas")


def _aggregator(v: Aggregator, path: str, dec: Decimals) -> None:
    _distinct(v.token_in, v.token_out, f"{path}.token_out")
    for k, (amount_in, amount_out) in enumerate(v.samples):
        _units(amount_in, f"{path}.samples[{k}][0]", dec[v.token_in])
        _units(amount_out, f"{path}.samples[{k}][1]", dec[v.token_out])
    _gas(v.gas, f"{path}.gas")


def _wrap(v: Wrap, path: str, dec: Decimals) -> None:
    _distinct(v.native, v.wrapped, f"{path}.wrapped")
    _gas(v.gas, f"{path}.gas")


_CHECKS: dict[type, Callable[[Any, str, Decimals], None]] = {
    UniswapV2Pair: _v2,
    UniswapV3Pool: _v3,
    StableSwapPool: _stableswap,
    OrderBook: _book,
    Bridge: _bridge,
    Transfer: _bridge,
    Aggregator: _aggregator,
    Wrap: _wrap,
}


def check_physics(snap: Snapshot) -> Snapshot:
    """``snap`` itself if it can be real; else ``InvalidInput`` naming the first problem's JSON path."""
    dec: dict[AssetId, int] = {a.id: a.decimals for a in snap.assets}
    for k, loc in enumerate(snap.locations):
        if loc.gas_price_wei is not None and loc.gas_price_wei > MAX_GAS_PRICE_WEI:
            raise InvalidInput(
                f"locations[{k}].gas_price_wei", f"{loc.gas_price_wei} wei per gas is implausible", "check the unit"
            )
    for asset, held in (snap.holdings or {}).items():
        _units(held, f"holdings.{asset}", dec.get(asset))
    for asset, price in (snap.prices or {}).items():
        if price > MAX_SUPPLY_WHOLE:
            raise InvalidInput(f"prices.{asset}", f"{price} is implausible", "prices are per whole unit; check it")
    for k, venue in enumerate(snap.venues):
        _CHECKS[type(venue)](venue, f"venues[{k}]", dec)
    return snap
