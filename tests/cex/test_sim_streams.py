"""Streams: ccxt.pro's watch_order_book syncs on the diff stream; the user data stream (the WebSocket API
signature subscription ccxt.pro 4.5.90 uses for spot) carries executionReport and outboundAccountPosition."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from simkit import Sim


async def test_watch_order_book_follows_the_walk(sim: Sim, make_exchange: Callable[..., Any]) -> None:
    exchange = make_exchange(pro=True)
    await exchange.load_markets()
    book = await exchange.watch_order_book("ETH/USDT")
    start = book["nonce"]
    for _ in range(3):
        await sim.admin("POST", "/admin/walk", {"steps": 1, "symbols": ["ETHUSDT"]})
        book = await asyncio.wait_for(exchange.watch_order_book("ETH/USDT"), 5)
    assert book["nonce"] == start + 3
    rest = await exchange.public_get_depth({"symbol": "ETHUSDT", "limit": 1000})
    assert rest["lastUpdateId"] == book["nonce"]
    assert [Decimal(str(p)) for p, _ in book["bids"][:20]] == [Decimal(p) for p, _ in rest["bids"][:20]]
    assert [Decimal(str(q)) for _, q in book["asks"][:20]] == [Decimal(q) for _, q in rest["asks"][:20]]


async def test_trades_show_up_in_the_depth_stream(sim: Sim, make_exchange: Callable[..., Any]) -> None:
    exchange = make_exchange(pro=True)
    await exchange.load_markets()
    before = await exchange.watch_order_book("ETH/USDT")
    best_ask_qty = before["asks"][0][1]
    await exchange.create_order("ETH/USDT", "market", "buy", 0.5)
    after = await asyncio.wait_for(exchange.watch_order_book("ETH/USDT"), 5)
    assert Decimal(str(after["asks"][0][1])) == Decimal(str(best_ask_qty)) - Decimal("0.5")


async def test_watch_orders_trades_and_balance(sim: Sim, make_exchange: Callable[..., Any]) -> None:
    exchange = make_exchange(pro=True)
    await exchange.load_markets()
    orders = asyncio.ensure_future(exchange.watch_orders("ETH/USDT"))
    trades = asyncio.ensure_future(exchange.watch_my_trades("ETH/USDT"))
    balance = asyncio.ensure_future(exchange.watch_balance())
    await sim.user_streams()  # the subscription is in place before the order
    placed = await exchange.create_order("ETH/USDT", "market", "buy", 2, None, {"newClientOrderId": "fp-ws-1"})
    got_orders = await asyncio.wait_for(orders, 5)
    got_trades = await asyncio.wait_for(trades, 5)
    got_balance = await asyncio.wait_for(balance, 5)
    assert got_orders[0]["clientOrderId"] == "fp-ws-1"
    assert got_orders[0]["id"] == placed["id"]
    assert got_trades[0]["order"] == placed["id"]
    assert got_trades[0]["price"] == placed["trades"][0]["price"]
    rest = await exchange.fetch_balance()
    assert got_balance["USDT"]["free"] == rest["USDT"]["free"]
    # the account event comes last, so by now the order's TRADE updates are in ccxt's cache
    cached = [o for o in exchange.orders if o["id"] == placed["id"]]
    assert cached[-1]["status"] == "closed"
    assert cached[-1]["filled"] == 2


async def test_cancel_is_reported_on_the_stream(sim: Sim, make_exchange: Callable[..., Any]) -> None:
    exchange = make_exchange(pro=True)
    await exchange.load_markets()
    watching = asyncio.ensure_future(exchange.watch_orders("ETH/USDT"))
    await sim.user_streams()
    order = await exchange.create_order("ETH/USDT", "limit", "buy", 1, 2900)
    assert (await asyncio.wait_for(watching, 5))[-1]["status"] == "open"
    await exchange.cancel_order(order["id"], "ETH/USDT")
    update = await asyncio.wait_for(exchange.watch_orders("ETH/USDT"), 5)
    assert update[-1]["status"] == "canceled"


async def test_listen_key_stream(sim: Sim, exchange: Any) -> None:
    """The classic style: POST userDataStream for a listenKey, then ``/ws/<listenKey>``."""
    key = (await exchange.public_post_userdatastream())["listenKey"]
    await exchange.public_put_userdatastream({"listenKey": key})
    ws_url = sim.url.replace("http://", "ws://") + f"/ws/{key}"
    async with sim.http.ws_connect(ws_url) as ws:
        await exchange.create_order("ETH/USDT", "market", "sell", 1, None, {"newClientOrderId": "fp-lk"})
        events = [json.loads((await ws.receive(timeout=5)).data) for _ in range(3)]
    kinds = [(e["e"], e.get("x")) for e in events]
    assert kinds == [
        ("executionReport", "NEW"),
        ("executionReport", "TRADE"),
        ("outboundAccountPosition", None),
    ]
    assert events[0]["c"] == "fp-lk"
    assert {b["a"] for b in events[2]["B"]} == {"ETH", "USDT"}
    await exchange.public_delete_userdatastream({"listenKey": key})


async def test_combined_stream_and_subscribe_method(sim: Sim) -> None:
    base = sim.url.replace("http://", "ws://")
    async with (
        sim.http.ws_connect(base + "/stream?streams=btcusdt@depth@100ms") as combined,
        sim.http.ws_connect(base + "/ws") as raw,
    ):
        await raw.send_json({"method": "SUBSCRIBE", "params": ["ethbtc@depth"], "id": 7})
        assert json.loads((await raw.receive(timeout=5)).data) == {"result": None, "id": 7}
        await raw.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 8})
        assert json.loads((await raw.receive(timeout=5)).data) == {"result": ["ethbtc@depth"], "id": 8}
        await sim.admin("POST", "/admin/walk", {"steps": 1})
        wrapped = json.loads((await combined.receive(timeout=5)).data)
        plain = json.loads((await raw.receive(timeout=5)).data)
    assert wrapped["stream"] == "btcusdt@depth"
    assert wrapped["data"]["s"] == "BTCUSDT"
    assert plain["e"] == "depthUpdate"
    assert plain["s"] == "ETHBTC"
    assert plain["U"] == plain["u"] == 2


async def test_ws_api_rejects_a_bad_signature(sim: Sim) -> None:
    async with sim.http.ws_connect(sim.url.replace("http://", "ws://") + "/ws-api/v3") as ws:
        params = {"apiKey": sim.api_key, "timestamp": 1, "signature": "00"}
        await ws.send_json({"id": "1", "method": "userDataStream.subscribe.signature", "params": params})
        reply = json.loads((await ws.receive(timeout=5)).data)
    assert reply["status"] == 400
    assert reply["error"]["code"] == -1022


async def test_depth_pushes_are_batched(sim: Sim, exchange: Any) -> None:
    """Changes within one 100 ms push arrive as one event spanning U..u, and they add up to the REST book."""
    before = await exchange.public_get_depth({"symbol": "ETHUSDT", "limit": 5000})
    async with sim.http.ws_connect(sim.url.replace("http://", "ws://") + "/ws/ethusdt@depth@100ms") as ws:
        for _ in range(3):
            sim.server.venue.advance(1, ["ETHUSDT"])
        event = json.loads((await ws.receive(timeout=5)).data)
        assert (event["U"], event["u"]) == (before["lastUpdateId"] + 1, before["lastUpdateId"] + 3)
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive(timeout=0.3)
    after = await exchange.public_get_depth({"symbol": "ETHUSDT", "limit": 5000})
    assert after["lastUpdateId"] == event["u"]
    book = {side: dict(before[side]) for side in ("bids", "asks")}
    for side, key in (("bids", "b"), ("asks", "a")):
        for price, qty in event[key]:
            if Decimal(qty) == 0:
                book[side].pop(price, None)
            else:
                book[side][price] = qty
    assert book["bids"] == dict(after["bids"])
    assert book["asks"] == dict(after["asks"])


async def test_watch_order_book_syncs_while_the_market_moves(sim: Sim, make_exchange: Callable[..., Any]) -> None:
    """The REST snapshot lands inside a pushed U..u range; ccxt.pro still ends on the venue's book."""
    exchange = make_exchange(pro=True)
    await exchange.load_markets()
    watching = asyncio.ensure_future(exchange.watch_order_book("BTC/USDT"))
    for _ in range(15):
        sim.server.venue.advance(1, ["BTCUSDT"])
        await asyncio.sleep(0.02)
    book = await asyncio.wait_for(watching, 5)
    rest = await exchange.public_get_depth({"symbol": "BTCUSDT", "limit": 1000})
    while book["nonce"] < rest["lastUpdateId"]:
        book = await asyncio.wait_for(exchange.watch_order_book("BTC/USDT"), 5)
    assert book["nonce"] == rest["lastUpdateId"]
    assert [[Decimal(str(p)), Decimal(str(q))] for p, q in book["bids"][:50]] == [
        [Decimal(p), Decimal(q)] for p, q in rest["bids"][:50]
    ]
