"""The simulator's OKX v5 surface, seen through ccxt's own ``okx`` class (REST from ``ccxt.async_support``,
the private WebSocket from ``ccxt.pro``) and through raw HTTP where the wire shape is the point."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import ccxt
import ccxt.async_support
import pytest
from simkit import Sim

pytestmark = pytest.mark.usefixtures("sim")


@pytest.fixture
def dialect() -> str:
    return "okx"


async def test_a_bare_ccxt_okx_trades_and_is_refused_with_a_wrong_passphrase(sim: Sim) -> None:
    """ccxt's okx, unmodified: only its URL and its market types set, as a user's script would."""
    exchange = ccxt.async_support.okx({"apiKey": sim.api_key, "secret": sim.secret, "password": sim.passphrase})
    exchange.urls["api"]["rest"] = sim.url
    exchange.options["fetchMarkets"] = {"types": ["spot"]}
    try:
        markets = await exchange.load_markets()
        assert {"ETH/USDT", "BTC/USDT", "ETH/BTC", "USDC/USDT"} <= set(markets)
        assert markets["ETH/USDT"]["id"] == "ETH-USDT" and markets["ETH/USDT"]["spot"]
        book = await exchange.fetch_order_book("ETH/USDT", 10)
        assert 0 < book["bids"][0][0] < book["asks"][0][0]
        order = await exchange.create_order("ETH/USDT", "market", "buy", 0.5)
        filled = await exchange.fetch_order(order["id"], "ETH/USDT")
        assert (filled["status"], filled["filled"], filled["side"]) == ("closed", 0.5, "buy")
        assert filled["fee"] == {"cost": 0.0005, "currency": "ETH"}  # 0.1% of what was bought, in ETH
        (trade,) = await exchange.fetch_my_trades("ETH/USDT")
        assert trade["order"] == order["id"] and trade["amount"] == 0.5
        balance = await exchange.fetch_balance()
        assert balance["ETH"]["total"] == 100.4995
    finally:
        await exchange.close()
    wrong = ccxt.async_support.okx({"apiKey": sim.api_key, "secret": sim.secret, "password": "not-it"})
    wrong.urls["api"]["rest"] = sim.url
    wrong.options["fetchMarkets"] = {"types": ["spot"]}
    try:
        with pytest.raises(ccxt.AuthenticationError, match="50105"):
            await wrong.fetch_balance()
    finally:
        await wrong.close()


async def test_fee_schedule_and_currencies(exchange: Any) -> None:
    fee = await exchange.fetch_trading_fee("ETH/USDT")
    assert (fee["maker"], fee["taker"]) == (0.001, 0.001)
    raw = await exchange.private_get_account_trade_fee({"instType": "SPOT"})
    assert (raw["data"][0]["maker"], raw["data"][0]["taker"]) == ("-0.001", "-0.001")  # OKX signs what it charges
    assert {"ETH", "USDT", "BTC", "USDC"} <= set(await exchange.fetch_currencies())


def _signed_headers(sim: Sim, method: str, path: str, body: str = "", *, when: datetime | None = None,
                    secret: str | None = None) -> dict[str, str]:  # fmt: skip
    stamp = (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    digest = hmac.new((secret or sim.secret).encode(), (stamp + method + path + body).encode(), hashlib.sha256)
    return {
        "OK-ACCESS-KEY": sim.api_key,
        "OK-ACCESS-SIGN": base64.b64encode(digest.digest()).decode(),
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-PASSPHRASE": sim.passphrase,
        "Content-Type": "application/json",
    }


async def _get(sim: Sim, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any], Any]:
    async with sim.http.get(sim.url + path, headers=headers or {}) as resp:
        return resp.status, json.loads(await resp.text()), resp.headers


async def test_signing_is_checked_over_path_query_and_body(sim: Sim) -> None:
    path = "/api/v5/account/balance?ccy=ETH"
    status, body, _ = await _get(sim, path, _signed_headers(sim, "GET", path))
    assert status == 200 and body["code"] == "0" and body["data"][0]["details"][0]["ccy"] == "ETH"
    assert (await _get(sim, path))[:2] == (401, {"code": "50103", "msg": 'Request header "OK-ACCESS-KEY" cannot be '
                                                 "empty.", "data": []})  # fmt: skip
    other = "/api/v5/account/balance?ccy=USDT"  # signed for one query, sent with another
    status, body, _ = await _get(sim, other, _signed_headers(sim, "GET", path))
    assert (status, body["code"]) == (401, "50113")
    status, body, _ = await _get(sim, path, _signed_headers(sim, "GET", path, secret="wrong"))
    assert (status, body["code"]) == (401, "50113")
    stale = datetime.fromtimestamp(datetime.now(UTC).timestamp() - 31, UTC)
    status, body, _ = await _get(sim, path, _signed_headers(sim, "GET", path, when=stale))
    assert (status, body["code"]) == (401, "50102")
    order = json.dumps({"instId": "ETH-USDT", "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "0.1",
                        "tgtCcy": "base_ccy", "clOrdId": "rawbody1"})  # fmt: skip
    headers = _signed_headers(sim, "POST", "/api/v5/trade/order", order)
    async with sim.http.post(sim.url + "/api/v5/trade/order", data=order.replace("0.1", "0.2"), headers=headers) as r:
        assert (r.status, (await r.json())["code"]) == (401, "50113")  # the body is signed too
    async with sim.http.post(sim.url + "/api/v5/trade/order", data=order, headers=headers) as r:
        placed = await r.json()
    assert placed["code"] == "0" and placed["data"][0]["sCode"] == "0" and placed["data"][0]["clOrdId"] == "rawbody1"


async def test_a_stale_clock_is_refused_as_ccxt_expects(make_exchange: Callable[..., Any]) -> None:
    exchange = make_exchange()
    exchange.options["timeDifference"] = 45_000  # our clock 45 s behind the venue's
    with pytest.raises(ccxt.InvalidNonce, match="50102"):
        await exchange.fetch_balance()


async def test_order_refusals_carry_okx_codes(sim: Sim, exchange: Any) -> None:
    await exchange.create_order("ETH/USDT", "limit", "buy", 0.01, 2000, {"clOrdId": "dup1"})
    with pytest.raises(ccxt.InvalidOrder, match="51016"):  # Duplicated clOrdId
        await exchange.create_order("ETH/USDT", "limit", "buy", 0.01, 2000, {"clOrdId": "dup1"})
    with pytest.raises(ccxt.InsufficientFunds, match="51008"):
        await exchange.create_order("ETH/USDT", "limit", "buy", 1000, 2000)
    with pytest.raises(ccxt.InvalidOrder, match="51121"):  # not a multiple of the lot
        await exchange.private_post_trade_order({"instId": "ETH-USDT", "tdMode": "cash", "side": "buy",
                                                  "ordType": "limit", "px": "2000", "sz": "0.00015"})  # fmt: skip
    with pytest.raises(ccxt.BadRequest, match="51000"):  # OKX's clOrdId: 1-32 alphanumerics
        await exchange.private_post_trade_order({"instId": "ETH-USDT", "tdMode": "cash", "side": "buy",
                                                  "ordType": "limit", "px": "2000", "sz": "0.01",
                                                  "clOrdId": "fp0-with-hyphens"})  # fmt: skip
    with pytest.raises(ccxt.OrderNotFound, match="51603"):
        await exchange.fetch_order("999999", "ETH/USDT")
    with pytest.raises(ccxt.OrderNotFound, match="51400"):
        await exchange.cancel_order("999999", "ETH/USDT")
    done = await exchange.create_order("ETH/USDT", "market", "sell", 0.1)
    with pytest.raises(ccxt.OrderNotFound, match="51402"):  # already completed
        await exchange.cancel_order(done["id"], "ETH/USDT")
    refused = [(r["client_order_id"], r["outcome"], r["code"]) for r in await sim.requests() if r["kind"] == "new"]
    assert refused[:2] == [("dup1", "accepted", None), ("dup1", "rejected", 51016)]


async def test_throttling_is_429_with_code_50011_and_no_retry_after(sim: Sim) -> None:
    await sim.faults(rate_limit={"limit": "2", "retry_after": "1", "ban_after": "1", "ban": "1"})
    answers = [await _get(sim, "/api/v5/public/time") for _ in range(8)]
    assert [a[0] for a in answers[:2]] == [200, 200]
    refused = answers[2:]
    assert {(status, body["code"]) for status, body, _ in refused} == {(429, "50011")}  # OKX has no ban status
    assert all("Retry-After" not in headers for _, _, headers in refused)


async def test_fills_page_back_in_time_by_bill(exchange: Any) -> None:
    for _ in range(5):
        await exchange.create_order("ETH/USDT", "market", "buy", 0.1)
    first = (await exchange.private_get_trade_fills({"instType": "SPOT", "instId": "ETH-USDT", "limit": "2"}))["data"]
    bills = [int(f["billId"]) for f in first]
    assert len(first) == 2 and bills == sorted(bills, reverse=True)  # newest first
    older = await exchange.private_get_trade_fills_history(
        {"instType": "SPOT", "instId": "ETH-USDT", "limit": "100", "after": str(min(bills))}
    )
    rest = [int(f["billId"]) for f in older["data"]]
    assert len(rest) == 3 and max(rest) < min(bills)
    assert all(f["clOrdId"] and f["fee"].startswith("-") and f["feeCcy"] == "ETH" for f in first + older["data"])


async def test_the_private_websocket_streams_orders_and_balances_to_ccxt_pro(
    sim: Sim, make_exchange: Callable[..., Any]
) -> None:
    pro = make_exchange(pro=True)
    rest = make_exchange()
    await pro.load_markets()
    await rest.load_markets()
    watching = asyncio.ensure_future(pro.watch_orders("ETH/USDT"))
    balance = asyncio.ensure_future(pro.watch_balance())
    await sim.user_streams()
    snapshot = await asyncio.wait_for(balance, 5)  # the account channel opens with a snapshot
    assert snapshot["USDT"]["total"] == 1_000_000
    order = await rest.create_order("ETH/USDT", "market", "buy", 0.25, None, {"clOrdId": "streamed1"})
    orders = await asyncio.wait_for(watching, 5)
    assert any(o["id"] == order["id"] and o["clientOrderId"] == "streamed1" for o in orders)
    for _ in range(200):  # ccxt.pro's order cache holds each order's latest push
        mine = [o for o in pro.orders if o["id"] == order["id"]]
        if mine and mine[-1]["status"] == "closed":
            break
        await asyncio.sleep(0.01)
    assert mine[-1]["status"] == "closed" and mine[-1]["filled"] == 0.25
    fill = mine[-1]["info"]  # the push that filled it names the trade, its size and its (signed) fee
    assert fill["tradeId"] and Decimal(fill["fillSz"]) == Decimal("0.25") and fill["fillFee"] == "-0.00025"
    for _ in range(200):
        if pro.balance.get("ETH", {}).get("total") != 100:
            break
        await asyncio.sleep(0.01)
    assert Decimal(str(pro.balance["ETH"]["total"])) == Decimal("100.24975")


async def test_the_private_websocket_refuses_a_wrong_passphrase(sim: Sim, make_exchange: Callable[..., Any]) -> None:
    pro = make_exchange(pro=True)
    await pro.load_markets()  # (over REST, with the right passphrase: ccxt lists currencies privately)
    pro.password = "not-it"
    with pytest.raises(ccxt.AuthenticationError, match="60024"):
        await asyncio.wait_for(pro.watch_balance(), 5)


async def test_faults_on_the_okx_surface(sim: Sim, exchange: Any) -> None:
    await sim.faults(delayed_fills={"delay": "0.3"})
    late = await exchange.create_order("ETH/USDT", "market", "buy", 0.2)
    assert (await exchange.fetch_order(late["id"], "ETH/USDT"))["status"] == "open"
    await asyncio.sleep(0.4)
    assert (await exchange.fetch_order(late["id"], "ETH/USDT"))["status"] == "closed"
    await sim.faults(ack_then_deny={})
    ghost = await exchange.create_order("ETH/USDT", "limit", "buy", 0.01, 2000, {"clOrdId": "ghost1"})
    assert ghost["id"]
    with pytest.raises(ccxt.OrderNotFound, match="51603"):
        await exchange.fetch_order(ghost["id"], "ETH/USDT")
    await sim.faults(drop_response={"hang": "0.3"})
    exchange.timeout = 200
    with pytest.raises(ccxt.RequestTimeout):
        await exchange.create_order("ETH/USDT", "market", "buy", 0.1, None, {"clOrdId": "lost1"})
    await sim.faults()
    found = await exchange.fetch_order(None, "ETH/USDT", {"clOrdId": "lost1"})
    assert found["status"] == "closed"  # the order lived: its reply was lost
    outcomes = [(r["client_order_id"], r["outcome"]) for r in await sim.requests() if r["kind"] == "new"]
    assert outcomes[-2:] == [("ghost1", "acked_then_denied"), ("lost1", "accepted_response_dropped")]
