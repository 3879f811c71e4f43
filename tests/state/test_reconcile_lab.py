"""``fillpath reconcile`` and ``fillpath balances`` on the real lab: on-chain drift found, booked or halted; labex's
orders and stream."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from fillpath.config import lab_config_path
from fillpath.lab.exchange.binance import sim_binance
from fillpath.lab.manager import Lab
from fillpath.model.assets import AssetId
from fillpath.model.events import BalanceAdjusted
from fillpath.state.store import Store
from tests.cli.failures import invoke
from tests.conftest import Chain


def _cli(tmp_path: Path, *args: str) -> Any:
    cfg = tmp_path / "fillpath.toml"  # the running lab's configuration, with a journal of the test's own
    lab_toml = lab_config_path(Path(os.environ["FILLPATH_TEST_LAB_DIR"])).read_text()
    cfg.write_text(f'database_url = "sqlite:///{tmp_path}/fp.db"\n' + lab_toml)
    res = invoke(["--config", str(cfg), *args])  # in this process: a subprocess pays seconds of imports each time
    assert res.code in (0, 3), res.err  # 3: a venue is halted after the pass
    return json.loads(res.out)


def _actions(result: Any) -> dict[str, str]:
    return {f["asset"]: f["action"] for r in result for f in r["findings"] if f["action"] != "ok"}


def _settle(chain: Chain) -> None:
    for _ in range(3):  # past the confirmation depth the reconciler reads at
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


@pytest.fixture
def trader(lab1: Chain) -> Iterator[str]:
    """The lab trader (whose balances the lab's read plan holds) with 500M USDC, able to send as itself."""
    lab = Lab(Path(os.environ["FILLPATH_TEST_LAB_DIR"]))
    lab.fund({AssetId.parse("USDC@lab1"): Decimal(500_000_000)})  # lab1 reverts it after the test
    address = lab.trader_address()
    assert address is not None
    lab1.w3.provider.make_request("anvil_impersonateAccount", [address])  # type: ignore[arg-type]
    yield address
    lab1.w3.provider.make_request("anvil_stopImpersonatingAccount", [address])  # type: ignore[arg-type]


def _book(tmp_path: Path, delta: int, why: str) -> None:
    """A ledger entry no venue evidence backs (a bookkeeping error): the only kind of difference left to be drift."""
    with Store.open(f"sqlite:///{tmp_path}/fp.db") as store:
        store.append(BalanceAdjusted("lab1", AssetId("USDC", "lab1"), delta, why))


def test_reconcile_on_the_lab(lab1: Chain, trader: str, tmp_path: Path) -> None:
    first = _cli(tmp_path, "reconcile", "--json", "--listen", "0")
    assert set(_actions(first).values()) == {"open"}
    assert _actions(_cli(tmp_path, "reconcile", "--json", "--listen", "0")) == {}

    usdc = lab1.contract("USDC")
    usdc.functions.transfer("0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB", 3 * 10**6).transact(
        {"from": trader}
    )  # sent from the trader's account outside fillpath: the chain shows it (a Transfer log, the gas)
    _settle(lab1)
    found = _cli(tmp_path, "reconcile", "--json", "--listen", "0")
    assert _actions(found) == {}  # booked as external flows, not drift
    flows = {f["asset"]: f for f in found[0]["external_flows"]}
    assert flows["USDC@lab1"]["delta"] == str(-3 * 10**6) and int(flows["ETH@lab1"]["delta"]) < 0  # and its gas
    assert "external.flow" in found[0]["events"] and "drift.detected" not in found[0]["events"]

    _book(tmp_path, 3 * 10**6, "a bookkeeping error of 3 USDC")  # of 500M: dust
    found = _cli(tmp_path, "reconcile", "--json", "--listen", "0")
    assert _actions(found)["USDC@lab1"] == "adjust"
    assert found[0]["venue"] == "lab1" and found[0]["external_flows"] == []
    assert _actions(_cli(tmp_path, "reconcile", "--json", "--listen", "0")) == {}

    _book(tmp_path, 100_000_000 * 10**6, "a bookkeeping error of a fifth")  # a fifth: halt
    found = _cli(tmp_path, "reconcile", "--json", "--listen", "0")
    assert _actions(found)["USDC@lab1"] == "halt"
    assert "venue.halted" in found[0]["events"]
    again = _cli(tmp_path, "reconcile", "--json", "--listen", "0")
    assert all(r["events"] == [] for r in again)  # nothing new the second time

    bal = _cli(tmp_path, "balances", "--json", "--refresh")
    rows = {r["asset"]: r for r in bal["assets"]}
    chain_usdc = usdc.functions.balanceOf(trader).call()
    assert Decimal(rows["USDC@lab1"]["venue"]) * 10**6 == chain_usdc
    assert Decimal(rows["USDC@lab1"]["drift"]) == -100_000_000
    assert {"USDC", "WETH", "ETH", "WBTC", "DAI", "USDT"} <= set(bal["symbols"])


async def _on_labex(call: str, params: dict[str, str]) -> Any:
    lab = Lab(Path(os.environ["FILLPATH_TEST_LAB_DIR"]))
    status, creds = lab.exchange_status(), lab.exchange_credentials()
    assert status.url is not None
    exchange = sim_binance(status.url, creds.api_key, creds.secret)
    try:
        if call == "mid":
            async with aiohttp.ClientSession() as http, http.get(f"{status.url}/admin/book?symbol=ETHUSDT") as resp:
                return Decimal((await resp.json())["mid"])
        return await getattr(exchange, call)(params)
    finally:
        await exchange.close()


def test_reconcile_on_the_lab_covers_labex_orders_trades_and_stream(lab1: Chain, tmp_path: Path) -> None:
    cid = f"by-hand-{secrets.token_hex(4)}"  # a client id is good once per key, ever
    price = (asyncio.run(_on_labex("mid", {})) / 2).quantize(Decimal(1))  # far below the market: it rests
    order = {"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.5",
             "price": str(price), "newClientOrderId": cid}  # fmt: skip
    asyncio.run(_on_labex("private_post_order", order))
    try:
        first = _cli(tmp_path, "reconcile", "--json", "--listen", "0.3")
        by_venue = {r["venue"]: r for r in first}
        assert by_venue["lab1"]["orders"] is None  # a chain has no order book to compare
        labex = by_venue["labex"]
        (found,) = [f for f in labex["orders"]["findings"] if f["client_order_id"] == cid]
        assert (found["action"], found["ours_before"], Decimal(found["qty"])) == ("foreign", None, Decimal("0.5"))
        assert "order.drift_detected" in labex["events"]
        assert labex["trades"] == {"listed": 0, "findings": []}  # no order of ours: no trade list is read
        assert labex["stream"] == {"updates": 0, "findings": []}  # a quiet account: the stream said nothing
        again = _cli(tmp_path, "reconcile", "--json", "--listen", "0")
        assert all(r["events"] == [] for r in again)  # the foreign order is recorded once
        assert next(r for r in again if r["venue"] == "labex")["stream"] is None
        text = _cli_text(tmp_path, "reconcile", "--listen", "0")
        assert "labex orders: " in text and cid in text and "foreign" in text
        assert "labex stream: not listened to" in text
    finally:
        asyncio.run(_on_labex("private_delete_order", {"symbol": "ETHUSDT", "origClientOrderId": cid}))


def _cli_text(tmp_path: Path, *args: str) -> str:
    cfg = tmp_path / "fillpath.toml"
    res = invoke(["--config", str(cfg), *args])
    assert res.code == 0, res.err
    return res.out
