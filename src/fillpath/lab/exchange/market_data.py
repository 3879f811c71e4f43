"""Public market data in Binance's shapes: exchangeInfo, depth, tickers."""

from __future__ import annotations

from typing import Any

from fillpath.lab.exchange.book import SyntheticBook
from fillpath.lab.exchange.config import MarketSpec
from fillpath.lab.exchange.orders import fmt

_PRECISION = 8


def symbol_info(spec: MarketSpec) -> dict[str, Any]:
    return {
        "symbol": spec.symbol,
        "status": "TRADING",
        "baseAsset": spec.base,
        "baseAssetPrecision": _PRECISION,
        "quoteAsset": spec.quote,
        "quotePrecision": _PRECISION,
        "quoteAssetPrecision": _PRECISION,
        "baseCommissionPrecision": _PRECISION,
        "quoteCommissionPrecision": _PRECISION,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "amendAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fmt(spec.min_price),
                "maxPrice": fmt(spec.max_price),
                "tickSize": fmt(spec.tick),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt(spec.min_qty),
                "maxQty": fmt(spec.max_qty),
                "stepSize": fmt(spec.step),
            },
            {
                "filterType": "MIN_NOTIONAL",
                "minNotional": fmt(spec.min_notional),
                "applyToMarket": True,
                "avgPriceMins": 5,
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": fmt(spec.min_notional),
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "NONE"],
    }


def exchange_info(specs: list[MarketSpec], server_time: int) -> dict[str, Any]:
    return {
        "timezone": "UTC",
        "serverTime": server_time,
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        ],
        "exchangeFilters": [],
        "symbols": [symbol_info(s) for s in specs],
    }


def depth(book: SyntheticBook, limit: int) -> dict[str, Any]:
    bids, asks = book.depth(limit)
    return {
        "lastUpdateId": book.update_id,
        "bids": [[fmt(p), fmt(q)] for p, q in bids],
        "asks": [[fmt(p), fmt(q)] for p, q in asks],
    }


def book_ticker(book: SyntheticBook) -> dict[str, Any]:
    bids, asks = book.depth(1)
    bid = bids[0] if bids else None
    ask = asks[0] if asks else None
    return {
        "symbol": book.spec.symbol,
        "bidPrice": fmt(bid[0]) if bid else "0.00000000",
        "bidQty": fmt(bid[1]) if bid else "0.00000000",
        "askPrice": fmt(ask[0]) if ask else "0.00000000",
        "askQty": fmt(ask[1]) if ask else "0.00000000",
    }


def price_ticker(book: SyntheticBook) -> dict[str, Any]:
    return {"symbol": book.spec.symbol, "price": fmt(book.mid)}
