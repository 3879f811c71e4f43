"""The WebSocket endpoints: market streams (``/ws``, ``/ws/<stream>``, ``/stream?streams=``), listenKey
user streams (``/ws/<listenKey>``) and the WebSocket API (``/ws-api/v3``), where ccxt.pro 4.5.90 subscribes to
the spot user data stream with ``userDataStream.subscribe.signature``; and the faults applied to user events.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from aiohttp import web

from fillpath.lab.exchange import auth, errors
from fillpath.lab.exchange.engine import Engine
from fillpath.lab.exchange.errors import BinanceError
from fillpath.lab.exchange.faults import Faults, VenueClock
from fillpath.lab.exchange.orders import fmt
from fillpath.lab.exchange.streams import Connection, StreamHub, handle_market_message, pump, stream_base


class StreamVenue(Protocol):
    """What the stream endpoints reach of the venue (``venue.SimVenue``), named here so the two do not import
    each other."""

    engine: Engine
    clock: VenueClock
    hub: StreamHub
    listen_keys: dict[str, str]


def add_stream_routes(router: web.UrlDispatcher, venue: StreamVenue) -> None:
    async def serve(
        request: web.Request,
        conn_factory: Callable[[web.WebSocketResponse], Connection],
        on_message: Callable[[Connection, dict[str, Any]], dict[str, Any] | None],
    ) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None, autoping=True)
        await ws.prepare(request)
        conn = conn_factory(ws)
        venue.hub.connections.add(conn)
        venue.hub.opened += 1
        try:
            await pump(conn, lambda message: on_message(conn, message))
        finally:
            venue.hub.connections.discard(conn)
            await conn.finish()
        return ws

    async def ws_market(request: web.Request) -> web.WebSocketResponse:
        name = request.match_info.get("name", "")
        user_key = venue.listen_keys.get(name)

        def make(ws: web.WebSocketResponse) -> Connection:
            if user_key is not None:
                conn = Connection(ws, "user")
                conn.api_key = user_key
                return conn
            conn = Connection(ws, "market")
            if "@" in name:
                conn.streams.add(stream_base(name))
            return conn

        return await serve(request, make, handle_market_message)

    async def ws_combined(request: web.Request) -> web.WebSocketResponse:
        names = [n for n in request.query.get("streams", "").split("/") if n]

        def make(ws: web.WebSocketResponse) -> Connection:
            conn = Connection(ws, "market", combined=True)
            conn.streams.update(stream_base(n) for n in names)
            return conn

        return await serve(request, make, handle_market_message)

    async def ws_api(request: web.Request) -> web.WebSocketResponse:
        return await serve(request, lambda ws: Connection(ws, "api"), api_message)

    def api_message(conn: Connection, message: dict[str, Any]) -> dict[str, Any]:
        request_id = message.get("id")
        method = message.get("method")
        raw_params = message.get("params") or {}
        params = {str(k): str(v) for k, v in raw_params.items()} if isinstance(raw_params, dict) else {}
        try:
            if method == "ping":
                return {"id": request_id, "status": 200, "result": {}}
            if method == "time":
                return {"id": request_id, "status": 200, "result": {"serverTime": venue.clock.now_ms()}}
            if method == "userDataStream.subscribe.signature":
                api_key = params.get("apiKey", "")
                account = venue.engine.accounts.get(api_key)
                if account is None:
                    raise errors.invalid_api_key()
                auth.verify_ws_params(params, account.secret)
                auth.check_timestamp(params, venue.clock.now_ms())
                conn.api_key = api_key
                conn.subscription_id = venue.hub.next_subscription_id()
                return {"id": request_id, "status": 200, "result": {"subscriptionId": conn.subscription_id}}
            if method == "userDataStream.unsubscribe":
                conn.api_key = None
                return {"id": request_id, "status": 200, "result": {}}
            raise BinanceError(-1100, f"Unknown method {method!r}.")
        except BinanceError as exc:
            return {"id": request_id, "status": exc.status, "error": exc.body()}

    router.add_get("/ws", ws_market)
    router.add_get("/ws/{name}", ws_market)
    router.add_get("/stream", ws_combined)
    router.add_get("/ws-api/v3", ws_api)


def stream_faults(faults: Faults, _api_key: str, event: dict[str, Any]) -> list[dict[str, Any]]:
    """What ``ws_rest_disagree`` and ``duplicate_fill`` do to one user event on its way out."""
    kind = event.get("e")
    disagree = faults.on("ws_rest_disagree") and faults.active_for("ws_rest_disagree") < faults.seconds(
        "ws_rest_disagree", "window"
    )
    if kind == "outboundAccountPosition" and disagree:
        offset = faults.param("ws_rest_disagree", "offset")
        event = {**event, "B": [{**b, "f": fmt(Decimal(b["f"]) + offset)} for b in event["B"]]}
    if kind == "executionReport" and event.get("x") == "TRADE" and faults.hit("duplicate_fill"):
        return [event, event]
    return [event]
