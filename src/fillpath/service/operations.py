"""Every operation the service offers, as plain methods (freqtrade's ``RPC``): the HTTP handlers are thin adapters
over this class, and the CLI reaches the same methods through the API (``fillpath balances --service URL``).

Results are JSON-ready: amounts are integer or decimal strings, never floats (scores and timings, which are not
money, are numbers). Swaps do not overlap: one runs at a time, in arrival order, in its own task, so a client that
hangs up does not cancel a trade half-way; a stop waits ``shutdown_grace_s`` for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fillpath._version import __version__
from fillpath.app import ExecutionParts, configured_venues, kill_switch, sell_decimals
from fillpath.config import Config
from fillpath.execution.engine import Engine, SwapRequest
from fillpath.model.amounts import to_base_units
from fillpath.model.errors import InvalidInput, Retryable
from fillpath.model.events import VenueHalted, VenueResumed, event_type
from fillpath.router import RouteRequest, route
from fillpath.router.snapshot import Snapshot
from fillpath.service.hub import event_json
from fillpath.service.scheduler import Scheduler
from fillpath.service.views import balance_rows, in_flight, symbol_totals, transfers_in_flight, venue_rows
from fillpath.service.watch import Watcher
from fillpath.state.reconciler import UNFINISHED_TX
from fillpath.state.records import IntentStatus
from fillpath.state.store import Store

MAX_EVENTS = 1000
VENUES_CACHE_S = 0.5


def _field(body: Mapping[str, Any], name: str, kind: type, default: Any = None) -> Any:
    v = body.get(name, default)
    if v is None:
        raise InvalidInput(name, "is required")
    if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
        raise InvalidInput(name, f"{v!r} is not an integer")
    if kind is str and not isinstance(v, str):
        raise InvalidInput(name, f"{v!r} is not a string", "amounts are strings (never JSON floats)")
    if kind is bool and not isinstance(v, bool):
        raise InvalidInput(name, f"{v!r} is not true or false", "give a JSON boolean")
    return v


@dataclass(frozen=True, slots=True)
class TradeAsk:
    """A route or swap request as the API takes it: ``amount`` in SELL's human unit, as a string."""

    amount: str
    sell: str
    buy: str
    max_hops: int = 4
    slippage_bps: int = 50
    execute: bool = False

    @classmethod
    def parse(cls, body: Mapping[str, Any], *, swap: bool) -> TradeAsk:
        allowed = {"amount", "sell", "buy", "max_hops", "slippage_bps"} | ({"execute"} if swap else set())
        extra = sorted(set(body) - allowed)
        if extra:
            raise InvalidInput(extra[0], "is not a field of this request", f"use {', '.join(sorted(allowed))}")
        return cls(
            amount=_field(body, "amount", str),
            sell=_field(body, "sell", str),
            buy=_field(body, "buy", str),
            max_hops=_field(body, "max_hops", int, 4),
            slippage_bps=_field(body, "slippage_bps", int, 50),
            # trading needs an explicit JSON `true`, as the CLI needs --execute: anything else is a dry run or an error
            execute=_field(body, "execute", bool, False) if swap else False,
        )


class Operations:
    def __init__(
        self,
        cfg: Config,
        store: Store,
        parts: ExecutionParts,
        watcher: Watcher,
        scheduler: Scheduler,
        *,
        url: str = "",
    ) -> None:
        self.cfg, self.store, self.parts, self.watcher, self.scheduler = cfg, store, parts, watcher, scheduler
        self.url = url
        self.closing = False
        self._swap_lock = asyncio.Lock()
        self._swaps: set[asyncio.Task[dict[str, Any]]] = set()
        self._venues: tuple[float, int, list[Any]] | None = None

    # --- reading ------------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        w, now = self.watcher, time.time_ns()
        switch = kill_switch(self.cfg).engaged()
        return {
            "service": "fillpath",
            "version": __version__,
            "pid": os.getpid(),
            "url": self.url,
            "phase": w.phase,
            "ready": w.is_ready(),
            "startup_error": w.startup_error,
            "started_ns": str(w.started_ns),
            "uptime_s": round((now - w.started_ns) / 1e9, 1),
            "data_dir": str(self.cfg.data_dir),
            "journal_last_seq": self.store.last_seq,
            "kill_switch": {"engaged": switch is not None, "reason": switch},
            "snapshot": {"age_s": _round(w.snapshots.age_s()), "error": w.snapshots.error},
            "recovered": [
                {"intent_id": r.intent_id, "venue": r.venue, "outcome": r.outcome, "detail": r.detail}
                for r in w.recovered
            ],
            "swaps_in_flight": len(self._swaps),
            "jobs": self.scheduler.status(),
        }

    def _decimals_and_prices(self) -> tuple[dict[str, int], dict[str, str]]:
        snap: Snapshot | None = self.watcher.snapshots.snapshot
        if snap is None:
            return {}, {}
        decimals = {str(a.id): a.decimals for a in snap.assets}
        prices = {str(k): str(v) for k, v in (snap.prices or {}).items()}
        return decimals, prices

    def balances(self) -> dict[str, Any]:
        """Per asset@location: ledger, what the venue last reported, in flight, drift, value; and per symbol."""
        decimals, prices = self._decimals_and_prices()
        rows = balance_rows(self.store.balances(), self.watcher.venue_reports(), in_flight(self.store), decimals,
                            prices)  # fmt: skip
        read = [s.last_finished_ns for s in self.watcher.locations.values() if s.last_finished_ns]
        age = round((time.time_ns() - min(read)) / 1e9, 1) if read else None
        return {"venues_read_s_ago": age, "assets": rows, "symbols": symbol_totals(rows),
                "in_flight": transfers_in_flight(self.store, decimals)}  # fmt: skip

    def positions(self) -> dict[str, Any]:
        """By symbol: the total and where it sits (ledger figures; venue figures beside them)."""
        rows = self.balances()["assets"]
        out: dict[str, Any] = {}
        for sym, total in symbol_totals(rows).items():
            where = [r for r in rows if r["asset"].split("@")[0] == sym]
            out[sym] = {**total, "locations": {r["asset"].split("@")[1]: {k: r[k] for k in
                        ("ledger", "venue", "in_flight", "drift", "value")} for r in where}}  # fmt: skip
        return {"positions": out}

    def venues(self) -> list[Any]:
        """Health rows (``fillpath venues --json``), recomputed at most twice a second."""
        now = time.monotonic()
        if (
            self._venues is not None
            and now - self._venues[0] < VENUES_CACHE_S
            and self._venues[1] == self.store.last_seq
        ):
            return self._venues[2]
        rows = venue_rows(self.store, configured_venues(self.cfg), time.time_ns())
        self._venues = (now, self.store.last_seq, rows)
        return rows

    def reconciliation(self) -> list[dict[str, Any]]:
        now = time.time_ns()
        return [s.to_json(now) for s in self.watcher.locations.values()]

    def in_flight(self) -> dict[str, Any]:
        """Orders not final, transactions not final (with the tracker's view), intents still open."""
        orders = [
            {"venue": o.venue, "client_order_id": o.client_order_id, "status": str(o.status), "symbol": o.symbol,
             "side": None if o.side is None else o.side.value, "qty": _s(o.qty), "limit_price": _s(o.limit_price),
             "filled_qty": str(o.filled_qty), "intent_id": o.intent_id, "seq": o.last_seq}
            for o in self.store.orders().values() if not o.status.terminal
        ]  # fmt: skip
        txs = []
        for t in self.store.transactions().values():
            if t.status not in UNFINISHED_TX:
                continue
            tracked = self.watcher.trackers.get(t.venue)
            state = tracked.txs[t.tx_hash].state.value if tracked and t.tx_hash in tracked.txs else None
            txs.append({"venue": t.venue, "tx_hash": t.tx_hash, "status": str(t.status), "tracker": state,
                        "nonce": t.nonce, "block_number": t.block_number, "intent_id": t.intent_id,
                        "seq": t.last_seq})  # fmt: skip
        intents = [
            {"intent_id": i.intent_id, "venue": i.venue, "action": i.action,
             "asset_in": None if i.asset_in is None else str(i.asset_in), "amount_in": _s(i.amount_in),
             "seq": i.last_seq}
            for i in self.store.intents().values() if i.status is IntentStatus.OPEN
        ]  # fmt: skip
        return {"orders": orders, "transactions": txs, "intents": intents}

    def executions(self, limit: int = 20) -> list[dict[str, Any]]:
        if not 1 <= limit <= 500:
            raise InvalidInput("limit", f"{limit} is out of range", "use 1 to 500")
        return [x.to_json() for x in reversed(self.watcher.executions.last(limit))]

    def execution(self, execution_id: str) -> dict[str, Any]:
        x = self.watcher.executions.by_id.get(execution_id)
        if x is None:
            raise InvalidInput("execution_id", f"{execution_id} is not in the journal", "see GET /api/executions")
        return x.to_json()

    def events(
        self, after: int = 0, limit: int = 200, kinds: Sequence[str] = (), *, last: int | None = None
    ) -> list[dict[str, Any]]:
        """Journal entries after seq ``after`` (oldest first), optionally of some kinds only; ``last``: the most
        recent ones instead (at most the live feed's memory)."""
        if not 1 <= limit <= MAX_EVENTS:
            raise InvalidInput("limit", f"{limit} is out of range", f"use 1 to {MAX_EVENTS}")
        for k in kinds:
            event_type(k)  # an unknown kind is a clear error, not an empty answer
        wanted = set(kinds)
        recent = self.watcher.hub.recent
        if last is not None:
            if not 1 <= last <= MAX_EVENTS:
                raise InvalidInput("last", f"{last} is out of range", f"use 1 to {MAX_EVENTS}")
            return [e for e in recent if not wanted or e["kind"] in wanted][-last:]
        if recent and recent[0]["seq"] <= after + 1:  # the live feed's memory covers it
            found = [e for e in recent if e["seq"] > after and (not wanted or e["kind"] in wanted)]
            return found[:limit]
        out = []
        for rec in self.store.events(after):
            if not wanted or rec.event.kind in wanted:
                out.append(event_json(rec))
                if len(out) >= limit:
                    break
        return out

    # --- routing and trading ------------------------------------------------------------------------------

    def _units(self, ask: TradeAsk) -> tuple[int, int]:
        decimals = sell_decimals(self.cfg, ask.sell, field="sell")
        return to_base_units(ask.amount, decimals, field="amount"), decimals

    async def route(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The optimal plan on the cached snapshot (no venue is read unless it is older than two refreshes)."""
        ask = TradeAsk.parse(body, swap=False)
        units, _ = self._units(ask)
        t = time.perf_counter()
        _snap, market = await self.watcher.snapshots.market(self.max_snapshot_age_s)
        exclude: frozenset[str] = frozenset(f.venue for f in self.store.projections().venue_flags.values() if f.halted)
        penalties: dict[str, int] = {}
        health = self.parts.wiring.health
        if health is not None:
            skip, penalties = health.book.route_limits((v.id, v.location) for v in market.venues)
            exclude |= skip
        request = RouteRequest(ask.sell, units, ask.buy, max_hops=ask.max_hops, slippage_bps=ask.slippage_bps,
                               exclude=exclude, penalty_bps=penalties)  # fmt: skip
        plan = route(market, request)
        return {
            "plan": plan.to_json(),
            "snapshot_age_s": _round(self.watcher.snapshots.age_s()),
            "planned_ms": round((time.perf_counter() - t) * 1000, 2),
        }

    @property
    def trading_lock(self) -> asyncio.Lock:
        """Held while a swap runs: scheduled jobs that trade take it too, so trades never overlap."""
        return self._swap_lock

    @property
    def max_snapshot_age_s(self) -> float:
        return 2 * self.cfg.service.snapshot_interval_s

    async def swap(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A dry run unless ``"execute": true``; the engine's guards, intents and recovery as for the CLI."""
        ask = TradeAsk.parse(body, swap=True)
        units, decimals = self._units(ask)
        if self.closing:
            raise Retryable("the service is stopping: no new swap is taken", retry_after=5.0)
        request = SwapRequest(
            RouteRequest(ask.sell, units, ask.buy, max_hops=ask.max_hops, slippage_bps=ask.slippage_bps),
            sell_decimals=decimals,
        )
        task = asyncio.ensure_future(self._swap(request, dry_run=not ask.execute))
        self._swaps.add(task)
        task.add_done_callback(self._swaps.discard)
        return await asyncio.shield(task)

    async def _swap(self, request: SwapRequest, *, dry_run: bool) -> dict[str, Any]:
        async with self._swap_lock:
            if self.closing:
                raise Retryable("the service is stopping: no new swap is taken", retry_after=5.0)
            first = True

            async def snapshot() -> Snapshot:
                """The cached snapshot for the decision; a fresh read for a re-plan (the legs moved the venues)."""
                nonlocal first
                if first:
                    first = False
                    return await self.watcher.snapshots.fresh(self.max_snapshot_age_s)
                return await self.watcher.snapshots.refresh()

            wiring = replace(self.parts.wiring, snapshot=snapshot)
            result = await Engine(wiring).run(request, dry_run=dry_run)
        self.watcher.tail_once()  # read your writes: the execution is in GET /api/executions when this returns
        for loc in self.watcher.locations:  # what moved is looked at now, not at the next interval
            self.watcher.poke(loc)
        return result.to_json()

    async def drain(self, grace_s: float) -> None:
        """Stop taking swaps; give the one in flight ``grace_s`` to finish, then cancel it (its intents are
        journaled, and the next start resolves them by asking the venues)."""
        self.closing = True
        pending = list(self._swaps)
        if not pending:
            return
        _done, still = await asyncio.wait(pending, timeout=grace_s)
        for task in still:
            task.cancel()
        for task in still:
            with contextlib.suppress(BaseException):
                await task

    # --- risk ---------------------------------------------------------------------------------------------

    def halt(self, venue: str | None, reason: str) -> dict[str, Any]:
        if venue is None:
            kill_switch(self.cfg).engage(reason)
            return {"halted": "all", "kill_switch": str(kill_switch(self.cfg).path), "reason": reason}
        seq = self.store.append(VenueHalted(venue, reason))
        return {"halted": venue, "seq": seq, "reason": reason}

    def resume(self, venue: str | None) -> dict[str, Any]:
        if venue is None:
            released = kill_switch(self.cfg).release()
            return {"resumed": "all", "was_engaged": released}
        seq = self.store.append(VenueResumed(venue, "resumed by an operator"))
        return {"resumed": venue, "seq": seq}

    async def reconcile(self, location: str | None) -> list[dict[str, Any]]:
        """One pass now, of one location or of all."""
        names = [location] if location is not None else list(self.watcher.locations)
        for name in names:
            if name not in self.watcher.locations:
                raise InvalidInput("location", f"{name!r} is not a configured location",
                                   f"use one of {', '.join(self.watcher.locations)}")  # fmt: skip
        now = time.time_ns()
        return [(await self.watcher.reconcile(n)).to_json(now) for n in names]


def _s(v: object) -> str | None:
    return None if v is None else str(v)


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


__all__ = ["Operations", "TradeAsk"]
