"""The cold path that watches: per location a reconciliation loop (on its interval and whenever something relevant
happens there), per chain a head follower that drives the transaction tracker, per exchange the user-data stream
next to the REST polling, a fresh snapshot for routing, venue health ticks, and the journal's tail (the live feed,
the metrics, the executions). :class:`Watcher` holds what they learn; the API reads it.

Start-up is gated (nautilus's start-up reconciliation event): recover what a previous process left open, then one
pass over every location, then ``ready``. The loops wait for it; the API answers 503 until then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from fillpath.app import ExecutionParts, balance_confirmations, exchange_checks, flow_evidence, new_epoch_venues
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.user_stream import UserStream
from fillpath.chains.balances import ChainBalances
from fillpath.chains.heads import heads
from fillpath.chains.readers import ChainSource
from fillpath.chains.rpc import RpcClient, hex_int
from fillpath.chains.tracker import TrackerPolicy, TxTracker
from fillpath.config import Config
from fillpath.execution.evm import adopt_record, journaled_raw
from fillpath.execution.recovery import Resolution, recover
from fillpath.model.errors import FillpathError
from fillpath.model.events import Recorded
from fillpath.model.reports import BalanceReport, FillReport, OrderStatusReport
from fillpath.router import Market
from fillpath.router.snapshot import Snapshot
from fillpath.service.hub import EventHub
from fillpath.service.metrics import ServiceMetrics
from fillpath.service.views import ExecutionLog
from fillpath.state.clock import ClockTracker
from fillpath.state.reconcile_stream import StreamBalances
from fillpath.state.reconciler import UNFINISHED_TX, BalanceSource, PassResult, Reconciler
from fillpath.state.store import Store

log = logging.getLogger(__name__)

RELEVANT = frozenset(
    {
        "order.partially_filled", "order.filled", "order.canceled", "order.expired", "order.rejected",
        "tx.confirmed", "tx.reverted", "tx.dropped", "tx.replaced", "intent.resolved",
    }
)  # fmt: skip
"""Journal kinds after which the location they name is reconciled again at once (not only on its interval)."""
MIN_GAP_S = 0.2
"""Passes of one location triggered by events are at least this far apart (a burst of fills is one pass)."""
TAIL_S = 0.1
STARTUP_RETRY_S = 2.0


@dataclass
class LocationState:
    """What the service knows of one location's reconciliation (and its head or stream)."""

    location: str
    kind: str
    interval_s: float
    reconciled: bool = True
    """False: no balance source here (no holder address configured), so nothing to compare."""
    passes: int = 0
    errors: int = 0
    status: str = "pending"
    last_started_ns: int | None = None
    last_finished_ns: int | None = None
    last_duration_ms: float | None = None
    last_error: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)
    last_events: list[str] = field(default_factory=list)
    events_recorded: int = 0
    reports: tuple[BalanceReport, ...] = ()
    head: int | None = None
    head_source: str | None = None
    stream_updates: int = 0
    stream_gaps: int = 0
    clock_offset_ms: float | None = None

    def to_json(self, now_ns: int) -> dict[str, Any]:
        lag = None if self.last_finished_ns is None else round((now_ns - self.last_finished_ns) / 1e9, 3)
        out: dict[str, Any] = {
            "location": self.location,
            "kind": self.kind,
            "reconciled": self.reconciled,
            "status": self.status,
            "interval_s": self.interval_s,
            "passes": self.passes,
            "errors": self.errors,
            "lag_s": lag,
            "last_finished_ns": None if self.last_finished_ns is None else str(self.last_finished_ns),
            "last_duration_ms": self.last_duration_ms,
            "last_error": self.last_error,
            "findings": self.findings,
            "last_events": self.last_events,
            "events_recorded": self.events_recorded,
        }
        if self.kind == "chain":
            out |= {"head": self.head, "head_source": self.head_source}
        else:
            out |= {"stream_updates": self.stream_updates, "stream_gaps": self.stream_gaps,
                    "clock_offset_ms": self.clock_offset_ms}  # fmt: skip
        return out


def _status(result: PassResult) -> str:
    actions = {f.action.value for f in result.findings}
    if "halt" in actions:
        return "halt"
    if result.events and any(e.kind in ("drift.detected", "order.drift_detected") for e in result.events):
        return "drift"
    if "adjust" in actions:
        return "drift"
    if "wait" in actions:
        return "wait"
    return "ok"


class SnapshotCache:
    """The venues' latest snapshot, refreshed in the background, so a route or swap sent to the service plans on a
    snapshot at most ``max_age`` old instead of reading every venue first."""

    def __init__(self, take: Callable[[], Awaitable[Snapshot]], clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._take = take
        self._clock_ns = clock_ns
        self._lock = asyncio.Lock()
        self.snapshot: Snapshot | None = None
        self.taken_ns = 0
        self.error: str | None = None
        self._market: Market | None = None

    def age_s(self) -> float | None:
        return None if self.snapshot is None else (self._clock_ns() - self.taken_ns) / 1e9

    async def refresh(self) -> Snapshot:
        """A snapshot read after this call began (one read serves every caller waiting meanwhile)."""
        asked = self._clock_ns()
        async with self._lock:
            if self.snapshot is not None and self.taken_ns >= asked:
                return self.snapshot
            try:
                snap = await self._take()
            except Exception as exc:
                self.error = f"{type(exc).__name__}: {exc}"[:300]
                raise
            self.snapshot, self.taken_ns, self._market, self.error = snap, self._clock_ns(), None, None
            return snap

    async def fresh(self, max_age_s: float) -> Snapshot:
        if self.snapshot is not None and (self.age_s() or 0.0) <= max_age_s:
            return self.snapshot
        return await self.refresh()

    async def market(self, max_age_s: float) -> tuple[Snapshot, Market]:
        snap = await self.fresh(max_age_s)
        if self._market is None or self.snapshot is not snap:
            market = Market.from_snapshot(snap)
            if self.snapshot is snap:
                self._market = market
            return snap, market
        return snap, self._market


class _Timed:
    """A balance source whose reads are timed into the metrics (the venue latency the dashboard shows)."""

    def __init__(self, source: BalanceSource, metrics: ServiceMetrics) -> None:
        self.source = source
        self.location = source.location
        self._metrics = metrics

    async def balances(self) -> list[BalanceReport]:
        t = time.perf_counter()
        try:
            return await self.source.balances()
        finally:
            self._metrics.venue_latency.labels(self.location, "balances").observe(time.perf_counter() - t)


class Watcher:
    def __init__(
        self,
        cfg: Config,
        store: Store,
        parts: ExecutionParts,
        metrics: ServiceMetrics,
        hub: EventHub,
        *,
        chains: Sequence[tuple[RpcClient, ChainSource]],
        streams: Mapping[str, CcxtConnector],
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.cfg, self.store, self.parts, self.metrics, self.hub = cfg, store, parts, metrics, hub
        self.clock_ns = clock_ns
        self.chains = {src.location: (rpc, src) for rpc, src in chains}
        self.pro = dict(streams)
        self.stream_balances = {loc: StreamBalances(loc) for loc in self.pro}
        sources: dict[str, BalanceSource] = {}
        plain: list[ChainBalances | CcxtConnector] = []
        self.locations: dict[str, LocationState] = {}
        for loc, (rpc, src) in self.chains.items():
            self.locations[loc] = LocationState(
                loc, "chain", cfg.service.interval_for(loc), reconciled=bool(src.holder)
            )
            if src.holder:
                plain.append(ChainBalances(rpc, src, confirmations=balance_confirmations(cfg, loc)))
                sources[loc] = _Timed(plain[-1], metrics)
        for conn in parts.exchanges:
            self.locations[conn.location] = LocationState(
                conn.location, "exchange", cfg.service.interval_for(conn.location)
            )
            sources[conn.location] = _Timed(conn, metrics)
            plain.append(conn)
        self.sources = sources
        self.exchanges = {c.location: c for c in parts.exchanges}
        checks = exchange_checks(parts.exchanges, self.stream_balances)
        self.reconciler = Reconciler(
            store, list(sources.values()), exchanges=checks, evidence=flow_evidence(plain),
            new_epoch=new_epoch_venues(cfg),
        )  # fmt: skip
        self.trackers: dict[str, TxTracker] = {}
        for loc, (rpc, _src) in self.chains.items():
            venue = parts.evm.get(loc)
            confirmations = max(1, cfg.locations[loc].confirmations)
            # a tracker of the engine's venue replaces what its signer signed (``app.replace_policy``); one without a
            # signer only follows what the journal holds
            self.trackers[loc] = venue.tracker if venue is not None else TxTracker(
                rpc, loc, store, TrackerPolicy(confirmations=confirmations)
            )  # fmt: skip
        self.pokes = {loc: asyncio.Event() for loc in self.locations}
        self.lock = asyncio.Lock()
        self.ready = asyncio.Event()
        self.phase = "starting"
        self.startup_error: str | None = None
        self.recovered: list[Resolution] = []
        self.snapshots = SnapshotCache(parts.wiring.snapshot, clock_ns)
        self.executions = ExecutionLog()
        self.seen_seq = 0
        self.clock = ClockTracker(cfg.service.clock_bound_ms * 1_000_000)
        self.started_ns = clock_ns()

    # --- reading (the API, the metrics) ---------------------------------------------------------------

    def is_ready(self) -> bool:
        return self.ready.is_set()

    def reconcile_lag_s(self) -> dict[str, float]:
        now = self.clock_ns()
        return {
            loc: (now - (s.last_finished_ns or self.started_ns)) / 1e9
            for loc, s in self.locations.items()
            if s.reconciled
        }

    def tracker_backlog(self) -> dict[str, int]:
        return {loc: t.backlog() for loc, t in self.trackers.items()}

    def health_scores(self) -> dict[str, float]:
        health, now = self.parts.wiring.health, self.clock_ns()
        if health is None:
            return {}
        return {loc: health.book.score(loc, now) for loc in self.locations}

    def snapshot_age_s(self) -> float | None:
        return self.snapshots.age_s()

    def journal_last_seq(self) -> int:
        return self.store.last_seq

    def venue_reports(self) -> dict[str, dict[str, str]]:
        """Every location's latest balances as its last pass read them (asset id → amount and unit)."""
        out: dict[str, dict[str, str]] = {}
        for s in self.locations.values():
            for r in s.reports:
                unit = "base" if isinstance(r.amount, int) else "human"
                out[str(r.asset)] = {"amount": str(r.amount), "unit": unit}
        return out

    # --- start-up gate --------------------------------------------------------------------------------

    async def startup(self) -> None:
        """Recover, one pass everywhere, then ready. A failed recovery is retried (the API says why meanwhile)."""
        while True:
            try:
                self.phase = "recovering"
                self.recovered = await recover(
                    self.store, self.parts.evm, self.parts.drivers, self.parts.assets_by_address, self.parts.movers
                )
                self._adopt_transactions()
                break
            except Exception as exc:  # a venue that cannot answer yet: say so, and try again
                self.startup_error = f"recovery: {type(exc).__name__}: {exc}"[:500]
                log.warning("%s; retrying in %.0f s", self.startup_error, STARTUP_RETRY_S)
                await asyncio.sleep(STARTUP_RETRY_S)
        self.phase = "reconciling"
        for loc in self.locations:
            await self.reconcile(loc)
        self.startup_error = None
        self.phase = "ready"
        self.ready.set()

    def _adopt_transactions(self) -> None:
        """Transactions the journal holds unfinished (an approval a crash left in flight) go to their tracker."""
        todo = [tx for tx in self.store.transactions().values()
                if tx.venue in self.trackers and tx.status in UNFINISHED_TX and tx.sender is not None
                and tx.nonce is not None]  # fmt: skip
        for location in sorted({tx.venue for tx in todo}):
            raws = journaled_raw(self.store, location, {tx.tx_hash for tx in todo if tx.venue == location})
            for tx in todo:
                if tx.venue == location:  # from where the journal left it (mined in a block, or pending)
                    adopt_record(self.trackers[location], tx, raws.get(tx.tx_hash))

    # --- reconciliation -------------------------------------------------------------------------------

    def poke(self, location: str) -> None:
        if location in self.pokes:
            self.pokes[location].set()

    async def reconcile(self, location: str) -> LocationState:
        """One pass of ``location`` now (passes never overlap: they share the reconciler's memory)."""
        st = self.locations[location]
        source = self.sources.get(location)
        if source is None:
            st.status = "not reconciled"
            return st
        async with self.lock:
            start = self.clock_ns()
            st.last_started_ns = start
            t = time.perf_counter()
            try:
                result = await self.reconciler.reconcile_venue(source)
            except Exception as exc:  # the venue's failure is a status to show, never the watcher's end
                st.errors += 1
                st.last_error = f"{type(exc).__name__}: {exc}"[:300]
                st.status = "error"
                self.metrics.reconcile_passes.labels(location, "error").inc()
            else:
                st.passes += 1
                st.last_error = None
                st.status = _status(result)
                st.reports = result.reports
                st.findings = [
                    {"asset": str(f.asset), "ledger": None if f.ledger is None else str(f.ledger),
                     "venue": str(f.observed), "drift": str(f.drift), "action": f.action.value}
                    for f in result.findings
                ]  # fmt: skip
                st.last_events = [e.kind for e in result.events]
                st.events_recorded += len(result.events)
                self.metrics.reconcile_passes.labels(location, st.status).inc()
            finally:
                elapsed = time.perf_counter() - t
                st.last_duration_ms = round(elapsed * 1000, 2)
                st.last_finished_ns = self.clock_ns()
                self.metrics.reconcile_seconds.labels(location).observe(elapsed)
        if location in self.exchanges:
            await self._check_clock(location)
        return st

    async def _check_clock(self, location: str) -> None:
        """The exchange's clock against ours (the midpoint of the request): a step back or an offset past the bound
        is a ``ClockDivergence``, which the health book counts."""
        conn = self.exchanges[location]
        sent = self.clock_ns()
        try:
            venue_ms = await conn.server_time_ms()
        except Exception:  # an unanswered time request says nothing about the clock
            return
        got = self.clock_ns()
        self.metrics.venue_latency.labels(location, "time").observe((got - sent) / 1e9)
        mid = (sent + got) // 2
        self.locations[location].clock_offset_ms = round((mid - venue_ms * 1_000_000) / 1e6, 1)
        event = self.clock.observe(location, venue_ms * 1_000_000, mid)
        if event is not None:
            self.store.append(event, recv_ns=got, venue_ts=venue_ms * 1_000_000)

    async def reconcile_loop(self, location: str, stop: asyncio.Event) -> None:
        """Every ``interval`` after the previous pass began, and soon after anything relevant happened there."""
        await self.ready.wait()
        st, poke = self.locations[location], self.pokes[location]
        while not stop.is_set():
            due = (st.last_started_ns or 0) / 1e9 + st.interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(poke.wait(), timeout=max(0.0, due - self.clock_ns() / 1e9))
            if stop.is_set():
                return
            if poke.is_set():
                since = (self.clock_ns() - (st.last_finished_ns or 0)) / 1e9
                if since < MIN_GAP_S:
                    await asyncio.sleep(MIN_GAP_S - since)
                poke.clear()
            await self.reconcile(location)

    # --- chains: heads and the tracker ----------------------------------------------------------------

    async def follow_heads(self, location: str, stop: asyncio.Event) -> None:
        """New heads (WebSocket subscription, polling while it is down); each head polls the tracker if it holds
        anything unfinished, and a transaction reaching a final state re-reconciles the chain."""
        rpc, _src = self.chains[location]
        ws = self.cfg.locations[location].ws
        st, tracker = self.locations[location], self.trackers[location]
        await self.ready.wait()
        with contextlib.suppress(Exception):  # the head as it is now (a subscription only tells of new ones)
            st.head, st.head_source = hex_int(await rpc.request("eth_blockNumber")), "rpc"
        while not stop.is_set():
            try:
                async for number, how in heads(rpc, ws, poll_interval_s=self.cfg.service.head_poll_interval_s):
                    st.head, st.head_source = number, how
                    if tracker.backlog():
                        await self._poll_tracker(location)
            except Exception as exc:  # the node went away: keep trying, the status says so
                st.head_source = f"down: {type(exc).__name__}"
                await asyncio.sleep(self.cfg.service.head_poll_interval_s)

    async def tracker_timer(self, location: str, stop: asyncio.Event) -> None:
        """A poll on a timer too, so a stuck transaction is looked at when no block comes."""
        await self.ready.wait()
        tracker = self.trackers[location]
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(self.cfg.service.head_poll_interval_s, 1.0))
            if tracker.backlog():
                with contextlib.suppress(Exception):  # the next head or tick tries again
                    await self._poll_tracker(location)

    async def _poll_tracker(self, location: str) -> None:
        events = await self.trackers[location].poll()
        if any(e.kind in RELEVANT for e in events):
            self.poke(location)

    # --- exchanges: the user stream next to REST ------------------------------------------------------

    async def follow_stream(self, location: str, stop: asyncio.Event) -> None:
        """The user-data stream: order updates go to the order driver (journaled as the venue's evidence), balance
        pushes to the stream-vs-REST comparison the next pass makes (a disagreement is a ``DriftDetected``)."""
        await self.ready.wait()
        conn, st = self.pro[location], self.locations[location]
        driver = self.parts.drivers.get(location)
        heard = self.stream_balances[location]

        async def on_order(report: OrderStatusReport, fill: FillReport | None) -> None:
            st.stream_updates += 1
            self.metrics.stream_updates.labels(location, "order").inc()
            if driver is not None:
                await driver.on_stream(report, fill)
            self.poke(location)

        async def on_balances(reports: list[BalanceReport]) -> None:
            st.stream_updates += 1
            self.metrics.stream_updates.labels(location, "balances").inc()
            await heard.on_balances(reports)
            self.poke(location)

        async def on_gap() -> None:
            st.stream_gaps += 1
            self.metrics.stream_updates.labels(location, "gap").inc()
            if driver is not None:
                with contextlib.suppress(FillpathError):
                    await driver.catch_up()
            self.poke(location)
            await asyncio.sleep(1.0)  # a stream that keeps failing is retried once a second, not in a spin

        stream = UserStream(conn.exchange, location=location, dialect=conn.dialect)
        await stream.run(None, stop, on_order=on_order, on_balances=on_balances, on_gap=on_gap)

    # --- snapshot, health, journal tail ---------------------------------------------------------------

    async def snapshot_loop(self, stop: asyncio.Event) -> None:
        await self.ready.wait()
        while not stop.is_set():
            with contextlib.suppress(Exception):  # the cache keeps its error for the status
                await self.snapshots.refresh()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.cfg.service.snapshot_interval_s)

    async def health_loop(self, stop: asyncio.Event) -> None:
        """Operator halts and resumes from other processes are adopted; penalties decay; changes are journaled."""
        health = self.parts.wiring.health
        if health is None:
            return
        await self.ready.wait()
        while not stop.is_set():
            now = self.clock_ns()
            self.store.refresh()
            health.book.sync(self.store.projections().venue_flags.values(), now)
            health.catch_up(self.store, now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.cfg.service.health_tick_s)

    def load_journal(self) -> None:
        """Executions from the whole journal (once), and its recent tail for the live feed."""
        for rec in self.store.events():
            self.executions.feed(rec)
            self.seen_seq = rec.seq
        for rec in self.store.events(max(0, self.seen_seq - (self.hub.recent.maxlen or 1000))):
            self.hub.publish(rec)

    def tail_once(self) -> list[Recorded]:
        """Whatever the journal gained since the last look (from this process or any other)."""
        new = list(self.store.events(self.seen_seq))
        for rec in new:
            self.seen_seq = rec.seq
            self.executions.feed(rec)
            self.metrics.journaled(rec)
            self.hub.publish(rec)
            kind = rec.event.kind
            if kind in RELEVANT:
                self.poke(rec.event.venue)
            elif kind == "execution.finished":
                for loc in self.locations:
                    self.poke(loc)
        return new

    async def tail_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.tail_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=TAIL_S)

    def tasks(self, stop: asyncio.Event) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        """Every background loop of this service, as coroutine factories (the application starts and ends them)."""
        out: list[Callable[[], Coroutine[Any, Any, None]]] = [
            lambda: self.tail_loop(stop),
            lambda: self.snapshot_loop(stop),
            lambda: self.health_loop(stop),
        ]
        out += [partial(self.reconcile_loop, loc, stop) for loc in self.locations if loc in self.sources]
        out += [partial(self.follow_heads, loc, stop) for loc in self.chains]
        out += [partial(self.tracker_timer, loc, stop) for loc in self.chains]
        out += [partial(self.follow_stream, loc, stop) for loc in self.pro]
        return out
