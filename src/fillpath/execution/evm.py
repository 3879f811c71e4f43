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
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode

from fillpath.chains import transactions as txs
from fillpath.chains.abi import error_names, fn
from fillpath.chains.accounts import Signer
from fillpath.chains.executor import NATIVE, ExecPlan, ExecResult
from fillpath.chains.fees import FeePolicy, Fees, suggest_fees
from fillpath.chains.nonces import NonceAllocator
from fillpath.chains.rpc import RpcClient, hex_int
from fillpath.chains.tracker import FINAL, TxState, TxTracker
from fillpath.execution.realized import TRANSFER, leg_outputs, received
from fillpath.execution.simulate import SlotFinder
from fillpath.model.assets import AssetId
from fillpath.model.errors import Conflict, Rejected
from fillpath.model.events import BalanceAdjusted, Event, IntentCreated, IntentOutcome, IntentResolved, TxBroadcast
from fillpath.state.records import TxRecord, TxStatus
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
    finder: SlotFinder | None = None
    """Where each token keeps its allowances (for simulating a call behind an approval not yet mined)."""
    shared_account: bool = False
    """Other engines trade this account too (a shared PostgreSQL journal): an allowance on chain may be another
    engine's approval about to be spent, so every pull gets its own exact approval, never a found one."""


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


async def book_gas(venue: EvmVenue, store: Store, hashes: list[str], reason: str) -> int:
    """Wait for ``hashes`` to be final and book what their gas cost us (a transaction that moves nothing else:
    an approval, a nonce-gap filler). Raises ``Rejected`` when one does not confirm; returns the cost."""
    await venue.tracker.wait_final(hashes, timeout_s=venue.final_timeout_s, interval_s=0.05)
    outcomes = {h: venue.tracker.outcome(h) for h in hashes}  # a replaced one: its family's included member
    bad = [h for h, (s, _) in outcomes.items() if s not in (TxState.CONFIRMED, TxState.REVERTED)]
    cost = await _gas_paid(venue, [paid for h, (_, paid) in outcomes.items() if h not in bad])
    if cost:
        store.append(BalanceAdjusted(venue.location, venue.native, -cost, reason))
    failed = [h for h, (s, _) in outcomes.items() if s is not TxState.CONFIRMED]
    if failed:
        raise Rejected(f"{venue.location}: {reason}: not confirmed: {failed}", reason="approval")
    return cost


APPROVAL_GAS_FLOOR = 50_000


@dataclass(frozen=True, slots=True)
class PreparedTx:
    """One chain's executor call, ready to sign: everything that needs the node is done (cold path).

    ``approvals``: the exact approvals the call needs (where the allowance differs from the pull). They are not
    sent here: they are signed at the decision with the nonces just before the call's, in the same commit, so no
    other transaction of this account (another engine's approval of the same token) can come between an approval
    and the call that spends it. The call was simulated and estimated as if they had landed."""

    venue: EvmVenue
    plan: ExecPlan
    call: txs.ContractCall
    expected: ExecResult
    gas: int
    fees: Fees
    approvals: tuple[txs.ContractCall, ...] = ()
    approval_gas: tuple[int, ...] = ()


async def _allowance_overrides(venue: EvmVenue, plan: ExecPlan) -> tuple[list[txs.ContractCall], dict[str, Any]]:
    """The approvals the plan's pulls need, and the state override that makes a simulation see them done."""
    if venue.finder is None:
        venue.finder = SlotFinder(venue.rpc)
    owner, spender = venue.signer.address, venue.executor
    data = "0x" + fn("ERC20", "allowance").encode(owner, spender).hex()
    current = await asyncio.gather(
        *(venue.rpc.request("eth_call", [{"to": pull.token, "data": data}, "latest"]) for pull in plan.pulls)
    )
    approvals: list[txs.ContractCall] = []
    overrides: dict[str, Any] = {}
    for pull, raw in zip(plan.pulls, current, strict=True):
        if hex_int(raw) == pull.amount and not venue.shared_account:
            continue
        approvals.append(txs.approve(pull.token, spender, pull.amount))
        key = await venue.finder.key(pull.token, owner, spender)
        overrides.setdefault(pull.token, {"stateDiff": {}})["stateDiff"][key] = (
            "0x" + pull.amount.to_bytes(32, "big").hex()
        )
    return approvals, overrides


@dataclass(frozen=True, slots=True)
class ColdReads:
    """What a call's cold half reads at once: its simulated result (``None`` when it returns nothing), its gas
    estimate, the fees, and each approval's gas (floored)."""

    simulated: Any
    gas: int
    fees: Fees
    approval_gas: tuple[int, ...]


async def cold_reads(
    venue: EvmVenue,
    call: txs.ContractCall,
    approvals: Sequence[txs.ContractCall],
    overrides: dict[str, Any],
    errors: Mapping[bytes, str],
) -> ColdReads:
    """The independent reads of a call's cold half in one round trip to the node: the call simulated and estimated
    as if its ``approvals`` had landed (``overrides``), fees, the nonce allocator synced, each approval estimated.
    Raises the first failure, the simulation's before the others (it names why the call would revert)."""
    sender = venue.signer.address
    simulated, estimated, fees, synced, *approval_gas = await asyncio.gather(
        txs.simulate(venue.rpc, sender, call, errors=dict(errors), overrides=overrides or None),
        txs.estimate_gas(venue.rpc, sender, call, overrides=overrides or None),
        suggest_fees(venue.rpc, venue.fee_policy),
        venue.nonces.sync() if not venue.nonces.synced else asyncio.sleep(0),
        *(txs.estimate_gas(venue.rpc, sender, a) for a in approvals),
        return_exceptions=True,
    )
    # the nonce sync's failure too (an RPC timeout): swallowed, it left the allocator unsynced and the hot half
    # raised RuntimeError at its first nonce (chaos --chain seed 4028)
    for got in (simulated, estimated, fees, synced, *approval_gas):
        if isinstance(got, BaseException):
            raise got
    assert isinstance(estimated, int) and isinstance(fees, Fees)
    return ColdReads(simulated, estimated, fees, tuple(max(APPROVAL_GAS_FLOOR, int(g)) for g in approval_gas))


def sign_approvals(
    venue: EvmVenue, calls: Sequence[txs.ContractCall], gas: Sequence[int], fees: Fees, intent_id: str
) -> tuple[list[txs.SignedTx], list[Event]]:
    """The approvals signed at the next nonces, with each nonce's record and a broadcast record (hot half, memory
    only)."""
    events: list[Event] = []
    approvals: list[txs.SignedTx] = []
    for call, g in zip(calls, gas, strict=True):
        nonce, nonce_record = venue.nonces.reserve_now()
        approval = txs.sign(venue.signer, venue.chain_id, nonce, call, g, fees)
        approvals.append(approval)
        events += [nonce_record, TxBroadcast(venue.location, approval.tx_hash, approval.sender, nonce, intent_id)]
    return approvals, events


async def prepare(venue: EvmVenue, store: Store, plan: ExecPlan) -> PreparedTx:
    """The cold half of a chain's step: which exact approvals it needs, the call simulated as if they were done
    (``Rejected`` naming the executor's error if it would revert), gas estimated likewise, fees read, the nonce
    allocator synced. Nothing is sent."""
    execute = fn("FillpathExecutor", "execute")
    call = txs.ContractCall(
        venue.executor, plan.calldata(), value=plan.value, returns=execute, what=f"executor ({len(plan.legs)} legs)"
    )
    approvals, overrides = await _allowance_overrides(venue, plan)
    # A failed simulation is the error reported, whatever else failed: it names why (LegMinOut, TotalMinOut,
    # DeadlinePassed...).
    reads = await cold_reads(venue, call, approvals, overrides, error_names("FillpathExecutor"))
    assert reads.simulated is not None
    expected = ExecResult(tuple(int(a) for a in reads.simulated[0]), int(reads.simulated[1]))
    estimated, fees, gas_for_approvals = reads.gas, reads.fees, reads.approval_gas
    return PreparedTx(venue, plan, call, expected, max(EXECUTE_GAS_FLOOR, estimated), fees, tuple(approvals),
                      gas_for_approvals)  # fmt: skip


@dataclass(frozen=True, slots=True)
class StagedTx:
    """Signed transactions (the approvals, then the executor call, at consecutive nonces) and the records that
    must be durable before their bytes leave."""

    prepared: PreparedTx
    signed: txs.SignedTx
    intent_id: str
    events: tuple[Event, ...]
    approvals: tuple[txs.SignedTx, ...] = ()


def stage(prepared: PreparedTx, *, intent_id: str, asset_in: AssetId, amount_in: int, asset_out: AssetId) -> StagedTx:
    """The hot half, in memory: the next nonces, the signatures, and the records for the caller to commit — each
    nonce, the intent (naming the call's sender, nonce and hash) and a broadcast record per transaction, with the
    other venues' records, in one fsync."""
    venue = prepared.venue
    approvals, events = sign_approvals(venue, prepared.approvals, prepared.approval_gas, prepared.fees, intent_id)
    nonce, nonce_record = venue.nonces.reserve_now()
    signed = txs.sign(venue.signer, venue.chain_id, nonce, prepared.call, prepared.gas, prepared.fees)
    events += [
        nonce_record,
        IntentCreated(
            venue.location, intent_id, "evm.executor", f"{signed.sender}:{signed.nonce}:{signed.tx_hash}",
            asset_in, amount_in, asset_out, prepared.expected.total_out, prepared.plan.deadline * 10**9,
        ),
        TxBroadcast(venue.location, signed.tx_hash, signed.sender, signed.nonce, intent_id),
    ]  # fmt: skip
    return StagedTx(prepared, signed, intent_id, tuple(events), tuple(approvals))


def unstage(staged: StagedTx) -> None:
    """The records never reached the journal: give the nonces back (nothing was sent at them), newest first."""
    nonces = staged.prepared.venue.nonces
    nonces.release(staged.signed.nonce)
    for approval in reversed(staged.approvals):
        nonces.release(approval.nonce)


async def send_and_book(staged: StagedTx, store: Store, assets_by_address: Mapping[str, AssetId]) -> ChainOutcome:
    """After the commit: the bytes leave; the transaction is followed to a final state and the ledger booked from
    its receipt (``assets_by_address``: lower-case token address → asset), with the intent resolved."""
    prepared, signed, intent_id = staged.prepared, staged.signed, staged.intent_id
    venue, plan, expected = prepared.venue, prepared.plan, prepared.expected
    approvals = [a.tx_hash for a in staged.approvals]
    for tx in (*staged.approvals, signed):  # in nonce order: the approvals land before the call that spends them
        venue.tracker.track(tx, intent_id=intent_id, record=False)
        with contextlib.suppress(Exception):  # Ambiguous or a node error: the tracker resolves it by hash and nonce
            await txs.broadcast(venue.rpc, tx)
    venue.crash("broadcast")
    states = await venue.tracker.wait_final([*approvals, signed.tx_hash], timeout_s=venue.final_timeout_s,
                                            interval_s=0.05)  # fmt: skip
    state, included = venue.tracker.outcome(signed.tx_hash)  # replaced by a fee bump: the replacement's outcome
    if state not in (TxState.CONFIRMED, TxState.REVERTED):  # nothing booked, the approvals' gas neither: whoever
        # resolves the intent later (recovery) books it, once (``approvals_gas``)
        return ChainOutcome(venue.location, intent_id, signed.tx_hash, states[signed.tx_hash], expected.amounts_out,
                            (), 0, 0, 0, "not final: outcome unknown until the chain answers")  # fmt: skip
    receipt = await venue.rpc.request("eth_getTransactionReceipt", [included])
    gas_used = hex_int(receipt["gasUsed"])
    gas_cost = gas_used * hex_int(receipt.get("effectiveGasPrice") or receipt.get("gasPrice") or 0)
    approvals_booked, approvals_gas, _ = await approvals_gas_of(venue, store, intent_id, signed.tx_hash)
    ok = state is TxState.CONFIRMED
    realized = tuple(leg_outputs(receipt, plan.legs)) if ok else ()
    total = received(receipt, plan.token_out, plan.recipient) if ok and plan.token_out != NATIVE else 0
    if ok and plan.token_out == NATIVE:
        total = realized[-1] if realized else 0
    native_out = total if ok and plan.token_out == NATIVE else 0
    # a reverted call sent nothing: the EVM hands its value back (only its gas is spent; chaos --bridge seed 5020)
    value = plan.value if ok else 0
    events: list[Event] = [*receipt_ledger(venue, receipt, assets_by_address, value, gas_cost, native_out),
                           *approvals_booked]  # fmt: skip
    events.append(
        IntentResolved(
            venue.location,
            intent_id,
            IntentOutcome.GOOD if ok else IntentOutcome.BAD,
            None if ok else "the executor transaction reverted",
        )
    )
    store.append_many(events)
    return ChainOutcome(venue.location, intent_id, included, state, expected.amounts_out, realized, total,
                        gas_used, gas_cost + approvals_gas)  # fmt: skip


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
    """One chain's part of a plan on its own: prepare, stage, one commit (with ``journal_first()`` ahead of the
    intent), send, book. The engine runs the three halves itself so that one commit covers every venue."""
    prepared = await prepare(venue, store, plan)
    first = list(journal_first())
    for tries in range(1, 9):
        staged = stage(prepared, intent_id=intent_id, asset_in=asset_in, amount_in=amount_in, asset_out=asset_out)
        try:
            store.append_many([*first, *staged.events])
            break
        except Conflict:  # another process took the nonce: the next one
            unstage(staged)
            if tries == 8:
                raise
        except BaseException:
            unstage(staged)
            raise
    venue.crash("intent")
    return await send_and_book(staged, store, assets_by_address)


async def approvals_gas_of(
    venue: EvmVenue, store: Store, intent_id: str, call_hash: str, *, wait_s: float = 0.0
) -> tuple[list[Event], int, list[str]]:
    """The gas of the exact approvals journaled under ``intent_id`` beside its call (``call_hash``): the record to
    book in the same commit as the intent's resolution, what it comes to, and the approvals not final yet.

    The once-only rule: an approval's gas is booked with its intent's resolution and nowhere else. An intent
    resolves once, whichever path resolves it (the run that sent it, or recovery after a crash), so each mined
    approval's gas is booked exactly once — never earlier (a run whose call is not final books nothing, however
    final its approvals are: recovery would book them again), and never left out (a call dropped while its
    approval still waited behind a nonce gap: the approval mines once the gap is filled; chaos --chain seed 3002).
    ``wait_s`` > 0: wait that long for the approvals to be final first (recovery, when the call itself never ran);
    an approval without a receipt (dropped, its nonce taken by another transaction) cost nothing."""
    call = store.transaction(venue.location, call_hash)
    call_nonce = call.nonce if call is not None else None  # the call's replacements are the call, not approvals
    records = [t for t in store.transactions().values()
               if t.venue == venue.location and t.intent_id == intent_id and t.tx_hash != call_hash
               and (call_nonce is None or t.nonce != call_nonce)]  # fmt: skip
    hashes = [t.tx_hash for t in records]
    pending: list[str] = []
    if wait_s > 0 and hashes:
        raws = journaled_raw(store, venue.location, set(hashes))
        for t in records:
            adopt_record(venue.tracker, t, raws.get(t.tx_hash))
        followed = [h for h in hashes if h in venue.tracker.txs]
        states = await venue.tracker.wait_final(followed, timeout_s=wait_s, interval_s=0.1)
        pending = [h for h, s in states.items() if s not in FINAL]
    paid = await _gas_paid(venue, [h for h in hashes if h not in pending])
    events: list[Event] = [BalanceAdjusted(venue.location, venue.native, -paid, "gas: exact approval")] if paid else []
    return events, paid, pending


def adopt_family(venue: EvmVenue, store: Store, sender: str, nonce: int, intent_id: str | None) -> list[str]:
    """Follow every transaction the journal holds at ``sender``'s ``nonce`` on this chain under ``intent_id`` (an
    original and its fee-bump replacements: one of them may be the one mined), as after a restart; their hashes. A
    nonce-gap filler at that nonce (no intent) is not of the family's intent."""
    members = [t for t in store.transactions().values()
               if t.venue == venue.location and t.nonce == nonce and (t.sender or "").lower() == sender.lower()
               and t.intent_id == intent_id]  # fmt: skip
    raws = journaled_raw(store, venue.location, {t.tx_hash for t in members})
    for t in members:
        adopt_record(venue.tracker, t, raws.get(t.tx_hash))
    followed = [venue.tracker.txs[t.tx_hash] for t in members if t.tx_hash in venue.tracker.txs]
    fees = [f.signed.fees.worst_case_per_gas() for f in followed if f.signed is not None]
    for f in followed:  # a bump's cap counts from the family's first fee, not from the dearest member's
        if fees:
            f.first_fee = min(fees)
    return [t.tx_hash for t in members]


def journaled_raw(store: Store, location: str, hashes: Collection[str]) -> dict[str, bytes]:
    """The signed bytes the journal holds for ``hashes`` at ``location`` (``TxBroadcast.raw``; none before it was
    journaled): what a restarted process needs to send a dropped transaction again or to fee-bump it."""
    out: dict[str, bytes] = {}
    if not hashes:
        return out
    for rec in store.events(kind=TxBroadcast.kind, venue=location):
        e = rec.event
        if isinstance(e, TxBroadcast) and e.tx_hash in hashes and e.raw:
            out[e.tx_hash] = bytes.fromhex(e.raw.removeprefix("0x"))
    return out


def adopt_record(tracker: TxTracker, t: TxRecord, raw: bytes | None = None) -> None:
    """Follow the journal's transaction ``t`` again (after a restart), from where the journal left it: mined in a
    block (a reorg since is seen as one), or pending. With its signed bytes (``journaled_raw``) the tracker can send
    it again if the node lost it, and fee-bump it (an EIP-1559 one)."""
    if t.sender is None or t.nonce is None:
        return
    block = (t.block_number, t.block_hash) if t.status is TxStatus.MINED else None
    mined = (block[0], block[1]) if block is not None and block[0] is not None and block[1] is not None else None
    signed = txs.signed_from_raw(raw, t.sender) if raw is not None else None
    tracker.adopt(t.tx_hash, t.sender, t.nonce, raw, intent_id=t.intent_id, included=mined, signed=signed)


async def _gas_paid(venue: EvmVenue, hashes: list[str]) -> int:
    cost = 0
    for h in hashes:
        r = await venue.rpc.request("eth_getTransactionReceipt", [h])
        if r is not None:  # not mined (dropped, or its nonce taken by another): it cost nothing
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
