from __future__ import annotations

from typing import Any

import pytest

from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router.plan import (
    Plan,
    PlanLeg,
    PlanPath,
    PlanStats,
    dumps_plan,
    loads_plan,
    read_plan,
    write_plan,
)

WETH = AssetId("WETH", "ethereum")
USDC = AssetId("USDC", "ethereum")


def plan() -> Plan:
    return Plan(
        sell=str(WETH),
        buy=str(USDC),
        amount_in=500 * 10**18,
        expected_out=1_490_000 * 10**6,
        min_out=1_482_550 * 10**6,
        gas_cost_out=12 * 10**6,
        net_out=1_489_988 * 10**6,
        legs=(
            PlanLeg("ethereum:uniswap_v3:0x88e6", WETH, USDC, 300 * 10**18, 895_000 * 10**6, 890_525 * 10**6),
            PlanLeg("ethereum:uniswap_v2:0xB4e1", WETH, USDC, 200 * 10**18, 595_000 * 10**6, 592_025 * 10**6),
        ),
        paths=(
            PlanPath(300 * 10**18, 895_000 * 10**6, ("ethereum:uniswap_v3:0x88e6",)),
            PlanPath(200 * 10**18, 595_000 * 10**6, ("ethereum:uniswap_v2:0xB4e1",)),
        ),
        stats=PlanStats(paths_considered=14, solve_ms=3.25),
    )


def test_round_trip() -> None:
    p = plan()
    doc = write_plan(p)
    assert doc["format"] == "fillpath.plan/1"
    assert doc["legs"][0]["amount_out"] == "895000000000"
    assert read_plan(doc) == p
    assert loads_plan(dumps_plan(p)) == p


def test_net_out_may_be_negative() -> None:
    doc = write_plan(plan())
    doc["net_out"] = "-5"
    assert read_plan(doc).net_out == -5


@pytest.mark.parametrize(
    ("key", "value", "field", "problem"),
    [
        ("format", "fillpath.plan/0", "format", "unknown format"),
        ("amount_in", 5, "amount_in", "not an integer string"),
        ("min_out", "-1", "min_out", "negative"),
        ("stats", {"paths_considered": 1}, "stats.solve_ms", "missing"),
        ("stats", {"paths_considered": 1, "solve_ms": "1"}, "stats.solve_ms", "not a non-negative number"),
        ("legs", [{"venue": "v"}], "legs[0].asset_in", "missing"),
        (
            "paths",
            [{"amount_in": "1", "amount_out": 2, "venues": []}],
            "paths[0].amount_out",
            "not an integer",
        ),
        ("extra", 1, "extra", "unknown field"),
    ],
)
def test_reader_names_the_json_path(key: str, value: Any, field: str, problem: str) -> None:
    doc = write_plan(plan())
    doc[key] = value
    with pytest.raises(InvalidInput) as info:
        read_plan(doc)
    assert info.value.field == field
    assert problem in info.value.problem
