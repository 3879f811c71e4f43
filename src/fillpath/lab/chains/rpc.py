"""A minimal synchronous JSON-RPC client for lab control calls (anvil_*, evm_*), with timeouts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from fillpath.model.errors import LabError


class RpcUnavailable(LabError):
    """The node did not answer."""


def call(url: str, method: str, params: list[Any] | None = None, *, timeout: float = 5.0) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            reply = json.loads(resp.read())
    except (urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:
        raise RpcUnavailable(f"{url} did not answer {method}: {exc}") from None
    if "error" in reply:
        raise LabError(f"{method} failed on {url}: {reply['error'].get('message', reply['error'])}")
    return reply.get("result")
