"""On-chain balances → ``BalanceReport`` s, read through Multicall3 at a *confirmed* block.

Reconciliation compares them with the ledger; reading at the newest block of the confirmation depth (the
tracker's) keeps a transaction that a reorg could still undo out of the comparison.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

from fillpath.chains.abi import fn
from fillpath.chains.flows import chain_identity, native_flows, token_flows
from fillpath.chains.multicall import Call, multicall
from fillpath.chains.readers import ChainSource
from fillpath.chains.rpc import RpcClient, hex_int
from fillpath.model.assets import AssetId
from fillpath.model.reports import BalanceReport, FlowReport


class ChainBalances:
    """A balance source for one EVM location and one holder address."""

    def __init__(
        self, rpc: RpcClient, src: ChainSource, *, confirmations: int = 2, clock_ns: Callable[[], int] = time.time_ns
    ) -> None:
        if src.holder is None:
            raise ValueError(f"{src.location}: no holder address to read balances for")
        self.rpc = rpc
        self.src = src
        self.location = src.location
        self.confirmations = confirmations
        self.clock_ns = clock_ns
        self.block: int | None = None

    async def close(self) -> None:
        await self.rpc.close()

    async def balances(self) -> list[BalanceReport]:
        head = hex_int(await self.rpc.request("eth_blockNumber"))
        # the newest block whose transactions have ``confirmations`` (the tracker's depth: head - block + 1), so a
        # transaction the tracker called final is in the balances read (head - confirmations lagged it by a block:
        # drift on every trade the moment it was booked); 0 reads the head, like 1
        block = max(0, head - max(0, self.confirmations - 1))
        holder = self.src.holder
        assert holder is not None
        calls = [Call(t.address, fn("ERC20", "balanceOf"), (holder,)) for t in self.src.tokens]
        calls.append(Call(self.src.multicall, fn("Multicall3", "getEthBalance"), (holder,)))
        results = await multicall(self.rpc, self.src.multicall, calls, block=block)
        stamp = self.clock_ns()
        symbols = [t.symbol for t in self.src.tokens] + [self.src.native]
        self.block = block
        out = []
        for symbol, res in zip(symbols, results, strict=True):
            assert res is not None
            out.append(BalanceReport(self.location, AssetId(symbol, self.location), int(res[0]), stamp))
        return out

    async def identity(self) -> str | None:
        """``evm:<chain id>:<genesis hash>`` (and a dev node's instance): ``chains.flows.chain_identity``."""
        return await chain_identity(self.rpc, self.src.chain_id)

    def mark(self) -> int | None:
        """The block the last :meth:`balances` read."""
        return self.block

    async def flows(self, after: int, assets: Collection[AssetId]) -> list[FlowReport]:
        if self.block is None:
            return []
        native = AssetId(self.src.native, self.location) in assets
        tokens = any(AssetId(t.symbol, self.location) in assets for t in self.src.tokens)
        found = await token_flows(self.rpc, self.src, after, self.block) if tokens else []
        found += await native_flows(self.rpc, self.src, after, self.block) if native else []
        return [f for f in found if f.asset in assets]
