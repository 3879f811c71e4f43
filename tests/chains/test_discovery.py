"""Pool discovery against the lab's real factories: every pool they deployed between the lab's tokens, no other
(not the aggregator-only LabSwap pairs of another factory), by calls and by events alike, cached by block, and
plugged into the snapshot collector."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest
from web3 import Web3

from fillpath.chains.discovery import Factory, PoolDiscovery
from fillpath.chains.readers import read_chain
from fillpath.chains.rpc import RpcClient
from fillpath.lab.chains import artifacts
from tests.conftest import Chain

V3_TIERS = (100, 500, 3000, 10000)


class CountingRpc(RpcClient):
    """The real client, counting what it sends (to see the cache and the incremental scan at work)."""

    def __init__(self, location: str, urls: Sequence[str]) -> None:
        super().__init__(location, urls)
        self.sent: list[str] = []

    async def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        self.sent.append(method)
        return await super().request(method, params)

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        self.sent += [m for m, _ in calls]
        return await super().batch(calls)


def _url(chain: Chain) -> str:
    return str(chain.w3.provider.endpoint_uri)  # type: ignore[attr-defined]


def _discovery(chain: Chain, *, tiers: tuple[int, ...] = V3_TIERS, events: bool = True) -> PoolDiscovery:
    dep = chain.deployment
    factories = (
        Factory("uniswap_v2", dep.address("UniswapV2Factory")),
        Factory("uniswap_v3", dep.address("UniswapV3Factory"), 0, tiers),
    )
    return PoolDiscovery(factories, tuple(t.address for t in dep.tokens), dep.address("Multicall3"), events=events)


def _deployed(chain: Chain) -> set[tuple[str, str, int]]:
    return {(p.kind, p.address.lower(), p.fee_ppm) for p in chain.deployment.pools if p.kind.startswith("uniswap")}


def _found(chain: Chain, discovery: PoolDiscovery, block: int | None = None) -> set[tuple[str, str, int]]:
    async def go() -> set[tuple[str, str, int]]:
        async with RpcClient("x", [_url(chain)]) as rpc:
            at = chain.w3.eth.block_number if block is None else block
            return {(p.kind, p.address, p.fee_ppm) for p in await discovery.pools(rpc, at)}

    return asyncio.run(go())


@pytest.mark.parametrize("lab", ["lab1", "lab2"])
def test_discovery_finds_every_deployed_pool_and_no_other(lab: str, request: pytest.FixtureRequest) -> None:
    chain: Chain = request.getfixturevalue(lab)
    deployed = _deployed(chain)
    assert deployed
    assert _found(chain, _discovery(chain)) == deployed
    # each source alone finds them all: the factories' answers, and their creation events (no tier listed)
    assert _found(chain, _discovery(chain, events=False)) == deployed
    assert _found(chain, _discovery(chain, tiers=())) == deployed
    # the aggregator-only pairs of the lab's second V2 factory are not the configured factories' pools
    others = {p.address.lower() for p in chain.deployment.aggregator_pools}
    assert not others & {a for _, a, _ in deployed}


def test_a_pool_created_later_appears_at_its_block_only_and_reads_are_cached(lab1: Chain) -> None:
    dep = lab1.deployment
    factory = lab1.w3.eth.contract(
        address=Web3.to_checksum_address(dep.address("UniswapV3Factory")), abi=artifacts.abi("UniswapV3Factory")
    )
    discovery = _discovery(lab1)
    before = lab1.w3.eth.block_number
    usdt, dai = Web3.to_checksum_address(dep.address("USDT")), Web3.to_checksum_address(dep.address("DAI"))
    # a tier with no pool yet on this chain (the session's lab chain may carry one an earlier test run created)
    zero = "0x" + "0" * 40
    fee = next(f for f in (500, 3000, 10000, 100) if factory.functions.getPool(usdt, dai, f).call() == zero)
    created = factory.functions.createPool(usdt, dai, fee).transact({"from": dep.dev})
    # anvil answers a send before it mines it: wait for the receipt, not the block number
    assert lab1.w3.eth.wait_for_transaction_receipt(created, timeout=30)["status"] == 1
    after = lab1.w3.eth.block_number
    assert after > before, "the pool was not created"
    new = factory.functions.getPool(usdt, dai, fee).call().lower()

    async def go() -> tuple[Any, ...]:
        async with CountingRpc("lab1", [_url(lab1)]) as rpc:
            at_before = await discovery.pools(rpc, before)
            sent_first = len(rpc.sent)
            again = await discovery.pools(rpc, before)  # cached: nothing sent
            cached = len(rpc.sent) == sent_first
            rpc.sent.clear()
            at_after = await discovery.pools(rpc, after)
            return at_before, again, cached, list(rpc.sent), at_after

    at_before, again, cached, sent_after, at_after = asyncio.run(go())
    assert new not in {p.address for p in at_before}
    assert again == at_before
    assert cached
    assert sent_after.count("eth_getLogs") == 2  # one per factory, from the last block scanned: incremental
    found = {p.address: p for p in at_after}
    assert found[new].fee_ppm == fee
    assert {found[new].token0, found[new].token1} == {usdt.lower(), dai.lower()}


def test_the_snapshot_collector_reads_the_discovered_pools(lab1: Chain) -> None:
    src = dataclasses.replace(lab1.deployment.chain_source(), discovery=_discovery(lab1))
    src = dataclasses.replace(src, pools=tuple(p for p in src.pools if p.kind == "stableswap"))

    async def go() -> Any:
        async with RpcClient("lab1", [_url(lab1)]) as rpc:
            return await read_chain(rpc, src)

    read = asyncio.run(go())
    listed = {(v["kind"], v["address"].lower()) for v in read.venues if v["kind"].startswith("uniswap")}
    assert listed == {(k, a) for k, a, _ in _deployed(lab1)}
    assert any(v["kind"] == "stableswap" for v in read.venues)  # configured pools stay
