"""One plain contract call from our account (a bridge deposit, a token transfer to an exchange): the same
discipline as the executor's transaction, for calls that are not the executor.

Cold (``prepare_call``): exact approvals where the allowance differs (sent, final, their gas booked), the call
simulated with ``eth_call`` (a revert names the contract's error), gas estimated, fees read, the nonce allocator
synced. Hot (``stage_call``, memory only): the next nonce, the signature, and the records that must be durable
before the bytes leave — the nonce, the caller's intent and transfer records (naming sender, nonce and hash) and
the broadcast. After the caller's commit, ``send_call`` sends the bytes and follows them to a final state.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fillpath.chains import transactions as txs
from fillpath.chains.abi import fn
from fillpath.chains.fees import Fees, suggest_fees
from fillpath.chains.rpc import hex_int
from fillpath.chains.tracker import TxState
from fillpath.execution.evm import EvmVenue, book_gas
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
    approvals: tuple[str, ...]
    approvals_gas: int
    result: tuple[Any, ...] | None


async def _approve_exact(venue: EvmVenue, store: Store, approvals: Sequence[Approval]) -> tuple[list[str], int]:
    sent = []
    for a in approvals:
        data = fn("ERC20", "allowance").encode(venue.signer.address, a.spender)
        raw = await venue.rpc.request("eth_call", [{"to": a.token, "data": "0x" + data.hex()}, "latest"])
        if hex_int(raw) == a.amount:
            continue
        call = txs.approve(a.token, a.spender, a.amount)
        await txs.simulate(venue.rpc, venue.signer.address, call)  # nothing is signed before it is simulated
        gas = await txs.estimate_gas(venue.rpc, venue.signer.address, call)
        fees = await suggest_fees(venue.rpc, venue.fee_policy)
        signed = txs.sign(venue.signer, venue.chain_id, await venue.nonces.allocate(), call, gas, fees)
        venue.tracker.track(signed)  # journaled before the bytes leave
        await txs.broadcast(venue.rpc, signed)
        sent.append(signed.tx_hash)
    cost = await book_gas(venue, store, sent, "gas: exact approval") if sent else 0
    return sent, cost


async def prepare_call(
    venue: EvmVenue,
    store: Store,
    call: txs.ContractCall,
    *,
    approvals: Sequence[Approval] = (),
    errors: Mapping[bytes, str] | None = None,
) -> PreparedCall:
    """The cold half: approvals sent and final, then the call simulated, its gas estimated, fees read, nonces
    synced (at once). Raises ``Rejected`` (nothing signed) when the simulation or an approval says no."""
    sent, cost = await _approve_exact(venue, store, approvals)
    simulated, estimated, fees, _ = await asyncio.gather(
        txs.simulate(venue.rpc, venue.signer.address, call, errors=dict(errors or {})),
        txs.estimate_gas(venue.rpc, venue.signer.address, call),
        suggest_fees(venue.rpc, venue.fee_policy),
        venue.nonces.sync() if not venue.nonces.synced else asyncio.sleep(0),
        return_exceptions=True,
    )
    for got in (simulated, estimated, fees):
        if isinstance(got, BaseException):
            raise got
    assert isinstance(estimated, int) and isinstance(fees, Fees)
    result = simulated if isinstance(simulated, tuple) else None
    return PreparedCall(venue, call, max(PLAIN_GAS_FLOOR, estimated), fees, tuple(sent), cost, result)


@dataclass(frozen=True, slots=True)
class StagedCall:
    prepared: PreparedCall
    signed: txs.SignedTx
    events: tuple[Event, ...]


def stage_call(prepared: PreparedCall, records: Callable[[txs.SignedTx], Sequence[Event]]) -> StagedCall:
    """Memory only: the next nonce, the signature, and the nonce record + ``records(signed)`` (the intent and
    what goes with it) + the broadcast record, for the caller to commit before ``send_call``."""
    venue = prepared.venue
    nonce, nonce_record = venue.nonces.reserve_now()
    signed = txs.sign(venue.signer, venue.chain_id, nonce, prepared.call, prepared.gas, prepared.fees)
    mine = tuple(records(signed))
    intent_id = next((i for i in (getattr(e, "intent_id", None) for e in mine) if isinstance(i, str)), None)
    events = (nonce_record, *mine, TxBroadcast(venue.location, signed.tx_hash, signed.sender, nonce, intent_id))
    return StagedCall(prepared, signed, events)


def unstage_call(staged: StagedCall) -> None:
    """The records never reached the journal: give the nonce back (nothing was sent at it)."""
    staged.prepared.venue.nonces.release(staged.signed.nonce)


async def send_call(staged: StagedCall, *, timeout_s: float | None = None) -> tuple[TxState, dict[str, Any] | None]:
    """After the commit: the bytes leave and are followed to a final state; the receipt when final."""
    venue, signed = staged.prepared.venue, staged.signed
    venue.tracker.track(signed, record=False)
    with contextlib.suppress(Exception):  # Ambiguous or a node error: the tracker resolves it by hash and nonce
        await txs.broadcast(venue.rpc, signed)
    venue.crash("broadcast")
    timeout = venue.final_timeout_s if timeout_s is None else timeout_s
    states = await venue.tracker.wait_final([signed.tx_hash], timeout_s=timeout, interval_s=0.05)
    state = states[signed.tx_hash]
    if state not in (TxState.CONFIRMED, TxState.REVERTED):
        return state, None
    receipt: dict[str, Any] = await venue.rpc.request("eth_getTransactionReceipt", [signed.tx_hash])
    return state, receipt


def receipt_gas(receipt: Mapping[str, Any]) -> int:
    return hex_int(receipt["gasUsed"]) * hex_int(receipt.get("effectiveGasPrice") or receipt.get("gasPrice") or 0)


def erc20_transfer(token: str, to: str, amount: int) -> txs.ContractCall:
    f = fn("ERC20", "transfer")
    return txs.ContractCall(token, f.encode(to, amount), returns=f, what=f"transfer {amount} to {to}")


def native_transfer(to: str, amount: int) -> txs.ContractCall:
    return txs.ContractCall(to, b"", value=amount, what=f"send {amount} wei to {to}")


async def follow_sent(venue: EvmVenue, store: Store, ref: str | None) -> tuple[str, dict[str, Any] | None, TxState]:
    """Recovery of one of our transactions named by an intent's ``sender:nonce:hash``: ``("never", None, state)``
    when it provably never ran (no broadcast record and unknown to the node, or dropped / replaced);
    ``("open", None, state)`` when it is not final yet; ``("final", receipt, state)`` otherwise."""
    sender, nonce_text, tx_hash = (ref or "::").split(":")
    if store.transaction(venue.location, tx_hash) is None:
        seen = await venue.rpc.request("eth_getTransactionByHash", [tx_hash])
        if seen is None:
            return "never", None, TxState.DROPPED
    venue.tracker.adopt(tx_hash, sender, int(nonce_text))
    state = (await venue.tracker.wait_final([tx_hash], timeout_s=venue.final_timeout_s, interval_s=0.1))[tx_hash]
    if state in (TxState.DROPPED, TxState.REPLACED):
        return "never", None, state
    if state not in (TxState.CONFIRMED, TxState.REVERTED):
        return "open", None, state
    receipt: dict[str, Any] = await venue.rpc.request("eth_getTransactionReceipt", [tx_hash])
    return "final", receipt, state
