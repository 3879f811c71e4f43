"""Venue health, one rule at a time: the points of each observation kind, the thresholds, the dwell, the clean
window, held halts, seeding from journal flags, and what the router is told."""

from __future__ import annotations

import math

import pytest

from fillpath.execution.health import (
    HEALTH_REASON,
    SECOND,
    HealthBook,
    HealthPolicy,
    Observation,
    ObservationKind,
    VenueState,
    state_of,
)
from fillpath.model.errors import InvalidInput
from fillpath.model.events import VenueDegraded, VenueHalted, VenueResumed
from fillpath.state.records import VenueFlag

K = ObservationKind
P = HealthPolicy()
OK = Observation(K.OK)


def obs(kind: ObservationKind, seconds: float = 0, detail: str = "") -> Observation:
    return Observation(kind, int(seconds * SECOND), detail)


@pytest.mark.parametrize(
    ("observation", "points"),
    [
        (obs(K.REJECT), 4.0),
        (obs(K.RATE_LIMITED), 6.0),
        (obs(K.TIMEOUT), 10.0),
        (obs(K.STREAM_DISAGREEMENT), 10.0),
        (obs(K.ACK_THEN_DENY), 20.0),
        (obs(K.DRIFT), 25.0),
        (obs(K.OK), 0.0),
        (obs(K.ACK_LATENCY, 0.3), 0.0),
        (obs(K.ACK_LATENCY, 2), 0.0),  # exactly the allowance is still on time
        (obs(K.ACK_LATENCY, 6), 10.0),  # two allowances late: 2 × 5
        (obs(K.ACK_LATENCY, 600), 20.0),  # capped
        (obs(K.FILL_DELAY, 30), 0.0),
        (obs(K.FILL_DELAY, 90), 10.0),
        (obs(K.FILL_DELAY, 3600), 20.0),
    ],
)
def test_points_of_each_observation_kind(observation: Observation, points: float) -> None:
    assert P.points_for(observation) == pytest.approx(points)


@pytest.mark.parametrize(
    ("observation", "to_degrade", "to_halt"),
    [
        (obs(K.REJECT), 5, 15),
        (obs(K.RATE_LIMITED), 4, 10),
        (obs(K.TIMEOUT), 2, 6),
        (obs(K.STREAM_DISAGREEMENT), 2, 6),
        (obs(K.ACK_THEN_DENY), 1, 3),
        (obs(K.DRIFT), 1, 3),
        (obs(K.ACK_LATENCY, 10), 1, 3),  # 4 allowances late: capped at 20 points
        (obs(K.FILL_DELAY, 60), 4, 12),  # one allowance late: 5 points
    ],
)
def test_each_kind_degrades_then_halts_after_enough_reports(
    observation: Observation, to_degrade: int, to_halt: int
) -> None:
    """Reports at one instant: the count that reaches 20 points degrades, the count that reaches 60 halts;
    one fewer does not."""
    book = HealthBook()
    changes = []
    for n in range(1, to_halt + 1):
        for e in book.observe("labex", observation, 0):
            changes.append((n, type(e)))
    assert changes == [(to_degrade, VenueDegraded), (to_halt, VenueHalted)]
    assert book.state("labex") is VenueState.HALTED


def test_clean_observations_never_change_a_clean_venue() -> None:
    book = HealthBook()
    for t in range(100):
        assert book.observe("lab1", obs(K.ACK_LATENCY, 1.9), t * SECOND) == []
        assert book.observe("lab1", OK, t * SECOND) == []
    assert book.state("lab1") is VenueState.OK
    assert book.score("lab1") == 100.0


def test_penalty_halves_every_half_life() -> None:
    book = HealthBook()
    book.observe("lab1", obs(K.DRIFT), 0)
    assert book.penalty("lab1", 0) == 25.0
    assert book.penalty("lab1", P.half_life_ns) == pytest.approx(12.5)
    assert book.penalty("lab1", 3 * P.half_life_ns) == pytest.approx(25.0 / 8)
    assert book.score("lab1", P.half_life_ns) == pytest.approx(87.5)


def test_degraded_recovers_only_after_calm_for_the_dwell_time() -> None:
    book = HealthBook()
    assert [type(e) for e in book.observe("lab1", obs(K.ACK_THEN_DENY), 0)] == [VenueDegraded]
    # 20 points reach recover_at (10) after exactly one half-life; then the dwell must pass
    calm_at = P.half_life_ns
    assert book.tick(calm_at + P.dwell_ns - 1) == []
    assert book.observe("lab1", OK, calm_at + P.dwell_ns - 1) == []
    (event,) = book.tick(calm_at + P.dwell_ns)
    assert isinstance(event, VenueResumed)
    assert event.reason is not None and event.reason.startswith(HEALTH_REASON)
    assert book.state("lab1") is VenueState.OK


def test_calm_time_is_exact_whatever_the_tick_rate() -> None:
    """The moment a venue recovers does not depend on how often the book is ticked."""
    resumed_at = []
    tick_steps = (1 * SECOND, 7 * SECOND, 61 * SECOND)
    for step in tick_steps:
        book = HealthBook()
        book.observe("lab1", obs(K.DRIFT), 0)
        t = 0
        while book.state("lab1") is not VenueState.OK:
            t += step
            book.tick(t)
        resumed_at.append(t)
    floor = math.ceil(P.half_life_ns * math.log2(25 / 10)) + P.dwell_ns
    assert all(floor <= r < floor + step for r, step in zip(resumed_at, tick_steps, strict=True))


def test_a_problem_report_never_lifts_a_flag() -> None:
    book = HealthBook()
    book.observe("lab1", obs(K.ACK_THEN_DENY), 0)
    late = 10 * P.half_life_ns  # long calm: a clean observation now would resume it
    assert book.observe("lab1", obs(K.ACK_LATENCY, 2.5), late) == []  # 1.25 points: bad, though small
    assert book.state("lab1") is VenueState.DEGRADED
    assert [type(e) for e in book.observe("lab1", OK, late)] == [VenueResumed]


def test_halted_needs_a_clean_window_besides_a_low_penalty() -> None:
    book = HealthBook()
    for _ in range(3):
        book.observe("lab1", obs(K.ACK_THEN_DENY), 0)
    assert book.state("lab1") is VenueState.HALTED
    # a trickle of small problems keeps the penalty low but the record unclean
    t = 0
    while t < 4 * P.clean_window_ns:
        t += P.clean_window_ns // 2
        book.observe("lab1", obs(K.ACK_LATENCY, 2.2), t)  # 0.5 points each
        assert book.tick(t) == []
    assert book.penalty("lab1", t) < P.recover_at
    assert book.tick(t + P.clean_window_ns - 1) == []
    (event,) = book.tick(t + P.clean_window_ns)
    assert isinstance(event, VenueResumed)
    assert "no problem for 600 s" in (event.reason or "")


def test_a_halt_recovers_straight_to_ok() -> None:
    """VenueResumed is the one journal event that lifts a halt, and it clears the degraded flag too: so a
    halted venue recovers once its penalty is at the OK side of the band, never to DEGRADED."""
    book = HealthBook()
    for _ in range(3):
        book.observe("lab1", obs(K.DRIFT), 0)
    events = []
    for minute in range(1, 120):
        events += book.tick(minute * 60 * SECOND)
    assert [type(e) for e in events] == [VenueResumed]
    assert book.state("lab1") is VenueState.OK


def test_degraded_to_halted_is_one_event() -> None:
    book = HealthBook()
    book.observe("lab1", obs(K.DRIFT), 0)
    assert [type(e) for e in book.observe("lab1", obs(K.DRIFT), SECOND)] == []  # ~50 points: still degraded
    assert [type(e) for e in book.observe("lab1", obs(K.DRIFT), 2 * SECOND)] == [VenueHalted]


def test_venues_are_independent() -> None:
    book = HealthBook()
    book.observe("lab1", obs(K.DRIFT), 0)
    assert book.state("lab1") is VenueState.DEGRADED
    assert book.state("lab2") is VenueState.OK
    assert [v.venue for v in book.view()] == ["lab1"]


def test_time_running_backwards_counts_as_no_time() -> None:
    book = HealthBook()
    book.observe("lab1", obs(K.REJECT), 100 * SECOND)
    book.observe("lab1", obs(K.REJECT), 50 * SECOND)  # from another process's clock: not earlier decay
    assert book.penalty("lab1") == pytest.approx(8.0)


# --- seeding and flags recorded by others ---------------------------------------------------------------------


def flag(venue: str, seq: int, *, halted: bool = False, degraded: bool = False, reason: str | None = None) -> VenueFlag:
    return VenueFlag(venue, halted, degraded, reason, seq)


def test_a_restart_keeps_a_halted_venue_halted_for_a_clean_window() -> None:
    book = HealthBook.from_flags([flag("lab1", 7, halted=True, reason=HEALTH_REASON + "penalty 61")], 1000 * SECOND)
    assert book.state("lab1") is VenueState.HALTED
    assert book.tick(1000 * SECOND + P.clean_window_ns - 1) == []
    later = 1000 * SECOND + 10 * P.clean_window_ns
    assert [type(e) for e in book.tick(later)] == [VenueResumed]


def test_a_restart_keeps_a_degraded_venue_degraded_and_penalized() -> None:
    book = HealthBook.from_flags([flag("lab2", 3, degraded=True, reason=HEALTH_REASON + "x")], 0)
    assert book.state("lab2") is VenueState.DEGRADED
    assert book.penalty_bps("lab2") == math.ceil(P.degrade_at * P.bps_per_point)


def test_a_halt_set_by_someone_else_is_held_until_they_lift_it() -> None:
    book = HealthBook()
    book.sync([flag("labex", 5, halted=True, reason="halted by an operator")], 0)
    assert book.state("labex") is VenueState.HALTED
    (view,) = book.view()
    assert view.held and view.reason == "halted by an operator"
    assert book.tick(100 * P.clean_window_ns) == []
    assert book.observe("labex", OK, 100 * P.clean_window_ns) == []
    assert book.state("labex") is VenueState.HALTED
    # the operator resumes: the venue starts afresh
    book.sync([flag("labex", 9, reason="resumed by an operator")], 100 * P.clean_window_ns)
    assert book.state("labex") is VenueState.OK
    assert book.penalty("labex") == 0.0


def test_an_outside_halt_over_the_books_own_halt_becomes_held() -> None:
    book = HealthBook()
    for _ in range(3):
        book.observe("lab1", obs(K.DRIFT), 0)
    book.sync([flag("lab1", 4, halted=True, reason=HEALTH_REASON + "penalty 75")], 0)  # its own, journaled
    book.sync([flag("lab1", 6, halted=True, reason="drift on USDC@lab1 beyond tolerance")], SECOND)
    assert book.tick(1000 * P.clean_window_ns) == []
    assert book.state("lab1") is VenueState.HALTED


def test_stale_flags_do_not_undo_what_the_book_decided() -> None:
    book = HealthBook()
    book.sync([flag("lab1", 4, degraded=True, reason=HEALTH_REASON + "x")], 0)
    (event,) = book.tick(10 * P.half_life_ns)
    assert isinstance(event, VenueResumed)
    book.sync([flag("lab1", 4, degraded=True, reason=HEALTH_REASON + "x")], 10 * P.half_life_ns)  # not yet journaled
    assert book.state("lab1") is VenueState.OK


def test_state_of_a_flag() -> None:
    assert state_of(flag("v", 1)) is VenueState.OK
    assert state_of(flag("v", 1, degraded=True)) is VenueState.DEGRADED
    assert state_of(flag("v", 1, halted=True, degraded=True)) is VenueState.HALTED


# --- what the router is told ----------------------------------------------------------------------------------


def test_route_limits_exclude_halted_venues_and_locations_and_penalize_degraded() -> None:
    book = HealthBook()
    for _ in range(3):
        book.observe("lab2", obs(K.DRIFT), 0)  # the whole location
    book.observe("lab1:uniswap_v2:0xaa", obs(K.DRIFT), 0)
    book.observe("labex", obs(K.ACK_THEN_DENY), 0)
    venues = [
        ("lab1:uniswap_v2:0xaa", "lab1"),
        ("lab1:uniswap_v3:0xbb", "lab1"),
        ("lab2:uniswap_v3:0xcc", "lab2"),
        ("labex:ETH/USDT", "labex"),
    ]
    exclude, penalty = book.route_limits(venues, 0)
    assert exclude == {"lab2:uniswap_v3:0xcc"}
    assert penalty == {"lab1:uniswap_v2:0xaa": 50, "labex:ETH/USDT": 40}


def test_penalty_bps_follows_the_penalty_and_is_capped() -> None:
    policy = HealthPolicy(max_bps=45)
    book = HealthBook(policy)
    book.observe("lab1", obs(K.ACK_THEN_DENY), 0)
    assert book.penalty_bps("lab1", 0) == 40
    book.observe("lab1", obs(K.REJECT), 0)
    assert book.penalty_bps("lab1", 0) == 45
    assert book.penalty_bps("lab2", 0) == 0


# --- inputs ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"recover_at": 25.0},
        {"recover_at": 0.0},
        {"halt_at": 15.0},
        {"half_life_ns": 0},
        {"max_bps": 10_001},
        {"points": {K.REJECT: -1.0}},
    ],
)
def test_bad_policy_names_the_field(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput, match="HealthPolicy"):
        HealthPolicy(**kwargs)  # type: ignore[arg-type]


def test_bad_observation_names_the_field() -> None:
    with pytest.raises(InvalidInput, match="value_ns"):
        Observation(K.ACK_LATENCY, -1)
    with pytest.raises(InvalidInput, match="value_ns"):
        Observation(K.REJECT, 5)


def test_a_recovery_journaled_by_a_book_keeps_the_venues_history() -> None:
    """Another process's book (or this one before a restart) resumed the venue: its penalty still counts, so a
    new problem soon after degrades it again sooner than on a clean record."""
    book = HealthBook()
    book.observe("lab1", obs(K.ACK_THEN_DENY), 0)
    assert book.penalty("lab1", 100 * SECOND) > P.recover_at  # this book has not recovered it yet
    book.sync([flag("lab1", 8, reason=HEALTH_REASON + "penalty 9.9 <= 10 for 120 s")], 100 * SECOND)
    assert book.state("lab1") is VenueState.OK
    assert book.penalty("lab1", 100 * SECOND) == pytest.approx(20 * 0.5 ** (100 / 300))
    assert [type(e) for e in book.observe("lab1", obs(K.TIMEOUT), 100 * SECOND)] == [VenueDegraded]  # 10 alone: OK
