"""What an execution did, leg by leg, and the P&L decomposition of it — the values ``swap`` prints and
``report`` reads back from the journal (``ExecutionStarted`` / ``ExecutionFinished``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any

from fillpath.model.assets import AssetId
from fillpath.router.plan import Plan, PlanLeg, net_inputs
from fillpath.router.snapshot import Snapshot
from fillpath.router.venues.bridge import Bridge
from fillpath.router.venues.order_book import OrderBook
from fillpath.router.venues.stableswap import StableSwapPair, StableSwapPool
from fillpath.router.venues.uniswap_v2 import UniswapV2Pair
from fillpath.router.venues.uniswap_v3 import UniswapV3Pool
from fillpath.state.tca import Decomposition, LegCost, decompose


class LegStatus(StrEnum):
    DONE = "done"
    """Ran to a final state with the output it reports."""
    PARTIAL = "partial"
    """An order that filled part of its quantity (the rest expired at the min-out price)."""
    FAILED = "failed"
    """Known not to have run (rejected, reverted, refused by simulation): its input is still ours."""
    UNKNOWN = "unknown"
    """Not final when we stopped waiting: recovery resolves it from the venue, never by guessing."""
    SIMULATED = "simulated"
    """A dry run: what the simulation says it would deliver."""


@dataclass(frozen=True, slots=True)
class LegResult:
    venue: str
    asset_in: AssetId
    asset_out: AssetId
    amount_in: int
    expected_out: int
    """The plan's exact figure."""
    realized_out: int | None
    status: LegStatus
    ref: str | None = None
    """The transaction hash, or the client order id."""
    spent_in: int | None = None
    at_send: int | None = None
    """The simulation's figure at the moment of sending (chain legs), for the latency component."""
    gas_wei: int = 0
    reason: str | None = None
    attempt: int = 0
    in_flight_ms: int | None = None
    """A transfer leg: how long its funds were between locations (taken by the source → landed)."""

    def to_json(self) -> dict[str, Any]:
        """A dry run's leg realizes nothing: its simulation's figure is ``simulated_out``, and ``realized_out`` is
        null (a reader must never add a simulation to what was traded)."""
        simulated = self.status is LegStatus.SIMULATED
        out = None if self.realized_out is None else str(self.realized_out)
        return {
            "venue": self.venue,
            "status": str(self.status),
            "asset_in": str(self.asset_in),
            "asset_out": str(self.asset_out),
            "amount_in": str(self.amount_in),
            "expected_out": str(self.expected_out),
            "realized_out": None if simulated else out,
            "simulated_out": out if simulated else None,
            "ref": self.ref,
            "gas_wei": str(self.gas_wei),
            "reason": self.reason,
            "attempt": self.attempt,
            "in_flight_ms": self.in_flight_ms,
        }


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    execution_id: str
    mode: str
    status: str
    plan: Plan
    legs: tuple[LegResult, ...]
    expected_out: int
    realized_out: int
    buy_decimals: int
    decomposition: Decomposition | None
    replans: tuple[Plan, ...] = field(default=())
    timings_ms: dict[str, float] = field(default_factory=dict)

    def simulated_out(self) -> int:
        """A dry run's total of the final legs' simulated outputs (what a trade at that state would deliver)."""
        finals = _final_assets(self.plan.legs)
        return sum(x.realized_out or 0 for x in self.legs if x.asset_out in finals and x.status is LegStatus.SIMULATED)

    def to_json(self) -> dict[str, Any]:
        """The issue's shape (amounts as integer strings in base units), plus status, P&L and timings."""
        d = self.decomposition
        return {
            "execution_id": self.execution_id,
            "mode": self.mode,
            "status": self.status,
            "plan": self.plan.to_json(),
            "replans": [p.to_json() for p in self.replans],
            "legs": [leg.to_json() for leg in self.legs],
            "expected_out": str(self.expected_out),
            "realized_out": "0" if self.mode == "dry_run" else str(self.realized_out),
            "simulated_out": str(self.simulated_out()) if self.mode == "dry_run" else None,
            "pnl": None
            if d is None
            else {"arrival": str(d.arrival), "shortfall": str(d.shortfall)}
            | {k: str(v) for k, v in d.components.items()},
            "timings_ms": self.timings_ms,
        }


def fee_rate(venue: object) -> Fraction:
    if isinstance(venue, Bridge):  # Transfer too
        return Fraction(venue.fee_ppm, 10**6)
    if isinstance(venue, (UniswapV2Pair, UniswapV3Pool)):
        return Fraction(venue.fee_ppm, 10**6)
    if isinstance(venue, OrderBook):
        return Fraction(venue.taker_fee)
    if isinstance(venue, StableSwapPool | StableSwapPair):
        pool = venue if isinstance(venue, StableSwapPool) else venue.pool
        return Fraction(pool.fee, 10**10)
    return Fraction(0)  # an aggregator's fees are inside its price (and not disclosed)


def unit_value(snap: Snapshot, asset: AssetId, buy: AssetId) -> Fraction | None:
    """Buy base units per one base unit of ``asset`` at the snapshot's mid prices."""
    prices = snap.prices or {}
    dec = {a.id: a.decimals for a in snap.assets}
    if asset not in prices or buy not in prices or not prices[buy]:
        return None
    return Fraction(prices[asset]) / Fraction(prices[buy]) * Fraction(10 ** dec[buy], 10 ** dec[asset])


def pnl(
    snap: Snapshot,
    plan: Plan,
    legs: tuple[LegResult, ...],
    venues: dict[str, object],
    natives: dict[str, AssetId],
) -> Decomposition | None:
    """The shortfall against the arrival mid, split exactly (see :mod:`fillpath.state.tca`)."""
    finals = _final_assets(plan.legs)
    sources = net_inputs(plan.legs)
    if not finals or not sources:
        return None
    buy = sorted(finals)[0]
    arrival_units = Fraction(0)
    for asset, amount in sources.items():
        v = unit_value(snap, asset, buy)
        if v is None:
            return None
        arrival_units += amount * v
    costs = []
    for r in legs:
        v = unit_value(snap, r.asset_in, buy)
        venue = venues.get(r.venue)
        if v is not None and r.status is not LegStatus.FAILED:
            mover = isinstance(venue, Bridge)
            fixed = venue.fee_fixed if isinstance(venue, Bridge) else 0
            costs.append(LegCost(r.venue, r.spent_in or r.amount_in, fee_rate(venue), v, fixed, mover))
    ran_final = [x for x in legs if x.asset_out in finals and x.status is not LegStatus.FAILED]
    failed = sum(x.expected_out for x in legs if x.asset_out in finals and x.status is LegStatus.FAILED)
    landed = _after_transfers(legs, venues)
    moved = [x for x in ran_final if x.at_send is not None and (x.asset_in in landed and not _moves(venues, x))]
    in_flight = sum(x.expected_out - (x.at_send or 0) for x in moved)
    latency = sum(x.expected_out - x.at_send for x in ran_final if x.at_send is not None and x not in moved)
    realized = sum(x.realized_out or 0 for x in legs if x.asset_out in finals)
    gas = 0
    for r in legs:
        native = natives.get(r.asset_in.location)
        v = unit_value(snap, native, buy) if native else None
        if r.gas_wei and v is not None:
            gas += int(r.gas_wei * v)
    expected = sum(x.expected_out for x in legs if x.asset_out in finals)
    amount_in = sum(sources.values())
    return decompose(
        amount_in=amount_in,
        arrival_mid=arrival_units / amount_in if amount_in else Fraction(0),
        expected=expected,
        realized=realized,
        legs=costs,
        gas=gas,
        latency=latency,
        failed=failed,
        in_flight=in_flight,
    )


def _moves(venues: dict[str, object], leg: LegResult) -> bool:
    return isinstance(venues.get(leg.venue), Bridge)


def _after_transfers(legs: tuple[LegResult, ...], venues: dict[str, object]) -> set[AssetId]:
    """Assets that exist only because a transfer landed (a transfer's output, and what was made from it)."""
    out: set[AssetId] = set()
    for leg in legs:  # in plan order: a producer before its consumers
        if _moves(venues, leg) or leg.asset_in in out:
            out.add(leg.asset_out)
    return out


def _final_assets(legs: tuple[PlanLeg, ...]) -> set[AssetId]:
    consumed = {leg.asset_in for leg in legs}
    return {leg.asset_out for leg in legs if leg.asset_out not in consumed}


def arrival_json(snap: Snapshot, plan: Plan) -> str:
    """The mid prices and decimals of the plan's assets, as recorded in ``ExecutionStarted``."""
    prices = snap.prices or {}
    dec = {a.id: a.decimals for a in snap.assets}
    assets = {leg.asset_in for leg in plan.legs} | {leg.asset_out for leg in plan.legs}
    out = {str(a): {"mid": str(prices[a]), "decimals": dec[a]} for a in sorted(assets) if a in prices}
    return json.dumps(out, sort_keys=True)
