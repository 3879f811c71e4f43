"""``fillpath swap`` / ``report`` / ``recover`` as a user runs them, on the session's lab.

The dry run is tested with the lab's secrets moved out of reach: it must plan and simulate without them, and
``--execute`` must then fail, naming what is missing, before anything is sent.
"""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from fillpath.lab.manager import Lab
from tests.cli.failures import completed
from tests.conftest import Chain


@pytest.fixture
def lab_env(lab1: Chain, tmp_path: Path) -> dict[str, str]:
    lab_dir = os.environ["FILLPATH_TEST_LAB_DIR"]
    Lab(Path(lab_dir)).fund({"WETH@lab1": "40", "ETH@labex": "10"})
    return {"FILLPATH_DATA_DIR": lab_dir, "FILLPATH_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return completed(env, *args)  # in this process: no seconds of imports per call


def test_a_dry_run_plans_and_simulates_without_any_credential(lab_env: dict[str, str]) -> None:
    lab_dir = Path(lab_env["FILLPATH_DATA_DIR"])
    secrets = [p for p in lab_dir.rglob("*") if p.is_file() and ("credentials" in p.name or "passphrase" in p.name)]
    assert secrets, "the lab keeps its secrets in files"
    hidden = [p.rename(p.with_name(p.name + ".hidden")) for p in secrets]
    try:
        res = run(lab_env, "swap", "25", "WETH@lab1", "USDC@lab1", "--dry-run", "--json")
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)
        assert out["mode"] == "dry_run" and out["status"] == "dry_run"
        assert out["legs"] and all(leg["status"] == "simulated" for leg in out["legs"])
        # the simulation (eth_call with the allowance overridden) returns the router's exact figures
        assert all(leg["expected_out"] == leg["simulated_out"] for leg in out["legs"])
        assert all(leg["realized_out"] is None for leg in out["legs"])  # a simulation is not a fill
        assert out["realized_out"] == "0" and out["simulated_out"] == out["expected_out"]
        text = run(lab_env, "swap", "25", "WETH@lab1", "USDC@lab1", "--dry-run")
        assert text.returncode == 0 and "realized 0" in text.stdout and "nothing realized" in text.stdout
        refused = run(lab_env, "swap", "25", "WETH@lab1", "USDC@lab1", "--execute")
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
    finally:
        for p in hidden:
            p.rename(p.with_name(p.name.removesuffix(".hidden")))


def test_execute_prints_the_promised_json_and_report_reads_it_back(lab_env: dict[str, str]) -> None:
    res = run(lab_env, "swap", "30", "WETH@lab1,ETH@labex", "USDC", "--execute", "--json", "--max-hops", "3")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    for key in ("execution_id", "plan", "legs", "expected_out", "realized_out"):
        assert key in out
    for leg in out["legs"]:
        assert {"venue", "status", "amount_in", "expected_out", "realized_out"} <= set(leg)
        assert leg["amount_in"].isdigit() and leg["expected_out"].isdigit()
    assert out["plan"]["format"] == "fillpath.plan/1"
    chain = [leg for leg in out["legs"] if leg["venue"].startswith("lab1:")]
    assert chain and all(leg["realized_out"] == leg["expected_out"] for leg in chain)  # exact on chain
    eid = out["execution_id"]
    rep = run(lab_env, "report", eid, "--json")
    assert rep.returncode == 0, rep.stderr
    recorded = json.loads(rep.stdout)
    assert recorded["status"] == out["status"] and recorded["realized_out"] == out["realized_out"]
    assert recorded["pnl"]["shortfall"] == out["pnl"]["shortfall"]
    table = run(lab_env, "report", "--last", "3")
    assert table.returncode == 0 and eid in table.stdout
    assert "nothing to recover" in run(lab_env, "recover").stdout


def test_bad_input_is_one_line_naming_the_field(lab_env: dict[str, str]) -> None:
    res = run(lab_env, "swap", "lots", "WETH@lab1", "USDC", "--dry-run")
    assert res.returncode == 2 and "AMOUNT" in res.stderr and "Traceback" not in res.stderr
    res = run(lab_env, "report", "xnope")
    assert res.returncode == 2 and "EXECUTION_ID" in res.stderr


def test_route_takes_the_same_sell_list_as_swap(lab_env: dict[str, str]) -> None:
    res = run(lab_env, "route", "30", "WETH@lab1,ETH@labex", "USDC", "--json", "--max-hops", "3")
    assert res.returncode == 0, res.stderr
    plan = json.loads(res.stdout)
    assert plan["amount_in"] == str(30 * 10**18)
    assert {leg["asset_in"].split("@")[1] for leg in plan["legs"]} <= {"lab1", "labex"}
    mixed = run(lab_env, "route", "30", "WETH@lab1,USDC@lab1", "DAI", "--json")
    assert mixed.returncode == 2 and "SELL" in mixed.stderr and "one unit" in mixed.stderr


def test_one_sale_over_both_exchanges_and_the_chain_reconciles_to_zero_drift(lab1: Chain, tmp_path: Path) -> None:
    """50 ETH sold from three inventories of 20 each (lab1's WETH, labex's and labokx's ETH): every one must
    trade. Executed, then reconciled: every location (two chains, two exchanges) agrees with the ledger."""
    lab_dir = os.environ["FILLPATH_TEST_LAB_DIR"]
    Lab(Path(lab_dir)).fund({"WETH@lab1": "20", "ETH@labex": "20", "ETH@labokx": "20"})
    env = {"FILLPATH_DATA_DIR": lab_dir, "FILLPATH_DATABASE_URL": f"sqlite:///{tmp_path / 'two.db'}"}
    res = run(env, "swap", "50", "WETH@lab1,ETH@labex,ETH@labokx", "USDT", "--max-hops", "3", "--execute", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["status"] == "done", json.dumps(out["legs"], indent=1)
    assert all(leg["status"] == "done" for leg in out["legs"])
    assert {leg["venue"].split(":")[0] for leg in out["legs"]} == {"lab1", "labex", "labokx"}
    okx = [leg for leg in out["legs"] if leg["venue"].startswith("labokx:")]
    assert okx and all(leg["ref"].isalnum() and len(leg["ref"]) <= 32 for leg in okx)  # OKX's clOrdId alphabet
    rec = run(env, "reconcile", "--json")
    assert rec.returncode == 0, rec.stderr
    passes = json.loads(rec.stdout)
    assert {p["venue"] for p in passes} == {"lab1", "lab2", "labex", "labokx"}
    for p in passes:
        assert p["events"] == [], p  # nothing to book: the ledger already says what every venue says
        assert all(f["action"] == "ok" and Decimal(f["drift"]) == 0 for f in p["findings"]), p
        if p["orders"] is not None:  # an exchange: our orders and trades agree with the venue's too
            ours = {leg["ref"] for leg in out["legs"]}
            assert all(f["action"] == "ok" for f in p["orders"]["findings"] if f["client_order_id"] in ours), p
            assert not [f for f in p["trades"]["findings"] if f["client_order_id"] in ours], p
