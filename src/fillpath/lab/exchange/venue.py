"""The simulated venue's Binance surface: Binance spot's REST, streams and WebSocket API over the shared core
(``core.VenueCore``: engine, faults, clock, records).

REST paths follow Binance spot (``/api/v3/...``); the WebSocket paths follow Binance's stream hosts
(``/ws``, ``/stream``, ``/ws-api/v3``); ``/admin/...`` is the test harness (loopback only, no auth).
"""

from __future__ import annotations

import asyncio
import secrets
import zlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from fillpath.lab.exchange import auth, errors, market_data
from fillpath.lab.exchange.admin import add_admin_routes
from fillpath.lab.exchange.capital import CapitalDesk, networks_from
from fillpath.lab.exchange.config import SimConfig
from fillpath.lab.exchange.core import VenueCore
from fillpath.lab.exchange.errors import BinanceError
from fillpath.lab.exchange.orders import Order, binance_user_event, fmt, new_order_json, order_json, trade_json
from fillpath.lab.exchange.params import int_param, parse_new_order, required
from fillpath.lab.exchange.streams import StreamHub
from fillpath.lab.exchange.ws_endpoints import add_stream_routes, stream_faults

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SimVenue(VenueCore):
    dialect = "binance"
    hub: StreamHub

    def __init__(self, config: SimConfig) -> None:
        super().__init__(config)
        self.hub = hub = StreamHub(config.depth_interval)
        hub.user_filter = partial(stream_faults, self.faults)
        self.engine.on_user_event = lambda api_key, event: hub.publish_user(api_key, binance_user_event(event))
        self.engine.on_depth = hub.publish_depth
        self.listen_keys: dict[str, str] = {}
        self.capital = CapitalDesk(self, networks_from(config.networks), config.seed)
        self.instance = secrets.token_hex(8)
        """This process's life: a restarted simulator starts its accounts over, so its account ids change with it."""

    # -- lifecycle --------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors, self._rate_limit])
        r = app.router
        r.add_get("/api/v3/ping", self.ping)
        r.add_get("/api/v3/time", self.time)
        r.add_get("/api/v3/exchangeInfo", self.exchange_info)
        r.add_get("/api/v3/depth", self.depth)
        r.add_get("/api/v3/ticker/bookTicker", self.book_ticker)
        r.add_get("/api/v3/ticker/price", self.price_ticker)
        r.add_get("/api/v3/account", self.account)
        r.add_post("/api/v3/order", self.new_order)
        r.add_get("/api/v3/order", self.query_order)
        r.add_delete("/api/v3/order", self.cancel_order)
        r.add_get("/api/v3/openOrders", self.open_orders)
        r.add_get("/api/v3/allOrders", self.all_orders)
        r.add_get("/api/v3/myTrades", self.my_trades)
        r.add_post("/api/v3/userDataStream", self.listen_key_new)
        r.add_put("/api/v3/userDataStream", self.listen_key_keepalive)
        r.add_delete("/api/v3/userDataStream", self.listen_key_close)
        add_stream_routes(r, self)
        add_admin_routes(r, self)
        self.capital.add_routes(r)
        self.lifecycle(app)
        return app

    async def _on_startup(self, app: web.Application) -> None:
        await super()._on_startup(app)
        self.capital.start()  # the wallet watches its deposit addresses and sends withdrawals

    async def _on_shutdown(self, app: web.Application) -> None:
        await self.capital.stop()
        await super()._on_shutdown(app)

    # -- middlewares ------------------------------------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except BinanceError as exc:
            return web.json_response(exc.body(), status=exc.status, headers=exc.headers)

    @web.middleware
    async def _rate_limit(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/api/"):
            self._count_request(request.remote or "?")
        return await handler(request)

    def _count_request(self, ip: str) -> None:
        verdict = self.throttle(ip)
        if verdict is None:
            return
        if verdict.banned:
            raise BinanceError(
                -1003,
                f"Way too many requests; IP({ip}) banned until {verdict.until_ms}. "
                "Please use the websocket for live updates "
                "to avoid bans.",
                418,
                headers={"Retry-After": str(int(verdict.retry_after_s))},
            )
        raise BinanceError(
            -1003,
            f"Too many requests; current limit of IP({ip}) request weight is {verdict.limit} per SECOND. "
            "Please use WebSocket Streams for live updates to avoid polling the API.",
            429,
            headers={"Retry-After": str(self.faults.param("rate_limit", "retry_after"))},
        )

    # -- request plumbing -------------------------------------------------------------------------

    @staticmethod
    async def _raw(request: web.Request) -> tuple[str, str, dict[str, str]]:
        body = await request.text() if request.can_read_body else ""
        query = request.rel_url.raw_query_string
        params = dict(parse_qsl(query, keep_blank_values=True))
        params.update(parse_qsl(body, keep_blank_values=True))
        return query, body, params

    async def _signed(self, request: web.Request) -> tuple[str, dict[str, str]]:
        query, body, params = await self._raw(request)
        return self._authenticate(request, query, body, params), params

    async def signed(self, request: web.Request) -> tuple[str, dict[str, str]]:
        """A signed request's API key and parameters (for the wallet's routes, ``capital.py``)."""
        return await self._signed(request)

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def _authenticate(self, request: web.Request, query: str, body: str, params: dict[str, str]) -> str:
        api_key = request.headers.get("X-MBX-APIKEY", "")
        if not api_key:
            raise errors.bad_api_key_format()
        account = self.engine.accounts.get(api_key)
        if account is None:
            raise errors.invalid_api_key()
        auth.verify_rest(query, body, account.secret)
        auth.check_timestamp(params, self.clock.now_ms())
        return api_key

    def _api_key_only(self, request: web.Request) -> str:
        api_key = request.headers.get("X-MBX-APIKEY", "")
        if not api_key:
            raise errors.bad_api_key_format()
        if api_key not in self.engine.accounts:
            raise errors.invalid_api_key()
        return api_key

    @staticmethod
    def _json(body: Any) -> web.Response:
        return web.json_response(body)

    # -- public -----------------------------------------------------------------------------------

    async def ping(self, _request: web.Request) -> web.Response:
        return self._json({})

    async def time(self, _request: web.Request) -> web.Response:
        return self._json({"serverTime": self.clock.now_ms()})

    async def exchange_info(self, request: web.Request) -> web.Response:
        specs = list(self.engine.markets.values())
        wanted = request.query.get("symbol")
        if wanted:
            specs = [self.engine.market(wanted)]
        return self._json(market_data.exchange_info(specs, self.clock.now_ms()))

    async def depth(self, request: web.Request) -> web.Response:
        symbol = required(request.query, "symbol")
        limit = int_param(request.query, "limit") or 100
        if not 1 <= limit <= 5000:
            raise BinanceError(-1100, "Illegal characters found in parameter 'limit'; legal range is '1..5000'.")
        book = self.engine.books[self.engine.market(symbol).symbol]
        return self._json(market_data.depth(book, limit))

    async def book_ticker(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        if symbol:
            return self._json(market_data.book_ticker(self.engine.books[self.engine.market(symbol).symbol]))
        return self._json([market_data.book_ticker(b) for b in self.engine.books.values()])

    async def price_ticker(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        if symbol:
            return self._json(market_data.price_ticker(self.engine.books[self.engine.market(symbol).symbol]))
        return self._json([market_data.price_ticker(b) for b in self.engine.books.values()])

    # -- account and orders -----------------------------------------------------------------------

    async def account(self, request: web.Request) -> web.Response:
        api_key, params = await self._signed(request)
        account = self.engine.account(api_key)
        lines = account.lines()
        if params.get("omitZeroBalances") == "true":
            lines = [b for b in lines if b.free or b.locked]
        now = self.clock.now_ms()
        return self._json(
            {
                "makerCommission": int(self.config.maker_fee * 10000),
                "takerCommission": int(self.config.taker_fee * 10000),
                "buyerCommission": 0,
                "sellerCommission": 0,
                "commissionRates": {
                    "maker": fmt(self.config.maker_fee),
                    "taker": fmt(self.config.taker_fee),
                    "buyer": fmt(Decimal(0)),
                    "seller": fmt(Decimal(0)),
                },
                "canTrade": True,
                "canWithdraw": True,
                "canDeposit": True,
                "brokered": False,
                "requireSelfTradePrevention": False,
                "preventSor": False,
                "updateTime": now,
                "accountType": "SPOT",
                "balances": [{"asset": b.asset, "free": fmt(b.free), "locked": fmt(b.locked)} for b in lines],
                "permissions": ["SPOT"],
                "uid": zlib.crc32(f"{self.instance}:{api_key}".encode()),
            }
        )

    def _record(self, kind: str, api_key: str | None, params: dict[str, str], outcome: str, **kw: Any) -> None:
        self.record(
            kind,
            api_key,
            outcome,
            symbol=params.get("symbol"),
            side=params.get("side"),
            type=params.get("type"),
            client_order_id=params.get("newClientOrderId") or params.get("origClientOrderId"),
            quantity=params.get("quantity") or params.get("quoteOrderQty"),
            price=params.get("price"),
            **kw,
        )

    async def new_order(self, request: web.Request) -> web.Response:
        query, body, params = await self._raw(request)
        api_key = request.headers.get("X-MBX-APIKEY")
        try:
            self._authenticate(request, query, body, params)
            assert api_key is not None
            req = parse_new_order(params)
            if self.faults.hit("ack_then_deny"):
                self.engine.check_filters(req)
                return self._ghost_ack(api_key, params, req.symbol, req.client_order_id, req.resp_type)
            defer = self.faults.on("delayed_fills")
            order, fills = self.engine.place(api_key, req, defer=defer)
        except BinanceError as exc:
            self._record("new", api_key, params, "rejected", code=exc.code, msg=exc.msg)
            raise
        if defer:
            loop = asyncio.get_running_loop()
            loop.call_later(self.faults.seconds("delayed_fills", "delay"), self.engine.match_deferred, order.order_id)
        reply = new_order_json(order, fills, req.resp_type, order.time)
        if self.faults.hit("drop_response"):
            self._record("new", api_key, params, "accepted_response_dropped", order_id=order.order_id)
            return await self.hang(request)
        self._record("new", api_key, params, "accepted", order_id=order.order_id)
        if self.config.walk_per_order:
            self.advance(self.config.walk_per_order)
        return self._json(reply)

    def _ghost_ack(
        self, api_key: str, params: dict[str, str], symbol: str, client_id: str | None, resp_type: str
    ) -> web.Response:
        order_id = self.engine.allocate_order_id()
        now = self.clock.now_ms()
        reply: dict[str, Any] = {
            "symbol": symbol,
            "orderId": order_id,
            "orderListId": -1,
            "clientOrderId": client_id or f"sim{order_id}",
            "transactTime": now,
        }
        if resp_type != "ACK":
            reply.update(
                price=params.get("price", "0"),
                origQty=params.get("quantity", "0"),
                executedQty="0.00000000",
                origQuoteOrderQty=params.get("quoteOrderQty", "0"),
                cummulativeQuoteQty="0.00000000",
                status="NEW",
                timeInForce=params.get("timeInForce", "GTC"),
                type=params.get("type"),
                side=params.get("side"),
                workingTime=now,
                selfTradePreventionMode="EXPIRE_MAKER",
            )
            if resp_type == "FULL":
                reply["fills"] = []
        self._record("new", api_key, params, "acked_then_denied", order_id=order_id)
        return self._json(reply)

    def _order_ref(self, params: dict[str, str]) -> tuple[str, int | None, str | None]:
        symbol = required(params, "symbol")
        return symbol, int_param(params, "orderId"), params.get("origClientOrderId") or None

    async def query_order(self, request: web.Request) -> web.Response:
        api_key, params = await self._signed(request)
        symbol, order_id, client_id = self._order_ref(params)
        return self._json(order_json(self.engine.find(api_key, symbol, order_id, client_id)))

    async def cancel_order(self, request: web.Request) -> web.Response:
        query, body, params = await self._raw(request)
        api_key = request.headers.get("X-MBX-APIKEY")
        try:
            self._authenticate(request, query, body, params)
            assert api_key is not None
            symbol, order_id, client_id = self._order_ref(params)
            order = self.engine.cancel(api_key, symbol, order_id, client_id)
        except BinanceError as exc:
            self._record("cancel", api_key, params, "rejected", code=exc.code, msg=exc.msg)
            raise
        self._record("cancel", api_key, params, "accepted", order_id=order.order_id)
        return self._json(self._cancel_json(order, params))

    def _cancel_json(self, order: Order, params: dict[str, str]) -> dict[str, Any]:
        body = order_json(order)
        return {
            "symbol": order.symbol,
            "origClientOrderId": order.client_order_id,
            "orderId": order.order_id,
            "orderListId": -1,
            "clientOrderId": params.get("newClientOrderId") or f"cancel{order.order_id}",
            "transactTime": order.update_time,
            **{k: body[k] for k in ("price", "origQty", "executedQty", "cummulativeQuoteQty", "status")},
            **{k: body[k] for k in ("timeInForce", "type", "side", "origQuoteOrderQty", "selfTradePreventionMode")},
        }

    async def open_orders(self, request: web.Request) -> web.Response:
        api_key, params = await self._signed(request)
        orders = self.engine.open_orders(api_key, params.get("symbol") or None)
        return self._json([order_json(o) for o in orders])

    async def all_orders(self, request: web.Request) -> web.Response:
        api_key, params = await self._signed(request)
        orders = self.engine.all_orders(api_key, required(params, "symbol"))
        start = int_param(params, "startTime")
        if start is not None:
            orders = [o for o in orders if o.time >= start]
        limit = int_param(params, "limit") or 500
        return self._json([order_json(o) for o in orders[-limit:]])

    async def my_trades(self, request: web.Request) -> web.Response:
        api_key, params = await self._signed(request)
        trades = self.engine.my_trades(api_key, required(params, "symbol"))
        order_id = int_param(params, "orderId")
        if order_id is not None:
            trades = [t for t in trades if t.order_id == order_id]
        from_id = int_param(params, "fromId")
        if from_id is not None:
            trades = [t for t in trades if t.id >= from_id]
        start, end = int_param(params, "startTime"), int_param(params, "endTime")
        if start is not None:
            trades = [t for t in trades if t.time >= start]
        if end is not None:
            trades = [t for t in trades if t.time <= end]
        limit = int_param(params, "limit") or 500
        trades = trades[:limit] if from_id is not None else trades[-limit:]
        return self._json([trade_json(t) for t in trades])

    # -- listen keys ------------------------------------------------------------------------------

    async def listen_key_new(self, request: web.Request) -> web.Response:
        api_key = self._api_key_only(request)
        key = next((k for k, v in self.listen_keys.items() if v == api_key), None) or secrets.token_hex(30)
        self.listen_keys[key] = api_key
        return self._json({"listenKey": key})

    async def listen_key_keepalive(self, request: web.Request) -> web.Response:
        api_key = self._api_key_only(request)
        _, _, params = await self._raw(request)
        if self.listen_keys.get(params.get("listenKey", "")) != api_key:
            raise BinanceError(-1125, "This listenKey does not exist.")
        return self._json({})

    async def listen_key_close(self, request: web.Request) -> web.Response:
        api_key = self._api_key_only(request)
        _, _, params = await self._raw(request)
        if self.listen_keys.pop(params.get("listenKey", ""), None) != api_key:
            raise BinanceError(-1125, "This listenKey does not exist.")
        return self._json({})
