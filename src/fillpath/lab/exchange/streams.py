"""WebSocket connections and the hub that routes engine events to them (the endpoints are in ws_endpoints).

Each connection has its own outgoing queue and writer task, so the engine never waits on a socket and every
connection sees events in the order the engine produced them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from fillpath.lab.exchange.book import DepthDiff
from fillpath.lab.exchange.orders import fmt


def depth_event(diff: DepthDiff, event_time: int) -> dict[str, Any]:
    return {
        "e": "depthUpdate",
        "E": event_time,
        "s": diff.symbol,
        "U": diff.first_update_id,
        "u": diff.last_update_id,
        "b": [[fmt(p), fmt(q)] for p, q in diff.bids],
        "a": [[fmt(p), fmt(q)] for p, q in diff.asks],
    }


def stream_base(name: str) -> str:
    """``ethusdt@depth@100ms`` → ``ethusdt@depth`` (the update speed does not change what we send)."""
    parts = name.split("@")
    return "@".join(parts[:2]) if len(parts) > 1 else name


class Connection:
    """One WebSocket. ``kind`` is "market", "user" (listenKey) or "api" (WebSocket API)."""

    def __init__(self, ws: web.WebSocketResponse, kind: str, *, combined: bool = False) -> None:
        self.ws = ws
        self.kind = kind
        self.combined = combined
        self.streams: set[str] = set()
        self.api_key: str | None = None
        self.subscription_id: int | None = None
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._write())

    def send(self, message: dict[str, Any]) -> None:
        self._queue.put_nowait(json.dumps(message))

    def send_text(self, text: str) -> None:
        self._queue.put_nowait(text)

    def close_soon(self) -> None:
        self._queue.put_nowait(None)

    async def _write(self) -> None:
        while True:
            text = await self._queue.get()
            if text is None:
                await self.ws.close()
                return
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    async def finish(self) -> None:
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer


@dataclass
class _Batch:
    """Depth changes collected for one symbol until the next push (Binance pushes every 100 ms)."""

    first: int
    last: int
    event_time: int
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)


class StreamHub:
    """Routes engine events to the connections that asked for them.

    Depth diffs are merged per symbol and pushed every ``depth_interval`` seconds (0: each change at once), so
    one event spans update ids ``U..u`` as on Binance, and a REST snapshot can fall inside a pushed range.
    """

    def __init__(self, depth_interval: float = 0.1) -> None:
        self.depth_interval = depth_interval
        self._batches: dict[str, _Batch] = {}
        self.connections: set[Connection] = set()
        self.user_filter: Callable[[str, dict[str, Any]], list[dict[str, Any]]] = lambda _k, ev: [ev]
        self._next_subscription = 0
        self.opened = 0
        self.dropped = 0

    def next_subscription_id(self) -> int:
        sub = self._next_subscription
        self._next_subscription += 1
        return sub

    def publish_depth(self, diff: DepthDiff, event_time: int) -> None:
        name = f"{diff.symbol.lower()}@depth"
        if self.depth_interval <= 0:
            self._push(diff, event_time)
            return
        if not any(name in conn.streams for conn in self.connections):
            return
        batch = self._batches.get(diff.symbol)
        if batch is None:
            batch = self._batches[diff.symbol] = _Batch(diff.first_update_id, diff.last_update_id, event_time)
            asyncio.get_running_loop().call_later(self.depth_interval, self._flush, diff.symbol)
        batch.last = diff.last_update_id
        batch.event_time = event_time
        batch.bids.update(diff.bids)
        batch.asks.update(diff.asks)

    def _flush(self, symbol: str) -> None:
        batch = self._batches.pop(symbol, None)
        if batch is not None:
            merged = DepthDiff(symbol, batch.first, batch.last, tuple(batch.bids.items()), tuple(batch.asks.items()))
            self._push(merged, batch.event_time)

    def _push(self, diff: DepthDiff, event_time: int) -> None:
        name = f"{diff.symbol.lower()}@depth"
        event: dict[str, Any] | None = None
        for conn in self.connections:
            if name in conn.streams:
                event = event or depth_event(diff, event_time)
                conn.send({"stream": name, "data": event} if conn.combined else event)

    def publish_user(self, api_key: str, event: dict[str, Any]) -> None:
        targets = [c for c in self.connections if c.api_key == api_key and c.kind in ("user", "api")]
        if not targets:
            return
        for ev in self.user_filter(api_key, event):
            for conn in targets:
                if conn.kind == "api":
                    conn.send({"subscriptionId": conn.subscription_id, "event": ev})
                else:
                    conn.send(ev)

    def user_streams(self, api_key: str) -> int:
        """Connections carrying this key's user data (a listenKey stream or a WebSocket API subscription)."""
        return sum(1 for c in self.connections if c.kind in ("api", "user") and c.api_key == api_key)

    def disconnect_all(self) -> int:
        conns = list(self.connections)
        self.dropped += len(conns)
        for conn in conns:
            conn.close_soon()
        return len(conns)


def handle_market_message(conn: Connection, message: dict[str, Any]) -> dict[str, Any]:
    """``SUBSCRIBE`` / ``UNSUBSCRIBE`` / ``LIST_SUBSCRIPTIONS`` on a market stream connection."""
    method = message.get("method")
    request_id = message.get("id")
    params = message.get("params") or []
    if method == "SUBSCRIBE":
        conn.streams.update(stream_base(str(p)) for p in params)
        return {"result": None, "id": request_id}
    if method == "UNSUBSCRIBE":
        conn.streams.difference_update(stream_base(str(p)) for p in params)
        return {"result": None, "id": request_id}
    if method == "LIST_SUBSCRIPTIONS":
        return {"result": sorted(conn.streams), "id": request_id}
    return {"error": {"code": 2, "msg": f"Invalid request: unknown method {method!r}"}, "id": request_id}


async def pump(conn: Connection, on_message: Callable[[dict[str, Any]], dict[str, Any] | None]) -> None:
    """Read client messages until the socket closes; replies go through the connection's queue."""
    async for msg in conn.ws:
        if msg.type != WSMsgType.TEXT:
            if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
            continue
        try:
            message = json.loads(msg.data)
        except json.JSONDecodeError:
            conn.send({"error": {"code": 3, "msg": "Invalid JSON"}, "id": None})
            continue
        if not isinstance(message, dict):
            conn.send({"error": {"code": 3, "msg": "Invalid JSON: expected an object"}, "id": None})
            continue
        reply = on_message(message)
        if reply is not None:
            conn.send(reply)
