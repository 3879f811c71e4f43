"""Health observations read off the journal: what the order driver, the tracker and the reconciler already
record says how a venue behaves, so the book needs no second report of it.

Pure and stateful only in what it must pair up (a submit with its ack, an ack with its first fill, a
broadcast with its inclusion). Feed it every journal entry in seq order — as they are appended, or from
``store.events()`` after a restart or in ``fillpath venues``. The engine reports directly only what the
journal does not hold: rate limiting and stream/REST disagreement.
"""

from __future__ import annotations

from collections.abc import Iterable

from fillpath.execution.health import HealthBook, HealthPolicy, Observation, ObservationKind
from fillpath.model.events import (
    ClockDivergence,
    DriftDetected,
    Event,
    FillEvent,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderRejected,
    OrderSubmitted,
    OrderUnknown,
    Recorded,
    TxBroadcast,
    TxMined,
)
from fillpath.state.reconcile import IN_FLIGHT_NOTE
from fillpath.state.records import VenueFlag


class JournalFeed:
    """Journal entries → ``(venue, Observation)``. Pairs left open (an order never answered) are bounded by
    ``max_open``: the oldest are forgotten, which loses one latency figure, never a problem report."""

    def __init__(self, max_open: int = 100_000) -> None:
        self.max_open = max_open
        self._submitted: dict[tuple[str, str], int] = {}
        self._acked: dict[tuple[str, str], int] = {}
        self._broadcast: dict[tuple[str, str], int] = {}

    def observations(self, event: Event, recv_ns: int) -> list[tuple[str, Observation]]:
        """What ``event``, journaled at ``recv_ns``, says about its venue (often nothing)."""
        v = event.venue
        if isinstance(event, OrderSubmitted):
            self._remember(self._submitted, (v, event.client_order_id), recv_ns)
            return []
        if isinstance(event, OrderAccepted):
            key = (v, event.client_order_id)
            if key in self._acked:
                return []
            self._remember(self._acked, key, recv_ns)
            sent = self._submitted.pop(key, None)
            if sent is None:
                return []
            return [(v, Observation(ObservationKind.ACK_LATENCY, max(0, recv_ns - sent)))]
        if isinstance(event, FillEvent):
            key = (v, event.client_order_id)
            start = self._acked.pop(key, None)
            if start is None:
                start = self._submitted.pop(key, None)
            else:
                self._submitted.pop(key, None)
            if start is None:
                return []  # not the first fill, or its order predates what the feed has seen
            return [(v, Observation(ObservationKind.FILL_DELAY, max(0, recv_ns - start)))]
        if isinstance(event, OrderRejected):
            key = (v, event.client_order_id)
            self._submitted.pop(key, None)
            if self._acked.pop(key, None) is not None:
                return [(v, Observation(ObservationKind.ACK_THEN_DENY, detail=event.reason[:80]))]
            return [(v, Observation(ObservationKind.REJECT, detail=event.reason[:80]))]
        if isinstance(event, OrderUnknown):
            return [(v, Observation(ObservationKind.TIMEOUT, detail=event.reason[:80]))]
        if isinstance(event, OrderCanceled | OrderExpired):
            self._submitted.pop((v, event.client_order_id), None)
            self._acked.pop((v, event.client_order_id), None)
            return []
        if isinstance(event, TxBroadcast):
            key = (v, event.tx_hash)
            if key not in self._broadcast:
                self._remember(self._broadcast, key, recv_ns)
            return []
        if isinstance(event, TxMined):
            sent = self._broadcast.pop((v, event.tx_hash), None)
            if sent is None:
                return []
            return [(v, Observation(ObservationKind.FILL_DELAY, max(0, recv_ns - sent)))]
        if isinstance(event, DriftDetected):
            if event.source.endswith(IN_FLIGHT_NOTE):  # explained by funds moving: no evidence against the venue
                return []
            return [(v, Observation(ObservationKind.DRIFT, detail=f"{event.asset} via {event.source}"[:80]))]
        if isinstance(event, ClockDivergence):
            detail = f"clock {event.problem}, offset {event.offset_ns // 1_000_000} ms"
            return [(v, Observation(ObservationKind.CLOCK, detail=detail))]
        return []

    def feed(self, book: HealthBook, rec: Recorded) -> list[Event]:
        """Observe ``rec`` in ``book``; the state changes it caused."""
        out: list[Event] = []
        for venue, obs in self.observations(rec.event, rec.recv_ns):
            out += book.observe(venue, obs, rec.recv_ns)
        return out

    def _remember(self, table: dict[tuple[str, str], int], key: tuple[str, str], ns: int) -> None:
        table[key] = ns
        if len(table) > self.max_open:
            del table[next(iter(table))]  # dicts keep insertion order: the oldest goes


def warm_start(
    records: Iterable[Recorded], flags: Iterable[VenueFlag], now_ns: int, policy: HealthPolicy | None = None
) -> tuple[HealthBook, JournalFeed]:
    """A book and feed for a restarted engine: the penalties the recent journal implies (``records``: e.g. the
    last hour of ``store.events``), then the states its flags record (which win). The state changes the replay
    implies were journaled by the previous process, or were not due: they are dropped."""
    book, feed = HealthBook(policy), JournalFeed()
    for rec in records:
        feed.feed(book, rec)
    book.sync(flags, now_ns)
    return book, feed
