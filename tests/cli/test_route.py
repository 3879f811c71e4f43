"""``fillpath route`` on the live lab and on snapshot files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from fillpath.lab.manager import Lab, NodeStatus
from fillpath.model.assets import AssetId
from fillpath.router.plan import read_plan
from tests.conftest import Chain

EXAMPLE = Path(__file__).parents[1] / "router" / "data" / "snapshot_example.json"


def run(*args: str, data_dir: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"FILLPATH_DATA_DIR": data_dir} if data_dir else {})}
    return subprocess.run(
        [sys.executable, "-m", "fillpath", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_route_on_the_live_lab_splits_a_large_sale(anvil_lab: dict[str, NodeStatus]) -> None:
    res = run("route", "2000", "WETH@lab1", "USDC@lab1", "--json", data_dir=os.environ["FILLPATH_TEST_LAB_DIR"])
    assert res.returncode == 0, res.stderr
    doc: dict[str, Any] = json.loads(res.stdout)
    plan = read_plan(doc)  # exactly fillpath.plan/1
    assert plan.amount_in == 2000 * 10**18
    weth, usdc = AssetId.parse("WETH@lab1"), AssetId.parse("USDC@lab1")
    assert sum(leg.amount_in for leg in plan.legs if leg.asset_in == weth) == plan.amount_in
    assert plan.expected_out == sum(leg.amount_out for leg in plan.legs if leg.asset_out == usdc)
    assert plan.net_out == plan.expected_out - plan.gas_cost_out
    assert len(plan.legs) >= 2  # a sale this size is worth splitting over lab1's WETH/USDC pools
    assert 0 < plan.min_out < plan.expected_out
    assert doc["stats"]["solve_ms"] > 0
    table = run("route", "2000", "WETH@lab1", "USDC@lab1", data_dir=os.environ["FILLPATH_TEST_LAB_DIR"])
    assert "price impact vs mid" in table.stdout


def test_route_on_a_snapshot_file() -> None:
    res = run("route", "10", "WETH@ethereum", "USDC", "--snapshot", str(EXAMPLE), "--json")
    assert res.returncode == 0, res.stderr
    plan = read_plan(json.loads(res.stdout))
    assert plan.amount_in == 10 * 10**18
    assert plan.expected_out > 0
    assert {leg.asset_in for leg in plan.legs} >= {AssetId.parse("WETH@ethereum")}
    assert all(leg.asset_out.symbol == "USDC" for leg in plan.legs if leg.asset_out.symbol not in ("WETH", "ETH"))


def test_a_bad_snapshot_field_is_named(tmp_path: Path) -> None:
    snap = json.loads(EXAMPLE.read_text())
    snap["venues"][0]["reserve0"] = 12.5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(snap))
    res = run("route", "1", "WETH@ethereum", "USDC@ethereum", "--snapshot", str(bad), "--json")
    assert res.returncode == 2
    assert res.stdout == ""
    assert "venues[0].reserve0" in res.stderr and "Traceback" not in res.stderr


def test_too_many_decimals_in_the_amount_is_refused() -> None:
    res = run("route", "1.1234567", "USDC@ethereum", "WETH@ethereum", "--snapshot", str(EXAMPLE))
    assert res.returncode == 2
    assert "AMOUNT" in res.stderr and "decimal places" in res.stderr


def test_a_bare_symbol_sale_spans_both_chains_and_both_exchanges(lab1: Chain, lab2: Chain) -> None:
    """The trader holds ETH on lab1, lab2 (native), labex and labokx: 2,000 ETH for USDC splits over all four."""
    lab = Lab(Path(os.environ["FILLPATH_TEST_LAB_DIR"]))  # lab1 and lab2 revert the funding after the test
    targets = {AssetId.parse("ETH@labex"): Decimal(1500), AssetId.parse("ETH@labokx"): Decimal(1500)}
    exchange_eth = {r.asset: r.after for r in lab.fund(targets)}
    assert exchange_eth == targets  # what the lab funds its exchanges with at start, made sure
    lab.fund({AssetId.parse("ETH@lab1"): Decimal(400), AssetId.parse("ETH@lab2"): Decimal(400)})
    res = run("route", "2000", "ETH", "USDC", "--json", data_dir=os.environ["FILLPATH_TEST_LAB_DIR"])
    assert res.returncode == 0, res.stderr
    plan = read_plan(json.loads(res.stdout))
    assert {leg.asset_in.location for leg in plan.legs} == {"lab1", "lab2", "labex", "labokx"}
    sold = sum(leg.amount_in for leg in plan.legs if leg.asset_in.symbol == "ETH")
    assert sold == 2000 * 10**18  # every ETH leg together sells exactly the request
    assert all(leg.amount_out > 0 for leg in plan.legs if leg.amount_in > 10**12)
