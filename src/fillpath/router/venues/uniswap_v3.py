"""A Uniswap V3 pool as a venue: the pool's swap loop over the initialized ticks the snapshot lists.

The loop steps exactly as UniswapV3Pool.swap does, including the tick-bitmap word boundaries (each word of
256 compressed ticks is a separate step, and steps round separately), so quotes equal the pool's to the wei.
A swap never leaves the listed ticks: the quote is what the listed liquidity can give, never an extrapolation.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from fractions import Fraction
from math import isqrt
from typing import ClassVar

from fillpath.model.assets import AssetId
from fillpath.router.curves import ConcentratedCurve
from fillpath.router.venues import uniswap_v3_math as m

_HUGE_INPUT = (1 << 255) - 1  # the largest int256: "as much as the range can take"
_BACKOFF_STEPS = 8


@dataclass(frozen=True, slots=True)
class SwapResult:
    """The outcome of a swap loop: amounts are positive magnitudes, not the pool's signed deltas."""

    amount_in: int
    amount_out: int
    sqrt_price_x96: int
    tick: int
    liquidity: int
    ticks_crossed: int
    complete: bool
    """True if the whole specified amount was swapped (exact input consumed, or exact output delivered)."""


@dataclass(frozen=True, slots=True)
class UniswapV3Pool:
    kind: ClassVar[str] = "uniswap_v3"

    id: str
    location: str
    address: str
    token0: AssetId
    token1: AssetId
    fee_ppm: int
    tick_spacing: int
    sqrt_price_x96: int
    liquidity: int
    tick: int
    ticks: tuple[tuple[int, int], ...]
    """Initialized ticks and their liquidity_net, sorted ascending."""
    gas: int
    gas_per_tick: int
    _compressed: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _net: dict[int, int] = field(init=False, repr=False, compare=False)
    _cache: dict[tuple[object, ...], int] = field(init=False, repr=False, compare=False)
    _curves: dict[bool, ConcentratedCurve] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compressed", tuple(t // self.tick_spacing for t, _ in self.ticks))
        object.__setattr__(self, "_net", dict(self.ticks))
        object.__setattr__(self, "_cache", {})
        object.__setattr__(self, "_curves", {})

    # --- the pool's swap ---------------------------------------------------------------------------------

    def _next_initialized_tick(self, tick: int, lte: bool) -> tuple[int, bool]:
        """TickBitmap.nextInitializedTickWithinOneWord over the listed ticks."""
        compressed = tick // self.tick_spacing
        ticks = self._compressed
        if lte:
            word_start = (compressed >> 8) << 8
            i = bisect_right(ticks, compressed) - 1
            if i >= 0 and ticks[i] >= word_start:
                return ticks[i] * self.tick_spacing, True
            return word_start * self.tick_spacing, False
        start = compressed + 1
        word_end = ((start >> 8) << 8) + 255
        i = bisect_left(ticks, start)
        if i < len(ticks) and ticks[i] <= word_end:
            return ticks[i] * self.tick_spacing, True
        return word_end * self.tick_spacing, False

    def _edge(self, zero_for_one: bool) -> int | None:
        """The sqrt price of the last listed tick in the swap direction (None if nothing is listed)."""
        if not self.ticks:
            return None
        return m.get_sqrt_ratio_at_tick(self.ticks[0][0] if zero_for_one else self.ticks[-1][0])

    def swap(self, zero_for_one: bool, amount_specified: int, sqrt_price_limit: int | None = None) -> SwapResult:
        """UniswapV3Pool.swap: ``amount_specified`` > 0 exact input, < 0 exact output.

        The limit defaults to the edge of the listed ticks and is always clamped to it.
        """
        edge = self._edge(zero_for_one)
        price = self.sqrt_price_x96
        if edge is None or amount_specified == 0:
            return SwapResult(0, 0, price, self.tick, self.liquidity, 0, amount_specified == 0)
        limit = edge if sqrt_price_limit is None else sqrt_price_limit
        limit = max(limit, edge) if zero_for_one else min(limit, edge)
        if (zero_for_one and limit >= price) or (not zero_for_one and limit <= price):
            return SwapResult(0, 0, price, self.tick, self.liquidity, 0, False)
        exact_input = amount_specified > 0
        remaining = amount_specified
        calculated = 0
        tick = self.tick
        liquidity = self.liquidity
        crossed = 0
        fee = self.fee_ppm
        while remaining != 0 and price != limit:
            start = price
            tick_next, initialized = self._next_initialized_tick(tick, zero_for_one)
            tick_next = min(max(tick_next, m.MIN_TICK), m.MAX_TICK)
            sqrt_next = m.get_sqrt_ratio_at_tick(tick_next)
            if zero_for_one:
                target = limit if sqrt_next < limit else sqrt_next
            else:
                target = limit if sqrt_next > limit else sqrt_next
            price, step_in, step_out, step_fee = m.compute_swap_step(price, target, liquidity, remaining, fee)
            if exact_input:
                remaining -= step_in + step_fee
                calculated -= step_out
            else:
                remaining += step_out
                calculated += step_in + step_fee
            if price == sqrt_next:
                if initialized:
                    net = self._net[tick_next]
                    liquidity += -net if zero_for_one else net
                    if not 0 <= liquidity <= m.UINT128_MAX:
                        raise ArithmeticError("LS/LA: liquidity out of range")
                    crossed += 1
                tick = tick_next - 1 if zero_for_one else tick_next
            elif price != start:
                tick = m.get_tick_at_sqrt_ratio(price)
        if exact_input:
            amount_in, amount_out = amount_specified - remaining, -calculated
        else:
            amount_in, amount_out = calculated, remaining - amount_specified
        return SwapResult(amount_in, amount_out, price, tick, liquidity, crossed, remaining == 0)

    # --- the Venue protocol ------------------------------------------------------------------------------

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        return ((self.token0, self.token1), (self.token1, self.token0))

    def _zero_for_one(self, asset_in: AssetId) -> bool:
        if asset_in == self.token0:
            return True
        if asset_in == self.token1:
            return False
        raise ValueError(f"{asset_in} is not traded by {self.id}")

    def float_curve(self, asset_in: AssetId) -> ConcentratedCurve:
        """The pool in floats for the optimizer's continuous solve (the plan re-quotes exactly): between
        initialized ticks liquidity is constant, so each range is a constant-product piece on its virtual
        reserves. Built once per direction; it ends at the last listed tick, like the exact swap."""
        zfo = self._zero_for_one(asset_in)
        curve = self._curves.get(zfo)
        if curve is None:
            curve = ConcentratedCurve(self._pieces(zfo), self.fee_ppm)
            self._curves[zfo] = curve
        return curve

    def _pieces(self, zero_for_one: bool) -> list[tuple[float, float, float]]:
        """(virtual reserve in, virtual reserve out, input incl. fee) per range, from the current price to
        the edge of the listed ticks (tick-bitmap word steps only change rounding, so they are ignored)."""
        g = (m.FEE_DENOMINATOR - self.fee_ppm) / m.FEE_DENOMINATOR
        if g <= 0.0 or not self.ticks:
            return []
        q96 = float(m.Q96)
        pieces = []
        price, liquidity = self.sqrt_price_x96, self.liquidity
        i = bisect_right(self.ticks, (self.tick, m.UINT128_MAX + 1))
        if zero_for_one:
            i -= 1  # initialized ticks <= the current tick, downwards, ending at ticks[0]
        while 0 <= i < len(self.ticks):
            tick, net = self.ticks[i]
            target = m.get_sqrt_ratio_at_tick(tick)
            if liquidity > 0 and target != price:
                s, lf = price / q96, float(liquidity)
                if zero_for_one:
                    taken = lf * float(price - target) * q96 / (float(price) * float(target))
                    pieces.append((lf / s, lf * s, taken / g))
                else:
                    taken = lf * float(target - price) / q96
                    pieces.append((lf * s, lf / s, taken / g))
            price = target
            liquidity += -net if zero_for_one else net
            i += -1 if zero_for_one else 1
        return pieces

    def quote(self, asset_in: AssetId, amount_in: int) -> int:
        if amount_in <= 0:
            return 0
        return self.swap(self._zero_for_one(asset_in), amount_in).amount_out

    def quote_out(self, asset_in: AssetId, amount_out: int) -> int | None:
        """Exact output (QuoterV2.quoteExactOutputSingle): input needed, or None if the listed liquidity
        cannot deliver ``amount_out``."""
        if amount_out <= 0:
            return 0
        result = self.swap(self._zero_for_one(asset_in), -amount_out)
        return result.amount_in if result.complete else None

    def ticks_crossed(self, asset_in: AssetId, amount_in: int) -> int:
        """Initialized ticks crossed by the swap (for ``gas_per_tick``)."""
        if amount_in <= 0:
            return 0
        return self.swap(self._zero_for_one(asset_in), amount_in).ticks_crossed

    def gas_used(self, asset_in: AssetId, amount_in: int) -> int:
        """``gas`` plus ``gas_per_tick`` for every initialized tick the swap crosses."""
        return self.gas + self.gas_per_tick * self.ticks_crossed(asset_in, amount_in)

    def capacity(self, asset_in: AssetId) -> int:
        zfo = self._zero_for_one(asset_in)
        key = ("capacity", zfo)
        if key not in self._cache:
            self._cache[key] = self.swap(zfo, _HUGE_INPUT).amount_in
        return self._cache[key]

    def _rate_at(self, zero_for_one: bool, sqrt_price: int) -> Fraction:
        keep = m.FEE_DENOMINATOR - self.fee_ppm
        square = sqrt_price * sqrt_price
        if zero_for_one:
            return Fraction(square * keep, (1 << 192) * m.FEE_DENOMINATOR)
        return Fraction((1 << 192) * keep, square * m.FEE_DENOMINATOR)

    def _next_liquid_price(self, zero_for_one: bool, state: SwapResult) -> int | None:
        """Where the next unit of input trades: the current price, or past any empty ranges."""
        if state.liquidity > 0:
            return state.sqrt_price_x96
        liquidity = state.liquidity
        if zero_for_one:
            i = bisect_right(self.ticks, (state.tick, m.UINT128_MAX + 1)) - 1
            while i > 0:  # crossing ticks[0] would leave the listed range
                tick, net = self.ticks[i]
                liquidity -= net
                if liquidity > 0:
                    return m.get_sqrt_ratio_at_tick(tick)
                i -= 1
            return None
        i = bisect_right(self.ticks, (state.tick, m.UINT128_MAX + 1))
        while i < len(self.ticks) - 1:
            tick, net = self.ticks[i]
            liquidity += net
            if liquidity > 0:
                return m.get_sqrt_ratio_at_tick(tick)
            i += 1
        return None

    def marginal_rate(self, asset_in: AssetId, amount_in: int) -> Fraction:
        """Fee-adjusted pool price where the next unit of input would trade (0 at the listed edge)."""
        zfo = self._zero_for_one(asset_in)
        if amount_in >= self.capacity(asset_in):
            return Fraction(0)
        state = self.swap(zfo, amount_in) if amount_in > 0 else self._initial_state()
        price = self._next_liquid_price(zfo, state)
        return Fraction(0) if price is None else self._rate_at(zfo, price)

    def _initial_state(self) -> SwapResult:
        return SwapResult(0, 0, self.sqrt_price_x96, self.tick, self.liquidity, 0, True)

    def amount_at_rate(self, asset_in: AssetId, rate: Fraction) -> int:
        """Input that moves the price exactly to where the fee-adjusted rate equals ``rate``: the swap with
        that price as its limit, stepped range by range with the pool's own rounding."""
        zfo = self._zero_for_one(asset_in)
        if rate <= 0:
            return self.capacity(asset_in)
        keep = m.FEE_DENOMINATOR - self.fee_ppm
        if zfo:  # S^2 * keep >= rate * 2^192 * 1e6  ->  smallest such S
            num = rate.numerator * (1 << 192) * m.FEE_DENOMINATOR
            den = rate.denominator * keep
            bound = -(-num // den)
            root = isqrt(bound)
            limit = root if root * root == bound else root + 1
        else:  # keep * 2^192 >= rate * S^2 * 1e6  ->  largest such S
            num = keep * (1 << 192) * rate.denominator
            den = rate.numerator * m.FEE_DENOMINATOR
            limit = isqrt(num // den)
        limit = min(max(limit, m.MIN_SQRT_RATIO), m.MAX_SQRT_RATIO)
        amount = self.swap(zfo, _HUGE_INPUT, limit).amount_in
        # The limited swap pays the rounded-up input for reaching the limit; the same amount as an exact
        # input can move the price a few units past it. Step back to the largest input that does not.
        for _ in range(_BACKOFF_STEPS):
            if amount == 0:
                break
            price = self.swap(zfo, amount).sqrt_price_x96
            if (price >= limit) if zfo else (price <= limit):
                break
            amount -= 1
        return amount
