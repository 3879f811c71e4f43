"""A small client for a running service (freqtrade's ``FtRestClient``): one method per endpoint, JSON in and out.

Standard library only (``urllib``), so the CLI talks to a service without loading aiohttp or the adapters; errors
come back as fillpath's own tiers (a 400 is ``InvalidInput`` naming the field, a 503 ``Retryable``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from fillpath.model.errors import FillpathError, Halted, InvalidInput, Rejected, Retryable


class ServiceClient:
    def __init__(self, url: str, token: str | None = None, *, timeout_s: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise _error(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise FillpathError(
                f"no fillpath service answers at {self.url} ({reason}): start one with `fillpath run`"
            ) from None

    def status(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/status"))

    def balances(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/balances"))

    def positions(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/positions"))

    def venues(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/venues"))

    def reconciliation(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/reconcile"))

    def reconcile(self, location: str | None = None) -> list[dict[str, Any]]:
        return list(self._call("POST", "/api/reconcile", {} if location is None else {"location": location}))

    def in_flight(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/inflight"))

    def executions(self, limit: int = 20) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/api/executions?limit={limit}"))

    def execution(self, execution_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/api/executions/{urllib.parse.quote(execution_id)}"))

    def events(self, after: int = 0, limit: int = 200, kinds: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode({"after": after, "limit": limit, **({"kind": ",".join(kinds)} if kinds else {})})
        return list(self._call("GET", f"/api/events?{query}"))

    def route(self, amount: str, sell: str, buy: str, **options: int) -> dict[str, Any]:
        return dict(self._call("POST", "/api/route", {"amount": amount, "sell": sell, "buy": buy, **options}))

    def swap(self, amount: str, sell: str, buy: str, *, execute: bool = False, **options: int) -> dict[str, Any]:
        body = {"amount": amount, "sell": sell, "buy": buy, "execute": execute, **options}
        return dict(self._call("POST", "/api/swap", body))

    def halt(self, venue: str | None = None, reason: str = "halted by an operator") -> dict[str, Any]:
        return dict(self._call("POST", "/api/halt", {"reason": reason, **({"venue": venue} if venue else {})}))

    def resume(self, venue: str | None = None) -> dict[str, Any]:
        return dict(self._call("POST", "/api/resume", {"venue": venue} if venue else {}))


def _error(exc: urllib.error.HTTPError) -> FillpathError:
    try:
        body = json.loads(exc.read())
    except ValueError:
        body = {}
    message = str(body.get("message") or f"HTTP {exc.code}")
    if exc.code == 400 and "field" in body:
        return InvalidInput(str(body["field"]), str(body.get("problem") or message), body.get("fix"))
    if exc.code == 401:
        return FillpathError("the service wants a token: set the variable its [service] token_env names")
    if exc.code == 409:
        return Halted(message)
    if exc.code == 502:
        return Rejected(message, reason=body.get("reason"), venue=body.get("venue"))
    if exc.code == 503:
        return Retryable(message, retry_after=body.get("retry_after"))
    return FillpathError(f"the service answered {exc.code}: {message}")
