"""Evidence, on one chain, of money moving in or out of the holder: its identity and its flows between two blocks.

Reconciliation asks for this only when the ledger and the chain disagree, over the blocks since they last agreed:

- **tokens**: every ERC-20 ``Transfer`` log of a configured token to or from the holder (``eth_getLogs``, both
  directions), one flow per log, ``<tx hash>:<log index>``;
- **native coin**: it moves without logs (a plain send, a block reward, ``anvil_setBalance``), so the blocks where the
  holder's balance changed are found by bisection on ``eth_getBalance`` (O(changes · log blocks) reads), one flow
  per block, ``native:<block hash>``, naming that block's transactions (a block that holds one of ours carries our
  gas, which execution booked: the caller leaves it out by those hashes).

Past balances need the node to keep that state (an archive node, or a span within a full node's recent blocks);
where it does not, the read fails and the reconciler treats the difference as drift, as before.

A chain's **identity** is ``evm:<chain id>:<genesis hash>``, plus the instance of a development node (anvil's
``anvil_metadata.instanceId``; a real node does not answer it): a restarted dev node is another chain with the
same genesis, and its state is not the one the ledger followed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_utils.crypto import keccak

from fillpath.chains.readers import ChainSource
from fillpath.chains.rpc import RpcClient, RpcError, hex_int
from fillpath.model.assets import AssetId
from fillpath.model.reports import FlowReport

TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
LOG_SPAN = 10_000
"""Blocks per ``eth_getLogs`` request: providers refuse wider ranges."""
MAX_NATIVE_CHANGES = 256
"""Bisection stops after this many changed blocks (each costs ~log2(blocks) reads): the rest is drift."""


def _topic(address: str) -> str:
    return "0x" + address.lower().removeprefix("0x").rjust(64, "0")


async def chain_identity(rpc: RpcClient, chain_id: int) -> str:
    genesis = await rpc.request("eth_getBlockByNumber", ["0x0", False])
    ident = f"evm:{chain_id}:{genesis['hash']}"
    try:
        meta = await rpc.request("anvil_metadata")
    except RpcError:  # a real node: no such method
        return ident
    if isinstance(meta, dict):
        fork = meta.get("forkedNetwork")
        if isinstance(fork, dict) and fork.get("forkBlockHash"):
            ident += f":fork:{fork['forkBlockHash']}"
        if meta.get("instanceId"):
            ident += f":node:{meta['instanceId']}"
    return ident


async def block_hash(rpc: RpcClient, number: int) -> str | None:
    block = await rpc.request("eth_getBlockByNumber", [hex(number), False])
    return str(block["hash"]) if isinstance(block, dict) else None


async def token_flows(rpc: RpcClient, src: ChainSource, after: int, until: int) -> list[FlowReport]:
    holder = src.holder
    if holder is None or until <= after or not src.tokens:
        return []
    by_address = {t.address.lower(): t for t in src.tokens}
    me = _topic(holder)
    incoming: list[dict[str, Any]] = []
    outgoing: list[dict[str, Any]] = []
    for start in range(after + 1, until + 1, LOG_SPAN):
        base = {"address": [t.address for t in src.tokens], "fromBlock": hex(start),
                "toBlock": hex(min(until, start + LOG_SPAN - 1))}  # fmt: skip
        incoming += await rpc.request("eth_getLogs", [{**base, "topics": [TRANSFER, None, me]}])
        outgoing += await rpc.request("eth_getLogs", [{**base, "topics": [TRANSFER, me]}])
    out: list[FlowReport] = []
    seen: set[str] = set()
    for log, sign in [(x, 1) for x in incoming] + [(x, -1) for x in outgoing]:
        key = f"{log['transactionHash']}:{hex_int(log['logIndex'])}"
        token = by_address.get(str(log["address"]).lower())
        if token is None or key in seen or log.get("removed"):
            continue
        seen.add(key)
        topics: Sequence[str] = log["topics"]
        sender, receiver = "0x" + topics[1][-40:], "0x" + topics[2][-40:]
        if sender.lower() == receiver.lower():
            continue  # to itself: no change
        value = int(log["data"], 16) if log["data"] not in ("0x", "") else 0
        block = hex_int(log["blockNumber"])
        out.append(
            FlowReport(
                src.location, AssetId(token.symbol, src.location), sign * value, key,
                f"{token.symbol} Transfer of {value} base units from {sender} to {receiver} in tx "
                f"{log['transactionHash']} (block {block})",
                str(log["transactionHash"]).lower(),
            )
        )  # fmt: skip
    return out


async def native_flows(rpc: RpcClient, src: ChainSource, after: int, until: int) -> list[FlowReport]:
    holder = src.holder
    if holder is None or until <= after:
        return []
    cache: dict[int, int] = {}

    async def bal(n: int) -> int:
        if n not in cache:
            cache[n] = hex_int(await rpc.request("eth_getBalance", [holder, hex(n)]))
        return cache[n]

    changed: list[int] = []

    async def find(lo: int, hi: int) -> None:  # the balance at lo differs from hi's: where did it change?
        if len(changed) >= MAX_NATIVE_CHANGES or await bal(lo) == await bal(hi):
            return
        if hi == lo + 1:
            changed.append(hi)
            return
        mid = (lo + hi) // 2
        await find(lo, mid)
        await find(mid, hi)

    await find(after, until)
    out = []
    for n in changed:
        block: dict[str, Any] = await rpc.request("eth_getBlockByNumber", [hex(n), False])
        txs = [str(h).lower() for h in block.get("transactions", [])]
        delta = cache[n] - cache[n - 1]
        listed = f"transactions {', '.join(txs)}" if txs else "no transactions"
        out.append(
            FlowReport(
                src.location, AssetId(src.native, src.location), delta, f"native:{block['hash']}",
                f"{src.native} balance of {holder} went from {cache[n - 1]} to {cache[n]} in block {n} "
                f"({block['hash']}; {listed})",
                " ".join(txs),
            )
        )  # fmt: skip
    return out


async def chain_flows(rpc: RpcClient, src: ChainSource, after: int, until: int) -> list[FlowReport]:
    """Every flow of the holder's tokens and native coin in blocks ``after + 1 .. until``."""
    return [*await token_flows(rpc, src, after, until), *await native_flows(rpc, src, after, until)]
