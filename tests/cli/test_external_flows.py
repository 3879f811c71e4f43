"""Money that moves without fillpath is booked from the venue's evidence, not called drift (issue 19).

On the session's lab with a journal of the test's own: ``lab fund`` after a trade (an exchange deposit recorded in
labex's history), a token transfer and a plain ETH send into the trader on lab1 from another account. Each is
journaled as an ``external.flow`` with its evidence; nothing halts; the next swap and pass agree with every venue.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from web3 import Web3

from fillpath.lab.manager import Lab
from fillpath.state.store import Store
from tests.cli.failures import invoke_with_env
from tests.conftest import Chain

run = invoke_with_env


def _env(tmp_path: Path, name: str) -> dict[str, str]:
    return {"FILLPATH_DATA_DIR": os.environ["FILLPATH_TEST_LAB_DIR"], "FILLPATH_DATABASE_URL": _url(tmp_path, name)}


def _url(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / name}"


def _reconciled(env: dict[str, str]) -> list[dict[str, Any]]:
    res = run(env, "reconcile", "--json", "--listen", "0")
    assert res.code == 0, res.err
    passes: list[dict[str, Any]] = json.loads(res.out)
    for p in passes:
        assert not p["halted"], p
        assert all(f["action"] in ("ok", "open") for f in p["findings"]), p
    return passes


def _flows(url: str, venue: str) -> list[Any]:
    with Store.open(url) as store:
        return [r.event for r in store.events() if r.event.kind == "external.flow" and r.event.venue == venue]


def test_lab_fund_after_a_trade_is_an_external_flow_and_the_next_swap_runs(lab1: Chain, tmp_path: Path) -> None:
    lab = Lab(Path(os.environ["FILLPATH_TEST_LAB_DIR"]))
    # labex starts with 1,500 ETH: taking it to 2 is an internal withdrawal of 1,498 in its history, stamped in whole
    # seconds, and the pass below opens the ledger less than a second later. That withdrawal is already in the 2: it
    # was once booked again when the 29 came in ("ETH@labex: ledger -1468, venue 30";
    # tests/state/test_reconcile_flows.py holds the rule)
    lab.fund({"ETH@labex": "1500"})
    lab.fund({"ETH@labex": "2"})
    env = _env(tmp_path, "fund.db")
    _reconciled(env)  # opens the balances, marks where the ledger agrees
    first = run(env, "swap", "1", "ETH@labex", "USDT", "--execute", "--json")  # the ledger moves (as the demo's)
    assert first.code == 0 and json.loads(first.out)["status"] == "done", first.out + first.err

    fund = run(env, "lab", "fund", "ETH@labex=30", "--json")
    assert fund.code == 0, fund.err
    out = json.loads(fund.out)
    assert out["halted"] == []
    [flow] = [f for f in out["journaled"] if f["asset"] == "ETH@labex"]
    assert Decimal(flow["delta"]) == Decimal(29) and flow["evidence_id"].startswith("deposit:")
    assert "credited" in flow["evidence"] and "internal" in flow["evidence"]

    swap = run(env, "swap", "30", "ETH@labex", "USDT", "--execute", "--json")
    assert swap.code == 0, swap.err
    assert json.loads(swap.out)["status"] == "done", swap.out
    _reconciled(env)
    [booked] = _flows(env["FILLPATH_DATABASE_URL"], "labex")
    assert booked.delta == Decimal(29) and booked.evidence_id == flow["evidence_id"]
    shown = run(env, "events", "--kind", "external.flow", "--json")
    assert shown.code == 0 and json.loads(shown.out)[0]["evidence_id"] == flow["evidence_id"]


def test_a_token_transfer_and_an_eth_send_into_the_trader_are_booked_with_their_evidence(
    lab1: Chain, tmp_path: Path
) -> None:
    lab_dir = Path(os.environ["FILLPATH_TEST_LAB_DIR"])
    lab = Lab(lab_dir)
    lab.fund({"USDC@lab1": "100"})
    env = _env(tmp_path, "transfer.db")
    _reconciled(env)
    trader = Web3.to_checksum_address(lab.trader_address() or "")
    usdc = lab1.contract("USDC")
    usdc.functions.mint(lab1.dev, 250 * 10**6).transact({"from": lab1.dev})
    sent = usdc.functions.transfer(trader, 250 * 10**6).transact({"from": lab1.dev})
    lab1.w3.eth.send_transaction({"from": lab1.dev, "to": trader, "value": 3 * 10**18})  # type: ignore[typeddict-item]

    passes = _reconciled(env)
    [lab1_pass] = [p for p in passes if p["venue"] == "lab1"]
    flows = {f["asset"]: f for f in lab1_pass["external_flows"]}
    assert flows["USDC@lab1"]["delta"] == str(250 * 10**6)
    assert flows["USDC@lab1"]["evidence_id"].startswith(sent.to_0x_hex().lower() + ":")
    assert flows["ETH@lab1"]["delta"] == str(3 * 10**18) and flows["ETH@lab1"]["evidence_id"].startswith("native:")
    assert {f.asset.symbol for f in _flows(env["FILLPATH_DATABASE_URL"], "lab1")} == {"USDC", "ETH"}
    again = _reconciled(env)  # evidence is booked once
    assert all(p["external_flows"] == [] and p["events"] == [] for p in again)
