"""The three mixed snapshots of issue 15 (V2 pools on a chain, books on an exchange, zero-fee uncapped deposits and
withdrawals between them): the plan reaches the listed optimum (an independent convex solve, cvxpy + Clarabel, over
the whole network) to 1e-4 at ``--max-hops 4``, and its certificate bounds it from above."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from fillpath.model.amounts import to_base_units
from fillpath.model.assets import AssetId
from fillpath.router import Market, RouteRequest, route
from fillpath.router.plan import read_plan
from fillpath.router.snapshot import loads_snapshot
from tests.cli.failures import completed
from tests.router.helpers import check_plan

CASES = Path(__file__).parent / "data" / "mixed"
LISTED: list[dict[str, Any]] = json.loads((CASES / "README.json").read_text())


def _units(case: dict[str, Any], key: str, field: str) -> int:
    snap = json.loads((CASES / case["snapshot"]).read_text())
    asset = case["sell" if key == "amount" else "buy"]
    decimals = next(a["decimals"] for a in snap["assets"] if a["id"] == asset)
    return to_base_units(case[key], decimals, field=field)


@pytest.mark.parametrize("case", LISTED, ids=[c["snapshot"] for c in LISTED])
def test_the_plan_reaches_the_listed_optimum_and_is_certified(case: dict[str, Any]) -> None:
    snap = loads_snapshot((CASES / case["snapshot"]).read_text())
    market = Market.from_snapshot(snap)
    amount = _units(case, "amount", "amount")
    optimum = _units(case, "optimum_buy_units_human", "optimum")
    plan = route(market, RouteRequest(case["sell"], amount, case["buy"], max_hops=case["max_hops"], gas=False))
    check_plan(market, plan, {AssetId.parse(case["sell"]): amount}, {AssetId.parse(case["buy"])}, 50)
    assert plan.expected_out >= optimum * Fraction(9999, 10_000)
    assert plan.upper_bound is not None and plan.gap is not None
    # the certificate bounds the optimum and is tight. The listed optimum is another model's (it counts a book's
    # taker fee its own way: ~fee² ≈ 6e-7 apart on the flow through books) over the whole network, hence 1e-6.
    assert plan.upper_bound >= optimum * (1 - Fraction(1, 10**6))
    assert 0 <= plan.gap <= Fraction(1, 10_000)


def test_the_cli_prints_the_plan_and_its_certificate() -> None:
    case = LISTED[0]
    args = [case["amount"], case["sell"], case["buy"], "--snapshot", str(CASES / case["snapshot"]), "--max-hops", "4"]
    res = completed({}, "route", *args, "--json", "--no-gas")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    plan = read_plan(doc)
    optimum = _units(case, "optimum_buy_units_human", "optimum")
    assert plan.expected_out >= optimum * Fraction(9999, 10_000)
    assert int(doc["upper_bound"]) >= plan.expected_out
    assert Decimal(str(doc["gap"])) == pytest.approx(Decimal(1) - Decimal(plan.expected_out) / int(doc["upper_bound"]))
    table = completed({}, "route", *args)
    assert table.returncode == 0, table.stderr
    assert "upper bound" in table.stdout and "gap" in table.stdout
