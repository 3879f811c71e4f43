"""Routing on a snapshot from human inputs (pure: the router and the model only)."""

from __future__ import annotations

from collections.abc import Iterable

from fillpath.model.amounts import to_base_units
from fillpath.model.validate import check_units, resolve_name
from fillpath.router import Market, RouteRequest, route
from fillpath.router.plan import Plan
from fillpath.router.snapshot import Snapshot, unit_of
from fillpath.router.venues.bridge import Bridge


def excluded(snap: Snapshot, names: Iterable[str], field: str = "--exclude") -> frozenset[str]:
    """The venue ids ``names`` gives: a venue id of the snapshot, or a location (all its venues). A name that is
    neither is refused with a "did you mean": leaving out nothing while the user believes a venue is out is worse
    than an error."""
    by_location: dict[str, list[str]] = {}
    for v in snap.venues:
        location = v.source.location if isinstance(v, Bridge) else v.location  # a bridge is at both ends: its source
        by_location.setdefault(location, []).append(v.id)
    ids = {v.id for v in snap.venues}
    out: set[str] = set()
    for name in names:
        if name in ids:
            out.add(name)
        elif name in by_location:
            out.update(by_location[name])
        else:
            resolve_name(name, [*sorted(ids), *sorted(by_location)], field, what="venue or location")
    return frozenset(out)


def plan_on(
    snap: Snapshot,
    amount: str,
    sell: str,
    buy: str,
    *,
    max_hops: int = 4,
    slippage_bps: int = 50,
    gas: bool = True,
    exclude: Iterable[str] = (),
    field: str = "AMOUNT",
) -> Plan:
    """The optimal plan for ``amount`` (SELL's human unit) of ``sell`` into ``buy`` on ``snap``."""
    decimals = unit_of(snap, sell, "SELL")
    units = check_units(to_base_units(amount, decimals, field=field), field, decimals=decimals)
    request = RouteRequest(sell, units, buy, max_hops=max_hops, slippage_bps=slippage_bps, gas=gas,
                           exclude=excluded(snap, exclude))  # fmt: skip
    return route(Market.from_snapshot(snap), request)
