"""``fillpath report EXECUTION_ID`` / ``--last N``: executions as the journal recorded them.

Everything comes from ``execution.started`` / ``execution.finished`` (the plan, the arrival mids, each leg, the
P&L decomposition) and from the intents' resolutions; no venue is asked. An execution that started and has no
``finished`` record was interrupted: its legs are whatever recovery resolved (``fillpath recover``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table

from fillpath.app import open_store
from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.model.errors import InvalidInput
from fillpath.model.events import ExecutionFinished, ExecutionStarted, IntentCreated, IntentResolved
from fillpath.state.store import Store


@dataclass
class Recorded:
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


def executions(store: Store) -> dict[str, Recorded]:
    out: dict[str, Recorded] = {}
    for rec in store.events():
        e = rec.event
        if isinstance(e, ExecutionStarted):
            x = out.get(e.execution_id)
            if x is None:
                x = out[e.execution_id] = Recorded(
                    e.execution_id, rec.seq, rec.recv_ns, e.sell, e.buy, e.amount_in, e.mode
                )
                x.arrival = json.loads(e.arrival)
            x.plans.append(json.loads(e.plan))
            x.attempts.append(e.attempt)
        elif isinstance(e, IntentCreated):
            eid = e.intent_id.split("-", 1)[0]
            if eid in out:
                out[eid].sent[e.intent_id] = e
        elif isinstance(e, ExecutionFinished) and e.execution_id in out:
            out[e.execution_id].finished = e
        elif isinstance(e, IntentResolved):
            eid = e.intent_id.split("-", 1)[0]
            if eid in out:
                out[eid].intents[e.intent_id] = str(e.outcome)
    return out


def report(
    ctx: typer.Context,
    execution_id: Annotated[str | None, typer.Argument(help="The execution to show.")] = None,
    last: Annotated[int | None, typer.Option("--last", help="Show the last N executions as a table.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What an execution planned, what it realized, and its P&L decomposition — from the journal."""
    if (execution_id is None) == (last is None):
        raise InvalidInput("EXECUTION_ID", "give an execution id or --last N (one of them)", "e.g. --last 5")
    store = open_store(cli_context(ctx).config())
    try:
        found = executions(store)
    finally:
        store.close()
    if last is not None:
        if last <= 0:
            raise InvalidInput("--last", f"{last} is not positive", "e.g. --last 5")
        rows = sorted(found.values(), key=lambda x: x.started_seq)[-last:]
        if as_json:
            emit_json([r.to_json() for r in rows])
            return
        _table(rows)
        return
    assert execution_id is not None
    x = found.get(execution_id)
    if x is None:
        raise InvalidInput("EXECUTION_ID", f"{execution_id} is not in the journal", "see `fillpath report --last 10`")
    if as_json:
        emit_json(x.to_json())
        return
    _detail(x)


def _bps(value: str | None, arrival: str | None) -> str:
    if value is None or not arrival or int(arrival) == 0:
        return "-"
    return f"{Decimal(int(value) * 10_000) / int(arrival):.2f}"


def _table(rows: list[Recorded]) -> None:
    t = Table(title="executions")
    for col in ("execution", "mode", "status", "sell", "buy", "legs", "expected out", "realized out", "shortfall bps"):
        t.add_column(col)
    for r in rows:
        j = r.to_json()
        pnl = j["pnl"] or {}
        t.add_row(
            r.execution_id, r.mode, j["status"], f"{r.amount_in} {r.sell}", r.buy, str(len(j["legs"])),
            j["expected_out"] or "-", j["realized_out"] or "-", _bps(pnl.get("shortfall"), pnl.get("arrival")),
        )  # fmt: skip
    console().print(t)


def _detail(x: Recorded) -> None:
    j = x.to_json()
    out = console()
    t = Table(title=f"{x.execution_id} ({j['status']}): {x.amount_in} {x.sell} → {x.buy}")
    for col in ("venue", "status", "in", "expected out", "realized out"):
        t.add_column(col)
    for leg in j["legs"]:
        venue = leg["venue"] if not leg.get("attempt") else f"{leg['venue']} (re-plan {leg['attempt']})"
        t.add_row(
            venue, leg["status"], f"{leg['amount_in']} {leg['asset_in']}",
            f"{leg['expected_out']} {leg['asset_out']}", leg["realized_out"] or "-",
        )  # fmt: skip
    out.print(t)
    pnl = j["pnl"]
    if pnl:
        p = Table(title="P&L decomposition (base units of the buy asset)")
        for col in ("component", "amount", "bps of arrival"):
            p.add_column(col)
        for k in ("arrival", "price_impact", "fees", "gas", "slippage", "latency", "drift", "failed", "shortfall"):
            p.add_row(k, pnl[k], "" if k == "arrival" else _bps(pnl[k], pnl["arrival"]))
        out.print(p)
    if j["status"] == "interrupted":
        open_ = x.unresolved
        out.print(
            "interrupted: the execution has no finished record; the legs above are its plan and what the journal "
            "holds of each"
        )
        if open_:
            out.print(
                f"{len(open_)} intent(s) sent with the outcome unknown ({', '.join(open_)}): run `fillpath recover` "
                "to ask the venues, then `fillpath report " + x.execution_id + "` again"
            )
