"""Differential test: our V3 swap loop against the real UniswapV3Pool + QuoterV2 on an in-process chain.

Pools get random prices and several random positions (via the real NonfungiblePositionManager); the test
reads the resulting state back the way a collector would, and asserts our exact-input and exact-output
quotes equal QuoterV2's to the wei, both directions, including swaps that cross many ticks or run out of
liquidity.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from fillpath.model.assets import AssetId
from fillpath.router.venues import uniswap_v3_math as m
from fillpath.router.venues.uniswap_v3 import UniswapV3Pool

pytest.importorskip("eth_tester")
from web3 import EthereumTesterProvider, Web3
from web3.exceptions import ContractLogicError

from tests.router.venues.evm import artifact, artifacts_present, deploy

if not artifacts_present():
    pytest.skip("Uniswap npm artifacts or the LabToken build are missing", allow_module_level=True)

BIG = 10**40
A = AssetId("TKA", "lab")
B = AssetId("TKB", "lab")


class Lab:
    def __init__(self) -> None:
        self.w3 = Web3(EthereumTesterProvider())
        self.me = self.w3.eth.accounts[0]
        self.factory = self.deploy("factory")
        self.factory.functions.enableFeeAmount(100, 1).transact({"from": self.me})
        weth = self.deploy("weth")
        self.npm = self.deploy("npm", self.factory.address, weth.address, self.me)
        self.quoter = self.deploy("quoter", self.factory.address, weth.address)
        self.pairs = 0

    def new_pair(self) -> tuple[Any, Any]:
        """Two fresh tokens (a pool per test, whatever its fee), sorted as the factory sorts them."""
        self.pairs += 1
        t1 = self.deploy("token", f"Token A{self.pairs}", "TKA", 18)
        t2 = self.deploy("token", f"Token B{self.pairs}", "TKB", 18)
        token0, token1 = sorted([t1, t2], key=lambda c: int(c.address, 16))
        for token in (token0, token1):
            token.functions.mint(self.me, BIG).transact({"from": self.me})
            token.functions.approve(self.npm.address, BIG).transact({"from": self.me})
        return token0, token1

    def deploy(self, name: str, *args: Any) -> Any:
        return deploy(self.w3, self.me, name, *args)


@pytest.fixture(scope="module")
def lab() -> Lab:
    return Lab()


SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}


def _make_pool(lab: Lab, rng: random.Random, fee: int) -> tuple[UniswapV3Pool, tuple[str, str]]:
    spacing = SPACING[fee]
    token0, token1 = lab.new_pair()
    tick0 = rng.randrange(-60000, 60000)
    low, high = m.get_sqrt_ratio_at_tick(tick0), m.get_sqrt_ratio_at_tick(tick0 + 1)
    sqrt_price = rng.randrange(low, high)
    t0, t1 = token0.address, token1.address
    lab.npm.functions.createAndInitializePoolIfNecessary(t0, t1, fee, sqrt_price).transact({"from": lab.me})
    pool_address = lab.factory.functions.getPool(t0, t1, fee).call()
    pool = lab.w3.eth.contract(address=pool_address, abi=artifact("pool")[0])
    used: set[int] = set()
    for _ in range(rng.randint(3, 6)):
        width = rng.choice([1, 2, 5, 20, 300, 2000]) * spacing
        center = tick0 // spacing * spacing + rng.randint(-8, 8) * spacing * rng.choice([1, 1, 10])
        lower = max(center - width // spacing // 2 * spacing, m.MIN_TICK // spacing * spacing)
        upper = min(lower + width, m.MAX_TICK // spacing * spacing)
        params = (
            t0,
            t1,
            fee,
            lower,
            upper,
            10 ** rng.randint(18, 24),
            10 ** rng.randint(18, 24),
            0,
            0,
            lab.me,
            2**40,
        )
        lab.npm.functions.mint(params).transact({"from": lab.me, "gas": 2_000_000})
        used.update((lower, upper))
    ticks = []
    for t in sorted(used):
        info = pool.functions.ticks(t).call()
        if info[0] > 0:
            ticks.append((t, info[1]))
    slot0 = pool.functions.slot0().call()
    venue = UniswapV3Pool(
        id=f"lab:uniswap_v3:{pool_address}",
        location="lab",
        address=pool_address,
        token0=A,
        token1=B,
        fee_ppm=fee,
        tick_spacing=spacing,
        sqrt_price_x96=slot0[0],
        liquidity=pool.functions.liquidity().call(),
        tick=slot0[1],
        ticks=tuple(ticks),
        gas=110000,
        gas_per_tick=30000,
    )
    return venue, (t0, t1)


def _quote_in(lab: Lab, tokens: tuple[str, str], zfo: bool, fee: int, amount: int, limit: int = 0) -> tuple[int, int]:
    """QuoterV2's exact-input quote (``limit`` 0 means none; a real pool then walks empty words to the end
    of the tick space, which on a 1-spaced pool runs out of block gas, so beyond-capacity cases pass the
    edge of the listed ticks as the limit)."""
    t0, t1 = tokens
    params = (t0, t1, amount, fee, limit) if zfo else (t1, t0, amount, fee, limit)
    result = lab.quoter.functions.quoteExactInputSingle(params).call({"gas": 30_000_000})
    return int(result[0]), int(result[1])


def _quote_out(lab: Lab, tokens: tuple[str, str], zfo: bool, fee: int, amount: int, limit: int = 0) -> int | None:
    t0, t1 = tokens
    params = (t0, t1, amount, fee, limit) if zfo else (t1, t0, amount, fee, limit)
    try:
        return int(lab.quoter.functions.quoteExactOutputSingle(params).call({"gas": 30_000_000})[0])
    except ContractLogicError:
        return None


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("seed", "fee"),
    [(1, 100), (2, 500), (3, 3000), (4, 10000)],  # each fee tier (tick spacing)
)
def test_quotes_equal_quoter_v2(lab: Lab, seed: int, fee: int) -> None:
    rng = random.Random(seed)
    venue, tokens = _make_pool(lab, rng, fee)
    assert venue.ticks
    for zfo in (True, False):
        asset_in = A if zfo else B
        cap = venue.capacity(asset_in)
        edge = m.get_sqrt_ratio_at_tick(venue.ticks[0][0] if zfo else venue.ticks[-1][0])
        sizes = [
            1,
            rng.randrange(1, max(cap // 1000, 2)),
            rng.randrange(1, cap + 2),
            cap,
            cap + rng.randrange(1, 10**20),
        ]
        for size in sizes:
            ours = venue.swap(zfo, size)
            limit = edge if size > cap else 0
            amount_out, price_after = _quote_in(lab, tokens, zfo, fee, size, limit)
            assert ours.amount_out == amount_out, (zfo, size, cap)
            if ours.complete:
                assert ours.sqrt_price_x96 == price_after
        full = venue.quote(asset_in, cap)
        for out in (1, rng.randrange(1, max(full, 2)), full):
            ours_in = venue.quote_out(asset_in, out)
            assert ours_in == _quote_out(lab, tokens, zfo, fee, out), (zfo, out, full)
        # Asking for more than the listed liquidity holds: we refuse; the pool, stopped at the edge,
        # takes exactly what our loop takes.
        assert venue.quote_out(asset_in, full + 1) is None
        partial = venue.swap(zfo, -(full + 1))
        assert not partial.complete
        assert partial.amount_in == _quote_out(lab, tokens, zfo, fee, full + 1, edge)
