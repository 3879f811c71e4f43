"""The frozen values the public API returns and the CLI prints as JSON: one shape for both, so a script and
``fillpath ... --json`` cannot disagree. Amounts are ``Decimal`` in the asset's human unit here and decimal strings in
JSON; nothing is a float."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fillpath.execution.recovery import Resolution
from fillpath.execution.result import ExecutionResult
from fillpath.model.events import VenueHalted
from fillpath.state.reconcile_orders import OrderFinding, TradeFinding
from fillpath.state.reconcile_stream import StreamFinding
from fillpath.state.reconciler import ExchangeResult, PassResult


def _dec(v: Decimal | None) -> str | None:
    return None if v is None else str(v)


def _opt(v: Any) -> Decimal | None:
    return None if v is None else Decimal(v)


@dataclass(frozen=True, slots=True)
class BalanceRow:
    """One asset@location: what our ledger says, what the venue last reported, what is on its way, the drift
    (venue − ledger) and the value in the numeraire (human units)."""

    asset: str
    ledger: Decimal | None
    venue: Decimal | None
    in_flight: Decimal | None
    drift: Decimal | None
    value: Decimal | None

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> BalanceRow:
        return cls(row["asset"], *(_opt(row[k]) for k in ("ledger", "venue", "in_flight", "drift", "value")))

    def to_json(self) -> dict[str, Any]:
        return {"asset": self.asset, "ledger": _dec(self.ledger), "venue": _dec(self.venue),
                "in_flight": _dec(self.in_flight), "drift": _dec(self.drift), "value": _dec(self.value)}  # fmt: skip

    @property
    def held(self) -> Decimal:
        """What is here for planning: the ledger, else what the venue reported, else nothing."""
        return self.ledger if self.ledger is not None else self.venue if self.venue is not None else Decimal(0)


@dataclass(frozen=True, slots=True)
class SymbolTotal:
    symbol: str
    ledger: Decimal
    venue: Decimal
    value: Decimal

    def to_json(self) -> dict[str, str]:
        return {"ledger": str(self.ledger), "venue": str(self.venue), "value": str(self.value)}


@dataclass(frozen=True, slots=True)
class TransferRow:
    """A transfer between locations not yet ended (human units; times as ISO strings)."""

    transfer_id: str
    kind: str
    route: str | None
    source: str
    target: str
    amount: str | None
    expected_out: str | None
    state: str
    since: str | None
    expected_arrival: str | None
    ref: str | None

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> TransferRow:
        return cls(*(row.get(k) for k in cls.__slots__))  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class Balances:
    """Unified balances (``fillpath balances --json``)."""

    venues_read_s_ago: float
    assets: tuple[BalanceRow, ...]
    symbols: tuple[SymbolTotal, ...]
    in_flight: tuple[TransferRow, ...]

    def row(self, asset: str) -> BalanceRow | None:
        return next((r for r in self.assets if r.asset == asset), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "venues_read_s_ago": round(self.venues_read_s_ago, 1),
            "assets": [r.to_json() for r in self.assets],
            "symbols": {s.symbol: s.to_json() for s in self.symbols},
            "in_flight": [t.to_json() for t in self.in_flight],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Balances:
        return cls(
            float(data.get("venues_read_s_ago") or 0),
            tuple(BalanceRow.from_json(r) for r in data["assets"]),
            tuple(
                SymbolTotal(s, Decimal(t["ledger"]), Decimal(t["venue"]), Decimal(t["value"]))
                for s, t in data["symbols"].items()
            ),
            tuple(TransferRow.from_json(t) for t in data.get("in_flight", ())),
        )


@dataclass(frozen=True, slots=True)
class Swap:
    """A swap's execution (``fillpath swap --json`` is ``result.to_json()``) and what recovery settled first."""

    result: ExecutionResult
    recovered: tuple[Resolution, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return self.result.to_json()


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """One reconciliation pass over every venue (``fillpath reconcile --json``)."""

    passes: tuple[PassResult, ...]
    listen_s: float = 0.0

    @property
    def agrees(self) -> bool:
        """Every balance is ok (or newly opened) and nothing was recorded."""
        return all(not p.events and all(f.action.value in ("ok", "open") for f in p.findings) for p in self.passes)

    def to_json(self) -> list[dict[str, Any]]:
        return results_json(self.passes)


def _state(s: object) -> str | None:
    return None if s is None else str(s)


def _order(f: OrderFinding) -> dict[str, Any]:
    o = f.listed
    return {
        "client_order_id": f.client_order_id,
        "symbol": f.symbol,
        "action": f.action.value,
        "ours_before": _state(f.recorded),
        "ours_after": _state(f.after),
        "venue_order_id": None if o is None else o.venue_order_id,
        "side": None if o is None else o.side.value,
        "qty": None if o is None else str(o.qty),
        "price": None if o is None or o.price is None else str(o.price),
        "filled": None if o is None else str(o.filled_qty),
    }


def _trade(f: TradeFinding) -> dict[str, Any]:
    t = f.trade
    return {
        "trade_id": t.trade_id,
        "venue_order_id": t.venue_order_id,
        "client_order_id": f.client_order_id,
        "symbol": t.symbol,
        "qty": str(t.qty),
        "price": str(t.price),
        "action": f.action.value,
    }


def _stream(f: StreamFinding) -> dict[str, Any]:
    return {"asset": str(f.asset), "rest": str(f.rest), "stream": str(f.stream), "action": f.action.value}


def _exchange_json(x: ExchangeResult | None) -> dict[str, Any]:
    if x is None:
        return {"orders": None, "trades": None, "stream": None}
    stream = None if x.stream is None else {"updates": x.stream_updates, "findings": [_stream(f) for f in x.stream]}
    return {
        "orders": {"listed_open": x.open_listed, "findings": [_order(f) for f in x.orders]},
        "trades": {"listed": x.trades_listed, "findings": [_trade(f) for f in x.trades]},
        "stream": stream,
    }


def results_json(results: Sequence[PassResult]) -> list[dict[str, Any]]:
    return [
        {
            "venue": r.venue,
            "findings": [
                {"asset": str(f.asset), "ledger": None if f.ledger is None else str(f.ledger),
                 "venue": str(f.observed), "drift": str(f.drift), "action": f.action.value}
                for f in r.findings
            ],
            **_exchange_json(r.exchange),
            "in_flight": [{"transfer_id": t.transfer_id, "kind": str(t.transfer_kind), "source": str(t.source),
                           "target": str(t.target), "amount": str(t.amount), "expected_out": str(t.expected_out),
                           "state": str(t.state)} for t in r.in_flight],
            "events": [e.kind for e in r.events],
            "external_flows": [{"asset": str(f.asset), "delta": str(f.delta), "evidence_id": f.evidence_id,
                                "evidence": f.evidence} for f in r.flows],
            "identity_changed": r.identity_changed,
            "halted": [e.reason for e in r.events if isinstance(e, VenueHalted)],
        }
        for r in results
    ]  # fmt: skip
