"""Float views of venue curves for the continuous solve.

The optimizer evaluates thousands of marginal rates per solve; ``Fraction`` arithmetic there is ~50x too
slow. A venue may offer ``float_curve(asset_in)`` returning a :class:`FloatCurve`; otherwise
:class:`ExactCurve` wraps the exact Protocol methods (correct, slower). Floats are used only to find the
split; every amount in a plan comes from the venue's exact ``quote``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from fractions import Fraction
from operator import truediv
from typing import Protocol

from fillpath.model.assets import AssetId
from fillpath.router.venues.base import Venue

INF = math.inf
BESIDE_RAMP = 1e-3
"""Weight of the generalized curvature a linear segment within τ of its ramp (but not on it) lends."""


class FloatCurve(Protocol):
    """One direction of a venue as a concave curve out(x), in base units, as floats."""

    @property
    def spot(self) -> float:
        """Marginal rate at zero input."""
        ...

    @property
    def cap(self) -> float:
        """Largest input (``inf`` if unbounded)."""
        ...

    def out(self, x: float) -> float: ...

    def rate(self, x: float) -> float:
        """d(out)/d(in) at ``x``."""
        ...

    def x_at_rate(self, r: float) -> float:
        """Largest input whose marginal rate is still >= ``r`` (0 if ``r`` >= spot)."""
        ...

    def arb(self, rho: float, tau: float) -> tuple[float, float]:
        """(input, output) maximizing out(x) - rho*x. Piecewise-linear curves return the entropy-smoothed
        optimum (temperature ``tau``, relative to the rate) so the dual stays differentiable."""
        ...


class SmoothCurve:
    """Base for strictly concave curves: ``arb`` is the exact maximizer, ``tau`` is ignored."""

    __slots__ = ()  # a route over 10,000 venues makes 10,000 curves: no per-instance dict for the GC to walk

    spot: float
    cap: float

    def out(self, x: float) -> float:
        raise NotImplementedError

    def rate(self, x: float) -> float:
        raise NotImplementedError

    def x_at_rate(self, r: float) -> float:
        raise NotImplementedError

    def arb(self, rho: float, tau: float) -> tuple[float, float]:
        if rho >= self.spot:
            return 0.0, 0.0
        x = self.x_at_rate(rho)
        return x, self.out(x)


class ConstantProductCurve(SmoothCurve):
    """A Uniswap V2 pair in floats: out = g·x·ro/(ri + g·x), g = 1 − fee."""

    __slots__ = ("cap", "g", "k", "ri", "ro", "spot")

    def __init__(self, ri: int, ro: int, fee_ppm: int) -> None:
        self.ri = float(ri)
        self.ro = float(ro)
        self.g = (1_000_000 - fee_ppm) / 1_000_000
        self.k = self.g * self.ri * self.ro
        self.spot = self.g * self.ro / self.ri if self.ri else 0.0
        self.cap = INF

    def out(self, x: float) -> float:
        gx = self.g * x
        return gx * self.ro / (self.ri + gx)

    def rate(self, x: float) -> float:
        d = self.ri + self.g * x
        return self.k / (d * d)

    def x_at_rate(self, r: float) -> float:
        if r >= self.spot:
            return 0.0
        if r <= 0.0:
            return INF
        return (math.sqrt(self.k / r) - self.ri) / self.g


def piecewise_from_cumulative(points: list[tuple[Fraction, Fraction]]) -> PiecewiseLinearCurve:
    """Exact ``(cumulative input, rate)`` levels, best first (as order books keep them) → the float curve."""
    segments: list[tuple[float, float]] = []
    num, den = 0, 1  # the previous level's cumulative input
    for total, rate in points:
        n, d = total.numerator, total.denominator
        # float(total - before) without the Fraction's gcd (a book's float curve is built on every new snapshot):
        # Python's int / int rounds the exact quotient correctly, so the length is the same float. Called through
        # ``truediv``: mypyc compiles ``a / b`` on ints below 2^62 as a division of doubles, which rounds each int
        # first (it moved 14 of 720 plans by a few wei per leg). The rate likewise (``float(Fraction)`` is that
        # division, through an interpreted ``__float__``)
        segments.append((truediv(rate.numerator, rate.denominator), truediv(n * den - num * d, d * den)))
        num, den = n, d
    return PiecewiseLinearCurve(segments)


class PiecewiseLinearCurve:
    """Concave piecewise-linear curve: segments ``(rate, length)`` with rates non-increasing.

    Order books, transfers and capped linear edges are this shape. Their dual is not differentiable, so
    ``arb`` smooths each segment with temperature ``tau``: segment k's output ``r·x`` becomes
    ``r·x − (tau·r/2L)·x²``, so the input it takes falls linearly from L to 0 as the price ratio rises from
    ``r·(1 − tau)`` to ``r`` (a piecewise-quadratic dual: Newton's method converges on it in a few steps, where an
    exponential smoothing kept backtracking). It costs at most ``tau/2`` of the segment's output; the solver follows
    ``tau`` down towards 0.
    """

    def __init__(self, segments: list[tuple[float, float]]) -> None:
        segs = [(r, n) for r, n in segments if n > 0 and r > 0]
        self._rates = [r for r, _ in segs]
        self._neg_rates = [-r for r, _ in segs]
        self._lens = [n for _, n in segs]
        self._cum_x = [0.0]
        self._cum_out = [0.0]
        for r, n in segs:
            self._cum_x.append(self._cum_x[-1] + n)
            self._cum_out.append(self._cum_out[-1] + r * n)
        self.spot = segs[0][0] if segs else 0.0
        self.cap = self._cum_x[-1]

    @property
    def cumulative(self) -> tuple[list[float], list[float]]:
        """(input, output) at each segment's start, and at the end (one more entry than segments)."""
        return self._cum_x, self._cum_out

    @property
    def rates(self) -> list[float]:
        """The segments' rates, best first."""
        return self._rates

    def clipped(self, cap: float) -> PiecewiseLinearCurve:
        """The same curve ending at ``cap``: a linear arc far longer than any flow (a 1:1 wrap is "unlimited")
        would make the smoothed dual's flows, and so its gradient, scale with that length."""
        segs, room = [], cap
        for r, n in zip(self._rates, self._lens, strict=True):
            if room <= 0:
                break
            segs.append((r, min(n, room)))
            room -= n
        return PiecewiseLinearCurve(segs)

    def scaled(self, factor: float) -> PiecewiseLinearCurve:
        """The same curve with every rate times ``factor`` (a penalized venue's output, for choosing only)."""
        return PiecewiseLinearCurve([(r * factor, n) for r, n in zip(self._rates, self._lens, strict=True)])

    def _index(self, x: float) -> int:
        """Segment just after input ``x`` (``len`` once the curve is exhausted)."""
        return min(bisect_right(self._cum_x, x) - 1, len(self._rates))

    def out(self, x: float) -> float:
        k = self._index(max(x, 0.0))
        if k >= len(self._rates):
            return self._cum_out[-1]
        return self._cum_out[k] + self._rates[k] * (x - self._cum_x[k])

    def rate(self, x: float) -> float:
        k = self._index(max(x, 0.0))
        return self._rates[k] if k < len(self._rates) else 0.0

    def x_at_rate(self, r: float) -> float:
        return self._cum_x[self._count_ge(r)]

    def _count_ge(self, r: float) -> int:
        """Number of segments with rate >= r (a C bisection over the negated rates: the solve asks this ~1,000 times
        per route)."""
        return bisect_right(self._neg_rates, -r)

    def _ramp(self, rho: float, tau: float) -> tuple[int, int]:
        """Segments ``[0, full)`` are taken whole at ``rho`` and temperature ``tau``; ``[full, end)`` partly."""
        full = self._count_ge(rho / (1.0 - tau)) if tau < 1.0 else 0
        return full, self._count_ge(rho * (1.0 + 1e-15))

    def arb_slope(self, rho: float, tau: float) -> float:
        """d(input of ``arb``)/d(rho) at temperature ``tau`` (0 unsmoothed: the input is a step function). A segment
        within ``tau`` of its ramp counts as on it (a generalized derivative at the ramp's ends): a transfer just off,
        or just full, still ties its two prices, so Newton's method does not leap along the prices' common scale."""
        if tau <= 0.0:
            return 0.0
        full, off = self._ramp(rho, tau)
        return self._slope(rho, tau, full, off)

    def _slope(self, rho: float, tau: float, full: int, off: int) -> float:
        """``arb_slope`` given the ramp ``[full, off)`` (tau > 0)."""
        start = self._count_ge(rho / ((1.0 - tau) * (1.0 - tau))) if tau < 0.5 else 0
        end = self._count_ge(rho / (1.0 + tau))
        rates, lens = self._rates, self._lens
        # a segment just outside its ramp lends only a little curvature: enough to tie a flat node's prices, not so
        # much that it drowns the pools' curvature (a long transfer just off would shrink every Newton step)
        return -sum(lens[k] / (tau * rates[k]) * (1.0 if full <= k < off else BESIDE_RAMP) for k in range(start, end))

    def arb_with_slope(self, rho: float, tau: float) -> tuple[float, float, float]:
        """``arb`` and ``arb_slope`` at once (the Newton loop wants both at every arc, and they share the ramp): the
        same floats."""
        if tau <= 0.0:
            n = self._count_ge(rho)
            return self._cum_x[n], self._cum_out[n], 0.0
        full, end = self._ramp(rho, tau)
        x, out = self._ramped(rho, tau, full, end)
        return x, out, self._slope(rho, tau, full, end)

    def arb(self, rho: float, tau: float) -> tuple[float, float]:
        if tau <= 0.0:
            n = self._count_ge(rho)
            return self._cum_x[n], self._cum_out[n]
        full, end = self._ramp(rho, tau)
        return self._ramped(rho, tau, full, end)

    def _ramped(self, rho: float, tau: float, full: int, end: int) -> tuple[float, float]:
        """``arb`` given the ramp (tau > 0): each segment's output less the quadratic (tau·r/2L)·x², the segment
        taking L·clip((r − rho)/(tau·r), 0, 1)."""
        x = self._cum_x[full]
        out = self._cum_out[full] * (1.0 - 0.5 * tau)  # a whole segment keeps r·L·(1 − tau/2)
        rates, lens = self._rates, self._lens
        for k in range(full, end):
            r, size = rates[k], lens[k]
            share = (r - rho) / (tau * r)
            if share <= 0.0:
                continue
            share = min(share, 1.0)
            x += size * share
            out += size * share * (r - 0.5 * tau * r * share)
        return x, out


class ExactCurve(SmoothCurve):
    """Fallback over the exact Protocol methods for venues without ``float_curve``."""

    def __init__(self, venue: Venue, asset_in: AssetId) -> None:
        self._venue = venue
        self._asset = asset_in
        cap = venue.capacity(asset_in)
        self.cap = INF if cap is None else float(cap)
        self.spot = float(venue.marginal_rate(asset_in, 0))

    def out(self, x: float) -> float:
        return float(self._venue.quote(self._asset, int(min(x, self.cap))))

    def rate(self, x: float) -> float:
        return float(self._venue.marginal_rate(self._asset, int(min(x, self.cap))))

    def x_at_rate(self, r: float) -> float:
        if r <= 0.0:
            return self.cap
        return float(self._venue.amount_at_rate(self._asset, Fraction(r)))


def curve_for(venue: Venue, asset_in: AssetId) -> FloatCurve:
    """The venue's own float view if it has one, else the exact fallback."""
    make = getattr(venue, "float_curve", None)
    if make is not None:
        curve: FloatCurve = make(asset_in)
        return curve
    return ExactCurve(venue, asset_in)


class CostedCurve:
    """A curve net of a linear cost ``c`` per unit input (waiting): out(x) - c*x, for water-filling."""

    def __init__(self, inner: FloatCurve, cost: float) -> None:
        self._inner = inner
        self._cost = cost
        self.spot = inner.spot - cost
        self.cap = inner.cap

    def out(self, x: float) -> float:
        return self._inner.out(x) - self._cost * x

    def rate(self, x: float) -> float:
        return self._inner.rate(x) - self._cost

    def x_at_rate(self, r: float) -> float:
        return self._inner.x_at_rate(r + self._cost)

    def arb(self, rho: float, tau: float) -> tuple[float, float]:
        x, o = self._inner.arb(rho + self._cost, tau)
        return x, o - self._cost * x


class ScaledCurve(SmoothCurve):
    """A smooth curve whose output counts ``factor`` times (0 < factor <= 1): how a penalized venue looks to
    the optimizer. Only the choice of split sees it; the plan's amounts come from the venue's exact quote."""

    def __init__(self, inner: FloatCurve, factor: float) -> None:
        self._inner = inner
        self._factor = factor
        self.spot = inner.spot * factor
        self.cap = inner.cap

    def out(self, x: float) -> float:
        return self._inner.out(x) * self._factor

    def rate(self, x: float) -> float:
        return self._inner.rate(x) * self._factor

    def x_at_rate(self, r: float) -> float:
        return self._inner.x_at_rate(r / self._factor)

    def arb(self, rho: float, tau: float) -> tuple[float, float]:
        x, o = self._inner.arb(rho / self._factor, tau)
        return x, o * self._factor


def penalized(curve: FloatCurve, bps: int) -> FloatCurve:
    """``curve`` with its output reduced by ``bps`` (0 < bps < 10,000); piecewise-linear curves stay
    piecewise-linear, since the network solve smooths those and only those."""
    factor = (10_000 - bps) / 10_000
    if isinstance(curve, PiecewiseLinearCurve):
        return curve.scaled(factor)
    return ScaledCurve(curve, factor)


class ConcentratedCurve(SmoothCurve):
    """Concave chain of constant-product pieces: piece k is ``(ri, ro, length)``, virtual reserves and the
    input it takes (fee included). A Uniswap V3 pool between initialized ticks is exactly this shape (constant
    liquidity → constant product on virtual reserves); its end is the last listed tick (``cap``)."""

    def __init__(self, pieces: list[tuple[float, float, float]], fee_ppm: int) -> None:
        self.g = (1_000_000 - fee_ppm) / 1_000_000
        self._ri: list[float] = []
        self._ro: list[float] = []
        self._len: list[float] = []
        self._cum_x = [0.0]
        self._cum_out = [0.0]
        self._start: list[float] = []  # rate at each piece's start
        self._end: list[float] = []  # rate at each piece's end
        g = self.g
        for ri, ro, n in pieces:
            if n <= 0.0 or ri <= 0.0 or ro <= 0.0:
                continue
            self._ri.append(ri)
            self._ro.append(ro)
            self._len.append(n)
            d = ri + g * n
            self._cum_x.append(self._cum_x[-1] + n)
            self._cum_out.append(self._cum_out[-1] + g * n * ro / d)
            self._start.append(g * ro / ri)
            self._end.append(g * ri * ro / (d * d))
        self.spot = self._start[0] if self._start else 0.0
        self.cap = self._cum_x[-1]

    def _piece(self, x: float) -> int:
        return min(bisect_right(self._cum_x, x) - 1, len(self._len))

    def out(self, x: float) -> float:
        k = self._piece(max(x, 0.0))
        if k >= len(self._len):
            return self._cum_out[-1]
        gu = self.g * (x - self._cum_x[k])
        return self._cum_out[k] + gu * self._ro[k] / (self._ri[k] + gu)

    def rate(self, x: float) -> float:
        k = self._piece(max(x, 0.0))
        if k >= len(self._len):
            return 0.0
        d = self._ri[k] + self.g * (x - self._cum_x[k])
        return self.g * self._ri[k] * self._ro[k] / (d * d)

    def rate_slope(self, x: float) -> float:
        """d rate / dx at input ``x`` (< 0 inside a piece; 0 past the end)."""
        k = self._piece(max(x, 0.0))
        if k >= len(self._len):
            return 0.0
        d = self._ri[k] + self.g * (x - self._cum_x[k])
        return -2.0 * self.g * self.g * self._ri[k] * self._ro[k] / (d * d * d)

    def x_at_rate(self, r: float) -> float:
        if r <= 0.0:
            return self.cap
        # first piece whose end rate is below r (end rates are non-increasing)
        lo, hi = 0, len(self._end)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._end[mid] >= r:
                lo = mid + 1
            else:
                hi = mid
        k = lo
        if k >= len(self._end):
            return self.cap
        if self._start[k] <= r:
            return self._cum_x[k]  # r falls in the jump between pieces (an empty range, or a liquidity change)
        ri, ro, g = self._ri[k], self._ro[k], self.g
        u = (math.sqrt(g * ri * ro / r) - ri) / g
        return self._cum_x[k] + min(max(u, 0.0), self._len[k])
