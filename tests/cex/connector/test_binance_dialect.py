"""Binance's spellings, from messages and shapes as ccxt and the exchange give them."""

from __future__ import annotations

from decimal import Decimal

from fillpath.cex.binance.dialect import BinanceDialect
from fillpath.cex.dialect import Endpoint
from fillpath.cex.orders import VenueStatus
from fillpath.cex.ratelimit import Priority

D = BinanceDialect()


def test_bans_throttles_and_duplicates_from_ccxt_messages() -> None:
    ban = (
        "binance 418 I'm a teapot "
        '{"code":-1003,"msg":"Way too many requests; IP(127.0.0.1) banned until 1700000005000."}'
    )
    throttle = 'binance 429 Too Many Requests {"code":-1003,"msg":"Too many requests; current limit ..."}'
    assert D.is_ban(ban) and not D.is_ban(throttle)
    assert D.retry_after({"Retry-After": "2"}, ban, 1_700_000_000_000) == 2.0
    assert D.retry_after({}, ban, 1_700_000_000_000) == 5.0  # from the ban's end when no header
    assert D.retry_after(None, throttle, 0) is None
    assert D.error_code(throttle) == "-1003"
    assert D.is_duplicate('binance {"code":-2010,"msg":"Duplicate order sent."}')
    assert not D.is_duplicate('binance {"code":-2010,"msg":"Account has insufficient balance for requested action."}')


def test_market_numbers_come_from_the_filter_strings() -> None:
    info = {
        "symbol": "ETHUSDT", "baseAsset": "ETH", "quoteAsset": "USDT",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000",
             "tickSize": "0.01000000"},
            {"filterType": "LOT_SIZE", "minQty": "0.00010000", "maxQty": "9000.00000000", "stepSize": "0.00010000"},
            {"filterType": "NOTIONAL", "minNotional": "5.00000000"},
        ],
    }  # fmt: skip
    m = D.market({"symbol": "ETH/USDT", "info": info, "precision": {"amount": 0.0001}}, "binance")
    assert (m.tick, m.lot, m.min_notional) == (Decimal("0.01"), Decimal("0.0001"), Decimal(5))
    assert str(m.lot) == "0.00010000"  # the exchange's own string, not a float's rendering


def test_order_and_trade_shapes() -> None:
    cancel = {"symbol": "ETHUSDT", "origClientOrderId": "fp0-a", "clientOrderId": "cancel7", "orderId": 7,
              "status": "CANCELED", "executedQty": "0.25000000", "transactTime": 1700000000123}  # fmt: skip
    r = D.order(cancel, "binance")
    assert (r.client_order_id, r.venue_order_id, r.status) == ("fp0-a", "7", VenueStatus.CANCELED)
    assert r.filled_qty == Decimal("0.25") and r.venue_ts == 1_700_000_000_123_000_000
    trade = {"id": 5001, "orderId": 7, "price": "3000.10", "qty": "0.25", "commission": "0.00025",
             "commissionAsset": "ETH", "time": 1700000000124}  # fmt: skip
    f = D.trade(trade, "fp0-a", "binance")
    assert (f.trade_id, f.qty, f.price, f.fee, f.fee_asset) == ("5001", Decimal("0.25"), Decimal("3000.10"),
                                                                Decimal("0.00025"), "ETH")  # fmt: skip


def test_orders_go_first() -> None:
    assert D.cost(Endpoint.NEW_ORDER).priority is Priority.EXECUTION
    assert D.cost(Endpoint.CANCEL_ORDER).priority is Priority.EXECUTION
    assert D.cost(Endpoint.DEPTH, depth=5000).weight == 250
    assert D.cost(Endpoint.NEW_ORDER).orders == 1
