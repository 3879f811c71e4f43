"""Who runs a step: one runner per kind of request and location, registered by the composition root.

A runner takes a step through three phases, so the engine can put every venue's first request behind one
journal commit: ``prepare`` (cold: reads, simulation, approvals — anything that waits on a venue), then, from
the prepared step, ``stage`` (hot, in memory: sign, compute the records that must be durable before sending),
and after the engine's commit ``run`` (send, follow to a final state, book). A dry run stops after ``prepare``.

Today: a chain's executor transaction (``ChainRunner``: Uniswap V2/V3 pools, wrap/unwrap, StableSwap pools and
aggregator quotes, in one call) and an exchange order (``ExchangeRunner``: one LIMIT IOC per book leg). Other kinds
(bridges, transfers) register runners of their own; a venue no runner accepts is left out of the route.
docs/venues.md lists every kind and the guards each gets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from fillpath.cex.client_ids import client_order_id
from fillpath.cex.order_driver import OrderDriver, Staged
from fillpath.chains.executor import ExecPlan, ExecResult, decode_error
from fillpath.chains.rpc import RpcClient, hex_int
from fillpath.chains.tracker import TxState
from fillpath.chains.transactions import SimulationReverted
from fillpath.collect.aggregators import aggregator_name
from fillpath.execution import evm
from fillpath.execution import exchange_leg as xl
from fillpath.execution.aggregator_leg import (
    AggregatorRoute,
    VettedQuote,
    check_simulated,
    explain,
    fresh_quotes,
    route_for,
)
from fillpath.execution.chain_plan import calls_first, chain_exec_plan
from fillpath.execution.recovery import Resolution
from fillpath.execution.result import LegResult, LegStatus
from fillpath.execution.simulate import SlotFinder, simulate_plan
from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput, Rejected
from fillpath.model.events import Event
from fillpath.model.orders import OrderState
from fillpath.router.plan import PlanLeg
from fillpath.router.venues.aggregator import Aggregator
from fillpath.router.venues.order_book import OrderBook
from fillpath.router.venues.stableswap import StableSwapPair, StableSwapPool
from fillpath.router.venues.uniswap_v2 import UniswapV2Pair
from fillpath.router.venues.uniswap_v3 import UniswapV3Pool
from fillpath.router.venues.wrap import Wrap
from fillpath.state.records import IntentRecord
from fillpath.state.store import Store

CHAIN_KINDS = (UniswapV2Pair, UniswapV3Pool, Wrap, StableSwapPool, StableSwapPair)
"""What the executor runs from the snapshot alone; an ``Aggregator`` also needs its API configured here."""
UNDELIVERED = "its input was not delivered"
BYSTANDER = "not sent: another leg of its transaction was refused"
"""A leg that failed only because the step it shared with a refused leg was not sent: its venue is not to blame."""
EXECUTED_KINDS: dict[str, str] = {
    "uniswap_v2": "ChainRunner", "uniswap_v3": "ChainRunner", "wrap": "ChainRunner", "stableswap": "ChainRunner",
    "aggregator": "ChainRunner", "order_book": "ExchangeRunner",
}  # fmt: skip
"""Snapshot venue kind → the runner that executes it (``tests/test_venue_kinds.py`` holds this complete)."""
ROUTE_ONLY: dict[str, str] = {
    "bridge": "priced by the router; no runner yet (issue #16 adds the bridge runner)",
    "transfer": "priced by the router; no runner yet (issue #16 adds deposit and withdrawal runners)",
}
"""Kinds the router prices that no runner executes: the engine leaves them out of the route."""


@dataclass(frozen=True, slots=True)
class Job:
    """One step of one attempt, as the engine hands it to a runner."""

    execution_id: str
    attempt: int
    step_id: str
    legs: tuple[PlanLeg, ...]
    venues: Mapping[str, object]
    addresses: Mapping[AssetId, str | None]
    deadline_s: int
    deadline_ns: int
    slippage_bps: int
    dry_run: bool

    @property
    def ref(self) -> str:
        """The step's intent id (for an exchange order also its client order id): the same after a crash."""
        return f"{self.execution_id}-{self.attempt}-{self.step_id}"


class Prepared(Protocol):
    """A step ready for the decision: ``stage`` signs and returns its records (nothing sent, nothing written);
    ``unstage`` undoes it when the commit failed; ``run`` sends it after the commit and books the outcome."""

    def stage(self) -> Sequence[Event]: ...
    def unstage(self) -> None: ...
    async def run(self) -> list[LegResult]: ...


class Runner(Protocol):
    kind: str
    location: str
    batched: bool

    def accepts(self, venue: object) -> bool: ...
    async def prepare(self, job: Job) -> Prepared | list[LegResult]:
        """The prepared step, or its legs' results when it ends here (a dry run's simulation, a refusal)."""
        ...


class TransferRunner(Runner, Protocol):
    """A runner whose legs move funds between locations (bridges, exchange deposits and withdrawals): what it
    started, ``fillpath recover`` settles from the venues' evidence."""

    async def resolve(self, intent: IntentRecord, wait_s: float) -> Resolution: ...


def leg_result(
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
    in_flight_ms: int | None = None,
) -> LegResult:
    return LegResult(leg.venue, leg.asset_in, leg.asset_out, leg.amount_in, leg.amount_out, realized, status, ref,
                     spent, at_send, gas_wei, reason, attempt, in_flight_ms)  # fmt: skip


def failed(legs: Sequence[PlanLeg], attempt: int, reason: str, ref: str | None = None) -> list[LegResult]:
    """Known not to have run: the legs' inputs are still ours."""
    return [leg_result(leg, LegStatus.FAILED, None, attempt, ref=ref, reason=reason[:300]) for leg in legs]


def refused(legs: Sequence[PlanLeg], attempt: int, exc: Rejected) -> list[LegResult]:
    """A step refused before anything was sent. When the refusal names a leg — an aggregator's check, or the
    executor's revert naming a leg (``LegMinOut``, ``CallFailed``…) — that leg's venue carries it (with, for an
    aggregator, its other legs: a quote that lied once is not asked again in this execution) and the others are
    bystanders, which a re-plan may use again."""
    culprit, reason = exc.venue, str(exc)
    if culprit is None and isinstance(exc, SimulationReverted) and exc.data:
        err = decode_error(exc.data)
        index = dict(err.args).get("index") if err is not None else None
        if err is not None and isinstance(index, int) and 0 <= index < len(legs):
            culprit = legs[index].venue
            reason = f"{legs[index].venue}: the simulation reverts: {explain(err)}"
    if culprit is None:
        return failed(legs, attempt, reason)
    name = aggregator_name(culprit)
    blamed = {culprit} | ({leg.venue for leg in legs if aggregator_name(leg.venue) == name} if name else set())
    return [
        leg_result(leg, LegStatus.FAILED, None, attempt,
                   reason=(reason if leg.venue in blamed else f"{BYSTANDER}: {reason}")[:300])
        for leg in legs
    ]  # fmt: skip


def unknown(legs: Sequence[PlanLeg], attempt: int, reason: str) -> list[LegResult]:
    """Sent, outcome not known: recovery asks the venue; the input may be gone."""
    return [leg_result(leg, LegStatus.UNKNOWN, None, attempt, reason=reason[:300]) for leg in legs]


# --- chains ---------------------------------------------------------------------------------------------------


@dataclass
class ChainRunner:
    """One chain: every leg of a step in one ``FillpathExecutor`` transaction. ``venue`` is None in a dry run
    (simulated with an allowance override, no key loaded). ``aggregators``: the quote APIs configured here, by
    name; an aggregator leg gets a fresh, vetted quote in ``prepare`` (``aggregator_leg.py``)."""

    location: str
    rpc: RpcClient
    holder: str
    executor: str
    store: Store
    venue: evm.EvmVenue | None
    finder: SlotFinder | None = None
    aggregators: Mapping[str, AggregatorRoute] = field(default_factory=dict)
    kind: str = "evm.executor"
    batched: bool = True

    def accepts(self, venue: object) -> bool:
        if isinstance(venue, Aggregator):
            return venue.location == self.location and route_for(venue, self.aggregators) is not None
        return isinstance(venue, CHAIN_KINDS) and venue.location == self.location

    async def prepare(self, job: Job) -> Prepared | list[LegResult]:
        job = replace(job, legs=tuple(calls_first(job.legs, job.venues)))  # results are matched by leg, not order
        reading = asyncio.ensure_future(self.rpc.request("eth_getBlockByNumber", ["latest", False]))
        try:
            quotes = await fresh_quotes(job.legs, job.venues, self.aggregators, job.addresses, self.executor)
        except Rejected as exc:  # no fresh quote, or one that fails a check: nothing was sent
            reading.cancel()
            return refused(job.legs, job.attempt, exc)
        except BaseException:
            reading.cancel()
            raise
        head = await reading
        deadline = hex_int(head["timestamp"]) + job.deadline_s  # chain time: the executor checks block.timestamp
        plan = chain_exec_plan(job.legs, job.venues, job.addresses, recipient=self.holder, deadline=deadline,
                               quotes=quotes)  # fmt: skip
        if job.dry_run or self.venue is None:
            return await self._simulate(job, plan, quotes)
        try:
            if quotes:  # calldata built by someone else: simulated before anything is approved for it
                check_simulated(quotes, (await self._simulated(plan)).amounts_out)
            prepared = await evm.prepare(self.venue, self.store, plan)
            check_simulated(quotes, prepared.expected.amounts_out)
        except Rejected as exc:  # refused before anything was signed (simulation, approvals): the input is ours
            return refused(job.legs, job.attempt, exc)
        by_address = {str(a).lower(): x for x, a in job.addresses.items() if a and x.location == self.location}
        return _ChainStep(job, prepared, self.store, by_address)

    async def _simulated(self, plan: ExecPlan) -> ExecResult:
        """The call as ``eth_call`` with exactly the plan's allowances set by a state override (none sent)."""
        if self.finder is None:
            self.finder = SlotFinder(self.rpc)
        return await simulate_plan(self.rpc, self.finder, self.holder, self.executor, plan)

    async def _simulate(self, job: Job, plan: ExecPlan, quotes: Mapping[int, VettedQuote]) -> list[LegResult]:
        try:
            sim = await self._simulated(plan)
            check_simulated(quotes, sim.amounts_out)
        except Rejected as exc:
            return refused(job.legs, job.attempt, exc)
        return [
            leg_result(leg, LegStatus.SIMULATED, got, job.attempt, at_send=got)
            for leg, got in zip(job.legs, sim.amounts_out, strict=True)
        ]


@dataclass
class _ChainStep:
    job: Job
    prepared: evm.PreparedTx
    store: Store
    assets_by_address: Mapping[str, AssetId]
    staged: evm.StagedTx | None = None

    def stage(self) -> Sequence[Event]:
        legs = self.job.legs
        produced = {x.asset_out for x in legs}
        consumed = {x.asset_in for x in legs}
        sources = [leg for leg in legs if leg.asset_in not in produced]
        finals = [leg for leg in legs if leg.asset_out not in consumed]
        self.staged = evm.stage(self.prepared, intent_id=self.job.ref, asset_in=sources[0].asset_in,
                                amount_in=sum(x.amount_in for x in sources), asset_out=finals[0].asset_out)  # fmt: skip
        return self.staged.events

    def unstage(self) -> None:
        if self.staged is not None:
            evm.unstage(self.staged)
            self.staged = None

    async def run(self) -> list[LegResult]:
        assert self.staged is not None, "stage() and commit before run()"
        out = await evm.send_and_book(self.staged, self.store, self.assets_by_address)
        return chain_results(self.job.legs, out, self.job.attempt)


def chain_results(legs: Sequence[PlanLeg], out: evm.ChainOutcome, attempt: int) -> list[LegResult]:
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
            leg_result(leg, status, realized, attempt, ref=out.tx_hash, at_send=at_send,
                       gas_wei=out.gas_cost_wei if i == 0 else 0, reason=out.reason)
        )  # fmt: skip
    return results


# --- exchanges ------------------------------------------------------------------------------------------------


@dataclass
class ExchangeRunner:
    """One exchange account: each book leg one protected order (LIMIT IOC at the worst level the plan walks,
    widened by the slippage). ``driver`` is None in a dry run (no credentials loaded)."""

    location: str
    store: Store
    driver: OrderDriver | None
    crash: Callable[[str], None] = field(default=lambda _name: None)
    kind: str = "cex.order"
    batched: bool = False

    def accepts(self, venue: object) -> bool:
        return isinstance(venue, OrderBook) and venue.location == self.location

    async def prepare(self, job: Job) -> Prepared | list[LegResult]:
        (leg,) = job.legs
        book = job.venues[leg.venue]
        assert isinstance(book, OrderBook)
        cid = client_order_id(job.ref)  # derived from the intent: the same on a retry, in every venue's alphabet
        try:
            order = xl.order_leg(leg, book, cid, job.slippage_bps, intent_id=job.ref)
        except InvalidInput as exc:  # below one lot, after a partial delivery: nothing to send
            return failed(job.legs, job.attempt, str(exc), ref=cid)
        if job.dry_run or self.driver is None:
            return [leg_result(leg, LegStatus.SIMULATED, leg.amount_out, job.attempt, ref=cid)]
        return _OrderStep(job, order, self.driver, self.store, self.crash)


@dataclass
class _OrderStep:
    job: Job
    order: xl.OrderLeg
    driver: OrderDriver
    store: Store
    crash: Callable[[str], None]
    staged: Staged | None = None

    def stage(self) -> Sequence[Event]:
        self.staged = self.driver.stage(self.order.cmd)
        return (xl.intent_for(self.order, self.job.deadline_ns), *self.staged.events)

    def unstage(self) -> None:
        self.staged = None

    async def run(self) -> list[LegResult]:
        assert self.staged is not None, "stage() and commit before run()"
        cid = self.staged.client_order_id
        self.driver.staged(self.staged)
        tracked = await self.driver.send(cid)
        self.crash("ack")
        if not tracked.state.terminal:
            tracked = await self.driver.settle(cid)
        got = xl.book(self.store, self.order, tracked)
        leg = self.order.leg
        status = order_status(tracked.state, got, leg)
        reason = None if status is LegStatus.DONE else f"order {tracked.state}"
        realized = got.realized if tracked.state.terminal else None
        return [leg_result(leg, status, realized, self.job.attempt, ref=cid, spent=got.spent, reason=reason)]


def order_status(state: OrderState, got: xl.OrderOutcome, leg: PlanLeg) -> LegStatus:
    if not state.terminal:
        return LegStatus.UNKNOWN
    if got.realized <= 0:
        return LegStatus.FAILED
    if got.spent < leg.amount_in and state is not OrderState.FILLED:
        return LegStatus.PARTIAL
    return LegStatus.DONE
