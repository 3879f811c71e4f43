"""Per-venue clock evidence. Venue timestamps are kept and compared, never used to order events (seq does).

A venue clock that steps backwards, or whose offset from our receive time passes ``bound_ns``, is news a
trader needs (stale books, skewed fill times): :meth:`ClockTracker.observe` turns it into a
``ClockDivergence`` event. Drift is reported once when the offset leaves the bound, and again only after it
has come back inside; each backwards step is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from fillpath.model.errors import InvalidInput
from fillpath.model.events import ClockDivergence, ClockProblem


@dataclass(slots=True)
class _VenueClock:
    last_venue_ts: int
    offset_ns: int
    drifting: bool


class ClockTracker:
    """Offsets (``recv_ns - venue_ts``) per venue, in nanoseconds."""

    def __init__(self, bound_ns: int) -> None:
        if bound_ns <= 0:
            raise InvalidInput("bound_ns", f"{bound_ns} is not positive", "for example 2_000_000_000 (2 s)")
        self.bound_ns = bound_ns
        self._venues: dict[str, _VenueClock] = {}

    def offset_ns(self, venue: str) -> int | None:
        """The latest offset seen for ``venue`` (positive: the venue's clock is behind ours, or latency)."""
        clock = self._venues.get(venue)
        return None if clock is None else clock.offset_ns

    def observe(self, venue: str, venue_ts: int, recv_ns: int) -> ClockDivergence | None:
        offset = recv_ns - venue_ts
        clock = self._venues.get(venue)
        drifting = abs(offset) > self.bound_ns
        if clock is None:
            self._venues[venue] = _VenueClock(venue_ts, offset, drifting)
            return self._event(venue, ClockProblem.DRIFT, venue_ts, recv_ns, offset) if drifting else None
        went_back = venue_ts < clock.last_venue_ts
        newly_drifting = drifting and not clock.drifting
        clock.last_venue_ts, clock.offset_ns, clock.drifting = venue_ts, offset, drifting
        if went_back:
            return self._event(venue, ClockProblem.BACKWARDS, venue_ts, recv_ns, offset)
        if newly_drifting:
            return self._event(venue, ClockProblem.DRIFT, venue_ts, recv_ns, offset)
        return None

    def _event(self, venue: str, problem: ClockProblem, venue_ts: int, recv_ns: int, offset: int) -> ClockDivergence:
        return ClockDivergence(venue, problem, venue_ts, recv_ns, offset, self.bound_ns)
