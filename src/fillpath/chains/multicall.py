"""Batch many ``eth_call`` s into Multicall3 ``aggregate3`` calls, all at one block number."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fillpath.chains.abi import AbiFunction, fn
from fillpath.chains.rpc import RpcClient

CHUNK = 400  # calls per aggregate3: keeps each eth_call well under node gas caps


@dataclass(frozen=True, slots=True)
class Call:
    target: str
    function: AbiFunction
    args: tuple[Any, ...] = ()
    allow_failure: bool = False


async def multicall(
    rpc: RpcClient, multicall_address: str, calls: Sequence[Call], *, block: int
) -> list[tuple[Any, ...] | None]:
    """Decoded results in the order of ``calls`` (None where an allowed failure failed)."""
    agg = fn("Multicall3", "aggregate3")
    chunks = [calls[i : i + CHUNK] for i in range(0, len(calls), CHUNK)]
    requests = [
        (
            "eth_call",
            [
                {
                    "to": multicall_address,
                    "data": "0x"
                    + agg.encode([(c.target, c.allow_failure, c.function.encode(*c.args)) for c in chunk]).hex(),
                },
                hex(block),
            ],
        )
        for chunk in chunks
    ]
    replies = await rpc.batch(requests)
    out: list[tuple[Any, ...] | None] = []
    for chunk, reply in zip(chunks, replies, strict=True):
        (results,) = agg.decode(bytes.fromhex(str(reply)[2:]))
        for call, (ok, data) in zip(chunk, results, strict=True):
            out.append(call.function.decode(data) if ok and data else None)
    return out
