"""Every fault profile of the simulator, through the connector, the order driver and a real Store, on every
dialect the simulator speaks (Binance and OKX: each test runs once per dialect).

The invariants, checked after each: no order lost and none duplicated (the venue's own record of the order
requests it received proves it), every fill booked exactly once, unknown orders resolved within a bounded
number of polls, and the journal in local order with the venue's time beside it. Where a dialect declares a
gap (OKX has no ban), the test checks the declared behaviour.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from connector_fixtures import FAST, LOCATION, timeline
from simkit import DIALECTS, TIME_PATH, Sim

from fillpath.cex.balance_check import disagreements
from fillpath.cex.client_ids import client_order_id
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.dialect import Gap
from fillpath.cex.order_driver import OrderDriver
from fillpath.cex.orders import NOT_FOUND
from fillpath.cex.user_stream import UserStream
from fillpath.model.commands import SubmitOrder
from fillpath.model.errors import Halted, Retryable
from fillpath.model.events import (
    ClockDivergence,
    ClockProblem,
    DriftDetected,
    FillEvent,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    OrderUnknown,
    VenueHalted,
    VenueResumed,
)
from fillpath.model.orders import OrderState
from fillpath.model.reports import BalanceReport, FillReport, OrderStatusReport
from fillpath.model.sides import Side
from fillpath.state.store import Store

SYMBOL = "ETH/USDT"
ACCEPTED = {"accepted", "accepted_response_dropped", "acked_then_denied"}
DUPLICATE = {"binance": -2010, "okx": 51016}
"""The venue's code for a client order id already used."""


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def settled(drv: OrderDriver, cmd: SubmitOrder) -> OrderState:
    o = await drv.submit(cmd)
    return o.state if o.state.terminal else (await drv.settle(cmd.client_order_id)).state


def market(intent: str, qty: str = "0.5", side: Side = Side.BUY) -> SubmitOrder:
    return SubmitOrder(LOCATION, client_order_id(intent), SYMBOL, side, Decimal(qty), None, intent)


def limit(intent: str, qty: str, price: Decimal) -> SubmitOrder:
    return SubmitOrder(LOCATION, client_order_id(intent), SYMBOL, Side.BUY, Decimal(qty), price, intent)


async def check_books(sim: Sim, conn: CcxtConnector, store: Store, drv: OrderDriver) -> None:
    """No order lost or duplicated at the venue; each venue trade booked once; filled quantities agree."""
    records = [r for r in await sim.requests() if r["kind"] == "new"]
    for cid, o in drv.orders.items():
        placed = [r for r in records if r["client_order_id"] == cid and r["outcome"] in ACCEPTED]
        assert len(placed) <= 1, f"{cid} placed {len(placed)} times"
        if o.state is not OrderState.REJECTED:
            assert len(placed) == 1, f"{cid} is {o.state} but the venue never took it"
    ours = {t.trade_id for t in await conn.trades(SYMBOL, None)}
    booked = {tid for (venue, tid) in store.fills() if venue == LOCATION}
    assert booked == ours
    fill_events = Counter(r.event.trade_id for r in store.events() if isinstance(r.event, FillEvent))
    assert all(n == 1 for n in fill_events.values()), fill_events
    for cid, o in drv.orders.items():
        record = store.order(LOCATION, cid)
        assert record is not None and record.filled_qty == o.filled_qty
        assert record.status.value == o.state.value  # the projection agrees with the state machine
        venue = await conn.fetch_order(SYMBOL, cid)
        if venue is not None:
            assert venue.filled_qty == o.filled_qty, cid
    timeline(store)


def kinds(store: Store, cid: str) -> list[type]:
    return [type(r.event) for r in timeline(store, cid)]


@pytest.fixture
async def streamed(
    sim: Sim, make_connector: Callable[..., Awaitable[CcxtConnector]], store: Store
) -> AsyncIterator[tuple[CcxtConnector, OrderDriver, UserStream, list[Any]]]:
    """A ccxt.pro connector whose user stream feeds the driver (and a log of what the stream delivered)."""
    conn = await make_connector(journal=store, pro=True)
    drv = OrderDriver(conn, store, policy=FAST)
    stream = UserStream(conn.exchange, location=LOCATION, dialect=conn.dialect)
    seen: list[Any] = []

    async def on_order(report: OrderStatusReport, fill: FillReport | None) -> None:
        seen.append(fill or report)
        await drv.on_stream(report, fill)

    async def on_balances(reports: list[BalanceReport]) -> None:
        seen.append(reports)

    stop = asyncio.Event()
    task = asyncio.ensure_future(
        stream.run(SYMBOL, stop, on_order=on_order, on_balances=on_balances, on_gap=drv.catch_up)
    )
    await sim.user_streams()  # the order and balance watchers share one user-data connection
    await asyncio.sleep(0.05)
    yield conn, drv, stream, seen
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


async def test_delayed_fills(sim: Sim, connector: CcxtConnector, store: Store, driver: OrderDriver) -> None:
    await sim.faults(delayed_fills={"delay": "0.3"})
    cid = client_order_id("delayed")
    placed = await driver.submit(market("delayed"))
    assert placed.state is OrderState.ACCEPTED and placed.filled_qty == 0
    done = await driver.settle(cid)
    assert done.state is OrderState.FILLED
    assert done.polls <= FAST.max_polls
    assert kinds(store, cid) == [OrderSubmitted, OrderAccepted, OrderFilled]
    submitted, accepted, filled = timeline(store, cid)
    assert filled.venue_ts is not None
    # the venue's clock saw the delay too: from its ack, or (an acknowledgement without a time) from our send
    start = accepted.venue_ts if Gap.ACK_ONLY not in connector.dialect.gaps else submitted.recv_ns
    assert start is not None and filled.venue_ts - start >= 250_000_000
    await check_books(sim, connector, store, driver)


async def test_ack_then_deny(sim: Sim, connector: CcxtConnector, store: Store, driver: OrderDriver) -> None:
    await sim.faults(ack_then_deny={})
    price = Decimal(2900)
    cid = client_order_id("ghost")
    assert (await driver.submit(limit("ghost", "0.01", price))).state is OrderState.ACCEPTED
    done = await driver.settle(cid)
    assert done.state is OrderState.REJECTED
    assert done.polls <= FAST.max_polls
    assert kinds(store, cid) == [OrderSubmitted, OrderAccepted, OrderUnknown, OrderRejected]
    rejection = timeline(store, cid)[-1].event
    assert isinstance(rejection, OrderRejected) and rejection.reason.startswith(NOT_FOUND)
    assert [r["outcome"] for r in await sim.requests()] == ["acked_then_denied"]
    await check_books(sim, connector, store, driver)


async def test_drop_response_is_resolved_by_client_id(
    sim: Sim, make_connector: Callable[..., Awaitable[CcxtConnector]], store: Store
) -> None:
    conn = await make_connector(journal=store, timeout=300)
    drv = OrderDriver(conn, store, policy=FAST)
    await sim.faults(drop_response={"hang": "3"})
    cid = client_order_id("lost-reply")
    assert (await drv.submit(market("lost-reply", "1"))).state is OrderState.UNKNOWN
    done = await drv.resolve(cid)  # the fault stays on: only new-order replies are dropped
    assert done.state is OrderState.FILLED and done.polls <= 2
    assert kinds(store, cid)[:3] == [OrderSubmitted, OrderUnknown, OrderAccepted]
    assert kinds(store, cid)[-1] is OrderFilled
    assert [r["outcome"] for r in await sim.requests()] == ["accepted_response_dropped"]
    await check_books(sim, conn, store, drv)


async def test_resubmitting_reuses_the_client_id(
    sim: Sim, make_connector: Callable[..., Awaitable[CcxtConnector]], store: Store
) -> None:
    conn = await make_connector(journal=store, timeout=300)
    drv = OrderDriver(conn, store, policy=FAST)
    await sim.faults(drop_response={"hang": "3"})
    cid = client_order_id("resent")
    assert (await drv.submit(market("resent", "1"))).state is OrderState.UNKNOWN
    await sim.faults()
    done = await drv.resubmit(cid)  # the venue refuses the duplicate; the driver asks and finds the first
    assert done.state is OrderState.FILLED
    requests = [(r["client_order_id"], r["outcome"], r["code"]) for r in await sim.requests()]
    assert requests == [(cid, "accepted_response_dropped", None), (cid, "rejected", DUPLICATE[sim.dialect])]
    await check_books(sim, conn, store, drv)


async def test_429_at_submit_is_unknown_until_the_venue_answers(
    sim: Sim, connector: CcxtConnector, store: Store, driver: OrderDriver
) -> None:
    await sim.faults(rate_limit={"limit": "2", "retry_after": "1", "ban_after": "5", "ban": "1"})
    await connector.order_book(SYMBOL, 5)
    await connector.order_book(SYMBOL, 5)
    cid = client_order_id("throttled")
    assert (await driver.submit(market("throttled"))).state is OrderState.UNKNOWN
    with pytest.raises(TimeoutError):  # Retry-After: the whole scope waits, market data included
        await asyncio.wait_for(connector.order_book(SYMBOL, 5), 0.5)
    done = await driver.resolve(cid)
    assert done.state is OrderState.REJECTED and done.polls <= 3
    assert kinds(store, cid) == [OrderSubmitted, OrderUnknown, OrderRejected]
    assert all(r["client_order_id"] != cid for r in await sim.requests())  # the venue never took it
    await sim.faults()
    await check_books(sim, connector, store, driver)


async def test_429_on_market_data_is_retried_after_the_venues_retry_after(sim: Sim, connector: CcxtConnector) -> None:
    await sim.faults(rate_limit={"limit": "1", "retry_after": "1", "ban_after": "5", "ban": "1"})
    await connector.order_book(SYMBOL, 5)
    started = time.perf_counter()
    assert (await connector.order_book(SYMBOL, 5))["bids"]  # a read is safe to repeat
    named = Gap.NO_RETRY_AFTER not in connector.dialect.gaps
    # ...once the venue's Retry-After has passed (or, where it names none, the dialect's back-off)
    assert time.perf_counter() - started >= 0.9 * (1.0 if named else connector.dialect.default_backoff_s)
    throttled = [r for r in await sim.requests() if r.get("kind") == "new"]
    assert throttled == []  # and nothing else was sent meanwhile


async def test_429_that_persists_on_market_data_ends_retryable(sim: Sim, connector: CcxtConnector) -> None:
    await sim.faults(rate_limit={"limit": "0", "retry_after": "0.1", "ban_after": "50", "ban": "1"})
    with pytest.raises(Retryable) as caught:
        await connector.order_book(SYMBOL, 5)
    assert caught.value.retry_after == (None if Gap.NO_RETRY_AFTER in connector.dialect.gaps else 0.1)


async def test_418_ban_halts_the_venue(sim: Sim, connector: CcxtConnector, store: Store, driver: OrderDriver) -> None:
    await sim.faults(rate_limit={"limit": "2", "retry_after": "1", "ban_after": "1", "ban": "0.5"})
    statuses = []
    for _ in range(6):  # another client on our IP runs wild and gets the IP banned
        async with sim.http.get(sim.url + TIME_PATH[sim.dialect]) as resp:
            statuses.append(resp.status)
    if Gap.NO_BAN in connector.dialect.gaps:  # declared: throttled, never banned; nothing is halted
        assert set(statuses) == {200, 429}
        started = time.perf_counter()
        assert (await connector.order_book(SYMBOL, 5))["bids"]  # refused, paused for the back-off, read
        assert time.perf_counter() - started >= 0.9 * connector.dialect.default_backoff_s
        assert not any(isinstance(r.event, VenueHalted) for r in store.events())
        assert not store.venue_flag(LOCATION).halted
        await sim.faults()
        assert await settled(driver, market("after-throttle")) is OrderState.FILLED
        await check_books(sim, connector, store, driver)
        return
    assert 418 in statuses
    with pytest.raises(Halted):
        await connector.order_book(SYMBOL, 5)
    halted = [r for r in store.events() if isinstance(r.event, VenueHalted)]
    assert len(halted) == 1 and store.venue_flag(LOCATION).halted
    cid = client_order_id("during-ban")
    refused = await driver.submit(market("during-ban"))
    assert refused.state is OrderState.REJECTED  # not sent: nothing left the process
    assert all(r["client_order_id"] != cid for r in await sim.requests())
    await sim.faults()
    await asyncio.sleep(1.05)
    assert (await connector.order_book(SYMBOL, 5))["bids"]
    assert isinstance(list(store.events())[-1].event, VenueResumed)
    assert not store.venue_flag(LOCATION).halted
    await check_books(sim, connector, store, driver)


async def test_ws_rest_balance_disagreement_is_drift(
    sim: Sim, streamed: tuple[CcxtConnector, OrderDriver, UserStream, list[Any]], store: Store
) -> None:
    conn, drv, _, seen = streamed
    await sim.faults(ws_rest_disagree={"window": "30", "offset": "2.5"})
    start = len(seen)  # what the stream said before (a venue may open with a snapshot) is not compared
    assert await settled(drv, market("disagree", "1")) is OrderState.FILLED
    for _ in range(200):
        if any(isinstance(s, list) for s in seen[start:]):
            break
        await asyncio.sleep(0.01)
    streamed_balances = next(s for s in seen[start:] if isinstance(s, list))
    drifts = disagreements(await conn.balances(), streamed_balances, source="user stream vs REST")
    store.append_many(drifts)
    eth = next(d for d in drifts if d.asset.symbol == "ETH")
    assert isinstance(eth.observed, Decimal) and isinstance(eth.expected, Decimal)
    assert eth.observed - eth.expected == Decimal("2.5")
    assert any(isinstance(r.event, DriftDetected) for r in store.events())
    await check_books(sim, conn, store, drv)


async def test_streams_disconnect(
    sim: Sim, streamed: tuple[CcxtConnector, OrderDriver, UserStream, list[Any]], store: Store
) -> None:
    conn, drv, stream, _ = streamed
    await sim.faults(stream_disconnect={"interval": "0.25"}, delayed_fills={"delay": "0.2"})
    cids = []
    for i in range(5):
        cmd = market(f"gap-{i}", "0.2", Side.BUY if i % 2 else Side.SELL)
        cids.append(cmd.client_order_id)
        await drv.submit(cmd)
        await asyncio.sleep(0.12)
    for _ in range(100):  # the stream (and the catch-up polls after each gap) bring the late fills
        if all(drv.orders[c].state is OrderState.FILLED for c in cids):
            break
        await asyncio.sleep(0.02)
    assert stream.gaps >= 1
    assert (await sim.admin("GET", "/admin/streams"))["dropped"] >= 2
    for cid in cids:
        assert (await drv.settle(cid)).state is OrderState.FILLED
    await sim.faults()
    await check_books(sim, conn, store, drv)


async def test_clock_skew_is_recorded(
    sim: Sim, make_connector: Callable[..., Awaitable[CcxtConnector]], store: Store
) -> None:
    await sim.faults(clock_skew={"offset_ms": "5000"})
    conn = await make_connector(journal=store, options={"adjustForTimeDifference": True})
    drv = OrderDriver(conn, store, policy=FAST)
    cid = client_order_id("skewed")
    assert await settled(drv, market("skewed")) is OrderState.FILLED
    drift = [r.event for r in store.events() if isinstance(r.event, ClockDivergence)]
    assert len(drift) == 1 and drift[0].problem is ClockProblem.DRIFT
    assert -5_500_000_000 < drift[0].offset_ns < -4_500_000_000
    stamped = next(r for r in timeline(store, cid) if r.venue_ts is not None)  # the ack, or (OKX) the first fill
    assert stamped.venue_ts is not None and stamped.venue_ts - stamped.recv_ns > 4_000_000_000
    await check_books(sim, conn, store, drv)


async def test_clock_running_backwards_is_recorded(
    sim: Sim, connector: CcxtConnector, store: Store, driver: OrderDriver
) -> None:
    await sim.faults(clock_skew={"offset_ms": "0", "backwards": "1"})
    for i in range(3):
        assert await settled(driver, market(f"backwards-{i}", "0.1")) is OrderState.FILLED
        await asyncio.sleep(0.1)
    problems = [r.event.problem for r in store.events() if isinstance(r.event, ClockDivergence)]
    assert ClockProblem.BACKWARDS in problems
    stamps = [
        next(r.venue_ts for r in timeline(store, f"{cid}") if r.venue_ts is not None)
        for cid in (client_order_id(f"backwards-{i}") for i in range(3))
    ]  # each order's first venue time: its ack, or (OKX, whose ack carries none) its first fill
    assert stamps == sorted(stamps, reverse=True)  # seq order is ours; the venue's clock ran the other way
    await sim.faults()
    await check_books(sim, connector, store, driver)


async def test_duplicate_fill_on_the_stream_is_booked_once(
    sim: Sim, streamed: tuple[CcxtConnector, OrderDriver, UserStream, list[Any]], store: Store
) -> None:
    conn, drv, _, seen = streamed
    await sim.faults(duplicate_fill={}, delayed_fills={"delay": "0.1"})  # the fill comes by stream, not reply
    cid = client_order_id("twice")
    await drv.submit(market("twice", "0.5"))
    for _ in range(200):
        if drv.orders[cid].state is OrderState.FILLED:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # let the repeat arrive too
    stream_fills = Counter(s.trade_id for s in seen if isinstance(s, FillReport))
    assert stream_fills, "the stream delivered no trade"
    assert max(stream_fills.values()) == 2  # the repeat reached the driver, and was not booked again
    assert drv.orders[cid].state is OrderState.FILLED
    fills = [r for r in timeline(store, cid) if isinstance(r.event, FillEvent)]
    assert len(fills) == len({r.event.trade_id for r in fills})  # type: ignore[attr-defined]
    assert not any(isinstance(r.event, DriftDetected) for r in store.events())  # a repeat is not an overfill
    await check_books(sim, conn, store, drv)


async def test_mixed_faults_under_load(
    sim: Sim, make_connector: Callable[..., Awaitable[CcxtConnector]], store: Store
) -> None:
    """Many orders at once, several profiles on at random rates (seeded): the invariants still hold."""
    conn = await make_connector(journal=store, timeout=300)
    drv = OrderDriver(conn, store, policy=FAST)
    book = await conn.order_book(SYMBOL, 5)
    passive = Decimal(book["bids"][0][0]) * Decimal("0.9") // Decimal("0.01") * Decimal("0.01")
    await sim.faults(
        drop_response={"rate": "0.3", "hang": "1"},
        ack_then_deny={"rate": "0.2"},
        delayed_fills={"delay": "0.15"},
        duplicate_fill={},
    )

    async def life(i: int) -> OrderState:
        if i % 4 == 3:
            cmd = limit(f"mixed-{i}", "0.01", passive)
            o = await drv.submit(cmd)
            if o.state is OrderState.UNKNOWN:
                o = await drv.resolve(cmd.client_order_id)
            if not o.state.terminal:
                o = await drv.cancel(cmd.client_order_id)
            return (await drv.settle(cmd.client_order_id)).state
        cmd = market(f"mixed-{i}", "0.1", Side.BUY if i % 2 else Side.SELL)
        await drv.submit(cmd)
        return (await drv.settle(cmd.client_order_id)).state

    states = await asyncio.gather(*(life(i) for i in range(16)))
    assert all(s.terminal for s in states), states
    outcomes = Counter(r["outcome"] for r in await sim.requests() if r["kind"] == "new")
    assert outcomes["accepted_response_dropped"] >= 1 and outcomes["acked_then_denied"] >= 1  # faults struck
    assert Counter(states)[OrderState.FILLED] >= 6
    assert all(o.polls <= 2 * FAST.max_polls for o in drv.orders.values())
    assert not any(isinstance(r.event, DriftDetected) for r in store.events())
    await sim.faults()
    await check_books(sim, conn, store, drv)


async def test_a_crash_before_the_reply_is_recovered_from_the_journal(
    sim: Sim, make_connector: Callable[..., Awaitable[CcxtConnector]], store: Store
) -> None:
    """The process dies after journaling the submission, before any reply: a new driver adopts the order
    from the journal, finds it by client id, books its fills — and the venue holds exactly one order."""
    await sim.faults(drop_response={"hang": "3"})
    first = OrderDriver(await make_connector(journal=store), store, policy=FAST)
    cid = client_order_id("crashed")
    sending = asyncio.ensure_future(first.submit(market("crashed", "1")))
    for _ in range(200):
        if any(r["client_order_id"] == cid for r in await sim.requests()):
            break
        await asyncio.sleep(0.01)
    sending.cancel()  # the crash: nothing after OrderSubmitted reached the journal
    with contextlib.suppress(asyncio.CancelledError):
        await sending
    assert kinds(store, cid) == [OrderSubmitted]
    await sim.faults()

    conn = await make_connector(journal=store)
    second = OrderDriver(conn, store, policy=FAST)
    recovered = await second.recover(store.events())
    assert [(o.client_order_id, o.state) for o in recovered] == [(cid, OrderState.FILLED)]
    assert kinds(store, cid) == [OrderSubmitted, OrderUnknown, OrderAccepted, OrderFilled]
    assert second.adopt(store.events()) == []  # nothing left open; adopting again changes nothing
    await check_books(sim, conn, store, second)
