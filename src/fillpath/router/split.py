"""Water-filling: the optimal split of one amount over parallel venues on one pair.

At the optimum every used venue has the same marginal rate λ and every unused one a spot rate <= λ.
The total input ``S(λ) = Σ x_i(λ)`` is non-increasing, so λ is a one-dimensional root: found by a
safeguarded secant (Illinois) step on log λ, then made exact in integers: floor each venue's share at λ
and hand the remainder out in marginal-rate order, so the shares sum to the amount exactly.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from fillpath.model.errors import InvalidInput
from fillpath.router.curves import FloatCurve


@dataclass(frozen=True)
class Split:
    """Integer shares (same order as the curves) and the common marginal rate they reach."""

    shares: tuple[int, ...]
    rate: float
    iterations: int


class _Supply:
    """S(λ) evaluated only over venues whose spot rate beats λ (sorted, so a bisect finds them)."""

    def __init__(self, curves: Sequence[FloatCurve]) -> None:
        self.order = sorted(range(len(curves)), key=lambda i: -curves[i].spot)
        self.neg_spots = [-curves[i].spot for i in self.order]
        self.curves = [curves[i] for i in self.order]

    def __call__(self, lam: float) -> float:
        n = bisect_left(self.neg_spots, -lam)  # venues with spot > lam
        total = 0.0
        for c in self.curves[:n]:
            x = c.x_at_rate(lam)
            total += c.cap if x > c.cap else x
        return total


def _find_rate(supply: _Supply, amount: float, top: float) -> tuple[float, float, int]:
    """A bracket ``λ_lo <= λ* <= λ_hi`` with ``S(λ_lo) >= amount >= S(λ_hi)``, ~1e-14 wide (relative)."""
    hi, s_hi = top, 0.0
    lo = top / 2.0
    s_lo = supply(lo)
    it = 1
    while s_lo < amount:
        hi, s_hi = lo, s_lo
        lo /= 16.0
        s_lo = supply(lo)
        it += 1
        if lo < 1e-300:
            return lo, hi, it
    a, b = math.log(lo), math.log(hi)
    fa, fb = s_lo - amount, s_hi - amount  # fa >= 0 >= fb
    side = 0
    tol = amount * 1e-13 + 0.5
    while b - a > 1e-14 and it < 200:
        m = b - fb * (b - a) / (fb - fa) if fa > fb else 0.5 * (a + b)
        if not a < m < b:
            m = 0.5 * (a + b)
        fm = supply(math.exp(m)) - amount
        it += 1
        if abs(fm) < tol:
            return math.exp(m), math.exp(m), it
        if fm > 0:
            a, fa = m, fm
            if side == 1:
                fb /= 2.0
            side = 1
        else:
            b, fb = m, fm
            if side == -1:
                fa /= 2.0
            side = -1
    return math.exp(a), math.exp(b), it


def fill_rate(curves: Sequence[FloatCurve], amount: float) -> float:
    """The water level at which parallel ``curves`` together take ``amount`` (the low end of the bracket), 0.0 when
    they cannot take it at any rate. Adding venues only raises it: S(λ) is a sum, so the level over a subset of
    venues is a lower bound on the level over all of them, and a venue whose spot rate is below it gets nothing."""
    if not curves or amount <= 0.0:
        return 0.0
    supply = _Supply(curves)
    lo, _, _ = _find_rate(supply, amount, max(c.spot for c in curves))
    return lo if supply(lo) >= amount * (1.0 - 1e-9) else 0.0  # the root search stops within 1e-13 of amount


def _at(curves: Sequence[FloatCurve], lam: float, limit: Sequence[int]) -> list[int]:
    return [min(limit[i], max(0, math.floor(min(c.x_at_rate(lam), 1e300)))) for i, c in enumerate(curves)]


def water_fill(curves: Sequence[FloatCurve], amount: int, caps: Sequence[int | None]) -> Split:
    """Split ``amount`` over parallel ``curves`` (exact integer ``caps``, None = unbounded)."""
    if amount <= 0:
        raise InvalidInput("amount", "must be positive")
    bounded = [c for c in caps if c is not None]
    if len(bounded) == len(caps) and sum(bounded) < amount:
        raise InvalidInput("amount", f"exceeds what the venues can take ({sum(bounded)})", "sell less")
    supply = _Supply(curves)
    top = max(c.spot for c in curves)
    lam_lo, lam_hi, iterations = _find_rate(supply, float(amount), top)
    limit = [amount if c is None else min(c, amount) for c in caps]
    shares = _at(curves, lam_hi, limit)
    excess = sum(shares) - amount
    # float error may overshoot by a few units: take it back from the largest shares
    for i in sorted(range(len(shares)), key=lambda i: -shares[i]):
        if excess <= 0:
            break
        take = min(excess, shares[i])
        shares[i] -= take
        excess -= take
    left = amount - sum(shares)
    if left > 0 and lam_lo < lam_hi:
        # venues whose curve is flat across the (1e-14-wide) bracket — order-book levels at exactly λ* —
        # share the rest in proportion to how much more they take at the bracket's low end: all such
        # units trade at λ* to 1e-14, so any split among them is optimal
        gaps = [max(0, x - s) for x, s in zip(_at(curves, lam_lo, limit), shares, strict=True)]
        total_gap = sum(gaps)
        if total_gap > 0:
            give = min(left, total_gap)
            for i, g in enumerate(gaps):
                add = min(g, give * g // total_gap)
                shares[i] += add
                left -= add
    _hand_out(curves, shares, limit, left)
    return Split(tuple(shares), lam_hi, iterations)


def _hand_out(curves: Sequence[FloatCurve], shares: list[int], limit: Sequence[int], left: int) -> None:
    """Give the last ``left`` units to the venues with the best marginal rate, each up to where it stops
    being the best. What is left here is float error and floors: a handful of units per venue."""
    dust = max(1, (sum(shares) + left) >> 40)  # ~1e-12 of the amount
    heap = [(-c.rate(float(shares[i])), i) for i, c in enumerate(curves) if shares[i] < limit[i]]
    heapq.heapify(heap)
    rounds = 0
    while left > 0 and heap:
        rounds += 1
        _, i = heapq.heappop(heap)
        nxt = -heap[0][0] if heap else 0.0
        target = curves[i].x_at_rate(nxt) if nxt > 0 else math.inf
        step = max(1, math.floor(min(target, 1e300)) - shares[i]) if target < math.inf else left
        if left <= dust or rounds > 4 * len(curves) + 64:
            # float-error crumbs (misplacing them costs ~1e-24 relative), or rates equal to float
            # precision so any order is as good: the best venue takes the rest
            step = left
        step = min(step, left, limit[i] - shares[i])
        shares[i] += step
        left -= step
        if shares[i] < limit[i]:
            heapq.heappush(heap, (-curves[i].rate(float(shares[i])), i))
    if left > 0:
        raise InvalidInput("amount", "exceeds what the venues can take", "sell less")
