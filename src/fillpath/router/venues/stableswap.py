"""A Curve StableSwap plain pool (classic Vyper pool, n coins) as a venue, with the pool's integer math.

Invariant (with Ann = A·n, as the classic pool writes it): Ann·Σx + D = Ann·D + D^(n+1) / (n^n·Πx), on
balances normalised to 18 decimals with RATES = 10^(36 − decimals). ``quote`` is the pool's ``get_dy``: the
fee (over 10^10) is taken from dy after rescaling to the output coin's units. The pool's ``exchange`` takes
the fee before rescaling, which for coins with fewer than 18 decimals can give 1 base unit more or less.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar

from fillpath.model.assets import AssetId
from fillpath.router.venues.stableswap_curve import StableSwapCurve

PRECISION = 10**18
FEE_DENOMINATOR = 10**10
_MAX_ITERATIONS = 255


def get_d(xp: tuple[int, ...] | list[int], amp: int) -> int:
    """The invariant D by Newton's method, as StableSwap.get_D (raises ZeroDivisionError on an empty coin)."""
    n = len(xp)
    total = sum(xp)
    if total == 0:
        return 0
    d = total
    ann = amp * n
    for _ in range(_MAX_ITERATIONS):
        d_p = d
        for x in xp:
            d_p = d_p * d // (x * n)
        d_prev = d
        d = (ann * total + d_p * n) * d // ((ann - 1) * d + (n + 1) * d_p)
        if abs(d - d_prev) <= 1:
            break
    return d


def get_y(i: int, j: int, x: int, xp: tuple[int, ...] | list[int], amp: int) -> int:
    """The new balance of coin j when coin i is set to x, keeping D: StableSwap.get_y."""
    n = len(xp)
    d = get_d(xp, amp)
    ann = amp * n
    c = d
    s = 0
    for k in range(n):
        if k == i:
            value = x
        elif k != j:
            value = xp[k]
        else:
            continue
        s += value
        c = c * d // (value * n)
    c = c * d // (ann * n)
    b = s + d // ann
    y = d
    for _ in range(_MAX_ITERATIONS):
        y_prev = y
        y = (y * y + c) // (2 * y + b - d)
        if abs(y - y_prev) <= 1:
            break
    return y


@dataclass(frozen=True, slots=True)
class StableSwapPool:
    kind: ClassVar[str] = "stableswap"

    id: str
    location: str
    address: str
    coins: tuple[AssetId, ...]
    balances: tuple[int, ...]
    amp: int
    fee: int
    """Over 10^10 (4_000_000 = 0.04%)."""
    gas: int
    decimals: tuple[int, ...]
    _curves: dict[tuple[int, int], StableSwapCurve] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_curves", {})

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        return tuple((a, b) for a in self.coins for b in self.coins if a != b)

    def rates(self) -> tuple[int, ...]:
        return tuple(10 ** (36 - d) for d in self.decimals)

    def xp(self) -> tuple[int, ...]:
        return tuple(r * b // PRECISION for r, b in zip(self.rates(), self.balances, strict=True))

    def _index(self, asset_in: AssetId) -> int:
        try:
            return self.coins.index(asset_in)
        except ValueError:
            raise ValueError(f"{asset_in} is not traded by {self.id}") from None

    def _other(self, i: int) -> int:
        """The output coin for an input coin. The Venue protocol names only the input, so a pool with more
        than two coins must be split into per-pair views (``pair_view``) before quoting."""
        if len(self.coins) != 2:
            raise ValueError(f"{self.id} has {len(self.coins)} coins: quote through pair_view(asset_out)")
        return 1 - i

    def get_dy(self, i: int, j: int, dx: int) -> int:
        """StableSwap.get_dy on the snapshot balances (0 where the pool would revert)."""
        if dx <= 0 or i == j:
            return 0
        rates = self.rates()
        xp = self.xp()
        if 0 in xp:
            return 0
        x = xp[i] + dx * rates[i] // PRECISION
        y = get_y(i, j, x, xp, self.amp)
        raw = xp[j] - y - 1
        if raw <= 0:
            return 0
        dy = raw * PRECISION // rates[j]
        return dy - self.fee * dy // FEE_DENOMINATOR

    def marginal_rate_between(self, i: int, j: int, amount_in: int) -> Fraction:
        """-dx_j/dx_i on the invariant at the state after ``amount_in``, fee-adjusted, in base units."""
        rates = self.rates()
        xp = list(self.xp())
        if 0 in xp:
            return Fraction(0)
        n = len(xp)
        d = get_d(xp, self.amp)
        dx = max(amount_in, 0) * rates[i] // PRECISION
        if dx > 0:
            xp[j] = get_y(i, j, xp[i] + dx, xp, self.amp)
            xp[i] += dx
        product = 1
        for x in xp:
            product *= x
        p = Fraction(d ** (n + 1), n**n * product)
        ann = self.amp * n
        rate = (ann + p / xp[i]) / (ann + p / xp[j])
        return rate * Fraction(rates[i], rates[j]) * Fraction(FEE_DENOMINATOR - self.fee, FEE_DENOMINATOR)

    def amount_between_at_rate(self, i: int, j: int, rate: Fraction) -> int:
        """Largest input whose marginal rate is >= ``rate``, by bisection on the exact marginal rate."""
        if self.marginal_rate_between(i, j, 0) < rate:
            return 0
        low, high = 0, 1
        while self.marginal_rate_between(i, j, high) >= rate:
            low, high = high, high * 2
            if high > 1 << 200:
                return low
        while high - low > 1:
            mid = (low + high) // 2
            if self.marginal_rate_between(i, j, mid) >= rate:
                low = mid
            else:
                high = mid
        return low

    def curve_between(self, i: int, j: int) -> StableSwapCurve:
        """The (i → j) direction in floats for the optimizer's continuous solve (the plan re-quotes exactly),
        built once per direction and shared by the pool's pair views."""
        curve = self._curves.get((i, j))
        if curve is None:
            scale = [r / PRECISION for r in self.rates()]
            xp = [float(x) for x in self.xp()]
            keep = (FEE_DENOMINATOR - self.fee) / FEE_DENOMINATOR
            curve = StableSwapCurve(xp, i, j, self.amp, scale[i], scale[j], keep)
            self._curves[(i, j)] = curve
        return curve

    # --- the Venue protocol (two-coin pools; see pair_view for more) ----------------------------------------

    def quote(self, asset_in: AssetId, amount_in: int) -> int:
        i = self._index(asset_in)
        return self.get_dy(i, self._other(i), amount_in)

    def marginal_rate(self, asset_in: AssetId, amount_in: int) -> Fraction:
        i = self._index(asset_in)
        return self.marginal_rate_between(i, self._other(i), amount_in)

    def amount_at_rate(self, asset_in: AssetId, rate: Fraction) -> int:
        i = self._index(asset_in)
        return self.amount_between_at_rate(i, self._other(i), rate)

    def capacity(self, asset_in: AssetId) -> int | None:
        self._index(asset_in)
        return None

    def float_curve(self, asset_in: AssetId) -> StableSwapCurve:
        i = self._index(asset_in)
        return self.curve_between(i, self._other(i))

    def pair_view(self, asset_in: AssetId, asset_out: AssetId) -> StableSwapPair:
        return StableSwapPair(self, self._index(asset_in), self._index(asset_out))


@dataclass(frozen=True, slots=True)
class StableSwapPair:
    """One (coin i → coin j) direction of an n-coin pool, as a Venue (id ``<pool id>:<i>-><j>``)."""

    pool: StableSwapPool
    i: int
    j: int

    @property
    def id(self) -> str:
        return f"{self.pool.id}:{self.i}->{self.j}"

    @property
    def location(self) -> str:
        return self.pool.location

    @property
    def gas(self) -> int:
        return self.pool.gas

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        return ((self.pool.coins[self.i], self.pool.coins[self.j]),)

    def _check(self, asset_in: AssetId) -> None:
        if asset_in != self.pool.coins[self.i]:
            raise ValueError(f"{self.id} only takes {self.pool.coins[self.i]}")

    def quote(self, asset_in: AssetId, amount_in: int) -> int:
        self._check(asset_in)
        return self.pool.get_dy(self.i, self.j, amount_in)

    def marginal_rate(self, asset_in: AssetId, amount_in: int) -> Fraction:
        self._check(asset_in)
        return self.pool.marginal_rate_between(self.i, self.j, amount_in)

    def amount_at_rate(self, asset_in: AssetId, rate: Fraction) -> int:
        self._check(asset_in)
        return self.pool.amount_between_at_rate(self.i, self.j, rate)

    def capacity(self, asset_in: AssetId) -> int | None:
        self._check(asset_in)
        return None

    def float_curve(self, asset_in: AssetId) -> StableSwapCurve:
        self._check(asset_in)
        return self.pool.curve_between(self.i, self.j)
