"""What the lab deploys and how it seeds liquidity: realistic depth and shape, so routing is interesting.

lab1 is an "L1" with deep WETH/USDC liquidity spread over a V2 pair and two V3 fee tiers, WBTC/WETH in V2 and V3,
USDC/USDT in a 0.01% V3 pool, DAI/USDC in V2 and a USDC/USDT/DAI StableSwap pool. DAI/WETH, WBTC/USDC and USDT/WETH
exist only through two hops — except through the lab aggregator, which also reaches a second V2 factory's
WETH/USDC, WETH/USDT and WETH/DAI pairs that fillpath does not read (``aggregator_v2``).
lab2 is a smaller "L2" whose prices sit slightly off lab1's. Values are human units (USD and token amounts);
the deployer turns them into exact base units.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import isqrt


@dataclass(frozen=True, slots=True)
class TokenSpec:
    symbol: str
    name: str
    decimals: int


@dataclass(frozen=True, slots=True)
class V2PoolSpec:
    a: str
    b: str
    usd: Decimal  # total value deposited, split evenly between the two sides


@dataclass(frozen=True, slots=True)
class PositionSpec:
    """A V3 position as multipliers of the pool price (of ``a`` in ``b``) and the USD value it holds."""

    lo: Fraction
    hi: Fraction
    usd: Decimal


@dataclass(frozen=True, slots=True)
class V3PoolSpec:
    a: str
    b: str
    fee: int  # ppm, as Uniswap V3: 100, 500, 3000, 10000
    positions: tuple[PositionSpec, ...]


@dataclass(frozen=True, slots=True)
class StableSwapSpec:
    """A Curve-classic plain pool (``LabStableSwap``): ``usd`` of each coin deposited at the chain's prices."""

    coins: tuple[str, ...]
    amp: int
    fee: int  # over 10^10, as the pool takes it (1_000_000 = 0.01%)
    admin_fee: int  # over 10^10 of each fee
    usd: Decimal  # per coin


@dataclass(frozen=True, slots=True)
class ChainSpec:
    location: str
    chain_id: int
    usd: tuple[tuple[str, Decimal], ...]  # price of each symbol in USD on this chain
    v2: tuple[V2PoolSpec, ...]
    v3: tuple[V3PoolSpec, ...]
    dev_tokens: tuple[tuple[str, Decimal], ...]  # what the development account holds after seeding
    dev_weth: Decimal
    stableswap: tuple[StableSwapSpec, ...] = ()
    aggregator_v2: tuple[V2PoolSpec, ...] = ()
    """Pairs of a second V2 factory ("LabSwap") that only the lab aggregator routes through: liquidity fillpath
    does not read itself, as a real aggregator reaches DEXes and market makers a firm does not index."""
    aggregator: bool = False
    """Deploy the aggregator's settlement contracts (``LabAllowanceHolder`` + ``LabAggregator``) here."""

    def price(self, symbol: str) -> Decimal:
        return dict(self.usd)[symbol]


TOKENS: tuple[TokenSpec, ...] = (
    TokenSpec("USDC", "USD Coin (lab)", 6),
    TokenSpec("USDT", "Tether USD (lab)", 6),
    TokenSpec("WBTC", "Wrapped BTC (lab)", 8),
    TokenSpec("DAI", "Dai Stablecoin (lab)", 18),
)
WETH = TokenSpec("WETH", "Wrapped Ether", 18)
TICK_SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}


def ladder(
    total_usd: int, n: int, narrow_bps: int, wide_bps: int, *, seed: int, one_sided: int = 0
) -> tuple[PositionSpec, ...]:
    """``n`` positions around the price, half-widths spaced geometrically from ``narrow_bps`` to ``wide_bps``,
    centres jittered, more value in the narrow ones (as real pools look); plus ``one_sided`` positions
    entirely above or below the price, which only a large trade reaches."""
    rng = random.Random(seed)
    halves = [max(1, round(narrow_bps * (wide_bps / narrow_bps) ** (i / max(1, n - 1)))) for i in range(n)]
    raw: list[tuple[Fraction, Fraction, int]] = []
    for half in halves:
        skew = rng.randint(-half // 3, half // 3) if half >= 3 else 0
        lo = Fraction(10_000 - min(half, 9_500) + skew, 10_000)
        hi = Fraction(10_000 + half + skew, 10_000)
        raw.append((lo, hi, isqrt(half * 10_000)))  # more value in wider ranges, as deep real pools hold it
    for k in range(one_sided):
        gap = narrow_bps * (k + 2)
        width = max(2, wide_bps // 8)
        if k % 2 == 0:
            raw.append((Fraction(10_000 + gap, 10_000), Fraction(10_000 + gap + width, 10_000), 100))
        else:
            raw.append((Fraction(10_000 - gap - width, 10_000), Fraction(10_000 - gap, 10_000), 100))
    weight = sum(w for _, _, w in raw)
    return tuple(PositionSpec(lo, hi, Decimal(total_usd * w) / weight) for lo, hi, w in raw)


def _d(x: int | str) -> Decimal:
    return Decimal(x)


def lab_specs(profile: str = "full") -> tuple[ChainSpec, ...]:
    """The two lab chains. ``lite`` keeps every pool but fewer V3 positions (for the in-process backend)."""
    n = {"full": 1, "lite": 0}[profile]

    def k(full: int, lite: int) -> int:
        return full if n else lite

    lab1 = ChainSpec(
        location="lab1",
        chain_id=31337,
        usd=(("WETH", _d(3000)), ("USDC", _d(1)), ("USDT", _d(1)), ("DAI", _d(1)), ("WBTC", _d(90000))),
        v2=(
            V2PoolSpec("WETH", "USDC", _d(20_000_000)),
            V2PoolSpec("WBTC", "WETH", _d(8_000_000)),
            V2PoolSpec("DAI", "USDC", _d(10_000_000)),
        ),
        v3=(
            V3PoolSpec("WETH", "USDC", 500, ladder(60_000_000, k(24, 5), 30, 4000, seed=1, one_sided=k(6, 2))),
            V3PoolSpec("WETH", "USDC", 3000, ladder(10_000_000, k(6, 3), 150, 8000, seed=2, one_sided=k(2, 0))),
            V3PoolSpec("WBTC", "WETH", 3000, ladder(15_000_000, k(8, 3), 100, 5000, seed=3)),
            V3PoolSpec("USDC", "USDT", 100, ladder(20_000_000, k(8, 3), 2, 100, seed=4)),
        ),
        dev_tokens=(
            ("USDC", _d(500_000_000)),
            ("USDT", _d(500_000_000)),
            ("WBTC", _d(20_000)),
            ("DAI", _d(500_000_000)),
        ),
        dev_weth=_d(100_000),
        # a 3pool-like pool: 30M of each coin, A 2000, 0.01% fee (half to the admin), so stable legs are cheap
        stableswap=(StableSwapSpec(("USDC", "USDT", "DAI"), 2000, 1_000_000, 5_000_000_000, _d(30_000_000)),),
        aggregator_v2=(
            V2PoolSpec("WETH", "USDC", _d(8_000_000)),
            V2PoolSpec("WETH", "USDT", _d(6_000_000)),
            V2PoolSpec("WETH", "DAI", _d(6_000_000)),
        ),
        aggregator=True,
    )
    lab2 = ChainSpec(
        location="lab2",
        chain_id=31338,
        usd=(
            ("WETH", _d(3012)),
            ("USDC", _d(1)),
            ("USDT", _d("1.0004")),
            ("DAI", _d("0.9997")),
            ("WBTC", _d(90270)),
        ),
        v2=(
            V2PoolSpec("WETH", "USDC", _d(3_000_000)),
            V2PoolSpec("WBTC", "WETH", _d(1_500_000)),
            V2PoolSpec("DAI", "USDC", _d(2_000_000)),
        ),
        v3=(
            V3PoolSpec("WETH", "USDC", 500, ladder(8_000_000, k(10, 3), 20, 3000, seed=11, one_sided=k(2, 0))),
            V3PoolSpec("USDC", "USDT", 100, ladder(4_000_000, k(4, 2), 3, 80, seed=12)),
        ),
        dev_tokens=(
            ("USDC", _d(100_000_000)),
            ("USDT", _d(100_000_000)),
            ("WBTC", _d(5_000)),
            ("DAI", _d(100_000_000)),
        ),
        dev_weth=_d(40_000),
    )
    return (lab1, lab2)


def spec_fingerprint(specs: tuple[ChainSpec, ...]) -> str:
    return hashlib.sha256(repr((TOKENS, WETH, specs)).encode()).hexdigest()[:16]


def sqrt_price_x96(price_raw: Fraction) -> int:
    """floor(sqrt(price) * 2**96) for a price of token1 in token0, base units."""
    return isqrt(price_raw.numerator * 2**192 // price_raw.denominator)
