"""A rebalancing run: plan on a fresh snapshot, then (``execute``) each move through the engine — its guards,
intents and recovery, exactly as ``fillpath swap --execute`` — and the positions again afterwards.

An executing run first claims its id in the journal's book of runs (``state/rebalance_runs.py``): a run id that was
ever claimed is never run again, which is what keeps a scheduled slot to one run across restarts and overlapping
triggers. The notional the run is about to move is written before the first move, so a run that dies half-way still
counts against the policy's daily limit.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fillpath.app import (
    ExecutionParts,
    execution_parts,
    journal_exists,
    kill_switch,
    live_snapshot,
    open_store,
    settle_before_trading,
    trading_signers,
)
from fillpath.config import Config
from fillpath.execution.engine import Engine, SwapRequest
from fillpath.execution.result import ExecutionResult
from fillpath.model.errors import FillpathError
from fillpath.rebalance.plan import Move, RebalancePlan, excluded_venues, plan_rebalance
from fillpath.rebalance.policy import Policy
from fillpath.router.request import RouteRequest
from fillpath.router.snapshot import Snapshot
from fillpath.service.views import human, in_flight
from fillpath.state.rebalance_runs import RebalanceRuns
from fillpath.state.store import Store


@dataclass(frozen=True, slots=True)
class MoveOutcome:
    move: Move
    result: ExecutionResult | None
    error: str | None = None

    @property
    def status(self) -> str:
        return "failed" if self.result is None else self.result.status

    def to_json(self) -> dict[str, Any]:
        r = self.result
        return self.move.to_json() | {
            "execution_id": None if r is None else r.execution_id,
            "execution_status": self.status,
            "realized_out": None if r is None else str(r.realized_out),
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class RebalanceRun:
    """What ``fillpath rebalance`` prints (``--json``: ``to_json()``)."""

    run_id: str | None
    policy: str
    mode: str
    """``dry_run`` or ``execute``."""
    status: str
    """``planned`` (a dry run), ``nothing`` (inside the bands), ``done``, ``partial``, ``failed``, ``halted``,
    ``limited`` (over the daily notional), ``taken`` (the run id was already claimed: nothing done)."""
    plan: RebalancePlan | None
    outcomes: tuple[MoveOutcome, ...] = ()
    after: RebalancePlan | None = None
    reason: str | None = None

    @property
    def notional(self) -> Decimal:
        return Decimal(0) if self.plan is None else self.plan.notional

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "policy": self.policy, "mode": self.mode, "status": self.status,
                "reason": self.reason, "plan": None if self.plan is None else self.plan.to_json(),
                "executed": [o.to_json() for o in self.outcomes],
                "after": None if self.after is None else self.after.to_json()}  # fmt: skip


def start_of_day_ns(now_ns: int) -> int:
    day = datetime.fromtimestamp(now_ns / 1e9, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(day.timestamp()) * 1_000_000_000


def flying(store: Store, snap: Snapshot) -> dict[str, Decimal]:
    """What open intents and transfers carry, per asset (human units)."""
    decimals = {str(a.id): a.decimals for a in snap.assets}
    out: dict[str, Decimal] = {}
    for asset, amount in in_flight(store).items():
        got = human(amount, decimals.get(str(asset)))
        if got is not None:
            out[str(asset)] = got
    return out


def halted(store: Store) -> frozenset[str]:
    """Venues and locations halted in the journal (by an operator, reconciliation or health)."""
    return frozenset(f.venue for f in store.projections().venue_flags.values() if f.halted)


async def dry_run(policy: Policy, snap: Snapshot, store: Store | None = None) -> RebalanceRun:
    """The plan only: nothing is claimed, written or sent."""
    if store is None:
        plan = plan_rebalance(policy, snap)
    else:
        plan = plan_rebalance(policy, snap, flying(store, snap), halted(store))
    status = "nothing" if not plan.planned else "planned"
    return RebalanceRun(None, policy.name, "dry_run", status, plan)


def owner_name() -> str:
    return f"pid {os.getpid()}"


async def execute_policy(
    cfg: Config,
    store: Store,
    parts: ExecutionParts,
    policy: Policy,
    *,
    run_id: str,
    slot_ns: int | None = None,
    snapshot: Callable[[], Awaitable[Snapshot]] | None = None,
    mode: str = "execute",
) -> RebalanceRun:
    """Claim ``run_id``, plan on a fresh snapshot, execute each planned move, and record how the run ended."""
    runs = RebalanceRuns(store)
    if not runs.claim(run_id, policy.name, slot_ns, mode, owner_name()):
        return RebalanceRun(run_id, policy.name, "execute", "taken", None, reason="this run id was already claimed")
    read = snapshot or parts.wiring.snapshot
    try:
        switch = kill_switch(cfg).engaged()
        if switch is not None:
            runs.finish(run_id, "halted", reason=f"the kill switch is engaged: {switch}")
            return RebalanceRun(run_id, policy.name, "execute", "halted", None, reason=switch)
        snap = await read()
        stopped = halted(store)
        plan = plan_rebalance(policy, snap, flying(store, snap), stopped)
        if not plan.planned:
            why = "inside its bands" if plan.in_band else "no move to make (see the skipped moves and shortfalls)"
            runs.finish(run_id, "nothing", reason=why)
            return RebalanceRun(run_id, policy.name, "execute", "nothing", plan, reason=why)
        if policy.daily_notional is not None:
            spent = runs.notional_since(policy.name, start_of_day_ns(time.time_ns()))
            if spent + plan.notional > policy.daily_notional:
                why = (f"moving {plan.notional:.2f} would bring today's total to {spent + plan.notional:.2f}, over "
                       f"daily_notional {policy.daily_notional}")  # fmt: skip
                runs.finish(run_id, "limited", reason=why)
                return RebalanceRun(run_id, policy.name, "execute", "limited", plan, reason=why)
        runs.set_notional(run_id, plan.notional)
        parts.wiring.crash("rebalance_claimed")
        exclude = excluded_venues(policy, snap, stopped)
        decimals = {str(a.id): a.decimals for a in snap.assets}
        wiring = parts.wiring if snapshot is None else replace(parts.wiring, snapshot=snapshot)
        outcomes: list[MoveOutcome] = []
        for move in plan.planned:
            request = SwapRequest(
                RouteRequest(move.source, move.amount_units, move.target, slippage_bps=policy.slippage_bps,
                             exclude=exclude),
                sell_decimals=decimals[move.source],
            )  # fmt: skip
            try:
                outcomes.append(MoveOutcome(move, await Engine(wiring).run(request, dry_run=False)))
            except FillpathError as exc:  # a refused move (guards, halts) is reported; the others still run
                outcomes.append(MoveOutcome(move, None, str(exc)))
        after = plan_rebalance(policy, (snap := await read()), flying(store, snap), halted(store))
        done = [o for o in outcomes if o.status == "done"]
        status = "done" if len(done) == len(outcomes) else "partial" if done else "failed"
        errors = "; ".join(f"{o.move.source}→{o.move.target}: {o.error or o.status}" for o in outcomes
                           if o.status != "done")  # fmt: skip
        runs.finish(run_id, status, notional=plan.notional, moves=len(outcomes), reason=errors)
        return RebalanceRun(run_id, policy.name, "execute", status, plan, tuple(outcomes), after, errors or None)
    except BaseException as exc:
        runs.finish(run_id, "failed", reason=f"{type(exc).__name__}: {exc}")
        raise


async def rebalance(
    cfg: Config, policy: Policy, *, execute: bool, snapshot: Snapshot | None = None, run_id: str | None = None
) -> RebalanceRun:
    """A run from a command or a script: a dry run on ``snapshot`` (or the venues read now), or an execution that
    first recovers open intents and reconciles, like ``swap --execute``."""
    if not execute:
        snap = snapshot if snapshot is not None else await live_snapshot(cfg)
        if not journal_exists(cfg):
            return await dry_run(policy, snap)
        store = open_store(cfg)
        try:
            return await dry_run(policy, snap, store)
        finally:
            store.close()
    signers = trading_signers(cfg)
    store = open_store(cfg, trading="fillpath rebalance --execute")
    try:
        parts = await execution_parts(cfg, store, signers=signers)
        try:
            await settle_before_trading(cfg, store, parts)
            rid = run_id or f"{policy.name}@manual-{time.time_ns()}"
            return await execute_policy(cfg, store, parts, policy, run_id=rid)
        finally:
            await parts.close()
    finally:
        store.close()
