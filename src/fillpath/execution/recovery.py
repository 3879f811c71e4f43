"""Resolve every unresolved intent by asking the venue — before any trading command, and as ``fillpath recover``.

The journal's order of records makes each crash point answerable:

- an exchange intent with no ``order.submitted`` after it was never sent (the driver journals the submission
  synchronously before the request leaves) → bad, nothing to ask;
- an order submitted without a reply is UNKNOWN: asked by its client id until the venue settles it (the venue
  refuses a second order under the same id, so nothing is sent twice) → its fills are booked, the intent resolved;
- a chain intent carries the signed transaction's sender, nonce and hash: with a ``tx.broadcast`` record the
  tracker follows the hash and the nonce to a final state; without one the bytes never left (the tracker
  journals before sending), which the node confirms by hash, and the allocated nonce is filled by a zero-value
  self-transfer so later transactions are not stuck behind a gap.

An intent whose venue cannot answer yet stays open (unknown), never guessed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from fillpath.cex.order_driver import OrderDriver
from fillpath.chains import transactions as txs
from fillpath.chains.fees import suggest_fees
from fillpath.chains.rpc import hex_int
from fillpath.chains.tracker import Tracked, TxState, TxTracker
from fillpath.execution.evm import (
    EvmVenue,
    adopt_family,
    adopt_record,
    approvals_gas_of,
    book_gas,
    journaled_raw,
    receipt_ledger,
)
from fillpath.execution.exchange_leg import fills_ledger, order_fills
from fillpath.execution.realized import native_unwrapped
from fillpath.model.assets import AssetId
from fillpath.model.errors import Conflict, Rejected, Retryable
from fillpath.model.events import BalanceAdjusted, Event, IntentClaimed, IntentOutcome, IntentResolved
from fillpath.model.orders import OrderState
from fillpath.state.records import IntentRecord, IntentStatus, TxRecord, TxStatus
from fillpath.state.store import Store


@dataclass(frozen=True, slots=True)
class Resolution:
    intent_id: str
    venue: str
    action: str
    outcome: str
    """good / bad / unknown (still open)."""
    detail: str


class TransferResolver(Protocol):
    """A transfer runner as recovery uses it: settles one of its open intents from venue evidence."""

    kind: str
    location: str

    async def resolve(self, intent: IntentRecord, wait_s: float) -> Resolution: ...


async def recover(
    store: Store,
    evm: Mapping[str, EvmVenue],
    drivers: Mapping[str, OrderDriver],
    assets_by_address: Mapping[str, Mapping[str, AssetId]],
    movers: Sequence[TransferResolver] = (),
    *,
    transfer_wait_s: float = 20.0,
) -> list[Resolution]:
    """``assets_by_address``: per chain, lower-case token address → asset (for booking transfers). ``movers``:
    the bridge and exchange-transfer runners, which settle open transfer intents (a deposit by hash, then its fill
    or refund; a withdrawal by its client id, then its transaction); one still in flight after ``transfer_wait_s``
    stays open.

    Only intents this process owns, or takes over from a dead owner, are resolved: on a journal several engines
    share, another live engine's intent is in flight, not lost (``claimable``)."""
    store.refresh()
    if not store.shared:  # on a shared journal an intent-less transaction may be a live engine's filler
        for chain_venue in evm.values():
            await book_late_fillers(store, chain_venue)
    by_key = {(m.kind, m.location): m for m in movers}
    open_intents = [i for i in store.intents().values() if i.status is IntentStatus.OPEN]
    out: list[Resolution] = []
    adopted: set[str] = set()
    for intent in sorted(open_intents, key=lambda i: i.last_seq):
        if not claim(store, intent):
            continue
        if intent.action == "cex.order":
            driver = drivers.get(intent.venue)
            if driver is None:
                out.append(_open(intent, "no connection to this venue configured"))
                continue
            if intent.venue not in adopted:
                await driver.recover(store.events())
                adopted.add(intent.venue)
            out.append(await _order(store, driver, intent))
        elif intent.action == "evm.executor":
            venue = evm.get(intent.venue)
            if venue is None:
                out.append(_open(intent, "no signer for this chain configured"))
                continue
            out.append(await _transaction(store, venue, intent, assets_by_address.get(intent.venue, {})))
        elif (intent.action or "", intent.venue) in by_key:
            out.append(await by_key[(intent.action or "", intent.venue)].resolve(intent, transfer_wait_s))
        else:
            out.append(_open(intent, f"unknown action {intent.action!r}"))
    if not store.shared:  # and the fillers this pass sent or saw become final while it waited on the intents
        for chain_venue in evm.values():
            await book_late_fillers(store, chain_venue)
            await settle_unfinished(store, chain_venue)
    return out


async def settle_unfinished(store: Store, venue: EvmVenue, wait_s: float = 1.0) -> None:
    """Follow every transaction the journal still holds unfinished on this chain for a moment, so one whose nonce a
    filler or a fee bump took is journaled replaced or dropped (chaos --chain seeds 6015, 6124: an exact approval
    stuck, then replaced in the mempool by recovery's gap filler, stayed ``broadcast`` in the journal for good: nothing
    followed it once its intent was resolved). Moves nothing: the intents' bookings are done."""
    unfinished = adopt_unfinished(venue.tracker, store.transactions().values(), store)
    if unfinished:
        with contextlib.suppress(Retryable):
            await venue.tracker.wait_final([t.tx_hash for t in unfinished], timeout_s=wait_s, interval_s=0.05)


def claim(store: Store, intent: IntentRecord) -> bool:
    """Whether this process may resolve ``intent``: it owns it, or its owner is gone and this process's claim
    is the one the journal admitted (two recoverers may both find the owner dead; one claim wins)."""
    if intent.owner is not None and intent.owner == store.owner:
        return True
    if store.owner_alive(intent.owner):
        return False
    if store.owner is None:  # not a trading store (tools, tests): it resolves what no live process owns
        return True
    try:
        store.append(IntentClaimed(intent.venue, intent.intent_id, store.owner, intent.owner))
    except Conflict:
        return False
    return True


def _open(intent: IntentRecord, why: str) -> Resolution:
    return Resolution(intent.intent_id, intent.venue, intent.action or "?", "unknown", why)


open_resolution = _open
"""An intent left open (its venue could not settle it yet)."""


def _resolve(store: Store, intent: IntentRecord, good: bool, why: str | None, booked: list[Event]) -> Resolution:
    outcome = IntentOutcome.GOOD if good else IntentOutcome.BAD
    store.append_many([*booked, IntentResolved(intent.venue, intent.intent_id, outcome, why)])
    return Resolution(intent.intent_id, intent.venue, intent.action or "?", str(outcome), why or "done")


async def _order(store: Store, driver: OrderDriver, intent: IntentRecord) -> Resolution:
    cid = intent.ref or intent.intent_id
    record = store.order(intent.venue, cid)
    if record is None:
        return _resolve(store, intent, False, "never sent: no submission was journaled before the crash", [])
    tracked = driver.orders.get(cid)
    if tracked is not None and not tracked.state.terminal:
        tracked = await driver.settle(cid)
    state = tracked.state if tracked is not None else record.status
    if not state.terminal:
        return _open(intent, f"order {cid} is still {state} at the venue")
    market = driver.venue.market(record.symbol or "")
    fills = order_fills(store, intent.venue, cid, tracked.trade_ids if tracked is not None else None)
    side = tracked.cmd.side if tracked is not None else record.side
    assert side is not None
    booked: list[Event] = list(fills_ledger(side, market.base_asset, market.quote_asset, fills))
    why = None if fills else f"{state} without a fill"
    return _resolve(store, intent, bool(fills) and state is not OrderState.REJECTED, why, booked)


async def _transaction(
    store: Store, venue: EvmVenue, intent: IntentRecord, assets: Mapping[str, AssetId]
) -> Resolution:
    sender, nonce_text, tx_hash = (intent.ref or "::").split(":")
    nonce = int(nonce_text)
    if store.transaction(venue.location, tx_hash) is None:
        seen = await venue.rpc.request("eth_getTransactionByHash", [tx_hash])
        if seen is None:
            detail = "never sent: the crash came before the broadcast" + await _fill_gaps(
                store, venue, intent.intent_id
            )
            return _resolve(store, intent, False, detail, [])
    adopted = adopt_family(venue, store, sender, nonce, intent.intent_id)  # where the journal left them
    venue.tracker.adopt(tx_hash, sender, nonce, intent_id=intent.intent_id)  # known only to the node: pending
    family = [tx_hash, *(h for h in adopted if h != tx_hash)]  # and its fee bumps
    await venue.tracker.wait_final(family, timeout_s=venue.final_timeout_s, interval_s=0.1)
    state, included = venue.tracker.outcome(tx_hash)
    if state is TxState.PENDING:  # waiting behind a nonce nothing will ever fill (its transaction dropped)?
        filled = await _fill_gaps(store, venue, intent.intent_id)
        if filled:
            await venue.tracker.wait_final(family, timeout_s=venue.final_timeout_s, interval_s=0.1)
            state, included = venue.tracker.outcome(tx_hash)
    if state not in (TxState.CONFIRMED, TxState.REVERTED):
        if state in (TxState.DROPPED, TxState.REPLACED):
            gaps = await _fill_gaps(store, venue, intent.intent_id)
            # its approvals may still mine (queued behind the gap just filled): their gas is booked with this
            # resolution or the intent stays open until they are final (chaos --chain seed 3002)
            approvals, _, pending = await approvals_gas_of(venue, store, intent.intent_id, tx_hash,
                                                           wait_s=venue.final_timeout_s)  # fmt: skip
            if pending:
                return _open(intent, f"transaction {state}; its approvals {pending} are not final yet")
            return _resolve(store, intent, False, f"transaction {state}" + gaps, approvals)
        return _open(intent, f"transaction {tx_hash} is {state}")
    receipt = await venue.rpc.request("eth_getTransactionReceipt", [included])
    tx = await venue.rpc.request("eth_getTransactionByHash", [included])
    gas = hex_int(receipt["gasUsed"]) * hex_int(receipt.get("effectiveGasPrice") or 0)
    ok = state is TxState.CONFIRMED
    # a reverted call's value never left (the EVM hands it back): only its gas is booked (chaos --bridge seed 5020).
    # ETH a call whose output is ETH paid us moves by an internal call and leaves no log: it is what the executor
    # unwrapped (the run books it from the plan; recovery has no plan: chaos --chain seeds 6063, 6120)
    native_out = native_unwrapped(receipt, str(tx["to"])) if ok and intent.asset_out == venue.native else 0
    booked = receipt_ledger(venue, receipt, assets, hex_int(tx["value"]) if ok else 0, gas, native_out)
    booked += (await approvals_gas_of(venue, store, intent.intent_id, tx_hash))[0]  # final: they came before it
    return _resolve(store, intent, ok, None if ok else "the executor transaction reverted", booked)


async def _fill_gaps(store: Store, venue: EvmVenue, intent_id: str | None = None) -> str:
    """Fill allocated-but-unsent nonces with zero-value self-transfers, and book their gas.

    On a journal several engines share, a nonce booked but not yet on the chain may be another live engine's,
    a moment from its broadcast: only the dead intent's own nonces (its approvals and call) are filled then."""
    if store.shared and intent_id is not None:
        mine = sorted(t.nonce for t in store.transactions().values()
                      if t.venue == venue.location and t.intent_id == intent_id and t.nonce is not None)  # fmt: skip
        pending = hex_int(await venue.rpc.request("eth_getTransactionCount", [venue.signer.address, "pending"]))
        gaps = [n for n in mine if n >= pending]
    else:
        gaps = await venue.nonces.gaps()
    # a nonce above the gap whose transaction the node still holds (queued behind the gap) is no gap: a no-op there
    # would be refused as an underpriced replacement (recovery stuck on it for good) or replace a live transaction
    filled = [(n, await _noop(venue, n)) for n in await _unsent(store, venue, gaps)]
    if not filled:
        return ""
    failed = []
    for _, h in filled:  # one booking each, naming its filler: a later pass knows which are booked
        try:
            await book_gas(venue, store, [h], f"{FILLER_GAS}: {h}")
        except Rejected:
            failed.append(h)
    if failed:  # booked by a later pass once final (``book_late_fillers``)
        raise Rejected(f"{venue.location}: {FILLER_GAS}: not confirmed: {failed}", reason="approval")
    return f"; nonce gap {[n for n, _ in filled]} filled by a self-transfer"


FILLER_GAS = "gas: nonce gap filled after a crash"
LATE_FILLER_WAIT_S = 1.0


async def book_late_fillers(store: Store, venue: EvmVenue) -> int:
    """The gas of nonce-gap fillers an earlier pass sent that were not final when it stopped waiting (dropped and
    re-sent, stuck): booked once they are final, each once (its booking names its hash). Found by ``fillpath chaos
    --bridge`` (seeds 5016, 5020): such a filler confirmed after the pass gave up, the next pass found its nonce
    taken and sent none, and its gas was never booked. A filler recorded before a booking that named no hash (a
    journal from before this) counts as booked. Returns what was booked (wei)."""
    me = venue.signer.address.lower()
    named: set[str] = set()
    legacy = 0
    txs_here = {t.tx_hash: t for t in store.transactions().values() if t.venue == venue.location}
    for r in store.events(kind=BalanceAdjusted.kind, venue=venue.location):
        e = r.event
        if isinstance(e, BalanceAdjusted) and e.reason.startswith(FILLER_GAS):
            if e.reason == FILLER_GAS:
                legacy = r.seq
            else:
                named.add(e.reason.removeprefix(f"{FILLER_GAS}: "))
    # a filler booked under its hash covers its fee-bump replacements (one of the family is mined: its gas was booked)
    named_nonces = {txs_here[h].nonce for h in named if h in txs_here}
    late = sorted(t.tx_hash for t in txs_here.values()
                  if t.intent_id is None and (t.sender or "").lower() == me
                  and t.tx_hash not in named and t.nonce not in named_nonces and t.last_seq > legacy
                  and t.status not in (TxStatus.DROPPED, TxStatus.REPLACED))  # fmt: skip
    if not late:
        return 0
    states = await venue.tracker.wait_final(late, timeout_s=LATE_FILLER_WAIT_S, interval_s=0.05)
    total = 0
    for h in late:
        if states.get(h) in (TxState.CONFIRMED, TxState.REVERTED):
            receipt = await venue.rpc.request("eth_getTransactionReceipt", [venue.tracker.outcome(h)[1]])
            cost = hex_int(receipt["gasUsed"]) * hex_int(receipt.get("effectiveGasPrice") or 0) if receipt else 0
            if cost:
                store.append(BalanceAdjusted(venue.location, venue.native, -cost, f"{FILLER_GAS}: {h}"))
                total += cost
    return total


fill_gaps = _fill_gaps
"""Fill the nonce gaps a crash left (a transfer runner's recovery uses it too)."""


async def _unsent(store: Store, venue: EvmVenue, nonces: list[int]) -> list[int]:
    """The ``nonces`` no transaction of ours known to the node holds (by the journal's hashes at each)."""
    me = venue.signer.address.lower()
    hashes: dict[int, list[str]] = {}
    for t in store.transactions().values():
        if t.venue == venue.location and t.nonce in nonces and (t.sender or "").lower() == me:
            hashes.setdefault(t.nonce, []).append(t.tx_hash)
    out = []
    for n in nonces:
        held = [h for h in hashes.get(n, []) if await venue.rpc.request("eth_getTransactionByHash", [h]) is not None]
        if not held:
            out.append(n)
    return out


async def _noop(venue: EvmVenue, nonce: int) -> str:
    """A zero-value self-transfer at ``nonce`` (tracked, journaled before it leaves)."""
    call = txs.cancel(venue.signer.address)
    fees = await suggest_fees(venue.rpc, venue.fee_policy)
    signed = txs.sign(venue.signer, venue.chain_id, nonce, call, 21_000, fees)
    venue.tracker.track(signed)
    await txs.broadcast(venue.rpc, signed)
    return signed.tx_hash


UNFINISHED_TX = frozenset({TxStatus.BROADCAST, TxStatus.MINED, TxStatus.REORGED})


def adopt_unfinished(tracker: TxTracker, records: Iterable[TxRecord], store: Store | None = None) -> list[Tracked]:
    """Every transaction the journal holds as unfinished at the tracker's location, followed again after a restart.

    Transactions are journaled (``TxBroadcast``) before their bytes leave the process, so a crash leaves a hash and
    a nonce to resolve: by hash (mempool, receipt), or by the nonce another transaction used. Nothing is sent twice.
    """
    adopted = []
    todo = [rec for rec in records if rec.venue == tracker.location and rec.status in UNFINISHED_TX
            and rec.sender is not None and rec.nonce is not None]  # fmt: skip
    raws = journaled_raw(store, tracker.location, {r.tx_hash for r in todo}) if store is not None else {}
    for rec in todo:
        adopt_record(tracker, rec, raws.get(rec.tx_hash))
        adopted.append(tracker.txs[rec.tx_hash])
    return adopted
