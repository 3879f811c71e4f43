"""Health observations read off journal events: which event means what, and what is paired with what."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fillpath.execution.health import SECOND, HealthBook, Observation, ObservationKind, VenueState
from fillpath.execution.health_feed import JournalFeed, warm_start
from fillpath.model.assets import AssetId
from fillpath.model.events import (
    BalanceAdjusted,
    DriftDetected,
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    OrderSubmitted,
    OrderUnknown,
    Recorded,
    TxBroadcast,
    TxMined,
    VenueDegraded,
    VenueHalted,
)
from fillpath.model.sides import Side
from fillpath.state.projections import Projections

K = ObservationKind
X = "labex"


def submitted(cid: str) -> OrderSubmitted:
    return OrderSubmitted(X, cid, "ETH/USDT", Side.BUY, Decimal("0.5"))


def fill(cid: str, trade: str, final: bool = True) -> Event:
    kind = OrderFilled if final else OrderPartiallyFilled
    return kind(X, cid, trade, Decimal("0.5"), Decimal(3000))


def feed_all(feed: JournalFeed, timed: list[tuple[float, Event]]) -> list[tuple[str, Observation]]:
    out: list[tuple[str, Observation]] = []
    for seconds, event in timed:
        out += feed.observations(event, int(seconds * SECOND))
    return out


def test_ack_latency_is_submit_to_accept_and_counted_once() -> None:
    got = feed_all(
        JournalFeed(),
        [(10, submitted("c1")), (13.5, OrderAccepted(X, "c1", "v1")), (14, OrderAccepted(X, "c1", "v1"))],
    )
    assert got == [(X, Observation(K.ACK_LATENCY, int(3.5 * SECOND)))]


def test_fill_delay_is_accept_to_first_fill() -> None:
    got = feed_all(
        JournalFeed(),
        [
            (0, submitted("c1")),
            (1, OrderAccepted(X, "c1", "v1")),
            (4, fill("c1", "t1", final=False)),
            (9, fill("c1", "t2")),
        ],
    )
    assert got == [(X, Observation(K.ACK_LATENCY, SECOND)), (X, Observation(K.FILL_DELAY, 3 * SECOND))]


def test_a_fill_without_an_ack_counts_from_the_submit() -> None:
    got = feed_all(JournalFeed(), [(0, submitted("c1")), (2, fill("c1", "t1"))])
    assert got == [(X, Observation(K.FILL_DELAY, 2 * SECOND))]


def test_a_rejection_after_an_ack_is_ack_then_deny_else_a_reject() -> None:
    got = feed_all(
        JournalFeed(),
        [
            (0, submitted("c1")),
            (0.1, OrderAccepted(X, "c1", "v1")),
            (1, OrderUnknown(X, "c1", "vanished")),
            (2, OrderRejected(X, "c1", "not_found: -2013")),
            (3, submitted("c2")),
            (3.1, OrderRejected(X, "c2", "-2010")),
        ],
    )
    assert [(v, o.kind, o.detail) for v, o in got] == [
        (X, K.ACK_LATENCY, ""),
        (X, K.TIMEOUT, "vanished"),
        (X, K.ACK_THEN_DENY, "not_found: -2013"),
        (X, K.REJECT, "-2010"),
    ]


def test_a_canceled_order_is_forgotten() -> None:
    feed = JournalFeed()
    feed_all(feed, [(0, submitted("c1")), (1, OrderAccepted(X, "c1", "v1")), (2, OrderCanceled(X, "c1"))])
    assert feed_all(feed, [(3, OrderRejected(X, "c1", "late"))]) == [(X, Observation(K.REJECT, detail="late"))]


def test_inclusion_delay_is_first_broadcast_to_mined() -> None:
    got = feed_all(
        JournalFeed(),
        [
            (0, TxBroadcast("lab1", "0xaa", "0x01", 5)),
            (6, TxBroadcast("lab1", "0xaa", "0x01", 5)),  # a rebroadcast: the wait started at the first
            (24, TxMined("lab1", "0xaa", 100, "0xbb")),
            (30, TxMined("lab1", "0xaa", 101, "0xcc")),  # re-mined after a reorg: already counted
        ],
    )
    assert got == [("lab1", Observation(K.FILL_DELAY, 24 * SECOND))]


def test_drift_is_a_drift_observation_and_bookkeeping_is_nothing() -> None:
    usdc = AssetId("USDC", "lab1")
    got = feed_all(
        JournalFeed(),
        [
            (0, DriftDetected("lab1", usdc, 10, 9, "lab1 balances")),
            (0, BalanceAdjusted("lab1", usdc, 5, "fill")),
            (0, VenueDegraded("lab1", "x")),
        ],
    )
    assert [(v, o.kind) for v, o in got] == [("lab1", K.DRIFT)]


def test_open_pairs_are_bounded() -> None:
    feed = JournalFeed(max_open=2)
    feed_all(feed, [(0, submitted("c1")), (0, submitted("c2")), (0, submitted("c3"))])
    assert feed_all(feed, [(1, OrderAccepted(X, "c1", "v1"))]) == []  # the oldest was forgotten
    assert feed_all(feed, [(1, OrderAccepted(X, "c3", "v3"))]) == [(X, Observation(K.ACK_LATENCY, SECOND))]


def test_feeding_a_book_returns_its_state_changes() -> None:
    feed, book = JournalFeed(), HealthBook()
    out: list[Event] = []
    for seq, (seconds, event) in enumerate(
        [(0, submitted("c1")), (0.1, OrderAccepted(X, "c1", "v1")), (1, OrderRejected(X, "c1", "gone"))] * 3,
        start=1,
    ):
        out += feed.feed(book, Recorded(seq, int(seconds * SECOND), None, event))
    assert [type(e) for e in out] == [VenueDegraded, VenueHalted]
    assert book.state(X) is VenueState.HALTED


def test_a_warm_start_has_the_live_books_penalties_and_the_journals_states() -> None:
    """The engine's book, fed live and journaling its changes; a restart rebuilt from that journal."""
    live, feed, proj = HealthBook(), JournalFeed(), Projections()
    journal: list[Recorded] = []

    def append(event: Event, ns: int) -> None:
        rec = Recorded(len(journal) + 1, ns, None, event)
        journal.append(rec)
        proj.apply(rec)
        for change in feed.feed(live, rec):
            append(change, ns)

    for n in range(3):
        t = n * 200 * SECOND
        append(submitted(f"c{n}"), t)
        append(OrderAccepted(X, f"c{n}", f"v{n}"), t + SECOND // 10)
        append(OrderRejected(X, f"c{n}", "not_found: gone"), t + SECOND)
    for change in live.tick(1500 * SECOND):  # the live book recovers; the journal records it
        append(change, 1500 * SECOND)
    assert live.state(X) is VenueState.OK
    now = 1600 * SECOND
    book, _ = warm_start(journal, proj.venue_flags.values(), now)
    assert book.state(X) is VenueState.OK  # the replay alone, never ticked, would still say degraded
    assert book.penalty(X, now) == pytest.approx(live.penalty(X, now))
    assert book.tick(now) == []
