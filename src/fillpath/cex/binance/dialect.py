"""Binance's spellings: raw request parameters, response shapes, error codes, endpoint weights.

The connector speaks to ccxt's *raw* Binance endpoints (``private_post_order`` …) so amounts travel as the
exchange's own decimal strings both ways; this module is the only place that knows those shapes. It implements
:class:`fillpath.cex.dialect.Dialect`; Binance has no declared gap (its FULL order reply carries the status and the
fills, its cancel reply the order, its 429/418 a Retry-After, its ``exchangeInfo`` the rate limits).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from fillpath.cex.dialect import Endpoint, Gap, StreamOrder
from fillpath.cex.markets import Level, Market, plain
from fillpath.cex.orders import VenueStatus
from fillpath.cex.ratelimit import Cost, LimitKind, Priority, RateLimitRule
from fillpath.model.amounts import parse_decimal
from fillpath.model.assets import AssetId
from fillpath.model.commands import SubmitOrder
from fillpath.model.errors import InvalidInput
from fillpath.model.reports import BalanceReport, FillReport, OpenOrderReport, OrderStatusReport, TradeReport
from fillpath.model.sides import Side

BINANCE_SPOT_RULES: tuple[RateLimitRule, ...] = (
    RateLimitRule(LimitKind.REQUEST_WEIGHT, 60.0, 6000),
    RateLimitRule(LimitKind.ORDERS, 10.0, 100),
    RateLimitRule(LimitKind.ORDERS, 86_400.0, 200_000),
)
"""Binance spot's published limits, used until ``exchangeInfo.rateLimits`` says otherwise."""

CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
"""``newClientOrderId`` as Binance accepts it."""

_METHODS: Mapping[Endpoint, str] = {
    Endpoint.MARKETS: "public_get_exchangeinfo",
    Endpoint.TIME: "public_get_time",
    Endpoint.DEPTH: "public_get_depth",
    Endpoint.BALANCES: "private_get_account",
    Endpoint.ACCOUNT: "private_get_account",
    Endpoint.FEES: "private_get_account",
    Endpoint.NEW_ORDER: "private_post_order",
    Endpoint.QUERY_ORDER: "private_get_order",
    Endpoint.CANCEL_ORDER: "private_delete_order",
    Endpoint.MY_TRADES: "private_get_mytrades",
    Endpoint.TRADE_HISTORY: "private_get_mytrades",
    Endpoint.OPEN_ORDERS: "private_get_openorders",
}

_STATUS = {
    "NEW": VenueStatus.OPEN,
    "PENDING_NEW": VenueStatus.OPEN,
    "PENDING_CANCEL": VenueStatus.OPEN,
    "PARTIALLY_FILLED": VenueStatus.PARTIALLY_FILLED,
    "FILLED": VenueStatus.FILLED,
    "CANCELED": VenueStatus.CANCELED,
    "REJECTED": VenueStatus.REJECTED,
    "EXPIRED": VenueStatus.EXPIRED,
    "EXPIRED_IN_MATCH": VenueStatus.EXPIRED,
}
_INTERVAL_S = {"SECOND": 1.0, "MINUTE": 60.0, "HOUR": 3600.0, "DAY": 86_400.0}
_CODE = re.compile(r'"code"\s*:\s*(-?\d+)')
_BANNED_UNTIL = re.compile(r"banned until (\d+)")


def _dec(raw: Mapping[str, Any], key: str) -> Decimal:
    value = raw.get(key)
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidInput(key, f"{value!r} is not a decimal string from the venue")
    return parse_decimal(value, field=key)


def ms_to_ns(ms: object) -> int | None:
    return int(ms) * 1_000_000 if isinstance(ms, int | str) and str(ms).lstrip("-").isdigit() else None


class BinanceDialect:
    """Binance spot (``api/v3``), for ccxt's ``binance``."""

    name = "binance"
    default_taker_fee = Decimal("0.001")
    rules: tuple[RateLimitRule, ...] = BINANCE_SPOT_RULES
    default_backoff_s = 1.0
    client_id = CLIENT_ID
    max_page = 1000
    gaps: frozenset[Gap] = frozenset()

    def method(self, endpoint: Endpoint) -> str:
        return _METHODS[endpoint]

    def params(self, endpoint: Endpoint) -> dict[str, Any]:
        return {}

    def rows(self, raw: Any) -> list[Mapping[str, Any]]:
        return list(raw)

    # --- weights (Binance spot, as published) ---------------------------------------------------------

    _COSTS: Mapping[Endpoint, Cost] = {
        Endpoint.MARKETS: Cost(20, 0, Priority.MARKET_DATA),
        Endpoint.TIME: Cost(1, 0, Priority.MARKET_DATA),
        Endpoint.DEPTH: Cost(5, 0, Priority.MARKET_DATA),
        Endpoint.BALANCES: Cost(20, 0, Priority.ACCOUNT),
        Endpoint.ACCOUNT: Cost(20, 0, Priority.ACCOUNT),
        Endpoint.FEES: Cost(20, 0, Priority.ACCOUNT),
        Endpoint.NEW_ORDER: Cost(1, 1, Priority.EXECUTION),
        Endpoint.QUERY_ORDER: Cost(4, 0, Priority.EXECUTION),
        Endpoint.CANCEL_ORDER: Cost(1, 0, Priority.EXECUTION),
        Endpoint.MY_TRADES: Cost(20, 0, Priority.ACCOUNT),
        Endpoint.TRADE_HISTORY: Cost(20, 0, Priority.ACCOUNT),
        Endpoint.OPEN_ORDERS: Cost(80, 0, Priority.ACCOUNT),  # every symbol at once (6 for one symbol)
    }

    def cost(self, endpoint: Endpoint, *, depth: int = 100) -> Cost:
        if endpoint is Endpoint.DEPTH:
            weight = 5 if depth <= 100 else 25 if depth <= 500 else 50 if depth <= 1000 else 250
            return Cost(weight, 0, Priority.MARKET_DATA)
        return self._COSTS[endpoint]

    def rate_limits(self, exchange_info: Mapping[str, Any]) -> tuple[RateLimitRule, ...]:
        """``exchangeInfo.rateLimits`` as rules; the published defaults when the venue lists none."""
        out: list[RateLimitRule] = []
        for raw in exchange_info.get("rateLimits") or ():
            kind = LimitKind(str(raw["rateLimitType"]))
            window = _INTERVAL_S[str(raw["interval"])] * int(raw.get("intervalNum", 1))
            out.append(RateLimitRule(kind, window, int(raw["limit"])))
        return tuple(out) or self.rules

    # --- markets and books ----------------------------------------------------------------------------

    def market(self, ccxt_market: Mapping[str, Any], location: str) -> Market:
        """From ccxt's market: names from ccxt, every number from ``info.filters`` (Binance's strings)."""
        info = ccxt_market["info"]
        filters = {f["filterType"]: f for f in info.get("filters", ())}
        price, lot = filters.get("PRICE_FILTER", {}), filters.get("LOT_SIZE", {})
        notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {"minNotional": "0"}
        max_qty = _dec(lot, "maxQty") if "maxQty" in lot else None
        return Market(
            location=location,
            symbol=str(ccxt_market["symbol"]),
            venue_symbol=str(info["symbol"]),
            base=str(info["baseAsset"]),
            quote=str(info["quoteAsset"]),
            tick=_dec(price, "tickSize"),
            lot=_dec(lot, "stepSize"),
            min_qty=_dec(lot, "minQty"),
            max_qty=max_qty if max_qty else None,
            min_notional=_dec(notional, "minNotional"),
            min_price=_dec(price, "minPrice") if price.get("minPrice") else None,
            max_price=_dec(price, "maxPrice") if price.get("maxPrice") else None,
        )

    def depth_params(self, market: Market, limit: int) -> dict[str, Any]:
        return {"symbol": market.venue_symbol, "limit": limit}

    def time_ms(self, raw: Any) -> int:
        return int(raw["serverTime"])

    def depth(self, raw: Any) -> tuple[list[Level], list[Level]]:
        def side(levels: Sequence[Sequence[str]]) -> list[Level]:
            return [(parse_decimal(p, field="price"), parse_decimal(q, field="qty")) for p, q, *_ in levels]

        return side(raw.get("bids", ())), side(raw.get("asks", ()))

    def taker_fee(self, account: Any) -> Decimal:
        rates = account.get("commissionRates")
        if isinstance(rates, Mapping) and "taker" in rates:
            return _dec(rates, "taker")
        return self.default_taker_fee

    # --- balances -------------------------------------------------------------------------------------

    def balances(self, account: Any, location: str) -> list[BalanceReport]:
        """Free plus locked per asset (what we own there, as the ledger counts it)."""
        ts = ms_to_ns(account.get("updateTime"))
        return [
            BalanceReport(location, AssetId(str(b["asset"]), location), _dec(b, "free") + _dec(b, "locked"), ts)
            for b in account.get("balances", ())
        ]

    def account_id(self, raw: Any) -> str | None:
        """``uid`` of ``GET /api/v3/account``."""
        uid = raw.get("uid") if isinstance(raw, Mapping) else None
        return f"uid:{uid}" if uid is not None else None

    def stream_balances(self, event: Mapping[str, Any], location: str) -> list[BalanceReport] | None:
        """``outboundAccountPosition`` (the user stream): the assets that changed."""
        if event.get("e") != "outboundAccountPosition":
            return None
        ts = ms_to_ns(event.get("E"))
        return [
            BalanceReport(location, AssetId(str(b["a"]), location), _dec(b, "f") + _dec(b, "l"), ts)
            for b in event.get("B", ())
        ]

    # --- orders ---------------------------------------------------------------------------------------

    def new_order_params(self, cmd: SubmitOrder, market: Market) -> dict[str, Any]:
        params: dict[str, Any] = {
            "symbol": market.venue_symbol,
            "side": "BUY" if cmd.side is Side.BUY else "SELL",
            "quantity": plain(cmd.qty),
            "newClientOrderId": cmd.client_order_id,
            "newOrderRespType": "FULL",
        }
        if cmd.limit_price is None:
            params["type"] = "MARKET"
        else:
            params.update(type="LIMIT", timeInForce=str(cmd.time_in_force), price=plain(cmd.limit_price))
        return params

    def order_ref(self, market: Market, client_order_id: str) -> dict[str, Any]:
        return {"symbol": market.venue_symbol, "origClientOrderId": client_order_id}

    def placed(self, raw: Any, cmd: SubmitOrder, location: str) -> tuple[OrderStatusReport, list[FillReport]]:
        """A FULL reply: the order's status and its fills."""
        return self.order(raw, location), self.order_fills(raw, location)

    def canceled(self, raw: Any, location: str) -> OrderStatusReport | None:
        return self.order(raw, location)

    def order(self, raw: Any, location: str) -> OrderStatusReport:
        ts = raw.get("updateTime") or raw.get("transactTime")
        return OrderStatusReport(
            location,
            str(raw["clientOrderId"] if "origClientOrderId" not in raw else raw["origClientOrderId"]),
            str(raw["orderId"]),
            _STATUS[str(raw.get("status", "NEW"))],
            _dec(raw, "executedQty") if "executedQty" in raw else Decimal(0),
            ms_to_ns(ts),
        )

    def order_fills(self, raw: Mapping[str, Any], location: str) -> list[FillReport]:
        """The ``fills`` of a FULL new-order reply (they carry the trade id; the time is the transaction's)."""
        ts = ms_to_ns(raw.get("transactTime"))
        cid = str(raw["clientOrderId"])
        return [
            FillReport(
                location,
                cid,
                str(f["tradeId"]),
                _dec(f, "qty"),
                _dec(f, "price"),
                _dec(f, "commission"),
                str(f.get("commissionAsset")),
                ts,
            )
            for f in raw.get("fills", ())
        ]

    def trade(self, raw: Mapping[str, Any], client_order_id: str, location: str) -> FillReport:
        return FillReport(
            location, client_order_id, str(raw["id"]), _dec(raw, "qty"), _dec(raw, "price"),
            _dec(raw, "commission"), str(raw.get("commissionAsset")), ms_to_ns(raw.get("time")),
        )  # fmt: skip

    def open_order(self, raw: Mapping[str, Any], location: str, symbol: str) -> OpenOrderReport:
        """One element of ``openOrders``; ``symbol`` is the unified name of ``raw['symbol']``."""
        price = _dec(raw, "price") if "price" in raw else Decimal(0)
        return OpenOrderReport(
            location,
            str(raw["clientOrderId"]),
            str(raw["orderId"]),
            symbol,
            Side.BUY if str(raw["side"]) == "BUY" else Side.SELL,
            _dec(raw, "origQty"),
            price if price > 0 else None,  # a market order lists price 0
            _dec(raw, "executedQty"),
            ms_to_ns(raw.get("updateTime") or raw.get("time")),
        )

    def open_order_symbol(self, raw: Mapping[str, Any]) -> str:
        return str(raw["symbol"])

    def venue_trade(self, raw: Mapping[str, Any], location: str, symbol: str) -> TradeReport:
        """One element of ``myTrades``, by the venue's order id."""
        return TradeReport(
            location, str(raw["orderId"]), symbol, str(raw["id"]), _dec(raw, "qty"), _dec(raw, "price"),
            _dec(raw, "commission"), str(raw.get("commissionAsset")), ms_to_ns(raw.get("time")),
        )  # fmt: skip

    def trades_page_params(
        self, market: Market, since_ms: int | None, cursor: str | None, limit: int
    ) -> dict[str, Any]:
        """A page of the account's trades: from ``since_ms`` first, then from trade id ``cursor`` on (Binance
        refuses ``fromId`` together with a time)."""
        params: dict[str, Any] = {"symbol": market.venue_symbol, "limit": limit}
        if cursor is not None:
            params["fromId"] = int(cursor)
        elif since_ms is not None:
            params["startTime"] = since_ms
        return params

    def page_cursor(self, rows: Sequence[Mapping[str, Any]]) -> str:
        """The trade after the newest of a page (Binance's trade ids grow with time, per symbol)."""
        return str(max(int(r["id"]) for r in rows) + 1)

    def trade_order_id(self, raw: Mapping[str, Any]) -> str:
        return str(raw["orderId"])

    def trade_client_id(self, raw: Mapping[str, Any]) -> str | None:
        return None  # Binance's trades name the venue's order id only

    def trades_params(self, market: Market, venue_order_id: str | None, since_ms: int | None) -> dict[str, Any]:
        params: dict[str, Any] = {"symbol": market.venue_symbol}
        if venue_order_id is not None:
            params["orderId"] = venue_order_id
        elif since_ms is not None:
            params["startTime"] = since_ms
        return params

    def order_by_id_params(self, market: Market, venue_order_id: str) -> dict[str, Any]:
        return {"symbol": market.venue_symbol, "orderId": venue_order_id}

    def stream_order(self, event: Mapping[str, Any], location: str) -> StreamOrder | None:
        """One ``executionReport`` of the user stream: the order's status, and its trade if it is one."""
        if event.get("e") != "executionReport":
            return None
        ts = ms_to_ns(event.get("E"))
        report = OrderStatusReport(
            location, str(event["c"]), str(event["i"]), _STATUS[str(event["X"])], _dec(event, "z"), ts
        )
        fill = None
        if event.get("x") == "TRADE":
            fill = FillReport(
                location, str(event["c"]), str(event["t"]), _dec(event, "l"), _dec(event, "L"),
                _dec(event, "n"), str(event.get("N")), ms_to_ns(event.get("T")),
            )  # fmt: skip
        return report, fill

    # --- errors ---------------------------------------------------------------------------------------

    def error_code(self, message: str) -> str | None:
        m = _CODE.search(message)
        return m.group(1) if m else None

    def is_not_found(self, message: str) -> bool:
        """-2011 "Unknown order sent." (a cancel of an order that is not open)."""
        return self.error_code(message) == "-2011"

    def is_duplicate(self, message: str) -> bool:
        return self.error_code(message) == "-2010" and "Duplicate order" in message

    def is_ban(self, message: str) -> bool:
        """HTTP 418 (ccxt's message starts ``binance 418 …``) or a -1003 that names the ban's end."""
        return message.startswith(f"{self.name} 418 ") or _BANNED_UNTIL.search(message) is not None

    def retry_after(self, headers: Mapping[str, Any] | None, message: str, now_ms: int) -> float | None:
        """Seconds to wait: the Retry-After header, else the ban end the message names."""
        for key, value in (headers or {}).items():
            if key.lower() == "retry-after":
                try:
                    return float(Decimal(str(value)))
                except ArithmeticError:
                    break
        m = _BANNED_UNTIL.search(message)
        if m:
            return max(0.0, (int(m.group(1)) - now_ms) / 1000)
        return None
