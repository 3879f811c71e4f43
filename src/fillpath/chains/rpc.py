"""Async JSON-RPC to an EVM location: several endpoints with failover, a timeout on every call, and retries
only where they are safe.

A read (``eth_call``, ``eth_getBalance``…) may be repeated on any endpoint. ``eth_sendRawTransaction`` may be
repeated too, because the same signed bytes cannot execute twice; but when every attempt fails without an
answer its outcome is *unknown* (``Ambiguous``): the transaction may be in a mempool. Anything that would build
or sign anew is never retried here.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from fillpath.model.errors import Ambiguous, FillpathError, Rejected, Retryable

SAFE_TO_REPEAT = frozenset(
    {
        "eth_call", "eth_chainId", "eth_blockNumber", "eth_getBalance", "eth_getCode", "eth_getStorageAt",
        "eth_getTransactionCount", "eth_getBlockByNumber", "eth_getBlockByHash", "eth_getTransactionByHash",
        "eth_getTransactionReceipt", "eth_feeHistory", "eth_gasPrice", "eth_maxPriorityFeePerGas",
        "eth_estimateGas", "eth_getLogs", "net_version", "txpool_content", "eth_sendRawTransaction",
    }
)  # fmt: skip


class RpcError(Rejected):
    """The node answered with a JSON-RPC error (e.g. a revert, 'nonce too low')."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: {message} (code {code})", reason=message)
        self.method = method
        self.code = code
        self.data = data


@dataclass
class RpcClient:
    """JSON-RPC over HTTP to one location, failing over across ``urls`` in order."""

    location: str
    urls: Sequence[str]
    timeout_s: float = 10.0
    attempts_per_url: int = 1
    _session: aiohttp.ClientSession | None = field(default=None, repr=False)
    _ids: itertools.count[int] = field(default_factory=itertools.count, repr=False)
    _preferred: int = field(default=0, repr=False)

    async def __aenter__(self) -> RpcClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                connector=aiohttp.TCPConnector(limit=32),
            )
        return self._session

    async def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        reply = await self._send(
            method, {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        )
        return _result(method, reply)

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several reads in one HTTP round trip; results in the order of ``calls``."""
        if not calls:
            return []
        if any(m not in SAFE_TO_REPEAT or m == "eth_sendRawTransaction" for m, _ in calls):
            raise FillpathError("only reads may be batched")
        first = next(self._ids)
        body = [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": list(p)} for i, (m, p) in enumerate(calls)]
        for _ in range(len(calls) - 1):
            next(self._ids)
        replies = await self._send("batch", body)
        if not isinstance(replies, list):
            raise RpcError("batch", -32600, f"unexpected batch reply: {str(replies)[:200]}")
        by_id = {r.get("id"): r for r in replies}
        return [_result(calls[i][0], by_id.get(first + i, {})) for i in range(len(calls))]

    async def _send(self, method: str, body: Any) -> Any:
        repeatable = method == "batch" or method in SAFE_TO_REPEAT
        order = [*self.urls[self._preferred :], *self.urls[: self._preferred]]
        failures: list[str] = []
        for url in order:
            for _ in range(self.attempts_per_url if repeatable else 1):
                try:
                    async with self._http().post(
                        url, data=json.dumps(body), headers={"content-type": "application/json"}
                    ) as resp:
                        if resp.status == 429:
                            failures.append(f"{url}: rate limited")
                            break
                        if resp.status >= 500:
                            failures.append(f"{url}: HTTP {resp.status}")
                            continue
                        reply = await resp.json(content_type=None)
                        self._preferred = self.urls.index(url)
                        return reply
                except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                    failures.append(f"{url}: {type(exc).__name__} {exc}".strip())
            if not repeatable:
                break
        detail = "; ".join(failures)
        if method == "eth_sendRawTransaction" or not repeatable:
            raise Ambiguous(f"{self.location}: {method} got no answer ({detail}); the outcome is unknown")
        raise Retryable(f"{self.location}: {method} failed on every endpoint ({detail})", retry_after=1.0)


def _result(method: str, reply: dict[str, Any]) -> Any:
    if "error" in reply and reply["error"] is not None:
        err = reply["error"]
        raise RpcError(method, int(err.get("code", 0)), str(err.get("message", err)), err.get("data"))
    if "result" not in reply:
        raise RpcError(method, -32603, "no result in reply")
    return reply["result"]


def hex_int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)
