"""A Uniswap V2 pair as a venue: UniswapV2Library's getAmountOut/getAmountIn with any fee, exactly.

With ``fee_ppm`` 3000 the formula scales the pair's 997/1000 by 1000 on both sides, so results are identical
to the pair's. Marginal rate and its inverse are closed forms (integer sqrt), exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import isqrt
from typing import ClassVar

from fillpath.model.assets import AssetId
from fillpath.router.curves import ConstantProductCurve

PPM = 1_000_000
UINT112_MAX = (1 << 112) - 1


@dataclass(frozen=True, slots=True)
class UniswapV2Pair:
    kind: ClassVar[str] = "uniswap_v2"

    id: str
    location: str
    address: str
    token0: AssetId
    token1: AssetId
    reserve0: int
    reserve1: int
    fee_ppm: int
    gas: int

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        return ((self.token0, self.token1), (self.token1, self.token0))

    def float_curve(self, asset_in: AssetId) -> ConstantProductCurve:
        """The pair in floats, for the optimizer's continuous solve (the plan re-quotes exactly)."""
        if asset_in == self.token0:
            return ConstantProductCurve(self.reserve0, self.reserve1, self.fee_ppm)
        return ConstantProductCurve(self.reserve1, self.reserve0, self.fee_ppm)

    def reserves(self, asset_in: AssetId) -> tuple[int, int]:
        """(reserve of asset_in, reserve of the other token)."""
        if asset_in == self.token0:
            return self.reserve0, self.reserve1
        if asset_in == self.token1:
            return self.reserve1, self.reserve0
        raise ValueError(f"{asset_in} is not traded by {self.id}")

    def capacity(self, asset_in: AssetId) -> int:
        """The pair stores reserves as uint112: a larger input reverts on chain."""
        reserve_in, _ = self.reserves(asset_in)
        return max(UINT112_MAX - reserve_in, 0)

    def quote(self, asset_in: AssetId, amount_in: int) -> int:
        """getAmountOut; inputs beyond ``capacity`` are quoted at capacity."""
        reserve_in, reserve_out = self.reserves(asset_in)
        amount_in = min(amount_in, self.capacity(asset_in))
        if amount_in <= 0 or reserve_in == 0 or reserve_out == 0:
            return 0
        with_fee = amount_in * (PPM - self.fee_ppm)
        return with_fee * reserve_out // (reserve_in * PPM + with_fee)

    def quote_out(self, asset_in: AssetId, amount_out: int) -> int | None:
        """getAmountIn: an input that yields ``amount_out``. It is the library's, which adds 1 even when the
        division is exact (so at most 1 above the least such input). None if the pair cannot give it."""
        reserve_in, reserve_out = self.reserves(asset_in)
        if amount_out <= 0:
            return 0
        if amount_out >= reserve_out or reserve_in == 0:
            return None
        needed = reserve_in * amount_out * PPM // ((reserve_out - amount_out) * (PPM - self.fee_ppm)) + 1
        return needed if needed <= self.capacity(asset_in) else None

    def marginal_rate(self, asset_in: AssetId, amount_in: int) -> Fraction:
        """d/dx of k*x*Ro/(Ri*1e6 + k*x) with k = 1e6 - fee: k*1e6*Ri*Ro / (Ri*1e6 + k*x)^2."""
        reserve_in, reserve_out = self.reserves(asset_in)
        if reserve_in == 0 or amount_in >= self.capacity(asset_in):
            return Fraction(0)
        keep = PPM - self.fee_ppm
        denominator = reserve_in * PPM + keep * max(amount_in, 0)
        return Fraction(keep * PPM * reserve_in * reserve_out, denominator * denominator)

    def amount_at_rate(self, asset_in: AssetId, rate: Fraction) -> int:
        """Largest x with marginal_rate(x) >= rate: (isqrt(k*1e6*Ri*Ro/rate) - Ri*1e6) // k."""
        reserve_in, reserve_out = self.reserves(asset_in)
        cap = self.capacity(asset_in)
        if rate <= 0:
            return cap
        keep = PPM - self.fee_ppm
        if keep == 0 or reserve_in == 0:
            return 0
        root = isqrt(keep * PPM * reserve_in * reserve_out * rate.denominator // rate.numerator)
        return min(max((root - reserve_in * PPM) // keep, 0), cap)
