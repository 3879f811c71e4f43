from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fillpath.chains.fees import FeePolicy, Fees, fees_from_history, suggest_fees
from fillpath.model.errors import Retryable
from tests.chains.helpers import rpc_for, run
from tests.conftest import Chain

GWEI = 10**9


def test_max_fee_has_headroom_over_the_next_base_fee() -> None:
    fees = fees_from_history([10 * GWEI, 12 * GWEI, 11 * GWEI], [GWEI, 2 * GWEI, 3 * GWEI], FeePolicy())
    assert fees.max_priority_fee_per_gas == 2 * GWEI  # the median tip paid
    assert fees.max_fee_per_gas == 2 * 11 * GWEI + 2 * GWEI


def test_caps_apply() -> None:
    policy = FeePolicy(max_priority_wei=GWEI, max_fee_cap_wei=30 * GWEI)
    fees = fees_from_history([20 * GWEI], [50 * GWEI], policy)
    assert fees.max_priority_fee_per_gas == GWEI
    assert fees.max_fee_per_gas == 30 * GWEI
    with pytest.raises(Retryable, match="above the cap"):
        fees_from_history([40 * GWEI], [GWEI], policy)


@given(
    max_fee=st.integers(min_value=1, max_value=10**12),
    tip=st.integers(min_value=1, max_value=10**11),
)
def test_replacement_raises_both_fields_by_at_least_an_eighth(max_fee: int, tip: int) -> None:
    tip = min(tip, max_fee)
    b = Fees(max_fee, tip).bumped(FeePolicy(max_fee_cap_wei=10**14))
    assert b.max_fee_per_gas is not None and b.max_priority_fee_per_gas is not None
    assert b.max_fee_per_gas * 8 >= max_fee * 9
    assert b.max_priority_fee_per_gas * 8 >= tip * 9


def test_suggestion_on_the_lab_is_eip1559(lab1: Chain) -> None:
    async def go() -> Fees:
        async with rpc_for(lab1) as rpc:
            return await suggest_fees(rpc)

    fees = run(go())
    base = lab1.w3.eth.get_block("latest")["baseFeePerGas"]
    assert fees.eip1559
    assert fees.max_priority_fee_per_gas is not None and fees.max_fee_per_gas is not None
    assert fees.max_priority_fee_per_gas >= FeePolicy().min_priority_wei
    assert fees.max_fee_per_gas >= base + fees.max_priority_fee_per_gas  # includable in the next block
