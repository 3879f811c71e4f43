"""Wrapping native currency (ETH ⇄ WETH): 1:1 both ways, no capacity limit."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

from fillpath.model.assets import AssetId
from fillpath.router.curves import PiecewiseLinearCurve

WRAP_FLOAT_CAP = 1e40  # base units: 10^22 ETH


@dataclass(frozen=True, slots=True)
class Wrap:
    kind: ClassVar[str] = "wrap"

    id: str
    location: str
    native: AssetId
    wrapped: AssetId
    gas: int

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        return ((self.native, self.wrapped), (self.wrapped, self.native))

    def float_curve(self, asset_in: AssetId) -> PiecewiseLinearCurve:
        """1:1 without a practical bound; the network solve clips it to the request's scale."""
        return PiecewiseLinearCurve([(1.0, WRAP_FLOAT_CAP)])

    def _check(self, asset_in: AssetId) -> None:
        if asset_in not in (self.native, self.wrapped):
            raise ValueError(f"{asset_in} is not traded by {self.id}")

    def quote(self, asset_in: AssetId, amount_in: int) -> int:
        self._check(asset_in)
        return max(amount_in, 0)

    def marginal_rate(self, asset_in: AssetId, amount_in: int) -> Fraction:
        self._check(asset_in)
        return Fraction(1)

    def amount_at_rate(self, asset_in: AssetId, rate: Fraction) -> int:
        """Unbounded at rates up to 1; the Venue protocol has no infinity, so 0 above 1 and 2**256-1 below."""
        self._check(asset_in)
        return (1 << 256) - 1 if rate <= 1 else 0

    def capacity(self, asset_in: AssetId) -> int | None:
        self._check(asset_in)
        return None
