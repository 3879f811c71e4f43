"""The swap: snapshot → route → steps → prepared (cold) → decision: guards + one commit → sent at once → booked.

The plan becomes steps (``steps.py``): one request each — an executor transaction per chain, an order per book
leg — and a step that spends another's output waits for it. Every root step is *prepared* on the cold path
(chain head, approvals, simulation, gas, fees, the order's price): everything that waits on a venue. Then the
hot path, in memory except one fsync: the guards, each root step *staged* (nonce, signature, the records that
must be durable before its bytes leave), ``ExecutionStarted`` and every root's records in **one** journal
commit, and all root requests sent at once (``benchmarks/bench_execution.py`` measures decision → the last
request on the wire). A waiting step is prepared, committed and sent as soon as its inputs arrive, spending
what actually arrived. Runners are registered per kind and location (``runners.py``).

When a leg goes wrong (rejected, reverted, expired unfilled, or its venue halted meanwhile), what it did not
spend is routed again on a fresh snapshot without that venue, at most ``max_replans`` times; a leg whose outcome
is unknown is never re-planned (its input may be gone) — recovery resolves it from the venue.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from fillpath.cex.order_driver import OrderDriver
from fillpath.chains.rpc import RpcClient
from fillpath.execution.aggregator_leg import AggregatorRoute
from fillpath.execution.evm import EvmVenue
from fillpath.execution.guards import Guards, GuardsFailed, LegOrder
from fillpath.execution.health import HealthBook
from fillpath.execution.health_feed import JournalFeed
from fillpath.execution.interrupt import INTERRUPTED, Interrupt
from fillpath.execution.result import ExecutionResult, LegResult, LegStatus, arrival_json, pnl
from fillpath.execution.runners import (
    BYSTANDER,
    UNDELIVERED,
    ChainRunner,
    ExchangeRunner,
    Job,
    Prepared,
    Runner,
    failed,
    unknown,
)
from fillpath.execution.simulate import SlotFinder
from fillpath.execution.steps import RunnerKey, Step, leg_key, plan_steps, within_delivered
from fillpath.model.amounts import from_base_units
from fillpath.model.assets import AssetId
from fillpath.model.errors import Conflict, FillpathError, InvalidInput
from fillpath.model.events import Event, ExecutionFinished, ExecutionStarted
from fillpath.router import Market, RouteRequest, route
from fillpath.router.plan import Plan, PlanLeg
from fillpath.router.snapshot import Snapshot, unit_of
from fillpath.router.venues.factory import venues_from_snapshot
from fillpath.router.venues.stableswap import StableSwapPair
from fillpath.state.store import Store

ENGINE = "fillpath"
COMMIT_TRIES = 8
"""Stagings of one commit before a nonce conflict is given up (each loses only to another writer's commit)."""
__all__ = ["ENGINE", "UNDELIVERED", "Engine", "SwapRequest", "Wiring"]


@dataclass(frozen=True, slots=True)
class SwapRequest:
    """What to trade (the router's own request: an exact amount in base units, resolved once at the edge) and how
    to carry it out. ``sell_decimals``: the unit the edge converted a human amount with; the engine checks it
    against the snapshot, so a configuration that disagrees with the chain is refused before anything trades."""

    route: RouteRequest
    deadline_s: int = 120
    max_replans: int = 2
    sell_decimals: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.deadline_s <= 86_400:
            raise InvalidInput("deadline_s", f"{self.deadline_s} is out of range", "use 1 to 86400 seconds")
        if not 0 <= self.max_replans <= 10:
            raise InvalidInput("max_replans", f"{self.max_replans} is out of range", "use 0 to 10")


@dataclass
class Wiring:
    """What the engine uses, built by the composition root. ``evm``/``drivers`` are empty in a dry run."""

    store: Store
    guards: Guards
    snapshot: Callable[[], Awaitable[Snapshot]]
    rpcs: Mapping[str, RpcClient]
    holders: Mapping[str, str]
    executors: Mapping[str, str]
    evm: Mapping[str, EvmVenue] = field(default_factory=dict)
    drivers: Mapping[str, OrderDriver] = field(default_factory=dict)
    halted: Callable[[], frozenset[str]] = frozenset
    penalties: Callable[[], Mapping[str, int]] = dict
    health: HealthWatch | None = None
    crash: Callable[[str], None] = lambda _name: None
    clock_ns: Callable[[], int] = time.time_ns
    timer: Callable[[], float] = time.perf_counter
    """Seconds for the timings an execution records (a simulation's virtual clock, so its journal is reproducible)."""
    finders: dict[str, SlotFinder] = field(default_factory=dict)
    interrupt: Interrupt = field(default_factory=Interrupt)
    """Set by the CLI's signal handlers (``interrupt.py``): the engine stops at a step boundary."""
    extra_runners: Sequence[Runner] = ()
    """Runners for other kinds of step (bridges, transfers), registered by the composition root."""
    aggregators: Mapping[str, Mapping[str, AggregatorRoute]] = field(default_factory=dict)
    """Location → the aggregator quote APIs configured there, by name (their legs run in the chain's executor call)."""

    def runners(self, snap: Snapshot, *, dry_run: bool) -> list[Runner]:
        """One runner per location for the executor and the books, then the extra ones; a dry run's need no key
        (chains simulate, exchanges price from the snapshot)."""
        out: list[Runner] = []
        for loc, rpc in self.rpcs.items():
            venue = None if dry_run else self.evm.get(loc)
            if not dry_run and venue is None:
                continue
            finder = self.finders.setdefault(loc, SlotFinder(rpc))
            out.append(ChainRunner(loc, rpc, self.holders[loc], self.executors[loc], self.store, venue, finder,
                                   self.aggregators.get(loc, {})))  # fmt: skip
        exchanges = [loc.id for loc in snap.locations if str(loc.kind) == "cex"]
        for loc in exchanges:
            driver = self.drivers.get(loc)
            if dry_run or driver is not None:
                out.append(ExchangeRunner(loc, self.store, None if dry_run else driver, self.crash))
        return [*out, *self.extra_runners]


@dataclass
class HealthWatch:
    """Venue health for the engine: the book the router reads, fed from what the journal records."""

    book: HealthBook
    feed: JournalFeed
    seen_seq: int

    def catch_up(self, store: Store, now_ns: int) -> None:
        """Observe what the journal recorded since last time; journal the state changes it causes (cold path)."""
        changes: list[Event] = []
        for rec in store.events(self.seen_seq):
            changes += self.feed.feed(self.book, rec)
            self.seen_seq = rec.seq
        changes += self.book.tick(now_ns)
        if changes:
            store.append_many(changes)
            self.seen_seq = store.last_seq


MAX_REROUTES = 3


def shared_pool_legs(plan: Plan, venues: Sequence[object]) -> frozenset[str]:
    """Venue ids of every leg but the largest on an n-coin StableSwap pool the plan trades in several directions.

    The router quotes each direction of such a pool on the same snapshot balances, but in one transaction the
    second direction trades on the balances the first left: its output would not be the plan's. Routing again
    without the smaller directions keeps every leg's expected output the one it realizes (a quiet chain)."""
    by_id = {str(getattr(v, "id", "")): v for v in venues}
    groups: dict[str, list[PlanLeg]] = {}
    for leg in plan.legs:
        v = by_id.get(leg.venue)
        if isinstance(v, StableSwapPair):
            groups.setdefault(v.pool.id, []).append(leg)
    out: set[str] = set()
    for legs in groups.values():
        if len(legs) > 1:
            keep = max(legs, key=lambda x: x.amount_in)
            out |= {leg.venue for leg in legs if leg is not keep}
    return frozenset(out)


def new_execution_id() -> str:
    return "x" + secrets.token_hex(6)


def runner_for(runners: Sequence[Runner], venues: Mapping[str, object]) -> Callable[[PlanLeg], RunnerKey | None]:
    def key(leg: PlanLeg) -> RunnerKey | None:
        venue = venues.get(leg.venue)
        for r in runners:
            if r.accepts(venue):
                return RunnerKey(r.kind, r.location, r.batched)
        return None

    return key


def not_executable(venues: Sequence[object], runners: Sequence[Runner]) -> frozenset[str]:
    """Venues no registered runner accepts (a bridge with no bridge runner, a location not wired): the router
    leaves them out."""
    return frozenset(str(getattr(v, "id", v)) for v in venues if not any(r.accepts(v) for r in runners))


class Engine:
    def __init__(self, wiring: Wiring) -> None:
        self.w = wiring

    # --- planning (cold) ------------------------------------------------------------------------------

    def _route(
        self,
        snap: Snapshot,
        req: SwapRequest,
        sell: str,
        amount: int,
        exclude: frozenset[str],
        *,
        dry_run: bool = False,
    ) -> Plan:
        """The request's route on ``snap`` for ``amount`` of ``sell`` (the whole request, or a re-plan's leftovers),
        skipping what no runner here can run, halted venues and ``exclude``."""
        market = Market.from_snapshot(snap)
        unrunnable = not_executable(market.venues, self.w.runners(snap, dry_run=dry_run))
        blocked = unrunnable | exclude | self.w.halted()
        penalties = dict(self.w.penalties())
        if self.w.health is not None:  # degraded venues cost more, halted ones (or their location) are skipped
            self.w.health.catch_up(self.w.store, self.w.clock_ns())
            skip, docked = self.w.health.book.route_limits((v.id, v.location) for v in market.venues)
            blocked |= skip
            penalties.update(docked)
        request = replace(req.route, sell=sell, amount=amount, exclude=req.route.exclude | blocked,
                          penalty_bps={**req.route.penalty_bps, **penalties})  # fmt: skip
        try:
            plan = route(market, request, timer=self.w.timer)
            for _ in range(MAX_REROUTES):  # a plan that trades one pool in two directions is not what it runs
                shared = shared_pool_legs(plan, market.venues)
                if not shared:
                    break
                request = replace(request, exclude=request.exclude | shared)
                plan = route(market, request, timer=self.w.timer)
            return plan
        except InvalidInput as exc:
            stopped = sorted(blocked - unrunnable - exclude)
            if not stopped:
                raise
            raise InvalidInput(exc.field, exc.problem, f"halted venues are skipped: {', '.join(stopped[:6])}"
                               f"{' …' if len(stopped) > 6 else ''}; see `fillpath venues`") from None  # fmt: skip

    def _leg_orders(self, snap: Snapshot, plan: Plan, deadline_ns: int) -> list[LegOrder]:
        prices = snap.prices or {}
        dec = {a.id: a.decimals for a in snap.assets}
        produced = {leg.asset_out: leg.venue for leg in plan.legs}
        out = []
        for leg in plan.legs:
            notional = prices.get(leg.asset_in, Decimal(0)) * from_base_units(leg.amount_in, dec[leg.asset_in])
            out.append(
                LegOrder(leg.venue, leg.asset_in.location, leg.asset_in, leg.amount_in, leg.asset_out, leg.min_out,
                         notional, deadline_ns, produced.get(leg.asset_in))
            )  # fmt: skip
        return out

    # --- the swap -------------------------------------------------------------------------------------

    async def run(self, req: SwapRequest, *, dry_run: bool, execution_id: str | None = None) -> ExecutionResult:
        eid = execution_id or new_execution_id()
        timings: dict[str, float] = {}
        t = self.w.timer()
        snap = await self.w.snapshot()
        timings["snapshot"] = _ms(self.w.timer, t)
        if req.sell_decimals is not None and (got := unit_of(snap, req.route.sell, "SELL")) != req.sell_decimals:
            raise InvalidInput("SELL", f"{req.route.sell} has {got} decimals on the venues, {req.sell_decimals} in the "
                               "configuration", "fix the token's decimals in the configuration")  # fmt: skip
        t = self.w.timer()
        plan = self._route(snap, req, req.route.sell, req.route.amount, frozenset(), dry_run=dry_run)
        timings["route"] = _ms(self.w.timer, t)
        venues: dict[str, object] = {v.id: v for v in venues_from_snapshot(snap)}
        natives = {loc.id: loc.native for loc in snap.locations if loc.native is not None}
        legs, plans = [], [plan]
        attempt, exclude = 0, frozenset[str]()
        current = plan
        while True:
            t = self.w.timer()
            results = await self._attempt(eid, snap, current, req, attempt, dry_run, venues, timings)
            timings[f"attempt{attempt}"] = _ms(self.w.timer, t)
            legs.extend(results)
            leftovers = _leftovers(results)
            if dry_run or not leftovers or attempt >= req.max_replans or self.w.interrupt.stopped:
                break
            attempt += 1
            exclude |= {  # venues that failed on their own (not for want of an input another leg owed them)
                r.venue
                for r in results
                if r.status in (LegStatus.FAILED, LegStatus.PARTIAL)
                and r.reason != UNDELIVERED
                and not (r.reason or "").startswith(BYSTANDER)
            }
            snap = await self.w.snapshot()
            venues.update({v.id: v for v in venues_from_snapshot(snap)})
            try:
                current = self._replan(snap, req, leftovers, exclude)
            except FillpathError:
                break
            plans.append(current)
        if self.w.health is not None:
            self.w.health.catch_up(self.w.store, self.w.clock_ns())
        finals = _finals(plans)
        final_legs = [x for x in legs if x.asset_out in finals]
        expected = plan.expected_out
        realized = sum(x.realized_out or 0 for x in final_legs if x.status is not LegStatus.SIMULATED)
        if dry_run:
            realized = 0
        status = INTERRUPTED if self.w.interrupt.stopped and not dry_run else _status(legs, dry_run)
        decomposition = None if dry_run else pnl(snap, plan, tuple(legs), venues, natives)
        buy_dec = next((a.decimals for a in snap.assets if a.id in finals), 0)
        result = ExecutionResult(eid, "dry_run" if dry_run else "execute", status, plan, tuple(legs), expected,
                                 realized, buy_dec, decomposition, tuple(plans[1:]), timings)  # fmt: skip
        payload = result.to_json()
        payload.pop("plan")
        self.w.store.append(
            ExecutionFinished(ENGINE, eid, status, expected, realized, json.dumps(payload, sort_keys=True))
        )
        return result

    def _replan(self, snap: Snapshot, req: SwapRequest, leftovers: dict[AssetId, int], exclude: frozenset[str]) -> Plan:
        """Route what the failed legs did not spend, without the venues that failed."""
        sell = ",".join(str(a) for a in sorted(leftovers))
        return self._route(snap, req, sell, sum(leftovers.values()), exclude)

    async def _attempt(
        self,
        eid: str,
        snap: Snapshot,
        plan: Plan,
        req: SwapRequest,
        attempt: int,
        dry_run: bool,
        venues: Mapping[str, object],
        timings: dict[str, float],
    ) -> list[LegResult]:
        """One plan, start to finish: prepare the roots (cold), the decision (hot), then the waiting steps."""
        run = Attempt(self.w, eid, snap, plan, req, attempt, dry_run, venues, timings)
        roots = await run.prepare_roots()
        if not dry_run:
            await run.decide(roots)
        else:
            await run.simulate_rest()
        return run.ordered()

    async def prepared_roots(
        self, eid: str, snap: Snapshot, plan: Plan, req: SwapRequest, venues: Mapping[str, object]
    ) -> tuple[Attempt, list[tuple[Step, Prepared]]]:
        """The cold half of an attempt on its own (``benchmarks/bench_execution.py`` times the decision apart)."""
        run = Attempt(self.w, eid, snap, plan, req, 0, False, venues, {})
        return run, await run.prepare_roots()


class Attempt:
    """One plan's execution: its steps, what each delivered, and their results."""

    def __init__(
        self,
        w: Wiring,
        eid: str,
        snap: Snapshot,
        plan: Plan,
        req: SwapRequest,
        attempt: int,
        dry_run: bool,
        venues: Mapping[str, object],
        timings: dict[str, float],
    ) -> None:
        self.w, self.eid, self.snap, self.plan, self.req = w, eid, snap, plan, req
        self.attempt, self.dry_run, self.venues, self.timings = attempt, dry_run, venues, timings
        runners = w.runners(snap, dry_run=dry_run)
        self.runners = {(r.kind, r.location): r for r in runners}
        self.steps = plan_steps(plan, runner_for(runners, venues))
        self.results: dict[str, list[LegResult]] = {}
        self.released: set[str] = set()
        self._prestaged: dict[str, list[Event]] = {}
        """Root steps' records, staged (signed, validated) before the decision: the hot path commits them."""
        self.delivered: dict[AssetId, int] = {}
        self.planned_out: dict[AssetId, int] = {}
        for leg in plan.legs:
            self.planned_out[leg.asset_out] = self.planned_out.get(leg.asset_out, 0) + leg.amount_out
        self.now = w.clock_ns()
        self.deadline_ns = self.now + req.deadline_s * 10**9
        self.leg_orders = Engine(w)._leg_orders(snap, plan, self.deadline_ns)
        self.started: list[Event] = [
            ExecutionStarted(ENGINE, eid, plan.sell, plan.buy, plan.amount_in, "dry_run" if dry_run else "execute",
                             json.dumps(plan.to_json(), sort_keys=True), arrival_json(snap, plan), attempt)
        ]  # fmt: skip

    def _job(self, step: Step, legs: Sequence[PlanLeg]) -> Job:
        addresses = {a.id: a.address for a in self.snap.assets}
        return Job(self.eid, self.attempt, step.id, tuple(legs), self.venues, addresses, self.req.deadline_s,
                   self.deadline_ns, self.req.route.slippage_bps, self.dry_run)  # fmt: skip

    async def _prepare(self, step: Step, legs: Sequence[PlanLeg]) -> Prepared | list[LegResult]:
        runner = self.runners[(step.key.kind, step.key.location)]
        return await runner.prepare(self._job(step, legs))

    async def prepare_roots(self) -> list[tuple[Step, Prepared]]:
        """Cold: the guards once early (so nothing is approved for a trade they would refuse), then every root
        step prepared at once (heads, approvals, simulation, gas, fees: whatever waits on a venue). The store is
        caught up first: halts, flags and intents other engines on this journal recorded count."""
        self.w.store.refresh()
        self.w.guards.enforce(self.leg_orders, slippage_bps=self.req.route.slippage_bps, now_ns=self.now)
        if not self.dry_run:  # the plan on record before anything is approved or signed (its own commit, cold)
            self.w.store.append_many(self.started)
            self.started = []
        roots = [s for s in self.steps if not s.depends]
        prepared = await asyncio.gather(*(self._prepare(s, s.legs) for s in roots))
        ready = []
        for step, p in zip(roots, prepared, strict=True):
            if isinstance(p, list):
                self._done(step, p)
                continue
            if not self.dry_run:
                try:  # signed and validated now, before the decision: the hot path only commits and sends
                    self._prestaged[step.id] = list(p.stage())
                except FillpathError as exc:
                    self._done(step, failed(step.legs, self.attempt, f"not sent: {exc}"))
                    continue
            ready.append((step, p))
        return ready

    async def decide(self, ready: Sequence[tuple[Step, Prepared]]) -> None:
        """The hot path: guards (in memory), every root staged, one commit, all sent; then the waiting steps."""
        t0 = self.w.timer()
        tasks = self.commit_and_send(ready)
        self.timings.setdefault("decision", _ms(self.w.timer, t0))
        await self._drain(tasks)

    def commit_and_send(self, ready: Sequence[tuple[Step, Prepared]]) -> dict[str, asyncio.Task[list[LegResult]]]:
        """Decision → wire: the guards again (the kill switch, halts, limits and balances may have changed while the
        roots were prepared), every root's records — staged, signed and validated on the cold path — in one journal
        commit, and every root's request started. A guard that refuses now fails the roots: their nonces are given
        back, nothing was recorded or sent."""
        if self.w.interrupt.stopped:
            self._unstage(ready)
            for step, _ in ready:
                self._done(step, failed(step.legs, self.attempt, f"{INTERRUPTED} before the decision: not sent"))
            return {}
        try:
            self.w.guards.enforce(self.leg_orders, slippage_bps=self.req.route.slippage_bps, now_ns=self.w.clock_ns())
        except GuardsFailed as exc:
            self._unstage(ready)
            for step, _ in ready:
                self._done(step, failed(step.legs, self.attempt, f"refused at the decision: {exc}"))
            return {}
        return self._commit(ready)

    def _unstage(self, ready: Sequence[tuple[Step, Prepared]]) -> None:
        for step, p in ready:
            if self._prestaged.pop(step.id, None) is not None:
                p.unstage()

    def _commit(self, ready: Sequence[tuple[Step, Prepared]]) -> dict[str, asyncio.Task[list[LegResult]]]:
        """Stage every step and commit their records at once. Another engine on the same account may have taken a
        nonce meanwhile (the journal refuses it under its lock: ``Conflict``): stage again with the next ones."""
        if not ready:
            return {}
        for tries in range(1, COMMIT_TRIES + 1):
            events: list[Event] = [*self.started]
            staged: list[Prepared] = []
            try:
                for step, p in ready:  # staged on the cold path already, unless a conflict made us start over
                    pre = self._prestaged.pop(step.id, None)
                    events.extend(pre if pre is not None else p.stage())
                    staged.append(p)
                self.w.store.append_many(events)
                break
            except Conflict:
                for p in staged:
                    p.unstage()
                if tries == COMMIT_TRIES:
                    raise
            except BaseException:
                for p in staged:
                    p.unstage()
                raise
        self.started = []
        self.w.crash("intent")
        return {step.id: asyncio.ensure_future(p.run()) for step, p in ready}

    async def _drain(self, tasks: dict[str, asyncio.Task[list[LegResult]]]) -> None:
        """Follow the sent steps; as each finishes, release the steps that waited for it. After an interrupt nothing
        new is sent; after a second one, what is still in flight is left unknown (``fillpath recover``)."""
        by_task = {t: sid for sid, t in tasks.items()}
        pending = set(by_task)
        steps = {s.id: s for s in self.steps}
        interrupt = self.w.interrupt
        forced = asyncio.ensure_future(interrupt.force.wait())
        try:
            while True:
                while released := self._released():
                    for step, legs in released:
                        if interrupt.stopped:
                            self._done(step, failed(legs, self.attempt, f"{INTERRUPTED}: not sent"))
                            continue
                        for sid, task in (await self._launch(step, legs)).items():
                            by_task[task] = sid
                            pending.add(task)
                if not pending:
                    break
                waiting: set[asyncio.Future[Any]] = {*pending, forced}
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for task in [t for t in pending if t in done]:
                    pending.discard(task)
                    self._done(steps[by_task[task]], task.result())
                if forced in done:
                    for task in pending:
                        step = steps[by_task[task]]
                        self._done(step, unknown(step.legs, self.attempt, f"{INTERRUPTED}: sent, not followed to the "
                                                 "end; `fillpath recover` asks the venue"))  # fmt: skip
                    break
        finally:
            forced.cancel()
            for task in pending:
                task.cancel()
            if self.started:  # nothing was committed (every root refused before its intent)
                self.w.store.append_many(self.started)
                self.started = []

    async def _launch(self, step: Step, legs: list[PlanLeg]) -> dict[str, asyncio.Task[list[LegResult]]]:
        """A released step: prepared, committed and sent on its own (off the decision's path). A refusal on the
        way is that step's failure, never the attempt's: its input stays where it arrived, for the re-plan."""
        try:
            p = await self._prepare(step, legs)
            if isinstance(p, list):
                self._done(step, p)
                return {}
            return self._commit([(step, p)])
        except Exception as exc:  # nothing was sent for this step
            self._done(step, failed(legs, self.attempt, f"not sent: {type(exc).__name__}: {exc}"))
            return {}

    def _released(self) -> list[tuple[Step, list[PlanLeg]]]:
        """Waiting steps whose producers have all finished: their legs scaled to what arrived, or failed (their
        input never came) — which may release further steps, so this repeats until nothing changes."""
        out: list[tuple[Step, list[PlanLeg]]] = []
        changed = True
        while changed:
            changed = False
            for step in self.steps:
                if step.id in self.released or not step.depends or not step.depends <= set(self.results):
                    continue
                self.released.add(step.id)
                made_here = {leg.asset_out for leg in step.legs}  # spent within the step: not awaited
                missing = [leg for leg in step.legs if self.delivered.get(leg.asset_in, 0) <= 0 and
                           leg.asset_in in self.planned_out and leg.asset_in not in made_here]  # fmt: skip
                if missing:
                    self._done(step, failed(step.legs, self.attempt, UNDELIVERED))
                    changed = True
                    continue
                out.append((step, within_delivered(step.legs, self.planned_out, self.delivered)))
        return out

    async def simulate_rest(self) -> None:
        """A dry run: the waiting steps, as if their inputs arrived as planned."""
        for step in self.steps:
            if step.id not in self.results:
                got = await self._prepare(step, step.legs)
                self._done(step, got if isinstance(got, list) else failed(step.legs, self.attempt, "not simulated"))
        if self.started:
            self.w.store.append_many(self.started)
            self.started = []

    def _done(self, step: Step, results: list[LegResult]) -> None:
        self.results[step.id] = results
        for r in results:
            if r.status in (LegStatus.DONE, LegStatus.PARTIAL, LegStatus.SIMULATED) and r.realized_out:
                self.delivered[r.asset_out] = self.delivered.get(r.asset_out, 0) + r.realized_out

    def ordered(self) -> list[LegResult]:
        """Every leg's result, in the plan's order."""
        by_key = {leg_key_of(r): r for rs in self.results.values() for r in rs}
        return [by_key[leg_key(leg)] for leg in self.plan.legs if leg_key(leg) in by_key]


def leg_key_of(r: LegResult) -> tuple[str, AssetId, AssetId]:
    return (r.venue, r.asset_in, r.asset_out)


def _leftovers(results: Sequence[LegResult]) -> dict[AssetId, int]:
    """What failed or partial legs did not spend and we hold: a failed leg's input counts only if it was a
    source or a leg that ran delivered it. Unknown legs count for nothing (their input may be gone)."""
    produced = {r.asset_out for r in results}
    delivered = {r.asset_out for r in results if r.status in (LegStatus.DONE, LegStatus.PARTIAL)}
    out: dict[AssetId, int] = {}
    for r in results:
        if r.status is LegStatus.FAILED and (r.asset_in not in produced or r.asset_in in delivered):
            left = r.amount_in
        elif r.status is LegStatus.PARTIAL:
            left = r.amount_in - (r.spent_in or 0)
        else:
            continue
        if left > 0:
            out[r.asset_in] = out.get(r.asset_in, 0) + left
    return out


def _finals(plans: Sequence[Plan]) -> set[AssetId]:
    out: set[AssetId] = set()
    for p in plans:
        consumed = {leg.asset_in for leg in p.legs}
        out |= {leg.asset_out for leg in p.legs if leg.asset_out not in consumed}
    return out


def _status(legs: Sequence[LegResult], dry_run: bool) -> str:
    if dry_run:
        return "dry_run"
    if any(x.status is LegStatus.UNKNOWN for x in legs):
        return "unknown"
    ran = [x for x in legs if x.status in (LegStatus.DONE, LegStatus.PARTIAL)]
    if not ran:
        return "failed"
    return (
        "done"
        if all(x.status is LegStatus.DONE for x in legs if x.attempt == max(y.attempt for y in legs))
        else "partial"
    )


def _ms(timer: Callable[[], float], t: float) -> float:
    return round((timer() - t) * 1000, 3)
