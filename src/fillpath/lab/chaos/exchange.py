"""The exchange simulator's matching engine in-process, behind the raw ccxt ``binance`` methods the connector calls.

``CcxtConnector`` talks to ccxt's implicit Binance endpoints through the Binance dialect (``private_post_order``
…); this object answers the same methods with the same JSON the simulator's HTTP surface serves
(``lab/exchange/venue.py``: the replies are built by the same functions), and raises the exceptions ccxt raises
for the venue's errors. No HTTP, no threads: every call is one step of the venue at the world's virtual time, and
the faults of the scenario (``faults.py``) are injected here — lost requests and replies, 5xx, 429, 418, delayed
matches, acknowledgements later denied, duplicated trades, stale reads, a skewed clock.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ccxt

from fillpath.lab.chaos.clock import VirtualClock
from fillpath.lab.chaos.faults import Fault, FaultPlan
from fillpath.lab.exchange import market_data
from fillpath.lab.exchange.config import DEFAULT_API_KEY, MarketSpec, SimConfig
from fillpath.lab.exchange.engine import Engine
from fillpath.lab.exchange.errors import BinanceError
from fillpath.lab.exchange.okx import errors as okx_errors
from fillpath.lab.exchange.okx import shapes as okx_shapes
from fillpath.lab.exchange.okx import venue as okx_venue
from fillpath.lab.exchange.orders import Order, Trade, fmt, new_order_json, order_json, trade_json
from fillpath.lab.exchange.params import NewOrder, parse_new_order

Timeline = Callable[[str], None]


def _ccxt_error(exc: BinanceError) -> ccxt.BaseError:
    """The exception ccxt's binance raises for this error reply."""
    message = f"binance {json.dumps(exc.body(), separators=(',', ':'))}"
    if exc.code in (-2013, -2011):
        return ccxt.OrderNotFound(message)
    if exc.code == -2010 and "insufficient" in exc.msg:
        return ccxt.InsufficientFunds(message)
    return ccxt.InvalidOrder(message)


class InProcessVenue:
    """One account (``api_key``) on the in-process matching engine, with the scenario's faults; a subclass speaks
    one dialect's raw ccxt methods."""

    dialect = ""

    def __init__(
        self,
        config: SimConfig,
        clock: VirtualClock,
        faults: FaultPlan,
        timeline: Timeline,
        *,
        location: str,
        crash: Callable[[str], None] = lambda _point: None,
    ) -> None:
        self.clock = clock
        self.crash = crash
        self.faults = faults
        self.timeline = timeline
        self.location = location
        self.engine = Engine(config, self.now_ms)
        self.config = config
        self.apiKey = DEFAULT_API_KEY
        self.enableRateLimit = False
        self.enableLastResponseHeaders = True
        self.last_response_headers: dict[str, str] = {}
        self.markets = {f"{m.base}/{m.quote}": self.ccxt_market(m) for m in config.markets}
        self.banned_until_ms = 0
        self.placed: list[tuple[str, int]] = []
        """Every order the venue accepted: (client order id, venue order id), in order."""
        self._stale: dict[int, Order] = {}
        self._stale_json: dict[int, dict[str, Any]] = {}

    # --- plumbing --------------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """The venue's clock: ours, plus the scenario's skew."""
        return self.clock.now_ms() + self.faults.skew_ms

    async def _enter(self, what: str, *, order: bool = False) -> None:
        """One request reaching the venue: latency, then the faults every request can meet."""
        if self.faults.hit(Fault.LATENCY):
            await asyncio.sleep(self.faults.rng.uniform(0.001, 0.4))
        else:
            await asyncio.sleep(0)
        if self.banned_until_ms > self.now_ms():
            raise self.banned()
        if self.faults.hit(Fault.BAN):
            self.banned_until_ms = self.now_ms() + 30_000
            self.timeline(f"venue {self.location}: banned for 30 s ({what})")
            raise self.banned()
        if self.faults.hit(Fault.RATE_LIMIT):
            self.timeline(f"venue {self.location}: 429 ({what})")
            raise self.throttled()
        self.last_response_headers = {}
        if not order and self.faults.hit(Fault.SERVER_ERROR):
            self.timeline(f"venue {self.location}: 503 ({what})")
            raise ccxt.ExchangeNotAvailable(f"{self.dialect} 503 Service Unavailable")

    # --- the dialect's spellings ------------------------------------------------------------------------

    def ccxt_market(self, spec: MarketSpec) -> dict[str, Any]:
        raise NotImplementedError

    def banned(self) -> ccxt.BaseError:
        raise NotImplementedError

    def throttled(self) -> ccxt.BaseError:
        raise NotImplementedError

    def refused(self, exc: BinanceError) -> ccxt.BaseError:
        """The exception ccxt raises for the engine's refusal (its codes are Binance's), in this dialect."""
        raise NotImplementedError

    # --- placing, with the faults an order request can meet ------------------------------------------------

    async def place(self, req: NewOrder, cid: str) -> tuple[Order | None, list[Trade], int]:
        """The order placed (None: acknowledged as the returned id, never placed), its fills at once."""
        await self._enter("new order", order=True)
        if self.faults.hit(Fault.SUBMIT_LOST):
            self.timeline(f"venue {self.location}: order {cid} lost on the way (never placed)")
            raise ccxt.RequestTimeout(f"{self.dialect} POST order timed out")
        try:
            if self.faults.hit(Fault.ACK_THEN_DENY):
                self.engine.check_filters(req)
                oid = self.engine.allocate_order_id()
                self.timeline(f"venue {self.location}: order {cid} acknowledged as {oid}, never placed")
                return None, [], oid
            defer = self.faults.hit(Fault.DELAYED_FILLS)
            order, fills = self.engine.place(self.apiKey, req, defer=defer)
        except BinanceError as exc:
            self.timeline(f"venue {self.location}: order {cid} refused: {exc.code} {exc.msg}")
            raise self.refused(exc) from None
        self.placed.append((order.client_order_id, order.order_id))
        if defer:
            delay = self.faults.rng.uniform(0.1, 12.0)
            self._stale[order.order_id] = order
            self._stale_json[order.order_id] = self.order_json(order)
            asyncio.get_running_loop().call_later(delay, self._match, order.order_id)
            self.timeline(f"venue {self.location}: order {cid} open as {order.order_id}, matched in {delay:.2f} s")
        else:
            self.timeline(f"venue {self.location}: order {cid} placed as {order.order_id}: {order.status}, "
                          f"filled {fmt(order.executed_qty)}")  # fmt: skip
        return order, fills, order.order_id

    def after_placed(self, cid: str) -> None:
        """The reply is on its way: the process may die now, or the reply be lost."""
        self.crash("sent")
        if self.faults.hit(Fault.REPLY_LOST):
            self.timeline(f"venue {self.location}: the reply for {cid} is lost")
            raise ccxt.RequestTimeout(f"{self.dialect} POST order timed out")

    def order_json(self, order: Order) -> dict[str, Any]:
        raise NotImplementedError

    def _match(self, order_id: int) -> None:
        fills = self.engine.match_deferred(order_id)
        order = self.engine.orders[order_id]
        self.timeline(f"venue {self.location}: order {order.client_order_id} matched late: {order.status}, "
                      f"{len(fills)} fill(s)")  # fmt: skip

    def queried(self, order: Order) -> dict[str, Any]:
        """An order as a query sees it: maybe as it was before its late match (``stale_read``)."""
        stale = self._stale_json.get(order.order_id)
        if stale is not None and self.faults.hit(Fault.STALE_READ):
            return copy.deepcopy(stale)
        return self.order_json(order)

    async def close(self) -> None:
        return None

    # --- what the world reads (not a venue API) ---------------------------------------------------------

    def holdings(self) -> dict[str, Decimal]:
        """Free plus locked per asset: what the account owns at the venue."""
        return {b.asset: b.free + b.locked for b in self.engine.account(self.apiKey).lines()}

    def orders_by_client(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for cid, oid in self.placed:
            out.setdefault(cid, []).append(oid)
        return out

    def open_order_ids(self) -> list[int]:
        return [o.order_id for o in self.engine.open_orders(self.apiKey, None)]


class InProcessBinance(InProcessVenue):
    """Shaped like ``ccxt.async_support.binance`` (the raw ``api/v3`` methods the Binance dialect calls)."""

    dialect = "binance"

    def ccxt_market(self, spec: MarketSpec) -> dict[str, Any]:
        return {"symbol": f"{spec.base}/{spec.quote}", "spot": True, "info": market_data.symbol_info(spec)}

    def banned(self) -> ccxt.BaseError:
        return ccxt.DDoSProtection(f"binance 418 IP banned until {self.banned_until_ms}")

    def throttled(self) -> ccxt.BaseError:
        self.last_response_headers = {"Retry-After": "1"}
        return ccxt.RateLimitExceeded('binance 429 {"code":-1003,"msg":"Too many requests."}')

    def refused(self, exc: BinanceError) -> ccxt.BaseError:
        return _ccxt_error(exc)

    def order_json(self, order: Order) -> dict[str, Any]:
        return order_json(order)

    # --- public ----------------------------------------------------------------------------------------

    async def load_markets(self) -> dict[str, Any]:
        return copy.deepcopy(self.markets)

    async def public_get_exchangeinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("exchangeInfo")
        return market_data.exchange_info(list(self.engine.markets.values()), self.now_ms())

    async def public_get_time(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("time")
        return {"serverTime": self.now_ms()}

    async def public_get_depth(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("depth")
        book = self.engine.books[self.engine.market(str(params["symbol"])).symbol]
        return market_data.depth(book, int(params.get("limit", 100)))

    # --- account and orders -------------------------------------------------------------------------------

    async def private_get_account(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("account")
        account = self.engine.account(self.apiKey)
        fee = fmt(self.config.taker_fee)
        return {
            "commissionRates": {"maker": fmt(self.config.maker_fee), "taker": fee, "buyer": "0", "seller": "0"},
            "updateTime": self.now_ms(),
            "accountType": "SPOT",
            "balances": [{"asset": b.asset, "free": fmt(b.free), "locked": fmt(b.locked)} for b in account.lines()],
        }

    async def private_post_order(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = str(params.get("newClientOrderId"))
        req = parse_new_order({k: str(v) for k, v in params.items()})
        order, fills, oid = await self.place(req, cid)
        if order is None:  # acknowledged, never placed
            return {"symbol": req.symbol, "orderId": oid, "orderListId": -1, "clientOrderId": cid,
                    "transactTime": self.now_ms(), "price": params.get("price", "0"),
                    "origQty": params.get("quantity", "0"), "executedQty": "0", "cummulativeQuoteQty": "0",
                    "status": "NEW", "timeInForce": params.get("timeInForce", "GTC"), "type": params.get("type"),
                    "side": params.get("side"), "fills": []}  # fmt: skip
        reply = new_order_json(order, fills, req.resp_type, order.time)
        self.after_placed(cid)
        return reply

    def _find(self, params: dict[str, Any]) -> Any:
        oid = params.get("orderId")
        cid = params.get("origClientOrderId")
        try:
            return self.engine.find(self.apiKey, str(params["symbol"]), int(oid) if oid is not None else None,
                                    str(cid) if cid is not None else None)  # fmt: skip
        except BinanceError as exc:
            raise _ccxt_error(exc) from None

    async def private_get_order(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("query order")
        return self.queried(self._find(params))

    async def private_delete_order(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("cancel")
        try:
            order = self.engine.cancel(self.apiKey, str(params["symbol"]), None, str(params["origClientOrderId"]))
        except BinanceError as exc:
            raise _ccxt_error(exc) from None
        body = order_json(order)
        return {"symbol": order.symbol, "origClientOrderId": order.client_order_id, "orderId": order.order_id,
                "orderListId": -1, "clientOrderId": f"cancel{order.order_id}", "transactTime": order.update_time,
                **{k: body[k] for k in ("price", "origQty", "executedQty", "cummulativeQuoteQty", "status",
                                        "timeInForce", "type", "side", "origQuoteOrderQty")}}  # fmt: skip

    async def private_get_mytrades(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        await self._enter("myTrades")
        trades = self.engine.my_trades(self.apiKey, str(params["symbol"]))
        if params.get("orderId") is not None:
            trades = [t for t in trades if t.order_id == int(params["orderId"])]
        if params.get("fromId") is not None:
            trades = [t for t in trades if t.id >= int(params["fromId"])]
        if params.get("startTime") is not None:
            trades = [t for t in trades if t.time >= int(params["startTime"])]
        limit = int(params.get("limit") or 500)
        trades = trades[:limit] if params.get("fromId") is not None else trades[-limit:]
        rows = [trade_json(t) for t in trades]
        if rows and self.faults.hit(Fault.DUPLICATE_TRADES):
            rows = [r for row in rows for r in (row, copy.deepcopy(row))]
        return rows

    async def private_get_openorders(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        await self._enter("openOrders")
        return [order_json(o) for o in self.engine.open_orders(self.apiKey, params.get("symbol") or None)]


def _okx_error(code: str, msg: str, data: list[dict[str, Any]] | None = None) -> str:
    body: dict[str, Any] = {"code": code, "msg": msg}
    if data is not None:
        body["data"] = data
    return f"okx {json.dumps(body, separators=(',', ':'))}"


class InProcessOkx(InProcessVenue):
    """Shaped like ``ccxt.async_support.okx`` (the raw ``api/v5`` methods the OKX dialect calls): placement and
    cancel replies only acknowledge (the dialect's ``ACK_ONLY``), throttling is 50011 with no Retry-After and there
    is no ban (a ban fault is a long throttle)."""

    dialect = "okx"

    def __init__(self, config: SimConfig, *args: Any, **kw: Any) -> None:
        # OKX spot publishes no minimum notional (only ``minSz``): the engine checks none either (as lab/exchange/okx)
        config = dataclasses.replace(
            config, markets=tuple(dataclasses.replace(m, min_notional=Decimal(0)) for m in config.markets)
        )
        super().__init__(config, *args, **kw)
        self.by_inst = {okx_shapes.inst_id(m): m for m in config.markets}

    def ccxt_market(self, spec: MarketSpec) -> dict[str, Any]:
        return {"symbol": f"{spec.base}/{spec.quote}", "spot": True,
                "info": okx_shapes.instrument(spec, okx_venue.LIST_TIME_MS)}  # fmt: skip

    def banned(self) -> ccxt.BaseError:
        return ccxt.RateLimitExceeded(_okx_error("50011", "Too Many Requests"))

    def throttled(self) -> ccxt.BaseError:
        return ccxt.RateLimitExceeded(_okx_error("50011", "Too Many Requests"))

    def refused(self, exc: BinanceError) -> ccxt.BaseError:
        code, msg = okx_errors.from_engine(exc)
        message = _okx_error("1", "All operations failed", [{"sCode": code, "sMsg": msg}])
        if code == "51603":
            return ccxt.OrderNotFound(message)
        if code == "51008":
            return ccxt.InsufficientFunds(message)
        return ccxt.InvalidOrder(message)

    def order_json(self, order: Order) -> dict[str, Any]:
        trades = self.engine.order_trades(order.api_key, order.order_id)
        return okx_shapes.order_json(order, self.engine.markets[order.symbol], trades)

    def _spec(self, inst_id: Any) -> MarketSpec:
        spec = self.by_inst.get(str(inst_id))
        if spec is None:
            raise ccxt.BadRequest(_okx_error("51001", "Instrument ID does not exist."))
        return spec

    def _ok(self, data: list[dict[str, Any]]) -> dict[str, Any]:
        return {"code": "0", "msg": "", "data": data}

    # --- public ----------------------------------------------------------------------------------------

    async def load_markets(self) -> dict[str, Any]:
        return copy.deepcopy(self.markets)

    async def public_get_public_instruments(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("instruments")
        return self._ok([okx_shapes.instrument(s, okx_venue.LIST_TIME_MS) for s in self.by_inst.values()])

    async def public_get_public_time(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("time")
        return self._ok([{"ts": str(self.now_ms())}])

    async def public_get_market_books(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("books")
        spec = self._spec(params.get("instId"))
        bids, asks = self.engine.books[spec.symbol].depth(int(params.get("sz") or 1))
        levels = {
            "asks": [[okx_shapes.num(p), okx_shapes.num(q), "0", "1"] for p, q in asks],
            "bids": [[okx_shapes.num(p), okx_shapes.num(q), "0", "1"] for p, q in bids],
        }
        return self._ok([{**levels, "ts": str(self.now_ms())}])

    # --- account and orders -------------------------------------------------------------------------------

    async def private_get_account_balance(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("balance")
        now = self.now_ms()
        lines = [b for b in self.engine.account(self.apiKey).lines() if b.free or b.locked]
        return self._ok([okx_shapes.balance_data([okx_shapes.balance_detail(b, now) for b in lines], now)])

    async def private_get_account_trade_fee(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("trade fee")
        return self._ok([{"instType": "SPOT", "maker": okx_shapes.fee(self.config.maker_fee),
                          "taker": okx_shapes.fee(self.config.taker_fee), "ts": str(self.now_ms())}])  # fmt: skip

    async def private_post_trade_order(self, params: dict[str, Any]) -> dict[str, Any]:
        spec = self._spec(params.get("instId"))
        cid = str(params.get("clOrdId") or "")
        kind = {"ioc": ("LIMIT", "IOC"), "limit": ("LIMIT", "GTC"), "fok": ("LIMIT", "FOK")}[str(params["ordType"])]
        req = NewOrder(spec.symbol, str(params["side"]).upper(), kind[0], kind[1], Decimal(str(params["px"])),
                       Decimal(str(params["sz"])), None, cid or None, "FULL")  # fmt: skip
        _, _, oid = await self.place(req, cid)
        reply = self._ok([{"clOrdId": cid, "ordId": str(oid), "tag": "", "ts": str(self.now_ms()), "sCode": "0",
                           "sMsg": "Order placed"}])  # fmt: skip
        self.after_placed(cid)
        return reply

    def _find(self, params: dict[str, Any]) -> Order:
        spec = self._spec(params.get("instId"))
        oid, cid = params.get("ordId"), params.get("clOrdId")
        try:
            return self.engine.find(self.apiKey, spec.symbol, int(oid) if oid else None, str(cid) if cid else None)
        except BinanceError:
            raise ccxt.OrderNotFound(_okx_error("51603", "Order does not exist")) from None

    async def private_get_trade_order(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("query order")
        return self._ok([self.queried(self._find(params))])

    async def private_post_trade_cancel_order(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("cancel")
        order = self._find(params)
        if not order.is_open:
            failure = {"clOrdId": str(params.get("clOrdId") or ""), "ordId": str(order.order_id), "sCode": "51402",
                       "sMsg": "Order cancellation failed as the order has been completed."}  # fmt: skip
            raise ccxt.InvalidOrder(_okx_error("1", "All operations failed", [failure]))
        self.engine.cancel(self.apiKey, order.symbol, order.order_id, None)
        return self._ok([{"clOrdId": order.client_order_id, "ordId": str(order.order_id), "ts": str(self.now_ms()),
                          "sCode": "0", "sMsg": ""}])  # fmt: skip

    def _fills(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        specs = [self._spec(params["instId"])] if params.get("instId") else list(self.by_inst.values())
        trades = [(t, s) for s in specs for t in self.engine.my_trades(self.apiKey, s.symbol)]
        if params.get("ordId"):
            trades = [(t, s) for t, s in trades if str(t.order_id) == str(params["ordId"])]
        if params.get("begin"):
            trades = [(t, s) for t, s in trades if t.time >= int(params["begin"])]
        if params.get("after"):
            trades = [(t, s) for t, s in trades if t.id < int(params["after"])]
        trades.sort(key=lambda ts: ts[0].id, reverse=True)  # newest first
        limit = int(params.get("limit") or 100)
        rows = [okx_shapes.fill_json(t, s, self.engine.orders[t.order_id].client_order_id) for t, s in trades[:limit]]
        if rows and self.faults.hit(Fault.DUPLICATE_TRADES):
            rows = [r for row in rows for r in (row, copy.deepcopy(row))]
        return rows

    async def private_get_trade_fills(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("fills")
        return self._ok(self._fills(params))

    async def private_get_trade_fills_history(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("fills history")
        return self._ok(self._fills(params))

    async def private_get_trade_orders_pending(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._enter("orders pending")
        orders = sorted(self.engine.open_orders(self.apiKey, None), key=lambda o: o.order_id, reverse=True)
        return self._ok([self.order_json(o) for o in orders])


VENUES: dict[str, type[InProcessVenue]] = {"binance": InProcessBinance, "okx": InProcessOkx}
"""The dialects the world speaks, by the connector's dialect name."""
