"""The fee-bump replacer: its fee rule (pure), and the tracker replacing through it on the chaos world's chain
(eth-tester behind geth's replacement rules, on virtual time)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fillpath.chains import transactions as txs
from fillpath.chains.fees import Fees
from fillpath.chains.replacer import FeeBumper, ReplacePolicy, bump_fee, bumped_fees
from fillpath.chains.tracker import Tracked, TxState, TxTracker
from fillpath.lab.chaos.chain import ChainRpc, ChainWorld, lab_chain, trader_signer, underpriced
from fillpath.lab.chaos.clock import VirtualClock, run
from fillpath.lab.chaos.faults import Fault, FaultPlan
from fillpath.state.records import TxStatus
from fillpath.state.store import Store

T = TypeVar("T")
GWEI = 10**9


# --- the fee rule ---------------------------------------------------------------------------------------------


def test_bump_is_an_eighth_up_rounded_up() -> None:
    assert bump_fee(8) == 9 and bump_fee(9) == 11 and bump_fee(1) == 2 and bump_fee(0) == 0
    assert bump_fee(10**9) == 1_125_000_000


def test_bumped_fees_follow_the_estimate_and_stop_at_the_cap() -> None:
    old = Fees(max_fee_per_gas=2 * GWEI, max_priority_fee_per_gas=GWEI)
    low = Fees(max_fee_per_gas=GWEI, max_priority_fee_per_gas=10**8)
    assert bumped_fees(old, low, 10 * GWEI) == Fees(2_250_000_000, 1_125_000_000)  # the bump beats a lower estimate
    high = Fees(max_fee_per_gas=7 * GWEI, max_priority_fee_per_gas=3 * GWEI)
    assert bumped_fees(old, high, 10 * GWEI) == high  # a base fee that rose since: at least the estimate
    assert bumped_fees(old, high, 6 * GWEI) is None  # the cap: no replacement
    assert bumped_fees(old, None, 2_250_000_000) == Fees(2_250_000_000, 1_125_000_000)  # the cap itself is allowed
    tip_above_cap = Fees(max_fee_per_gas=GWEI, max_priority_fee_per_gas=5 * GWEI)
    bumped = bumped_fees(old, tip_above_cap, 10 * GWEI)
    assert bumped is not None and bumped.max_fee_per_gas == bumped.max_priority_fee_per_gas == 5 * GWEI
    assert bumped_fees(Fees(gas_price=3 * GWEI), Fees(gas_price=GWEI), 10 * GWEI) == Fees(gas_price=3_375_000_000)
    assert bumped_fees(Fees(gas_price=3 * GWEI), None, 3 * GWEI) is None


@given(
    fee=st.integers(1, 10**15),
    tip=st.integers(0, 10**15),
    est_fee=st.integers(0, 10**15),
    est_tip=st.integers(0, 10**15),
    cap=st.integers(1, 10**16),
)
def test_a_bump_always_passes_the_nodes_replacement_rule(fee: int, tip: int, est_fee: int, est_tip: int,
                                                          cap: int) -> None:  # fmt: skip
    tip = min(tip, fee)
    old = Fees(max_fee_per_gas=fee, max_priority_fee_per_gas=tip)
    new = bumped_fees(old, Fees(max_fee_per_gas=est_fee, max_priority_fee_per_gas=est_tip), cap)
    want_fee = max((fee * 9 + 7) // 8, est_fee, (tip * 9 + 7) // 8, est_tip)
    if want_fee > cap:
        assert new is None
        return
    assert new is not None and new.max_fee_per_gas is not None and new.max_priority_fee_per_gas is not None
    assert new.max_fee_per_gas * 100 >= fee * 110 and new.max_priority_fee_per_gas * 100 >= tip * 110  # geth: +10%
    assert new.max_fee_per_gas >= est_fee and new.max_priority_fee_per_gas >= est_tip
    assert new.max_priority_fee_per_gas <= new.max_fee_per_gas <= cap
    assert new.max_fee_per_gas == want_fee  # +12.5% rounded up, or what the estimate (or the tip) asks if more
    from fillpath.lab.chaos.chain import Pending

    assert not underpriced(new.max_fee_per_gas, new.max_priority_fee_per_gas, Pending("0x", "a", 0, b"", fee, tip=tip))


# --- the tracker replacing on the chaos chain ----------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'fp.db'}")
    yield s
    s.close()


def _world(rates: dict[Fault, float], clock: VirtualClock) -> ChainWorld:
    faults = FaultPlan(random.Random(1), dict(rates))
    faults.replace_rng = random.Random(2)
    return ChainWorld(lab_chain(), clock, faults, lambda _line: None)


def _in_world(
    rates: dict[Fault, float], body: Callable[[ChainWorld, ChainRpc, VirtualClock], Awaitable[T]]
) -> tuple[T, ChainWorld]:
    """Run ``body`` on a fresh chaos chain with a miner (a block every 2 virtual seconds when there is work)."""
    clock = VirtualClock()
    world = _world(rates, clock)

    async def go() -> T:
        async def miner() -> None:
            while True:
                await asyncio.sleep(2.0)
                if world.busy():
                    world.mine()

        task = asyncio.ensure_future(miner())
        try:
            return await body(world, ChainRpc(world), clock)
        finally:
            task.cancel()

    return run(go(), clock), world


async def _wrap(rpc: ChainRpc, world: ChainWorld, nonce: int, fees: Fees) -> txs.SignedTx:
    weth = world.lab.deployment.address("WETH")
    return txs.sign(trader_signer(), world.lab.chain_id, nonce, txs.wrap(weth, 10**15), 80_000, fees)


def _tracker(rpc: ChainRpc, store: Store, clock: VirtualClock, crash: Callable[[str], None] = lambda _p: None,
             replacer: Callable[[Tracked], Awaitable[txs.SignedTx | None]] | None = None) -> TxTracker:  # fmt: skip
    policy = ReplacePolicy(after_s=10.0, max_replacements=3)
    bumper = replacer or FeeBumper(rpc, trader_signer(), rpc.world.lab.chain_id, policy)
    return TxTracker(rpc, rpc.location, store, policy.tracker_policy(1), replacer=bumper, clock=clock.seconds,
                     crash=crash)  # fmt: skip


def _statuses(store: Store, nonce: int) -> dict[str, TxStatus]:
    return {h: t.status for (_, h), t in store.transactions().items() if t.nonce == nonce}


def test_a_stuck_transaction_is_replaced_and_the_replacement_lands(store: Store) -> None:
    """``tx_underpriced``: the original is not mined until bumped; the replacement is, the original ends replaced,
    and the family's outcome (what the hot path books from) is the replacement's receipt."""

    async def body(world: ChainWorld, rpc: ChainRpc, clock: VirtualClock) -> tuple[TxTracker, str]:
        fees = Fees(max_fee_per_gas=2 * GWEI, max_priority_fee_per_gas=GWEI)
        tx = await _wrap(rpc, world, world.nonce(), fees)
        tracker = _tracker(rpc, store, clock)
        tracker.track(tx, intent_id="i1")
        await txs.broadcast(rpc, tx)
        await tracker.wait_final([tx.tx_hash], timeout_s=120.0, interval_s=0.5)
        return tracker, tx.tx_hash

    (tracker, original), world = _in_world({Fault.TX_UNDERPRICED: 1.0}, body)
    state, included = tracker.outcome(original)
    assert tracker.state(original) is TxState.REPLACED and state is TxState.CONFIRMED and included != original
    winner = tracker.txs[included]
    assert winner.intent_id == "i1" and winner.signed is not None
    assert winner.signed.fees.max_fee_per_gas == bump_fee(2 * GWEI)  # one bump, 12.5% up
    statuses = _statuses(store, winner.nonce)
    assert statuses == {original: TxStatus.REPLACED, included: TxStatus.CONFIRMED}
    assert store.transaction("lab1", included).intent_id == "i1"  # type: ignore[union-attr]
    assert world.replaced == 1 and world.nonce() == winner.nonce + 1


def test_an_original_mined_before_its_replacement_arrives_keeps_the_family(store: Store) -> None:
    """``replace_race``: the original is mined as the replacement travels; the node answers ``nonce too low``, the
    replacement is dropped at once, and the original is the family's one included member."""

    async def body(world: ChainWorld, rpc: ChainRpc, clock: VirtualClock) -> tuple[TxTracker, str]:
        tx = await _wrap(rpc, world, world.nonce(), Fees(max_fee_per_gas=2 * GWEI, max_priority_fee_per_gas=GWEI))
        tracker = _tracker(rpc, store, clock)
        tracker.track(tx, intent_id="i2")
        await txs.broadcast(rpc, tx)
        world.mempool.txs[tx.tx_hash].stuck_until = 15.0  # waits past the replace-after period, then mines
        await tracker.wait_final([tx.tx_hash], timeout_s=120.0, interval_s=0.5)
        return tracker, tx.tx_hash

    (tracker, original), world = _in_world({Fault.REPLACE_RACE: 1.0}, body)
    assert tracker.state(original) is TxState.CONFIRMED and tracker.outcome(original) == (TxState.CONFIRMED,
                                                                                           original)  # fmt: skip
    family = tracker.family(tracker.txs[original].sender, tracker.txs[original].nonce)
    assert len(family) == 2 and {t.state for t in family} == {TxState.CONFIRMED, TxState.DROPPED}
    dropped = [e.event for e in store.events() if e.event.kind == "tx.dropped"]
    assert len(dropped) == 1 and "nonce too low" in dropped[0].reason  # type: ignore[attr-defined]
    assert world.replaced == 0


def test_an_underpriced_replacement_is_refused_and_the_family_goes_on(store: Store) -> None:
    """A replacer that bumps by 5% (below the node's 10%) is refused ``replacement transaction underpriced``: the
    replacement is dropped, the original mines."""

    async def stingy(t: Tracked) -> txs.SignedTx | None:
        assert t.signed is not None
        old = t.signed.fees
        assert old.max_fee_per_gas is not None and old.max_priority_fee_per_gas is not None
        fees = Fees(old.max_fee_per_gas * 105 // 100, old.max_priority_fee_per_gas * 105 // 100)
        return txs.sign(trader_signer(), t.signed.chain_id, t.nonce, t.signed.call, t.signed.gas, fees)

    async def body(world: ChainWorld, rpc: ChainRpc, clock: VirtualClock) -> tuple[TxTracker, str]:
        tx = await _wrap(rpc, world, world.nonce(), Fees(max_fee_per_gas=2 * GWEI, max_priority_fee_per_gas=GWEI))
        tracker = _tracker(rpc, store, clock, replacer=stingy)
        tracker.track(tx, intent_id="i3")
        await txs.broadcast(rpc, tx)
        world.mempool.txs[tx.tx_hash].stuck_until = 25.0
        await tracker.wait_final([tx.tx_hash], timeout_s=120.0, interval_s=0.5)
        return tracker, tx.tx_hash

    (tracker, original), world = _in_world({}, body)
    assert world.replaced == 0  # the 5% bumps never entered the mempool
    assert tracker.state(original) is TxState.CONFIRMED
    others = [t for t in tracker.family(tracker.txs[original].sender, tracker.txs[original].nonce)
              if t.tx_hash != original]  # fmt: skip
    assert others and all(t.state is TxState.DROPPED for t in others)
    reasons = [e.event.reason for e in store.events() if e.event.kind == "tx.dropped"]  # type: ignore[attr-defined]
    assert reasons and all("underpriced" in r for r in reasons)


class _Died(BaseException):
    pass


def test_a_crash_between_journaling_a_replacement_and_sending_it_is_resolved_on_restart(store: Store) -> None:
    """The process dies at ``replace``: the replacement is journaled (under the intent), its bytes never left. A new
    process adopts the whole family from the journal and resolves it: the original is the one included, the
    replacement ends replaced or dropped; the nonce is used once."""

    def crash(point: str) -> None:
        if point == "replace":
            raise _Died(point)

    async def body(world: ChainWorld, rpc: ChainRpc, clock: VirtualClock) -> tuple[TxTracker, str]:
        tx = await _wrap(rpc, world, world.nonce(), Fees(max_fee_per_gas=2 * GWEI, max_priority_fee_per_gas=GWEI))
        first = _tracker(rpc, store, clock, crash=crash)
        first.track(tx, intent_id="i4")
        await txs.broadcast(rpc, tx)
        world.mempool.txs[tx.tx_hash].stuck_until = 30.0
        with pytest.raises(_Died):
            await first.wait_final([tx.tx_hash], timeout_s=120.0, interval_s=0.5)
        journaled = [h for (_, h), t in store.transactions().items() if t.intent_id == "i4"]
        assert len(journaled) == 2 and tx.tx_hash in journaled
        assert all(h not in world.mempool.txs for h in journaled if h != tx.tx_hash)  # journaled, never sent
        second = _tracker(rpc, store, clock)  # the restarted process: the family from the journal
        for (_, h), t in store.transactions().items():
            assert t.sender is not None and t.nonce is not None
            second.adopt(h, t.sender, t.nonce, intent_id=t.intent_id)
        await second.wait_final(journaled, timeout_s=120.0, interval_s=0.5)
        return second, tx.tx_hash

    (tracker, original), world = _in_world({}, body)
    statuses = _statuses(store, tracker.txs[original].nonce)
    assert statuses[original] is TxStatus.CONFIRMED
    assert sorted(s for h, s in statuses.items() if h != original) in ([TxStatus.REPLACED], [TxStatus.DROPPED])
    assert world.nonce() == tracker.txs[original].nonce + 1


def test_a_bump_without_an_estimate_still_follows_the_rule_and_the_cap() -> None:
    """The node does not answer the fee reads (a timeout): the bump is computed from the old fees alone; past the
    family's cap (3× the first max fee) there is none."""
    from fillpath.chains.rpc import RpcClient
    from fillpath.model.errors import Retryable

    class Silent(RpcClient):
        def __init__(self) -> None:
            super().__init__("lab1", ())

        async def request(self, method: str, params: object = ()) -> object:
            raise Retryable(f"{method}: timeout")

    signer = trader_signer()
    call = txs.ContractCall(signer.address, b"", what="self-transfer")
    first = txs.sign(signer, 1, 7, call, 21_000, Fees(max_fee_per_gas=2 * GWEI, max_priority_fee_per_gas=GWEI))
    bumper = FeeBumper(Silent(), signer, 1, ReplacePolicy(max_fee_multiple=3))
    t = Tracked(first.tx_hash, first.sender, first.nonce, first.raw, signed=first, first_fee=2 * GWEI)
    bumped = asyncio.run(bumper(t))
    assert bumped is not None and bumped.nonce == 7 and bumped.call == call and bumped.gas == 21_000
    assert bumped.fees == Fees(2_250_000_000, 1_125_000_000)
    high = txs.sign(signer, 1, 7, call, 21_000, Fees(max_fee_per_gas=5_400_000_001, max_priority_fee_per_gas=GWEI))
    t_high = Tracked(high.tx_hash, high.sender, 7, high.raw, signed=high, first_fee=2 * GWEI)
    assert asyncio.run(bumper(t_high)) is None  # 5.4 gwei × 1.125 > 3 × 2 gwei


def test_a_restarted_process_fee_bumps_what_it_journaled(store: Store, tmp_path: Path) -> None:
    """``tx_underpriced``: the process that signed the transaction dies before its bump. The journal holds the signed
    bytes (``TxBroadcast.raw``), so the restarted process reads the call and fees back and bumps it (12.5% over the
    journaled fees; the cap from the family's first fee); without them (a journal from before ``raw``) the same
    transaction is only followed, and stays unmined."""
    from fillpath.execution.recovery import adopt_unfinished

    fees = Fees(max_fee_per_gas=2 * GWEI, max_priority_fee_per_gas=GWEI)

    def restarted(
        store: Store, with_bytes: bool
    ) -> Callable[[ChainWorld, ChainRpc, VirtualClock], Awaitable[TxTracker]]:
        async def body(world: ChainWorld, rpc: ChainRpc, clock: VirtualClock) -> TxTracker:
            tx = await _wrap(rpc, world, world.nonce(), fees)
            _tracker(rpc, store, clock).track(tx, intent_id="i5")  # the first process: journaled, sent, then dead
            await txs.broadcast(rpc, tx)
            second = _tracker(rpc, store, clock)
            records = [t for t in store.transactions().values() if t.intent_id == "i5"]
            adopted = adopt_unfinished(second, records, store if with_bytes else None)
            assert [t.tx_hash for t in adopted] == [tx.tx_hash]
            await second.wait_final([tx.tx_hash], timeout_s=60.0, interval_s=0.5)
            return second

        return body

    tracker, world = _in_world({Fault.TX_UNDERPRICED: 1.0}, restarted(store, True))
    [original] = [t for t in store.transactions().values() if t.intent_id == "i5" and t.replaced_by is not None]
    state, included = tracker.outcome(original.tx_hash)
    assert state is TxState.CONFIRMED and included != original.tx_hash
    winner = tracker.txs[included].signed
    assert winner is not None and winner.fees.max_fee_per_gas == bump_fee(2 * GWEI)
    assert winner.call.value == 10**15 and winner.gas == 80_000  # the same call, read back from the bytes
    assert world.replaced == 1 and world.nonce() == original.nonce + 1  # type: ignore[operator]

    old = Store.open(f"sqlite:///{tmp_path / 'old.db'}")  # followed only: no bytes to bump from
    try:
        tracker, world = _in_world({Fault.TX_UNDERPRICED: 1.0}, restarted(old, False))
        [only] = list(tracker.txs.values())
        assert only.signed is None and only.state is TxState.PENDING and world.replaced == 0
    finally:
        old.close()


def test_journaled_bytes_read_back_as_the_signed_transaction() -> None:
    """``signed_from_raw`` gives back what ``sign`` made (hash, nonce, call, gas, fees), so a bump of an adopted
    transaction re-signs the same call; a legacy transaction's bytes give None (followed, not replaced)."""
    signer = trader_signer()
    call = txs.ContractCall("0x" + "11" * 20, b"\x01\x02\x03", 7)
    signed = txs.sign(signer, 1337, 5, call, 80_000, Fees(max_fee_per_gas=3 * GWEI, max_priority_fee_per_gas=GWEI))
    back = txs.signed_from_raw(signed.raw, signer.address)
    assert back is not None
    assert (back.tx_hash, back.nonce, back.gas, back.fees, back.chain_id) == (
        signed.tx_hash, 5, 80_000, signed.fees, 1337)  # fmt: skip
    assert (back.call.to.lower(), back.call.data, back.call.value) == (call.to, call.data, 7)
    legacy = txs.sign(signer, 1337, 6, call, 80_000, Fees(gas_price=GWEI))
    assert txs.signed_from_raw(legacy.raw, signer.address) is None
