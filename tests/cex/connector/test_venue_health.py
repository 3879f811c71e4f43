"""Venue health from a real journal: the simulator's faults, through the connector and the order driver into a
real Store, read back by the journal feed into a health book, whose events go back into the same Store."""

from __future__ import annotations

from decimal import Decimal

from connector_fixtures import LOCATION
from simkit import Sim

from fillpath.cex.client_ids import client_order_id
from fillpath.cex.order_driver import OrderDriver
from fillpath.execution.health import HEALTH_REASON, SECOND, HealthBook, HealthPolicy, VenueState, state_of
from fillpath.execution.health_feed import JournalFeed
from fillpath.model.commands import SubmitOrder
from fillpath.model.events import Event, VenueDegraded, VenueHalted
from fillpath.model.sides import Side
from fillpath.state.store import Store


def order(intent: str, price: Decimal | None = None, qty: str = "0.5") -> SubmitOrder:
    return SubmitOrder(LOCATION, client_order_id(intent), "ETH/USDT", Side.BUY, Decimal(qty), price, intent)


def health(store: Store, book: HealthBook, feed: JournalFeed, after: int) -> tuple[list[Event], int]:
    """Feed the journal after ``after`` to the book and journal the state changes (what the engine does)."""
    changes: list[Event] = []
    last = after
    for rec in list(store.events(after)):
        last = rec.seq
        for event in feed.feed(book, rec):
            store.append(event, recv_ns=rec.recv_ns)
            changes.append(event)
    return changes, last


async def test_clean_orders_keep_the_venue_ok(sim: Sim, store: Store, driver: OrderDriver) -> None:
    for n in range(3):
        await driver.settle((await driver.submit(order(f"clean{n}"))).client_order_id)
    book = HealthBook()
    changes, _ = health(store, book, JournalFeed(), 0)
    assert changes == []
    assert book.state(LOCATION) is VenueState.OK and book.score(LOCATION) == 100.0


async def test_orders_acked_then_lost_halt_the_venue(sim: Sim, store: Store, driver: OrderDriver) -> None:
    """Each ghost order is an ack, an unknown, then a not-found: 30 points. The first degrades the venue, the
    third halts it (two decay just below 60); the journal's flag says so, and a book started afresh from it (a
    restart) stays halted."""
    await sim.faults(ack_then_deny={})
    book, feed, seen = HealthBook(), JournalFeed(), 0
    kinds = []
    for n in range(3):
        placed = await driver.submit(order(f"ghost{n}", Decimal(2900), "0.01"))
        await driver.settle(placed.client_order_id)
        changes, seen = health(store, book, feed, seen)
        kinds += [(n, type(e)) for e in changes]
    assert kinds == [(0, VenueDegraded), (2, VenueHalted)]
    flag = store.venue_flag(LOCATION)
    assert state_of(flag) is VenueState.HALTED and (flag.reason or "").startswith(HEALTH_REASON)
    now = next(store.events(flag.last_seq - 1, limit=1)).recv_ns
    restarted = HealthBook.from_flags(store.projections().venue_flags.values(), now)
    assert restarted.state(LOCATION) is VenueState.HALTED
    assert restarted.tick(now + HealthPolicy().clean_window_ns - SECOND) == []


async def test_slow_fills_degrade_the_venue(sim: Sim, store: Store, driver: OrderDriver) -> None:
    """Fills 0.4 s after the ack, against a policy that allows 0.1 s: 15 points each, capped at 12."""
    await sim.faults(delayed_fills={"delay": "0.4"})
    policy = HealthPolicy(fill_ok_ns=SECOND // 10, late_cap=12.0)
    book = HealthBook(policy)
    for n in range(2):
        await driver.settle((await driver.submit(order(f"slow{n}"))).client_order_id)
    changes, _ = health(store, book, JournalFeed(), 0)
    assert [type(e) for e in changes] == [VenueDegraded]
    assert "fill_delay" in (store.venue_flag(LOCATION).reason or "")
    assert book.penalty_bps(LOCATION) >= 40
