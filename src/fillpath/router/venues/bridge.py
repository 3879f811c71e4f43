"""Bridges and CEX deposits/withdrawals: a fixed fee plus a proportional fee, one direction, capped.

out = in − fee_fixed − floor(in·fee_ppm/10^6), in the ``from`` asset's base units, then converted to the
``to`` asset's decimals rounding down (never creating money). Inputs beyond ``max_amount`` are quoted at
``max_amount`` (the venue takes no more).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

from fillpath.model.assets import AssetId
from fillpath.router.curves import PiecewiseLinearCurve

PPM = 1_000_000


@dataclass(frozen=True, slots=True)
class Bridge:
    kind: ClassVar[str] = "bridge"

    id: str
    source: AssetId
    target: AssetId
    fee_fixed: int
    fee_ppm: int
    latency_s: int
    max_amount: int
    gas: int
    source_decimals: int
    target_decimals: int

    @property
    def location(self) -> str:
        """Where the venue is used (and its gas paid): the ``from`` asset's location."""
        return self.source.location

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        return ((self.source, self.target),)

    def _check(self, asset_in: AssetId) -> None:
        if asset_in != self.source:
            raise ValueError(f"{self.id} only takes {self.source}")

    def _convert(self, amount: int) -> int:
        shift = self.target_decimals - self.source_decimals
        factor: int = 10 ** abs(shift)
        return amount * factor if shift >= 0 else amount // factor

    def quote(self, asset_in: AssetId, amount_in: int) -> int:
        self._check(asset_in)
        amount_in = min(amount_in, self.max_amount)
        if amount_in <= 0:
            return 0
        net = amount_in - self.fee_fixed - amount_in * self.fee_ppm // PPM
        return self._convert(net) if net > 0 else 0

    def marginal_rate(self, asset_in: AssetId, amount_in: int) -> Fraction:
        """The proportional part only: the fixed fee is a fixed cost, not a slope."""
        self._check(asset_in)
        if amount_in >= self.max_amount:
            return Fraction(0)
        return Fraction(PPM - self.fee_ppm, PPM) * Fraction(10) ** (self.target_decimals - self.source_decimals)

    def amount_at_rate(self, asset_in: AssetId, rate: Fraction) -> int:
        return self.max_amount if rate <= self.marginal_rate(asset_in, 0) else 0

    def capacity(self, asset_in: AssetId) -> int:
        self._check(asset_in)
        return self.max_amount

    def float_curve(self, asset_in: AssetId) -> PiecewiseLinearCurve:
        """One linear piece up to ``max_amount`` for the continuous solve. The fixed fee is left out: it is a fixed
        cost, not a slope, so the curve is never below the exact quote (the dual bound stays an upper bound) and the
        plan re-quotes exactly. The network solve clips the piece to the request's scale."""
        self._check(asset_in)
        shift = self.target_decimals - self.source_decimals
        # float(marginal_rate) without building Fractions (a new snapshot builds every curve): one int / int,
        # correctly rounded, so the same float
        keep = PPM - self.fee_ppm
        rate = keep * 10**shift / PPM if shift >= 0 else keep / (PPM * 10**-shift)
        return PiecewiseLinearCurve([(rate if self.max_amount > 0 else 0.0, float(self.max_amount))])


@dataclass(frozen=True, slots=True)
class Transfer(Bridge):
    """A deposit to or a withdrawal from an exchange account: the same math as a bridge."""

    kind: ClassVar[str] = "transfer"
