"""ccxt's real binance class against the simulator over loopback HTTP: the calls fillpath relies on."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from simkit import KEY, SECRET, Sim, sim_config


async def test_load_markets_precision_and_limits_match_filters(sim: Sim, exchange: Any) -> None:
    info = await exchange.public_get_exchangeinfo()
    by_symbol = {s["symbol"]: s for s in info["symbols"]}
    assert set(by_symbol) == {"ETHUSDT", "BTCUSDT", "ETHBTC", "USDCUSDT"}
    for symbol in ("ETH/USDT", "BTC/USDT", "ETH/BTC", "USDC/USDT"):
        market = exchange.market(symbol)
        raw = by_symbol[market["id"]]
        filters = {f["filterType"]: f for f in raw["filters"]}
        assert market["spot"]
        assert market["active"]
        assert Decimal(str(market["precision"]["price"])) == Decimal(filters["PRICE_FILTER"]["tickSize"])
        assert Decimal(str(market["precision"]["amount"])) == Decimal(filters["LOT_SIZE"]["stepSize"])
        assert Decimal(str(market["limits"]["amount"]["min"])) == Decimal(filters["LOT_SIZE"]["minQty"])
        assert Decimal(str(market["limits"]["cost"]["min"])) == Decimal(filters["NOTIONAL"]["minNotional"])
        assert raw["permissionSets"] == [["SPOT"]]
    assert exchange.market("ETH/USDT")["precision"]["price"] == 0.01


async def test_order_book_is_seeded_deep_and_consistent(sim: Sim, exchange: Any) -> None:
    book = await exchange.fetch_order_book("ETH/USDT", 1000)
    best_bid, best_ask = book["bids"][0][0], book["asks"][0][0]
    assert best_bid < best_ask
    assert 2990 < best_bid < 3010
    raw = await exchange.public_get_depth({"symbol": "ETHUSDT", "limit": 1000})
    mid = (Decimal(raw["bids"][0][0]) + Decimal(raw["asks"][0][0])) / 2
    within = [Decimal(p) * Decimal(q) for p, q in raw["bids"] if Decimal(p) >= mid * Decimal("0.99")]
    assert Decimal(5_000_000) < sum(within) < Decimal(20_000_000)
    assert book["nonce"] == raw["lastUpdateId"]
    for symbol, low, high in (
        ("BTC/USDT", 85000, 95000),
        ("ETH/BTC", 0.03, 0.037),
        ("USDC/USDT", 0.99, 1.01),
    ):
        top = await exchange.fetch_order_book(symbol, 5)
        assert low < top["bids"][0][0] < top["asks"][0][0] < high


async def test_fetch_balance_reports_the_funded_key(sim: Sim, exchange: Any) -> None:
    balance = await exchange.fetch_balance()
    assert balance["USDT"]["free"] == 1_000_000
    assert balance["ETH"]["total"] == 100
    await sim.admin("POST", "/admin/balances", {"api_key": sim.api_key, "balances": {"USDT": "12.5"}})
    assert (await exchange.fetch_balance())["USDT"]["free"] == 12.5


async def test_market_buy_fills_against_the_book_with_our_client_id(sim: Sim, exchange: Any) -> None:
    book = await exchange.public_get_depth({"symbol": "ETHUSDT", "limit": 5})
    order = await exchange.create_order("ETH/USDT", "market", "buy", 5, None, {"newClientOrderId": "fp-mkt-1"})
    assert order["clientOrderId"] == "fp-mkt-1"
    assert order["status"] == "closed"
    assert order["filled"] == 5
    fills = order["info"]["fills"]
    assert fills
    assert fills[0]["price"] == book["asks"][0][0]
    assert sum(Decimal(f["qty"]) for f in fills) == Decimal(5)
    cost = sum(Decimal(f["qty"]) * Decimal(f["price"]) for f in fills)
    assert Decimal(order["info"]["cummulativeQuoteQty"]) == cost
    raw = await exchange.private_get_account()
    balances = {b["asset"]: b for b in raw["balances"]}
    assert Decimal(balances["USDT"]["free"]) == Decimal(1_000_000) - cost
    commission = sum(Decimal(f["commission"]) for f in fills)
    assert commission == Decimal("0.005")
    assert Decimal(balances["ETH"]["free"]) == Decimal(105) - commission


async def test_market_buy_by_quote_amount(sim: Sim, exchange: Any) -> None:
    order = await exchange.create_order("ETH/USDT", "market", "buy", None, None, {"quoteOrderQty": "1000"})
    info = order["info"]
    assert info["status"] == "FILLED"
    spent = Decimal(info["cummulativeQuoteQty"])
    assert Decimal(1000) - Decimal("0.4") < spent <= Decimal(1000)
    assert Decimal(info["origQty"]) == Decimal(info["executedQty"]) > 0


async def test_limit_order_lifecycle(sim: Sim, exchange: Any) -> None:
    order = await exchange.create_order("ETH/USDT", "limit", "buy", 2, 2900, {"newClientOrderId": "fp-lim-1"})
    assert order["status"] == "open"
    assert order["filled"] == 0
    raw = await exchange.private_get_account()
    usdt = next(b for b in raw["balances"] if b["asset"] == "USDT")
    assert Decimal(usdt["locked"]) == Decimal(5800)
    by_id = await exchange.fetch_order(order["id"], "ETH/USDT")
    by_client = await exchange.fetch_order(None, "ETH/USDT", {"clientOrderId": "fp-lim-1"})
    assert by_id["id"] == by_client["id"] == order["id"]
    assert by_client["clientOrderId"] == "fp-lim-1"
    open_orders = await exchange.fetch_open_orders("ETH/USDT")
    assert [o["id"] for o in open_orders] == [order["id"]]
    cancelled = await exchange.cancel_order(order["id"], "ETH/USDT")
    assert cancelled["status"] == "canceled"
    assert await exchange.fetch_open_orders("ETH/USDT") == []
    assert (await exchange.fetch_order(order["id"], "ETH/USDT"))["status"] == "canceled"
    raw = await exchange.private_get_account()
    usdt = next(b for b in raw["balances"] if b["asset"] == "USDT")
    assert Decimal(usdt["locked"]) == 0
    assert Decimal(usdt["free"]) == Decimal(1_000_000)


async def test_crossing_limit_takes_then_rests(sim: Sim, exchange: Any) -> None:
    await sim.admin(
        "POST",
        "/admin/book",
        {"symbol": "ETHUSDT", "bids": [["2999", "5"]], "asks": [["3000", "1"], ["3001", "1"]]},
    )
    order = await exchange.create_order("ETH/USDT", "limit", "buy", 3, 3000.5)
    assert order["status"] == "open"
    assert order["filled"] == 1
    assert order["info"]["status"] == "PARTIALLY_FILLED"
    # refund of the price improvement: locked is only what rests at the limit price
    raw = await exchange.private_get_account()
    usdt = next(b for b in raw["balances"] if b["asset"] == "USDT")
    assert Decimal(usdt["locked"]) == Decimal("6001.0")
    assert Decimal(usdt["free"]) == Decimal(1_000_000) - Decimal("6001.0") - Decimal(3000)


@pytest.mark.parametrize(("tif", "status", "filled"), [("IOC", "EXPIRED", "1"), ("FOK", "EXPIRED", "0")])
async def test_ioc_and_fok(sim: Sim, exchange: Any, tif: str, status: str, filled: str) -> None:
    await sim.admin("POST", "/admin/book", {"symbol": "ETHUSDT", "bids": [["2999", "5"]], "asks": [["3000", "1"]]})
    order = await exchange.create_order("ETH/USDT", "limit", "buy", 2, 3000, {"timeInForce": tif})
    assert order["info"]["status"] == status
    assert Decimal(order["info"]["executedQty"]) == Decimal(filled)
    assert await exchange.fetch_open_orders("ETH/USDT") == []


async def test_fok_fills_whole_when_it_can(sim: Sim, exchange: Any) -> None:
    order = await exchange.create_order("ETH/USDT", "limit", "sell", 2, 2999, {"timeInForce": "FOK"})
    assert order["info"]["status"] == "FILLED"
    assert order["filled"] == 2


async def test_response_types(sim: Sim, exchange: Any) -> None:
    common = {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
    ack = await exchange.private_post_order({**common, "newOrderRespType": "ACK"})
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    result = await exchange.private_post_order({**common, "newOrderRespType": "RESULT"})
    assert result["status"] == "FILLED"
    assert "fills" not in result
    full = await exchange.private_post_order({**common, "newOrderRespType": "FULL"})
    assert full["fills"]
    assert full["fills"][0]["commissionAsset"] == "ETH"


async def test_resting_order_fills_when_the_walk_crosses_it(sim: Sim, exchange: Any) -> None:
    await sim.admin("POST", "/admin/book", {"symbol": "ETHUSDT", "bids": [["2999", "5"]], "asks": [["3001", "5"]]})
    order = await exchange.create_order("ETH/USDT", "limit", "sell", 1, 3000)
    assert order["status"] == "open"
    await sim.admin("POST", "/admin/book", {"symbol": "ETHUSDT", "mid": "3010"})
    done = await exchange.fetch_order(order["id"], "ETH/USDT")
    assert done["status"] == "closed"
    assert done["average"] == 3000
    trades = await exchange.fetch_my_trades("ETH/USDT")
    assert [t["order"] for t in trades] == [order["id"]]
    assert trades[0]["takerOrMaker"] == "maker"
    assert trades[0]["price"] == 3000


async def test_my_trades_and_time(sim: Sim, exchange: Any) -> None:
    first = await exchange.create_order("ETH/USDT", "market", "buy", 1)
    await exchange.create_order("ETH/USDT", "market", "sell", 1)
    trades = await exchange.fetch_my_trades("ETH/USDT")
    assert {t["side"] for t in trades} == {"buy", "sell"}
    only_first = await exchange.fetch_my_trades("ETH/USDT", params={"orderId": first["id"]})
    assert {t["order"] for t in only_first} == {first["id"]}
    server = await exchange.fetch_time()
    assert abs(server - exchange.milliseconds()) < 2000
    assert await exchange.public_get_ping() == {}


async def test_walk_per_order() -> None:
    from fillpath.lab.exchange import SimServer
    from fillpath.lab.exchange.binance import sim_binance

    async with SimServer(sim_config(walk_per_order=2)) as server:
        exchange = sim_binance(server.url, KEY, SECRET, enableRateLimit=False)
        try:
            await exchange.load_markets()
            for _ in range(3):
                await exchange.create_order("ETH/USDT", "market", "buy", 0.01)
        finally:
            await exchange.close()
        assert server.venue.engine.books["ETHUSDT"].steps == 6
        assert server.venue.engine.books["BTCUSDT"].steps == 6


async def test_same_seed_same_market_over_http() -> None:
    import aiohttp

    from fillpath.lab.exchange import SimServer

    async def depth_after_walk(seed: int) -> list[object]:
        async with SimServer(sim_config(seed=seed)) as server, aiohttp.ClientSession() as http:
            async with http.post(server.url + "/admin/walk", data='{"steps": 25}') as resp:
                assert resp.status == 200
            async with http.get(server.url + "/api/v3/depth?symbol=BTCUSDT&limit=50") as resp:
                return list((await resp.json()).values())

    assert await depth_after_walk(21) == await depth_after_walk(21)
    assert await depth_after_walk(21) != await depth_after_walk(22)


async def test_other_users_orders_are_in_the_book_and_fill(
    sim: Sim, exchange: Any, make_exchange: Callable[..., Any]
) -> None:
    await sim.admin("POST", "/admin/book", {"symbol": "ETHUSDT", "bids": [["2990", "5"]], "asks": [["3010", "5"]]})
    await sim.admin("POST", "/admin/balances", {"api_key": "mm", "secret": "mm-s", "balances": {"ETH": "3"}})
    maker = make_exchange(api_key="mm", secret="mm-s")
    await maker.load_markets()
    resting = await maker.create_order("ETH/USDT", "limit", "sell", 2, 3005)
    book = await exchange.fetch_order_book("ETH/USDT", 5)
    assert book["asks"][:2] == [[3005.0, 2.0], [3010.0, 5.0]]
    taken = await exchange.create_order("ETH/USDT", "market", "buy", 3)
    assert [(f["price"], f["qty"]) for f in taken["info"]["fills"]] == [
        ("3005.00000000", "2.00000000"),
        ("3010.00000000", "1.00000000"),
    ]
    done = await maker.fetch_order(resting["id"], "ETH/USDT")
    assert done["status"] == "closed"
    assert (await maker.fetch_my_trades("ETH/USDT"))[0]["takerOrMaker"] == "maker"
    usdt = next(b for b in (await maker.private_get_account())["balances"] if b["asset"] == "USDT")
    assert Decimal(usdt["free"]) == Decimal("6010") - Decimal("6.01")  # 0.1% maker fee
