"""The driver against a scripted venue: what counts as evidence, and what does not."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from fillpath.cex.connector import SubmitReply
from fillpath.cex.markets import Market
from fillpath.cex.order_driver import OrderDriver, ResolvePolicy
from fillpath.cex.orders import NOT_FOUND, VenueStatus
from fillpath.model.commands import SubmitOrder
from fillpath.model.errors import Ambiguous, InvalidInput, Retryable
from fillpath.model.events import (
    DriftDetected,
    Event,
    IntentCreated,
    OrderAccepted,
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    OrderSubmitted,
    OrderUnknown,
)
from fillpath.model.orders import OrderState
from fillpath.model.reports import FillReport, OrderStatusReport
from fillpath.model.sides import Side
from fillpath.state.store import Store

V = "binance"
CID = "fp0-scripted"
POLICY = ResolvePolicy(grace_s=0.1, first_delay_s=0.01, backoff=2.0, max_delay_s=0.05, max_polls=6)


class ScriptedVenue:
    """Answers as the test says; records what it was asked."""

    location = V

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.submit_error: Exception | None = Ambiguous("timeout")
        self.order: OrderStatusReport | Exception | None = None
        self.trades: list[FillReport] = []

    def market(self, symbol: str) -> Market:
        one = Decimal(1)
        return Market(V, "ETH/USDT", "ETHUSDT", "ETH", "USDT", Decimal("0.01"), Decimal("0.001"),
                      Decimal("0.001"), None, one, None, None)  # fmt: skip

    async def submit(self, cmd: SubmitOrder) -> SubmitReply:
        self.calls.append("submit")
        if self.submit_error is not None:
            raise self.submit_error
        return SubmitReply(OrderStatusReport(V, cmd.client_order_id, "1", VenueStatus.OPEN, Decimal(0)), ())

    async def fetch_order(self, symbol: str, client_order_id: str) -> OrderStatusReport | None:
        self.calls.append("order")
        if isinstance(self.order, Exception):
            raise self.order
        return self.order

    async def fetch_fills(
        self, symbol: str, client_order_id: str, venue_order_id: str | None = None, since_ms: int | None = None
    ) -> list[FillReport]:
        self.calls.append("trades")
        return list(self.trades)

    async def cancel(self, symbol: str, client_order_id: str) -> OrderStatusReport | None:
        self.calls.append("cancel")
        return None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path}/d.db") as s:
        yield s


def order_cmd(qty: str = "1") -> SubmitOrder:
    return SubmitOrder(V, CID, "ETH/USDT", Side.BUY, Decimal(qty))


def kinds(store: Store) -> list[type]:
    return [type(r.event) for r in store.events()]


async def test_failed_reads_are_no_evidence(store: Store) -> None:
    venue = ScriptedVenue()
    venue.order = Retryable("connection reset")
    drv = OrderDriver(venue, store, policy=POLICY)
    await drv.submit(order_cmd())
    done = await drv.resolve(CID)
    assert done.state is OrderState.UNKNOWN  # still unknown: nothing was learned
    assert done.polls == POLICY.max_polls
    assert kinds(store) == [OrderSubmitted, OrderUnknown]
    assert store.order(V, CID).status is OrderState.UNKNOWN  # type: ignore[union-attr]


async def test_not_found_needs_the_grace_and_a_trade_query(store: Store) -> None:
    venue = ScriptedVenue()
    drv = OrderDriver(venue, store, policy=POLICY)
    await drv.submit(order_cmd())
    first = await drv.poll(CID)
    assert first.state is OrderState.UNKNOWN  # within the grace: not yet believed
    done = await drv.resolve(CID)
    assert done.state is OrderState.REJECTED
    last_order = len(venue.calls) - 1 - venue.calls[::-1].index("order")
    assert venue.calls[last_order + 1 :] == ["trades"]  # the trades were asked after the last "not found"
    rejection = list(store.events())[-1].event
    assert isinstance(rejection, OrderRejected) and rejection.reason.startswith(NOT_FOUND)


async def test_not_found_but_traded_is_filled(store: Store) -> None:
    venue = ScriptedVenue()
    venue.trades = [FillReport(V, CID, "t1", Decimal(1), Decimal(3000), venue_ts=1)]
    drv = OrderDriver(venue, store, policy=POLICY)
    await drv.submit(order_cmd())
    assert (await drv.resolve(CID)).state is OrderState.FILLED
    assert kinds(store) == [OrderSubmitted, OrderUnknown, OrderFilled]


async def test_overfill_is_drift_in_the_journal(store: Store) -> None:
    venue = ScriptedVenue()
    venue.order = OrderStatusReport(V, CID, "1", VenueStatus.FILLED, Decimal("1.5"))
    venue.trades = [
        FillReport(V, CID, "t1", Decimal("0.7"), Decimal(3000)),
        FillReport(V, CID, "t2", Decimal("0.8"), Decimal(3000)),
    ]
    drv = OrderDriver(venue, store, policy=POLICY)
    await drv.submit(order_cmd())
    await drv.resolve(CID)
    assert kinds(store) == [OrderSubmitted, OrderUnknown, OrderAccepted, OrderPartiallyFilled, DriftDetected]
    assert store.order(V, CID).filled_qty == Decimal("0.7")  # type: ignore[union-attr]
    assert set(store.fills()) == {(V, "t1")}


async def test_resubmit_only_an_unknown_order_and_only_under_its_id(store: Store) -> None:
    venue = ScriptedVenue()
    drv = OrderDriver(venue, store, policy=POLICY)
    await drv.submit(order_cmd())
    with pytest.raises(InvalidInput):
        await drv.submit(order_cmd())  # a second submit of the same id is a programming error
    venue.submit_error = None
    assert (await drv.resubmit(CID)).state is OrderState.ACCEPTED
    assert venue.calls == ["submit", "submit"]
    with pytest.raises(InvalidInput, match="not unknown"):
        await drv.resubmit(CID)


class CommitLog:
    """The real store, recording each commit's events (to see what shares one journal transaction)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.commits: list[list[type]] = []

    def append(self, event: Event, *, recv_ns: int | None = None, venue_ts: int | None = None) -> int:
        self.commits.append([type(event)])
        return self.store.append(event, recv_ns=recv_ns, venue_ts=venue_ts)

    def append_many(
        self, events: Iterable[Event], *, recv_ns: int | None = None, venue_ts: int | None = None
    ) -> list[int]:
        batch = list(events)
        self.commits.append([type(e) for e in batch])
        return self.store.append_many(batch, recv_ns=recv_ns, venue_ts=venue_ts)


async def test_record_commits_the_intent_with_the_submission_and_send_sends_it_once(store: Store) -> None:
    venue = ScriptedVenue()
    venue.submit_error = None
    log = CommitLog(store)
    drv = OrderDriver(venue, log, policy=POLICY)
    recorded = drv.record(order_cmd(), with_events=(IntentCreated(V, CID, "cex.order", CID),))
    assert recorded.state is OrderState.SUBMITTED
    assert venue.calls == []  # journaled, not sent
    assert log.commits == [[IntentCreated, OrderSubmitted]]  # one journal transaction: both or neither
    assert kinds(store) == [IntentCreated, OrderSubmitted]
    assert (await drv.send(CID)).state is OrderState.ACCEPTED
    assert venue.calls == ["submit"]
    with pytest.raises(InvalidInput, match="not just recorded"):
        await drv.send(CID)  # a second send would be a second order: only resubmit() of an unknown order may
    assert venue.calls == ["submit"]
