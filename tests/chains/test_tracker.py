"""The tracker on the real lab: every transition a transaction can take, driven by anvil's own faults."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fillpath.chains import transactions as txs
from fillpath.chains.accounts import Signer
from fillpath.chains.fees import FeePolicy, Fees
from fillpath.chains.rpc import RpcClient
from fillpath.chains.tracker import TrackerPolicy, TxState, TxTracker
from fillpath.lab.chains.faultproxy import FaultProxy
from fillpath.model.errors import Ambiguous
from fillpath.state.records import TxStatus
from fillpath.state.store import Store
from tests.chains.helpers import funded_signer, rpc_for, run
from tests.conftest import Chain

FEES = Fees(max_fee_per_gas=5 * 10**9, max_priority_fee_per_gas=10**9)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'fp.db'}")
    yield s
    s.close()


@pytest.fixture
def manual_mining(lab1: Chain) -> Iterator[Chain]:
    """lab1, with automine restored (and the mempool emptied) after a test that turns it off."""
    try:
        yield lab1
    finally:
        lab1.w3.provider.make_request("anvil_dropAllTransactions", [])  # type: ignore[arg-type]
        lab1.w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]


def _mine(chain: Chain, n: int = 1) -> None:
    for _ in range(n):
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def _self_transfer(signer: Signer, nonce: int, fees: Fees = FEES, value: int = 0) -> txs.SignedTx:
    call = txs.ContractCall(signer.address, b"", value=value, what="self-transfer")
    return txs.sign(signer, 31337, nonce, call, 21_000, fees)


async def _until(tracker: TxTracker, tx_hash: str, state: TxState, polls: int = 40) -> None:
    """Poll until ``tx_hash`` reaches ``state`` (anvil mines just after it answers a send)."""
    for _ in range(polls):
        await tracker.poll()
        if tracker.state(tx_hash) is state:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{tx_hash} stayed {tracker.state(tx_hash)}, expected {state}")


def _journal(store: Store) -> list[tuple[str, str]]:
    return [(r.event.kind, getattr(r.event, "tx_hash", "")) for r in store.events()]


def _drive(tracker: TxTracker, chain: Chain, polls: int, *, mine_each: bool = False) -> None:
    for _ in range(polls):
        if mine_each:
            _mine(chain)
        run(tracker.poll())


def test_pending_included_confirmed(lab1: Chain, store: Store) -> None:
    signer = funded_signer(lab1)
    tx = _self_transfer(signer, 0)

    async def go() -> TxTracker:
        async with rpc_for(lab1) as rpc:
            tracker = TxTracker(rpc, "lab1", store, TrackerPolicy(confirmations=3))
            tracker.track(tx)
            await txs.broadcast(rpc, tx)
            await _until(tracker, tx.tx_hash, TxState.INCLUDED)
            await tracker.poll()
            assert tracker.state(tx.tx_hash) is TxState.INCLUDED  # 1 of 3 confirmations
            _mine(lab1, 2)
            await tracker.poll()
            return tracker

    tracker = run(go())
    assert tracker.state(tx.tx_hash) is TxState.CONFIRMED
    assert [k for k, _ in _journal(store)] == ["tx.broadcast", "tx.mined", "tx.confirmed"]
    rec = store.transaction("lab1", tx.tx_hash)
    assert rec is not None and rec.status is TxStatus.CONFIRMED
    receipt = lab1.w3.eth.get_transaction_receipt(tx.tx_hash)
    assert (rec.block_number, rec.block_hash) == (
        receipt["blockNumber"],
        "0x" + receipt["blockHash"].hex().removeprefix("0x"),
    )


def test_stuck_transaction_is_sped_up_and_only_one_lands(manual_mining: Chain, store: Store) -> None:
    chain = manual_mining
    signer = funded_signer(chain)
    chain.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    slow = _self_transfer(signer, 0, Fees(max_fee_per_gas=2 * 10**9, max_priority_fee_per_gas=10**6), value=1)
    replacements: list[txs.SignedTx] = []

    async def replacer(t: Any) -> txs.SignedTx:
        old = t.signed
        new = txs.sign(signer, 31337, old.nonce, old.call, old.gas, old.fees.bumped(FeePolicy()))
        replacements.append(new)
        return new

    async def go() -> TxTracker:
        async with rpc_for(chain) as rpc:
            tracker = TxTracker(
                rpc,
                "lab1",
                store,
                TrackerPolicy(confirmations=1, replace_after_s=0.0, max_replacements=1),
                replacer=replacer,
            )
            tracker.track(slow)
            await txs.broadcast(rpc, slow)
            await tracker.poll()  # pending too long (0 s): replaced at the same nonce with fees +13%
            assert len(replacements) == 1
            _mine(chain)
            await tracker.poll()
            return tracker

    tracker = run(go())
    fast = replacements[0]
    assert tracker.state(fast.tx_hash) is TxState.CONFIRMED
    assert tracker.state(slow.tx_hash) is TxState.REPLACED
    assert chain.w3.eth.get_transaction_count(signer.address) == 1  # the nonce was used exactly once
    assert chain.w3.eth.get_transaction(fast.tx_hash)["blockNumber"] is not None
    kinds = _journal(store)
    assert ("tx.replaced", slow.tx_hash) in kinds
    assert ("tx.confirmed", fast.tx_hash) in kinds
    assert fast.fees.max_priority_fee_per_gas is not None and slow.fees.max_priority_fee_per_gas is not None
    assert fast.fees.max_priority_fee_per_gas * 8 >= slow.fees.max_priority_fee_per_gas * 9


@pytest.mark.parametrize("resend", [True, False])
def test_a_dropped_transaction_is_detected_then_resent_or_reported(
    manual_mining: Chain, store: Store, resend: bool
) -> None:
    chain = manual_mining
    signer = funded_signer(chain)
    chain.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    tx = _self_transfer(signer, 0)

    async def go() -> TxTracker:
        async with rpc_for(chain) as rpc:
            tracker = TxTracker(rpc, "lab1", store, TrackerPolicy(confirmations=1, resend_dropped=resend))
            tracker.track(tx)
            await txs.broadcast(rpc, tx)
            await tracker.poll()
            assert tracker.state(tx.tx_hash) is TxState.PENDING
            chain.w3.provider.make_request("anvil_dropTransaction", [tx.tx_hash])  # type: ignore[arg-type]
            await tracker.poll()
            await tracker.poll()  # absent twice: dropped
            _mine(chain)
            await tracker.poll()
            return tracker

    tracker = run(go())
    kinds = [k for k, _ in _journal(store)]
    if resend:
        assert kinds == ["tx.broadcast", "tx.dropped", "tx.broadcast", "tx.mined", "tx.confirmed"]
        assert tracker.state(tx.tx_hash) is TxState.CONFIRMED
        assert chain.w3.eth.get_transaction_count(signer.address) == 1
    else:
        assert kinds == ["tx.broadcast", "tx.dropped"]
        assert tracker.state(tx.tx_hash) is TxState.DROPPED
        assert chain.w3.eth.get_transaction_count(signer.address) == 0


def test_reorg_below_the_confirmation_depth(lab1: Chain, store: Store) -> None:
    signer = funded_signer(lab1)
    tx = _self_transfer(signer, 0)

    async def go() -> TxTracker:
        async with rpc_for(lab1) as rpc:
            tracker = TxTracker(rpc, "lab1", store, TrackerPolicy(confirmations=3))
            tracker.track(tx)
            await txs.broadcast(rpc, tx)
            await _until(tracker, tx.tx_hash, TxState.INCLUDED)
            lab1.w3.provider.make_request("anvil_reorg", [1, []])  # type: ignore[arg-type]
            await tracker.poll()  # its block left the chain: reorged, pending again
            assert tracker.state(tx.tx_hash) is TxState.PENDING
            await _until(tracker, tx.tx_hash, TxState.INCLUDED)  # in no mempool: dropped, re-sent, mined again
            _mine(lab1, 3)
            await tracker.poll()
            return tracker

    tracker = run(go())
    assert tracker.state(tx.tx_hash) is TxState.CONFIRMED
    kinds = [k for k, _ in _journal(store)]
    assert kinds[:3] == ["tx.broadcast", "tx.mined", "tx.reorged"]
    assert kinds[-2:] == ["tx.mined", "tx.confirmed"]
    assert lab1.w3.eth.get_transaction_count(signer.address) == 1


@pytest.mark.parametrize("fault", ["forward_then_hang", "http_500", "error"])
def test_an_rpc_fault_at_send_is_unknown_then_resolved_without_a_duplicate(
    lab1: Chain, store: Store, fault: str
) -> None:
    signer = funded_signer(lab1)
    tx = _self_transfer(signer, 0, value=12345)
    proxy = FaultProxy(lab1.w3.provider.endpoint_uri, hang_s=5.0).start()  # type: ignore[attr-defined]
    proxy.inject("eth_sendRawTransaction", fault, times=None)  # type: ignore[arg-type]

    async def go() -> TxTracker:
        async with RpcClient("lab1", [proxy.url], timeout_s=1.0) as flaky, rpc_for(lab1) as direct:
            tracker = TxTracker(direct, "lab1", store, TrackerPolicy(confirmations=1))
            tracker.track(tx)  # recorded before the send: a crash now still leaves the hash to look up
            outcome: str
            try:
                await txs.broadcast(flaky, tx)
                outcome = "sent"
            except Ambiguous:
                outcome = "unknown"
            except Exception as exc:  # the node's answer was an error: still not proof it was not received
                outcome = type(exc).__name__
            assert outcome != "sent"
            proxy.clear()
            await _until(tracker, tx.tx_hash, TxState.CONFIRMED)
            return tracker

    try:
        tracker = run(go())
    finally:
        proxy.stop()
    assert tracker.state(tx.tx_hash) is TxState.CONFIRMED
    assert lab1.w3.eth.get_transaction_count(signer.address) == 1  # exactly one transaction at that nonce
    sends = proxy.forwarded.count("eth_sendRawTransaction")
    assert sends == (1 if fault == "forward_then_hang" else 0)  # the tracker resent only what never arrived


def test_hanging_reads_fail_over_to_the_next_endpoint(lab1: Chain) -> None:
    proxy = FaultProxy(lab1.w3.provider.endpoint_uri, hang_s=5.0).start()  # type: ignore[attr-defined]
    proxy.inject(None, "hang", times=None)

    async def go() -> int:
        async with RpcClient("lab1", [proxy.url, lab1.w3.provider.endpoint_uri], timeout_s=0.5) as rpc:  # type: ignore[attr-defined]
            return int(await rpc.request("eth_blockNumber"), 16)

    try:
        assert run(go()) == lab1.w3.eth.block_number
    finally:
        proxy.stop()


def test_kill_9_right_after_broadcast_then_the_tracker_adopts_it(lab1: Chain, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from eth_account import Account

    from fillpath.execution.recovery import adopt_unfinished

    account = Account.create()
    lab1.w3.eth.send_transaction({"from": lab1.dev, "to": account.address, "value": 10**18})
    db = f"sqlite:///{tmp_path / 'crash.db'}"
    res = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("broadcast_worker.py")), lab1.w3.provider.endpoint_uri, db],  # type: ignore[attr-defined]
        env={**os.environ, "FP_WORKER_KEY": account.key.hex()}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert res.returncode == -9
    tx_hash = res.stdout.strip()
    store = Store.open(db)
    rec = store.transaction("lab1", tx_hash)
    assert rec is not None and rec.status is TxStatus.BROADCAST and rec.intent_id == "intent-1"

    async def restart() -> TxTracker:
        async with rpc_for(lab1) as rpc:
            tracker = TxTracker(rpc, "lab1", store, TrackerPolicy(confirmations=2))
            assert [t.tx_hash for t in adopt_unfinished(tracker, store.transactions().values())] == [tx_hash]
            await _until(tracker, tx_hash, TxState.INCLUDED)
            _mine(lab1)
            await _until(tracker, tx_hash, TxState.CONFIRMED)
            return tracker

    run(restart())
    assert store.transaction("lab1", tx_hash).status is TxStatus.CONFIRMED  # type: ignore[union-attr]
    assert lab1.w3.eth.get_transaction_count(account.address) == 1  # adopted, not sent again
    assert [k for k, _ in _journal(store)] == ["tx.broadcast", "tx.mined", "tx.confirmed"]
    store.close()


def test_cancel_a_stuck_transaction_with_a_self_transfer_at_its_nonce(manual_mining: Chain, store: Store) -> None:
    chain = manual_mining
    signer = funded_signer(chain)
    chain.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    weth = chain.deployment.address("WETH9")
    stuck = txs.sign(signer, 31337, 0, txs.wrap(weth, 10**17), 60_000, Fees(2 * 10**9, 10**6))

    async def canceller(t: Any) -> txs.SignedTx:
        old = t.signed
        return txs.sign(signer, 31337, old.nonce, txs.cancel(signer.address), 21_000, old.fees.bumped(FeePolicy()))

    async def go() -> TxTracker:
        async with rpc_for(chain) as rpc:
            policy = TrackerPolicy(confirmations=1, replace_after_s=0.0, max_replacements=1)
            tracker = TxTracker(rpc, "lab1", store, policy, replacer=canceller)
            tracker.track(stuck)
            await txs.broadcast(rpc, stuck)
            await tracker.poll()  # the cancel goes out at the same nonce
            _mine(chain)
            await _until(tracker, stuck.tx_hash, TxState.REPLACED)
            return tracker

    tracker = run(go())
    fam = tracker.family(signer.address, 0)
    assert len(fam) == 2
    cancel_tx = next(t for t in fam if t.tx_hash != stuck.tx_hash)
    assert cancel_tx.state is TxState.CONFIRMED
    assert chain.contract("WETH").functions.balanceOf(signer.address).call() == 0  # the wrap never happened
    assert chain.w3.eth.get_transaction(cancel_tx.tx_hash)["to"] == signer.address


def test_a_nonce_used_by_a_transaction_we_do_not_know_ends_as_dropped(manual_mining: Chain, store: Store) -> None:
    chain = manual_mining
    signer = funded_signer(chain)
    chain.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    ours = _self_transfer(signer, 0, Fees(2 * 10**9, 10**6), value=1)
    foreign = _self_transfer(signer, 0, Fees(5 * 10**9, 2 * 10**9), value=2)  # e.g. sent by another tool

    async def go() -> TxTracker:
        async with rpc_for(chain) as rpc:
            tracker = TxTracker(rpc, "lab1", store, TrackerPolicy(confirmations=1))
            tracker.track(ours)
            await txs.broadcast(rpc, ours)
            await txs.broadcast(rpc, foreign)  # replaces ours in the pool; the tracker was not told
            _mine(chain)
            await tracker.poll()
            assert tracker.state(ours.tx_hash) is TxState.PENDING  # one poll is not proof
            await tracker.poll()
            return tracker

    tracker = run(go())
    assert tracker.state(ours.tx_hash) is TxState.DROPPED
    assert [k for k, _ in _journal(store)] == ["tx.broadcast", "tx.dropped"]
    assert chain.w3.eth.get_transaction(foreign.tx_hash)["blockNumber"] is not None
