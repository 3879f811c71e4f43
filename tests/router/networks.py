"""Random markets for property tests and benchmarks: V2-like pools, order books and transfers."""

from __future__ import annotations

import random
from fractions import Fraction

from fillpath.model.assets import AssetId
from fillpath.router.market import Market
from fillpath.router.venues.base import Venue
from tests.router.opt_venues import BookVenue, CPVenue, TransferVenue

ETH = AssetId("ETH", "chain")


def _price(rng: random.Random) -> Fraction:
    return Fraction(rng.randint(1, 10**6), 10 ** rng.randint(0, 6))


def network(
    seed: int,
    tokens: int,
    pools: int,
    *,
    books: int = 0,
    transfers: int = 0,
    gas: int = 0,
    depth: int = 10**6,
    skew: float = 0.0,
) -> tuple[Market, list[AssetId]]:
    """``tokens`` assets on ``chain`` (T0 is the usual sell, T1 the buy); ``pools`` constant-product pools
    on random pairs priced at a hidden fair price (± ``skew``: 0 leaves no arbitrage cycle, so the optimum
    is a flow of simple paths); ``books`` books; ``transfers`` of random tokens to a ``cex`` location and
    back. ``depth`` is a pool's typical size in numeraire."""
    rng = random.Random(seed)
    assets = [AssetId(f"T{i}", "chain") for i in range(tokens)]
    dec = {a: rng.choice([6, 8, 18]) for a in assets}
    price = {a: _price(rng) for a in assets}
    venues: list[Venue] = []
    pairs = [(0, 1)] + [tuple(rng.sample(range(tokens), 2)) for _ in range(pools - 1)]

    def units(a: AssetId, value: float) -> int:
        return max(1, int(value / float(price[a]) * 10 ** dec[a]))

    for n, (i, j) in enumerate(pairs):
        a, b = assets[i], assets[j]
        v = depth * rng.uniform(0.05, 2.0)
        tilt = rng.uniform(1 - skew, 1 + skew)
        venues.append(
            CPVenue(
                f"pool{n}",
                "chain",
                a,
                b,
                units(a, v),
                units(b, v * tilt),
                rng.choice([500, 3000, 10000]),
                gas,
            )
        )
    for n in range(books):
        i, j = (0, 1) if n == 0 else rng.sample(range(tokens), 2)
        a, b = assets[i], assets[j]
        fair = float(price[a]) / float(price[b]) * 10 ** (dec[b] - dec[a])
        bids, asks = [], []
        for k in range(10):
            size = depth * rng.uniform(0.01, 0.2)
            bids.append((Fraction(fair * (1 - 0.0005 * (k + 1))), units(a, size)))
            asks.append((Fraction(1 / (fair * (1 + 0.0005 * (k + 1)))), units(b, size)))
        venues.append(BookVenue(f"book{n}", "chain", a, b, tuple(bids), tuple(asks), 1000, gas))
    for n in range(transfers):
        a = assets[rng.randrange(tokens)]
        c = AssetId(a.symbol, "cex")
        dec[c] = dec[a]
        price[c] = price[a]
        cap = units(a, depth * 5)
        venues.append(TransferVenue(f"dep{n}", "chain", a, c, cap, 0, rng.choice([0, 100]), gas))
        venues.append(TransferVenue(f"wd{n}", "cex", c, a, cap, 0, rng.choice([0, 100]), 0))
        other = assets[rng.randrange(tokens)]
        oc = AssetId(other.symbol, "cex")
        dec.setdefault(oc, dec[other])
        price.setdefault(oc, price[other])
        if oc != c:
            venues.append(
                CPVenue(
                    f"cexpool{n}",
                    "cex",
                    c,
                    oc,
                    units(c, depth),
                    units(oc, depth * rng.uniform(1 - skew, 1 + skew)),
                    1000,
                )
            )
    dec[ETH] = 18
    price[ETH] = Fraction(3000)
    market = Market(
        tuple(venues),
        decimals=dec,
        prices=price,
        holdings={},
        gas_price_wei={"chain": 20 * 10**9},
        native={"chain": ETH},
    )
    return market, assets


def value_units(market: Market, asset: AssetId, value: float) -> int:
    """Base units of ``asset`` worth ``value`` numeraire."""
    return max(1, int(value / float(market.prices[asset]) * 10 ** market.decimals[asset]))
