"""Reconciliation reads chain balances at the tracker's confirmation depth, not a block below it.

The tracker calls a transaction final at ``head - block + 1 >= confirmations``; balances read at ``head -
confirmations`` (as they were) missed the newest final block, so every confirmed trade showed as drift the moment it
was booked (found by ``fillpath chaos run --chain``, seed 1 of the chain sample: a halt on WETH@lab1)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from fillpath.chains.balances import ChainBalances
from fillpath.chains.readers import ChainSource, TokenRef
from fillpath.chains.rpc import RpcClient


class _Read(Exception):
    pass


class _Head(RpcClient):
    def __init__(self, head: int) -> None:
        super().__init__("lab1", ())
        self.head = head

    async def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        if method == "eth_blockNumber":
            return hex(self.head)
        raise _Read(params[1] if len(params) > 1 else None)

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        raise _Read(calls[0][1][1] if calls else None)


@pytest.mark.parametrize(("confirmations", "block"), [(0, 100), (1, 100), (2, 99), (12, 89)])
def test_balances_are_read_at_the_trackers_depth(confirmations: int, block: int) -> None:
    src = ChainSource(
        "lab1", 1, "0x" + "11" * 20, (TokenRef("USDC", "0x" + "22" * 20, 6),), (), holder="0x" + "33" * 20
    )
    reader = ChainBalances(_Head(100), src, confirmations=confirmations, clock_ns=lambda: 7)
    with pytest.raises(_Read) as read:
        asyncio.run(reader.balances())
    assert int(str(read.value.args[0]), 16) == block  # a transaction mined there has `confirmations` (tracker's depth)
