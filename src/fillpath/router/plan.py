"""``fillpath.plan/1``: the router's answer, as dataclasses with a strict reader and a writer.

Amounts are ints in base units of the asset they are in; ``net_out`` may be negative (gas above output).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router import json_fields as jf

FORMAT = "fillpath.plan/1"


@dataclass(frozen=True, slots=True)
class PlanLeg:
    venue: str
    asset_in: AssetId
    asset_out: AssetId
    amount_in: int
    amount_out: int
    min_out: int


@dataclass(frozen=True, slots=True)
class PlanPath:
    amount_in: int
    amount_out: int
    venues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlanStats:
    paths_considered: int
    solve_ms: float
    """Wall time of the solve (a measurement, not money)."""
    unsold: tuple[tuple[AssetId, int], ...] = ()
    """Dust the integer plan could place with no venue (left where it is; written only when there is some)."""
    max_hops_used: int | None = None
    """Set when the request's max_hops had more candidate paths than the search keeps: the hop limit used
    instead (every path of that length; written only when lowered)."""


@dataclass(frozen=True, slots=True)
class Plan:
    sell: str
    """Asset id, or a bare symbol as requested."""
    buy: str
    amount_in: int
    expected_out: int
    min_out: int
    gas_cost_out: int
    net_out: int
    legs: tuple[PlanLeg, ...]
    paths: tuple[PlanPath, ...]
    stats: PlanStats
    upper_bound: int | None = None
    """The certificate: no plan on these venues within the hop limit delivers more than this (buy base units, gross of
    gas like ``expected_out``). None on plans written before it existed."""

    @property
    def gap(self) -> Fraction | None:
        """``1 - expected_out / upper_bound``: how far the plan may be from the best possible (never negative)."""
        if self.upper_bound is None or self.upper_bound <= 0:
            return None
        return 1 - Fraction(self.expected_out, self.upper_bound)

    def to_json(self) -> dict[str, Any]:
        """The ``fillpath.plan/1`` object (amounts as integer strings)."""
        return write_plan(self)


def net_flows(legs: Sequence[PlanLeg]) -> dict[AssetId, int]:
    """Per asset, what the legs spend minus what they make: > 0 an input the trader gives, < 0 an output. A sell
    list's holding that a transfer also feeds (ETH held on an exchange, more deposited there) counts what was held;
    an asset made and spent on the way nets to nothing (or to its dust)."""
    net: dict[AssetId, int] = {}
    for leg in legs:
        net[leg.asset_in] = net.get(leg.asset_in, 0) + leg.amount_in
        net[leg.asset_out] = net.get(leg.asset_out, 0) - leg.amount_out
    return net


def net_inputs(legs: Sequence[PlanLeg]) -> dict[AssetId, int]:
    """What a plan takes from the trader, per asset (the positive :func:`net_flows`): the base of arrival value."""
    return {a: n for a, n in net_flows(legs).items() if n > 0}


def _read_leg(value: object, path: str) -> PlanLeg:
    f = jf.Fields(value, path)
    leg = PlanLeg(
        venue=f.string("venue"),
        asset_in=f.asset_id("asset_in"),
        asset_out=f.asset_id("asset_out"),
        amount_in=f.int_string("amount_in"),
        amount_out=f.int_string("amount_out"),
        min_out=f.int_string("min_out"),
    )
    f.done()
    return leg


def _read_path(value: object, path: str) -> PlanPath:
    f = jf.Fields(value, path)
    venues = tuple(jf.string(v, f"{f.at('venues')}[{k}]") for k, v in enumerate(f.array("venues")))
    result = PlanPath(amount_in=f.int_string("amount_in"), amount_out=f.int_string("amount_out"), venues=venues)
    f.done()
    return result


def _read_stats(value: object) -> PlanStats:
    f = jf.Fields(value, "stats")
    considered = f.json_int("paths_considered")
    solve_ms = f.raw("solve_ms")
    if isinstance(solve_ms, bool) or not isinstance(solve_ms, int | float) or solve_ms < 0:
        raise InvalidInput(f.at("solve_ms"), f"not a non-negative number ({jf.describe(solve_ms)})", "e.g. 1.5")
    unsold: tuple[tuple[AssetId, int], ...] = ()
    if f.has("unsold"):
        g = jf.Fields(f.raw("unsold"), f.at("unsold"))
        unsold = tuple((AssetId.parse(k, field=g.at(k)), g.int_string(k)) for k in sorted(g.data))
        g.done()
    hops = f.json_int("max_hops_used") if f.has("max_hops_used") else None
    f.done()
    return PlanStats(considered, solve_ms, unsold, hops)


def read_plan(data: object) -> Plan:
    """Parse a decoded plan document strictly (errors name the JSON path, e.g. ``legs[0].amount_out``)."""
    f = jf.Fields(data, "")
    fmt = f.raw("format")
    if fmt != FORMAT:
        raise InvalidInput("format", f"unknown format {fmt!r}", f"this reader understands {FORMAT}")
    plan = Plan(
        sell=f.string("sell"),
        buy=f.string("buy"),
        amount_in=f.int_string("amount_in"),
        expected_out=f.int_string("expected_out"),
        min_out=f.int_string("min_out"),
        gas_cost_out=f.int_string("gas_cost_out"),
        net_out=f.int_string("net_out", signed=True),
        legs=tuple(_read_leg(v, f"legs[{k}]") for k, v in enumerate(f.array("legs"))),
        paths=tuple(_read_path(v, f"paths[{k}]") for k, v in enumerate(f.array("paths"))),
        stats=_read_stats(f.raw("stats")),
        upper_bound=f.int_string("upper_bound") if f.has("upper_bound") else None,
    )
    if f.has("gap"):
        f.raw("gap")  # derived from the two amounts; read for completeness, recomputed exactly
    f.done()
    return plan


def write_plan(plan: Plan) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "sell": plan.sell,
        "buy": plan.buy,
        "amount_in": str(plan.amount_in),
        "expected_out": str(plan.expected_out),
        "min_out": str(plan.min_out),
        "gas_cost_out": str(plan.gas_cost_out),
        "net_out": str(plan.net_out),
        **_certificate(plan),
        "legs": [
            {
                "venue": leg.venue,
                "asset_in": str(leg.asset_in),
                "asset_out": str(leg.asset_out),
                "amount_in": str(leg.amount_in),
                "amount_out": str(leg.amount_out),
                "min_out": str(leg.min_out),
            }
            for leg in plan.legs
        ],
        "paths": [
            {"amount_in": str(p.amount_in), "amount_out": str(p.amount_out), "venues": list(p.venues)}
            for p in plan.paths
        ],
        "stats": {"paths_considered": plan.stats.paths_considered, "solve_ms": plan.stats.solve_ms}
        | ({"unsold": {str(a): str(n) for a, n in plan.stats.unsold}} if plan.stats.unsold else {})
        | ({"max_hops_used": plan.stats.max_hops_used} if plan.stats.max_hops_used is not None else {}),
    }


def _certificate(plan: Plan) -> dict[str, Any]:
    gap = plan.gap
    if plan.upper_bound is None or gap is None:
        return {}
    return {"upper_bound": str(plan.upper_bound), "gap": float(f"{float(gap):.6g}")}


def dumps_plan(plan: Plan) -> str:
    return json.dumps(write_plan(plan), indent=2) + "\n"


def loads_plan(text: str) -> Plan:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput("$", f"not JSON: {exc}", "check the file") from None
    return read_plan(data)
