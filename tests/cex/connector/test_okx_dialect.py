"""OKX's spellings, from messages and shapes as ccxt and the exchange give them."""

from __future__ import annotations

from decimal import Decimal

from fillpath.cex.dialect import Endpoint, Gap
from fillpath.cex.markets import Market
from fillpath.cex.okx.dialect import OkxDialect
from fillpath.cex.orders import VenueStatus
from fillpath.cex.ratelimit import LimitKind, Priority
from fillpath.model.commands import SubmitOrder
from fillpath.model.orders import TimeInForce
from fillpath.model.sides import Side

D = OkxDialect()
M = Market("okx", "ETH/USDT", "ETH-USDT", "ETH", "USDT", Decimal("0.01"), Decimal("0.000001"), Decimal("0.001"),
           None, Decimal(0), None, None)  # fmt: skip


def test_errors_from_ccxt_messages() -> None:
    dup = ('okx {"code":"1","data":[{"clOrdId":"a","ordId":"","sCode":"51016","sMsg":"Duplicated clOrdId"}],'
           '"msg":"All operations failed"}')  # fmt: skip
    assert D.error_code(dup) == "51016" and D.is_duplicate(dup)  # the operation's code, not the envelope's "1"
    gone = 'okx {"code":"51603","msg":"Order does not exist","data":[]}'
    assert D.error_code(gone) == "51603" and D.is_not_found(gone) and not D.is_duplicate(gone)
    for code in ("51400", "51401", "51402"):
        assert D.is_not_found(f'okx {{"code":"1","data":[{{"sCode":"{code}","sMsg":"..."}}]}}')
    throttled = 'okx {"code":"50011","msg":"Too Many Requests","data":[]}'
    assert not D.is_ban(throttled) and D.retry_after({}, throttled, 0) is None  # neither exists on OKX
    assert D.retry_after({"Retry-After": "3"}, throttled, 0) == 3.0  # honoured if it ever came
    assert {Gap.NO_BAN, Gap.NO_RETRY_AFTER, Gap.ACK_ONLY, Gap.CANCEL_ACK_ONLY} <= D.gaps


def test_order_parameters() -> None:
    market = SubmitOrder("okx", "fp0xabc", "ETH/USDT", Side.BUY, Decimal("0.5"))
    assert D.new_order_params(market, M) == {"instId": "ETH-USDT", "tdMode": "cash", "side": "buy",
                                             "clOrdId": "fp0xabc", "sz": "0.5", "ordType": "market",
                                             "tgtCcy": "base_ccy"}  # fmt: skip
    ioc = SubmitOrder("okx", "fp1xabc", "ETH/USDT", Side.SELL, Decimal("1.25"), Decimal("2999.90"), "i",
                      TimeInForce.IOC)  # fmt: skip
    params = D.new_order_params(ioc, M)
    assert (params["ordType"], params["px"], params["side"]) == ("ioc", "2999.9", "sell")
    assert D.client_id.match("fp0x" + "a" * 28) and not D.client_id.match("fp0-abc") and not D.client_id.match("a" * 33)


def test_states_fills_and_fees_from_okx_shapes() -> None:
    ack = {
        "code": "0",
        "data": [{"clOrdId": "c1", "ordId": "77", "sCode": "0", "sMsg": "Order placed", "ts": "1700000000001"}],
    }
    report, fills = D.placed(ack, SubmitOrder("okx", "c1", "ETH/USDT", Side.BUY, Decimal(1)), "okx")
    assert (report.venue_order_id, report.status, report.filled_qty, fills) == ("77", VenueStatus.OPEN, 0, [])
    assert report.venue_ts is None  # the ack's ts is when the request finished, after its fills: not the order's
    order = {"ordId": "77", "clOrdId": "c1", "state": "canceled", "accFillSz": "0.2", "uTime": "1700000000123"}
    r = D.order({"code": "0", "data": [order]}, "okx")
    assert (r.status, r.filled_qty, r.venue_ts) == (VenueStatus.CANCELED, Decimal("0.2"), 1_700_000_000_123_000_000)
    assert D.canceled({"code": "0", "data": [{"ordId": "77", "sCode": "0"}]}, "okx") is None
    fill = {"tradeId": "9", "ordId": "77", "clOrdId": "c1", "billId": "901", "fillSz": "0.2", "fillPx": "3000.1",
            "fee": "-0.0002", "feeCcy": "ETH", "ts": "1700000000124"}  # fmt: skip
    f = D.trade(fill, "c1", "okx")
    assert (f.trade_id, f.qty, f.price, f.fee, f.fee_asset) == ("9", Decimal("0.2"), Decimal("3000.1"),
                                                                Decimal("0.0002"), "ETH")  # fmt: skip
    assert D.trade_client_id(fill) == "c1" and D.trade_client_id({**fill, "clOrdId": ""}) is None
    assert D.page_cursor([fill, {**fill, "billId": "850"}]) == "850"  # pages go back in time
    push = {**order, "state": "partially_filled", "tradeId": "9", "fillSz": "0.2", "fillPx": "3000.1",
            "fillFee": "-0.0002", "fillFeeCcy": "ETH", "fillTime": "1700000000124"}  # fmt: skip
    streamed = D.stream_order(push, "okx")
    assert streamed is not None and streamed[1] is not None and streamed[1].fee == Decimal("0.0002")
    assert D.stream_order({**push, "tradeId": "", "fillSz": "0"}, "okx") == (streamed[0], None)
    assert D.stream_order({"event": "subscribe"}, "okx") is None
    assert D.taker_fee({"code": "0", "data": [{"taker": "-0.001", "maker": "-0.0008"}]}) == Decimal("0.001")


def test_balances_are_available_plus_frozen() -> None:
    account = {"uTime": "1700000000000", "details": [
        {"ccy": "ETH", "availBal": "1.5", "frozenBal": "0.25", "cashBal": "1.75", "uTime": "1700000000001"},
    ]}  # fmt: skip
    (b,) = D.balances({"code": "0", "data": [account]}, "okx")
    assert (b.asset.symbol, b.amount) == ("ETH", Decimal("1.75"))
    stream = D.stream_balances({"arg": {"channel": "account", "uid": "1"}, "data": [account]}, "okx")
    assert stream is not None and stream[0].amount == Decimal("1.75")
    assert D.stream_balances({"arg": {"channel": "orders"}, "data": []}, "okx") is None


# OKX's own per-endpoint limits, requests per 2 s (docs-v5: place order, get order, cancel order, books,
# balance, trade fee, fills, fills history, orders pending, instruments, system time)
OKX_LIMITS = {
    Endpoint.NEW_ORDER: 60, Endpoint.QUERY_ORDER: 60, Endpoint.CANCEL_ORDER: 60, Endpoint.DEPTH: 40,
    Endpoint.BALANCES: 10, Endpoint.FEES: 5, Endpoint.MY_TRADES: 60, Endpoint.TRADE_HISTORY: 10,
    Endpoint.OPEN_ORDERS: 60, Endpoint.MARKETS: 20, Endpoint.TIME: 10, Endpoint.ACCOUNT: 5,
}  # fmt: skip


def test_the_shared_budget_never_lets_an_endpoint_past_its_own_limit() -> None:
    (weight,) = [r for r in D.rules if r.kind is LimitKind.REQUEST_WEIGHT]
    (orders,) = [r for r in D.rules if r.kind is LimitKind.ORDERS]
    assert weight.window_s == orders.window_s == 2.0
    for endpoint in Endpoint:
        cost = D.cost(endpoint)
        assert weight.limit // cost.weight <= OKX_LIMITS[endpoint], endpoint  # at most its own limit per window
    assert D.cost(Endpoint.NEW_ORDER).orders == 1 and orders.limit == OKX_LIMITS[Endpoint.NEW_ORDER]
    assert D.cost(Endpoint.NEW_ORDER).priority is Priority.EXECUTION
    assert D.cost(Endpoint.DEPTH).priority is Priority.MARKET_DATA
