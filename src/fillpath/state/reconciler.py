"""The reconciliation service: one pass per venue, on its own interval; ``fillpath reconcile`` runs one pass.

Every venue: its balances against the ledger (``reconcile.decide`` / ``events_for``). An exchange account
given :class:`ExchangeChecks` also gets its open orders against ours, its trades against our fills, and its
user stream's balances against the REST read (``reconcile_orders``, ``reconcile_stream``). Whatever the
venue's evidence settles about one of our orders goes through the order driver, so the journal records the
venue's own word (an order resolved by its client id, a missing fill under its trade id), never a guess.

The ledger and the in-flight state come from the store's in-memory projections; what reconciliation recorded
before comes from :class:`ReconcileMemory`, which follows the journal's tail. Reconciling twice on the same
reports adds nothing the second time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from fillpath.model.assets import AssetId
from fillpath.model.errors import FillpathError
from fillpath.model.events import DriftDetected, Event, Recorded
from fillpath.model.ports import Journal
from fillpath.model.reports import BalanceReport, FillReport, OpenOrderReport, OrderStatusReport, TradeReport
from fillpath.state.reconcile import Finding, ReconcilePolicy, decide, events_for
from fillpath.state.reconcile_memory import ReconcileMemory
from fillpath.state.reconcile_orders import (
    VENUE_OPEN,
    OrderAction,
    OrderFinding,
    TradeAction,
    TradeFinding,
    compare_orders,
    missing_fills,
    order_events,
)
from fillpath.state.reconcile_stream import StreamBalances, StreamFinding, compare_stream, stream_events, stream_source
from fillpath.state.records import IntentStatus, OrderRecord, TransferRecord, TxStatus
from fillpath.state.store import Store
from fillpath.state.transfers import IN_FLIGHT, MAYBE_TAKEN

UNFINISHED_TX = frozenset({TxStatus.BROADCAST, TxStatus.MINED, TxStatus.REORGED})


class BalanceSource(Protocol):
    location: str

    def balances(self) -> Awaitable[list[BalanceReport]]: ...


class OrderSource(Protocol):
    """An exchange account as order reconciliation reads it (``cex.connector.CcxtConnector`` is one)."""

    location: str

    async def open_orders(self) -> list[OpenOrderReport]: ...

    async def trades(self, symbol: str, since_ms: int | None) -> list[TradeReport]: ...

    async def fetch_order(self, symbol: str, client_order_id: str) -> OrderStatusReport | None: ...


class OrderResolver(Protocol):
    """The order state machine's driver for one venue (``cex.order_driver.OrderDriver``)."""

    def reload(self, records: Iterable[Recorded]) -> list[str]: ...

    async def poll(self, cid: str) -> object: ...

    def book_fills(self, cid: str, fills: Sequence[FillReport]) -> object: ...


@dataclass(frozen=True, slots=True)
class ExchangeChecks:
    """Beyond balances, on one exchange account: orders and trades, and the user stream's balances."""

    venue: OrderSource
    resolver: Callable[[Journal], OrderResolver]
    """Makes the venue's order driver, once, writing through the journal the reconciler hands it."""
    stream: StreamBalances | None = None


@dataclass(frozen=True, slots=True)
class ExchangeResult:
    orders: tuple[OrderFinding, ...]
    trades: tuple[TradeFinding, ...]
    stream: tuple[StreamFinding, ...] | None
    """None: no stream was listened to."""
    open_listed: int
    trades_listed: int
    stream_updates: int


@dataclass(frozen=True, slots=True)
class PassResult:
    venue: str
    findings: tuple[Finding, ...]
    events: tuple[Event, ...]
    """Every event this pass recorded for the venue, including what the order driver journaled."""
    reports: tuple[BalanceReport, ...]
    exchange: ExchangeResult | None = None
    in_flight: tuple[TransferRecord, ...] = ()
    """Transfers on their way to this venue (taken by their source, not credited here yet): counted, not drift."""
    led_elsewhere: bool = False
    """Another live process reconciles this venue (engines sharing a PostgreSQL journal): this pass skipped it."""


class _PassJournal:
    """The journal the order driver writes through: the store, less a drift already recorded with the same
    figures (the state machine forgets a held-out trade across restarts and would report it again); it keeps
    what it appended, for the pass's result."""

    def __init__(self, store: Store, memory: ReconcileMemory) -> None:
        self.store = store
        self.memory = memory
        self.appended: list[Event] = []

    def append(self, event: Event, *, recv_ns: int | None = None, venue_ts: int | None = None) -> int:
        return self.append_many((event,), recv_ns=recv_ns, venue_ts=venue_ts)[0]

    def append_many(
        self, events: Iterable[Event], *, recv_ns: int | None = None, venue_ts: int | None = None
    ) -> list[int]:
        batch = list(events)
        dropped = [self._recorded(e) for e in batch]
        before = self.store.last_seq
        kept = [e for e, drop in zip(batch, dropped, strict=True) if not drop]
        seqs = iter(self.store.append_many(kept, recv_ns=recv_ns, venue_ts=venue_ts))
        out = []
        for e, drop in zip(batch, dropped, strict=True):
            seq = 0 if drop else next(seqs)
            if seq > before:  # a fill the store already held returns the first one's seq
                self.appended.append(e)
            out.append(seq)
        return out

    def _recorded(self, e: Event) -> bool:
        if not isinstance(e, DriftDetected):
            return False
        return self.memory.drifts(e.source).get(e.asset) == (e.expected, e.observed)


class Reconciler:
    def __init__(
        self,
        store: Store,
        sources: Sequence[BalanceSource],
        policy: ReconcilePolicy | None = None,
        *,
        exchanges: Mapping[str, ExchangeChecks] | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ):
        self.store = store
        self.sources = list(sources)
        self.policy = policy or ReconcilePolicy()
        self.exchanges = dict(exchanges or {})
        self._clock_ns = clock_ns
        self._memory = ReconcileMemory()
        self._journals: dict[str, _PassJournal] = {}
        self._resolvers: dict[str, OrderResolver] = {}

    def _follow(self) -> None:
        self.store.refresh()
        self._memory.follow(self.store)

    def _busy(self, venue: str) -> tuple[bool, set[AssetId]]:
        flying: set[AssetId] = set()
        unbooked: set[str] = set()
        for i in self.store.intents().values():
            if i.venue == venue and i.status is IntentStatus.OPEN:
                flying |= {a for a in (i.asset_in, i.asset_out) if a is not None}
                unbooked.add(i.intent_id)
        # a transaction final on chain whose intent is not booked yet has paid gas in the native asset, which the
        # intent does not name: the venue is busy until it is booked (else its gas reads as drift and is "adjusted",
        # then booked again)
        txs = any(t.venue == venue and (t.status in UNFINISHED_TX or t.intent_id in unbooked)
                  for t in self.store.transactions().values())  # fmt: skip
        for t in self.store.transfers().values():  # funds between locations: not drift at either end
            if t.state in MAYBE_TAKEN and t.venue == venue and t.source is not None:
                flying.add(t.source)  # the source may have taken them before we booked it
            if t.state in MAYBE_TAKEN | IN_FLIGHT and t.target is not None and t.target.location == venue:
                flying.add(t.target)  # the target may credit them before we book it
        for (v, _), o in self.store.orders().items():  # an unsettled order: its fills may not be booked yet
            if v == venue and not o.status.terminal:
                base, slash, quote = (o.symbol or "").partition("/")
                if not slash:
                    return True, flying
                flying |= {AssetId(base, venue), AssetId(quote, venue)}
        return txs, flying

    async def reconcile_venue(self, source: BalanceSource) -> PassResult:
        if not self.store.try_lead(f"reconcile:{source.location}"):  # one reconciler per venue at a time
            return PassResult(source.location, (), (), (), led_elsewhere=True)
        rest_sent = self._clock_ns()
        reports = await source.balances()
        rest_done = self._clock_ns()
        self._follow()  # after the venue's figures: what was booked before they were read is in the ledger we use
        ledger = dict(self.store.balances())
        busy, flying = self._busy(source.location)
        findings = decide(reports, ledger, in_flight=flying, venue_busy=busy, policy=self.policy)
        halted = {source.location: self.store.venue_flag(source.location).halted}
        label = f"{source.location} balances"
        events = events_for(findings, source=label, recorded_drifts=self._memory.drifts(label), halted=halted)
        self._append(events)
        checks = self.exchanges.get(source.location)
        exchange = None
        if checks is not None:
            exchange, more = await self._exchange(checks, reports, rest_sent, rest_done)
            events = events + more
        arriving = tuple(
            t for t in self.store.transfers().values()
            if t.state in IN_FLIGHT and t.target is not None and t.target.location == source.location
        )  # fmt: skip
        return PassResult(source.location, tuple(findings), tuple(events), tuple(reports), exchange, arriving)

    def _append(self, events: Sequence[Event]) -> None:
        if events:
            self.store.append_many(events)
            self._memory.follow(self.store)

    def _journal(self, checks: ExchangeChecks) -> tuple[_PassJournal, OrderResolver]:
        venue = checks.venue.location
        if venue not in self._resolvers:
            self._journals[venue] = _PassJournal(self.store, self._memory)
            self._resolvers[venue] = checks.resolver(self._journals[venue])
        journal = self._journals[venue]
        journal.appended = []
        return journal, self._resolvers[venue]

    async def _exchange(
        self, checks: ExchangeChecks, reports: Sequence[BalanceReport], rest_sent: int, rest_done: int
    ) -> tuple[ExchangeResult, list[Event]]:
        venue = checks.venue.location
        journal, resolver = self._journal(checks)
        listed = await checks.venue.open_orders()
        orders, drifts = await self._orders(checks, resolver, listed)
        trades, trades_listed = await self._trades(checks, resolver)
        self._append(drifts)
        events: list[Event] = [*journal.appended, *drifts]
        stream: tuple[StreamFinding, ...] | None = None
        updates = 0
        if checks.stream is not None:
            wait_ns = rest_done + int(self.policy.stream_settle_s * 1e9) - self._clock_ns()
            if wait_ns > 0 and checks.stream.latest():  # a push on the wire for an asset heard before
                await asyncio.sleep(wait_ns / 1e9)
            found = compare_stream(reports, checks.stream.latest(), rest_sent_ns=rest_sent)
            more = stream_events(found, self._memory.drifts(stream_source(venue)))
            self._append(more)
            events += more
            stream, updates = tuple(found), checks.stream.updates
        return ExchangeResult(tuple(orders), tuple(trades), stream, len(listed), trades_listed, updates), events

    def _ours(self, venue: str) -> dict[str, OrderRecord]:
        return {cid: o for (v, cid), o in self.store.orders().items() if v == venue}

    async def _orders(
        self, checks: ExchangeChecks, resolver: OrderResolver, listed: Sequence[OpenOrderReport]
    ) -> tuple[list[OrderFinding], list[Event]]:
        venue = checks.venue.location
        self._follow()  # after the venue's listing: an order submitted meanwhile is in the journal by now
        ours = self._ours(venue)
        now, grace = self._clock_ns(), int(self.policy.order_grace_s * 1e9)
        fresh = {cid for cid in ours if now - (self._memory.last_ns(venue, cid) or 0) < grace}
        out = []
        for f in compare_orders(venue, listed, ours, fresh):
            if f.action is OrderAction.DISPUTED and f.symbol is not None:
                try:
                    again = await checks.venue.fetch_order(f.symbol, f.client_order_id)
                except FillpathError:  # a failed read is no evidence: ask again next pass
                    f = replace(f, action=OrderAction.WAIT, after=f.recorded)
                else:
                    if again is None or again.status not in VENUE_OPEN:  # the listing predates the order's end
                        f = replace(f, action=OrderAction.OK, after=f.recorded)
            elif f.action is OrderAction.RESOLVE:
                if f.client_order_id in resolver.reload(self._memory.history(venue, f.client_order_id)):
                    await resolver.poll(f.client_order_id)
                rec = self.store.order(venue, f.client_order_id)
                f = replace(f, after=rec.status if rec else None)
            out.append(f)
        return out, list(order_events(out, self._memory.order_drifts))

    async def _trades(self, checks: ExchangeChecks, resolver: OrderResolver) -> tuple[list[TradeFinding], int]:
        """Our trades at the venue since the earliest order in the window, against the fills projection."""
        venue = checks.venue.location
        self._follow()
        ours = self._ours(venue)
        since = self._clock_ns() - int(self.policy.trade_lookback_s * 1e9)
        in_scope = set(self._memory.heard_since(venue, since)) | {c for c, o in ours.items() if not o.status.terminal}
        self._memory.forget(venue, [c for c in self._memory.known(venue) if c not in in_scope])
        start: dict[str, int] = {}
        for cid in in_scope:
            o, first = ours.get(cid), self._memory.first_ns(venue, cid)
            if o is not None and o.symbol is not None and first is not None:
                start[o.symbol] = min(start.get(o.symbol, first), first)
        listed: list[TradeReport] = []
        for symbol, first_ns in sorted(start.items()):
            listed += await checks.venue.trades(symbol, first_ns // 1_000_000 - self.policy.venue_clock_slack_ms)
        cid_of = {o.venue_order_id: cid for cid, o in ours.items() if o.venue_order_id is not None}
        missing, foreign = missing_fills(listed, cid_of, self.store.fills())
        out = [TradeFinding(venue, t, None, TradeAction.FOREIGN) for t in foreign]
        by_id = {t.trade_id: t for t in listed}
        for cid, fills in sorted(missing.items()):
            tracked = cid in resolver.reload(self._memory.history(venue, cid))
            if tracked:
                resolver.book_fills(cid, fills)
            for f in fills:
                booked = (venue, f.trade_id) in self.store.fills()
                action = TradeAction.BOOKED if booked else TradeAction.HELD_OUT if tracked else TradeAction.UNTRACKED
                out.append(TradeFinding(venue, by_id[f.trade_id], cid, action))
        return out, len(listed)

    async def run_once(self) -> list[PassResult]:
        return [await self.reconcile_venue(s) for s in self.sources]

    async def run(self, stop: asyncio.Event, interval_s: float) -> None:
        """The service loop (each pass is the same code ``fillpath reconcile`` runs)."""
        while not stop.is_set():
            await self.run_once()
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
            except TimeoutError:
                continue
