"""Numeraire prices for a snapshot, derived from the venues themselves.

Starting from anchor assets (USDC = 1 USD by default), each unpriced asset takes the mid price of the deepest
venue that connects it to a priced one, layer by layer. The router uses these only to turn gas and latency into
the output asset and for reports; they are never a quantity of money.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Context, Decimal
from fractions import Fraction
from typing import Any

_OUT = Context(prec=18)


def _mids(venue: Mapping[str, Any], decimals: Mapping[str, int]) -> Iterable[tuple[str, str, Fraction, Fraction]]:
    """(a, b, price of one a in b (human units), depth of the b side in b's human units)."""
    kind = venue["kind"]
    if kind == "uniswap_v2":
        a, b = venue["token0"], venue["token1"]
        ra = Fraction(int(venue["reserve0"]), 10 ** decimals[a])
        rb = Fraction(int(venue["reserve1"]), 10 ** decimals[b])
        if ra and rb:
            yield a, b, rb / ra, rb
            yield b, a, ra / rb, ra
    elif kind == "uniswap_v3":
        a, b = venue["token0"], venue["token1"]
        sqrt_p = Fraction(int(venue["sqrt_price_x96"]), 2**96)
        liquidity = int(venue["liquidity"])
        if sqrt_p and liquidity:
            p = sqrt_p * sqrt_p * Fraction(10 ** decimals[a], 10 ** decimals[b])
            virt_a = Fraction(liquidity) / sqrt_p / 10 ** decimals[a]
            virt_b = Fraction(liquidity) * sqrt_p / 10 ** decimals[b]
            yield a, b, p, virt_b
            yield b, a, 1 / p, virt_a
    elif kind == "wrap":
        yield venue["native"], venue["wrapped"], Fraction(1), Fraction(10**30)
        yield venue["wrapped"], venue["native"], Fraction(1), Fraction(10**30)
    elif kind == "order_book":
        bids, asks = venue.get("bids") or [], venue.get("asks") or []
        if bids and asks:
            mid = (Fraction(Decimal(bids[0][0])) + Fraction(Decimal(asks[0][0]))) / 2
            depth_q = sum((Fraction(Decimal(p)) * Fraction(Decimal(s)) for p, s in bids[:20]), Fraction(0))
            yield venue["base"], venue["quote"], mid, depth_q
            yield venue["quote"], venue["base"], 1 / mid, depth_q / mid


def derive_prices(
    venues: Iterable[Mapping[str, Any]], decimals: Mapping[str, int], anchors: Mapping[str, Fraction]
) -> dict[str, str]:
    """Asset id → price in the numeraire, as a decimal string. ``anchors`` maps *symbols* to fixed prices."""
    edges = [e for v in venues for e in _mids(v, decimals)]
    prices: dict[str, Fraction] = {aid: anchors[aid.split("@")[0]] for aid in decimals if aid.split("@")[0] in anchors}
    while True:
        best: dict[str, tuple[Fraction, Fraction]] = {}
        for a, b, p_ab, depth_b in edges:
            if a in prices or b not in prices:
                continue
            value = depth_b * prices[b]
            if a not in best or value > best[a][1]:
                best[a] = (p_ab * prices[b], value)
        if not best:
            break
        for a, (price, _) in best.items():
            prices[a] = price
    # an asset no venue connects takes the price of the same symbol elsewhere (one economic asset)
    by_symbol: dict[str, Fraction] = {}
    for aid, p in prices.items():
        by_symbol.setdefault(aid.split("@")[0], p)
    for aid in decimals:
        if aid not in prices and aid.split("@")[0] in by_symbol:
            prices[aid] = by_symbol[aid.split("@")[0]]
    return {aid: _fmt(p) for aid, p in sorted(prices.items())}


def _fmt(p: Fraction) -> str:
    d = _OUT.divide(Decimal(p.numerator), Decimal(p.denominator))
    return format(d.normalize(_OUT), "f")
