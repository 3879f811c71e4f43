"""Plan legs on lab1 → one executor transaction; every leg's realized output equals the plan's, to the wei."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from fillpath.chains import executor as ex
from fillpath.chains.readers import read_chain
from fillpath.chains.rpc import RpcClient
from fillpath.collect.snapshot import assemble
from fillpath.execution.chain_plan import chain_exec_plan
from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router.plan import PlanLeg
from fillpath.router.snapshot import read_snapshot
from fillpath.router.venues.factory import venues_from_snapshot
from tests.conftest import Chain

WETH, USDC, ETH = AssetId("WETH", "lab1"), AssetId("USDC", "lab1"), AssetId("ETH", "lab1")


def _snapshot(chain: Chain) -> Any:
    d = chain.deployment
    src = d.chain_source()

    async def go() -> Any:
        async with RpcClient("lab1", [chain.w3.provider.endpoint_uri]) as rpc:  # type: ignore[attr-defined]
            return await read_chain(rpc, src)

    return read_snapshot(assemble([asyncio.run(go())], taken_at=datetime.now(UTC)))


def test_a_four_leg_plan_runs_atomically_and_exactly(lab1: Chain) -> None:
    snap = _snapshot(lab1)
    venues = {v.id: v for v in venues_from_snapshot(snap)}
    d = lab1.deployment
    v3_05 = venues[f"lab1:uniswap_v3:{d.pool('uniswap_v3', 'WETH', 'USDC', 500).address}"]
    v3_30 = venues[f"lab1:uniswap_v3:{d.pool('uniswap_v3', 'WETH', 'USDC', 3000).address}"]
    v2 = venues[f"lab1:uniswap_v2:{d.pool('uniswap_v2', 'WETH', 'USDC').address}"]
    wrap = venues["lab1:wrap:WETH"]

    def leg(v: Any, a: AssetId, b: AssetId, amount: int) -> PlanLeg:
        out = v.quote(a, amount)
        return PlanLeg(v.id, a, b, amount, out, out * 995 // 1000)

    legs = [
        leg(v3_05, WETH, USDC, 200 * 10**18),
        leg(v2, WETH, USDC, 60 * 10**18),
        leg(wrap, ETH, WETH, 15 * 10**18),
        leg(v3_30, WETH, USDC, 15 * 10**18),
    ]
    addresses = {a.id: a.address for a in snap.assets}
    deadline = lab1.deadline()
    plan = chain_exec_plan(legs, venues, addresses, recipient=lab1.dev, deadline=deadline)
    assert [p.amount for p in plan.pulls] == [260 * 10**18]  # the wrap's WETH is not pulled: ALL of it is swapped
    assert plan.value == 15 * 10**18
    assert plan.legs[3].amount_in == ex.ALL
    executor = d.address("FillpathExecutor")
    weth, usdc = lab1.contract("WETH"), lab1.contract("USDC")
    weth.functions.approve(executor, 260 * 10**18).transact({"from": lab1.dev})  # exact

    sim = ex.simulate(lab1.w3, executor, plan, lab1.dev)
    assert list(sim.amounts_out) == [leg.amount_out for leg in legs]  # the router's math is the chain's, to the wei
    before = usdc.functions.balanceOf(lab1.dev).call()
    tx = ex.build_tx(executor, plan, lab1.dev)
    receipt = lab1.w3.eth.wait_for_transaction_receipt(lab1.w3.eth.send_transaction(tx))
    assert receipt["status"] == 1
    realized = usdc.functions.balanceOf(lab1.dev).call() - before
    assert realized == sum(leg.amount_out for leg in legs if leg.asset_out == USDC) == sim.total_out
    assert weth.functions.allowance(lab1.dev, executor).call() == 0
    assert weth.functions.balanceOf(executor).call() == usdc.functions.balanceOf(executor).call() == 0


def test_legs_that_end_in_two_assets_are_refused(lab1: Chain) -> None:
    snap = _snapshot(lab1)
    venues = {v.id: v for v in venues_from_snapshot(snap)}
    d = lab1.deployment
    v2 = venues[f"lab1:uniswap_v2:{d.pool('uniswap_v2', 'WETH', 'USDC').address}"]
    wbtc = venues[f"lab1:uniswap_v2:{d.pool('uniswap_v2', 'WBTC', 'WETH').address}"]
    legs = [PlanLeg(v2.id, WETH, USDC, 10**18, 1, 1), PlanLeg(wbtc.id, WETH, AssetId("WBTC", "lab1"), 10**18, 1, 1)]
    with pytest.raises(InvalidInput, match="end in 2 assets"):
        chain_exec_plan(legs, venues, {a.id: a.address for a in snap.assets}, recipient=d.dev, deadline=10**10)
