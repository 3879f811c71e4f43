"""The HTTP API, the dashboard's files and ``/metrics``: thin handlers over :class:`Operations` (docs/service.md).

Middlewares, outermost first: errors as JSON (a ``FillpathError`` keeps its tier: 400 bad input, 409 halted,
503 retry later, 502 the venue refused), the bearer token (when one is configured; always when bound beyond
loopback), the start-up gate (503 until recovery and the first pass are done), JSON-only writes (a browser page
elsewhere cannot post a simple form to a loopback service), and the latency histogram.
"""

from __future__ import annotations

import hmac
import json
import time
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from fillpath.model.errors import Ambiguous, FillpathError, Halted, InvalidInput, Rejected, Retryable
from fillpath.service.hub import EventHub
from fillpath.service.metrics import ServiceMetrics
from fillpath.service.operations import Operations

STATIC_DIR = Path(__file__).resolve().parent / "static"
HEARTBEAT_S = 15.0

OPS = web.AppKey("ops", Operations)
METRICS = web.AppKey("metrics", ServiceMetrics)
HUB = web.AppKey("hub", EventHub)
TOKEN = web.AppKey("token", str)
"""The bearer token the API wants ("" for none: loopback only)."""
STREAMS: web.AppKey[weakref.WeakSet[web.StreamResponse]] = web.AppKey("streams")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, default=str))


def error_json(exc: FillpathError) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, InvalidInput):
        return 400, body | {"field": exc.field, "problem": exc.problem, "fix": exc.fix}
    if isinstance(exc, Halted):
        return 409, body
    if isinstance(exc, Retryable):
        return 503, body | {"retry_after": exc.retry_after}
    if isinstance(exc, Rejected):
        return 502, body | {"venue": exc.venue, "reason": exc.reason}
    if isinstance(exc, Ambiguous):
        return 504, body
    return 500, body


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except FillpathError as exc:
        status, body = error_json(exc)
        return _json(body, status)
    except web.HTTPException:
        raise
    except Exception as exc:  # a bug or a venue's stranger failure: the client gets its name, not a hang
        return _json({"error": type(exc).__name__, "message": str(exc)[:500]}, 500)


def _guarded(path: str) -> bool:
    return path.startswith("/api/") or path == "/metrics"


@web.middleware
async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.app[TOKEN]
    if token and _guarded(request.path):
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        given = given or request.query.get("token", "")  # EventSource cannot set a header
        if not hmac.compare_digest(given.encode(), token.encode()):
            return _json({"error": "Unauthorized", "message": "a bearer token is required"}, 401)
    return await handler(request)


@web.middleware
async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/api/") and request.path != "/api/status":
        watcher = request.app[OPS].watcher
        if not watcher.is_ready():
            body = {"error": "NotReady", "message": f"the service is starting ({watcher.phase})",
                    "phase": watcher.phase, "detail": watcher.startup_error}  # fmt: skip
            return web.json_response(body, status=503, headers={"Retry-After": "1"})
    if request.method == "POST" and request.content_type != "application/json":
        return _json({"error": "UnsupportedMediaType", "message": "send JSON (Content-Type: application/json)"}, 415)
    return await handler(request)


@web.middleware
async def timing(request: web.Request, handler: Handler) -> web.StreamResponse:
    t = time.perf_counter()
    try:
        return await handler(request)
    finally:
        info = request.match_info.route.resource
        name = info.canonical if info is not None else "unmatched"
        request.app[METRICS].api_seconds.labels(name).observe(time.perf_counter() - t)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise InvalidInput("body", "is not valid JSON", "send a JSON object") from None
    if not isinstance(data, dict):
        raise InvalidInput("body", "is not a JSON object", 'e.g. {"amount": "25", "sell": "WETH@lab1", ...}')
    return data


def _int(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(name, f"{raw!r} is not an integer") from None


# --- handlers ----------------------------------------------------------------------------------------------


async def status(request: web.Request) -> web.Response:
    ops = request.app[OPS]
    return _json({**ops.status(), "reconciliation": ops.reconciliation(), "streams": len(request.app[STREAMS])})


async def balances(request: web.Request) -> web.Response:
    return _json(request.app[OPS].balances())


async def positions(request: web.Request) -> web.Response:
    return _json(request.app[OPS].positions())


async def venues(request: web.Request) -> web.Response:
    return _json(request.app[OPS].venues())


async def reconciliation(request: web.Request) -> web.Response:
    return _json(request.app[OPS].reconciliation())


async def reconcile_now(request: web.Request) -> web.Response:
    body = await _body(request)
    location = body.get("location")
    if location is not None and not isinstance(location, str):
        raise InvalidInput("location", f"{location!r} is not a string")
    return _json(await request.app[OPS].reconcile(location))


async def in_flight(request: web.Request) -> web.Response:
    return _json(request.app[OPS].in_flight())


async def executions(request: web.Request) -> web.Response:
    return _json(request.app[OPS].executions(_int(request, "limit", 20)))


async def execution(request: web.Request) -> web.Response:
    return _json(request.app[OPS].execution(request.match_info["execution_id"]))


async def events(request: web.Request) -> web.Response:
    kinds = [k for k in request.query.get("kind", "").split(",") if k]
    last = _int(request, "last", 0) if "last" in request.query else None
    return _json(request.app[OPS].events(_int(request, "after", 0), _int(request, "limit", 200), kinds, last=last))


async def stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: ``event: journal`` per journal entry (JSON as in /api/events), from ``after`` if given."""
    after = request.query.get("after")
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await resp.prepare(request)
    request.app[STREAMS].add(resp)
    sub = request.app[HUB].subscribe(None if after is None else _int(request, "after", 0))
    try:
        await resp.write(b"retry: 1000\n\n")
        while True:
            try:
                item = await sub.next(HEARTBEAT_S)
            except TimeoutError:
                await resp.write(b": keep-alive\n\n")
                continue
            if item is None:
                break
            await resp.write(f"id: {item['seq']}\nevent: journal\ndata: {json.dumps(item)}\n\n".encode())
    except (ConnectionResetError, ConnectionError):
        pass  # the page went away
    finally:
        sub.close()
    return resp


async def route(request: web.Request) -> web.Response:
    return _json(await request.app[OPS].route(await _body(request)))


async def swap(request: web.Request) -> web.Response:
    return _json(await request.app[OPS].swap(await _body(request)))


def _venue_arg(body: dict[str, Any]) -> str | None:
    venue = body.get("venue")
    if venue is not None and (not isinstance(venue, str) or not venue):
        raise InvalidInput("venue", f"{venue!r} is not a venue or location id", "omit it to act on everything")
    return venue


async def halt(request: web.Request) -> web.Response:
    body = await _body(request)
    reason = body.get("reason", "halted by an operator")
    if not isinstance(reason, str):
        raise InvalidInput("reason", f"{reason!r} is not a string")
    return _json(request.app[OPS].halt(_venue_arg(body), reason))


async def resume(request: web.Request) -> web.Response:
    return _json(request.app[OPS].resume(_venue_arg(await _body(request))))


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=request.app[METRICS].render(), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC_DIR)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/status", status)
    app.router.add_get("/api/balances", balances)
    app.router.add_get("/api/positions", positions)
    app.router.add_get("/api/venues", venues)
    app.router.add_get("/api/reconcile", reconciliation)
    app.router.add_post("/api/reconcile", reconcile_now)
    app.router.add_get("/api/inflight", in_flight)
    app.router.add_get("/api/executions", executions)
    app.router.add_get("/api/executions/{execution_id}", execution)
    app.router.add_get("/api/events", events)
    app.router.add_get("/api/stream", stream)
    app.router.add_post("/api/route", route)
    app.router.add_post("/api/swap", swap)
    app.router.add_post("/api/halt", halt)
    app.router.add_post("/api/resume", resume)


MIDDLEWARES = [errors, auth, gate, timing]
