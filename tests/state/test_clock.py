"""Venue clock tracking: backwards steps and drift past the bound become ClockDivergence events."""

from __future__ import annotations

import pytest

from fillpath.model.errors import InvalidInput
from fillpath.model.events import ClockProblem
from fillpath.state.clock import ClockTracker

S = 1_000_000_000


def test_in_bound_and_forward_is_quiet() -> None:
    clock = ClockTracker(bound_ns=2 * S)
    assert clock.observe("binance", 100 * S, 100 * S + 5_000_000) is None
    assert clock.observe("binance", 101 * S, 101 * S - S) is None  # venue ahead of us by 1 s: in bound
    assert clock.offset_ns("binance") == -S
    assert clock.offset_ns("kraken") is None


def test_backwards_step_is_reported_each_time() -> None:
    clock = ClockTracker(bound_ns=2 * S)
    clock.observe("binance", 100 * S, 100 * S)
    first = clock.observe("binance", 99 * S, 100 * S)
    assert first is not None
    assert first.problem is ClockProblem.BACKWARDS
    assert first.offset_ns == S
    assert clock.observe("binance", 99 * S, 100 * S) is None  # equal is not backwards
    again = clock.observe("binance", 98 * S, 100 * S)
    assert again is not None
    assert again.problem is ClockProblem.BACKWARDS


def test_drift_is_reported_on_leaving_the_bound_only() -> None:
    clock = ClockTracker(bound_ns=2 * S)
    assert clock.observe("kraken", 100 * S, 100 * S) is None
    drift = clock.observe("kraken", 101 * S, 104 * S)
    assert drift is not None
    assert drift.problem is ClockProblem.DRIFT
    assert (drift.offset_ns, drift.bound_ns, drift.venue_ts, drift.recv_ns) == (
        3 * S,
        2 * S,
        101 * S,
        104 * S,
    )
    assert clock.observe("kraken", 102 * S, 105 * S) is None  # still drifting: not repeated
    assert clock.observe("kraken", 103 * S, 103 * S) is None  # back in bound
    assert clock.observe("kraken", 104 * S, 100 * S) is not None  # venue ahead beyond bound
    assert clock.observe("binance", 1 * S, 10 * S) is not None  # first sample already out of bound


def test_venues_are_tracked_apart() -> None:
    clock = ClockTracker(bound_ns=S)
    clock.observe("a", 100 * S, 100 * S)
    assert clock.observe("b", 50 * S, 50 * S) is None  # b's clock is not compared with a's


def test_bound_must_be_positive() -> None:
    with pytest.raises(InvalidInput):
        ClockTracker(bound_ns=0)
