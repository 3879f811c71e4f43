"""The order state machine, pure: (order, what we observed) → (order, events to journal).

    NEW → SUBMITTED → ACCEPTED → PARTIALLY_FILLED → FILLED | CANCELED | REJECTED | EXPIRED
                  ↘ UNKNOWN ↗ (from SUBMITTED or any open state, on an ambiguous outcome)

UNKNOWN means we cannot tell (timeout, dropped connection, 5xx, rate limit at submit); it leaves only on
venue evidence — a status report, a trade, or "not found" that has outlived a grace period *and* a trade
query (recorded as a rejection whose reason says so). Fills are booked once per trade id; a fill that would
take the order past its quantity is not booked but recorded as a ``DriftDetected`` for reconciliation.
No I/O and no clock here: the driver (:mod:`fillpath.cex.order_driver`) asks the venue and passes time in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from fillpath.model.amounts import add_exact
from fillpath.model.assets import AssetId
from fillpath.model.commands import SubmitOrder
from fillpath.model.events import (
    DriftDetected,
    Event,
    FillEvent,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    OrderSubmitted,
    OrderUnknown,
    Recorded,
)
from fillpath.model.orders import OrderState
from fillpath.model.reports import FillReport, OrderStatusReport


class VenueStatus(StrEnum):
    """What a venue says of an order (``OrderStatusReport.status``), in our words."""

    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"


NOT_FOUND = "not_found"
"""Reason prefix of the rejection recorded when the venue never knew the order (or forgot it unfilled)."""


@dataclass(frozen=True, slots=True)
class TrackedOrder:
    venue: str
    client_order_id: str
    symbol: str
    base: str
    cmd: SubmitOrder
    state: OrderState = OrderState.NEW
    venue_order_id: str | None = None
    filled_qty: Decimal = Decimal(0)
    trade_ids: frozenset[str] = field(default_factory=frozenset)
    held_out: frozenset[str] = field(default_factory=frozenset)
    """Trades that would have overfilled the order: reported as drift, not booked."""
    submitted_ns: int = 0
    unknown_since_ns: int | None = None
    polls: int = 0

    @property
    def qty(self) -> Decimal:
        return self.cmd.qty


@dataclass(frozen=True, slots=True)
class Entry:
    """An event to journal and the venue time it carries (None when the venue gave none)."""

    event: Event
    venue_ts: int | None = None


@dataclass(frozen=True, slots=True)
class Step:
    order: TrackedOrder
    entries: tuple[Entry, ...] = ()


def new_order(cmd: SubmitOrder, base: str) -> TrackedOrder:
    return TrackedOrder(cmd.venue, cmd.client_order_id, cmd.symbol, base, cmd)


def submitted(o: TrackedOrder, now_ns: int) -> Step:
    if o.state is not OrderState.NEW:
        return Step(o)
    c = o.cmd
    ev = OrderSubmitted(
        c.venue, c.client_order_id, c.symbol, c.side, c.qty, c.limit_price, c.intent_id, c.time_in_force
    )
    return Step(replace(o, state=OrderState.SUBMITTED, submitted_ns=now_ns), (Entry(ev),))


def ambiguous(o: TrackedOrder, reason: str, now_ns: int) -> Step:
    if o.state.terminal or o.state is OrderState.UNKNOWN:
        return Step(o)
    ev = OrderUnknown(o.venue, o.client_order_id, reason)
    return Step(replace(o, state=OrderState.UNKNOWN, unknown_since_ns=now_ns), (Entry(ev),))


def rejected(o: TrackedOrder, reason: str, venue_ts: int | None = None) -> Step:
    if o.state.terminal:
        return Step(o)
    ev = OrderRejected(o.venue, o.client_order_id, reason)
    return Step(replace(o, state=OrderState.REJECTED, unknown_since_ns=None), (Entry(ev, venue_ts),))


def fills(o: TrackedOrder, reports: Sequence[FillReport]) -> Step:
    """Book each new trade once; hold out (as drift) any that would overfill."""
    entries: list[Entry] = []
    for f in reports:
        if f.trade_id in o.trade_ids or f.trade_id in o.held_out:
            continue
        after = add_exact(o.filled_qty, f.qty)
        if after > o.qty:
            drift = DriftDetected(
                o.venue,
                AssetId(o.base, o.venue),
                o.qty,
                after,
                f"order {o.client_order_id}: trade {f.trade_id} of {f.qty} would overfill",
            )
            o = replace(o, held_out=o.held_out | {f.trade_id})
            entries.append(Entry(drift, f.venue_ts))
            continue
        final = after == o.qty
        cls = OrderFilled if final else OrderPartiallyFilled
        ev = cls(o.venue, o.client_order_id, f.trade_id, f.qty, f.price, f.fee, f.fee_asset)
        state = o.state
        if not state.terminal:
            state = OrderState.FILLED if final else OrderState.PARTIALLY_FILLED
        o = replace(o, filled_qty=after, trade_ids=o.trade_ids | {f.trade_id}, state=state, unknown_since_ns=None)
        entries.append(Entry(ev, f.venue_ts))
    return Step(o, tuple(entries))


def observed(o: TrackedOrder, report: OrderStatusReport, trades: Sequence[FillReport] = ()) -> Step:
    """The venue's word on the order, with the trades we fetched for it."""
    entries: list[Entry] = []
    vid = report.venue_order_id
    waiting = o.state in (OrderState.NEW, OrderState.SUBMITTED, OrderState.UNKNOWN)
    if vid is not None and (waiting or o.venue_order_id is None):
        # the venue has the order: journal its id the first time we learn it (a stream fill can beat the ack)
        entries.append(Entry(OrderAccepted(o.venue, o.client_order_id, vid), report.venue_ts))
        o = replace(o, venue_order_id=vid, unknown_since_ns=None)
        if waiting:
            o = replace(o, state=OrderState.ACCEPTED)
    step = fills(o, trades)
    o, entries = step.order, entries + list(step.entries)
    end = _END.get(VenueStatus(report.status))
    if end is not None and not o.state.terminal:
        state, make = end
        entries.append(Entry(make(o), report.venue_ts))
        o = replace(o, state=state, unknown_since_ns=None)
    return Step(o, tuple(entries))


def not_found(o: TrackedOrder, trades: Sequence[FillReport], now_ns: int, grace_ns: int) -> Step:
    """The venue does not know the order. Trades prove it existed; otherwise, terminal only after the grace."""
    if trades:
        return fills(o, trades)
    if o.state.terminal:
        return Step(o)
    since = o.unknown_since_ns if o.unknown_since_ns is not None else o.submitted_ns
    if now_ns - since < grace_ns:
        if o.state is OrderState.UNKNOWN:
            return Step(o)
        return ambiguous(o, "the venue no longer finds the order", now_ns)
    reason = f"{NOT_FOUND}: unknown to the venue after {grace_ns / 1e9:g} s and a trade query found no fills"
    return rejected(o, reason)


def replay(records: Iterable[Recorded], venue: str, base_of: Callable[[str], str]) -> dict[str, TrackedOrder]:
    """Our orders at ``venue`` as the journal left them (after a restart). Orders we did not submit are
    skipped. A trade held out as drift is not remembered: it is reported again if the venue repeats it."""
    out: dict[str, TrackedOrder] = {}
    for rec in records:
        e = rec.event
        cid = getattr(e, "client_order_id", None)
        if e.venue != venue or cid is None:
            continue
        if isinstance(e, OrderSubmitted):
            cmd = SubmitOrder(e.venue, cid, e.symbol, e.side, e.qty, e.limit_price, e.intent_id, e.time_in_force)
            out[cid] = replace(new_order(cmd, base_of(e.symbol)), state=OrderState.SUBMITTED, submitted_ns=rec.recv_ns)
            continue
        o = out.get(cid)
        if o is None:
            continue
        if isinstance(e, OrderAccepted):
            if o.state in (OrderState.SUBMITTED, OrderState.UNKNOWN):
                o = replace(o, state=OrderState.ACCEPTED, unknown_since_ns=None)
            o = replace(o, venue_order_id=e.venue_order_id)
        elif isinstance(e, FillEvent):
            o = replace(
                o,
                filled_qty=add_exact(o.filled_qty, e.qty),
                trade_ids=o.trade_ids | {e.trade_id},
                unknown_since_ns=None,
            )
            if not o.state.terminal:
                o = replace(o, state=OrderState.FILLED if e.final else OrderState.PARTIALLY_FILLED)
        elif isinstance(e, OrderUnknown):
            if not o.state.terminal:
                o = replace(o, state=OrderState.UNKNOWN, unknown_since_ns=rec.recv_ns)
        elif not o.state.terminal:
            ends = {OrderCanceled: OrderState.CANCELED, OrderRejected: OrderState.REJECTED}
            o = replace(o, state=ends.get(type(e), OrderState.EXPIRED), unknown_since_ns=None)
        out[cid] = o
    return out


def _canceled(o: TrackedOrder) -> Event:
    return OrderCanceled(o.venue, o.client_order_id, "venue reports canceled")


def _rejected(o: TrackedOrder) -> Event:
    return OrderRejected(o.venue, o.client_order_id, "venue reports rejected")


def _expired(o: TrackedOrder) -> Event:
    return OrderExpired(o.venue, o.client_order_id)


_END = {
    VenueStatus.CANCELED: (OrderState.CANCELED, _canceled),
    VenueStatus.REJECTED: (OrderState.REJECTED, _rejected),
    VenueStatus.EXPIRED: (OrderState.EXPIRED, _expired),
}
