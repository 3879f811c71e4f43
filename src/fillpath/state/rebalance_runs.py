"""The book of rebalancing runs: a run id is claimed by inserting its row (the primary key decides between
processes, restarts and overlapping triggers: the loser does nothing), finished with its outcome, and read back for
``fillpath schedule history`` and the daily notional limit. Each claim and finish is also a journal event."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from fillpath.model.events import RebalanceRunFinished, RebalanceRunStarted
from fillpath.state.store import Store
from fillpath.state.tables import rebalance_runs as runs

VENUE = "rebalance"
COUNTED = ("running", "done", "partial", "failed", "interrupted")
"""Runs whose moves count against the daily notional: anything that may have sent something."""


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    policy: str
    slot_ns: int | None
    mode: str
    status: str
    started_ns: int
    finished_ns: int | None
    notional: Decimal | None
    moves: int
    reason: str | None
    owner: str | None

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "policy": self.policy, "slot": iso(self.slot_ns), "mode": self.mode,
                "status": self.status, "started": iso(self.started_ns), "finished": iso(self.finished_ns),
                "notional": None if self.notional is None else str(self.notional), "moves": self.moves,
                "reason": self.reason, "owner": self.owner}  # fmt: skip


def iso(ns: int | None) -> str | None:
    if ns is None:
        return None
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


class RebalanceRuns:
    def __init__(self, store: Store) -> None:
        self.store = store

    def claim(self, run_id: str, policy: str, slot_ns: int | None, mode: str, owner: str) -> bool:
        """Take ``run_id`` for this process; False when it was ever taken (by anyone, in any process)."""
        now = time.time_ns()
        try:
            with self.store.engine.begin() as conn:
                conn.execute(insert(runs).values(run_id=run_id, policy=policy, slot_ns=slot_ns, mode=mode,
                                                 status="running", started_ns=now, moves=0, owner=owner))  # fmt: skip
        except IntegrityError:
            return False
        self.store.append(RebalanceRunStarted(VENUE, run_id, policy, iso(slot_ns) or "manual", mode))
        return True

    def finish(self, run_id: str, status: str, *, notional: Decimal = Decimal(0), moves: int = 0,
               reason: str = "") -> None:  # fmt: skip
        with self.store.engine.begin() as conn:
            row = conn.execute(select(runs.c.policy).where(runs.c.run_id == run_id)).first()
            values = {"status": status, "finished_ns": time.time_ns(), "notional": notional, "moves": moves,
                      "reason": reason or None}  # fmt: skip
            conn.execute(update(runs).where(runs.c.run_id == run_id).values(**values))
        policy = "" if row is None else str(row[0])
        self.store.append(RebalanceRunFinished(VENUE, run_id, policy, status, str(notional), moves, reason))

    def record_missed(
        self, run_id: str, policy: str, slot_ns: int, owner: str, *, reason: str = "no service was running at its time"
    ) -> bool:
        """A slot no process ran, recorded as such (so it is never run later either)."""
        if not self.claim(run_id, policy, slot_ns, "schedule", owner):
            return False
        self.finish(run_id, "missed", reason=reason)
        return True

    def get(self, run_id: str) -> RunRecord | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
        return None if row is None else RunRecord(**row._mapping)

    def history(self, policy: str | None = None, *, limit: int = 100) -> list[RunRecord]:
        """Newest first."""
        q = select(runs).order_by(runs.c.started_ns.desc(), runs.c.run_id.desc()).limit(limit)
        if policy is not None:
            q = q.where(runs.c.policy == policy)
        with self.store.engine.connect() as conn:
            return [RunRecord(**r._mapping) for r in conn.execute(q)]

    def last_slot(self, policy: str) -> int | None:
        with self.store.engine.connect() as conn:
            got = conn.execute(select(func.max(runs.c.slot_ns)).where(runs.c.policy == policy)).scalar()
        return None if got is None else int(got)

    def notional_since(self, policy: str, since_ns: int) -> Decimal:
        """Value moved (or possibly moved) by the policy's runs started at ``since_ns`` or later."""
        q = select(runs.c.notional).where(runs.c.policy == policy, runs.c.started_ns >= since_ns,
                                          runs.c.status.in_(COUNTED))  # fmt: skip
        with self.store.engine.connect() as conn:
            return sum((n for (n,) in conn.execute(q) if n is not None), Decimal(0))

    def running(self) -> list[RunRecord]:
        with self.store.engine.connect() as conn:
            return [RunRecord(**r._mapping) for r in conn.execute(select(runs).where(runs.c.status == "running"))]

    def set_notional(self, run_id: str, notional: Decimal) -> None:
        """What a run is about to move, written before it sends (a crash still counts it against the limit)."""
        with self.store.engine.begin() as conn:
            conn.execute(update(runs).where(runs.c.run_id == run_id).values(notional=notional))
