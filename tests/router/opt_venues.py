"""Minimal venues implementing the Venue Protocol for optimizer tests and benchmarks.

The real venue kinds live in ``fillpath.router.venues`` (another branch); these are deliberately simple
but exact: integer quotes, exact Fraction marginal rates, and a ``float_curve`` for the fast solve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from math import isqrt

from fillpath.model.assets import AssetId
from fillpath.router.curves import ConstantProductCurve, PiecewiseLinearCurve

PPM = 1_000_000


@dataclass(frozen=True, eq=False)
class CPVenue:
    """Uniswap-V2-like pool with exact integer math."""

    id: str
    location: str
    token0: AssetId
    token1: AssetId
    reserve0: int
    reserve1: int
    fee_ppm: int = 3000
    gas: int = 0

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        return ((self.token0, self.token1), (self.token1, self.token0))

    def _res(self, asset_in: AssetId) -> tuple[int, int]:
        if asset_in == self.token0:
            return self.reserve0, self.reserve1
        if asset_in == self.token1:
            return self.reserve1, self.reserve0
        raise ValueError(f"{self.id} does not trade {asset_in}")

    def quote(self, asset_in: AssetId, amount_in: int) -> int:
        ri, ro = self._res(asset_in)
        if amount_in <= 0:
            return 0
        a = amount_in * (PPM - self.fee_ppm)
        return (a * ro) // (ri * PPM + a)

    def marginal_rate(self, asset_in: AssetId, amount_in: int) -> Fraction:
        ri, ro = self._res(asset_in)
        g = PPM - self.fee_ppm
        d = ri * PPM + g * amount_in
        return Fraction(g * ri * ro * PPM, d * d)

    def amount_at_rate(self, asset_in: AssetId, rate: Fraction) -> int:
        ri, ro = self._res(asset_in)
        g = PPM - self.fee_ppm
        if rate <= 0:
            raise ValueError("no finite amount at a non-positive rate")
        if rate > self.marginal_rate(asset_in, 0):
            return 0
        d = isqrt((g * ri * ro * PPM * rate.denominator) // rate.numerator)
        x = max(0, (d - ri * PPM) // g)
        while x > 0 and self.marginal_rate(asset_in, x) < rate:
            x -= 1
        while self.marginal_rate(asset_in, x + 1) >= rate:
            x += 1
        return x

    def capacity(self, asset_in: AssetId) -> int | None:
        return None

    def float_curve(self, asset_in: AssetId) -> ConstantProductCurve:
        ri, ro = self._res(asset_in)
        return ConstantProductCurve(ri, ro, self.fee_ppm)


@dataclass(frozen=True, eq=False)
class BookVenue:
    """Order-book-like venue: per direction, levels ``(rate, depth_in)`` best first, fee from the output."""

    id: str
    location: str
    base: AssetId
    quote_asset: AssetId
    sell_base: tuple[tuple[Fraction, int], ...]
    buy_base: tuple[tuple[Fraction, int], ...]
    fee_ppm: int = 1000
    gas: int = 0

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        return ((self.base, self.quote_asset), (self.quote_asset, self.base))

    def _levels(self, asset_in: AssetId) -> tuple[tuple[Fraction, int], ...]:
        if asset_in == self.base:
            return self.sell_base
        if asset_in == self.quote_asset:
            return self.buy_base
        raise ValueError(f"{self.id} does not trade {asset_in}")

    def quote(self, asset_in: AssetId, amount_in: int) -> int:
        levels = self._levels(asset_in)
        if amount_in <= 0 or amount_in > sum(d for _, d in levels):
            return 0
        left, acc = amount_in, Fraction(0)
        for rate, depth in levels:
            take = min(left, depth)
            acc += rate * take
            left -= take
            if not left:
                break
        return math.floor(acc * (PPM - self.fee_ppm) / PPM)

    def marginal_rate(self, asset_in: AssetId, amount_in: int) -> Fraction:
        seen = 0
        for rate, depth in self._levels(asset_in):
            seen += depth
            if amount_in < seen:
                return rate * (PPM - self.fee_ppm) / PPM
        return Fraction(0)

    def amount_at_rate(self, asset_in: AssetId, rate: Fraction) -> int:
        total = 0
        for r, depth in self._levels(asset_in):
            if r * (PPM - self.fee_ppm) / PPM < rate:
                break
            total += depth
        return total

    def capacity(self, asset_in: AssetId) -> int | None:
        return sum(d for _, d in self._levels(asset_in))

    def float_curve(self, asset_in: AssetId) -> PiecewiseLinearCurve:
        f = (PPM - self.fee_ppm) / PPM
        return PiecewiseLinearCurve([(float(r) * f, float(d)) for r, d in self._levels(asset_in)])


@dataclass(frozen=True, eq=False)
class TransferVenue:
    """One-way move (bridge/deposit): out = in - fee_fixed - floor(in*fee_ppm/1e6), at most ``max_amount``."""

    id: str
    location: str
    src: AssetId
    dst: AssetId
    max_amount: int
    fee_fixed: int = 0
    fee_ppm: int = 0
    gas: int = 0
    latency_s: int = 0

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        return ((self.src, self.dst),)

    def _check(self, asset_in: AssetId) -> None:
        if asset_in != self.src:
            raise ValueError(f"{self.id} does not take {asset_in}")

    def quote(self, asset_in: AssetId, amount_in: int) -> int:
        self._check(asset_in)
        if amount_in <= 0 or amount_in > self.max_amount:
            return 0
        return max(0, amount_in - self.fee_fixed - amount_in * self.fee_ppm // PPM)

    def marginal_rate(self, asset_in: AssetId, amount_in: int) -> Fraction:
        self._check(asset_in)
        return Fraction(PPM - self.fee_ppm, PPM) if amount_in < self.max_amount else Fraction(0)

    def amount_at_rate(self, asset_in: AssetId, rate: Fraction) -> int:
        return self.max_amount if rate <= self.marginal_rate(asset_in, 0) else 0

    def capacity(self, asset_in: AssetId) -> int | None:
        self._check(asset_in)
        return self.max_amount

    def float_curve(self, asset_in: AssetId) -> PiecewiseLinearCurve:
        self._check(asset_in)
        return PiecewiseLinearCurve([((PPM - self.fee_ppm) / PPM, float(self.max_amount))])
