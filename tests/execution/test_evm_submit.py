"""The EVM half of the hot path on the lab: route → one executor transaction → tracked → booked."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fillpath.chains.accounts import Signer
from fillpath.chains.nonces import NonceAllocator
from fillpath.chains.rpc import RpcClient
from fillpath.chains.tracker import TrackerPolicy, TxState, TxTracker
from fillpath.collect.snapshot import take_snapshot
from fillpath.execution.chain_plan import chain_exec_plan
from fillpath.execution.evm import EvmVenue, submit
from fillpath.model.assets import AssetId
from fillpath.model.events import BalanceAdjusted
from fillpath.router import Market, RouteRequest, route
from fillpath.router.snapshot import read_snapshot
from fillpath.router.venues.factory import venues_from_snapshot
from fillpath.state.records import IntentStatus
from fillpath.state.store import Store
from tests.chains.helpers import funded_signer, rpc_for
from tests.conftest import Chain

WETH, USDC = AssetId("WETH", "lab1"), AssetId("USDC", "lab1")


def test_a_routed_sale_executes_exactly_and_is_booked(lab1: Chain, tmp_path: Path) -> None:
    signer = funded_signer(lab1, eth=10, tokens={"WETH": 1500})
    store = Store.open(f"sqlite:///{tmp_path / 'x.db'}")

    async def go() -> Any:
        async with rpc_for(lab1) as rpc:
            src = lab1.deployment.chain_source()
            snap = read_snapshot(await take_snapshot([(rpc, src)]))
            plan = route(Market.from_snapshot(snap), RouteRequest(str(WETH), 1500 * 10**18, str(USDC)))
            venues = {v.id: v for v in venues_from_snapshot(snap)}
            addresses = {a.id: a.address for a in snap.assets}
            deadline = int(lab1.w3.eth.get_block("latest")["timestamp"]) + 300
            exec_plan = chain_exec_plan(plan.legs, venues, addresses, recipient=signer.address, deadline=deadline)
            venue = _lab1_venue(lab1, rpc, signer, store)
            mined = asyncio.create_task(_keep_mining(lab1))
            try:
                outcome = await submit(
                    venue, store, exec_plan, intent_id="exec-1:lab1", asset_in=WETH, amount_in=plan.amount_in,
                    asset_out=USDC, assets_by_address={str(a.address).lower(): a.id for a in snap.assets if a.address},
                )  # fmt: skip
            finally:
                mined.cancel()
            return plan, outcome

    plan, outcome = asyncio.run(go())
    assert outcome.state is TxState.CONFIRMED
    assert len(plan.legs) >= 2
    assert list(outcome.expected) == [leg.amount_out for leg in plan.legs]  # simulation == the router's exact math
    assert list(outcome.realized) == list(outcome.expected)  # realized == expected, to the wei, per leg
    assert outcome.total_out == plan.expected_out
    usdc = lab1.contract("USDC").functions.balanceOf(signer.address).call()
    assert usdc == plan.expected_out
    assert store.balance(USDC) == usdc
    assert store.balance(WETH) == -1500 * 10**18  # the ledger moved by the trade (its opening is reconciliation's)
    native = store.balance(AssetId("ETH", "lab1"))
    assert native is not None and -native == outcome.gas_cost_wei > 0
    intent = store.intent("exec-1:lab1")
    assert intent is not None and intent.status is IntentStatus.GOOD
    seqs = {(r.event.kind, getattr(r.event, "intent_id", None)): r.seq for r in store.events()}
    created, resolved = seqs[("intent.created", "exec-1:lab1")], seqs[("intent.resolved", "exec-1:lab1")]
    assert created < seqs[("tx.broadcast", "exec-1:lab1")] < resolved  # the intent is durable before the send
    # the nonce, the intent and the broadcast record are one journal transaction (one fsync before the send):
    # consecutive seqs sharing the commit's receive time
    before_send = [r for r in store.events() if created - 1 <= r.seq <= created + 1]
    assert [r.event.kind for r in before_send] == ["nonce.allocated", "intent.created", "tx.broadcast"]
    assert len({r.recv_ns for r in before_send}) == 1
    assert sum(1 for r in store.events() if isinstance(r.event, BalanceAdjusted)) >= 3
    # the exact approval went out with the call, at the nonce just before it, in the same commit: no other
    # transaction of the account (another engine approving the same token) can come between them
    ours = sorted((t.nonce or 0, t.tx_hash) for t in store.transactions().values() if t.intent_id == "exec-1:lab1")
    assert len(ours) == 2 and ours[1][0] == ours[0][0] + 1
    commit = {r.recv_ns for r in store.events() if getattr(r.event, "intent_id", None) == "exec-1:lab1"
              and r.event.kind in ("intent.created", "tx.broadcast")}  # fmt: skip
    assert len(commit) == 1
    allowance = lab1.contract("WETH").functions.allowance(signer.address, lab1.deployment.address("FillpathExecutor"))
    assert allowance.call() == 0  # spent exactly
    store.close()


def _lab1_venue(lab1: Chain, rpc: RpcClient, signer: Signer, store: Store) -> EvmVenue:
    """lab1 through the FillpathExecutor, with the nonce allocator and tracker the engine uses."""
    return EvmVenue(
        "lab1", 31337, rpc, signer, lab1.deployment.address("FillpathExecutor"),
        NonceAllocator(rpc, "lab1", signer.address, store),
        TxTracker(rpc, "lab1", store, TrackerPolicy(confirmations=1)), AssetId("ETH", "lab1"),
    )  # fmt: skip


async def _keep_mining(chain: Chain) -> None:
    """Confirmations need blocks after the transaction's; automine makes one per transaction only."""
    while True:
        await asyncio.sleep(0.2)
        await asyncio.to_thread(chain.w3.provider.make_request, "evm_mine", [])  # type: ignore[arg-type]


def test_a_plan_whose_simulation_reverts_is_not_sent(lab1: Chain, tmp_path: Path) -> None:
    import dataclasses

    import pytest

    from fillpath.model.errors import Rejected

    signer = funded_signer(lab1, eth=10, tokens={"WETH": 10})
    store = Store.open(f"sqlite:///{tmp_path / 'x.db'}")

    async def go() -> None:
        async with rpc_for(lab1) as rpc:
            snap = read_snapshot(await take_snapshot([(rpc, lab1.deployment.chain_source())]))
            plan = route(Market.from_snapshot(snap), RouteRequest(str(WETH), 10 * 10**18, str(USDC)))
            greedy = [dataclasses.replace(leg, min_out=leg.amount_out * 2) for leg in plan.legs]  # impossible
            venues = {v.id: v for v in venues_from_snapshot(snap)}
            deadline = int(lab1.w3.eth.get_block("latest")["timestamp"]) + 300
            exec_plan = chain_exec_plan(greedy, venues, {a.id: a.address for a in snap.assets},
                                        recipient=signer.address, deadline=deadline)  # fmt: skip
            venue = _lab1_venue(lab1, rpc, signer, store)
            mined = asyncio.create_task(_keep_mining(lab1))
            try:
                with pytest.raises(Rejected, match=r"LegMinOut\(uint256,uint256,uint256\)"):
                    await submit(venue, store, exec_plan, intent_id="exec-2:lab1", asset_in=WETH,
                                 amount_in=plan.amount_in, asset_out=USDC, assets_by_address={})  # fmt: skip
            finally:
                mined.cancel()

    nonce_before = lab1.w3.eth.get_transaction_count(signer.address)
    asyncio.run(go())
    assert store.intent("exec-2:lab1") is None  # nothing was committed as if it would be sent
    kinds = [r.event.kind for r in store.events()]
    assert "intent.created" not in kinds
    # not even the exact approval: approvals are signed with the call they serve, after its simulation passed
    assert lab1.w3.eth.get_transaction_count(signer.address) == nonce_before
    store.close()


def test_a_call_that_reverts_on_chain_books_its_gas_not_its_value(lab1: Chain, tmp_path: Path) -> None:
    """A sale of native ETH (the executor wraps the value it is sent) that passes its simulation and reverts on
    chain (its block lands past the plan's deadline): the EVM hands the value back, so only the gas is booked (the
    ledger had booked the value as spent: chaos --bridge seed 5020)."""
    eth = AssetId("ETH", "lab1")
    signer = funded_signer(lab1, eth=10)
    store = Store.open(f"sqlite:///{tmp_path / 'x.db'}")
    w3 = lab1.w3

    async def go() -> Any:
        async with rpc_for(lab1) as rpc:
            snap = read_snapshot(await take_snapshot([(rpc, lab1.deployment.chain_source())]))
            plan = route(Market.from_snapshot(snap), RouteRequest(str(eth), 2 * 10**18, str(USDC)))
            venues = {v.id: v for v in venues_from_snapshot(snap)}
            head = int(w3.eth.get_block("latest")["timestamp"])
            exec_plan = chain_exec_plan(plan.legs, venues, {a.id: a.address for a in snap.assets},
                                        recipient=signer.address, deadline=head + 30)  # fmt: skip
            assert exec_plan.value == 2 * 10**18
            loop = asyncio.get_running_loop()
            mining: list[asyncio.Task[None]] = []

            def late(point: str) -> None:  # the bytes left; the block that takes them is past the deadline
                if point == "broadcast" and not mining:
                    w3.provider.make_request("evm_setNextBlockTimestamp", [head + 120])  # type: ignore[arg-type]
                    mining.append(loop.create_task(_keep_mining(lab1)))

            venue = _lab1_venue(lab1, rpc, signer, store)
            venue.crash = late
            by_address = {str(a.address).lower(): a.id for a in snap.assets if a.address}
            w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
            try:
                return await submit(venue, store, exec_plan, intent_id="exec-3:lab1", asset_in=eth,
                                    amount_in=plan.amount_in, asset_out=USDC, assets_by_address=by_address)  # fmt: skip
            finally:
                w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
                for task in mining:
                    task.cancel()

    before = w3.eth.get_balance(signer.address)
    outcome = asyncio.run(go())
    assert outcome.state is TxState.REVERTED
    spent = before - w3.eth.get_balance(signer.address)
    assert spent == outcome.gas_cost_wei > 0  # the chain kept nothing but the gas
    assert store.balance(eth) == -spent  # and so does the ledger
    intent = store.intent("exec-3:lab1")
    assert intent is not None and intent.status is IntentStatus.BAD
    store.close()
