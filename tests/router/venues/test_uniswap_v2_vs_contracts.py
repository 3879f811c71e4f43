"""Differential test: our V2 math against the real UniswapV2Pair + Router02 on an in-process chain.

Random reserves (minted into real pairs), random sizes: getAmountsOut / getAmountsIn must equal our quote /
quote_out, and a real swap through the router must pay exactly our quote.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from fillpath.model.assets import AssetId
from fillpath.router.venues.uniswap_v2 import UniswapV2Pair

pytest.importorskip("eth_tester")
from web3 import EthereumTesterProvider, Web3

from tests.router.venues.evm import artifact, artifacts_present, deploy

if not artifacts_present():
    pytest.skip("Uniswap npm artifacts or the LabToken build are missing", allow_module_level=True)

A = AssetId("TKA", "lab")
B = AssetId("TKB", "lab")
BIG = 10**40


@pytest.mark.timeout(240)
def test_quotes_and_swaps_equal_router02() -> None:
    w3 = Web3(EthereumTesterProvider())
    me = w3.eth.accounts[0]
    factory = deploy(w3, me, "v2_factory", me)
    weth = deploy(w3, me, "weth")
    router = deploy(w3, me, "v2_router", factory.address, weth.address)
    rng = random.Random(7)
    checked = 0
    for n in range(5):
        tokens: list[Any] = [
            deploy(w3, me, "token", f"A{n}", "TKA", 18),
            deploy(w3, me, "token", f"B{n}", "TKB", 18),
        ]
        tokens.sort(key=lambda c: int(c.address, 16))
        for token in tokens:
            token.functions.mint(me, BIG).transact({"from": me})
            token.functions.approve(router.address, BIG).transact({"from": me})
        factory.functions.createPair(tokens[0].address, tokens[1].address).transact({"from": me})
        pair = w3.eth.contract(
            address=factory.functions.getPair(tokens[0].address, tokens[1].address).call(),
            abi=artifact("v2_pair")[0],
        )
        for token in tokens:
            token.functions.transfer(pair.address, 10 ** rng.randint(6, 30) * rng.randint(1, 9)).transact({"from": me})
        pair.functions.mint(me).transact({"from": me})
        r0, r1, _ = pair.functions.getReserves().call()
        venue = UniswapV2Pair("v2", "lab", pair.address, A, B, r0, r1, 3000, 90000)
        for asset_in, path in ((A, [t.address for t in tokens]), (B, [t.address for t in tokens[::-1]])):
            reserve_out = venue.reserves(asset_in)[1]
            for size in (1, rng.randrange(1, 10 ** rng.randint(3, 32)), venue.reserves(asset_in)[0] * 5):
                assert venue.quote(asset_in, size) == router.functions.getAmountsOut(size, path).call()[1]
                checked += 1
            out = rng.randrange(1, reserve_out)
            assert venue.quote_out(asset_in, out) == router.functions.getAmountsIn(out, path).call()[0]
            checked += 1
        # One real swap: the pair pays exactly our quote.
        size = rng.randrange(1, r0)
        out_token = tokens[1]
        before = out_token.functions.balanceOf(me).call()
        router.functions.swapExactTokensForTokens(size, 0, [tokens[0].address, tokens[1].address], me, 2**40).transact(
            {"from": me}
        )
        assert out_token.functions.balanceOf(me).call() - before == venue.quote(A, size)
    assert checked == 40
