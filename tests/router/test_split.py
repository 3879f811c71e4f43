"""Water-filling over parallel venues on one pair: exact against an independent optimum."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router.curves import curve_for
from fillpath.router.split import water_fill
from tests.router.exact import parallel_optimum
from tests.router.opt_venues import BookVenue, CPVenue

A = AssetId("WETH", "x")
B = AssetId("USDC", "x")


def _pools(seed: int, n: int) -> list[CPVenue]:
    rng = random.Random(seed)
    return [
        CPVenue(
            f"p{i}",
            "x",
            A,
            B,
            rng.randint(10**19, 10**22),
            rng.randint(10**9, 10**13),
            rng.choice([100, 500, 3000, 10000]),
        )
        for i in range(n)
    ]


def _route_out(venues: list[CPVenue] | list[BookVenue], amount: int) -> tuple[list[int], int]:
    curves = [curve_for(v, A) for v in venues]
    split = water_fill(curves, amount, [v.capacity(A) for v in venues])
    assert sum(split.shares) == amount
    return list(split.shares), sum(v.quote(A, x) for v, x in zip(venues, split.shares, strict=True))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 8), st.integers(15, 23))
def test_water_filling_is_exact_against_the_continuous_optimum(seed: int, n: int, log_amount: int) -> None:
    pools = _pools(seed, n)
    amount = random.Random(seed).randint(10**log_amount, 10 ** (log_amount + 1))
    _, out = _route_out(pools, amount)
    best = parallel_optimum(pools, amount)
    assert Decimal(out) <= best + 1  # integer floors can only lose
    assert Decimal(out) >= best * (1 - Decimal("1e-9")) - n  # each floor costs < 1 unit


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10**6), st.integers(2, 6))
def test_moving_flow_between_two_venues_never_helps(seed: int, n: int) -> None:
    pools = _pools(seed, n)
    amount = 10**21
    shares, out = _route_out(pools, amount)
    rng = random.Random(seed)
    for _ in range(10):
        i, j = rng.sample(range(n), 2)
        for frac in (Fraction(1, 10**3), Fraction(1, 10**6)):
            d = int(max(shares[i], 10**12) * frac)
            moved = min(d, shares[i])
            new = list(shares)
            new[i] -= moved
            new[j] += moved
            assert sum(v.quote(A, x) for v, x in zip(pools, new, strict=True)) <= out + 1


def _book(i: int, rate: Fraction, depth: int) -> BookVenue:
    levels = tuple((rate * (1000 - k) / 1000, depth) for k in range(5))
    return BookVenue(f"b{i}", "x", A, B, levels, ((1 / rate, depth),), fee_ppm=1000)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6))
@example(seed=13446)  # 364,009,657 vs 364,009,658: the search found a split where both venues' floors round up
def test_books_and_pools_split_matches_integer_search(seed: int) -> None:
    """Two venues, one a step curve: the split equals a ternary search over every integer split, to 1e-9 and the
    floors. Each venue's output is floored to a whole base unit, so an integer search can land, by luck, on a split
    where both floors round favourably: one unit more, found nowhere within 3,000 wei of the water-filling split."""
    rng = random.Random(seed)
    pool = _pools(seed, 1)[0]
    spot = Fraction(pool.reserve1, pool.reserve0)
    book = _book(0, spot * Fraction(rng.randint(990, 1010), 1000), rng.randint(10**18, 10**20))
    amount = rng.randint(10**18, 4 * 10**20)
    venues: list[CPVenue | BookVenue] = [pool, book]
    cap = book.capacity(A) or 0

    def total(x: int) -> int:
        return pool.quote(A, amount - x) + (book.quote(A, x) if x else 0)

    lo, hi = 0, min(cap, amount)
    while hi - lo > 2:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if total(m1) < total(m2):
            lo = m1
        else:
            hi = m2
    best = max(total(x) for x in range(lo, hi + 1))
    curves = [curve_for(v, A) for v in venues]
    split = water_fill(curves, amount, [None, cap])
    got = pool.quote(A, split.shares[0]) + book.quote(A, split.shares[1])
    assert got >= best * (1 - 1e-9) - 1  # one base unit: the two floors


def test_too_much_for_capped_venues_is_invalid_input() -> None:
    book = _book(0, Fraction(3000, 10**12), 10**18)
    with pytest.raises(InvalidInput, match="amount"):
        water_fill([curve_for(book, A)], 10**19, [book.capacity(A)])
