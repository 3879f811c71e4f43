"""Rejections speak Binance's codes, so ccxt raises the exception classes it raises against the real venue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ccxt
import pytest
from simkit import Sim


async def test_wrong_secret_is_an_invalid_signature(sim: Sim, make_exchange: Callable[..., Any]) -> None:
    exchange = make_exchange(secret="not-the-secret")
    await exchange.load_markets()
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        await exchange.fetch_balance()


async def test_unknown_api_key(sim: Sim, make_exchange: Callable[..., Any]) -> None:
    exchange = make_exchange(api_key="nobody")
    await exchange.load_markets()
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        await exchange.fetch_balance()


async def test_missing_api_key_header(sim: Sim) -> None:
    async with sim.http.get(sim.url + "/api/v3/account?timestamp=1&signature=00") as resp:
        assert resp.status == 401
        assert (await resp.json())["code"] == -2014


async def test_tampered_parameters_fail_the_signature(sim: Sim, exchange: Any) -> None:
    signed = exchange.sign("account", ["private"], "GET", {})
    tampered = signed["url"].replace("timestamp=", "timestamp=1")
    async with sim.http.get(tampered, headers=signed["headers"]) as resp:
        assert (await resp.json())["code"] == -1022


async def test_stale_timestamp_is_outside_recv_window(sim: Sim, exchange: Any) -> None:
    exchange.nonce = lambda: exchange.milliseconds() - 15_000  # ccxt sends recvWindow=10000
    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        await exchange.fetch_balance()
    # a wider window accepts the same lag
    balance = await exchange.fetch_balance({"recvWindow": 20_000})
    assert balance["USDT"]["free"] > 0


async def test_future_timestamp_is_refused(sim: Sim, exchange: Any) -> None:
    exchange.nonce = lambda: exchange.milliseconds() + 2_000
    with pytest.raises(ccxt.InvalidNonce):
        await exchange.fetch_balance()


async def test_price_off_the_tick_fails_price_filter(sim: Sim, exchange: Any) -> None:
    # ccxt rounds prices itself, so go under it with the raw endpoint
    params = {"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    with pytest.raises(ccxt.InvalidOrder, match="PRICE_FILTER"):
        await exchange.private_post_order({**params, "quantity": "1", "price": "2900.005"})


async def test_quantity_over_max_fails_lot_size(sim: Sim, exchange: Any) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
        await exchange.create_order("ETH/USDT", "limit", "buy", 9001, 2900)  # over maxQty


async def test_off_step_quantity_fails_lot_size(sim: Sim, exchange: Any) -> None:
    params = {"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "price": "2900"}
    with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
        await exchange.private_post_order({**params, "quantity": "1.00005"})


async def test_small_order_fails_notional(sim: Sim, exchange: Any) -> None:
    # -1013 NOTIONAL: ccxt's binance maps the bare -1013 code to BadRequest
    with pytest.raises(ccxt.BadRequest, match="NOTIONAL"):
        await exchange.create_order("ETH/USDT", "limit", "buy", 0.001, 2900)
    with pytest.raises(ccxt.BadRequest, match="NOTIONAL"):
        await exchange.create_order("ETH/USDT", "market", "buy", 0.001)


async def test_insufficient_balance(sim: Sim, exchange: Any) -> None:
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order("ETH/USDT", "limit", "buy", 1000, 2900)
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order("ETH/USDT", "market", "sell", 101)
    assert (await exchange.fetch_balance())["USDT"]["used"] == 0


async def test_duplicate_client_order_id(sim: Sim, exchange: Any) -> None:
    await exchange.create_order("ETH/USDT", "limit", "buy", 1, 2900, {"newClientOrderId": "fp-dup"})
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
        await exchange.create_order("ETH/USDT", "limit", "buy", 1, 2900, {"newClientOrderId": "fp-dup"})
    records = [r for r in await sim.requests() if r["client_order_id"] == "fp-dup"]
    assert [(r["outcome"], r["code"]) for r in records] == [("accepted", None), ("rejected", -2010)]
    assert len(await exchange.fetch_open_orders("ETH/USDT")) == 1


async def test_unknown_orders(sim: Sim, exchange: Any) -> None:
    with pytest.raises(ccxt.OrderNotFound, match="-2013"):
        await exchange.fetch_order("424242", "ETH/USDT")
    with pytest.raises(ccxt.OrderNotFound, match="-2013"):
        await exchange.fetch_order(None, "ETH/USDT", {"clientOrderId": "never-sent"})
    with pytest.raises(ccxt.OrderNotFound, match="-2011"):
        await exchange.cancel_order("424242", "ETH/USDT")
    filled = await exchange.create_order("ETH/USDT", "market", "buy", 1)
    with pytest.raises(ccxt.OrderNotFound, match="-2011"):
        await exchange.cancel_order(filled["id"], "ETH/USDT")


async def test_orders_are_private_to_their_key(sim: Sim, exchange: Any, make_exchange: Callable[..., Any]) -> None:
    await sim.admin("POST", "/admin/balances", {"api_key": "other", "secret": "s2", "balances": {"USDT": "10000"}})
    other = make_exchange(api_key="other", secret="s2")
    await other.load_markets()
    order = await other.create_order("ETH/USDT", "limit", "buy", 1, 2900)
    assert (await other.fetch_balance())["USDT"]["used"] == 2900
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.fetch_order(order["id"], "ETH/USDT")
    assert await exchange.fetch_open_orders("ETH/USDT") == []


async def test_bad_symbol_and_missing_params(sim: Sim, exchange: Any) -> None:
    with pytest.raises(ccxt.BadSymbol):
        await exchange.public_get_depth({"symbol": "DOGEUSDT"})
    with pytest.raises(ccxt.BadRequest, match="-1102"):
        await exchange.private_post_order({"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1"})


async def test_every_order_request_is_recorded(sim: Sim, make_exchange: Callable[..., Any]) -> None:
    exchange = make_exchange()
    await exchange.load_markets()
    await exchange.create_order("ETH/USDT", "limit", "buy", 1, 2900, {"newClientOrderId": "fp-r1"})
    liar = make_exchange(secret="wrong")
    await liar.load_markets()
    with pytest.raises(ccxt.AuthenticationError):
        await liar.create_order("ETH/USDT", "limit", "buy", 1, 2900, {"newClientOrderId": "fp-r2"})
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order("ETH/USDT", "limit", "buy", 8000, 2900, {"newClientOrderId": "fp-r3"})
    await exchange.cancel_order(None, "ETH/USDT", {"clientOrderId": "fp-r1"})
    records = await sim.requests()
    summary = [(r["kind"], r["client_order_id"], r["outcome"], r["code"]) for r in records]
    assert summary == [
        ("new", "fp-r1", "accepted", None),
        ("new", "fp-r2", "rejected", -1022),
        ("new", "fp-r3", "rejected", -2010),
        ("cancel", "fp-r1", "accepted", None),
    ]
    assert [r["seq"] for r in records] == [1, 2, 3, 4]
    assert all(r["received_ns"] > 0 and r["venue_ms"] > 0 for r in records)


def test_admin_is_loopback_only() -> None:
    from unittest import mock

    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from fillpath.lab.exchange.admin import _loopback

    for peer, allowed in ((("127.0.0.1", 5000), True), (("::1", 5000, 0, 0), True), (("10.1.2.3", 5000), False)):
        transport = mock.Mock()
        transport.get_extra_info.return_value = peer
        request = make_mocked_request("GET", "/admin/requests", transport=transport)
        if allowed:
            _loopback(request)
        else:
            with pytest.raises(web.HTTPForbidden):
                _loopback(request)
