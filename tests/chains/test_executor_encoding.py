"""The executor's calldata, encoded by hand, is what eth_abi encodes for the contract's ``execute`` signature."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.chains.executor import _EXECUTE_TYPES, EXECUTE_SELECTOR, ExecLeg, ExecPlan, encode_execute_args

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
