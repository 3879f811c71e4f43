"""``realized.native_unwrapped``: the ETH an executor call whose output is ETH paid us, from its receipt alone (what
recovery books for such a call: the payment itself is an internal call without a log; chaos --chain seeds 6063,
6120)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fillpath.execution.realized import DEPOSIT, TRANSFER, WITHDRAWAL, native_unwrapped

EXECUTOR = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
WETH = "0x" + "ee" * 20


def _log(topic0: str, who: str, amount: int) -> dict[str, object]:
    return {
        "address": WETH,
        "topics": [topic0, "0x" + "00" * 12 + who[2:]],
        "data": "0x" + amount.to_bytes(32, "big").hex(),
    }


moves = st.lists(st.tuples(st.sampled_from([WITHDRAWAL, DEPOSIT]), st.sampled_from([EXECUTOR, OTHER]),
                           st.integers(0, 10**24)), max_size=6)  # fmt: skip


@given(moves)
def test_counts_the_holders_unwraps_less_its_wraps(logs: list[tuple[str, str, int]]) -> None:
    receipt = {"logs": [_log(*x) for x in logs]}
    mine = [(t, a) for t, who, a in logs if who == EXECUTOR]
    expected = sum(a for t, a in mine if t == WITHDRAWAL) - sum(a for t, a in mine if t == DEPOSIT)
    assert native_unwrapped(receipt, EXECUTOR) == max(expected, 0)


def test_a_transfer_log_is_not_an_unwrap() -> None:
    """A token transfer from the executor (three topics) is not ETH paid."""
    transfer = {"address": WETH, "topics": [TRANSFER, "0x" + "00" * 12 + EXECUTOR[2:], "0x" + "00" * 12 + OTHER[2:]],
                "data": "0x" + (5).to_bytes(32, "big").hex()}  # fmt: skip
    assert (
        native_unwrapped({"logs": [transfer, _log(WITHDRAWAL, EXECUTOR, 7)]}, EXECUTOR.upper().replace("X", "x")) == 7
    )
