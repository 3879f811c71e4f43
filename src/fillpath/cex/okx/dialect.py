"""OKX v5's spellings: raw request parameters, response shapes, states, error codes, published limits.

The connector calls ccxt's *raw* OKX endpoints (``private_post_trade_order`` …), so amounts travel as OKX's
own decimal strings both ways. Every reply is an envelope ``{"code": "0", "msg": "", "data": [...]}``; ccxt
raises on any other code (an order operation that fails says ``"code": "1"`` with the reason in
``data[i].sCode``), so the parsers here only unwrap ``data``.

Where OKX does less than the connector could use, the dialect declares it (:class:`~fillpath.cex.dialect.Gap`):

- ``ACK_ONLY``: ``trade/order`` answers with the order id only, never its state or fills: the driver learns
  them from ``trade/order`` (GET) and ``trade/fills``, or from the ``orders`` channel;
- ``CANCEL_ACK_ONLY``: ``trade/cancel-order`` likewise: the connector asks for the order after it;
- ``NO_BAN`` and ``NO_RETRY_AFTER``: throttling is HTTP 429 with code 50011 and no Retry-After; there is no
  ban status, so a scope is only ever paused, for ``default_backoff_s`` (OKX counts in 2 s windows);
- ``RATE_LIMITS_NOT_PUBLISHED``: no endpoint lists the limits. OKX limits each endpoint separately (place
  order 60 per 2 s per instrument, order query 60, books 40, balance 10, trade fee 5, fills 60, fills history
  10 …); ``rules`` approximate them with one shared budget of 120 per 2 s, each endpoint costing 120 / its own
  limit, which never exceeds any endpoint's limit (it can be slower than OKX when several endpoints are busy).

Other differences the core does not see: states are ``live``, ``partially_filled``, ``filled``, ``canceled``
(an IOC remainder is a cancel, not an expiry); fees are signed, negative when charged; a trade names its
client order id, so a lost reply's fills are found without asking for the order.
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

OKX_RULES: tuple[RateLimitRule, ...] = (
    RateLimitRule(LimitKind.REQUEST_WEIGHT, 2.0, 120),
    RateLimitRule(LimitKind.ORDERS, 2.0, 60),
)
"""One shared budget standing for OKX's per-endpoint limits (see the module's docstring), and the placement
limit of 60 orders per 2 s per instrument."""

CLIENT_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
"""``clOrdId``: 1 to 32 alphanumerics."""

_METHODS: Mapping[Endpoint, str] = {
    Endpoint.MARKETS: "public_get_public_instruments",
    Endpoint.TIME: "public_get_public_time",
    Endpoint.DEPTH: "public_get_market_books",
    Endpoint.BALANCES: "private_get_account_balance",
    Endpoint.ACCOUNT: "private_get_account_config",
    Endpoint.FEES: "private_get_account_trade_fee",
    Endpoint.NEW_ORDER: "private_post_trade_order",
    Endpoint.QUERY_ORDER: "private_get_trade_order",
    Endpoint.CANCEL_ORDER: "private_post_trade_cancel_order",
    Endpoint.MY_TRADES: "private_get_trade_fills",
    Endpoint.TRADE_HISTORY: "private_get_trade_fills_history",
    Endpoint.OPEN_ORDERS: "private_get_trade_orders_pending",
}
_COSTS: Mapping[Endpoint, Cost] = {
    Endpoint.MARKETS: Cost(6, 0, Priority.MARKET_DATA),  # 20 / 2 s
    Endpoint.TIME: Cost(12, 0, Priority.MARKET_DATA),  # 10 / 2 s
    Endpoint.DEPTH: Cost(3, 0, Priority.MARKET_DATA),  # 40 / 2 s
    Endpoint.BALANCES: Cost(12, 0, Priority.ACCOUNT),  # 10 / 2 s
    Endpoint.ACCOUNT: Cost(24, 0, Priority.ACCOUNT),  # 5 / 2 s
    Endpoint.FEES: Cost(24, 0, Priority.ACCOUNT),  # 5 / 2 s
    Endpoint.NEW_ORDER: Cost(2, 1, Priority.EXECUTION),  # 60 / 2 s
    Endpoint.QUERY_ORDER: Cost(2, 0, Priority.EXECUTION),  # 60 / 2 s
    Endpoint.CANCEL_ORDER: Cost(2, 0, Priority.EXECUTION),  # 60 / 2 s
    Endpoint.MY_TRADES: Cost(2, 0, Priority.ACCOUNT),  # 60 / 2 s
    Endpoint.TRADE_HISTORY: Cost(12, 0, Priority.ACCOUNT),  # 10 / 2 s
    Endpoint.OPEN_ORDERS: Cost(2, 0, Priority.ACCOUNT),  # 60 / 2 s
}
_STATUS = {
    "live": VenueStatus.OPEN,
    "partially_filled": VenueStatus.PARTIALLY_FILLED,
    "filled": VenueStatus.FILLED,
    "canceled": VenueStatus.CANCELED,
    "mmp_canceled": VenueStatus.CANCELED,
}
_ORD_TYPE = {"GTC": "limit", "IOC": "ioc", "FOK": "fok"}
_CODE = re.compile(r'"code"\s*:\s*"(\d+)"')
_S_CODE = re.compile(r'"sCode"\s*:\s*"(\d+)"')
_NOT_FOUND = frozenset({"51603", "51400", "51401", "51402"})
"""Order does not exist; cancellation failed: no such order, already canceled, already completed."""
MAX_PAGE = 100
SPOT = {"instType": "SPOT"}


def _dec(raw: Mapping[str, Any], key: str) -> Decimal:
    value = raw.get(key)
    if not isinstance(value, str) or value == "":
        raise InvalidInput(key, f"{value!r} is not a decimal string from the venue")
    return parse_decimal(value, field=key)


def _ms(value: object) -> int | None:
    return int(value) * 1_000_000 if isinstance(value, str) and value.isdigit() else None


def _first(raw: Any) -> Mapping[str, Any]:
    data = raw.get("data") if isinstance(raw, Mapping) else None
    if not isinstance(data, list) or not data or not isinstance(data[0], Mapping):
        raise InvalidInput("data", "the venue's reply carries no item")
    return data[0]


class OkxDialect:
    """OKX v5 spot (cash trade mode), for ccxt's ``okx``."""

    name = "okx"
    default_taker_fee = Decimal("0.001")
    rules: tuple[RateLimitRule, ...] = OKX_RULES
    default_backoff_s = 2.0
    client_id = CLIENT_ID
    max_page = MAX_PAGE
    gaps: frozenset[Gap] = frozenset(
        {Gap.ACK_ONLY, Gap.CANCEL_ACK_ONLY, Gap.NO_BAN, Gap.NO_RETRY_AFTER, Gap.RATE_LIMITS_NOT_PUBLISHED}
    )

    # --- requests -----------------------------------------------------------------------------------------

    def method(self, endpoint: Endpoint) -> str:
        return _METHODS[endpoint]

    def cost(self, endpoint: Endpoint, *, depth: int = 100) -> Cost:
        return _COSTS[endpoint]

    def params(self, endpoint: Endpoint) -> dict[str, Any]:
        return dict(SPOT) if endpoint in (Endpoint.MARKETS, Endpoint.FEES, Endpoint.OPEN_ORDERS) else {}

    def rows(self, raw: Any) -> list[Mapping[str, Any]]:
        data = raw.get("data") if isinstance(raw, Mapping) else None
        return [r for r in data if isinstance(r, Mapping)] if isinstance(data, list) else []

    # --- markets, time, books, fees ------------------------------------------------------------------------

    def rate_limits(self, markets_reply: Mapping[str, Any]) -> tuple[RateLimitRule, ...]:
        return self.rules  # OKX publishes no limits through the API

    def market(self, ccxt_market: Mapping[str, Any], location: str) -> Market:
        """From ccxt's market: names from ccxt, every number from ``info`` (the instrument's strings)."""
        info = ccxt_market["info"]
        max_qty = _dec(info, "maxLmtSz") if info.get("maxLmtSz") else None
        return Market(
            location=location,
            symbol=str(ccxt_market["symbol"]),
            venue_symbol=str(info["instId"]),
            base=str(info["baseCcy"]),
            quote=str(info["quoteCcy"]),
            tick=_dec(info, "tickSz"),
            lot=_dec(info, "lotSz"),
            min_qty=_dec(info, "minSz"),
            max_qty=max_qty,
            min_notional=Decimal(0),  # OKX spot has a minimum size, not a minimum notional
            min_price=None,
            max_price=None,
        )

    def time_ms(self, raw: Any) -> int:
        return int(str(_first(raw)["ts"]))

    def depth_params(self, market: Market, limit: int) -> dict[str, Any]:
        return {"instId": market.venue_symbol, "sz": str(min(limit, 400))}

    def depth(self, raw: Any) -> tuple[list[Level], list[Level]]:
        book = _first(raw)

        def side(levels: Sequence[Sequence[str]]) -> list[Level]:
            return [(parse_decimal(p, field="price"), parse_decimal(q, field="qty")) for p, q, *_ in levels]

        return side(book.get("bids", ())), side(book.get("asks", ()))

    def taker_fee(self, raw: Any) -> Decimal:
        """``account/trade-fee``: OKX signs fees, negative when charged (a positive rate is a rebate)."""
        row = _first(raw)
        return -_dec(row, "taker") if row.get("taker") else self.default_taker_fee

    # --- balances ------------------------------------------------------------------------------------------

    def balances(self, raw: Any, location: str) -> list[BalanceReport]:
        """Available plus frozen (in open orders) per currency of the trading account."""
        return self._details(_first(raw), location)

    def account_id(self, raw: Any) -> str | None:
        """``uid`` of ``GET /api/v5/account/config`` (``Endpoint.ACCOUNT``); the balance reply carries none."""
        data = raw.get("data") if isinstance(raw, Mapping) else None
        first = data[0] if isinstance(data, list) and data and isinstance(data[0], Mapping) else {}
        uid = first.get("uid")
        return f"uid:{uid}" if uid else None

    def _details(self, account: Mapping[str, Any], location: str) -> list[BalanceReport]:
        return [
            BalanceReport(
                location, AssetId(str(d["ccy"]), location), _dec(d, "availBal") + _dec(d, "frozenBal"),
                _ms(d.get("uTime")) or _ms(account.get("uTime")),
            )
            for d in account.get("details", ())
        ]  # fmt: skip

    # --- orders --------------------------------------------------------------------------------------------

    def new_order_params(self, cmd: SubmitOrder, market: Market) -> dict[str, Any]:
        params: dict[str, Any] = {
            "instId": market.venue_symbol,
            "tdMode": "cash",
            "side": "buy" if cmd.side is Side.BUY else "sell",
            "clOrdId": cmd.client_order_id,
            "sz": plain(cmd.qty),
        }
        if cmd.limit_price is None:
            params.update(ordType="market", tgtCcy="base_ccy")  # a size in base, as for every other order
        else:
            params.update(ordType=_ORD_TYPE[str(cmd.time_in_force)], px=plain(cmd.limit_price))
        return params

    def placed(self, raw: Any, cmd: SubmitOrder, location: str) -> tuple[OrderStatusReport, list[FillReport]]:
        """The acknowledgement: the order id, nothing of its state (``Gap.ACK_ONLY``). It carries no venue time:
        its ``ts`` is when OKX finished the request, after any fill the order made at once; journaled ahead of those
        fills it would run the venue's clock backwards (the order's own times come with the query)."""
        ack = _first(raw)
        cid = str(ack.get("clOrdId") or cmd.client_order_id)
        return OrderStatusReport(location, cid, str(ack["ordId"]), VenueStatus.OPEN, Decimal(0), None), []

    def order_ref(self, market: Market, client_order_id: str) -> dict[str, Any]:
        return {"instId": market.venue_symbol, "clOrdId": client_order_id}

    def order_by_id_params(self, market: Market, venue_order_id: str) -> dict[str, Any]:
        return {"instId": market.venue_symbol, "ordId": venue_order_id}

    def order(self, raw: Any, location: str) -> OrderStatusReport:
        return self._order(_first(raw), location)

    def _order(self, o: Mapping[str, Any], location: str) -> OrderStatusReport:
        return OrderStatusReport(
            location, str(o.get("clOrdId") or ""), str(o["ordId"]), _STATUS[str(o["state"])],
            _dec(o, "accFillSz") if o.get("accFillSz") else Decimal(0), _ms(o.get("uTime")),
        )  # fmt: skip

    def canceled(self, raw: Any, location: str) -> OrderStatusReport | None:
        return None  # the cancel acknowledgement carries no state (Gap.CANCEL_ACK_ONLY)

    def trades_params(self, market: Market, venue_order_id: str | None, since_ms: int | None) -> dict[str, Any]:
        params: dict[str, Any] = {**SPOT, "instId": market.venue_symbol, "limit": str(MAX_PAGE)}
        if venue_order_id is not None:
            params["ordId"] = venue_order_id
        elif since_ms is not None:
            params["begin"] = str(since_ms)
        return params

    def trade_order_id(self, raw: Mapping[str, Any]) -> str:
        return str(raw["ordId"])

    def trade_client_id(self, raw: Mapping[str, Any]) -> str | None:
        return str(raw["clOrdId"]) if raw.get("clOrdId") else None

    def trade(self, raw: Mapping[str, Any], client_order_id: str, location: str) -> FillReport:
        return FillReport(
            location, client_order_id, str(raw["tradeId"]), _dec(raw, "fillSz"), _dec(raw, "fillPx"),
            -_dec(raw, "fee"), str(raw.get("feeCcy")), _ms(raw.get("ts")),
        )  # fmt: skip

    def open_order(self, raw: Mapping[str, Any], location: str, symbol: str) -> OpenOrderReport:
        """One element of ``orders-pending``; ``symbol`` is the unified name of ``raw['instId']``."""
        return OpenOrderReport(
            location, str(raw.get("clOrdId") or ""), str(raw["ordId"]), symbol,
            Side.BUY if str(raw["side"]) == "buy" else Side.SELL, _dec(raw, "sz"),
            _dec(raw, "px") if raw.get("px") else None,  # a market order has no price
            _dec(raw, "accFillSz"), _ms(raw.get("uTime")),
        )  # fmt: skip

    def open_order_symbol(self, raw: Mapping[str, Any]) -> str:
        return str(raw["instId"])

    def venue_trade(self, raw: Mapping[str, Any], location: str, symbol: str) -> TradeReport:
        return TradeReport(
            location, str(raw["ordId"]), symbol, str(raw["tradeId"]), _dec(raw, "fillSz"), _dec(raw, "fillPx"),
            -_dec(raw, "fee"), str(raw.get("feeCcy")), _ms(raw.get("ts")),
        )  # fmt: skip

    def trades_page_params(
        self, market: Market, since_ms: int | None, cursor: str | None, limit: int
    ) -> dict[str, Any]:
        """A page of ``fills-history``, newest first: from now back to ``since_ms``, each later page older than
        the bill ``cursor``."""
        params: dict[str, Any] = {**SPOT, "instId": market.venue_symbol, "limit": str(min(limit, MAX_PAGE))}
        if since_ms is not None:
            params["begin"] = str(since_ms)
        if cursor is not None:
            params["after"] = cursor
        return params

    def page_cursor(self, rows: Sequence[Mapping[str, Any]]) -> str:
        """The oldest bill of a page (OKX pages back in time by ``billId``)."""
        return str(min(int(r["billId"]) for r in rows))

    # --- the user stream -----------------------------------------------------------------------------------

    def stream_order(self, info: Mapping[str, Any], location: str) -> StreamOrder | None:
        """One element of the ``orders`` channel: the order's state, and the fill it reports (if any)."""
        if "ordId" not in info or "state" not in info:
            return None
        report = self._order(info, location)
        fill = None
        if info.get("tradeId") and info.get("fillSz") and _dec(info, "fillSz") > 0:
            fill = FillReport(
                location, report.client_order_id, str(info["tradeId"]), _dec(info, "fillSz"), _dec(info, "fillPx"),
                -_dec(info, "fillFee"), str(info.get("fillFeeCcy")), _ms(info.get("fillTime")),
            )  # fmt: skip
        return report, fill

    def stream_balances(self, info: Mapping[str, Any], location: str) -> list[BalanceReport] | None:
        """An ``account`` channel message: the currencies it names."""
        arg = info.get("arg")
        if not isinstance(arg, Mapping) or arg.get("channel") != "account":
            return None
        return [r for account in info.get("data", ()) for r in self._details(account, location)]

    # --- errors --------------------------------------------------------------------------------------------

    def error_code(self, message: str) -> str | None:
        """The operation's ``sCode`` when there is one, else the reply's ``code``."""
        m = _S_CODE.search(message) or _CODE.search(message)
        return m.group(1) if m else None

    def is_not_found(self, message: str) -> bool:
        return self.error_code(message) in _NOT_FOUND

    def is_duplicate(self, message: str) -> bool:
        return self.error_code(message) == "51016"

    def is_ban(self, message: str) -> bool:
        return False  # Gap.NO_BAN

    def retry_after(self, headers: Mapping[str, Any] | None, message: str, now_ms: int) -> float | None:
        for key, value in (headers or {}).items():  # OKX sends none today; honour one if it ever does
            if key.lower() == "retry-after":
                try:
                    return float(Decimal(str(value)))
                except ArithmeticError:
                    return None
        return None
