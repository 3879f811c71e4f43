"""Pool discovery: which Uniswap V2 pairs and V3 pools exist between the configured tokens, from the factories.

Two sources, both at one block: the factories' own answers (``getPair`` for every token pair, ``getPool`` for
every pair and fee tier, batched through Multicall3), and their creation events (``PairCreated``, ``PoolCreated``)
from a start block, which also find pools at fee tiers nobody listed. Only pools between two configured tokens are
kept: the readers can price nothing else. Results are cached by block, and the event scan is incremental (each
call asks only for the logs after the last block it scanned), so a service polling every block pays one small
``eth_getLogs`` per factory, not a rescan.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from eth_utils.crypto import keccak

from fillpath.chains.abi import AbiFunction
from fillpath.chains.multicall import Call, multicall
from fillpath.chains.rpc import RpcClient, hex_int

GET_PAIR = AbiFunction("getPair", ("address", "address"), ("address",))
GET_POOL = AbiFunction("getPool", ("address", "address", "uint24"), ("address",))
PAIR_CREATED = "0x" + keccak(text="PairCreated(address,address,address,uint256)").hex()
POOL_CREATED = "0x" + keccak(text="PoolCreated(address,address,uint24,int24,address)").hex()
ZERO = "0x" + "00" * 20
CACHED_BLOCKS = 16


@dataclass(frozen=True, slots=True)
class Factory:
    kind: Literal["uniswap_v2", "uniswap_v3"]
    address: str
    start_block: int = 0
    """Where the event scan starts: the factory's deployment block (or a lower bound of it)."""
    fee_tiers: tuple[int, ...] = ()
    """V3: the tiers asked of ``getPool`` (events find the others)."""


@dataclass(frozen=True, slots=True)
class FoundPool:
    kind: str
    address: str
    token0: str
    token1: str
    fee_ppm: int
    factory: str


def _addr(word: str) -> str:
    """The address in a 32-byte topic or data word, lower-case."""
    return "0x" + word[-40:].lower()


@dataclass
class PoolDiscovery:
    """Discovers pools of ``factories`` between ``tokens`` (addresses); one instance per location, kept across
    snapshots so its block cache and event scan carry over."""

    factories: tuple[Factory, ...]
    tokens: tuple[str, ...]
    multicall_address: str
    events: bool = True
    max_log_range: int = 10_000
    """Blocks per ``eth_getLogs`` request (providers cap the range)."""
    _by_block: OrderedDict[int, tuple[FoundPool, ...]] = field(default_factory=OrderedDict, repr=False)
    _scanned: dict[str, int] = field(default_factory=dict, repr=False)
    _created: dict[str, tuple[int, FoundPool]] = field(default_factory=dict, repr=False)

    def calls(self) -> list[Call]:
        """The factory calls one discovery makes (in this order): getPair per pair, getPool per pair and tier."""
        pairs = list(itertools.combinations(sorted({t.lower() for t in self.tokens}), 2))
        out: list[Call] = []
        for f in self.factories:
            if f.kind == "uniswap_v2":
                out += [Call(f.address, GET_PAIR, (a, b)) for a, b in pairs]
            else:
                out += [Call(f.address, GET_POOL, (a, b, fee)) for a, b in pairs for fee in f.fee_tiers]
        return out

    async def pools(self, rpc: RpcClient, block: int) -> tuple[FoundPool, ...]:
        """Every pool between two configured tokens that exists at ``block``, each once, in a stable order."""
        cached = self._by_block.get(block)
        if cached is not None:
            return cached
        found: dict[str, FoundPool] = {}
        calls = self.calls()
        results = await multicall(rpc, self.multicall_address, calls, block=block) if calls else []
        for call, result in zip(calls, results, strict=True):
            address = str(result[0]).lower() if result else ZERO
            if address == ZERO:
                continue
            a, b = str(call.args[0]), str(call.args[1])
            kind = "uniswap_v2" if call.function is GET_PAIR else "uniswap_v3"
            fee = int(call.args[2]) if kind == "uniswap_v3" else 3000
            found[address] = FoundPool(kind, address, a, b, fee, call.target.lower())
        if self.events:
            await self._scan(rpc, block)
            for created_at, pool in self._created.values():
                if created_at <= block:
                    found.setdefault(pool.address, pool)
        out = tuple(sorted(found.values(), key=lambda p: (p.kind, p.token0, p.token1, p.fee_ppm, p.address)))
        self._by_block[block] = out
        while len(self._by_block) > CACHED_BLOCKS:
            self._by_block.popitem(last=False)
        return out

    async def _scan(self, rpc: RpcClient, block: int) -> None:
        wanted = {t.lower() for t in self.tokens}
        for f in self.factories:
            start = self._scanned.get(f.address.lower(), f.start_block - 1) + 1
            topic = PAIR_CREATED if f.kind == "uniswap_v2" else POOL_CREATED
            for lo in range(start, block + 1, self.max_log_range):
                hi = min(block, lo + self.max_log_range - 1)
                flt = {"address": f.address, "topics": [topic], "fromBlock": hex(lo), "toBlock": hex(hi)}
                for log in await rpc.request("eth_getLogs", [flt]):
                    pool = _decode_created(f, log)
                    if pool is not None and {pool.token0, pool.token1} <= wanted and not log.get("removed"):
                        self._created.setdefault(pool.address, (hex_int(log["blockNumber"]), pool))
            self._scanned[f.address.lower()] = max(block, start - 1)


def _decode_created(f: Factory, log: dict[str, Any]) -> FoundPool | None:
    topics: Sequence[str] = log.get("topics") or []
    data = str(log.get("data", "0x"))[2:]
    if f.kind == "uniswap_v2" and len(topics) == 3 and len(data) >= 64:
        return FoundPool("uniswap_v2", _addr(data[:64]), _addr(topics[1]), _addr(topics[2]), 3000, f.address.lower())
    if f.kind == "uniswap_v3" and len(topics) == 4 and len(data) >= 128:
        fee = int(topics[3], 16)
        return FoundPool("uniswap_v3", _addr(data[64:128]), _addr(topics[1]), _addr(topics[2]), fee, f.address.lower())
    return None
