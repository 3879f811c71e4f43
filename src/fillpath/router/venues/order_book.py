"""A CEX spot market as a venue: a market order walks the book.

Selling base walks the bids; spending quote walks the asks and buys the base that budget affords, rounded
down to a lot multiple. The taker fee comes out of the asset received. An order below ``min_notional``
(quote units) is refused (0). Book quantities are human Decimals; all arithmetic is exact (``Fraction``)
and outputs round down to base units, so a quote never creates money.

The marginal rate at x is the fee-adjusted price of the level the x-th unit trades at (the best level at 0):
piecewise constant, and ``amount_at_rate(r)`` is the input that exactly exhausts every level at rate >= r.
Lot rounding and min_notional are ignored by the rate functions (they are step effects, not slopes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import ClassVar

from fillpath.model.assets import AssetId
from fillpath.router.curves import PiecewiseLinearCurve, piecewise_from_cumulative


def _floor(value: Fraction) -> int:
    return value.numerator // value.denominator


@dataclass(frozen=True, slots=True)
class OrderBook:
    kind: ClassVar[str] = "order_book"

    id: str
    location: str
    base: AssetId
    quote_asset: AssetId
    taker_fee: Decimal
    lot: Decimal
    tick: Decimal
    min_notional: Decimal
    bids: tuple[tuple[Decimal, Decimal], ...]
    """(price, size) best (highest) first."""
    asks: tuple[tuple[Decimal, Decimal], ...]
    """(price, size) best (lowest) first."""
    base_decimals: int
    quote_decimals: int
    gas: int = 0
    # Per side: cumulative input (base units, exact) at the end of each level, and each level's rate.
    _sell: tuple[tuple[Fraction, Fraction], ...] = field(init=False, repr=False, compare=False)
    _buy: tuple[tuple[Fraction, Fraction], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keep = 1 - Fraction(self.taker_fee)
        base_unit = Fraction(10**self.base_decimals)
        quote_unit = Fraction(10**self.quote_decimals)
        sell, total = [], Fraction(0)
        for price, size in self.bids:
            total += Fraction(size) * base_unit
            sell.append((total, Fraction(price) * keep * quote_unit / base_unit))
        buy, total = [], Fraction(0)
        for price, size in self.asks:
            total += Fraction(price) * Fraction(size) * quote_unit
            buy.append((total, keep / Fraction(price) * base_unit / quote_unit))
        object.__setattr__(self, "_sell", tuple(sell))
        object.__setattr__(self, "_buy", tuple(buy))

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        return ((self.base, self.quote_asset), (self.quote_asset, self.base))

    def float_curve(self, asset_in: AssetId) -> PiecewiseLinearCurve:
        """The levels in floats, for the optimizer's continuous solve (the plan re-quotes exactly)."""
        return piecewise_from_cumulative(list(self._sell if self._selling(asset_in) else self._buy))

    def _selling(self, asset_in: AssetId) -> bool:
        if asset_in == self.base:
            return True
        if asset_in == self.quote_asset:
            return False
        raise ValueError(f"{asset_in} is not traded on {self.id}")

    def _lots(self, quantity: Fraction) -> Fraction:
        """``quantity`` (human base units) rounded down to a whole number of lots."""
        lot = Fraction(self.lot)
        return _floor(quantity / lot) * lot

    def capacity(self, asset_in: AssetId) -> int:
        if self._selling(asset_in):
            depth = sum((Fraction(size) for _, size in self.bids), Fraction(0))
            return _floor(self._lots(depth) * 10**self.base_decimals)
        return _floor(self._buy[-1][0]) if self._buy else 0

    def quote(self, asset_in: AssetId, amount_in: int) -> int:
        """Exact output in base units of the asset received, after the taker fee, rounded down."""
        if amount_in <= 0:
            return 0
        keep = 1 - Fraction(self.taker_fee)
        if self._selling(asset_in):
            quantity = self._lots(Fraction(amount_in, 10**self.base_decimals))
            proceeds, left = Fraction(0), quantity
            for price, size in self.bids:
                take = min(left, Fraction(size))
                proceeds += take * Fraction(price)
                left -= take
                if left == 0:
                    break
            if quantity == 0 or proceeds < Fraction(self.min_notional):
                return 0
            return _floor(proceeds * keep * 10**self.quote_decimals)
        budget = Fraction(amount_in, 10**self.quote_decimals)
        bought = Fraction(0)
        for price, size in self.asks:
            take = min(Fraction(size), budget / Fraction(price))
            bought += take
            budget -= take * Fraction(price)
            if budget == 0:
                break
        quantity = self._lots(bought)
        if quantity == 0 or self._cost(quantity) < Fraction(self.min_notional):
            return 0
        return _floor(quantity * keep * 10**self.base_decimals)

    def _cost(self, quantity: Fraction) -> Fraction:
        """Quote spent buying ``quantity`` base by walking the asks."""
        cost, left = Fraction(0), quantity
        for price, size in self.asks:
            take = min(left, Fraction(size))
            cost += take * Fraction(price)
            left -= take
            if left == 0:
                break
        return cost

    def marginal_rate(self, asset_in: AssetId, amount_in: int) -> Fraction:
        levels = self._sell if self._selling(asset_in) else self._buy
        for end, rate in levels:
            if amount_in <= end:
                return rate
        return Fraction(0)

    def amount_at_rate(self, asset_in: AssetId, rate: Fraction) -> int:
        levels = self._sell if self._selling(asset_in) else self._buy
        reached = Fraction(0)
        for end, level_rate in levels:
            if level_rate < rate:
                break
            reached = end
        return min(_floor(reached), self.capacity(asset_in))
