"""Read models shared by the CLI and the service: unified balances, venue health rows, executions from the journal.

One implementation for both, so ``fillpath balances --json`` and ``GET /api/balances`` cannot drift apart. Nothing
here does I/O beyond reading the store it is handed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from fillpath.execution.health import HealthBook, HealthPolicy, is_held, state_of
from fillpath.execution.health_feed import JournalFeed
from fillpath.model.amounts import from_base_units
from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.model.events import ExecutionFinished, ExecutionStarted, IntentCreated, IntentResolved, Recorded
from fillpath.state.records import IntentStatus
from fillpath.state.store import Store
from fillpath.state.transfers import IN_FLIGHT, MAYBE_TAKEN

# --- balances ----------------------------------------------------------------------------------------------


def human(amount: Amount | None, decimals: int | None) -> Decimal | None:
    """An amount in the asset's human unit: chain amounts are base units, exchange amounts already decimals."""
    if amount is None:
        return None
    if isinstance(amount, Decimal) or decimals is None:
        return Decimal(amount)
    return from_base_units(amount, decimals)


def in_flight(store: Store) -> dict[AssetId, Amount]:
    """What open intents have taken out of each asset and not yet resolved (negative: on its way out), and what
    transfers between locations carry towards each asset (positive: taken by their source, not credited yet)."""
    flying: dict[AssetId, Amount] = {}
    for i in store.intents().values():
        if i.status is not IntentStatus.OPEN or i.asset_in is None or i.amount_in is None:
            continue
        if store.transfer(i.intent_id) is None:  # a transfer's funds are shown where they land (below)
            flying[i.asset_in] = flying.get(i.asset_in, 0) - i.amount_in
    for t in store.transfers().values():
        if t.state in IN_FLIGHT and t.target is not None and t.expected_out is not None:
            held = flying.get(t.target)
            flying[t.target] = t.expected_out if held is None else held + t.expected_out
    return flying


def transfers_in_flight(store: Store, decimals: Mapping[str, int]) -> list[dict[str, Any]]:
    """Transfers between locations not yet ended (requested, accepted, unknown, expired), oldest first: kind, from,
    to, amount, expected, state, since, expected arrival — human units, for ``balances`` and the service."""

    def amount(asset: AssetId | None, value: Amount | None) -> str | None:
        got = human(value, decimals.get(str(asset))) if asset is not None else None
        return None if got is None else str(got)

    def at(ns: int | None) -> str | None:
        return None if not ns else datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    moving = sorted((t for t in store.transfers().values() if t.state in IN_FLIGHT | MAYBE_TAKEN),
                    key=lambda t: t.since_ns)  # fmt: skip
    return [
        {"transfer_id": t.transfer_id, "kind": str(t.transfer_kind), "route": t.route, "source": str(t.source),
         "target": str(t.target), "amount": amount(t.source, t.amount),
         "expected_out": amount(t.target, t.expected_out), "state": str(t.state), "since": at(t.since_ns),
         "expected_arrival": at(t.expected_arrival_ns), "ref": t.ref}
        for t in moving
    ]  # fmt: skip


def balance_rows(
    ledger: Mapping[AssetId, Amount],
    reports: Mapping[str, Mapping[str, str]],
    flying: Mapping[AssetId, Amount],
    decimals: Mapping[str, int],
    prices: Mapping[str, str],
) -> list[dict[str, Any]]:
    """One row per asset@location: ledger, venue-reported, in flight, drift (venue − ledger) and value, as decimal
    strings. ``reports``: asset id → ``{"amount", "unit": "human" | "base"}``."""
    ids = sorted({str(a) for a in ledger} | set(reports), key=lambda s: (s.split("@")[1], s.split("@")[0]))
    rows = []
    for aid in ids:
        asset = AssetId.parse(aid)
        dec = decimals.get(aid)
        held = human(ledger.get(asset), dec)
        seen = None
        if aid in reports:
            rep = reports[aid]
            seen = Decimal(rep["amount"]) if rep["unit"] == "human" else human(int(rep["amount"]), dec)
        price = Fraction(Decimal(prices[aid])) if aid in prices else None
        basis = seen if seen is not None else held
        value = (
            None
            if price is None or basis is None
            else Decimal(basis) * Decimal(price.numerator) / Decimal(price.denominator)
        )
        rows.append(
            {
                "asset": aid,
                "ledger": None if held is None else str(held),
                "venue": None if seen is None else str(seen),
                "in_flight": None if asset not in flying else str(human(flying[asset], dec)),
                "drift": None if held is None or seen is None else str(seen - held),
                "value": None if value is None else str(value.quantize(Decimal("0.01"))),
            }
        )
    return rows


def symbol_totals(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """Per symbol, summed over locations: ledger, venue and value."""
    out: dict[str, dict[str, Decimal]] = {}
    for r in rows:
        sym = r["asset"].split("@")[0]
        t = out.setdefault(sym, {"ledger": Decimal(0), "venue": Decimal(0), "value": Decimal(0)})
        for k in ("ledger", "venue", "value"):
            if r[k] is not None:
                t[k] += Decimal(r[k])
    return {s: {k: str(v) for k, v in t.items()} for s, t in sorted(out.items())}


# --- venue health ------------------------------------------------------------------------------------------

HALF_LIVES = 10
"""How far back the score reads: older entries weigh under 0.1% of their points."""


def first_seq_at(store: Store, ns: int) -> int:
    """The seq after which entries were received at ``ns`` or later (receive times rise with seq, give or take
    a writer's clock between processes: a few seconds at the edge of a window of an hour do not matter)."""
    lo, hi = 0, store.last_seq
    while lo < hi:
        mid = (lo + hi) // 2
        rec = next(store.events(mid, limit=1), None)
        if rec is None or rec.recv_ns >= ns:
            hi = mid
        else:
            lo = mid + 1
    return lo


def iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def venue_rows(store: Store, configured: list[str], now_ns: int, policy: HealthPolicy | None = None) -> list[Any]:
    """One JSON-ready row per venue: the configured ones, then any other the journal has flagged."""
    policy = policy or HealthPolicy()
    book, feed = HealthBook(policy), JournalFeed()
    for rec in store.events(first_seq_at(store, now_ns - HALF_LIVES * policy.half_life_ns)):
        feed.feed(book, rec)
    flags = store.projections().venue_flags
    rows = []
    for venue in [*configured, *sorted(set(flags) - set(configured))]:
        flag = store.venue_flag(venue)
        state = state_of(flag)
        penalty = book.penalty(venue, now_ns)
        since = next(store.events(flag.last_seq - 1, limit=1), None) if flag.last_seq else None
        rows.append(
            {
                "venue": venue,
                "configured": venue in configured,
                "state": state.value,
                "score": round(max(0.0, 100.0 - penalty), 1),
                "penalty": round(penalty, 2),
                "penalty_bps": policy.router_bps(state, penalty),
                "held": is_held(flag),
                "reason": flag.reason,
                "since_seq": flag.last_seq or None,
                "since": iso(since.recv_ns) if since is not None else None,
            }
        )
    return rows


# --- executions --------------------------------------------------------------------------------------------


@dataclass
class ExecutionRecord:
    """One execution as the journal holds it: started (one plan per attempt), finished, its intents and their
    outcomes. An execution with no finished record was interrupted: its legs are then read from its plans and
    intents (not sent, sent with the outcome unknown, or resolved)."""

    execution_id: str
    started_seq: int
    started_ns: int
    sell: str
    buy: str
    amount_in: int
    mode: str
    plans: list[dict[str, Any]] = field(default_factory=list)
    arrival: dict[str, Any] = field(default_factory=dict)
    finished: ExecutionFinished | None = None
    intents: dict[str, str] = field(default_factory=dict)
    attempts: list[int] = field(default_factory=list)
    """The attempt number of each entry of ``plans`` (0 the first plan, then re-plans)."""
    sent: dict[str, IntentCreated] = field(default_factory=dict)
    """The intents this execution created, by intent id: what was sent (or about to be) to a venue."""

    def interrupted_legs(self) -> list[dict[str, Any]]:
        """Every planned leg of an execution with no finished record, and what the journal knows of it: not sent,
        sent with the outcome unknown (``fillpath recover`` resolves it), or resolved good or bad. A chain's legs
        share one intent (one transaction); an exchange leg has its own (one order)."""
        legs = []
        for attempt, plan in zip(self.attempts, self.plans, strict=True):
            for leg in plan.get("legs", []):
                intent = self._intent_of(attempt, leg)
                if intent is None:
                    status = "not sent"
                elif intent.intent_id in self.intents:
                    status = f"resolved {self.intents[intent.intent_id]}"
                else:
                    status = "sent, outcome unknown"
                legs.append({
                    "venue": leg["venue"], "attempt": attempt, "status": status,
                    "intent_id": None if intent is None else intent.intent_id,
                    "asset_in": leg["asset_in"], "amount_in": leg["amount_in"], "asset_out": leg["asset_out"],
                    "expected_out": leg["amount_out"], "realized_out": None,
                })  # fmt: skip
        return legs

    def _intent_of(self, attempt: int, leg: dict[str, Any]) -> IntentCreated | None:
        location = str(leg["asset_in"]).partition("@")[2]
        prefix = f"{self.execution_id}-{attempt}-{location}"
        if prefix in self.sent:  # a chain: one transaction for the location's legs
            return self.sent[prefix]
        for intent_id, intent in self.sent.items():
            if (
                intent_id.startswith(prefix + "-")
                and str(intent.asset_in) == leg["asset_in"]
                and str(intent.asset_out) == leg["asset_out"]
            ):
                return intent
        return None

    @property
    def unresolved(self) -> list[str]:
        return [i for i in self.sent if i not in self.intents]

    def to_json(self) -> dict[str, Any]:
        result = json.loads(self.finished.result) if self.finished else {}
        return {
            "execution_id": self.execution_id,
            "mode": self.mode,
            "status": self.finished.status if self.finished else "interrupted",
            "sell": self.sell,
            "buy": self.buy,
            "amount_in": str(self.amount_in),
            "started_ns": str(self.started_ns),
            "plan": self.plans[0] if self.plans else None,
            "replans": self.plans[1:],
            "arrival": self.arrival,
            "legs": result.get("legs", []) if self.finished else self.interrupted_legs(),
            "expected_out": str(self.finished.expected_out) if self.finished else None,
            "realized_out": str(self.finished.realized_out) if self.finished else None,
            "pnl": result.get("pnl"),
            "intents": self.intents,
            "unresolved_intents": self.unresolved,
        }


class ExecutionLog:
    """Executions folded from the journal, one record at a time: the service feeds it the journal's tail, so a
    request for recent executions never rescans the journal."""

    def __init__(self) -> None:
        self.by_id: dict[str, ExecutionRecord] = {}

    def feed(self, rec: Recorded) -> None:
        e = rec.event
        if isinstance(e, ExecutionStarted):
            x = self.by_id.get(e.execution_id)
            if x is None:
                x = self.by_id[e.execution_id] = ExecutionRecord(
                    e.execution_id, rec.seq, rec.recv_ns, e.sell, e.buy, e.amount_in, e.mode
                )
                x.arrival = json.loads(e.arrival)
            x.plans.append(json.loads(e.plan))
            x.attempts.append(e.attempt)
        elif isinstance(e, IntentCreated):
            eid = e.intent_id.split("-", 1)[0]
            if eid in self.by_id:
                self.by_id[eid].sent[e.intent_id] = e
        elif isinstance(e, ExecutionFinished) and e.execution_id in self.by_id:
            self.by_id[e.execution_id].finished = e
        elif isinstance(e, IntentResolved):
            eid = e.intent_id.split("-", 1)[0]
            if eid in self.by_id:
                self.by_id[eid].intents[e.intent_id] = str(e.outcome)

    def last(self, n: int) -> list[ExecutionRecord]:
        return sorted(self.by_id.values(), key=lambda x: x.started_seq)[-n:] if n > 0 else []


def executions(store: Store) -> dict[str, ExecutionRecord]:
    log = ExecutionLog()
    for rec in store.events():
        log.feed(rec)
    return log.by_id
