"""Properties of the venue-health state machine over arbitrary observation sequences (hypothesis)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fillpath.execution.health import (
    SECOND,
    HealthBook,
    HealthPolicy,
    Observation,
    ObservationKind,
    VenueState,
    state_of,
)
from fillpath.model.events import Event, Recorded, VenueDegraded, VenueHalted, VenueResumed
from fillpath.state.projections import Projections

K = ObservationKind
P = HealthPolicy()
TIGHT = HealthPolicy(half_life_ns=60 * SECOND, dwell_ns=45 * SECOND, clean_window_ns=1800 * SECOND)
"""A fast decay, so the dwell and the clean window, not the decay, decide when venues recover."""
policies = st.sampled_from([P, TIGHT])
VENUES = ("lab1", "labex")
TIMED = (K.ACK_LATENCY, K.FILL_DELAY)
PLAIN = tuple(k for k in K if k not in TIMED)

GAP_SCALES = (10, 90, 900, 3000)  # seconds: bursts, minutes, quiet stretches


def report(code: int, value: int) -> Observation | None:
    """A step's report from two small integers (cheap to draw and to shrink): 40% ticks (None), 30% clean
    reports, 15% latencies of 0-20 s (ack latencies mostly late), 15% the other kinds (mostly problems)."""
    if code < 40:
        return None
    if code < 70:
        return Observation(K.OK)
    if code < 85:
        return Observation(TIMED[code % 2], value * SECOND // 10)
    return Observation(PLAIN[code % len(PLAIN)])


codes = st.tuples(st.integers(0, 99), st.integers(0, 200))
gaps = st.tuples(st.integers(0, len(GAP_SCALES) - 1), st.integers(0, 3000)).map(
    lambda cu: GAP_SCALES[cu[0]] * SECOND * cu[1] // 3000
)
Plan = list[tuple[int, str, Observation | None]]


def flatten(drawn: list[tuple[int, str, tuple[int, int], int]]) -> Plan:
    """Each drawn step: time passes, then a venue reports something (or, with None, the book is ticked); a
    report of a kind other than a latency comes 1-4 times at that instant, so problems come in bursts."""
    plan: Plan = []
    for gap, venue, code, repeat in drawn:
        obs = report(*code)
        plan.append((gap, venue, obs))
        if obs is not None and obs.kind in PLAIN:
            plan += [(0, venue, obs)] * (repeat - 1)
    return plan


steps = st.lists(st.tuples(gaps, st.sampled_from(VENUES), codes, st.integers(1, 4)), min_size=30, max_size=120)
steps = steps.map(flatten)

NEXT_STATE = {VenueDegraded: VenueState.DEGRADED, VenueHalted: VenueState.HALTED, VenueResumed: VenueState.OK}


@dataclass(frozen=True)
class Step:
    now: int
    venue: str
    obs: Observation | None
    before: dict[str, VenueState]
    after: dict[str, VenueState]
    events: list[Event]


def run(book: HealthBook, plan: Plan) -> Iterator[Step]:
    now = 0
    for gap, venue, obs in plan:
        now += gap
        before = {v: book.state(v) for v in VENUES}
        events = book.tick(now) if obs is None else book.observe(venue, obs, now)
        yield Step(now, venue, obs, before, {v: book.state(v) for v in VENUES}, events)


@settings(max_examples=80, deadline=None)
@given(policies, steps)
def test_every_state_change_yields_exactly_one_event(policy: HealthPolicy, plan: Plan) -> None:
    for s in run(HealthBook(policy), plan):
        changed = [v for v in VENUES if s.before[v] is not s.after[v]]
        assert sorted(e.venue for e in s.events) == changed
        for e in s.events:
            assert NEXT_STATE[type(e)] is s.after[e.venue]


@settings(max_examples=80, deadline=None)
@given(policies, steps)
def test_state_changes_only_across_the_thresholds(policy: HealthPolicy, plan: Plan) -> None:
    """No flapping: a venue worsens only at or above an entry threshold, and recovers only once its penalty has
    stayed at or below the exit threshold for the whole dwell time."""
    book = HealthBook(policy)
    jumps: dict[str, list[tuple[int, float]]] = {v: [(0, 0.0)] for v in VENUES}  # (time, penalty after a report)
    slack = 1 + 1e-9
    for s in run(book, plan):
        if s.obs is not None and policy.points_for(s.obs) > 0:
            jumps[s.venue].append((s.now, book.penalty(s.venue, s.now)))
        for e in s.events:
            p = book.penalty(e.venue, s.now)
            if isinstance(e, VenueHalted):
                assert p >= policy.halt_at
            elif isinstance(e, VenueDegraded):
                assert p >= policy.degrade_at
            else:
                start = s.now - policy.dwell_ns
                t0, p0 = [j for j in jumps[e.venue] if j[0] <= start][-1]
                assert p0 * 0.5 ** ((start - t0) / policy.half_life_ns) <= policy.recover_at * slack
                assert all(pj <= policy.recover_at * slack for tj, pj in jumps[e.venue] if tj > start)


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from([VenueState.OK, VenueState.DEGRADED, VenueState.HALTED]),
    st.lists(st.tuples(st.integers(0, 120 * SECOND), st.booleans()), min_size=1, max_size=80),
)
def test_a_penalty_oscillating_inside_the_band_never_changes_state(
    start: VenueState, plan: list[tuple[int, bool]]
) -> None:
    """Between the exit (10) and the entry (20) threshold nothing changes, whatever the state: rejects push
    the penalty up, time lets it down, ticks and clean reports ask to recover. Steps that would leave the band
    are skipped."""
    book = HealthBook()
    hits = {VenueState.OK: [K.REJECT] * 3, VenueState.DEGRADED: [K.DRIFT], VenueState.HALTED: [K.DRIFT] * 3}[start]
    for kind in hits:
        book.observe("v", Observation(kind), 0)
    assert book.state("v") is start
    now = 0
    while book.penalty("v", now) >= P.degrade_at:  # decay into the band (12 points for OK)
        now += SECOND
    assert P.recover_at < book.penalty("v", now) < P.degrade_at
    applied = 0
    for gap, reject in plan:
        t = now + gap
        p = book.penalty("v", t) + (P.points_for(Observation(K.REJECT)) if reject else 0.0)
        if not P.recover_at < p < P.degrade_at or not P.recover_at < book.penalty("v", t):
            continue
        now = t
        events = book.observe("v", Observation(K.REJECT if reject else K.OK), now) + book.tick(now)
        assert events == []
        applied += 1
    assert book.state("v") is start
    assume(applied > 0)


@st.composite
def paired_steps(draw: st.DrawFn) -> list[tuple[int, Observation | None, Observation | None]]:
    """Two runs at the same instants; at each, the second run's report is at least as bad as the first's: the
    same, later (a latency), or another report with at least as many points."""
    out = []
    for gap, (code, value), (how, other_code, extra) in draw(
        st.lists(st.tuples(gaps, codes, st.tuples(st.integers(0, 2), st.integers(0, 99), st.integers(0, 200))),
                 min_size=40, max_size=160)
    ):  # fmt: skip
        obs = worse = report(code, value)
        if obs is not None and how == 1 and obs.kind in TIMED:
            worse = Observation(obs.kind, obs.value_ns + extra * SECOND // 2)
        elif obs is not None and how == 2:
            other = report(other_code, extra)
            if other is not None and P.points_for(other) >= P.points_for(obs):
                worse = other
        out.append((gap, obs, worse))
    return out


@settings(max_examples=80, deadline=None)
@given(policies, paired_steps())
def test_worse_observations_never_give_a_better_state(
    policy: HealthPolicy, plan: list[tuple[int, Observation | None, Observation | None]]
) -> None:
    better, worse = HealthBook(policy), HealthBook(policy)
    now = 0
    for gap, b, w in plan:
        now += gap
        for book, obs in ((better, b), (worse, w)):
            events = book.tick(now) if obs is None else book.observe("v", obs, now)
            if obs is not None and P.points_for(obs) > 0:
                assert not any(isinstance(e, VenueResumed) for e in events)  # a problem report lifts nothing
        assert worse.state("v").rank >= better.state("v").rank
        assert worse.penalty("v") >= better.penalty("v")


@settings(max_examples=80, deadline=None)
@given(policies, steps)
def test_a_halted_venue_recovers_only_after_a_clean_window(policy: HealthPolicy, plan: Plan) -> None:
    last_bad: dict[str, int] = {}
    for s in run(HealthBook(policy), plan):
        if s.obs is not None and policy.points_for(s.obs) > 0:
            last_bad[s.venue] = s.now
        for e in s.events:
            if isinstance(e, VenueResumed) and s.before[e.venue] is VenueState.HALTED:
                assert s.now - last_bad[e.venue] >= policy.clean_window_ns


@settings(max_examples=80, deadline=None)
@given(policies, steps)
def test_replaying_the_events_gives_the_books_flags(policy: HealthPolicy, plan: Plan) -> None:
    """The journal's venue_flags projection, folded from the book's events, says what the book says; and a book
    seeded from those flags (a restart) starts in the same states."""
    book = HealthBook(policy)
    proj = Projections()
    seq = 0
    now = 0
    for s in run(book, plan):
        now = s.now
        for e in s.events:
            seq += 1
            proj.apply(Recorded(seq, s.now, None, e))
        for v in VENUES:
            flag = proj.venue_flags.get(v)
            assert (state_of(flag) if flag else VenueState.OK) is book.state(v)
    restarted = HealthBook.from_flags(proj.venue_flags.values(), now, policy)
    assert {v: restarted.state(v) for v in VENUES} == {v: book.state(v) for v in VENUES}
    assert restarted.tick(now) == []  # a restart lifts nothing at once
