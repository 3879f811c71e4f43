"""A fault-injecting JSON-RPC proxy for tests: sits in front of a lab node on loopback and, for the methods it
is told, answers with an error, hangs, or forwards the request and then loses the answer (the worst case: the
node acted, the client cannot know).
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web

from fillpath.lab.chains.process import free_port

Action = Literal["error", "http_500", "hang", "forward_then_hang", "forward_then_error"]


@dataclass
class _Fault:
    method: str | None
    action: Action
    times: int | None


@dataclass
class FaultProxy:
    upstream: str
    host: str = "127.0.0.1"
    hang_s: float = 30.0
    faults: list[_Fault] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)  # every method that reached the node, in order
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def inject(self, method: str | None, action: Action, *, times: int | None = 1) -> None:
        self.faults.append(_Fault(method, action, times))

    def clear(self) -> None:
        self.faults.clear()

    def _take(self, methods: list[str]) -> Action | None:
        for f in self.faults:
            if f.method is None or f.method in methods:
                if f.times is not None:
                    f.times -= 1
                    if f.times <= 0:
                        self.faults.remove(f)
                return f.action
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        payload = json.loads(body)
        methods = [p.get("method", "") for p in payload] if isinstance(payload, list) else [payload.get("method", "")]
        action = self._take(methods)
        if action == "http_500":
            return web.Response(status=500, text="injected")
        if action == "error":
            return web.json_response(_error(payload))
        if action == "hang":
            await asyncio.sleep(self.hang_s)
            return web.json_response(_error(payload))
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.upstream, data=body, headers={"content-type": "application/json"}) as resp,
        ):
            text = await resp.text()
        self.forwarded += methods
        if action == "forward_then_hang":
            await asyncio.sleep(self.hang_s)
        if action in ("forward_then_hang", "forward_then_error"):
            return web.Response(status=502, text="injected: answer lost")
        return web.Response(text=text, content_type="application/json")

    def start(self) -> FaultProxy:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_post("/", self._handle)
            self._runner = web.AppRunner(app)
            loop.run_until_complete(self._runner.setup())
            self.port = self.port or free_port()
            loop.run_until_complete(web.TCPSite(self._runner, self.host, self.port).start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fault-proxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)


def _error(payload: Any) -> Any:
    def one(p: dict[str, Any]) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": p.get("id"), "error": {"code": -32000, "message": "injected fault"}}

    return [one(p) for p in payload] if isinstance(payload, list) else one(payload)
