"""The scheduled job's bookkeeping on a real SQLite journal, with the run itself stubbed (the lab tests run it for
real): start-up catch-up (a dead run interrupted, missed slots skipped or the latest run once), one run per slot,
overlapped slots recorded, a second job on the same journal running nothing twice."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fillpath.rebalance import jobs as jobs_module
from fillpath.rebalance.jobs import RebalanceJob
from fillpath.rebalance.policy import Policy, Schedule, Target
from fillpath.rebalance.run import RebalanceRun
from fillpath.rebalance.schedule import NS
from fillpath.state.rebalance_runs import RebalanceRuns
from fillpath.state.store import Store

T0 = 1_796_637_600 * NS  # 2026-12-07T10:00:00Z, a multiple of 10 s


class FakeSnapshots:
    async def refresh(self) -> None:
        raise AssertionError("the stubbed run reads no snapshot")


@dataclass
class FakeWatcher:
    locations: dict[str, object] = field(default_factory=dict)
    snapshots: FakeSnapshots = field(default_factory=FakeSnapshots)

    def tail_once(self) -> list[object]:
        return []

    def poke(self, location: str) -> None:
        return None


@dataclass
class FakeOps:
    store: Store
    cfg: Any = None
    parts: Any = None
    watcher: FakeWatcher = field(default_factory=FakeWatcher)
    trading_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'jobs.db'}") as s:
        yield s


@pytest.fixture
def executed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stands in for ``execute_policy``: claims the run id as it does, records it, ends it ``done``."""
    ran: list[str] = []

    async def fake(cfg: Any, store: Store, parts: Any, policy: Policy, *, run_id: str, slot_ns: int | None = None,
                   snapshot: Any = None, mode: str = "execute") -> RebalanceRun:  # fmt: skip
        runs = RebalanceRuns(store)
        if not runs.claim(run_id, policy.name, slot_ns, mode, f"pid {os.getpid()}"):
            return RebalanceRun(run_id, policy.name, "execute", "taken", None)
        ran.append(run_id)
        runs.finish(run_id, "done", notional=Decimal(1), moves=1)
        return RebalanceRun(run_id, policy.name, "execute", "done", None)

    monkeypatch.setattr(jobs_module, "execute_policy", fake)
    return ran


def policy(missed: str = "skip") -> Policy:
    target = Target("USDC@lab1", None, Decimal(50), Decimal(1))
    return Policy("p", (target,), schedule=Schedule(every_s=10, missed=missed))


class Clock:
    def __init__(self, ns: int) -> None:
        self.ns = ns

    def __call__(self) -> int:
        return self.ns


async def test_slots_run_once_each_and_a_restart_runs_none_twice(store: Store, executed: list[str]) -> None:
    clock = Clock(T0 + 3 * NS)
    job = RebalanceJob(policy(), clock_ns=clock)
    ops = FakeOps(store)
    assert job.next_due(clock.ns / NS) == clock.ns / NS  # catch up at once
    await job.run(ops)  # nothing ever ran: nothing missed, nothing run
    assert executed == [] and job.next_due(clock.ns / NS) == (T0 + 10 * NS) / NS
    for k in (1, 2):
        clock.ns = T0 + k * 10 * NS
        await job.run(ops)
    clock.ns = T0 + 20 * NS + 500_000_000  # triggered again within the same slot: nothing
    await job.run(ops)
    assert executed == ["p@2026-12-07T10:00:10Z", "p@2026-12-07T10:00:20Z"]
    clock.ns = T0 + 50 * NS  # the 30 s and 40 s slots passed while a run held the job
    await job.run(ops)
    assert executed[-1] == "p@2026-12-07T10:00:50Z"
    runs = RebalanceRuns(store)
    assert [(r.run_id[-9:-1], r.status) for r in reversed(runs.history("p"))] == [
        ("10:00:10", "done"), ("10:00:20", "done"), ("10:00:30", "missed"), ("10:00:40", "missed"),
        ("10:00:50", "done"),
    ]  # fmt: skip
    assert "overlapped" in (runs.get("p@2026-12-07T10:00:30Z").reason or "")  # type: ignore[union-attr]

    # a second start (another process, the same journal) at 10:01:23: the slots since 10:00:50 were missed, skipped
    again = RebalanceJob(policy(), clock_ns=Clock(T0 + 83 * NS))
    await again.run(ops)
    assert executed[-1] == "p@2026-12-07T10:00:50Z"
    assert [r.status for r in runs.history("p", limit=3)] == ["missed", "missed", "missed"]  # 10:01:20, :10, :00
    assert again.next_due(0) == (T0 + 90 * NS) / NS
    # the first job, still alive, reaches a slot the second handled: taken, not run again
    job._last_ns = T0 + 50 * NS
    clock.ns = T0 + 80 * NS
    await job.run(ops)
    assert executed.count("p@2026-12-07T10:01:20Z") == 0


async def test_a_dead_run_is_interrupted_and_run_once_runs_only_the_latest_missed_slot(
    store: Store, executed: list[str]
) -> None:
    runs = RebalanceRuns(store)
    assert runs.claim("p@2026-12-07T10:00:10Z", "p", T0 + 10 * NS, "schedule", "pid 999999999")  # killed mid-run
    job = RebalanceJob(policy(missed="run_once"), clock_ns=Clock(T0 + 45 * NS))
    await job.run(FakeOps(store))
    dead = runs.get("p@2026-12-07T10:00:10Z")
    assert dead is not None and dead.status == "interrupted" and "ended mid-run" in (dead.reason or "")
    assert executed == ["p@2026-12-07T10:00:40Z"]  # the latest missed slot, once
    statuses = {r.run_id[-9:-1]: r.status for r in runs.history("p")}
    assert statuses == {"10:00:10": "interrupted", "10:00:20": "missed", "10:00:30": "missed", "10:00:40": "done"}
    assert job.next_due(0) == (T0 + 50 * NS) / NS
