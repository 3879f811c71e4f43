"""Shared checks for plans: conservation, exact re-simulation, order, JSON shape."""

from __future__ import annotations

from fillpath.model.assets import AssetId
from fillpath.router.market import Market
from fillpath.router.plan import Plan


def check_plan(market: Market, plan: Plan, sources: dict[AssetId, int], sinks: set[AssetId], bps: int) -> None:
    venues = {v.id: v for v in market.venues}
    balance = dict(sources)
    seen = set()
    for leg in plan.legs:
        key = (leg.venue, leg.asset_in, leg.asset_out)
        assert key not in seen, "a venue trades at most once per direction"
        seen.add(key)
        assert balance.get(leg.asset_in, 0) >= leg.amount_in > 0, "a leg spends only what exists before it"
        balance[leg.asset_in] -= leg.amount_in
        assert venues[leg.venue].quote(leg.asset_in, leg.amount_in) == leg.amount_out
        assert leg.min_out == leg.amount_out * (10_000 - bps) // 10_000 > 0
        balance[leg.asset_out] = balance.get(leg.asset_out, 0) + leg.amount_out
    assert all(v >= 0 for v in balance.values())
    assert sum(balance.get(t, 0) for t in sinks) == plan.expected_out
    assert sum(p.amount_in for p in plan.paths) == plan.amount_in == sum(sources.values())
    assert sum(p.amount_out for p in plan.paths) <= plan.expected_out
    assert plan.min_out == plan.expected_out * (10_000 - bps) // 10_000 > 0
    assert plan.net_out == plan.expected_out - plan.gas_cost_out
    doc = plan.to_json()
    for k in ("amount_in", "expected_out", "min_out", "gas_cost_out", "net_out"):
        assert isinstance(doc[k], str)
        assert doc[k].lstrip("-").isdigit()
