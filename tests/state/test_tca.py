from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from fillpath.state.tca import LegCost, decompose

MID = Fraction(3000 * 10**6, 10**18)  # USDC base units per wei of WETH at $3,000


def test_a_two_leg_sale_decomposes_into_its_causes() -> None:
    # 10 WETH at $3,000: 6 through a 0.05% pool, 4 through a 0.3% pool
    legs = [LegCost("v3", 6 * 10**18, Fraction(500, 10**6), MID), LegCost("v2", 4 * 10**18, Fraction(3000, 10**6), MID)]
    d = decompose(amount_in=10 * 10**18, arrival_mid=MID, expected=29_930_000_000, realized=29_925_000_000, legs=legs,
                  gas=4_000_000, latency=1_000_000)  # fmt: skip
    assert d.arrival == 30_000_000_000
    assert d.fees == 9_000_000 + 36_000_000  # 0.05% of $18k and 0.3% of $12k
    assert d.price_impact == 30_000_000_000 - 29_930_000_000 - 45_000_000
    assert d.slippage == 29_930_000_000 - 1_000_000 - 29_925_000_000
    assert d.shortfall == 30_000_000_000 - (29_925_000_000 - 4_000_000)
    assert sum(d.components.values()) == d.shortfall
    assert d.bps(d.fees) == Fraction(15)  # $45 of $30,000


def test_failed_legs_are_their_own_component() -> None:
    d = decompose(amount_in=10**18, arrival_mid=MID, expected=2_990_000_000, realized=1_800_000_000,
                  legs=[], gas=0, failed=1_190_000_000)  # fmt: skip
    assert d.failed == 1_190_000_000
    assert d.slippage == 0
    assert sum(d.components.values()) == d.shortfall


ints = st.integers(min_value=0, max_value=10**30)


@given(
    amount_in=ints,
    num=st.integers(min_value=1, max_value=10**12),
    den=st.integers(min_value=1, max_value=10**24),
    expected=ints,
    realized=ints,
    gas=ints,
    latency=st.integers(min_value=-(10**20), max_value=10**20),
    failed=ints,
    drift=st.integers(min_value=-(10**20), max_value=10**20),
    legs=st.lists(st.tuples(ints, st.integers(min_value=0, max_value=10**6)), max_size=6),
)
def test_components_always_add_up_to_the_shortfall_exactly(
    amount_in: int, num: int, den: int, expected: int, realized: int, gas: int, latency: int, failed: int,
    drift: int, legs: list[tuple[int, int]],
) -> None:  # fmt: skip
    mid = Fraction(num, den)
    costs = [LegCost(f"v{i}", a, Fraction(f, 10**6), mid) for i, (a, f) in enumerate(legs)]
    d = decompose(amount_in=amount_in, arrival_mid=mid, expected=expected, realized=realized, legs=costs, gas=gas,
                  latency=latency, failed=failed, drift=drift)  # fmt: skip
    assert sum(d.components.values()) == d.shortfall
    assert d.shortfall == d.arrival - realized + gas + drift


def test_transfer_fees_and_time_in_flight_are_their_own_components() -> None:
    """A bridge (5 bps + 0.5 USDC fixed) and a lab2 leg that lost 1 USDC while the funds were in flight."""
    usdc = Fraction(1)  # buy base units per USDC base unit
    legs = [LegCost("bridge", 100_000 * 10**6, Fraction(500, 10**6), usdc, 500_000, transfer=True),
            LegCost("pool", 99_949_500_000, Fraction(100, 10**6), usdc)]  # fmt: skip
    d = decompose(amount_in=100_000 * 10**6, arrival_mid=usdc, expected=99_939_505_050, realized=99_938_505_050,
                  legs=legs, gas=0, in_flight=1_000_000)  # fmt: skip
    assert d.transfer_fees == 50_500_000  # 50 USDC proportional + 0.5 fixed
    assert d.fees == 9_994_950
    assert d.in_flight == 1_000_000 and d.slippage == 0 and d.latency == 0
    assert sum(d.components.values()) == d.shortfall


@given(
    amount_in=ints,
    expected=ints,
    realized=ints,
    in_flight=st.integers(min_value=-(10**20), max_value=10**20),
    legs=st.lists(st.tuples(ints, st.integers(0, 10**6), st.integers(0, 10**20), st.booleans()), max_size=6),
)
def test_with_transfers_the_components_still_add_up_exactly(
    amount_in: int, expected: int, realized: int, in_flight: int, legs: list[tuple[int, int, int, bool]]
) -> None:
    mid = Fraction(3, 7)
    costs = [LegCost(f"v{i}", a, Fraction(f, 10**6), mid, fixed, t) for i, (a, f, fixed, t) in enumerate(legs)]
    d = decompose(amount_in=amount_in, arrival_mid=mid, expected=expected, realized=realized, legs=costs, gas=0,
                  in_flight=in_flight)  # fmt: skip
    assert sum(d.components.values()) == d.shortfall
