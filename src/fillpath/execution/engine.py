"""The swap: snapshot → route → guards → durable intents → every independent leg at once → final → booked.

Hot path (from the decision to the wire) is in memory except the journal: split the plan by location, check the
guards, commit the intents, then one task per location — one executor transaction per chain, protected market
orders in plan order per exchange. What a leg records before its request leaves is one commit (one fsync), and
the attempt's ``ExecutionStarted`` rides in the first of them (``benchmarks/bench_execution.py``). Everything slow
or remote that does not decide this trade (recovery of old intents, the opening reconciliation, the snapshot)
happens before the decision, on the cold path.

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

from fillpath.cex.client_ids import client_order_id
from fillpath.cex.order_driver import OrderDriver
from fillpath.chains.executor import ExecPlan
from fillpath.chains.rpc import RpcClient, hex_int
from fillpath.chains.tracker import TxState
from fillpath.execution import exchange_leg as xl
from fillpath.execution.chain_plan import chain_exec_plan
from fillpath.execution.evm import ChainOutcome, EvmVenue, submit
from fillpath.execution.guards import Guards, LegOrder
from fillpath.execution.health import HealthBook
from fillpath.execution.health_feed import JournalFeed
from fillpath.execution.result import ExecutionResult, LegResult, LegStatus, arrival_json, pnl
from fillpath.execution.simulate import SlotFinder, simulate_plan
from fillpath.model.amounts import from_base_units
from fillpath.model.assets import AssetId
from fillpath.model.errors import FillpathError, InvalidInput, Rejected
from fillpath.model.events import Event, ExecutionFinished, ExecutionStarted
from fillpath.model.orders import OrderState
from fillpath.router import Market, RouteRequest, route
from fillpath.router.plan import Plan, PlanLeg
from fillpath.router.snapshot import Snapshot, unit_of
from fillpath.router.venues.factory import venues_from_snapshot
from fillpath.router.venues.order_book import OrderBook
from fillpath.router.venues.uniswap_v2 import UniswapV2Pair
from fillpath.router.venues.uniswap_v3 import UniswapV3Pool
from fillpath.router.venues.wrap import Wrap
from fillpath.state.store import Store

CHAIN_KINDS = (UniswapV2Pair, UniswapV3Pool, Wrap)
ENGINE = "fillpath"
UNDELIVERED = "its input was not delivered"


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
    finders: dict[str, SlotFinder] = field(default_factory=dict)


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


@dataclass(frozen=True, slots=True)
class Work:
    """A plan split by where it runs: per chain, its legs (one executor call); per exchange, its legs."""

    chains: dict[str, list[PlanLeg]]
    exchanges: dict[str, list[PlanLeg]]


def new_execution_id() -> str:
    return "x" + secrets.token_hex(6)


def split(plan: Plan, venues: Mapping[str, object]) -> Work:
    chains: dict[str, list[PlanLeg]] = {}
    exchanges: dict[str, list[PlanLeg]] = {}
    for leg in plan.legs:
        venue = venues.get(leg.venue)
        if isinstance(venue, CHAIN_KINDS):
            chains.setdefault(leg.asset_in.location, []).append(leg)
        elif isinstance(venue, OrderBook):
            exchanges.setdefault(leg.asset_in.location, []).append(leg)
        else:
            raise InvalidInput("plan", f"leg on {leg.venue} is not executable here", "exclude it from the route")
    return Work(chains, exchanges)


def not_executable(snap: Snapshot, chain_locations: set[str], exchange_locations: set[str]) -> frozenset[str]:
    """Venues the engine cannot run: bridges, transfers, aggregators, StableSwap, or a location not wired."""
    out = set()
    for v in venues_from_snapshot(snap):
        if isinstance(v, CHAIN_KINDS):
            loc = v.location
            ok = loc in chain_locations
        elif isinstance(v, OrderBook):
            ok = v.location in exchange_locations
        else:
            ok = False
        if not ok:
            out.add(v.id)
    return frozenset(out)


class Engine:
    def __init__(self, wiring: Wiring) -> None:
        self.w = wiring

    # --- planning (cold) ------------------------------------------------------------------------------

    def _route(self, snap: Snapshot, req: SwapRequest, sell: str, amount: int, exclude: frozenset[str]) -> Plan:
        """The request's route on ``snap`` for ``amount`` of ``sell`` (the whole request, or a re-plan's leftovers),
        skipping what this engine cannot run, halted venues and ``exclude``."""
        chains = set(self.w.rpcs)
        exchanges = {loc.id for loc in snap.locations if str(loc.kind) == "cex"}
        if self.w.drivers:
            exchanges &= set(self.w.drivers)
        blocked = not_executable(snap, chains, exchanges) | exclude | self.w.halted()
        market = Market.from_snapshot(snap)
        penalties = dict(self.w.penalties())
        if self.w.health is not None:  # degraded venues cost more, halted ones (or their location) are skipped
            self.w.health.catch_up(self.w.store, self.w.clock_ns())
            skip, docked = self.w.health.book.route_limits((v.id, v.location) for v in market.venues)
            blocked |= skip
            penalties.update(docked)
        request = replace(req.route, sell=sell, amount=amount, exclude=req.route.exclude | blocked,
                          penalty_bps={**req.route.penalty_bps, **penalties})  # fmt: skip
        try:
            return route(market, request)
        except InvalidInput as exc:
            stopped = sorted(blocked - not_executable(snap, chains, exchanges) - exclude)
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
        t = time.perf_counter()
        snap = await self.w.snapshot()
        timings["snapshot"] = _ms(t)
        if req.sell_decimals is not None and (got := unit_of(snap, req.route.sell, "SELL")) != req.sell_decimals:
            raise InvalidInput("SELL", f"{req.route.sell} has {got} decimals on the venues, {req.sell_decimals} in the "
                               "configuration", "fix the token's decimals in the configuration")  # fmt: skip
        t = time.perf_counter()
        plan = self._route(snap, req, req.route.sell, req.route.amount, frozenset())
        timings["route"] = _ms(t)
        venues: dict[str, object] = {v.id: v for v in venues_from_snapshot(snap)}
        natives = {loc.id: loc.native for loc in snap.locations if loc.native is not None}
        legs, plans = [], [plan]
        attempt, exclude = 0, frozenset[str]()
        current = plan
        while True:
            t = time.perf_counter()
            results = await self._attempt(eid, snap, current, req, attempt, dry_run, venues, timings)
            timings[f"attempt{attempt}"] = _ms(t)
            legs.extend(results)
            leftovers = _leftovers(results)
            if dry_run or not leftovers or attempt >= req.max_replans:
                break
            attempt += 1
            exclude |= {  # venues that failed on their own (not for want of an input another leg owed them)
                r.venue
                for r in results
                if r.status in (LegStatus.FAILED, LegStatus.PARTIAL) and r.reason != UNDELIVERED
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
        status = _status(legs, dry_run)
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
        work = split(plan, venues)
        # Cold, before the decision: each chain's time, for the executor's deadline (block.timestamp-based)
        heads = await asyncio.gather(
            *(self.w.rpcs[loc].request("eth_getBlockByNumber", ["latest", False]) for loc in work.chains)
        )
        chain_now = {loc: hex_int(head["timestamp"]) for loc, head in zip(work.chains, heads, strict=True)}
        t0 = time.perf_counter()
        now = self.w.clock_ns()
        deadline_ns = now + req.deadline_s * 10**9
        self.w.guards.enforce(self._leg_orders(snap, plan, deadline_ns), slippage_bps=req.route.slippage_bps,
                              now_ns=now)  # fmt: skip
        started = _First(
            ExecutionStarted(ENGINE, eid, plan.sell, plan.buy, plan.amount_in, "dry_run" if dry_run else "execute",
                             json.dumps(plan.to_json(), sort_keys=True), arrival_json(snap, plan), attempt)
        )  # fmt: skip
        timings.setdefault("guards_and_record", _ms(t0))
        addresses = {a.id: a.address for a in snap.assets}
        tasks: list[Awaitable[list[LegResult]]] = []
        for loc, legs in work.chains.items():
            deadline = chain_now[loc] + req.deadline_s
            tasks.append(self._chain(eid, loc, legs, venues, addresses, deadline, attempt, dry_run, started))
        for loc, legs in work.exchanges.items():
            tasks.append(
                self._exchange(eid, loc, legs, venues, deadline_ns, attempt, dry_run, req.route.slippage_bps, started)
            )
        try:
            done = await asyncio.gather(*tasks)
        finally:
            left = started.take()  # no leg committed (a dry run, or every leg refused before its intent)
            if left:
                self.w.store.append_many(left)
        batches = [*work.chains.values(), *work.exchanges.values()]
        index = {id(leg): i for i, leg in enumerate(plan.legs)}
        placed: list[LegResult | None] = [None] * len(plan.legs)
        for batch_legs, batch in zip(batches, done, strict=True):
            for leg, r in zip(batch_legs, batch, strict=True):
                placed[index[id(leg)]] = r
        return [r for r in placed if r is not None]

    async def _chain(
        self,
        eid: str,
        loc: str,
        legs: list[PlanLeg],
        venues: Mapping[str, object],
        addresses: Mapping[AssetId, str | None],
        deadline: int,
        attempt: int,
        dry_run: bool,
        started: _First,
    ) -> list[LegResult]:
        holder = self.w.holders[loc]
        plan = chain_exec_plan(legs, venues, addresses, recipient=holder, deadline=deadline)  # type: ignore[arg-type]
        intent_id = f"{eid}-{attempt}-{loc}"
        if dry_run:
            return await self._simulate(loc, legs, plan, attempt)
        sources = [leg for leg in legs if leg.asset_in not in {x.asset_out for x in legs}]
        finals = [leg for leg in legs if leg.asset_out not in {x.asset_in for x in legs}]
        try:
            out = await submit(
                self.w.evm[loc], self.w.store, plan, intent_id=intent_id, asset_in=sources[0].asset_in,
                amount_in=sum(x.amount_in for x in sources), asset_out=finals[0].asset_out,
                assets_by_address={str(a).lower(): x for x, a in addresses.items() if a and x.location == loc},
                journal_first=started.take,
            )  # fmt: skip
        except Rejected as exc:  # refused before anything was sent (simulation, approvals): the input is ours
            return [_leg(leg, LegStatus.FAILED, None, attempt, reason=str(exc)[:300]) for leg in legs]
        return _chain_results(legs, out, attempt)

    async def _simulate(self, loc: str, legs: list[PlanLeg], plan: ExecPlan, attempt: int) -> list[LegResult]:
        finder = self.w.finders.setdefault(loc, SlotFinder(self.w.rpcs[loc]))
        try:
            sim = await simulate_plan(self.w.rpcs[loc], finder, self.w.holders[loc], self.w.executors[loc], plan)
        except Rejected as exc:
            return [_leg(leg, LegStatus.FAILED, None, attempt, reason=str(exc)[:300]) for leg in legs]
        return [
            _leg(leg, LegStatus.SIMULATED, got, attempt, at_send=got)
            for leg, got in zip(legs, sim.amounts_out, strict=True)
        ]

    async def _exchange(
        self,
        eid: str,
        loc: str,
        legs: list[PlanLeg],
        venues: Mapping[str, object],
        deadline_ns: int,
        attempt: int,
        dry_run: bool,
        slippage_bps: int,
        started: _First,
    ) -> list[LegResult]:
        out: list[LegResult] = []
        broken: set[AssetId] = set()
        delivered: dict[AssetId, int] = {}
        for i, planned in enumerate(legs):
            book = venues[planned.venue]
            assert isinstance(book, OrderBook)
            intent_id = f"{eid}-{attempt}-{loc}-{i}"
            cid = client_order_id(intent_id)  # derived from the intent: the same on a retry, in every venue's alphabet
            leg = _within(planned, delivered)
            order = xl.order_leg(leg, book, cid, slippage_bps, intent_id=intent_id)
            if dry_run:
                out.append(_leg(leg, LegStatus.SIMULATED, leg.amount_out, attempt, ref=cid))
                continue
            if leg.asset_in in broken:  # the leg that should have delivered this input did not
                out.append(_leg(leg, LegStatus.FAILED, None, attempt, ref=cid, reason=UNDELIVERED))
                broken.add(leg.asset_out)
                continue
            driver = self.w.drivers[loc]
            driver.record(order.cmd, with_events=(*started.take(), xl.intent_for(order, deadline_ns)))  # one commit
            self.w.crash("intent")
            tracked = await driver.send(cid)
            self.w.crash("ack")
            if not tracked.state.terminal:
                tracked = await driver.settle(cid)
            got = xl.book(self.w.store, order, tracked)
            status = _order_status(tracked.state, got, leg)
            if status is not LegStatus.DONE:
                broken.add(leg.asset_out)
            if got.realized:
                delivered[leg.asset_out] = delivered.get(leg.asset_out, 0) + got.realized
            out.append(
                _leg(leg, status, got.realized if tracked.state.terminal else None, attempt, ref=cid,
                     spent=got.spent, reason=None if status is LegStatus.DONE else f"order {tracked.state}")
            )  # fmt: skip
        return out


class _First:
    """Events that go to the journal with the first commit of an attempt's legs, ahead of that leg's own records,
    instead of in a commit (an fsync) of their own on the hot path. Whatever no leg took is appended at the end."""

    def __init__(self, *events: Event) -> None:
        self._events = list(events)

    def take(self) -> list[Event]:
        out, self._events = self._events, []
        return out


def _within(leg: PlanLeg, delivered: dict[AssetId, int]) -> PlanLeg:
    """A leg whose input an earlier order delivered spends at most what arrived (min-out scaled alike)."""
    got = delivered.get(leg.asset_in)
    if got is None or got >= leg.amount_in:
        return leg
    return replace(leg, amount_in=got, amount_out=leg.amount_out * got // leg.amount_in,
                   min_out=leg.min_out * got // leg.amount_in)  # fmt: skip


def _order_status(state: OrderState, got: xl.OrderOutcome, leg: PlanLeg) -> LegStatus:
    if not state.terminal:
        return LegStatus.UNKNOWN
    if got.realized <= 0:
        return LegStatus.FAILED
    if got.spent < leg.amount_in and state is not OrderState.FILLED:
        return LegStatus.PARTIAL
    return LegStatus.DONE


def _leg(
    leg: PlanLeg,
    status: LegStatus,
    realized: int | None,
    attempt: int,
    *,
    ref: str | None = None,
    spent: int | None = None,
    at_send: int | None = None,
    gas_wei: int = 0,
    reason: str | None = None,
) -> LegResult:
    return LegResult(leg.venue, leg.asset_in, leg.asset_out, leg.amount_in, leg.amount_out, realized, status, ref,
                     spent, at_send, gas_wei, reason, attempt)  # fmt: skip


def _chain_results(legs: list[PlanLeg], out: ChainOutcome, attempt: int) -> list[LegResult]:
    if out.state is TxState.CONFIRMED:
        status = LegStatus.DONE
    elif out.state is TxState.REVERTED:
        status = LegStatus.FAILED
    else:
        status = LegStatus.UNKNOWN
    results = []
    for i, leg in enumerate(legs):
        realized = out.realized[i] if status is LegStatus.DONE and i < len(out.realized) else None
        at_send = out.expected[i] if i < len(out.expected) else None
        results.append(
            _leg(leg, status, realized, attempt, ref=out.tx_hash, at_send=at_send,
                 gas_wei=out.gas_cost_wei if i == 0 else 0, reason=out.reason)
        )  # fmt: skip
    return results


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


def _ms(t: float) -> float:
    return round((time.perf_counter() - t) * 1000, 3)
