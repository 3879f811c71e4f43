"""Virtual time: an asyncio event loop whose clock moves only when every task waits.

The engine sleeps with ``asyncio.sleep`` (order polls, retries, the tracker's interval) and reads time through
injected clocks (``Wiring.clock_ns``, the connector's and the driver's ``clock_ns``, the store's). In the chaos
world all of them read :class:`VirtualClock`. The loop's selector never blocks: when nothing is ready it moves the
clock to the next timer and returns, so a 30 s poll schedule costs microseconds and the same seed always wakes the
same tasks in the same order (no real I/O exists in the world to race with).
"""

from __future__ import annotations

import asyncio
import math
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

EPOCH_NS = 1_767_225_600 * 10**9
"""2026-01-01T00:00:00Z, the lab's genesis: virtual time starts here."""


TURN_S = 1e-6
"""Virtual time one turn of the event loop takes."""


class Deadlock(RuntimeError):
    """Every task waits and no timer is set: nothing can ever happen again."""


class Stalled(RuntimeError):
    """The scenario ran past its virtual-time budget: something waits or retries forever."""


class VirtualClock:
    """Integer nanoseconds since :data:`EPOCH_NS`; moved by the loop (or by a fault: a venue's skew is its own).
    ``limit_s``: the scenario's budget of virtual time (a liveness bound)."""

    def __init__(self, limit_s: float = 3_600.0) -> None:
        self.elapsed_ns = 0
        self.limit_s = limit_s

    def now_ns(self) -> int:
        return EPOCH_NS + self.elapsed_ns

    def now_ms(self) -> int:
        return self.now_ns() // 1_000_000

    def seconds(self) -> float:
        """Virtual seconds since the start (the loop's ``time()`` and the engine's timer)."""
        return self.elapsed_ns / 1e9

    def advance(self, seconds: float) -> None:
        self.elapsed_ns += max(0, math.ceil(seconds * 1e9))


class _Selector(selectors.SelectSelector):
    """Registers the loop's self-pipe like any selector, but a wait is a jump of the virtual clock."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__()
        self.clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            raise Deadlock("every task waits and no timer is set")
        # every turn of the loop costs a microsecond, as CPU does: a task that re-arms a timer a float rounding
        # short of "now" (the rate limiter's pump) would otherwise spin without time ever moving
        self.clock.advance(max(timeout, TURN_S))
        if self.clock.seconds() > self.clock.limit_s:
            raise Stalled(f"still running after {self.clock.limit_s:g} s of virtual time")
        return []


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(_Selector(clock))
        self.clock = clock

    def time(self) -> float:
        return self.clock.seconds()


def run(coro: Coroutine[Any, Any, T], clock: VirtualClock) -> T:
    """Run ``coro`` to completion on a fresh virtual loop (closed afterwards)."""
    loop = VirtualLoop(clock)
    try:
        return loop.run_until_complete(coro)
    finally:
        clock.limit_s = math.inf  # closing down is not part of the scenario's budget
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
