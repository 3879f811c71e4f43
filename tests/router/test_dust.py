"""Dust the integer plan cannot place stays unsold and is reported; it never fails the plan. And the network
solve gives no supply to a source none of whose edges carries a whole unit (where that dust came from)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router.build import build
from fillpath.router.curves import curve_for
from fillpath.router.graph import Edge
from fillpath.router.plan import Plan, PlanStats, read_plan, write_plan
from tests.router.opt_venues import BookVenue, CPVenue

WETH = AssetId("WETH", "l1")
ETH = AssetId("ETH", "l3")
MID = AssetId("USDT", "l1")
USDC = AssetId("USDC", "l1")
E18 = 10**18


def _edge(venue: CPVenue | BookVenue, a_in: AssetId, a_out: AssetId) -> Edge:
    return Edge(venue, a_in, a_out, curve_for(venue, a_in))


def _pool(name: str, a: AssetId, b: AssetId) -> CPVenue:
    return CPVenue(name, a.location, a, b, 10_000 * E18, 30_000_000 * 10**6)


def test_a_source_unit_without_a_leg_is_left_unsold_not_an_error() -> None:
    """The ~2 ETH failure: rounding the source flows gave ETH@l3 one base unit, but its only edge carried
    under one unit of flow, so no leg took it ("1 base units of ETH@l3 find no venue with room")."""
    edges = [_edge(_pool("a", WETH, USDC), WETH, USDC), _edge(_pool("b", ETH, USDC), ETH, USDC)]
    draft = build(edges, [2.0 * E18, 0.0], {WETH: 2 * E18 - 1, ETH: 1}, frozenset({USDC}), 50)
    assert draft.unsold == ((ETH, 1),)
    assert draft.amount_in == 2 * E18 - 1 == sum(leg.amount_in for leg in draft.legs)
    assert sum(p.amount_in for p in draft.paths) == draft.amount_in


def test_capacity_dust_in_between_is_left_and_reported_but_a_shortfall_still_fails() -> None:
    """An intermediate asset whose only way on is full: a few units stay (reported); more is 'sell less'."""
    first = _pool("a", WETH, MID)
    out = first.quote(WETH, 2 * E18)
    for room, fails in ((out - 3, False), (out // 2, True)):
        book = BookVenue("book", "l1", MID, USDC, ((Fraction(1), room),), ((Fraction(1), 10**30),))
        edges = [_edge(first, WETH, MID), _edge(book, MID, USDC)]
        if fails:
            with pytest.raises(InvalidInput, match="find no venue with room"):
                build(edges, [1, 1], {WETH: 2 * E18}, frozenset({USDC}), 50)
            continue
        draft = build(edges, [1, 1], {WETH: 2 * E18}, frozenset({USDC}), 50)
        assert draft.unsold == ((MID, 3),)
        assert draft.amount_in == 2 * E18


def test_unsold_dust_is_written_and_read_back() -> None:
    stats = PlanStats(3, 1.5, ((ETH, 1),))
    plan = Plan("WETH@l1,ETH@l3", "USDC", 10, 9, 8, 0, 9, (), (), stats)
    doc = write_plan(plan)
    assert doc["stats"]["unsold"] == {"ETH@l3": "1"}
    assert read_plan(doc) == plan
    assert "unsold" not in write_plan(Plan("a@b", "c", 10, 9, 8, 0, 9, (), (), PlanStats(3, 1.5)))["stats"]
