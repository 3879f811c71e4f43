"""OKX v5's WebSockets: ``/ws/v5/private`` (login, then the ``orders`` and ``account`` channels) and a
``/ws/v5/public`` that answers pings and refuses channels it does not carry.

Protocol as ccxt.pro 4.5.90 speaks it: the text ``ping`` is answered ``pong``; ``{"op": "login", "args": [{apiKey,
passphrase, timestamp, sign}]}`` → ``{"event": "login", "code": "0"}``; ``{"op": "subscribe", "args": [{"channel":
"orders", "instType": "SPOT"|"ANY", "instId"?}]}`` → ``{"event": "subscribe", "arg": ...}``, then pushes
``{"arg": ..., "data": [...]}``. The ``account`` channel starts with a snapshot of every non-zero balance, then
sends the currencies each engine step changed. Refusals are ``{"event": "error", "code": "60xxx", "msg": ...}``.
"""

from __future__ import annotations

import json
import secrets
import zlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from fillpath.lab.exchange.engine import Engine
from fillpath.lab.exchange.faults import Faults, VenueClock
from fillpath.lab.exchange.okx import auth, shapes
from fillpath.lab.exchange.okx.errors import OkxError
from fillpath.lab.exchange.orders import BalanceUpdate, OrderUpdate, UserEvent
from fillpath.lab.exchange.streams import Connection

_PRIVATE_CHANNELS = frozenset({"orders", "account"})


def uid(api_key: str) -> str:
    return str(zlib.crc32(api_key.encode()))


class OkxConnection(Connection):
    """One WebSocket: ``kind`` is "private" or "public"; ``args`` holds each subscribed channel's argument."""

    def __init__(self, ws: web.WebSocketResponse, kind: str) -> None:
        super().__init__(ws, kind)
        self.args: dict[str, dict[str, str]] = {}
        self.conn_id = secrets.token_hex(4)

    def error(self, exc: OkxError) -> dict[str, Any]:
        return {"event": "error", "code": exc.code, "msg": exc.msg, "connId": self.conn_id}


class OkxHub:
    """Routes the engine's user events to the logged-in private connections of their key, in OKX's shapes."""

    def __init__(self, engine: Engine, faults: Faults, clock: VenueClock) -> None:
        self.engine = engine
        self.faults = faults
        self.clock = clock
        self.connections: set[OkxConnection] = set()
        self.opened = 0
        self.dropped = 0

    def user_streams(self, api_key: str) -> int:
        """Private channels this key has subscribed, over all its connections."""
        return sum(len(c.args) for c in self.connections if c.api_key == api_key)

    def disconnect_all(self) -> int:
        conns = list(self.connections)
        self.dropped += len(conns)
        for conn in conns:
            conn.close_soon()
        return len(conns)

    # -- pushes -----------------------------------------------------------------------------------

    def publish_user(self, api_key: str, event: UserEvent) -> None:
        targets = [c for c in self.connections if c.api_key == api_key and c.args]
        if not targets:
            return
        if isinstance(event, OrderUpdate):
            self._order(api_key, event, targets)
        else:
            self._balances(api_key, event, targets)

    def _order(self, api_key: str, event: OrderUpdate, targets: list[OkxConnection]) -> None:
        order = event.order
        spec = self.engine.markets[order.symbol]
        trades = self.engine.order_trades(api_key, order.order_id)
        data = shapes.order_push(order, spec, trades, event.trade, event.time)
        times = 2 if event.trade is not None and self.faults.hit("duplicate_fill") else 1
        for conn in targets:
            arg = conn.args.get("orders")
            if arg is None or arg.get("instType", "ANY") not in ("ANY", "SPOT"):
                continue
            if arg.get("instId") not in (None, "", data["instId"]):
                continue
            for _ in range(times):
                conn.send({"arg": {**arg, "uid": uid(api_key)}, "data": [data]})

    def _balances(self, api_key: str, event: BalanceUpdate, targets: list[OkxConnection]) -> None:
        offset = Decimal(0)
        window = self.faults.seconds("ws_rest_disagree", "window")
        if self.faults.on("ws_rest_disagree") and self.faults.active_for("ws_rest_disagree") < window:
            offset = self.faults.param("ws_rest_disagree", "offset")
        details = [shapes.balance_detail(line, event.time, offset) for line in event.lines]
        for conn in targets:
            if "account" in conn.args:
                conn.send(self._account_push(api_key, details, event.time, "event_update"))

    @staticmethod
    def _account_push(api_key: str, details: list[dict[str, Any]], time: int, kind: str) -> dict[str, Any]:
        return {
            "arg": {"channel": "account", "uid": uid(api_key)},
            "eventType": kind,
            "curPage": 1,
            "lastPage": True,
            "data": [shapes.balance_data(details, time)],
        }

    # -- requests ---------------------------------------------------------------------------------

    def on_message(self, conn: OkxConnection, message: dict[str, Any]) -> dict[str, Any] | None:
        op = message.get("op")
        args = message.get("args")
        try:
            if not isinstance(args, list) or not all(isinstance(a, dict) for a in args):
                raise OkxError("60012", f"Illegal request: {json.dumps(message)}")
            if op == "login":
                return self._login(conn, args)
            if op == "subscribe":
                return self._subscribe(conn, args)
            if op == "unsubscribe":
                for arg in args:
                    conn.args.pop(str(arg.get("channel")), None)
                return {"event": "unsubscribe", "arg": args[0] if args else {}, "connId": conn.conn_id}
            raise OkxError("60019", f"Invalid op: {op}")
        except OkxError as exc:
            return conn.error(exc)

    def _login(self, conn: OkxConnection, args: list[dict[str, Any]]) -> dict[str, Any]:
        if conn.kind != "private":
            raise OkxError("60008", "The public channel does not support login.")
        if len(args) != 1:
            raise OkxError("60013", "Invalid args")
        conn.api_key = auth.verify_login(args[0], self.engine.accounts, self.clock.now_ms())
        return {"event": "login", "code": "0", "msg": "", "connId": conn.conn_id}

    def _subscribe(self, conn: OkxConnection, args: list[dict[str, Any]]) -> dict[str, Any] | None:
        for arg in args:
            channel = str(arg.get("channel") or "")
            if conn.kind != "private" or channel not in _PRIVATE_CHANNELS:
                raise OkxError("60018", f"The channel {channel} doesn't exist")
            if conn.api_key is None:
                raise OkxError("60011", "Please log in")
        for arg in args:
            channel = str(arg["channel"])
            conn.args[channel] = {str(k): str(v) for k, v in arg.items()}
            conn.send({"event": "subscribe", "arg": arg, "connId": conn.conn_id})
            if channel == "account" and conn.api_key is not None:
                lines = [b for b in self.engine.account(conn.api_key).lines() if b.free or b.locked]
                now = self.clock.now_ms()
                details = [shapes.balance_detail(line, now) for line in lines]
                conn.send(self._account_push(conn.api_key, details, now, "snapshot"))
        return None


def add_okx_stream_routes(router: web.UrlDispatcher, hub: OkxHub) -> None:
    def endpoint(kind: str) -> Callable[[web.Request], Any]:
        async def serve(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse(heartbeat=None, autoping=True)
            await ws.prepare(request)
            conn = OkxConnection(ws, kind)
            hub.connections.add(conn)
            hub.opened += 1
            try:
                async for msg in ws:
                    if msg.type != WSMsgType.TEXT:
                        if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                            break
                        continue
                    if msg.data == "ping":
                        conn.send_text("pong")
                        continue
                    try:
                        message = json.loads(msg.data)
                    except json.JSONDecodeError:
                        message = None
                    if not isinstance(message, dict):
                        conn.send(conn.error(OkxError("60012", f"Illegal request: {msg.data[:200]}")))
                        continue
                    reply = hub.on_message(conn, message)
                    if reply is not None:
                        conn.send(reply)
            finally:
                hub.connections.discard(conn)
                await conn.finish()
            return ws

        return serve

    router.add_get("/ws/v5/private", endpoint("private"))
    router.add_get("/ws/v5/public", endpoint("public"))
