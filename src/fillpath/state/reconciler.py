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
import itertools
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol

from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.model.errors import FillpathError, Refused
from fillpath.model.events import (
    BalanceAdjusted,
    BalancesAccepted,
    DriftDetected,
    Event,
    ExternalFlow,
    Recorded,
    VenueChecked,
    VenueHalted,
    VenueIdentified,
    VenueResumed,
)
from fillpath.model.ports import Journal
from fillpath.model.reports import (
    BalanceReport,
    FillReport,
    FlowReport,
    OpenOrderReport,
    OrderStatusReport,
    TradeReport,
)
from fillpath.state.reconcile import Action, Finding, ReconcilePolicy, decide, events_for
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


class FlowEvidence(Protocol):
    """What a venue shows about itself beyond balances (``chains.balances.ChainBalances``, ``cex.flows``): who it is,
    where its last balance read stands, and the money that moved in or out since an earlier point."""

    location: str

    async def identity(self) -> str | None:
        """The venue's identity (chain id + genesis + dev node instance; an exchange account id); None: unknown."""
        ...

    def mark(self) -> int | None:
        """Where the last ``balances()`` read stands (a block number, a time in ms)."""
        ...

    async def flows(self, after: int, assets: Collection[AssetId]) -> list[FlowReport]:
        """Every movement of ``assets`` after mark ``after`` up to :meth:`mark`, with its evidence."""
        ...


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
    flows: tuple[ExternalFlow, ...] = ()
    """External flows this pass recognized from the venue's evidence and booked."""
    identity_changed: str | None = None
    """The venue came back as another one: what was done (a new lab epoch, or a halt asking for an operator)."""
    noted: tuple[Event, ...] = ()
    """Bookkeeping this pass journaled that changes no balance: the venue's identity on first sight, the mark where
    the ledger agreed with it (``VenueChecked``). Not in ``events``, which is what the pass booked or found."""


def _level(loc: str, held: Mapping[AssetId, Amount], seen: Mapping[AssetId, Amount], why: str) -> list[BalanceAdjusted]:
    """The adjustments that make the ledger ``held`` equal the venue's ``seen``, per asset (an asset the ledger never
    held is opened, even at zero; one the venue no longer lists goes to zero)."""
    out = []
    for asset in sorted(set(held) | set(seen), key=str):
        before, after = held.get(asset), seen.get(asset)
        zero = 0 if isinstance(before if before is not None else after, int) else Decimal(0)
        delta = (after if after is not None else zero) - (before if before is not None else zero)
        if delta or before is None:
            out.append(BalanceAdjusted(loc, asset, delta, why))
    return out


async def _identity_of(ev: FlowEvidence | None) -> str | None:
    """The venue's identity, or None when it cannot say (no such endpoint, a failed read): then it is not checked
    this pass, and nothing else of the pass depends on it."""
    if ev is None:
        return None
    try:
        return await ev.identity()
    except FillpathError:
        return None


def _text(amounts: Mapping[AssetId, object]) -> str:
    """``ASSET=AMOUNT`` joined by spaces, by asset: a ledger as one line of an audit event."""
    return " ".join(f"{a}={v}" for a, v in sorted(amounts.items(), key=lambda kv: str(kv[0])))


@dataclass(frozen=True, slots=True)
class Acceptance:
    """What ``Reconciler.accept`` did (or, in a dry run, would do)."""

    venue: str
    adjustments: tuple[BalanceAdjusted, ...]
    events: tuple[Event, ...]
    lifts_halt: bool
    halt_reason: str | None
    """The venue's halt, if it is halted (lifted only when reconciliation set it)."""
    audit_seq: int | None
    """The audit event's seq; None in a dry run."""


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


NEAR_MARK_MAX = 8
"""At most this many flows of one asset whose time may predate the mark are weighed against each other."""


def _needed(reports: Sequence[FlowReport], gaps: Mapping[AssetId, Amount]) -> list[FlowReport]:
    """The flows to book: every one after the mark, and of those that may predate it (``near_mark``: perhaps already
    in the balances the ledger agreed with) the set that, with the others, closes the asset's gap exactly; none
    when no set does (what stays is drift, as without evidence). A withdrawal booked twice would make a ledger that
    agreed go negative: the gap, not the evidence's clock, says whether it is new."""
    sure = [r for r in reports if not r.near_mark]
    out = list(sure)
    for asset in dict.fromkeys(r.asset for r in reports if r.near_mark):
        near = [r for r in reports if r.near_mark and r.asset == asset][:NEAR_MARK_MAX]
        rest = gaps.get(asset, 0) - sum((r.delta for r in sure if r.asset == asset), start=0)
        if not rest:
            continue
        for size in range(1, len(near) + 1):
            pick = next((c for c in itertools.combinations(near, size) if sum(r.delta for r in c) == rest), None)
            if pick is not None:
                out += pick
                break
    chosen = {id(r) for r in out}
    return [r for r in reports if id(r) in chosen]


class Reconciler:
    def __init__(
        self,
        store: Store,
        sources: Sequence[BalanceSource],
        policy: ReconcilePolicy | None = None,
        *,
        exchanges: Mapping[str, ExchangeChecks] | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        evidence: Mapping[str, FlowEvidence] | None = None,
        new_epoch: Collection[str] = (),
    ):
        """``evidence``: per venue, its identity and flows (without it, every difference is drift, as before);
        ``new_epoch``: the venues (the lab's) where another identity starts a new epoch; elsewhere it halts."""
        self.store = store
        self.sources = list(sources)
        self.policy = policy or ReconcilePolicy()
        self.exchanges = dict(exchanges or {})
        self.evidence = dict(evidence or {})
        self.new_epoch = frozenset(new_epoch)
        self._clock_ns = clock_ns
        self._memory = ReconcileMemory()
        self._journals: dict[str, _PassJournal] = {}
        self._resolvers: dict[str, OrderResolver] = {}

    def _follow(self) -> None:
        self.store.refresh()
        self._memory.follow(self.store)

    def _busy(self, venue: str, read_at: int | None = None) -> tuple[bool, set[AssetId]]:
        """Whether anything at all is in flight at ``venue``, and the assets that are. ``read_at``: the block the
        balances were read at, on a chain (``FlowEvidence.mark``)."""
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
        # ... and one mined after the block the balances were read at, booked (with its gas) by the time the ledger
        # is read: the ledger is ahead of those figures, not wrong (else the gas is "adjusted" back, then again).
        # Only what moved since the ledger last agreed with a read (an earlier epoch's blocks are numbered anew).
        agreed = self._memory.marks.get(venue)
        if read_at is not None and agreed is not None and not txs:
            txs = any(t.venue == venue and t.last_seq > agreed[1] and t.block_number is not None
                      and t.block_number > read_at for t in self.store.transactions().values())  # fmt: skip
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

    def _booked_since(self, venue: str, seq: int) -> set[AssetId]:
        """The assets at ``venue`` whose ledger moved after journal seq ``seq``: booked while the venue's figures were
        being read (a bridge fill landing, a transaction's gas), they may be in the ledger and not in those figures.
        In flight for this pass: the next one reads after them (halting on it once stopped a scheduled rebalance:
        "drift on USDT@lab2: ledger 599633256791, venue 399756855810", the fill booked 60 ms before)."""
        return {r.event.asset for r in self.store.events(after_seq=seq)
                if isinstance(r.event, BalanceAdjusted) and r.event.venue == venue}  # fmt: skip

    async def reconcile_venue(self, source: BalanceSource) -> PassResult:
        loc = source.location
        if not self.store.try_lead(f"reconcile:{loc}"):  # one reconciler per venue at a time
            return PassResult(loc, (), (), (), led_elsewhere=True)
        asked_at = self.store.refresh()  # the journal when the venue's figures were asked for
        rest_sent = self._clock_ns()
        reports = await source.balances()
        rest_done = self._clock_ns()
        ev = self.evidence.get(loc)
        identity = await _identity_of(ev)
        mark = ev.mark() if ev is not None else None
        self._follow()  # after the venue's figures: what was booked before they were read is in the ledger we use
        changed, early = self._identity(loc, identity, reports)
        if changed is not None and loc not in self.new_epoch:  # another venue: nothing it says is compared
            return PassResult(loc, (), tuple(early), tuple(reports), identity_changed=changed)
        busy, flying = self._busy(loc, mark)
        flying |= self._booked_since(loc, asked_at)
        findings = decide(reports, dict(self.store.balances()), in_flight=flying, venue_busy=busy, policy=self.policy)
        flows = await self._flows(ev, loc, mark, findings)
        if flows:
            findings = decide(
                reports, dict(self.store.balances()), in_flight=flying, venue_busy=busy, policy=self.policy
            )
        halted = {loc: self.store.venue_flag(loc).halted}
        label = f"{loc} balances"
        events = events_for(findings, source=label, recorded_drifts=self._memory.drifts(label), halted=halted)
        checked: list[Event] = (
            [VenueChecked(loc, mark)] if mark is not None and self._agrees(loc, findings, busy, events) else []
        )
        self._append([*events, *checked])
        first_sight = [e for e in early if isinstance(e, VenueIdentified) and e.epoch == 1 and not e.previous]
        noted = [*first_sight, *checked]
        events = [*(e for e in early if e not in first_sight), *flows, *events]
        checks = self.exchanges.get(loc)
        exchange = None
        if checks is not None:
            exchange, more = await self._exchange(checks, reports, rest_sent, rest_done)
            events = events + more
        arriving = tuple(
            t for t in self.store.transfers().values()
            if t.state in IN_FLIGHT and t.target is not None and t.target.location == loc
        )  # fmt: skip
        return PassResult(
            loc, tuple(findings), tuple(events), tuple(reports), exchange, arriving,
            flows=tuple(flows), identity_changed=changed, noted=tuple(noted),
        )  # fmt: skip

    def _identity(
        self, loc: str, identity: str | None, reports: Sequence[BalanceReport]
    ) -> tuple[str | None, list[Event]]:
        """Compare the venue's identity with the one the ledger follows: first sight records it; another one starts
        a new epoch (a lab venue: the old ledger archived in the journal, the venue's figures opened) or halts the
        venue until an operator takes its figures (``fillpath reconcile --accept``)."""
        if identity is None:
            return None, []
        known = self._memory.identities.get(loc)
        if known is None:
            events: list[Event] = [VenueIdentified(loc, identity, 1)]
            self._append(events)
            return None, events
        if known.identity == identity:
            return None, []
        if loc not in self.new_epoch:
            flag = self.store.venue_flag(loc)
            why = (
                f"{loc} is not the venue the ledger follows (it was {known.identity}, it is now {identity}): "
                f"nothing was booked; if its figures are right, take them with "
                f'`fillpath reconcile --accept {loc} --reason "..."`'
            )
            events = (
                []
                if flag.halted and (flag.reason or "").startswith(f"{loc} is not the venue")
                else [VenueHalted(loc, why)]
            )
            self._append(events)
            return why, events
        held = {a: v for a, v in self.store.balances().items() if a.location == loc}
        archived = _text(held)
        epoch = known.epoch + 1
        note = (
            f"epoch {epoch}: {loc} came back as another venue (a lab restart); epoch {known.epoch}'s ledger is archived"
        )
        events = [VenueIdentified(loc, identity, epoch, known.identity, archived, note)]
        events += _level(loc, held, {r.asset: r.amount for r in reports}, f"opening balance (epoch {epoch})")
        flag = self.store.venue_flag(loc)
        if flag.halted and (flag.reason or "").startswith(("drift on ", f"{loc} is not the venue")):
            events.append(VenueResumed(loc, f"epoch {epoch}: the halt was about epoch {known.epoch}'s ledger"))
        self._append(events)
        return note, events

    async def _flows(
        self, ev: FlowEvidence | None, loc: str, mark: int | None, findings: Sequence[Finding]
    ) -> list[ExternalFlow]:
        """Book what the venue's evidence shows moved in or out without us since the ledger last agreed with it,
        for the assets that now differ; whatever no evidence explains stays drift."""
        differ = {f.asset for f in findings if f.action in (Action.ADJUST, Action.HALT)}
        last = self._memory.marks.get(loc)
        if ev is None or mark is None or not differ or last is None or last[0] >= mark:
            return []
        ours = self._our_ids()
        try:
            found = await ev.flows(last[0], differ)
        except FillpathError:  # no evidence to be had now (a pruned node, a wallet that would not answer): drift rules
            return []
        reports = [
            r for r in found
            if r.asset in differ and r.delta and r.evidence_id not in self._memory.flow_ids
            and not (set(r.refs.lower().split()) & ours)
        ]  # fmt: skip
        gaps = {f.asset: f.observed - f.ledger for f in findings if f.asset in differ and f.ledger is not None}
        flows = [ExternalFlow(loc, r.asset, r.delta, r.evidence_id, r.evidence) for r in _needed(reports, gaps)]
        self._append(flows)
        return flows

    def _our_ids(self) -> set[str]:
        """Every id our own movements are known by: their effects are booked by execution, not external."""
        out = {h.lower() for _, h in self.store.transactions()}
        for t in self.store.transfers().values():
            out |= {x.lower() for x in (t.transfer_id, t.ref, t.landed_ref) if x}
        return out

    def _agrees(self, loc: str, findings: Sequence[Finding], busy: bool, events: Sequence[Event]) -> bool:
        """The ledger equals the venue (or is opened to it) with nothing in flight, and it moved since the last
        mark: a new point to look for external flows after."""
        if busy or any(f.action not in (Action.OK, Action.OPEN) for f in findings):
            return False
        last = self._memory.marks.get(loc)
        if last is None or events:
            return True
        moved = max((r.last_seq for a, r in self.store.ledger().items() if a.location == loc), default=0)
        return moved > last[1]

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

    async def accept(self, source: BalanceSource, operator: str, reason: str, *, execute: bool) -> Acceptance:
        """Take the venue's figures as truth for one location (``fillpath reconcile --accept``): the adjustments
        that make the ledger equal what it reports now, journaled only when ``execute``, in one commit with the
        audit event (who, why, before, after), the identity it now has, a mark, and the lift of a halt
        reconciliation set (an operator's own halt stays). Refused while anything is in flight there: what is
        moving would be counted twice."""
        loc = source.location
        reports = await source.balances()
        ev = self.evidence.get(loc)
        identity = await _identity_of(ev)
        mark = ev.mark() if ev is not None else None
        self._follow()
        busy, flying = self._busy(loc)
        if busy or flying:
            what = ", ".join(sorted(map(str, flying))) or "a transaction or order"
            raise Refused(f"{loc}: {what} in flight; let it settle (`fillpath recover`, `fillpath reconcile`) first")
        held = {a: v for a, v in self.store.balances().items() if a.location == loc}
        seen = {r.asset: r.amount for r in reports}
        why = f"accepted by {operator}: {reason}"
        adjustments = [a for a in _level(loc, held, seen, why) if a.delta]
        known = self._memory.identities.get(loc)
        events: list[Event] = [
            BalancesAccepted(loc, operator, reason, _text(held), _text(seen), identity),
            *adjustments,
        ]
        if identity is not None and (known is None or known.identity != identity):
            epoch = known.epoch if known is not None else 1
            events.append(VenueIdentified(loc, identity, epoch, known.identity if known else None, None, why))
        if mark is not None:
            events.append(VenueChecked(loc, mark))
        flag = self.store.venue_flag(loc)
        lifted = flag.halted and (flag.reason or "").startswith(("drift on ", f"{loc} is not the venue"))
        if lifted:
            events.append(VenueResumed(loc, why))
        seq = None
        if execute:
            seq = self.store.append_many(events)[0]
            self._memory.follow(self.store)
        return Acceptance(loc, tuple(adjustments), tuple(events), lifted, flag.reason if flag.halted else None, seq)

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
