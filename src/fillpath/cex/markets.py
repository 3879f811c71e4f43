"""Markets as we trade them: filters as exact Decimals, and the order-book venue the router reads.

The numbers come from the exchange's own strings (``market['info']``), never ccxt's float precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput

Level = tuple[Decimal, Decimal]


def plain(value: Decimal) -> str:
    """A decimal string without exponent or trailing zeros (``"0.00010000"`` → ``"0.0001"``)."""
    return format(value.normalize(), "f")


@dataclass(frozen=True, slots=True)
class Market:
    location: str
    symbol: str
    """Unified ``BASE/QUOTE``."""
    venue_symbol: str
    """The exchange's own spelling (``ETHUSDT``)."""
    base: str
    quote: str
    tick: Decimal
    lot: Decimal
    min_qty: Decimal
    max_qty: Decimal | None
    min_notional: Decimal
    min_price: Decimal | None
    max_price: Decimal | None

    @property
    def base_asset(self) -> AssetId:
        return AssetId(self.base, self.location)

    @property
    def quote_asset(self) -> AssetId:
        return AssetId(self.quote, self.location)

    def check_order(self, qty: Decimal, price: Decimal | None) -> None:
        """Refuse, before any request, what the venue's filters would refuse."""
        if qty % self.lot != 0:
            raise InvalidInput("qty", f"{qty} is not a multiple of the lot {plain(self.lot)} on {self.symbol}")
        if qty < self.min_qty or (self.max_qty is not None and qty > self.max_qty):
            raise InvalidInput("qty", f"{qty} is outside [{plain(self.min_qty)}, {self.max_qty}] on {self.symbol}")
        if price is not None:
            if price % self.tick != 0:
                raise InvalidInput("limit_price", f"{price} is not a multiple of the tick {plain(self.tick)}")
            if price * qty < self.min_notional:
                raise InvalidInput("qty", f"{qty} at {price} is below the min notional {plain(self.min_notional)}")


def order_book_venue(
    market: Market, taker_fee: Decimal, bids: Sequence[Level], asks: Sequence[Level], *, depth: int | None = None
) -> dict[str, Any]:
    """The ``order_book`` venue of SNAPSHOT.md: decimal strings, bids highest first, asks lowest first."""
    b = sorted(bids, key=lambda lv: lv[0], reverse=True)[:depth]
    a = sorted(asks, key=lambda lv: lv[0])[:depth]
    return {
        "kind": "order_book",
        "id": f"{market.location}:{market.base}/{market.quote}",
        "location": market.location,
        "base": str(market.base_asset),
        "quote": str(market.quote_asset),
        "taker_fee": plain(taker_fee),
        "lot": plain(market.lot),
        "tick": plain(market.tick),
        "min_notional": plain(market.min_notional),
        "bids": [[plain(p), plain(q)] for p, q in b if q > 0],
        "asks": [[plain(p), plain(q)] for p, q in a if q > 0],
    }
