"""An exchange's orders and trades against the journal's (pure; the reconciler does the asking and booking).

Open orders, per order:

- ``ok``: the venue lists it open and we hold it open.
- ``foreign``: the venue lists an open order we never placed (a person's, another program's): recorded
  (``OrderDriftDetected``, ``recorded_state`` None); nothing is canceled, a human decides.
- ``disputed``: the venue lists it open, we hold it finished, and asked again by client id the venue still
  says open: recorded (``OrderDriftDetected`` with our state). Asking again first keeps a listing taken just
  before the order ended from passing for a dispute.
- ``resolve``: we hold it open, the venue does not list it: it filled, was canceled, or never arrived. Which,
  is for venue evidence to say: the order driver asks by client id and journals what it learns (never a guess).
- ``wait``: we hold it as submitted without a reply, too recently to judge: the request may still be on
  the wire.

Trades: every trade the venue lists for our orders (mapped by the venue's order id) that the fills projection
lacks is a missing fill, booked through the order state machine so the journal gets the venue's own trade.
A trade of an order we do not know is ``foreign``: reported, not journaled (its effect shows in balances).
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from fillpath.model.events import OrderDriftDetected
from fillpath.model.orders import OrderState
from fillpath.model.reports import FillReport, OpenOrderReport, TradeReport
from fillpath.state.records import OrderRecord

VENUE_OPEN = frozenset({"open", "partially_filled"})
"""``OrderStatusReport.status`` words (``cex.orders.VenueStatus``) of an order the venue still works."""


class OrderAction(StrEnum):
    OK = "ok"
    FOREIGN = "foreign"
    DISPUTED = "disputed"
    RESOLVE = "resolve"
    WAIT = "wait"


@dataclass(frozen=True, slots=True)
class OrderFinding:
    venue: str
    client_order_id: str
    action: OrderAction
    symbol: str | None
    recorded: OrderState | None
    """Our state for the order before the pass (None: we never placed it)."""
    listed: OpenOrderReport | None = None
    after: OrderState | None = None
    """Our state once the pass is done (for ``resolve``: what the venue's evidence made of it)."""


OrderDriftKey = tuple[str, str, str, OrderState | None]
"""(venue, client id, venue order id, our state): an order dispute recorded once per key."""


def compare_orders(
    venue: str, listed: Sequence[OpenOrderReport], ours: Mapping[str, OrderRecord], fresh: Container[str]
) -> list[OrderFinding]:
    """``ours``: this venue's orders by client id; ``fresh``: ids submitted without a reply too recently to judge.
    A listed order we hold finished comes back as ``disputed`` here, to be confirmed by asking the venue."""
    out = []
    open_ids = set()
    for o in listed:
        open_ids.add(o.client_order_id)
        rec = ours.get(o.client_order_id)
        if rec is None:
            out.append(OrderFinding(venue, o.client_order_id, OrderAction.FOREIGN, o.symbol, None, o))
        elif rec.status.terminal:
            out.append(OrderFinding(venue, o.client_order_id, OrderAction.DISPUTED, o.symbol, rec.status, o))
        else:
            out.append(OrderFinding(venue, o.client_order_id, OrderAction.OK, o.symbol, rec.status, o, rec.status))
    for cid, rec in sorted(ours.items()):
        if rec.status.terminal or cid in open_ids:
            continue
        wait = rec.status is OrderState.SUBMITTED and cid in fresh
        action = OrderAction.WAIT if wait else OrderAction.RESOLVE
        out.append(OrderFinding(venue, cid, action, rec.symbol, rec.status, None, rec.status if wait else None))
    return out


def drift_key(e: OrderDriftDetected) -> OrderDriftKey:
    return (e.venue, e.client_order_id, e.venue_order_id, e.recorded_state)


def order_events(findings: Sequence[OrderFinding], recorded: Container[OrderDriftKey]) -> list[OrderDriftDetected]:
    """A record of each foreign or (confirmed) disputed order not already recorded under the same key."""
    out = []
    for f in findings:
        if f.action not in (OrderAction.FOREIGN, OrderAction.DISPUTED) or f.listed is None:
            continue
        o = f.listed
        why = "not placed by us" if f.recorded is None else f"we hold it {f.recorded.value}"
        e = OrderDriftDetected(
            f.venue, o.client_order_id, o.venue_order_id, o.symbol, o.side, o.qty, o.price, o.filled_qty,
            f.recorded, f"{f.venue} open orders: {why}",
        )  # fmt: skip
        if drift_key(e) not in recorded:
            out.append(e)
    return out


class TradeAction(StrEnum):
    BOOKED = "booked"  # a fill we lacked, now booked through the state machine
    HELD_OUT = "held_out"  # it would overfill the order: drift recorded by the state machine, not booked
    FOREIGN = "foreign"  # a trade of an order we do not know
    UNTRACKED = "untracked"  # ours, but its submission is not in the journal window held: reported, not booked


@dataclass(frozen=True, slots=True)
class TradeFinding:
    venue: str
    trade: TradeReport
    client_order_id: str | None
    action: TradeAction


def missing_fills(
    trades: Sequence[TradeReport], cid_of: Mapping[str, str], booked: Container[tuple[str, str]]
) -> tuple[dict[str, list[FillReport]], list[TradeReport]]:
    """The listed trades our fills projection lacks, as fills per client id (``cid_of``: venue order id →
    client id, for our orders), and the trades of orders that are not ours."""
    missing: dict[str, list[FillReport]] = {}
    foreign: list[TradeReport] = []
    for t in trades:
        cid = cid_of.get(t.venue_order_id)
        if cid is None:
            foreign.append(t)
        elif (t.venue, t.trade_id) not in booked:
            missing.setdefault(cid, []).append(t.fill(cid))
    return missing, foreign
