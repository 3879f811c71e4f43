"""The projections as a pure fold over the journal: one function from (state, event) to state.

The same fold keeps the in-memory cache current on append, and rebuilds the tables from the journal, so
"rebuild gives identical state" is true by construction and checked by tests. Events may arrive in any
order (a venue's fill can beat our own ``OrderSubmitted`` into the journal); every rule below is total.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal, TypeAlias

from fillpath.model.amounts import add_exact
from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.model.errors import Conflict, InvalidInput
from fillpath.model.events import (
    BalanceAdjusted,
    Event,
    ExternalFlow,
    FillEvent,
    IntentClaimed,
    IntentCreated,
    IntentResolved,
    NonceAllocated,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderRejected,
    OrderSubmitted,
    OrderUnknown,
    Recorded,
    TxBroadcast,
    TxConfirmed,
    TxDropped,
    TxMined,
    TxReorged,
    TxReplaced,
    TxReverted,
    VenueDegraded,
    VenueHalted,
    VenueResumed,
)
from fillpath.model.orders import OrderState
from fillpath.state import transfers
from fillpath.state.records import (
    BalanceRecord,
    FillRecord,
    IntentRecord,
    IntentStatus,
    NonceRecord,
    OrderRecord,
    TransferRecord,
    TxRecord,
    TxStatus,
    VenueFlag,
)
from fillpath.state.transfers import TRANSFER_EVENT_TYPES

TableName: TypeAlias = Literal[
    "orders", "fills", "transactions", "intents", "nonces", "ledger", "venue_flags", "transfers"
]
Touched: TypeAlias = tuple[TableName, object]
"""A projection row changed by an event: (table, key in that table's dict)."""

_ORDER_END = {
    OrderCanceled: OrderState.CANCELED,
    OrderRejected: OrderState.REJECTED,
    OrderExpired: OrderState.EXPIRED,
    OrderUnknown: OrderState.UNKNOWN,
}
_TX_SETTLED = frozenset({TxStatus.CONFIRMED, TxStatus.REVERTED})


def _plus(a: Amount, b: Amount, asset: AssetId) -> Amount:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return add_exact(a, b)
    raise InvalidInput(
        "BalanceAdjusted.delta",
        f"{asset} is kept in {type(a).__name__} but the adjustment is {type(b).__name__}",
        "on-chain assets move in int base units, exchange assets in Decimal",
    )


@dataclass
class Projections:
    """Current state, keyed for O(1) reads. Values are frozen records; the dicts are replaced entry-wise."""

    orders: dict[tuple[str, str], OrderRecord] = field(default_factory=dict)
    fills: dict[tuple[str, str], FillRecord] = field(default_factory=dict)
    transactions: dict[tuple[str, str], TxRecord] = field(default_factory=dict)
    intents: dict[str, IntentRecord] = field(default_factory=dict)
    nonces: dict[tuple[str, str], NonceRecord] = field(default_factory=dict)
    ledger: dict[AssetId, BalanceRecord] = field(default_factory=dict)
    venue_flags: dict[str, VenueFlag] = field(default_factory=dict)
    last_seq: int = 0
    transfers: dict[str, TransferRecord] = field(default_factory=dict)
    """Transfers between locations by transfer (intent) id: what is in flight (``state/transfers.py``)."""
    _open_inputs: dict[AssetId, Amount] | None = field(default=None, repr=False, compare=False)

    def open_inputs(self) -> dict[AssetId, Amount]:
        """Per asset, what open intents will spend: the ledger still holds it, but it is promised (a second engine
        on the same account must not promise it again). A transfer whose source already took the funds is no longer
        a promise: the ledger was debited then (it is in flight). Cached until an intent or a transfer changes."""
        if self._open_inputs is None:
            out: dict[AssetId, Amount] = {}
            for i in self.intents.values():
                moved = self.transfers.get(i.intent_id)
                if moved is not None and moved.state not in transfers.MAYBE_TAKEN:
                    continue
                if i.status is IntentStatus.OPEN and i.asset_in is not None and i.amount_in is not None:
                    held = out.get(i.asset_in)
                    out[i.asset_in] = i.amount_in if held is None else _plus(held, i.amount_in, i.asset_in)
            self._open_inputs = out
        return self._open_inputs

    def copy(self) -> Projections:
        return Projections(
            dict(self.orders),
            dict(self.fills),
            dict(self.transactions),
            dict(self.intents),
            dict(self.nonces),
            dict(self.ledger),
            dict(self.venue_flags),
            self.last_seq,
            dict(self.transfers),
        )

    def replace_with(self, other: Projections) -> None:
        """Become ``other`` in place, so read-only views handed out earlier stay live."""
        for name in ("orders", "fills", "transactions", "intents", "nonces", "ledger", "venue_flags", "transfers"):
            mine: dict[object, object] = getattr(self, name)
            mine.clear()
            mine.update(getattr(other, name))
        self.last_seq = other.last_seq
        self._open_inputs = None

    def duplicate_of(self, event: Event) -> int | None:
        """The seq of the fill this one repeats, if ``event`` is a fill we already hold."""
        if isinstance(event, FillEvent):
            known = self.fills.get((event.venue, event.trade_id))
            if known is not None:
                return known.seq
        return None

    def check(self, event: Event) -> None:
        """Raise if ``event`` cannot be applied; call before :meth:`apply` so a refusal changes nothing."""
        if isinstance(event, BalanceAdjusted | ExternalFlow):
            held = self.ledger.get(event.asset)
            if held is not None:
                _plus(held.amount, event.delta, event.asset)
        elif isinstance(event, IntentClaimed):
            # one claim per owner: two processes that both found the owner dead cannot both take the intent over
            claimed = self.intents.get(event.intent_id)
            if claimed is None or claimed.status is not IntentStatus.OPEN or claimed.owner != event.previous:
                raise Conflict(f"intent {event.intent_id} is not open under {event.previous}: claimed already")
        elif isinstance(event, NonceAllocated):
            # Under the journal's head lock every writer sees every allocation: a nonce below the book's next one
            # was handed out already (by another process on the same account), so this writer must take a fresh one.
            booked = self.nonces.get((event.venue, event.address))
            if booked is not None and event.nonce < booked.next_nonce:
                raise Conflict(
                    f"{event.venue}: nonce {event.nonce} of {event.address} is taken (next free: {booked.next_nonce})",
                    retry_after=0,
                )

    def apply(self, rec: Recorded) -> list[Touched]:
        """Fold one journal entry in; return the rows it changed."""
        if rec.seq <= self.last_seq:
            raise ValueError(f"seq {rec.seq} applied after {self.last_seq}")
        self.last_seq = rec.seq
        e, seq = rec.event, rec.seq
        if isinstance(e, FillEvent):
            return self._fill(e, seq)
        if isinstance(e, OrderSubmitted | OrderAccepted | OrderCanceled | OrderRejected | OrderExpired | OrderUnknown):
            return self._order(e, seq)
        if isinstance(e, TxBroadcast | TxMined | TxConfirmed | TxReverted | TxReorged | TxDropped | TxReplaced):
            return self._tx(e, seq)
        if isinstance(e, IntentCreated | IntentResolved | IntentClaimed):
            return self._intent(e, seq)
        if isinstance(e, NonceAllocated):
            key = (e.venue, e.address)
            old = self.nonces.get(key)
            nxt = max(e.nonce + 1, old.next_nonce if old else 0)
            self.nonces[key] = NonceRecord(e.venue, e.address, nxt, seq)
            return [("nonces", key)]
        if isinstance(e, BalanceAdjusted | ExternalFlow):  # a flow from outside moves the ledger like an adjustment
            held = self.ledger.get(e.asset)
            amount = e.delta if held is None else _plus(held.amount, e.delta, e.asset)
            self.ledger[e.asset] = BalanceRecord(e.asset, amount, seq)
            return [("ledger", e.asset)]
        if isinstance(e, TRANSFER_EVENT_TYPES):
            self._open_inputs = None
            self.transfers[e.transfer_id] = transfers.apply(self.transfers.get(e.transfer_id), e, seq, rec.recv_ns)
            return [("transfers", e.transfer_id)]
        if isinstance(e, VenueDegraded | VenueHalted | VenueResumed):
            flag = self.venue_flags.get(e.venue) or VenueFlag(e.venue, False, False, None, 0)
            if isinstance(e, VenueDegraded):
                flag = replace(flag, degraded=True, reason=e.reason, last_seq=seq)
            elif isinstance(e, VenueHalted):
                flag = replace(flag, halted=True, reason=e.reason, last_seq=seq)
            else:
                flag = VenueFlag(e.venue, False, False, e.reason, seq)
            self.venue_flags[e.venue] = flag
            return [("venue_flags", e.venue)]
        return []  # DriftDetected, OrderDriftDetected, ClockDivergence, VenueIdentified/Checked, BalancesAccepted

    def _blank_order(self, venue: str, client_order_id: str) -> OrderRecord:
        return OrderRecord(
            venue, client_order_id, OrderState.SUBMITTED, None, None, None, None, None, Decimal(0), None, 0
        )

    def _order(
        self,
        e: OrderSubmitted | OrderAccepted | OrderCanceled | OrderRejected | OrderExpired | OrderUnknown,
        seq: int,
    ) -> list[Touched]:
        key = (e.venue, e.client_order_id)
        old = self.orders.get(key)
        o = old or self._blank_order(e.venue, e.client_order_id)
        if isinstance(e, OrderSubmitted):
            o = replace(o, symbol=e.symbol, side=e.side, qty=e.qty, limit_price=e.limit_price, intent_id=e.intent_id)
        elif isinstance(e, OrderAccepted):
            o = replace(o, venue_order_id=e.venue_order_id)
            if o.status in (OrderState.SUBMITTED, OrderState.UNKNOWN):
                o = replace(o, status=OrderState.ACCEPTED)
        elif not o.status.terminal:
            o = replace(o, status=_ORDER_END[type(e)])
        self.orders[key] = replace(o, last_seq=seq)
        return [("orders", key)]

    def _fill(self, e: FillEvent, seq: int) -> list[Touched]:
        fkey = (e.venue, e.trade_id)
        if fkey in self.fills:
            return []
        self.fills[fkey] = FillRecord(
            e.venue, e.trade_id, e.client_order_id, e.qty, e.price, e.fee, e.fee_asset, e.final, seq
        )
        okey = (e.venue, e.client_order_id)
        o = self.orders.get(okey) or self._blank_order(e.venue, e.client_order_id)
        status = o.status
        if not status.terminal:
            status = OrderState.FILLED if e.final else OrderState.PARTIALLY_FILLED
        self.orders[okey] = replace(o, filled_qty=add_exact(o.filled_qty, e.qty), status=status, last_seq=seq)
        return [("fills", fkey), ("orders", okey)]

    def _tx(
        self,
        e: TxBroadcast | TxMined | TxConfirmed | TxReverted | TxReorged | TxDropped | TxReplaced,
        seq: int,
    ) -> list[Touched]:
        key = (e.venue, e.tx_hash)
        old = self.transactions.get(key)
        t = old or TxRecord(e.venue, e.tx_hash, TxStatus.BROADCAST, None, None, None, None, None, None, None, None, 0)
        if isinstance(e, TxBroadcast):
            # a re-broadcast of the same bytes (the tracker re-sending a dropped transaction) names no intent: it
            # must not unlink the transaction from its intent (recovery would miss its gas: chaos --chain seed 2021)
            t = replace(t, sender=e.sender, nonce=e.nonce, intent_id=e.intent_id or t.intent_id)
            if t.status is TxStatus.DROPPED:
                t = replace(t, status=TxStatus.BROADCAST)
        elif isinstance(e, TxMined):
            if t.status not in _TX_SETTLED:
                t = replace(t, status=TxStatus.MINED, block_number=e.block_number, block_hash=e.block_hash)
        elif isinstance(e, TxConfirmed):
            t = replace(t, status=TxStatus.CONFIRMED, block_number=e.block_number, confirmations=e.confirmations)
        elif isinstance(e, TxReverted):
            t = replace(t, status=TxStatus.REVERTED, block_number=e.block_number, reason=e.reason)
        elif isinstance(e, TxReorged):
            t = replace(t, status=TxStatus.REORGED, block_number=None, block_hash=None, confirmations=None)
        elif isinstance(e, TxDropped):
            if t.status not in (TxStatus.MINED, *_TX_SETTLED):
                t = replace(t, status=TxStatus.DROPPED, reason=e.reason)
        else:
            t = replace(t, status=TxStatus.REPLACED, replaced_by=e.replacement_hash)
        self.transactions[key] = replace(t, last_seq=seq)
        return [("transactions", key)]

    def _intent(self, e: IntentCreated | IntentResolved | IntentClaimed, seq: int) -> list[Touched]:
        self._open_inputs = None
        old = self.intents.get(e.intent_id)
        i = old or IntentRecord(
            e.intent_id, e.venue, IntentStatus.OPEN, None, None, None, None, None, None, None, None, 0
        )
        if isinstance(e, IntentCreated):
            i = replace(
                i,
                venue=e.venue,
                action=e.action,
                ref=e.ref,
                asset_in=e.asset_in,
                amount_in=e.amount_in,
                asset_out=e.asset_out,
                min_out=e.min_out,
                deadline_ns=e.deadline_ns,
                owner=e.owner,
            )
        elif isinstance(e, IntentClaimed):
            i = replace(i, owner=e.owner)
        else:
            i = replace(i, status=IntentStatus(e.outcome.value), reason=e.reason)
        self.intents[e.intent_id] = replace(i, last_seq=seq)
        return [("intents", e.intent_id)]
