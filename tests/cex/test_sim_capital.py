"""labex's wallet speaks Binance's capital endpoints to ccxt's ``binance`` class, unmodified: its unified
``fetch_deposit_address``, ``fetch_deposits``, ``withdraw`` and ``fetch_withdrawals`` parse what the simulator
says; and fillpath's own client (``cex/binance/capital.py``) reads the same records as exact decimals."""

from __future__ import annotations

import asyncio
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from tests.conftest import Chain

from fillpath.cex.binance.capital import BinanceWallet
from fillpath.cex.binance.dialect import BinanceDialect
from fillpath.cex.connector import CcxtConnector
from fillpath.lab.exchange.binance import sim_binance
from fillpath.lab.manager import Lab
from fillpath.model.commands import RequestWithdrawal
from fillpath.model.errors import Rejected
from fillpath.model.reports import TransferStatus


def _exchange() -> Any:
    lab = Lab(Path(os.environ["FILLPATH_TEST_LAB_DIR"]))
    creds = lab.exchange_credentials()
    url = lab.exchange_status().url
    assert url
    return sim_binance(url, creds.api_key, creds.secret)


async def _until(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = await check()
        if got:
            return got
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


def test_ccxt_unified_wallet_calls_parse_the_simulator(lab1: Chain, lab2: Chain) -> None:
    Lab(Path(os.environ["FILLPATH_TEST_LAB_DIR"])).fund({"USDC@labex": "500"})
    recipient = Account.create().address

    async def go() -> None:
        ex = _exchange()
        try:
            await ex.load_markets()
            address = await ex.fetch_deposit_address("ETH", {"network": "lab1"})
            assert address["address"].startswith("0x") and address["currency"] == "ETH"
            tx = lab1.w3.eth.send_transaction({"from": lab1.dev, "to": address["address"], "value": 10**17})

            async def credited() -> Any:
                found = [d for d in await ex.fetch_deposits("ETH") if d["txid"] == tx.to_0x_hex()]
                return found if found and found[0]["status"] == "ok" else None

            (deposit,) = await _until(credited)
            assert deposit["type"] == "deposit" and deposit["info"]["amount"] == "0.10000000"
            assert deposit["info"]["confirmTimes"].endswith("/2")

            sent = await ex.withdraw("USDC", 25, recipient, {"network": "lab2", "withdrawOrderId": "fwtest1"})
            assert sent["id"]

            async def landed() -> Any:
                found = [w for w in await ex.fetch_withdrawals("USDC") if w["id"] == sent["id"]]
                return found if found and found[0]["status"] == "ok" else None

            (w,) = await _until(landed)
            assert w["type"] == "withdrawal" and w["txid"] and w["fee"]["cost"] == 1
            assert w["info"]["withdrawOrderId"] == "fwtest1"
            usdc = lab2.contract("USDC")
            assert usdc.functions.balanceOf(recipient).call() == 24 * 10**6  # 25 less the 1 USDC fee
        finally:
            await ex.close()

    asyncio.run(go())


def test_fillpaths_wallet_client_reads_exact_decimals_and_refusals(lab2: Chain) -> None:
    Lab(Path(os.environ["FILLPATH_TEST_LAB_DIR"])).fund({"USDC@labex": "30"})
    recipient = Account.create().address

    async def go() -> None:
        conn = CcxtConnector(_exchange(), location="labex", dialect=BinanceDialect())
        wallet = BinanceWallet(conn)
        try:
            await conn.load_markets()
            too_small = RequestWithdrawal("labex", "i0", "fwsmall", "USDC", "lab2", recipient, Decimal("5"))
            with pytest.raises(Rejected) as refused:
                await wallet.withdraw(too_small)
            assert refused.value.reason == "-4022"
            cmd = RequestWithdrawal("labex", "i1", "fwexact1", "USDC", "lab2", recipient, Decimal("12.5"))
            ref = await wallet.withdraw(cmd)
            assert await wallet.withdraw(cmd) == ref  # the same client id again: the first one, nothing more moves

            async def sent() -> Any:
                (r,) = await wallet.withdrawals("USDC", client_id="fwexact1")
                return r if r.status is TransferStatus.CREDITED else None

            report = await _until(sent)
            assert (report.amount, report.fee, report.client_id) == (Decimal("12.5"), Decimal(1), "fwexact1")
            assert lab2.contract("USDC").functions.balanceOf(recipient).call() == 11_500_000
            (line,) = [b for b in await conn.balances() if str(b.asset) == "USDC@labex"]
            assert line.amount == Decimal("17.5")  # 30 less 12.5, once
        finally:
            await conn.close()

    asyncio.run(go())
