"""An external aggregator's quote, sampled: linear between samples, rounding down, never beyond the last.

The curve starts at (0, 0). The marginal rate at x is the slope of the segment that the x-th unit falls in
(the first segment at 0), so ``amount_at_rate(r)`` is the end of a segment and the rate there is still >= r.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar

from fillpath.model.assets import AssetId


@dataclass(frozen=True, slots=True)
class Aggregator:
    kind: ClassVar[str] = "aggregator"

    id: str
    location: str
    token_in: AssetId
    token_out: AssetId
    samples: tuple[tuple[int, int], ...]
    """(amount_in, amount_out), amount_in strictly ascending and positive."""
    gas: int
    _inputs: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_inputs", tuple(a for a, _ in self.samples))

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        return ((self.token_in, self.token_out),)

    def _check(self, asset_in: AssetId) -> None:
        if asset_in != self.token_in:
            raise ValueError(f"{self.id} only takes {self.token_in}")

    def _segment(self, amount_in: int) -> tuple[int, int, int, int]:
        """(in_a, out_a, in_b, out_b) of the segment with in_a < amount_in <= in_b (first one at 0)."""
        i = bisect_left(self._inputs, amount_in) if amount_in > 0 else 0
        in_a, out_a = self.samples[i - 1] if i > 0 else (0, 0)
        in_b, out_b = self.samples[i]
        return in_a, out_a, in_b, out_b

    def capacity(self, asset_in: AssetId) -> int:
        self._check(asset_in)
        return self.samples[-1][0] if self.samples else 0

    def quote(self, asset_in: AssetId, amount_in: int) -> int:
        amount_in = min(amount_in, self.capacity(asset_in))
        if amount_in <= 0:
            return 0
        in_a, out_a, in_b, out_b = self._segment(amount_in)
        return out_a + (amount_in - in_a) * (out_b - out_a) // (in_b - in_a)

    def marginal_rate(self, asset_in: AssetId, amount_in: int) -> Fraction:
        if amount_in >= self.capacity(asset_in):
            return Fraction(0)
        in_a, out_a, in_b, out_b = self._segment(amount_in)
        return Fraction(out_b - out_a, in_b - in_a)

    def amount_at_rate(self, asset_in: AssetId, rate: Fraction) -> int:
        """The end of the last segment of the leading run whose slopes are all >= ``rate``."""
        self._check(asset_in)
        reached, prev_in, prev_out = 0, 0, 0
        for amount_in, amount_out in self.samples:
            if Fraction(amount_out - prev_out, amount_in - prev_in) < rate:
                break
            reached, prev_in, prev_out = amount_in, amount_in, amount_out
        return reached
