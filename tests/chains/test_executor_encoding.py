"""The executor's calldata, encoded by hand, is what eth_abi encodes for the contract's ``execute`` signature."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.chains.executor import (
    _EXECUTE_TYPES,
    _EXECUTE_WITH_CALLS_TYPES,
    EXECUTE_SELECTOR,
    EXECUTE_WITH_CALLS_SELECTOR,
    NATIVE,
    ExecCall,
    ExecLeg,
    ExecPlan,
    LegKind,
    encode_execute_args,
)
from fillpath.model.errors import InvalidInput

UINT256 = st.integers(0, 2**256 - 1)
ADDRESS = st.binary(min_size=20, max_size=20).map(to_checksum_address)
PULL = st.tuples(ADDRESS, UINT256)
LEG = st.tuples(st.integers(0, 255), st.integers(0, 2**24 - 1), ADDRESS, ADDRESS, ADDRESS, UINT256, UINT256)


@settings(max_examples=300, deadline=None)
@given(st.lists(PULL, max_size=5), st.lists(LEG, max_size=6), ADDRESS, UINT256, ADDRESS, UINT256)
def test_encoding_matches_eth_abi(
    pulls: list[tuple[str, int]],
    legs: list[tuple[int, int, str, str, str, int, int]],
    token_out: str,
    min_total_out: int,
    recipient: str,
    deadline: int,
) -> None:
    args = (pulls, legs, token_out, min_total_out, recipient, deadline)
    assert encode_execute_args(*args) == encode(_EXECUTE_TYPES, list(args))


def test_a_plans_calldata_is_the_selector_and_the_eth_abi_encoding() -> None:
    weth, usdc, dai = (to_checksum_address(f"0x{i:040x}") for i in (0xAA, 0xBB, 0xCC))
    pool_a, pool_b = to_checksum_address("0x" + "11" * 20), to_checksum_address("0x" + "22" * 20)
    plan = ExecPlan.build(
        [ExecLeg.v3(pool_a, weth, usdc, 500, 10**18, 1), ExecLeg.v2(pool_b, usdc, dai, "all", 7, 3000)],
        dai, 7, to_checksum_address("0x" + "33" * 20), 1_767_225_600,
    )  # fmt: skip
    args = ([(p.token, p.amount) for p in plan.pulls], [leg.encoded() for leg in plan.legs], plan.token_out,
            plan.min_total_out, plan.recipient, plan.deadline)  # fmt: skip
    assert plan.calldata() == EXECUTE_SELECTOR + encode(_EXECUTE_TYPES, list(args))
    assert plan.pulls[0].amount == 10**18


# ------------------------------------------------------------------------------------------------ new leg kinds

WETH, USDC, DAI = (to_checksum_address(f"0x{i:040x}") for i in (0xAA, 0xBB, 0xCC))
POOL, STABLE, HOLDER, ME = (to_checksum_address("0x" + c * 40) for c in "1234")


def _decoded(plan: ExecPlan) -> list[Any]:
    data = plan.calldata()
    assert data[:4] == EXECUTE_WITH_CALLS_SELECTOR
    return list(decode(_EXECUTE_WITH_CALLS_TYPES, data[4:]))


def test_plans_without_calls_keep_executes_encoding() -> None:
    plan = ExecPlan.build(
        [ExecLeg.v2(POOL, WETH, USDC, 10**18, 1), ExecLeg.stableswap(STABLE, USDC, DAI, 0, 2, "all", 5)], DAI, 5, ME, 9
    )
    assert plan.calls == ()
    data = plan.calldata()
    assert data[:4] == EXECUTE_SELECTOR
    _, legs, *_ = decode(_EXECUTE_TYPES, data[4:])
    assert legs[1] == (4, 2, STABLE.lower(), USDC.lower(), DAI.lower(), 2**256 - 1, 5)  # fee word = i << 8 | j


def test_call_legs_travel_in_executeWithCalls_with_their_index() -> None:
    quote_a, quote_b = b"\x01" * 37, b"\x02" * 5
    legs = [
        ExecLeg.external(HOLDER, WETH, USDC, 10**18, 7, quote_a, HOLDER),
        ExecLeg.v3(POOL, WETH, USDC, 500, 10**18, 1),
        ExecLeg.external(HOLDER, USDC, DAI, "all", 9, quote_b, HOLDER, max_unspent=3),
        ExecLeg.stableswap(STABLE, USDC, DAI, 1, 0, 4, 1),
    ]
    plan = ExecPlan.build(legs[:3], DAI, 9, ME, 1_767_225_600)
    pulls, enc_legs, calls, token_out, min_total, recipient, deadline = _decoded(plan)
    assert pulls == ((WETH.lower(), 2 * 10**18),)
    assert [leg[0:2] for leg in enc_legs] == [(5, 0), (1, 500), (5, 1)]  # CALL legs index their calls in order
    assert calls == ((HOLDER.lower(), 0, quote_a), (HOLDER.lower(), 3, quote_b))
    assert (token_out, min_total, recipient, deadline) == (DAI.lower(), 9, ME.lower(), 1_767_225_600)
    assert plan.calls == (legs[0].call, legs[2].call)
    assert legs[3].encoded()[1] == 1 << 8


def test_eth_into_a_call_is_value_not_an_approval() -> None:
    leg = ExecLeg.external(HOLDER, NATIVE, USDC, 10**18, 1, b"", None)
    plan = ExecPlan.build([leg], USDC, 1, ME, 1)
    assert (plan.value, plan.pulls) == (10**18, ())
    assert _decoded(plan)[2] == ((NATIVE.lower(), 0, b""),)


def test_new_legs_are_checked_when_built() -> None:
    with pytest.raises(InvalidInput, match="coin indices"):
        ExecLeg.stableswap(STABLE, USDC, DAI, 1, 1, 5, 0)
    with pytest.raises(InvalidInput, match="coin indices"):
        ExecLeg.stableswap(STABLE, USDC, DAI, 0, 256, 5, 0)
    with pytest.raises(InvalidInput, match="swap leg"):
        ExecLeg.stableswap(STABLE, NATIVE, DAI, 0, 1, 5, 0)
    with pytest.raises(InvalidInput, match="as value"):
        ExecLeg.external(HOLDER, NATIVE, USDC, 1, 0, b"", HOLDER)
    with pytest.raises(InvalidInput, match="allowance target"):
        ExecLeg.external(HOLDER, WETH, USDC, 1, 0, b"", None)
    with pytest.raises(InvalidInput, match="carries a call"):
        ExecLeg(LegKind.UNISWAP_V2, WETH, USDC, 1, 0, POOL, 3000, call=ExecCall(HOLDER, b""))
    with pytest.raises(InvalidInput, match="StableSwap legs"):
        ExecLeg(LegKind.UNISWAP_V2, WETH, USDC, 1, 0, POOL, 3000, coin_in=1)


@pytest.mark.parametrize("target", [WETH, DAI, POOL])
def test_a_call_may_not_target_a_token_or_a_pool_of_the_plan(target: str) -> None:
    legs = [ExecLeg.v2(POOL, WETH, USDC, 5, 1), ExecLeg.external(target, USDC, DAI, "all", 1, b"", HOLDER)]
    with pytest.raises(InvalidInput, match=r"legs\[1\]\.pool"):
        ExecPlan.build(legs, DAI, 1, ME, 1)
