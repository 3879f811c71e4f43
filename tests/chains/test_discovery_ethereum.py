"""Discovery with the Ethereum description builds the right calls: replayed against a recording.

``fixtures/ethereum_discovery.json`` was recorded by ``scripts/record_ethereum_discovery.py`` on an anvil chain
that is Ethereum where discovery looks (chain id 1, the real factories at their real addresses from the npm builds,
pools created between the real tokens). The replay holds every request to the recorded one, byte for byte, and
the pools found must be the mainnet pools named below (their addresses are CREATE2 results over the real factories,
so a wrong factory, token or tier could not produce them).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from fillpath.app import pool_discovery
from fillpath.chains.networks import ETHEREUM, MULTICALL3, NETWORKS, by_chain_id, network
from fillpath.chains.rpc import RpcClient
from fillpath.config import DiscoveryConfig
from fillpath.model.errors import InvalidInput

FIXTURE = Path(__file__).parent / "fixtures" / "ethereum_discovery.json"

MAINNET_POOLS = {  # as Etherscan and Uniswap's pages know them
    ("uniswap_v2", "0xb4e16d0168e52d35cacd2c6185b44281ec28c9dc"),  # USDC/WETH
    ("uniswap_v2", "0x0d4a11d5eeaac28ec3f61d100daf4d40471f1852"),  # WETH/USDT
    ("uniswap_v2", "0xa478c2975ab1ea89e8196811f51a7b7ade33eb11"),  # DAI/WETH
    ("uniswap_v2", "0x3041cbd36888becc7bbcbc0045e3b1f144466f5f"),  # USDC/USDT
    ("uniswap_v2", "0xbb2b8038a1640196fbe3e38816f3e67cba72d940"),  # WBTC/WETH
    ("uniswap_v3", "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"),  # USDC/WETH 0.05%
    ("uniswap_v3", "0x8ad599c3a0ff1de082011efddc58f1908eb6e6d8"),  # USDC/WETH 0.3%
    ("uniswap_v3", "0x11b815efb8f581194ae79006d24e0d814b7697f6"),  # WETH/USDT 0.05%
    ("uniswap_v3", "0xcbcdf9626bc03e24f779434178a73a0b4bad62ed"),  # WBTC/WETH 0.3%
    ("uniswap_v3", "0x5777d92f208679db4b9778590fa3cab3ac9e2168"),  # DAI/USDC 0.01%
}


class ReplayRpc(RpcClient):
    """Answers from the recording, and only to the exact request recorded at that point."""

    def __init__(self, exchanges: list[dict[str, Any]]) -> None:
        super().__init__("ethereum", ["http://127.0.0.1:9"])
        self.exchanges = list(exchanges)

    def _next(self, calls: list[list[Any]]) -> list[Any]:
        assert self.exchanges, f"an unrecorded request: {calls}"
        recorded = self.exchanges.pop(0)
        assert calls == recorded["batch"]
        return list(recorded["results"])

    async def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        return self._next([[method, list(params)]])[0]

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        return self._next([[m, list(p)] for m, p in calls])


def _recording() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())
    return data


def test_ethereum_discovery_makes_the_recorded_calls_and_finds_the_mainnet_pools() -> None:
    rec = _recording()
    cfg = DiscoveryConfig.model_validate(rec["discovery"])
    discovery = pool_discovery("ethereum", cfg, ETHEREUM.tokens, MULTICALL3)
    assert discovery is not None
    replay = ReplayRpc(rec["exchanges"])
    found = asyncio.run(discovery.pools(replay, rec["block"]))
    assert replay.exchanges == []  # every recorded request was made, in order, and nothing else
    assert {(p.kind, p.address) for p in found} == MAINNET_POOLS
    # the pool with a token outside the description was created on the recorded chain and left out
    assert all({p.token0, p.token1} <= {t.address.lower() for t in ETHEREUM.tokens} for p in found)
    # a second look at the same block is answered from the cache: no request at all
    assert asyncio.run(discovery.pools(ReplayRpc([]), rec["block"])) == found


def test_the_recorded_calls_go_to_the_real_addresses() -> None:
    rec = _recording()
    (first,) = rec["exchanges"][0]["batch"]
    method, (call, block) = first
    assert method == "eth_call"
    assert call["to"] == MULTICALL3
    assert block == hex(rec["block"])
    data = call["data"]
    for factory in (ETHEREUM.uniswap_v2.factory, ETHEREUM.uniswap_v3.factory):
        assert factory[2:].lower() in data  # getPair / getPool targets inside aggregate3
    logs = [ex["batch"][0][1][0] for ex in rec["exchanges"][1:]]
    assert {flt["address"] for flt in logs} == {ETHEREUM.uniswap_v2.factory, ETHEREUM.uniswap_v3.factory}
    first_v2 = min(int(f["fromBlock"], 16) for f in logs if f["address"] == ETHEREUM.uniswap_v2.factory)
    assert first_v2 == ETHEREUM.uniswap_v2.start_block


def test_networks_are_described_and_looked_up_by_name_and_chain_id() -> None:
    assert set(NETWORKS) == {"ethereum", "arbitrum", "base"}
    assert by_chain_id(42161) is NETWORKS["arbitrum"]
    assert by_chain_id(8453) is NETWORKS["base"]
    assert by_chain_id(31337) is None
    for net in NETWORKS.values():
        assert net.multicall == MULTICALL3
        assert net.token(net.wrapped_native).decimals == 18
        assert len({t.address.lower() for t in net.tokens}) == len(net.tokens)
    with pytest.raises(KeyError, match="ethereum, arbitrum, base"):
        network("optimism")


def test_an_unknown_network_in_the_configuration_names_the_field() -> None:
    with pytest.raises(InvalidInput, match=r"locations\.x\.discovery\.network"):
        pool_discovery("x", DiscoveryConfig(network="optimism"), ETHEREUM.tokens, MULTICALL3)
    with pytest.raises(ValueError, match="name a network"):
        DiscoveryConfig()


def test_a_configured_discovery_table_reaches_the_read_plan(tmp_path: Path) -> None:
    from fillpath.app import chain_sources
    from fillpath.config import load_config_file

    path = tmp_path / "fillpath.toml"
    path.write_text(
        '[locations.ethereum]\nchain_id = 1\nrpc = "http://127.0.0.1:8545"\n'
        '[locations.ethereum.discovery]\nnetwork = "ethereum"\n'
        '[[locations.ethereum.discovery.uniswap_v2]]\naddress = "0xC0AEe478e3658e2610c5F7A4A2E1777cE9e4f2Ac"\n'
        "start_block = 10794229\n"
        '[[tokens]]\nlocation = "ethereum"\nsymbol = "WETH"\naddress = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"\n'
        "decimals = 18\n"
    )
    ((_, src),) = chain_sources(load_config_file(path))
    assert src.discovery is not None
    assert [(f.kind, f.address) for f in src.discovery.factories] == [
        ("uniswap_v2", ETHEREUM.uniswap_v2.factory),
        ("uniswap_v3", ETHEREUM.uniswap_v3.factory),
        ("uniswap_v2", "0xC0AEe478e3658e2610c5F7A4A2E1777cE9e4f2Ac"),  # a fork of V2 (SushiSwap's factory)
    ]
    assert src.discovery.tokens == ("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",)
