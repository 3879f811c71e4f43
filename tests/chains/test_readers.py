"""Readers → snapshot on the real lab: every figure equals what the contracts say, all at one block."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from fillpath.chains.readers import ChainSource, read_chain
from fillpath.chains.rpc import RpcClient
from fillpath.collect.snapshot import assemble
from fillpath.lab.chains import artifacts
from fillpath.lab.contracts import stableswap as ss
from fillpath.lab.manager import NodeStatus
from fillpath.model.assets import AssetId
from fillpath.router.snapshot import read_snapshot
from fillpath.router.venues.stableswap import StableSwapPool
from tests.conftest import Chain


def _source(chain: Chain) -> ChainSource:
    return chain.deployment.chain_source()


def _read(chain: Chain, **kw: Any) -> Any:
    async def go() -> Any:
        async with RpcClient(chain.deployment.location, [chain.w3.provider.endpoint_uri]) as rpc:  # type: ignore[attr-defined]
            return await read_chain(rpc, _source(chain), **kw)

    return asyncio.run(go())


def test_v2_and_v3_state_equals_the_contracts(lab1: Chain) -> None:
    read = _read(lab1)
    assert read.block == lab1.w3.eth.block_number
    venues = {v["id"]: v for v in read.venues}
    for p in lab1.deployment.pools:
        v = venues[f"lab1:{p.kind}:{p.address}"]
        if p.kind == "stableswap":  # test_stableswap_state_equals_the_pool
            continue
        assert v["token0"] == f"{p.token0}@lab1" and v["token1"] == f"{p.token1}@lab1"
        if p.kind == "uniswap_v2":
            r0, r1, _ = lab1.contract_at("UniswapV2Pair", p.address).functions.getReserves().call()
            assert (v["reserve0"], v["reserve1"]) == (str(r0), str(r1))
            continue
        pool = lab1.contract_at("UniswapV3Pool", p.address)
        slot0 = pool.functions.slot0().call()
        assert v["sqrt_price_x96"] == str(slot0[0]) and v["tick"] == slot0[1]
        assert v["liquidity"] == str(pool.functions.liquidity().call())
        assert v["fee_ppm"] == p.fee_ppm and v["tick_spacing"] == p.tick_spacing
        ticks = [int(t) for t, _ in v["ticks"]]
        assert ticks == sorted(ticks) and len(ticks) >= 2
        for t, net in v["ticks"]:
            assert pool.functions.ticks(int(t)).call()[1] == int(net)
        # every position boundary the position manager minted in range is listed, and nothing else
        assert set(ticks) == _minted_ticks(lab1, p.address, v["tick"])
        # liquidity is conserved across the listed ticks: the sum of nets below the price is the active liquidity
        assert sum(int(n) for t, n in v["ticks"] if int(t) <= v["tick"]) == int(v["liquidity"])


def _minted_ticks(chain: Chain, pool_address: str, tick: int) -> set[int]:
    npm = chain.contract("NonfungiblePositionManager")
    factory = chain.contract("UniswapV3Factory")
    out: set[int] = set()
    for token_id in range(1, npm.functions.totalSupply().call() + 1):
        pos = npm.functions.positions(token_id).call()
        if factory.functions.getPool(pos[2], pos[3], pos[4]).call() == pool_address and pos[7] > 0:
            out |= {t for t in (pos[5], pos[6]) if abs(t - tick) <= 23_100}
    return out


def test_stableswap_state_equals_the_pool(lab1: Chain) -> None:
    """The StableSwap venue read in the same multicall as the rest: its coins, balances, A and fee are the pool's,
    and the router's get_dy on them is the pool's get_dy, to the unit."""
    chain = lab1
    snap = read_snapshot(assemble([_read(chain)], taken_at=datetime.now(UTC)))
    p = chain.deployment.pool("stableswap", "USDC", "DAI")
    (venue,) = [v for v in snap.venues if isinstance(v, StableSwapPool)]
    state = ss.read_state(chain.w3, p.address)
    assert venue == state.venue(venue.id, "lab1", [AssetId(c, "lab1") for c in p.coins], venue.gas)
    assert [str(c) for c in venue.coins] == ["USDC@lab1", "USDT@lab1", "DAI@lab1"] and venue.amp == 2000
    pool = chain.w3.eth.contract(address=p.address, abi=artifacts.abi("LabStableSwap"))
    for i, j, dx in ((0, 2, 10**6), (2, 1, 5 * 10**24), (1, 0, 123_456_789_012)):
        assert venue.get_dy(i, j, dx) == pool.functions.get_dy(i, j, dx).call()


def test_holdings_and_metadata(lab1: Chain) -> None:
    read = _read(lab1)
    for t in lab1.deployment.tokens:
        expected = lab1.contract(t.symbol).functions.balanceOf(lab1.dev).call()
        assert read.holdings[f"{t.symbol}@lab1"] == str(expected)
    assert read.holdings["ETH@lab1"] == str(lab1.w3.eth.get_balance(lab1.dev))
    assert {a["id"] for a in read.assets} >= {"ETH@lab1", "WETH@lab1", "USDC@lab1", "WBTC@lab1"}
    assert read.location == {
        "id": "lab1", "kind": "evm", "chain_id": 31337, "native": "ETH@lab1",
        "gas_price_wei": read.location["gas_price_wei"], "block": read.block,
    }  # fmt: skip
    assert int(read.location["gas_price_wei"]) > 0


def test_a_snapshot_reads_one_block_even_when_the_chain_moves_on(lab1: Chain) -> None:
    before = lab1.w3.eth.block_number
    pair = lab1.deployment.pool("uniswap_v2", "WETH", "USDC")
    r_before = lab1.contract_at("UniswapV2Pair", pair.address).functions.getReserves().call()
    router, weth = lab1.contract("UniswapV2Router02"), lab1.contract("WETH")
    approved = weth.functions.approve(router.address, 10**18).transact({"from": lab1.dev})
    path = [weth.address, lab1.deployment.address("USDC")]
    swap = router.functions.swapExactTokensForTokens(10**18, 1, path, lab1.dev, lab1.deadline())
    swapped = swap.transact({"from": lab1.dev})
    # anvil answers eth_sendTransaction before eth_blockNumber shows the block it mined: wait on the receipts
    assert lab1.w3.eth.wait_for_transaction_receipt(approved)["blockNumber"] == before + 1
    assert lab1.w3.eth.wait_for_transaction_receipt(swapped)["blockNumber"] == before + 2
    read = _read(lab1, block=before)
    v = next(v for v in read.venues if v.get("address") == pair.address)
    assert (v["reserve0"], v["reserve1"]) == (str(r_before[0]), str(r_before[1]))
    assert read.location["block"] == before
    assert _read(lab1).block == before + 2


def test_assembled_snapshot_has_prices_in_the_numeraire(lab1: Chain) -> None:
    snap = assemble([_read(lab1)], taken_at=datetime(2026, 11, 24, tzinfo=UTC))
    assert snap["format"] == "fillpath.snapshot/1"
    assert snap["taken_at"] == "2026-11-24T00:00:00Z"
    assert snap["prices"]["USDC@lab1"] == "1"
    assert 2990 < float(snap["prices"]["WETH@lab1"]) < 3010
    assert snap["prices"]["ETH@lab1"] == snap["prices"]["WETH@lab1"]  # through the wrap venue
    assert 89_000 < float(snap["prices"]["WBTC@lab1"]) < 91_000
    assert {v["kind"] for v in snap["venues"]} == {"uniswap_v2", "uniswap_v3", "stableswap", "wrap"}
    for v in snap["venues"]:
        for key in ("reserve0", "reserve1", "liquidity", "sqrt_price_x96", "gas"):
            assert key not in v or isinstance(v[key], str)


def test_snapshot_take_cli(anvil_lab: dict[str, NodeStatus], tmp_path: Any) -> None:
    env = {**os.environ, "FILLPATH_DATA_DIR": os.environ["FILLPATH_TEST_LAB_DIR"]}
    out = tmp_path / "snap.json"
    res = subprocess.run(
        [sys.executable, "-m", "fillpath", "snapshot", "take", "--json", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )  # fmt: skip
    printed, written = json.loads(res.stdout), json.loads(out.read_text())
    assert printed == written
    assert [loc["id"] for loc in written["locations"]] == ["lab1", "lab2", "labex", "labokx"]
    kinds = [v["kind"] for v in written["venues"] if v.get("location") == "lab1"]  # bridges, transfers: from/to
    assert len(kinds) == 15 and kinds.count("stableswap") == 1  # 7 pools, the StableSwap pool, the wrap and ...
    assert kinds.count("aggregator") == 6  # ... the lab aggregator's six sampled directions
    assert {v["kind"] for v in written["venues"] if "location" not in v} <= {"bridge", "transfer"}


def test_snapshot_take_without_a_lab_says_how_to_start_it(tmp_path: Any) -> None:
    env = {**os.environ, "FILLPATH_DATA_DIR": str(tmp_path)}
    res = subprocess.run(
        [sys.executable, "-m", "fillpath", "snapshot", "take"], capture_output=True, text=True, env=env, timeout=60
    )
    assert res.returncode == 2  # refused: a precondition (docs/operations.md)
    assert "fillpath lab up" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("distance", [600, 5000])
def test_tick_walk_is_bounded(lab1: Chain, distance: int) -> None:
    read = _read(lab1, max_tick_distance=distance)
    for v in read.venues:
        if v["kind"] == "uniswap_v3":
            assert all(abs(int(t) - v["tick"]) <= distance for t, _ in v["ticks"])
