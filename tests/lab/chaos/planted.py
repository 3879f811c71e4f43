"""Planted bugs: the engine broken on purpose, through the chaos world's test-only ``tamper`` hook (never a switch
in production code). Each is a mistake real execution engines make; the simulator must catch every one."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from eth_account.typed_transactions.typed_transaction import TypedTransaction
from hexbytes import HexBytes

from fillpath.cex.order_driver import OrderDriver
from fillpath.cex.orders import TrackedOrder
from fillpath.chains import transactions as txs
from fillpath.chains.accounts import Signer
from fillpath.chains.rpc import RpcClient
from fillpath.chains.tracker import Replacer, Tracked
from fillpath.execution.evm import EvmVenue
from fillpath.lab.chaos.chain import CHAIN
from fillpath.lab.chaos.world import LOCATION, Parts, Tamper

__all__ = [
    "Tamper",
    "chain_recovery_without_evidence",
    "intent_after_send",
    "rebroadcast_with_new_nonce",
    "reconcile_forgets_bridge_in_flight",
    "reconcile_ignores_in_flight",
    "reconcile_ignores_stream",
    "retry_without_client_id",
    "stream_fill_keyed_apart",
]
from fillpath.model.errors import Ambiguous
from fillpath.model.events import Event, IntentCreated, IntentOutcome, IntentResolved, TransferKind
from fillpath.model.orders import OrderState
from fillpath.model.reports import FillReport, OrderStatusReport
from fillpath.state.records import IntentStatus


class _RetryWithNewId(OrderDriver):
    """On an unknown outcome, "retries" the order under a fresh client order id instead of asking the venue."""

    async def _send(self, cid: str) -> TrackedOrder:
        tracked = await super()._send(cid)
        if tracked.state is OrderState.UNKNOWN and not cid.endswith("r"):
            retry = dataclasses.replace(self.orders[cid].cmd, client_order_id=cid + "r")
            await self.submit(retry)
        return tracked


def retry_without_client_id(parts: Parts) -> None:
    bad = _RetryWithNewId(parts.connector, parts.store, clock_ns=parts.driver._clock_ns)
    parts.driver = bad
    parts.wiring.drivers = {LOCATION: bad}


class _StreamKeyedApart(OrderDriver):
    """Books a trade heard on the user stream under a key of the stream's own (``<trade id>:ws``), not the venue's
    trade id that REST reports it under: one trade heard on both channels is booked twice."""

    async def on_stream(self, report: OrderStatusReport, fill: FillReport | None) -> None:
        if fill is not None:
            fill = dataclasses.replace(fill, trade_id=f"{fill.trade_id}:ws")
        await super().on_stream(report, fill)


def stream_fill_keyed_apart(parts: Parts) -> None:
    bad = _StreamKeyedApart(parts.connector, parts.store, clock_ns=parts.driver._clock_ns)
    parts.driver = bad
    parts.wiring.drivers = {LOCATION: bad}


def intent_after_send(parts: Parts) -> None:
    """Commits an order's intent (and submission) only after its request came back from the venue."""
    store, conn = parts.store, parts.connector
    held: list[tuple[list[Event], dict[str, Any]]] = []
    append_many = store.append_many
    submit = conn.submit

    def deferred(events: Iterable[Event], **kw: Any) -> list[int]:
        batch = list(events)
        if any(isinstance(e, IntentCreated) and e.action == "cex.order" for e in batch):
            held.append((batch, kw))
            return []
        return append_many(batch, **kw)

    def commit() -> None:
        while held:
            batch, kw = held.pop(0)
            append_many(batch, **kw)

    async def send_then_commit(cmd: Any) -> Any:
        try:
            reply = await submit(cmd)
        except Exception:  # a venue error; a crash (BaseException) ends the process: nothing after it runs
            commit()
            raise
        commit()
        return reply

    store.append_many = deferred  # type: ignore[method-assign]
    conn.submit = send_then_commit  # type: ignore[method-assign]


def reconcile_ignores_in_flight(parts: Parts) -> None:
    """Reconciliation that counts nothing as in flight: an order's funds mid-fill look like drift."""
    parts.reconciler._busy = lambda venue: (False, set())  # type: ignore[method-assign]


def reconcile_forgets_bridge_in_flight(parts: Parts) -> None:
    """Reconciliation that forgets a bridge transfer in flight at its target: a relay filled before the engine booked
    the landing looks like drift there (and is "adjusted", then booked again when the landing is)."""
    real, store = parts.reconciler._busy, parts.store

    def forgetful(venue: str, read_at: int | None = None) -> tuple[bool, set[Any]]:
        busy, flying = real(venue, read_at)
        bridged = {t.target for t in store.transfers().values() if t.transfer_kind is TransferKind.BRIDGE
                   and t.target is not None and t.target.location == venue}  # fmt: skip
        return busy, flying - bridged

    parts.reconciler._busy = forgetful  # type: ignore[method-assign]


def reconcile_ignores_stream(parts: Parts) -> None:
    """Reconciliation that never compares the user stream with REST: a stream that lies goes unnoticed."""
    parts.reconciler.exchanges = {
        venue: dataclasses.replace(checks, stream=None) for venue, checks in parts.reconciler.exchanges.items()
    }


def chain_recovery_without_evidence(parts: Parts) -> None:
    """Recovery that calls every open chain intent failed without asking the chain (its transaction "must have been
    lost in the crash"): a transaction that mines later moves funds the ledger never hears of."""
    store, real = parts.store, parts.recover

    async def hasty(*args: Any, **kw: Any) -> Any:
        for i in list(store.intents().values()):
            if i.venue == CHAIN and i.status is IntentStatus.OPEN:
                store.append(IntentResolved(CHAIN, i.intent_id, IntentOutcome.BAD, "assumed lost in the crash"))
        return await real(*args, **kw)

    parts.recover = hasty


class _Rebroadcast(RpcClient):
    """A send whose reply timed out is "retried" by signing the same call again at the next nonce (instead of
    re-sending the same bytes, or asking the node by hash): if the first reached the mempool, both execute."""

    def __init__(self, inner: RpcClient, signer: Signer) -> None:
        super().__init__(inner.location, ())
        self.inner, self.signer = inner, signer

    async def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        try:
            return await self.inner.request(method, params)
        except Ambiguous:
            if method != "eth_sendRawTransaction":
                raise
            tx = dict(TypedTransaction.from_bytes(HexBytes(params[0])).as_dict())
            for k in ("v", "r", "s", "yParity", "type"):
                tx.pop(k, None)
            tx["nonce"] = int(tx["nonce"]) + 1
            signed = self.signer.sign_transaction({**tx, "type": 2})
            raw = getattr(signed, "raw_transaction", None) or signed.rawTransaction  # type: ignore[union-attr]
            return await self.inner.request(method, ["0x" + bytes(raw).hex()])

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        return await self.inner.batch(calls)


def rebroadcast_with_new_nonce(parts: Parts) -> None:
    venue = parts.evm.get(CHAIN)
    if venue is not None:
        venue.rpc = _Rebroadcast(venue.rpc, venue.signer)


def replacement_at_new_nonce(parts: Parts) -> None:
    """A fee bump signed at the next free nonce instead of the original's: both the original and the "replacement"
    can be mined, and the call runs twice."""
    bumped_once: set[str] = set()  # each transaction bumped once (a bump of a bump at yet another nonce: no end)
    for venue in parts.evm.values():
        inner = venue.tracker.replacer
        if inner is None:
            continue

        async def bumped(t: Tracked, inner: Replacer = inner, venue: EvmVenue = venue) -> txs.SignedTx | None:
            if t.tx_hash in bumped_once:
                return None
            r = await inner(t)
            if r is None:
                return None
            nonce = await venue.nonces.allocate()
            bumped_once.add(t.tx_hash)
            return txs.sign(venue.signer, r.chain_id, nonce, r.call, r.gas, r.fees)

        venue.tracker.replacer = bumped
