"""One plain contract call from our account (a bridge deposit, a token transfer to an exchange): the same
discipline as the executor's transaction (``evm.py``), for calls that are not the executor.

Cold (``prepare_call``): which exact approvals the call needs (where the allowance differs), the call simulated
with ``eth_call`` as if they had landed (an allowance state override; a revert names the contract's error), gas
estimated likewise, fees read, the nonce allocator synced. Nothing is sent. Hot (``stage_call``, memory only): the
approvals and the call signed at consecutive nonces — so no other transaction of the account can come between an
approval and its spend — and the records that must be durable before the bytes leave: each nonce, the caller's
intent and transfer records (naming the call's sender, nonce and hash) and a broadcast record per transaction.
After the caller's commit, ``send_call`` sends them in nonce order and follows them to a final state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fillpath.chains import transactions as txs
from fillpath.chains.abi import fn
from fillpath.chains.fees import Fees
from fillpath.chains.rpc import hex_int
from fillpath.chains.tracker import TxState
from fillpath.execution.evm import EvmVenue, adopt_family, approvals_gas_of, cold_reads, sign_approvals
from fillpath.execution.simulate import SlotFinder
from fillpath.model.events import Event, TxBroadcast
from fillpath.state.store import Store

PLAIN_GAS_FLOOR = 21_000


@dataclass(frozen=True, slots=True)
class Approval:
    """Exactly ``amount`` of ``token`` for ``spender`` to pull."""

    token: str
    spender: str
    amount: int


@dataclass(frozen=True, slots=True)
class PreparedCall:
    venue: EvmVenue
    call: txs.ContractCall
    gas: int
    fees: Fees
    approvals: tuple[txs.ContractCall, ...]
    approval_gas: tuple[int, ...]
    result: tuple[Any, ...] | None


async def _needed(venue: EvmVenue, approvals: Sequence[Approval]) -> tuple[list[txs.ContractCall], dict[str, Any]]:
    """The approvals whose allowance differs, and the state override that makes a simulation see them done."""
    if venue.finder is None:
        venue.finder = SlotFinder(venue.rpc)
    owner = venue.signer.address
    calls: list[txs.ContractCall] = []
    overrides: dict[str, Any] = {}
    for a in approvals:
        data = "0x" + fn("ERC20", "allowance").encode(owner, a.spender).hex()
        if hex_int(await venue.rpc.request("eth_call", [{"to": a.token, "data": data}, "latest"])) == a.amount:
            continue
        calls.append(txs.approve(a.token, a.spender, a.amount))
        key = await venue.finder.key(a.token, owner, a.spender)
        overrides.setdefault(a.token, {"stateDiff": {}})["stateDiff"][key] = "0x" + a.amount.to_bytes(32, "big").hex()
    return calls, overrides


async def prepare_call(
    venue: EvmVenue,
    store: Store,
    call: txs.ContractCall,
    *,
    approvals: Sequence[Approval] = (),
    errors: Mapping[bytes, str] | None = None,
) -> PreparedCall:
    """The cold half: the approvals it needs, then the call simulated and estimated as if they had landed, fees,
    nonces (at once). Raises ``Rejected`` (nothing signed, nothing sent) when the simulation says no."""
    needed, overrides = await _needed(venue, approvals)
    reads = await cold_reads(venue, call, needed, overrides, errors or {})
    result = reads.simulated if isinstance(reads.simulated, tuple) else None
    return PreparedCall(venue, call, max(PLAIN_GAS_FLOOR, reads.gas), reads.fees, tuple(needed), reads.approval_gas,
                        result)  # fmt: skip


@dataclass(frozen=True, slots=True)
class StagedCall:
    prepared: PreparedCall
    signed: txs.SignedTx
    events: tuple[Event, ...]
    approvals: tuple[txs.SignedTx, ...] = ()


def stage_call(
    prepared: PreparedCall, intent_id: str, records: Callable[[txs.SignedTx], Sequence[Event]]
) -> StagedCall:
    """Memory only: the approvals and the call signed at consecutive nonces, and their records — each nonce and
    broadcast, and ``records(signed call)`` (the intent and what goes with it) — for the caller to commit before
    ``send_call``."""
    venue = prepared.venue
    approvals, events = sign_approvals(venue, prepared.approvals, prepared.approval_gas, prepared.fees, intent_id)
    nonce, nonce_record = venue.nonces.reserve_now()
    signed = txs.sign(venue.signer, venue.chain_id, nonce, prepared.call, prepared.gas, prepared.fees)
    events += [nonce_record, *records(signed), TxBroadcast(venue.location, signed.tx_hash, signed.sender, nonce,
                                                           intent_id)]  # fmt: skip
    return StagedCall(prepared, signed, tuple(events), tuple(approvals))


def unstage_call(staged: StagedCall) -> None:
    """The records never reached the journal: give the nonces back (nothing was sent at them), newest first."""
    nonces = staged.prepared.venue.nonces
    nonces.release(staged.signed.nonce)
    for approval in reversed(staged.approvals):
        nonces.release(approval.nonce)


async def send_call(staged: StagedCall, *, timeout_s: float | None = None) -> tuple[TxState, dict[str, Any] | None]:
    """After the commit: the bytes leave in nonce order (the approvals before the call that spends them) and are
    followed to a final state; the call's receipt when final."""
    venue, signed = staged.prepared.venue, staged.signed
    intent_id = next((e.intent_id for e in staged.events if isinstance(e, TxBroadcast)), None)
    for tx in (*staged.approvals, signed):
        venue.tracker.track(tx, intent_id=intent_id, record=False)  # its fee bumps are journaled under the intent
        with contextlib.suppress(Exception):  # Ambiguous or a node error: the tracker resolves it by hash and nonce
            await txs.broadcast(venue.rpc, tx)
    venue.crash("broadcast")
    timeout = venue.final_timeout_s if timeout_s is None else timeout_s
    hashes = [*(a.tx_hash for a in staged.approvals), signed.tx_hash]
    states = await venue.tracker.wait_final(hashes, timeout_s=timeout, interval_s=0.05)
    state, included = venue.tracker.outcome(signed.tx_hash)  # replaced by a fee bump: the replacement's receipt
    if state not in (TxState.CONFIRMED, TxState.REVERTED):
        return states[signed.tx_hash], None
    receipt: dict[str, Any] = await venue.rpc.request("eth_getTransactionReceipt", [included])
    return state, receipt


async def approvals_gas(venue: EvmVenue, store: Store, intent_id: str, call_hash: str) -> list[Event]:
    """The gas of the exact approvals signed with the call (journaled under its intent, at the nonces before it):
    final once the call is. Booked with the call's own outcome, so exactly once (``evm.approvals_gas_of``)."""
    return (await approvals_gas_of(venue, store, intent_id, call_hash))[0]


def receipt_gas(receipt: Mapping[str, Any]) -> int:
    return hex_int(receipt["gasUsed"]) * hex_int(receipt.get("effectiveGasPrice") or receipt.get("gasPrice") or 0)


def erc20_transfer(token: str, to: str, amount: int) -> txs.ContractCall:
    f = fn("ERC20", "transfer")
    return txs.ContractCall(token, f.encode(to, amount), returns=f, what=f"transfer {amount} to {to}")


def native_transfer(to: str, amount: int) -> txs.ContractCall:
    return txs.ContractCall(to, b"", value=amount, what=f"send {amount} wei to {to}")


async def follow_sent(
    venue: EvmVenue, store: Store, ref: str | None, intent_id: str | None = None
) -> tuple[str, dict[str, Any] | None, TxState]:
    """Recovery of one of our transactions named by an intent's ``sender:nonce:hash``: ``("never", None, state)``
    when it provably never ran (no broadcast record and unknown to the node, or dropped / replaced);
    ``("open", None, state)`` when it is not final yet; ``("final", receipt, state)`` otherwise."""
    sender, nonce_text, tx_hash = (ref or "::").split(":")
    if store.transaction(venue.location, tx_hash) is None:
        seen = await venue.rpc.request("eth_getTransactionByHash", [tx_hash])
        if seen is None:
            return "never", None, TxState.DROPPED
    adopted = adopt_family(venue, store, sender, int(nonce_text), intent_id)  # where the journal left them
    venue.tracker.adopt(tx_hash, sender, int(nonce_text), intent_id=intent_id)  # known only to the node: pending
    family = [tx_hash, *(h for h in adopted if h != tx_hash)]
    await venue.tracker.wait_final(family, timeout_s=venue.final_timeout_s, interval_s=0.1)
    state, included = venue.tracker.outcome(tx_hash)
    if state is TxState.PENDING:
        # waiting behind a nonce nothing will ever fill (an approval before it dropped for good)? Fill the gap and
        # wait again, as the executor's recovery does (chaos --bridge seeds 5099, 5105: a bridge deposit behind its
        # dropped approval stayed pending through every recovery pass)
        from fillpath.execution.recovery import fill_gaps

        if await fill_gaps(store, venue, intent_id):
            await venue.tracker.wait_final(family, timeout_s=venue.final_timeout_s, interval_s=0.1)
            state, included = venue.tracker.outcome(tx_hash)
    if state in (TxState.DROPPED, TxState.REPLACED):
        return "never", None, state
    if state not in (TxState.CONFIRMED, TxState.REVERTED):
        return "open", None, state
    receipt: dict[str, Any] = await venue.rpc.request("eth_getTransactionReceipt", [included])
    return "final", receipt, state
