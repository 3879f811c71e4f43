"""The router's exact venue math against the real contracts on the anvil lab, through the real readers:
on-chain state → ``snapshot take`` → strict reader → venue → quote, equal to QuoterV2 / getAmountsOut to the wei.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from fillpath.chains.readers import read_chain
from fillpath.chains.rpc import RpcClient
from fillpath.collect.snapshot import assemble
from fillpath.model.assets import AssetId
from fillpath.router.snapshot import read_snapshot
from fillpath.router.venues.factory import venues_from_snapshot
from fillpath.router.venues.uniswap_v2 import UniswapV2Pair
from fillpath.router.venues.uniswap_v3 import UniswapV3Pool
from tests.conftest import Chain


def _lab_venues(chain: Chain) -> dict[str, object]:
    d = chain.deployment
    src = d.chain_source()

    async def go() -> dict[str, object]:
        async with RpcClient(d.location, [chain.w3.provider.endpoint_uri]) as rpc:  # type: ignore[attr-defined]
            read = await read_chain(rpc, src)
        snap = read_snapshot(assemble([read], taken_at=datetime.now(UTC)))
        return {getattr(v, "address", v.id): v for v in venues_from_snapshot(snap)}

    return asyncio.run(go())


def test_v3_quotes_equal_quoterv2_on_the_lab(lab1: Chain) -> None:
    venues = _lab_venues(lab1)
    quoter = lab1.contract("QuoterV2")
    rng = random.Random(20261124)
    checked = crossing = 0
    for p in lab1.deployment.pools:
        if p.kind != "uniswap_v3":
            continue
        venue = venues[p.address]
        assert isinstance(venue, UniswapV3Pool)
        for a, b in ((p.token0, p.token1), (p.token1, p.token0)):
            tin, tout = lab1.deployment.token(a), lab1.deployment.token(b)
            for _ in range(6):
                # sizes from dust to far past the price's neighbourhood (log-uniform in USD terms). Past a pool's
                # last tick QuoterV2 walks every empty word to the price limit and, at tick spacing 1, runs out of
                # gas: the stable pool is kept within its depth (quotes beyond it are tested on eth-tester).
                top = 4 if a in ("WETH", "WBTC") else (6.8 if p.fee_ppm == 100 else 7.8)
                amount = int(10 ** rng.uniform(tin.decimals - 4, tin.decimals + top))
                ours = venue.quote(AssetId(a, "lab1"), amount)
                try:
                    out, _, ticks, _ = quoter.functions.quoteExactInputSingle(
                        (tin.address, tout.address, amount, p.fee_ppm, 0)
                    ).call()
                except Exception as exc:
                    raise AssertionError(f"quoter failed {p.fee_ppm} {a}->{b} {amount}") from exc
                assert ours == out, (p.token0, p.token1, p.fee_ppm, a, amount)
                checked += 1
                crossing += ticks >= 5
    assert checked == 48
    assert crossing >= 5  # several of the swaps crossed many initialized ticks


def test_v2_quotes_equal_getamountsout_on_the_lab(lab1: Chain) -> None:
    venues = _lab_venues(lab1)
    router = lab1.contract("UniswapV2Router02")
    rng = random.Random(7)
    for p in lab1.deployment.pools:
        if p.kind != "uniswap_v2":
            continue
        venue = venues[p.address]
        assert isinstance(venue, UniswapV2Pair)
        for a, b in ((p.token0, p.token1), (p.token1, p.token0)):
            tin, tout = lab1.deployment.token(a), lab1.deployment.token(b)
            for _ in range(4):
                amount = int(10 ** rng.uniform(tin.decimals - 3, tin.decimals + 6))
                expected = router.functions.getAmountsOut(amount, [tin.address, tout.address]).call()[-1]
                assert venue.quote(AssetId(a, "lab1"), amount) == expected
