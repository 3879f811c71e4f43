"""``/admin/...``: the test harness's handle on the venue. No auth, but only for loopback callers.

- ``GET  /admin/requests``       every order request received (new and cancel; rejected and duplicates too)
- ``POST /admin/book``           ``{"symbol", "bids": [[p, q]], "asks": [[p, q]]}`` or ``{"symbol", "mid"}``
- ``GET  /admin/book?symbol=``   the book's mid, best prices, update id and walk step count
- ``POST /admin/balances``       ``{"api_key", "secret"?, "passphrase"?, "balances": {"USDT": "100"}, "record"?}``
  (sets free amounts; with ``"record": true`` on a venue with a wallet, each change also appears in the account's
  deposit or withdrawal history as an internal transfer, as money moved by someone else does on a real exchange)
- ``GET  /admin/balances?api_key=``
- ``GET|POST /admin/faults``     ``{"profiles": {"delayed_fills": {"delay": "2"}}}`` replaces the active set;
  ``{"enable": {...}}`` / ``{"disable": [...]}`` change it
- ``POST /admin/walk``           ``{"steps": n, "symbols": [...]?}`` advances the random walk
- ``POST /admin/disconnect``     closes every WebSocket now
- ``GET  /admin/streams``        WebSockets open now, opened and dropped so far
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from aiohttp import web

from fillpath.lab.exchange.core import Hub
from fillpath.lab.exchange.engine import Engine
from fillpath.lab.exchange.errors import BinanceError
from fillpath.lab.exchange.faults import Faults, check_setting
from fillpath.lab.exchange.orders import fmt
from fillpath.model.amounts import parse_decimal
from fillpath.model.errors import InvalidInput

MAX_WALK_STEPS = 100_000
"""One request's random walk: a billion steps would hold the event loop for hours."""


class AdminVenue(Protocol):
    """What the admin routes reach of the venue (``venue.SimVenue``), named here so the two do not import each
    other."""

    engine: Engine
    faults: Faults

    @property
    def hub(self) -> Hub: ...

    def records_json(self) -> list[dict[str, Any]]: ...
    def advance(self, steps: int, symbols: list[str] | None = None) -> None: ...


def _loopback(request: web.Request) -> None:
    try:
        if ipaddress.ip_address(request.remote or "").is_loopback:
            return
    except ValueError:
        pass
    raise web.HTTPForbidden(text="admin is loopback only")


async def _body(request: web.Request) -> dict[str, Any]:
    _loopback(request)
    try:
        data = json.loads(await request.text() or "{}", parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise BinanceError(-1, f"bad JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BinanceError(-1, "expected a JSON object")
    return data


def _amount(value: object, field: str) -> Decimal:
    try:
        return parse_decimal(value if isinstance(value, str | int | Decimal) else str(value), field=field)
    except InvalidInput as exc:
        raise BinanceError(-1, str(exc)) from None


def _levels(raw: object, field: str) -> list[tuple[Decimal, Decimal]]:
    if not isinstance(raw, list):
        raise BinanceError(-1, f"{field} must be a list of [price, qty]")
    return [(_amount(p, field), _amount(q, field)) for p, q in raw]


def add_admin_routes(router: web.UrlDispatcher, venue: AdminVenue) -> None:
    async def requests(request: web.Request) -> web.Response:
        _loopback(request)
        return web.json_response(venue.records_json())

    async def set_book(request: web.Request) -> web.Response:
        data = await _body(request)
        symbol = str(data.get("symbol", ""))
        if "mid" in data:
            venue.engine.set_mid(symbol, _amount(data["mid"], "mid"))
        else:
            venue.engine.set_book(symbol, _levels(data.get("bids", []), "bids"), _levels(data.get("asks", []), "asks"))
        return web.json_response(_book_state(venue, symbol))

    async def get_book(request: web.Request) -> web.Response:
        _loopback(request)
        return web.json_response(_book_state(venue, request.query.get("symbol", "")))

    async def set_balances(request: web.Request) -> web.Response:
        data = await _body(request)
        api_key = str(data.get("api_key", ""))
        if not api_key:
            raise BinanceError(-1, "api_key is required")
        balances = data.get("balances", {})
        if not isinstance(balances, Mapping):
            raise BinanceError(-1, "balances must be an object")
        secret, passphrase = data.get("secret"), data.get("passphrase")
        before = _balances(venue, api_key) if api_key in venue.engine.accounts else {}
        venue.engine.set_balances(
            api_key,
            {str(a): _amount(v, f"balances.{a}") for a, v in balances.items()},
            secret=str(secret) if secret is not None else None,
            passphrase=str(passphrase) if passphrase is not None else None,
        )
        after = _balances(venue, api_key)
        desk = getattr(venue, "capital", None)  # a venue with a wallet keeps a deposit and withdrawal history
        if data.get("record") is True and desk is not None:
            desk.record_external(api_key, {a: _total(after.get(a)) - _total(before.get(a)) for a in after})
        return web.json_response(after)

    async def get_balances(request: web.Request) -> web.Response:
        _loopback(request)
        return web.json_response(_balances(venue, request.query.get("api_key", "")))

    async def faults(request: web.Request) -> web.Response:
        if request.method == "POST":
            data = await _body(request)
            try:
                if "profiles" in data:
                    venue.faults.set([check_setting(n, p or {}) for n, p in dict(data["profiles"]).items()])
                for name, params in dict(data.get("enable", {})).items():
                    venue.faults.enable(check_setting(name, params or {}))
                for name in data.get("disable", []):
                    venue.faults.disable(str(name))
            except InvalidInput as exc:
                raise BinanceError(-1, str(exc)) from None
        else:
            _loopback(request)
        return web.json_response({"profiles": venue.faults.active()})

    async def walk(request: web.Request) -> web.Response:
        data = await _body(request)
        steps = data.get("steps", 1)
        if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_WALK_STEPS:
            raise BinanceError(-1, f"steps must be an integer from 0 to {MAX_WALK_STEPS}")
        symbols = data.get("symbols")
        venue.advance(steps, [str(s) for s in symbols] if symbols else None)
        return web.json_response({s: _book_state(venue, s) for s in venue.engine.books})

    async def disconnect(request: web.Request) -> web.Response:
        _loopback(request)
        return web.json_response({"closed": venue.hub.disconnect_all()})

    async def streams(request: web.Request) -> web.Response:
        _loopback(request)
        hub = venue.hub
        return web.json_response({"open": len(hub.connections), "opened": hub.opened, "dropped": hub.dropped})

    router.add_get("/admin/requests", requests)
    router.add_get("/admin/streams", streams)
    router.add_post("/admin/book", set_book)
    router.add_get("/admin/book", get_book)
    router.add_post("/admin/balances", set_balances)
    router.add_get("/admin/balances", get_balances)
    router.add_get("/admin/faults", faults)
    router.add_post("/admin/faults", faults)
    router.add_post("/admin/walk", walk)
    router.add_post("/admin/disconnect", disconnect)


def _total(line: Mapping[str, str] | None) -> Decimal:
    return Decimal(line["free"]) + Decimal(line["locked"]) if line else Decimal(0)


def _book_state(venue: AdminVenue, symbol: str) -> dict[str, Any]:
    book = venue.engine.books[venue.engine.market(symbol).symbol]
    return {
        "symbol": book.spec.symbol,
        "mid": fmt(book.mid),
        "best_bid": fmt(book.best_bid) if book.best_bid is not None else None,
        "best_ask": fmt(book.best_ask) if book.best_ask is not None else None,
        "update_id": book.update_id,
        "steps": book.steps,
    }


def _balances(venue: AdminVenue, api_key: str) -> dict[str, Any]:
    account = venue.engine.account(api_key)
    return {b.asset: {"free": fmt(b.free), "locked": fmt(b.locked)} for b in account.lines()}
