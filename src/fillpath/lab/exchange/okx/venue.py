"""The simulated venue's OKX v5 surface: OKX's REST paths, signing, shapes and error codes over the shared core
(``core.VenueCore``: the same engine, books, accounts, faults and records as the Binance surface).

REST (``/api/v5/...``): ``public/time``, ``public/instruments``, ``market/books``, ``market/ticker``,
``account/balance``, ``account/trade-fee``, ``asset/currencies``, ``trade/order`` (POST to place, GET to ask),
``trade/batch-orders``, ``trade/cancel-order``, ``trade/orders-pending``, ``trade/orders-history``,
``trade/fills``, ``trade/fills-history``. WebSockets: ``/ws/v5/private`` and ``/ws/v5/public`` (``okx.streams``).
``/admin/...`` is the same harness as on the Binance surface.

Throttling is OKX's: HTTP 429 with ``{"code": "50011", "msg": "Too Many Requests"}`` and no Retry-After; OKX has no
IP ban, so the ``rate_limit`` fault's ban phase answers 50011 to every request until it ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import secrets
import zlib
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from fillpath.lab.exchange.admin import add_admin_routes
from fillpath.lab.exchange.config import MarketSpec, SimConfig
from fillpath.lab.exchange.core import VenueCore
from fillpath.lab.exchange.errors import BinanceError
from fillpath.lab.exchange.okx import auth, errors, shapes
from fillpath.lab.exchange.okx.errors import OkxError, OperationFailed
from fillpath.lab.exchange.okx.streams import OkxHub, add_okx_stream_routes
from fillpath.lab.exchange.orders import Order, Trade
from fillpath.lab.exchange.params import NewOrder

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CLIENT_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_NUMBER = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?$")
_ORD_TYPES = {"market": ("MARKET", ""), "limit": ("LIMIT", "GTC"), "ioc": ("LIMIT", "IOC"),
              "fok": ("LIMIT", "FOK"), "post_only": ("LIMIT_MAKER", "GTC")}  # fmt: skip
_PAGE = 100
LIST_TIME_MS = 1_606_468_572_000


def _ok(data: list[dict[str, Any]], **extra: Any) -> web.Response:
    return web.json_response({"code": "0", "msg": "", "data": data, **extra})


class OkxVenue(VenueCore):
    dialect = "okx"
    hub: OkxHub

    def __init__(self, config: SimConfig) -> None:
        # OKX spot publishes no minimum notional (only ``minSz``): the engine checks none either
        config = dataclasses.replace(
            config, markets=tuple(dataclasses.replace(m, min_notional=Decimal(0)) for m in config.markets)
        )
        super().__init__(config)
        self.hub = OkxHub(self.engine, self.faults, self.clock)
        self.engine.on_user_event = self.hub.publish_user
        self.by_inst = {shapes.inst_id(m): m for m in config.markets}
        self.instance = secrets.token_hex(8)
        """This process's life: a restarted simulator starts its accounts over, so its account ids change with it."""

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors, self._rate_limit])
        r = app.router
        r.add_get("/api/v5/public/time", self.time)
        r.add_get("/api/v5/public/instruments", self.instruments)
        r.add_get("/api/v5/market/books", self.books)
        r.add_get("/api/v5/market/ticker", self.ticker)
        r.add_get("/api/v5/account/balance", self.balance)
        r.add_get("/api/v5/account/trade-fee", self.trade_fee)
        r.add_get("/api/v5/account/config", self.account_config)
        r.add_get("/api/v5/asset/currencies", self.currencies)
        r.add_post("/api/v5/trade/order", self.place)
        r.add_post("/api/v5/trade/batch-orders", self.place_batch)
        r.add_get("/api/v5/trade/order", self.query)
        r.add_post("/api/v5/trade/cancel-order", self.cancel)
        r.add_get("/api/v5/trade/orders-pending", self.pending)
        r.add_get("/api/v5/trade/orders-history", self.history)
        r.add_get("/api/v5/trade/fills", self.fills)
        r.add_get("/api/v5/trade/fills-history", self.fills_history)
        add_okx_stream_routes(r, self.hub)
        add_admin_routes(r, self)
        self.lifecycle(app)
        return app

    # -- middlewares ------------------------------------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except OkxError as exc:
            return web.json_response(exc.body(), status=exc.status)
        except BinanceError as exc:  # the engine's (or the admin API's) refusal, in OKX's words
            code, msg = errors.from_engine(exc)
            return web.json_response({"code": code, "msg": msg, "data": []}, status=exc.status)

    @web.middleware
    async def _rate_limit(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/api/") and self.throttle(request.remote or "?") is not None:
            raise errors.too_many_requests()
        return await handler(request)

    # -- request plumbing -------------------------------------------------------------------------

    async def _signed(self, request: web.Request) -> tuple[str, str]:
        """The API key of a signed request, and its body."""
        body = await request.text() if request.can_read_body else ""
        query = request.rel_url.raw_query_string
        path = request.rel_url.raw_path + (f"?{query}" if query else "")
        key = auth.verify_rest(request.headers, request.method, path, body, self.engine.accounts, self.clock.now_ms())
        return key, body

    def _spec(self, inst_id: str | None) -> MarketSpec:
        if not inst_id:
            raise errors.empty("instId")
        spec = self.by_inst.get(inst_id)
        if spec is None:
            raise OkxError("51001", "Instrument ID does not exist.")
        return spec

    @staticmethod
    def _number(params: Mapping[str, Any], name: str) -> Decimal | None:
        text = params.get(name)
        if text is None or text == "":
            return None
        if not isinstance(text, str) or not _NUMBER.match(text):
            raise OperationFailed("51000", f"Parameter {name} error")
        try:
            return Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern guards this
            raise OperationFailed("51000", f"Parameter {name} error") from None

    def _order_json(self, order: Order) -> dict[str, Any]:
        trades = self.engine.order_trades(order.api_key, order.order_id)
        return shapes.order_json(order, self.engine.markets[order.symbol], trades)

    # -- public -----------------------------------------------------------------------------------

    async def time(self, _request: web.Request) -> web.Response:
        return _ok([{"ts": str(self.clock.now_ms())}])

    async def instruments(self, request: web.Request) -> web.Response:
        inst_type = request.query.get("instType")
        if not inst_type:
            raise errors.empty("instType")
        if inst_type != "SPOT":
            return _ok([])
        specs = list(self.by_inst.values())
        if request.query.get("instId"):
            specs = [self._spec(request.query["instId"])]
        return _ok([shapes.instrument(s, LIST_TIME_MS) for s in specs])

    async def books(self, request: web.Request) -> web.Response:
        spec = self._spec(request.query.get("instId"))
        size_text = request.query.get("sz") or "1"
        if not size_text.isdigit() or not 1 <= int(size_text) <= 400:
            raise errors.param("sz")
        bids, asks = self.engine.books[spec.symbol].depth(int(size_text))
        ts = str(self.clock.now_ms())
        levels = {
            "asks": [[shapes.num(p), shapes.num(q), "0", "1"] for p, q in asks],
            "bids": [[shapes.num(p), shapes.num(q), "0", "1"] for p, q in bids],
        }
        return _ok([{**levels, "ts": ts, "seqId": self.engine.books[spec.symbol].update_id}])

    async def ticker(self, request: web.Request) -> web.Response:
        spec = self._spec(request.query.get("instId"))
        book = self.engine.books[spec.symbol]
        bids, asks = book.depth(1)
        bid, ask = (bids[0] if bids else None), (asks[0] if asks else None)
        return _ok([{
            "instType": "SPOT", "instId": shapes.inst_id(spec), "last": shapes.num(book.mid), "lastSz": "0",
            "askPx": shapes.num(ask[0]) if ask else "", "askSz": shapes.num(ask[1]) if ask else "",
            "bidPx": shapes.num(bid[0]) if bid else "", "bidSz": shapes.num(bid[1]) if bid else "",
            "open24h": shapes.num(book.mid), "high24h": shapes.num(book.mid), "low24h": shapes.num(book.mid),
            "volCcy24h": "0", "vol24h": "0", "sodUtc0": shapes.num(book.mid), "sodUtc8": shapes.num(book.mid),
            "ts": str(self.clock.now_ms()),
        }])  # fmt: skip

    # -- account ----------------------------------------------------------------------------------

    async def balance(self, request: web.Request) -> web.Response:
        key, _ = await self._signed(request)
        lines = self.engine.account(key).lines()
        wanted = request.query.get("ccy")
        if wanted:
            names = set(wanted.split(","))
            lines = [b for b in lines if b.asset in names]
        else:
            lines = [b for b in lines if b.free or b.locked]
        now = self.clock.now_ms()
        return _ok([shapes.balance_data([shapes.balance_detail(b, now) for b in lines], now)])

    async def account_config(self, request: web.Request) -> web.Response:
        """``GET /api/v5/account/config``: the account's ``uid`` (and the settings a spot cash account has)."""
        key, _ = await self._signed(request)
        uid = str(zlib.crc32(f"{self.instance}:{key}".encode()))
        return _ok(
            [
                {
                    "uid": uid,
                    "mainUid": uid,
                    "acctLv": "1",
                    "posMode": "net_mode",
                    "autoLoan": False,
                    "greeksType": "PA",
                    "level": "Lv1",
                    "levelTmp": "",
                    "ctIsoMode": "automatic",
                    "mgnIsoMode": "automatic",
                    "spotOffsetType": "",
                    "label": "fillpath-sim",
                    "perm": "read_only,trade",
                }
            ]
        )

    async def trade_fee(self, request: web.Request) -> web.Response:
        await self._signed(request)
        if request.query.get("instType") != "SPOT":
            raise errors.param("instType")
        return _ok([{
            "category": "1", "delivery": "", "exercise": "", "instType": "SPOT", "level": "Lv1",
            "maker": shapes.fee(self.config.maker_fee), "taker": shapes.fee(self.config.taker_fee),
            "makerU": "", "takerU": "", "makerUSDC": "", "takerUSDC": "", "ruleType": "normal",
            "ts": str(self.clock.now_ms()), "fiat": [],
        }])  # fmt: skip

    async def currencies(self, request: web.Request) -> web.Response:
        await self._signed(request)
        assets = sorted({a for m in self.by_inst.values() for a in (m.base, m.quote)})
        return _ok([{
            "ccy": a, "chain": f"{a}-ERC20", "name": a, "canDep": True, "canWd": True, "canInternal": True,
            "minDep": "0.00000001", "minWd": "0.001", "maxWd": "1000000", "wdTickSz": "8", "wdQuota": "10000000",
            "usedWdQuota": "0", "fee": "0", "minFee": "0", "maxFee": "0", "mainNet": True, "needTag": False,
            "minDepArrivalConfirm": "12", "minWdUnlockConfirm": "12", "depQuotaFixed": "",
            "usedDepQuotaFixed": "", "depQuoteDailyLayer2": "", "logoLink": "", "ctAddr": "",
            "burningFeeRate": "", "depEstOpenTime": "", "wdEstOpenTime": "",
        } for a in assets])  # fmt: skip

    # -- orders -----------------------------------------------------------------------------------

    def _new_order(self, p: Mapping[str, Any]) -> tuple[NewOrder, MarketSpec]:
        """OKX's place-order parameters as the engine's request, checked in OKX's order."""
        spec = self.by_inst.get(str(p.get("instId") or ""))
        if spec is None:
            raise OperationFailed("51001", "Instrument ID does not exist.")
        if p.get("tdMode") != "cash":
            raise OperationFailed("51000", "Parameter tdMode error")
        side = p.get("side")
        if side not in ("buy", "sell"):
            raise OperationFailed("51000", "Parameter side error")
        kind = _ORD_TYPES.get(str(p.get("ordType")))
        if kind is None:
            raise OperationFailed("51000", "Parameter ordType error")
        cid = p.get("clOrdId") or None
        if cid is not None and not (isinstance(cid, str) and CLIENT_ID.match(cid)):
            raise OperationFailed("51000", "Parameter clOrdId error")
        size = self._number(p, "sz")
        if size is None or size <= 0:
            raise OperationFailed("51000", "Parameter sz error")
        order_type, tif = kind
        price: Decimal | None = None
        quantity: Decimal | None = size
        quote_qty: Decimal | None = None
        if order_type == "MARKET":
            if p.get("px"):
                raise OperationFailed("51000", "Parameter px error")
            tgt = p.get("tgtCcy") or ("quote_ccy" if side == "buy" else "base_ccy")
            if tgt not in ("base_ccy", "quote_ccy"):
                raise OperationFailed("51000", "Parameter tgtCcy error")
            if tgt == "quote_ccy":
                quantity, quote_qty = None, size
        else:
            price = self._number(p, "px")
            if price is None or price <= 0:
                raise OperationFailed("51000", "Parameter px error")
        if quantity is not None:
            if quantity % spec.step:
                raise OperationFailed("51121", "Order quantity must be a multiple of the lot size.")
            if quantity < spec.min_qty:
                raise OperationFailed("51020", "Your order should meet or exceed the minimum order amount.")
        req = NewOrder(spec.symbol, side.upper(), order_type, tif, price, quantity, quote_qty, cid, "FULL")
        return req, spec

    def _place_one(self, key: str, p: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Place one order: its ``data`` item, and what to record of it once the reply's fate is known (None
        when it is recorded already); or :class:`OperationFailed`, recorded."""
        fields = {
            "symbol": p.get("instId"), "side": p.get("side"), "type": p.get("ordType"),
            "client_order_id": p.get("clOrdId") or None, "quantity": p.get("sz"), "price": p.get("px") or None,
        }  # fmt: skip
        try:
            req, _ = self._new_order(p)
            if self.faults.hit("ack_then_deny"):
                self.engine.check_filters(req)
                order_id = self.engine.allocate_order_id()
                self.record("new", key, "acked_then_denied", order_id=order_id, **fields)
                return self._ack(req.client_order_id, order_id), None
            defer = self.faults.on("delayed_fills")
            order, _fills = self.engine.place(key, req, defer=defer)
        except BinanceError as exc:
            code, msg = errors.from_engine(exc)
            self.record("new", key, "rejected", code=int(code), msg=msg, **fields)
            raise OperationFailed(code, msg) from None
        except OperationFailed as exc:
            self.record("new", key, "rejected", code=int(exc.s_code), msg=exc.s_msg, **fields)
            raise
        if defer:
            delay = self.faults.seconds("delayed_fills", "delay")
            asyncio.get_running_loop().call_later(delay, self.engine.match_deferred, order.order_id)
        fields["order_id"] = order.order_id
        return self._ack(req.client_order_id, order.order_id), fields

    def _ack(self, cid: str | None, order_id: int) -> dict[str, Any]:
        now = str(self.clock.now_ms())
        return {"clOrdId": cid or "", "ordId": str(order_id), "tag": "", "ts": now, "sCode": "0",
                "sMsg": "Order placed"}  # fmt: skip

    @staticmethod
    def _failed(p: Mapping[str, Any], exc: OperationFailed) -> dict[str, Any]:
        return {"clOrdId": p.get("clOrdId") or "", "ordId": "", "tag": "", "ts": "", "sCode": exc.s_code,
                "sMsg": exc.s_msg}  # fmt: skip

    async def _orders(self, request: web.Request, *, batch: bool) -> web.Response:
        key, body = await self._signed(request)
        try:
            parsed = json.loads(body or "null")
        except json.JSONDecodeError:
            raise OkxError("50002", "Json data format error.", 400) from None
        items = parsed if batch and isinstance(parsed, list) else [parsed]
        if not items or not all(isinstance(p, dict) for p in items) or len(items) > 20:
            raise OkxError("50002", "Json data format error.", 400)
        data, placed = [], []
        for p in items:
            try:
                item, fields = self._place_one(key, p)
            except OperationFailed as exc:
                data.append(self._failed(p, exc))
                continue
            if fields is not None:
                placed.append(fields)
            data.append(item)
        ok = [d for d in data if d["sCode"] == "0"]
        if placed and self.faults.hit("drop_response"):
            for fields in placed:
                self.record("new", key, "accepted_response_dropped", **fields)
            return await self.hang(request)
        for fields in placed:
            self.record("new", key, "accepted", **fields)
        if placed and self.config.walk_per_order:
            self.advance(self.config.walk_per_order)
        now = str(self.clock.now_ms())
        if not ok:
            raise errors.all_failed(data)
        code = "0" if len(ok) == len(data) else "2"
        msg = "" if code == "0" else "Batch operation partially succeeded"
        return web.json_response({"code": code, "msg": msg, "data": data, "inTime": now, "outTime": now})

    async def place(self, request: web.Request) -> web.Response:
        return await self._orders(request, batch=False)

    async def place_batch(self, request: web.Request) -> web.Response:
        return await self._orders(request, batch=True)

    def _find(self, key: str, spec: MarketSpec, ord_id: str | None, cl_ord_id: str | None) -> Order:
        if not ord_id and not cl_ord_id:
            raise OkxError("51003", "Either client order ID or order ID is required.")
        if ord_id and not ord_id.isdigit():
            raise errors.order_does_not_exist()
        try:
            return self.engine.find(key, spec.symbol, int(ord_id) if ord_id else None, cl_ord_id or None)
        except BinanceError:
            raise errors.order_does_not_exist() from None

    async def query(self, request: web.Request) -> web.Response:
        key, _ = await self._signed(request)
        q = request.query
        spec = self._spec(q.get("instId"))
        return _ok([self._order_json(self._find(key, spec, q.get("ordId"), q.get("clOrdId")))])

    async def cancel(self, request: web.Request) -> web.Response:
        key, body = await self._signed(request)
        try:
            p = json.loads(body or "null")
        except json.JSONDecodeError:
            raise OkxError("50002", "Json data format error.", 400) from None
        if not isinstance(p, dict):
            raise OkxError("50002", "Json data format error.", 400)
        fields = {"symbol": p.get("instId"), "client_order_id": p.get("clOrdId") or None}
        spec = self._spec(p.get("instId"))
        ord_id, cl_ord_id = p.get("ordId") or None, p.get("clOrdId") or None
        try:
            order = self._find(key, spec, ord_id, cl_ord_id)
        except OkxError as exc:
            if exc.code != "51603":
                raise
            failure = OperationFailed("51400", "Order cancellation failed as the order has been filled, canceled or "
                                      "does not exist.")  # fmt: skip
            self.record("cancel", key, "rejected", code=51400, msg=failure.s_msg, **fields)
            raise errors.all_failed([self._failed(p, failure) | {"ordId": ord_id or ""}]) from None
        if not order.is_open:
            failure = (
                OperationFailed("51402", "Order cancellation failed as the order has been completed.")
                if order.status == "FILLED"
                else OperationFailed("51401", "Order cancellation failed as the order has been canceled.")
            )
            self.record("cancel", key, "rejected", code=int(failure.s_code), msg=failure.s_msg, **fields)
            raise errors.all_failed([self._failed(p, failure) | {"ordId": str(order.order_id)}])
        self.engine.cancel(key, spec.symbol, order.order_id, None)
        self.record("cancel", key, "accepted", order_id=order.order_id, **fields)
        return _ok([{"clOrdId": cl_ord_id or "", "ordId": str(order.order_id), "ts": str(self.clock.now_ms()),
                     "sCode": "0", "sMsg": ""}])  # fmt: skip

    def _listed(self, request: web.Request, orders: list[Order]) -> web.Response:
        q = request.query
        if q.get("ordType"):
            orders = [o for o in orders if shapes.ord_type(o) == q["ordType"]]
        orders = sorted(orders, key=lambda o: o.order_id, reverse=True)  # newest first
        if q.get("after", "").isdigit():
            orders = [o for o in orders if o.order_id < int(q["after"])]
        if q.get("before", "").isdigit():
            orders = [o for o in orders if o.order_id > int(q["before"])]
        limit = int(q["limit"]) if q.get("limit", "").isdigit() else _PAGE
        return _ok([self._order_json(o) for o in orders[: min(limit, _PAGE)]])

    async def pending(self, request: web.Request) -> web.Response:
        key, _ = await self._signed(request)
        q = request.query
        if q.get("instType") not in (None, "", "SPOT"):
            return _ok([])
        symbol = self._spec(q["instId"]).symbol if q.get("instId") else None
        return self._listed(request, self.engine.open_orders(key, symbol))

    async def history(self, request: web.Request) -> web.Response:
        key, _ = await self._signed(request)
        q = request.query
        if not q.get("instType"):
            raise errors.empty("instType")
        specs = [self._spec(q["instId"])] if q.get("instId") else list(self.by_inst.values())
        done = [o for s in specs for o in self.engine.all_orders(key, s.symbol) if not o.is_open]
        if q.get("state"):
            done = [o for o in done if shapes.STATES[o.status] == q["state"]]
        return self._listed(request, done)

    async def _fill_list(self, request: web.Request, *, history: bool) -> web.Response:
        key, _ = await self._signed(request)
        q = request.query
        if history and not q.get("instType"):
            raise errors.empty("instType")
        if q.get("instType") not in (None, "", "SPOT"):
            return _ok([])
        specs = [self._spec(q["instId"])] if q.get("instId") else list(self.by_inst.values())
        trades: list[tuple[Trade, MarketSpec]] = [(t, s) for s in specs for t in self.engine.my_trades(key, s.symbol)]
        if q.get("ordId"):
            trades = [(t, s) for t, s in trades if str(t.order_id) == q["ordId"]]
        bounds: dict[str, Callable[[Trade, int], bool]] = {
            "begin": lambda t, v: t.time >= v, "end": lambda t, v: t.time <= v,
            "after": lambda t, v: t.id < v, "before": lambda t, v: t.id > v,
        }  # fmt: skip
        for name, keep in bounds.items():
            text = q.get(name, "")
            if text:
                if not text.isdigit():
                    raise errors.param(name)
                trades = [(t, s) for t, s in trades if keep(t, int(text))]
        trades.sort(key=lambda ts: ts[0].id, reverse=True)  # newest first
        limit = int(q["limit"]) if q.get("limit", "").isdigit() else _PAGE
        out = []
        for t, s in trades[: min(limit, _PAGE)]:
            out.append(shapes.fill_json(t, s, self.engine.orders[t.order_id].client_order_id))
        return _ok(out)

    async def fills(self, request: web.Request) -> web.Response:
        return await self._fill_list(request, history=False)

    async def fills_history(self, request: web.Request) -> web.Response:
        return await self._fill_list(request, history=True)
