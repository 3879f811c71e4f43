"""The path search's water-level bound on parallel venues: it drops only venues the optimum gives nothing."""

from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fillpath.model.assets import AssetId
from fillpath.router import Market, RouteRequest, route
from fillpath.router.curves import curve_for
from fillpath.router.graph import Graph, _one_layer, candidate_paths
from fillpath.router.split import fill_rate, water_fill
from tests.router.opt_venues import BookVenue, CPVenue

A = AssetId("WETH", "x")
B = AssetId("USDC", "x")
C = AssetId("DAI", "x")


def _venues(seed: int, pools: int, books: int) -> list[CPVenue | BookVenue]:
    rng = random.Random(seed)
    out: list[CPVenue | BookVenue] = []
    for i in range(pools):
        r0 = rng.randint(10**18, 10**22)
        r1 = r0 * rng.randint(2800, 3200) // 10**12
        out.append(CPVenue(f"p{i}", "x", A, B, r0, r1, rng.choice([100, 500, 3000])))
    for i in range(books):
        rate = Fraction(rng.randint(2800, 3200), 10**12)
        bids = tuple((rate * (1000 - 3 * k) / 1000, rng.randint(10**17, 10**20)) for k in range(6))
        out.append(BookVenue(f"b{i}", "x", A, B, bids, ((1 / rate, 10**9),), rng.choice([500, 1000])))
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 300), st.integers(0, 40), st.integers(15, 24))
@example(seed=7, pools=300, books=30, log_amount=21)  # hundreds of candidates cut to a few dozen
def test_every_venue_the_optimum_uses_stays_a_candidate(seed: int, pools: int, books: int, log_amount: int) -> None:
    venues = _venues(seed, pools, books)
    amount = random.Random(seed).randint(10**log_amount, 10 ** (log_amount + 1))
    if sum(v.capacity(A) or amount for v in venues) < amount:
        return  # books alone that cannot take the amount: nothing to route
    graph = Graph.build(venues, frozenset(), frozenset({B}))
    kept = {p.edges[0].venue.id for p in candidate_paths(graph, ((A, amount),), frozenset({B}), 3, amount)}
    split = water_fill([curve_for(v, A) for v in venues], amount, [v.capacity(A) for v in venues])  # no pruning
    used = {v.id for v, x in zip(venues, split.shares, strict=True) if x > 0}
    assert used <= kept


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(2, 60), st.integers(15, 24))
def test_the_level_of_fewer_venues_is_never_higher(seed: int, n: int, log_amount: int) -> None:
    curves = [curve_for(v, A) for v in _venues(seed, n, n // 5)]
    amount = float(random.Random(seed).randint(10**log_amount, 10 ** (log_amount + 1)))
    k = random.Random(seed + 1).randint(1, n - 1)
    assert fill_rate(curves[:k], amount) <= fill_rate(curves, amount) * (1 + 1e-12)


def test_venues_that_cannot_take_the_amount_give_no_level() -> None:
    book = BookVenue("b", "x", A, B, ((Fraction(3000, 10**12), 10**18),), ((Fraction(10**12, 3000), 10**9),))
    assert fill_rate([curve_for(book, A)], 2e18) == 0.0
    assert fill_rate([curve_for(book, A)], 5e17) > 0.0


def test_the_bound_cuts_candidates_without_changing_the_plan() -> None:
    venues = _venues(3, 2000, 200)
    market = Market(tuple(venues), {A: 18, B: 6}, {A: Fraction(3000), B: Fraction(1)})
    amount = 10**21
    graph = Graph.build(venues, frozenset(), frozenset({B}))
    pruned = candidate_paths(graph, ((A, amount),), frozenset({B}), 3, amount)
    unpruned = candidate_paths(graph, ((A, amount),), frozenset({B}), 3, amount, margin=1.0)
    assert len(unpruned) == 2200
    assert len(pruned) < 300  # one path's marginal rate alone kept every venue here
    plan = route(market, RouteRequest(str(A), amount, str(B)))
    assert plan.stats.paths_considered == len(pruned)
    curves = [curve_for(v, A) for v in venues]
    split = water_fill(curves, amount, [v.capacity(A) for v in venues])
    expected = sum(v.quote(A, x) for v, x in zip(venues, split.shares, strict=True))
    assert plan.expected_out == expected  # the same split as over all 2,200 venues, to the unit


def test_a_venue_with_two_ways_into_the_sinks_is_not_one_layer() -> None:
    """Two sinks (one symbol, as a bare-symbol buy gives) reached by one venue: paths would share it, and the
    water level of shared venues is no bound, so the search keeps to the single-path bound."""
    sinks = frozenset({B, C})
    three = _ThreeCoin("tri")
    graph = Graph.build([three, *_venues(1, 3, 0)], frozenset(), sinks)
    assert not _one_layer(graph, ((A, 10**18),), sinks)
    plain = Graph.build(_venues(1, 3, 0), frozenset(), sinks)
    assert _one_layer(plain, ((A, 10**18),), sinks)


class _ThreeCoin(CPVenue):
    """A pool that sells A into both B and C (an n-coin pool's directions), for the one-layer test."""

    def __init__(self, vid: str) -> None:
        super().__init__(vid, "x", A, B, 10**21, 3 * 10**12)

    def pairs(self) -> tuple[tuple[AssetId, AssetId], ...]:
        return ((A, B), (A, C))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 60), st.integers(1, 60), st.integers(17, 23))
def test_two_locations_each_able_to_sell_it_all_keep_every_venue_the_optimum_uses(
    seed: int, here: int, there: int, log_amount: int
) -> None:
    """A bare-symbol sell from two locations that each hold the whole amount: each source's level bounds the other's
    venues too (its level is at most the common one). The optimum is water-filling over both locations' venues."""
    a2, b2 = AssetId("WETH", "y"), AssetId("USDC", "y")
    first = _venues(seed, here, here // 5)
    second = [
        CPVenue(f"q{i}", "y", a2, b2, v.reserve0, v.reserve1, v.fee_ppm)
        for i, v in enumerate(_venues(seed + 1, there, 0))
        if isinstance(v, CPVenue)
    ]
    amount = random.Random(seed).randint(10**log_amount, 10 ** (log_amount + 1))
    sinks = frozenset({B, b2})
    graph = Graph.build([*first, *second], frozenset(), sinks)
    sources = ((A, amount), (a2, amount))
    kept = {p.edges[0].venue.id for p in candidate_paths(graph, sources, sinks, 3, amount)}
    venues = [*first, *second]
    curves = [curve_for(v, A if v.location == "x" else a2) for v in venues]
    caps = [v.capacity(A) if v.location == "x" else None for v in venues]
    split = water_fill(curves, amount, caps)
    assert {v.id for v, x in zip(venues, split.shares, strict=True) if x > 0} <= kept
