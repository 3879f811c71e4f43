"""The seam for scheduled jobs (rebalancing: issue 21 defines them). The service runs a :class:`Scheduler` once it
is ready; a job says when it is next due and runs with the service's :class:`Operations`. Keeping slots unique
across restarts (journaled runs, a lock per policy) is the jobs' concern, not this loop's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Job(Protocol):
    name: str

    def next_due(self, now_s: float) -> float | None:
        """Wall-clock seconds of the next run after ``now_s`` (None: never again)."""
        ...

    async def run(self, ops: Any) -> None: ...


@dataclass
class JobState:
    name: str
    next_due: float | None
    runs: int = 0
    last_error: str | None = None
    last_run: float | None = None


@dataclass
class Scheduler:
    jobs: list[Job] = field(default_factory=list)
    clock: Callable[[], float] = time.time
    states: dict[str, JobState] = field(default_factory=dict)

    def add(self, job: Job) -> None:
        self.jobs.append(job)

    def status(self) -> list[dict[str, Any]]:
        return [
            {"name": s.name, "next_due": s.next_due, "runs": s.runs, "last_run": s.last_run, "last_error": s.last_error}
            for s in self.states.values()
        ]

    async def run(self, ops: Any, stop: asyncio.Event, sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        """Until ``stop``: each job at its due time, one at a time (a job never overlaps itself or another)."""
        now = self.clock()
        for job in self.jobs:
            self.states[job.name] = JobState(job.name, job.next_due(now))
        while not stop.is_set():
            due = [(s.next_due, j) for j in self.jobs if (s := self.states[j.name]).next_due is not None]
            if not due:  # nothing will ever be due again
                return
            when, job = min(due, key=lambda d: d[0] or 0.0)
            assert when is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, when - self.clock()))
            if stop.is_set():
                return
            state = self.states[job.name]
            state.last_run = self.clock()
            try:
                await job.run(ops)
                state.last_error = None
            except Exception as exc:  # a job's failure is reported, never the service's end
                log.exception("job %s failed", job.name)
                state.last_error = f"{type(exc).__name__}: {exc}"
            state.runs += 1
            state.next_due = job.next_due(self.clock())
