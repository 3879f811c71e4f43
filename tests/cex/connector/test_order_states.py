"""The pure state machine: transitions, their events, and the rules for unknown, duplicates and overfills."""

from __future__ import annotations

from decimal import Decimal

from fillpath.cex import orders
from fillpath.cex.orders import NOT_FOUND, VenueStatus
from fillpath.model.commands import SubmitOrder
from fillpath.model.events import (
    DriftDetected,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    OrderSubmitted,
    OrderUnknown,
)
from fillpath.model.orders import OrderState
from fillpath.model.reports import FillReport, OrderStatusReport
from fillpath.model.sides import Side

V = "binance"


def fresh(qty: str = "1") -> orders.TrackedOrder:
    cmd = SubmitOrder(V, "fp0-x", "ETH/USDT", Side.BUY, Decimal(qty), Decimal("3000"))
    return orders.submitted(orders.new_order(cmd, "ETH"), now_ns=1_000).order


def status(s: VenueStatus, filled: str = "0", oid: str | None = "7") -> OrderStatusReport:
    return OrderStatusReport(V, "fp0-x", oid, s, Decimal(filled), 5_000_000)


def fill(tid: str, qty: str) -> FillReport:
    return FillReport(V, "fp0-x", tid, Decimal(qty), Decimal("3000"), venue_ts=6_000_000)


def kinds(step: orders.Step) -> list[type]:
    return [type(e.event) for e in step.entries]


def test_submit_then_accept_then_fill_in_parts() -> None:
    step = orders.submitted(orders.new_order(fresh().cmd, "ETH"), now_ns=1)
    assert kinds(step) == [OrderSubmitted] and step.order.state is OrderState.SUBMITTED
    step = orders.observed(step.order, status(VenueStatus.OPEN))
    assert kinds(step) == [OrderAccepted] and step.entries[0].venue_ts == 5_000_000
    step = orders.fills(step.order, [fill("1", "0.4")])
    assert kinds(step) == [OrderPartiallyFilled] and step.order.state is OrderState.PARTIALLY_FILLED
    step = orders.fills(step.order, [fill("1", "0.4"), fill("2", "0.6")])  # trade 1 again: once only
    assert kinds(step) == [OrderFilled] and step.order.state is OrderState.FILLED
    assert step.order.filled_qty == Decimal(1)
    assert step.entries[0].venue_ts == 6_000_000


def test_overfill_is_drift_not_a_fill() -> None:
    o = orders.fills(fresh("1"), [fill("1", "0.8")]).order
    step = orders.fills(o, [fill("2", "0.5")])
    assert kinds(step) == [DriftDetected]
    drift = step.entries[0].event
    assert isinstance(drift, DriftDetected) and (drift.expected, drift.observed) == (Decimal(1), Decimal("1.3"))
    assert step.order.filled_qty == Decimal("0.8")
    assert kinds(orders.fills(step.order, [fill("2", "0.5")])) == []  # reported once


def test_ambiguous_goes_unknown_once_and_leaves_on_evidence() -> None:
    step = orders.ambiguous(fresh(), "timeout", now_ns=10)
    assert kinds(step) == [OrderUnknown] and step.order.state is OrderState.UNKNOWN
    assert kinds(orders.ambiguous(step.order, "again", now_ns=11)) == []
    back = orders.observed(step.order, status(VenueStatus.FILLED, "1"), [fill("9", "1")])
    assert kinds(back) == [OrderAccepted, OrderFilled] and back.order.state is OrderState.FILLED


def test_not_found_is_terminal_only_after_the_grace() -> None:
    o = orders.ambiguous(fresh(), "timeout", now_ns=10).order
    assert kinds(orders.not_found(o, [], now_ns=10 + 99, grace_ns=100)) == []
    late = orders.not_found(o, [], now_ns=10 + 100, grace_ns=100)
    assert kinds(late) == [OrderRejected] and late.order.state is OrderState.REJECTED
    event = late.entries[0].event
    assert isinstance(event, OrderRejected) and event.reason.startswith(NOT_FOUND)


def test_not_found_with_trades_books_them() -> None:
    o = orders.ambiguous(fresh(), "timeout", now_ns=10).order
    step = orders.not_found(o, [fill("3", "1")], now_ns=10**12, grace_ns=100)
    assert kinds(step) == [OrderFilled] and step.order.state is OrderState.FILLED


def test_an_acked_order_the_venue_forgets_goes_unknown_first() -> None:
    o = orders.observed(fresh(), status(VenueStatus.OPEN)).order
    step = orders.not_found(o, [], now_ns=2_000, grace_ns=10**9)
    assert kinds(step) == [OrderUnknown] and step.order.unknown_since_ns == 2_000


def test_cancel_after_partial_fill_books_the_fill_first() -> None:
    o = orders.observed(fresh(), status(VenueStatus.OPEN)).order
    step = orders.observed(o, status(VenueStatus.CANCELED, "0.25"), [fill("4", "0.25")])
    assert kinds(step) == [OrderPartiallyFilled, OrderCanceled]
    assert step.order.state is OrderState.CANCELED
    assert kinds(orders.fills(step.order, [fill("5", "0.1")])) == [OrderPartiallyFilled]  # late trade still booked
    assert orders.fills(step.order, [fill("5", "0.1")]).order.state is OrderState.CANCELED


def test_terminal_states_do_not_move() -> None:
    o = orders.rejected(fresh(), "no").order
    assert kinds(orders.ambiguous(o, "timeout", 5)) == []
    assert kinds(orders.rejected(o, "again")) == []
    assert kinds(orders.observed(o, status(VenueStatus.CANCELED, oid=None))) == []
    # a venue id learned late is journaled (it is news: the venue knows an order we had written off),
    # but the state stays where the first terminal event put it
    late = orders.observed(o, status(VenueStatus.CANCELED))
    assert kinds(late) == [OrderAccepted] and late.order.state is OrderState.REJECTED


def test_replay_rebuilds_what_the_transitions_built() -> None:
    from fillpath.model.events import Recorded

    steps = [orders.submitted(orders.new_order(fresh().cmd, "ETH"), now_ns=1)]
    steps.append(orders.ambiguous(steps[-1].order, "timeout", 2))
    steps.append(orders.observed(steps[-1].order, status(VenueStatus.PARTIALLY_FILLED, "0.4"), [fill("1", "0.4")]))
    entries = [e for s in steps for e in s.entries]
    records = [Recorded(i + 1, 10 + i, e.venue_ts, e.event) for i, e in enumerate(entries)]
    rebuilt = orders.replay(records, V, lambda symbol: "ETH")["fp0-x"]
    live = steps[-1].order
    assert (rebuilt.state, rebuilt.filled_qty, rebuilt.trade_ids, rebuilt.venue_order_id) == (
        live.state, live.filled_qty, live.trade_ids, live.venue_order_id,
    )  # fmt: skip
    assert orders.replay(records, "elsewhere", lambda symbol: "ETH") == {}


def test_a_stream_fill_can_beat_the_ack() -> None:
    o = orders.fills(fresh(), [fill("1", "0.4")]).order
    assert o.state is OrderState.PARTIALLY_FILLED
    step = orders.observed(o, status(VenueStatus.PARTIALLY_FILLED, "0.4"))
    assert kinds(step) == [OrderAccepted]  # the venue's id is journaled once we learn it
    assert step.order.state is OrderState.PARTIALLY_FILLED and step.order.venue_order_id == "7"
    assert kinds(orders.observed(step.order, status(VenueStatus.PARTIALLY_FILLED, "0.4"))) == []
