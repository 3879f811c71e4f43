"""Each fault profile, switched on at run time through the admin API, does what it says, seen through ccxt."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from simkit import Sim, sim_config

from fillpath.lab.exchange import SimServer


async def test_delayed_fills(sim: Sim, exchange: Any) -> None:
    await sim.faults(delayed_fills={"delay": "0.8"})
    order = await exchange.create_order("ETH/USDT", "market", "buy", 1, None, {"newClientOrderId": "fp-late"})
    assert order["status"] == "open"
    assert order["filled"] == 0
    assert (await exchange.fetch_order(order["id"], "ETH/USDT"))["status"] == "open"
    await asyncio.sleep(1.0)
    later = await exchange.fetch_order(order["id"], "ETH/USDT")
    assert later["status"] == "closed"
    assert later["filled"] == 1


async def test_delayed_fills_on_the_stream(sim: Sim, exchange: Any) -> None:
    await sim.faults(delayed_fills={"delay": "0.3"})
    key = (await exchange.public_post_userdatastream())["listenKey"]
    async with sim.http.ws_connect(sim.url.replace("http://", "ws://") + f"/ws/{key}") as ws:
        await exchange.create_order("ETH/USDT", "market", "sell", 1)
        acked = time.monotonic()
        events = [json.loads((await ws.receive(timeout=5)).data) for _ in range(3)]
        filled = time.monotonic()
    assert [e.get("x") for e in events] == ["NEW", "TRADE", None]
    assert filled - acked > 0.25


async def test_ack_then_deny(sim: Sim, exchange: Any) -> None:
    await sim.faults(ack_then_deny={})
    order = await exchange.create_order("ETH/USDT", "limit", "buy", 1, 2900, {"newClientOrderId": "fp-ghost"})
    assert order["id"]
    assert order["status"] == "open"
    with pytest.raises(ccxt.OrderNotFound, match="-2013"):
        await exchange.fetch_order(order["id"], "ETH/USDT")
    with pytest.raises(ccxt.OrderNotFound, match="-2013"):
        await exchange.fetch_order(None, "ETH/USDT", {"clientOrderId": "fp-ghost"})
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order(order["id"], "ETH/USDT")
    assert await exchange.fetch_open_orders("ETH/USDT") == []
    assert (await exchange.fetch_balance())["USDT"]["used"] == 0
    assert [r["outcome"] for r in await sim.requests() if r["kind"] == "new"] == ["acked_then_denied"]


async def test_ack_then_deny_still_checks_filters(sim: Sim, exchange: Any) -> None:
    await sim.faults(ack_then_deny={})
    with pytest.raises(ccxt.BadRequest, match="NOTIONAL"):
        await exchange.create_order("ETH/USDT", "limit", "buy", 0.001, 2900)


async def test_drop_response_times_out_while_the_order_lives(sim: Sim, make_exchange: Callable[..., Any]) -> None:
    await sim.faults(drop_response={"hang": "5"})
    exchange = make_exchange(timeout=400)
    await exchange.load_markets()
    with pytest.raises(ccxt.RequestTimeout):
        await exchange.create_order("ETH/USDT", "market", "buy", 1, None, {"newClientOrderId": "fp-lost"})
    await sim.faults()  # off again: the client reconciles by client order id
    order = await exchange.fetch_order(None, "ETH/USDT", {"clientOrderId": "fp-lost"})
    assert order["status"] == "closed"
    assert order["filled"] == 1
    records = [r for r in await sim.requests() if r["client_order_id"] == "fp-lost"]
    assert [r["outcome"] for r in records] == ["accepted_response_dropped"]


async def test_ws_rest_disagree(sim: Sim, make_exchange: Callable[..., Any]) -> None:
    exchange = make_exchange(pro=True)
    await exchange.load_markets()
    await sim.faults(ws_rest_disagree={"window": "30", "offset": "2.5"})
    watching = asyncio.ensure_future(exchange.watch_balance())
    await sim.user_streams()
    await exchange.create_order("ETH/USDT", "market", "buy", 1)
    streamed = await asyncio.wait_for(watching, 5)
    rest = await exchange.fetch_balance()
    assert Decimal(str(streamed["ETH"]["free"])) - Decimal(str(rest["ETH"]["free"])) == Decimal("2.5")
    # the window is measured from when the profile went on: shrinking it to 0 closes it now
    await sim.faults(ws_rest_disagree={"window": "0", "offset": "2.5"})
    watching = asyncio.ensure_future(exchange.watch_balance())
    await sim.user_streams()
    await exchange.create_order("ETH/USDT", "market", "buy", 1)
    streamed = await asyncio.wait_for(watching, 5)
    rest = await exchange.fetch_balance()
    assert streamed["ETH"]["free"] == rest["ETH"]["free"]


async def test_rate_limit_429_then_418(sim: Sim, exchange: Any) -> None:
    await sim.faults(rate_limit={"limit": "3", "ban_after": "2", "ban": "1", "retry_after": "1"})
    statuses = []
    for _ in range(8):
        async with sim.http.get(sim.url + "/api/v3/time") as resp:
            statuses.append((resp.status, resp.headers.get("Retry-After")))
            if resp.status >= 400:
                assert (await resp.json())["code"] == -1003
    assert statuses[:3] == [(200, None)] * 3
    assert statuses[3] == (429, "1")
    assert (418, "1") in statuses[4:]
    with pytest.raises(ccxt.DDoSProtection):
        await exchange.fetch_time()
    await asyncio.sleep(1.1)  # the ban ends
    assert await exchange.fetch_time() > 0


async def test_rate_limit_brings_a_volatility_burst() -> None:
    travelled = []
    for profile in ({}, {"rate_limit": {}}):
        async with SimServer(sim_config(faults=profile)) as server:
            book = server.venue.engine.books["ETHUSDT"]
            path = []
            for _ in range(40):
                server.venue.advance(1, ["ETHUSDT"])
                path.append(book.mid)
            travelled.append(sum(abs(b - a) for a, b in itertools.pairwise(path)))
    assert travelled[1] > 3 * travelled[0]


async def test_stream_disconnect(sim: Sim, make_exchange: Callable[..., Any]) -> None:
    exchange = make_exchange(pro=True)
    await exchange.load_markets()
    await exchange.watch_order_book("ETH/USDT")
    await sim.faults(stream_disconnect={"interval": "0.2"})
    for _ in range(10):  # ccxt.pro notices and reconnects on the next watch
        await sim.admin("POST", "/admin/walk", {"steps": 1, "symbols": ["ETHUSDT"]})
        with contextlib.suppress(ccxt.NetworkError):
            await asyncio.wait_for(exchange.watch_order_book("ETH/USDT"), 2)
        await asyncio.sleep(0.05)
    counts = await sim.admin("GET", "/admin/streams")
    assert counts["dropped"] >= 2
    assert counts["opened"] >= 2
    async with sim.http.ws_connect(sim.url.replace("http://", "ws://") + "/ws") as ws:
        started = time.monotonic()
        msg = await ws.receive(timeout=2)
        assert msg.type.name in ("CLOSE", "CLOSING", "CLOSED")
        assert time.monotonic() - started < 1


async def test_user_stream_survives_a_disconnect(sim: Sim, make_exchange: Callable[..., Any]) -> None:
    exchange = make_exchange(pro=True)
    await exchange.load_markets()
    watching = asyncio.ensure_future(exchange.watch_orders("ETH/USDT"))
    await sim.user_streams()
    assert (await sim.admin("POST", "/admin/disconnect"))["closed"] == 1
    with pytest.raises(ccxt.NetworkError):
        await asyncio.wait_for(watching, 2)
    watching = asyncio.ensure_future(exchange.watch_orders("ETH/USDT"))  # ccxt.pro subscribes again
    await sim.user_streams()
    placed = await exchange.create_order("ETH/USDT", "market", "buy", 0.01)
    assert (await asyncio.wait_for(watching, 5))[-1]["id"] == placed["id"]


async def test_clock_skew(sim: Sim, exchange: Any, make_exchange: Callable[..., Any]) -> None:
    await sim.faults(clock_skew={"offset_ms": "30000"})
    skew = await exchange.fetch_time() - exchange.milliseconds()
    assert 29_000 < skew < 31_000
    with pytest.raises(ccxt.InvalidNonce):
        await exchange.fetch_balance()
    adjusted = make_exchange(options={"adjustForTimeDifference": True})
    await adjusted.load_markets()
    assert (await adjusted.fetch_balance())["USDT"]["free"] > 0


async def test_clock_running_backwards(sim: Sim, exchange: Any) -> None:
    await sim.faults(clock_skew={"offset_ms": "0", "backwards": "1"})
    first = await exchange.fetch_time()
    await asyncio.sleep(0.2)
    second = await exchange.fetch_time()
    assert second < first - 100


async def test_duplicate_fill(sim: Sim, exchange: Any) -> None:
    await sim.faults(duplicate_fill={})
    key = (await exchange.public_post_userdatastream())["listenKey"]
    async with sim.http.ws_connect(sim.url.replace("http://", "ws://") + f"/ws/{key}") as ws:
        await exchange.create_order("ETH/USDT", "market", "buy", 0.5)
        events = [json.loads((await ws.receive(timeout=5)).data) for _ in range(4)]
    trades = [e for e in events if e.get("x") == "TRADE"]
    assert len(trades) == 2
    assert trades[0] == trades[1]
    assert len(await exchange.fetch_my_trades("ETH/USDT")) == 1  # REST knows one fill


async def test_faults_are_deterministic_under_the_seed() -> None:
    outcomes = []
    for _ in range(2):
        async with SimServer(sim_config(faults={"ack_then_deny": {"rate": "0.5"}})) as server:
            venue = server.venue
            outcomes.append([venue.faults.hit("ack_then_deny") for _ in range(40)])
    assert outcomes[0] == outcomes[1]
    assert 5 < sum(outcomes[0]) < 35


async def test_profiles_combine_and_switch(sim: Sim) -> None:
    reply = await sim.faults(delayed_fills={"delay": "2"}, duplicate_fill={})
    assert set(reply["profiles"]) == {"delayed_fills", "duplicate_fill"}
    assert reply["profiles"]["delayed_fills"]["delay"] == "2"
    reply = await sim.admin("POST", "/admin/faults", {"disable": ["duplicate_fill"], "enable": {"clock_skew": {}}})
    assert set(reply["profiles"]) == {"delayed_fills", "clock_skew"}
    async with sim.http.post(sim.url + "/admin/faults", data=json.dumps({"profiles": {"nope": {}}})) as resp:
        assert resp.status == 400


async def test_duplicate_fill_through_ccxt(sim: Sim, make_exchange: Callable[..., Any]) -> None:
    """What a ccxt.pro consumer sees: myTrades is keyed by trade id (one entry), but the order's own trade
    list (and fee sum) takes the repeat: counting fills from orders double-counts."""
    exchange = make_exchange(pro=True)
    await exchange.load_markets()
    await sim.faults(duplicate_fill={})
    trades = asyncio.ensure_future(exchange.watch_my_trades("ETH/USDT"))
    orders = asyncio.ensure_future(exchange.watch_orders("ETH/USDT"))
    await sim.user_streams()
    placed = await exchange.create_order("ETH/USDT", "market", "buy", 0.5)
    await asyncio.wait_for(trades, 5)
    await asyncio.wait_for(orders, 5)
    for _ in range(200):  # both copies are in once ccxt has read the account event that follows them
        if exchange.balance.get("spot", {}).get("info", {}).get("e") == "outboundAccountPosition":
            break
        await asyncio.sleep(0.01)
    assert [t["id"] for t in exchange.myTrades] == [placed["trades"][0]["id"]]
    cached = next(o for o in exchange.orders if o["id"] == placed["id"])
    assert len(cached["trades"]) == 2
