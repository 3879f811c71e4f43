"""The order driver: runs :mod:`fillpath.cex.orders` against a venue and journals every transition.

Each transition is computed from the order as it is *now* (after the await that fetched the evidence) and
appended at once, with our receive time and the venue's time, so the journal's seq order is the order in
which we learned things. UNKNOWN orders are resolved by polling with exponential backoff, bounded by
``max_polls``; resubmission reuses the order's client id (the venue refuses a duplicate), never a new one.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from fillpath.cex import orders
from fillpath.cex.connector import OrderVenue
from fillpath.cex.orders import Step, TrackedOrder
from fillpath.model.commands import SubmitOrder
from fillpath.model.errors import FillpathError, Halted, InvalidInput, Rejected
from fillpath.model.events import Event, Recorded
from fillpath.model.orders import OrderState
from fillpath.model.ports import Journal
from fillpath.model.reports import FillReport, OrderStatusReport


@dataclass(frozen=True, slots=True)
class ResolvePolicy:
    grace_s: float = 2.0
    """How long "not found" may mean "not yet visible" before it is believed."""
    first_delay_s: float = 0.05
    backoff: float = 2.0
    max_delay_s: float = 1.0
    max_polls: int = 30


@dataclass(frozen=True, slots=True)
class Staged:
    """A submission computed but not yet journaled (see :meth:`OrderDriver.stage`)."""

    client_order_id: str
    order: TrackedOrder
    events: tuple[Event, ...]


class OrderDriver:
    def __init__(
        self,
        venue: OrderVenue,
        journal: Journal,
        *,
        policy: ResolvePolicy | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.venue = venue
        self.journal = journal
        self.policy = policy or ResolvePolicy()
        self._clock_ns = clock_ns
        self.orders: dict[str, TrackedOrder] = {}

    # --- journaling -----------------------------------------------------------------------------------

    def _apply(
        self, cid: str, transition: Callable[[TrackedOrder], Step], *, first: Sequence[Event] = ()
    ) -> TrackedOrder:
        """Compute and journal one transition synchronously (no await between reading and writing); ``first``
        goes to the journal just before the transition's own entries, in the same commit."""
        step = transition(self.orders[cid])
        recv_ns = self._clock_ns()
        entries = (*(orders.Entry(e) for e in first), *step.entries)
        batch = getattr(self.journal, "append_many", None)
        if batch is None or len(entries) < 2:
            for entry in entries:
                self.journal.append(entry.event, recv_ns=recv_ns, venue_ts=entry.venue_ts)
        else:  # one durable commit per run of entries with the same venue time (an ack and its fills)
            for venue_ts, run in itertools.groupby(entries, key=lambda e: e.venue_ts):
                batch([e.event for e in run], recv_ns=recv_ns, venue_ts=venue_ts)
        self.orders[cid] = step.order
        return step.order

    # --- commands -------------------------------------------------------------------------------------

    async def submit(self, cmd: SubmitOrder) -> TrackedOrder:
        """Record the submission, send it, record what came back (or that we cannot tell)."""
        self.record(cmd)
        return await self.send(cmd.client_order_id)

    def record(self, cmd: SubmitOrder, *, with_events: Sequence[Event] = ()) -> TrackedOrder:
        """Journal the submission (and ``with_events``, e.g. the intent, in the same commit), not yet sent.

        Nothing may be sent for this order before this returns; :meth:`send` sends it."""
        if cmd.client_order_id in self.orders:
            raise InvalidInput("client_order_id", f"{cmd.client_order_id} was already submitted", "use resubmit()")
        market = self.venue.market(cmd.symbol)
        market.check_order(cmd.qty, cmd.limit_price)
        self.orders[cmd.client_order_id] = orders.new_order(cmd, market.base)
        return self._apply(cmd.client_order_id, lambda o: orders.submitted(o, self._clock_ns()), first=with_events)

    def stage(self, cmd: SubmitOrder) -> Staged:
        """:meth:`record` in two halves, for a caller that commits several venues' records in one journal
        transaction (the engine's decision: one fsync for every first request). The order is validated and its
        submission computed, nothing written; after the caller's commit, :meth:`staged` makes it sendable."""
        if cmd.client_order_id in self.orders:
            raise InvalidInput("client_order_id", f"{cmd.client_order_id} was already submitted", "use resubmit()")
        market = self.venue.market(cmd.symbol)
        market.check_order(cmd.qty, cmd.limit_price)
        step = orders.submitted(orders.new_order(cmd, market.base), self._clock_ns())
        if any(e.venue_ts is not None for e in step.entries):
            raise AssertionError("a submission carries no venue time")
        return Staged(cmd.client_order_id, step.order, tuple(e.event for e in step.entries))

    def staged(self, staged: Staged) -> TrackedOrder:
        """The staged submission is in the journal: the order is now ours to send."""
        if staged.client_order_id in self.orders:
            raise InvalidInput("client_order_id", f"{staged.client_order_id} was already submitted", "use resubmit()")
        self.orders[staged.client_order_id] = staged.order
        return staged.order

    async def send(self, cid: str) -> TrackedOrder:
        """Send an order :meth:`record` journaled; record what came back (or that we cannot tell)."""
        if self.orders[cid].state is not OrderState.SUBMITTED:
            raise InvalidInput("client_order_id", f"{cid} is {self.orders[cid].state}, not just recorded")
        return await self._send(cid)

    async def resubmit(self, cid: str) -> TrackedOrder:
        """Send an UNKNOWN order again under the same client id: the venue places it once at most."""
        o = self.orders[cid]
        if o.state is not OrderState.UNKNOWN:
            raise InvalidInput("client_order_id", f"{cid} is {o.state}, not unknown", "only an unknown order is resent")
        return await self._send(cid)

    async def _send(self, cid: str) -> TrackedOrder:
        cmd = self.orders[cid].cmd
        try:
            reply = await self.venue.submit(cmd)
        except Rejected as exc:
            if exc.reason == "duplicate":  # the first attempt is there: find out what became of it
                why = "duplicate client id: an earlier attempt exists"
                self._apply(cid, lambda o: orders.ambiguous(o, why, self._now()))
                return await self.poll(cid)
            refusal = f"{exc.reason}: {exc}"[:500]
            return self._apply(cid, lambda o: orders.rejected(o, refusal))
        except Halted as exc:  # refused locally before sending: nothing reached the venue
            if self.orders[cid].state is OrderState.UNKNOWN:
                return self.orders[cid]
            not_sent = f"not sent: {exc}"[:500]
            return self._apply(cid, lambda o: orders.rejected(o, not_sent))
        except FillpathError as exc:  # Ambiguous (and anything else): the order may live
            unclear = f"{type(exc).__name__}: {exc}"[:500]
            return self._apply(cid, lambda o: orders.ambiguous(o, unclear, self._now()))
        return self._apply(cid, lambda o: orders.observed(o, reply.report, reply.fills))

    async def cancel(self, cid: str) -> TrackedOrder:
        o = self.orders[cid]
        if o.state.terminal:
            return o
        try:
            report = await self.venue.cancel(o.symbol, cid)
        except FillpathError:
            return await self.poll(cid)
        if report is None:
            return await self.poll(cid)
        return await self._observe(cid, report)

    # --- evidence -------------------------------------------------------------------------------------

    def _now(self) -> int:
        return self._clock_ns()

    async def _observe(self, cid: str, report: OrderStatusReport) -> TrackedOrder:
        """Apply a status report, fetching the trades first when it shows more filled than we booked."""
        trades: list[FillReport] = []
        if report.filled_qty > self.orders[cid].filled_qty:
            try:
                trades = await self.venue.fetch_fills(self.orders[cid].symbol, cid, report.venue_order_id)
            except FillpathError:  # without its trades the report would end the order short: keep it open
                return self.orders[cid]
        return self._apply(cid, lambda o: orders.observed(o, report, trades))

    async def poll(self, cid: str) -> TrackedOrder:
        """Ask the venue once (status, then trades as needed). A failed read is no evidence either way."""
        o = self.orders[cid]
        self.orders[cid] = o = _counted(o)
        try:
            report = await self.venue.fetch_order(o.symbol, cid)
            if report is not None:
                return await self._observe(cid, report)
            since_ms = o.submitted_ns // 1_000_000 - 60_000
            trades = await self.venue.fetch_fills(o.symbol, cid, o.venue_order_id, since_ms)
        except FillpathError:
            return self.orders[cid]
        grace_ns = int(self.policy.grace_s * 1e9)
        return self._apply(cid, lambda o: orders.not_found(o, trades, self._now(), grace_ns))

    async def resolve(self, cid: str) -> TrackedOrder:
        """Poll an UNKNOWN order until venue evidence settles it, at most ``max_polls`` times."""
        return await self._until(cid, lambda o: o.state is not OrderState.UNKNOWN)

    async def settle(self, cid: str) -> TrackedOrder:
        """Poll until the order is terminal (fills arriving late, an unknown to resolve), bounded likewise."""
        return await self._until(cid, lambda o: o.state.terminal)

    async def _until(self, cid: str, done: Callable[[TrackedOrder], bool]) -> TrackedOrder:
        delay = self.policy.first_delay_s
        start = self.orders[cid].polls
        while not done(self.orders[cid]) and self.orders[cid].polls - start < self.policy.max_polls:
            await self.poll(cid)
            if done(self.orders[cid]):
                break
            await asyncio.sleep(delay)
            delay = min(delay * self.policy.backoff, self.policy.max_delay_s)
        return self.orders[cid]

    async def on_stream(self, report: OrderStatusReport, fill: FillReport | None) -> None:
        """A user-stream update. Orders we did not place through this driver are not ours to track."""
        cid = report.client_order_id
        if cid not in self.orders:
            return
        if fill is not None:
            self._apply(cid, lambda o: orders.fills(o, [fill]))
        if report.filled_qty > self.orders[cid].filled_qty:  # trades we have not seen: ask REST
            await self.poll(cid)
        else:
            self._apply(cid, lambda o: orders.observed(o, report))

    def adopt(self, records: Iterable[Recorded]) -> list[str]:
        """Take over this venue's orders from the journal (after a restart); return the unfinished ones."""
        found = orders.replay(records, self.venue.location, lambda symbol: self.venue.market(symbol).base)
        for cid, o in found.items():
            self.orders.setdefault(cid, o)
        return [cid for cid, o in found.items() if not o.state.terminal]

    def reload(self, records: Iterable[Recorded]) -> list[str]:
        """Take these orders' state from the journal, replacing what this driver holds: another process (the hot
        path) may have moved them since. ``records`` must hold each order's whole history; return their ids."""
        found = orders.replay(records, self.venue.location, lambda symbol: self.venue.market(symbol).base)
        self.orders.update(found)
        return list(found)

    def book_fills(self, cid: str, fills: Sequence[FillReport]) -> TrackedOrder:
        """Trades of ``cid`` learned elsewhere (the reconciler's trade list), booked once each through the state
        machine: a trade that would overfill the order is held out as drift, as from any other channel."""
        return self._apply(cid, lambda o: orders.fills(o, fills))

    async def recover(self, records: Iterable[Recorded]) -> list[TrackedOrder]:
        """Adopt, then settle what the journal leaves open. An order recorded as submitted with no reply
        may or may not have reached the venue: it is UNKNOWN, resolved by its client id like any other."""
        out = []
        for cid in self.adopt(records):
            if self.orders[cid].state is OrderState.SUBMITTED:
                self._apply(cid, lambda o: orders.ambiguous(o, "adopted after a restart without a reply", self._now()))
            if self.orders[cid].state is OrderState.UNKNOWN:
                await self.resolve(cid)
            else:
                await self.poll(cid)
            out.append(self.orders[cid])
        return out

    async def catch_up(self) -> None:
        """After a stream gap: poll every order that is not terminal."""
        for cid, o in list(self.orders.items()):
            if not o.state.terminal:
                await self.poll(cid)


def _counted(o: TrackedOrder) -> TrackedOrder:
    return replace(o, polls=o.polls + 1)
