"""``fillpath reconcile`` and ``fillpath balances`` on the real lab: on-chain drift found, booked or halted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.conftest import Chain


def _cli(tmp_path: Path, *args: str) -> Any:
    cfg = tmp_path / "fillpath.toml"
    cfg.write_text(
        f'lab = true\ndata_dir = "{os.environ["FILLPATH_TEST_LAB_DIR"]}"\ndatabase_url = "sqlite:///{tmp_path}/fp.db"\n'
    )
    res = subprocess.run(
        [sys.executable, "-m", "fillpath", "--config", str(cfg), *args],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(res.stdout)


def _actions(result: Any) -> dict[str, str]:
    return {f["asset"]: f["action"] for r in result for f in r["findings"] if f["action"] != "ok"}


def _settle(chain: Chain) -> None:
    for _ in range(3):  # past the confirmation depth the reconciler reads at
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def test_reconcile_on_the_lab(lab1: Chain, tmp_path: Path) -> None:
    first = _cli(tmp_path, "reconcile", "--json")
    assert set(_actions(first).values()) == {"open"}
    assert _actions(_cli(tmp_path, "reconcile", "--json")) == {}

    usdc = lab1.contract("USDC")
    usdc.functions.transfer("0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB", 3 * 10**6).transact(
        {"from": lab1.dev}
    )  # 3 USDC of 500M: dust
    _settle(lab1)
    found = _cli(tmp_path, "reconcile", "--json")
    assert _actions(found)["USDC@lab1"] == "adjust"
    assert found[0]["venue"] == "lab1"
    assert "ETH@lab1" in _actions(found)  # the transfer's gas: native balance moved too
    assert _actions(_cli(tmp_path, "reconcile", "--json")) == {}

    usdc.functions.transfer("0xCdCDCdCdcdcdcdCdcDcDCdcDcDCdCdcdCdcDCDcD", 100_000_000 * 10**6).transact(
        {"from": lab1.dev}
    )  # a fifth: halt
    _settle(lab1)
    found = _cli(tmp_path, "reconcile", "--json")
    assert _actions(found)["USDC@lab1"] == "halt"
    assert "venue.halted" in found[0]["events"]
    again = _cli(tmp_path, "reconcile", "--json")
    assert all(r["events"] == [] for r in again)  # nothing new the second time

    bal = _cli(tmp_path, "balances", "--json", "--refresh")
    rows = {r["asset"]: r for r in bal["assets"]}
    chain_usdc = usdc.functions.balanceOf(lab1.dev).call()
    assert Decimal(rows["USDC@lab1"]["venue"]) * 10**6 == chain_usdc
    assert Decimal(rows["USDC@lab1"]["drift"]) == -100_000_000
    assert {"USDC", "WETH", "ETH", "WBTC", "DAI", "USDT"} <= set(bal["symbols"])
