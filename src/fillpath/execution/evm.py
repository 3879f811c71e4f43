"""The hot path on one EVM location: exact approvals, then one executor transaction for all of the chain's legs.

Durable records before the bytes leave, so a crash anywhere leaves something to resolve and nothing is sent twice:
``NonceAllocated``, ``IntentCreated`` (with sender, nonce and the signed transaction's hash) and ``TxBroadcast``,
in one journal transaction (one fsync on the hot path, not three) → the bytes leave.
The outcome comes from the tracker (final state) and the receipt's logs (what each leg paid, what reached us);
the ledger is booked from those in one journal transaction with ``IntentResolved``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode

from fillpath.chains import transactions as txs
from fillpath.chains.abi import error_names, fn
from fillpath.chains.accounts import Signer
from fillpath.chains.executor import NATIVE, ExecPlan, ExecResult
from fillpath.chains.fees import FeePolicy, suggest_fees
from fillpath.chains.nonces import NonceAllocator
from fillpath.chains.rpc import RpcClient, hex_int
from fillpath.chains.tracker import TxState, TxTracker
from fillpath.execution.realized import TRANSFER, leg_outputs, received
from fillpath.model.assets import AssetId
from fillpath.model.errors import Rejected
from fillpath.model.events import BalanceAdjusted, Event, IntentCreated, IntentOutcome, IntentResolved, TxBroadcast
from fillpath.state.store import Store

EXECUTE_GAS_FLOOR = 150_000


@dataclass
class EvmVenue:
    """What the hot path needs on one chain (built once by the composition root)."""

    location: str
    chain_id: int
    rpc: RpcClient
    signer: Signer
    executor: str
    nonces: NonceAllocator
    tracker: TxTracker
    native: AssetId
    fee_policy: FeePolicy = field(default_factory=FeePolicy)
    final_timeout_s: float = 60.0
    crash: Callable[[str], None] = field(default=lambda _name: None)
    """A failpoint hook for crash tests (see :mod:`fillpath.execution.failpoints`)."""


@dataclass(frozen=True, slots=True)
class ChainOutcome:
    location: str
    intent_id: str
    tx_hash: str | None
    state: TxState | None
    expected: tuple[int, ...]
    realized: tuple[int, ...]
    total_out: int
    gas_used: int
    gas_cost_wei: int
    reason: str | None = None


async def _send(venue: EvmVenue, call: txs.ContractCall, intent_id: str | None, gas: int | None = None) -> txs.SignedTx:
    await txs.simulate(venue.rpc, venue.signer.address, call)  # nothing is signed out before it is simulated
    fees = await suggest_fees(venue.rpc, venue.fee_policy)
    if gas is None:
        gas = await txs.estimate_gas(venue.rpc, venue.signer.address, call)
    nonce = await venue.nonces.allocate()
    signed = txs.sign(venue.signer, venue.chain_id, nonce, call, gas, fees)
    venue.tracker.track(signed, intent_id=intent_id)  # journaled before the bytes leave
    await txs.broadcast(venue.rpc, signed)
    return signed


async def approve_exact(venue: EvmVenue, store: Store, plan: ExecPlan) -> list[str]:
    """Approve the executor for exactly what it will pull (only where the allowance differs)."""
    sent = []
    for pull in plan.pulls:
        data = fn("ERC20", "allowance").encode(venue.signer.address, venue.executor)
        raw = await venue.rpc.request("eth_call", [{"to": pull.token, "data": "0x" + data.hex()}, "latest"])
        if hex_int(raw) != pull.amount:
            tx = await _send(venue, txs.approve(pull.token, venue.executor, pull.amount), None)
            sent.append(tx.tx_hash)
    if sent:
        await book_gas(venue, store, sent, "gas: exact approval")
    return sent


async def book_gas(venue: EvmVenue, store: Store, hashes: list[str], reason: str) -> int:
    """Wait for ``hashes`` to be final and book what their gas cost us (a transaction that moves nothing else:
    an approval, a nonce-gap filler). Raises ``Rejected`` when one does not confirm; returns the cost."""
    states = await venue.tracker.wait_final(hashes, timeout_s=venue.final_timeout_s, interval_s=0.05)
    bad = [h for h, s in states.items() if s not in (TxState.CONFIRMED, TxState.REVERTED)]
    cost = await _gas_paid(venue, [h for h in hashes if h not in bad])
    if cost:
        store.append(BalanceAdjusted(venue.location, venue.native, -cost, reason))
    failed = [h for h, s in states.items() if s is not TxState.CONFIRMED]
    if failed:
        raise Rejected(f"{venue.location}: {reason}: not confirmed: {failed}", reason="approval")
    return cost


async def submit(
    venue: EvmVenue,
    store: Store,
    plan: ExecPlan,
    *,
    intent_id: str,
    asset_in: AssetId,
    amount_in: int,
    asset_out: AssetId,
    assets_by_address: Mapping[str, AssetId],
    journal_first: Callable[[], Sequence[Event]] = tuple,
) -> ChainOutcome:
    """Run one chain's part of a plan and book it. ``assets_by_address``: lower-case token address → asset.

    ``journal_first()``: events to record ahead of the intent, in its commit (the engine's ``ExecutionStarted``).
    """
    approvals = await approve_exact(venue, store, plan)
    execute = fn("FillpathExecutor", "execute")
    call = txs.ContractCall(
        venue.executor, plan.calldata(), value=plan.value, returns=execute, what=f"executor ({len(plan.legs)} legs)"
    )
    # Three independent reads at once (one round trip to the node, not three); nothing is signed before the
    # simulation has answered. It raises Rejected naming the executor's error (LegMinOut, TotalMinOut,
    # DeadlinePassed...) if the call would revert, and that is the error reported, whatever else failed.
    simulated, estimated, fees = await asyncio.gather(
        txs.simulate(venue.rpc, venue.signer.address, call, errors=error_names("FillpathExecutor")),
        txs.estimate_gas(venue.rpc, venue.signer.address, call),
        suggest_fees(venue.rpc, venue.fee_policy),
        return_exceptions=True,
    )
    if isinstance(simulated, BaseException):
        raise simulated
    if isinstance(estimated, BaseException):
        raise estimated
    if isinstance(fees, BaseException):
        raise fees
    assert simulated is not None
    expected = ExecResult(tuple(int(a) for a in simulated[0]), int(simulated[1]))
    gas = max(EXECUTE_GAS_FLOOR, estimated)
    nonce, nonce_record = await venue.nonces.reserve()
    signed = txs.sign(venue.signer, venue.chain_id, nonce, call, gas, fees)
    # One durable commit before the bytes leave (each commit is an fsync on the hot path): the nonce, the intent
    # naming sender, nonce and hash, and the broadcast record the tracker and recovery follow.
    store.append_many([
        *journal_first(),
        nonce_record,
        IntentCreated(
            venue.location, intent_id, "evm.executor", f"{signed.sender}:{signed.nonce}:{signed.tx_hash}",
            asset_in, amount_in, asset_out, expected.total_out, plan.deadline * 10**9,
        ),
        TxBroadcast(venue.location, signed.tx_hash, signed.sender, signed.nonce, intent_id),
    ])  # fmt: skip
    venue.crash("intent")
    venue.tracker.track(signed, intent_id=intent_id, record=False)
    with contextlib.suppress(Exception):  # Ambiguous or a node error: the tracker resolves it by hash and nonce
        await txs.broadcast(venue.rpc, signed)
    venue.crash("broadcast")
    states = await venue.tracker.wait_final(
        [*approvals, signed.tx_hash], timeout_s=venue.final_timeout_s, interval_s=0.05
    )
    state = states[signed.tx_hash]
    if state not in (TxState.CONFIRMED, TxState.REVERTED):
        return ChainOutcome(venue.location, intent_id, signed.tx_hash, state, expected.amounts_out, (), 0, 0, 0,
                            "not final: outcome unknown until the chain answers")  # fmt: skip
    receipt = await venue.rpc.request("eth_getTransactionReceipt", [signed.tx_hash])
    gas_used = hex_int(receipt["gasUsed"])
    gas_cost = gas_used * hex_int(receipt.get("effectiveGasPrice") or receipt.get("gasPrice") or 0)
    approvals_gas = await _gas_paid(venue, approvals)  # booked when they confirmed; counted in the P&L
    ok = state is TxState.CONFIRMED
    realized = tuple(leg_outputs(receipt, plan.legs)) if ok else ()
    total = received(receipt, plan.token_out, plan.recipient) if ok and plan.token_out != NATIVE else 0
    if ok and plan.token_out == NATIVE:
        total = realized[-1] if realized else 0
    native_out = total if ok and plan.token_out == NATIVE else 0
    events: list[Event] = [*receipt_ledger(venue, receipt, assets_by_address, plan.value, gas_cost, native_out)]
    events.append(
        IntentResolved(
            venue.location,
            intent_id,
            IntentOutcome.GOOD if ok else IntentOutcome.BAD,
            None if ok else "the executor transaction reverted",
        )
    )
    store.append_many(events, recv_ns=time.time_ns())
    return ChainOutcome(venue.location, intent_id, signed.tx_hash, state, expected.amounts_out, realized, total,
                        gas_used, gas_cost + approvals_gas)  # fmt: skip


async def _gas_paid(venue: EvmVenue, hashes: list[str]) -> int:
    cost = 0
    for h in hashes:
        r = await venue.rpc.request("eth_getTransactionReceipt", [h])
        cost += hex_int(r["gasUsed"]) * hex_int(r.get("effectiveGasPrice") or 0)
    return cost


def receipt_ledger(
    venue: EvmVenue,
    receipt: Mapping[str, Any],
    assets: Mapping[str, AssetId],
    value: int,
    gas_cost: int,
    native_out: int,
) -> list[Event]:
    """The ledger moves this transaction caused for our account: ERC20 transfers in and out, ETH sent and gas.

    ``native_out``: ETH the call paid us (an unwrap): internal calls leave no log, so the caller supplies it.
    """
    me = venue.signer.address.lower()
    deltas: dict[AssetId, int] = {}
    for log in receipt["logs"]:
        topics = [str(t) if not isinstance(t, (bytes, bytearray)) else "0x" + bytes(t).hex() for t in log["topics"]]
        if len(topics) != 3 or topics[0].lower() != TRANSFER:
            continue
        asset = assets.get(str(log["address"]).lower())
        if asset is None:
            continue
        moved = int(decode(["uint256"], bytes.fromhex(str(log["data"])[2:]))[0])
        if "0x" + topics[1][-40:] == me:
            deltas[asset] = deltas.get(asset, 0) - moved
        if "0x" + topics[2][-40:] == me:
            deltas[asset] = deltas.get(asset, 0) + moved
    native = -value - gas_cost + native_out
    deltas[venue.native] = deltas.get(venue.native, 0) + native
    return [BalanceAdjusted(venue.location, a, d, "execution") for a, d in deltas.items() if d]
