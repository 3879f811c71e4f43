"""New block heads for the tracker: a WebSocket ``eth_subscribe("newHeads")`` where the node offers one, polling
``eth_blockNumber`` otherwise (or when the socket drops, until it is back)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import aiohttp

from fillpath.chains.rpc import RpcClient, hex_int


async def ws_heads(ws_url: str, *, timeout_s: float = 10.0) -> AsyncIterator[int]:
    """Block numbers as the node announces them. Ends (returns) when the socket closes or fails."""
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(ws_url, timeout=aiohttp.ClientWSTimeout(ws_close=timeout_s), heartbeat=30) as ws,
    ):
        await ws.send_str(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}))
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            if data.get("method") == "eth_subscription":
                yield hex_int(data["params"]["result"]["number"])
            elif "error" in data:
                return


async def poll_heads(rpc: RpcClient, *, interval_s: float) -> AsyncIterator[int]:
    """Block numbers by polling: yields each time the head moves."""
    last: int | None = None
    while True:
        head = hex_int(await rpc.request("eth_blockNumber"))
        if head != last:
            last = head
            yield head
        await asyncio.sleep(interval_s)


async def heads(rpc: RpcClient, ws_url: str | None, *, poll_interval_s: float = 1.0) -> AsyncIterator[tuple[int, str]]:
    """(block number, "ws" | "poll"): the subscription while it lives, polling while it does not."""
    while True:
        if ws_url is not None:
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                async for n in ws_heads(ws_url):
                    yield n, "ws"
        # no socket (or it dropped): poll for a while, then try the socket again
        polled = 0
        async for n in poll_heads(rpc, interval_s=poll_interval_s):
            yield n, "poll"
            polled += 1
            if ws_url is not None and polled >= 3:
                break
