"""The reconciliation service: one pass per venue, on its own interval; ``fillpath reconcile`` runs one pass.

It reads the ledger and the in-flight state from the store's in-memory projections and appends what
``reconcile.decide`` / ``events_for`` conclude, all in one journal transaction per venue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Protocol

from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.model.events import DriftDetected, Event
from fillpath.model.reports import BalanceReport
from fillpath.state.reconcile import Finding, ReconcilePolicy, decide, events_for
from fillpath.state.records import IntentStatus, TxStatus
from fillpath.state.store import Store

UNFINISHED_TX = frozenset({TxStatus.BROADCAST, TxStatus.MINED, TxStatus.REORGED})


class BalanceSource(Protocol):
    location: str

    def balances(self) -> Awaitable[list[BalanceReport]]: ...


@dataclass(frozen=True, slots=True)
class PassResult:
    venue: str
    findings: tuple[Finding, ...]
    events: tuple[Event, ...]
    reports: tuple[BalanceReport, ...]


class Reconciler:
    def __init__(self, store: Store, sources: Sequence[BalanceSource], policy: ReconcilePolicy | None = None):
        self.store = store
        self.sources = list(sources)
        self.policy = policy or ReconcilePolicy()
        self._drifts: dict[AssetId, tuple[Amount, Amount]] | None = None

    def _recorded_drifts(self) -> dict[AssetId, tuple[Amount, Amount]]:
        """The last recorded drift per asset (read from the journal once, then kept current here)."""
        if self._drifts is None:
            self._drifts = {}
            for rec in self.store.events():
                if isinstance(rec.event, DriftDetected):
                    self._drifts[rec.event.asset] = (rec.event.expected, rec.event.observed)
        return self._drifts

    def _busy(self, venue: str) -> tuple[bool, set[AssetId]]:
        txs = any(t.venue == venue and t.status in UNFINISHED_TX for t in self.store.transactions().values())
        flying: set[AssetId] = set()
        for i in self.store.intents().values():
            if i.venue == venue and i.status is IntentStatus.OPEN:
                flying |= {a for a in (i.asset_in, i.asset_out) if a is not None}
        return txs, flying

    async def reconcile_venue(self, source: BalanceSource) -> PassResult:
        reports = await source.balances()
        ledger = dict(self.store.balances())
        busy, flying = self._busy(source.location)
        findings = decide(reports, ledger, in_flight=flying, venue_busy=busy, policy=self.policy)
        halted = {source.location: self.store.venue_flag(source.location).halted}
        events = events_for(
            findings, source=f"{source.location} balances", recorded_drifts=self._recorded_drifts(), halted=halted
        )
        if events:
            self.store.append_many(events)
            for e in events:
                if isinstance(e, DriftDetected):
                    self._recorded_drifts()[e.asset] = (e.expected, e.observed)
        return PassResult(source.location, tuple(findings), tuple(events), tuple(reports))

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
