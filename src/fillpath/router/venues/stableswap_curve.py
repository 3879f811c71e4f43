"""One direction (coin i → coin j) of a StableSwap pool in floats, for the optimizer's continuous solve.

The exact pool is integer Newton over ``Fraction`` rates (``marginal_rate`` rebuilds D and y every call);
the solver asks for thousands of rates per solve. Here the invariant is solved in floats, once for D.

On balances normalised to 18 decimals, with P = D^(n+1)/(n^n·Πx), the invariant says Ann·Σx − P is constant.
Moving coin i by +X and coin j by −Y (a = X/x_i, b = Y/x_j) gives

    Ann·(X − Y) = P0·(1/((1+a)(1−b)) − 1)

whose terms all scale with X: solving it for Y by Newton keeps full relative precision for small trades,
where ``x_j − y`` would cancel. The closed-form y of the quadratic (other coins fixed) gives the start point
and the post-trade state for ``rate``; rate is −dx_j/dx_i by the implicit function theorem, as the exact
``marginal_rate_between``. The fee and the 1-unit rounding are left as the pool takes them (fee on output;
rounding within a few base units). Input is unbounded (``cap`` = inf): the rate only tends to 0.
"""

from __future__ import annotations

import math

from fillpath.router.curves import INF, SmoothCurve

_NEWTON_STEPS = 8
_RATE_STEPS = 200


def float_d(xp: list[float], amp: int) -> float:
    """The invariant D by Newton in floats (the pool's get_D iteration, without integer rounding)."""
    n = len(xp)
    total = sum(xp)
    if total <= 0.0:
        return 0.0
    ann = amp * n
    d = total
    for _ in range(255):
        d_p = d
        for x in xp:
            d_p = d_p * d / (x * n)
        d_prev = d
        d = (ann * total + d_p * n) * d / ((ann - 1) * d + (n + 1) * d_p)
        if abs(d - d_prev) <= 1e-15 * d:
            break
    return d


class StableSwapCurve(SmoothCurve):
    """out(X) in base units of coin i → base units of coin j, fee included."""

    def __init__(
        self, xp: list[float], i: int, j: int, amp: int, scale_in: float, scale_out: float, keep: float
    ) -> None:
        """``xp`` normalised balances; ``scale_in``/``scale_out`` = 10^(18 − decimals) of coins i and j;
        ``keep`` = 1 − fee."""
        n = len(xp)
        self._ann = float(amp * n)
        self._xi = xp[i]
        self._xj = xp[j]
        self._si = scale_in
        self._sj = scale_out
        self._factor = scale_in / scale_out * keep  # raw rate → rate in base units, fee taken
        self._keep = keep
        self.cap = INF
        if min(xp) <= 0.0 or keep <= 0.0:  # the pool's get_dy is 0 with any coin empty
            self._alive = False
            self.spot = 0.0
            return
        self._alive = True
        d = float_d(xp, amp)
        rest = [x for k, x in enumerate(xp) if k not in (i, j)]
        self._s_rest = sum(rest)
        k_rest = d
        for x in rest:
            k_rest = k_rest * d / (x * n)
        # K = D^(n+1) / (n^n · Π rest), built in steps to stay in range; P = K / (x_i x_j)
        self._k = k_rest * d * d / (n * n)
        self._ann_d_less_d = (
            self._ann - 1.0
        ) * d  # Ann·D − D (not `_const`: mypyc names the C field `__const`, a GCC keyword)
        self._p0 = self._k / (self._xi * self._xj)
        self.spot = self._raw_rate(self._xi, self._xj) * self._factor
        # x_at_rate's first-order guess at X = 0, the same for every rate asked (the solve asks ~100 per route)
        self._slope0 = self._dlog_rate(self._xi, self._xj) / self._xi
        self._log_spot = math.log(self.spot / self._factor) if self.spot > 0.0 else -INF

    # --- the invariant -----------------------------------------------------------------------------------

    def _y(self, t: float) -> float:
        """Balance of coin j when coin i is ``t`` (the quadratic Ann·y² + B·y − K/t = 0, stable branch)."""
        ann = self._ann
        b = ann * (t + self._s_rest) - self._ann_d_less_d
        c = self._k / t
        root = math.sqrt(b * b + 4.0 * ann * c)
        if b <= 0.0:
            return (root - b) / (2.0 * ann)
        return 2.0 * c / (b + root)

    def _raw_rate(self, t: float, y: float) -> float:
        """−dy/dt on the invariant at (t, y): (Ann + P/t)/(Ann + P/y), P = K/(t·y)."""
        p = self._k / (t * y)
        return (self._ann + p / t) / (self._ann + p / y)

    def _raw_out(self, x: float) -> float:
        """Y (normalised) for normalised input ``x``: Newton on the delta form from the quadratic's y."""
        xi, xj, ann, p0 = self._xi, self._xj, self._ann, self._p0
        a = x / xi
        big = 1.0 + a
        y = xj - self._y(xi + x)
        y = min(max(y, 0.0), xj * (1.0 - 1e-16))
        for _ in range(_NEWTON_STEPS):
            b = y / xj
            low = 1.0 - b
            if low <= 0.0:  # an input so large it takes all of coin j, to the last float bit
                return y
            phi = p0 * (b * big - a) / (big * low) - ann * (x - y)
            slope = p0 / (xj * big * low * low) + ann
            step = phi / slope
            nxt = y - step
            if nxt >= xj:
                nxt = 0.5 * (y + xj)
            elif nxt < 0.0:
                nxt = 0.5 * y
            if abs(nxt - y) <= 1e-16 * y:
                return nxt
            y = nxt
        return y

    # --- SmoothCurve -------------------------------------------------------------------------------------

    def out(self, x: float) -> float:
        if x <= 0.0 or not self._alive:
            return 0.0
        if x == INF:
            return self._xj / self._sj * self._keep
        return self._raw_out(x * self._si) / self._sj * self._keep

    def rate(self, x: float) -> float:
        if not self._alive:
            return 0.0
        if x <= 0.0:
            return self.spot
        if x == INF:
            return 0.0
        t = self._xi + x * self._si
        return self._raw_rate(t, self._y(t)) * self._factor

    def rate_slope(self, x: float) -> float:
        """d rate / dx at input ``x`` (< 0): the solve's curvature, analytic (a numeric one costs two ``x_at_rate``)."""
        if not self._alive or x <= 0.0 or x == INF:
            return 0.0
        t = self._xi + x * self._si
        y = self._y(t)
        return self._raw_rate(t, y) * self._factor * self._dlog_rate(t, y) * self._si / t

    def x_at_rate(self, r: float) -> float:
        """Bracketed Newton on log rate against w = log X (normalised input), from the first-order guess at
        X = 0: small inputs then converge at once, and far out rate falls like X^-3, tame in log-log."""
        if r >= self.spot:
            return 0.0
        if r <= 0.0:
            return INF
        scaled = r / self._factor
        if scaled <= 0.0:  # a rate below the smallest float in the pool's units: no input is too large
            return INF
        target = math.log(scaled)
        xi = self._xi
        slope0 = self._slope0  # d log R / dX at X = 0 (< 0)
        guess = (target - self._log_spot) / slope0
        w = math.log(min(max(guess, 1e-300), 1e300))
        lo, hi = -INF, INF
        for _ in range(_RATE_STEPS):
            x = math.exp(w)
            t = xi + x
            y = self._y(t)
            raw = self._raw_rate(t, y)
            if not raw > 0.0:  # so far out that y, and with it the rate, underflowed: below any target
                hi = w
                w = 0.5 * (lo + hi) if lo > -INF else w - 2.0
                continue
            f = math.log(raw) - target
            if abs(f) <= 1e-13:
                break
            if f > 0.0:
                lo = w
            else:
                hi = w
            nxt = w - f / (self._dlog_rate(t, y, raw) * x / t)
            if not lo < nxt < hi:
                nxt = 0.5 * (lo + hi) if lo > -INF and hi < INF else min(max(nxt, w - 2.0), w + 2.0)
            if abs(nxt - w) <= 1e-14 * max(abs(w), 1.0) or w > 700.0:
                break
            w = nxt
        return math.exp(w) / self._si

    def _dlog_rate(self, t: float, y: float, big_r: float | None = None) -> float:
        """d log R / d log t along the invariant, with dy/dt = −R (``big_r``: R at (t, y), if the caller has it)."""
        ann = self._ann
        big_r = self._raw_rate(t, y) if big_r is None else big_r
        u = self._k / (t * t * y)  # P/t
        v = self._k / (t * y * y)  # P/y
        du = u * (-2.0 + big_r * t / y)  # t·du/dt
        dv = v * (-1.0 + 2.0 * big_r * t / y)  # t·dv/dt
        return du / (ann + u) - dv / (ann + v)
