"""The health book's events in a real store (SQLite and PostgreSQL): the venue_flags projection says what the
book says, a rebuild from the journal agrees, and a book seeded from the reopened store starts where it was."""

from __future__ import annotations

from fillpath.execution.health import SECOND, HealthBook, Observation, ObservationKind, VenueState, state_of
from fillpath.model.events import VenueHalted
from fillpath.state.store import Store

K = ObservationKind
SCRIPT: list[tuple[int, str, Observation | None]] = [
    (0, "lab1", Observation(K.DRIFT)),  # degraded
    (1, "labex", Observation(K.ACK_THEN_DENY)),  # degraded
    (2, "labex", Observation(K.ACK_THEN_DENY)),
    (3, "labex", Observation(K.TIMEOUT)),
    (4, "labex", Observation(K.DRIFT)),  # halted
    (600, "lab1", None),  # lab1 resumes (labex needs a clean window: not yet)
    (601, "lab2", Observation(K.ACK_LATENCY, 8 * SECOND)),  # 15 points: still OK
]


def test_the_stores_flags_follow_the_book(store: Store, store_url: str) -> None:
    book = HealthBook()
    for seconds, venue, obs in SCRIPT:
        now = seconds * SECOND
        events = book.tick(now) if obs is None else book.observe(venue, obs, now)
        store.append_many(events, recv_ns=now)
    states = {v: book.state(v) for v in ("lab1", "lab2", "labex")}
    assert states == {"lab1": VenueState.OK, "lab2": VenueState.OK, "labex": VenueState.HALTED}
    assert {v: state_of(store.venue_flag(v)) for v in states} == states
    assert store.verify() == []  # the projection tables are what a replay of the journal gives
    store.append(VenueHalted("lab2", "halted by an operator"), recv_ns=602 * SECOND)
    with Store.open(store_url) as reopened:
        restarted = HealthBook.from_flags(reopened.projections().venue_flags.values(), 602 * SECOND)
    assert {v: restarted.state(v) for v in states} == {**states, "lab2": VenueState.HALTED}
    held = {h.venue: h.held for h in restarted.view()}
    assert held == {"lab1": False, "lab2": True, "labex": False}
    # the book's own halt lifts after a clean window; the operator's does not
    later = 602 * SECOND + 10 * 600 * SECOND
    assert [(e.venue, e.kind) for e in restarted.tick(later)] == [("labex", "venue.resumed")]
