"""LabStableSwap against the router's StableSwap math, to the unit, on an in-process chain.

Random pools (2 or 3 coins of 6, 8 or 18 decimals, A, fee, admin fee, balances) and random swap sequences: for
every swap, the state read from the chain (``read_state``) gives a router venue whose ``get_dy`` must equal the
pool's ``get_dy`` (where the pool reverts, the router must quote 0), and ``exchange`` must pay exactly that.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("eth_tester")
from web3 import EthereumTesterProvider, Web3

from fillpath.lab.contracts import stableswap as ss
from fillpath.model.assets import AssetId
from tests.contracts.forge import artifact, deploy, send

BIG = 10**45
DECIMALS = (6, 8, 18)


@dataclass(frozen=True)
class World:
    w3: Web3
    tester: Any
    me: str
    tokens: dict[int, list[Any]]  # decimals -> three tokens with those decimals


@pytest.fixture(scope="module")
def world() -> World:
    provider = EthereumTesterProvider()
    w3 = Web3(provider)
    me = w3.eth.accounts[0]
    tokens: dict[int, list[Any]] = {}
    for d in DECIMALS:
        tokens[d] = [deploy(w3, me, "LabToken", f"T{d}-{k}", f"T{d}{k}", d) for k in range(3)]
        for t in tokens[d]:
            send(w3, t.functions.mint(me, BIG), me)
    return World(w3, provider.ethereum_tester, me, tokens)


@dataclass(frozen=True)
class PoolCase:
    decimals: tuple[int, ...]
    amp: int
    fee: int
    admin_fee: int
    balances: tuple[int, ...]
    swaps: tuple[tuple[int, int, int], ...]  # (i, j, dx)


@st.composite
def pool_cases(draw: st.DrawFn) -> PoolCase:
    n = draw(st.sampled_from([2, 3]))
    decimals = tuple(draw(st.sampled_from(DECIMALS)) for _ in range(n))
    amp = draw(st.one_of(st.integers(1, 5_000), st.sampled_from([1, 2, 100, 2_000, 100_000, ss.MAX_A])))
    fee = draw(st.one_of(st.sampled_from([0, 1_000_000, 4_000_000]), st.integers(0, ss.MAX_FEE)))
    admin_fee = draw(st.one_of(st.sampled_from([0, 5 * 10**9, 10**10]), st.integers(0, 10**10)))
    balances = tuple(
        draw(st.integers(1, 10**9)) * 10**d + draw(st.integers(0, 10**d - 1)) for d in decimals
    )  # 1 to 1e9 whole tokens plus a fraction
    swaps = []
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, n - 1))
        j = (i + draw(st.integers(1, n - 1))) % n
        ppm = draw(st.one_of(st.integers(0, 3_000_000), st.integers(0, 1_000)))  # of the pool's balance of i
        dx = draw(st.one_of(st.integers(1, 10**4), st.just(max(1, balances[i] * ppm // 10**6))))
        swaps.append((i, j, dx))
    return PoolCase(decimals, amp, fee, admin_fee, balances, tuple(swaps))


def _revert_or_value(call: Any) -> int | None:
    try:
        return int(call.call())
    except Exception:
        return None


def _run(world: World, case: PoolCase) -> int:
    """Deploy the case's pool, run its swaps; returns how many swaps paid something."""
    w3, me = world.w3, world.me
    used: dict[int, int] = {}
    coins = []
    for d in case.decimals:
        coins.append(world.tokens[d][used.get(d, 0)])
        used[d] = used.get(d, 0) + 1
    pool = deploy(
        w3, me, "LabStableSwap", [c.address for c in coins], case.amp, case.fee, case.admin_fee, me, "lab", "lab"
    )
    for c in coins:
        send(w3, c.functions.approve(pool.address, BIG), me)
    send(w3, pool.functions.add_liquidity(list(case.balances), 0), me)
    assets = [AssetId(f"C{k}", "lab") for k in range(len(coins))]
    paid = 0
    for i, j, dx in case.swaps:
        state = ss.read_state(w3, pool.address)
        assert state.coins == tuple(c.address for c in coins)
        assert state.decimals == case.decimals
        assert (state.amp, state.fee, state.admin_fee) == (case.amp, case.fee, case.admin_fee)
        quote = state.venue("pool", "lab", assets, 0).get_dy(i, j, dx)
        on_chain = _revert_or_value(pool.functions.get_dy(i, j, dx))
        if on_chain is None:
            assert quote == 0, (case, i, j, dx)  # the pool refuses what the router would never route
            continue
        assert on_chain == quote, (case, i, j, dx)
        before = coins[j].functions.balanceOf(me).call()
        receipt = send(w3, pool.functions.exchange(i, j, dx, quote), me)
        assert coins[j].functions.balanceOf(me).call() - before == quote
        logs = [e for e in (ss.TOKEN_EXCHANGE.decode_log(log) for log in receipt["logs"]) if e]
        assert logs == [{"buyer": me, "sold_id": i, "tokens_sold": dx, "bought_id": j, "tokens_bought": quote}]
        paid += quote > 0
    return paid


# the default suite replays 15 pools (each a deployment and its swaps on py-evm); make test-explore draws 200 new ones
EXAMPLES = 200 if os.environ.get("HYPOTHESIS_PROFILE") == "explore" else 15


@pytest.mark.timeout(600)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=pool_cases())
def test_get_dy_and_exchange_equal_the_router_math(world: World, case: PoolCase) -> None:
    snap = world.tester.take_snapshot()
    try:
        _run(world, case)
    finally:
        world.tester.revert_to_snapshot(snap)


def test_fixed_cases_pay_what_the_router_quotes(world: World) -> None:
    """Hand-picked corners: 1 base unit in, a swap larger than the pool, a 1:10^6 imbalance, max A and fee."""
    cases = [
        PoolCase((6, 18), 200, 4_000_000, 5 * 10**9, (10**12, 10**24), ((0, 1, 1), (1, 0, 1), (0, 1, 3 * 10**12))),
        PoolCase((6, 8, 18), 2_000, 10**6, 0, (10**13, 10**15, 10**25), ((2, 0, 10**22), (0, 1, 5 * 10**6))),
        PoolCase((18, 6), 100, 0, 0, (10**27, 10**9), ((0, 1, 10**24), (1, 0, 10**8))),
        PoolCase((8, 8, 6), ss.MAX_A, ss.MAX_FEE, 10**10, (10**12, 3 * 10**12, 10**9), ((0, 2, 10**11),)),
    ]
    paid = 0
    for case in cases:
        snap = world.tester.take_snapshot()
        try:
            paid += _run(world, case)
        finally:
            world.tester.revert_to_snapshot(snap)
    assert paid >= 6  # the corners really traded (a case that only reverted would prove nothing)


def test_the_python_abi_is_the_contracts() -> None:
    from tests.contracts.forge import signatures

    assert {f.signature for f in ss.FUNCTIONS} <= signatures("LabStableSwap", "function")
    assert {e.signature for e in ss.EVENTS} == signatures("LabStableSwap", "event") - {
        "Transfer(address,address,uint256)",
        "Approval(address,address,uint256)",
    }
    assert {e.signature for e in ss.ERRORS} == signatures("LabStableSwap", "error")
    constructor = next(i for i in artifact("LabStableSwap")[0] if i["type"] == "constructor")
    assert tuple(p["type"] for p in constructor["inputs"]) == ss.CONSTRUCTOR


def test_calldata_and_errors() -> None:
    assert ss.exchange_calldata(0, 2, 5, 4)[:4] == Web3.keccak(text="exchange(int128,int128,uint256,uint256)")[:4]
    with pytest.raises(Exception, match="coin indices"):
        ss.exchange_calldata(1, 1, 5, 0)
    spec = next(e for e in ss.ERRORS if e.name == "Slippage")
    err = ss.decode_revert(spec.selector + (7).to_bytes(32, "big") + (9).to_bytes(32, "big"))
    assert err is not None
    assert str(err) == "Slippage(amount=7, min=9)"
