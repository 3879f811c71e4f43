"""Random mixed markets: what a trading firm's snapshot looks like, for property tests and the benchmark.

Pools on one or two chains (Uniswap V2, V3 with a few positions, StableSwap between stablecoins) whose depths
spread 1000x ($50k to $50M of value), order books at an exchange location joined to the chains only by deposits and
withdrawals (uncapped and fee-free, capped, or with fees), bridges between the chains (fixed + proportional fee,
capped), sizes from $1k to $20M, with or without gas. Every venue is the router's own kind with its exact math.
Prices sit near a hidden fair price (± ``skew``), so arbitrage cycles are small but present, like in a real market.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from fillpath.model.assets import AssetId
from fillpath.router.market import Market
from fillpath.router.venues import uniswap_v3_math as v3m
from fillpath.router.venues.base import Venue
from fillpath.router.venues.bridge import Bridge, Transfer
from fillpath.router.venues.order_book import OrderBook
from fillpath.router.venues.stableswap import StableSwapPool
from fillpath.router.venues.uniswap_v2 import UniswapV2Pair
from fillpath.router.venues.uniswap_v3 import UniswapV3Pool

FAIR = {"WETH": 3000.0, "WBTC": 60000.0, "LINK": 15.0, "UNI": 8.0, "USDC": 1.0, "USDT": 1.0, "DAI": 1.0}
DECIMALS = {"WETH": 18, "WBTC": 8, "LINK": 18, "UNI": 18, "USDC": 6, "USDT": 6, "DAI": 18, "ETH": 18, "BTC": 8}
STABLE = ("USDC", "USDT", "DAI")
CEX_OF = {"WETH": "ETH", "WBTC": "BTC"}
"""Symbols an exchange lists under another name (no transfer joins them: they are different assets)."""
NOMINAL = {**FAIR, "ETH": FAIR["WETH"], "BTC": FAIR["WBTC"]}
UNCAPPED = 10**30


@dataclass(frozen=True)
class Family:
    """One shape of market the benchmark and the property tests draw from."""

    name: str
    chains: int = 1
    v3: bool = False
    stableswap: bool = False
    transfers: str = "free"
    """"free": zero fee, no cap (the issue's graphs); "mixed": some capped, some with fees."""
    gas: bool = False


FAMILIES = (
    Family("1 chain V2 + exchange books, free transfers"),
    Family("1 chain V2/V3/StableSwap + books, free transfers", v3=True, stableswap=True),
    Family("2 chains + bridges + books, capped/fee transfers", chains=2, v3=True, stableswap=True, transfers="mixed"),
    Family("2 chains, all kinds, gas on", chains=2, v3=True, stableswap=True, transfers="mixed", gas=True),
)


@dataclass(frozen=True)
class Case:
    market: Market
    sell: AssetId
    buy: AssetId
    amount: int
    value: float
    """The amount's value in dollars."""


def _units(symbol: str, dollars: float, fair: dict[str, float]) -> int:
    return max(1, int(dollars / fair[symbol] * 10 ** DECIMALS[symbol]))


def _tvl(rng: random.Random) -> float:
    return 10 ** rng.uniform(math.log10(5e4), math.log10(5e7))


def _v3(
    rng: random.Random, vid: str, loc: str, a: AssetId, b: AssetId, pa: float, pb: float, tvl: float, gas: int
) -> UniswapV3Pool:
    t0, t1 = sorted((a, b), key=str)
    p0, p1 = (pa, pb) if t0 == a else (pb, pa)
    d0, d1 = DECIMALS[t0.symbol], DECIMALS[t1.symbol]
    price = p0 / p1 * 10 ** (d1 - d0)  # token1 base units per token0 base unit
    fee, spacing = rng.choice([(500, 10), (3000, 60), (10000, 200)])
    tick = math.floor(math.log(price) / math.log(1.0001))
    sqrt_price = v3m.get_sqrt_ratio_at_tick(tick) + 1
    net: dict[int, int] = {}
    active = 0
    for width, share in ((rng.randint(2, 20), 0.5), (rng.randint(30, 200), 0.3), (rng.randint(300, 2000), 0.2)):
        lo = (tick // spacing - width) * spacing
        hi = (tick // spacing + width + 1) * spacing
        # a range centred on the price holds value 2·L·sqrt(P)·(1 - 1.0001^(-(hi-lo)/4)) in token1 base units
        h = 1 - 1.0001 ** (-(hi - lo) / 4)
        liq = int(tvl * share / p1 * 10**d1 / (2 * math.sqrt(price) * h))
        liq = max(liq, 10**6)
        net[lo] = net.get(lo, 0) + liq
        net[hi] = net.get(hi, 0) - liq
        active += liq
    ticks = tuple(sorted((t, n) for t, n in net.items() if n))
    return UniswapV3Pool(vid, loc, "0x0", t0, t1, fee, spacing, sqrt_price, active, tick, ticks, gas, gas // 4)


def mixed_market(seed: int, family: Family, skew: float = 0.0) -> tuple[Market, list[AssetId]]:
    """A random market of ``family``; returns it and the assets on the first chain (WETH first)."""
    rng = random.Random(seed)
    fair = {s: p if s in STABLE else p * rng.uniform(0.98, 1.02) for s, p in FAIR.items()}
    fair["ETH"], fair["BTC"] = fair["WETH"], fair["WBTC"]
    chains = ["eth", "arb"][: family.chains]
    gas = 1 if family.gas else 0
    venues: list[Venue] = []
    decimals: dict[AssetId, int] = {}
    prices: dict[AssetId, Fraction] = {}

    def asset(symbol: str, loc: str) -> AssetId:
        a = AssetId(symbol, loc)
        decimals[a] = DECIMALS[symbol]
        prices[a] = Fraction(NOMINAL[symbol])
        return a

    def quoted(symbol: str) -> float:
        return fair[symbol] * rng.uniform(1 - skew, 1 + skew)

    symbols = list(FAIR)
    for loc in chains:
        here = symbols if loc == "eth" else ["WETH", "USDC", "USDT", "WBTC"]
        pairs = [("WETH", s) for s in here if s != "WETH"] + [(a, b) for a in STABLE for b in STABLE if a < b]
        pairs += [tuple(rng.sample(here, 2)) for _ in range(len(here))]  # type: ignore[misc]
        for n, (x, y) in enumerate(pairs):
            if x not in here or y not in here:
                continue
            a, b = asset(x, loc), asset(y, loc)
            for m in range(rng.randint(1, 2)):
                vid = f"{loc}:{n}.{m}"
                tvl = _tvl(rng)
                px, py = quoted(x), quoted(y)
                if family.stableswap and x in STABLE and y in STABLE and m == 0:
                    bal = (_units(x, tvl / 2, fair), _units(y, tvl / 2, fair))
                    venues.append(
                        StableSwapPool(
                            vid,
                            loc,
                            "0x0",
                            (a, b),
                            bal,
                            rng.choice([100, 500, 2000]),
                            4_000_000,
                            130_000 * gas,
                            (DECIMALS[x], DECIMALS[y]),
                        )
                    )
                elif family.v3 and rng.random() < 0.4:
                    venues.append(_v3(rng, vid, loc, a, b, px, py, tvl, 110_000 * gas))
                else:
                    r0, r1 = _units(x, tvl / 2 * px / fair[x], fair), _units(y, tvl / 2, {**fair, y: py})
                    venues.append(
                        UniswapV2Pair(vid, loc, "0x0", a, b, r0, r1, rng.choice([500, 2500, 3000]), 90_000 * gas)
                    )
    # the exchange: books, reached from the chains only by deposits and withdrawals
    cex = "cex"
    markets = [("ETH", "USDT"), ("BTC", "USDT"), ("ETH", "USDC"), ("USDC", "USDT"), ("ETH", "BTC")]
    for base, quote in markets:
        b, q = asset(base, cex), asset(quote, cex)
        mid = quoted(base) / fair[quote]
        depth = _tvl(rng) / 10
        bids, asks = [], []
        step = 0.0
        for _ in range(rng.randint(4, 12)):
            step += rng.uniform(0.0001, 0.002)  # levels worsen away from the mid: best first, as books list them
            size = Decimal(f"{depth * rng.uniform(0.02, 0.3) / fair[base]:.8f}")
            bids.append((Decimal(f"{mid * (1 - step):.8g}"), size))
            asks.append((Decimal(f"{mid * (1 + step):.8g}"), size))
        venues.append(
            OrderBook(
                f"{cex}:{base}/{quote}",
                cex,
                b,
                q,
                Decimal(rng.choice(["0.001", "0.00075", "0.0004"])),
                Decimal("0.00000001"),
                Decimal("0.00000001"),
                Decimal(0),
                tuple(bids),
                tuple(asks),
                DECIMALS[base],
                DECIMALS[quote],
            )
        )
    for loc in chains:
        for s in ("USDC", "USDT"):
            on, off = asset(s, loc), asset(s, cex)
            for vid, src, dst in ((f"deposit:{s}@{loc}", on, off), (f"withdraw:{s}@{loc}", off, on)):
                cap, fixed, ppm = UNCAPPED, 0, 0
                if family.transfers == "mixed":
                    kind = rng.choice(["free", "capped", "fee"])
                    if kind == "capped":
                        cap = _units(s, 10 ** rng.uniform(5, 7), fair)
                    elif kind == "fee":
                        fixed, ppm = _units(s, rng.choice([1, 5, 20]), fair), rng.choice([0, 100, 500])
                venues.append(Transfer(vid, src, dst, fixed, ppm, 0, cap, 0, DECIMALS[s], DECIMALS[s]))
    if len(chains) == 2:
        for s in ("USDC", "WETH"):
            a, b = asset(s, chains[0]), asset(s, chains[1])
            for src, dst in ((a, b), (b, a)):
                cap = _units(s, 10 ** rng.uniform(5.5, 7.5), fair)
                fixed = _units(s, rng.choice([0.5, 2, 10]), fair)
                venues.append(
                    Bridge(
                        f"bridge:{src}",
                        src,
                        dst,
                        fixed,
                        rng.choice([0, 300, 500]),
                        600,
                        cap,
                        150_000 * gas,
                        DECIMALS[s],
                        DECIMALS[s],
                    )
                )
    natives = {}
    for loc in chains:
        natives[loc] = asset("ETH", loc)
    market = Market(
        tuple(venues),
        decimals=decimals,
        prices=prices,
        holdings={},
        gas_price_wei=dict.fromkeys(chains, 20 * 10**9),
        native=natives,
    )
    return market, [a for a in decimals if a.location == "eth"]


def mixed_case(seed: int, family: Family) -> Case:
    """A request on a random market: sell WETH@eth for a stablecoin somewhere, $1k to $20M of it."""
    rng = random.Random(seed * 7919 + 17)
    market, _ = mixed_market(seed, family)
    sell = AssetId("WETH", "eth")
    buys = [AssetId(s, loc) for s in ("USDC", "USDT") for loc in ("eth", "cex", "arb")]
    buy = rng.choice([b for b in buys if b in market.decimals])
    value = 10 ** rng.uniform(3, math.log10(2e7))
    return Case(market, sell, buy, _units("WETH", value, {"WETH": FAIR["WETH"]}), value)
