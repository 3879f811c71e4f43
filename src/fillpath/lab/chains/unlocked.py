"""Lab actors (the relayer, the settler, the exchange's hot wallet) send from anvil's unlocked development accounts
over async JSON-RPC, and move a lab chain's clock, which advances only when a block is mined."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from fillpath.chains.rpc import RpcClient, hex_int
from fillpath.model.errors import LabError

BLOCK_INTERVAL_S = 12


async def send(rpc: RpcClient, sender: str, to: str, data: bytes, *, value: int = 0, gas: int = 600_000) -> Any:
    """Send from an unlocked account and wait for the receipt (the lab mines on every transaction)."""
    tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "value": hex(value), "gas": hex(gas)}
    tx_hash = await rpc.request("eth_sendTransaction", [tx])
    for _ in range(400):
        receipt = await rpc.request("eth_getTransactionReceipt", [tx_hash])
        if receipt is not None:
            return receipt
        await asyncio.sleep(0.025)
    raise LabError(f"{rpc.location}: no receipt for {tx_hash}")


async def head_time(rpc: RpcClient) -> int:
    block = await rpc.request("eth_getBlockByNumber", ["latest", False])
    return hex_int(block["timestamp"])


async def mine_past(rpc: RpcClient, timestamp: int) -> None:
    """Mine empty blocks until the chain's clock is past ``timestamp`` (12 s per block, as the lab runs)."""
    now = await head_time(rpc)
    if now > timestamp:
        return
    blocks = math.ceil((timestamp - now + 1) / BLOCK_INTERVAL_S)
    await rpc.request("anvil_mine", [hex(blocks)])
