"""Rate limits as data, and one limiter per metering scope with execution priority.

A venue meters requests in windows (for example ``REQUEST_WEIGHT`` 6000 per minute per IP, ``ORDERS`` 100 per
10 s and 200 000 per day per account; each dialect publishes its own). Market data and trading share those
windows, so they share one :class:`RateLimiter`; when the window is full, waiting requests are granted by
priority — an order (or a cancel) goes before a book refresh — and in arrival order within a priority. A
``Retry-After`` pauses the whole scope; a ban pauses it until the ban ends.

The fast path (capacity free, nobody waiting) takes no lock and starts no task: a deque append per rule.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from fillpath.model.errors import InvalidInput


class LimitKind(StrEnum):
    REQUEST_WEIGHT = "REQUEST_WEIGHT"
    ORDERS = "ORDERS"
    RAW_REQUESTS = "RAW_REQUESTS"


class Priority(IntEnum):
    """Lower goes first."""

    EXECUTION = 0
    ACCOUNT = 1
    MARKET_DATA = 2


@dataclass(frozen=True, slots=True)
class RateLimitRule:
    kind: LimitKind
    window_s: float
    limit: int

    def __post_init__(self) -> None:
        if self.window_s <= 0 or self.limit <= 0:
            raise InvalidInput("rate limit", f"{self} has a non-positive window or limit")


@dataclass(frozen=True, slots=True)
class Cost:
    """What one request spends: request weight, order count, and its place in the queue."""

    weight: int = 1
    orders: int = 0
    priority: Priority = Priority.MARKET_DATA

    def amount(self, kind: LimitKind) -> int:
        if kind is LimitKind.REQUEST_WEIGHT:
            return self.weight
        if kind is LimitKind.ORDERS:
            return self.orders
        return 1


class _Window:
    __slots__ = ("rule", "spent", "used")

    def __init__(self, rule: RateLimitRule) -> None:
        self.rule = rule
        self.spent: deque[tuple[float, int]] = deque()
        self.used = 0

    def _expire(self, now: float) -> None:
        horizon = now - self.rule.window_s
        while self.spent and self.spent[0][0] <= horizon:
            self.used -= self.spent.popleft()[1]

    def delay(self, amount: int, now: float) -> float:
        """Seconds until ``amount`` more fits (0: now)."""
        if amount == 0:
            return 0.0
        self._expire(now)
        excess = self.used + amount - self.rule.limit
        if excess <= 0:
            return 0.0
        if amount > self.rule.limit:
            raise InvalidInput("cost", f"{amount} exceeds the whole {self.rule.kind} window of {self.rule.limit}")
        freed = 0
        for at, spent in self.spent:
            freed += spent
            if freed >= excess:
                return at + self.rule.window_s - now
        return self.rule.window_s  # unreachable: the window holds at least the excess

    def spend(self, amount: int, now: float) -> None:
        if amount:
            self.spent.append((now, amount))
            self.used += amount


class RateLimiter:
    """Shared by every client of one metering scope (one IP / one account on one venue)."""

    def __init__(self, rules: Iterable[RateLimitRule], *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows = [_Window(r) for r in rules]
        self._paused_until = 0.0
        self._banned_until = 0.0
        self._waiters: list[tuple[int, int, Cost, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._wake: asyncio.Event | None = None
        self._pump: asyncio.Task[None] | None = None
        self.waits = 0
        """How many acquisitions had to queue (for metrics and tests)."""

    @property
    def rules(self) -> tuple[RateLimitRule, ...]:
        return tuple(w.rule for w in self._windows)

    def set_rules(self, rules: Iterable[RateLimitRule]) -> None:
        """Replace the rules (as read from the venue), keeping what was spent under a rule that stays."""
        old = {w.rule: w for w in self._windows}
        self._windows = [old.get(r) or _Window(r) for r in rules]

    @property
    def banned(self) -> bool:
        return self._clock() < self._banned_until

    def retry_after(self, seconds: float) -> None:
        """The venue said: nothing from this scope for ``seconds``."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._poke()

    def ban(self, seconds: float) -> None:
        self._banned_until = max(self._banned_until, self._clock() + seconds)
        self.retry_after(seconds)

    def _delay(self, cost: Cost, now: float) -> float:
        wait = self._paused_until - now
        for w in self._windows:
            wait = max(wait, w.delay(cost.amount(w.rule.kind), now))
        return wait

    def _spend(self, cost: Cost, now: float) -> None:
        for w in self._windows:
            w.spend(cost.amount(w.rule.kind), now)

    async def acquire(self, cost: Cost) -> None:
        now = self._clock()
        if not self._waiters and self._delay(cost, now) <= 0:
            self._spend(cost, now)
            return
        self.waits += 1
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (int(cost.priority), next(self._order), cost, fut))
        self._poke()
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._run())
        await fut

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _run(self) -> None:
        self._wake = asyncio.Event()
        while self._waiters:
            _, _, cost, fut = self._waiters[0]
            if fut.done():  # the caller gave up
                heapq.heappop(self._waiters)
                continue
            now = self._clock()
            wait = self._delay(cost, now)
            if wait <= 0:
                heapq.heappop(self._waiters)
                self._spend(cost, now)
                fut.set_result(None)
                continue
            self._wake.clear()  # a new (maybe more urgent) waiter, or a Retry-After, re-plans the head
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def close(self) -> None:
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()
        for *_, fut in self._waiters:
            fut.cancel()
        self._waiters.clear()
