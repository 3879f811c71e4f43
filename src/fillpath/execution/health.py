"""Venue health: a decaying penalty per venue from what the venue does, and a state — OK, DEGRADED, HALTED —
with hysteresis, so one bad minute degrades a venue and a venue that hovers near a threshold does not flap.

Pure: no I/O and no clock; every call takes ``now_ns``. The book returns the ``VenueDegraded`` /
``VenueHalted`` / ``VenueResumed`` events of its state changes, one per change; the caller journals them, and
the journal's ``venue_flags`` projection is the durable copy that the hot path's guard reads and a restarted
book is seeded from (:meth:`HealthBook.sync`).

The rules (figures: :class:`HealthPolicy`; why: docs/health.md):

- Each observation adds penalty points (0 for a clean one); the penalty halves every ``half_life_ns``.
- Worse: the state rises the moment the penalty reaches ``degrade_at`` (DEGRADED) or ``halt_at`` (HALTED).
- Better: only on a clean observation or a :meth:`HealthBook.tick`, only to OK, and only once the penalty has
  stayed at or below ``recover_at`` for ``dwell_ns``; a HALTED venue also needs ``clean_window_ns`` without
  any bad observation. A problem report never lifts a flag.
- A halt recorded by someone else (an operator, the reconciler, an exchange ban) is *held*: the book never
  lifts it; whoever set it does (``fillpath resume VENUE``, the connector after the ban).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from fillpath.model.errors import InvalidInput
from fillpath.model.events import Event, VenueDegraded, VenueHalted, VenueResumed
from fillpath.state.records import VenueFlag

HEALTH_REASON = "health: "
"""Every reason the book writes starts with this; a halt whose reason does not is someone else's (held)."""

SECOND = 1_000_000_000


class VenueState(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    HALTED = "halted"

    @property
    def rank(self) -> int:
        """0 (OK) < 1 (DEGRADED) < 2 (HALTED): higher is worse."""
        return _RANK[self]


_RANK = {VenueState.OK: 0, VenueState.DEGRADED: 1, VenueState.HALTED: 2}


def state_of(flag: VenueFlag) -> VenueState:
    """The state a journal flag records (halted wins over degraded)."""
    if flag.halted:
        return VenueState.HALTED
    return VenueState.DEGRADED if flag.degraded else VenueState.OK


def is_held(flag: VenueFlag) -> bool:
    """Halted by someone other than a health book (an operator, the reconciler, an exchange ban)."""
    return flag.halted and not (flag.reason or "").startswith(HEALTH_REASON)


class ObservationKind(StrEnum):
    ACK_LATENCY = "ack_latency"
    """``value_ns``: from sending a request to the venue's acknowledgement."""
    FILL_DELAY = "fill_delay"
    """``value_ns``: from the acknowledgement to the first fill (an exchange), or from broadcast to inclusion
    (a chain)."""
    ACK_THEN_DENY = "ack_then_deny"
    """The venue acknowledged an order, then rejected or lost it."""
    REJECT = "reject"
    """The venue refused a request."""
    TIMEOUT = "timeout"
    """No answer: the outcome is unknown until the venue is asked again."""
    RATE_LIMITED = "rate_limited"
    """The venue throttled us (HTTP 429 and the like)."""
    STREAM_DISAGREEMENT = "stream_disagreement"
    """The venue's stream and its REST API disagree about the same order or balance."""
    DRIFT = "drift"
    """Reconciliation found the venue's balance differs from the ledger."""
    CLOCK = "clock"
    """The venue's clock ran backwards or strayed past its bound (``ClockDivergence``)."""
    OK = "ok"
    """A request that went as it should (a clean observation: lets a venue recover sooner)."""


_TIMED = frozenset({ObservationKind.ACK_LATENCY, ObservationKind.FILL_DELAY})


@dataclass(frozen=True, slots=True)
class Observation:
    """One thing a venue did. Only the latency kinds carry ``value_ns``; ``detail`` goes into the reason."""

    kind: ObservationKind
    value_ns: int = 0
    detail: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.value_ns, bool) or not isinstance(self.value_ns, int) or self.value_ns < 0:
            raise InvalidInput("Observation.value_ns", f"{self.value_ns!r} is not a non-negative int", "nanoseconds")
        if self.value_ns and self.kind not in _TIMED:
            raise InvalidInput("Observation.value_ns", f"{self.kind} carries no duration", "leave it 0")

    def describe(self) -> str:
        text = str(self.kind)
        if self.kind in _TIMED:
            text += f" {self.value_ns / SECOND:.3g} s"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """Points per observation, thresholds and times. Defaults are for a venue traded every few seconds."""

    half_life_ns: int = 300 * SECOND
    degrade_at: float = 20.0
    halt_at: float = 60.0
    recover_at: float = 10.0
    dwell_ns: int = 120 * SECOND
    clean_window_ns: int = 600 * SECOND
    points: Mapping[ObservationKind, float] = field(
        default_factory=lambda: {
            ObservationKind.REJECT: 4.0,
            ObservationKind.RATE_LIMITED: 6.0,
            ObservationKind.TIMEOUT: 10.0,
            ObservationKind.STREAM_DISAGREEMENT: 10.0,
            ObservationKind.CLOCK: 10.0,
            ObservationKind.ACK_THEN_DENY: 20.0,
            ObservationKind.DRIFT: 25.0,
        }
    )
    ack_ok_ns: int = 2 * SECOND
    fill_ok_ns: int = 30 * SECOND
    late_points: float = 5.0
    """Points per multiple of the allowed latency by which an ack or fill is late (an ack after 6 s: 10)."""
    late_cap: float = 20.0
    bps_per_point: float = 2.0
    """Router penalty of a DEGRADED venue: this many bps per penalty point (40 bps at ``degrade_at``)."""
    max_bps: int = 200

    def __post_init__(self) -> None:
        checks = (
            ("half_life_ns", self.half_life_ns > 0, "use a positive duration"),
            ("recover_at", 0 < self.recover_at < self.degrade_at, "use 0 < recover_at < degrade_at"),
            ("degrade_at", self.degrade_at < self.halt_at, "use degrade_at < halt_at"),
            ("dwell_ns", self.dwell_ns >= 0, "use 0 or more"),
            ("clean_window_ns", self.clean_window_ns >= 0, "use 0 or more"),
            ("ack_ok_ns", self.ack_ok_ns > 0 and self.fill_ok_ns > 0, "use positive durations"),
            ("points", all(p >= 0 for p in self.points.values()), "points are 0 or more"),
            ("max_bps", 0 <= self.max_bps <= 10_000 and self.bps_per_point >= 0, "use 0 to 10000"),
        )
        for name, ok, fix in checks:
            if not ok:
                raise InvalidInput(f"HealthPolicy.{name}", "out of range", fix)

    def points_for(self, obs: Observation) -> float:
        """Penalty points of one observation; 0 means clean."""
        if obs.kind in _TIMED:
            allowed = self.ack_ok_ns if obs.kind is ObservationKind.ACK_LATENCY else self.fill_ok_ns
            if obs.value_ns <= allowed:
                return 0.0
            return min(self.late_cap, self.late_points * (obs.value_ns - allowed) / allowed)
        return float(self.points.get(obs.kind, 0.0))

    def router_bps(self, state: VenueState, penalty: float) -> int:
        """The router's penalty for a venue in ``state`` with ``penalty`` points: 0 unless DEGRADED (a halted venue
        is excluded instead), then ``bps_per_point`` per point, at least 1 and at most ``max_bps``."""
        if state is not VenueState.DEGRADED:
            return 0
        return max(1, min(self.max_bps, math.ceil(penalty * self.bps_per_point)))

    def threshold(self, state: VenueState) -> float:
        """The penalty at which a venue enters ``state``."""
        return {VenueState.OK: 0.0, VenueState.DEGRADED: self.degrade_at, VenueState.HALTED: self.halt_at}[state]


@dataclass(frozen=True, slots=True)
class VenueHealth:
    """One venue as the book sees it at one instant."""

    venue: str
    state: VenueState
    score: float
    """100 less the penalty, floored at 0: 100 is a clean record."""
    penalty: float
    penalty_bps: int
    """What the router deducts from this venue's output while choosing a split (DEGRADED only)."""
    reason: str | None
    since_ns: int | None
    """When the book entered (or adopted) ``state``; None for a venue that has always been OK."""
    held: bool
    """Halted by someone else: only they lift it."""


@dataclass(slots=True)
class _Track:
    state: VenueState = VenueState.OK
    penalty: float = 0.0
    at_ns: int = 0
    calm_since: int | None = 0
    """Start of the current stretch with the penalty at or below ``recover_at``; None while above it."""
    last_bad_ns: int | None = None
    since_ns: int | None = None
    reason: str | None = None
    held: bool = False
    seen_seq: int = 0
    """The journal seq of the newest flag adopted: an older flag (stale, or the book's own) is not news."""


class HealthBook:
    """Per-venue penalties and states. Feed it with :meth:`observe` and :meth:`tick`; journal what they return."""

    def __init__(self, policy: HealthPolicy | None = None) -> None:
        self.policy = policy or HealthPolicy()
        self._venues: dict[str, _Track] = {}

    @classmethod
    def from_flags(cls, flags: Iterable[VenueFlag], now_ns: int, policy: HealthPolicy | None = None) -> HealthBook:
        """A book that starts where the journal left off (``store.projections().venue_flags.values()``)."""
        book = cls(policy)
        book.sync(flags, now_ns)
        return book

    # --- feeding ----------------------------------------------------------------------------------------------

    def sync(self, flags: Iterable[VenueFlag], now_ns: int) -> None:
        """Adopt flags recorded by others (or by an earlier process). Only a flag newer (``last_seq``) than the
        last one adopted for its venue is news, so a stale read cannot undo a change the book made but has not
        yet seen journaled; one that matches the book changes nothing. A flagged state is taken as if just
        entered: the penalty is raised to its threshold and the clean window starts now, so a restart never
        lifts a halt early. A cleared one starts the venue afresh (penalty 0) if someone else cleared it (an
        operator, a connector after a ban); one a health book cleared keeps its history. A halt whose reason is
        not a health book's is held."""
        for flag in flags:
            t = self._track(flag.venue)
            if flag.last_seq <= t.seen_seq:
                continue
            t.seen_seq = flag.last_seq
            now = max(now_ns, t.at_ns)
            self._decay(t, now)
            target = state_of(flag)
            t.held = is_held(flag)
            if target is t.state:
                if t.held:
                    t.reason = flag.reason
                continue
            t.state, t.reason, t.since_ns = target, flag.reason, now
            if target is VenueState.OK and not (flag.reason or "").startswith(HEALTH_REASON):
                t.penalty, t.calm_since, t.last_bad_ns = 0.0, now, None
            elif target is VenueState.OK:
                self._settle_calm(t)  # a book's own recovery (another process, or before a restart): history stays
            else:
                t.penalty = max(t.penalty, self.policy.threshold(target))
                t.last_bad_ns = now
                self._settle_calm(t)

    def observe(self, venue: str, obs: Observation, now_ns: int) -> list[Event]:
        """Fold one observation in; the state change it causes, if any, as its one event.

        ``now_ns`` earlier than the venue's last update (journal entries from several processes) counts as
        that last update: the penalty never decays backwards."""
        t = self._track(venue)
        now = max(now_ns, t.at_ns)
        self._decay(t, now)
        points = self.policy.points_for(obs)
        if points > 0:
            t.penalty += points
            t.last_bad_ns = now
            self._settle_calm(t)
            return self._worsen(venue, t, now, obs)
        return self._worsen(venue, t, now, obs) or self._improve(venue, t, now)

    def tick(self, now_ns: int) -> list[Event]:
        """Let time pass: the venues whose calm and clean time is now long enough recover (sorted by venue)."""
        out: list[Event] = []
        for venue in sorted(self._venues):
            t = self._venues[venue]
            now = max(now_ns, t.at_ns)
            self._decay(t, now)
            out += self._improve(venue, t, now)
        return out

    # --- reading ----------------------------------------------------------------------------------------------

    def state(self, venue: str) -> VenueState:
        t = self._venues.get(venue)
        return VenueState.OK if t is None else t.state

    def penalty(self, venue: str, now_ns: int | None = None) -> float:
        """The decayed penalty at ``now_ns`` (at the venue's last update if None); 0 for an unknown venue."""
        t = self._venues.get(venue)
        if t is None:
            return 0.0
        return self._decayed(t, t.at_ns if now_ns is None else max(now_ns, t.at_ns))

    def score(self, venue: str, now_ns: int | None = None) -> float:
        """100 less the penalty, floored at 0."""
        return max(0.0, 100.0 - self.penalty(venue, now_ns))

    def penalty_bps(self, venue: str, now_ns: int | None = None) -> int:
        """The router's penalty for ``venue`` (:meth:`HealthPolicy.router_bps`)."""
        return self.policy.router_bps(self.state(venue), self.penalty(venue, now_ns))

    def venues(self) -> list[str]:
        return sorted(self._venues)

    def view(self, now_ns: int | None = None) -> list[VenueHealth]:
        """Every venue the book has heard of, sorted by id."""
        out = []
        for venue in sorted(self._venues):
            t = self._venues[venue]
            p = self.penalty(venue, now_ns)
            out.append(
                VenueHealth(
                    venue,
                    t.state,
                    max(0.0, 100.0 - p),
                    p,
                    self.penalty_bps(venue, now_ns),
                    t.reason,
                    t.since_ns,
                    t.held,
                )
            )
        return out

    def route_limits(
        self, venues: Iterable[tuple[str, str]], now_ns: int | None = None
    ) -> tuple[frozenset[str], dict[str, int]]:
        """For the router, over ``(venue id, location)`` pairs (a snapshot's venues): the ids to exclude (the
        venue or its location HALTED) and the penalty in bps of the others (the larger of the venue's and its
        location's) — ``RouteRequest(exclude=..., penalty_bps=...)``."""
        halted = {v for v, t in self._venues.items() if t.state is VenueState.HALTED}
        docked = {
            v: self.penalty_bps(v, now_ns) for v, t in self._venues.items() if t.state is VenueState.DEGRADED
        }  # only flagged venues cost more than a lookup
        exclude: set[str] = set()
        penalty: dict[str, int] = {}
        for venue, location in venues:
            if venue in halted or location in halted:
                exclude.add(venue)
                continue
            bps = max(docked.get(venue, 0), docked.get(location, 0))
            if bps:
                penalty[venue] = bps
        return frozenset(exclude), penalty

    # --- the state machine ------------------------------------------------------------------------------------

    def _track(self, venue: str) -> _Track:
        t = self._venues.get(venue)
        if t is None:
            t = self._venues[venue] = _Track()
        return t

    def _decayed(self, t: _Track, now: int) -> float:
        if t.penalty == 0.0 or now <= t.at_ns:
            return t.penalty
        return t.penalty * math.pow(0.5, (now - t.at_ns) / self.policy.half_life_ns)

    def _decay(self, t: _Track, now: int) -> None:
        """Bring the penalty to ``now``; if it went down to ``recover_at`` on the way, the calm started at the
        exact crossing (computed, not sampled: how often the book is ticked changes nothing)."""
        if t.calm_since is None:
            crossing = t.at_ns + math.ceil(self.policy.half_life_ns * math.log2(t.penalty / self.policy.recover_at))
            if crossing <= now:
                t.calm_since = crossing
        t.penalty = self._decayed(t, now)
        t.at_ns = now

    def _settle_calm(self, t: _Track) -> None:
        if t.penalty > self.policy.recover_at:
            t.calm_since = None
        elif t.calm_since is None:
            t.calm_since = t.at_ns

    def _worsen(self, venue: str, t: _Track, now: int, obs: Observation) -> list[Event]:
        p = self.policy
        target = (
            VenueState.HALTED
            if t.penalty >= p.halt_at
            else VenueState.DEGRADED
            if t.penalty >= p.degrade_at
            else VenueState.OK
        )
        if target.rank <= t.state.rank:
            return []
        limit = p.halt_at if target is VenueState.HALTED else p.degrade_at
        reason = f"{HEALTH_REASON}penalty {t.penalty:.1f} >= {limit:g} after {obs.describe()}"
        t.state, t.reason, t.since_ns = target, reason, now
        event: Event = VenueHalted(venue, reason) if target is VenueState.HALTED else VenueDegraded(venue, reason)
        return [event]

    def _improve(self, venue: str, t: _Track, now: int) -> list[Event]:
        p = self.policy
        if t.state is VenueState.OK or t.held or t.calm_since is None or now - t.calm_since < p.dwell_ns:
            return []
        if t.state is VenueState.HALTED and t.last_bad_ns is not None and now - t.last_bad_ns < p.clean_window_ns:
            return []
        calm_s = (now - t.calm_since) / SECOND
        reason = f"{HEALTH_REASON}penalty {t.penalty:.1f} <= {p.recover_at:g} for {calm_s:.0f} s"
        if t.state is VenueState.HALTED:
            clean_s = (now - t.last_bad_ns) / SECOND if t.last_bad_ns is not None else math.inf
            reason += f", no problem for {clean_s:.0f} s"
        t.state, t.reason, t.since_ns = VenueState.OK, reason, now
        return [VenueResumed(venue, reason)]
