"""An exchange account reconciled against the simulator over real HTTP, on SQLite and PostgreSQL, in each
dialect the simulator speaks (Binance, OKX): its user stream against its REST balances, its open orders against
ours, its trades against our fills."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from connector_fixtures import FAST, LOCATION
from simkit import KEY, Sim

from fillpath.app import exchange_checks
from fillpath.cex.client_ids import client_order_id
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.order_driver import OrderDriver
from fillpath.cex.orders import NOT_FOUND, VenueStatus
from fillpath.cex.user_stream import UserStream
from fillpath.model.assets import AssetId
from fillpath.model.commands import SubmitOrder
from fillpath.model.events import (
    BalanceAdjusted,
    DriftDetected,
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderDriftDetected,
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    OrderSubmitted,
)
from fillpath.model.orders import OrderState
from fillpath.model.sides import Side
from fillpath.state.reconcile import ReconcilePolicy
from fillpath.state.reconcile_orders import VENUE_OPEN, OrderAction, TradeAction
from fillpath.state.reconcile_stream import StreamAction, StreamBalances
from fillpath.state.reconciler import PassResult, Reconciler
from fillpath.state.store import Store

SYMBOL = "ETH/USDT"
USDT = AssetId("USDT", LOCATION)
POLICY = ReconcilePolicy(order_grace_s=1.0, stream_settle_s=0.1)


@dataclass
class Rig:
    conn: CcxtConnector
    store: Store
    stream: StreamBalances | None

    def reconciler(self) -> Reconciler:
        """A reconciler as a fresh process would make it (it learns what was recorded from the journal)."""
        streams = {LOCATION: self.stream} if self.stream else {}
        return Reconciler(self.store, [self.conn], POLICY, exchanges=exchange_checks([self.conn], streams))

    async def once(self, rec: Reconciler | None = None) -> PassResult:
        (result,) = await (rec or self.reconciler()).run_once()
        return result


@pytest.fixture
async def make_rig(
    sim: Sim, make_connector: Callable[..., Awaitable[CcxtConnector]], store: Store
) -> AsyncIterator[Callable[..., Awaitable[Rig]]]:
    stop = asyncio.Event()
    tasks: list[asyncio.Future[None]] = []

    async def make(*, stream: bool = False) -> Rig:
        conn = await make_connector(pro=stream)
        balances = None
        if stream:
            balances = StreamBalances(LOCATION)
            watch = UserStream(conn.exchange, location=LOCATION, dialect=conn.dialect).watch_balances(
                stop, on_balances=balances.on_balances, on_gap=_nothing
            )
            tasks.append(asyncio.ensure_future(watch))
            await sim.user_streams(1)
        return Rig(conn, store, balances)

    yield make
    stop.set()
    for t in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(t, 5)


async def _nothing() -> None:
    return None


def kinds(events: tuple[Event, ...] | list[Event]) -> list[str]:
    return [e.kind for e in events]


async def _heard(balances: StreamBalances, updates: int) -> None:
    for _ in range(300):
        if balances.updates >= updates:
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("the stream said nothing")


async def _deposit(sim: Sim, usdt: str) -> None:
    """A balance change at the venue that is no order of ours (the stream pushes it)."""
    await sim.admin("POST", "/admin/balances", {"api_key": KEY, "balances": {"USDT": usdt}})


# --- the user stream against REST -----------------------------------------------------------------------------


async def test_stream_disagreeing_with_rest_is_drift_and_never_booked(
    sim: Sim, make_rig: Callable[..., Awaitable[Rig]], store: Store
) -> None:
    rig = await make_rig(stream=True)
    rec = rig.reconciler()
    first = await rig.once(rec)
    assert first.exchange is not None and first.exchange.stream is not None
    # nothing heard yet, nothing compared; or (OKX) the channel's opening snapshot, which agrees
    assert (first.exchange.stream == ()) == (sim.dialect == "binance")
    assert all(f.action is StreamAction.OK for f in first.exchange.stream)
    assert store.balance(USDT) == Decimal(1_000_000)

    await sim.faults(ws_rest_disagree={"window": "30", "offset": "1"})
    assert rig.stream is not None
    heard = rig.stream.updates
    await _deposit(sim, "1000100")
    await _heard(rig.stream, heard + 1)
    found = await rig.once(rec)
    assert found.exchange is not None and found.exchange.stream is not None
    (usdt,) = [f for f in found.exchange.stream if f.asset == USDT]
    assert usdt.action is StreamAction.DRIFT
    assert (usdt.rest, usdt.stream) == (Decimal(1_000_100), Decimal(1_000_101))
    drifts = [e for e in found.events if isinstance(e, DriftDetected)]
    assert {(d.source, d.expected, d.observed) for d in drifts} == {
        (f"{LOCATION} balances", Decimal(1_000_000), Decimal(1_000_100)),  # the ledger against REST
        (f"{LOCATION} stream vs rest", Decimal(1_000_100), Decimal(1_000_101)),  # the two channels
    }
    adjusted = [e for e in found.events if isinstance(e, BalanceAdjusted)]
    assert [a.delta for a in adjusted] == [Decimal(100)]  # booked from REST; the stream's extra 1 is not
    assert store.balance(USDT) == Decimal(1_000_100)

    assert (await rig.once(rec)).events == ()  # the same reports again: nothing new
    assert (await rig.once()).events == ()  # nor from a new process that reads the journal


async def test_stream_agreeing_with_rest_records_nothing(
    sim: Sim, make_rig: Callable[..., Awaitable[Rig]], store: Store
) -> None:
    rig = await make_rig(stream=True)
    await rig.once()
    assert rig.stream is not None
    heard = rig.stream.updates
    await _deposit(sim, "1000100")
    await _heard(rig.stream, heard + 1)
    found = await rig.once()
    assert found.exchange is not None and found.exchange.stream is not None
    actions = {f.asset: f.action for f in found.exchange.stream}
    assert actions[USDT] is StreamAction.OK and set(actions.values()) == {StreamAction.OK}
    if sim.dialect == "binance":  # the stream said only what changed (OKX opened with a snapshot of all)
        assert set(actions) == {USDT}
    assert all(d.source == f"{LOCATION} balances" for d in found.events if isinstance(d, DriftDetected))


# --- open orders ----------------------------------------------------------------------------------------------


async def _by_hand(conn: CcxtConnector, cid: str, qty: str, price: str | None = None) -> str | None:
    """An order placed at the venue without our journal knowing (a person's, or another program's): sent
    straight through the connector, no driver. Its venue order id."""
    cmd = SubmitOrder(LOCATION, cid, SYMBOL, Side.BUY, Decimal(qty), Decimal(price) if price else None)
    return (await conn.submit(cmd)).report.venue_order_id


def _hot_path(rig: Rig) -> OrderDriver:
    """Another driver on the same journal, as the hot path would run it."""
    return OrderDriver(rig.conn, rig.store, policy=FAST)


def _limit(intent: str, qty: str, price: str) -> SubmitOrder:
    return SubmitOrder(LOCATION, client_order_id(intent), SYMBOL, Side.BUY, Decimal(qty), Decimal(price), intent)


async def test_an_open_order_we_never_placed_is_recorded_once(
    make_rig: Callable[..., Awaitable[Rig]], store: Store
) -> None:
    rig = await make_rig()
    await rig.once()
    await _by_hand(rig.conn, "byhand1", "0.5", "1500")
    found = await rig.once()
    assert found.exchange is not None
    (f,) = found.exchange.orders
    assert (f.client_order_id, f.action, f.recorded) == ("byhand1", OrderAction.FOREIGN, None)
    (e,) = [e for e in found.events if isinstance(e, OrderDriftDetected)]
    assert (e.client_order_id, e.symbol, e.side, e.qty, e.price) == ("byhand1", SYMBOL, Side.BUY, Decimal("0.5"),
                                                                      Decimal(1500))  # fmt: skip
    assert e.recorded_state is None
    assert store.order(LOCATION, "byhand1") is None  # not adopted as ours, not canceled
    assert (await rig.once()).events == ()


async def test_an_order_we_hold_open_that_the_venue_ended_is_resolved_by_its_client_id(
    make_rig: Callable[..., Awaitable[Rig]], store: Store
) -> None:
    rig = await make_rig()
    await rig.once()
    cmd = _limit("rest-then-canceled", "0.5", "1500")
    assert (await _hot_path(rig).submit(cmd)).state is OrderState.ACCEPTED
    assert await rig.conn.cancel(SYMBOL, cmd.client_order_id) is not None  # straight through, no driver
    found = await rig.once()  # the cancel happened at the venue; nothing told our journal
    assert found.exchange is not None
    (f,) = found.exchange.orders
    assert (f.action, f.recorded, f.after) == (OrderAction.RESOLVE, OrderState.ACCEPTED, OrderState.CANCELED)
    assert [type(e) for e in found.events] == [OrderCanceled]
    assert (await rig.once()).events == ()


async def test_an_unknown_order_that_filled_gets_its_real_fill(
    sim: Sim, make_rig: Callable[..., Awaitable[Rig]], store: Store
) -> None:
    rig = await make_rig()
    await rig.once()
    await sim.faults(drop_response={"hang": "0.2"})
    cid = client_order_id("reply-lost")
    cmd = SubmitOrder(LOCATION, cid, SYMBOL, Side.BUY, Decimal("0.5"), None, "reply-lost")
    assert (await _hot_path(rig).submit(cmd)).state is OrderState.UNKNOWN
    await sim.faults()
    found = await rig.once()
    assert found.exchange is not None
    (f,) = found.exchange.orders
    assert (f.action, f.recorded, f.after) == (OrderAction.RESOLVE, OrderState.UNKNOWN, OrderState.FILLED)
    assert [type(e) for e in found.events if not isinstance(e, DriftDetected | BalanceAdjusted)] == [
        OrderAccepted,
        OrderFilled,
    ]
    venue_trades = await rig.conn.trades(SYMBOL, None)
    assert {t.trade_id for t in venue_trades} == {tid for (_, tid) in store.fills()}  # the venue's trade ids
    assert (await rig.once()).exchange.trades == ()  # type: ignore[union-attr]


async def test_an_order_submitted_without_reply_waits_then_is_rejected_as_never_arrived(
    make_rig: Callable[..., Awaitable[Rig]], store: Store
) -> None:
    rig = await make_rig()
    await rig.once()
    old, new = client_order_id("never-sent"), client_order_id("in-flight")
    # journaled as submitted, never answered: one 10 s ago, one just now (neither ever reached the venue)
    store.append(OrderSubmitted(LOCATION, old, SYMBOL, Side.BUY, Decimal("0.5")), recv_ns=time.time_ns() - 10**10)
    store.append(OrderSubmitted(LOCATION, new, SYMBOL, Side.BUY, Decimal("0.5")))
    found = await rig.once()
    assert found.exchange is not None
    actions = {f.client_order_id: (f.action, f.after) for f in found.exchange.orders}
    assert actions == {
        old: (OrderAction.RESOLVE, OrderState.REJECTED),  # unknown to the venue past the grace, no trades
        new: (OrderAction.WAIT, OrderState.SUBMITTED),  # its request may still be on the wire
    }
    (rejected,) = [e for e in found.events if isinstance(e, OrderRejected)]
    assert rejected.client_order_id == old and rejected.reason.startswith(NOT_FOUND)


async def test_an_order_we_hold_finished_but_the_venue_works_is_disputed_once(
    make_rig: Callable[..., Awaitable[Rig]], store: Store
) -> None:
    rig = await make_rig()
    await rig.once()
    cmd = _limit("wrongly-ended", "0.5", "1500")
    await _hot_path(rig).submit(cmd)
    store.append(OrderCanceled(LOCATION, cmd.client_order_id, "a record that is wrong"))
    found = await rig.once()
    assert found.exchange is not None
    (f,) = found.exchange.orders
    assert (f.action, f.recorded) == (OrderAction.DISPUTED, OrderState.CANCELED)
    (e,) = found.events
    assert isinstance(e, OrderDriftDetected) and e.recorded_state is OrderState.CANCELED
    assert (await rig.once()).events == ()


# --- trades -----------------------------------------------------------------------------------------------------


async def test_a_fill_we_missed_on_an_open_order_is_booked_under_the_venues_trade_id(
    sim: Sim, make_rig: Callable[..., Awaitable[Rig]], store: Store
) -> None:
    rig = await make_rig()
    await rig.once()
    cmd = _limit("partly-filled", "1", "2900")
    placed = await _hot_path(rig).submit(cmd)  # rests below the ask
    assert placed.state is OrderState.ACCEPTED
    # the market comes down through our bid: 0.3 fills against the book, nothing tells our journal
    await sim.admin("POST", "/admin/book", {"symbol": "ETHUSDT", "bids": [["2800", "10"]],
                                            "asks": [["2890", "0.3"], ["3100", "10"]]})  # fmt: skip
    found = await rig.once()
    assert found.exchange is not None
    assert [(f.action, f.after) for f in found.exchange.orders] == [(OrderAction.OK, OrderState.ACCEPTED)]
    (t,) = found.exchange.trades
    assert (t.client_order_id, t.action, t.trade.qty) == (cmd.client_order_id, TradeAction.BOOKED, Decimal("0.3"))
    (fill,) = [e for e in found.events if isinstance(e, OrderPartiallyFilled)]
    assert fill.trade_id == t.trade.trade_id and fill.price == Decimal(2900)
    rec = store.order(LOCATION, cmd.client_order_id)
    assert rec is not None and (rec.status, rec.filled_qty) == (OrderState.PARTIALLY_FILLED, Decimal("0.3"))
    # an unsettled order: its assets wait rather than being adjusted to the venue's figures
    assert {f.asset.symbol: f.action.value for f in found.findings if f.action.value != "ok"} == {
        "ETH": "wait",
        "USDT": "wait",
    }
    again = await rig.once()
    assert again.events == ()
    assert again.exchange is not None and again.exchange.trades == () and again.exchange.trades_listed == 1


async def test_a_trade_that_would_overfill_is_held_out_once_across_restarts(
    make_rig: Callable[..., Awaitable[Rig]], store: Store
) -> None:
    rig = await make_rig()
    await rig.once()
    cid = client_order_id("bigger-than-booked")
    placed = await _by_hand(rig.conn, cid, "0.5")
    assert placed is not None
    # our journal says 0.1 was asked for: the venue's 0.5 fill cannot be ours as booked
    store.append_many([OrderSubmitted(LOCATION, cid, SYMBOL, Side.BUY, Decimal("0.1")),
                       OrderAccepted(LOCATION, cid, placed)])  # fmt: skip
    rec = rig.reconciler()
    first = await rig.once(rec)
    overfills = [e for e in first.events if isinstance(e, DriftDetected) and "overfill" in e.source]
    assert len(overfills) == 1
    assert first.exchange is not None
    assert [t.action for t in first.exchange.trades] == [TradeAction.HELD_OUT]
    assert not any(isinstance(e, OrderFilled | OrderPartiallyFilled) for e in first.events)
    assert (await rig.once(rec)).events == ()
    assert (await rig.once()).events == ()  # a new process forgets held-out trades; the drift is not repeated


def test_the_words_for_a_working_order_are_the_state_machines() -> None:
    assert {VenueStatus.OPEN.value, VenueStatus.PARTIALLY_FILLED.value} == VENUE_OPEN
