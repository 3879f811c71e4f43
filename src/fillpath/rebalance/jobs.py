"""Scheduled rebalancing inside ``fillpath run``: one job per policy on the service's scheduler.

At most once per slot: a slot's run id (policy + slot time) is claimed in the journal's book of runs before anything
is sent (``execute_policy``), so a restart, a second service or an overlapping trigger that reaches the same slot
finds it taken and does nothing. Within the process a lock per policy (and the service's one-trade-at-a-time lock)
keeps runs from overlapping.

On start the job catches up first: runs a dead process left ``running`` are marked ``interrupted`` (their intents
were settled by the start-up recovery; the slot is never run again), and slots that passed while no service ran are
recorded ``missed`` — or, with ``missed = "run_once"``, the latest of them runs once, now. A slot that passed while
the previous run was still running is recorded ``missed`` too (reason: overlapped).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from decimal import Decimal

from fillpath.model.errors import FillpathError
from fillpath.rebalance.policy import Policy
from fillpath.rebalance.run import execute_policy, owner_name
from fillpath.rebalance.schedule import run_id, slot_after, slot_at_or_before, slots_between
from fillpath.service.operations import Operations
from fillpath.state.rebalance_runs import RebalanceRuns

FAILED = ("failed", "partial")


def _alive(owner: str | None) -> bool:
    """Whether the process named ``pid N`` still runs here (``kill -9`` leaves its runs ``running``)."""
    if not owner or not owner.startswith("pid "):
        return False
    pid = int(owner.removeprefix("pid "))
    if pid == os.getpid():
        return False  # this process is starting: a run it owns from before cannot be its own
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RebalanceJob:
    """A policy on the service's scheduler (``service/scheduler.py: Job``)."""

    def __init__(self, policy: Policy, *, clock_ns: Callable[[], int] = time.time_ns) -> None:
        assert policy.schedule is not None, "only a policy with a [schedule] is a job"
        self.policy = policy
        self.schedule = policy.schedule
        self.name = f"rebalance:{policy.name}"
        self.lock = asyncio.Lock()
        self.clock_ns = clock_ns
        self._started = False
        self._last_ns: int | None = None
        """The latest slot handled (run, taken elsewhere, or recorded missed)."""

    def next_due(self, now_s: float) -> float | None:
        if not self._started:
            return now_s  # catch up at once
        assert self._last_ns is not None
        return slot_after(self.schedule, self._last_ns) / 1e9

    async def run(self, ops: Operations) -> None:
        runs = RebalanceRuns(ops.store)
        now = self.clock_ns()
        async with self.lock:
            if not self._started:
                self._started = True
                await self._catch_up(ops, runs, now)
                return
            assert self._last_ns is not None
            due = [*slots_between(self.schedule, self._last_ns, now)]
            if not due:
                return
            for slot in due[:-1]:  # passed while the previous run was still running
                runs.record_missed(run_id(self.policy.name, slot), self.policy.name, slot, owner_name(),
                                   reason="overlapped: the previous run was still running")  # fmt: skip
            self._last_ns = due[-1]
            await self._run_slot(ops, due[-1])

    async def _catch_up(self, ops: Operations, runs: RebalanceRuns, now: int) -> None:
        for r in runs.running():
            if r.policy == self.policy.name and not _alive(r.owner):
                runs.finish(r.run_id, "interrupted", notional=r.notional or Decimal(0), moves=r.moves,
                            reason=f"{r.owner or 'its process'} ended mid-run; its intents were recovered at start, "
                                   "the slot is not run again")  # fmt: skip
        last = runs.last_slot(self.policy.name)
        current = slot_at_or_before(self.schedule, now)
        if last is None or last >= current:  # never ran, or the current slot is already handled
            self._last_ns = max(current, last or current)
            return
        missed = [*slots_between(self.schedule, last, current)]
        run_now = missed.pop() if self.schedule.missed == "run_once" and missed else None
        for slot in missed:
            runs.record_missed(run_id(self.policy.name, slot), self.policy.name, slot, owner_name())
        self._last_ns = current
        if run_now is not None:
            await self._run_slot(ops, run_now)

    async def _run_slot(self, ops: Operations, slot: int) -> None:
        async with ops.trading_lock:
            rid = run_id(self.policy.name, slot)
            run = await execute_policy(ops.cfg, ops.store, ops.parts, self.policy, run_id=rid, slot_ns=slot,
                                       snapshot=ops.watcher.snapshots.refresh, mode="schedule")  # fmt: skip
        ops.watcher.tail_once()
        for loc in ops.watcher.locations:
            ops.watcher.poke(loc)
        if run.status in FAILED:
            raise FillpathError(f"run {run.run_id} {run.status}: {run.reason}")
