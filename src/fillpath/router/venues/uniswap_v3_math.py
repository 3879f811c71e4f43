"""Uniswap V3 core math on Python ints, with the pool's exact rounding and overflow checks.

Written from the v3-core specification (TickMath, FullMath, SqrtPriceMath, SwapMath): every function returns
what the Solidity function returns, and raises ``ArithmeticError`` where the contract would revert, so a quote
equals the pool's swap to the wei. Python ints do not wrap; where Solidity relies on a 256-bit overflow test
we test the exact mathematical condition that the overflow test detects.
"""

from __future__ import annotations

from functools import lru_cache

MIN_TICK = -887272
MAX_TICK = 887272
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342
Q96 = 1 << 96
UINT256 = 1 << 256
UINT160_MAX = (1 << 160) - 1
UINT128_MAX = (1 << 128) - 1
FEE_DENOMINATOR = 1_000_000

# 2**128 / sqrt(1.0001)**(2**i), as the Q128.128 constants of TickMath (bit i of |tick|). These are the
# contract's truncated values; deriving them afresh at higher precision would differ in the last bits.
_TICK_FACTORS = (
    0xFFFCB933BD6FAD37AA2D162D1A594001,
    0xFFF97272373D413259A46990580E213A,
    0xFFF2E50F5F656932EF12357CF3C7FDCC,
    0xFFE5CACA7E10E4E61C3624EAA0941CD0,
    0xFFCB9843D60F6159C9DB58835C926644,
    0xFF973B41FA98C081472E6896DFB254C0,
    0xFF2EA16466C96A3843EC78B326B52861,
    0xFE5DEE046A99A2A811C461F1969C3053,
    0xFCBE86C7900A88AEDCFFC83B479AA3A4,
    0xF987A7253AC413176F2B074CF7815E54,
    0xF3392B0822B70005940C7A398E4B70F3,
    0xE7159475A2C29B7443B29C7FA6E889D9,
    0xD097F3BDFD2022B8845AD8F792AA5825,
    0xA9F746462D870FDF8A65DC1F90E061E5,
    0x70D869A156D2A1B890BB3DF62BAF32F7,
    0x31BE135F97D08FD981231505542FCFA6,
    0x9AA508B5B7A84E1C677DE54F3E99BC9,
    0x5D6AF8DEDB81196699C329225EE604,
    0x2216E584F5FA1EA926041BEDFE98,
    0x48A170391F7DC42444E8FA2,
)


# --- FullMath -------------------------------------------------------------------------------------------


def mul_div(a: int, b: int, denominator: int) -> int:
    """floor(a*b/denominator) with full 512-bit intermediate; reverts if the result exceeds uint256."""
    if denominator <= 0:
        raise ArithmeticError("mulDiv: zero denominator")
    result = a * b // denominator
    if result >= UINT256:
        raise ArithmeticError("mulDiv: overflow")
    return result


def mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """ceil(a*b/denominator); reverts where FullMath.mulDivRoundingUp does."""
    result = mul_div(a, b, denominator)
    if a * b % denominator:
        if result >= UINT256 - 1:
            raise ArithmeticError("mulDivRoundingUp: overflow")
        result += 1
    return result


def div_rounding_up(x: int, y: int) -> int:
    """UnsafeMath.divRoundingUp: ceil(x/y) (y > 0 is the caller's guarantee)."""
    return -(-x // y)


# --- TickMath -------------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def get_sqrt_ratio_at_tick(tick: int) -> int:
    """sqrt(1.0001**tick) * 2**96 as a Q64.96, rounded up, exactly as TickMath.getSqrtRatioAtTick."""
    abs_tick = -tick if tick < 0 else tick
    if abs_tick > MAX_TICK:
        raise ArithmeticError("T")
    ratio = _TICK_FACTORS[0] if abs_tick & 1 else 1 << 128
    for bit in range(1, 20):
        if abs_tick & (1 << bit):
            ratio = (ratio * _TICK_FACTORS[bit]) >> 128
    if tick > 0:
        ratio = (UINT256 - 1) // ratio
    return (ratio >> 32) + (1 if ratio & 0xFFFFFFFF else 0)


def get_tick_at_sqrt_ratio(sqrt_price_x96: int) -> int:
    """The greatest tick whose sqrt ratio is <= ``sqrt_price_x96`` (TickMath.getTickAtSqrtRatio's contract).

    The Solidity computes a log2 approximation and then picks between two candidates by this same rule, so a
    binary search over ``get_sqrt_ratio_at_tick`` gives the identical tick.
    """
    if not MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO:
        raise ArithmeticError("R")
    low, high = MIN_TICK, MAX_TICK  # invariant: ratio(low) <= price < ratio(high)
    while high - low > 1:
        mid = (low + high) // 2
        if get_sqrt_ratio_at_tick(mid) <= sqrt_price_x96:
            low = mid
        else:
            high = mid
    return low


# --- SqrtPriceMath --------------------------------------------------------------------------------------


def _to_uint160(value: int) -> int:
    if value > UINT160_MAX:
        raise ArithmeticError("toUint160")
    return value


def next_sqrt_price_from_amount0_rounding_up(sqrt_price: int, liquidity: int, amount: int, add: bool) -> int:
    if amount == 0:
        return sqrt_price
    numerator1 = liquidity << 96
    product = amount * sqrt_price
    if add:
        # The contract takes the precise path unless amount*price or numerator1+product overflows 256 bits.
        if product < UINT256 and numerator1 + product < UINT256:
            return mul_div_rounding_up(numerator1, sqrt_price, numerator1 + product)
        denominator = numerator1 // sqrt_price + amount
        if denominator >= UINT256:
            raise ArithmeticError("add overflow")
        return div_rounding_up(numerator1, denominator)
    if product >= UINT256 or numerator1 <= product:
        raise ArithmeticError("amount0 output exceeds reserves")
    return _to_uint160(mul_div_rounding_up(numerator1, sqrt_price, numerator1 - product))


def next_sqrt_price_from_amount1_rounding_down(sqrt_price: int, liquidity: int, amount: int, add: bool) -> int:
    if add:
        quotient = (amount << 96) // liquidity if amount <= UINT160_MAX else mul_div(amount, Q96, liquidity)
        total = sqrt_price + quotient
        if total >= UINT256:
            raise ArithmeticError("add overflow")
        return _to_uint160(total)
    quotient = (
        div_rounding_up(amount << 96, liquidity)
        if amount <= UINT160_MAX
        else mul_div_rounding_up(amount, Q96, liquidity)
    )
    if sqrt_price <= quotient:
        raise ArithmeticError("amount1 output exceeds reserves")
    return sqrt_price - quotient


def next_sqrt_price_from_input(sqrt_price: int, liquidity: int, amount_in: int, zero_for_one: bool) -> int:
    if sqrt_price <= 0 or liquidity <= 0:
        raise ArithmeticError("no price or liquidity")
    if zero_for_one:
        return next_sqrt_price_from_amount0_rounding_up(sqrt_price, liquidity, amount_in, True)
    return next_sqrt_price_from_amount1_rounding_down(sqrt_price, liquidity, amount_in, True)


def next_sqrt_price_from_output(sqrt_price: int, liquidity: int, amount_out: int, zero_for_one: bool) -> int:
    if sqrt_price <= 0 or liquidity <= 0:
        raise ArithmeticError("no price or liquidity")
    if zero_for_one:
        return next_sqrt_price_from_amount1_rounding_down(sqrt_price, liquidity, amount_out, False)
    return next_sqrt_price_from_amount0_rounding_up(sqrt_price, liquidity, amount_out, False)


def amount0_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """Token0 between two prices: L * (sqrt_b - sqrt_a) / (sqrt_b * sqrt_a), rounded as the pool does."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if sqrt_a <= 0:
        raise ArithmeticError("zero price")
    numerator1 = liquidity << 96
    numerator2 = sqrt_b - sqrt_a
    if round_up:
        return div_rounding_up(mul_div_rounding_up(numerator1, numerator2, sqrt_b), sqrt_a)
    return mul_div(numerator1, numerator2, sqrt_b) // sqrt_a


def amount1_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """Token1 between two prices: L * (sqrt_b - sqrt_a), rounded as the pool does."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if round_up:
        return mul_div_rounding_up(liquidity, sqrt_b - sqrt_a, Q96)
    return mul_div(liquidity, sqrt_b - sqrt_a, Q96)


# --- SwapMath -------------------------------------------------------------------------------------------


def compute_swap_step(
    sqrt_current: int, sqrt_target: int, liquidity: int, amount_remaining: int, fee_pips: int
) -> tuple[int, int, int, int]:
    """One step of a swap within a tick range: (next sqrt price, amount in, amount out, fee amount).

    ``amount_remaining`` > 0 is exact input, < 0 exact output (the int256 convention of the pool).
    """
    zero_for_one = sqrt_current >= sqrt_target
    exact_in = amount_remaining >= 0
    if exact_in:
        remaining_less_fee = mul_div(amount_remaining, FEE_DENOMINATOR - fee_pips, FEE_DENOMINATOR)
        amount_in = (
            amount0_delta(sqrt_target, sqrt_current, liquidity, True)
            if zero_for_one
            else amount1_delta(sqrt_current, sqrt_target, liquidity, True)
        )
        if remaining_less_fee >= amount_in:
            sqrt_next = sqrt_target
        else:
            sqrt_next = next_sqrt_price_from_input(sqrt_current, liquidity, remaining_less_fee, zero_for_one)
        amount_out = 0
    else:
        amount_out = (
            amount1_delta(sqrt_target, sqrt_current, liquidity, False)
            if zero_for_one
            else amount0_delta(sqrt_current, sqrt_target, liquidity, False)
        )
        if -amount_remaining >= amount_out:
            sqrt_next = sqrt_target
        else:
            sqrt_next = next_sqrt_price_from_output(sqrt_current, liquidity, -amount_remaining, zero_for_one)
        amount_in = 0
    reached = sqrt_next == sqrt_target
    if zero_for_one:
        if not (reached and exact_in):
            amount_in = amount0_delta(sqrt_next, sqrt_current, liquidity, True)
        if not (reached and not exact_in):
            amount_out = amount1_delta(sqrt_next, sqrt_current, liquidity, False)
    else:
        if not (reached and exact_in):
            amount_in = amount1_delta(sqrt_current, sqrt_next, liquidity, True)
        if not (reached and not exact_in):
            amount_out = amount0_delta(sqrt_current, sqrt_next, liquidity, False)
    if not exact_in and amount_out > -amount_remaining:
        amount_out = -amount_remaining
    if exact_in and sqrt_next != sqrt_target:
        fee_amount = amount_remaining - amount_in
    else:
        fee_amount = mul_div_rounding_up(amount_in, fee_pips, FEE_DENOMINATOR - fee_pips)
    return sqrt_next, amount_in, amount_out, fee_amount
